// Compiled by `tsc` in CI against the generated rules_wasm.d.ts: the types must be real enough
// for this to check, and wrong uses (the @ts-expect-error lines) must fail.
import init, {
  parse, check, format, decompile, evaluate, evaluateJsonl, vocabulary, LiveSession,
  type Challenge, type Diagnostic, type EvalResult, type Goal, type LiveUpdate, type NodeResult,
  type Workout,
} from "../../pkg/rules_wasm.js";

export async function demo(): Promise<number> {
  await init();
  const { trees, diagnostics } = parse('challenge "x" { title "x" window 2026-08-01 to 2026-08-31 goal count(workouts) >= 1 }');
  const first: Diagnostic | undefined = diagnostics[0];
  const line: number | null = first?.line ?? null;
  const tree: Challenge = trees[0];
  const goal: Goal = tree.goal;
  if (goal.kind === "metric") {
    const unit: string | null = "value" in goal.target ? goal.target.unit : null;
    void unit;
  }
  const errors: Diagnostic[] = check({ ...tree, timezone: undefined });
  const text: string | null = format("challenge ...").text ?? decompile(tree).text;
  const workouts: Workout[] = [{ id: "w", user: "u", exercise: "bike", start: "2026-08-01T07:00:00Z", end: "2026-08-01T07:30:00Z" }];
  const results: EvalResult[] = evaluate(tree, workouts, undefined, "2026-08-02T00:00:00Z").results;
  const lines: string = evaluateJsonl([tree], "", "", "2026-08-02T00:00:00Z");
  const node: NodeResult = results[0].tree;
  if (node.kind === "every") {
    const days: number = node.periods.filter((p) => p.met).length;
    void days;
  }
  const live = new LiveSession(tree, workouts, "2026-08-02T00:00:00Z",
    { type: "session_start", session: "s", seq: 0, ts: "2026-08-01T08:00:00Z", user: "u", exercise: "bike" });
  const update: LiveUpdate = live.push({ type: "sample", session: "s", seq: 1, ts: "2026-08-01T08:01:00Z", distance_m: 300 });
  const exercises: string[] = vocabulary().exercises.map((e) => e.id);
  // @ts-expect-error: a tree has no `name`
  void tree.name;
  // @ts-expect-error: status is a closed set
  const s: EvalResult["status"] = "done";
  void s;
  return (line ?? 0) + errors.length + (text?.length ?? 0) + lines.length + update.result.progress + exercises.length;
}
