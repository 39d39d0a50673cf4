// Pulse's page: the latest value of every stat, refreshed every second
// from stats/latest. Stat names and top-k keys come from logs, so they
// are untrusted: they only ever reach the page as textContent.
'use strict';

(function () {
  const tbody = document.querySelector('#stats tbody');
  const status = document.getElementById('status');
  const rows = new Map(); // stat name → <tr>

  function num(n) {
    if (typeof n !== 'number') return String(n);
    if (Number.isInteger(n) || Math.abs(n) >= 100) return String(Math.round(n * 10) / 10);
    return String(Number(n.toPrecision(3)));
  }

  // text renders a stat.Value: a number, null, quantiles {"p50":18,...}
  // or a top-k list [["key",4.5],...].
  function text(v) {
    if (v === null) return '–';
    if (typeof v === 'number') return num(v);
    if (Array.isArray(v)) {
      return v.length === 0 ? '(none)' : v.map(e => String(e[0]) + ' ' + num(e[1])).join(', ');
    }
    if (typeof v === 'object') {
      return Object.entries(v).map(([k, x]) => k + ' ' + num(x)).join('  ');
    }
    return String(v);
  }

  function render(snap) {
    const stats = Object.entries(snap.stats || {});
    stats.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const seen = new Set();
    for (const [name, value] of stats) {
      let tr = rows.get(name);
      if (!tr) {
        tr = document.createElement('tr');
        const th = document.createElement('th');
        th.scope = 'row';
        th.textContent = name;
        tr.appendChild(th);
        tr.appendChild(document.createElement('td'));
        rows.set(name, tr);
      }
      tr.lastChild.textContent = text(value);
      tbody.appendChild(tr); // appending an existing row moves it into name order
      seen.add(name);
    }
    for (const [name, tr] of rows) {
      if (!seen.has(name)) {
        tr.remove();
        rows.delete(name);
      }
    }
    status.className = '';
    status.textContent = stats.length === 0
      ? 'Waiting for the first snapshot…'
      : stats.length + ' stats as of ' + snap.time;
  }

  async function refresh() {
    try {
      const resp = await fetch('stats/latest', { cache: 'no-store', credentials: 'same-origin' });
      if (!resp.ok) throw new Error('HTTP ' + resp.status);
      render(await resp.json());
    } catch (err) {
      status.className = 'error';
      status.textContent = 'Cannot load stats: ' + err.message;
    }
    setTimeout(refresh, 1000);
  }

  refresh();
})();
