// The live board: alerts in the server's order (GB/T 50493), filters, counts, flashing and a
// horn for unacknowledged alarms (silence is not acknowledge), notifications, keyboard keys.
"use strict";
(() => {
  const { word, when, api, el, live, connState, CONFIG } = RS;
  const alerts = new Map();
  const known = new Set();  // alerts already seen by this page: only new ones notify
  let selected = null, silenced = false, firstPicture = true, audio = null;
  const filters = ["district", "site", "severity", "status", "kind"].map((n) => [n, document.getElementById("f-" + n)]);
  const mine = document.getElementById("f-mine");
  const unack = (a) => ["open", "escalated", "returned"].includes(a.status);
  const compare = (x, y) => {
    for (let i = 0; i < x.order.length; i++) {
      if (x.order[i] < y.order[i]) return -1;
      if (x.order[i] > y.order[i]) return 1;
    }
    return 0;
  };
  function shown() {
    const chosen = Object.fromEntries(filters.map(([n, s]) => [n, s.value]));
    return [...alerts.values()].filter((a) =>
      (!chosen.district || a.district === chosen.district) && (!chosen.site || a.site_id === chosen.site) &&
      (!chosen.severity || a.severity === chosen.severity) && (!chosen.kind || a.rule === chosen.kind) &&
      (!chosen.status || a.status === chosen.status || (chosen.status === "unacknowledged" && unack(a))) &&
      (!mine.checked || a.lifecycle.claimed_by === CONFIG.user)).sort(compare);
  }
  function options(select, values) {
    const keep = select.value;
    const have = new Set([...select.options].map((o) => o.value));
    for (const v of [...values].sort()) if (!have.has(v)) select.append(el("option", { value: v, text: v }));
    select.value = keep;
  }
  // Rows are kept per alert and rebuilt only when their alert changed; the order is fixed up
  // in place. At 50 updates/s over 1,000 alerts, rebuilding every row each tick starved the
  // page (benchmarks/center.py).
  const rowsById = new Map();  // alert id -> [tr, key of what it shows]
  const FLASHING = 100;  // rows that flash at most: the top of the board, where eyes are
  function rowFor(a, flash) {
    const key = `${a.revision}|${flash}|${a.alert_id === selected}|${silenced}`;
    const held = rowsById.get(a.alert_id);
    if (held && held[1] === key) return held[0];
    const tr = el("tr", { class: `row status-${a.status}` + (unack(a) ? " unack" : "") + (flash ? " flash" : "") + (a.alert_id === selected ? " selected" : ""),
                          "data-alert": a.alert_id, "data-revision": String(a.revision), "data-level": String(a.attrs.alarm_level || 1) });
    tr.append(el("td", {}, el("input", { type: "checkbox", class: "pick" })), el("td", {}, el("span", { class: "sev sev-" + a.colour, text: word(a.severity) })),
      el("td", { text: String(a.attrs.alarm_level || "") }), el("td", { text: word(a.attrs.hazard || "other") }),
      el("td", { class: "status", text: word(a.status) }), el("td", { text: a.district }), el("td", { text: a.site_id }),
      el("td", { text: a.rule }), el("td", { class: "explanation", text: a.explanation }), el("td", { text: when(a.updated_at) }),
      el("td", { text: a.lifecycle.claimed_by || "" }));
    if (held) held[0].replaceWith(tr);
    rowsById.set(a.alert_id, [tr, key]);
    return tr;
  }
  // Live changes are drawn at most every RENDER_MS (the newest state then): a page that
  // redrew on every 100 ms batch fell behind on a loaded machine (benchmarks/center.py).
  const RENDER_MS = 250;
  let lastRender = 0, renderTimer = null;
  window.__renderMs = [];  // how long each redraw took (read by the benchmark)
  function scheduleRender() {
    if (renderTimer) return;
    const wait = Math.max(0, lastRender + RENDER_MS - performance.now());
    renderTimer = setTimeout(() => { renderTimer = null; render(); }, wait);
  }
  function render() {
    const began = performance.now();
    lastRender = began;
    draw();
    if (window.__renderMs.length < 10000) window.__renderMs.push(performance.now() - began);
  }
  function draw() {
    options(filters[0][1], new Set([...alerts.values()].map((a) => a.district)));
    options(filters[1][1], new Set([...alerts.values()].map((a) => a.site_id)));
    options(filters[4][1], new Set([...alerts.values()].map((a) => a.rule)));
    const list = shown();
    const rows = document.getElementById("rows");
    const wanted = new Set(list.map((a) => a.alert_id));
    for (const [id, [tr]] of rowsById) if (!wanted.has(id)) { tr.remove(); rowsById.delete(id); }
    let flashing = 0;
    list.forEach((a, i) => {
      const flash = unack(a) && !silenced && flashing++ < FLASHING;
      const tr = rowFor(a, flash);
      if (rows.children[i] !== tr) rows.insertBefore(tr, rows.children[i] || null);
    });
    const count = (f) => list.filter(f).length;
    document.getElementById("counts").replaceChildren(
      el("span", {}, word("count_total") + " ", el("b", { id: "count-total", text: String(list.length) })),
      el("span", {}, word("count_unack") + " ", el("b", { id: "count-unack", text: String(count(unack)) })),
      ...["critical", "major", "warning", "info"].map((s) => el("span", {}, word(s) + " ", el("b", { text: String(count((a) => a.severity === s)) }))));
    horn(list.some(unack));
  }
  setInterval(() => document.getElementById("rows").classList.toggle("blink"), 500);
  document.getElementById("rows").addEventListener("click", (e) => {  // one listener for every row
    if (e.target.classList.contains("pick")) return;
    const tr = e.target.closest("tr[data-alert]");
    if (tr) window.location = "/alerts/" + encodeURIComponent(tr.dataset.alert);
  });
  function horn(on) {  // a two-tone beep every 2 s while unacknowledged alarms stand
    if (!on || silenced) { if (audio) { clearInterval(audio.timer); audio = null; } return; }
    if (audio) return;
    let ctx = null;
    try { ctx = new (window.AudioContext || window.webkitAudioContext)(); } catch (e) { return; }
    const beep = () => {
      for (const [i, f] of [[0, 880], [1, 660]]) {
        const o = ctx.createOscillator(), g = ctx.createGain();
        o.frequency.value = f; g.gain.value = 0.05; o.connect(g); g.connect(ctx.destination);
        o.start(ctx.currentTime + i * 0.25); o.stop(ctx.currentTime + i * 0.25 + 0.2);
      }
    };
    audio = { timer: setInterval(beep, 2000) };
    beep();
  }
  function take(list, snapshot) {
    if (snapshot) alerts.clear();
    for (const a of list) {
      const held = alerts.get(a.alert_id);
      if (snapshot || !held || held.revision <= a.revision) alerts.set(a.alert_id, a);
      if (!known.has(a.alert_id)) {
        known.add(a.alert_id);
        if (!firstPicture && unack(a)) { notify(a); silenced = false; }
      }
    }
    firstPicture = false;
    if (snapshot) render(); else scheduleRender();
  }
  function notify(a) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    new Notification(`${word(a.severity)} · ${a.site_id}`, { body: a.explanation, tag: a.alert_id });
  }
  document.getElementById("silence").addEventListener("click", () => { silenced = true; render(); });
  document.getElementById("notify").addEventListener("click", () => { if ("Notification" in window) Notification.requestPermission(); });
  for (const [, s] of filters) s.addEventListener("change", render);
  mine.addEventListener("change", render);
  async function acknowledge(ids) {
    for (const id of ids) await api(`/api/alerts/${encodeURIComponent(id)}/actions`, { method: "POST", body: JSON.stringify({ action: "acknowledge" }) });
  }
  const bulk = document.getElementById("ack-selected");
  if (bulk) bulk.addEventListener("click", async () => {
    const picked = [...document.querySelectorAll("#rows tr")].filter((tr) => tr.querySelector(".pick").checked);
    if (!picked.length) return;
    if (picked.some((tr) => tr.dataset.level === "2") && !window.confirm(word("confirm_top"))) return;
    await acknowledge(picked.map((tr) => tr.dataset.alert));
  });
  document.addEventListener("keydown", async (e) => {
    if (["INPUT", "TEXTAREA", "SELECT"].includes(e.target.tagName)) return;
    const list = shown();
    const at = list.findIndex((a) => a.alert_id === selected);
    if (e.key === "j" || e.key === "k") {
      const next = Math.min(Math.max(at + (e.key === "j" ? 1 : -1), 0), list.length - 1);
      selected = list[next] ? list[next].alert_id : null; render();
    } else if (e.key === "Enter" && selected) {
      window.location = "/alerts/" + encodeURIComponent(selected);
    } else if (e.key === "a" && selected) {
      const a = alerts.get(selected);
      if (a && (String(a.attrs.alarm_level) !== "2" || window.confirm(word("confirm_top")))) await acknowledge([selected]);
    } else if (e.key === "c" && selected) {
      const text = window.prompt(word("comment"));
      if (text) await api(`/api/alerts/${encodeURIComponent(selected)}/actions`, { method: "POST", body: JSON.stringify({ action: "comment", comment: text }) });
    }
  });
  live(take, connState);
})();
