package dev.durablesessions.http.webhook;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.testing.TestDatabases;

class WebhookOnH2Test extends WebhookContract {
  @Override
  Database database() {
    return TestDatabases.h2();
  }
}
