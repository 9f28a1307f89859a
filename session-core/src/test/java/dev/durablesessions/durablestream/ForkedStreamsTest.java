package dev.durablesessions.durablestream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.durablesessions.durablestream.StreamReply.CreateReply;
import dev.durablesessions.durablestream.StreamReply.Page;
import dev.durablesessions.testing.TestDatabases;
import dev.durablesessions.testing.TestSystems;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Forks without HTTP: creation through {@link StreamCreation} (checks, the source's reference,
 * the sub-offset prefix) and reads through {@link StreamReader} (a chain of forks read as one
 * stream, page by page), on sharded entities and a real journal.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ForkedStreamsTest {
  ActorTestKit kit;
  ClusterSharding sharding;
  StreamSettings settings;
  StreamReader reader;
  StreamCreation creation;

  @BeforeAll
  void start() {
    kit = TestSystems.start("forked-streams", TestDatabases.h2(), "");
    settings = StreamSettings.fromConfig(kit.system().settings().config());
    sharding = ClusterSharding.get(kit.system());
    StreamEntity.initSharding(kit.system(), settings, Clock.systemUTC());
    reader = new StreamReader(sharding, settings);
    creation = new StreamCreation(sharding, settings, reader);
  }

  @AfterAll
  void stop() {
    kit.shutdownTestKit();
  }

  static <T> T await(CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().get(TestSystems.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  <R extends StreamReply> R ask(String name, Function<ActorRef<R>, StreamCommand> command) {
    return await(sharding.entityRefFor(StreamEntity.TYPE_KEY, name).ask(command::apply, TestSystems.TIMEOUT));
  }

  static String unique(String prefix) {
    return prefix + "-" + UUID.randomUUID();
  }

  static StreamConfig plain(String contentType) {
    return new StreamConfig(contentType, null, null, false, null, null, 0);
  }

  static StreamConfig fork(String source, Long at, long subOffset) {
    return new StreamConfig(null, null, null, false, source, at, subOffset);
  }

  CreateReply create(String name, StreamConfig config, String contentType, String body) {
    return await(creation.create(name, config, contentType, body.getBytes(StandardCharsets.UTF_8)));
  }

  void append(String name, String text) {
    StreamReply.AppendReply reply = ask(name, r -> new StreamCommand.Append(
        new StreamMessage(text.getBytes(StandardCharsets.UTF_8), 0), false, "text/plain", null, null, r));
    assertInstanceOf(StreamReply.Appended.class, reply);
  }

  StreamReply.Described describe(String name) {
    return assertInstanceOf(StreamReply.Described.class, this.<StreamReply.DescribeReply>ask(name, r -> new StreamCommand.Describe(false, r)));
  }

  static String text(StreamMessage m) {
    return new String(m.data(), StandardCharsets.UTF_8);
  }

  /** Waits for a condition that another entity brings about (a reference released by a tell). */
  static void eventually(Supplier<Boolean> condition, String what) {
    long deadline = System.nanoTime() + TestSystems.TIMEOUT.toNanos();
    while (!condition.get()) {
      if (System.nanoTime() > deadline) throw new AssertionError("not within " + TestSystems.TIMEOUT + ": " + what);
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
  }

  @Test
  void aChainOfForksReadsAsOneStreamPageByPageEachMessageOnceInOrder() {
    String source = unique("source");
    assertInstanceOf(StreamReply.Created.class, create(source, plain("text/plain"), "text/plain", "s0"));
    for (int i = 1; i < 5; i++) append(source, "s" + i);
    String middle = unique("middle");
    assertInstanceOf(StreamReply.Created.class, create(middle, fork(source, 3L, 0), null, ""));
    for (int i = 0; i < 4; i++) append(middle, "m" + i);
    String last = unique("last");
    assertInstanceOf(StreamReply.Created.class, create(last, fork(middle, 5L, 0), null, ""));
    for (int i = 0; i < 3; i++) append(last, "l" + i);
    StreamReply.Described described = describe(last);

    List<String> read = new ArrayList<>();
    long next = StreamOffsets.FROM_START;
    for (int pages = 0; pages < 20; pages++) {
      long from = next;
      Page page = assertInstanceOf(Page.class, await(reader.read(last, from, StreamOffsets.BEYOND, 0, 5, false, false)));
      assertEquals(from == StreamOffsets.FROM_START ? 0 : from, page.first(), "a page starts where the last one ended");
      assertEquals(page.first() + page.messages().size(), page.next());
      assertEquals(described.meta().incarnation(), page.meta().incarnation(), "the metadata is the fork's own");
      page.messages().forEach(m -> read.add(text(m)));
      next = page.next();
      if (page.upToDate()) break;
    }
    assertEquals(List.of("s0", "s1", "s2", "m0", "m1", "l0", "l1", "l2"), read);
    assertEquals(8, next);
  }

  @Test
  void aForkTakesTheSubOffsetPrefixOfTheMessageAtItsForkPoint() {
    String text = unique("text");
    create(text, plain("text/plain"), "text/plain", "hello");
    String textFork = unique("text-fork");
    assertInstanceOf(StreamReply.Created.class, create(textFork, fork(text, 0L, 3), null, ""));
    Page page = assertInstanceOf(Page.class, await(reader.read(textFork, StreamOffsets.FROM_START, StreamOffsets.BEYOND, 0, 1024, false, false)));
    assertEquals(List.of("hel"), page.messages().stream().map(ForkedStreamsTest::text).toList());

    String json = unique("json");
    create(json, plain("application/json"), "application/json", "[{\"a\":1},2,[3]]");
    String jsonFork = unique("json-fork");
    assertInstanceOf(StreamReply.Created.class, create(jsonFork, fork(json, 0L, 2), null, "[4]"));
    Page jsonPage = assertInstanceOf(Page.class, await(reader.read(jsonFork, StreamOffsets.FROM_START, StreamOffsets.BEYOND, 0, 1024, false, false)));
    assertEquals(List.of("{\"a\":1},2", "4"), jsonPage.messages().stream().map(ForkedStreamsTest::text).toList());
    assertEquals(2, jsonPage.messages().get(0).values());
  }

  @Test
  void aRefusedForkKeepsNoReferenceOnItsSource() {
    String source = unique("source");
    create(source, plain("text/plain"), "text/plain", "abc");
    assertEquals(new StreamReply.BadRequest("Stream-Fork-Offset is beyond the source's tail"), create(unique("f"), fork(source, 2L, 0), null, ""));
    assertEquals(new StreamReply.Conflict("a fork has its source's content type"),
        create(unique("f"), new StreamConfig("application/json", null, null, false, source, 0L, 0), "application/json", ""));
    assertEquals(new StreamReply.BadRequest("Stream-Fork-Sub-Offset is beyond the message"), create(unique("f"), fork(source, 0L, 4), null, ""));
    assertEquals(new StreamReply.BadRequest("Stream-Fork-Sub-Offset needs a message at the fork offset"),
        create(unique("f"), fork(source, 1L, 1), null, ""));
    String json = unique("json-source");
    create(json, plain("application/json"), "application/json", "[1]");
    assertEquals(new StreamReply.BadRequest("the body is not valid JSON"), create(unique("f"), fork(json, null, 0), null, "{"),
        "a fork's body is parsed with its source's content type");
    assertEquals(new StreamReply.NotFound("fork source not found"), create(unique("f"), fork(unique("nowhere"), null, 0), null, ""));

    // No refusal left a reference: the source is deleted outright, not kept for forks.
    assertInstanceOf(StreamReply.Deleted.class, this.<StreamReply.DeleteReply>ask(source, StreamCommand.Delete::new));
    assertInstanceOf(StreamReply.NotFound.class, this.<StreamReply.DescribeReply>ask(source, r -> new StreamCommand.Describe(false, r)));
  }

  @Test
  void aDeletedSourceStaysReadableForItsForksAndGoesWithTheLastOne() {
    String source = unique("source");
    create(source, plain("text/plain"), "text/plain", "a");
    append(source, "b");
    String fork = unique("fork");
    assertInstanceOf(StreamReply.Created.class, create(fork, fork(source, null, 0), null, ""));
    assertEquals(new StreamReply.Exists(describe(fork).meta()),
        create(fork, fork(source, null, 0), null, ""), "the same fork again is the idempotent create");
    assertInstanceOf(StreamReply.Conflict.class, create(fork, new StreamConfig(null, 60L, null, false, source, null, 0), null, ""));

    assertInstanceOf(StreamReply.Deleted.class, this.<StreamReply.DeleteReply>ask(source, StreamCommand.Delete::new));
    assertInstanceOf(StreamReply.Gone.class, this.<StreamReply.DescribeReply>ask(source, r -> new StreamCommand.Describe(false, r)));
    assertInstanceOf(StreamReply.Conflict.class, create(source, plain("text/plain"), "text/plain", ""), "the path is held for the fork");
    Page page = assertInstanceOf(Page.class, await(reader.read(fork, StreamOffsets.FROM_START, StreamOffsets.BEYOND, 0, 1024, false, false)));
    assertEquals(List.of("a", "b"), page.messages().stream().map(ForkedStreamsTest::text).toList());
    assertTrue(page.upToDate());

    assertInstanceOf(StreamReply.Deleted.class, this.<StreamReply.DeleteReply>ask(fork, StreamCommand.Delete::new));
    eventually(() -> this.<StreamReply.DescribeReply>ask(source, r -> new StreamCommand.Describe(false, r)) instanceof StreamReply.NotFound,
        "the source goes with its last fork");
    assertInstanceOf(StreamReply.Created.class, create(source, plain("text/plain"), "text/plain", ""), "the path is free again");
  }
}
