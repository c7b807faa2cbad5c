/** The problem+json body every Ayubi error carries (RFC 9457). */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** Field → messages, on 422. */
  errors?: Record<string, string[]>;
  /** On 410 from `/sync/changes`: the latest `seq`, where to continue after refetching. */
  seq?: number;
}

/** An error answer of the API, as a typed error: `status`, `detail`, `errors` by field. */
export class AyubiError extends Error {
  override readonly name = "AyubiError";
  readonly status: number;
  readonly detail: string;
  /** Field → messages (422), `{}` otherwise. */
  readonly errors: Record<string, string[]>;
  /** The whole problem body (`null` when the answer had none). */
  readonly problem: Problem | null;
  /** `Retry-After` in seconds, on 429 and 503. */
  readonly retryAfter: number | null;

  constructor(status: number, problem: Problem | null, retryAfter: number | null = null) {
    const detail = problem?.detail ?? `HTTP ${status}`;
    super(`${status}: ${detail}`);
    this.status = status;
    this.detail = detail;
    this.errors = problem?.errors ?? {};
    this.problem = problem;
    this.retryAfter = retryAfter;
  }

  /** Reads an error response's body (problem+json or not). */
  static async from(response: Response, parsed?: unknown): Promise<AyubiError> {
    let body = parsed;
    if (body === undefined) {
      try {
        body = await response.clone().json();
      } catch {
        body = undefined;
      }
    }
    return new AyubiError(response.status, isProblem(body) ? body : null, retryAfter(response));
  }
}

function isProblem(v: unknown): v is Problem {
  return (
    typeof v === "object" &&
    v !== null &&
    typeof (v as Problem).status === "number" &&
    typeof (v as Problem).detail === "string"
  );
}

/** `Retry-After` as seconds (a number or an HTTP date), or null. */
export function retryAfter(response: Response): number | null {
  const v = response.headers.get("retry-after");
  if (v === null) return null;
  const secs = Number(v);
  if (Number.isFinite(secs) && secs >= 0) return secs;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, (at - Date.now()) / 1000);
}
