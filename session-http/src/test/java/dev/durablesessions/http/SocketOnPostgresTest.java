package dev.durablesessions.http;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.testing.TestDatabases;

class SocketOnPostgresTest extends SocketContract {
  @Override
  Database database() {
    return TestDatabases.postgres();
  }
}
