package dev.durablesessions.http;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.testing.TestDatabases;

class SocketOnH2Test extends SocketContract {
  @Override
  Database database() {
    return TestDatabases.h2();
  }
}
