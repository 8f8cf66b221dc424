// Market Pulse dashboard: one WebSocket, rows patched in place, reconnect with backoff.
// Message schema: docs/websocket.md (hello, watchlist, snapshot, event, health, correlation,
// history, stats). Controls live in the URL so a view can be shared.
"use strict";

(function () {
  const root = document.getElementById("dashboard");
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const wsPath = root.dataset.wsPath;
  const loginUrl = root.dataset.loginUrl;
  const symbolUrl = root.dataset.symbolUrl;
  const eventsUrl = root.dataset.eventsUrl;
  const tbody = $("pulse-rows");
  const conn = $("conn");
  const MAX_EVENTS = 100;
  const STALE_AFTER = 60; // seconds without a tick before a row is marked stale
  const SPARK_SECONDS = 900;
  const SPARK_STEP = 15;
  const SVG = "http://www.w3.org/2000/svg";

  // Shareable controls (mirrored into the URL by saveControls).
  const controls = {
    watchlist: root.dataset.watchlist || "",
    asset: root.dataset.asset || "all",
    rank: root.dataset.rank || "5m",
    top: Number(root.dataset.top || 20),
    base: root.dataset.base || "",
    bucket: Number(root.dataset.bucket || 0),
  };
  const DEFAULTS = { asset: "all", rank: "5m", top: 20, base: "", bucket: 0 };

  const rows = new Map(); // symbol -> {tr, cells, data, spark: [[t, p]], line}
  let visible = null; // the socket's symbols (null: whole market)
  let socket = null;
  let attempt = 0;
  let lastMessageAt = 0;
  let received = 0;
  let ackedSent = 0;
  let uptimeBase = null; // {uptime, at}
  let rankDirty = false;
  let historyAsked = false;

  // Formatting ------------------------------------------------------------------------
  const isNum = (x) => typeof x === "number" && isFinite(x);
  function pct(x, digits) {
    if (!isNum(x)) return "–";
    const text = (x * 100).toFixed(digits === undefined ? 2 : digits);
    if (Number(text) === 0) return text.replace("-", "") + "%"; // no "-0.00%"
    return (x > 0 ? "+" : "") + text + "%";
  }
  function price(x) {
    if (!isNum(x)) return "–";
    const digits = x >= 1000 ? 2 : x >= 10 ? 3 : x >= 1 ? 4 : 6;
    return x.toFixed(digits);
  }
  function age(s) {
    if (!isNum(s)) return "–";
    if (s < 90) return s.toFixed(0) + "s";
    if (s < 5400) return (s / 60).toFixed(0) + "m";
    return (s / 3600).toFixed(1) + "h";
  }
  const signClass = (x) => (!isNum(x) || x === 0 ? "" : x > 0 ? "up" : "down");
  function setConn(state, text) {
    conn.className = "badge conn-" + state;
    if (conn.textContent !== text) conn.textContent = text;
  }
  function setText(el, text, cls) {
    if (el.textContent !== text) el.textContent = text;
    if (cls !== undefined) {
      const want = (el.dataset.base || (el.dataset.base = el.className)) + (cls ? " " + cls : "");
      if (el.className !== want) el.className = want;
    }
  }
  function symbolHref(asset, symbol) {
    return symbolUrl.replace("ASSET", encodeURIComponent(asset)).replace("SYMBOL", encodeURIComponent(symbol));
  }

  // Controls and URL --------------------------------------------------------------------
  function saveControls() {
    const params = new URLSearchParams();
    if (controls.watchlist) params.set("watchlist", controls.watchlist);
    for (const key of ["asset", "rank", "top", "base", "bucket"]) {
      if (String(controls[key]) !== String(DEFAULTS[key])) params.set(key, controls[key]);
    }
    const qs = params.toString();
    history.replaceState(null, "", location.pathname + (qs ? "?" + qs : ""));
  }

  // Pulse table ----------------------------------------------------------------------------
  function makeRow(symbol) {
    const tr = document.createElement("tr");
    tr.dataset.symbol = symbol;
    const names = ["symbol", "asset", "spark", "last", "r1", "r5", "r15", "vol", "regime", "age"];
    const numeric = ["last", "r1", "r5", "r15", "vol", "age"];
    const cells = {};
    for (const name of names) {
      const td = document.createElement("td");
      td.className = name + (numeric.includes(name) ? " num" : "");
      if (name === "asset") td.classList.add("col-class");
      if (name === "spark") td.classList.add("col-spark");
      if (name === "r15") td.classList.add("col-15m");
      if (name === "vol") td.classList.add("col-vol");
      tr.appendChild(td);
      cells[name] = td;
    }
    const link = document.createElement("a");
    link.textContent = symbol;
    cells.symbol.appendChild(link);
    cells.link = link;
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 100 24");
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("class", "spark");
    const line = document.createElementNS(SVG, "polyline");
    svg.appendChild(line);
    cells.spark.appendChild(svg);
    const regime = document.createElement("span");
    regime.className = "regime";
    cells.regime.appendChild(regime);
    const stale = document.createElement("span");
    stale.className = "age-badge";
    cells.age.appendChild(stale);
    return { tr, cells, data: null, spark: [], line, regime, stale };
  }

  function drawSpark(row) {
    const pts = row.spark;
    if (pts.length < 2) { row.line.setAttribute("points", ""); return; }
    let lo = Infinity, hi = -Infinity;
    for (const p of pts) { if (p[1] < lo) lo = p[1]; if (p[1] > hi) hi = p[1]; }
    const t1 = pts[pts.length - 1][0], t0 = t1 - SPARK_SECONDS;
    const span = hi - lo || 1;
    const out = [];
    for (const p of pts) {
      const x = Math.max(0, ((p[0] - t0) / SPARK_SECONDS) * 100);
      out.push(x.toFixed(1) + "," + (22 - ((p[1] - lo) / span) * 20).toFixed(1));
    }
    row.line.setAttribute("points", out.join(" "));
    row.line.setAttribute("class", pts[pts.length - 1][1] >= pts[0][1] ? "up" : "down");
  }

  function addSparkPoint(row, ts, value) {
    if (!isNum(ts) || !isNum(value)) return;
    const pts = row.spark;
    const last = pts[pts.length - 1];
    if (last && ts - last[0] < SPARK_STEP / 3) last[1] = value; // keep the newest price
    else pts.push([ts, value]);
    while (pts.length && pts[0][0] < ts - SPARK_SECONDS) pts.shift();
    drawSpark(row);
  }

  function patchRow(data) {
    let row = rows.get(data.symbol);
    if (!row) {
      row = makeRow(data.symbol);
      row.tr.hidden = true; // until ranked: the tab and top-N decide
      rows.set(data.symbol, row);
      tbody.appendChild(row.tr);
    }
    const prev = row.data;
    row.data = data;
    const c = row.cells;
    if (!prev || prev.asset !== data.asset) c.link.href = symbolHref(data.asset, data.symbol);
    setText(c.asset, data.asset || "");
    setText(c.last, price(data.last));
    setText(c.r1, pct(data.ret_1m), signClass(data.ret_1m));
    setText(c.r5, pct(data.ret_5m), signClass(data.ret_5m));
    setText(c.r15, pct(data.ret_15m), signClass(data.ret_15m));
    setText(c.vol, isNum(data.vol_15m) ? (data.vol_15m * 100).toFixed(1) + "%" : "–");
    const regime = data.regime || "unknown";
    if (row.regime.textContent !== regime) {
      row.regime.textContent = regime;
      row.regime.className = "regime regime-" + regime;
    }
    row.regime.title = isNum(data.regime_z) ? "volatility z " + data.regime_z.toFixed(2) : "";
    const stale = (data.staleness || 0) > STALE_AFTER;
    setText(row.stale, age(data.staleness), stale ? "stale" : "");
    row.stale.title = stale ? "No tick for " + age(data.staleness) + ": prices may be stale" : "seconds since the last tick";
    row.tr.classList.toggle("stale", stale);
    addSparkPoint(row, data.ts, data.last);
    if (prev && prev.last !== data.last && isNum(prev.last)) {
      const cls = data.last > prev.last ? "flash-up" : "flash-down";
      row.tr.classList.remove("flash-up", "flash-down");
      void row.tr.offsetWidth; // restart the transition
      row.tr.classList.add(cls);
      setTimeout(() => row.tr.classList.remove(cls), 600);
    }
    rankDirty = true;
  }

  function removeRow(symbol) {
    const row = rows.get(symbol);
    if (row) { row.tr.remove(); rows.delete(symbol); rankDirty = true; }
  }

  // Rank by |return| on the chosen horizon, show the top N of the chosen asset class. Runs once
  // per snapshot message (not per row) and moves only rows whose position changed.
  function rerank() {
    if (!rankDirty) return;
    rankDirty = false;
    const key = "ret_" + controls.rank;
    const all = [...rows.values()].filter((r) => r.data);
    all.sort((a, b) => {
      const x = a.data[key], y = b.data[key];
      const ax = isNum(x) ? Math.abs(x) : -1, ay = isNum(y) ? Math.abs(y) : -1;
      return ay - ax || (a.data.symbol < b.data.symbol ? -1 : 1);
    });
    let shown = 0, matching = 0;
    all.forEach((row, i) => {
      const match = controls.asset === "all" || row.data.asset === controls.asset;
      if (match) matching += 1;
      const show = match && (!controls.top || shown < controls.top);
      if (show) shown += 1;
      if (row.tr.hidden === show) row.tr.hidden = !show;
      if (tbody.children[i] !== row.tr) tbody.insertBefore(row.tr, tbody.children[i] || null);
    });
    $("empty").hidden = shown > 0;
    $("empty").textContent = rows.size ? "No symbols in this class." : "Waiting for the first prices…";
    setText($("row-count"), matching > shown ? "showing " + shown + " of " + matching : "");
  }

  function onSnapshot(msg) {
    for (const data of msg.rows) {
      if (visible && !visible.has(data.symbol)) continue;
      patchRow(data);
    }
    if (msg.full && visible) for (const s of [...rows.keys()]) if (!visible.has(s)) removeRow(s);
    rerank();
    if (!historyAsked && rows.size) askHistory([...rows.keys()]);
    fillBaseSelect();
  }

  function askHistory(symbols) {
    if (!symbols.length || !socket || socket.readyState !== WebSocket.OPEN) return;
    historyAsked = true;
    socket.send(JSON.stringify({ action: "history", symbols, seconds: SPARK_SECONDS, step: SPARK_STEP }));
  }

  function onHistory(h) {
    for (const [symbol, points] of Object.entries(h.series || {})) {
      const row = rows.get(symbol);
      if (!row) continue;
      const lastHist = points.length ? points[points.length - 1][0] : -Infinity;
      row.spark = points.concat(row.spark.filter((p) => p[0] > lastHist));
      drawSpark(row);
    }
  }

  function onWatchlist(msg) {
    const before = visible;
    visible = msg.symbols ? new Set(msg.symbols) : null;
    setText($("watchlist-name"), msg.watchlist ? msg.watchlist.name : "All markets");
    if (visible) for (const s of [...rows.keys()]) if (!visible.has(s)) removeRow(s);
    const added = visible ? [...visible].filter((s) => !before || !before.has(s)) : [];
    if (added.length) setTimeout(() => askHistory(added), 2500); // after its snapshot arrives
    fillBaseSelect();
  }

  // Stress feed ----------------------------------------------------------------------------
  // One card per episode (docs/websocket.md, "event"): a follow-up of the same shock
  // (ev.episode = id of its first event) updates that card in place, never downgrading its
  // severity, and moves it to the top.
  const SEV_RANK = { info: 0, warning: 1, critical: 2 };
  function onEvent(ev) {
    const cards = [...$("events").children];
    if (ev.id && cards.some((li) => (li.dataset.eventIds || "").split(" ").includes(ev.id))) return;
    const episode = ev.episode || ev.id || "";
    let li = episode ? cards.find((c) => c.dataset.episode === episode) : null;
    let severity = ev.severity || "info";
    let updates = 0;
    if (li) {
      if ((SEV_RANK[li.dataset.severity] || 0) > (SEV_RANK[severity] || 0)) severity = li.dataset.severity;
      updates = Number(li.dataset.updates || 0) + 1;
      li.replaceChildren();
    } else {
      li = document.createElement("li");
      li.dataset.episode = episode;
    }
    li.dataset.eventIds = ((li.dataset.eventIds || "") + " " + (ev.id || "")).trim();
    li.dataset.eventId = ev.id || "";
    li.dataset.severity = severity;
    li.dataset.updates = String(updates);
    li.className = "ev sev-" + severity;
    const head = document.createElement("div");
    head.className = "ev-head";
    const title = document.createElement("a");
    // A live event has no database id yet: link to the symbol's history instead.
    title.href = ev.url || eventsUrl + "?symbol=" + encodeURIComponent(ev.symbol);
    title.textContent = ev.symbol + " · " + String(ev.type || "").replace("_", " ") + " " + (ev.direction === "down" ? "▼" : "▲");
    const sev = document.createElement("span");
    sev.className = "sev";
    sev.textContent = severity + (updates ? " · updated ×" + updates : "");
    const when = document.createElement("time");
    when.className = "muted";
    when.textContent = isNum(ev.ts) ? new Date(ev.ts * 1000).toLocaleTimeString() : "";
    head.append(title, sev, when);
    const msg = document.createElement("div");
    msg.textContent = ev.message || "";
    const why = document.createElement("dl");
    why.className = "ev-why";
    const vol = ev.type === "vol_spike";
    const fmt = (x) => (vol ? pct(x, 1) : pct(x));
    const facts = [
      ["value", isNum(ev.value) ? fmt(ev.value) + (isNum(ev.threshold) ? " vs " + (vol ? "" : "±") + fmt(Math.abs(ev.threshold)).replace("+", "") : "") : null],
      ["z", isNum(ev.z) ? ev.z.toFixed(1) + "σ" : null],
      ["window", isNum(ev.window) ? age(ev.window) + (ev.gap && isNum(ev.span) ? " (gap: over " + age(ev.span) + ")" : "") : null],
      ["regime", ev.regime || null],
      ["ref", isNum(ev.ref_price) ? price(ev.ref_price) + (isNum(ev.ref_age) ? " (" + age(ev.ref_age) + " old)" : "") : null],
      ["price", isNum(ev.price) ? price(ev.price) : null],
    ];
    for (const [k, v] of facts) {
      if (v === null) continue;
      const dt = document.createElement("dt"); dt.textContent = k;
      const dd = document.createElement("dd"); dd.textContent = v;
      why.append(dt, dd);
    }
    li.append(head, msg, why);
    $("events").prepend(li);
    while ($("events").children.length > MAX_EVENTS) $("events").lastChild.remove();
    $("no-events").hidden = true;
  }

  // Correlation card and heatmap ---------------------------------------------------------------
  function fillBaseSelect() {
    const sel = $("base");
    const names = [...rows.keys()].sort();
    if (sel.options.length === names.length && [...sel.options].every((o, i) => o.value === names[i])) return;
    sel.replaceChildren(...names.map((n) => new Option(n, n, false, n === controls.base)));
    if (!controls.base && names.length) sel.value = names[0];
  }

  function corrColor(v) {
    if (!isNum(v)) return "";
    const a = Math.min(1, Math.abs(v));
    return v >= 0 ? "rgba(63,185,80," + (0.12 + 0.78 * a).toFixed(2) + ")" : "rgba(248,81,73," + (0.12 + 0.78 * a).toFixed(2) + ")";
  }

  // "± h" with h the half-width of the 95% interval (1.96 standard errors), rounded up so
  // that a shown "± 0.00" never claims more precision than the estimate has.
  function plusMinus(se) {
    if (!isNum(se)) return "";
    return " ± " + (Math.ceil(196 * se) / 100).toFixed(2);
  }

  function intervalNote(v, se) {
    if (!isNum(v) || !isNum(se)) return "";
    return " · ± is a 95% interval (standard error " + se.toFixed(3) + ")";
  }

  let heatNames = "";
  function onCorrelation(corr) {
    const names = corr.symbols || [];
    const method = corr.method === "bucketed" ? "bucketed " + (corr.bucket || "") + " s"
      : (corr.method || "?") + (isNum(corr.horizon) ? " " + corr.horizon + " s returns" : "");
    setText($("corr-meta"), "base " + (corr.base || "–") + (corr.base_regime ? " (" + corr.base_regime + ")" : "") +
      " · method " + method + (isNum(corr.window) ? " · window " + age(corr.window) : ""));
    if (corr.base && !controls.base) $("base").value = corr.base;
    const top = $("corr-top");
    top.replaceChildren(...(corr.top || []).map((t) => {
      const li = document.createElement("li");
      const name = document.createElement("span"); name.textContent = t.symbol;
      const val = document.createElement("span"); val.className = "num " + signClass(t.corr);
      val.textContent = isNum(t.corr) ? t.corr.toFixed(2) + plusMinus(t.stderr) : "–";
      li.title = "coverage " + t.coverage + " returns" + intervalNote(t.corr, t.stderr);
      li.append(name, val);
      return li;
    }));
    if (!corr.top || !corr.top.length) {
      const li = document.createElement("li"); li.className = "muted"; li.textContent = "not enough overlapping data yet";
      top.appendChild(li);
    }
    const heat = $("heatmap");
    const key = names.join(",");
    if (key !== heatNames) { // rebuild only when the symbol set changes; patch otherwise
      heatNames = key;
      heat.style.setProperty("--n", names.length);
      const cells = [document.createElement("span")];
      for (const n of names) { const h = document.createElement("span"); h.className = "hh col"; h.textContent = n; cells.push(h); }
      names.forEach((a, i) => {
        const h = document.createElement("span"); h.className = "hh"; h.textContent = a; cells.push(h);
        names.forEach((b, j) => { const c = document.createElement("span"); c.className = "hc"; c.dataset.i = i; c.dataset.j = j; cells.push(c); });
      });
      heat.replaceChildren(...cells);
    }
    for (const c of heat.querySelectorAll(".hc")) {
      const i = Number(c.dataset.i), j = Number(c.dataset.j);
      const v = corr.matrix && corr.matrix[i] ? corr.matrix[i][j] : null;
      const cov = corr.coverage && corr.coverage[i] ? corr.coverage[i][j] : 0;
      const st = corr.status && corr.status[i] ? corr.status[i][j] : "";
      const se = corr.stderr && corr.stderr[i] ? corr.stderr[i][j] : null;
      c.style.background = corrColor(v);
      c.classList.toggle("na", !isNum(v));
      c.title = names[i] + " × " + names[j] + ": " + (isNum(v) ? v.toFixed(2) + (i !== j ? plusMinus(se) : "") : "n/a (" + st + ")") +
        " · coverage " + cov + " returns" + (i !== j ? intervalNote(v, se) : "");
      const txt = isNum(v) && i !== j ? v.toFixed(1).replace("0.", ".") : "";
      if (c.textContent !== txt) c.textContent = txt;
    }
  }

  // Health -----------------------------------------------------------------------------------
  function onHealth(h) {
    uptimeBase = { uptime: h.uptime, at: Date.now() };
    const tb = $("feeds");
    const names = Object.keys(h.feeds || {});
    if (tb.children.length !== names.length || names.some((n, i) => tb.children[i].dataset.feed !== n)) {
      tb.replaceChildren(...names.map((n) => {
        const tr = document.createElement("tr"); tr.dataset.feed = n;
        for (let i = 0; i < 4; i++) tr.appendChild(document.createElement("td"));
        tr.children[2].className = tr.children[3].className = "num";
        tr.children[0].textContent = n;
        return tr;
      }));
    }
    names.forEach((n, i) => {
      const f = h.feeds[n], tr = tb.children[i];
      setText(tr.children[1], (f.state || "?") + (f.reason ? " – " + f.reason : ""), "state-" + String(f.state || "").toLowerCase());
      setText(tr.children[2], String(f.reconnects ?? "–"));
      setText(tr.children[3], isNum(f.last_message_age) ? age(f.last_message_age) + " ago" : "–");
    });
    if (h.lag) setText($("lag"), "lag " + (h.lag.last * 1000).toFixed(0) + " ms");
    const q = h.queue || {};
    setText($("health-extra"), "ticks " + (h.ticks ?? "–") + " · queue " + (q.depth ?? "–") + "/" + (q.max ?? "–") +
      (q.dropped ? " · dropped " + q.dropped : "") + (h.unrouted && h.unrouted.length ? " · no feed for " + h.unrouted.join(", ") : ""));
  }

  function tick() {
    if (uptimeBase) {
      const s = Math.floor(uptimeBase.uptime + (Date.now() - uptimeBase.at) / 1000);
      const hh = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
      $("uptime").textContent = (hh ? hh + "h " : "") + (hh || m ? m + "m " : "") + sec + "s";
    }
    if (socket && socket.readyState === WebSocket.OPEN) {
      if (Date.now() - lastMessageAt > 10000) setConn("stale", "stale – no data for " + Math.round((Date.now() - lastMessageAt) / 1000) + "s");
      if (received !== ackedSent) { // tell the server how far this page has got (flow control)
        ackedSent = received;
        socket.send(JSON.stringify({ action: "ack", received }));
      }
    }
  }

  // Connection ------------------------------------------------------------------------------
  // Alerts of the user's own rules: a toast, plus an optional beep and browser notification.
  function onAlert(msg) {
    const rule = (msg.rule && msg.rule.name) || "alert rule";
    let text;
    if (msg.type === "alert_throttled") {
      text = "Rule \u201c" + rule + "\u201d is firing too often: " + msg.suppressed +
        " alerts held back (limit " + msg.limit_per_minute + "/min).";
    } else {
      const ev = msg.event || {};
      text = rule + ": " + (ev.message || (ev.symbol + " " + ev.type));
    }
    let box = document.getElementById("toasts");
    if (!box) {
      box = document.createElement("div");
      box.id = "toasts";
      box.setAttribute("role", "status");
      box.setAttribute("aria-live", "polite");
      document.body.appendChild(box);
    }
    const toast = document.createElement("div");
    toast.className = "toast" + (msg.type === "alert_throttled" ? " toast-warn" : "");
    toast.textContent = text;
    toast.addEventListener("click", () => toast.remove());
    box.appendChild(toast);
    while (box.children.length > 5) box.firstChild.remove();
    setTimeout(() => toast.remove(), 10000);
    if (msg.sound) beep();
    if (msg.notify && "Notification" in window) {
      if (Notification.permission === "granted") {
        new Notification("Market Pulse", { body: text });
      } else if (Notification.permission === "default") {
        Notification.requestPermission();
      }
    }
  }

  function beep() {
    try {
      const ctx = new (window.AudioContext || window.webkitAudioContext)();
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = 880;
      gain.gain.value = 0.05;
      osc.connect(gain).connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.15);
    } catch (err) { /* audio not allowed before a user gesture: the toast still shows */ }
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const params = new URLSearchParams();
    if (controls.watchlist) params.set("watchlist", controls.watchlist);
    if (controls.base) params.set("base", controls.base);
    if (controls.bucket) params.set("bucket", controls.bucket);
    const qs = params.toString();
    setConn("connecting", attempt ? "reconnecting…" : "connecting…");
    socket = new WebSocket(scheme + location.host + wsPath + (qs ? "?" + qs : ""));
    received = 0; ackedSent = 0; historyAsked = false;
    socket.onopen = () => { attempt = 0; };
    socket.onmessage = (e) => {
      lastMessageAt = Date.now();
      received += 1;
      let msg;
      try { msg = JSON.parse(e.data); } catch (err) { return; }
      if (conn.textContent !== "live") setConn("live", "live");
      switch (msg.type) {
        case "hello": onWatchlist(msg); if (msg.symbols && msg.symbols.length) setTimeout(() => askHistory(msg.symbols), 300); break;
        case "watchlist": onWatchlist(msg); break;
        case "snapshot": onSnapshot(msg); break;
        case "event": onEvent(msg.event); break;
        case "health": onHealth(msg.health); break;
        case "correlation": onCorrelation(msg.correlation); break;
        case "history": onHistory(msg.history); break;
        case "alert": onAlert(msg); break;
        case "alert_throttled": onAlert(msg); break;
        default: break;
      }
    };
    socket.onclose = (e) => {
      if (e.code === 4401) { location.href = loginUrl + "?next=" + encodeURIComponent(location.pathname + location.search); return; }
      if (e.code === 4403) { setConn("closed", "watchlist not available"); return; }
      attempt += 1;
      // Capped exponential backoff with full jitter, so many pages do not reconnect in step.
      const delay = 250 + Math.random() * Math.min(30000, 500 * 2 ** Math.min(attempt, 6));
      setConn("closed", "reconnecting in " + Math.ceil(delay / 1000) + "s");
      setTimeout(connect, delay);
    };
  }

  function sendCorrelationControls() {
    saveControls();
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ action: "correlation", base: controls.base || null, bucket: controls.bucket || null }));
    }
  }

  // Wiring ----------------------------------------------------------------------------------
  $("tabs").addEventListener("click", (e) => {
    const btn = e.target.closest("button[data-asset]");
    if (!btn) return;
    controls.asset = btn.dataset.asset;
    for (const b of e.currentTarget.querySelectorAll("button")) b.setAttribute("aria-selected", String(b === btn));
    rankDirty = true; rerank(); saveControls();
  });
  for (const b of document.querySelectorAll("#tabs button")) b.setAttribute("aria-selected", String(b.dataset.asset === controls.asset));
  $("rank").addEventListener("change", (e) => { controls.rank = e.target.value; rankDirty = true; rerank(); saveControls(); });
  $("top").addEventListener("change", (e) => { controls.top = Number(e.target.value); rankDirty = true; rerank(); saveControls(); });
  $("base").addEventListener("change", (e) => { controls.base = e.target.value; sendCorrelationControls(); });
  $("bucket").addEventListener("change", (e) => { controls.bucket = Number(e.target.value); sendCorrelationControls(); });
  $("wl-select").addEventListener("change", (e) => {
    const params = new URLSearchParams(location.search);
    params.set("watchlist", e.target.value);
    params.delete("base");
    location.search = params.toString();
  });

  const stored = document.getElementById("recent-events");
  if (stored) for (const ev of JSON.parse(stored.textContent)) onEvent(ev); // oldest first
  setInterval(tick, 1000);
  connect();
})();
