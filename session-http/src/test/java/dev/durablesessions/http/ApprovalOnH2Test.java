package dev.durablesessions.http;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.testing.TestDatabases;

class ApprovalOnH2Test extends ApprovalContract {
  @Override
  Database database() {
    return TestDatabases.h2();
  }
}
