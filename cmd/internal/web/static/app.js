// Pulse's dashboard: a tile per stat, grouped and labelled by the
// definitions (stats/meta), with a sparkline of the history (stats) kept
// up to date by the snapshots pushed over Server-Sent Events
// (stats/stream).
//
// Stat names, top-k keys and l2met metric names come from logs, so they
// are attacker-controlled text: they reach the page only as textContent,
// as attribute values set with setAttribute (title, data-name) and as
// URL fragments encoded with encodeURIComponent. Nothing is ever written
// as HTML.
//
// Work per snapshot: the message handler parses it and appends a point to
// each stat's series; DOM writes wait for the next animation frame, which
// updates only the tiles whose text changed and redraws only the canvases
// that are on screen and whose data, range or size changed.
'use strict';

(function () {
  const F = window.PulseFormat;
  const RANGES = [1, 5, 10]; // minutes
  const DEFAULT_RANGE = 5;
  const KEEP_MS = 11 * 60 * 1000; // history kept in the page
  const STALE_MS = 5000; // no snapshot for this long: the data is stale
  const BIG_PAD_LEFT = 66; // room for the axis labels of a large chart

  // Colors of the lines, by level; quantile lines are drawn lighter for
  // lower quantiles.
  const LINE = { ok: '#66bb6a', warn: '#ffa726', crit: '#ffffff', plain: '#64b5f6', none: '#78909c' };
  const FILL = { ok: 'rgba(102,187,106,.16)', warn: 'rgba(255,167,38,.18)', crit: 'rgba(255,255,255,.25)', plain: 'rgba(100,181,246,.14)', none: 'rgba(120,144,156,.1)' };

  const $ = (id) => document.getElementById(id);
  const main = $('groups');
  const statusEl = $('status');
  const staleEl = $('stale');
  const dropsEl = $('drops');
  const tip = $('tip');
  const viewNav = $('view');
  const viewName = $('viewname');

  // Metadata, from stats/meta.
  const meta = {
    exact: new Map(), // name → entry
    prefixes: [], // l2met families: {prefix, entry}
    patterns: [], // {re, entry}
    groupOrder: new Map(), // group → rank
  };

  // series: name → {t: [ms], v: [value], version}
  const series = new Map();
  // tiles: name → tile
  const tiles = new Map();
  // groups: group → {el, grid, tiles: [tile], changed}
  const groups = new Map();

  const state = {
    now: 0, // newest snapshot time, Unix ms
    latest: null, // the newest snapshot's stats, an object
    latestNames: null, // and its names, a Set
    structure: false, // latest's names may differ from the tiles
    lastWall: 0, // wall clock of the last snapshot received
    started: Date.now(),
    range: DEFAULT_RANGE * 60000,
    view: { group: null, stat: null },
    snapshots: 0,
    es: null,
    crit: 0, // tiles at crit
  };

  // Figures for the tests and the curious: window.pulseDash.perf.
  const perf = { messages: 0, messageMs: 0, frames: 0, frameMs: 0, maxFrameMs: 0, draws: 0, drawMs: 0 };

  // ---- metadata ------------------------------------------------------

  function loadMeta(m) {
    const list = Array.isArray(m && m.stats) ? m.stats : [];
    list.forEach((e, i) => {
      e.idx = i;
      const g = typeof e.group === 'string' && e.group !== '' ? e.group : 'other';
      e.group = g;
      if (!meta.groupOrder.has(g)) meta.groupOrder.set(g, meta.groupOrder.size);
      if (e.prefix) {
        meta.prefixes.push(e);
      } else if (e.pattern) {
        const parts = e.pattern.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
        e.re = new RegExp('^' + parts.join('([^.]+)') + '$');
        meta.patterns.push(e);
      } else if (e.name) {
        meta.exact.set(e.name, e);
      }
    });
    // The longest prefix wins.
    meta.prefixes.sort((a, b) => b.prefix.length - a.prefix.length);
  }

  // describe returns what the page knows of a stat: {m, group, label, idx}.
  function describe(name) {
    const m = meta.exact.get(name);
    if (m) return { m, group: m.group, label: m.label || name, idx: m.idx };
    for (const e of meta.patterns) {
      const x = e.re.exec(name);
      if (x) return { m: e, group: e.group, label: (e.label || name).replace('*', x[1]), idx: e.idx };
    }
    for (const e of meta.prefixes) {
      if (name.startsWith(e.prefix) && name.length > e.prefix.length) {
        return { m: e, group: e.group, label: name.slice(e.prefix.length), idx: e.idx };
      }
    }
    const group = name.startsWith('pulse.') ? 'pulse' : 'other';
    return { m: null, group, label: name, idx: Infinity };
  }

  function groupRank(g) {
    const r = meta.groupOrder.get(g);
    if (r !== undefined) return r;
    return g === 'pulse' ? 1e6 : 1e6 + 1;
  }

  // ---- series --------------------------------------------------------

  function addPoint(name, t, v) {
    let s = series.get(name);
    if (!s) {
      s = { t: [], v: [], version: 0 };
      series.set(name, s);
    }
    const n = s.t.length;
    if (n === 0 || t > s.t[n - 1]) {
      s.t.push(t);
      s.v.push(v);
    } else {
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (s.t[mid] < t) lo = mid + 1; else hi = mid;
      }
      if (s.t[lo] === t) {
        s.v[lo] = v;
      } else {
        s.t.splice(lo, 0, t);
        s.v.splice(lo, 0, v);
      }
    }
    s.version++;
  }

  function trim() {
    const cut = state.now - KEEP_MS;
    for (const [name, s] of series) {
      if (s.t.length === 0 || s.t[s.t.length - 1] < cut) {
        if (!tiles.has(name)) series.delete(name);
        continue;
      }
      if (s.t[0] >= cut) continue;
      let i = 0;
      while (i < s.t.length && s.t[i] < cut) i++;
      s.t.splice(0, i);
      s.v.splice(0, i);
      s.version++;
    }
  }

  // first returns the index of the first point at or after t.
  function first(ts, t) {
    let lo = 0;
    let hi = ts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ts[mid] < t) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  // ---- data in -------------------------------------------------------

  function onHistory(h) {
    if (!h || typeof h !== 'object') return;
    for (const name of Object.keys(h)) {
      const pts = h[name];
      if (!Array.isArray(pts)) continue;
      for (const p of pts) {
        if (Array.isArray(p) && typeof p[0] === 'number') {
          addPoint(name, p[0], p[1] === undefined ? null : p[1]);
          if (p[0] > state.now) state.now = p[0];
        }
      }
    }
    for (const tile of tiles.values()) tile.dirty = true;
  }

  function onSnapshot(snap) {
    const t = Date.parse(snap && snap.time);
    if (!Number.isFinite(t) || !snap.stats || typeof snap.stats !== 'object') return;
    state.lastWall = Date.now();
    state.snapshots++;
    if (t > state.now) state.now = t;
    const names = Object.keys(snap.stats);
    // The stream sends the latest snapshot merged across shards, at the
    // time of the slowest: a faster shard's values are as of a later
    // second, and a shard that publishes seconds it missed (a restarted
    // merger) brings the time back. So a point is added only after the
    // stat's newest, and when that leaves a hole (a faster shard's seconds
    // that came while the slowest held the time back), the history
    // (/stats), which has every point at its own time, fills it.
    let hole = 0;
    for (const name of names) {
      const s = series.get(name);
      const newest = s && s.t.length > 0 ? s.t[s.t.length - 1] : 0;
      if (newest === 0 || t > newest) {
        if (newest > 0 && t - newest > 1000 && (hole === 0 || newest < hole)) hole = newest;
        addPoint(name, t, snap.stats[name]);
      }
    }
    if (hole > 0) fill(hole);
    // It is the current value of every stat, even when its time is before
    // points the history already had from a faster shard.
    state.latest = snap.stats;
    state.latestNames = new Set(names);
    state.structure = true;
    if (state.snapshots % 10 === 0) trim();
    checkStale(); // and checkDrops
    for (const tile of tiles.values()) tile.dirty = true;
    schedule();
  }

  async function getJSON(path) {
    const resp = await fetch(path, { cache: 'no-store', credentials: 'same-origin' });
    if (!resp.ok) throw new Error(path + ': HTTP ' + resp.status);
    return resp.json();
  }

  // backfill fetches the points since the newest we have: the whole
  // history at first, the gap after a reconnect.
  async function backfill() {
    try {
      const path = state.now > 0 ? 'stats?since=' + (state.now - 2000) : 'stats';
      onHistory(await getJSON(path));
      schedule();
    } catch (err) {
      setStatus('Cannot load the history: ' + err.message, true);
    }
  }

  // fill fetches the history after since, to fill a hole the stream left:
  // one request at a time, the next one (from the oldest hole asked for
  // meanwhile) when it is done.
  let filling = false;
  let fillSince = 0;
  async function fill(since) {
    if (fillSince === 0 || since < fillSince) fillSince = since;
    if (filling) return;
    filling = true;
    while (fillSince > 0) {
      const from = fillSince;
      fillSince = 0;
      try {
        onHistory(await getJSON('stats?since=' + from));
        schedule();
      } catch (err) {
        break; // the next hole, or a reconnect's backfill, asks again
      }
    }
    filling = false;
  }

  function connect() {
    const es = new EventSource('stats/stream');
    state.es = es;
    es.onopen = () => { backfill(); };
    es.onmessage = (ev) => {
      const t0 = performance.now();
      let snap;
      try {
        snap = JSON.parse(ev.data);
      } catch (err) {
        return;
      }
      onSnapshot(snap);
      perf.messages++;
      perf.messageMs += performance.now() - t0;
    };
    es.onerror = () => {
      checkStale();
      if (es.readyState === EventSource.CLOSED) { // refused (503, 401): try again later
        es.close();
        setTimeout(connect, 5000);
      }
    };
  }

  async function start() {
    for (let wait = 1000; ; wait = Math.min(2 * wait, 10000)) {
      try {
        loadMeta(await getJSON('stats/meta'));
        break;
      } catch (err) {
        setStatus('Cannot load the definitions: ' + err.message + '; retrying', true);
        await new Promise((r) => setTimeout(r, wait));
      }
    }
    await backfill();
    if (state.latest === null) fromHistory();
    connect();
  }

  // fromHistory shows the newest points of the history until a snapshot
  // comes: a page opened while the mergers are down still shows what was
  // last known, under the stale banner.
  function fromHistory() {
    if (state.now === 0) return;
    const latest = Object.create(null); // no prototype: any name is a plain key
    for (const [name, s] of series) {
      const n = s.t.length;
      if (n > 0 && s.t[n - 1] >= state.now - 15000) latest[name] = s.v[n - 1];
    }
    state.latest = latest;
    state.latestNames = new Set(Object.keys(latest));
    state.structure = true;
    checkDrops();
    schedule();
  }

  // ---- tiles ---------------------------------------------------------

  function el(tag, cls) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    return e;
  }

  function hashFor(key, value) {
    const p = new URLSearchParams();
    p.set(key, value);
    if (state.range !== DEFAULT_RANGE * 60000) p.set('range', String(state.range / 60000));
    return '#' + p.toString();
  }

  function getGroup(name) {
    let g = groups.get(name);
    if (g) return g;
    const sec = el('section', 'group');
    sec.setAttribute('data-group', name);
    const h2 = el('h2');
    const a = el('a');
    a.textContent = name;
    a.setAttribute('href', hashFor('group', name));
    a.setAttribute('title', 'Show only ' + name);
    h2.appendChild(a);
    const grid = el('div', 'grid');
    sec.append(h2, grid);
    g = { name, el: sec, link: a, grid, tiles: [], changed: true, rank: groupRank(name) };
    groups.set(name, g);
    // Sections in group order.
    let before = null;
    for (const other of groups.values()) {
      if (other !== g && other.rank > g.rank && (before === null || other.rank < before.rank)) before = other;
    }
    main.insertBefore(sec, before ? before.el : null);
    return g;
  }

  function makeTile(name) {
    const d = describe(name);
    const tile = {
      name, d, el: el('article', 'tile'), shape: '', level: '', text: '',
      valueEl: el('span', 'value'), canvas: null, ctx: null, legend: null, list: null,
      cw: 0, ch: 0, visible: false, dirty: true, drawn: '', hover: -1, group: null,
    };
    tile.el.setAttribute('data-name', name);
    const head = el('header');
    const a = el('a', 'label');
    a.textContent = d.label;
    a.setAttribute('href', hashFor('stat', name));
    a.setAttribute('title', name);
    tile.link = a;
    head.append(a, tile.valueEl);
    tile.el.appendChild(head);
    tile.el.pulseTile = tile;
    const g = getGroup(d.group);
    tile.group = g;
    g.tiles.push(tile);
    g.changed = true;
    tiles.set(name, tile);
    observer.observe(tile.el);
    return tile;
  }

  // setShape builds the body of a tile for its kind of value: a canvas
  // (numbers; quantiles, with a legend) or a ranked list (top-k).
  function setShape(tile, shape) {
    if (tile.shape === shape) return;
    tile.el.classList.remove('shape-' + (tile.shape || 'none'));
    tile.shape = shape;
    tile.el.classList.add('shape-' + shape);
    for (const x of [tile.canvas, tile.legend, tile.list]) if (x) x.remove();
    if (tile.canvas) sizer.unobserve(tile.canvas);
    tile.canvas = tile.ctx = tile.legend = tile.list = tile.rows = null;
    tile.drawn = '';
    if (shape === 'topk') {
      tile.list = el('ol', 'topk');
      tile.el.appendChild(tile.list);
      return;
    }
    if (shape === 'quant') {
      tile.legend = el('div', 'legend');
      tile.el.appendChild(tile.legend);
    }
    tile.canvas = el('canvas');
    tile.canvas.pulseTile = tile;
    tile.ctx = tile.canvas.getContext('2d');
    tile.el.appendChild(tile.canvas);
    sizer.observe(tile.canvas);
  }

  function removeTile(tile) {
    if (tile.level === 'crit') state.crit--;
    observer.unobserve(tile.el);
    if (tile.canvas) sizer.unobserve(tile.canvas);
    tile.el.remove();
    tiles.delete(tile.name);
    const g = tile.group;
    g.tiles.splice(g.tiles.indexOf(tile), 1);
    if (g.tiles.length === 0) {
      g.el.remove();
      groups.delete(g.name);
    }
  }

  function compareTiles(a, b) {
    if (a.d.idx !== b.d.idx) return a.d.idx < b.d.idx ? -1 : 1;
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  }

  // syncTiles makes the tiles those of the newest snapshot, in order.
  function syncTiles() {
    state.structure = false;
    const names = state.latestNames;
    for (const name of names) if (!tiles.has(name)) makeTile(name);
    for (const tile of Array.from(tiles.values())) if (!names.has(tile.name)) removeTile(tile);
    for (const g of groups.values()) {
      if (!g.changed) continue;
      g.changed = false;
      g.tiles.sort(compareTiles);
      const kids = g.grid.children;
      g.tiles.forEach((tile, i) => {
        if (kids[i] !== tile.el) g.grid.insertBefore(tile.el, kids[i] || null);
      });
    }
    applyView();
  }

  // setText writes s as node's text when it differs from what was last
  // written there, without reading the DOM.
  function setText(node, s) {
    if (node.pulseText !== s) {
      node.pulseText = s;
      node.textContent = s;
    }
  }

  // update writes a tile's value, color and list, and redraws its chart
  // when it is on screen.
  function update(tile) {
    tile.dirty = false;
    const v = state.latest && Object.prototype.hasOwnProperty.call(state.latest, tile.name) ? state.latest[tile.name] : null;
    const m = tile.d.m;
    setShape(tile, F.shape(v, m));
    const level = F.level(v, m);
    if (level !== tile.level) {
      if (level === 'crit') state.crit++;
      else if (tile.level === 'crit') state.crit--;
      if (tile.level) tile.el.classList.remove(tile.level);
      tile.el.classList.add(level);
      tile.level = level;
      tile.drawn = '';
    }
    if (tile.shape === 'quant') updateQuant(tile, v, m);
    else if (tile.shape === 'topk') updateTopK(tile, v, m);
    else setText(tile.valueEl, F.value(typeof v === 'number' ? v : null, m));
    if (tile.canvas && tile.visible) {
      const t0 = performance.now();
      draw(tile);
      perf.drawMs += performance.now() - t0;
    }
  }

  // qnames returns the quantile names of a value in quantile order.
  function qnames(v, m) {
    if (m && Array.isArray(m.qnames) && m.qnames.length > 0) return m.qnames;
    if (!v || typeof v !== 'object') return [];
    return Object.keys(v).sort((a, b) => parseFloat('0.' + a.slice(1)) - parseFloat('0.' + b.slice(1)));
  }

  function updateQuant(tile, v, m) {
    const names = qnames(v, m);
    const top = names.length > 0 && v && typeof v === 'object' ? v[names[names.length - 1]] : null;
    setText(tile.valueEl, typeof top === 'number' ? F.value(top, m) : '–');
    const lg = tile.legend;
    while (lg.children.length < names.length) lg.appendChild(el('span', 'q' + lg.children.length));
    while (lg.children.length > names.length) lg.lastChild.remove();
    names.forEach((q, i) => {
      const x = v && typeof v === 'object' ? v[q] : null;
      setText(lg.children[i], q + ' ' + (typeof x === 'number' ? F.value(x, m) : '–'));
    });
  }

  function updateTopK(tile, v, m) {
    const list = Array.isArray(v) ? v.filter((e) => Array.isArray(e) && e.length >= 2) : [];
    const top = list.length > 0 && typeof list[0][1] === 'number' ? list[0][1] : 0;
    setText(tile.valueEl, list.length > 0 ? F.value(list[0][1], m) : '–');
    const rows = tile.rows || (tile.rows = []);
    while (rows.length < list.length) {
      const r = { li: el('li'), key: el('span', 'key'), val: el('span', 'val'), bar: el('meter'), max: -1, x: -1 };
      r.bar.min = 0;
      r.li.append(r.key, r.val, r.bar);
      tile.list.appendChild(r.li);
      rows.push(r);
    }
    while (rows.length > list.length) rows.pop().li.remove();
    const max = top > 0 ? top : 1;
    for (let i = 0; i < list.length; i++) {
      const r = rows[i];
      const key = String(list[i][0]);
      const x = typeof list[i][1] === 'number' ? Math.max(0, list[i][1]) : 0;
      if (r.key.pulseText !== key) {
        setText(r.key, key);
        r.key.setAttribute('title', key);
      }
      setText(r.val, F.value(x, m));
      if (r.max !== max || r.x !== x) {
        r.max = max;
        r.x = x;
        r.bar.max = max;
        r.bar.value = x;
      }
    }
  }

  // ---- drawing -------------------------------------------------------

  let scratch = new Float64Array(2048); // the values of the chart being drawn

  function draw(tile) {
    const s = series.get(tile.name);
    const key = (s ? s.version : 0) + '|' + state.now + '|' + state.range + '|' + tile.cw + 'x' + tile.ch + '|' + tile.hover;
    if (key === tile.drawn || tile.cw === 0 || tile.ch === 0) return;
    tile.drawn = key;
    perf.draws++;
    const c = tile.canvas;
    const g = tile.ctx;
    const dpr = window.devicePixelRatio || 1;
    const W = Math.round(tile.cw * dpr);
    const H = Math.round(tile.ch * dpr);
    if (c.width !== W || c.height !== H) {
      c.width = W;
      c.height = H;
    }
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, tile.cw, tile.ch);
    if (!s || s.t.length === 0) return;

    const big = tile.ch >= 100;
    const padL = big ? BIG_PAD_LEFT : 1;
    const padB = big ? 16 : 1;
    const padT = big ? 8 : 3;
    const w = tile.cw - padL - 1;
    const h = tile.ch - padT - padB;
    const t1 = state.now;
    const t0 = t1 - state.range;
    const i0 = Math.max(0, first(s.t, t0) - 1);
    const lines = tile.shape === 'quant' ? qnames(s.v[s.v.length - 1], tile.d.m) : [null];
    const n = s.t.length - i0;
    if (scratch.length < n * lines.length) scratch = new Float64Array(2 * n * lines.length);
    const ys = scratch;

    // The values of each line, NaN where there is none, and their range.
    let lo = Infinity;
    let hi = -Infinity;
    for (let l = 0; l < lines.length; l++) {
      const q = lines[l];
      const off = l * n;
      for (let i = 0; i < n; i++) {
        const v = s.v[i0 + i];
        let y = NaN;
        if (q === null) {
          if (typeof v === 'number') y = v;
        } else if (v !== null && typeof v === 'object') {
          const x = v[q];
          if (typeof x === 'number') y = x;
        }
        if (y !== y || y === Infinity || y === -Infinity) {
          ys[off + i] = NaN;
          continue;
        }
        ys[off + i] = y;
        if (y < lo) lo = y;
        if (y > hi) hi = y;
      }
    }
    if (lo === Infinity) return;
    if (lo > 0) lo = 0;
    if (hi <= lo) hi = lo + 1;
    hi += (hi - lo) * 0.08;
    const sx = w / (t1 - t0);
    const sy = h / (hi - lo);
    const Y = (y) => padT + h - (y - lo) * sy;

    const level = tile.level || 'plain';
    // Thresholds inside the range, dashed.
    const m = tile.d.m;
    g.lineWidth = 1;
    for (const [th, color] of [[m && m.warn, '#ffa726'], [m && m.crit, level === 'crit' ? '#ffffff' : '#ef5350']]) {
      // On a small tile only once the value is at warn or crit: dashed
      // lines on every quiet tile would be noise.
      if (typeof th === 'number' && th > lo && th < hi && (big || level === 'warn' || level === 'crit')) {
        g.setLineDash([3, 3]);
        g.strokeStyle = color;
        g.beginPath();
        g.moveTo(padL, Y(th));
        g.lineTo(padL + w, Y(th));
        g.stroke();
        g.setLineDash([]);
      }
    }

    const base = padT + h + lo * sy; // Y(y) = base - y * sy
    g.strokeStyle = LINE[level] || LINE.plain;
    g.lineWidth = big ? 2 : 1.5;
    for (let l = 0; l < lines.length; l++) {
      const off = l * n;
      g.beginPath();
      let open = false;
      let firstX = -1;
      let lastX = 0;
      for (let i = 0; i < n; i++) {
        const y = ys[off + i];
        if (y !== y) {
          open = false;
          continue;
        }
        const x = padL + (s.t[i0 + i] - t0) * sx;
        if (open) {
          g.lineTo(x, base - y * sy);
        } else {
          g.moveTo(x, base - y * sy);
          if (firstX < 0) firstX = x;
          open = true;
        }
        lastX = x;
      }
      g.globalAlpha = lines.length > 1 ? 0.45 + 0.55 * (l / (lines.length - 1)) : 1;
      g.stroke();
      g.globalAlpha = 1;
      if (lines.length === 1 && lastX > firstX && firstX >= 0) {
        g.lineTo(lastX, padT + h);
        g.lineTo(firstX, padT + h);
        g.closePath();
        g.fillStyle = FILL[level] || FILL.plain;
        g.fill();
      }
    }

    if (big) {
      g.fillStyle = level === 'crit' ? '#fff' : '#9aa3ad';
      g.font = '11px system-ui, sans-serif';
      g.textBaseline = 'top';
      g.textAlign = 'right';
      // Axis labels keep the units that scale (ms to s, B to MB).
      const axis = m && (m.unit === 'ms' || /^(B|kB|KB|MB|GB)(\/|$)/.test(m.unit || '')) ? { unit: m.unit } : null;
      g.fillText(F.value(hi, axis), padL - 6, padT - 2);
      g.textBaseline = 'bottom';
      g.fillText(F.value(lo, axis), padL - 6, padT + h + 2);
      g.textBaseline = 'top';
      g.textAlign = 'left';
      g.fillText(F.clock(t0), padL, padT + h + 3);
      g.textAlign = 'right';
      g.fillText(F.clock(t1), padL + w, padT + h + 3);
    }

    if (tile.hover >= 0 && tile.hover < s.t.length) {
      const x = padL + (s.t[tile.hover] - t0) * sx;
      g.strokeStyle = level === 'crit' ? '#fff' : '#cfd8dc';
      g.lineWidth = 1;
      g.beginPath();
      g.moveTo(x, padT);
      g.lineTo(x, padT + h);
      g.stroke();
    }
  }

  // ---- frames --------------------------------------------------------

  let queued = false;

  function schedule() {
    if (queued) return;
    queued = true;
    requestAnimationFrame(frame);
  }

  function frame() {
    queued = false;
    const t0 = performance.now();
    if (state.structure && state.latestNames) syncTiles();
    for (const tile of tiles.values()) if (tile.dirty) update(tile);
    if (state.latest) {
      const n = tiles.size;
      setStatus(n + ' stats · ' + F.clock(state.now), false);
    }
    const ms = performance.now() - t0;
    perf.frames++;
    perf.frameMs += ms;
    if (ms > perf.maxFrameMs) perf.maxFrameMs = ms;
  }

  // Tiles off screen are not drawn; they are when they come into view.
  const observer = new IntersectionObserver((entries) => {
    for (const e of entries) {
      const tile = e.target.pulseTile;
      if (!tile) continue;
      tile.visible = e.isIntersecting;
      if (tile.visible) {
        tile.dirty = true;
        schedule();
      }
    }
  }, { rootMargin: '200px' });

  // Canvas sizes, read without forcing a layout.
  const sizer = new ResizeObserver((entries) => {
    for (const e of entries) {
      const tile = e.target.pulseTile;
      if (!tile) continue;
      tile.cw = Math.round(e.contentRect.width);
      tile.ch = Math.round(e.contentRect.height);
      tile.dirty = true;
    }
    schedule();
  });

  // ---- status, staleness ---------------------------------------------

  function setStatus(text, error) {
    setText(statusEl, text);
    statusEl.classList.toggle('error', !!error);
  }

  function checkStale() {
    const now = Date.now();
    let msg = '';
    if (state.lastWall === 0) {
      if (now - state.started > STALE_MS) {
        msg = state.now > 0 ? 'Stale: no live snapshot; the history ends at ' + F.clock(state.now) : 'No data yet: waiting for the first snapshot';
      }
    } else if (now - state.lastWall > STALE_MS) {
      msg = 'Stale: no snapshot for ' + Math.round((now - state.lastWall) / 1000) + ' s';
    }
    if (msg && state.es && state.es.readyState !== EventSource.OPEN) msg += ' · reconnecting…';
    const stale = msg !== '';
    setText(staleEl, msg);
    if (staleEl.hidden === stale) staleEl.hidden = !stale;
    document.body.classList.toggle('stale', stale);
    checkDrops();
  }

  setInterval(checkStale, 1000);

  // checkDrops shows a banner above every group while the receivers drop
  // input (pulse.dropped: events refused or dropped because a queue was
  // full) or cuts (pulse.publish.dropped), both rates over the last 10 s:
  // the figures on the page leave that input out, and the tiles that say
  // so are at the bottom of the page. Under the stale banner it is not
  // shown: the drops it would report are as old as the data.
  function checkDrops() {
    const l = state.latest || {};
    const rate = (name) => (Object.prototype.hasOwnProperty.call(l, name) && typeof l[name] === 'number' && l[name] > 0 ? l[name] : 0);
    const events = rate('pulse.dropped');
    const cuts = rate('pulse.publish.dropped');
    const parts = [];
    if (events > 0) parts.push(F.num(events) + ' events/s dropped (a receiver\'s queue was full)');
    if (cuts > 0) parts.push(F.num(cuts) + ' cuts/s not published');
    const on = parts.length > 0 && !document.body.classList.contains('stale');
    if (on) {
      const msg = 'Dropping input: ' + parts.join(', ') + ' over the last 10 s; the figures below leave it out';
      if (dropsEl.pulseText !== msg) {
        dropsEl.pulseText = msg;
        const a = el('a');
        a.setAttribute('href', hashFor('stat', events > 0 || cuts === 0 ? 'pulse.dropped' : 'pulse.publish.dropped'));
        a.textContent = msg;
        dropsEl.replaceChildren(a);
      }
    }
    if (dropsEl.hidden === on) dropsEl.hidden = !on;
  }

  // The borders of the tiles at crit blink, unless the user asked for
  // less motion.
  const still = window.matchMedia('(prefers-reduced-motion: reduce)');
  setInterval(() => {
    const on = state.crit > 0 && !still.matches && !document.body.classList.contains('blink');
    if (on !== document.body.classList.contains('blink')) document.body.classList.toggle('blink', on);
  }, 500);

  // ---- views: #group=, #stat=, &range= --------------------------------

  function parseHash() {
    const p = new URLSearchParams(location.hash.slice(1));
    const r = Number(p.get('range'));
    state.range = (RANGES.includes(r) ? r : DEFAULT_RANGE) * 60000;
    state.view = { group: p.get('group'), stat: p.get('stat') };
    for (const b of document.querySelectorAll('#range button')) {
      b.setAttribute('aria-pressed', String(Number(b.getAttribute('data-range')) * 60000 === state.range));
    }
    const home = state.range === DEFAULT_RANGE * 60000 ? '#' : '#range=' + state.range / 60000;
    $('all').setAttribute('href', home);
    for (const g of groups.values()) g.link.setAttribute('href', hashFor('group', g.name));
    for (const t of tiles.values()) t.link.setAttribute('href', hashFor('stat', t.name));
    applyView();
    for (const tile of tiles.values()) tile.dirty = true;
    schedule();
  }

  function applyView() {
    const v = state.view;
    const mode = v.stat !== null ? 'stat' : v.group !== null ? 'group' : 'all';
    if (document.body.getAttribute('data-view') !== mode) document.body.setAttribute('data-view', mode);
    for (const g of groups.values()) {
      const focus = (mode === 'group' && g.name === v.group) || (mode === 'stat' && g.tiles.some((t) => t.name === v.stat));
      g.el.classList.toggle('focus', focus);
    }
    for (const t of tiles.values()) {
      const focus = mode === 'stat' && t.name === v.stat;
      const big = focus || (mode === 'group' && t.group.name === v.group);
      t.el.classList.toggle('focus', focus);
      t.el.classList.toggle('big', big);
    }
    viewNav.hidden = mode === 'all';
    let name = '';
    if (mode === 'stat') name = tiles.has(v.stat) ? tiles.get(v.stat).d.label : v.stat + ': not in the latest snapshot';
    else if (mode === 'group') name = groups.has(v.group) ? v.group : v.group + ': no such group';
    setText(viewName, name);
  }

  window.addEventListener('hashchange', parseHash);
  document.getElementById('range').addEventListener('click', (e) => {
    const b = e.target.closest('button[data-range]');
    if (!b) return;
    const p = new URLSearchParams(location.hash.slice(1));
    p.set('range', b.getAttribute('data-range'));
    location.hash = p.toString();
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && document.body.getAttribute('data-view') !== 'all') {
      location.hash = $('all').getAttribute('href');
    }
  });

  // ---- hover ---------------------------------------------------------

  function showTip(x, y, lines) {
    setText(tip, lines.join('\n'));
    tip.hidden = false;
    const r = tip.getBoundingClientRect();
    const left = Math.min(x + 14, window.innerWidth - r.width - 4);
    const top = y + 16 + r.height > window.innerHeight ? y - r.height - 8 : y + 16;
    tip.style.left = Math.max(0, left) + 'px';
    tip.style.top = Math.max(0, top) + 'px';
  }

  function hideTip() {
    tip.hidden = true;
  }

  let hovered = null;

  function setHover(tile, i) {
    if (hovered && hovered !== tile) {
      hovered.hover = -1;
      hovered.dirty = true;
    }
    hovered = tile;
    if (tile && tile.hover !== i) {
      tile.hover = i;
      tile.dirty = true;
    }
    schedule();
  }

  main.addEventListener('mousemove', (e) => {
    const target = e.target;
    if (target instanceof HTMLCanvasElement && target.pulseTile) {
      const tile = target.pulseTile;
      const s = series.get(tile.name);
      if (!s || s.t.length === 0) return hideTip();
      const r = target.getBoundingClientRect();
      const big = tile.ch >= 100;
      const padL = big ? BIG_PAD_LEFT : 1;
      const w = r.width - padL - 1;
      const t = state.now - state.range + ((e.clientX - r.left - padL) / w) * state.range;
      let i = first(s.t, t);
      if (i >= s.t.length || (i > 0 && t - s.t[i - 1] < s.t[i] - t)) i--;
      i = Math.max(0, i);
      const v = s.v[i];
      let text;
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
        text = qnames(v, tile.d.m).map((q) => q + ' ' + F.value(v[q], tile.d.m)).join(' · ');
      } else {
        text = F.value(typeof v === 'number' ? v : null, tile.d.m);
      }
      setHover(tile, i);
      showTip(e.clientX, e.clientY, [tile.d.label, text, F.clock(s.t[i])]);
      return;
    }
    const li = target.closest && target.closest('.topk li');
    if (li) {
      const tile = li.closest('.tile').pulseTile;
      showTip(e.clientX, e.clientY, [li.children[0].textContent, li.children[1].textContent, F.clock(state.now)]);
      setHover(tile, -1);
      return;
    }
    setHover(null, -1);
    hideTip();
  });
  main.addEventListener('mouseleave', () => {
    setHover(null, -1);
    hideTip();
  });

  // ---- go ------------------------------------------------------------

  window.pulseDash = Object.freeze({
    perf,
    snapshots: () => state.snapshots,
    points: (name) => (series.has(name) ? series.get(name).t.length : 0),
    // series returns a stat's points as [[t, value], ...].
    series: (name) => (series.has(name) ? series.get(name).t.map((t, i) => [t, series.get(name).v[i]]) : []),
  });

  parseHash();
  start();
})();
