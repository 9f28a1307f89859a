package dev.durablesessions.http;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.testing.TestDatabases;

class ApprovalOnPostgresTest extends ApprovalContract {
  @Override
  Database database() {
    return TestDatabases.postgres();
  }
}
