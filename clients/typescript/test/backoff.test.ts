// The reconnect and retry policies, pinned case by case (pure functions, no server).

import { test } from "node:test";
import assert from "node:assert/strict";
import { reconnectPlan, CloseCode, TOO_MANY_MIN_MS, MAX_RECONNECT_MS } from "../src/backoff.js";
import { classify } from "../src/http.js";

const low = () => 0;
const high = () => 0.999999;

test("1001 reconnects at once, with up to a second of jitter, and is no failure", () => {
  assert.deepEqual(reconnectPlan({ code: CloseCode.goingAway }, 5, low), {
    delayMs: 0,
    refresh: false,
    failure: false,
  });
  const p = reconnectPlan({ code: CloseCode.goingAway }, 5, high);
  assert.ok(p.delayMs >= 990 && p.delayMs < 1000, `${p.delayMs}`);
});

test("4001 and an HTTP 401 refresh first, then resume at once", () => {
  assert.deepEqual(reconnectPlan({ code: CloseCode.unauthorized }, 0, high), {
    delayMs: 0,
    refresh: true,
    failure: false,
  });
  assert.equal(reconnectPlan({ status: 401 }, 0, high).refresh, true);
  // A second 401 in a row counts toward the backoff.
  assert.equal(reconnectPlan({ status: 401 }, 1, high).failure, true);
});

test("4008 resumes from the cursor within a quarter second", () => {
  const p = reconnectPlan({ code: CloseCode.slowConsumer }, 3, high);
  assert.ok(p.delayMs < 250 && !p.refresh && !p.failure);
});

test("4429 and HTTP 429 back off at least 30 s, growing to 5 min, never below the floor", () => {
  for (const ended of [{ code: CloseCode.tooMany }, { status: 429 }]) {
    assert.equal(reconnectPlan(ended, 0, low).delayMs, TOO_MANY_MIN_MS);
    assert.ok(reconnectPlan(ended, 0, high).delayMs <= TOO_MANY_MIN_MS);
    assert.ok(reconnectPlan(ended, 2, high).delayMs > 100_000);
    assert.ok(reconnectPlan(ended, 20, high).delayMs <= 300_000);
    assert.equal(reconnectPlan(ended, 0, low).failure, true);
  }
  // A longer Retry-After raises the floor.
  assert.equal(reconnectPlan({ status: 429, retryAfter: 90 }, 0, low).delayMs, 90_000);
});

test("anything else is full-jitter exponential backoff capped at 30 s", () => {
  for (const code of [1006, CloseCode.serverError, CloseCode.protocolError, undefined]) {
    assert.ok(reconnectPlan({ code }, 0, high).delayMs < 500);
    assert.ok(reconnectPlan({ code }, 3, high).delayMs > 3_000);
    assert.ok(reconnectPlan({ code }, 50, high).delayMs < MAX_RECONNECT_MS);
    assert.equal(reconnectPlan({ code }, 0, low).delayMs, 100, "never a busy loop");
  }
});

test("creates carry an Idempotency-Key; login, refresh, register, password are never retried blindly", () => {
  assert.deepEqual(classify("POST", "/api/v1/sport/water"), { retry: "safe", idempotencyKey: true });
  assert.deepEqual(classify("PUT", "/api/v1/sport/goals"), { retry: "safe", idempotencyKey: false });
  assert.deepEqual(classify("DELETE", "/api/v1/sport/water/3"), { retry: "safe", idempotencyKey: false });
  for (const p of ["login", "refresh", "register", "password", "logout"]) {
    assert.deepEqual(classify("POST", `/api/v1/auth/${p}`), { retry: "never", idempotencyKey: false }, p);
  }
  // Tokens and invites are creates like any other.
  assert.equal(classify("POST", "/api/v1/auth/tokens").idempotencyKey, true);
});
