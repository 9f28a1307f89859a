package dev.durablesessions.http.socket;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.durablesessions.session.ErrorCode;
import dev.durablesessions.session.Outcome;
import dev.durablesessions.session.Participant;
import dev.durablesessions.session.Role;
import dev.durablesessions.session.SessionEvent;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * Each server frame is written byte for byte as docs/PROTOCOL.md shows it (and as the
 * hand-built JSON before {@link ServerFrame} wrote it, plus attached's visibleHead): field
 * order, and optional fields left out rather than null.
 */
class ServerFrameJsonTest {
  static final Participant ADA = Participant.of("ada", Role.USER);

  @Test
  void attachedNamesTheSessionParticipantDeviceHeadAfterVisibleHeadAndHeartbeatTimeout() {
    assertEquals("{\"type\":\"attached\",\"sessionId\":\"s1\",\"participant\":{\"id\":\"ada\",\"role\":\"user\",\"subject\":\"ada\"},"
            + "\"device\":\"phone\",\"head\":7,\"after\":3,\"visibleHead\":5,\"heartbeatTimeoutMs\":30000}",
        Frames.write(new ServerFrame.Attached("s1", ADA, "phone", 7, 3, 5, Duration.ofSeconds(30))));
    assertEquals("{\"type\":\"attached\",\"sessionId\":\"s1\",\"participant\":{\"id\":\"ada\",\"role\":\"user\",\"subject\":\"ada\"},"
            + "\"device\":\"phone\",\"head\":7,\"after\":3,\"visibleHead\":3}",
        Frames.write(new ServerFrame.Attached("s1", ADA, "phone", 7, 3, 3, Duration.ZERO)));
  }

  @Test
  void ackCarriesRefOffsetSeqAndDuplicateLeavingOutWhatItHasNot() {
    assertEquals("{\"type\":\"ack\",\"ref\":\"r1\",\"offset\":12,\"seq\":4,\"duplicate\":true}",
        Frames.write(new ServerFrame.Ack("r1", new Outcome.Accepted(12, 4L, true))));
    assertEquals("{\"type\":\"ack\",\"duplicate\":false}", Frames.write(new ServerFrame.Ack(null, new Outcome.Accepted(-1, null, false))));
  }

  @Test
  void authAckCarriesTheNewExpiryIfThereIsOne() {
    assertEquals("{\"type\":\"ack\",\"ref\":\"a1\",\"expiresAt\":\"2026-01-02T03:04:05Z\"}",
        Frames.write(new ServerFrame.AuthAck("a1", Instant.parse("2026-01-02T03:04:05Z"))));
    assertEquals("{\"type\":\"ack\"}", Frames.write(new ServerFrame.AuthAck(null, null)));
  }

  @Test
  void errorCarriesRefCodeMessageAndRetryAfterOnlyWhenRateLimited() {
    assertEquals("{\"type\":\"error\",\"ref\":\"r2\",\"code\":\"invalid_offset\",\"message\":\"ack needs an offset >= 0\"}",
        Frames.write(new ServerFrame.Error("r2", ErrorCode.INVALID_OFFSET, "ack needs an offset >= 0")));
    assertEquals("{\"type\":\"error\",\"code\":\"bad_json\",\"message\":\"a frame is a JSON object\"}",
        Frames.write(new ServerFrame.Error(null, ErrorCode.BAD_JSON, "a frame is a JSON object")));
    assertEquals("{\"type\":\"error\",\"ref\":\"r3\",\"code\":\"rate_limited\",\"message\":\"slow down\",\"retryAfterMs\":250}",
        Frames.write(new ServerFrame.Error("r3", ErrorCode.RATE_LIMITED, "slow down", 250L)));
  }

  @Test
  void closingSaysCodeReasonWhetherResumableAndWhy() {
    assertEquals("{\"type\":\"closing\",\"code\":4008,\"reason\":\"consumer_too_slow\",\"resumable\":true,\"message\":\"read faster\"}",
        Frames.write(new ServerFrame.Closing(4008, "consumer_too_slow", true, "read faster")));
  }

  @Test
  void anEventIsWrittenAsTheWireShowsEvents() {
    SessionEvent event = new SessionEvent.SuggestionMade(5, ADA, Instant.parse("2026-01-02T03:04:05Z"), null, "refund");
    assertEquals(dev.durablesessions.http.Json.writeEvent(event), Frames.write(new ServerFrame.Event(event)));
  }
}
