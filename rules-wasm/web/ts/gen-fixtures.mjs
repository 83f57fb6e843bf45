// Writes generated/fixtures.ts: every fixture challenge's tree and one evaluation result as
// typed constants, so that `tsc` checks the hand-written types against real output.
import { createRequire } from "node:module";
import { readFileSync, readdirSync, mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../../..");
const wasm = createRequire(import.meta.url)("../../pkg-node/rules_wasm.js");
const workouts = readFileSync(path.join(root, "fixtures/workouts.jsonl"), "utf8");
const users = readFileSync(path.join(root, "fixtures/users.jsonl"), "utf8");
let out = 'import type { Challenge, EvalResult, Diagnostic } from "../../../pkg/rules_wasm.js";\n';
const dirs = ["challenges", "templates", "recommended"];
let n = 0;
for (const dir of dirs) {
  for (const f of readdirSync(path.join(root, "fixtures", dir)).sort()) {
    const text = readFileSync(path.join(root, "fixtures", dir, f), "utf8");
    const { trees } = wasm.parse(text);
    for (const t of trees) out += `export const tree${n++}: Challenge = ${JSON.stringify(t)};\n`;
    if (dir === "challenges") {
      const r = wasm.evaluate(text, workouts, users, "2026-08-20T12:00:00+08:00").results.slice(0, 2);
      out += `export const results${n}: EvalResult[] = ${JSON.stringify(r)};\n`;
    }
  }
}
for (const f of readdirSync(path.join(root, "fixtures/invalid")).sort()) {
  const d = wasm.check(readFileSync(path.join(root, "fixtures/invalid", f), "utf8"));
  out += `export const diagnostics_${f.replace(/\W/g, "_")}: Diagnostic[] = ${JSON.stringify(d)};\n`;
}
mkdirSync(path.join(here, "generated"), { recursive: true });
writeFileSync(path.join(here, "generated/fixtures.ts"), out);
console.log(`wrote ts/generated/fixtures.ts (${n} trees)`);
