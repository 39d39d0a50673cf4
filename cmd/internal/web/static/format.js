// Pulse's number formatting and threshold levels, shared by the page and
// its tests (window.PulseFormat). Pure functions of numbers and of the
// definitions' metadata (/stats/meta); nothing here touches the DOM.
'use strict';

(function () {
  // num formats a number for people: thousands as k, M, G and T with
  // three significant digits, whole numbers as they are below 1000, one
  // or two decimals below 100 and 10, and two significant digits below 1.
  function num(n) {
    if (n === null || n === undefined || typeof n !== 'number' || Number.isNaN(n)) return '–';
    if (!Number.isFinite(n)) return n > 0 ? '∞' : '−∞';
    const a = Math.abs(n);
    if (a >= 999.5) return scaled(n, 1000, ['', 'k', 'M', 'G', 'T', 'P', 'E'], '');
    if (Number.isInteger(n)) return String(n);
    if (a >= 100) return String(Math.round(n));
    if (a >= 10) return String(Number(n.toFixed(1)));
    if (a >= 1) return String(Number(n.toFixed(2)));
    return String(Number(n.toPrecision(2)));
  }

  // scaled divides n by base until it is below base and formats it with
  // three significant digits and the unit reached.
  function scaled(n, base, units, sep) {
    let i = 0;
    let x = n;
    while (Math.abs(x) >= base && i < units.length - 1) {
      x /= base;
      i++;
    }
    let s = Number(x.toPrecision(3));
    if (Math.abs(s) >= base && i < units.length - 1) { // 999.96k rounds to 1000k
      s = Number((x / base).toPrecision(3));
      i++;
    }
    return String(s) + sep + units[i];
  }

  const byteUnits = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];

  // perSuffix is the rate unit of a definition without a unit of its own:
  // /s, /min, /h or /<n>s.
  function perSuffix(meta) {
    if (!meta || !meta.per) return '';
    switch (meta.kind) {
      case 'rate': case 'sum': case 'topk': break;
      default: return '';
    }
    switch (meta.per) {
      case 1: return '/s';
      case 60: return '/min';
      case 3600: return '/h';
    }
    return '/' + meta.per + 's';
  }

  // value formats the number n with the unit of meta: ms as ms or s, B and
  // MB (with /s or /min after) in bytes, units that begin with "/" right
  // after the number, others after a space, and the definition's rate
  // unit when it has no unit.
  function value(n, meta) {
    if (n === null || n === undefined || typeof n !== 'number' || Number.isNaN(n)) return '–';
    const unit = (meta && meta.unit) || '';
    if (unit === 'ms') {
      return Math.abs(n) >= 1000 ? num(n / 1000) + ' s' : num(n) + ' ms';
    }
    if (unit === 's') {
      return Math.abs(n) < 1 && n !== 0 ? num(n * 1000) + ' ms' : num(n) + ' s';
    }
    const bytes = /^(B|kB|KB|MB|GB)(\/.*)?$/.exec(unit);
    if (bytes) {
      const mult = { B: 1, kB: 1e3, KB: 1e3, MB: 1e6, GB: 1e9 }[bytes[1]];
      const x = n * mult;
      const s = Math.abs(x) < 999.5 ? num(x) + ' B' : scaled(x, 1000, byteUnits, ' ');
      return s + (bytes[2] || '');
    }
    if (unit === '') return num(n) + perSuffix(meta);
    if (unit[0] === '/' || unit === '%') return num(n) + unit;
    return num(n) + ' ' + unit;
  }

  // scalar is the number a value's color is judged by: the number, the
  // highest quantile, or the top entry of a top-k list; null otherwise.
  function scalar(v) {
    if (typeof v === 'number') return v;
    if (v === null || typeof v !== 'object') return null;
    if (Array.isArray(v)) {
      return v.length > 0 && Array.isArray(v[0]) && typeof v[0][1] === 'number' ? v[0][1] : null;
    }
    let max = null;
    for (const k of Object.keys(v)) {
      if (typeof v[k] === 'number' && (max === null || v[k] > max)) max = v[k];
    }
    return max;
  }

  // level is the color of a value by meta's thresholds: "crit" at or
  // above crit, "warn" at or above warn, "ok" below them, "plain" for a
  // stat without thresholds and "none" for no value.
  function level(v, meta) {
    const x = scalar(v);
    if (x === null || Number.isNaN(x)) return 'none';
    const warn = meta && typeof meta.warn === 'number' ? meta.warn : null;
    const crit = meta && typeof meta.crit === 'number' ? meta.crit : null;
    if (crit !== null && x >= crit) return 'crit';
    if (warn !== null && x >= warn) return 'warn';
    return warn !== null || crit !== null ? 'ok' : 'plain';
  }

  // shape is how a value is drawn: "quant" (an object of quantiles),
  // "topk" (a list of [key, value]) or "num" (a number or null).
  function shape(v, meta) {
    if (meta && meta.kind === 'quantiles') return 'quant';
    if (meta && meta.kind === 'topk') return 'topk';
    if (Array.isArray(v)) return 'topk';
    if (v !== null && typeof v === 'object') return 'quant';
    return 'num';
  }

  // clock formats a Unix time in milliseconds as the local HH:MM:SS.
  function clock(ms) {
    const d = new Date(ms);
    const p = (x) => (x < 10 ? '0' : '') + x;
    return p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds());
  }

  window.PulseFormat = Object.freeze({ num, value, scalar, level, shape, clock });
})();
