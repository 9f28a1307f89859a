package dev.durablesessions.http;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.testing.TestDatabases;

class WorkerOnH2Test extends WorkerContract {
  @Override
  Database database() {
    return TestDatabases.h2();
  }
}
