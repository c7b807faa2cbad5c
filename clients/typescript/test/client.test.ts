// The client against the real server: the release binary, started here on a fresh SQLite
// file, or on PostgreSQL + Redis when TEST_DATABASE_URL / TEST_REDIS_URL are set.

import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { WebSocket as NodeWebSocket } from "ws";
import { EventSource } from "eventsource";
import {
  AyubiClient,
  AyubiError,
  createClient,
  memoryStore,
  type ChangeMessage,
  type LiveStatus,
  type LiveSync,
  type Schemas,
  type SessionStore,
} from "../src/index.js";
import { TestServer } from "../scripts/server.js";

const PASSWORD = "correct horse battery staple";

let server: TestServer;
let inviter: AyubiClient;

before(async () => {
  server = await TestServer.start({ env: { AYUBI__SYNC__MAX_SOCKETS_PER_USER: "3" } });
  inviter = createClient({ baseUrl: server.baseUrl });
  await inviter.register({ email: `inviter-${randomUUID()}@example.com`, password: PASSWORD, invite: server.invite() });
});

after(async () => {
  await server?.close();
});

/** A new account (invited through the API by the first one) and its signed-in client. */
async function account(options: Partial<Parameters<typeof createClient>[0]> = {}) {
  const { code } = await inviter.post("/api/v1/auth/invites", { body: {} });
  const email = `u-${randomUUID()}@example.com`;
  const client = createClient({ baseUrl: server.baseUrl, ...options });
  await client.register({ email, password: PASSWORD, invite: code as string });
  return { client, email };
}

/** Another device of the same account. */
async function device(email: string, options: Partial<Parameters<typeof createClient>[0]> = {}) {
  const client = createClient({ baseUrl: server.baseUrl, ...options });
  await client.login({ email, password: PASSWORD });
  return client;
}

async function until(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${server.log().slice(-1500)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Every live connection a test opened: closed after it, passed or failed. */
const opened: LiveSync[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((l) => l.close()));
});

/** Starts live sync and records what it delivers. */
function follow(live: LiveSync) {
  opened.push(live);
  const changes: ChangeMessage[] = [];
  const statuses: LiveStatus[] = [];
  const resyncs: number[] = [];
  live.on("change", (c) => changes.push(c));
  live.on("status", (s) => statuses.push(s));
  live.on("resync", (r) => resyncs.push(r.seq));
  const open = () => statuses.some((s) => s.state === "open");
  return { live, changes, statuses, resyncs, open };
}

/** A `ws` WebSocket class that remembers its sockets, so a test can cut one. */
function trackingWebSocket() {
  const sockets: NodeWebSocket[] = [];
  class Tracking extends NodeWebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      sockets.push(this);
    }
  }
  return { Tracking, sockets };
}

/** A problem+json answer the server could have sent, for a fetch that stands in front of it. */
function problem(status: number, title: string, detail: string, retryAfter: string): Response {
  return new Response(JSON.stringify({ type: "about:blank", title, status, detail }), {
    status,
    headers: { "content-type": "application/problem+json", "retry-after": retryAfter },
  });
}

/** The Request a fetch was called with. */
function asRequest(input: Parameters<typeof fetch>[0], init?: RequestInit): Request {
  return input instanceof Request ? input : new Request(input, init);
}

function assertEveryChangeOnce(changes: ChangeMessage[], expectedIds: number[]) {
  const seqs = changes.map((c) => c.seq);
  for (let i = 1; i < seqs.length; i++)
    assert.equal(seqs[i], (seqs[i - 1] as number) + 1, `seqs in order, no gap, no repeat: ${seqs}`);
  const water = changes.filter((c) => c.event === "water:added").map((c) => c.id);
  assert.deepEqual(water, expectedIds);
}

test("the README's five lines log in and read today's stats", async () => {
  const { client, email } = await account();
  await client.post("/api/v1/sport/water", { body: { ml: 750 } });
  const log: string[] = [];
  const console = { log: (line: string) => log.push(line) };
  // ---- as in README.md (the base URL and the password aside) ----
  const ayubi = createClient({ baseUrl: server.baseUrl });
  await ayubi.login({ email, password: PASSWORD });
  const today = (await ayubi.get("/api/v1/sport/stats")) as Schemas["DayStatsDto"]; // no range: one day
  console.log(`${today.water_ml} of ${today.water_goal_ml} ml`);
  // ----
  assert.deepEqual(log, ["750 of 3000 ml"]);
});

describe("auth", () => {
  test("sign-up takes an invite; a refused one is a typed 403", async () => {
    const c = createClient({ baseUrl: server.baseUrl });
    const err = await c.register({ email: `x-${randomUUID()}@example.com`, password: PASSWORD }).catch((e) => e);
    assert.ok(err instanceof AyubiError, String(err));
    assert.equal(err.status, 403);
    assert.match(err.detail, /invite/);
    assert.equal(c.session.signedIn, false);
    const email = `y-${randomUUID()}@example.com`;
    const user = await c.register({ email, password: PASSWORD, invite: server.invite() });
    assert.equal(user.email, email);
    const me = await c.get("/api/v1/auth/me");
    assert.equal(me.email, email);
  });

  test("problem+json errors are AyubiErrors with status, detail and errors by field", async () => {
    const { client } = await account();
    const err = await client.post("/api/v1/sport/water", { body: { ml: 0 } }).catch((e) => e);
    assert.ok(err instanceof AyubiError);
    assert.equal(err.status, 422);
    assert.match(err.detail, /ml/);
    assert.ok(Array.isArray(err.errors.ml) && err.errors.ml.length > 0, JSON.stringify(err.errors));
    const missing = await client
      .delete("/api/v1/sport/water/{id}", { params: { path: { id: 999_999 } } })
      .catch((e) => e);
    assert.equal(missing.status, 404);
  });

  test("logout ends the session here and on the server; login again works", async () => {
    const changes: boolean[] = [];
    const { email } = await account();
    const c = await device(email, { onSessionChange: (s) => changes.push(s) });
    const token = c.session.refreshToken as string;
    await c.logout();
    assert.equal(c.session.signedIn, false);
    assert.deepEqual(changes, [true, false]);
    const refused = await fetch(`${server.baseUrl}/api/v1/auth/refresh`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refresh_token: token }),
    });
    assert.equal(refused.status, 401, "the server ended the session");
    const err = await c.get("/api/v1/auth/me").catch((e) => e);
    assert.equal(err.status, 401);
    await c.login({ email, password: PASSWORD });
    assert.equal((await c.get("/api/v1/auth/me")).email, email);
  });

  test("a personal access token works for scripts, with no login and no refresh", async () => {
    const { client, email } = await account();
    const pat = await client.post("/api/v1/auth/tokens", { body: { name: "script" } });
    const script = createClient({ baseUrl: server.baseUrl, token: pat.token });
    assert.equal((await script.get("/api/v1/auth/me")).email, email);
    await script.post("/api/v1/sport/water", { body: { ml: 200 } });
    const stats = await script.get("/api/v1/sport/stats");
    assert.equal((stats as { water_ml: number }).water_ml, 200);
  });
});

describe("refresh", () => {
  test("20 concurrent requests with a dead access token share one refresh", async () => {
    const store = memoryStore();
    let refreshes = 0;
    const counting: typeof fetch = (input, init) => {
      const url = asRequest(input, init).url;
      if (url.endsWith("/auth/refresh")) refreshes++;
      return fetch(input, init);
    };
    const { client } = await account({ store, fetch: counting });
    // The server refuses this token: every request gets a 401 at the same time.
    store.save({ ...store.load(), access_token: "not-a-valid-token" });
    const results = await Promise.all(Array.from({ length: 20 }, () => client.get("/api/v1/sport/goals")));
    assert.equal(results.length, 20);
    for (const r of results) assert.equal(r.water_ml_per_day, 3000);
    assert.equal(refreshes, 1, "one refresh for 20 requests");
    // Expiring soon: refreshed before sending, once for all.
    store.save({ ...store.load(), refresh_at: Date.now() - 1 });
    await Promise.all(Array.from({ length: 20 }, () => client.get("/api/v1/sport/goals")));
    assert.equal(refreshes, 2);
    // Rotation honoured: the family is intact, and the client still works.
    assert.equal((await client.get("/api/v1/sport/goals")).kcal_per_day, 2200);
    assert.equal(refreshes, 2);
  });

  test("a refresh the server refuses ends the session, and is never retried", async () => {
    const store = memoryStore();
    let refreshes = 0;
    const ended: boolean[] = [];
    const counting: typeof fetch = (input, init) => {
      const url = asRequest(input, init).url;
      if (url.endsWith("/auth/refresh")) refreshes++;
      return fetch(input, init);
    };
    const { client } = await account({ store, fetch: counting, onSessionChange: (s) => ended.push(s) });
    const stale = store.load()?.refresh_token;
    // Someone replays the refresh token (rotated below): the server revokes the family.
    await client.session.refresh(store.load()?.access_token ?? null);
    await fetch(`${server.baseUrl}/api/v1/auth/refresh`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refresh_token: stale }),
    });
    store.save({ ...store.load(), access_token: "not-a-valid-token" });
    const err = await client.get("/api/v1/sport/goals").catch((e) => e);
    assert.ok(err instanceof AyubiError);
    assert.equal(err.status, 401);
    assert.equal(refreshes, 2, "the rotation, then one refused refresh");
    assert.equal(client.session.signedIn, false);
    assert.deepEqual(ended, [true, false]);
  });

  test("a refresh whose answer is lost is not retried blindly", async () => {
    let refreshes = 0;
    const lossy: typeof fetch = async (input, init) => {
      const url = asRequest(input, init).url;
      if (url.endsWith("/auth/refresh")) {
        refreshes++;
        await fetch(input, init); // done on the server, answer lost
        throw new TypeError("fetch failed");
      }
      return fetch(input, init);
    };
    const store = memoryStore();
    const { client } = await account({ store, fetch: lossy });
    store.save({ ...store.load(), refresh_at: Date.now() - 1 });
    const err = await client.get("/api/v1/sport/goals").catch((e) => e);
    assert.ok(err instanceof TypeError, String(err));
    assert.equal(refreshes, 1);
    // The same after a 401: the caller sees the lost answer, not a 401 it cannot act on.
    store.save({ ...store.load(), access_token: "dead", refresh_at: undefined });
    const after401 = await client.get("/api/v1/sport/goals").catch((e) => e);
    assert.ok(after401 instanceof TypeError, String(after401));
    assert.equal(refreshes, 2);
  });
});

describe("retries", () => {
  test("a create whose answer was lost is retried with its key: one row", async () => {
    const keys: string[] = [];
    let lost = false;
    const lossy: typeof fetch = async (input, init) => {
      const req = asRequest(input, init);
      if (req.method === "POST" && req.url.endsWith("/sport/water")) {
        keys.push(req.headers.get("idempotency-key") ?? "");
        const res = await fetch(req);
        if (!lost) {
          lost = true;
          await res.body?.cancel();
          throw new TypeError("fetch failed"); // the write happened; its answer never came
        }
        return res;
      }
      return fetch(req);
    };
    const { client } = await account({ fetch: lossy, retry: { baseMs: 10 } });
    const made = await client.post("/api/v1/sport/water", { body: { ml: 333 } });
    assert.equal(made.ml, 333);
    assert.equal(keys.length, 2);
    assert.equal(keys[0], keys[1], "the retry carries the same Idempotency-Key");
    assert.match(keys[0] as string, /^[0-9a-f-]{36}$/);
    const rows = await client.get("/api/v1/sport/water", {});
    assert.equal(rows.length, 1, JSON.stringify(rows));
    assert.equal(rows[0]?.id, made.id);
  });

  test("503 and 5xx are retried with the same key; login is never retried blindly", async () => {
    let posts = 0;
    let logins = 0;
    const flaky: typeof fetch = async (input, init) => {
      const req = asRequest(input, init);
      if (req.url.endsWith("/auth/login")) {
        logins++;
        throw new TypeError("fetch failed");
      }
      if (req.method === "POST" && req.url.endsWith("/sport/food") && posts++ < 2) {
        return problem(503, "Service Unavailable", "db down", "0");
      }
      return fetch(req);
    };
    const { client, email } = await account({ fetch: flaky, retry: { baseMs: 10 } });
    const food = await client.post("/api/v1/sport/food", { body: { name: "apple", kcal: 52 } });
    assert.equal(food.name, "apple");
    assert.equal(posts, 3);
    assert.equal((await client.get("/api/v1/sport/food", {})).length, 1);
    const err = await client.login({ email, password: PASSWORD }).catch((e) => e);
    assert.ok(err instanceof TypeError);
    assert.equal(logins, 1, "a login is not sent twice");
  });

  test("429 waits for Retry-After, then succeeds", async () => {
    let first = true;
    const limited: typeof fetch = async (input, init) => {
      const req = asRequest(input, init);
      if (first && req.url.endsWith("/sport/goals")) {
        first = false;
        return problem(429, "Too Many Requests", "slow down", "1");
      }
      return fetch(req);
    };
    const { client, email } = await account({ fetch: limited, retry: { baseMs: 1 } });
    const t0 = Date.now();
    const goals = await client.get("/api/v1/sport/goals");
    assert.ok(Date.now() - t0 >= 1000, `waited ${Date.now() - t0} ms`);
    assert.equal(goals.water_ml_per_day, 3000);
    // A login's 429 goes to the person waiting, once, with how long to wait.
    let logins = 0;
    const refusing: typeof fetch = async (input, init) => {
      logins++;
      return problem(429, "Too Many Requests", "too many requests; retry in 30s", "30");
    };
    const err = await createClient({ baseUrl: server.baseUrl, fetch: refusing })
      .login({ email, password: PASSWORD })
      .catch((e) => e);
    assert.ok(err instanceof AyubiError);
    assert.equal(err.status, 429);
    assert.equal(err.retryAfter, 30);
    assert.equal(logins, 1);
  });
});

describe("live sync", () => {
  test("a change reaches the other device's WebSocket", async () => {
    const { client, email } = await account();
    const other = await device(email);
    const f = follow(other.live());
    await until("open", f.open);
    assert.equal(f.live.transport, "websocket");
    const made = await client.post("/api/v1/sport/water", { body: { ml: 300 } });
    await until("the change", () => f.changes.some((c) => c.id === made.id));
    const change = f.changes.find((c) => c.id === made.id) as ChangeMessage;
    assert.equal(change.event, "water:added");
    assert.equal(change.entity, "sport_water");
    assert.equal((change.data as { ml: number }).ml, 300);
    assert.equal(f.live.cursor, change.seq);
    await f.live.close();
  });

  test("a connection cut mid-stream resumes from its cursor: every change once", async () => {
    const { client, email } = await account();
    const other = await device(email);
    const { Tracking, sockets } = trackingWebSocket();
    const f = follow(other.live({ WebSocket: Tracking }));
    await until("open", f.open);
    const ids: number[] = [];
    const write = (n: number) =>
      (async () => {
        for (let i = 0; i < n; i++)
          ids.push((await client.post("/api/v1/sport/water", { body: { ml: 100 + ids.length } })).id);
      })();
    // Cut while changes are in flight, twice; each cut is followed by writes only a new
    // connection can deliver.
    let writing = write(15);
    await until("10 changes", () => f.changes.length >= 10);
    sockets.at(-1)?.terminate();
    await writing;
    writing = write(15);
    await until("25 changes", () => f.changes.length >= 25);
    sockets.at(-1)?.terminate();
    await writing;
    await write(10);
    await until("all 40", () => f.changes.length >= 40);
    await new Promise((r) => setTimeout(r, 200));
    assertEveryChangeOnce(f.changes, ids);
    assert.ok(sockets.length >= 3, `reconnected after each cut (${sockets.length} sockets)`);
    await f.live.close();
  });

  for (const transport of ["websocket", "sse"] as const) {
    test(`${transport}: a server restart (1001) loses nothing, and retried creates make one row each`, async () => {
      const { client, email } = await account({ retry: { attempts: 30, baseMs: 50, capMs: 400 } });
      const other = await device(email);
      const f = follow(other.live({ transports: [transport] }));
      await until("open", f.open);
      const ids: number[] = [];
      const writing = (async () => {
        for (let i = 0; i < 30; i++) ids.push((await client.post("/api/v1/sport/water", { body: { ml: 10 + i } })).id);
      })();
      await until("10 changes", () => f.changes.length >= 10);
      await server.restart();
      await writing;
      await until("all 30", () => f.changes.length >= 30, 30_000);
      assertEveryChangeOnce(f.changes, ids);
      assert.ok(
        f.statuses.some((s) => s.state === "waiting" && s.code === 1001),
        `told 1001: ${JSON.stringify(f.statuses.filter((s) => s.state === "waiting"))}`,
      );
      const rows = await client.get("/api/v1/sport/water", {});
      assert.equal(rows.length, 30, "one row per create, retries included");
      await f.live.close();
    });
  }

  test("falls back from a WebSocket that cannot open to SSE, and from SSE to pull", async () => {
    const { client, email } = await account();
    // A WebSocket that never opens (a proxy that drops upgrades).
    class Blocked {
      readyState = 3;
      private readonly handlers: Record<string, ((e: unknown) => void)[]> = {};
      constructor() {
        setTimeout(() => {
          for (const h of this.handlers.error ?? []) h({ message: "blocked" });
          for (const h of this.handlers.close ?? []) h({ code: 1006 });
        }, 5);
      }
      send() {}
      close() {}
      addEventListener(type: string, l: (e: unknown) => void) {
        (this.handlers[type] ??= []).push(l);
      }
    }
    const toSse = follow((await device(email)).live({ WebSocket: Blocked }));
    await until("SSE open", toSse.open);
    assert.equal(toSse.live.transport, "sse");
    assert.ok(toSse.statuses.some((s) => s.state === "fallback" && s.from === "websocket" && s.to === "sse"));
    // And SSE refused too (a 404 from a proxy): pulling.
    const noEvents: typeof fetch = async (input, init) => {
      const url = asRequest(input, init).url;
      if (url.includes("/api/v1/events")) return new Response("not here", { status: 404 });
      return fetch(input, init);
    };
    const toPull = follow((await device(email, { fetch: noEvents })).live({ WebSocket: Blocked, pollIntervalMs: 100 }));
    await until("pull open", toPull.open);
    assert.equal(toPull.live.transport, "pull");
    const made = await client.post("/api/v1/sport/water", { body: { ml: 450 } });
    await until("SSE change", () => toSse.changes.some((c) => c.id === made.id));
    await until("pulled change", () => toPull.changes.some((c) => c.id === made.id));
    await toSse.live.close();
    await toPull.live.close();
  });

  test("an EventSource carries the token as ?access_token=", async () => {
    const { client, email } = await account();
    const urls: string[] = [];
    class Recording extends EventSource {
      constructor(url: string) {
        super(url);
        urls.push(url);
      }
    }
    const f = follow((await device(email)).live({ transports: ["sse"], EventSource: Recording }));
    await until("open", f.open);
    assert.match(urls[0] as string, /[?&]access_token=[^&]+/);
    const made = await client.post("/api/v1/sport/water", { body: { ml: 120 } });
    await until("the change", () => f.changes.some((c) => c.id === made.id));
    await f.live.close();
  });

  for (const transport of ["websocket", "sse", "pull"] as const) {
    test(`${transport}: a cursor the log cannot serve surfaces resync, then changes continue`, async () => {
      const { client } = await account();
      await client.post("/api/v1/sport/water", { body: { ml: 1 } });
      const f = follow(client.live({ since: 1000, transports: [transport], pollIntervalMs: 100 }));
      await until("resync", () => f.resyncs.length > 0);
      const latest = f.resyncs[0] as number;
      assert.ok(latest >= 1 && latest < 1000, `${latest}`);
      const made = await client.post("/api/v1/sport/water", { body: { ml: 2 } });
      await until("the next change", () => f.changes.some((c) => c.id === made.id));
      assert.equal(f.changes[0]?.seq, latest + 1);
      await f.live.close();
    });
  }

  test("4429: a device over the socket limit backs off 30 s or more, without a storm", async () => {
    const { client } = await account();
    const held = [client.live(), client.live(), client.live()].map(follow);
    for (const h of held) await until("open", h.open);
    const { Tracking, sockets } = trackingWebSocket();
    const extra = follow(client.live({ WebSocket: Tracking }));
    await until("refused", () => extra.statuses.some((s) => s.state === "waiting"));
    const waiting = extra.statuses.find((s) => s.state === "waiting") as Extract<LiveStatus, { state: "waiting" }>;
    assert.equal(waiting.code, 4429);
    assert.ok(waiting.delayMs >= 30_000, `${waiting.delayMs}`);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(sockets.length, 1, "no reconnect storm");
    for (const h of [...held, extra]) await h.live.close();
  });

  test("a revoked session (password changed elsewhere) closes with 4001 and surfaces unauthorized", async () => {
    const { client, email } = await account();
    const other = await device(email);
    const f = follow(other.live());
    const unauthorized: AyubiError[] = [];
    f.live.on("unauthorized", (e) => unauthorized.push(e));
    await until("open", f.open);
    await client.post("/api/v1/auth/password", { body: { current_password: PASSWORD, new_password: `${PASSWORD}!` } });
    await f.live.done;
    assert.equal(unauthorized[0]?.status, 401);
    assert.ok(f.statuses.some((s) => s.state === "closed"));
    assert.equal(other.session.signedIn, false);
  });
});

describe("token expiry", () => {
  let short: TestServer;
  before(async () => {
    short = await TestServer.start({ env: { AYUBI__AUTH__ACCESS_TOKEN_TTL_SECS: "2" } });
  });
  after(async () => {
    await short?.close();
  });

  test("4001 when the access token expires: refresh, then resume from the cursor", async () => {
    const store: SessionStore = memoryStore();
    const writer = createClient({ baseUrl: short.baseUrl });
    const email = `t-${randomUUID()}@example.com`;
    await writer.register({ email, password: PASSWORD, invite: short.invite() });
    const reader = createClient({ baseUrl: short.baseUrl, store });
    await reader.login({ email, password: PASSWORD });
    const f = follow(reader.live());
    await until("open", f.open);
    const first = await writer.post("/api/v1/sport/water", { body: { ml: 1 } });
    await until("4001", () => f.statuses.some((s) => s.state === "waiting" && s.code === 4001), 10_000);
    const second = await writer.post("/api/v1/sport/water", { body: { ml: 2 } });
    await until("both changes", () => f.changes.some((c) => c.id === second.id), 10_000);
    assert.deepEqual(
      f.changes.filter((c) => c.event === "water:added").map((c) => c.id),
      [first.id, second.id],
    );
    assert.ok(reader.session.signedIn);
    await f.live.close();
  });
});
