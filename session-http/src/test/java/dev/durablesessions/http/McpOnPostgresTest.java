package dev.durablesessions.http;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.testing.TestDatabases;

class McpOnPostgresTest extends McpContract {
  @Override
  Database database() {
    return TestDatabases.postgres();
  }
}
