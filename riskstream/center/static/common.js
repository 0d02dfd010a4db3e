// Shared by every console page: words, Beijing time, the JSON API, the live stream.
"use strict";
const RS = (() => {
  const T = JSON.parse(document.getElementById("i18n").textContent);
  const CONFIG = JSON.parse(document.getElementById("page-config").textContent);
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrf = csrfMeta ? csrfMeta.content : "";
  const timeFormat = new Intl.DateTimeFormat(CONFIG.lang === "en" ? "en-GB" : "zh-CN", {
    timeZone: CONFIG.timezone, hour12: false, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit" });
  const word = (key) => (key in T ? T[key] : key);
  const when = (iso) => (iso ? timeFormat.format(new Date(iso)) : "");
  async function api(path, options = {}) {
    const headers = Object.assign({ "X-CSRF-Token": csrf }, options.body ? { "Content-Type": "application/json" } : {});
    const response = await fetch(path, Object.assign({ credentials: "same-origin", headers }, options));
    let data = {};
    try { data = await response.json(); } catch (e) { data = {}; }
    if (response.status === 401) { window.location = "/login"; }
    return { status: response.status, data };
  }
  function el(tag, attrs = {}, ...children) {  // text only: nothing is ever parsed as HTML
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "class") node.className = v; else if (k === "text") node.textContent = v; else node.setAttribute(k, v);
    }
    for (const child of children) node.append(child);
    return node;
  }
  // One live stream per browser, shared by its tabs (a SharedWorker holds the EventSource);
  // where SharedWorker is missing each page opens its own.
  function live(onAlerts, onState) {
    const handle = (msg) => {
      if (msg.type === "alerts") onAlerts(msg.alerts, msg.snapshot);
      else if (msg.type === "state") onState(msg.state);
      else if (msg.type === "logout") window.location = "/login";
    };
    if (window.SharedWorker) {
      const worker = new SharedWorker("/static/stream-worker.js", { name: "riskstream-stream" });
      worker.port.onmessage = (e) => handle(e.data);
      worker.port.start();
      window.addEventListener("beforeunload", () => worker.port.postMessage({ type: "bye" }));
      return;
    }
    const source = new EventSource("/api/stream");
    source.addEventListener("snapshot", (e) => handle({ type: "alerts", alerts: JSON.parse(e.data), snapshot: true }));
    source.addEventListener("changes", (e) => handle({ type: "alerts", alerts: JSON.parse(e.data), snapshot: false }));
    source.addEventListener("logout", () => handle({ type: "logout" }));
    source.onopen = () => onState("live");
    source.onerror = () => onState("down");
  }
  function connState(state) {
    const node = document.getElementById("conn");
    if (!node) return;
    node.className = "conn " + state;
    node.textContent = state === "live" ? word("live") : word("offline");
  }
  // Activity keeps the session alive; an open page alone does not.
  let lastPing = Date.now();
  const activity = () => { if (Date.now() - lastPing > 60000) { lastPing = Date.now(); api("/api/me"); } };
  document.addEventListener("keydown", activity); document.addEventListener("click", activity);
  return { T, CONFIG, csrf, word, when, api, el, live, connState };
})();
