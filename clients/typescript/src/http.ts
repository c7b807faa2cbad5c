// The fetch every request goes through: the bearer token, one refresh on 401, and retries
// that cannot duplicate a write.

import { fullJitter, sleep, type Random } from "./backoff.js";
import { AyubiError, retryAfter } from "./errors.js";
import type { Session } from "./session.js";

export interface RetryOptions {
  /** Attempts in all, the first included (default 4). */
  attempts?: number;
  /** Backoff base and cap in ms (default 250 and 8000), full jitter. */
  baseMs?: number;
  capMs?: number;
  /** The longest `Retry-After` honoured by waiting; a longer one is returned to the caller (default 60 s). */
  maxRetryAfterSecs?: number;
}

/** How a request may be retried. */
export type RetryClass =
  /** GET, PUT, DELETE, and creates carrying an `Idempotency-Key`: any failure may be retried. */
  | "safe"
  /** login, refresh, register, password change, logout: never sent twice by the client
   * (a 429 is returned with its `retryAfter`: a person is waiting, and decides). */
  | "never";

const AUTH_PATH = /\/api\/v1\/auth\/(login|register|refresh|password|logout)$/;
const NO_BEARER = /\/api\/v1\/auth\/(login|register|refresh)$/;

/** The retry class of a request, and whether it gets an `Idempotency-Key`. */
export function classify(method: string, pathname: string): { retry: RetryClass; idempotencyKey: boolean } {
  if (AUTH_PATH.test(pathname)) return { retry: "never", idempotencyKey: false };
  if (method === "POST") return { retry: "safe", idempotencyKey: true };
  return { retry: "safe", idempotencyKey: false };
}

/** A network failure: no answer arrived (the request may or may not have been done). */
function isNetworkError(e: unknown): boolean {
  // fetch rejects with a TypeError for every network failure (browsers and undici alike).
  return e instanceof TypeError;
}

export interface HttpDeps {
  fetch: typeof fetch;
  session: Session;
  retry: Required<RetryOptions>;
  random: Random;
  newKey: () => string;
}

/**
 * Sends `request` with the session's token. Retries (with the same `Idempotency-Key`, so
 * a create that was done but whose answer was lost is replayed, not repeated): network
 * errors, 5xx and 429 (after its `Retry-After`) for "safe" requests. A 401 refreshes
 * the session once (concurrent 401s share that refresh) and sends the request again.
 * Answers are returned, errors included: the caller turns them into `AyubiError`s.
 */
export async function send(deps: HttpDeps, request: Request): Promise<Response> {
  const url = new URL(request.url);
  const method = request.method.toUpperCase();
  const { retry, idempotencyKey } = classify(method, url.pathname);
  const headers = new Headers(request.headers);
  if (idempotencyKey && !headers.has("idempotency-key")) headers.set("idempotency-key", deps.newKey());
  const body = request.body === null ? undefined : await request.arrayBuffer();
  const bearer = !NO_BEARER.test(url.pathname) && !headers.has("authorization");
  const signal = request.signal;
  let refreshed = false;

  for (let attempt = 1; ; attempt++) {
    let token: string | null = null;
    if (bearer) {
      token = await deps.session.accessToken();
      if (token !== null) headers.set("authorization", `Bearer ${token}`);
    }
    let response: Response;
    try {
      response = await deps.fetch(new Request(url, { method, headers, body, signal, redirect: request.redirect }));
    } catch (e) {
      if (signal.aborted || retry === "never" || attempt >= deps.retry.attempts || !isNetworkError(e)) throw e;
      await sleep(backoff(deps, attempt), signal);
      continue;
    }
    if (response.status === 401 && token !== null && bearer && !refreshed && deps.session.signedIn) {
      // Rejected before it was processed: sending it again after a refresh is safe for
      // every request. A refresh the server refuses ends the session; the 401 stands. A
      // refresh that failed otherwise (no answer, 429) is that failure, not a 401.
      refreshed = true;
      try {
        await deps.session.refresh(token);
      } catch (e) {
        if (e instanceof AyubiError && e.status === 401) return response;
        throw e;
      }
      attempt--;
      continue;
    }
    const wait = retryAfter(response);
    // 501 and 507 (the database is full) will not change by asking again.
    const retryable =
      retry === "safe" &&
      (response.status === 429 || (response.status >= 500 && response.status !== 501 && response.status !== 507));
    if (!retryable || attempt >= deps.retry.attempts) return response;
    if (wait !== null && wait > deps.retry.maxRetryAfterSecs) return response;
    const delay = Math.max(backoff(deps, attempt), (wait ?? 0) * 1000);
    await response.body?.cancel().catch(() => undefined);
    await sleep(delay, signal);
  }
}

function backoff(deps: HttpDeps, attempt: number): number {
  return fullJitter(attempt - 1, deps.retry.baseMs, deps.retry.capMs, deps.random);
}
