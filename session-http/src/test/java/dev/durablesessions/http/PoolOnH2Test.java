package dev.durablesessions.http;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.testing.TestDatabases;

class PoolOnH2Test extends PoolContract {
  @Override
  Database database() {
    return TestDatabases.h2();
  }
}
