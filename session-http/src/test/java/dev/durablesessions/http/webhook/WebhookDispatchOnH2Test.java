package dev.durablesessions.http.webhook;

import dev.durablesessions.persistence.Database;
import dev.durablesessions.testing.TestDatabases;

class WebhookDispatchOnH2Test extends WebhookDispatchContract {
  @Override
  Database database() {
    return TestDatabases.h2();
  }
}
