package dev.durablesessions.durablestream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.durablesessions.durablestream.StreamCommand.AppendItem;
import dev.durablesessions.durablestream.StreamEvent.ProducerStamp;
import dev.durablesessions.durablestream.StreamReply.AppendReply;
import dev.durablesessions.durablestream.StreamReply.CreateReply;
import dev.durablesessions.durablestream.StreamReply.ReadReply;
import dev.durablesessions.testing.TestDatabases;
import dev.durablesessions.testing.TestSystems;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A batch of appends is decided exactly as the same appends sent one by one (producers,
 * duplicates, gaps, Stream-Seq, a close in the middle), written together, and survives a
 * restart of the stream's entity on the real journal.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StreamBatchTest {
  ActorTestKit kit;
  StreamSettings settings;

  @BeforeAll
  void start() {
    kit = TestSystems.start("stream-batch", TestDatabases.h2(), "");
    settings = StreamSettings.fromConfig(kit.system().settings().config());
  }

  @AfterAll
  void stop() {
    kit.shutdownTestKit();
  }

  static StreamMessage text(String s) {
    return new StreamMessage(s.getBytes(StandardCharsets.UTF_8), 0);
  }

  static AppendItem append(String s, ProducerStamp p, String seq, boolean close) {
    return new AppendItem(s == null ? null : text(s), close, "text/plain", p, seq);
  }

  ActorRef<StreamCommand> spawn(String name) {
    return kit.spawn(StreamEntity.create(name, settings, Clock.systemUTC()));
  }

  @Test
  void aBatchIsDecidedInOrderAsIfSentOneByOne() {
    String name = "batch-" + UUID.randomUUID();
    ActorRef<StreamCommand> stream = spawn(name);
    TestProbe<CreateReply> probe = kit.createTestProbe();
    stream.tell(new StreamCommand.Create(new StreamConfig("text/plain", null, null, false, null, null, 0), "text/plain",
        null, null, null, probe.getRef()));
    assertInstanceOf(StreamReply.Created.class, probe.receiveMessage(TestSystems.TIMEOUT));

    ProducerStamp p0 = new ProducerStamp("p", 0, 0);
    List<AppendItem> items = List.of(
        append("a", p0, "1", false),                              // accepted, tail 1
        append("a-again", p0, null, false),                       // duplicate of seq 0: not written
        append("gap", new ProducerStamp("p", 0, 2), null, false), // gap: expected 1
        append("b", new ProducerStamp("p", 0, 1), "2", false),    // accepted, tail 2
        append("old-seq", null, "2", false),                      // Stream-Seq not greater: 409
        append("c", null, null, true),                            // appended and closed, tail 3
        append("late", null, null, false),                        // closed
        append(null, null, null, true));                          // closing again: fine, nothing written
    TestProbe<StreamCommand.BatchReply> batch = kit.createTestProbe();
    stream.tell(new StreamCommand.AppendBatch(items, batch.getRef()));
    List<AppendReply> replies = batch.receiveMessage(Duration.ofSeconds(10)).replies();
    assertEquals(items.size(), replies.size());
    assertEquals(1, assertInstanceOf(StreamReply.ProducerAppended.class, replies.get(0)).meta().tail());
    assertEquals(0, assertInstanceOf(StreamReply.Duplicate.class, replies.get(1)).seq());
    assertEquals(1, assertInstanceOf(StreamReply.SeqGap.class, replies.get(2)).expected());
    StreamReply.ProducerAppended second = assertInstanceOf(StreamReply.ProducerAppended.class, replies.get(3));
    assertEquals(2, second.meta().tail());
    assertEquals(false, second.meta().closed());
    assertInstanceOf(StreamReply.Conflict.class, replies.get(4));
    StreamReply.Appended closing = assertInstanceOf(StreamReply.Appended.class, replies.get(5));
    assertEquals(3, closing.meta().tail());
    assertTrue(closing.meta().closed());
    assertEquals(3, assertInstanceOf(StreamReply.Closed.class, replies.get(6)).meta().tail(),
        "a refusal for a closed stream carries its final offset");
    assertInstanceOf(StreamReply.Appended.class, replies.get(7));

    assertEquals("abc", readAll(stream));
    // The entity stops and starts again from the journal: the same content, closed, producer state kept.
    kit.stop(stream);
    ActorRef<StreamCommand> again = spawn(name);
    assertEquals("abc", readAll(again));
    TestProbe<AppendReply> retry = kit.createTestProbe();
    again.tell(new StreamCommand.Append(text("c"), true, "text/plain", null, null, retry.getRef()));
    assertInstanceOf(StreamReply.Closed.class, retry.receiveMessage(TestSystems.TIMEOUT));
    again.tell(new StreamCommand.Append(text("b"), false, "text/plain", new ProducerStamp("p", 0, 1), null, retry.getRef()));
    assertInstanceOf(StreamReply.Closed.class, retry.receiveMessage(TestSystems.TIMEOUT),
        "closed wins over a producer duplicate that is not the closing one");
  }

  String readAll(ActorRef<StreamCommand> stream) {
    TestProbe<ReadReply> probe = kit.createTestProbe();
    stream.tell(new StreamCommand.Read(StreamOffsets.FROM_START, StreamOffsets.BEYOND, 0, 1 << 20, false, false, probe.getRef()));
    StreamReply.Page page = assertInstanceOf(StreamReply.Page.class, probe.receiveMessage(Duration.ofSeconds(10)));
    StringBuilder b = new StringBuilder();
    for (StreamMessage m : page.messages()) b.append(new String(m.data(), StandardCharsets.UTF_8));
    return b.toString();
  }
}
