// Hammerwork dashboard: a page over the REST API and /api/events only.
// Routes live in the fragment (#/jobs/ID), so the server serves one page.
"use strict";

const STATUSES = ["pending", "running", "completed", "retrying", "dead", "cancelled", "skipped"];
const DEPENDENCY_STATUSES = ["none", "waiting", "satisfied", "failed"];
const TOKEN_KEY = "hammerwork-token";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Sibling jobs with the same parents and dependents drawn as one node when
// more than this many.
const COLLAPSE_OVER = 12;

// ---------------------------------------------------------------- helpers

/** An element: `h("a", {href: "#/"}, "text", child)`. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value);
  }
  return append(el, children);
}

function badge(status) {
  return h("span", { class: `badge s-${status}`, "data-status": status }, status);
}

function shortId(id) {
  return String(id).slice(-12);
}

function jobLink(id, text) {
  return h("a", { href: `#/jobs/${id}`, class: "mono" }, text || shortId(id));
}

function when(value) {
  if (!value) return "—";
  const date = new Date(value);
  return isNaN(date) ? String(value) : date.toLocaleString();
}

function age(ms) {
  if (ms < 0) ms = 0;
  const sec = Math.floor(ms / 1000);
  if (sec < 60) return `${sec}s`;
  const min = Math.floor(sec / 60);
  if (min < 60) return `${min}m ${sec % 60}s`;
  const hours = Math.floor(min / 60);
  if (hours < 48) return `${hours}h ${min % 60}m`;
  return `${Math.floor(hours / 24)}d`;
}

function pretty(value) {
  return value === undefined || value === null ? "—" : JSON.stringify(value, null, 2);
}

/** Calls `fn` at most once per `ms`, a call in between run at the end of
 * the wait; `.cancel()` drops that pending call. */
function throttle(fn, ms) {
  let timer = null;
  let again = false;
  const call = () => {
    if (timer) { again = true; return; }
    fn();
    timer = setTimeout(function tick() {
      timer = null;
      if (again) { again = false; fn(); timer = setTimeout(tick, ms); }
    }, ms);
  };
  call.cancel = () => { clearTimeout(timer); timer = null; again = false; };
  return call;
}

function download(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// -------------------------------------------------------------------- API

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** A request to the API, relative to the page (so a mounted router works). */
async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = `Bearer ${token}`;
  const init = { method, headers };
  if (method !== "GET") {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body || {});
  }
  const response = await fetch(`api/${path}`, init);
  let data = null;
  try { data = await response.json(); } catch (_) { /* not JSON */ }
  if (!response.ok) {
    const error = data && data.error ? data.error : {};
    if (response.status === 401) askForToken();
    throw new ApiError(response.status, error.code || "error", error.message || response.statusText);
  }
  return data;
}

const get = (path) => api("GET", path);
const post = (path) => api("POST", path, {});

// ------------------------------------------------------------------ token

let asking = null; // the sign-in form while it is wanted
function askForToken() {
  if (asking && asking.isConnected) return;
  const input = h("input", { type: "password", id: "token", autocomplete: "off", required: true, class: "wide" });
  const form = h("form", { class: "filters", onsubmit: (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    asking = null;
    events.restart();
    route();
  } },
  h("label", { for: "token" }, "Token", input),
  h("button", { type: "submit", class: "primary" }, "Sign in"));
  asking = form;
  page("Sign in",
    h("p", {}, "This server asks for a token. It is kept for this tab only."),
    form).dataset.page = "sign-in";
  input.focus();
}

// ----------------------------------------------------------------- events

/** `/api/events` read with fetch (so the token can go in a header). */
const events = {
  listeners: new Set(),
  controller: null,
  retry: 500,
  last: {},

  on(fn) { this.listeners.add(fn); return () => this.listeners.delete(fn); },

  emit(kind, data) {
    this.last[kind] = data;
    for (const fn of [...this.listeners]) {
      try { fn(kind, data); } catch (err) { console.error(err); }
    }
  },

  status(text, on) {
    const live = document.getElementById("live");
    live.textContent = text;
    live.className = `live ${on ? "on" : "off"}`;
  },

  restart() {
    if (this.controller) this.controller.abort();
    this.start();
  },

  async start() {
    const controller = new AbortController();
    this.controller = controller;
    const headers = { Accept: "text/event-stream" };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = `Bearer ${token}`;
    try {
      const response = await fetch("api/events", { headers, signal: controller.signal });
      if (response.status === 401) { this.status("signed out", false); return; }
      if (!response.ok || !response.body) throw new Error(`events: ${response.status}`);
      this.status("live", true);
      this.retry = 500;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        // Lines may end in CRLF or CR; a CR at the end of a chunk waits
        // for the next one (it may be half of a CRLF).
        buffer = (buffer + value).replace(/\r\n|\r(?!$)/g, "\n");
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          this.dispatch(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch (err) {
      if (controller.signal.aborted) return;
    }
    if (this.controller !== controller) return;
    this.status("reconnecting", false);
    setTimeout(() => { if (this.controller === controller) this.start(); }, this.retry);
    this.retry = Math.min(this.retry * 2, 10000);
  },

  dispatch(block) {
    let kind = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event:")) kind = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    if (!data.length) return;
    try { this.emit(kind, JSON.parse(data.join("\n"))); } catch (_) { /* not JSON */ }
  },
};

// ------------------------------------------------------------------ pages

const main = () => document.getElementById("main");
let cleanup = [];

/** Replaces the page: a title and its content. */
function page(title, ...content) {
  document.title = `${title} · Hammerwork`;
  const el = main();
  el.replaceChildren(h("h1", {}, title), ...content);
  return el;
}

function notFound(message) {
  const el = page("Not found",
    h("p", { class: "notice error", role: "alert" }, message || "There is nothing at this address."),
    h("p", {}, h("a", { href: "#/" }, "Back to the overview")));
  el.dataset.page = "not-found";
}

function failed(err) {
  if (err instanceof ApiError && (err.status === 404 || err.status === 400)) return notFound(err.message);
  if (err instanceof ApiError && err.status === 401) return;
  page("Something went wrong", h("p", { class: "notice error", role: "alert" }, err.message));
}

/** A button that posts an action, then reports and calls `after`. */
function actionButton(label, path, message, after, extra) {
  const button = h("button", Object.assign({ type: "button" }, extra || {}), label);
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await post(path);
      message.textContent = `${label}: done`;
      if (after) await after();
    } catch (err) {
      message.textContent = err.status === 403
        ? `${label}: this token may only read`
        : `${label}: ${err.message}`;
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

// --------------------------------------------------------------- overview

/** The last hour's per-minute completions and failures, one slot a minute
 * (minutes the server has no sample for count nothing). */
function lastHour(throughput) {
  const now = Math.floor(Date.now() / 60000);
  const slots = Array.from({ length: 60 }, () => ({ completed: 0, dead: 0 }));
  for (const m of throughput.minutes || []) {
    const ago = now - Math.floor(new Date(m.minute).getTime() / 60000);
    if (ago >= 0 && ago < 60) {
      slots[59 - ago].completed += m.completed;
      slots[59 - ago].dead += m.failed;
    }
  }
  return slots;
}

async function overview() {
  const message = h("p", { class: "message", role: "status" });
  const body = h("tbody");
  const chart = h("div", { class: "chart", id: "throughput", role: "img", "aria-label": "completed and failed jobs per minute, last hour" });
  const rate = h("p", { class: "muted" });
  const el = page("Overview",
    h("div", { class: "scroll" }, h("table", { id: "queues" },
      h("thead", {}, h("tr", {},
        h("th", {}, "Queue"), h("th", {}, "State"),
        STATUSES.map((st) => h("th", { class: "num" }, st)),
        h("th", { class: "num" }, "Error rate"), h("th", {}, "Oldest waiting"), h("th", {}, "Actions"))),
      body)),
    message,
    h("h2", {}, "Throughput"),
    chart, rate);
  el.dataset.page = "overview";
  const rows = new Map();
  const oldest = new Map();

  async function readOldest(queues) {
    await Promise.all(queues.map(async (q) => {
      if (!q.counts.pending) { oldest.set(q.queue, null); return; }
      const found = await get(`jobs?queue=${encodeURIComponent(q.queue)}&status=pending&limit=1`);
      oldest.set(q.queue, found.jobs[0] ? found.jobs[0].created_at : null);
    }));
  }

  function render(queues) {
    const present = new Set(queues.map((q) => q.queue));
    for (const [name, row] of rows) {
      if (!present.has(name)) { row.remove(); rows.delete(name); }
    }
    for (const q of queues) {
      let row = rows.get(q.queue);
      if (!row) {
        row = h("tr", { "data-queue": q.queue });
        const cells = {
          name: h("td", {}, h("a", { href: `#/jobs?queue=${encodeURIComponent(q.queue)}` }, q.queue)),
          state: h("td"),
          counts: STATUSES.map((st) => h("td", { class: "num", "data-status": st },
            h("a", { href: `#/jobs?queue=${encodeURIComponent(q.queue)}&status=${st}` }, "0"))),
          rate: h("td", { class: "num" }),
          oldest: h("td"),
          action: h("td"),
          button: h("button", { type: "button" }),
        };
        // One button per row, relabelled in place when the queue's state
        // changes, so keyboard focus survives live updates.
        cells.action.append(cells.button);
        cells.button.addEventListener("click", async () => {
          const paused = row.dataset.paused === "true";
          const verb = paused ? "resume" : "pause";
          cells.button.disabled = true;
          try {
            await post(`queues/${encodeURIComponent(q.queue)}/${verb}`);
            message.textContent = `${q.queue}: ${paused ? "resumed" : "paused"}`;
            render(await get("queues"));
          } catch (err) {
            message.textContent = err.status === 403
              ? `${verb}: this token may only read`
              : `${verb}: ${err.message}`;
          } finally {
            cells.button.disabled = false;
          }
        });
        row.cells_ = cells;
        append(row, [cells.name, cells.state, cells.counts, cells.rate, cells.oldest, cells.action]);
        rows.set(q.queue, row);
        body.append(row);
      }
      const c = row.cells_;
      if (row.dataset.paused !== String(q.paused)) {
        row.dataset.paused = String(q.paused);
        c.state.replaceChildren(q.paused ? badge("paused") : h("span", { class: "muted" }, "active"));
        c.button.textContent = q.paused ? "Resume" : "Pause";
        c.button.dataset.action = q.paused ? "resume" : "pause";
        c.button.setAttribute("aria-label", `${q.paused ? "Resume" : "Pause"} queue ${q.queue}`);
      }
      STATUSES.forEach((st, i) => { c.counts[i].firstChild.textContent = String(q.counts[st] || 0); });
      const ended = (q.counts.completed || 0) + (q.counts.dead || 0);
      c.rate.textContent = ended ? `${((100 * (q.counts.dead || 0)) / ended).toFixed(1)}%` : "—";
      const since = oldest.get(q.queue);
      c.oldest.textContent = since ? age(Date.now() - new Date(since)) : "—";
    }
  }

  function drawThroughput(throughput) {
    const minutes = lastHour(throughput);
    const top = Math.max(1, ...minutes.map((m) => m.completed + m.dead));
    chart.replaceChildren(...minutes.map((m) => {
      const col = h("div", { class: "col", title: `${m.completed} completed, ${m.dead} failed` },
        h("span", { class: "s-completed" }), h("span", { class: "s-dead" }));
      col.children[0].style.height = `${(100 * m.completed) / top}%`;
      col.children[1].style.height = `${(100 * m.dead) / top}%`;
      return col;
    }));
    const sum = minutes.reduce((a, m) => ({ c: a.c + m.completed, d: a.d + m.dead }), { c: 0, d: 0 });
    const since = throughput.since && Date.now() - new Date(throughput.since) < 3600_000
      ? ` (counted since ${new Date(throughput.since).toLocaleTimeString()}, when this server began counting)`
      : "";
    rate.textContent = `${sum.c} completed and ${sum.d} failed in the last hour${since}`;
    rate.dataset.completed = String(sum.c);
    rate.dataset.failed = String(sum.d);
  }

  const queues = await get("queues");
  await readOldest(queues);
  render(queues);
  drawThroughput(await get("queues/throughput"));
  const refreshThroughput = throttle(async () => {
    try { drawThroughput(await get("queues/throughput")); } catch (_) { /* next time */ }
  }, 15000);
  cleanup.push(refreshThroughput.cancel);
  const refreshOldest = throttle(async () => {
    try { await readOldest(events.last.queues || []); } catch (_) { /* next time */ }
  }, 10000);
  cleanup.push(refreshOldest.cancel);
  cleanup.push(events.on((kind, data) => {
    if (kind !== "queues") return;
    refreshOldest();
    refreshThroughput();
    render(data);
  }));
}

// ------------------------------------------------------------------- jobs

function jobFilters(params) {
  const field = (name, label, input) => h("label", { for: `f-${name}` }, label, input);
  const select = (name, options) => h("select", { id: `f-${name}`, name },
    h("option", { value: "" }, "any"),
    options.map((o) => h("option", { value: o, selected: params.get(name) === o }, o)));
  const text = (name, extra) => h("input", Object.assign({ id: `f-${name}`, name, value: params.get(name) || "" }, extra || {}));
  const form = h("form", { class: "filters", role: "search", onsubmit: (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const id = String(data.get("id") || "").trim();
    if (id) { location.hash = `#/jobs/${id}`; return; }
    const next = new URLSearchParams();
    for (const [key, value] of data) if (value && key !== "id") next.set(key, value);
    location.hash = `#/jobs?${next}`;
  } },
  field("queue", "Queue", text("queue")),
  field("status", "Status", select("status", STATUSES)),
  field("dependency_status", "Dependencies", select("dependency_status", DEPENDENCY_STATUSES)),
  field("workflow", "Workflow id", text("workflow", { class: "wide", placeholder: "UUID" })),
  field("id", "Job id", text("id", { class: "wide", placeholder: "UUID: opens the job" })),
  h("button", { type: "submit", class: "primary" }, "Filter"));
  return form;
}

async function jobs(params) {
  const query = new URLSearchParams();
  for (const key of ["queue", "status", "dependency_status", "workflow", "after"]) {
    if (params.get(key)) query.set(key, params.get(key));
  }
  query.set("limit", "50");
  const found = await get(`jobs?${query}`);
  const rows = found.jobs.map((j) => h("tr", { "data-id": j.id },
    h("td", {}, jobLink(j.id)), h("td", {}, j.queue_name), h("td", {}, badge(j.status)),
    h("td", { class: "num" }, `${j.attempts}/${j.max_attempts}`),
    h("td", {}, j.workflow_id ? h("a", { href: `#/workflows/${j.workflow_id}`, class: "mono" }, shortId(j.workflow_id)) : "—"),
    h("td", {}, when(j.created_at))));
  const pager = h("div", { class: "actions" });
  if (params.get("after")) {
    const first = new URLSearchParams(params);
    first.delete("after");
    pager.append(h("a", { href: `#/jobs?${first}` }, "First page"));
  }
  if (found.next_after) {
    const next = new URLSearchParams(params);
    next.set("after", found.next_after);
    pager.append(h("a", { href: `#/jobs?${next}`, rel: "next" }, "Next page"));
  }
  const el = page("Jobs", jobFilters(params),
    found.jobs.length
      ? h("div", { class: "scroll" }, h("table", { id: "jobs" },
        h("thead", {}, h("tr", {}, h("th", {}, "Id"), h("th", {}, "Queue"), h("th", {}, "Status"),
          h("th", { class: "num" }, "Attempts"), h("th", {}, "Workflow"), h("th", {}, "Created"))),
        h("tbody", {}, rows)))
      : h("p", { class: "muted" }, "No jobs match."),
    pager);
  el.dataset.page = "jobs";
}

function jobList(list, empty) {
  if (!list || !list.length) return h("p", { class: "muted" }, empty);
  return h("ul", {}, list.map((j) => h("li", {}, jobLink(j.id), " ", j.queue_name, " ", badge(j.status))));
}

async function job(id) {
  if (!UUID.test(id)) return notFound(`"${id}" is not a job id.`);
  const j = await get(`jobs/${id}`);
  const message = h("p", { class: "message", role: "status" });
  const rerender = () => route();
  const el = page(`Job ${shortId(j.id)}`,
    h("p", {}, badge(j.status), " ", h("span", { class: "mono" }, j.id)),
    h("div", { class: "actions" },
      actionButton("Retry", `jobs/${id}/retry`, message, rerender, { "data-action": "retry" }),
      actionButton("Cancel", `jobs/${id}/cancel`, message, rerender, { class: "danger", "data-action": "cancel" })),
    message,
    h("dl", { class: "fields" },
      h("dt", {}, "Queue"), h("dd", {}, h("a", { href: `#/jobs?queue=${encodeURIComponent(j.queue_name)}` }, j.queue_name)),
      h("dt", {}, "Priority"), h("dd", {}, j.priority),
      h("dt", {}, "Attempts"), h("dd", {}, `${j.attempts} of ${j.max_attempts}`),
      h("dt", {}, "Created"), h("dd", {}, when(j.created_at)),
      h("dt", {}, "Scheduled"), h("dd", {}, when(j.scheduled_at)),
      h("dt", {}, "Started"), h("dd", {}, when(j.started_at)),
      h("dt", {}, "Completed"), h("dd", {}, when(j.completed_at)),
      h("dt", {}, "Failed"), h("dd", {}, when(j.failed_at)),
      h("dt", {}, "Dependencies"), h("dd", {}, j.dependency_status),
      h("dt", {}, "Workflow"), h("dd", {}, j.workflow_id ? h("a", { href: `#/workflows/${j.workflow_id}`, class: "mono" }, j.workflow_id) : "—"),
      h("dt", {}, "Spawned by"), h("dd", {}, j.parent_job_id ? jobLink(j.parent_job_id) : "—"),
      h("dt", {}, "Spawn tree"), h("dd", {}, h("a", { href: `#/spawn/${j.id}` }, "show"))),
    h("h2", {}, "Payload"), h("pre", { id: "payload" }, pretty(j.payload)),
    h("h2", {}, "Result"), h("pre", { id: "result" }, pretty(j.result)),
    h("h2", {}, "Error"), h("pre", { id: "error" }, j.error_message || "—"),
    h("h2", {}, "Waits on"), jobList(j.dependencies, "Nothing."),
    h("h2", {}, "Waited on by"), jobList(j.dependents, "Nothing."));
  el.dataset.page = "job";
  cleanup.push(events.on((kind, data) => {
    if (kind === "job" && data.id === j.id && data.status !== j.status) rerender();
  }));
}

// -------------------------------------------------------------- workflows

async function workflows(params) {
  const query = new URLSearchParams({ limit: "50" });
  if (params.get("after")) query.set("after", params.get("after"));
  const found = await get(`workflows?${query}`);
  const list = found.workflows || [];
  const open = h("form", { class: "filters", onsubmit: (event) => {
    event.preventDefault();
    location.hash = `#/workflows/${new FormData(event.target).get("id")}`;
  } },
  h("label", { for: "w-id" }, "Workflow id", h("input", { id: "w-id", name: "id", class: "wide", required: true })),
  h("button", { type: "submit" }, "Open"));
  const pager = h("div", { class: "actions" });
  if (found.next_after) {
    pager.append(h("a", { href: `#/workflows?after=${found.next_after}`, rel: "next" }, "Next page"));
  }
  const el = page("Workflows", open,
    list.length
      ? h("div", { class: "scroll" }, h("table", { id: "workflows" },
        h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Status"), h("th", { class: "num" }, "Jobs"),
          h("th", { class: "num" }, "Done"), h("th", {}, "Created"))),
        h("tbody", {}, list.map((w) => h("tr", {},
          h("td", {}, h("a", { href: `#/workflows/${w.id}` }, w.name || shortId(w.id))),
          h("td", {}, badge(w.status)),
          h("td", { class: "num" }, w.stats.total_jobs),
          h("td", { class: "num" }, `${Math.round(w.completion_percentage)}%`),
          h("td", {}, when(w.created_at)))))))
      : h("p", { class: "muted" }, "No workflows yet."),
    pager);
  el.dataset.page = "workflows";
}

/** Jobs grouped where a wide fan-out would crowd the drawing. */
function collapse(graph) {
  const parents = new Map();
  const children = new Map();
  for (const n of graph.nodes) { parents.set(n.id, []); children.set(n.id, []); }
  for (const e of graph.edges) {
    if (parents.has(e.to)) parents.get(e.to).push(e.from);
    if (children.has(e.from)) children.get(e.from).push(e.to);
  }
  const byKey = new Map();
  for (const n of graph.nodes) {
    const key = `${n.queue}|${parents.get(n.id).sort().join(",")}|${children.get(n.id).sort().join(",")}|${n.condition || ""}`;
    if (!byKey.has(key)) byKey.set(key, []);
    byKey.get(key).push(n);
  }
  const owner = new Map(); // job id -> drawn node id
  const nodes = [];
  for (const members of byKey.values()) {
    if (members.length > COLLAPSE_OVER) {
      const id = `group-${members[0].id}`;
      nodes.push({ id, group: members, queue: members[0].queue, condition: members[0].condition });
      for (const m of members) owner.set(m.id, id);
    } else {
      for (const m of members) { nodes.push(m); owner.set(m.id, m.id); }
    }
  }
  const seen = new Set();
  const edges = [];
  for (const e of graph.edges) {
    const from = owner.get(e.from);
    const to = owner.get(e.to);
    if (!from || !to || seen.has(`${from}>${to}`)) continue;
    seen.add(`${from}>${to}`);
    edges.push({ from, to, condition: null });
  }
  const drawn = new Map(nodes.map((n) => [n.id, n]));
  for (const e of edges) e.condition = drawn.get(e.to).condition || null;
  return { nodes, edges, owner };
}

function groupCounts(group) {
  const counts = {};
  for (const m of group) counts[m.status] = (counts[m.status] || 0) + 1;
  return counts;
}

/** The graph laid out by dagre and drawn as SVG; returns it and its nodes by id. */
function drawGraph(graph, workflowId) {
  const started = performance.now();
  const drawn = collapse(graph);
  const g = new dagre.graphlib.Graph({ multigraph: false });
  g.setGraph({ rankdir: "LR", nodesep: 14, ranksep: 46, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of drawn.nodes) {
    g.setNode(n.id, { width: n.group ? 170 : 150, height: n.group ? 48 : 34 });
  }
  for (const e of drawn.edges) {
    g.setEdge(e.from, e.to, e.condition ? { label: e.condition, width: 8 * e.condition.length, height: 14 } : {});
  }
  dagre.layout(g);
  const size = g.graph();
  const svg = s("svg", {
    class: "graph", xmlns: SVG_NS, width: Math.ceil(size.width), height: Math.ceil(size.height),
    viewBox: `0 0 ${Math.ceil(size.width)} ${Math.ceil(size.height)}`, role: "img",
    "aria-label": `workflow graph of ${graph.nodes.length} jobs`,
  },
  s("defs", {}, s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "10", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" },
    s("path", { d: "M 0 0 L 10 5 L 0 10 z" }))));
  const edgeLayer = s("g", { class: "edges" });
  const nodeLayer = s("g", { class: "nodes" });
  svg.append(edgeLayer, nodeLayer);
  for (const e of drawn.edges) {
    const info = g.edge(e.from, e.to);
    const points = info.points.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`);
    const group = s("g", { class: "edge" }, s("path", { d: `M${points.join(" L")}`, "marker-end": "url(#arrow)" }));
    if (e.condition && info.x !== undefined) {
      group.append(s("text", { x: info.x.toFixed(1), y: info.y.toFixed(1), "text-anchor": "middle" }, e.condition));
    }
    edgeLayer.append(group);
  }
  const elements = new Map();
  for (const n of drawn.nodes) {
    const box = g.node(n.id);
    const x = box.x - box.width / 2;
    const y = box.y - box.height / 2;
    if (n.group) {
      const node = s("g", { class: "node group", "data-group": n.id, "data-size": n.group.length },
        s("title", {}, `${n.group.length} ${n.queue} jobs`),
        s("rect", { class: "frame", x, y, width: box.width, height: box.height, rx: 6 }),
        s("text", { x: box.x, y: y + 16, "text-anchor": "middle" }, `${n.queue} ×${n.group.length}`));
      const bar = s("g", { class: "bar" });
      node.append(bar);
      nodeLayer.append(s("a", {
        href: `#/jobs?workflow=${workflowId}&queue=${encodeURIComponent(n.queue)}`,
        "aria-label": `${n.group.length} ${n.queue} jobs`,
      }, node));
      elements.set(n.id, { node, bar, box, members: n.group });
    } else {
      const rect = s("rect", { x, y, width: box.width, height: box.height, rx: 6 });
      const label = s("text", { x: box.x, y: box.y + 4, "text-anchor": "middle" }, `${n.queue} ${String(n.id).slice(-6)}`);
      const title = s("title", {}, `${n.queue} ${n.id}: ${n.status}`);
      const node = s("g", { class: `node s-${n.status}`, "data-id": n.id, "data-status": n.status },
        title, rect, label);
      const link = s("a", { href: `#/jobs/${n.id}`, "aria-label": `${n.queue} job ${n.id}, ${n.status}` }, node);
      nodeLayer.append(link);
      elements.set(n.id, { node, title, link });
    }
  }
  const ms = performance.now() - started;
  svg.setAttribute("data-layout-ms", ms.toFixed(1));
  const draw = { svg, elements, owner: drawn.owner, ids: graph.nodes.map((n) => n.id).sort().join(","), ms };
  recolour(draw, graph);
  return draw;
}

/** New statuses on the drawn nodes, without another layout. */
function recolour(draw, graph) {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  for (const [id, item] of draw.elements) {
    if (item.members) {
      const members = item.members.map((m) => byId.get(m.id) || m);
      item.members = members;
      const counts = groupCounts(members);
      const x0 = item.box.x - item.box.width / 2 + 8;
      const width = item.box.width - 16;
      let x = x0;
      const parts = [];
      for (const st of STATUSES) {
        if (!counts[st]) continue;
        const w = (width * counts[st]) / members.length;
        parts.push(s("rect", { class: `s-${st}`, x: x.toFixed(1), y: item.box.y + 6, width: w.toFixed(1), height: 10 },
          s("title", {}, `${counts[st]} ${st}`)));
        x += w;
      }
      item.bar.replaceChildren(...parts);
      item.node.setAttribute("data-counts", JSON.stringify(counts));
      continue;
    }
    const n = byId.get(id);
    if (!n) continue;
    item.node.setAttribute("class", `node s-${n.status}`);
    item.node.setAttribute("data-status", n.status);
    item.title.textContent = `${n.queue} ${n.id}: ${n.status}`;
    item.link.setAttribute("aria-label", `${n.queue} job ${n.id}, ${n.status}`);
  }
}

function progress(stats) {
  const bar = h("div", { class: "progress", role: "progressbar", "aria-label": "Workflow progress", "aria-valuemin": "0", "aria-valuemax": String(stats.total_jobs || 0) });
  const parts = [["completed", stats.completed_jobs], ["dead", stats.failed_jobs], ["running", stats.running_jobs],
    ["skipped", stats.skipped_jobs], ["cancelled", stats.cancelled_jobs]];
  for (const [st, n] of parts) {
    if (!n) continue;
    const span = h("span", { class: `s-${st}`, title: `${n} ${st}` });
    span.style.width = `${(100 * n) / Math.max(1, stats.total_jobs)}%`;
    bar.append(span);
  }
  bar.setAttribute("aria-valuenow", String(stats.completed_jobs || 0));
  return bar;
}

function svgForExport(svg) {
  const copy = svg.cloneNode(true);
  const style = getComputedStyle(document.documentElement);
  const colour = (name) => style.getPropertyValue(name).trim();
  const css = `text{font-family:sans-serif;font-size:12px}.edge path{fill:none;stroke:#888}.edge text{fill:#666;font-size:11px}`
    + `.node text{fill:#fff}.group text{fill:#222}.group rect.frame{fill:#fff;stroke:#888}marker path{fill:#888}`
    + STATUSES.map((st) => `.s-${st} rect,rect.s-${st}{fill:${colour(`--${st}`)}}`).join("");
  copy.insertBefore(s("style", {}, css), copy.firstChild);
  return new XMLSerializer().serializeToString(copy);
}

async function workflow(id) {
  if (!UUID.test(id)) return notFound(`"${id}" is not a workflow id.`);
  const [w, graph] = await Promise.all([get(`workflows/${id}`), get(`workflows/${id}/graph`)]);
  const message = h("p", { class: "message", role: "status" });
  const summary = h("p", { id: "summary" });
  const bar = h("div");
  const wrap = h("div", { class: "graph-wrap" });
  const timing = h("p", { class: "muted", id: "layout" });
  const mermaid = h("pre", { id: "mermaid", hidden: true });
  let draw = null;

  function showSummary(current) {
    const st = current.stats;
    summary.replaceChildren(badge(current.status), ` ${st.completed_jobs} of ${st.total_jobs} completed, `,
      `${st.running_jobs} running, ${st.pending_jobs} pending, ${st.failed_jobs} failed, `,
      `${st.skipped_jobs} skipped, ${st.cancelled_jobs} cancelled`);
    summary.dataset.status = current.status;
    bar.replaceChildren(progress(st));
  }

  function showGraph(current) {
    const ids = current.nodes.map((n) => n.id).sort().join(",");
    if (draw && draw.ids === ids) { recolour(draw, current); return; }
    draw = drawGraph(current, w.id);
    wrap.replaceChildren(draw.svg);
    draw.svg.dataset.readyAt = performance.now().toFixed(0);
    const groups = [...draw.elements.values()].filter((e) => e.members).length;
    timing.textContent = `${current.nodes.length} jobs laid out in ${Math.round(draw.ms)} ms`
      + (groups ? `; ${groups} wide fan-out(s) drawn as one node each` : "");
  }

  const refresh = async () => {
    try {
      const [current, nodes] = await Promise.all([get(`workflows/${id}`), get(`workflows/${id}/graph`)]);
      showSummary(current);
      showGraph(nodes);
    } catch (err) {
      message.textContent = err.message;
    }
  };
  const el = page(w.name ? `Workflow ${w.name}` : `Workflow ${shortId(id)}`,
    h("p", { class: "mono muted" }, id),
    summary, bar,
    h("div", { class: "actions" },
      actionButton("Cancel", `workflows/${id}/cancel`, message, refresh, { class: "danger", "data-action": "cancel" }),
      actionButton("Retry", `workflows/${id}/retry`, message, refresh, { "data-action": "retry" }),
      h("button", { type: "button", "data-action": "export-svg", onclick: () => {
        const text = svgForExport(draw.svg);
        el.dataset.exportedSvg = String(text.length);
        download(`workflow-${id}.svg`, "image/svg+xml", text);
      } }, "Export SVG"),
      h("button", { type: "button", "data-action": "export-mermaid", onclick: async () => {
        try {
          const text = await get(`workflows/${id}/graph?format=mermaid`);
          mermaid.textContent = text.content;
          mermaid.hidden = false;
          download(`workflow-${id}.mmd`, "text/plain", text.content);
        } catch (err) {
          message.textContent = `Export Mermaid: ${err.message}`;
        }
      } }, "Export Mermaid"),
      h("a", { href: `#/jobs?workflow=${id}` }, "Its jobs")),
    message,
    h("div", { class: "legend" }, STATUSES.map(badge)),
    wrap, timing, mermaid);
  el.dataset.page = "workflow";
  showSummary(w);
  showGraph(graph);
  const again = throttle(refresh, 700);
  cleanup.push(again.cancel);
  cleanup.push(events.on((kind, data) => {
    if ((kind === "workflow" && data.id === w.id) || (kind === "job" && data.workflow_id === w.id) || kind === "queues") again();
  }));
}

// ----------------------------------------------------------------- spawns

function treeList(node) {
  return h("li", { "data-id": node.id, "data-status": node.status },
    jobLink(node.id), " ", node.queue, " ", badge(node.status),
    node.children && node.children.length
      ? h("ul", { class: "tree" }, node.children.map(treeList))
      : null);
}

function levels(root) {
  const rows = [];
  (function walk(node, depth) {
    rows[depth] = rows[depth] || {};
    rows[depth][node.status] = (rows[depth][node.status] || 0) + 1;
    for (const child of node.children || []) walk(child, depth + 1);
  })(root, 0);
  return rows;
}

async function spawnTree(id) {
  if (!UUID.test(id)) return notFound(`"${id}" is not a job id.`);
  const counts = h("tbody");
  const tree = h("ul", { class: "tree root", id: "tree" });
  const total = h("p", { id: "tree-size" });
  function render(root) {
    tree.replaceChildren(treeList(root));
    const rows = levels(root);
    let size = 0;
    counts.replaceChildren(...rows.map((row, depth) => {
      const n = Object.values(row).reduce((a, b) => a + b, 0);
      size += n;
      return h("tr", { "data-depth": depth }, h("td", { class: "num" }, depth), h("td", { class: "num" }, n),
        h("td", {}, STATUSES.filter((st) => row[st]).map((st) => [badge(st), ` ${row[st]} `])));
    }));
    total.textContent = `${size} job(s) in the tree`;
    total.dataset.size = String(size);
  }
  const root = await get(`jobs/${id}/spawn-tree?format=json&max_depth=20`);
  const el = page(`Spawn tree of ${shortId(id)}`,
    h("p", {}, jobLink(id, id)),
    total,
    h("h2", {}, "Per level"),
    h("div", { class: "scroll" }, h("table", { id: "levels" },
      h("thead", {}, h("tr", {}, h("th", { class: "num" }, "Depth"), h("th", { class: "num" }, "Jobs"), h("th", {}, "Statuses"))),
      counts)),
    h("h2", {}, "Tree"), tree);
  el.dataset.page = "spawn-tree";
  render(root);
  const again = throttle(async () => {
    try { render(await get(`jobs/${id}/spawn-tree?format=json&max_depth=20`)); } catch (_) { /* next event */ }
  }, 700);
  cleanup.push(again.cancel);
  cleanup.push(events.on(() => again()));
}

async function spawns() {
  const [operations, stats] = await Promise.all([get("spawn/operations?limit=50"), get("spawn/stats?hours=24")]);
  const list = operations.operations || operations;
  const open = h("form", { class: "filters", onsubmit: (event) => {
    event.preventDefault();
    location.hash = `#/spawn/${new FormData(event.target).get("id")}`;
  } },
  h("label", { for: "s-id" }, "Job id", h("input", { id: "s-id", name: "id", class: "wide", required: true })),
  h("button", { type: "submit" }, "Show its tree"));
  const el = page("Spawns", open,
    h("h2", {}, "Last 24 hours"),
    h("dl", { class: "fields", id: "spawn-stats" }, Object.entries(stats).filter(([, v]) => typeof v !== "object")
      .map(([k, v]) => [h("dt", {}, k.replaceAll("_", " ")),
        h("dd", {}, typeof v === "number" && !Number.isInteger(v) ? v.toFixed(2) : String(v))])),
    h("h2", {}, "Operations"),
    Array.isArray(list) && list.length
      ? h("div", { class: "scroll" }, h("table", { id: "operations" },
        h("thead", {}, h("tr", {}, h("th", {}, "Parent"), h("th", {}, "Queue"), h("th", { class: "num" }, "Children"), h("th", {}, "When"))),
        h("tbody", {}, list.map((op) => h("tr", {},
          h("td", {}, h("a", { href: `#/spawn/${op.parent_job_id}`, class: "mono" }, shortId(op.parent_job_id))),
          h("td", {}, op.queue_name || "—"),
          h("td", { class: "num" }, op.child_count),
          h("td", {}, when(op.created_at)))))))
      : h("p", { class: "muted" }, "No spawn operations yet."));
  el.dataset.page = "spawns";
}

// ----------------------------------------------------------------- router

// One page renders at a time: a route asked for while one renders runs after
// it (and its cleanup drops what the earlier page registered).
let routing = false;
let rerouted = false;
async function route() {
  if (routing) { rerouted = true; return; }
  routing = true;
  try {
    do {
      rerouted = false;
      await render();
    } while (rerouted);
  } finally {
    routing = false;
  }
}

async function render() {
  delete main().dataset.ready;
  for (const fn of cleanup) fn();
  cleanup = [];
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, search] = hash.split("?");
  const params = new URLSearchParams(search || "");
  for (const a of document.querySelectorAll(".bar nav a")) {
    const target = a.getAttribute("href").slice(1);
    const current = target === "/" ? path === "/" : path.startsWith(target);
    if (current) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  try {
    const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
    if (parts.length === 0) await overview();
    else if (parts[0] === "jobs" && parts.length === 1) await jobs(params);
    else if (parts[0] === "jobs" && parts.length === 2) await job(parts[1]);
    else if (parts[0] === "workflows" && parts.length === 1) await workflows(params);
    else if (parts[0] === "workflows" && parts.length === 2) await workflow(parts[1]);
    else if (parts[0] === "spawn" && parts.length === 1) await spawns();
    else if (parts[0] === "spawn" && parts.length === 2) await spawnTree(parts[1]);
    else notFound();
  } catch (err) {
    failed(err);
  }
  // Drawn with its data: what tests and screenshots wait for.
  main().dataset.ready = "true";
  if (!asking) main().focus({ preventScroll: true });
}

window.addEventListener("hashchange", route);
events.start();
route();
