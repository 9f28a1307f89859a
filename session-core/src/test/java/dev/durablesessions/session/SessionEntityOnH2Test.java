package dev.durablesessions.session;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.testing.TestDatabases;

class SessionEntityOnH2Test extends SessionEntityContract {
  @Override
  Database database() {
    return TestDatabases.h2();
  }
}
