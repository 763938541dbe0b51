// The agent desktop page: forms post to the desktop API, the server pushes
// the whole view as server-sent events and the page redraws from it.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  let session = "";
  let view = null;
  let events = null;
  // Off loopback the server wants its token on every request: the page
  // was opened with ?token=, and the API calls carry it on (fetch as an
  // Authorization header; EventSource cannot set headers, so its URL).
  const token = new URLSearchParams(location.search).get("token") || "";

  function showError(msg) {
    const e = $("error");
    e.textContent = msg || "";
    e.hidden = !msg;
  }

  async function post(api, fields) {
    const body = new URLSearchParams(fields || {});
    if (session) body.set("session", session);
    const headers = token ? { Authorization: "Bearer " + token } : {};
    const r = await fetch("api/" + api, { method: "POST", body: body, headers: headers });
    // A refusal from the server in front (401 without the token) is plain
    // text, not the API's JSON: show it as it is.
    const text = await r.text();
    let j = null;
    try { j = JSON.parse(text); } catch (e) { j = null; }
    if (!r.ok || !j) {
      showError((j && j.error) || text.trim() || r.statusText);
      return null;
    }
    showError("");
    return j;
  }

  function dl(el, rows) {
    el.replaceChildren();
    for (const [k, v] of rows) {
      if (v === undefined || v === "") continue;
      const dt = document.createElement("dt");
      dt.textContent = k;
      const dd = document.createElement("dd");
      dd.textContent = v;
      dd.dataset.name = k;
      el.append(dt, dd);
    }
  }

  function options(sel, items, value, label) {
    if (sel.options.length === items.length) return;
    sel.replaceChildren();
    for (const it of items) {
      const o = document.createElement("option");
      o.value = it[value];
      o.textContent = it[label];
      sel.append(o);
    }
  }

  function render(v) {
    // A form's answer and the event stream race: never go back in time.
    if (view && v.seq < view.seq) return;
    view = v;
    $("who").textContent = "Agent " + v.agent_id + " at " + v.extension;
    const st = $("state");
    st.textContent = v.state + (v.connected ? "" : " (disconnected)");
    st.className = "state " + v.state;
    if (v.error) showError(v.error);
    options($("reason"), v.reasons, "code", "label");
    options($("code"), v.dispositions, "code", "label");

    const p = v.preview;
    $("preview").hidden = !p;
    if (p) {
      const cu = p.customer;
      const rows = [["Record", p.record], ["Campaign", p.campaign], ["Account", p.account], ["Phone", p.phone],
        ["Name", (cu && cu.name) || p.name]];
      dl($("preview-record"), rows.concat(Object.entries((cu && cu.fields) || {}).filter(([k]) => k !== "phone")));
      $("preview-answered").textContent = p.answered ? "Answered: " + p.answered : "";
      $("accept").disabled = $("skip").disabled = !!p.answered;
    }

    const c = v.call;
    $("pop").hidden = !c;
    $("wrapup").hidden = !c || c.state !== "cleared";
    if (c) {
      $("call-state").textContent = c.call_id + " " + c.call_type + " " + c.state;
      const rows = [["ANI", c.ani], ["DNIS", c.dnis], ["Dialed number", c.dialed_number]];
      for (let i = 1; i <= 10; i++) rows.push(["CallVariable" + i, c.variables["CallVariable" + i]]);
      for (const k of Object.keys(c.ecc || {}).sort()) rows.push([k, c.ecc[k]]);
      dl($("call-data"), rows);
      const cu = c.customer;
      const crow = cu ? [["Name", cu.name]].concat(Object.entries(cu.fields || {})) : [["Name", "(unknown caller)"]];
      dl($("customer"), crow);
      $("answer").disabled = c.state !== "alerting";
      $("release").disabled = c.state !== "connected";
    }
    renderScript(v.script, c);

    $("last").hidden = !v.last_disposition;
    if (v.last_disposition) {
      const d = v.last_disposition;
      $("last-text").textContent = "Call " + d.call_id + ": " + d.code +
        (d.recall ? ", recall booked for " + new Date(d.recall.At).toLocaleString() + (d.recall.AgentID ? " (agent " + d.recall.AgentID + ")" : " (any agent)") : "");
    }
    const log = $("log");
    log.replaceChildren(...(v.log || []).slice().reverse().map((l) => { const li = document.createElement("li"); li.textContent = l; return li; }));
  }

  let shownStep = "";
  function renderScript(s, c) {
    $("script").hidden = !s;
    if (!s) { shownStep = ""; return; }
    $("script-name").textContent = s.name;
    $("script-text").textContent = s.text;
    // Keep what the agent is typing; the next call's first step is a new
    // form even when no view without a script came in between.
    const key = c.call_id + " " + s.step;
    if (shownStep === key) return;
    shownStep = key;
    const f = $("script-form");
    f.replaceChildren();
    f.dataset.step = s.step;
    for (const fd of s.fields || []) {
      const l = document.createElement("label");
      l.textContent = fd.label + (fd.required ? " *" : "") + " ";
      const i = document.createElement("input");
      i.name = fd.name;
      i.id = "field-" + fd.name;
      if (fd.hint) i.title = fd.hint;
      l.append(i);
      f.append(l);
    }
    if ((s.answers || []).length) {
      for (const a of s.answers) {
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = a.label;
        b.dataset.answer = a.value;
        b.id = "answer-" + a.value;
        b.addEventListener("click", () => step(a.value));
        f.append(b);
      }
    } else if (!s.end) {
      const b = document.createElement("button");
      b.type = "button";
      b.id = "script-next";
      b.textContent = "Next";
      b.addEventListener("click", () => step(""));
      f.append(b);
    } else {
      const p = document.createElement("p");
      p.id = "script-done";
      p.textContent = "Script complete.";
      f.append(p);
    }
  }

  async function step(answer) {
    const f = $("script-form");
    const fields = { step: f.dataset.step };
    if (answer) fields.answer = answer;
    for (const i of f.querySelectorAll("input")) fields[i.name] = i.value;
    const j = await post("script", fields);
    if (j) render(j);
  }

  function listen() {
    if (events) events.close();
    const q = new URLSearchParams({ session: session });
    if (token) q.set("token", token);
    events = new EventSource("api/events?" + q.toString());
    events.addEventListener("view", (e) => render(JSON.parse(e.data)));
  }

  $("login-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const j = await post("login", { agent: $("agent").value, extension: $("extension").value, password: $("password").value });
    if (!j) return;
    session = j.session;
    view = null;
    $("login-form").hidden = true;
    $("desk").hidden = false;
    listen(); // first: the stream must not depend on the first view rendering
    render(j.view);
  });
  async function act(api, fields) {
    const j = await post(api, fields);
    if (j) render(j);
    return j;
  }
  $("ready").addEventListener("click", () => act("state", { state: "ready" }));
  $("notready").addEventListener("click", () => act("state", { state: "not_ready", reason: $("reason").value }));
  $("logout").addEventListener("click", async () => {
    if (await act("state", { state: "logout", reason: $("reason").value })) {
      if (events) events.close();
      session = "";
      $("desk").hidden = true;
      $("login-form").hidden = false;
      $("state").textContent = "LOGGED OUT";
    }
  });
  $("answer").addEventListener("click", () => act("answer"));
  $("release").addEventListener("click", () => act("release"));
  // The answer names the record shown: a record that went meanwhile is
  // refused, not answered blindly.
  function preview(response) {
    if (view && view.preview) act("preview", { response: response, record: view.preview.record });
  }
  $("accept").addEventListener("click", () => preview("Accept"));
  $("skip").addEventListener("click", () => preview("Skip"));
  $("code").addEventListener("change", () => {
    const d = view && view.dispositions.find((x) => x.code === $("code").value);
    $("callback").hidden = !(d && d.callback);
  });
  $("dispose").addEventListener("click", () => {
    const fields = { code: $("code").value };
    if (!$("callback").hidden) {
      fields.callback_at = $("callback_at").value;
      fields.callback_agent = $("callback_agent").value;
    }
    act("disposition", fields);
  });
})();
