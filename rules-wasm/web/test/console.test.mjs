// Browser tests of the console served by the real `challenge serve` (target/release/challenge,
// built by ../../ci.sh; dist/ built by ../build.sh): the member page follows the stream (a
// pushed result, a live session evaluated in the page), and the editor saves to the server.
// Headless Debian Chromium via playwright-core; screenshots in target/wasm-e2e/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../../..");
const shots = path.join(root, "target/wasm-e2e");
const bin = process.env.CHALLENGE_BIN ?? path.join(root, "target/release/challenge");
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";

let server, base, browser, page, scratch;

const freePort = () => new Promise((ok, fail) => {
  const s = createServer();
  s.once("error", fail);
  s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => ok(port)); });
});

async function startServer() {
  const port = await freePort();
  const child = spawn(bin, ["serve", "--db", path.join(scratch, "gym.db"), "--challenges", path.join(root, "fixtures/challenges"),
    "--listen", `127.0.0.1:${port}`, "--console", path.join(root, "rules-wasm/web/dist")], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`serve did not start:\n${log}`)), 60000);
    child.stderr.on("data", (d) => {
      log += d;
      if (log.includes("listening on")) { clearTimeout(timer); ok(); }
    });
    child.on("exit", (code) => { clearTimeout(timer); fail(new Error(`serve exited ${code}:\n${log}`)); });
  });
  child.removeAllListeners("exit");
  return { child, base: `http://127.0.0.1:${port}` };
}

async function call(method, url, body, type = "application/json") {
  const r = await fetch(base + url, { method, headers: body === undefined ? {} : { "Content-Type": type }, body });
  const text = await r.text();
  return { status: r.status, type: r.headers.get("content-type"), text, json: () => JSON.parse(text) };
}

before(async () => {
  assert.ok(existsSync(bin), `${bin} missing: cargo build --release --bin challenge`);
  assert.ok(existsSync(path.resolve(here, "../dist/index.html")), "dist/ missing: run rules-wasm/build.sh");
  mkdirSync(shots, { recursive: true });
  scratch = mkdtempSync(path.join(tmpdir(), "console-e2e-"));
  ({ child: server, base } = await startServer());
  browser = await chromium.launchPersistentContext(path.join(scratch, "profile"), {
    executablePath,
    headless: true,
    viewport: { width: 1300, height: 1100 },
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--no-first-run"],
  });
  page = browser.pages()[0] ?? (await browser.newPage());
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(e.message));
});

after(async () => {
  await browser?.close();
  server?.kill("SIGTERM");
  if (server) await new Promise((ok) => { server.once("exit", ok); setTimeout(ok, 5000); });
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

test("the server serves the console's files, and JSON 404 under /v1", async () => {
  const index = await call("GET", "/");
  assert.equal(index.status, 200);
  assert.match(index.type, /^text\/html/);
  assert.match(index.text, /id="member-page"/);
  const wasm = await fetch(`${base}/rules_wasm_bg.wasm`);
  assert.equal(wasm.status, 200);
  assert.equal(wasm.headers.get("content-type"), "application/wasm");
  assert.match((await call("GET", "/main.js")).type, /^text\/javascript/);
  assert.match((await call("GET", "/style.css")).type, /^text\/css/);
  assert.equal((await call("GET", "/samples/challenges.json")).status, 200);
  for (const bad of ["/../Cargo.toml", "/%2e%2e/Cargo.toml", "/.hidden", "/nope.js"]) {
    assert.equal((await call("GET", bad)).status, 404, bad);
  }
  const unknown = await call("GET", "/v1/nothing-here");
  assert.equal(unknown.status, 404);
  assert.equal(unknown.json().error.code, "not-found");
});

const USER = "u-e2e";
const SESSION = "s-e2e-push-ups";
const at = (s) => `2026-08-10T07:${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}+08:00`;
const start = { type: "session_start", device: "m-e2e", gym: "gym-01", user: USER, exercise: "push_up", session: SESSION, seq: 0, ts: at(0) };
const reps = (from, to) => Array.from({ length: to - from }, (_, i) =>
  ({ type: "rep", rom_pct: 92, session: SESSION, seq: from + i + 1, ts: at(3 * (from + i + 1)) }));
const lines = (events) => events.map((e) => JSON.stringify(e)).join("\n") + "\n";

async function post(events) {
  const r = await call("POST", "/v1/events", lines(events), "application/x-ndjson");
  assert.equal(r.status, 200, r.text);
  const answer = r.json();
  assert.equal(answer.accepted, events.length, r.text);
}

const cardProgress = (id) => page.evaluate((id) => {
  const card = document.querySelector(`.member-card[data-challenge="${id}"]`);
  const pct = card?.querySelector(".pct");
  return pct ? parseInt(pct.textContent, 10) : null;
}, id);

test("the member page follows the stream: a live session evaluated in the page, then the pushed result", async () => {
  const put = await call("PUT", `/v1/users/${USER}`, JSON.stringify({ id: USER, name: "Beefy", groups: ["nsfit"], body_weight_kg: 82 }));
  assert.equal(put.status, 200, put.text);
  await page.goto(`${base}/#member=${USER}`);
  await page.waitForFunction(() => document.getElementById("connection").dataset.state === "live");
  await page.waitForSelector('.member-card[data-challenge="strength-standards"]');
  const before = await cardProgress("strength-standards");

  // A session under way: its sensor events are pushed and evaluated here by LiveSession.
  await post([start, ...reps(0, 12)]);
  const row = await page.waitForSelector(`.live-row[data-session="${SESSION}"]`, { timeout: 20000 });
  await page.waitForFunction((s) => /13 event/.test(document.querySelector(`.live-row[data-session="${s}"]`)?.textContent ?? ""), SESSION);
  assert.match(await row.textContent(), /push_up/);
  assert.match(await row.textContent(), /under way/);
  const liveStrength = await page.$(`.live-row[data-session="${SESSION}"] .row:has(.live-challenge:text-is("strength-standards")) .pct`);
  assert.ok(liveStrength, "the session is evaluated against strength-standards");
  const livePct = parseInt(await liveStrength.textContent(), 10);
  assert.ok(livePct > (before ?? 0), `live ${livePct}% > card ${before}%`);
  await page.screenshot({ path: path.join(shots, "console-1-live-session.png"), fullPage: true });

  // More reps and the session's end: the server saves the workout and pushes the result.
  await post([...reps(12, 25), { type: "session_end", session: SESSION, seq: 26, ts: at(80) }]);
  await page.waitForFunction((b) => {
    const pct = document.querySelector('.member-card[data-challenge="strength-standards"] .pct');
    return pct && parseInt(pct.textContent, 10) > (b ?? 0);
  }, before, { timeout: 20000 });
  await page.waitForFunction((s) => /saved/.test(document.querySelector(`.live-row[data-session="${s}"]`)?.textContent ?? ""), SESSION);
  const after = await cardProgress("strength-standards");
  assert.ok(after > (before ?? 0), `${before}% → ${after}%`);
  // The page evaluated the ended session as the server did.
  const ended = await page.$eval(`.live-row[data-session="${SESSION}"] .row:has(.live-challenge:text-is("strength-standards")) .pct`,
    (n) => parseInt(n.textContent, 10));
  assert.equal(ended, after);
  await page.screenshot({ path: path.join(shots, "console-2-pushed-result.png"), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(shots, "console-3-member-phone.png"), fullPage: true });
  await page.setViewportSize({ width: 1300, height: 1100 });
  assert.deepEqual(page.errors, []);
});

test("the editor saves a challenge to the server, and shows the server's 422 diagnostics", async () => {
  await page.goto(`${base}/#editor`);
  await page.waitForFunction(() => document.getElementById("status").textContent === "✓ no problems");
  await page.waitForSelector("#server-list option", { state: "attached" });
  const text = `challenge "e2e-saved" {
    title "Saved from the browser"
    window 2026-08-01 to 2026-08-31
    timezone "Asia/Singapore"

    goal sum(reps of push_up) >= 100
}
`;
  await page.click(".cm-content");
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  await page.keyboard.insertText(text);
  await page.waitForFunction(() => document.getElementById("status").textContent === "✓ no problems");
  await page.click("#server-save");
  await page.waitForFunction(() => /^saved e2e-saved/.test(document.getElementById("server-status").textContent), null, { timeout: 5000 })
    .catch(async (e) => { throw new Error(`${e.message}: ${await page.textContent("#server-status")}`); });
  const list = (await call("GET", "/v1/challenges")).json();
  assert.ok(list.some((c) => c.id === "e2e-saved" && c.title === "Saved from the browser"), JSON.stringify(list));
  assert.equal(await page.inputValue("#server-list"), "e2e-saved");
  // Loading it back gives the server's canonical DSL.
  await page.click("#server-load");
  await page.waitForFunction(() => document.getElementById("server-status").textContent === "loaded e2e-saved");
  assert.match(await page.evaluate(() => window.editorView.state.doc.toString()), /sum\(reps of push_up\) >= 100/);

  // A challenge that does not check: the 422's diagnostics are underlined like local ones.
  await page.click(".cm-content");
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  await page.keyboard.insertText(text.replace("push_up", "push_upp"));
  await page.waitForSelector(".cm-lintRange-error");
  await page.click("#server-save");
  await page.waitForFunction(() => /not saved: \d+ problem/.test(document.getElementById("server-status").textContent));
  assert.match(await page.textContent("#problems li"), /E0005/);
  assert.ok(await page.$(".cm-lintRange-error"));
  await page.screenshot({ path: path.join(shots, "console-4-editor-save.png"), fullPage: true });
  assert.deepEqual(page.errors, []);
});
