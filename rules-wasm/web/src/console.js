// The console of `challenge serve` (service.md "The console"): when the page is served by the
// server, the editor loads and saves challenges through the API, and a member page shows a
// user's challenges (status, progress bar, calendar, rewards) updated from the stream, with the
// sessions under way evaluated here by the WASM `LiveSession` as their sensor events arrive.
// Served by any static server (no `/v1/health`), the page stays the editor alone.
//
// The stream is read with fetch (a ReadableStream), not EventSource, so that the token can go in
// an `Authorization` header; the resume after a dropped connection (`Last-Event-ID`) and the
// refetch after `reset` are done here.
import { LiveSession } from "../../pkg/rules_wasm.js";
import { $, el, bar, calendar, firstPeriods, badge } from "./ui.js";

const TOKEN_KEY = "challenge-console-token";
const USER_KEY = "challenge-console-user";

// ----- the API ----------------------------------------------------------------------------------

function token() { return sessionStorage.getItem(TOKEN_KEY) ?? ""; }

function headers(extra = {}) {
  const h = { ...extra };
  if (token()) h.Authorization = `Bearer ${token()}`;
  return h;
}

/** A request to the API; `{ status, body }` (body parsed as JSON when it is JSON). */
async function api(path, { method = "GET", body, type, accept = "application/json" } = {}) {
  const init = { method, headers: headers({ Accept: accept }) };
  if (body !== undefined) { init.body = body; init.headers["Content-Type"] = type ?? "application/json"; }
  const r = await fetch(path, init);
  const text = await r.text();
  let parsed = text;
  if ((r.headers.get("content-type") ?? "").includes("json")) {
    try { parsed = JSON.parse(text); } catch { /* keep the text */ }
  }
  return { status: r.status, ok: r.ok, body: parsed };
}

const errorText = (r) => r.body?.error ? `${r.status} ${r.body.error.code}: ${r.body.error.message}` : `HTTP ${r.status}`;
const enc = encodeURIComponent;

// ----- people and quantities --------------------------------------------------------------------

function when(ts) {
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? ts : d.toISOString().replace("T", " ").slice(0, 16) + " UTC";
}

// ----- the editor's server bar ------------------------------------------------------------------

async function refreshList(editor) {
  const r = await api("/v1/challenges");
  const list = $("server-list");
  if (!r.ok) { $("server-status").textContent = `challenges: ${errorText(r)}`; return []; }
  list.replaceChildren(...r.body.map((c) => el("option", { value: c.id, textContent: `${c.id} — ${c.title}` })));
  return r.body;
}

async function loadChallenge(editor) {
  const id = $("server-list").value;
  if (!id) return;
  const r = await api(`/v1/challenges/${enc(id)}`, { accept: "text/plain" });
  if (!r.ok) { $("server-status").textContent = `load ${id}: ${errorText(r)}`; return; }
  editor.setText(typeof r.body === "string" ? r.body : JSON.stringify(r.body));
  $("server-status").textContent = `loaded ${id}`;
}

async function saveChallenge(editor) {
  const text = editor.getText();
  // The id of the text as it is now (the last parse may be a keystroke behind).
  const id = /(?:^|\n)\s*challenge\s+"([^"]+)"/.exec(text)?.[1] ?? editor.trees()[0]?.id;
  if (!id) { $("server-status").textContent = "save: no challenge id in the text"; return; }
  $("server-status").textContent = `saving ${id}…`;
  const r = await api(`/v1/challenges/${enc(id)}`, { method: "PUT", body: text, type: "text/plain" });
  const status = $("server-status");
  if (r.ok) {
    // The list first, then the status: "saved" means the list already shows it, selected.
    await refreshList(editor);
    $("server-list").value = id;
    status.textContent = `saved ${id} (${String(r.body.hash ?? "").slice(0, 12)})`;
    status.className = "ok";
  } else if (r.status === 422 && Array.isArray(r.body?.error?.diagnostics ?? r.body?.diagnostics)) {
    const diagnostics = r.body.error?.diagnostics ?? r.body.diagnostics;
    editor.showDiagnostics(diagnostics);
    status.textContent = `not saved: ${diagnostics.length} problem(s) from the server`;
    status.className = "error";
  } else {
    status.textContent = `not saved: ${errorText(r)}`;
    status.className = "error";
  }
}

// ----- the member page --------------------------------------------------------------------------

const member = {
  user: null,          // the user watched
  record: null,        // their user record (for LiveSession), if readable
  challenges: [],      // [{ id, title, window, hash }]
  trees: new Map(),    // challenge id → { hash, tree }
  results: new Map(),  // challenge id → result row (user or team)
  live: new Map(),     // challenge id → the server's live row
  workouts: new Map(), // workout id → saved workout (from `workout` events)
  rewards: null,       // null: no rewards endpoint; else the rows
  profile: null,
  sessions: new Map(), // session id → { start, events, lives: Map(challenge → LiveSession), updates, ended }
  pending: new Map(),  // session id → sensor events that came before their session_start
  stream: null,        // the AbortController of the stream
  lastId: null,        // the last change id received (Last-Event-ID)
  refetch: false,      // refetch everything once the stream is open again (after `reset`)
  events: 0,
};

function setConnection(state, detail = "") {
  const node = $("connection");
  node.dataset.state = state;
  node.textContent = state + (detail ? ` · ${detail}` : "");
}

let renderQueued = false;
function render() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => { renderQueued = false; renderNow(); });
}

function renderNow() {
  const cards = $("cards");
  const ids = new Set([...member.challenges.map((c) => c.id), ...member.results.keys()]);
  const titles = new Map(member.challenges.map((c) => [c.id, c]));
  cards.replaceChildren(...[...ids].sort().map((id) => {
    const r = member.results.get(id);
    const c = titles.get(id);
    const live = member.live.get(id);
    const card = el("article", { className: "member-card" });
    card.dataset.challenge = id;
    card.append(el("h3", {}, c?.title ?? id, el("small", {}, ` ${id}`)));
    if (c?.window) card.append(el("div", { className: "muted" }, `${c.window.start ?? c.window[0] ?? ""} to ${c.window.end ?? c.window[1] ?? ""}`));
    if (!r) {
      card.append(el("div", { className: "muted" }, "no result yet"));
      return card;
    }
    card.append(el("div", { className: "row" }, badge(r), bar(r.progress)),
      el("div", {}, calendar(firstPeriods(r.tree))),
      el("div", { className: "muted" }, `as of ${when(r.as_of)}${r.team !== undefined ? ` · team ${r.team}` : ""}`));
    if (live && live.progress !== undefined) {
      card.append(el("div", { className: "server-live" }, "live (server): ", badge(live), bar(live.progress)));
    }
    return card;
  }));
  $("member-summary").textContent = member.user
    ? `${member.record?.name ?? member.user} (${member.user}) · ${member.results.size} result(s) · ${member.workouts.size} saved workout(s) known · ${member.events} event(s) received`
    : "";
  renderRewards();
  renderSessions();
}

function renderRewards() {
  const section = $("rewards");
  if (member.rewards === null) { section.hidden = true; return; }
  section.hidden = false;
  const total = member.rewards.reduce((s, r) => s + (r.points ?? 0), 0);
  $("rewards-total").textContent = `${total} points`;
  $("rewards-list").replaceChildren(...member.rewards.map((r) =>
    el("li", {}, el("strong", {}, r.name), ` · ${r.points} points · ${r.challenge} · ${when(r.at)}`)));
}

function renderSessions() {
  const rows = [...member.sessions.entries()];
  $("sessions-empty").hidden = rows.length > 0;
  $("sessions").replaceChildren(...rows.map(([id, s]) => {
    const row = el("div", { className: `live-row${s.ended ? " ended" : ""}` });
    row.dataset.session = id;
    row.append(el("div", { className: "live-head" },
      el("strong", {}, s.start.exercise ?? "session"), ` · ${id} · ${s.events} event(s)`,
      s.ended ? " · saved" : " · under way"));
    for (const [challenge, u] of s.updates) {
      row.append(el("div", { className: "row" }, el("span", { className: "live-challenge" }, challenge),
        u.error ? el("span", { className: "muted" }, u.error) : badge(u.result), u.error ? null : bar(u.result.progress)));
    }
    if (!s.updates.size) row.append(el("div", { className: "muted" }, "no challenge takes this session"));
    return row;
  }));
}

/** The user's workouts saved so far, for a LiveSession (the session's own one left out). */
function savedWorkouts(session) {
  return [...member.workouts.values()].filter((w) => w.session !== session && w.id !== session);
}

function laterOf(a, b) {
  if (!a) return b;
  if (!b) return a;
  return Date.parse(a) >= Date.parse(b) ? a : b;
}

function startSession(start) {
  const s = { start, events: 1, lives: new Map(), updates: new Map(), ended: false };
  for (const c of member.challenges) {
    const tree = member.trees.get(c.id)?.tree;
    if (!tree || tree.kind !== "challenge" || (tree.teams ?? []).length) continue;
    // As of the session's start or the server's last result, whichever is later: the session
    // counts (it starts then), and the periods are those the server's card shows.
    const asOf = laterOf(start.ts, member.results.get(c.id)?.as_of);
    try {
      const live = new LiveSession(tree, savedWorkouts(start.session), asOf, start, member.record ?? undefined);
      s.lives.set(c.id, live);
      s.updates.set(c.id, live.current());
    } catch (e) {
      s.updates.set(c.id, { error: e.message });
    }
  }
  // A challenge the user takes no part in (ineligible) is not a live row.
  for (const [id, u] of s.updates) if (u.result?.status === "ineligible" || u.error) s.updates.delete(id);
  member.sessions.get(start.session)?.lives.forEach((l) => l.free());
  member.sessions.set(start.session, s);
  for (const e of member.pending.get(start.session) ?? []) pushSensor(s, e);
  member.pending.delete(start.session);
}

function pushSensor(s, event) {
  s.events += 1;
  for (const [id, live] of s.lives) {
    const u = live.push(event);
    if (s.updates.has(id)) s.updates.set(id, u);
    if (u.ended) s.ended = true;
  }
  if (event.type === "session_end") s.ended = true;
}

function onSensor(line) {
  let event;
  try { event = JSON.parse(line); } catch { return; }
  if (!event.session) return;
  if (event.type === "session_start") { startSession(event); return; }
  const s = member.sessions.get(event.session);
  if (s) pushSensor(s, event);
  else {
    const waiting = member.pending.get(event.session) ?? [];
    if (waiting.length < 10000) waiting.push(event);
    member.pending.set(event.session, waiting);
  }
}

function mine(row) {
  return row && (row.user === member.user || row.user === undefined);
}

function onEvent(type, data) {
  member.events += 1;
  if (type === "reset") {
    // The server no longer has the changes after our id: start again from what it has now.
    member.lastId = null;
    member.refetch = true;
    return;
  }
  if (type === "sensor") { onSensor(data); render(); return; }
  let row;
  try { row = JSON.parse(data); } catch { return; }
  switch (type) {
    case "result": if (mine(row)) member.results.set(row.challenge, row); break;
    case "live": if (mine(row)) member.live.set(row.challenge, row); break;
    case "workout": if (row.id) member.workouts.set(row.id, row); break;
    case "profile": member.profile = row; break;
    case "reward":
      if (member.rewards !== null) {
        member.rewards = member.rewards.filter((r) => !(r.challenge === row.challenge && r.name === row.name));
        member.rewards.push(row);
      } else fetchRewards().then(render);
      break;
    default: break; // leaderboard: not on this page
  }
  render();
}

async function fetchRewards() {
  const r = await api(`/v1/users/${enc(member.user)}/rewards`);
  member.rewards = r.status === 200 && Array.isArray(r.body) ? r.body : null;
}

/** Everything the page shows, from the API (at start and after `reset`). */
async function fetchAll() {
  const user = member.user;
  const [list, results, live, record] = await Promise.all([
    api("/v1/challenges"),
    api(`/v1/users/${enc(user)}/results`),
    api(`/v1/users/${enc(user)}/results?live=true`),
    api(`/v1/users/${enc(user)}`),
    fetchRewards(),
  ]);
  if (user !== member.user) return;
  const problems = [list, results].filter((r) => !r.ok).map(errorText);
  $("member-status").textContent = problems.join(" · ");
  member.challenges = list.ok ? list.body : [];
  member.record = record.ok ? record.body : null;
  member.results = new Map(results.ok ? results.body.map((r) => [r.challenge, r]) : []);
  member.live = new Map(live.ok ? live.body.map((r) => [r.challenge, r]) : []);
  // The trees the sessions are evaluated with (fetched again only when a hash changes).
  await Promise.all(member.challenges.map(async (c) => {
    if (member.trees.get(c.id)?.hash === c.hash) return;
    const t = await api(`/v1/challenges/${enc(c.id)}`);
    if (t.ok) member.trees.set(c.id, { hash: c.hash, tree: t.body });
  }));
  render();
}

/** Splits server-sent events out of a growing text; returns the unfinished rest. */
function dispatchEvents(buffer) {
  const blocks = buffer.split(/\r\n\r\n|\n\n|\r\r/);
  const rest = blocks.pop();
  for (const block of blocks) {
    let type = "message";
    let id = null;
    const data = [];
    for (const line of block.split(/\r\n|\n|\r/)) {
      if (line === "" || line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "event") type = value;
      else if (field === "data") data.push(value);
      else if (field === "id") id = value;
    }
    if (!data.length && type === "message") continue;
    onEvent(type, data.join("\n"));
    if (id !== null && /^\d+$/.test(id)) member.lastId = id;
  }
  return rest;
}

async function readStream(controller) {
  let attempt = 0;
  while (!controller.signal.aborted) {
    setConnection(attempt === 0 ? "connecting" : "reconnecting", member.lastId !== null ? `from change ${member.lastId}` : "");
    try {
      const h = headers({ Accept: "text/event-stream" });
      if (member.lastId !== null) h["Last-Event-ID"] = member.lastId;
      const r = await fetch(`/v1/stream?user=${enc(member.user)}`, { headers: h, signal: controller.signal, cache: "no-store" });
      if (r.status === 401 || r.status === 403) {
        setConnection("closed", errorText({ status: r.status, body: await r.json().catch(() => null) }));
        return;
      }
      if (!r.ok || !r.body) throw new Error(`HTTP ${r.status}`);
      setConnection("live");
      attempt = 0;
      if (member.refetch) { member.refetch = false; fetchAll(); }
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer = dispatchEvents(buffer + value);
      }
    } catch (e) {
      if (controller.signal.aborted) return;
      setConnection("reconnecting", e.message);
    }
    attempt += 1;
    // A stream that ended (server stopping, `reset`, a network drop) is opened again.
    await new Promise((ok) => setTimeout(ok, Math.min(500 * 2 ** Math.min(attempt, 5), 10000)));
  }
}

async function watch(user) {
  member.stream?.abort();
  for (const s of member.sessions.values()) s.lives.forEach((l) => l.free());
  Object.assign(member, { user, record: null, results: new Map(), live: new Map(), workouts: new Map(),
    rewards: null, profile: null, sessions: new Map(), pending: new Map(), lastId: null, refetch: false, events: 0 });
  sessionStorage.setItem(USER_KEY, user);
  if (location.hash !== `#member=${user}`) history.replaceState(null, "", `#member=${enc(user)}`);
  setConnection("connecting");
  await fetchAll();
  // From the start of what the server keeps: the user's saved workouts come with it (there is
  // no request for them), for the sessions evaluated here. Older than that: `reset`, then on.
  member.lastId = "0";
  const controller = new AbortController();
  member.stream = controller;
  readStream(controller);
}

async function fillUserList() {
  // An admin sees who has results; a member's token answers 403 here and types its own id.
  const list = $("user-list");
  const ids = new Set();
  for (const c of member.challenges.length ? member.challenges : (await api("/v1/challenges")).body ?? []) {
    const r = await api(`/v1/challenges/${enc(c.id)}/results`);
    if (!r.ok) break;
    for (const row of r.body) if (row.user) ids.add(row.user);
  }
  list.replaceChildren(...[...ids].sort().map((id) => el("option", { value: id })));
}

// ----- pages ------------------------------------------------------------------------------------

function showPage(name) {
  document.body.dataset.page = name;
  for (const b of document.querySelectorAll("#tabs button")) b.classList.toggle("active", b.dataset.page === name);
}

/** Starts the console when the page is served by `challenge serve`; otherwise does nothing. */
export async function startConsole(editor) {
  let health;
  try {
    const r = await fetch("/v1/health", { headers: { Accept: "application/json" } });
    health = r.ok ? await r.json() : null;
  } catch { health = null; }
  if (!health || health.status !== "ok") return;
  document.body.classList.add("served");
  $("token").value = token();
  $("token").addEventListener("change", () => {
    const t = $("token").value.trim();
    if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY);
    refreshList(editor);
    if (member.user) watch(member.user);
  });
  for (const b of document.querySelectorAll("#tabs button")) {
    b.addEventListener("click", () => {
      showPage(b.dataset.page);
      history.replaceState(null, "", b.dataset.page === "member" && member.user ? `#member=${enc(member.user)}` : `#${b.dataset.page}`);
      if (b.dataset.page === "member") fillUserList();
    });
  }
  $("server-load").addEventListener("click", () => loadChallenge(editor));
  $("server-save").addEventListener("click", () => saveChallenge(editor));
  $("watch").addEventListener("click", () => { const u = $("member-user").value.trim(); if (u) watch(u); });
  $("member-user").addEventListener("keydown", (e) => { if (e.key === "Enter") $("watch").click(); });
  await refreshList(editor);
  const m = /^#member(?:=(.*))?$/.exec(location.hash);
  if (m) {
    showPage("member");
    const user = m[1] ? decodeURIComponent(m[1]) : sessionStorage.getItem(USER_KEY);
    if (user) { $("member-user").value = user; await watch(user); }
    fillUserList();
  } else showPage("editor");
  // Links and the address bar: `#editor`, `#member`, `#member=ID`.
  window.addEventListener("hashchange", () => {
    const h = /^#member(?:=(.*))?$/.exec(location.hash);
    if (!h) { showPage("editor"); return; }
    showPage("member");
    const user = h[1] ? decodeURIComponent(h[1]) : null;
    if (user && user !== member.user) { $("member-user").value = user; watch(user); }
  });
  window.consoleState = member; // for tests and the browser's console
}
