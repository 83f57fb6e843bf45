// Small DOM helpers and the result renderings (status badge, progress bar, calendar of periods)
// shared by the editor's preview and the console's member page.

export const $ = (id) => document.getElementById(id);
export const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  for (const c of children) if (c != null) node.append(c);
  return node;
};

/** The first goal node of a result tree that has periods (the one a calendar shows). */
export function firstPeriods(node) {
  if (!node) return null;
  if (node.periods) return node;
  for (const child of node.goals ?? (node.goal ? [node.goal] : [])) {
    const found = firstPeriods(child);
    if (found) return found;
  }
  return null;
}

/** A calendar of a node's periods: met, partly met, not met (days start on Monday). */
export function calendar(node) {
  if (!node) return "";
  const cal = el("span", { className: "calendar", title: `${node.periods.filter((p) => p.met).length} of ${node.periods.length} ${node.period}s met` });
  if (node.period === "day" && node.periods.length) {
    const first = new Date(`${node.periods[0].start}T00:00:00Z`).getUTCDay();
    for (let i = 0; i < (first + 6) % 7; i++) cal.append(el("span", { className: "pad" }));
  }
  for (const p of node.periods) {
    cal.append(el("span", { className: p.met ? "met" : p.progress > 0 ? "part" : "", title: `${p.start}: ${Math.round(p.progress * 100)}%` }));
  }
  return cal;
}

/** A progress bar with its percentage. */
export function bar(progress) {
  return el("span", {}, el("span", { className: "bar" }, el("div", { style: `width:${(progress * 100).toFixed(1)}%` })),
    el("span", { className: "pct" }, `${Math.round(progress * 100)}%`));
}

/** A result's status badge (and its tier, for a challenge with tiers). */
export function badge(r) {
  const tier = "tier" in r ? el("span", { className: `tier-badge${r.tier ? "" : " none"}` }, r.tier ?? "no tier") : null;
  return el("span", {}, el("span", { className: `badge ${r.status}` }, r.status.replace("_", " ")), tier);
}
