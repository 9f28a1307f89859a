package dev.durablesessions.cluster;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.testing.TestDatabases;

class ClusterOnH2Test extends ClusterContract {
  @Override
  Database database() {
    return TestDatabases.h2();
  }
}
