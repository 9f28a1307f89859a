package dev.durablesessions.session.erasure;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.testing.TestDatabases;

/** In a schema of its own: the retention sweep acts on every closed session it finds. */
class ErasureOnPostgresTest extends ErasureContract {
  @Override
  Database database() {
    return TestDatabases.postgresInOwnSchema();
  }

  @Override
  void release(Database db) {
    TestDatabases.dropOwnSchema(db);
  }
}
