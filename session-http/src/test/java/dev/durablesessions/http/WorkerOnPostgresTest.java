package dev.durablesessions.http;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.testing.TestDatabases;

class WorkerOnPostgresTest extends WorkerContract {
  @Override
  Database database() {
    return TestDatabases.postgres();
  }
}
