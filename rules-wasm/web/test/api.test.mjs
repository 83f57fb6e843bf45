// Node tests of every export of the rules-wasm package (../../pkg-node), malformed input
// included: nothing may trap; bad calls throw a RulesError with a message.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../../..");
const require = createRequire(import.meta.url);
const wasm = require("../../pkg-node/rules_wasm.js");

const fixture = (p) => readFileSync(path.join(root, "fixtures", p), "utf8");

const PUSH_UPS = `challenge "push-ups" {
    title "Push-ups"
    window 2026-08-01 to 2026-08-31
    timezone "UTC"

    goal every day {
        sum(reps of push_up) >= 20
    }
}
`;

function rulesError(fn, pattern) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof Error, "an Error object");
    assert.equal(e.name, "RulesError");
    assert.match(e.message, pattern);
    return true;
  });
}

test("parse gives trees and no diagnostics for a valid challenge", () => {
  const { trees, diagnostics } = wasm.parse(PUSH_UPS);
  assert.deepEqual(diagnostics, []);
  assert.equal(trees.length, 1);
  assert.equal(trees[0].id, "push-ups");
  assert.equal(trees[0].goal.kind, "every");
  assert.deepEqual(trees[0].goal.goal.target, { value: 20, unit: null });
});

test("diagnostics carry severity, code, message, help, line/column and UTF-16 offsets", () => {
  const text = `// é 💪\nchallenge "x" {\n    title "x"\n    window 2026-08-01 to 2026-08-31\n    goal sum(reps of leg_pres) >= 20\n}\n`;
  const { trees, diagnostics } = wasm.parse(text);
  assert.equal(trees.length, 1);
  const d = diagnostics.find((d) => d.code === "E0005");
  assert.equal(d.severity, "error");
  assert.match(d.message, /leg_pres/);
  assert.equal(d.help, "did you mean `leg_press`?");
  assert.equal(d.line, 5);
  assert.equal(d.column, 22);
  assert.equal(text.slice(d.utf16_start, d.utf16_end), "leg_pres");
  assert.equal(d.path, "goal.of[0]");
});

test("parse reports syntax errors at their line and never throws on text", () => {
  const { trees, diagnostics } = wasm.parse(
    `challenge "x" {\n    title "x"\n    window 2026-08-01 to 2026-08-31\n    goal sum(reps of push_up) >= kg\n}\n`,
  );
  assert.deepEqual(trees, []);
  assert.equal(diagnostics[0].code, "E0001");
  assert.equal(diagnostics[0].line, 4);
  for (const text of ["", "}", "challenge", "\u0000\uffff", "(".repeat(100000), "x".repeat(2 << 20)]) {
    const out = wasm.parse(text);
    assert.ok(out.diagnostics.length > 0, JSON.stringify(text.slice(0, 20)));
  }
});

test("parse, format and check refuse arguments that are not text", () => {
  for (const bad of [undefined, null, 42, {}, [], () => 1]) {
    rulesError(() => wasm.parse(bad), /must be a string/);
    rulesError(() => wasm.format(bad), /must be a string/);
  }
  rulesError(() => wasm.check(undefined), /a challenge is needed/);
  rulesError(() => wasm.check(() => 1), /not a JSON value/);
  rulesError(() => wasm.check(10n), /cannot be written as JSON/);
  const cyclic = { version: 1 };
  cyclic.self = cyclic;
  rulesError(() => wasm.check(cyclic), /cannot be written as JSON/);
});

test("check takes trees, arrays, JSON text and DSL text; reports JSON paths for trees", () => {
  const tree = wasm.parse(PUSH_UPS).trees[0];
  assert.deepEqual(wasm.check(tree), []);
  assert.deepEqual(wasm.check([tree, { ...tree, id: "other" }]), []);
  assert.deepEqual(wasm.check(JSON.stringify(tree)), []);
  assert.deepEqual(wasm.check(PUSH_UPS), []);
  const bad = structuredClone(tree);
  bad.goal.goal.target.unit = "kg";
  const [d] = wasm.check(bad);
  assert.equal(d.code, "E0007");
  assert.equal(d.path, "goal.goal.target");
  assert.equal(d.line, null);
  assert.equal(d.utf16_start, null);
  const dup = wasm.check([tree, tree]);
  assert.equal(dup[0].code, "E0012");
  assert.equal(dup[0].path, "[1].id");
});

test("check: malformed, wrongly typed, huge and deep trees are diagnostics, not crashes", () => {
  const cases = [
    ["{", "E0001"],
    [42, "E0001"],
    ["[1, 2]", "E0001"],
    [{ version: 1 }, "E0001"],
    [{ ...wasm.parse(PUSH_UPS).trees[0], extra: true }, "E0001"],
    [{ ...wasm.parse(PUSH_UPS).trees[0], goal: "lots" }, "E0001"],
    ["[".repeat(200000) + "]".repeat(200000), "E0013"],
    [JSON.stringify({ title: "x".repeat(2 << 20) }), "E0013"],
  ];
  for (const [input, code] of cases) {
    const diagnostics = wasm.check(input);
    assert.ok(
      diagnostics.some((d) => d.code === code),
      `${String(input).slice(0, 30)}: ${JSON.stringify(diagnostics).slice(0, 200)}`,
    );
  }
  // A deep JavaScript object: JSON.stringify or the depth guard stops it.
  let deep = { kind: "metric" };
  for (let i = 0; i < 100000; i++) deep = { kind: "all", goals: [deep] };
  try {
    const diagnostics = wasm.check({ ...wasm.parse(PUSH_UPS).trees[0], goal: deep });
    assert.ok(diagnostics.some((d) => d.code === "E0013"));
  } catch (e) {
    assert.equal(e.name, "RulesError");
  }
  // The module still works afterwards.
  assert.deepEqual(wasm.check(PUSH_UPS), []);
});

test("format keeps comments, is idempotent, and refuses broken text", () => {
  const out = wasm.format(
    `// hi\nchallenge "x" { title "x" window 2026-08-01 to 2026-08-31 goal count(workouts) >= 1 }`,
  );
  assert.deepEqual(out.diagnostics, []);
  assert.ok(out.text.startsWith(`// hi\nchallenge "x" {\n    title "x"\n`));
  assert.equal(wasm.format(out.text).text, out.text);
  const broken = wasm.format(`challenge "x" { title "x" window 2026-08-01 goal }`);
  assert.equal(broken.text, null);
  assert.equal(broken.diagnostics[0].code, "E0001");
});

test("decompile gives DSL that compiles back to the same tree, null for trees with errors", () => {
  for (const name of ["national-day.chal", "streak-7.chal", "all-rounder.chal"]) {
    const [tree] = wasm.parse(fixture(`challenges/${name}`)).trees;
    const { text, diagnostics } = wasm.decompile(tree);
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(wasm.parse(text).trees, [tree]);
  }
  const out = wasm.decompile({ version: 1 });
  assert.equal(out.text, null);
  assert.ok(out.diagnostics.length > 0);
  rulesError(() => wasm.decompile(null), /a challenge is needed/);
});

test("evaluate: results, record reports, warnings; JSON Lines or arrays of records", () => {
  const workouts = fixture("workouts.jsonl");
  const users = fixture("users.jsonl");
  const source = fixture("challenges/national-day.chal");
  const asOf = "2026-08-20T12:00:00+08:00";
  const out = wasm.evaluate(source, workouts, users, asOf);
  assert.equal(out.users.read, 60);
  assert.equal(out.workouts.read, out.workouts.accepted + out.workouts.rejected.length);
  assert.ok(out.results.length >= 60);
  const ids = out.results.map((r) => r.user);
  assert.deepEqual(ids, [...ids].sort());
  for (const r of out.results) {
    assert.equal(r.challenge, "national-day-2026");
    assert.equal(r.as_of, asOf);
    assert.ok(r.progress >= 0 && r.progress <= 1);
    assert.equal(r.tree.kind, "every");
  }
  // Arrays of records give the same results.
  const arrays = wasm.evaluate(
    wasm.parse(source).trees,
    workouts.trim().split("\n").map((l) => JSON.parse(l)),
    users.trim().split("\n").map((l) => JSON.parse(l)),
    asOf,
  );
  assert.deepEqual(arrays.results, out.results);
  // Bad records are reported with their line, and the rest still counts.
  const mixed = wasm.evaluate(PUSH_UPS, [{ id: "w" }, 7, null], undefined, asOf);
  assert.equal(mixed.workouts.read, 3);
  assert.equal(mixed.workouts.accepted, 0);
  assert.deepEqual(mixed.workouts.rejected.map((r) => r.line), [1, 2, 3]);
  assert.deepEqual(mixed.results, []);
  // evaluateJsonl is the same results as the CLI's text (serde_json writes 1.0 where
  // JSON.stringify writes 1, so byte-identical output comes from evaluateJsonl).
  const jsonl = wasm.evaluateJsonl(source, workouts, users, asOf);
  assert.ok(jsonl.endsWith("}\n"));
  assert.deepEqual(jsonl.trimEnd().split("\n").map((l) => JSON.parse(l)), out.results);
});

test("evaluate throws a RulesError for bad calls, with diagnostics for a broken challenge", () => {
  const asOf = "2026-08-20T12:00:00+08:00";
  rulesError(() => wasm.evaluate(PUSH_UPS, "", undefined, "yesterday"), /asOf `yesterday`/);
  rulesError(() => wasm.evaluate(PUSH_UPS, "", undefined, 17), /asOf must be a string/);
  rulesError(() => wasm.evaluate(PUSH_UPS, 42, undefined, asOf), /workouts must be an array/);
  rulesError(() => wasm.evaluate(PUSH_UPS, {}, undefined, asOf), /workouts must be an array/);
  rulesError(() => wasm.evaluate(PUSH_UPS, [], 5, asOf), /users must be an array/);
  try {
    wasm.evaluate(`challenge "x" { title "x" }`, [], [], asOf);
    assert.fail("no error");
  } catch (e) {
    assert.equal(e.name, "RulesError");
    assert.match(e.message, /^the challenge has errors/);
    assert.ok(e.diagnostics.length > 0);
    assert.equal(e.diagnostics[0].code, "E0002");
  }
  // Bad JSON Lines are rejected records, not errors.
  const out = wasm.evaluate(PUSH_UPS, "{\nnot json\n", "", asOf);
  assert.equal(out.workouts.rejected.length, 2);
});

test("vocabulary lists the catalog, measures, units, aggregates and periods", () => {
  const v = wasm.vocabulary();
  assert.ok(v.exercises.some((e) => e.id === "leg_press" && e.category === "strength"));
  assert.deepEqual(v.categories, ["strength", "bodyweight", "cardio"]);
  assert.ok(v.measures.some((m) => m.name === "duration" && m.unit === "s"));
  assert.ok(v.units.some((u) => u.symbol === "km/h" && u.dimension === "speed"));
  assert.deepEqual(v.aggregates, ["sum", "count", "max", "min", "avg"]);
  assert.deepEqual(v.periods, ["day", "week", "month"]);
});

// ----- LiveSession -----------------------------------------------------------------------------

const LEG_PRESS = `challenge "lp" {
    title "Leg press"
    window 2026-08-01 to 2026-08-31
    timezone "Asia/Singapore"
    goal sum(reps of leg_press where weight >= 40 kg) >= 30
}
`;
const AS_OF = "2026-08-01T23:00:00+08:00";
const start = {
  type: "session_start", session: "s-1", seq: 0, ts: "2026-08-01T07:30:00+08:00",
  device: "lp-03", gym: "gym-01", user: "u-01", exercise: "leg_press",
};
const rep = (seq, rom = 95, weight = 40) => ({
  type: "rep", session: "s-1", seq, ts: `2026-08-01T07:30:${String(seq).padStart(2, "0")}+08:00`,
  weight_kg: weight, rom_pct: rom,
});
const end = (seq) => ({ type: "session_end", session: "s-1", seq, ts: "2026-08-01T07:42:00+08:00" });

test("LiveSession: progress grows rep by rep; after session_end it equals evaluate", () => {
  const saved = [{
    id: "w-old", user: "u-01", exercise: "leg_press",
    start: "2026-08-01T06:00:00+08:00", end: "2026-08-01T06:10:00+08:00", sets: [{ reps: 10, weight_kg: 40 }],
  }];
  const live = new wasm.LiveSession(LEG_PRESS, saved, AS_OF, start, { id: "u-01", groups: ["nsfit"] });
  assert.equal(live.current().outcome, "none");
  assert.ok(Math.abs(live.current().result.progress - 1 / 3) < 1e-12);
  let last = 0;
  // Out of order and with resends: the same workout as in order.
  const order = [3, 1, 2, 2, 5, 4, ...Array.from({ length: 20 }, (_, i) => i + 6)];
  for (const seq of order) {
    const update = live.push(rep(seq));
    assert.ok(["accepted", "duplicate"].includes(update.outcome));
    assert.ok(update.result.progress >= last);
    last = update.result.progress;
  }
  assert.equal(last, 1);
  assert.equal(live.push(JSON.stringify(rep(1, 50))).outcome, "conflict");
  const ended = live.push(end(26));
  assert.equal(ended.ended, true);
  assert.equal(ended.workout.id, "s-1");
  assert.deepEqual(ended.workout.sets, [{ reps: 25, weight_kg: 40 }]);
  const expected = wasm.evaluate(LEG_PRESS, [...saved, ended.workout], undefined, AS_OF)
    .results.find((r) => r.user === "u-01");
  assert.deepEqual(ended.result, expected);
});

test("LiveSession: bad events are rejected updates; bad construction throws", () => {
  const live = new wasm.LiveSession(LEG_PRESS, undefined, AS_OF, JSON.stringify(start));
  for (const bad of ["{", 42, { type: "rep" }, { type: "jump", session: "s-1", seq: 1, ts: AS_OF }, () => 1, 10n]) {
    const update = live.push(bad);
    assert.equal(update.outcome, "rejected", String(bad));
    assert.ok(update.reason.length > 0);
  }
  assert.equal(live.push({ ...rep(1), session: "s-2" }).outcome, "not_this_session");
  rulesError(() => new wasm.LiveSession(LEG_PRESS, [], AS_OF, rep(1)), /session_start/);
  rulesError(() => new wasm.LiveSession(LEG_PRESS, [], "soon", start), /asOf/);
  rulesError(() => new wasm.LiveSession("challenge", [], AS_OF, start), /errors/);
  rulesError(() => new wasm.LiveSession(LEG_PRESS, 3, AS_OF, start), /workouts must be/);
  rulesError(() => new wasm.LiveSession(LEG_PRESS, [], AS_OF, undefined), /missing/);
  rulesError(() => new wasm.LiveSession(LEG_PRESS, [], AS_OF, start, "u-01"), /user record/);
});

test("LiveSession replays a fixture session to the saved workout's result", () => {
  const events = fixture("events.jsonl").trim().split("\n").map((l) => JSON.parse(l));
  const session = "s-u-08-001";
  const mine = events.filter((e) => e.session === session);
  const first = mine.find((e) => e.type === "session_start");
  const challenge = fixture("challenges/leg-press-volume.chal");
  const asOf = "2026-08-31T23:59:59+08:00";
  const live = new wasm.LiveSession(challenge, [], asOf, first);
  let update;
  for (const e of mine) update = live.push(e);
  assert.equal(update.ended, true);
  const expected = wasm.evaluate(challenge, [update.workout], [], asOf).results[0];
  assert.deepEqual(update.result, expected);
});
