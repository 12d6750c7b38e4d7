// zabsim run player. The Go side (reports/player.go) folded the trace into tables indexed
// by record; this script only looks values up: the state at record k is, for each field,
// the last change point at or before k (a binary search), so moving anywhere costs the
// same and nothing is replayed. The SVG is built once and updated in place.
"use strict";
(function () {
  const SVGNS = "http://www.w3.org/2000/svg";
  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, parent) => {
    const e = document.createElementNS(SVGNS, tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  };
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  const fmtT = (ns) => (ns / 1e9).toFixed(6) + " s";
  const fmtDur = (ns) => ns < 1e6 ? (ns / 1e6).toFixed(2) + " ms" : ns < 1e9 ? (ns / 1e6).toFixed(1) + " ms" : (ns / 1e9).toFixed(2) + " s";
  const colour = { LOOKING: "#fdd876", FOLLOWING: "#9ec9e8", LEADING: "#9cd68c", OBSERVING: "#c8b4dc", DOWN: "#ffffff", PAUSED: "#8c8c8c", NONE: "#f4f4f4" };
  const msgColour = { election: "#d95f0e", discovery: "#6a3d9a", sync: "#1f5fb4", broadcast: "#1b7a3a", request: "#555555", client: "#b8860b", ping: "#aaaaaa", hello: "#aaaaaa", other: "#886644" };
  const epochColour = (e) => ["#cfe8cf", "#cfe0f5", "#f5e1c8", "#e6d3f0", "#f5d0d8", "#d5f0ee", "#eee6c4"][((e % 7) + 7) % 7];

  let D = null; // the data
  let n = 0; // records
  const P = { ready: false, k: 0, t: 0, playing: false, sel: null, selLink: null, selMsg: -1, speed: 1 };
  window.player = P;

  // last change point at or before k in rows [[idx, ...], ...]
  function at(rows, k) {
    let lo = 0, hi = rows.length - 1, ans = -1;
    while (lo <= hi) {
      const m = (lo + hi) >> 1;
      if (rows[m][0] <= k) { ans = m; lo = m + 1; } else hi = m - 1;
    }
    return ans < 0 ? null : rows[ans];
  }
  function atIndex(rows, k) {
    let lo = 0, hi = rows.length - 1, ans = -1;
    while (lo <= hi) {
      const m = (lo + hi) >> 1;
      if (rows[m][0] <= k) { ans = m; lo = m + 1; } else hi = m - 1;
    }
    return ans;
  }
  // the last record with time <= t
  function recordAtTime(t) {
    let lo = 0, hi = n - 1, ans = 0;
    while (lo <= hi) {
      const m = (lo + hi) >> 1;
      if (D.t[m] <= t) { ans = m; lo = m + 1; } else hi = m - 1;
    }
    return ans;
  }

  async function load() {
    const b64 = $("data").textContent.trim();
    const bin = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const stream = new Blob([bin]).stream().pipeThrough(new DecompressionStream("gzip"));
    const text = await new Response(stream).text();
    D = JSON.parse(text);
    // Go writes an empty list as null
    for (const f of ["clients", "steps", "msgs", "links", "chaps", "calls", "methods", "mutants", "fixes", "cstates"]) D[f] = D[f] || [];
    if (D.verdict) for (const f of ["violations", "expectations", "warnings"]) D.verdict[f] = D.verdict[f] || [];
    for (const s of D.servers) for (const f of ["life", "role", "acc", "vote", "recv", "log", "quorums"]) s[f] = s[f] || [];
    n = D.t.length;
    prepare();
    build();
    bind();
    seek(0);
    P.ready = true;
    P.loadMs = performance.now();
    document.body.dataset.ready = "1";
  }

  // --- derived tables ---
  let sidRow = {}; let clientRow = {}; let msgOrder = []; let msgMaxEnd = []; let chapKinds = {};
  let stateChangeRecs = null; let msgRecs = null; let names = {}; const callsOf = {}; const cstatesOf = {};
  function prepare() {
    D.servers.forEach((s, i) => { sidRow[s.sid] = i; names[s.sid] = (s.observer ? "observer " : "S") + s.sid; });
    (D.clients || []).forEach((c, i) => { clientRow[c[0]] = i; names[c[0]] = "client " + c[1]; });
    // messages by send record, with the latest end so far: what is in flight at k is found
    // walking back from the last send <= k while that bound is above k
    msgOrder = D.msgs.map((m, i) => i).sort((a, b) => D.msgs[a][2] - D.msgs[b][2]);
    let mx = -1;
    msgMaxEnd = msgOrder.map((i) => { const m = D.msgs[i]; const e = m[3] < 0 ? Infinity : m[3]; mx = Math.max(mx, e); return mx; });
    for (const c of D.chaps) (chapKinds[c[1]] = chapKinds[c[1]] || []).push(c[0]);
    for (const c of D.calls) (callsOf[c[0]] = callsOf[c[0]] || []).push(c);
    for (const c of D.cstates) (cstatesOf[c[0]] = cstatesOf[c[0]] || []).push(c.slice(1));
    // records that change what a server shows
    const set = new Set();
    for (const s of D.servers) {
      for (const tab of [s.life, s.role, s.acc, s.vote]) for (const r of tab) set.add(r[0]);
      for (const q of s.quorums) { set.add(q[0]); set.add(q[1]); }
    }
    stateChangeRecs = Array.from(set).sort((a, b) => a - b);
    msgRecs = [];
    for (let i = 0; i < n; i++) { const k = D.k[i]; if (k === "send" || k === "deliver" || k === "drop" || k === "lost") msgRecs.push(i); }
  }

  // --- the state of server s at record k ---
  function serverAt(s, k) {
    const life = at(s.life, k), role = at(s.role, k), acc = at(s.acc, k), vote = at(s.vote, k);
    let state = "NONE";
    if (life) {
      if (life[1].startsWith("down")) state = "DOWN";
      else if (life[1] === "paused") state = "PAUSED";
      else state = role && role[0] >= life[0] ? role[1] : "LOOKING";
    }
    const v = { sid: s.sid, state, life: life ? life[1] : "not started", role: role ? role[1] : "", phase: role ? role[2] : "", epoch: role ? role[3] : 0,
      reason: role ? role[4] : "", accepted: acc ? acc[1] : 0, vote: null, lastZxid: "0x0", looking: state === "LOOKING" };
    if (vote && (!life || vote[0] >= life[0])) v.vote = { leader: vote[1], zxid: vote[2], epoch: vote[3], round: vote[4], looking: vote[5], why: vote[6], at: vote[0] };
    // the newest entry still in the log: logs grow in zxid order (a SNAP or a restart
    // loads a history in order), so it holds the last zxid
    for (let j = lastAdded(s, k); j >= 0; j--) {
      const e = s.log[j];
      if (e[3] < 0 || e[3] > k) { v.lastZxid = e[0]; break; }
    }
    v.quorum = null;
    for (const q of s.quorums) if (q[0] <= k && k < q[1] + (q[5] ? 0 : 1)) v.quorum = q;
    return v;
  }
  // the index of the last log entry of s added at or before record k
  function lastAdded(s, k) {
    let lo = 0, hi = s.log.length - 1, ans = -1;
    while (lo <= hi) { const m = (lo + hi) >> 1; if (s.log[m][1] <= k) { ans = m; lo = m + 1; } else hi = m - 1; }
    return ans;
  }
  // the latest notification s received from each voter since it started looking
  function receivedVotes(s, k, since) {
    const out = {};
    for (let j = atIndex(s.recv, k); j >= 0; j--) {
      const r = s.recv[j];
      if (r[0] < since) break;
      if (!(r[1] in out)) out[r[1]] = r;
    }
    return out;
  }
  function lookingSince(s, k) {
    let since = 0;
    for (let j = atIndex(s.role, k); j >= 0; j--) { if (s.role[j][1] === "LOOKING") since = s.role[j][0]; else break; }
    const life = at(s.life, k);
    return Math.max(since, life ? life[0] : 0);
  }
  function matches(r, v) {
    return v && r[2] === v.leader && r[3] === v.zxid && r[4] === v.epoch && (r[6] !== "LOOKING" || r[5] === v.round);
  }

  // --- building the stage once ---
  const G = {}; let pos = {};
  function build() {
    $("runName").textContent = D.title + (D.seed ? " · seed " + D.seed : "") + (D.mutants && D.mutants.length ? " · mutant " + D.mutants.join(",") : "");
    const vd = $("verdict");
    if (!D.verdict) { vd.className = "verdict unknown"; vd.textContent = "verdict unknown"; }
    else if (D.verdict.ok) { vd.className = "verdict ok"; vd.textContent = "verdict: ok" + (D.verdict.violations.length ? " (" + D.verdict.violations.length + " expected violation" + (D.verdict.violations.length > 1 ? "s" : "") + ")" : ""); }
    else { vd.className = "verdict failed"; vd.textContent = "verdict: FAILED (" + D.verdict.violations.filter((v) => !v[4]).length + " violations)"; }
    const svg = $("stage");
    const W = 900, H = 470;
    const voters = D.servers.filter((s) => !s.observer), observers = D.servers.filter((s) => s.observer);
    const cx = 470, cy = observers.length ? 205 : 235, R = Math.min(165, 60 + 28 * voters.length);
    voters.forEach((s, i) => {
      const a = -Math.PI / 2 + (2 * Math.PI * i) / voters.length;
      pos[s.sid] = { x: cx + R * Math.cos(a), y: cy + R * Math.sin(a), a };
    });
    observers.forEach((s, i) => { pos[s.sid] = { x: cx - (observers.length - 1) * 75 + i * 150, y: H - 38, a: Math.PI / 2 }; });
    (D.clients || []).forEach((c, i) => { pos[c[0]] = { x: 78, y: 40 + (i % 7) * 62, a: Math.PI, client: true }; });
    G.links = el("g", {}, svg); G.dots = el("g", {}, svg); G.lost = el("g", {}, svg); G.nodes = el("g", {}, svg); G.labels = el("g", {}, svg);
    // links: every pair of servers, and each client to every server it may talk to
    G.link = {};
    const ids = D.servers.map((s) => s.sid);
    for (let i = 0; i < ids.length; i++) for (let j = i + 1; j < ids.length; j++) {
      const a = ids[i], b = ids[j], pa = pos[a], pb = pos[b];
      const line = el("line", { x1: pa.x, y1: pa.y, x2: pb.x, y2: pb.y, class: "link" }, G.links);
      const hit = el("line", { x1: pa.x, y1: pa.y, x2: pb.x, y2: pb.y, class: "linkhit" }, G.links);
      const arrows = el("g", {}, G.links);
      const lbl = el("text", { class: "lostlbl", x: (pa.x + pb.x) / 2, y: (pa.y + pb.y) / 2 - 6, "text-anchor": "middle" }, G.labels);
      G.link[a + "-" + b] = { line, arrows, lbl, a, b };
      hit.addEventListener("click", (ev) => { ev.stopPropagation(); selectLink(a, b); });
    }
    // servers
    G.srv = {}; G.fixedBoxes = [];
    for (const s of D.servers) {
      const p = pos[s.sid];
      const g = el("g", { class: "srv", id: "srv-" + s.sid, transform: `translate(${p.x},${p.y})` }, G.nodes);
      const arc = el("path", { fill: "none", stroke: "#d95f0e", "stroke-width": 5 }, g);
      const body = el("circle", { r: 32, class: "body" }, g);
      const name = el("text", { class: "name", y: -3, "text-anchor": "middle" }, g);
      name.textContent = s.observer ? "O" + s.sid : "S" + s.sid;
      const st = el("text", { class: "st", y: 13, "text-anchor": "middle" }, g);
      const ph = el("text", { class: "st", y: 24, "text-anchor": "middle" }, g);
      const peers = el("g", {}, g);
      // info text outside the ring, away from the centre
      const ox = Math.cos(p.a), oy = Math.sin(p.a);
      const anchor = ox > 0.35 ? "start" : ox < -0.35 ? "end" : "middle";
      let ix = ox * 44, iy = oy > 0.35 ? 46 : oy < -0.35 ? -66 : -10;
      if (Math.abs(ox) <= 0.35) { ix = 40; iy = oy < 0 ? -22 : 22; } // the top and bottom ones: beside, not above or below
      const anchor2 = Math.abs(ox) <= 0.35 ? "start" : anchor;
      const info = el("text", { class: "info", x: ix, y: iy, "text-anchor": anchor2 }, g);
      const bx = anchor2 === "start" ? p.x + ix : anchor2 === "end" ? p.x + ix - 175 : p.x + ix - 88;
      G.fixedBoxes.push([p.x - 36, p.y - 36, p.x + 36, p.y + 36], [bx, p.y + iy - 12, bx + 175, p.y + iy + 30]);
      const lines = [];
      for (let l = 0; l < 3; l++) lines.push(el("tspan", { x: ix, dy: l ? 13 : 0 }, info));
      lines[2].setAttribute("class", "vote");
      G.srv[s.sid] = { g, body, st, ph, arc, peers, lines, peerDots: {} };
      body.addEventListener("click", (ev) => { ev.stopPropagation(); selectServer(s.sid); });
      // one dot per peer inside, towards that peer
      for (const q of D.servers) {
        if (q.sid === s.sid || q.observer || s.observer) continue;
        const dx = pos[q.sid].x - p.x, dy = pos[q.sid].y - p.y, l = Math.hypot(dx, dy);
        G.srv[s.sid].peerDots[q.sid] = el("circle", { cx: (dx / l) * 24, cy: (dy / l) * 24, r: 4, fill: "none", stroke: "none" }, peers);
      }
    }
    // clients
    G.cli = {};
    for (const c of D.clients || []) {
      const p = pos[c[0]];
      const conn = el("line", { stroke: "#b8860b", "stroke-dasharray": "3 3", "stroke-width": 1.2 }, G.links);
      const g = el("g", { class: "client", transform: `translate(${p.x - 70},${p.y - 24})` }, G.nodes);
      el("rect", { width: 150, height: 50, rx: 5 }, g);
      const t = el("text", { x: 6, y: 13 }, g);
      const l = [0, 1, 2].map((i) => el("tspan", { x: 6, dy: i ? 13 : 0 }, t));
      l[0].setAttribute("font-weight", "bold");
      G.cli[c[0]] = { g, l, conn };
      g.addEventListener("click", () => showClient(c[0]));
    }
    G.dotPool = []; G.lblPool = []; G.lostPool = [];
    svg.addEventListener("click", () => { P.sel = null; P.selLink = null; render(); });
    buildScenario();
    buildVerdict();
    $("slider").max = n - 1;
    $("eventsInner").style.height = n * ROW + "px";
    drawOverviewBase();
  }

  function pooled(pool, parent, make) {
    return (i) => { while (pool.length <= i) pool.push(make(parent)); return pool[i]; };
  }

  // --- rendering the moment k (and, while playing, the continuous time t) ---
  let lastK = -1;
  function render() {
    const k = P.k, t = P.t;
    const tStart = P.prof ? performance.now() : 0;
    const views = {};
    for (const s of D.servers) {
      const v = serverAt(s, k); views[s.sid] = v;
      const g = G.srv[s.sid];
      g.g.setAttribute("class", "srv" + (v.state === "DOWN" ? " down" : "") + (P.sel === s.sid ? " sel" : ""));
      g.body.setAttribute("fill", colour[v.state] || "#eee");
      g.st.textContent = v.state === "NONE" ? "not started" : v.state === "DOWN" ? (v.life.includes("host") ? "DOWN (host)" : "DOWN") : v.state === "PAUSED" ? "PAUSED" : v.state;
      g.ph.textContent = v.phase && (v.state === "FOLLOWING" || v.state === "LEADING" || v.state === "OBSERVING") && v.phase !== "BROADCAST" ? v.phase.toLowerCase().replace("synchronization", "sync") : "";
      g.lines[0].textContent = v.state === "NONE" ? "" : `epoch ${v.epoch} · accepted ${v.accepted}`;
      g.lines[1].textContent = v.state === "NONE" ? "" : `last zxid ${v.lastZxid}`;
      if (v.vote && v.state !== "DOWN" && v.state !== "NONE") {
        g.lines[2].textContent = v.vote.looking || v.state === "LOOKING"
          ? `votes ${v.vote.leader < 0 ? "none" : v.vote.leader} (${v.vote.zxid}, e${v.vote.epoch}) · round ${v.vote.round}`
          : `leader ${v.vote.leader} · round ${v.vote.round}`;
      } else g.lines[2].textContent = "";
      // peer votes and the finalize-wait arc
      const looking = v.state === "LOOKING" || v.state === "PAUSED" && v.role === "LOOKING";
      const recv = looking ? receivedVotes(s, k, lookingSince(s, k)) : {};
      for (const q in g.peerDots) {
        const r = recv[q], d = g.peerDots[q];
        if (!looking || !r) { d.setAttribute("stroke", "none"); d.setAttribute("fill", "none"); continue; }
        const ok = matches(r, v.vote);
        d.setAttribute("stroke", "#333"); d.setAttribute("fill", ok ? "#1b7a3a" : "#fff");
      }
      if (v.quorum && looking) {
        const q = v.quorum, wait = q[6] * 1e6;
        const frac = Math.max(0.02, Math.min(1, (t - D.t[q[0]]) / wait));
        g.arc.setAttribute("d", arcPath(38, frac));
        g.arc.setAttribute("stroke", q[5] ? "#999" : "#d95f0e");
      } else g.arc.setAttribute("d", "");
    }
    const prof = P.prof;
    let t0 = prof ? performance.now() : 0;
    const mark = (name) => { if (prof) { const t1 = performance.now(); prof[name] = (prof[name] || 0) + t1 - t0; t0 = t1; } };
    mark("servers");
    renderLinks(k); mark("links");
    renderMessages(k, t); mark("messages");
    renderClients(k); mark("clients");
    if (k !== lastK || P.dirtyLogs) { renderLogs(k, views); P.dirtyLogs = false; }
    mark("logs");
    renderNow(k, views); mark("now");
    $("slider").value = k;
    $("clock").textContent = `t = ${fmtT(t)} · event ${k + 1} / ${n}`;
    drawOverviewCursor(); mark("overview");
    scrollEvents(k); mark("events");
    renderScenarioCursor(k); mark("scenario");
    if (prof) prof.lastRender = performance.now() - tStart;
    lastK = k;
  }
  function arcPath(r, frac) {
    if (frac >= 0.999) return `M 0 ${-r} A ${r} ${r} 0 1 1 -0.01 ${-r}`;
    const a = -Math.PI / 2 + 2 * Math.PI * frac;
    return `M 0 ${-r} A ${r} ${r} 0 ${frac > 0.5 ? 1 : 0} 1 ${r * Math.cos(a)} ${r * Math.sin(a)}`;
  }

  function linkStateAt(a, b, k) {
    // the last change point of a -> b at or before k
    let st = null;
    for (let j = D.links.length - 1; j >= 0; j--) {
      const l = D.links[j];
      if (l[0] > k) continue;
      if (l[1] === a && l[2] === b) { st = l; break; }
    }
    return st;
  }
  function renderLinks(k) {
    const t = D.t[k];
    G.linkBoxes = [];
    for (const key in G.link) {
      const L = G.link[key];
      const ab = linkStateAt(L.a, L.b, k), ba = linkStateAt(L.b, L.a, k);
      const cutAB = ab && ab[3], cutBA = ba && ba[3];
      const clog = (ab && ab[5] > t) || (ba && ba[5] > t);
      let cls = "link";
      if (cutAB || cutBA) cls += " cut"; else if (clog) cls += " clog";
      if (P.selLink && P.selLink[0] === L.a && P.selLink[1] === L.b) cls += " sel";
      L.line.setAttribute("class", cls);
      while (L.arrows.firstChild) L.arrows.removeChild(L.arrows.firstChild);
      let txt = "";
      if ((cutAB && !cutBA) || (cutBA && !cutAB)) {
        // a one-way cut: a bar across the link near the sender whose segments are lost
        const [from, to] = cutAB ? [L.a, L.b] : [L.b, L.a];
        const p = pos[from], q = pos[to];
        const mx = p.x + (q.x - p.x) * 0.35, my = p.y + (q.y - p.y) * 0.35;
        const dx = q.x - p.x, dy = q.y - p.y, l = Math.hypot(dx, dy);
        const nx = -dy / l * 9, ny = dx / l * 9;
        el("line", { x1: mx - nx, y1: my - ny, x2: mx + nx, y2: my + ny, stroke: "#c61a1a", "stroke-width": 4 }, L.arrows);
        txt = `${from}↛${to}`;
      } else if (cutAB) txt = "cut";
      const ports = (cutAB || cutBA);
      if (txt && ports !== 255) txt += " (" + portNames(ports) + " port)";
      if (clog && !txt) txt = "clogged";
      L.lbl.textContent = txt;
      if (txt) {
        const x = +L.lbl.getAttribute("x"), y = +L.lbl.getAttribute("y"), w = txt.length * 5.8;
        G.linkBoxes.push([x - w / 2, y - 11, x + w / 2, y + 2]);
      }
    }
  }
  function portNames(mask) {
    const out = [];
    for (let p = 1; p < D.ports.length; p++) if (mask & (1 << p)) out.push(D.ports[p]);
    return out.join(",");
  }

  // where a message's dot is at time t: it crosses half the link, waits in the middle if
  // it is held (a cut link, a clog, a stalled retransmission), and crosses the rest just
  // before it arrives
  function dotPos(m, t) {
    const a = pos[m[0]], b = pos[m[1]];
    if (!a || !b) return null;
    const t0 = D.t[m[2]], t1 = m[3] >= 0 ? D.t[m[3]] : D.end;
    const flight = Math.max(1, t1 - t0), half = Math.min(flight / 2, 1.2e6);
    let f;
    if (m[4] === 1) f = Math.min(0.5, ((t - t0) / half) * 0.5); // lost: it never gets past the middle
    else if (t - t0 < half) f = ((t - t0) / half) * 0.5;
    else if (t1 - t < half) f = 1 - ((t1 - t) / half) * 0.5;
    else f = 0.5;
    f = Math.max(0, Math.min(1, f));
    const off = 5; // messages each way on their own side of the link
    const dx = b.x - a.x, dy = b.y - a.y, l = Math.hypot(dx, dy) || 1;
    const r = (a.client || b.client) ? 0 : 34;
    const s = r / l, e = 1 - r / l;
    const g = s + (e - s) * f;
    // held: waiting far longer than a link's latency (a cut link, a clog, a paused receiver)
    return { x: a.x + dx * g - (dy / l) * off, y: a.y + dy * g + (dx / l) * off, held: f === 0.5 && flight > 50e6 };
  }
  function inFlight(k, t) {
    const out = [];
    // the last message sent at or before record k
    let lo = 0, hi = msgOrder.length - 1, j = -1;
    while (lo <= hi) { const m = (lo + hi) >> 1; if (D.msgs[msgOrder[m]][2] <= k) { j = m; lo = m + 1; } else hi = m - 1; }
    for (; j >= 0 && msgMaxEnd[j] > k; j--) {
      const id = msgOrder[j], m = D.msgs[id];
      if (m[3] >= 0 && m[3] <= k) continue;
      if (!P.showPings && (m[5] === "ping" || m[5] === "hello")) continue;
      out.push(id);
      if (out.length > 400) break;
    }
    return out;
  }
  function renderMessages(k, t) {
    const ids = inFlight(k, t);
    const dot = pooled(G.dotPool, G.dots, (p) => {
      const c = el("circle", { r: 6, class: "dot" }, p);
      c.addEventListener("click", (ev) => { ev.stopPropagation(); showMessage(+c.dataset.id); });
      return c;
    });
    const lbl = pooled(G.lblPool, G.labels, (p) => el("text", { class: "lbl" }, p));
    let nd = 0, nl = 0;
    // labels go where they cover no server, no server's text and no other label
    const placed = G.fixedBoxes.concat(G.linkBoxes || []);
    for (const id of ids) {
      const m = D.msgs[id], p = dotPos(m, t);
      if (!p) continue;
      const c = dot(nd++);
      c.dataset.id = id;
      c.setAttribute("cx", p.x.toFixed(1)); c.setAttribute("cy", p.y.toFixed(1));
      c.setAttribute("fill", msgColour[m[5]] || "#888");
      c.setAttribute("r", m[5] === "ping" || m[5] === "hello" ? 4 : id === P.selMsg ? 8 : 6);
      c.setAttribute("class", "dot" + (p.held || m[8] >= 0 && m[8] <= k ? " held" : ""));
      c.style.display = "";
      // a label where it overlaps no other
      if (m[5] !== "ping" && m[5] !== "hello" && nl < 40) {
        const txt = m[6] + (m[8] >= 0 && m[8] <= k && (m[9] < 0 || m[9] > k) ? " (TCP retransmits)" : "");
        const w = txt.length * 5.6, h = 11, x = p.x + 8, y = p.y - 6;
        const box = [x, y - h, x + w, y];
        if (!placed.some((q) => box[0] < q[2] && q[0] < box[2] && box[1] < q[3] && q[1] < box[3])) {
          placed.push(box);
          const L = lbl(nl++);
          L.textContent = txt; L.setAttribute("x", x.toFixed(1)); L.setAttribute("y", y.toFixed(1));
          L.setAttribute("fill", msgColour[m[5]]); L.style.display = "";
        }
      }
    }
    for (let i = nd; i < G.dotPool.length; i++) G.dotPool[i].style.display = "none";
    for (let i = nl; i < G.lblPool.length; i++) G.lblPool[i].style.display = "none";
    // lost messages: a red cross in the middle of their link, with why, for a little while
    const lost = pooled(G.lostPool, G.lost, (p) => {
      const g = el("g", {}, p);
      el("path", { class: "lost", d: "M -6 -6 L 6 6 M -6 6 L 6 -6" }, g);
      el("text", { class: "lostlbl", x: 9, y: 14 }, g);
      g.addEventListener("click", (ev) => { ev.stopPropagation(); showMessage(+g.dataset.id); });
      return g;
    });
    let nx = 0;
    // (a loss stays on the picture for a few events: it is news, not state)
    for (let j = k; j >= 0 && j > k - 40 && D.t[k] - D.t[j] < 20e6; j--) {
      if (D.k[j] !== "drop" || D.mi[j] < 0) continue;
      const id = D.mi[j], m = D.msgs[id];
      if (!P.showPings && (m[5] === "ping" || m[5] === "hello")) continue;
      const a = pos[m[0]], b = pos[m[1]];
      if (!a || !b || nx >= 6) continue;
      const g = lost(nx++);
      g.dataset.id = id;
      const x = (a.x + b.x) / 2 + nx * 3, y = (a.y + b.y) / 2 + nx * 3;
      g.setAttribute("transform", `translate(${x.toFixed(1)},${y.toFixed(1)})`);
      const why = m[10] || "lost";
      const text = m[6] + " lost: " + why;
      const label = placed.some((q) => x + 9 < q[2] && q[0] < x + 9 + text.length * 5.6 && y < q[3] && q[1] < y + 16) ? "" : text;
      if (label) placed.push([x + 9, y + 2, x + 9 + label.length * 5.6, y + 16]);
      g.lastChild.textContent = label;
      g.style.display = "";
    }
    for (let i = nx; i < G.lostPool.length; i++) G.lostPool[i].style.display = "none";
  }
  function shortWhy(s) { return s.length > 70 ? s.slice(0, 67) + "…" : s; }

  function renderClients(k) {
    for (const c of D.clients || []) {
      const C = G.cli[c[0]];
      if (!C) continue;
      let pending = 0, lastAns = "", lastCall = "", ansAt = -1;
      const calls = callsOf[c[0]] || [];
      // the calls made by k, newest first: a bounded walk back finds what is pending
      let j = calls.length - 1;
      while (j >= 0 && calls[j][1] > k) j--;
      for (let seen = 0; j >= 0 && seen < 200; j--, seen++) {
        const call = calls[j];
        if (call[2] < 0 || call[2] > k) { pending++; if (!lastCall) lastCall = call[3]; }
        else if (call[2] > ansAt) { ansAt = call[2]; lastAns = call[3].split(" ").slice(0, 2).join(" ") + " → " + call[4]; }
      }
      const st = at(cstatesOf[c[0]] || [], k);
      const clip = (x) => x.length > 27 ? x.slice(0, 26) + "…" : x;
      if (!st) {
        C.l[0].textContent = "client " + c[1]; C.l[1].textContent = "not started yet"; C.l[2].textContent = "";
        C.conn.setAttribute("visibility", "hidden");
        continue;
      }
      const srv = st[1] >= 0 && pos[st[1]] ? st[1] : -1;
      C.l[0].textContent = "client " + c[1] + (srv >= 0 ? " → S" + srv : "") + (st[2] !== "SyncConnected" ? " (" + st[2] + ")" : "");
      C.l[1].textContent = clip(pending ? `${pending} pending: ${lastCall}` : "no call pending");
      C.l[2].textContent = clip(lastAns);
      if (srv >= 0 && st[2] === "SyncConnected") {
        const p = pos[c[0]], q = pos[srv];
        C.conn.setAttribute("x1", p.x + 80); C.conn.setAttribute("y1", p.y); C.conn.setAttribute("x2", q.x); C.conn.setAttribute("y2", q.y);
        C.conn.setAttribute("visibility", "visible");
      } else C.conn.setAttribute("visibility", "hidden");
    }
  }

  // --- logs: one row per server, aligned by zxid ---
  let lastLogs = "";
  function renderLogs(k, views) {
    const alive = {}, zs = new Set();
    for (const s of D.servers) {
      const cells = {};
      // the recent end of the log is enough: newest first, a bounded walk
      for (let j = lastAdded(s, k), seen = 0; j >= 0 && seen < 60; j--, seen++) {
        const e = s.log[j];
        const removed = e[3] >= 0 && e[3] <= k;
        if (removed && k - e[3] > 40) continue; // ghosts stay a little while
        if (cells[e[0]] && (removed || !cells[e[0]].removed)) continue;
        cells[e[0]] = { z: e[0], committed: e[2] >= 0 && e[2] <= k, how: e[4], removed, why: e[5], fresh: e[1] > k - 3 && e[1] <= k, e };
        zs.add(e[0]);
      }
      alive[s.sid] = cells;
    }
    // the newest zxids, and each server's own last three, so that a server behind still shows
    const num = (z) => parseInt(z, 16);
    const keep = new Set(Array.from(zs).sort((a, b) => num(a) - num(b)).slice(-6));
    for (const s of D.servers) Object.keys(alive[s.sid]).filter((z) => !alive[s.sid][z].removed).sort((a, b) => num(a) - num(b)).slice(-3).forEach((z) => keep.add(z));
    for (const s of D.servers) Object.keys(alive[s.sid]).filter((z) => alive[s.sid][z].removed).forEach((z) => keep.add(z));
    let cols = Array.from(keep).sort((a, b) => num(a) - num(b));
    if (cols.length > 10) cols = cols.slice(-10);
    let h = `<div class="loghead">${cols.length ? `logs now, aligned by zxid (the last ${cols.length}): solid = committed · dashed = logged, not committed · hatched = from a SNAP · struck = removed` : "logs: no txn logged yet"}</div><table class="logtab">`;
    for (const s of D.servers) {
      h += `<tr><td class="who">${esc(names[s.sid])}</td><td>`;
      for (let ci = 0; ci < cols.length; ci++) {
        const z = cols[ci];
        if (ci > 0 && num(z) !== num(cols[ci - 1]) + 1 && (num(z) & 0xffffffff) !== 0) h += `<span class="gap">…</span>`;
        const c = alive[s.sid][z];
        if (!c) { h += `<span class="cell none"></span>`; continue; }
        const ep = parseInt(z, 16) / 4294967296 | 0;
        const cls = "cell" + (c.removed ? " removed" : c.committed ? "" : " proposed") + (c.how === "snap" ? " snap" : "") + (c.fresh ? " new" : "");
        const title = `${z}: ${c.removed ? "removed (" + c.why + ")" : c.committed ? "committed (applied)" : "logged, not committed"}${c.how === "snap" ? ", loaded from a SNAP" : ""}`;
        h += `<span class="${cls}" style="background:${epochColour(ep)}" title="${esc(title)}" data-rec="${c.e[1]}">${z}</span>`;
      }
      h += `</td></tr>`;
    }
    h += "</table>";
    if (h !== lastLogs) { $("logs").innerHTML = h; lastLogs = h; }
  }

  // --- the Now panel: this event, the line running, the election explained ---
  function stepAt(k) {
    let best = null;
    for (const st of D.steps || []) if (!st[6] && st[2] <= k && k < st[3]) best = st;
    return best;
  }
  let lastNow = "";
  function renderNow(k, views) {
    let h = "";
    const st = stepAt(k);
    if (st) {
      const cmt = commentBefore(st[0]);
      h += `<div class="caption"><div>scenario line ${st[0]}: <span class="line">${esc(st[1])}</span></div>${cmt ? `<div>${esc(cmt)}</div>` : ""}</div>`;
    }
    h += `<div class="event"><b>${fmtT(D.t[k])}</b> — ${esc(D.w[k])}${D.m[k] >= 0 ? `<div class="method">3.8: ${esc(D.methods[D.m[k]])}</div>` : ""}</div>`;
    const viol = (D.verdict ? D.verdict.violations : []).filter((v) => v[3] === k);
    for (const v of viol) h += `<div class="bad">violation of ${esc(v[0])}${v[4] ? " (expected)" : ""}: ${esc(v[1])}</div>`;
    // elections in progress: one row per LOOKING server, one column per voter: the vote
    // its latest notification from that voter carries, ✓ when it is the row's own vote
    const looking = D.servers.filter((s) => views[s.sid].looking || views[s.sid].state === "PAUSED" && views[s.sid].role === "LOOKING");
    if (looking.length) {
      const voters = D.servers.filter((q) => !q.observer);
      h += `<h3>Election (FastLeaderElection.lookForLeader)</h3><table class="elect"><tr><th>server</th><th>round</th><th>votes for</th>${voters.map((q) => `<th>${names[q.sid]}</th>`).join("")}</tr>`;
      const notes = [];
      for (const s of looking) {
        const v = views[s.sid];
        const recv = receivedVotes(s, k, lookingSince(s, k));
        const own = v.vote && v.vote.looking ? v.vote : null;
        h += `<tr${own && own.at === k ? ' class="changed"' : ""}><td><b>${names[s.sid]}</b></td><td>${own ? own.round : "?"}</td><td>${own ? `<b>${own.leader < 0 ? "none" : own.leader}</b> <span class="method">${own.zxid} e${own.epoch}</span>` : "—"}</td>`;
        for (const q of voters) {
          if (q.sid === s.sid) { h += `<td class="vote-miss">itself</td>`; continue; }
          const r = recv[q.sid];
          if (!r) { h += `<td class="vote-miss">—</td>`; continue; }
          const ok = matches(r, own);
          h += `<td class="${ok ? "vote-match" : "vote-miss"}${r[0] === k ? " changed" : ""}" title="${esc(`${r[6]} votes ${r[2]} (${r[3]}, epoch ${r[4]}), round ${r[5]}`)}">${r[2] < 0 ? "none" : r[2]}${r[6] !== "LOOKING" ? " (" + r[6][0] + ")" : ""}${r[5] !== (own ? own.round : r[5]) ? " r" + r[5] : ""} ${ok ? "✓" : ""}</td>`;
        }
        h += `</tr>`;
        if (own && own.why) notes.push(`<div class="why${own.at === k ? " changed" : ""}">${esc(own.why)}</div>`);
        if (v.quorum) {
          const q = v.quorum, el = (D.t[k] - D.t[q[0]]) / 1e6;
          notes.push(q[5] && q[1] <= k ? `<div class="why">${names[s.sid]}: quorum {${q[2].join(",")}} agreed on ${q[3]}, but ${names[q[5]]} sent a better vote within finalizeWait</div>`
            : `<div class="changed"><b>${names[s.sid]}: quorum {${q[2].join(", ")}} agrees on ${q[3]}</b> — waiting finalizeWait (${q[6]} ms) for a better vote: ${Math.min(el, q[6]).toFixed(0)} ms so far</div>`);
        }
      }
      h += `</table><p class="hint">Columns: the vote in the latest notification from that server (F/L: it is FOLLOWING/LEADING; rN: another round); ✓ = the same vote as the row's: those make the quorum.</p>` + notes.join("");
    } else {
      const leaders = D.servers.filter((s) => views[s.sid].state === "LEADING");
      if (leaders.length) h += `<h3>Leader</h3><div>${leaders.map((s) => `${names[s.sid]} leads epoch ${views[s.sid].epoch} (${views[s.sid].phase.toLowerCase()})`).join("; ")}</div>`;
    }
    // the last decisions made
    h += `<h3>Servers</h3><table><tr><th></th><th>state</th><th>epoch</th><th>last zxid</th><th>vote · round</th></tr>`;
    for (const s of D.servers) {
      const v = views[s.sid];
      h += `<tr><td><b>${names[s.sid]}</b></td><td>${v.state === "NONE" ? "—" : v.state}${v.phase && v.state !== "LOOKING" && v.state !== "DOWN" ? " " + v.phase.toLowerCase() : ""}</td><td>${v.epoch}/${v.accepted}</td><td>${v.lastZxid}</td><td>${v.vote ? (v.vote.leader < 0 ? "none" : v.vote.leader) + " · " + v.vote.round : ""}</td></tr>`;
    }
    h += `</table><p class="hint">epoch = currentEpoch/acceptedEpoch; round = the election's logical clock.</p>`;
    if (h !== lastNow) { $("panel-now").innerHTML = h; lastNow = h; }
  }
  function commentBefore(line) {
    const src = (D.source || "").split("\n");
    const out = [];
    const inline = (src[line - 1] || "").split("#")[1];
    if (inline) out.push(inline.trim());
    for (let i = line - 2; i >= 0 && src[i].trim().startsWith("#"); i--) out.unshift(src[i].trim().replace(/^#\s?/, ""));
    return out.join(" ");
  }

  // --- details ---
  function showMessage(id) {
    P.selMsg = id;
    const m = D.msgs[id];
    const fate = m[4] === 0 ? "delivered" : m[4] === 1 ? "lost" : "still in flight at the end of the run";
    let h = `<h3>${esc(names[m[0]] || m[0])} → ${esc(names[m[1]] || m[1])}: ${esc(D.x[m[2]])}</h3>`;
    h += `<p>${esc(D.w[m[2]])}</p>`;
    if (D.m[m[2]] >= 0) h += `<p class="method">3.8: ${esc(D.methods[D.m[m[2]]])}</p>`;
    h += `<table><tr><td>kind</td><td>${m[5]}</td></tr><tr><td>sent</td><td><a href="#" data-seek="${m[2]}">${fmtT(D.t[m[2]])}</a> (event ${m[2] + 1})</td></tr>`;
    if (m[3] >= 0) h += `<tr><td>${fate}</td><td><a href="#" data-seek="${m[3]}">${fmtT(D.t[m[3]])}</a> after ${fmtDur(D.t[m[3]] - D.t[m[2]])}</td></tr>`;
    else h += `<tr><td>fate</td><td>${fate}</td></tr>`;
    if (m[4] === 1) h += `<tr><td>why lost</td><td class="bad">${esc(m[7])}</td></tr>`;
    if (m[8] >= 0) h += `<tr><td>stalled</td><td>lost on a cut link at <a href="#" data-seek="${m[8]}">${fmtT(D.t[m[8]])}</a>; TCP retransmitted${m[9] >= 0 ? ` at <a href="#" data-seek="${m[9]}">${fmtT(D.t[m[9]])}</a>` : " (never got through)"}</td></tr>`;
    h += `</table><p class="hint">trace line: <code>${esc(D.t[m[2]])} send ${m[0]} → ${m[1]} ${esc(D.x[m[2]])}</code></p>`;
    detail(h);
  }
  function showRecord(i) {
    let h = `<h3>event ${i + 1}: ${esc(D.k[i])}</h3><p>${esc(D.w[i])}</p>`;
    if (D.m[i] >= 0) h += `<p class="method">3.8: ${esc(D.methods[D.m[i]])}</p>`;
    h += `<table><tr><td>time</td><td>${fmtT(D.t[i])}</td></tr><tr><td>node</td><td>${esc(names[D.n[i]] || D.n[i])}</td></tr>`;
    if (D.p[i] >= 0) h += `<tr><td>peer</td><td>${esc(names[D.p[i]] || D.p[i])}</td></tr>`;
    if (D.x[i]) h += `<tr><td>text</td><td><code>${esc(D.x[i])}</code></td></tr>`;
    h += `</table>`;
    if (D.mi[i] >= 0) h += `<p><a href="#" data-msg="${D.mi[i]}">the message's whole journey</a></p>`;
    detail(h);
  }
  function selectServer(sid) {
    P.sel = sid; P.selLink = null;
    const s = D.servers[sidRow[sid]], v = serverAt(s, P.k);
    let h = `<h3>${names[sid]}: ${v.state}${v.phase && v.state !== "LOOKING" ? " (" + v.phase + ")" : ""}</h3><table>`;
    h += `<tr><td>currentEpoch</td><td>${v.epoch}</td></tr><tr><td>acceptedEpoch</td><td>${v.accepted}</td></tr><tr><td>last zxid</td><td>${v.lastZxid}</td></tr>`;
    if (v.vote) h += `<tr><td>vote</td><td>${v.vote.leader < 0 ? "none" : v.vote.leader} (zxid ${v.vote.zxid}, epoch ${v.vote.epoch}), round (logical clock) ${v.vote.round}</td></tr><tr><td>why</td><td class="why">${esc(v.vote.why || "")}</td></tr>`;
    if (v.reason) h += `<tr><td>left its role</td><td>${esc(v.reason)}</td></tr>`;
    h += `</table><h3>Its recent events</h3><table>`;
    let c = 0;
    for (let j = P.k; j >= 0 && c < 12; j--) if (D.n[j] === sid) { c++; h += `<tr><td><a href="#" data-seek="${j}">${fmtT(D.t[j])}</a></td><td>${esc(D.w[j])}</td></tr>`; }
    h += `</table>`;
    detail(h, true);
    renderWhatIf();
    render();
  }
  function selectLink(a, b) {
    P.selLink = [a, b]; P.sel = null;
    const ab = linkStateAt(a, b, P.k), ba = linkStateAt(b, a, P.k);
    detail(`<h3>link ${names[a]} ↔ ${names[b]}</h3><p>${a} → ${b}: ${ab && ab[3] ? "cut" : "open"}${ab && ab[5] > D.t[P.k] ? ", clogged" : ""}<br>${b} → ${a}: ${ba && ba[3] ? "cut" : "open"}${ba && ba[5] > D.t[P.k] ? ", clogged" : ""}</p>`, true);
    renderWhatIf();
    render();
  }
  function showClient(node) {
    let h = `<h3>${esc(names[node])}</h3><table><tr><th>call</th><th>at</th><th>answer</th></tr>`;
    for (const c of D.calls) {
      if (c[0] !== node || c[1] > P.k) continue;
      const done = c[2] >= 0 && c[2] <= P.k;
      h += `<tr><td>${esc(c[3])}</td><td><a href="#" data-seek="${c[1]}">${fmtT(D.t[c[1]])}</a></td><td>${done ? esc(c[4]) : "<i>pending</i>"}</td></tr>`;
    }
    detail(h + "</table>");
  }
  function detail(h, keepTab) {
    $("panel-detail").innerHTML = h;
    if (!keepTab || !$("panel-whatif").classList.contains("on")) tab("detail");
  }

  // --- what if: the scenario that forks the run here ---
  function renderWhatIf() {
    const k = P.k, t = D.t[k];
    let h = `<p>Pause at a moment, click a server or a link, choose a fault: this is the scenario that forks the run at <b>${fmtT(t)}</b>. Runs are deterministic, so it replays this run exactly up to then.</p>`;
    if (!D.source) { $("panel-whatif").innerHTML = h + `<p class="bad">This trace carries no scenario text (no header): no fork.</p>`; return; }
    const acts = [];
    if (P.sel != null) {
      const v = serverAt(D.servers[sidRow[P.sel]], k);
      if (v.state === "DOWN") acts.push(["restart " + P.sel, "restart it"]);
      else if (v.state === "PAUSED") acts.push(["resume " + P.sel, "resume it"]);
      else if (v.state !== "NONE") acts.push(["crash " + P.sel, "crash (kill -9)"], ["crash " + P.sel + " host", "crash the host"], ["pause " + P.sel, "pause (SIGSTOP)"],
        ["partition " + P.sel + " *", "cut it off"]);
      h += `<h3>${names[P.sel]}</h3>`;
    } else if (P.selLink) {
      const [a, b] = P.selLink;
      acts.push([`partition ${a} ${b}`, `cut ${a} ↔ ${b}`], [`partition ${a} -> ${b}`, `cut ${a} → ${b} only`], [`partition ${b} -> ${a}`, `cut ${b} → ${a} only`],
        [`clog ${a} ${b} for=2s`, "clog both ways for 2 s"], [`heal ${a} ${b}`, "heal it"]);
      h += `<h3>link ${a} ↔ ${b}</h3>`;
    } else h += `<p class="hint">Nothing selected: click a server or a link on the picture.</p>`;
    h += `<div class="actions">` + acts.map((a) => `<button data-fork="${esc(a[0])}">${esc(a[1])}</button>`).join("") + `</div>`;
    h += `<div id="forkOut"></div>`;
    $("panel-whatif").innerHTML = h;
    if (acts.length) tab("whatif");
  }
  // fork returns the scenario text: the original lines up to the line running at record k,
  // `at T CMD`, then the rest, with the seed, mutants and fixes the run had
  function fork(cmd, k) {
    if (k == null) k = P.k;
    const t = D.t[k];
    const src = D.source.replace(/\n$/, "").split("\n");
    const st = stepAt(k);
    let insert = src.length; // after everything, when nothing runs (the end of the run)
    if (st) insert = st[0] - 1;
    else if (!D.steps.length) {
      // a trace without the lines' spans (another zabsim wrote it): an `at` line only has to
      // be read before its time, so right after the first start
      const i = src.findIndex((l) => /^\s*start\s/.test(l));
      if (i >= 0) insert = i + 1;
    }
    const sec = Math.floor(t / 1e9), ns = t % 1e9;
    const T = ns ? `${sec}.${String(ns).padStart(9, "0")}s` : `${sec}s`;
    const head = [`# What if: ${cmd} at ${T}, in ${D.title} (seed ${D.seed}).`,
      `# Written by the zabsim player: the lines of the run, with one more. Up to ${T} this runs`,
      `# exactly as the original did (every event at or before ${T} happens first).`];
    const out = head.concat(src.slice(0, insert));
    // the run's seed, mutants and fixes, if they came from outside the file
    const hasSeed = src.some((l) => /^\s*seed\s/.test(l));
    const extra = [];
    if (!hasSeed && D.seed !== 1) extra.push("seed " + D.seed);
    for (const m of D.mutants || []) extra.push("mutant " + m);
    for (const f of D.fixes || []) extra.push("fix " + f);
    if (extra.length) {
      const e = out.findIndex((l) => /^\s*ensemble\s/.test(l));
      out.splice(e + 1, 0, ...extra);
    }
    out.push(`at ${T} ${cmd}   # the fork`);
    return out.concat(src.slice(insert)).join("\n") + "\n";
  }
  P.fork = fork;
  function showFork(cmd) {
    const k = P.k, text = fork(cmd, k);
    let same = 0;
    for (let j = k + 1; j < n && D.t[j] === D.t[k]; j++) same++;
    const name = `${D.title}-whatif.zab`;
    $("forkOut").innerHTML = `<p>${same ? `${same} more event${same > 1 ? "s" : ""} at this instant also come${same > 1 ? "" : "s"} before the fault.` : ""}</p>
      <textarea id="forkText" spellcheck="false">${esc(text)}</textarea>
      <p><button id="copyFork">copy</button> then save as <code>${esc(name)}</code> and run <code>zabsim run ${esc(name)}${D.seed !== 1 ? "" : ""}</code> (add <code>--player fork.html</code> to watch it).</p>
      <p class="hint">Expectations after the fault may now fail: that is the what-if. A line after it can also fail for good reason (a crashed server cannot be crashed again).</p>`;
    $("copyFork").onclick = () => { $("forkText").select(); navigator.clipboard && navigator.clipboard.writeText(text).catch(() => {}); document.execCommand && document.execCommand("copy"); };
    location.hash = "fork=" + encodeURIComponent(cmd) + "&k=" + k;
  }

  // --- scenario and verdict tabs ---
  function buildScenario() {
    const src = (D.source || "").replace(/\n$/, "").split("\n");
    let h = D.source ? `<p class="hint">The scenario (${esc(D.title)}). The line running now is highlighted; click a line to go to where it ran.</p><div class="src" id="src">` : `<p class="hint">This trace has no header: the scenario is unknown.</p><div id="src">`;
    src.forEach((l, i) => { h += `<div data-line="${i + 1}" class="${l.trim().startsWith("#") ? "comment" : ""}">${String(i + 1).padStart(3)}  ${esc(l) || " "}</div>`; });
    h += `</div>`;
    if (D.replay) h += `<p>Replay: <code>${esc(D.replay)}</code></p>`;
    $("panel-scenario").innerHTML = h;
  }
  let lastLine = -1;
  function renderScenarioCursor(k) {
    const st = stepAt(k);
    const line = st ? st[0] : -1;
    if (line === lastLine) return;
    lastLine = line;
    for (const d of document.querySelectorAll("#src div")) {
      const l = +d.dataset.line;
      d.classList.toggle("cur", l === line);
    }
  }
  function buildVerdict() {
    const v = D.verdict;
    if (!v) { $("panel-verdictTab").innerHTML = `<p>No verdict: this player was made from a trace without the scenario that ran it.</p>`; return; }
    let h = `<p>${esc(v.text)}</p><h3>Checks</h3>`;
    if (!v.violations.length) h += `<p class="ok">No check failed.</p>`;
    for (const x of v.violations) h += `<p><a href="#" data-seek="${x[3]}">${fmtT(x[2])}</a> <span class="bad">${esc(x[0])}</span>${x[4] ? " (expected)" : ""}: ${esc(x[1])}</p>`;
    h += `<h3>Expectations</h3><table>`;
    for (const x of v.expectations) h += `<tr><td>line ${x[0]}</td><td><code>${esc(x[1])}</code></td><td class="${x[2] ? "ok" : "bad"}">${x[2] ? "ok" : "FAILED"}</td><td>${esc(x[3])}</td></tr>`;
    h += `</table>`;
    for (const w of v.warnings || []) h += `<p class="hint">warning: ${esc(w)}</p>`;
    $("panel-verdictTab").innerHTML = h;
  }

  // --- overview: one lane per server over the events, chapters and violations on top ---
  function drawOverviewBase() {
    const cv = $("overview"), W = cv.clientWidth || 1200, H = 86;
    cv.width = W; cv.height = H;
    const ctx = cv.getContext("2d");
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, W, H);
    const lanes = D.servers.length, top = 14, lh = Math.min(20, (H - top - 4) / lanes);
    const x = (i) => (i / Math.max(1, n - 1)) * (W - 60) + 50;
    ctx.font = "10px sans-serif"; ctx.fillStyle = "#333";
    D.servers.forEach((s, r) => {
      const y = top + r * lh;
      ctx.fillStyle = "#333"; ctx.fillText(names[s.sid], 2, y + lh - 2);
      const pts = Array.from(new Set([0].concat(s.life.map((c) => c[0]), s.role.map((c) => c[0])))).sort((a, b) => a - b);
      for (let j = 0; j < pts.length; j++) {
        const v = serverAt(s, pts[j]);
        const x0 = x(pts[j]), x1 = j + 1 < pts.length ? x(pts[j + 1]) : x(n - 1) + 1;
        ctx.fillStyle = v.state === "DOWN" ? "#d0d0d0" : colour[v.state] || "#f4f4f4";
        if (v.state !== "NONE") ctx.fillRect(x0, y, Math.max(1, x1 - x0), lh - 2);
      }
    });
    for (const c of D.chaps) {
      ctx.fillStyle = c[1] === "violation" ? "#c61a1a" : c[1] === "crash" ? "#c61a1a" : c[1] === "election" ? "#d95f0e" : c[1] === "sync" ? "#1f5fb4" : c[1] === "leader" ? "#1b7a3a" : "#888";
      const xx = x(c[0]);
      if (c[1] === "violation") { ctx.beginPath(); ctx.moveTo(xx - 6, 0); ctx.lineTo(xx + 6, 0); ctx.lineTo(xx, 11); ctx.fill(); }
      else ctx.fillRect(xx, 2, 2, 9);
    }
    ovX = x;
  }
  let ovX = (i) => i;
  // the cursor is a line over the canvas, moved with a transform: redrawing the canvas
  // each frame cost more than the rest of a frame
  function drawOverviewCursor() {
    $("ovCursor").style.transform = `translateX(${(ovX(P.k) - 1).toFixed(1)}px)`;
  }

  // --- event list, virtualised: only the rows in view exist ---
  const ROW = 18;
  let eventsKey = "";
  // the list follows the cursor at the next frame: scrolling forces a layout, and one per
  // frame is enough
  let eventsFrame = 0;
  function scrollEvents() {
    if (eventsFrame) return;
    eventsFrame = requestAnimationFrame(() => {
      eventsFrame = 0;
      const box = $("events");
      const top = Math.max(0, Math.round(P.k * ROW - 126 / 2 + ROW));
      if (!P.userScroll && box.scrollTop !== top) box.scrollTop = top;
      drawEvents(P.userScroll ? box.scrollTop : top);
    });
  }
  function drawEvents(top) {
    const box = $("events"), inner = $("eventsInner");
    if (top == null) top = box.scrollTop;
    const first = Math.max(0, Math.floor(top / ROW) - 5), last = Math.min(n, first + 18);
    const key = first + ":" + last + ":" + P.k;
    if (key === eventsKey) return; // the same rows: leave the DOM alone
    eventsKey = key;
    let h = "";
    const viol = new Set((D.verdict ? D.verdict.violations : []).map((v) => v[3]));
    for (let i = first; i < last; i++) {
      h += `<div class="row${i === P.k ? " cur" : ""}${viol.has(i) ? " violation" : ""}" style="top:${i * ROW}px" data-rec="${i}"><span class="t">${(D.t[i] / 1e9).toFixed(6)}</span>${esc(D.w[i])}</div>`;
    }
    inner.innerHTML = h;
  }

  // --- moving ---
  function seek(k, keepT) {
    P.k = Math.max(0, Math.min(n - 1, k));
    if (!keepT) P.t = D.t[P.k];
    render();
  }
  P.seek = (k) => { stop(); seek(k); };
  function nextMatching(from, dir, pred) {
    for (let i = from + dir; i >= 0 && i < n; i += dir) if (pred(i)) return i;
    return -1;
  }
  function sortedNext(list, from, dir) {
    if (dir > 0) { for (const i of list) if (i > from) return i; return -1; }
    for (let j = list.length - 1; j >= 0; j--) if (list[j] < from) return list[j];
    return -1;
  }
  function step(dir, mode) {
    stop();
    mode = mode || $("stepMode").value;
    let j = P.k + dir;
    if (mode === "message") j = sortedNext(msgRecs, P.k, dir);
    if (mode === "state") j = sortedNext(stateChangeRecs, P.k, dir);
    if (j >= 0 && j < n) seek(j);
  }
  P.step = step;
  function jump(kind, dir) {
    stop();
    const list = kind ? (chapKinds[kind] || []) : D.chaps.map((c) => c[0]);
    const j = sortedNext(list, P.k, dir || 1);
    if (j >= 0) seek(j); else toast("no " + (kind || "chapter") + (dir < 0 ? " before" : " after") + " this moment");
  }
  P.jump = jump;
  function toast(s) { const t = $("toast"); t.textContent = s; t.classList.add("on"); clearTimeout(toast.h); toast.h = setTimeout(() => t.classList.remove("on"), 1800); }

  // play: virtual time runs at the chosen speed; a stretch where nothing is in flight and
  // the next event is far is skipped (said in a toast)
  let lastFrame = 0;
  function speedNs() { const v = +$("speed").value; return Math.pow(10, -1 + v / 20) * 1e6; } // virtual ns per wall second: 0.1 ms/s .. 10 s/s
  function showSpeed() { const s = speedNs(); $("speedText").textContent = s < 1e6 ? (s / 1e3).toFixed(0) + " µs/s" : s < 1e9 ? (s / 1e6).toFixed(s < 1e7 ? 1 : 0) + " ms/s" : (s / 1e9).toFixed(1) + " s/s"; }
  function frame(now) {
    if (!P.playing) return;
    const dt = Math.min(100, now - (lastFrame || now)) / 1000;
    lastFrame = now;
    const sp = speedNs();
    let t = P.t + dt * sp;
    const next = P.k + 1 < n ? D.t[P.k + 1] : Infinity;
    if (next - P.t > sp * 0.6 && inFlight(P.k, P.t).length === 0 && next !== Infinity) {
      toast("skipped " + fmtDur(next - P.t) + " with nothing on the wire" + quietWhy(P.k, next));
      t = next;
    }
    let k = P.k;
    while (k + 1 < n && D.t[k + 1] <= t) k++;
    if (k >= n - 1 && t >= D.t[n - 1]) { P.k = n - 1; P.t = D.t[n - 1]; stop(); render(); return; }
    P.k = k; P.t = t;
    render();
    requestAnimationFrame(frame);
  }
  // what a quiet stretch before record `next` time was: servers waiting finalizeWait, or
  // the timer that ends it
  function quietWhy(k, next) {
    const waiting = D.servers.filter((s) => { const v = serverAt(s, k); return v.quorum && !v.quorum[5] && v.looking; }).map((s) => names[s.sid]);
    if (waiting.length) return ": " + waiting.join(", ") + " wait finalizeWait for a better vote";
    const j = recordAtTime(next);
    for (let i = j; i >= 0 && D.t[i] === D.t[j]; i--) if (D.k[i] === "timer" && !/loopback/.test(D.w[i])) return ": until " + D.w[i].replace(" fires", "");
    return "";
  }
  function play() { if (P.playing) return stop(); P.playing = true; $("play").textContent = "❚❚"; lastFrame = 0; requestAnimationFrame(frame); }
  function stop() { P.playing = false; $("play").textContent = "▶"; }
  P.play = play; P.stop = stop;

  function tab(name) {
    for (const b of document.querySelectorAll("#tabs button")) b.classList.toggle("on", b.dataset.tab === name);
    for (const p of document.querySelectorAll(".panel")) p.classList.toggle("on", p.id === "panel-" + name);
  }

  function bind() {
    $("slider").addEventListener("input", (e) => { stop(); seek(+e.target.value); });
    $("back").onclick = () => step(-1); $("fwd").onclick = () => step(1); $("play").onclick = play;
    $("prevChap").onclick = () => jump(null, -1); $("nextChap").onclick = () => jump(null, 1);
    $("nextElection").onclick = () => jump("election"); $("nextSync").onclick = () => jump("sync"); $("nextViolation").onclick = () => jump("violation");
    $("speed").oninput = showSpeed; showSpeed();
    $("helpBtn").onclick = () => ($("help").hidden = false); $("helpClose").onclick = () => ($("help").hidden = true);
    $("verdict").onclick = () => tab("verdictTab");
    for (const b of document.querySelectorAll("#tabs button")) b.onclick = () => tab(b.dataset.tab);
    $("overview").addEventListener("click", (e) => {
      const r = e.target.getBoundingClientRect(), W = r.width;
      const i = Math.round(((e.clientX - r.left - 50) / (W - 60)) * (n - 1));
      stop(); seek(i);
    });
    const ev = $("events");
    ev.addEventListener("scroll", () => drawEvents(ev.scrollTop));
    ev.addEventListener("wheel", () => { P.userScroll = true; clearTimeout(P.us); P.us = setTimeout(() => (P.userScroll = false), 1500); });
    document.body.addEventListener("click", (e) => {
      const t = e.target.closest("[data-seek],[data-rec],[data-msg],[data-fork],[data-line]");
      if (!t) return;
      if (t.dataset.seek) { e.preventDefault(); stop(); seek(+t.dataset.seek); }
      else if (t.dataset.msg) { e.preventDefault(); showMessage(+t.dataset.msg); }
      else if (t.dataset.fork) { showFork(t.dataset.fork); }
      else if (t.dataset.rec && t.classList.contains("row")) { stop(); seek(+t.dataset.rec); showRecord(+t.dataset.rec); }
      else if (t.dataset.rec) { showRecord(+t.dataset.rec); }
      else if (t.dataset.line) {
        const st = (D.steps || []).find((s) => s[0] === +t.dataset.line && !s[6]);
        if (st) { stop(); seek(Math.min(n - 1, st[2])); }
      }
    });
    document.addEventListener("keydown", (e) => {
      if (e.target.tagName === "TEXTAREA" || e.target.tagName === "INPUT" && e.target.type !== "range") return;
      if (e.key === " ") { e.preventDefault(); play(); }
      else if (e.key === "ArrowRight") { e.preventDefault(); e.shiftKey ? jump(null, 1) : step(1); }
      else if (e.key === "ArrowLeft") { e.preventDefault(); e.shiftKey ? jump(null, -1) : step(-1); }
      else if (e.key === "h" || e.key === "?") $("help").hidden = !$("help").hidden;
      else if (e.key === "Escape") $("help").hidden = true;
    });
    window.addEventListener("resize", () => { drawOverviewBase(); render(); });
    // a fork kept in the address: reopen it
    const m = /fork=([^&]*)&k=(\d+)/.exec(location.hash);
    if (m) setTimeout(() => { seek(+m[2]); renderWhatIf(); showFork(decodeURIComponent(m[1])); tab("whatif"); }, 0);
  }
  // bench seeks to count spread records and renders each: the mean and worst milliseconds
  P.bench = (count) => {
    const times = [];
    P.prof = {};
    for (let i = 0; i < count; i++) {
      const k = Math.floor(((i * 7919) % count) / count * (n - 1));
      const t0 = performance.now();
      seek(k);
      void document.body.offsetHeight; // the layout it causes counts too
      if (P.prof) P.prof.layout = (P.prof.layout || 0) + performance.now() - t0 - (P.prof.lastRender || 0);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const prof = P.prof; P.prof = null;
    delete prof.lastRender;
    for (const k in prof) prof[k] = +(prof[k] / count).toFixed(3);
    return { mean: times.reduce((a, b) => a + b, 0) / count, median: times[count >> 1], p95: times[Math.floor(count * 0.95)], max: times[count - 1], prof };
  };
  P.serverView = (sid) => serverAt(D.servers[sidRow[sid]], P.k);
  P.records = () => n;
  P.data = () => D;
  P.timeOf = (k) => D.t[k];
  P.recordAtTime = recordAtTime;
  P.select = (sid) => selectServer(sid);
  P.selectLink = (a, b) => selectLink(a, b);
  P.showFork = showFork;
  load().catch((e) => {
    document.body.innerHTML = "<pre>player failed to load: " + esc(e && e.stack || e) + "</pre>";
    document.body.dataset.ready = "error";
    console.error(e);
  });
})();
