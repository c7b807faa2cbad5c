// Live sync: the change log followed over a WebSocket, Server-Sent Events or polling,
// resuming from the last `seq` applied, so every change arrives once, in order.

import { createParser } from "eventsource-parser";
import { reconnectPlan, sleep, fullJitter, type Ended, type Random } from "./backoff.js";
import { AyubiError, retryAfter } from "./errors.js";
import type { Session } from "./session.js";

/** One change of the user's log, as every transport delivers it. */
export interface ChangeMessage {
  type: "change";
  /** Per-user sequence number: strictly increasing, no gaps. */
  seq: number;
  /** `<entity>:<verb>`, e.g. `water:added`. */
  event: string;
  /** The table, e.g. `sport_water`. */
  entity: string;
  /** The resource's id: a number, or a key (a country code, a date). */
  id: number | string;
  /** The resource as the REST API returns it (`{id}` for a delete). */
  data: unknown;
  /** When it happened (RFC 3339). */
  at: string;
}

export type Transport = "websocket" | "sse" | "pull";

/** What `new WebSocket(url, protocols)` gives, in browsers and from the `ws` package. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: string, listener: (event: any) => void): void;
}
export type WebSocketCtor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** What `new EventSource(url)` gives. */
export interface EventSourceLike {
  close(): void;
  addEventListener(type: string, listener: (event: any) => void): void;
}
export type EventSourceCtor = new (url: string) => EventSourceLike;

export interface LiveOptions {
  /** The last `seq` the app has applied (default 0: everything the server still keeps). */
  since?: number;
  /** Transports to try, in order (default websocket, then sse, then pull). */
  transports?: Transport[];
  /** The WebSocket class: default the global one, else the `ws` package (Node 20 has none). */
  WebSocket?: WebSocketCtor;
  /**
   * An `EventSource` class: SSE then goes through it, with the token as `?access_token=`
   * (an EventSource cannot set headers). Default: SSE is read with `fetch`, the token in
   * the `Authorization` header and the cursor in `Last-Event-ID`.
   */
  EventSource?: EventSourceCtor;
  /** Pull: how often to ask when there is nothing new (default 5000 ms). */
  pollIntervalMs?: number;
  /** Heartbeat: the client pings this often; silence for twice as long is a dead link (default 25000 ms). */
  heartbeatMs?: number;
  /** Failed attempts to open a transport before the next one is tried (default 2). */
  failuresBeforeFallback?: number;
}

export type LiveStatus =
  | { state: "connecting"; transport: Transport }
  | { state: "open"; transport: Transport }
  | { state: "waiting"; transport: Transport; delayMs: number; code?: number; status?: number }
  | { state: "fallback"; from: Transport; to: Transport }
  | { state: "closed" };

export interface LiveEvents {
  /** A change, once, in `seq` order. */
  change: ChangeMessage;
  /**
   * The app's copy cannot be caught up from the log (the cursor is older than what the
   * server keeps, or ahead of it after a restore): refetch everything. Changes continue
   * after `seq`.
   */
  resync: { seq: number };
  status: LiveStatus;
  /** The session ended (a refresh was refused): sign in again, then start a new `live()`. */
  unauthorized: AyubiError;
  /** Something went wrong that the connection recovers from by itself (for logs). */
  error: unknown;
}

interface Connection extends Ended {
  opened: boolean;
  /** Delivered something, or stayed open a while: the backoff starts over. */
  healthy: boolean;
}

export interface LiveDeps {
  baseUrl: string;
  session: Session;
  /** The plain fetch (streams). */
  fetch: typeof fetch;
  /** The client's fetch (token, refresh, retries): for pulling. */
  get: (path: string) => Promise<Response>;
  random: Random;
}

const HEALTHY_AFTER_MS = 10_000;

/** A connection counts as having worked when it delivered something or stayed up a while. */
function healthy(opened: boolean, received: number, started: number): boolean {
  return opened && (received > 0 || Date.now() - started >= HEALTHY_AFTER_MS);
}

/** A live connection to the change log. Started by `client.live()`; `close()` ends it. */
export class LiveSync {
  private seq: number;
  private stopped = false;
  private readonly abort = new AbortController();
  private readonly listeners = new Map<keyof LiveEvents, Set<(v: never) => void>>();
  private current: Transport | null = null;
  /** Resolves when the connection has stopped for good (`close()`, or the session ended). */
  readonly done: Promise<void>;

  constructor(
    private readonly deps: LiveDeps,
    private readonly options: LiveOptions = {},
  ) {
    this.seq = options.since ?? 0;
    this.done = Promise.resolve().then(() => this.run());
  }

  /** The last `seq` delivered: persist it to resume from it next time (`since`). */
  get cursor(): number {
    return this.seq;
  }

  /** The transport in use (null before the first connection). */
  get transport(): Transport | null {
    return this.current;
  }

  on<K extends keyof LiveEvents>(event: K, listener: (value: LiveEvents[K]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    const l = listener as (v: never) => void;
    set.add(l);
    return () => set.delete(l);
  }

  /** Ends the connection; no more events. */
  close(): Promise<void> {
    this.stopped = true;
    this.abort.abort(new Error("closed"));
    return this.done;
  }

  private emit<K extends keyof LiveEvents>(event: K, value: LiveEvents[K]): void {
    for (const l of this.listeners.get(event) ?? []) {
      try {
        (l as (v: LiveEvents[K]) => void)(value);
      } catch (e) {
        if (event !== "error") this.emit("error", e);
      }
    }
  }

  /** Applies a change once: anything at or below the cursor was delivered already. */
  private deliver(message: ChangeMessage): boolean {
    if (message.seq <= this.seq) return false;
    this.seq = message.seq;
    this.emit("change", message);
    return true;
  }

  private resync(seq: number): void {
    this.seq = seq;
    this.emit("resync", { seq });
  }

  /**
   * One Server-Sent Event, however it was read: `change` and `resync_required` count as
   * received; `close` carries the close code the socket would have sent.
   */
  private sseEvent(event: string | undefined, data: string, ended: { received: number; code?: number }): void {
    if (event === "change") {
      ended.received++;
      this.deliver(JSON.parse(data) as ChangeMessage);
    } else if (event === "resync_required") {
      ended.received++;
      this.resync((JSON.parse(data) as { seq: number }).seq);
    } else if (event === "close") {
      ended.code = (JSON.parse(data) as { code: number }).code;
    }
  }

  private async run(): Promise<void> {
    const transports = await this.available();
    const fallbackAfter = this.options.failuresBeforeFallback ?? 2;
    let index = 0;
    let attempt = 0;
    let failedOpens = 0;
    while (!this.stopped) {
      const transport = transports[index];
      if (transport === undefined) break;
      this.current = transport;
      let token: string | null;
      try {
        token = await this.deps.session.accessToken();
      } catch (e) {
        if (this.endedBy(e)) break;
        token = null;
      }
      if (token === null && !this.stopped) {
        if (!this.deps.session.signedIn) {
          this.emit("unauthorized", new AyubiError(401, null));
          break;
        }
        await sleep(fullJitter(attempt++, 500, 30_000, this.deps.random), this.abort.signal).catch(() => undefined);
        continue;
      }
      this.emit("status", { state: "connecting", transport });
      let ended: Connection;
      try {
        ended = await this.connect(transport, token as string);
      } catch (e) {
        if (this.stopped) break;
        this.emit("error", e);
        ended = { opened: false, healthy: false };
      }
      if (this.stopped) break;
      if (ended.opened) {
        failedOpens = 0;
        if (ended.healthy) attempt = 0;
      } else if (
        ended.status !== 401 &&
        ended.status !== 429 &&
        ++failedOpens >= fallbackAfter &&
        index + 1 < transports.length
      ) {
        const to = transports[index + 1] as Transport;
        this.emit("status", { state: "fallback", from: transport, to });
        index++;
        failedOpens = 0;
        continue;
      }
      const plan = reconnectPlan(ended, attempt, this.deps.random);
      if (plan.failure) attempt++;
      if (plan.refresh) {
        try {
          await this.deps.session.refresh(token);
        } catch (e) {
          if (this.endedBy(e)) break;
          this.emit("error", e);
          plan.delayMs = Math.max(plan.delayMs, fullJitter(attempt++, 500, 30_000, this.deps.random));
        }
      }
      this.emit("status", {
        state: "waiting",
        transport,
        delayMs: plan.delayMs,
        code: ended.code,
        status: ended.status,
      });
      await sleep(plan.delayMs, this.abort.signal).catch(() => undefined);
    }
    this.stopped = true;
    this.emit("status", { state: "closed" });
  }

  /** A refusal that ends live sync: the session is over. */
  private endedBy(e: unknown): boolean {
    if (e instanceof AyubiError && e.status === 401) {
      this.emit("unauthorized", e);
      return true;
    }
    return this.stopped;
  }

  private wsCtor: WebSocketCtor | null = null;

  private async available(): Promise<Transport[]> {
    const wanted = this.options.transports ?? ["websocket", "sse", "pull"];
    if (wanted.includes("websocket")) {
      this.wsCtor = this.options.WebSocket ?? (await defaultWebSocket());
      if (this.wsCtor === null)
        this.emit("error", new Error("no WebSocket here (in Node 20: npm install ws); using the next transport"));
    }
    return wanted.filter((t) => t !== "websocket" || this.wsCtor !== null);
  }

  private connect(transport: Transport, token: string): Promise<Connection> {
    switch (transport) {
      case "websocket":
        return this.websocket(token);
      case "sse":
        return this.options.EventSource ? this.eventSource(this.options.EventSource, token) : this.sse(token);
      case "pull":
        return this.pull();
    }
  }

  private websocket(token: string): Promise<Connection> {
    const Ctor = this.wsCtor as WebSocketCtor;
    const url = new URL(`${this.deps.baseUrl}/api/v1/ws/sync`);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("since", String(this.seq));
    const heartbeat = this.options.heartbeatMs ?? 25_000;
    return new Promise((resolve) => {
      // The token rides in the subprotocols (`bearer, <token>`): a browser cannot set
      // headers on a WebSocket, and the query string would land in access logs.
      const ws = new Ctor(url.toString(), ["bearer", token]);
      const started = Date.now();
      let opened = false;
      let received = 0;
      let heard = Date.now();
      let status: number | undefined;
      let settled = false;
      const finish = (code?: number) => {
        if (settled) return;
        settled = true;
        clearInterval(timer);
        this.abort.signal.removeEventListener("abort", onAbort);
        resolve({ opened, healthy: healthy(opened, received, started), code, status });
      };
      const timer = setInterval(() => {
        if (!opened) return;
        if (Date.now() - heard > 2 * heartbeat) {
          // The link is dead (a sleeping phone, a dropped NAT entry): don't wait for TCP.
          const w = ws as WebSocketLike & { terminate?: () => void };
          if (w.terminate) w.terminate();
          else w.close();
          finish(1006);
          return;
        }
        try {
          ws.send('{"type":"ping"}');
        } catch {
          // closing anyway
        }
      }, heartbeat);
      const onAbort = () => {
        ws.close(1000);
        finish(1000);
      };
      this.abort.signal.addEventListener("abort", onAbort, { once: true });
      ws.addEventListener("open", () => {
        opened = true;
        heard = Date.now();
        this.emit("status", { state: "open", transport: "websocket" });
      });
      ws.addEventListener("message", (event: { data: unknown }) => {
        heard = Date.now();
        if (typeof event.data !== "string") return;
        let msg: { type?: string; seq?: number };
        try {
          msg = JSON.parse(event.data);
        } catch (e) {
          this.emit("error", e);
          return;
        }
        if (msg.type === "change") {
          received++;
          this.deliver(msg as ChangeMessage);
        } else if (msg.type === "resync_required" && typeof msg.seq === "number") {
          received++;
          this.resync(msg.seq);
        }
      });
      ws.addEventListener("error", (event: { message?: string; error?: { message?: string } }) => {
        // The `ws` package says why a handshake failed; browsers never do.
        const text = event?.message ?? event?.error?.message ?? "";
        const m = /Unexpected server response: (\d{3})/.exec(text);
        if (m) status = Number(m[1]);
      });
      ws.addEventListener("close", (event: { code?: number }) => finish(event.code));
    });
  }

  private async sse(token: string): Promise<Connection> {
    const heartbeat = this.options.heartbeatMs ?? 25_000;
    const ctl = new AbortController();
    const onAbort = () => ctl.abort();
    this.abort.signal.addEventListener("abort", onAbort, { once: true });
    let opened = false;
    const seen: { received: number; code?: number } = { received: 0 };
    const started = Date.now();
    let heard = Date.now();
    const timer = setInterval(
      () => {
        if (Date.now() - heard > 2 * heartbeat + 5_000) ctl.abort();
      },
      Math.min(heartbeat, 5_000),
    );
    try {
      const res = await this.deps.fetch(`${this.deps.baseUrl}/api/v1/events`, {
        headers: { accept: "text/event-stream", authorization: `Bearer ${token}`, "last-event-id": String(this.seq) },
        signal: ctl.signal,
      });
      if (!res.ok || !res.body) {
        await res.body?.cancel().catch(() => undefined);
        return { opened, healthy: false, status: res.status, retryAfter: retryAfter(res) };
      }
      opened = true;
      this.emit("status", { state: "open", transport: "sse" });
      const parser = createParser({ onEvent: (e) => this.sseEvent(e.event, e.data, seen) });
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        heard = Date.now();
        parser.feed(value);
      }
    } catch (e) {
      if (!this.stopped && !ctl.signal.aborted) this.emit("error", e);
    } finally {
      clearInterval(timer);
      this.abort.signal.removeEventListener("abort", onAbort);
    }
    return { opened, healthy: healthy(opened, seen.received, started), code: seen.code };
  }

  private eventSource(Ctor: EventSourceCtor, token: string): Promise<Connection> {
    const url = new URL(`${this.deps.baseUrl}/api/v1/events`);
    url.searchParams.set("since", String(this.seq));
    url.searchParams.set("access_token", token);
    return new Promise((resolve) => {
      const es = new Ctor(url.toString());
      const started = Date.now();
      let opened = false;
      const seen: { received: number; code?: number } = { received: 0 };
      let status: number | undefined;
      const finish = () => {
        // Our own reconnect (fresh token, `since` = the cursor), not EventSource's.
        es.close();
        this.abort.signal.removeEventListener("abort", finish);
        resolve({ opened, healthy: healthy(opened, seen.received, started), code: seen.code, status });
      };
      this.abort.signal.addEventListener("abort", finish, { once: true });
      es.addEventListener("open", () => {
        opened = true;
        this.emit("status", { state: "open", transport: "sse" });
      });
      for (const name of ["change", "resync_required", "close"]) {
        es.addEventListener(name, (e: { data: string }) => this.sseEvent(name, e.data, seen));
      }
      es.addEventListener("error", (e: { code?: number; status?: number }) => {
        status = e?.code ?? e?.status;
        if (typeof status !== "number" || status < 100) status = undefined;
        finish();
      });
    });
  }

  private async pull(): Promise<Connection> {
    const interval = this.options.pollIntervalMs ?? 5_000;
    const limit = 500;
    let opened = false;
    let received = 0;
    try {
      while (!this.stopped) {
        const res = await this.deps.get(`/api/v1/sync/changes?since=${this.seq}&limit=${limit}`);
        if (res.status === 410) {
          const problem = (await res.json()) as { seq?: number };
          if (typeof problem.seq !== "number") return { opened, healthy: false, status: 410 };
          received++;
          this.resync(problem.seq);
          continue;
        }
        if (!res.ok) {
          await res.body?.cancel().catch(() => undefined);
          return { opened, healthy: received > 0, status: res.status, retryAfter: retryAfter(res) };
        }
        if (!opened) {
          opened = true;
          this.emit("status", { state: "open", transport: "pull" });
        }
        const page = (await res.json()) as { changes: ChangeMessage[] };
        for (const change of page.changes) {
          received++;
          this.deliver(change);
        }
        if (page.changes.length < limit) await sleep(interval, this.abort.signal);
      }
    } catch (e) {
      if (!this.stopped) this.emit("error", e);
    }
    return { opened, healthy: received > 0 };
  }
}

async function defaultWebSocket(): Promise<WebSocketCtor | null> {
  const global = (globalThis as { WebSocket?: WebSocketCtor }).WebSocket;
  if (typeof global === "function") return global;
  try {
    // A name in a variable: bundlers leave it alone (browsers have a global WebSocket).
    const name = "ws";
    const m = (await import(/* @vite-ignore */ name)) as { WebSocket?: WebSocketCtor; default?: WebSocketCtor };
    return m.WebSocket ?? m.default ?? null;
  } catch {
    return null;
  }
}
