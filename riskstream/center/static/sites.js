// Site overview: plant -> risk point -> sensors and cameras, each coloured by state (a point by
// its worst live process alarm, a device by its health), refreshed every 5 s.
"use strict";
(() => {
  const { api, el, word } = RS;
  const statusWord = (s) => word(s === "offline" ? "device_offline" : s);
  function point(p) {
    return el("li", { class: `point state-${p.state}`, "data-point": p.point_id, "data-state": p.state },
      el("span", { class: "point-name", text: p.point_id ? `${p.name} (${p.point_id})` : "—" }),
      ...p.alerts.map((id) => el("a", { class: "alarm", href: `/alerts/${encodeURIComponent(id)}`, text: "⚠" })),
      el("ul", { class: "point-devices" }, ...p.devices.map((d) =>
        el("li", { class: `device dev-${d.status}`, "data-device": d.device_id, "data-status": d.status },
          el("span", { text: `${word(d.kind)} ${d.device_id}: ${statusWord(d.status)}` })))));
  }
  async function refresh() {
    const { status, data } = await api("/api/sites");
    RS.connState(status === 200 ? "live" : "down");
    if (status !== 200) return;
    document.getElementById("sites").replaceChildren(...(data.sites || []).map((s) =>
      el("section", { class: `site state-${s.state}`, "data-site": s.site_id, "data-state": s.state },
        el("h3", { text: `${s.name} · ${s.district} · ${word(s.state)}` +
          (s.grade ? ` · ${word("grade")} ${s.grade}` : "") + ` · ${word("process_alarms")} ${s.alerts} · ${word("device_faults")} ${s.faults}` }),
        el("ul", { class: "points" }, ...s.points.map(point)))));
  }
  refresh(); setInterval(refresh, 5000);
})();
