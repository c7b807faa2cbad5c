// The client: typed requests (openapi-fetch over the generated `paths`), the session, live sync.

import createFetchClient, { type Client, type FetchResponse, type MaybeOptionalInit } from "openapi-fetch";
import type { HttpMethod, MediaType, PathsWithMethod } from "openapi-typescript-helpers";
import { AyubiError } from "./errors.js";
import { send, type HttpDeps, type RetryOptions } from "./http.js";
import { LiveSync, type LiveOptions } from "./live.js";
import { Session, memoryStore, type SessionStore, type TokenPair } from "./session.js";
import type { components, paths } from "./schema.js";

export type Schemas = components["schemas"];
export type User = Schemas["UserDto"];

export interface ClientOptions {
  /** Where the server is, e.g. `https://ayubi.example.com` (no `/api/v1`). */
  baseUrl: string;
  /** A personal access token (scripts): sent as it is, never refreshed; no login needed. */
  token?: string;
  /** Where the session is kept (default: memory; in a browser, `localStorageStore()`). */
  store?: SessionStore;
  /** The fetch to use (default the global one). */
  fetch?: typeof fetch;
  retry?: RetryOptions;
  /** Called when the session starts (`true`) or ends (`false`, e.g. a refresh refused). */
  onSessionChange?: (signedIn: boolean) => void;
  /** For tests: the random source of every jitter. */
  random?: () => number;
}

// openapi-fetch's argument type: the init is optional when nothing in it is required.
type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];
type InitParam<Init> =
  RequiredKeys<Init> extends never ? [(Init & { [key: string]: unknown })?] : [Init & { [key: string]: unknown }];
type Ok<T extends Record<string | number, any>, Init> = NonNullable<FetchResponse<T, Init, MediaType>["data"]>;
type Method<M extends HttpMethod> = <P extends PathsWithMethod<paths, M>, I extends MaybeOptionalInit<paths[P], M>>(
  path: P,
  ...init: InitParam<I>
) => Promise<Ok<Extract<paths[P][M], Record<string | number, any>>, I>>;

export interface LoginInput {
  email: string;
  password: string;
}
export interface RegisterInput extends LoginInput {
  display_name?: string;
  invite?: string;
}

/** The Ayubi API client. */
export class AyubiClient {
  /** The raw openapi-fetch client: `{data, error, response}` results, for when the status matters. */
  readonly api: Client<paths, MediaType>;
  readonly session: Session;
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly random: () => number;
  private readonly lives = new Set<LiveSync>();
  private readonly deps: HttpDeps;

  /** Typed GET: the body of a 2xx answer; any other answer throws an {@link AyubiError}. */
  readonly get: Method<"get">;
  /** Typed POST (a create carries an `Idempotency-Key`, kept across retries). */
  readonly post: Method<"post">;
  /** Typed PUT. */
  readonly put: Method<"put">;
  /** Typed DELETE. */
  readonly delete: Method<"delete">;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.random = options.random ?? Math.random;
    const locks =
      (globalThis as { navigator?: { locks?: ConstructorParameters<typeof Session>[4] } }).navigator?.locks ?? null;
    this.session = new Session(
      this.baseUrl,
      this.fetchImpl,
      options.store ?? memoryStore(),
      options.token ?? null,
      locks,
    );
    if (options.onSessionChange) this.session.onChange(options.onSessionChange);
    this.session.onChange((signedIn) => {
      if (!signedIn) for (const live of this.lives) void live.close();
    });
    const deps: HttpDeps = {
      fetch: this.fetchImpl,
      session: this.session,
      retry: { attempts: 4, baseMs: 250, capMs: 8000, maxRetryAfterSecs: 60, ...options.retry },
      random: this.random,
      newKey: () => crypto.randomUUID(),
    };
    this.deps = deps;
    this.api = createFetchClient<paths, MediaType>({ baseUrl: this.baseUrl, fetch: (request) => send(deps, request) });
    this.get = this.unwrapping("GET") as Method<"get">;
    this.post = this.unwrapping("POST") as Method<"post">;
    this.put = this.unwrapping("PUT") as Method<"put">;
    this.delete = this.unwrapping("DELETE") as Method<"delete">;
  }

  private unwrapping(method: "GET" | "POST" | "PUT" | "DELETE") {
    return async (path: string, init?: Record<string, unknown>) => {
      const call = this.api[method] as (
        p: string,
        i?: unknown,
      ) => Promise<{ data?: unknown; error?: unknown; response: Response }>;
      const { data, error, response } = await call(path, init);
      if (!response.ok) throw await AyubiError.from(response, error);
      return data;
    };
  }

  /** Signs in; the session then refreshes itself. */
  async login(input: LoginInput): Promise<User> {
    const device_token = this.session.deviceToken;
    const body = { ...input, ...(device_token ? { device_token } : {}) };
    const r = (await this.post("/api/v1/auth/login", { body })) as TokenPair & { user: User; device_token: string };
    this.session.accept(r, r.device_token);
    return r.user;
  }

  /** Makes an account (`invite`: a sign-up code, when the server takes sign-ups by invite) and signs in. */
  async register(input: RegisterInput): Promise<User> {
    const r = (await this.post("/api/v1/auth/register", { body: input })) as TokenPair & { user: User };
    this.session.accept(r);
    return r.user;
  }

  /** Ends this session on the server and here; live connections close. */
  async logout(): Promise<void> {
    const refresh_token = this.session.refreshToken;
    try {
      if (refresh_token) await this.post("/api/v1/auth/logout", { body: { refresh_token } });
    } finally {
      this.session.clear();
    }
  }

  /** Follows the change log live (WebSocket → SSE → pull). */
  live(options: LiveOptions = {}): LiveSync {
    const live = new LiveSync(
      {
        baseUrl: this.baseUrl,
        session: this.session,
        fetch: this.fetchImpl,
        get: (path) => send(this.deps, new Request(`${this.baseUrl}${path}`)),
        random: this.random,
      },
      options,
    );
    this.lives.add(live);
    void live.done.then(() => this.lives.delete(live));
    return live;
  }
}

/** A client for `baseUrl`. */
export function createClient(options: ClientOptions): AyubiClient {
  return new AyubiClient(options);
}
