package dev.durablesessions.http;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.testing.TestDatabases;

class RateLimitOnPostgresTest extends RateLimitContract {
  @Override
  Database database() {
    return TestDatabases.postgres();
  }
}
