// The dashboard's live part: the page arrives rendered by the server, and
// this script keeps it current from the /api/events stream. Data goes into
// the page as text only (textContent), never as markup.
"use strict";
(function () {
  const token = new URLSearchParams(location.search).get("token");
  const query = token ? "?token=" + encodeURIComponent(token) : "";
  const $ = (id) => document.getElementById(id);

  const pct = (v) => (v < 0 ? "—" : (100 * v).toFixed(1) + " %");
  const secs = (v) => Math.round(v) + " s";
  const num = (v) => (Math.round(v * 100) / 100).toString();
  const clock = (t) => new Date(t).toLocaleTimeString();
  // A zero time (Go's 0001-01-01: a line that has had no call) is "—".
  const since = (at, t) => (!t || new Date(t).getUTCFullYear() <= 1 ? "—" : secs(Math.max(0, (new Date(at) - new Date(t)) / 1000)));
  const call = (id, dir) => (id ? id + (dir ? " " + dir : "") : "");

  function set(id, text) {
    const el = $(id);
    if (el) el.textContent = text;
  }

  function rows(tbody, items, cells, attrs) {
    const out = items.map((it) => {
      const tr = document.createElement("tr");
      if (attrs) for (const [k, v] of Object.entries(attrs(it))) tr.setAttribute(k, v);
      for (const c of cells(it)) {
        const td = document.createElement("td");
        td.textContent = c[0];
        if (c[1]) td.className = c[1];
        tr.appendChild(td);
      }
      return tr;
    });
    tbody.replaceChildren(...out);
  }

  function render(s) {
    const c = s.centre, a = c.agents;
    set("scenario", s.scenario);
    set("updated", clock(s.at));
    set("t-in_queue", c.in_queue);
    set("t-longest_wait", secs(c.longest_wait_seconds));
    set("t-sl_to5", pct(c.service_level_to5));
    set("t-sl_half", pct(c.service_level_half));
    set("t-offered", c.offered);
    set("t-answered", c.answered);
    set("t-abandoned", c.abandoned);
    for (const k of ["logged_in", "ready", "reserved", "talking_inbound", "talking_outbound", "wrap_up", "not_ready", "outbound_idle"]) {
      set("t-" + k, a[k]);
    }
    set("t-dialing", c.dialing);
    set("t-dial_level", num(c.dial_level));
    set("t-attempts", c.outbound_attempts);
    set("t-connects", c.outbound_connects);
    set("t-abandon_rate", pct(c.outbound_abandon_rate));
    set("t-lent", c.lent);
    rows($("queues").tBodies[0], s.queues, (q) => [[q.call_type], [q.in_queue], [secs(q.longest_wait_seconds)],
      [pct(q.service_level_to5)], [pct(q.service_level_half)], [pct(q.service_level_today)], [q.asa_seconds.toFixed(1) + " s"],
      [q.offered], [q.answered], [q.abandoned]], (q) => ({ "data-call-type": q.call_type }));
    rows($("skill-groups").tBodies[0], s.skill_groups || [], (g) => [[g.name], [g.logged_on], [g.ready], [g.reserved],
      [g.talking_in], [g.talking_out], [g.hold], [g.wrap_up], [g.not_ready], [g.busy_other], [g.in_queue], [secs(g.longest_wait_seconds)]],
      (g) => ({ "data-skill-group": g.number }));
    rows($("agents").tBodies[0], s.agents, (g) => [[g.id], [g.extension], [g.state, "state"], [since(s.at, g.since)],
      [g.skill_groups.join(", ")], [call(g.call_id, g.direction)]], (g) => ({ "data-agent": g.id, "data-state": g.state }));
    rows($("moves").tBodies[0], s.moves, (m) => [[clock(m.at)], [m.agent], [m.kind]]);
    const cp = s.campaign;
    set("campaign", cp ? "Campaign " + cp.name + " (" + cp.mode + "): " +
      (cp.list ? cp.list.left + " of " + cp.list.records + " records left" : "no call list") +
      "; abandon target " + pct(cp.abandon_target) : "No campaign.");
    rows($("scheduled").tBodies[0], cp ? cp.scheduled : [], (r) => [[new Date(r.at).toLocaleString()], [r.kind], [r.phone],
      [r.name], [r.time_zone], [r.record_id]], (r) => ({ "data-record": r.record_id, "data-kind": r.kind }));
    const ul = $("alerts");
    if (s.alerts.length === 0) {
      const li = document.createElement("li");
      li.className = "none";
      li.textContent = "No alerts.";
      ul.replaceChildren(li);
    } else {
      ul.replaceChildren(...s.alerts.map((al) => {
        const li = document.createElement("li");
        li.className = "alert " + al.severity;
        li.textContent = clock(al.at) + " " + al.subject + ": " + al.message;
        return li;
      }));
    }
  }

  function status(text, cls) {
    const el = $("status");
    el.textContent = text;
    el.className = "status " + cls;
  }

  // Today's half-hour table (only on a centre that keeps intervals): the
  // figures move slowly, so it is fetched every 30 s rather than pushed,
  // and at once when the kind selector changes (the page's address follows
  // it, so a reload shows the same kind).
  const kindSelect = $("today-kind");
  async function refreshToday() {
    const table = $("today");
    if (!table) return;
    const st = $("today-status");
    const kind = kindSelect ? kindSelect.value : "calltype";
    const params = new URLSearchParams({ kind: kind });
    if (token) params.set("token", token);
    try {
      const resp = await fetch("api/intervals?" + params, { cache: "no-store" });
      if (!resp.ok) throw new Error((await resp.text()).trim() || resp.statusText);
      const t = await resp.json();
      if (kindSelect && t.kind !== kindSelect.value) return; // a later choice is on its way
      const head = document.createElement("tr");
      for (const h of ["Interval", t.entity_label, ...t.labels]) {
        const th = document.createElement("th");
        th.textContent = h;
        head.appendChild(th);
      }
      table.tHead.replaceChildren(head);
      if (kindSelect) table.caption.textContent = "Half-hour intervals by " + kindSelect.selectedOptions[0].textContent;
      rows(table.tBodies[0], t.rows, (r) => [[r.interval], [r.entity], ...r.cells.map((c) => [c])],
        (r) => (r.total ? { class: "total" } : {}));
      st.textContent = "";
    } catch (err) {
      st.textContent = "no data: " + err.message;
    }
  }
  if (kindSelect) {
    kindSelect.addEventListener("change", () => {
      const u = new URL(location.href);
      u.searchParams.set("kind", kindSelect.value);
      history.replaceState(null, "", u);
      refreshToday();
    });
  }
  refreshToday();
  setInterval(refreshToday, 30000);

  const es = new EventSource("api/events" + query);
  es.addEventListener("snapshot", (e) => {
    render(JSON.parse(e.data));
    status("live", "live");
  });
  es.addEventListener("error", (e) => {
    // A server-sent "error" event carries data; a lost connection does not
    // (the browser reconnects by itself).
    status(e.data ? "no data: " + e.data : "reconnecting", "stale");
  });
})();
