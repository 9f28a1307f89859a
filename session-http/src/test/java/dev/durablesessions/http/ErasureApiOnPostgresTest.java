package dev.durablesessions.http;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.testing.TestDatabases;

class ErasureApiOnPostgresTest extends ErasureApiContract {
  @Override
  Database database() {
    return TestDatabases.postgres();
  }
}
