// Symbol page: a live uPlot chart of the last hour and the current metrics of one symbol.
// The socket is opened with ?symbol=, so it carries only this symbol (docs/websocket.md).
"use strict";

(function () {
  const root = document.getElementById("symbol-page");
  if (!root) return;
  const symbol = root.dataset.symbol;
  const conn = document.getElementById("conn");
  const chartEl = document.getElementById("chart");
  const WINDOW = 3600;
  const STEP = 5;
  const isNum = (x) => typeof x === "number" && isFinite(x);
  let times = [], prices = [];
  let plot = null;
  let socket = null, attempt = 0, received = 0, acked = 0, lastMessageAt = 0;

  function setConn(state, text) { conn.className = "badge conn-" + state; conn.textContent = text; }
  function price(x) {
    if (!isNum(x)) return "–";
    return x.toFixed(x >= 1000 ? 2 : x >= 10 ? 3 : x >= 1 ? 4 : 6);
  }
  function format(value, unit) {
    if (value === null || value === undefined) return "–";
    switch (unit) {
      case "price": return price(value);
      case "pct": return isNum(value) ? (value * 100).toFixed(2) + "%" : "–";
      case "pct_h": return isNum(value) ? value.toFixed(2) + "%/h" : "–";
      case "s": return isNum(value) ? value.toFixed(value < 10 ? 1 : 0) + " s" : "–";
      case "per_s": return isNum(value) ? value.toFixed(2) + " /s" : "–";
      case "num": return isNum(value) ? value.toFixed(2) : "–";
      case "int": return String(value);
      case "time": return isNum(value) ? new Date(value * 1000).toISOString().replace("T", " ").slice(0, 19) + " UTC" : "–";
      default: return String(value);
    }
  }

  function size() { return { width: Math.max(280, chartEl.clientWidth), height: 320 }; }
  function draw() {
    if (typeof uPlot === "undefined") return;
    const data = [times, prices];
    if (plot) { plot.setData(data); return; }
    const css = getComputedStyle(document.documentElement);
    const axis = { stroke: css.getPropertyValue("--muted").trim() || "#8b949e", grid: { stroke: "rgba(139,148,158,.15)" }, ticks: { stroke: "rgba(139,148,158,.25)" } };
    plot = new uPlot({
      ...size(),
      scales: { x: { time: true } },
      series: [{}, { label: symbol, stroke: css.getPropertyValue("--accent").trim() || "#58a6ff", width: 1.5, value: (u, v) => price(v) }],
      axes: [axis, { ...axis, size: 84, values: (u, vals) => vals.map(price) }],
    }, data, chartEl);
    window.addEventListener("resize", () => plot.setSize(size()));
  }

  function onHistory(h) {
    const points = (h.series || {})[symbol] || [];
    const lastHist = points.length ? points[points.length - 1][0] : -Infinity;
    const keep = times.map((t, i) => [t, prices[i]]).filter((p) => p[0] > lastHist);
    const all = points.concat(keep);
    times = all.map((p) => p[0]);
    prices = all.map((p) => p[1]);
    document.getElementById("chart-meta").textContent = times.length + " points";
    draw();
  }

  function onSnapshot(msg) {
    for (const row of msg.rows) {
      if (row.symbol !== symbol) continue;
      for (const dd of document.querySelectorAll("#metrics dd")) {
        const text = format(row[dd.dataset.key], dd.dataset.unit);
        if (dd.textContent !== text) dd.textContent = text;
      }
      document.getElementById("sym-last").textContent = price(row.last);
      const r = row.ret_5m;
      const ret = document.getElementById("sym-ret");
      ret.textContent = isNum(r) ? "5m " + (r >= 0 ? "+" : "") + (r * 100).toFixed(2) + "%" : "";
      ret.className = isNum(r) ? (r >= 0 ? "up" : "down") : "muted";
      if (isNum(row.ts) && isNum(row.last)) {
        const n = times.length;
        if (n && row.ts - times[n - 1] < STEP) { prices[n - 1] = row.last; times[n - 1] = Math.max(times[n - 1], row.ts); }
        else { times.push(row.ts); prices.push(row.last); }
        while (times.length && times[0] < row.ts - WINDOW) { times.shift(); prices.shift(); }
        if (plot) plot.setData([times, prices]); else draw();
      }
    }
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + root.dataset.wsPath + "?symbol=" + encodeURIComponent(symbol));
    received = 0; acked = 0;
    setConn("connecting", attempt ? "reconnecting…" : "connecting…");
    socket.onopen = () => { attempt = 0; };
    socket.onmessage = (e) => {
      lastMessageAt = Date.now();
      received += 1;
      let msg;
      try { msg = JSON.parse(e.data); } catch (err) { return; }
      if (conn.textContent !== "live") setConn("live", "live");
      if (msg.type === "hello") socket.send(JSON.stringify({ action: "history", symbols: [symbol], seconds: WINDOW, step: STEP }));
      else if (msg.type === "history") onHistory(msg.history);
      else if (msg.type === "snapshot") onSnapshot(msg);
    };
    socket.onclose = (e) => {
      if (e.code === 4401) { location.href = root.dataset.loginUrl + "?next=" + encodeURIComponent(location.pathname); return; }
      if (e.code === 4404) { setConn("closed", "unknown symbol"); return; }
      attempt += 1;
      const delay = 250 + Math.random() * Math.min(30000, 500 * 2 ** Math.min(attempt, 6));
      setConn("closed", "reconnecting in " + Math.ceil(delay / 1000) + "s");
      setTimeout(connect, delay);
    };
  }

  setInterval(() => {
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    if (Date.now() - lastMessageAt > 10000) setConn("stale", "stale");
    if (received !== acked) { acked = received; socket.send(JSON.stringify({ action: "ack", received })); }
  }, 1000);
  connect();
})();
