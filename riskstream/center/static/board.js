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
  // Only the rows in view, and a margin around them, are in the page: the board holds every
  // alert the user may see, but a screen shows a few dozen. A 1,000-row board drawn whole on
  // every change starved 20 pages sharing one machine (benchmarks/center.py). Rows have one
  // fixed height (app.css), so the board's height and each row's place follow from its index.
  const ROW_PX = 30, MARGIN_ROWS = 5;
  const FLASHING = 100;  // rows that flash at most: the top of the board, where eyes are
  const rowsById = new Map();  // alert id -> [tr, key of what it shows], rows in the page only
  const picked = new Set();  // alerts ticked for bulk acknowledgement (kept while off screen)
  let list = [], flashing = new Set(), stale = true, newcomers = true;
  function rowFor(a) {
    const flash = flashing.has(a.alert_id), pick = picked.has(a.alert_id);
    const key = `${a.revision}|${flash}|${a.alert_id === selected}|${pick}`;
    const held = rowsById.get(a.alert_id);
    if (held && held[1] === key) return held[0];
    const tr = el("tr", { class: `row status-${a.status}` + (unack(a) ? " unack" : "") + (flash ? " flash" : "") + (a.alert_id === selected ? " selected" : ""),
                          "data-alert": a.alert_id, "data-revision": String(a.revision), "data-level": String(a.attrs.alarm_level || 1) });
    const box = el("input", { type: "checkbox", class: "pick" });
    box.checked = pick;
    tr.append(el("td", {}, box), el("td", {}, el("span", { class: "sev sev-" + a.colour, text: word(a.severity) })),
      el("td", { text: String(a.attrs.alarm_level || "") }), el("td", { text: word(a.attrs.hazard || "other") }),
      el("td", { class: "status", text: word(a.status) }), el("td", { text: a.district }), el("td", { text: a.site_id }),
      el("td", { text: a.rule }), el("td", { class: "explanation", text: a.explanation, title: a.explanation }), el("td", { text: when(a.updated_at) }),
      el("td", { text: a.lifecycle.claimed_by || "" }));
    if (flash) tr.append(el("span", { class: "flasher", "aria-hidden": "true" }));
    if (held) held[0].replaceWith(tr);
    rowsById.set(a.alert_id, [tr, key]);
    return tr;
  }
  // Live changes are drawn on the flash's beat, every TICK_MS (the newest state then), in the
  // same frame as the flash: a page that redrew on every 100 ms batch fell behind on a loaded
  // machine, and a redraw between two flashes cost a frame of its own (benchmarks/center.py).
  const TICK_MS = 500;
  let pending = false, frame = null;
  window.__renderMs = [];  // how long each redraw took (read by the benchmark)
  setInterval(() => {
    document.getElementById("rows").classList.toggle("blink");
    if (pending) render();
  }, TICK_MS);
  function render() {
    const began = performance.now();
    pending = false;
    stale = true;
    draw();
    if (window.__renderMs.length < 10000) window.__renderMs.push(performance.now() - began);
  }
  function relist() {  // the board's contents: order, filters, counts, which rows flash
    if (newcomers) {  // filter choices change only when alerts come or go
      options(filters[0][1], new Set([...alerts.values()].map((a) => a.district)));
      options(filters[1][1], new Set([...alerts.values()].map((a) => a.site_id)));
      options(filters[4][1], new Set([...alerts.values()].map((a) => a.rule)));
      for (const id of picked) if (!alerts.has(id)) picked.delete(id);
      newcomers = false;
    }
    list = shown();
    const counts = { total: list.length, unack: 0, critical: 0, major: 0, warning: 0, info: 0 };
    flashing = new Set();
    for (const a of list) {
      counts[a.severity] += 1;
      if (!unack(a)) continue;
      counts.unack += 1;
      if (!silenced && flashing.size < FLASHING) flashing.add(a.alert_id);
    }
    const shownCounts = [["count_total", "count-total", counts.total], ["count_unack", "count-unack", counts.unack],
      ...["critical", "major", "warning", "info"].map((s) => [s, "count-" + s, counts[s]])];
    document.getElementById("counts").replaceChildren(...shownCounts.map(([w, id, n]) =>
      el("span", {}, word(w) + " ", el("b", { id, text: String(n) }))));
    horn(counts.unack > 0);
    stale = false;
  }
  function draw() {  // the rows in view; the list only when something changed
    if (stale) relist();
    const rows = document.getElementById("rows");
    const top = rows.getBoundingClientRect().top;
    const first = Math.min(list.length, Math.max(0, Math.floor(-top / ROW_PX) - MARGIN_ROWS));
    const last = Math.min(list.length, Math.max(first, Math.ceil((window.innerHeight - top) / ROW_PX) + MARGIN_ROWS));
    rows.style.height = `${list.length * ROW_PX}px`;
    const wanted = new Set(list.slice(first, last).map((a) => a.alert_id));
    for (const [id, [tr]] of rowsById) if (!wanted.has(id)) { tr.remove(); rowsById.delete(id); }
    for (let i = first; i < last; i++) {
      const tr = rowFor(list[i]);
      // Placed by a transform: a row that only moves is not painted again.
      const y = `translateY(${i * ROW_PX}px)`;
      if (tr.style.transform !== y) tr.style.transform = y;
      if (rows.children[i - first] !== tr) rows.insertBefore(tr, rows.children[i - first] || null);
    }
  }
  function drawSoon() {  // scrolling and resizing move the window, not the list
    if (!frame) frame = requestAnimationFrame(() => { frame = null; draw(); });
  }
  window.addEventListener("scroll", drawSoon, { passive: true });
  window.addEventListener("resize", drawSoon);
  function reveal(index) {  // keyboard selection scrolls its row into view
    const rows = document.getElementById("rows");
    const at = rows.getBoundingClientRect().top + index * ROW_PX;
    if (at < 0 || at + ROW_PX > window.innerHeight) window.scrollBy(0, at - window.innerHeight / 2);
  }
  document.getElementById("rows").addEventListener("click", (e) => {  // one listener for every row
    if (e.target.classList.contains("pick")) {
      const id = e.target.closest("tr[data-alert]").dataset.alert;
      if (e.target.checked) picked.add(id); else picked.delete(id);
      return;
    }
    const tr = e.target.closest("tr[data-alert]");
    if (tr) window.location = "/alerts/" + encodeURIComponent(tr.dataset.alert);
  });
  // A two-tone beep every 2 s while unacknowledged alarms stand. The audio context runs only
  // while a tone plays: a running context renders (silence) all the time, and that cost each
  // page more CPU than drawing the board (benchmarks/center.py). A browser that allows sound
  // only after a gesture on the page gets it at the first key or click.
  function horn(on) {
    if (!on || silenced) {
      if (audio) { clearInterval(audio.timer); audio.ctx.close(); audio = null; }
      return;
    }
    if (audio) return;
    let ctx = null;
    try { ctx = new (window.AudioContext || window.webkitAudioContext)(); } catch (e) { return; }
    ctx.suspend();
    let quiet = null;
    const beep = async () => {
      try { await ctx.resume(); } catch (e) { return; }
      if (ctx.state !== "running") return;
      for (const [i, f] of [[0, 880], [1, 660]]) {
        const o = ctx.createOscillator(), g = ctx.createGain();
        o.frequency.value = f; g.gain.value = 0.05; o.connect(g); g.connect(ctx.destination);
        o.start(ctx.currentTime + i * 0.25); o.stop(ctx.currentTime + i * 0.25 + 0.2);
      }
      clearTimeout(quiet);
      quiet = setTimeout(() => { if (ctx.state === "running") ctx.suspend(); }, 500);
    };
    audio = { ctx, timer: setInterval(beep, 2000) };
    beep();
  }
  window.__horn = () => (audio ? audio.ctx.state : "off");  // for the tests: off, suspended or running
  function take(changes, snapshot) {
    if (snapshot) { alerts.clear(); newcomers = true; }
    for (const a of changes) {
      const held = alerts.get(a.alert_id);
      if (!held) newcomers = true;
      if (snapshot || !held || held.revision <= a.revision) alerts.set(a.alert_id, a);
      if (!known.has(a.alert_id)) {
        known.add(a.alert_id);
        if (!firstPicture && unack(a)) { notify(a); silenced = false; }
      }
    }
    firstPicture = false;
    if (window.__boardTook) window.__boardTook(changes);  // the benchmark's probe: on the board now
    if (snapshot) render(); else pending = true;
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
    const ids = list.map((a) => a.alert_id).filter((id) => picked.has(id));
    if (!ids.length) return;
    if (ids.some((id) => String(alerts.get(id).attrs.alarm_level) === "2") && !window.confirm(word("confirm_top"))) return;
    await acknowledge(ids);
    for (const id of ids) picked.delete(id);
    render();
  });
  document.addEventListener("keydown", async (e) => {
    if (["INPUT", "TEXTAREA", "SELECT"].includes(e.target.tagName)) return;
    const at = list.findIndex((a) => a.alert_id === selected);
    if (e.key === "j" || e.key === "k") {
      const next = Math.min(Math.max(at + (e.key === "j" ? 1 : -1), 0), list.length - 1);
      selected = list[next] ? list[next].alert_id : null;
      if (selected) reveal(next);
      render();
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
