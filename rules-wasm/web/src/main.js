// The challenge editor page: a DSL editor (CodeMirror 6) and a structured tree editor that edit
// the same JSON tree through rules-wasm, a preview on sample workouts, and a live session demo.
// Everything about the language (parsing, checks, printing, evaluation, the save rules) is the
// WASM module's; this file only shows it.
import init, { parse, format, decompile, evaluate, vocabulary, LiveSession } from "../../pkg/rules_wasm.js";
import { EditorView, basicSetup } from "codemirror";
import { StreamLanguage } from "@codemirror/language";
import { linter, lintGutter, setDiagnostics } from "@codemirror/lint";
import { $, el, bar, calendar, firstPeriods, badge } from "./ui.js";
import { startConsole } from "./console.js";

const KEYWORDS = new Set(("challenge template title description window to timezone groups gyms reward points " +
  "param goal all any at least of on every streak in one workout where and or not sum count max min avg day days " +
  "week weeks month months strength bodyweight cardio else profile teams tier").split(" "));
const UNITS = new Set(["km/h", "m/s", "kcal", "mph", "bpm", "min", "kg", "lb", "km", "mi", "kJ", "g", "m", "s", "h"]);

/** DSL highlighting: a small tokenizer, no grammar (the parser is the WASM module's). */
const dsl = StreamLanguage.define({
  name: "challenge",
  token(stream) {
    if (stream.eatSpace()) return null;
    if (stream.match("//")) { stream.skipToEnd(); return "comment"; }
    if (stream.match(/^"(?:[^"\\]|\\.)*"?/)) return "string";
    if (stream.match(/^\d{4}-\d{2}-\d{2}/)) return "atom";
    if (stream.match(/^\d+(?:\.\d+)?/)) return "number";
    if (stream.match(/^\$[A-Za-z_]\w*/)) return "variableName.special";
    if (stream.match(/^(?:km\/h|m\/s)/)) return "unit";
    if (stream.match(/^(?:>=|<=|==|!=|[<>+\-*/|=:,%])/)) return "operator";
    if (stream.match(/^[{}()]/)) return "bracket";
    if (stream.match(/^[A-Za-z_][\w]*/)) {
      const word = stream.current();
      if (KEYWORDS.has(word)) return "keyword";
      if (UNITS.has(word)) return "unit";
      return "variableName";
    }
    stream.next();
    return null;
  },
  languageData: { commentTokens: { line: "//" } },
});

const state = {
  trees: [],            // the trees of the last parse
  tree: null,           // the tree the tree pane edits (the first declaration)
  skipTreeRender: false, // the next parse came from the tree pane: keep its inputs (and focus)
  samples: { challenges: {}, workouts: "", users: "", sessions: {} },
  pickedWorkouts: null,
  vocab: null,
};

// ----- the DSL editor ---------------------------------------------------------------------------

function lint(view) {
  const text = view.state.doc.toString();
  const { trees, diagnostics } = parse(text);
  state.trees = trees;
  showProblems(diagnostics);
  if (state.skipTreeRender) {
    state.skipTreeRender = false;
  } else if (trees.length > 0) {
    state.tree = structuredClone(trees[0]);
    renderTree();
  }
  schedulePreview();
  const length = text.length;
  return diagnostics.map((d) => {
    const from = Math.min(d.utf16_start ?? 0, length);
    const to = Math.min(Math.max(d.utf16_end ?? from, from), length);
    return {
      from, to, severity: d.severity,
      source: d.code,
      message: d.message + (d.help ? `\nhelp: ${d.help}` : ""),
    };
  });
}

function showProblems(diagnostics) {
  const list = $("problems");
  list.replaceChildren(...diagnostics.map((d) => el("li", { className: `sev-${d.severity}` },
    `${d.line}:${d.column} ${d.severity}[${d.code}]: ${d.message}${d.help ? ` — ${d.help}` : ""}`)));
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  const warnings = diagnostics.length - errors;
  const status = $("status");
  status.textContent = errors + warnings === 0 ? "✓ no problems" : `${errors} error(s), ${warnings} warning(s)`;
  status.className = errors ? "error" : "ok";
}

let view;

function setText(text, fromTree = false) {
  state.skipTreeRender = fromTree;
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
}

/** Diagnostics from elsewhere (the server's `422`), shown as the local ones are: underlined in
 *  the editor, in the gutter and in the list. Lines and columns are 1-based; offsets UTF-16. */
function showDiagnostics(diagnostics) {
  showProblems(diagnostics);
  const doc = view.state.doc;
  const at = (line, column) => {
    if (!line) return 0;
    const l = doc.line(Math.min(Math.max(line, 1), doc.lines));
    return Math.min(l.from + Math.max((column ?? 1) - 1, 0), l.to);
  };
  view.dispatch(setDiagnostics(view.state, diagnostics.map((d) => {
    const from = Math.min(d.utf16_start ?? at(d.line, d.column), doc.length);
    const to = Math.min(Math.max(d.utf16_end ?? at(d.end_line ?? d.line, d.end_column ?? d.column), from), doc.length);
    return { from, to, severity: d.severity, source: d.code, message: d.message + (d.help ? `\nhelp: ${d.help}` : "") };
  })));
}

// ----- the tree pane ----------------------------------------------------------------------------

const GOAL_KINDS = ["all", "any", "at_least", "every", "on", "streak", "one_workout", "metric"];

function newGoal(kind, old) {
  const children = old?.goals ?? (old?.goal ? [old.goal] : []);
  const child = children[0] ?? newGoal("metric");
  switch (kind) {
    case "all": case "any": return { kind, goals: children.length ? children : [child] };
    case "at_least": return { kind, count: 1, goals: children.length ? children : [child] };
    case "every": return { kind, period: old?.period ?? "day", goal: child };
    case "on": case "streak": return { kind, count: old?.count ?? 3, period: old?.period ?? "day", goal: child };
    case "one_workout": return { kind, goal: child };
    default: return { kind: "metric", aggregate: "count", measure: "workouts", of: [], where: null, op: ">=", target: { value: 1, unit: null } };
  }
}

function getAt(path) { return path.reduce((node, key) => node?.[key], state.tree); }
function setAt(path, value) {
  const parent = getAt(path.slice(0, -1));
  if (parent) parent[path[path.length - 1]] = value;
}

/** A tree edit: decompile the tree and put the text in the editor (or show why not). */
function treeChanged(structural = false) {
  const others = state.trees.slice(1);
  const out = decompile(others.length ? [state.tree, ...others] : state.tree);
  const problems = $("tree-problems");
  if (out.text !== null) {
    problems.replaceChildren();
    setText(out.text, !structural);
  } else {
    problems.replaceChildren(...out.diagnostics.map((d) => el("li", { className: `sev-${d.severity}` },
      `${d.path || "(tree)"}: ${d.severity}[${d.code}]: ${d.message}`)));
  }
  if (structural) renderTree();
}

function input(path, value, props = {}) {
  const { list, split, nullable, ...attrs } = props;
  const node = el("input", { value: value ?? "", ...attrs });
  if (list) node.setAttribute("list", list);
  node.dataset.path = path.join(".");
  node.addEventListener("input", () => {
    let v = node.value;
    if (props.type === "number") {
      if (v === "" || !Number.isFinite(Number(v))) return;
      v = Number(v);
    } else if (list === "units" || nullable) {
      v = v.trim() === "" ? null : v.trim();
    }
    if (split) v = node.value.split(",").map((s) => s.trim()).filter(Boolean);
    setAt(path, v);
    treeChanged();
  });
  return node;
}

function select(path, value, options) {
  const node = el("select", {}, ...options.map((o) => el("option", { value: o, textContent: o, selected: o === value })));
  node.dataset.path = path.join(".");
  node.addEventListener("change", () => { setAt(path, node.value); treeChanged(); });
  return node;
}

const field = (label, control) => el("label", {}, label, control);

function renderHeader(t) {
  return el("fieldset", {}, el("legend", {}, `${t.kind} “${t.id}”`),
    el("div", { className: "row" }, field("id", input(["id"], t.id, { size: 18 })), field("title", input(["title"], t.title, { size: 30 }))),
    el("div", { className: "row" }, field("description", input(["description"], t.description, { size: 52, nullable: true }))),
    el("div", { className: "row" },
      field("window", input(["window", "start"], t.window.start, { type: "date" })),
      field("to", input(["window", "end"], t.window.end, { type: "date" })),
      field("timezone", input(["timezone"], t.timezone, { size: 16 }))),
    el("div", { className: "row" },
      field("groups", input(["groups"], t.groups.join(", "), { size: 20, split: true })),
      field("gyms", input(["gyms"], t.gyms.join(", "), { size: 20, split: true })),
      field("teams", input(["teams"], (t.teams ?? []).join(", "), { size: 20, split: true, placeholder: "none: per user" }))),
    renderTiers(t));
}

/** Tiers (language.md §10): a name and a percent each; the checker says what is wrong (E0014). */
function renderTiers(t) {
  const tiers = t.tiers ?? [];
  const rows = tiers.map((tier, i) => el("div", { className: "row tier-row" },
    field("tier", input(["tiers", i, "name"], tier.name, { size: 12 })),
    field("at", input(["tiers", i, "at", "value"], tier.at.value, { type: "number", step: "any", min: 0, max: 100 })),
    el("span", {}, tier.at.unit ?? ""),
    el("button", { type: "button", textContent: "✕", title: "remove the tier",
      onclick: () => { tiers.splice(i, 1); t.tiers = tiers; treeChanged(true); } })));
  const add = el("button", { type: "button", textContent: "+ tier", title: "add a tier",
    onclick: () => {
      const used = new Set(tiers.map((x) => x.at.value));
      const at = [25, 50, 75, 100, 10, 90].find((v) => !used.has(v)) ?? 60;
      t.tiers = [...tiers, { name: ["bronze", "silver", "gold"][tiers.length] ?? `tier ${tiers.length + 1}`, at: { value: at, unit: "%" } }];
      treeChanged(true);
    } });
  return el("fieldset", { className: "tiers" }, el("legend", {}, "tiers"), ...rows, add);
}

function countControl(path, count) {
  return typeof count === "number"
    ? field("N", input(path, count, { type: "number", min: 1, step: 1 }))
    : el("span", {}, `N = $${count.param}`);
}

function renderGoal(goal, path, siblings) {
  const card = el("div", { className: `card ${goal.kind}` });
  card.dataset.path = path.join(".");
  const kind = el("select", {}, ...GOAL_KINDS.map((k) => el("option", { value: k, textContent: k, selected: k === goal.kind })));
  kind.className = "kind";
  kind.addEventListener("change", () => { setAt(path, newGoal(kind.value, goal)); treeChanged(true); });
  const tools = el("span", { className: "tools" });
  if (siblings) {
    const index = path[path.length - 1];
    const move = (delta) => {
      const j = index + delta;
      if (j < 0 || j >= siblings.length) return;
      [siblings[index], siblings[j]] = [siblings[j], siblings[index]];
      treeChanged(true);
    };
    tools.append(el("button", { type: "button", textContent: "↑", title: "move up", onclick: () => move(-1) }),
      el("button", { type: "button", textContent: "↓", title: "move down", onclick: () => move(1) }),
      el("button", { type: "button", textContent: "✕", title: "remove", disabled: siblings.length < 2,
        onclick: () => { siblings.splice(index, 1); treeChanged(true); } }));
  }
  const head = el("div", { className: "head" }, kind);
  card.append(head);
  if (goal.kind === "metric") {
    const v = state.vocab;
    head.append(
      select([...path, "aggregate"], goal.aggregate, v.aggregates),
      field("", input([...path, "measure"], goal.measure, { size: 9, list: "measures" })),
      field("of", input([...path, "of"], goal.of.join(", "), { size: 14, split: true, placeholder: "any" })),
      select([...path, "op"], goal.op, [">=", "<="]));
    if ("value" in goal.target) {
      head.append(input([...path, "target", "value"], goal.target.value, { type: "number", step: "any", min: 0 }),
        input([...path, "target", "unit"], goal.target.unit, { size: 5, list: "units", placeholder: "unit" }));
    } else {
      head.append(el("span", {}, `$${goal.target.param}`));
    }
    if (goal.where) card.append(el("div", { className: "row" }, el("small", {}, "where … (edit conditions in the DSL)")));
  } else {
    if ("count" in goal) head.append(countControl([...path, "count"], goal.count));
    if ("period" in goal) head.append(select([...path, "period"], goal.period, state.vocab.periods));
    if (goal.goals) {
      head.append(el("button", { type: "button", textContent: "+ goal", title: "add a goal",
        onclick: () => { goal.goals.push(newGoal("metric")); treeChanged(true); } }));
    }
  }
  head.append(tools);
  const children = el("div", { className: "children" });
  if (goal.goals) goal.goals.forEach((g, i) => children.append(renderGoal(g, [...path, "goals", i], goal.goals)));
  if (goal.goal) children.append(renderGoal(goal.goal, [...path, "goal"], null));
  card.append(children);
  return card;
}

function renderTree() {
  const form = $("tree");
  if (!state.tree) { form.replaceChildren(el("p", {}, "No tree yet: fix the errors on the left.")); return; }
  form.replaceChildren(renderHeader(state.tree),
    el("fieldset", {}, el("legend", {}, "goal"), renderGoal(state.tree.goal, ["goal"], null)));
}

// ----- preview ----------------------------------------------------------------------------------

let previewTimer;
function schedulePreview() { clearTimeout(previewTimer); previewTimer = setTimeout(runPreview, 250); }

function runPreview() {
  const body = $("results").tBodies[0];
  const challenges = state.trees.filter((t) => t.kind === "challenge");
  if (!challenges.length) { body.replaceChildren(); $("records").textContent = "no challenge to evaluate"; return; }
  const workouts = state.pickedWorkouts ?? state.samples.workouts;
  const users = state.pickedWorkouts ? undefined : state.samples.users;
  try {
    const out = evaluate(challenges, workouts, users, $("as-of").value.trim());
    $("records").textContent = `workouts: read ${out.workouts.read}, accepted ${out.workouts.accepted}, rejected ${out.workouts.rejected.length}` +
      (users ? ` · users: ${out.users.accepted}` : " · no user records (everyone in no group)");
    body.replaceChildren(...out.results.map((r) => {
      // A team row (language.md §10) names the team and lists its members under it.
      const who = r.team !== undefined ? `team ${r.team}` : r.user;
      const members = r.members
        ? el("div", { className: "members" }, r.members.length
          ? r.members.map((m) => `${m.user} (${m.workouts})`).join(", ")
          : "no members")
        : null;
      return el("tr", { className: r.team !== undefined ? "team-row" : "" },
        el("td", {}, challenges.length > 1 ? `${r.challenge} · ${who}` : who, members),
        el("td", {}, badge(r)),
        el("td", {}, bar(r.progress)),
        el("td", {}, calendar(firstPeriods(r.tree))));
    }));
  } catch (e) {
    $("records").textContent = e.message;
    body.replaceChildren();
  }
}

// ----- live session -----------------------------------------------------------------------------

let replay;
function playSession() {
  clearInterval(replay);
  const events = state.samples.sessions[$("session").value] ?? [];
  const start = events.find((e) => e.type === "session_start");
  const end = events.findLast((e) => e.type === "session_end");
  const challenge = state.trees.find((t) => t.kind === "challenge");
  if (!start || !challenge) { $("live-status").textContent = "needs a challenge without errors"; return; }
  const user = state.samples.users.trim().split("\n").map((l) => JSON.parse(l)).find((u) => u.id === start.user);
  let live;
  try {
    live = new LiveSession(challenge, state.samples.workouts, end.ts, start, user);
  } catch (e) { $("live-status").textContent = e.message; return; }
  const rest = events.filter((e) => e !== start);
  let i = 0;
  const show = (u) => {
    $("live-bar").style.width = `${(u.result.progress * 100).toFixed(1)}%`;
    $("live-status").textContent = `${start.user} · ${start.exercise} · event ${i}/${rest.length} · ${u.outcome} · ` +
      `${u.result.status.replace("_", " ")} · ${Math.round(u.result.progress * 100)}%${u.ended ? " · session saved" : ""}`;
    $("live-workout").textContent = JSON.stringify(u.workout, null, 1);
  };
  show(live.current());
  replay = setInterval(() => {
    if (i >= rest.length) { clearInterval(replay); live.free(); return; }
    show(live.push(rest[i++]));
  }, 25);
}

// ----- wiring -----------------------------------------------------------------------------------

async function main() {
  await init();
  state.vocab = vocabulary();
  document.body.append(
    el("datalist", { id: "units" }, ...state.vocab.units.map((u) => el("option", { value: u.symbol }))),
    el("datalist", { id: "measures" }, ...[...state.vocab.measures.map((m) => m.name), "workouts", "sets", "days"].map((m) => el("option", { value: m }))));
  const [challenges, workouts, users, sessions] = await Promise.all([
    fetch("samples/challenges.json").then((r) => r.json()),
    fetch("samples/workouts.jsonl").then((r) => r.text()),
    fetch("samples/users.jsonl").then((r) => r.text()),
    fetch("samples/sessions.json").then((r) => r.json()),
  ]);
  state.samples = { challenges, workouts, users, sessions };
  const sample = $("sample");
  sample.replaceChildren(...Object.keys(challenges).map((k) => el("option", { value: k, textContent: k, selected: k === "national-day" })));
  $("session").replaceChildren(...Object.entries(sessions).map(([id, es]) => {
    const s = es.find((e) => e.type === "session_start");
    return el("option", { value: id, textContent: `${id} (${s.user}, ${s.exercise}, ${es.length} events)` });
  }));

  view = new EditorView({
    doc: challenges["national-day"] ?? "",
    parent: $("editor"),
    extensions: [basicSetup, dsl, lintGutter(), linter(lint, { delay: 200 }), EditorView.lineWrapping],
  });
  window.editorView = view; // for tests and the console

  sample.addEventListener("change", () => setText(challenges[sample.value]));
  $("format").addEventListener("click", () => {
    const out = format(view.state.doc.toString());
    if (out.text !== null) setText(out.text);
  });
  $("export").addEventListener("click", () => {
    const data = state.trees.length === 1 ? state.trees[0] : state.trees;
    const a = el("a", { href: URL.createObjectURL(new Blob([JSON.stringify(data, null, 2) + "\n"], { type: "application/json" })),
      download: `${state.trees[0]?.id ?? "challenge"}.json` });
    a.click();
    URL.revokeObjectURL(a.href);
  });
  $("import").addEventListener("change", async (e) => {
    const file = e.target.files[0];
    if (!file) return;
    const out = decompile(await file.text());
    if (out.text !== null) setText(out.text);
    else $("tree-problems").replaceChildren(...out.diagnostics.map((d) => el("li", { className: `sev-${d.severity}` },
      `${file.name} ${d.path || ""}: ${d.severity}[${d.code}]: ${d.message}`)));
    e.target.value = "";
  });
  $("as-of").addEventListener("input", schedulePreview);
  $("source").addEventListener("change", () => {
    if ($("source").value === "file") $("workouts-file").click();
    else { state.pickedWorkouts = null; schedulePreview(); }
  });
  $("workouts-file").addEventListener("change", async (e) => {
    const file = e.target.files[0];
    if (file) { state.pickedWorkouts = await file.text(); schedulePreview(); }
  });
  $("play").addEventListener("click", playSession);
  await startConsole({
    getText: () => view.state.doc.toString(),
    setText,
    trees: () => state.trees,
    showDiagnostics,
  });
}

main().catch((e) => { $("status").textContent = `failed to start: ${e.message}`; $("status").className = "error"; });
