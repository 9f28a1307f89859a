package dev.durablesessions.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.durablesessions.session.AppendBody.AnswerApproval;
import dev.durablesessions.session.AppendBody.CallTool;
import dev.durablesessions.session.AppendBody.RequestApproval;
import dev.durablesessions.session.AppendBody.ToolResult;
import dev.durablesessions.session.Outcome.Refused;
import dev.durablesessions.session.approval.Approvals;
import dev.durablesessions.session.state.ToolOutcome;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The rules of tool approvals, on the session's state alone: who may ask (the call's caller or
 * an operator), who may decide (the addressee, once), what each refusal is, that a refusal
 * leaves the state as it was, and that what the session remembers stays bounded.
 */
class ToolApprovalRulesTest {
  static final Participant BOT = Participant.of("bot", Role.AGENT);
  static final Participant OTHER_BOT = Participant.of("bot-2", Role.AGENT);
  static final Participant ADA = Participant.of("ada", Role.USER);
  static final Participant BEN = Participant.of("ben", Role.USER);
  static final Participant HAL = Participant.of("hal", Role.HUMAN);
  static final Participant EVE = Participant.of("eve", Role.OBSERVER);
  static final Instant AT = Instant.parse("2026-01-01T00:00:00Z");
  static final JsonNode INPUT = JsonNodeFactory.instance.objectNode().put("path", "a.ts");

  /** A session ada created, where bot called "delete_file" as call-1. */
  static SessionState withOpenCall() {
    SessionState s = SessionState.empty()
        .apply(new SessionEvent.SessionCreated(1, ADA, AT, null, "s", null), 64)
        .apply(new SessionEvent.ParticipantJoined(2, ADA, AT, null, ADA), 64);
    return accepted(s, BOT, new CallTool("call-1", "delete_file", null));
  }

  /** The append is allowed; the state after its event. */
  static SessionState accepted(SessionState state, Participant by, AppendBody body) {
    Refused refused = AppendRules.check(state, by, body);
    assertNull(refused, () -> by.id() + " " + body + " was refused: " + refused);
    return state.apply(AppendRules.toEvent(state.head() + 1, AT, by, null, body, state), 64);
  }

  static SessionEvent event(SessionState state, Participant by, AppendBody body) {
    assertNull(AppendRules.check(state, by, body));
    return AppendRules.toEvent(state.head() + 1, AT, by, null, body, state);
  }

  /** Refused with {@code code}; the rules are pure, so nothing about the state can have changed. */
  static void refused(ErrorCode code, SessionState state, Participant by, AppendBody body) {
    Refused refused = AppendRules.check(state, by, body);
    assertEquals(code, refused == null ? null : refused.code(), () -> by.id() + " " + body + ": " + refused);
  }

  static RequestApproval ask(String approvalId, Target to) {
    return new RequestApproval("call-1", approvalId, to, INPUT, "may I delete a.ts?");
  }

  @Test
  void aRequestNamesTheToolAndTheFirstAnswerDecidesIt() {
    SessionState s = withOpenCall();
    SessionEvent.ToolApprovalRequested requested =
        assertInstanceOf(SessionEvent.ToolApprovalRequested.class, event(s, BOT, ask("ap-1", Target.role(Role.USER))));
    assertEquals("delete_file", requested.name());
    assertEquals("call-1", requested.toolCallId());
    assertEquals(INPUT, requested.input());
    s = s.apply(requested, 64);
    Approvals.Pending pending = s.approvals().pending("ap-1");
    assertEquals(new Approvals.Pending("ap-1", "call-1", "delete_file", Target.role(Role.USER), INPUT, "may I delete a.ts?",
        requested.offset(), "bot"), pending);

    SessionEvent.ToolApprovalAnswered answered =
        assertInstanceOf(SessionEvent.ToolApprovalAnswered.class, event(s, ADA, new AnswerApproval("ap-1", false, "not that file")));
    assertEquals("call-1", answered.toolCallId());
    assertFalse(answered.approved());
    assertEquals("not that file", answered.reason());
    s = s.apply(answered, 64);
    assertTrue(s.approvals().pending().isEmpty());
    // once: a second answer, even the same one from the same addressee, finds nothing to decide
    refused(ErrorCode.APPROVAL_NOT_FOUND, s, ADA, new AnswerApproval("ap-1", false, null));
    refused(ErrorCode.APPROVAL_NOT_FOUND, s, BEN, new AnswerApproval("ap-1", true, null));
    // and its id stays taken
    refused(ErrorCode.APPROVAL_EXISTS, s, BOT, ask("ap-1", Target.role(Role.USER)));
  }

  /** {@code depth} arrays, one inside the other, around a string; with a sibling scalar at every level. */
  static JsonNode nested(int depth) {
    JsonNode node = JsonNodeFactory.instance.textNode("x");
    for (int i = 0; i < depth; i++) node = JsonNodeFactory.instance.arrayNode().add(1).add(node);
    return node;
  }

  @Test
  void jsonNullInputIsNoInput() {
    SessionState s = withOpenCall();
    var requested = (SessionEvent.ToolApprovalRequested) event(s, BOT,
        new RequestApproval("call-1", "ap-1", Target.role(Role.USER), JsonNodeFactory.instance.nullNode(), null));
    assertNull(requested.input());
  }

  @Test
  void onlyTheCallsCallerOrAnOperatorMayAskAndOnlyForAnOpenCallTheSessionRemembers() {
    SessionState s = withOpenCall();
    Target user = Target.role(Role.USER);
    refused(ErrorCode.FORBIDDEN, s, ADA, ask("ap-1", user)); // users make no tool calls
    refused(ErrorCode.FORBIDDEN, s, EVE, ask("ap-1", user)); // observers append nothing
    refused(ErrorCode.FORBIDDEN, s, OTHER_BOT, ask("ap-1", user)); // another agent's call
    refused(ErrorCode.TOOL_CALL_NOT_FOUND, s, BOT, new RequestApproval("call-9", "ap-1", user, null, null));
    refused(ErrorCode.INVALID_FRAME, s, BOT, new RequestApproval(null, "ap-1", user, null, null));
    refused(ErrorCode.INVALID_FRAME, s, BOT, new RequestApproval("call-1", " ", user, null, null));
    refused(ErrorCode.INVALID_FRAME, s, BOT, new RequestApproval("call-1", "ap-1", null, null, null));
    refused(ErrorCode.INVALID_FRAME, s, BOT, new RequestApproval("call-1", "ap-1", new Target(Role.USER, "ada"), null, null));
    refused(ErrorCode.INVALID_FRAME, s, BOT, new RequestApproval("call-1", "ap-1", new Target(null, null), null, null));
    refused(ErrorCode.INVALID_FRAME, s, BOT, ask("a".repeat(129), user));
    accepted(s, BOT, ask("a".repeat(128), user));
    refused(ErrorCode.INVALID_FRAME, s, BOT, new RequestApproval("call-1", "ap-1", user, nested(65), null));
    accepted(s, BOT, new RequestApproval("call-1", "ap-1", user, nested(64), null));
    accepted(s, HAL, ask("ap-hal", user)); // an operator asks on the agent's behalf

    SessionState finished = accepted(s, BOT, new ToolResult("call-1", ToolOutcome.OK, null, null));
    refused(ErrorCode.TOOL_CALL_FINISHED, finished, BOT, ask("ap-1", user));

    SessionState closed = s.apply(new SessionEvent.SessionClosed(s.head() + 1, HAL, AT, null, "done"), 64);
    refused(ErrorCode.SESSION_CLOSED, closed, BOT, ask("ap-1", user));
  }

  @Test
  void onlyTheAddresseeDecidesAndNotAfterTheCallEndedOrTheSessionClosed() {
    SessionState s = withOpenCall();
    s = accepted(s, BOT, ask("to-users", Target.role(Role.USER)));
    s = accepted(s, BOT, ask("to-ada", Target.participant("ada")));
    s = accepted(s, BOT, ask("to-humans", Target.role(Role.HUMAN)));

    refused(ErrorCode.NOT_ADDRESSEE, s, HAL, new AnswerApproval("to-users", true, null));
    refused(ErrorCode.NOT_ADDRESSEE, s, BOT, new AnswerApproval("to-users", true, null)); // the asker is not the addressee
    refused(ErrorCode.NOT_ADDRESSEE, s, BEN, new AnswerApproval("to-ada", true, null));
    refused(ErrorCode.NOT_ADDRESSEE, s, ADA, new AnswerApproval("to-humans", true, null));
    refused(ErrorCode.FORBIDDEN, s, EVE, new AnswerApproval("to-users", true, null));
    refused(ErrorCode.APPROVAL_NOT_FOUND, s, ADA, new AnswerApproval("never-asked", true, null));
    refused(ErrorCode.INVALID_FRAME, s, ADA, new AnswerApproval("to-users", null, null));
    refused(ErrorCode.INVALID_FRAME, s, ADA, new AnswerApproval(null, true, null));
    accepted(s, BEN, new AnswerApproval("to-users", true, null)); // any user
    accepted(s, ADA, new AnswerApproval("to-ada", true, null));
    accepted(s, HAL, new AnswerApproval("to-humans", true, null));

    SessionState closed = s.apply(new SessionEvent.SessionClosed(s.head() + 1, HAL, AT, null, "done"), 64);
    refused(ErrorCode.SESSION_CLOSED, closed, ADA, new AnswerApproval("to-users", true, null));
  }

  @Test
  void aToolResultDropsTheCallsPendingApprovalsAndNoOthers() {
    SessionState s = withOpenCall();
    s = accepted(s, BOT, new CallTool("call-2", "read_file", null));
    s = accepted(s, BOT, ask("ap-1", Target.role(Role.USER)));
    s = accepted(s, BOT, new RequestApproval("call-2", "ap-2", Target.role(Role.USER), null, null));
    s = accepted(s, BOT, new ToolResult("call-1", ToolOutcome.ERROR, "gave up", null));
    assertEquals(List.of("ap-2"), List.copyOf(s.approvals().pending().keySet()));
    refused(ErrorCode.APPROVAL_NOT_FOUND, s, ADA, new AnswerApproval("ap-1", true, null));
    accepted(s, ADA, new AnswerApproval("ap-2", true, null));
  }

  /**
   * Property, over seeded random runs of requests, answers and results: the session keeps
   * exactly the newest {@link Approvals#MAX_PENDING} approvals still waiting (an answer or a
   * result ends one; a newer request pushes the oldest out, and it can no longer be answered),
   * and refuses as taken every id among the newest {@link Approvals#MAX_RECENT} requests or still
   * pending, and no other.
   */
  @Test
  void pendingApprovalsAndRememberedIdsStayBoundedAndAreTheNewest() {
    for (long seed = 0; seed < 60; seed++) {
      Random random = new Random(seed);
      SessionState s = withOpenCall();
      List<String> openCalls = new ArrayList<>(List.of("call-1"));
      Map<String, String> pending = new LinkedHashMap<>(); // the model: approval id -> call id, oldest first
      List<String> forgotten = new ArrayList<>();
      List<String> requested = new ArrayList<>(); // ids in the order of their latest request
      int calls = 1;
      int steps = 200 + random.nextInt(700);
      for (int step = 0; step < steps; step++) {
        int what = random.nextInt(10);
        if (what < 6 && !openCalls.isEmpty()) {
          String call = openCalls.get(random.nextInt(openCalls.size()));
          // now and then an old id again: taken while remembered, free once forgotten
          String id = random.nextInt(8) == 0 && !requested.isEmpty()
              ? requested.get(random.nextInt(requested.size())) : "ap-" + seed + "-" + step;
          RequestApproval body = new RequestApproval(call, id, Target.role(Role.USER), null, null);
          boolean taken = requested.subList(Math.max(0, requested.size() - Approvals.MAX_RECENT), requested.size()).contains(id)
              || pending.containsKey(id);
          if (taken) {
            refused(ErrorCode.APPROVAL_EXISTS, s, BOT, body);
            continue;
          }
          s = accepted(s, BOT, body);
          requested.remove(id);
          requested.add(id);
          pending.put(id, call);
          forgotten.remove(id);
          if (pending.size() > Approvals.MAX_PENDING) {
            String oldest = pending.keySet().iterator().next();
            pending.remove(oldest);
            forgotten.add(oldest);
          }
        } else if (what < 8 && (!pending.isEmpty() || !forgotten.isEmpty())) {
          boolean old = pending.isEmpty() || !forgotten.isEmpty() && random.nextInt(4) == 0;
          List<String> from = old ? forgotten : List.copyOf(pending.keySet());
          String id = from.get(random.nextInt(from.size()));
          AnswerApproval body = new AnswerApproval(id, random.nextBoolean(), null);
          if (pending.remove(id) != null) s = accepted(s, ADA, body);
          else refused(ErrorCode.APPROVAL_NOT_FOUND, s, ADA, body);
        } else if (what == 8 && !openCalls.isEmpty()) {
          String call = openCalls.remove(random.nextInt(openCalls.size()));
          s = accepted(s, BOT, new ToolResult(call, ToolOutcome.OK, null, null));
          pending.values().removeIf(call::equals);
        } else {
          String call = "call-" + seed + "-" + (++calls);
          s = accepted(s, BOT, new CallTool(call, "grep", null));
          openCalls.add(call);
        }
        assertEquals(List.copyOf(pending.keySet()), List.copyOf(s.approvals().pending().keySet()), "seed " + seed + " step " + step);
        assertTrue(s.approvals().recent().size() <= Approvals.MAX_RECENT, "seed " + seed);
      }
    }
  }
}
