// Starts the release binary of the Ayubi server for the client's tests and for type
// generation: a fresh SQLite file, or (with TEST_DATABASE_URL) a fresh PostgreSQL
// database made for the run and dropped after it, plus Redis with TEST_REDIS_URL.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, openSync, rmSync, closeSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";

const here = dirname(fileURLToPath(import.meta.url));

/** The binary: `AYUBI_BIN`, else the workspace's release build. */
export function binary(): string {
  // build/scripts/ → the package → clients/ → the repository.
  return process.env.AYUBI_BIN ?? resolve(here, "../../../../target/release/ayubi");
}

/** The fixed key the test servers sign with, so a restart keeps every token valid. */
export const JWT_SECRET = "client-tests-only-0123456789abcdef0123456789abcdef";

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? ok(addr.port) : fail(new Error("no port"))));
    });
  });
}

function psql(url: string, sql: string): void {
  const r = spawnSync("psql", [url, "-v", "ON_ERROR_STOP=1", "-qtAc", sql], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`psql ${sql}: ${r.stderr || r.error}`);
}

export interface ServerOptions {
  /** Extra environment (configuration keys as `AYUBI__SECTION__KEY`). */
  env?: Record<string, string>;
}

/** A running server; `restart()` keeps its port and database. */
export class TestServer {
  readonly baseUrl: string;
  readonly backend: "sqlite" | "postgres";
  private child: ChildProcess | null = null;
  private constructor(
    private readonly env: Record<string, string>,
    private readonly work: string,
    private readonly dropUrl: { admin: string; name: string } | null,
    port: number,
  ) {
    this.baseUrl = `http://127.0.0.1:${port}`;
    this.backend = dropUrl ? "postgres" : "sqlite";
  }

  static async start(options: ServerOptions = {}): Promise<TestServer> {
    const work = mkdtempSync(join(tmpdir(), "ayubi-client-"));
    const port = await freePort();
    let databaseUrl = `sqlite://${join(work, "ayubi.db")}?mode=rwc`;
    let drop: { admin: string; name: string } | null = null;
    const admin = process.env.TEST_DATABASE_URL;
    if (admin) {
      const name = `ayubi_client_${randomBytes(6).toString("hex")}`;
      psql(admin, `CREATE DATABASE ${name}`);
      const url = new URL(admin);
      url.pathname = `/${name}`;
      databaseUrl = url.toString();
      drop = { admin, name };
    }
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "",
      AYUBI_ENV: "development",
      HOST: "127.0.0.1",
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      JWT_SECRET_KEY: JWT_SECRET,
      AYUBI__BACKUP__DIR: join(work, "backups"),
      AYUBI__TELEMETRY__LOG_FORMAT: "json",
      AYUBI__TELEMETRY__LOG_FILTER: "info",
      // Sign-up as production has it: an invite is needed.
      AYUBI__AUTH__REGISTRATION: "invite",
      // Every test logs in several clients from one address.
      AYUBI__AUTH__LOGIN_PER_MINUTE: "1000",
      AYUBI__AUTH__REGISTER_PER_HOUR: "1000",
      ...(process.env.TEST_REDIS_URL ? { REDIS_URL: process.env.TEST_REDIS_URL } : {}),
      ...options.env,
    };
    const server = new TestServer(env, work, drop, port);
    await server.spawn();
    return server;
  }

  private async spawn(): Promise<void> {
    const log = openSync(join(this.work, "server.log"), "a");
    this.child = spawn(binary(), ["serve"], { env: this.env, stdio: ["ignore", log, log] });
    closeSync(log);
    const exited = new Promise<never>((_, fail) =>
      this.child?.once("exit", (code) => fail(new Error(`the server exited (${code}):\n${this.log()}`))),
    );
    exited.catch(() => undefined);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      try {
        const res = await Promise.race([fetch(`${this.baseUrl}/readyz`), exited]);
        if (res.status === 200) return;
      } catch (e) {
        if (this.child?.exitCode !== null) throw e;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`the server on ${this.baseUrl} did not become ready:\n${this.log()}`);
  }

  /** The server's log so far (for a failing test's message). */
  log(): string {
    try {
      return readFileSync(join(this.work, "server.log"), "utf8").slice(-4000);
    } catch {
      return "";
    }
  }

  /** A single-use sign-up code, made by the binary's own `ayubi invite create`. */
  invite(): string {
    const r = spawnSync(binary(), ["invite", "create"], { env: this.env, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`invite create: ${r.stderr}`);
    return r.stdout.trim();
  }

  /** Stops the process with `signal` and waits for it to exit. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const done = new Promise((r) => child.once("exit", r));
    child.kill(signal);
    await done;
    this.child = null;
  }

  /** Stops (SIGTERM: the server closes its sockets with 1001) and starts again. */
  async restart(): Promise<void> {
    await this.stop("SIGTERM");
    await this.spawn();
  }

  /** Stops the server and removes what it made. */
  async close(): Promise<void> {
    await this.stop("SIGTERM");
    if (this.dropUrl) psql(this.dropUrl.admin, `DROP DATABASE IF EXISTS ${this.dropUrl.name} WITH (FORCE)`);
    rmSync(this.work, { recursive: true, force: true });
  }
}
