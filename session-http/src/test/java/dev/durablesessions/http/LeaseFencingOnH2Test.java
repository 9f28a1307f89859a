package dev.durablesessions.http;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.testing.TestDatabases;

class LeaseFencingOnH2Test extends LeaseFencingContract {
  @Override
  Database database() {
    return TestDatabases.h2();
  }
}
