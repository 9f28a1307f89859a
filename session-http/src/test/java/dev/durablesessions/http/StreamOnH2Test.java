package dev.durablesessions.http;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.testing.TestDatabases;

class StreamOnH2Test extends StreamContract {
  private final Database db = TestDatabases.h2();

  @Override
  Database database() {
    return db;
  }
}
