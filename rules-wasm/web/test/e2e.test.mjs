// Browser end-to-end tests of the editor page (dist/, built by ../build.sh) in headless Debian
// Chromium driven by playwright-core. Screenshots go to target/wasm-e2e/ at the repository root.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { chromium } from "playwright-core";
import { serve } from "../serve.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const shots = path.resolve(here, "../../../target/wasm-e2e");
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";

let server, browser, page, profile;

before(async () => {
  assert.ok(existsSync(path.resolve(here, "../dist/index.html")), "dist/ missing: run rules-wasm/build.sh");
  mkdirSync(shots, { recursive: true });
  server = await serve(0);
  profile = mkdtempSync(path.join(tmpdir(), "rules-wasm-e2e-"));
  // A persistent context on a fresh profile directory: Chromium's --user-data-dir.
  browser = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    viewport: { width: 1400, height: 1300 },
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--no-first-run"],
  });
  page = browser.pages()[0] ?? (await browser.newPage());
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.errors = errors;
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
});

after(async () => {
  await browser?.close();
  server?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

const BROKEN = `challenge "typed" {
    title "Typed in the browser"
    window 2026-08-01 to 2026-08-31
    timezone "Asia/Singapore"

    goal every day {
        sum(duration of cardoi) >= 20 min
    }
}
`;
const FIXED = BROKEN.replace("cardoi", "cardio");

async function replaceText(text) {
  await page.click(".cm-content");
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  await page.keyboard.insertText(text);
}

const editorText = () => page.evaluate(() => window.editorView.state.doc.toString());

test("the page loads a sample challenge without problems and previews it", async () => {
  await page.waitForFunction(() => document.getElementById("status").textContent === "✓ no problems");
  await page.waitForSelector("#results tbody tr");
  await page.screenshot({ path: path.join(shots, "1-loaded.png"), fullPage: true });
  assert.deepEqual(page.errors, []);
});

test("a typed error is underlined at its line, with a gutter mark and a message on hover", async () => {
  await replaceText(BROKEN);
  const range = await page.waitForSelector(".cm-lintRange-error");
  assert.equal(await range.textContent(), "cardoi");
  // The underlined text is on line 7 of the editor.
  const line = await page.evaluate(() => {
    const node = document.querySelector(".cm-lintRange-error");
    const pos = window.editorView.posAtDOM(node);
    return window.editorView.state.doc.lineAt(pos).number;
  });
  assert.equal(line, 7);
  assert.ok(await page.$(".cm-lint-marker-error"), "a gutter mark");
  const problem = await page.textContent("#problems li");
  assert.match(problem, /^7:25 error\[E0005\]/);
  await range.hover();
  const tooltip = await page.waitForSelector(".cm-tooltip-lint");
  assert.match(await tooltip.textContent(), /did you mean `cardio`/);
  await page.screenshot({ path: path.join(shots, "2-error.png"), fullPage: true });
});

test("fixing the error clears the diagnostics and fills the tree pane", async () => {
  await replaceText(FIXED);
  await page.waitForFunction(() => document.getElementById("status").textContent === "✓ no problems");
  assert.equal(await page.$(".cm-lintRange-error"), null);
  const title = await page.inputValue('#tree input[data-path="title"]');
  assert.equal(title, "Typed in the browser");
});

test("changing a target in the tree pane changes the DSL text", async () => {
  const target = '#tree input[data-path="goal.goal.target.value"]';
  await page.fill(target, "30");
  await page.waitForFunction(() => window.editorView.state.doc.toString().includes(">= 30 min"));
  assert.ok((await editorText()).includes("sum(duration of cardio) >= 30 min"));
  // And a structural edit: every day → on 10 days.
  await page.selectOption('#tree .card[data-path="goal"] select.kind', "on");
  await page.waitForFunction(() => window.editorView.state.doc.toString().includes("goal on 3 days {"));
  await page.fill('#tree input[data-path="goal.count"]', "10");
  await page.waitForFunction(() => window.editorView.state.doc.toString().includes("goal on 10 days {"));
});

test("the preview shows each user's status, progress and a calendar of days met", async () => {
  // The preview follows the edit: `on 10 days` is still open on the 20th for most users.
  await page.waitForSelector("#results .badge.in_progress");
  await page.waitForFunction(() => [...document.querySelectorAll("#results .pct")].some((p) => p.textContent !== "0%"));
  const rows = await page.$$eval("#results tbody tr", (trs) => trs.map((tr) => tr.textContent));
  assert.ok(rows.length >= 10, `${rows.length} rows`);
  const days = await page.$$eval("#results .calendar", (cs) => cs.length);
  assert.ok(days >= 10);
  assert.ok(await page.$("#results .calendar span.met"), "some day met");
  await page.screenshot({ path: path.join(shots, "3-tree-edit-and-preview.png"), fullPage: true });
});

test("the live demo replays a sensor session and the progress grows", async () => {
  await replaceText(FIXED.replace("goal every day {\n        sum(duration of cardio) >= 20 min\n    }",
    "goal sum(reps of strength) >= 400"));
  await page.waitForFunction(() =>
    document.querySelector('#tree input[data-path="goal.target.value"]')?.value === "400");
  const strength = await page.$$eval("#session option", (os) => os.map((o) => o.value + " " + o.textContent)
    .find((t) => /press|curl|row|pulldown|extension/.test(t)));
  await page.selectOption("#session", strength.split(" ")[0]);
  await page.click("#play");
  await page.waitForFunction(() => /event [1-9]/.test(document.getElementById("live-status").textContent));
  const early = await page.evaluate(() => parseFloat(document.getElementById("live-bar").style.width));
  await page.waitForFunction(() => document.getElementById("live-status").textContent.includes("session saved"), null, { timeout: 30000 });
  const late = await page.evaluate(() => parseFloat(document.getElementById("live-bar").style.width));
  assert.ok(late > early, `${early} → ${late}`);
  await page.screenshot({ path: path.join(shots, "4-live.png"), fullPage: true });
  assert.deepEqual(page.errors, []);
});
