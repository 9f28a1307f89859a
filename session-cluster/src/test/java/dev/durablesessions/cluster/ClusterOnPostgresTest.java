package dev.durablesessions.cluster;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.testing.TestDatabases;

class ClusterOnPostgresTest extends ClusterContract {
  @Override
  Database database() {
    return TestDatabases.postgres();
  }
}
