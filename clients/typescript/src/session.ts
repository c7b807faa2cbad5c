// The signed-in state: the token pair, one refresh at a time, rotation honoured.

import { AyubiError, retryAfter } from "./errors.js";
import { sleep } from "./backoff.js";

/** What a signed-in client keeps. `device_token` outlives a logout (it lets this device
 * log in while the account is locked after failed attempts elsewhere). */
export interface StoredSession {
  access_token?: string;
  refresh_token?: string;
  /** When the access token expires, ms since the epoch. */
  expires_at?: number;
  /** When to refresh it before sending (a little before `expires_at`), ms since the epoch. */
  refresh_at?: number;
  device_token?: string;
}

/** Where the session lives: memory by default, `localStorage` in a browser. */
export interface SessionStore {
  load(): StoredSession | null;
  save(session: StoredSession | null): void;
}

/** A store in memory (lost when the process ends). */
export function memoryStore(initial: StoredSession | null = null): SessionStore {
  let value = initial;
  return { load: () => value, save: (s) => void (value = s) };
}

/** A store in `localStorage` under `key`: shared by the tabs of one origin. */
export function localStorageStore(key = "ayubi.session", storage: Storage = globalThis.localStorage): SessionStore {
  return {
    load() {
      const raw = storage.getItem(key);
      if (!raw) return null;
      try {
        return JSON.parse(raw) as StoredSession;
      } catch {
        return null;
      }
    },
    save(s) {
      if (s === null) storage.removeItem(key);
      else storage.setItem(key, JSON.stringify(s));
    },
  };
}

/** The token pair the auth endpoints answer with. */
export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
}

/** Refresh this long before the access token expires (at most a quarter of its lifetime),
 * so requests do not race its end. */
export const REFRESH_SKEW_MS = 30_000;

/** The Web Locks API where there is one (browsers): tabs then refresh one at a time. */
interface Locks {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

export class Session {
  private refreshing: Promise<string> | null = null;
  private readonly listeners = new Set<(signedIn: boolean) => void>();

  constructor(
    private readonly baseUrl: string,
    private readonly fetchImpl: typeof fetch,
    private readonly store: SessionStore,
    /** A personal access token: used as it is, never refreshed. */
    private readonly staticToken: string | null,
    private readonly locks: Locks | null,
    private readonly now: () => number = Date.now,
  ) {}

  /** Called with `false` when the session ends (logout, or a refresh the server refused). */
  onChange(listener: (signedIn: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get signedIn(): boolean {
    return this.staticToken !== null || Boolean(this.store.load()?.refresh_token);
  }

  get deviceToken(): string | undefined {
    return this.store.load()?.device_token;
  }

  /** Stores a pair the server just issued (login, register, refresh, password change). */
  accept(pair: TokenPair, deviceToken?: string): void {
    const before = this.store.load();
    this.store.save({
      access_token: pair.access_token,
      refresh_token: pair.refresh_token,
      expires_at: this.now() + pair.expires_in * 1000,
      refresh_at: this.now() + Math.max(pair.expires_in * 1000 - REFRESH_SKEW_MS, pair.expires_in * 750),
      device_token: deviceToken ?? before?.device_token,
    });
    if (!before?.refresh_token) this.emit(true);
  }

  /** Forgets the pair (keeps the device token). */
  clear(): void {
    const before = this.store.load();
    this.store.save(before?.device_token ? { device_token: before.device_token } : null);
    if (before?.refresh_token) this.emit(false);
  }

  /** The refresh token, for logout. */
  get refreshToken(): string | undefined {
    return this.store.load()?.refresh_token;
  }

  /**
   * An access token to send now: the personal access token, else the stored one,
   * refreshed first when it is about to expire. `null` when signed out.
   */
  async accessToken(): Promise<string | null> {
    if (this.staticToken !== null) return this.staticToken;
    const s = this.store.load();
    if (!s?.access_token || !s.refresh_token) return null;
    if (this.due(s)) {
      return this.refresh(s.access_token);
    }
    return s.access_token;
  }

  /**
   * A new access token after `stale` was refused. One refresh runs at a time: concurrent
   * callers wait for it, and a caller whose `stale` token was already replaced gets the
   * new one without refreshing again (the old refresh token is dead after rotation, and
   * sending it again would revoke the whole session family).
   */
  refresh(stale: string | null): Promise<string> {
    if (this.staticToken !== null) {
      return Promise.reject(new AyubiError(401, null));
    }
    const current = this.store.load();
    if (current?.access_token && stale !== null && current.access_token !== stale) {
      return Promise.resolve(current.access_token);
    }
    if (!this.refreshing) {
      const run = () => this.rotate(stale);
      const task = this.locks ? this.locks.request(`ayubi-refresh ${this.baseUrl}`, run) : run();
      this.refreshing = task.finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  private async rotate(stale: string | null): Promise<string> {
    // Read again inside the lock: another tab may have rotated while this one waited.
    const s = this.store.load();
    if (!s?.refresh_token) throw new AyubiError(401, null);
    if (s.access_token && stale !== null && s.access_token !== stale && !this.due(s)) {
      return s.access_token;
    }
    // Never retried blindly: a refresh whose answer was lost may have rotated the token,
    // and replaying the old one revokes the family. Only a 429 (not processed) is retried.
    for (let attempt = 0; ; attempt++) {
      const res = await this.fetchImpl(`${this.baseUrl}/api/v1/auth/refresh`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ refresh_token: s.refresh_token }),
      });
      if (res.status === 429 && attempt < 2) {
        await sleep(Math.min(60, retryAfter(res) ?? 1) * 1000);
        continue;
      }
      if (!res.ok) {
        const error = await AyubiError.from(res);
        if (res.status === 401) this.clear();
        throw error;
      }
      const pair = (await res.json()) as TokenPair;
      this.accept(pair);
      return pair.access_token;
    }
  }

  private due(s: StoredSession): boolean {
    const at = s.refresh_at ?? (s.expires_at === undefined ? undefined : s.expires_at - REFRESH_SKEW_MS);
    return at !== undefined && this.now() >= at;
  }

  private emit(signedIn: boolean): void {
    for (const l of this.listeners) {
      try {
        l(signedIn);
      } catch {
        // a listener's failure is its own
      }
    }
  }
}
