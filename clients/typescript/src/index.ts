export {
  AyubiClient,
  createClient,
  type ClientOptions,
  type LoginInput,
  type RegisterInput,
  type Schemas,
  type User,
} from "./client.js";
export { AyubiError, type Problem } from "./errors.js";
export {
  LiveSync,
  type ChangeMessage,
  type LiveEvents,
  type LiveOptions,
  type LiveStatus,
  type Transport,
  type WebSocketCtor,
  type EventSourceCtor,
} from "./live.js";
export { localStorageStore, memoryStore, type SessionStore, type StoredSession, type TokenPair } from "./session.js";
export { reconnectPlan, CloseCode, type Ended, type Plan } from "./backoff.js";
export { classify, type RetryOptions } from "./http.js";
export type { paths, components, operations } from "./schema.js";
