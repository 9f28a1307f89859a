package dev.durablesessions.http;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.testing.TestDatabases;

class StreamOnPostgresTest extends StreamContract {
  @Override
  Database database() {
    return TestDatabases.postgres();
  }
}
