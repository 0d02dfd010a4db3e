// One EventSource for every tab of this browser: keeps the latest revision of each alert, sends
// a full picture to a tab that joins and the changes to all. EventSource reconnects by itself
// with Last-Event-ID; the server answers with the missed changes or a fresh snapshot.
"use strict";
const ports = new Set();
const alerts = new Map();
let state = "down";
let source = null;

function broadcast(msg) { for (const port of ports) port.postMessage(msg); }
function take(list, snapshot) {
  if (snapshot) alerts.clear();
  const changed = [];
  for (const a of list) {
    const held = alerts.get(a.alert_id);
    if (snapshot || !held || held.revision < a.revision) { alerts.set(a.alert_id, a); changed.push(a); }
  }
  broadcast({ type: "alerts", alerts: snapshot ? [...alerts.values()] : changed, snapshot });
}
function open() {
  source = new EventSource("/api/stream");
  source.addEventListener("snapshot", (e) => take(JSON.parse(e.data), true));
  source.addEventListener("changes", (e) => take(JSON.parse(e.data), false));
  source.addEventListener("logout", () => { broadcast({ type: "logout" }); source.close(); source = null; });
  source.onopen = () => { state = "live"; broadcast({ type: "state", state }); };
  source.onerror = () => { state = "down"; broadcast({ type: "state", state }); };
}
onconnect = (event) => {
  const port = event.ports[0];
  ports.add(port);
  port.onmessage = (e) => { if (e.data && e.data.type === "bye") ports.delete(port); };
  port.start();
  if (!source) open();
  port.postMessage({ type: "state", state });
  if (alerts.size) port.postMessage({ type: "alerts", alerts: [...alerts.values()], snapshot: true });
};
