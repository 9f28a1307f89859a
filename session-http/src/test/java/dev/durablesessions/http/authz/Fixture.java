package dev.durablesessions.http.authz;

/**
 * What rows share, set up once: a session for the reads ({@code authz-…}, holding a message),
 * a session only the out-of-pattern tokens cover ({@code other-…}), a queue where one session of
 * each waits, one erased session of each, a stream for the reads and appends, and a stream no
 * caller's patterns cover.
 */
record Fixture(String session, String outSession, String queue, String queuedIn, String queuedOut,
    String erasedIn, String erasedOut, String stream, String secretStream) {

  static Fixture on(Node node) {
    String session = node.newSession();
    node.must("POST", "/v1/sessions/" + session + "/messages", node.setupUser, "{\"text\":\"hello\"}", 201);
    String outSession = node.newSession(Caller.OUT_PREFIX);
    String queue = Node.newId(Caller.IN_PREFIX + "listing-");
    String queuedIn = node.queued(Caller.IN_PREFIX, queue);
    String queuedOut = node.queued(Caller.OUT_PREFIX, queue);
    node.awaitListed(queue, queuedIn);
    node.awaitListed(queue, queuedOut);
    String erasedIn = node.erased(Caller.IN_PREFIX);
    String erasedOut = node.erased(Caller.OUT_PREFIX);
    return new Fixture(session, outSession, queue, queuedIn, queuedOut, erasedIn, erasedOut,
        node.newStream(Caller.IN_PREFIX + "s-"), node.newStream("secret-"));
  }
}
