package dev.durablesessions.cluster;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.testing.TestDatabases;

class NodeOnPostgresTest extends NodeContract {
  private final Database db = TestDatabases.postgres();

  @Override
  String databaseUrl() {
    return db.url();
  }

  @Override
  String databaseUser() {
    return db.user();
  }
}
