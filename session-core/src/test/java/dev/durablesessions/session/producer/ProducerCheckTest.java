package dev.durablesessions.session.producer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.durablesessions.session.ErrorCode;
import org.junit.jupiter.api.Test;

/**
 * The session's answers to the shared producer rule, with the offsets a retry is answered
 * with and the refusals' codes and messages as clients see them.
 */
class ProducerCheckTest {
  static final ProducerState COMMITTED = ProducerState.first(new SeqRange("p", 2, 0, 3), 40).record(new SeqRange("p", 2, 4, 4), 41, 8);

  @Test
  void aRetryIsAnsweredWithTheOffsetItWasWrittenAtOrWaitsForTheHeldDeltas() {
    assertEquals(new ProducerCheck.Fresh(), ProducerCheck.of(null, null, new ProducerStamp("p", 0, 0)));
    assertEquals(new ProducerCheck.Fresh(), ProducerCheck.of(COMMITTED, null, new ProducerStamp("p", 2, 5)));
    assertEquals(new ProducerCheck.Fresh(), ProducerCheck.of(COMMITTED, null, new ProducerStamp("p", 3, 0)));
    assertEquals(new ProducerCheck.Committed(40), ProducerCheck.of(COMMITTED, null, new ProducerStamp("p", 2, 2)));
    assertEquals(new ProducerCheck.Committed(41), ProducerCheck.of(COMMITTED, null, new ProducerStamp("p", 2, 4)));
    SeqRange held = new SeqRange("p", 2, 5, 7);
    assertEquals(new ProducerCheck.Pending(), ProducerCheck.of(COMMITTED, held, new ProducerStamp("p", 2, 6)));
    assertEquals(new ProducerCheck.Committed(41), ProducerCheck.of(COMMITTED, held, new ProducerStamp("p", 2, 4)));
    assertEquals(new ProducerCheck.Fresh(), ProducerCheck.of(COMMITTED, held, new ProducerStamp("p", 2, 8)));
    assertEquals(new ProducerCheck.Pending(), ProducerCheck.of(COMMITTED, new SeqRange("p", 3, 0, 2), new ProducerStamp("p", 3, 0)));
    ProducerState shortWindow = ProducerState.first(new SeqRange("p", 2, 0, 3), 40).record(new SeqRange("p", 2, 4, 4), 41, 1);
    assertEquals(new ProducerCheck.Committed(-1), ProducerCheck.of(shortWindow, null, new ProducerStamp("p", 2, 2)),
        "a retry older than the window is still not written again");
  }

  @Test
  void refusalsNameTheCodeAndWhatWasExpected() {
    assertEquals(new ProducerCheck.Rejected(ErrorCode.INVALID_REQUEST, "producer needs an id, and epoch and seq >= 0"),
        ProducerCheck.of(null, null, new ProducerStamp(" ", 0, 0)));
    assertEquals(new ProducerCheck.Rejected(ErrorCode.SEQUENCE_GAP, "producer p epoch 0 expected seq 0, got 3"),
        ProducerCheck.of(null, null, new ProducerStamp("p", 0, 3)));
    assertEquals(new ProducerCheck.Rejected(ErrorCode.STALE_EPOCH, "producer p is at epoch 2; epoch 1 is fenced"),
        ProducerCheck.of(COMMITTED, null, new ProducerStamp("p", 1, 9)));
    assertEquals(new ProducerCheck.Rejected(ErrorCode.SEQUENCE_GAP, "producer p epoch 3 expected seq 0, got 2"),
        ProducerCheck.of(COMMITTED, null, new ProducerStamp("p", 3, 2)));
    assertEquals(new ProducerCheck.Rejected(ErrorCode.SEQUENCE_GAP, "producer p epoch 2 expected seq 5, got 7"),
        ProducerCheck.of(COMMITTED, null, new ProducerStamp("p", 2, 7)));
    assertEquals(new ProducerCheck.Rejected(ErrorCode.SEQUENCE_GAP, "producer p epoch 2 expected seq 8, got 9"),
        ProducerCheck.of(COMMITTED, new SeqRange("p", 2, 5, 7), new ProducerStamp("p", 2, 9)));
  }
}
