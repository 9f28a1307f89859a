package dev.durablesessions.http;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.testing.TestDatabases;

class McpOnH2Test extends McpContract {
  @Override
  Database database() {
    return TestDatabases.h2();
  }
}
