// ---------------------------------------------------------------------------------------------
// Types of the rules-wasm package, written by hand from schema/challenge-tree.schema.json
// (language.md §9), the result shape (§8) and the diagnostics (§7). wasm-bindgen puts this
// section into the generated .d.ts; `tsc` checks it in CI against typed fixture trees.
// ---------------------------------------------------------------------------------------------

/** A quantity as written: `{"value": 20, "unit": "min"}`; `unit` is null for counts. */
export interface Quantity {
  value: number;
  unit: string | null;
}

/** A reference to a template param: `{"param": "daily"}` (templates only). */
export interface ParamRef {
  param: string;
}

/** A metric's target. */
export type Target = Quantity | ParamRef;

/** The N of `at_least`, `on` and `streak`: a whole number or a param. */
export type Count = number | ParamRef;

export type Period = "day" | "week" | "month";
export type Aggregate = "sum" | "count" | "max" | "min" | "avg";
export type GoalOp = ">=" | "<=";
export type CmpOp = "==" | "!=" | "<" | "<=" | ">" | ">=";
export type BinOp = "+" | "-" | "*" | "/";
export type Dimension =
  | "count"
  | "mass"
  | "distance"
  | "duration"
  | "speed"
  | "energy"
  | "heart_rate"
  | "percent";

/** A compare value: a quantity, a string (`"leg_press"`, weekdays such as `"mon"`) or a param. */
export type ConditionValue = Quantity | ParamRef | string;

export type Condition =
  | { kind: "and"; terms: Condition[] }
  | { kind: "or"; terms: Condition[] }
  | { kind: "not"; term: Condition }
  | { kind: "compare"; field: string; op: CmpOp; value: ConditionValue }
  | { kind: "in"; field: string; values: ConditionValue[] };

/** `sum(reps of leg_press where weight >= 40 kg) >= 30`. */
export interface MetricGoal {
  kind: "metric";
  aggregate: Aggregate;
  /** A measure (`reps`, `duration`, ...) or, for `count`, `workouts` / `sets` / `days`. */
  measure: string;
  /** Exercises and categories; `[]` for any. */
  of: string[];
  where: Condition | null;
  op: GoalOp;
  target: Target;
}

export type Goal =
  | { kind: "all"; goals: Goal[] }
  | { kind: "any"; goals: Goal[] }
  | { kind: "at_least"; count: Count; goals: Goal[] }
  | { kind: "every"; period: Period; goal: Goal }
  | { kind: "on"; count: Count; period: Period; goal: Goal }
  | { kind: "streak"; count: Count; period: Period; goal: Goal }
  | { kind: "one_workout"; goal: Goal }
  | MetricGoal;

export type Expr =
  | { kind: "number"; value: Quantity }
  | { kind: "param"; name: string }
  | { kind: "binary"; op: BinOp; left: Expr; right: Expr }
  | { kind: "call"; func: string; args: Expr[] }
  | { kind: "profile"; metric: string; exercise: string | null };

/** A template param: `param daily: count = ... else ...`. */
export interface Param {
  name: string;
  dimension: Dimension;
  expr: Expr;
  fallback: Expr | null;
}

export interface Reward {
  name: string;
  points: number | null;
  /** Since 1.1: earned when this tier is first reached (absent: on completion). */
  tier?: string | null;
}

/** Since 1.1: `tier "bronze" at 25 %`, a named level reached at a share of the progress. */
export interface Tier {
  name: string;
  /** A percent in (0 %, 100 %]: `{"value": 25, "unit": "%"}`. */
  at: Quantity;
}

/** One challenge or template: the JSON syntax tree, version 1 (language.md §9). */
export interface Challenge {
  version: 1;
  kind: "challenge" | "template";
  id: string;
  title: string;
  description: string | null;
  /** First and last local day, `YYYY-MM-DD`, both inclusive. */
  window: { start: string; end: string };
  /** IANA time zone; `"UTC"` by default. */
  timezone: string;
  /** Eligible groups; `[]` for everyone. */
  groups: string[];
  /** Gyms whose workouts count; `[]` for all. */
  gyms: string[];
  /** Since 1.1: each group listed is a team (written only when non-empty). */
  teams?: string[];
  rewards: Reward[];
  /** Since 1.1: the tiers in the order written (written only when non-empty). */
  tiers?: Tier[];
  params: Param[];
  goal: Goal;
}

/** Keys with a default (§9) that a tree given as input may leave out. */
export type ChallengeDefaults =
  | "description"
  | "timezone"
  | "groups"
  | "gyms"
  | "rewards"
  | "params";

/** A tree as input: the keys with defaults may be left out. */
export type ChallengeInput = Omit<Challenge, ChallengeDefaults> &
  Partial<Pick<Challenge, ChallengeDefaults>>;

/**
 * A challenge argument: a tree, an array of trees, or a string holding JSON text (starting with
 * `{` or `[`) or DSL text.
 */
export type ChallengeArg = ChallengeInput | ChallengeInput[] | string;

// ----- diagnostics (§7) -----------------------------------------------------------------------

export type Severity = "error" | "warning";

export type DiagnosticCode =
  | "E0001" | "E0002" | "E0003" | "E0004" | "E0005" | "E0006" | "E0007"
  | "E0008" | "E0009" | "E0010" | "E0011" | "E0012" | "E0013" | "E0014"
  | "W0001" | "W0002";

/**
 * An error or warning. For DSL text, `line`/`column` (1-based, columns in characters) and
 * `utf16_start`/`utf16_end` (offsets into the JavaScript string) say where; for JSON trees they
 * are null and `path` (`goal.goals[1].target`) says where.
 */
export interface Diagnostic {
  severity: Severity;
  code: DiagnosticCode;
  message: string;
  help: string | null;
  path: string;
  line: number | null;
  column: number | null;
  end_line: number | null;
  end_column: number | null;
  utf16_start: number | null;
  utf16_end: number | null;
}

export interface ParseResult {
  /** The trees of the declarations that parsed. */
  trees: Challenge[];
  /** Every syntax and check diagnostic, in source order. */
  diagnostics: Diagnostic[];
}

export interface TextResult {
  /** DSL text; null when `diagnostics` holds errors. */
  text: string | null;
  diagnostics: Diagnostic[];
}

// ----- records (data.md) ----------------------------------------------------------------------

export interface WorkoutSet {
  reps: number;
  weight_kg?: number | null;
}

export interface Workout {
  id: string;
  user: string;
  exercise: string;
  gym?: string | null;
  machine?: string | null;
  /** RFC 3339 with an offset. */
  start: string;
  end: string;
  sets?: WorkoutSet[] | null;
  distance_m?: number | null;
  calories_kcal?: number | null;
  avg_hr_bpm?: number | null;
  incline_pct?: number | null;
}

export interface User {
  id: string;
  name?: string | null;
  groups?: string[] | null;
  birth_date?: string | null;
  sex?: string | null;
  body_weight_kg?: number | null;
  height_cm?: number | null;
}

/** Records: an array of objects, or JSON Lines text (one record per line). */
export type RecordsArg<T> = T[] | string;

export interface Rejection {
  /** 1-based line (array index + 1 for arrays). */
  line: number;
  reason: string;
}

/** `read == accepted + rejected.length`. */
export interface RecordReport {
  read: number;
  accepted: number;
  rejected: Rejection[];
}

// ----- results (§8) ---------------------------------------------------------------------------

export type Status = "ineligible" | "not_started" | "completed" | "failed" | "in_progress";

/** A value in canonical units (`kg`, `m`, `s`, `m/s`, `kcal`, `bpm`, `%`; null for counts). */
export interface Amount {
  value: number;
  unit: string | null;
}

export interface PeriodResult {
  /** First local date of the period as cut to the window, `YYYY-MM-DD`. */
  start: string;
  met: boolean;
  progress: number;
}

interface NodeBase {
  met: boolean;
  failed: boolean;
  /** In [0, 1]; 1 exactly when met. */
  progress: number;
}

export type NodeResult =
  | (NodeBase & { kind: "all" | "any"; goals: NodeResult[] })
  | (NodeBase & { kind: "at_least"; count: number; goals: NodeResult[] })
  | (NodeBase & { kind: "every"; period: Period; periods: PeriodResult[]; goal: NodeResult })
  | (NodeBase & {
      kind: "on";
      period: Period;
      count: number;
      periods: PeriodResult[];
      goal: NodeResult;
    })
  | (NodeBase & {
      kind: "streak";
      period: Period;
      count: number;
      periods: PeriodResult[];
      longest: number;
      current: number;
      goal: NodeResult;
    })
  | (NodeBase & { kind: "one_workout"; goal: NodeResult })
  | (NodeBase & { kind: "metric"; value: Amount | null; op: GoalOp; target: Amount });

/** A team member and how many of their workouts count (language.md §10). */
export interface TeamMember {
  user: string;
  workouts: number;
}

interface EvalResultBase {
  challenge: string;
  /** Echoed as given. */
  as_of: string;
  status: Status;
  progress: number;
  /**
   * Since 1.1, present only when the challenge has tiers: the highest tier reached, or null.
   */
  tier?: string | null;
  tree: NodeResult;
}

/**
 * One (challenge, user) result, or (since 1.1) one (challenge, team) result of a team
 * challenge: a line of `challenge eval`.
 */
export type EvalResult =
  | (EvalResultBase & { user: string })
  | (EvalResultBase & { team: string; members: TeamMember[] });

export interface Evaluation {
  /** Sorted by challenge id, then user id. */
  results: EvalResult[];
  /** The challenge's warnings. */
  diagnostics: Diagnostic[];
  workouts: RecordReport;
  users: RecordReport;
}

export interface Vocabulary {
  exercises: { id: string; category: "strength" | "bodyweight" | "cardio"; name: string }[];
  categories: string[];
  measures: { name: string; dimension: Dimension; unit: string | null }[];
  units: { symbol: string; dimension: Dimension }[];
  aggregates: Aggregate[];
  periods: Period[];
}

/** What `evaluate`, `LiveSession` and the other exports throw for a bad call. */
export interface RulesError extends Error {
  name: "RulesError";
  /** The challenge's diagnostics when they are the reason. */
  diagnostics: Diagnostic[];
}

// ----- sensor events and live sessions (data.md) ------------------------------------------------

export type SensorEvent =
  | {
      type: "session_start";
      session: string;
      seq: number;
      ts: string;
      device?: string | null;
      gym?: string | null;
      user: string;
      exercise: string;
    }
  | { type: "rep"; session: string; seq: number; ts: string; weight_kg?: number | null; rom_pct?: number | null }
  | {
      type: "sample";
      session: string;
      seq: number;
      ts: string;
      distance_m?: number | null;
      speed_kmh?: number | null;
      incline_pct?: number | null;
      hr_bpm?: number | null;
      calories_kcal?: number | null;
    }
  | { type: "session_end"; session: string; seq: number; ts: string }
  | { type: "user_upsert"; seq?: number | null; ts: string; user: User }
  | { type: "workout"; seq?: number | null; ts: string; source?: string | null; workout: Workout };

/** What `LiveSession.push` and `LiveSession.current` give. */
export interface LiveUpdate {
  /** How the event was taken (`none` for `current()`). */
  outcome: "accepted" | "duplicate" | "conflict" | "not_this_session" | "rejected" | "none";
  /** Why an event was rejected or kept out. */
  reason: string | null;
  /** Events the session holds. */
  events: number;
  /** Whether `session_end` has arrived. */
  ended: boolean;
  /** The session's workout so far. */
  workout: Workout | null;
  /** The challenge's result for the user with that workout counted. */
  result: EvalResult;
}
