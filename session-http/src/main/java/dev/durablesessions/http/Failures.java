package dev.durablesessions.http;

import dev.durablesessions.session.ErrorCode;
import java.sql.SQLException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.pattern.CircuitBreakerOpenException;
import org.slf4j.Logger;

/**
 * What a failed request is answered with, the same for REST, sockets and Durable Streams: a
 * session or stream that did not answer in time is {@code timeout}; the journal's database
 * failing (a read of the journal, a circuit breaker open) is {@code unavailable}; both are 503
 * and retryable. Anything else is {@code internal} (500) and logged with its stack trace.
 */
public final class Failures {
  private Failures() {}

  public static ErrorCode classify(Throwable failure) {
    Throwable e = unwrap(failure);
    // Pekko's AskTimeoutException is a TimeoutException.
    if (e instanceof TimeoutException) return ErrorCode.TIMEOUT;
    for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof SQLException || c instanceof CircuitBreakerOpenException) return ErrorCode.UNAVAILABLE;
    }
    return ErrorCode.INTERNAL;
  }

  /** Classifies {@code failure} and logs it as it deserves: internal errors with their stack trace, journal failures in one line. */
  public static ErrorCode classify(Throwable failure, Logger log, String what) {
    ErrorCode code = classify(failure);
    if (code == ErrorCode.INTERNAL) log.error("{} failed", what, unwrap(failure));
    else if (code == ErrorCode.UNAVAILABLE) log.warn("{} failed, the journal is unavailable: {}", what, unwrap(failure).toString());
    return code;
  }

  /** The message that goes with {@link #classify}'s code; {@code who} is what did not answer ("the session"). */
  public static String message(ErrorCode code, String who) {
    if (code == ErrorCode.TIMEOUT) return who + " did not answer in time; retry";
    if (code == ErrorCode.UNAVAILABLE) return dev.durablesessions.persistence.JournalGuard.UNAVAILABLE;
    return "internal error";
  }

  /** A REST answer for a failed request (JSON error body). */
  public static org.apache.pekko.http.javadsl.model.HttpResponse response(Throwable failure, Logger log, String what, String who) {
    ErrorCode code = classify(failure, log, what);
    return ApiError.response(code, message(code, who));
  }

  static Throwable unwrap(Throwable failure) {
    Throwable e = failure;
    while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) e = e.getCause();
    return e;
  }
}
