/**
 * The reconnect policy: capped exponential backoff with full jitter. Pure, so it is tested
 * without a socket.
 */
export interface BackoffPolicy {
  /** The ceiling of the first retry's delay (ms). */
  initialDelayMs: number;
  /** The ceiling never grows past this (ms). */
  maxDelayMs: number;
  /** Growth of the ceiling per failed attempt. */
  multiplier: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialDelayMs: 250, maxDelayMs: 10_000, multiplier: 2 };

/**
 * The delay before retry number `attempt` (0 for the first retry after a good connection):
 * a uniform draw in [0, min(maxDelayMs, initialDelayMs * multiplier^attempt)] ("full jitter"),
 * so that many clients cut off at once do not come back in step.
 * `random` returns a number in [0, 1), like Math.random.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * Math.pow(policy.multiplier, Math.max(0, attempt)));
  return Math.floor(random() * ceiling);
}
