package dev.durablesessions.producer;

/**
 * The exactly-once rule of idempotent producers, shared by sessions and Durable Streams.
 * Within one epoch a producer numbers its writes 0, 1, 2, ... without gaps and a retry repeats
 * its number; a producer that restarts takes a higher epoch and starts again at 0, which
 * fences every older epoch. Pure: each side keeps its own record of where a producer stands
 * (a session also remembers offsets, a stream does not) and answers each verdict in its own
 * protocol.
 */
public final class ProducerRule {
  private ProducerRule() {}

  /** Where a producer stands: its epoch and the last sequence accepted in it. */
  public record Position(long epoch, long lastSeq) {}

  /** What to do with one incoming (epoch, seq). */
  public sealed interface Verdict {}

  /** The sequence that comes next (0 for a new producer or a new epoch): accept it. */
  public record Next() implements Verdict {}

  /** At or below the last accepted sequence of the current epoch: a retry of something already accepted. */
  public record Repeat(long epoch, long lastSeq) implements Verdict {}

  /** An epoch older than the producer's {@code currentEpoch}: that incarnation is fenced. */
  public record Fenced(long currentEpoch) implements Verdict {}

  /** A newer epoch that does not start at sequence 0. */
  public record NewEpochNotAtZero() implements Verdict {}

  /** Sequences were skipped: {@code expected} had to come before {@code received}. */
  public record Gap(long expected, long received) implements Verdict {}

  private static final Next NEXT = new Next();
  private static final NewEpochNotAtZero NEW_EPOCH_NOT_AT_ZERO = new NewEpochNotAtZero();

  /** The verdict for ({@code epoch}, {@code seq}) from a producer at {@code known}, or null for one never seen. */
  public static Verdict check(Position known, long epoch, long seq) {
    if (known == null) return seq == 0 ? NEXT : new Gap(0, seq);
    if (epoch < known.epoch()) return new Fenced(known.epoch());
    if (epoch > known.epoch()) return seq == 0 ? NEXT : NEW_EPOCH_NOT_AT_ZERO;
    if (seq <= known.lastSeq()) return new Repeat(known.epoch(), known.lastSeq());
    if (seq == known.lastSeq() + 1) return NEXT;
    return new Gap(known.lastSeq() + 1, seq);
  }
}
