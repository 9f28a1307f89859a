package dev.durablesessions.durablestream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.durablesessions.durablestream.StreamCommand.AppendItem;
import dev.durablesessions.durablestream.StreamEvent.ProducerStamp;
import dev.durablesessions.durablestream.StreamReply.AppendReply;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Property: a batch of appends is decided, written and answered exactly as the same appends
 * sent one by one, each written before the next is decided, whatever they hold (producers
 * retrying, skipping, restarting, fenced; Stream-Seq going back; wrong content types; closes).
 */
class AppendDecisionsTest {
  static final long AT = 1_000;

  static StreamState stream(boolean closed) {
    StreamConfig config = new StreamConfig("text/plain", null, null, closed, null, null, 0);
    return new StreamState().apply(new StreamEvent.Created("inc", "text/plain", null, null, closed, null, 0, config, 0));
  }

  static StreamState write(StreamState s, List<StreamEvent> events) {
    for (StreamEvent e : events) s = s.apply(e);
    return s;
  }

  static AppendItem randomAppend(Random random, int n) {
    StreamMessage body = random.nextInt(6) == 0 ? null : new StreamMessage(("m" + n).getBytes(StandardCharsets.UTF_8), 0);
    boolean close = body == null || random.nextInt(12) == 0;
    String type = random.nextInt(15) == 0 ? "application/json" : "text/plain";
    ProducerStamp producer = random.nextInt(3) == 0 ? null
        : new ProducerStamp("p" + random.nextInt(2), random.nextInt(3), random.nextInt(6));
    String streamSeq = random.nextInt(3) == 0 ? String.format("%03d", random.nextInt(40)) : null;
    return new AppendItem(body, close, type, producer, streamSeq);
  }

  @Test
  void aBatchEndsAndIsAnsweredExactlyAsTheSameAppendsOneByOne() {
    for (long seed = 0; seed < 3000; seed++) {
      Random random = new Random(seed);
      boolean startsClosed = random.nextInt(10) == 0;
      List<AppendItem> items = new ArrayList<>();
      for (int i = 0, n = 1 + random.nextInt(25); i < n; i++) items.add(randomAppend(random, i));

      AppendDecisions batch = AppendDecisions.decide(stream(startsClosed), items, AT);
      StreamState batched = write(stream(startsClosed), batch.events());
      List<AppendReply> batchReplies = batch.replies(batched);

      StreamState single = stream(startsClosed);
      List<AppendReply> singleReplies = new ArrayList<>();
      for (AppendItem item : items) {
        AppendDecisions one = AppendDecisions.decide(single, List.of(item), AT);
        single = write(single, one.events());
        singleReplies.add(one.replies(single).get(0));
      }

      assertEquals(singleReplies, batchReplies, "seed " + seed);
      assertEquals(single.tail(), batched.tail(), "seed " + seed);
      assertEquals(single.closed, batched.closed, "seed " + seed);
      assertEquals(single.closedBy, batched.closedBy, "seed " + seed);
      assertEquals(single.lastStreamSeq, batched.lastStreamSeq, "seed " + seed);
      assertEquals(single.producers.keySet(), batched.producers.keySet(), "seed " + seed);
      for (String id : single.producers.keySet()) assertArrayEquals(single.producers.get(id), batched.producers.get(id), "seed " + seed);
      for (int i = 0; i < single.messages.size(); i++) {
        assertArrayEquals(single.messages.get(i).data(), batched.messages.get(i).data(), "seed " + seed + " message " + i);
      }
    }
  }

  @Test
  void aFailedWriteKeepsItsRefusalsAndAnswersTheRestUnavailable() {
    StreamState s = stream(false);
    List<AppendItem> items = List.of(
        new AppendItem(new StreamMessage(new byte[] {1}, 0), false, "text/plain", null, null),
        new AppendItem(new StreamMessage(new byte[] {2}, 0), false, "application/json", null, null));
    StreamReply.Unavailable unavailable = new StreamReply.Unavailable("down");
    List<AppendReply> replies = AppendDecisions.decide(s, items, AT).repliesUnwritten(unavailable);
    assertEquals(unavailable, replies.get(0));
    assertEquals(new StreamReply.Conflict("content type differs from the stream's"), replies.get(1));
  }
}
