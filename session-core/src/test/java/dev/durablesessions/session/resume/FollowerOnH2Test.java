package dev.durablesessions.session.resume;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.testing.TestDatabases;

class FollowerOnH2Test extends FollowerContract {
  @Override
  Database database() {
    return TestDatabases.h2();
  }
}
