package dev.durablesessions.http.webhook;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.testing.TestDatabases;

class WebhookDispatchOnPostgresTest extends WebhookDispatchContract {
  @Override
  Database database() {
    return TestDatabases.postgres();
  }
}
