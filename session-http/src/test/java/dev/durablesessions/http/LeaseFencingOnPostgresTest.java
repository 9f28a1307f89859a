package dev.durablesessions.http;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.testing.TestDatabases;

class LeaseFencingOnPostgresTest extends LeaseFencingContract {
  @Override
  Database database() {
    return TestDatabases.postgres();
  }
}
