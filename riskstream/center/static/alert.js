// One alert: its explanation, history, contributing events, a chart of the sensors' readings
// around it with the setpoints drawn, and the actions the user's role allows.
"use strict";
(() => {
  const { word, when, api, el, live, connState } = RS;
  let alert = JSON.parse(document.getElementById("alert-data").textContent);
  let pending = null;
  function show(a) {
    alert = a;
    document.getElementById("alert-status").textContent = word(a.status);
    document.getElementById("explanation").textContent = a.explanation;
    document.getElementById("claimed").textContent = a.lifecycle.claimed_by || "";
    document.getElementById("history").replaceChildren(...a.lifecycle.history.map((h) =>
      el("li", {}, el("span", { class: "muted", text: when(h.at) + " " }), el("b", { text: h.by }),
         ` ${word(h.action)} (r${h.revision})` + (h.comment ? ": " : ""), el("span", { class: "comment", text: h.comment || "" }),
         h.action_taken ? el("span", { text: " / " + h.action_taken }) : "")));
  }
  const form = document.getElementById("action-form");
  for (const button of document.querySelectorAll("#actions button[data-action]")) {
    button.addEventListener("click", () => {
      pending = button.dataset.action;
      if (pending === "acknowledge" || pending === "claim" || pending === "unshelve") { send(); return; }
      form.hidden = false;
      document.getElementById("l-taken").hidden = pending !== "resolve";
      document.getElementById("l-duration").hidden = pending !== "shelve";
    });
  }
  document.getElementById("a-send").addEventListener("click", send);
  async function send() {
    const body = { action: pending, comment: document.getElementById("a-comment").value,
                   action_taken: document.getElementById("a-taken").value };
    if (pending === "shelve") body.duration_s = Number(document.getElementById("a-duration").value) * 60;
    const result = document.getElementById("action-result");
    result.textContent = "…";
    const { status, data } = await api(`/api/alerts/${encodeURIComponent(alert.alert_id)}/actions`, { method: "POST", body: JSON.stringify(body) });
    if (status === 200) { result.textContent = `${word(pending)}: r${data.alert.revision}`; show(data.alert); form.hidden = true; }
    else result.textContent = `${word("refused")}: ${data.error || status}`;
  }
  async function events() {
    const { data } = await api(`/api/alerts/${encodeURIComponent(alert.alert_id)}/events`);
    document.getElementById("events").replaceChildren(...(data.events || []).map((e) =>
      el("tr", {}, el("td", { text: when(e.ts) }), el("td", { text: e.kind }), el("td", { text: e.source_id }),
         el("td", { text: e.severity }), el("td", { text: e.value === null ? "" : `${e.value} ${e.unit || ""}` }))));
    const shown = (data.events || []).filter((e) => e.evidence || e.clip);  // shipped from the edge, served scoped
    const media = (e) => [
      ...(e.clip ? [el("video", { src: e.clip, controls: "", muted: "", preload: "metadata", class: "clip" })] : []),
      ...(e.evidence ? [el("img", { src: e.evidence, alt: `${e.source_id} ${e.kind}`, loading: "lazy" })] : [])];
    document.getElementById("snapshots").replaceChildren(...(shown.length ? shown.map((e) =>
      el("figure", { "data-event": e.event_id }, ...media(e),
         el("figcaption", { text: `${when(e.ts)} ${e.source_id} ${e.kind}` }))) : [el("p", { text: word("no_snapshot") })]));
  }
  async function chart() {  // a small SVG line chart per sensor, setpoints dashed
    const { data } = await api(`/api/alerts/${encodeURIComponent(alert.alert_id)}/readings`);
    const box = document.getElementById("chart");
    const series = data.series || [];
    if (!series.length) { box.textContent = "—"; return; }
    const W = 760, H = 160, ns = "http://www.w3.org/2000/svg";
    box.replaceChildren(...series.map((s) => {
      const svg = document.createElementNS(ns, "svg");
      svg.setAttribute("width", W); svg.setAttribute("height", H + 20); svg.setAttribute("class", "series"); svg.dataset.source = s.source_id;
      const ts = s.points.map((p) => Date.parse(p[0])), vs = s.points.map((p) => p[1]);
      const lines = [s.warning, s.alarm].filter((v) => v !== null && v !== undefined);
      const lo = Math.min(...vs, ...lines), hi = Math.max(...vs, ...lines), t0 = Math.min(...ts), t1 = Math.max(...ts);
      const x = (t) => 40 + (W - 50) * (t1 > t0 ? (t - t0) / (t1 - t0) : 0.5), y = (v) => 10 + (H - 20) * (hi > lo ? 1 - (v - lo) / (hi - lo) : 0.5);
      const path = document.createElementNS(ns, "polyline");
      path.setAttribute("points", s.points.map((p, i) => `${x(ts[i])},${y(vs[i])}`).join(" "));
      path.setAttribute("fill", "none"); path.setAttribute("stroke", "#90caf9");
      svg.append(path);
      for (const [v, c] of [[s.warning, "#f9a825"], [s.alarm, "#d32f2f"]]) {
        if (v === null || v === undefined) continue;
        const l = document.createElementNS(ns, "line");
        l.setAttribute("x1", 40); l.setAttribute("x2", W - 10); l.setAttribute("y1", y(v)); l.setAttribute("y2", y(v));
        l.setAttribute("stroke", c); l.setAttribute("stroke-dasharray", "4 3"); l.setAttribute("class", "setpoint");
        svg.append(l);
      }
      const label = document.createElementNS(ns, "text");
      label.setAttribute("x", 42); label.setAttribute("y", H + 15); label.setAttribute("fill", "#e8edf2");
      label.textContent = `${s.source_id} (${s.unit}) ${when(new Date(t0).toISOString())} – ${when(new Date(t1).toISOString())}`;
      svg.append(label);
      return svg;
    }));
  }
  show(alert); events(); chart();
  live((list) => { for (const a of list) if (a.alert_id === alert.alert_id && a.revision >= alert.revision) show(a); }, connState);
})();
