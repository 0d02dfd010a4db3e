// Alarm KPIs per district and city-wide (EEMUA 191 / ISA-18.2).
"use strict";
(async () => {
  const { api, el } = RS;
  const { data } = await api("/api/kpis");
  const pct = (v) => `${(100 * v).toFixed(0)} %`;
  document.getElementById("kpi-rows").replaceChildren(...Object.values(data.scopes || {}).map((k) =>
    el("tr", { "data-scope": k.scope }, ...[k.scope, k.alarms, k.per_10min_mean.toFixed(2), k.per_10min_peak, k.floods.length,
      pct(k.flood_share), pct(k.top10_share), k.chattering.map((c) => `${c[0]} ×${c[1]}`).join(", "), k.stale.length,
      k.shelved.length, k.out_of_service.join(", "), k.suppressed.join(", ")].map((v) => el("td", { text: String(v) })))));
})();
