package dev.durablesessions.http;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.testing.TestDatabases;

class PoolOnPostgresTest extends PoolContract {
  @Override
  Database database() {
    return TestDatabases.postgres();
  }
}
