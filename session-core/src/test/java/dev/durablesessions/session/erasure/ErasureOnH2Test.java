package dev.durablesessions.session.erasure;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.testing.TestDatabases;

class ErasureOnH2Test extends ErasureContract {
  @Override
  Database database() {
    return TestDatabases.h2();
  }
}
