// Builds the editor page into dist/: bundles src/main.js (CodeMirror 6 + the rules-wasm web
// package) with esbuild, copies the page, the .wasm and a small slice of ../../fixtures as
// samples. Run by ../build.sh after the package is built; serve dist/ with any static server.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const dist = path.join(here, "dist");
const pkg = path.resolve(here, "../pkg");

rmSync(dist, { recursive: true, force: true });
mkdirSync(path.join(dist, "samples"), { recursive: true });

await build({
  entryPoints: [path.join(here, "src/main.js")],
  bundle: true,
  format: "esm",
  minify: true,
  sourcemap: true,
  target: "es2020",
  outfile: path.join(dist, "main.js"),
  logLevel: "warning",
});
for (const f of ["index.html", "style.css"]) copyFileSync(path.join(here, f), path.join(dist, f));
copyFileSync(path.join(pkg, "rules_wasm_bg.wasm"), path.join(dist, "rules_wasm_bg.wasm"));

// Samples: the fixture challenges, the first 12 users with their workouts, and a few sensor
// sessions for the live demo.
const fixtures = path.join(root, "fixtures");
const challenges = readdirSync(path.join(fixtures, "challenges")).filter((f) => f.endsWith(".chal")).sort();
const catalog = {};
for (const f of challenges) catalog[f.replace(/\.chal$/, "")] = readFileSync(path.join(fixtures, "challenges", f), "utf8");
writeFileSync(path.join(dist, "samples/challenges.json"), JSON.stringify(catalog));
const users = readFileSync(path.join(fixtures, "users.jsonl"), "utf8").trim().split("\n").slice(0, 12);
const ids = new Set(users.map((l) => JSON.parse(l).id));
writeFileSync(path.join(dist, "samples/users.jsonl"), users.join("\n") + "\n");
const workouts = readFileSync(path.join(fixtures, "workouts.jsonl"), "utf8").trim().split("\n")
  .filter((l) => ids.has(JSON.parse(l).user));
writeFileSync(path.join(dist, "samples/workouts.jsonl"), workouts.join("\n") + "\n");
const events = readFileSync(path.join(fixtures, "events.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
const sessions = {};
for (const e of events) if (e.session) (sessions[e.session] ??= []).push(e);
const picked = Object.entries(sessions)
  .filter(([, es]) => es.some((e) => e.type === "session_start") && es.some((e) => e.type === "session_end"))
  .slice(0, 6);
writeFileSync(path.join(dist, "samples/sessions.json"), JSON.stringify(Object.fromEntries(picked)));
console.log(`web/dist: ${challenges.length} challenges, ${users.length} users, ${workouts.length} workouts, ${picked.length} sessions`);
