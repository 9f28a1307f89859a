package dev.durablesessions.http;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.testing.TestDatabases;

class PresenceOnPostgresTest extends PresenceContract {
  @Override
  Database database() {
    return TestDatabases.postgres();
  }
}
