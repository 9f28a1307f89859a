package dev.durablesessions.session;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.testing.TestDatabases;

class SessionEntityOnPostgresTest extends SessionEntityContract {
  @Override
  Database database() {
    return TestDatabases.postgres();
  }
}
