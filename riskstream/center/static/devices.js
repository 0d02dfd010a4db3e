// Device health: each device's last heartbeat, status and the fault alerts about it, refreshed
// every 5 s. A device fault is shown apart from process alarms (the board has those).
"use strict";
(() => {
  const { api, el, word, when } = RS;
  const statusWord = (s) => word(s === "offline" ? "device_offline" : s);
  async function refresh() {
    const { status, data } = await api("/api/devices");
    RS.connState(status === 200 ? "live" : "down");
    if (status !== 200) return;
    document.getElementById("device-rows").replaceChildren(...(data.devices || []).map((d) =>
      el("tr", { "data-device": d.device_id, "data-status": d.status, class: `dev-${d.status}` },
        el("td", { text: d.site_id }), el("td", { text: d.point_id }),
        el("td", { text: `${d.device_id} ${d.detail}` }), el("td", { text: word(d.kind) }),
        el("td", { class: "dev-status", text: statusWord(d.status) }),
        el("td", { text: d.last_heartbeat ? `${when(d.last_heartbeat)} (${Math.round(d.age_s)} s)` : "—" }),
        el("td", { text: Object.entries(d.figures).map(([k, v]) => `${k}=${v}`).join(" ") }),
        el("td", {}, ...d.fault_alerts.map((a) => el("a", { href: `/alerts/${encodeURIComponent(a.alert_id)}`, text: `${a.rule} (${word(a.status)})` }))))));
  }
  refresh(); setInterval(refresh, 5000);
})();
