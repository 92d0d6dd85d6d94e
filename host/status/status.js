// llm-proxy's status page: reads /healthz (what is configured, deployments' health), /metrics
// (counts, in Prometheus's text format) and /status/errors every few seconds, keeps the scrapes of
// the last minutes, and shows rates and percentiles over them. Plain JS, no build step.
'use strict';

const POLL_MS = 2000;
const WINDOW_MS = 5 * 60 * 1000;
const history = [];  // { at, samples } per scrape, oldest first

// Prometheus text -> [{ name, labels, value }].
function parseMetrics(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/);
    if (!m) continue;
    const labels = {};
    for (const [, k, v] of (m[2] || '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[k] = v.replace(/\\n/g, '\n').replace(/\\(.)/g, '$1');
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

const sum = (samples, name, where = () => true) => samples
  .filter((s) => s.name === name && where(s.labels)).reduce((total, s) => total + s.value, 0);

// A histogram's buckets summed over its series: Map(le -> cumulative count).
function buckets(samples, name) {
  const byLe = new Map();
  for (const s of samples)
    if (s.name === `${name}_bucket`) byLe.set(s.labels.le, (byLe.get(s.labels.le) || 0) + s.value);
  return byLe;
}

// The q-quantile of the observations between two scrapes' buckets (from: null for since start),
// interpolated within its bucket; null without observations.
function quantile(to, from, q) {
  const les = [...to.keys()].sort((a, b) => (a === '+Inf' ? Infinity : +a) - (b === '+Inf' ? Infinity : +b));
  const counts = les.map((le) => to.get(le) - (from ? from.get(le) || 0 : 0));
  const total = counts[counts.length - 1];
  if (!total) return null;
  const rank = q * total;
  for (let i = 0; i < les.length; i++) {
    if (counts[i] >= rank) {
      const upper = les[i] === '+Inf' ? +les[i - 1] : +les[i];
      const lower = i === 0 ? 0 : +les[i - 1];
      const below = i === 0 ? 0 : counts[i - 1];
      const inBucket = counts[i] - below;
      return les[i] === '+Inf' || inBucket === 0 ? upper : lower + (upper - lower) * ((rank - below) / inBucket);
    }
  }
  return null;
}

const seconds = (s) => (s === null ? '–' : s < 1 ? `${(s * 1000).toFixed(s < 0.01 ? 2 : 0)} ms` : `${s.toFixed(2)} s`);

// The scrape the window starts from: the oldest within WINDOW_MS, or null (since start) while
// only one has been seen.
function windowStart(now) {
  const inWindow = history.filter((h) => now.at - h.at <= WINDOW_MS && h !== now);
  return inWindow.length ? inWindow[0] : null;
}

function figures(now, from) {
  const requests = (samples) => sum(samples, 'llm_proxy_requests_total', (l) => l.route !== 'none');
  const rate = from ? (requests(now.samples) - requests(from.samples)) / ((now.at - from.at) / 1000) : null;
  const d = 'gen_ai_client_operation_duration_seconds';
  const t = 'gen_ai_server_time_to_first_token_seconds';
  const dTo = buckets(now.samples, d);
  const dFrom = from ? buckets(from.samples, d) : null;
  const tTo = buckets(now.samples, t);
  const tFrom = from ? buckets(from.samples, t) : null;
  return {
    rate,
    p50: quantile(dTo, dFrom, 0.5), p95: quantile(dTo, dFrom, 0.95), p99: quantile(dTo, dFrom, 0.99),
    t50: quantile(tTo, tFrom, 0.5), t95: quantile(tTo, tFrom, 0.95),
  };
}

function chart(id, series) {
  const svg = document.getElementById(id);
  const all = series.flatMap((s) => s.points.filter((p) => p !== null));
  const max = Math.max(1e-9, ...all);
  svg.innerHTML = series.map((s) => {
    const pts = s.points.map((p, i) => (p === null ? null : `${(i / Math.max(1, s.points.length - 1)) * 300},${60 - (p / max) * 56 - 2}`))
      .filter(Boolean).join(' ');
    return `<polyline stroke="${s.color}" points="${pts}"/>`;
  }).join('');
}

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function fill(tableId, rows) {
  const body = document.querySelector(`#${tableId} tbody`);
  body.replaceChildren(...rows.map(({ cells, data }) => {
    const tr = document.createElement('tr');
    if (data) for (const [k, v] of Object.entries(data)) tr.dataset[k] = v;
    tr.append(...cells);
    return tr;
  }));
}

function render(health, now, errors) {
  const from = windowStart(now);
  const f = figures(now, from);
  const all = figures(now, null);  // since start
  document.getElementById('rate').textContent = f.rate === null ? '–' : f.rate.toFixed(2);
  const latency = f.p50 === null ? all : f;
  const ttft = f.t50 === null ? all : f;
  const since = (used) => (used === all && from ? ' (since start)' : '');
  document.getElementById('latency').textContent =
    `${seconds(latency.p50)} · ${seconds(latency.p95)} · ${seconds(latency.p99)}${since(latency)}`;
  document.getElementById('ttft').textContent = `${seconds(ttft.t50)} · ${seconds(ttft.t95)}${since(ttft)}`;
  const s = now.samples;
  document.getElementById('now').textContent =
    `${sum(s, 'llm_proxy_requests_in_progress')} in progress, ${sum(s, 'llm_proxy_active_streams')} streaming`;
  document.getElementById('totals').textContent =
    `${sum(s, 'llm_proxy_requests_total', (l) => l.route !== 'none')} requests since start · ${sum(s, 'llm_proxy_open_connections')} connections open`;
  // One point per scrape, each over the minute before it.
  const points = history.map((h) => figures(h, history.find((o) => h.at - o.at <= 60000 && o !== h) || null));
  chart('rate-chart', [{ color: '#2b6cb0', points: points.map((p) => p.rate) }]);
  chart('latency-chart', [{ color: '#2f855a', points: points.map((p) => p.p50) }, { color: '#c05621', points: points.map((p) => p.p95) }]);
  chart('ttft-chart', [{ color: '#6b46c1', points: points.map((p) => p.t50) }, { color: '#c05621', points: points.map((p) => p.t95) }]);

  const byRoute = (prefix, cls) => sum(s, 'llm_proxy_requests_total', (l) => l.route === prefix && l.status_class === cls);
  fill('routes', health.routes.map((r) => ({
    data: { route: r.path_prefix },
    cells: [cell(r.path_prefix), cell(r.api), cell(r.target_llm || (r.models.length ? `models: ${r.models.join(', ')}` : 'the request\'s model')),
      cell(r.processors.join(', ') || '–'), cell(byRoute(r.path_prefix, '2xx'), 'num'), cell(byRoute(r.path_prefix, '4xx'), 'num'), cell(byRoute(r.path_prefix, '5xx'), 'num')],
  })));
  fill('llms', Object.entries(health.llms).map(([name, l]) => {
    const attempts = sum(s, 'llm_proxy_upstream_attempts_total', (x) => x.llm === name);
    const ok = sum(s, 'llm_proxy_upstream_attempts_total', (x) => x.llm === name && (x.outcome === 'answered' || x.outcome === 'client_error'));
    return {
      data: { llm: name },
      cells: [cell(name), cell(l.provider), cell(l.base_url || '(local)'), cell(l.ready ? 'yes' : 'no: key missing', l.ready ? 'healthy' : 'ejected'),
        cell(attempts, 'num'), cell(attempts - ok, 'num')],
    };
  }));
  fill('models', Object.entries(health.models).flatMap(([name, m]) => m.deployments.map((d, i) => {
    const state = d.healthy === undefined ? 'single' : d.ejected_ms > 0 ? `ejected, ${Math.ceil(d.ejected_ms / 1000)} s left`
      : d.cooling_ms > 0 ? `cooling, ${Math.ceil(d.cooling_ms / 1000)} s left` : 'healthy';
    const cls = d.ejected_ms > 0 ? 'ejected' : d.cooling_ms > 0 ? 'cooling' : 'healthy';
    return {
      data: { model: name, deployment: i },
      cells: [cell(i === 0 ? name : ''), cell(i === 0 ? m.balance : ''), cell(d.llm), cell(d.model || name), cell(d.weight, 'num'),
        cell(state, cls), cell(d.in_flight ?? '–', 'num'), cell(d.ejections ?? '–', 'num'),
        cell(d.first_byte_ms === undefined ? '–' : `${d.first_byte_ms.toFixed(0)} ms`, 'num')],
    };
  })));
  fill('errors', errors.errors.map((e) => ({
    data: { requestId: e.request_id },
    cells: [cell(e.time), cell(e.status, 'num'), cell(e.method), cell(e.path), cell(e.route), cell(e.request_id), cell(e.error, 'error')],
  })));
}

async function poll() {
  const state = document.getElementById('state');
  try {
    const [health, metrics, errors] = await Promise.all([
      fetch('/healthz').then((r) => r.json()),
      fetch('/metrics').then((r) => (r.ok ? r.text() : '')),
      fetch('/status/errors').then((r) => r.json()),
    ]);
    const now = { at: Date.now(), samples: parseMetrics(metrics) };
    history.push(now);
    while (history.length > 2 && now.at - history[0].at > WINDOW_MS + POLL_MS) history.shift();
    render(health, now, errors);
    state.textContent = 'up';
    state.className = 'badge ok';
    document.getElementById('updated').textContent = `updated ${new Date(now.at).toLocaleTimeString()}`;
  } catch (e) {
    state.textContent = `unreachable: ${e.message}`;
    state.className = 'badge bad';
  }
  setTimeout(poll, POLL_MS);
}

poll();
