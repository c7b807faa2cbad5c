// When to try again: one place for the HTTP retries and the live connection's reconnects,
// pure so the tests can pin every case.

/** A random number in [0, 1): `Math.random` unless a test passes its own. */
export type Random = () => number;

/** Exponential backoff with full jitter: a uniform delay in [0, min(cap, base·2^attempt)). */
export function fullJitter(attempt: number, baseMs: number, capMs: number, random: Random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/** Why a live connection ended, as the reconnect policy sees it. */
export interface Ended {
  /** The WebSocket close code, or the code of the server's SSE `close` event. */
  code?: number;
  /** The HTTP status when the connection was refused before it opened. */
  status?: number;
  /** `Retry-After` seconds that came with a refusal. */
  retryAfter?: number | null;
}

/** What to do after a connection ended. */
export interface Plan {
  /** Milliseconds to wait before connecting again. */
  delayMs: number;
  /** Get a new access token first (the old one expired or was revoked). */
  refresh: boolean;
  /** Count this toward the growing backoff (false: a routine end, e.g. a deploy). */
  failure: boolean;
}

/** The close codes of the sync protocol (sync.md). */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  serverError: 1011,
  unauthorized: 4001,
  slowConsumer: 4008,
  protocolError: 4400,
  tooMany: 4429,
} as const;

/** The longest wait between reconnects after errors. */
export const MAX_RECONNECT_MS = 30_000;
/** The least wait after "too many sockets": another device holds them, hammering won't help. */
export const TOO_MANY_MIN_MS = 30_000;
/** The longest wait after "too many sockets". */
export const TOO_MANY_MAX_MS = 300_000;

/**
 * The reconnect policy: 1001 (the server is restarting) reconnects at once with up to a
 * second of jitter, so a deploy does not bring every client back in the same instant;
 * 4001 refreshes the token, then resumes; 4008 (too slow) resumes from the cursor at once;
 * 4429 / HTTP 429 (too many sockets) backs off for at least 30 s, doubling, jittered, so
 * refused devices do not storm; anything else is an error: full-jitter exponential backoff
 * from half a second up to 30 s. `attempt` counts the failures since the last connection
 * that worked.
 */
export function reconnectPlan(ended: Ended, attempt: number, random: Random = Math.random): Plan {
  const { code, status } = ended;
  if (code === CloseCode.unauthorized || status === 401) {
    return { delayMs: 0, refresh: true, failure: status === 401 && attempt > 0 };
  }
  if (code === CloseCode.goingAway) {
    return { delayMs: Math.floor(random() * 1000), refresh: false, failure: false };
  }
  if (code === CloseCode.slowConsumer) {
    return { delayMs: Math.floor(random() * 250), refresh: false, failure: false };
  }
  if (code === CloseCode.tooMany || status === 429) {
    const floor = Math.max(TOO_MANY_MIN_MS, (ended.retryAfter ?? 0) * 1000);
    const grown = Math.min(TOO_MANY_MAX_MS, floor * 2 ** Math.min(attempt, 10));
    // Between half and all of it: spread, never below the floor.
    return { delayMs: Math.max(floor, Math.floor(grown * (0.5 + random() / 2))), refresh: false, failure: true };
  }
  return { delayMs: Math.max(100, fullJitter(attempt, 500, MAX_RECONNECT_MS, random)), refresh: false, failure: true };
}

/** Sleeps `ms`, or rejects with the signal's reason when it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((ok, fail) => {
    if (signal?.aborted) return fail(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      ok();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      fail(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
