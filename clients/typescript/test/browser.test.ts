// The client in a real browser: headless Chromium (Debian's `chromium`) runs
// test/browser/page.ts, bundled with esbuild, from an origin the server allows. Skipped with
// a notice without Chromium, except under CI (`CI` set), where its absence fails.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { TestServer } from "../scripts/server.js";

const here = dirname(fileURLToPath(import.meta.url));
// build/test/ → the package.
const pkg = resolve(here, "../..");

function chromium(): string | null {
  const found = [process.env.AYUBI_CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p): p is string =>
    Boolean(p && existsSync(p)),
  );
  if (!found) {
    assert.ok(!process.env.CI, "Chromium is required under CI (apt-get install chromium)");
    console.log("browser test skipped: no Chromium (apt-get install chromium)");
  }
  return found ?? null;
}

let page: Server;
let pagePort = 0;
/** What the page posted to /result. */
let reported: (body: string) => void = () => undefined;
let server: TestServer;

before(async () => {
  const bundle = await build({
    entryPoints: [join(pkg, "test/browser/page.ts")],
    bundle: true,
    write: false,
    format: "iife",
    platform: "browser",
    target: "es2022",
    logLevel: "error",
  });
  const js = bundle.outputFiles[0]?.text ?? "";
  const html = `<!doctype html><html><body><script src="/page.js"></script></body></html>`;
  page = createServer((req, res) => {
    if (req.method === "POST" && req.url === "/result") {
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        res.writeHead(204).end();
        reported(body);
      });
      return;
    }
    const isJs = req.url?.startsWith("/page.js");
    res.writeHead(200, { "content-type": isJs ? "text/javascript" : "text/html" });
    res.end(isJs ? js : html);
  });
  await new Promise<void>((ok) => page.listen(0, "127.0.0.1", ok));
  const addr = page.address();
  pagePort = typeof addr === "object" && addr ? addr.port : 0;
  server = await TestServer.start({ env: { CORS_ORIGINS: `http://localhost:${pagePort}` } });
});

after(async () => {
  page?.close();
  await server?.close();
});

test("in Chromium: sign-up, a change on the browser's own WebSocket, one refresh under Web Locks", async () => {
  const browser = chromium();
  if (!browser) return;
  const profile = mkdtempSync(join(tmpdir(), "ayubi-chromium-"));
  const url = `http://localhost:${pagePort}/?api=${encodeURIComponent(server.baseUrl)}&invite=${encodeURIComponent(server.invite())}`;
  // Real time, not --virtual-time-budget (which runs ahead while the page waits on its
  // socket): the page reports to /result, then Chromium is stopped.
  const result = new Promise<string>((ok) => (reported = ok));
  const child = spawn(browser, [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
    `--user-data-dir=${profile}`,
    url,
  ]);
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise<string>((ok) =>
    child.on("close", (code) => ok(`chromium exited (${code}) before the page reported:\n${stderr}`)),
  );
  const timeout = new Promise<string>((ok) =>
    setTimeout(() => ok("the page reported nothing in 45 s"), 45_000).unref(),
  );
  try {
    const body = await Promise.race([result, exited, timeout]);
    assert.ok(body.startsWith("{"), `${body}\n${server.log().slice(-1500)}`);
    assert.deepEqual(JSON.parse(body), {
      transport: "websocket",
      event: "water:added",
      same: true,
      ml: 275,
      goals: true,
      refreshes: 1,
      locks: true,
      stored: true,
    });
  } finally {
    child.kill("SIGKILL");
    await exited;
    rmSync(profile, { recursive: true, force: true });
  }
});
