package dev.durablesessions.durablestream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.durablesessions.durablestream.StreamEvent.ProducerStamp;
import dev.durablesessions.testing.TestDatabases;
import dev.durablesessions.testing.TestSystems;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Stream commands and replies cross nodes (a request on one node, the stream's entity on
 * another) and stream events are stored by their own manifest-less binding: all of them must
 * round-trip through the configured serializers, bytes included.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StreamWireSerializationTest {
  ActorTestKit kit;
  ActorRef<StreamReply> replyTo;

  @BeforeAll
  void start() {
    kit = ActorTestKit.create("stream-wire", TestSystems.config(TestDatabases.h2(), ""));
    replyTo = kit.<StreamReply>createTestProbe().ref();
  }

  @AfterAll
  void stop() {
    kit.shutdownTestKit();
  }

  /** The probe's address, as each command's reply type (one address serves every test). */
  @SuppressWarnings("unchecked")
  <T> ActorRef<T> replyTo() {
    return (ActorRef<T>) (ActorRef<?>) replyTo;
  }

  @SuppressWarnings("unchecked")
  <T> T roundTrip(T message) {
    Serialization serialization = SerializationExtension.get(kit.system().classicSystem());
    byte[] bytes = serialization.serialize(message).get();
    var serializer = serialization.findSerializerFor(message);
    return (T) serialization.deserialize(bytes, serializer.identifier(), Serializers.manifestFor(serializer, message)).get();
  }

  static StreamMessage message(String text, int values) {
    return new StreamMessage(text.getBytes(StandardCharsets.UTF_8), values);
  }

  static void assertSameMessage(StreamMessage expected, StreamMessage actual) {
    assertArrayEquals(expected.data(), actual.data());
    assertEquals(expected.values(), actual.values());
  }

  @Test
  void commandsWithoutBytesRoundTrip() {
    StreamConfig config = new StreamConfig("application/json", 60L, null, false, "src/a", 3L, 2);
    List<StreamCommand> commands = List.of(
        new StreamCommand.Describe(true, replyTo()),
        new StreamCommand.Delete(replyTo()),
        new StreamCommand.Read(StreamOffsets.NOW, StreamOffsets.BEYOND, 500, 1024, true, false, replyTo()),
        new StreamCommand.AcquireFork("fork/1", "text/plain", 7L, replyTo()),
        new StreamCommand.AcquireFork("fork/2", null, null, replyTo()),
        new StreamCommand.ReleaseFork("fork/1"),
        new StreamCommand.Create(config, "application/json",
            new StreamCommand.ForkGrant("src/a", 3, "application/json", 60L, 1_800_000_000_000L), null, null, replyTo()));
    for (StreamCommand c : commands) assertEquals(c, roundTrip(c));
  }

  @Test
  void appendsAndCreatesKeepTheirBytes() {
    byte[] all = new byte[256];
    for (int i = 0; i < all.length; i++) all[i] = (byte) i;
    StreamMessage binary = new StreamMessage(all, 0);
    StreamCommand.Append append = roundTrip(new StreamCommand.Append(binary, true, "application/octet-stream",
        new ProducerStamp("p", 3, 9), "0010", replyTo()));
    assertSameMessage(binary, append.body());
    assertEquals(new ProducerStamp("p", 3, 9), append.producer());
    assertEquals("0010", append.streamSeq());
    assertEquals(true, append.close());
    assertEquals(replyTo, append.replyTo());

    StreamCommand.Create create = roundTrip(new StreamCommand.Create(
        new StreamConfig(null, null, null, true, null, null, 0), "text/plain", null, message("hel", 0), message("lo", 0), replyTo()));
    assertSameMessage(message("hel", 0), create.prefix());
    assertSameMessage(message("lo", 0), create.body());
    assertEquals(true, create.config().closed());
  }

  @Test
  void repliesKeepTheirMessages() {
    StreamReply.Meta meta = new StreamReply.Meta("abc", "application/json", 5, false, 10L, null,
        new StreamConfig("application/json", 10L, null, false, null, null, 0), 0);
    StreamReply.Page reply = roundTrip(new StreamReply.Page(meta, List.of(message("{\"a\":1},{\"b\":2}", 2), message("3", 1)), 3, 5, true));
    assertEquals(meta, reply.meta());
    assertEquals(3, reply.first());
    assertEquals(5, reply.next());
    assertEquals(true, reply.upToDate());
    assertSameMessage(message("{\"a\":1},{\"b\":2}", 2), reply.messages().get(0));
    assertSameMessage(message("3", 1), reply.messages().get(1));
  }

  /** Every reply kind crosses nodes on its own (an ask's answer) and inside a batch's list of answers. */
  @Test
  void everyReplyKindRoundTripsAloneAndInABatch() {
    StreamReply.Meta meta = new StreamReply.Meta("abc", "text/plain", 5, true, null, 1_800_000_000_000L,
        new StreamConfig("text/plain", null, 1_800_000_000_000L, true, null, null, 0), 2);
    List<StreamReply> replies = List.of(
        new StreamReply.Created(meta), new StreamReply.Exists(meta), new StreamReply.Described(meta), new StreamReply.Deleted(),
        new StreamReply.Page(meta, List.of(), 5, 5, true), new StreamReply.Inherit(meta, "src", 2),
        new StreamReply.ForkGranted(meta, 4), new StreamReply.Appended(meta), new StreamReply.ProducerAppended(meta, 1, 2),
        new StreamReply.ProducerClosed(meta, 1, 3), new StreamReply.Duplicate(meta, 1, 2), new StreamReply.NotFound("nf"),
        new StreamReply.Gone("gone"), new StreamReply.Conflict("c"), new StreamReply.BadRequest("b"), new StreamReply.Closed(meta),
        new StreamReply.SeqGap(4, 6), new StreamReply.StaleEpoch(3), new StreamReply.Unavailable("u"));
    for (StreamReply r : replies) {
      if (r instanceof StreamReply.Page) continue; // compared field by field above: its messages hold arrays
      assertEquals(r, roundTrip(r));
    }
    List<StreamReply.AppendReply> appends = List.of(new StreamReply.Appended(meta), new StreamReply.ProducerAppended(meta, 1, 2),
        new StreamReply.ProducerClosed(meta, 1, 3), new StreamReply.Duplicate(meta, 1, 2), new StreamReply.NotFound("nf"),
        new StreamReply.Gone("gone"), new StreamReply.Conflict("c"), new StreamReply.BadRequest("b"), new StreamReply.Closed(meta),
        new StreamReply.SeqGap(4, 6), new StreamReply.StaleEpoch(3), new StreamReply.Unavailable("u"));
    assertEquals(new StreamCommand.BatchReply(appends), roundTrip(new StreamCommand.BatchReply(appends)));
  }

  @Test
  void eventsRoundTripThroughTheJournalBinding() {
    StreamEvent.Appended appended = new StreamEvent.Appended("x\ny".getBytes(StandardCharsets.UTF_8), 0,
        new ProducerStamp("p", 0, 4), "7", false, 1234);
    StreamEvent.Appended back = roundTrip(appended);
    assertArrayEquals(appended.data(), back.data());
    assertEquals(appended.producer(), back.producer());
    assertEquals(appended.streamSeq(), back.streamSeq());
    assertEquals(appended.at(), back.at());
    List<StreamEvent> others = List.of(
        new StreamEvent.Created("inc", "text/plain", 60L, null, false, "src", 2, new StreamConfig("text/plain", 60L, null, false, "src", 2L, 0), 99),
        new StreamEvent.Closed(new ProducerStamp("p", 1, 0), 5),
        new StreamEvent.Closed(null, 5),
        new StreamEvent.Touched(77),
        new StreamEvent.ForkAcquired("f"),
        new StreamEvent.ForkReleased("f"),
        new StreamEvent.Deleted(true, false, 8));
    for (StreamEvent e : others) assertEquals(e, roundTrip(e));
    // Stored without a class name: the binding's manifest is empty, the type travels in the payload.
    Serialization serialization = SerializationExtension.get(kit.system().classicSystem());
    assertEquals("", Serializers.manifestFor(serialization.findSerializerFor(appended), appended));
    assertInstanceOf(StreamEvent.Touched.class, roundTrip(new StreamEvent.Touched(1)));
  }

  /** A hard delete snapshots the state: the snapshot must restore it (a stream re-created later recovers from it). */
  @Test
  void theStateSnapshotOfADeletedStreamRoundTrips() {
    StreamState state = new StreamState()
        .apply(new StreamEvent.Created("inc1", "text/plain", null, null, false, null, 0,
            new StreamConfig("text/plain", null, null, false, null, null, 0), 1))
        .apply(new StreamEvent.Appended(new byte[] {1, 2}, 0, new ProducerStamp("p", 0, 0), null, false, 2))
        .apply(new StreamEvent.Deleted(false, false, 3));
    StreamState back = roundTrip(state);
    assertEquals(StreamState.Life.ABSENT, back.life());
    assertEquals(0, back.tail());
    assertEquals("inc1", back.incarnation);
    StreamState live = new StreamState()
        .apply(new StreamEvent.Created("inc2", "application/json", 5L, null, false, "src", 4,
            new StreamConfig("application/json", 5L, null, false, "src", 4L, 0), 1))
        .apply(new StreamEvent.Appended("1".getBytes(StandardCharsets.UTF_8), 1, new ProducerStamp("p", 2, 7), "9", false, 2));
    StreamState liveBack = roundTrip(live);
    assertEquals(5, liveBack.tail());
    assertArrayEquals(new long[] {2, 7}, liveBack.producers.get("p"));
    assertEquals("9", liveBack.lastStreamSeq);
    assertSameMessage(live.messages.get(0), liveBack.messages.get(0));
  }

  /** Snapshots name their class: one written before the package rename (stream → durablestream) must still load. */
  @Test
  void aSnapshotWrittenUnderTheOldPackageNameStillLoads() {
    StreamState state = new StreamState()
        .apply(new StreamEvent.Created("inc3", "text/plain", null, null, false, null, 0,
            new StreamConfig("text/plain", null, null, false, null, null, 0), 1))
        .apply(new StreamEvent.Deleted(false, false, 3));
    Serialization serialization = SerializationExtension.get(kit.system().classicSystem());
    byte[] bytes = serialization.serialize(state).get();
    var serializer = serialization.findSerializerFor(state);
    assertEquals(StreamState.class.getName(), Serializers.manifestFor(serializer, state));
    Object old = serialization.deserialize(bytes, serializer.identifier(), "dev.durablesessions.stream.StreamState").get();
    StreamState back = assertInstanceOf(StreamState.class, old);
    assertEquals(StreamState.Life.ABSENT, back.life());
    assertEquals("inc3", back.incarnation);
  }
}
