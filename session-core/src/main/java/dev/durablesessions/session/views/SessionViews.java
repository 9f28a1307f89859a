package dev.durablesessions.session.views;

import dev.durablesessions.session.ErrorCode;
import dev.durablesessions.session.Outcome;
import dev.durablesessions.session.Participant;
import dev.durablesessions.session.SessionCommand;
import dev.durablesessions.session.SessionEntity;
import dev.durablesessions.session.SessionEvent;
import dev.durablesessions.session.SessionState;
import dev.durablesessions.session.StateReply;
import dev.durablesessions.session.SummaryReply;
import dev.durablesessions.session.resume.SessionJournal;
import dev.durablesessions.session.state.StateCheckpoints;
import dev.durablesessions.session.state.StateHistory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * The read side of a session, for HTTP and MCP alike: asks the session for its state and builds
 * the views from it ({@link StateViews}), reading the journal only where a view needs history.
 *
 * <p>Historic views (the state at an offset or a turn, diffs, the last K turns' commits) start
 * from the nearest {@link StateCheckpoints checkpoint} and read at most a checkpoint interval of
 * events past the point asked for, so their cost does not grow with the whole history; the
 * commit log without a turn bound reads every event, as its answer may hold every commit.
 */
public final class SessionViews {
  private final ClusterSharding sharding;
  private final SessionJournal journal;
  private final Duration askTimeout;
  private final int resumeWindow;
  private final int resumeMaxEvents;

  /**
   * @param resumeWindow the resume package looks at most this many events back
   * @param resumeMaxEvents and returns at most this many addressed events (the latest)
   */
  public SessionViews(ClusterSharding sharding, SessionJournal journal, Duration askTimeout, int resumeWindow, int resumeMaxEvents) {
    this.sharding = sharding;
    this.journal = journal;
    this.askTimeout = askTimeout;
    this.resumeWindow = resumeWindow;
    this.resumeMaxEvents = resumeMaxEvents;
  }

  /** The session as it is now, or the session's refusal (not found, erased). */
  public sealed interface Lookup permits Current, Refused {}

  public record Refused(ErrorCode code, String message) implements Lookup {}

  public CompletionStage<Lookup> current(String sessionId) {
    CompletionStage<StateReply> reply =
        sharding.entityRefFor(SessionEntity.TYPE_KEY, sessionId).ask(SessionCommand.GetState::new, askTimeout);
    return reply.thenApply(r -> r instanceof Outcome.Refused refused
        ? new Refused(refused.code(), refused.message())
        : new Current(sessionId, ((StateReply.StateNow) r).state()));
  }

  /** One session now: the views of it. Checks of what was asked (offset beyond the head, a turn to come) are the caller's. */
  public final class Current implements Lookup {
    private final String sessionId;
    private final SessionState state;

    private Current(String sessionId, SessionState state) {
      this.sessionId = sessionId;
      this.state = state;
    }

    public long head() {
      return state.head();
    }

    /** The number of the current turn. */
    public int turn() {
      return state.turn().number();
    }

    public StateViews.Now now() {
      return new StateViews.Now(sessionId, state.head(), state.turn(), state.document());
    }

    public StateViews.Handoff handoff() {
      return new StateViews.Handoff(sessionId, state.head(), state.latestNote(), state.control());
    }

    public CompletionStage<StateViews.AtOffset> atOffset(long offset) {
      return history(state.checkpoints().atOffset(offset, state.head()),
          h -> new StateViews.AtOffset(sessionId, state.head(), offset, h.atOffset(offset)));
    }

    public CompletionStage<StateViews.AtTurn> atTurn(int turn) {
      return history(state.checkpoints().atTurn(turn, state.head()),
          h -> new StateViews.AtTurn(sessionId, state.head(), turn, h.atTurn(turn)));
    }

    public CompletionStage<StateViews.TurnDiff> diffTurns(int from, int to) {
      return history(state.checkpoints().between(from, Integer.MAX_VALUE, to, Integer.MAX_VALUE, state.head()),
          h -> new StateViews.TurnDiff(from, to, StateHistory.diff(h.atTurn(from), h.atTurn(to)), events(h.between(from, to))));
    }

    /** Attempts count from 1. */
    public CompletionStage<StateViews.AttemptDiff> diffAttempts(int turn, int attempt, int vs) {
      int lo = Math.min(attempt, vs);
      int hi = Math.max(attempt, vs);
      return history(state.checkpoints().between(turn, lo, turn, hi, state.head()), h -> new StateViews.AttemptDiff(turn, attempt, vs,
          StateHistory.diff(h.atAttempt(turn, attempt), h.atAttempt(turn, vs)),
          events(h.commits().stream().filter(c -> c.turn() == turn && c.attempt() > lo && c.attempt() <= hi).toList())));
    }

    /** Commits by tool (null for any), touching a path (null for any), of the last {@code lastTurns} turns (0 for all). */
    public CompletionStage<StateViews.CommitLog> commits(String tool, String path, int lastTurns) {
      int current = state.turn().number();
      StateCheckpoints.Read read = lastTurns > 0
          ? state.checkpoints().since(current - lastTurns, state.head())
          : StateCheckpoints.everything(state.head());
      return history(read, h -> {
        var matching = h.filter(tool, path, lastTurns, current);
        return new StateViews.CommitLog(current, events(matching), StateHistory.touched(matching, path));
      });
    }

    /** The highest offset any device of {@code participant} confirmed (0 if none). */
    public long lastConfirmedBy(Participant participant) {
      return state.receipts().values().stream()
          .filter(r -> r.participant().id().equals(participant.id())).mapToLong(SessionState.Receipt::delivered).max().orElse(0);
    }

    /**
     * The resume package for {@code me}, with what was addressed to it after {@code since}
     * (at most the head): messages from others, signals and approval requests to it, answers to
     * the approvals it asked for.
     */
    public CompletionStage<StateViews.ResumePackage> resume(Participant me, long since) {
      long from = Math.max(since, state.head() - resumeWindow) + 1;
      return journal.read(sessionId, from, state.head()).thenApply(events -> {
        List<SessionEvent> addressed = new ArrayList<>();
        for (SessionEvent e : events) if (addressedTo(e, me) && e.visibleTo(me)) addressed.add(e);
        boolean truncated = from > since + 1 || addressed.size() > resumeMaxEvents;
        if (addressed.size() > resumeMaxEvents) addressed = addressed.subList(addressed.size() - resumeMaxEvents, addressed.size());
        List<StateViews.OpenStream> streams = new ArrayList<>();
        state.openStreams().forEach((messageId, owner) ->
            streams.add(new StateViews.OpenStream(messageId, owner, state.stalled().containsKey(messageId))));
        List<StateViews.OpenToolCall> calls = new ArrayList<>();
        state.toolCalls().forEach((id, call) -> {
          if (call.outcome() == null) calls.add(new StateViews.OpenToolCall(id, call.name(), call.turn()));
        });
        return new StateViews.ResumePackage(sessionId, state.head(), since, truncated, state.latestNote(), state.control(), state.turn(),
            state.document(), new StateViews.OpenRuns(streams, calls, state.agentStatus()),
            SummaryReply.PendingApproval.of(state.approvals()), List.copyOf(addressed));
      });
    }

    private boolean addressedTo(SessionEvent e, Participant me) {
      return (e instanceof SessionEvent.MessagePosted m && !m.by().id().equals(me.id()))
          || (e instanceof SessionEvent.SignalSent g && g.to().addresses(me))
          || (e instanceof SessionEvent.ToolApprovalRequested r && r.to().addresses(me))
          || (e instanceof SessionEvent.ToolApprovalAnswered a && me.id().equals(state.approvals().requester(a.approvalId())));
    }

    /** Every device's receipt, or (with a participant) that participant's. */
    public StateViews.Receipts receipts(Optional<String> participant) {
      return new StateViews.Receipts(sessionId, state.receipts().values().stream()
          .filter(r -> participant.isEmpty() || r.participant().id().equals(participant.get())).toList());
    }

    /** The first confirmation (by time) of {@code offset} or later by one of {@code participant}'s devices. */
    public StateViews.Reach reached(String participant, long offset) {
      Optional<SessionState.Receipt> first = state.receipts().values().stream()
          .filter(r -> r.participant().id().equals(participant) && r.delivered() >= offset)
          .min(Comparator.comparing(SessionState.Receipt::at));
      return first.map(r -> new StateViews.Reach(participant, offset, true, r.device(), r.delivered(), r.at()))
          .orElseGet(() -> new StateViews.Reach(participant, offset, false, null, null, null));
    }

    private <T> CompletionStage<T> history(StateCheckpoints.Read read, Function<StateHistory, T> view) {
      if (read.empty()) return java.util.concurrent.CompletableFuture.completedFuture(view.apply(new StateHistory(read.base(), List.of())));
      return journal.read(sessionId, read.from(), read.to()).thenApply(events -> view.apply(new StateHistory(read.base(), events)));
    }
  }

  private static List<SessionEvent> events(List<? extends SessionEvent> events) {
    return new ArrayList<>(events);
  }
}
