// Market Pulse dashboard: one WebSocket, rows patched in place, reconnect with backoff.
// Message schema: see README "WebSocket protocol" (hello, snapshot, event, health, correlation).
"use strict";

(function () {
  const root = document.getElementById("dashboard");
  if (!root) return;
  const wsPath = root.dataset.wsPath;
  const loginUrl = root.dataset.loginUrl;
  const tbody = document.getElementById("pulse-rows");
  const empty = document.getElementById("empty");
  const conn = document.getElementById("conn");
  const eventsList = document.getElementById("events");
  const noEvents = document.getElementById("no-events");
  const uptimeEl = document.getElementById("uptime");
  const feedsEl = document.getElementById("feeds");
  const MAX_EVENTS = 100;
  const STALE_AFTER = 60; // seconds without a tick before a row is dimmed

  const rows = new Map(); // symbol -> {tr, cells, data}
  let assetFilter = new URLSearchParams(location.search).get("asset") || "all";
  let socket = null;
  let attempt = 0;
  let lastMessageAt = 0;
  let uptimeBase = null; // {uptime, at}

  function setConn(state, text) {
    conn.className = "badge conn-" + state;
    conn.textContent = text;
  }

  function pct(x) {
    if (x === null || x === undefined) return "–";
    return (x >= 0 ? "+" : "") + (x * 100).toFixed(2) + "%";
  }

  function price(x) {
    if (x === null || x === undefined) return "–";
    const digits = x >= 1000 ? 2 : x >= 10 ? 3 : x >= 1 ? 4 : 6;
    return x.toFixed(digits);
  }

  function signClass(x) {
    if (x === null || x === undefined || x === 0) return "";
    return x > 0 ? "up" : "down";
  }

  function makeRow(symbol) {
    const tr = document.createElement("tr");
    tr.dataset.symbol = symbol;
    const names = ["symbol", "asset", "last", "r1", "r5", "vol", "regime", "age"];
    const cells = {};
    for (const name of names) {
      const td = document.createElement("td");
      td.className = name;
      if (["last", "r1", "r5", "vol", "age"].includes(name)) td.classList.add("num");
      tr.appendChild(td);
      cells[name] = td;
    }
    cells.symbol.textContent = symbol;
    const regime = document.createElement("span");
    regime.className = "regime";
    cells.regime.appendChild(regime);
    cells.regimeBadge = regime;
    return { tr, cells, data: null };
  }

  function setText(td, text, cls) {
    if (td.textContent !== text) td.textContent = text;
    const want = (td.dataset.base || (td.dataset.base = td.className)) + (cls ? " " + cls : "");
    if (td.className !== want) td.className = want;
  }

  function patchRow(data) {
    let row = rows.get(data.symbol);
    if (!row) {
      row = makeRow(data.symbol);
      rows.set(data.symbol, row);
      insertSorted(row);
    }
    const prev = row.data;
    row.data = data;
    const c = row.cells;
    setText(c.asset, data.asset || "");
    setText(c.last, price(data.last));
    setText(c.r1, pct(data.ret_1m), signClass(data.ret_1m));
    setText(c.r5, pct(data.ret_5m), signClass(data.ret_5m));
    setText(c.vol, data.vol_15m === null || data.vol_15m === undefined ? "–" : (data.vol_15m * 100).toFixed(1) + "%");
    const regime = data.regime || "unknown";
    if (c.regimeBadge.textContent !== regime) {
      c.regimeBadge.textContent = regime;
      c.regimeBadge.className = "regime regime-" + regime;
    }
    setText(c.age, data.staleness === null || data.staleness === undefined ? "–" : data.staleness.toFixed(0) + "s");
    row.tr.classList.toggle("stale", (data.staleness || 0) > STALE_AFTER);
    row.tr.hidden = assetFilter !== "all" && data.asset !== assetFilter;
    if (prev && prev.last !== data.last && prev.last !== null) {
      const cls = data.last > prev.last ? "flash-up" : "flash-down";
      row.tr.classList.remove("flash-up", "flash-down");
      void row.tr.offsetWidth; // restart the transition
      row.tr.classList.add(cls);
      setTimeout(() => row.tr.classList.remove(cls), 600);
    }
  }

  function insertSorted(row) {
    // Rows keep a stable alphabetical order within their asset class, so they do not jump.
    const key = (row.data ? row.data.asset : "") + row.tr.dataset.symbol;
    for (const other of tbody.children) {
      const o = rows.get(other.dataset.symbol);
      const okey = (o && o.data ? o.data.asset : "") + other.dataset.symbol;
      if (okey > key) { tbody.insertBefore(row.tr, other); return; }
    }
    tbody.appendChild(row.tr);
  }

  function onSnapshot(msg) {
    for (const data of msg.rows) {
      const isNew = !rows.has(data.symbol);
      patchRow(data);
      if (isNew) { // re-place now that the asset class is known
        const row = rows.get(data.symbol);
        tbody.removeChild(row.tr);
        insertSorted(row);
      }
    }
    empty.hidden = rows.size > 0;
  }

  function onEvent(ev) {
    const li = document.createElement("li");
    li.className = "sev-" + (ev.severity || "info");
    const head = document.createElement("div");
    head.className = "ev-head";
    const title = document.createElement("strong");
    title.textContent = ev.symbol + " · " + ev.type + " " + (ev.direction === "down" ? "▼" : "▲");
    const when = document.createElement("span");
    when.className = "muted";
    when.textContent = new Date(ev.ts * 1000).toLocaleTimeString();
    head.append(title, when);
    const msg = document.createElement("div");
    msg.textContent = ev.message || "";
    const why = document.createElement("div");
    why.className = "ev-why";
    const parts = [];
    if (ev.value !== null && ev.value !== undefined) parts.push("value " + pct(ev.value));
    if (ev.z !== null && ev.z !== undefined) parts.push("z " + Number(ev.z).toFixed(1));
    if (ev.threshold !== null && ev.threshold !== undefined) parts.push("threshold " + Number(ev.threshold).toPrecision(3));
    if (ev.window) parts.push("window " + ev.window + "s");
    if (ev.regime) parts.push("regime " + ev.regime);
    why.textContent = parts.join(" · ");
    li.append(head, msg, why);
    eventsList.prepend(li);
    while (eventsList.children.length > MAX_EVENTS) eventsList.lastChild.remove();
    noEvents.hidden = true;
  }

  function onHealth(h) {
    uptimeBase = { uptime: h.uptime, at: Date.now() };
    const parts = [];
    for (const [name, f] of Object.entries(h.feeds || {})) {
      parts.push(name + ": " + f.state + (f.reason ? " (" + f.reason + ")" : ""));
    }
    feedsEl.textContent = parts.join(" · ");
  }

  function tickUptime() {
    if (uptimeBase) {
      const s = Math.floor(uptimeBase.uptime + (Date.now() - uptimeBase.at) / 1000);
      const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
      uptimeEl.textContent = (h ? h + "h " : "") + (h || m ? m + "m " : "") + sec + "s";
    }
    if (socket && socket.readyState === WebSocket.OPEN && Date.now() - lastMessageAt > 10000) {
      setConn("stale", "stale");
    }
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const params = new URLSearchParams(location.search);
    const wl = params.get("watchlist");
    const url = scheme + location.host + wsPath + (wl ? "?watchlist=" + encodeURIComponent(wl) : "");
    setConn("connecting", attempt ? "reconnecting…" : "connecting…");
    socket = new WebSocket(url);
    socket.onopen = () => { attempt = 0; };
    socket.onmessage = (e) => {
      lastMessageAt = Date.now();
      let msg;
      try { msg = JSON.parse(e.data); } catch (err) { return; }
      if (conn.textContent !== "live") setConn("live", "live");
      switch (msg.type) {
        case "snapshot": onSnapshot(msg); break;
        case "event": onEvent(msg.event); break;
        case "health": onHealth(msg.health); break;
        default: break;
      }
    };
    socket.onclose = (e) => {
      if (e.code === 4401) { location.href = loginUrl + "?next=" + encodeURIComponent(location.pathname + location.search); return; }
      if (e.code === 4403) { setConn("closed", "forbidden watchlist"); return; }
      attempt += 1;
      const delay = Math.min(30000, 500 * 2 ** Math.min(attempt, 6)) * Math.random() + 250;
      setConn("closed", "disconnected – retrying in " + Math.ceil(delay / 1000) + "s");
      setTimeout(connect, delay);
    };
  }

  document.getElementById("tabs").addEventListener("click", (e) => {
    const btn = e.target.closest("button[data-asset]");
    if (!btn) return;
    assetFilter = btn.dataset.asset;
    for (const b of e.currentTarget.querySelectorAll("button")) {
      b.setAttribute("aria-selected", String(b === btn));
    }
    for (const row of rows.values()) {
      row.tr.hidden = assetFilter !== "all" && row.data && row.data.asset !== assetFilter;
    }
    const params = new URLSearchParams(location.search);
    if (assetFilter === "all") params.delete("asset"); else params.set("asset", assetFilter);
    history.replaceState(null, "", location.pathname + (params.toString() ? "?" + params : ""));
  });
  for (const b of document.querySelectorAll("#tabs button")) {
    b.setAttribute("aria-selected", String(b.dataset.asset === assetFilter));
  }

  setInterval(tickUptime, 1000);
  connect();
})();
