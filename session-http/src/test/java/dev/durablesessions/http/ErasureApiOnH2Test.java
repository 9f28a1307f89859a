package dev.durablesessions.http;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.testing.TestDatabases;

class ErasureApiOnH2Test extends ErasureApiContract {
  @Override
  Database database() {
    return TestDatabases.h2();
  }
}
