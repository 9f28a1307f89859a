package dev.durablesessions.http.authz;

/**
 * What rows share, set up once: a session for the reads ({@code authz-…}, holding a message),
 * a session only the out-of-pattern tokens cover ({@code other-…}), a queue where one session of
 * each waits, a stream for the reads and appends, and a stream no caller's patterns cover.
 */
record Fixture(String session, String outSession, String queue, String queuedIn, String queuedOut, String stream, String secretStream) {

  static Fixture on(Node node) {
    String session = node.newSession();
    node.must("POST", "/v1/sessions/" + session + "/messages", node.setupUser, "{\"text\":\"hello\"}", 201);
    String outSession = node.newSession(Caller.OUT_PREFIX);
    String queue = Node.newId(Caller.IN_PREFIX + "listing-");
    String queuedIn = node.queued(Caller.IN_PREFIX, queue);
    String queuedOut = node.queued(Caller.OUT_PREFIX, queue);
    node.awaitListed(queue, queuedIn);
    node.awaitListed(queue, queuedOut);
    return new Fixture(session, outSession, queue, queuedIn, queuedOut, node.newStream(Caller.IN_PREFIX + "s-"), node.newStream("secret-"));
  }
}
