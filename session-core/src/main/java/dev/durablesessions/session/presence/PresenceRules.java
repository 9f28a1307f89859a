package dev.durablesessions.session.presence;

import dev.durablesessions.session.EventAt;
import dev.durablesessions.session.Participant;
import dev.durablesessions.session.Role;
import dev.durablesessions.session.SessionCommand.Attach;
import dev.durablesessions.session.SessionEvent;
import dev.durablesessions.session.SessionState;
import dev.durablesessions.session.answer.OpenStreams;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Presence and crash detection as pure rules: given the durable state, this incarnation's
 * attachments and one input (a device attached or detached, a grace period ran out, the
 * reattach window after a restart closed, the entity recovered), they return the events to
 * persist and the timers to start or cancel. The entity applies both and decides nothing.
 *
 * <p>The guarantee ({@code PresenceRulesTest}): a participant is absent from the moment the
 * session can tell its last device is gone (its last attachment detached, or, after a restart,
 * the reattach check found none back); it is lost exactly once, {@code grace} later, unless a
 * device attached in between; and never while one of its devices is attached.
 */
public final class PresenceRules {

  /** What the entity's timers should do; keyed per participant, so a later request replaces an earlier one. */
  public sealed interface TimerRequest {
    record StartGrace(String participantId, Duration after) implements TimerRequest {}

    record CancelGrace(String participantId) implements TimerRequest {}

    record StartReattachCheck(Duration after) implements TimerRequest {}
  }

  public record Decision(List<EventAt> events, List<TimerRequest> timers) {
    public static final Decision NONE = new Decision(List.of(), List.of());

    public Decision {
      events = List.copyOf(events);
      timers = List.copyOf(timers);
    }
  }

  private final Duration grace;
  private final Duration reattachWindow;
  private final Duration receiptInterval;

  public PresenceRules(Duration grace, Duration reattachWindow, Duration receiptInterval) {
    this.grace = grace;
    this.reattachWindow = reattachWindow;
    this.receiptInterval = receiptInterval;
  }

  /** A new incarnation: pending grace periods are re-armed, and devices presence still counts get a window to re-attach. */
  public Decision recovered(SessionState state, Instant now) {
    List<TimerRequest> timers = new ArrayList<>();
    boolean anyOnline = false;
    for (Map.Entry<String, Presence> p : state.presence().entrySet()) {
      Presence presence = p.getValue();
      if (presence.status() == Presence.Status.ONLINE) anyOnline = true;
      if (presence.status() == Presence.Status.DISCONNECTED && presence.graceUntil() != null) {
        Duration left = Duration.between(now, presence.graceUntil());
        timers.add(new TimerRequest.StartGrace(p.getKey(), left.isNegative() ? Duration.ZERO : left));
      }
    }
    if (anyOnline) timers.add(new TimerRequest.StartReattachCheck(reattachWindow));
    return new Decision(List.of(), timers);
  }

  /**
   * A device attached ({@code attachments} includes it): one presence does not count yet becomes
   * connected, and its participant's grace ends; a first-time participant joins by connecting.
   */
  public Decision attached(SessionState state, Collection<Attachment> attachments, Attach attach) {
    if (!attach.presence()) return Decision.NONE;
    Participant p = attach.participant();
    Presence presence = state.presenceOf(p.id());
    List<EventAt> events = new ArrayList<>();
    List<TimerRequest> timers = new ArrayList<>();
    if (presence == null || !presence.devices().contains(attach.device())) {
      timers.add(new TimerRequest.CancelGrace(p.id()));
      events.add((o, at) -> new SessionEvent.ParticipantConnected(o, p, at, null, p, attach.device()));
    }
    events.addAll(audienceChange(state, attachments));
    return new Decision(events, timers);
  }

  /**
   * An attachment went away ({@code remaining} no longer includes it). If it was its device's
   * last, the device is disconnected; if that was the participant's last device, grace starts.
   */
  public Decision detached(SessionState state, Collection<Attachment> remaining, Attachment gone, String reason, Instant now) {
    Attach attach = gone.attach();
    if (!attach.presence()) return Decision.NONE;
    List<EventAt> events = new ArrayList<>(receiptIfDue(state, gone, true));
    List<TimerRequest> timers = new ArrayList<>();
    boolean deviceStillAttached = remaining.stream().anyMatch(other -> other.sameDevice(attach));
    Participant p = attach.participant();
    Presence presence = state.presenceOf(p.id());
    if (!deviceStillAttached && presence != null && presence.devices().contains(attach.device())) {
      Instant graceUntil = null;
      if (presence.devices().size() == 1) {
        graceUntil = now.plus(grace);
        timers.add(new TimerRequest.StartGrace(p.id(), grace));
      }
      Instant until = graceUntil;
      String device = attach.device();
      events.add((o, at) -> new SessionEvent.ParticipantDisconnected(o, p, at, null, p, device, reason, until));
    }
    events.addAll(audienceChange(state, remaining));
    return new Decision(events, timers);
  }

  /** Did not come back in time: lost, exactly once; what it was streaming ends as agent_lost. */
  public Decision graceExpired(SessionState state, String participantId, Instant now) {
    Presence presence = state.presenceOf(participantId);
    if (presence == null || presence.status() != Presence.Status.DISCONNECTED) return Decision.NONE;
    if (presence.graceUntil() != null && presence.graceUntil().isAfter(now)) {
      // An earlier incarnation's timer, or one that fired early: wait for the recorded deadline.
      return new Decision(List.of(), List.of(new TimerRequest.StartGrace(participantId, Duration.between(now, presence.graceUntil()))));
    }
    Participant lost = state.participants().get(participantId);
    if (lost == null) return Decision.NONE;
    List<EventAt> events = new ArrayList<>();
    events.add((o, at) -> new SessionEvent.ParticipantLost(o, Participant.SESSION, at, null, lost, "grace_expired"));
    events.addAll(OpenStreams.endAll(state, owner -> owner.equals(lost.id()), Participant.SESSION,
        dev.durablesessions.session.EndReason.AGENT_LOST, lost.id() + " was lost"));
    return new Decision(events, List.of());
  }

  /** After a restart or move: devices presence still counts that did not re-attach are disconnected. */
  public Decision reattachCheck(SessionState state, Collection<Attachment> attachments, Instant now) {
    List<EventAt> events = new ArrayList<>();
    List<TimerRequest> timers = new ArrayList<>();
    Instant graceUntil = now.plus(grace);
    for (Map.Entry<String, Presence> entry : state.presence().entrySet()) {
      Participant p = state.participants().get(entry.getKey());
      if (p == null) continue;
      List<String> missing = new ArrayList<>();
      for (String device : entry.getValue().devices()) {
        boolean back = attachments.stream().anyMatch(a -> a.sameDevice(new Attach(p, device, true)));
        if (!back) missing.add(device);
      }
      int remaining = entry.getValue().devices().size();
      for (String device : missing) {
        remaining--;
        Instant until = remaining == 0 ? graceUntil : null;
        if (until != null) timers.add(new TimerRequest.StartGrace(p.id(), grace));
        events.add((o, at) -> new SessionEvent.ParticipantDisconnected(o, p, at, null, p, device, "not_reattached", until));
      }
    }
    events.addAll(audienceChange(state, attachments));
    return new Decision(events, timers);
  }

  /** A receipt when the device's confirmed offset moved on and its last receipt is old enough (or it is leaving). */
  public List<EventAt> receiptIfDue(SessionState state, Attachment a, boolean leaving) {
    if (!a.attach().presence() || a.acked() < 0) return List.of();
    Participant p = a.attach().participant();
    String key = SessionState.receiptKey(p.id(), a.attach().device());
    SessionState.Receipt last = state.receipts().get(key);
    if (last != null && last.delivered() >= a.acked()) return List.of();
    if (!leaving && last != null && Duration.between(last.at(), a.ackedAt()).compareTo(receiptInterval) < 0) {
      return List.of();
    }
    long offset = a.acked();
    Instant when = a.ackedAt();
    return List.of((o, at) -> new SessionEvent.ReceiptRecorded(o, p, at, null, p, a.attach().device(), offset, when));
  }

  /** Somebody other than agents is attached: when that flips, agents are told (and coalescing relaxes). */
  public static boolean audiencePresent(Collection<Attachment> attachments) {
    return attachments.stream().anyMatch(PresenceRules::audience);
  }

  private static List<EventAt> audienceChange(SessionState state, Collection<Attachment> attachments) {
    boolean present = audiencePresent(attachments);
    if (present == state.audience()) return List.of();
    int devices = (int) attachments.stream().filter(PresenceRules::audience).count();
    return List.of((o, at) -> new SessionEvent.AudienceChanged(o, Participant.SESSION, at, null, present, devices));
  }

  private static boolean audience(Attachment a) {
    return a.attach().presence() && a.attach().participant().role() != Role.AGENT;
  }
}
