package dev.durablesessions.http;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.testing.TestDatabases;

class RateLimitOnH2Test extends RateLimitContract {
  @Override
  Database database() {
    return TestDatabases.h2();
  }
}
