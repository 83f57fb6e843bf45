// Parity: evaluateJsonl in WASM gives byte-identical JSON Lines to the native
// `challenge eval` (target/release/challenge, or $CHALLENGE_BIN) on every fixture challenge,
// for every user, at several as-of times; evaluate gives the same values as objects.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../../..");
const wasm = createRequire(import.meta.url)("../../pkg-node/rules_wasm.js");
const bin = process.env.CHALLENGE_BIN ?? path.join(root, "target/release/challenge");
const fixtures = path.join(root, "fixtures");
const workoutsPath = path.join(fixtures, "workouts.jsonl");
const usersPath = path.join(fixtures, "users.jsonl");
const workouts = readFileSync(workoutsPath, "utf8");
const users = readFileSync(usersPath, "utf8");
const challenges = readdirSync(path.join(fixtures, "challenges")).filter((f) => f.endsWith(".chal")).sort();
const times = ["2026-07-15T00:00:00Z", "2026-08-20T12:00:00+08:00", "2026-10-01T00:00:00+08:00"];

test("the native CLI is built", () => {
  assert.ok(existsSync(bin), `${bin} missing: cargo build --release --bin challenge`);
  assert.ok(challenges.length >= 10);
});

for (const name of challenges) {
  test(`parity: ${name}`, () => {
    const file = path.join(fixtures, "challenges", name);
    const source = readFileSync(file, "utf8");
    for (const asOf of times) {
      const native = execFileSync(
        bin,
        ["eval", file, "--workouts", workoutsPath, "--users", usersPath, "--as-of", asOf],
        { encoding: "utf8", maxBuffer: 1 << 28, stdio: ["ignore", "pipe", "ignore"] },
      );
      const fromText = wasm.evaluateJsonl(source, workouts, users, asOf);
      assert.ok(native.length > 0);
      assert.equal(fromText, native, `${name} at ${asOf}: DSL text`);
      // Through the JSON tree, as a frontend would send it.
      const trees = wasm.parse(source).trees;
      assert.equal(wasm.evaluateJsonl(trees, workouts, users, asOf), native, `${name}: tree`);
      const objects = wasm.evaluate(trees, workouts, users, asOf).results;
      assert.deepEqual(objects, native.trimEnd().split("\n").map((l) => JSON.parse(l)));
    }
  });
}
