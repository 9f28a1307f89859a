package dev.durablesessions.http;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.testing.TestDatabases;

class StateOnPostgresTest extends StateContract {
  @Override
  Database database() {
    return TestDatabases.postgres();
  }
}
