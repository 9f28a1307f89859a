package dev.durablesessions.http.webhook;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.testing.TestDatabases;

class WebhookOnPostgresTest extends WebhookContract {
  @Override
  Database database() {
    return TestDatabases.postgres();
  }
}
