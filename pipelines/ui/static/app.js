// computewatch triage page: the queue, the map and one alert's evidence; keyboard decisions.
// Every value from the store is written with textContent (never as HTML): a facility name or
// a note is data, whatever it holds.
"use strict";

const config = JSON.parse(document.getElementById("config").textContent);
const CLASSES = ["ai_training", "cloud_datacenter", "crypto_mining", "heavy_industry",
                 "warehouse_or_other"];
const STATUS_COLOURS = {new: "#1f78b4", investigating: "#e67e00", confirmed: "#b30000",
                        dismissed: "#8a949c", declared: "#2c8a3d"};
const KEYS = {i: "investigating", c: "confirmed", d: "dismissed", l: "declared", n: "new"};

const state = {alerts: [], shown: [], selected: null, detail: null, sort: {key: "score", dir: -1},
               layers: new Map()};
const $ = (id) => document.getElementById(id);

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

async function api(path, options = {}) {
  const headers = {"X-CSRF-Token": config.csrf, ...(options.headers || {})};
  if (options.body) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {...options, headers, credentials: "same-origin"});
  if (response.status === 401) { window.location.assign("login"); throw new Error("signed out"); }
  const body = await response.json().catch(() => ({}));
  if (!response.ok && response.status !== 409) throw new Error(body.detail || response.statusText);
  return {status: response.status, body};
}

const key = (a) => `${a.region}\u0000${a.facility_id}`;
const fmt = (v, digits = 0) => (v === null || v === undefined ? "" : Number(v).toFixed(digits));

function scoreColour(score) {
  // yellow at 0.3 (the export threshold) to dark red at 1
  const t = Math.max(0, Math.min(1, ((score || 0) - 0.3) / 0.7));
  const hue = 55 - 55 * t;
  return `hsl(${hue}, 95%, ${55 - 25 * t}%)`;
}

// ---- map ----
let map = null;
let footprints = null;

function initMap() {
  map = L.map("map", {zoomControl: true, attributionControl: true});
  map.setView([20, 0], 2);
  if (config.basemap.url) {
    L.tileLayer(config.basemap.url, {maxZoom: config.basemap.maxZoom,
                                     attribution: config.basemap.attribution}).addTo(map);
  }
  footprints = L.geoJSON(null, {style: styleOf, onEachFeature: (feature, layer) => {
    state.layers.set(feature.properties.key, layer);
    layer.on("click", () => select(feature.properties.key));
    layer.bindTooltip(() => `${feature.properties.label}`, {sticky: true});
  }}).addTo(map);
  const legend = L.control({position: "bottomright"});
  legend.onAdd = () => {
    const box = el("div", null, "legend");
    box.appendChild(el("div", "fill: score 0.3 → 1"));
    for (const [status, colour] of Object.entries(STATUS_COLOURS)) {
      const row = el("div");
      const swatch = el("i");
      swatch.style.border = `3px solid ${colour}`;
      row.append(swatch, document.createTextNode(status));
      box.appendChild(row);
    }
    return box;
  };
  legend.addTo(map);
}

function styleOf(feature) {
  const a = feature.properties.alert;
  const chosen = state.selected === feature.properties.key;
  return {color: STATUS_COLOURS[a.status] || "#333", weight: chosen ? 5 : 2.5, opacity: 1,
          fillColor: scoreColour(a.score), fillOpacity: 0.75};
}

function drawMap(fit) {
  footprints.clearLayers();
  state.layers.clear();
  const features = state.shown.filter((a) => a.geometry).map((a) => ({
    type: "Feature", geometry: a.geometry,
    properties: {key: key(a), alert: a, label: a.name || a.facility_id}}));
  footprints.addData(features);
  if (fit && features.length) map.fitBounds(footprints.getBounds(), {padding: [20, 20]});
}

// ---- queue ----
function filtersOf() {
  return {status: $("f-status").value, cls: $("f-class").value,
          score: Number($("f-score").value || 0), mw: Number($("f-mw").value || 0),
          declared: $("f-declared").value, first: $("f-first").value,
          changed: $("f-changed").value, text: $("f-text").value.trim().toLowerCase(),
          alertsOnly: $("f-alerts").checked};
}

function passes(a, f) {
  if (f.alertsOnly && !a.alert) return false;
  if (f.status && a.status !== f.status) return false;
  if (f.cls && a.predicted_class !== f.cls) return false;
  if ((a.score || 0) < f.score) return false;
  if (f.mw > 0 && !((a.est_it_mw || 0) >= f.mw)) return false;
  if (f.declared === "no" && a.declared) return false;
  if (f.declared === "yes" && !a.declared) return false;
  if (f.declared === "exceeds" && !a.exceeds_declared) return false;
  if (f.first && (a.first_seen || "") < f.first) return false;
  if (f.changed && (a.changed_at || "") < f.changed) return false;
  if (f.text && !`${a.facility_id} ${a.name || ""}`.toLowerCase().includes(f.text)) return false;
  return true;
}

function compare(a, b) {
  const {key: k, dir} = state.sort;
  const x = a[k], y = b[k];
  if (x === y) return 0;
  if (x === null || x === undefined) return 1;
  if (y === null || y === undefined) return -1;
  return (x < y ? -1 : 1) * dir;
}

function renderQueue(fit = false) {
  const f = filtersOf();
  state.shown = state.alerts.filter((a) => passes(a, f)).sort(compare);
  const body = $("queue").tBodies[0];
  body.replaceChildren();
  $("queue").classList.toggle("one-region", Boolean($("region").value));
  for (const a of state.shown) {
    const row = el("tr");
    row.dataset.key = key(a);
    if (key(a) === state.selected) row.classList.add("selected");
    const status = el("span", a.status, `status status-${a.status}`);
    const cells = [el("td", fmt(a.score, 2), "num"), el("td", a.name || a.facility_id),
                   el("td", a.region), el("td", a.predicted_class), el("td", fmt(a.est_it_mw), "num"),
                   el("td"), el("td", a.alert_state), el("td", (a.first_seen || "").slice(0, 10))];
    cells[1].title = a.facility_id;
    cells[5].appendChild(status);
    row.append(...cells);
    row.addEventListener("click", () => select(key(a)));
    body.appendChild(row);
  }
  for (const th of $("queue").tHead.rows[0].cells) {
    th.classList.toggle("sorted-asc", th.dataset.key === state.sort.key && state.sort.dir > 0);
    th.classList.toggle("sorted-desc", th.dataset.key === state.sort.key && state.sort.dir < 0);
  }
  $("count").textContent = `${state.shown.length} of ${state.alerts.length} shown`;
  drawMap(fit);
}

async function loadQueue(fit = false) {
  const region = $("region").value;
  const {body} = await api(`api/alerts${region ? `?region=${encodeURIComponent(region)}` : ""}`);
  state.alerts = body;
  renderQueue(fit);
}

// ---- one alert ----
function find(k) { return state.alerts.find((a) => key(a) === k); }

async function select(k) {
  const a = find(k);
  if (!a) return;
  state.selected = k;
  renderQueue();
  const row = $("queue").querySelector("tr.selected");
  if (row) row.scrollIntoView({block: "nearest"});
  const layer = state.layers.get(k);
  if (layer) map.fitBounds(layer.getBounds(), {maxZoom: 15, padding: [60, 60]});
  const q = `region=${encodeURIComponent(a.region)}&id=${encodeURIComponent(a.facility_id)}`;
  const {body} = await api(`api/alert?${q}`);
  if (state.selected !== k) return;
  state.detail = body;
  renderDetail(body, q);
}

function numbers(p) {
  const rows = [
    ["Score", fmt(p.score, 3)], ["Class", p.predicted_class],
    ["IT MW", `${fmt(p.est_it_mw)} (${fmt(p.est_it_mw_low)}–${fmt(p.est_it_mw_high)}), ${p.est_it_mw_basis || ""}`],
    ["H100e", fmt(p.est_h100_equivalents)],
    ["Days to 1e25 FLOP", `${fmt(p.days_to_1e25_flop, 1)} (${fmt(p.days_to_1e25_flop_low, 1)}–${fmt(p.days_to_1e25_flop_high, 1)})`],
    ["Roof ΔT", `${fmt(p.thermal_delta_k, 1)} K; cold season ${fmt(p.thermal_cold_season_delta_k, 1)} K; ${fmt(p.thermal_scenes_used)} scenes`],
    ["Yard ΔT", `${fmt(p.thermal_yard_k, 1)} K (open ground 100 to 600 m out)`],
    ["Metered", p.mean_mw === null || p.mean_mw === undefined ? "no meter" :
      `${fmt(p.mean_mw, 1)} MW, load factor ${fmt(p.load_factor, 2)}`],
    ["Footprint", `${fmt(p.footprint_m2)} m²`],
    ["Substation", p.substation_distance_m === null ? "" : `${fmt(p.substation_distance_m)} m`],
    ["Declared", p.declared ? `yes (${p.declared_id || ""}, ${fmt(p.declared_it_mw)} MW${p.exceeds_declared ? ", exceeded" : ""})` : "no"],
  ];
  const dl = el("dl");
  for (const [name, value] of rows) dl.append(el("dt", name), el("dd", value));
  return dl;
}

function table(headers, rows) {
  const t = el("table");
  const head = el("tr");
  for (const h of headers) head.appendChild(el("th", h));
  t.appendChild(head);
  for (const r of rows) {
    const tr = el("tr");
    for (const v of r) tr.appendChild(el("td", v, "note"));
    t.appendChild(tr);
  }
  return t;
}

function renderDetail(d, q) {
  const p = d.properties;
  const box = $("detail");
  box.replaceChildren();
  box.appendChild(el("h2", p.name || d.facility_id));
  box.appendChild(el("p", `${d.facility_id} · region ${d.region} · ${d.alert_state} · status ${d.status}`, "muted"));
  if (d.change_reason) box.appendChild(el("p", d.change_reason, "muted small"));
  const actions = el("div", null, "actions");
  for (const [k, status] of Object.entries(KEYS)) {
    const b = el("button", `${status} (${k})`);
    b.dataset.status = status;
    b.disabled = !config.mayDecide;
    b.addEventListener("click", () => openDecision(status));
    actions.appendChild(b);
  }
  box.appendChild(actions);
  if (!config.mayDecide) box.appendChild(el("p", "Viewers read; analysts decide.", "muted small"));
  box.appendChild(el("h3", "Why"));
  const reasons = el("ul");
  for (const r of p.top_reasons || []) reasons.appendChild(el("li", r));
  box.appendChild(reasons);
  box.appendChild(numbers(p));
  box.appendChild(el("h3", "Evidence"));
  for (const kind of d.evidence) {
    const img = el("img");
    img.alt = kind === "thermal" ? "thermal chip" : "load chart";
    img.dataset.kind = kind;
    img.src = `api/evidence?${q}&kind=${kind}`;
    box.appendChild(img);
  }
  if (!d.evidence.length) box.appendChild(el("p", "No evidence packet for this alert.", "muted"));
  box.appendChild(el("h3", "Class probabilities"));
  box.appendChild(table(["class", "p"], Object.entries(p.class_probabilities || {})
    .map(([c, v]) => [c, fmt(v, 3)])));
  box.appendChild(el("h3", "History"));
  box.appendChild(table(["run", "state", "score", "IT MW", "class"], d.history.map((h) =>
    [(h.run_time || "").slice(0, 16), h.alert_state, fmt(h.score, 2), fmt(h.est_it_mw), h.predicted_class || ""])));
  box.appendChild(el("h3", "Decisions"));
  const decided = el("div");
  decided.id = "decisions";
  decided.appendChild(d.decisions.length ? table(["when", "who", "status", "note"], d.decisions.map((x) =>
    [(x.decided_at || "").slice(0, 16), x.decided_by, x.status, x.note || ""])) :
    el("p", "None yet.", "muted"));
  box.appendChild(decided);
}

// ---- decisions ----
let pending = null;

function openDecision(status) {
  if (!config.mayDecide || !state.detail) return;
  pending = {status, after: state.detail.latest_decision};
  $("decide-site").textContent = state.detail.properties.name || state.detail.facility_id;
  $("decide-status").textContent = status;
  $("decide-conflict").hidden = true;
  $("decide-note").value = "";
  $("decide").showModal();
  $("decide-note").focus();
}

async function submitDecision() {
  const note = $("decide-note").value.trim();
  if (!note || !pending) return;
  const d = state.detail;
  const {status, body} = await api("api/decisions", {method: "POST", body: JSON.stringify({
    region: d.region, id: d.facility_id, status: pending.status, note, after_decision: pending.after})});
  if (status === 409) {
    const c = body.conflict;
    $("decide-conflict").textContent = `${c.decided_by} set this to ${c.status} at ${c.decided_at}: ` +
      `"${c.note || ""}". Record yours as well? Press Record again.`;
    $("decide-conflict").hidden = false;
    pending.after = c.id;
    return;
  }
  $("decide").close();
  pending = null;
  const k = key(d);
  await loadQueue();
  await select(k);
}

$("decide-form").addEventListener("submit", (event) => {
  if (event.submitter && event.submitter.value === "cancel") return;
  event.preventDefault();
  submitDecision().catch(showError);
});
$("decide-note").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    submitDecision().catch(showError);
  }
});

function move(step) {
  if (!state.shown.length) return;
  const at = state.shown.findIndex((a) => key(a) === state.selected);
  const next = Math.max(0, Math.min(state.shown.length - 1, at < 0 ? 0 : at + step));
  select(key(state.shown[next]));
}

document.addEventListener("keydown", (event) => {
  if (event.target.closest("input, textarea, select, dialog") || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === "j" || event.key === "ArrowDown") { event.preventDefault(); move(1); }
  else if (event.key === "k" || event.key === "ArrowUp") { event.preventDefault(); move(-1); }
  else if (KEYS[event.key]) { event.preventDefault(); openDecision(KEYS[event.key]); }
});

function showError(error) {
  const box = $("count");
  box.textContent = `Error: ${error.message}`;
  box.className = "error";
}

// ---- users (admins) ----
async function loadUsers() {
  const {body} = await api("api/users");
  const rows = $("users-table").tBodies[0];
  rows.replaceChildren();
  for (const u of body) {
    const tr = el("tr");
    const role = el("select");
    for (const r of ["viewer", "analyst", "admin"]) {
      const o = el("option", r);
      o.selected = r === u.role;
      role.appendChild(o);
    }
    role.addEventListener("change", () => changeUser({name: u.name, role: role.value}));
    const toggle = el("button", u.disabled ? "enable" : "disable");
    toggle.addEventListener("click", () => changeUser({name: u.name, disabled: !u.disabled}));
    const roleCell = el("td");
    roleCell.appendChild(role);
    const toggleCell = el("td");
    toggleCell.appendChild(toggle);
    tr.append(el("td", u.name), roleCell, el("td", u.disabled ? "no" : "yes"), toggleCell);
    rows.appendChild(tr);
  }
}

async function changeUser(change) {
  try {
    await api("api/users", {method: "POST", body: JSON.stringify(change)});
    $("users-message").textContent = `${change.name} ${change.new ? "added" : "updated"}`;
  } catch (error) {
    $("users-message").textContent = error.message;
  }
  await loadUsers();
}

$("user-add").addEventListener("submit", (event) => {
  event.preventDefault();
  changeUser({new: true, name: $("ua-name").value, role: $("ua-role").value,
              password: $("ua-password").value});
  $("ua-password").value = "";
});

// ---- start ----
async function start() {
  for (const s of config.statuses) $("f-status").appendChild(el("option", s));
  for (const c of CLASSES) $("f-class").appendChild(el("option", c));
  const {body: regions} = await api("api/regions");
  for (const r of regions) $("region").appendChild(el("option", r));
  for (const id of ["f-status", "f-class", "f-score", "f-mw", "f-declared", "f-first",
                    "f-changed", "f-text", "f-alerts"]) {
    $(id).addEventListener("input", () => renderQueue(true));
  }
  $("region").addEventListener("change", () => loadQueue(true).catch(showError));
  for (const th of $("queue").tHead.rows[0].cells) {
    th.addEventListener("click", () => {
      const k = th.dataset.key;
      state.sort = {key: k, dir: state.sort.key === k ? -state.sort.dir : (k === "score" || k === "est_it_mw" ? -1 : 1)};
      renderQueue();
    });
  }
  $("signout").addEventListener("click", async () => {
    await api("logout", {method: "POST"}).catch(() => null);
    window.location.assign("login");
  });
  if (config.mayManage) {
    $("users-open").hidden = false;
    $("users-open").addEventListener("click", () => { $("users").showModal(); loadUsers().catch(showError); });
  }
  initMap();
  await loadQueue(true);
}

start().catch(showError);
