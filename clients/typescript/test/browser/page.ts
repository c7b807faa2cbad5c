// Runs in headless Chromium (test/browser.test.ts bundles it with esbuild): the client as
// the web app uses it — localStorage sessions, the browser's own WebSocket (subprotocol
// auth, no headers), CORS with Authorization and Idempotency-Key, the Web Locks refresh.
// It posts what happened, as JSON, to /result on the page's server.

import { createClient, localStorageStore, type ChangeMessage } from "../../src/index.js";

const q = new URLSearchParams(location.search);
const PASSWORD = "correct horse battery staple";

async function main(): Promise<Record<string, unknown>> {
  const baseUrl = q.get("api") as string;
  const email = `browser-${Math.floor(Math.random() * 1e9)}@example.com`;
  const phone = createClient({ baseUrl, store: localStorageStore("ayubi.phone") });
  await phone.register({ email, password: PASSWORD, invite: q.get("invite") as string });
  let refreshes = 0;
  const counting: typeof fetch = (input, init) => {
    if (String(input instanceof Request ? input.url : input).endsWith("/auth/refresh")) refreshes++;
    return fetch(input, init);
  };
  const store = localStorageStore("ayubi.laptop");
  const laptop = createClient({ baseUrl, store, fetch: counting });
  await laptop.login({ email, password: PASSWORD });
  const live = laptop.live();
  const opened = new Promise<void>((ok) => live.on("status", (s) => s.state === "open" && ok()));
  const received = new Promise<ChangeMessage>((ok) => live.on("change", (c) => ok(c)));
  await opened;
  const made = await phone.post("/api/v1/sport/water", { body: { ml: 275 } });
  const change = await received;
  // A dead token under concurrency: one refresh, taken under the Web Locks API.
  store.save({ ...store.load(), access_token: "dead" });
  const goals = await Promise.all(Array.from({ length: 8 }, () => laptop.get("/api/v1/sport/goals")));
  await live.close();
  return {
    transport: live.transport,
    event: change.event,
    same: change.id === made.id,
    ml: (change.data as { ml: number }).ml,
    goals: goals.every((g) => g.water_ml_per_day === 3000),
    refreshes,
    locks: Boolean((navigator as { locks?: unknown }).locks),
    stored: Boolean(localStorage.getItem("ayubi.laptop")),
  };
}

const report = (body: string) => fetch("/result", { method: "POST", body });
main().then(
  (r) => report(JSON.stringify(r)),
  (e) => report(`error ${e}`),
);
