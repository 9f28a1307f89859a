package dev.durablesessions.http;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.testing.TestDatabases;

class StateOnH2Test extends StateContract {
  @Override
  Database database() {
    return TestDatabases.h2();
  }
}
