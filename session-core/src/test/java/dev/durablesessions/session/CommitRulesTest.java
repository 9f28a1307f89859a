package dev.durablesessions.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.durablesessions.session.Outcome.Refused;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A commit whose {@code evictedKeys} holds a {@code null} is refused as an invalid frame before
 * anything is written (the socket fuzz test found it crashing the session entity, which then
 * answered nothing until the ask timed out).
 */
class CommitRulesTest {
  static final Participant BOT = Participant.of("bot", Role.AGENT);

  static AppendBody.Commit commit(List<String> evicted) {
    return new AppendBody.Commit("edit_file", null, null, null, null, null, JsonNodeFactory.instance.arrayNode(), evicted);
  }

  @Test
  void aNullEvictedKeyIsAnInvalidFrame() {
    Refused refused = AppendRules.check(SessionState.empty(), BOT, commit(Arrays.asList("a", null)));
    assertEquals(ErrorCode.INVALID_FRAME, refused.code());
    assertEquals("evictedKeys is a list of strings", refused.message());
  }

  @Test
  void stringKeysAndNoKeysAreAccepted() {
    assertNull(AppendRules.check(SessionState.empty(), BOT, commit(List.of("a", "b"))));
    assertNull(AppendRules.check(SessionState.empty(), BOT, commit(null)));
  }
}
