package dev.durablesessions.http;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.testing.TestDatabases;

class PresenceOnH2Test extends PresenceContract {
  @Override
  Database database() {
    return TestDatabases.h2();
  }
}
