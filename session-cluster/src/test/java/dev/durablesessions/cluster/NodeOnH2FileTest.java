package dev.durablesessions.cluster;

import java.nio.file.Files;
import java.nio.file.Path;

/** The default single node: an H2 file database under a data directory. */
class NodeOnH2FileTest extends NodeContract {
  private final Path dir;

  NodeOnH2FileTest() throws java.io.IOException {
    dir = Files.createTempDirectory("ds-node");
  }

  @Override
  String databaseUrl() {
    return "jdbc:h2:file:" + dir.resolve("data/sessions").toAbsolutePath();
  }

  @Override
  String databaseUser() {
    return "sa";
  }
}
