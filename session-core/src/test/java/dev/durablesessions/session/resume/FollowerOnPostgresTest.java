package dev.durablesessions.session.resume;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.testing.TestDatabases;

class FollowerOnPostgresTest extends FollowerContract {
  @Override
  Database database() {
    return TestDatabases.postgres();
  }
}
