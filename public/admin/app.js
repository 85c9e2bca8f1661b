/* cligate admin console: plain DOM, no framework. Every value from the server is put in
 * the page as text (textContent), never as HTML: history holds whatever clients sent. */
'use strict';

const $ = (sel) => document.querySelector(sel);
const state = { csrf: '', tab: 'overview', providers: [], accounts: [], editing: null, charts: [], keys: [], editingKey: null, keyDetail: null, keyCharts: [] };

/** known credential fields per provider (the form offers them; any field may be added) */
const CREDENTIAL_FIELDS = {
  kiro: ['refresh_token', 'auth_method', 'client_id', 'client_secret', 'region', 'profile_arn'],
  'gemini-enterprise': ['team_id', 'secure_c_ses', 'host_c_oses', 'csesidx', 'user_agent'],
  cloudcode: ['refresh_token', 'project_id', 'email'],
};

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) el.append(c instanceof Node ? c : String(c));
  return el;
}

function notice(text, bad = false) {
  const n = $('#notice');
  n.textContent = text;
  n.className = bad ? 'bad' : '';
  n.hidden = false;
  clearTimeout(notice.timer);
  notice.timer = setTimeout(() => (n.hidden = true), 4000);
}

async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = state.csrf;
  const res = await fetch(`/api${path}`, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await res.json().catch(() => ({}));
  if (res.status === 401 && path !== '/login') showLogin();
  if (!res.ok) throw new Error(data?.error?.message ?? `HTTP ${res.status}`);
  return data;
}

const when = (t) => (t ? new Date(t).toLocaleString() : '—');
const ago = (t) => {
  if (!t) return '—';
  const s = Math.round((Date.now() - t) / 1000);
  return s < 60 ? `${s} s ago` : s < 3600 ? `${Math.round(s / 60)} min ago` : s < 86400 ? `${Math.round(s / 3600)} h ago` : when(t);
};
const num = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e4 ? `${(n / 1e3).toFixed(1)}k` : String(n));

// --- session -------------------------------------------------------------------------

function showLogin(message) {
  forgetSecret();
  $('#tabs').hidden = true;
  $('#logout').hidden = true;
  for (const s of document.querySelectorAll('.tab')) s.hidden = true;
  $('#login').hidden = false;
  $('#login-error').textContent = message ?? '';
}

async function start() {
  const res = await fetch('/api/session', { credentials: 'same-origin' });
  const data = await res.json().catch(() => ({}));
  if (res.status === 503) {
    showLogin(data?.error?.message ?? 'The admin API is off.');
    $('#login-form').querySelector('button').disabled = true;
    return;
  }
  if (!data.authenticated) return showLogin();
  state.csrf = data.csrf;
  $('#login').hidden = true;
  $('#tabs').hidden = false;
  $('#logout').hidden = false;
  show(state.tab);
}

$('#login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const password = new FormData(e.target).get('password');
  try {
    await api('POST', '/login', { password });
    e.target.reset();
    await start();
  } catch (err) {
    $('#login-error').textContent = err.message;
  }
});

$('#logout').addEventListener('click', async () => {
  await api('POST', '/logout').catch(() => {});
  state.csrf = '';
  showLogin('Logged out.');
});

// --- tabs ----------------------------------------------------------------------------

const loaders = { overview: loadOverview, accounts: loadAccounts, models: loadModels, routes: loadRoutes, keys: loadKeys, history: loadHistory, config: loadConfig };

function show(tab) {
  // a new key's secret is shown only while its page is: leaving it forgets the secret
  if (tab !== 'keys') forgetSecret();
  state.tab = tab;
  for (const b of document.querySelectorAll('#tabs button')) b.classList.toggle('active', b.dataset.tab === tab);
  for (const s of document.querySelectorAll('.tab')) s.hidden = s.id !== tab;
  loaders[tab]().catch((err) => notice(err.message, true));
}
for (const b of document.querySelectorAll('#tabs button')) b.addEventListener('click', () => show(b.dataset.tab));

// --- overview: cards, charts, pools --------------------------------------------------

const PALETTE = ['#2f6fde', '#e8743b', '#19a979', '#ed4a7b', '#945ecf', '#13a4b4', '#525df4', '#bf399e', '#6c8893', '#ee6868'];

function drawChart(target, buckets, series, value, unit, charts = state.charts) {
  target.replaceChildren();
  if (!window.uPlot) {
    target.append(h('p', { class: 'muted' }, 'Chart library not loaded.'));
    return;
  }
  const x = buckets.map((b) => b / 1000);
  const data = [x, ...series.map((s) => s.points.map(value))];
  const opts = {
    width: Math.max(320, target.clientWidth || 900),
    height: 240,
    series: [{}, ...series.map((s, i) => ({ label: s.group, stroke: PALETTE[i % PALETTE.length], fill: `${PALETTE[i % PALETTE.length]}22`, width: 2, points: { show: buckets.length < 60 } }))],
    axes: [{}, { label: unit, size: 60 }],
    scales: { y: { range: (_u, min, max) => [0, Math.max(1, max)] } },
  };
  if (!series.length) data.push(x.map(() => 0)) && opts.series.push({ label: 'no requests', stroke: '#ccc' });
  charts.push(new window.uPlot(opts, data, target));
}

const KIND_LABEL = { cli: 'CLI', accounts: 'accounts', upstream: 'upstream API' };

const readyBadge = (ready, text, title) => h('span', { class: `badge ${ready ? 'ok' : 'bad'}`, title }, text ?? (ready ? 'ready' : 'not ready'));

/** one route's targets in order, each with its readiness; the serving one marked */
function targetChain(targets, serving) {
  return h('div', { class: 'targets' },
    targets.flatMap((t, i) => [
      i ? h('span', { class: 'arrow' }, '→') : null,
      h('span', { class: `badge ${t.ready ? (t.target === serving ? 'ok' : 'warn') : 'bad'}`, title: t.detail, 'data-target': t.target }, `${t.target}${t.ready ? '' : ' ✗'}`),
    ]));
}

/** every provider: kind, installed / version / login (CLIs), accounts usable (pools), warm processes */
function providerRows(providers) {
  return providers.map((p) => {
    const state = p.kind === 'cli'
      ? !p.cli?.installed ? readyBadge(false, 'not installed') : p.cli.loggedIn === false ? readyBadge(false, 'not logged in') : readyBadge(p.ready)
      : p.kind === 'accounts' ? readyBadge(p.ready, `${p.accounts.usable} of ${p.accounts.total} usable`) : readyBadge(p.ready, p.ready ? 'ready' : 'not configured');
    const warm = p.kind !== 'cli' ? '—' : p.warm?.length ? p.warm.map((w) => `${w.model}: ${w.idle}${w.starting ? ` (+${w.starting} starting)` : ''}`).join(', ') : '0';
    return h('tr', { 'data-provider': p.id },
      h('td', {}, p.id),
      h('td', { class: 'kind' }, KIND_LABEL[p.kind] ?? p.kind),
      h('td', { class: 'state' }, state),
      h('td', {}, p.cli?.version ?? '—'),
      h('td', { class: 'detail' }, p.ready ? (p.cli?.auth ? `logged in (${p.cli.auth})` : p.detail) : p.detail, p.fix ? [h('br'), 'fix: ', h('span', { class: 'fix' }, p.fix)] : null),
      h('td', { class: 'warm' }, warm),
    );
  });
}

function routeStatusRows(routes) {
  return routes.map((r) =>
    h('tr', { 'data-match': r.match },
      h('td', {}, r.match),
      h('td', {}, targetChain(r.targets, r.serving)),
      h('td', { class: 'serving' }, r.serving ?? h('span', { class: 'badge bad' }, 'none ready')),
      h('td', { class: 'muted' }, r.source === 'stored' ? 'console' : 'MODEL_ROUTES'),
    ));
}

async function loadStatus() {
  const status = await api('GET', '/status');
  $('#providers-status').replaceChildren(
    h('table', {}, h('thead', {}, h('tr', {}, ['Provider', 'Kind', 'State', 'Version', 'Detail', 'Warm processes'].map((c) => h('th', {}, c)))),
      h('tbody', {}, providerRows(status.providers))),
  );
  $('#routes-status').replaceChildren(
    status.routes.length
      ? h('table', {}, h('thead', {}, h('tr', {}, ['Match', 'Targets', 'Would serve now', 'Source'].map((c) => h('th', {}, c)))), h('tbody', {}, routeStatusRows(status.routes)))
      : h('p', { class: 'muted' }, 'No routes: a model name goes to every provider that serves it, in PROVIDER_ORDER. Add routes on the Routes page.'),
  );
}

async function loadOverview() {
  const [hours, bucket] = $('#range').value.split(':');
  const groupBy = $('#group').value;
  // the provider probes may take a moment the first time: the rest does not wait for them
  loadStatus().catch((e) => notice(e.message, true));
  const [usage, pool] = await Promise.all([api('GET', `/usage?hours=${hours}&bucket=${bucket}&groupBy=${groupBy}`), api('GET', '/pool')]);
  const t = usage.totals;
  $('#cards').replaceChildren(
    ...[
      ['requests', num(t.requests)],
      ['errors', `${num(t.errors)}${t.requests ? ` (${((100 * t.errors) / t.requests).toFixed(1)}%)` : ''}`],
      ['tokens in', num(t.tokensIn)],
      ['tokens out', num(t.tokensOut)],
      ['cached tokens', num(t.tokensCached)],
      ['mean duration', t.requests ? `${Math.round(t.durationMs / t.requests)} ms` : '—'],
    ].map(([label, value]) => h('div', { class: 'card' }, h('div', { class: 'value' }, value), h('div', { class: 'label' }, label))),
  );
  for (const c of state.charts.splice(0)) c.destroy();
  drawChart($('#chart-requests'), usage.buckets, usage.series, (p) => p.requests, 'requests');
  drawChart($('#chart-tokens'), usage.buckets, usage.series, (p) => p.tokensIn + p.tokensOut, 'tokens');
  $('#pools').replaceChildren(
    h('table', {}, h('thead', {}, h('tr', {}, ['Provider', 'Accounts', 'Usable', 'Cooling', 'Unavailable', 'Disabled'].map((c) => h('th', {}, c)))),
      h('tbody', {}, pool.providers.map((p) => h('tr', {}, h('td', {}, p.id), h('td', {}, p.summary.total), h('td', {}, p.summary.usable), h('td', {}, p.summary.cooling), h('td', {}, p.summary.unavailable), h('td', {}, p.summary.disabled))))),
  );
}
$('#range').addEventListener('change', () => loadOverview().catch((e) => notice(e.message, true)));
$('#group').addEventListener('change', () => loadOverview().catch((e) => notice(e.message, true)));
$('#refresh').addEventListener('click', () => loadOverview().catch((e) => notice(e.message, true)));

// --- accounts ------------------------------------------------------------------------

function statusBadge(a) {
  if (!a.enabled) return h('span', { class: 'badge off' }, 'disabled');
  if (a.disabledReason || a.state.unavailable) return h('span', { class: 'badge bad', title: a.disabledReason ?? a.state.unavailable }, 'rejected');
  if (a.state.coolUntil && a.state.coolUntil > Date.now()) return h('span', { class: 'badge warn' }, `cooling ${Math.ceil((a.state.coolUntil - Date.now()) / 1000)} s`);
  return h('span', { class: 'badge ok' }, 'ready');
}

async function loadAccounts() {
  const filter = $('#account-filter').value;
  const data = await api('GET', `/accounts${filter ? `?provider=${encodeURIComponent(filter)}` : ''}`);
  state.providers = data.providers;
  state.accounts = data.accounts;
  const sel = $('#account-filter');
  if (sel.options.length === 1) for (const p of data.providers) sel.append(h('option', { value: p }, p));
  const rows = data.accounts.map((a) =>
    h('tr', { 'data-id': a.id },
      h('td', {}, a.id),
      h('td', {}, a.provider),
      h('td', {}, a.label ?? ''),
      h('td', { class: 'status' }, statusBadge(a)),
      h('td', {}, a.weight),
      h('td', {}, ago(a.state.lastUsed)),
      h('td', { class: 'err' }, a.disabledReason ?? a.state.lastError ?? ''),
      h('td', { class: 'actions-cell' },
        h('button', { class: 'small test', onclick: () => testAccount(a.id) }, 'Test'),
        h('button', { class: 'small ghost', onclick: () => toggleAccount(a) }, a.enabled ? 'Disable' : 'Enable'),
        h('button', { class: 'small ghost', onclick: () => editAccount(a) }, 'Edit'),
        h('button', { class: 'small danger', onclick: () => deleteAccount(a.id) }, 'Delete'),
      ),
    ),
  );
  $('#account-table tbody').replaceChildren(...(rows.length ? rows : [h('tr', {}, h('td', { colspan: 8, class: 'muted' }, 'No accounts yet.'))]));
}
$('#account-filter').addEventListener('change', () => loadAccounts().catch((e) => notice(e.message, true)));

$('#load-limits').addEventListener('click', async () => {
  const data = await api('GET', '/limits').catch((e) => notice(e.message, true));
  if (!data) return;
  const rows = data.limits.flatMap((l) =>
    l.error || !l.models.length
      ? [h('tr', {}, h('td', {}, l.provider), h('td', {}, l.email ?? l.account), h('td', {}, '—'), h('td', { class: 'err' }, l.error ?? 'no quota reported'), h('td', {}, '—'))]
      : l.models.map((m) => h('tr', {}, h('td', {}, l.provider), h('td', {}, l.email ?? l.account), h('td', {}, m.model),
          h('td', {}, m.remainingFraction === undefined ? '?' : h('span', { class: `badge ${m.remainingFraction > 0.2 ? 'ok' : m.remainingFraction > 0 ? 'warn' : 'bad'}` }, `${Math.round(m.remainingFraction * 1000) / 10}%`)),
          h('td', {}, m.resetTime ? when(Date.parse(m.resetTime)) : '—'))),
  );
  $('#limits-table').hidden = false;
  $('#limits-table tbody').replaceChildren(...(rows.length ? rows : [h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'No provider reports quotas for its accounts.'))]));
});

async function testAccount(id) {
  notice(`Testing ${id}…`);
  try {
    const r = await api('POST', `/accounts/${encodeURIComponent(id)}/test`);
    notice(r.ok ? `${id}: OK — ${r.detail} (${r.ms} ms)` : `${id}: failed — ${r.error}`, !r.ok);
  } catch (err) {
    notice(err.message, true);
  }
  await loadAccounts();
}

async function toggleAccount(a) {
  await api('PATCH', `/accounts/${encodeURIComponent(a.id)}`, { enabled: !a.enabled }).catch((e) => notice(e.message, true));
  await loadAccounts();
}

async function deleteAccount(id) {
  if (!confirm(`Delete account ${id}?`)) return;
  await api('DELETE', `/accounts/${encodeURIComponent(id)}`).catch((e) => notice(e.message, true));
  await loadAccounts();
}

function credentialRow(name = '', value = '') {
  const row = h('div', { class: 'cred-row' },
    h('input', { class: 'cred-name', placeholder: 'name', value: name }),
    h('input', { class: 'cred-value', placeholder: 'value', value, type: /token|secret|ses|key/i.test(name) ? 'password' : 'text' }),
    h('button', { type: 'button', class: 'small ghost', onclick: () => row.remove() }, '×'),
  );
  return row;
}

function openForm(account) {
  const f = $('#account-form');
  state.editing = account ?? null;
  f.reset();
  $('#account-error').textContent = '';
  $('#account-form-title').textContent = account ? `Edit ${account.id}` : 'Add account';
  const providerSel = f.elements.provider;
  providerSel.replaceChildren(...state.providers.map((p) => h('option', { value: p }, p)));
  providerSel.disabled = !!account;
  f.elements.id.disabled = !!account;
  const fill = (provider) => {
    const names = account ? Object.keys(account.credentials) : (CREDENTIAL_FIELDS[provider] ?? ['refresh_token']);
    $('#credential-rows').replaceChildren(...names.map((n) => credentialRow(n, account ? account.credentials[n] : '')));
  };
  if (account) {
    providerSel.value = account.provider;
    f.elements.id.value = account.id;
    f.elements.label.value = account.label ?? '';
    f.elements.weight.value = account.weight;
    f.elements.proxy.value = account.proxy ?? '';
    f.elements.enabled.checked = account.enabled;
  } else if ($('#account-filter').value) providerSel.value = $('#account-filter').value;
  providerSel.onchange = () => fill(providerSel.value);
  fill(providerSel.value);
  f.hidden = false;
  f.scrollIntoView({ behavior: 'smooth' });
}
const editAccount = (a) => openForm(a);
$('#add-account').addEventListener('click', () => openForm());
$('#add-credential').addEventListener('click', () => $('#credential-rows').append(credentialRow()));
$('#cancel-account').addEventListener('click', () => ($('#account-form').hidden = true));

$('#account-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = e.target;
  const credentials = {};
  for (const row of document.querySelectorAll('#credential-rows .cred-row')) {
    const name = row.querySelector('.cred-name').value.trim();
    const value = row.querySelector('.cred-value').value;
    if (name && value !== '') credentials[name] = value;
  }
  const body = {
    label: f.elements.label.value || undefined,
    weight: Number(f.elements.weight.value || 100),
    enabled: f.elements.enabled.checked,
    proxy: f.elements.proxy.value.trim(),
    credentials,
  };
  try {
    if (state.editing) await api('PATCH', `/accounts/${encodeURIComponent(state.editing.id)}`, body);
    else {
      if (!body.proxy) delete body.proxy;
      await api('POST', '/accounts', { ...body, provider: f.elements.provider.value, id: f.elements.id.value.trim() || undefined });
    }
    f.hidden = true;
    notice('Saved.');
    await loadAccounts();
  } catch (err) {
    $('#account-error').textContent = err.message;
  }
});

// --- models and aliases --------------------------------------------------------------

async function loadModels() {
  const data = await api('GET', '/models');
  $('#model-providers').replaceChildren(
    ...data.providers.map((p) => {
      const card = h('div', { class: 'card' }, h('h3', {}, `${p.id} `, h('span', { class: 'muted' }, p.kind === 'cli' ? '(CLI: models from its environment variables)' : p.kind === 'upstream' ? '(upstream API: models from its environment variables)' : '(account pool)')));
      if (!p.editable) {
        card.append(h('p', {}, p.models.join(', ') || '(none)'));
        return card;
      }
      const area = h('textarea', { 'aria-label': `${p.id} models` }, (p.configured ?? p.models).join('\n'));
      card.append(
        area,
        h('div', { class: 'actions' },
          h('button', { onclick: async () => {
            const models = area.value.split(/[\s,]+/).filter(Boolean);
            await api('PUT', `/models/${p.id}`, { models }).then(() => notice('Model list saved.'), (e) => notice(e.message, true));
            loadModels();
          } }, 'Save models'),
          h('button', { class: 'ghost', onclick: async () => {
            await api('DELETE', `/models/${p.id}`).then(() => notice('Back to the defaults.'), (e) => notice(e.message, true));
            loadModels();
          } }, 'Reset to defaults'),
        ),
      );
      return card;
    }),
  );
  const rows = [
    ...Object.entries(data.aliases.environment).map(([a, t]) => h('tr', {}, h('td', {}, a), h('td', {}, t), h('td', { class: 'muted' }, 'MODEL_ALIASES'), h('td', {}))),
    ...Object.entries(data.aliases.stored).map(([a, t]) =>
      h('tr', {}, h('td', {}, a), h('td', {}, t), h('td', { class: 'muted' }, 'console'),
        h('td', {}, h('button', { class: 'small danger', onclick: async () => {
          await api('DELETE', `/models/aliases/${encodeURIComponent(a)}`).catch((e) => notice(e.message, true));
          loadModels();
        } }, 'Delete'))),
    ),
  ];
  $('#alias-table tbody').replaceChildren(...(rows.length ? rows : [h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No aliases.'))]));
}

$('#alias-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = e.target;
  try {
    await api('PUT', `/models/aliases/${encodeURIComponent(f.elements.alias.value.trim())}`, { target: f.elements.target.value.trim() });
    f.reset();
    $('#alias-error').textContent = '';
    loadModels();
  } catch (err) {
    $('#alias-error').textContent = err.message;
  }
});

// --- routes --------------------------------------------------------------------------

async function loadRoutes() {
  const data = await api('GET', '/routes');
  state.routeProviders = data.providers;
  const effective = new Map(data.effective.map((r) => [r.match, r]));
  const stored = data.stored.map((r) => {
    const e = effective.get(r.match);
    return h('tr', { 'data-match': r.match },
      h('td', {}, r.match),
      h('td', {}, e ? targetChain(e.targets, e.serving) : r.targets.join(' → ')),
      h('td', { class: 'serving' }, e?.serving ?? h('span', { class: 'badge bad' }, 'none ready')),
      h('td', { class: 'muted' }, data.environment.some((x) => x.match === r.match) ? 'console (replaces MODEL_ROUTES)' : 'console'),
      h('td', { class: 'actions-cell' },
        h('button', { class: 'small ghost', onclick: () => openRouteForm(r) }, 'Edit'),
        h('button', { class: 'small danger', onclick: () => deleteRoute(r.match) }, 'Delete')),
    );
  });
  $('#route-table tbody').replaceChildren(...(stored.length ? stored : [h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'No routes set here.'))]));
  const env = data.environment.map((r) => {
    const e = data.effective.find((x) => x.match === r.match && x.source === 'environment');
    return h('tr', { 'data-match': r.match },
      h('td', {}, r.match),
      h('td', {}, e ? targetChain(e.targets, e.serving) : r.targets.join(' → ')),
      h('td', {}, e ? (e.serving ? `serves via ${e.serving}` : h('span', { class: 'badge bad' }, 'none ready')) : h('span', { class: 'badge off' }, 'replaced by a console route')));
  });
  $('#env-route-table tbody').replaceChildren(...(env.length ? env : [h('tr', {}, h('td', { colspan: 3, class: 'muted' }, 'MODEL_ROUTES is empty.'))]));
  $('#routes-env').textContent = data.env ? `MODEL_ROUTES="${data.env}"` : '(no routes)';
}

function targetRow(target = '') {
  const slash = target.indexOf('/');
  const provider = slash > 0 ? target.slice(0, slash) : target;
  const model = slash > 0 ? target.slice(slash + 1) : '';
  const providers = state.routeProviders ?? [];
  const sel = h('select', { class: 'target-provider', 'aria-label': 'provider' },
    providers.map((p) => h('option', { value: p.id }, `${p.id} (${KIND_LABEL[p.kind] ?? p.kind})`)));
  if (provider) sel.value = provider;
  const input = h('input', { class: 'target-model', placeholder: 'model (empty: the name requested)', value: model, list: 'route-models' });
  const fillModels = () => $('#route-models').replaceChildren(...(providers.find((p) => p.id === sel.value)?.models ?? []).map((m) => h('option', { value: m })));
  sel.addEventListener('change', fillModels);
  input.addEventListener('focus', fillModels);
  const row = h('div', { class: 'target-row' },
    h('span', { class: 'pos' }),
    sel, input,
    h('button', { type: 'button', class: 'small ghost', title: 'earlier', onclick: () => { row.previousElementSibling?.before(row); renumber(); } }, '↑'),
    h('button', { type: 'button', class: 'small ghost', title: 'later', onclick: () => { row.nextElementSibling?.after(row); renumber(); } }, '↓'),
    h('button', { type: 'button', class: 'small ghost', title: 'remove', onclick: () => { row.remove(); renumber(); } }, '×'),
  );
  return row;
}

function renumber() {
  [...document.querySelectorAll('#target-rows .target-row')].forEach((r, i) => (r.querySelector('.pos').textContent = `${i + 1}.`));
}

function openRouteForm(route) {
  const f = $('#route-form');
  f.reset();
  state.editingRoute = route ?? null;
  $('#route-error').textContent = '';
  $('#route-form-title').textContent = route ? `Edit ${route.match}` : 'Add route';
  f.elements.match.value = route?.match ?? '';
  f.elements.match.readOnly = !!route;
  $('#target-rows').replaceChildren(...(route ? route.targets : ['']).map((t) => targetRow(t)));
  renumber();
  f.hidden = false;
  f.scrollIntoView({ behavior: 'smooth' });
}

async function deleteRoute(match) {
  if (!confirm(`Delete route ${match}?`)) return;
  await api('DELETE', `/routes/${encodeURIComponent(match)}`).then(() => notice(`Route ${match} deleted.`), (e) => notice(e.message, true));
  await loadRoutes();
}

$('#add-route').addEventListener('click', () => openRouteForm());
$('#add-target').addEventListener('click', () => {
  $('#target-rows').append(targetRow());
  renumber();
});
$('#cancel-route').addEventListener('click', () => ($('#route-form').hidden = true));

$('#route-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = e.target;
  const match = f.elements.match.value.trim();
  const targets = [...document.querySelectorAll('#target-rows .target-row')].map((r) => {
    const model = r.querySelector('.target-model').value.trim();
    return model ? `${r.querySelector('.target-provider').value}/${model}` : r.querySelector('.target-provider').value;
  });
  try {
    const r = await api('PUT', `/routes/${encodeURIComponent(match)}`, { targets });
    f.hidden = true;
    notice(r.warnings?.length ? `Saved. ${r.warnings.join('; ')}` : `Route ${match} saved.`);
    await loadRoutes();
  } catch (err) {
    $('#route-error').textContent = err.message;
  }
});

$('#route-try').addEventListener('submit', async (e) => {
  e.preventDefault();
  const out = $('#route-plan');
  try {
    const plan = await api('POST', '/routes/try', { model: e.target.elements.model.value.trim() });
    out.replaceChildren(
      ...[h('p', {}, plan.route ? `Route ${plan.route.match} (${plan.route.source === 'stored' ? 'console' : 'MODEL_ROUTES'})` : 'No route: every provider that serves the name, in PROVIDER_ORDER.'),
      h('ol', { class: 'plan' }, plan.targets.map((t) =>
        h('li', { 'data-target': t.target }, `${t.target}${t.thinking ? ' (thinking)' : ''} `, readyBadge(t.ready, t.ready ? (t.target === plan.serving ? 'would serve' : 'ready') : 'not ready'), ' ', h('span', { class: 'muted' }, t.detail)))),
      plan.skipped.length ? h('p', { class: 'muted' }, `Skipped: ${plan.skipped.map((s) => `${s.target} (${s.why})`).join(', ')}`) : null,
      h('p', { class: 'serving' }, plan.serving ? `Would be served now by ${plan.serving}.` : 'No target could serve it now.')].filter(Boolean),
    );
  } catch (err) {
    out.replaceChildren(h('p', { class: 'error' }, err.message));
  }
});

// --- client keys ---------------------------------------------------------------------

const KEY_STATE_CLASS = { active: 'ok', disabled: 'off', expired: 'warn', revoked: 'bad' };
const plural = (n, one, many = `${one}s`) => `${num(n)} ${n === 1 ? one : many}`;

/** a key's limits in words ("100 req/min · 50k tokens/day · 2 at once"), or "none" */
function limitsText(l = {}) {
  const parts = [
    l.requestsPerMinute !== undefined ? `${num(l.requestsPerMinute)} req/min` : null,
    l.tokensPerDay !== undefined ? `${num(l.tokensPerDay)} tokens/day` : null,
    l.concurrent !== undefined ? `${num(l.concurrent)} at once` : null,
  ].filter(Boolean);
  return parts.length ? parts.join(' · ') : 'none';
}

/** an <input type=date> value (local day) for an instant, and back: the end of that local day */
const dayOf = (t) => {
  const d = new Date(t);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
};
const endOfDay = (day) => {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y, m - 1, d, 23, 59, 59, 999).getTime();
};

/** the error line of the keys page: set by a failed action, cleared by the next that works */
const keysError = (message = '') => ($('#keys-error').textContent = message);

async function loadKeys() {
  const data = await api('GET', '/keys');
  state.keys = data.keys;
  const rows = data.keys.map((k) => {
    const revoked = k.state === 'revoked';
    return h('tr', { class: `clickable${state.keyDetail === k.id ? ' selected' : ''}`, 'data-id': k.id, onclick: () => openKeyDetail(k.id) },
      h('td', { class: 'name' }, k.name),
      h('td', { class: 'hint' }, h('code', {}, k.hint)),
      h('td', { class: 'state' }, h('span', { class: `badge ${KEY_STATE_CLASS[k.state] ?? 'off'}`, title: k.revokedAt ? `revoked ${when(k.revokedAt)}` : undefined }, k.state)),
      h('td', { class: 'models' }, k.models?.length ? k.models.join(', ') : h('span', { class: 'muted' }, 'all')),
      h('td', { class: 'limits' }, limitsText(k.limits)),
      h('td', { class: 'last-used', title: k.lastUsedAt ? when(k.lastUsedAt) : undefined }, k.lastUsedAt ? ago(k.lastUsedAt) : 'never'),
      h('td', { class: 'today' }, `${plural(k.today.requests, 'request')}, ${plural(k.today.tokensIn + k.today.tokensOut, 'token')}${k.today.errors ? `, ${plural(k.today.errors, 'error')}` : ''}`),
      h('td', { class: 'expires' }, k.expiresAt ? when(k.expiresAt) : 'never'),
      // the buttons act on the key; a click elsewhere on the row shows its usage
      h('td', { class: 'actions-cell', onclick: (e) => e.stopPropagation() },
        h('button', { class: 'small ghost edit', onclick: () => openKeyForm(k) }, 'Edit'),
        revoked ? null : h('button', { class: 'small ghost toggle', onclick: () => toggleKey(k) }, k.enabled ? 'Disable' : 'Enable'),
        revoked ? null : h('button', { class: 'small danger revoke', onclick: () => revokeKey(k) }, 'Revoke'),
        h('button', { class: 'small danger delete', onclick: () => deleteKey(k) }, 'Delete'),
      ),
    );
  });
  $('#key-table tbody').replaceChildren(...(rows.length ? rows : [h('tr', {}, h('td', { colspan: 9, class: 'muted' }, 'No client keys yet.'))]));
  if (state.keyDetail) {
    if (data.keys.some((k) => k.id === state.keyDetail)) await loadKeyDetail();
    else closeKeyDetail();
  }
}

/** runs one action on a key; its error stays on the page */
async function keyAction(fn, done) {
  try {
    await fn();
    keysError();
    if (done) notice(done);
  } catch (err) {
    keysError(err.message);
    notice(err.message, true);
  }
  await loadKeys().catch((e) => keysError(e.message));
}

const keyPath = (k, rest = '') => `/keys/${encodeURIComponent(k.id)}${rest}`;
const toggleKey = (k) => keyAction(() => api('PATCH', keyPath(k), { enabled: !k.enabled }), `Key ${k.name} ${k.enabled ? 'disabled' : 'enabled'}.`);

function revokeKey(k) {
  if (!confirm(`Revoke key ${k.name}? It stops working at once and can never be enabled again.`)) return;
  return keyAction(() => api('POST', keyPath(k, '/revoke')), `Key ${k.name} revoked.`);
}

function deleteKey(k) {
  if (!confirm(`Delete key ${k.name}? Its secret stops working, and it is no longer listed (its usage stays counted by name).`)) return;
  return keyAction(async () => {
    await api('DELETE', keyPath(k));
    if (state.editingKey?.id === k.id) $('#key-form').hidden = true;
    if (state.keyDetail === k.id) closeKeyDetail();
  }, `Key ${k.name} deleted.`);
}

function openKeyForm(key) {
  const f = $('#key-form');
  f.reset();
  state.editingKey = key ?? null;
  $('#key-error').textContent = '';
  $('#key-form-title').textContent = key ? `Edit key ${key.name}` : 'New key';
  f.elements.expires.min = dayOf(Date.now());
  $('#key-enabled-label').hidden = !!key; // an existing key is disabled or enabled from its row
  if (key) {
    f.elements.name.value = key.name;
    f.elements.expires.value = key.expiresAt ? dayOf(key.expiresAt) : '';
    f.elements.models.value = (key.models ?? []).join('\n');
    for (const l of ['requestsPerMinute', 'tokensPerDay', 'concurrent']) f.elements[l].value = key.limits?.[l] ?? '';
  }
  f.dataset.expires = f.elements.expires.value;
  f.hidden = false;
  f.scrollIntoView({ behavior: 'smooth' });
  f.elements.name.focus();
}
$('#add-key').addEventListener('click', () => openKeyForm());
$('#cancel-key').addEventListener('click', () => ($('#key-form').hidden = true));
$('#keys-refresh').addEventListener('click', () => loadKeys().catch((e) => keysError(e.message)));

$('#key-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = e.target;
  const editing = state.editingKey;
  const models = f.elements.models.value.split(/[,\n]/).map((m) => m.trim()).filter(Boolean);
  const limits = {};
  for (const l of ['requestsPerMinute', 'tokensPerDay', 'concurrent']) {
    const v = f.elements[l].value.trim();
    // an empty field: no limit (on a change, null removes one that was set)
    if (v !== '') limits[l] = Number(v);
    else if (editing) limits[l] = null;
  }
  const expires = f.elements.expires.value;
  try {
    if (editing) {
      const body = { models: models.length ? models : null, limits };
      if (f.elements.name.value.trim() !== editing.name) body.name = f.elements.name.value.trim();
      // the expiry is sent only when its day was changed: a key made to expire at some hour keeps it
      if (expires !== f.dataset.expires) body.expiresAt = expires ? endOfDay(expires) : null;
      await api('PATCH', keyPath(editing), body);
      notice(`Key ${body.name ?? editing.name} saved.`);
    } else {
      const body = { name: f.elements.name.value.trim(), enabled: f.elements.enabled.checked };
      if (expires) body.expiresAt = endOfDay(expires);
      if (models.length) body.models = models;
      if (Object.keys(limits).length) body.limits = limits;
      const made = await api('POST', '/keys', body);
      showSecret(made.key.name, made.secret);
    }
    f.reset();
    f.hidden = true;
    keysError();
    await loadKeys();
  } catch (err) {
    $('#key-error').textContent = err.message;
  }
});

/**
 * A new key's secret, shown once: it lives only in this box (never in the state, storage or
 * a notice) and is gone from the page when the box is closed or the page is left.
 */
function showSecret(name, secret) {
  const box = $('#key-secret');
  const code = h('code', { class: 'secret', 'aria-label': `secret of key ${name}` }, secret);
  const result = h('p', { class: 'copy-result muted', role: 'status' });
  const selectIt = () => {
    const sel = window.getSelection();
    sel.removeAllRanges();
    sel.selectAllChildren(code);
  };
  const copy = async () => {
    try {
      if (!navigator.clipboard?.writeText) throw new Error('no clipboard');
      await navigator.clipboard.writeText(code.textContent);
      result.textContent = 'Copied to the clipboard.';
    } catch {
      // no clipboard (a page not served over https, or permission refused): select it to copy by hand
      selectIt();
      let copied = false;
      try {
        copied = document.execCommand('copy');
      } catch {}
      result.textContent = copied ? 'Copied to the clipboard.' : 'The browser did not allow copying: the secret is selected, press Ctrl+C (⌘C) to copy it.';
    }
  };
  box.replaceChildren(
    h('h3', {}, 'New key ', h('span', { class: 'key-name' }, name)),
    h('p', { class: 'secret-warning' }, 'Copy this secret now. It is shown only this once: cligate keeps only its hash, and it will not be shown again. If it is lost, make a new key.'),
    h('div', { class: 'secret-row' }, code, h('button', { type: 'button', class: 'small copy', onclick: copy }, 'Copy')),
    result,
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'ghost dismiss', onclick: forgetSecret }, 'I have copied it — close')),
  );
  box.hidden = false;
  box.scrollIntoView({ behavior: 'smooth' });
}

function forgetSecret() {
  const box = $('#key-secret');
  if (!box || (box.hidden && !box.childNodes.length)) return;
  if (box.contains(window.getSelection()?.anchorNode ?? null)) window.getSelection().removeAllRanges();
  box.replaceChildren();
  box.hidden = true;
}

// a key's usage: what counts against its limits now, and its requests and tokens over time by model

function openKeyDetail(id) {
  state.keyDetail = id;
  for (const tr of document.querySelectorAll('#key-table tbody tr')) tr.classList.toggle('selected', tr.dataset.id === id);
  $('#key-detail').hidden = false;
  loadKeyDetail().then(() => $('#key-detail').scrollIntoView({ behavior: 'smooth' }), (e) => keysError(e.message));
}

function closeKeyDetail() {
  state.keyDetail = null;
  for (const c of state.keyCharts.splice(0)) c.destroy();
  $('#key-detail').hidden = true;
  for (const tr of document.querySelectorAll('#key-table tbody tr.selected')) tr.classList.remove('selected');
}

/** "3 / 100" against a limit (with a badge colour as it fills), "3 (no limit)" without */
function useCard(label, used, limit) {
  const full = limit ? used / limit : 0;
  return h('div', { class: `card use ${limit ? (full >= 1 ? 'bad' : full >= 0.8 ? 'warn' : 'ok') : ''}`, 'data-use': label },
    h('div', { class: 'value' }, used === undefined ? '?' : limit ? `${num(used)} / ${num(limit)}` : num(used)),
    h('div', { class: 'label' }, `${label}${limit ? '' : ' (no limit)'}`));
}

async function loadKeyDetail() {
  const id = state.keyDetail;
  if (!id) return;
  const [hours, bucket] = $('#key-range').value.split(':');
  const data = await api('GET', `/keys/${encodeURIComponent(id)}/usage?hours=${hours}&bucket=${bucket}`);
  if (state.keyDetail !== id) return; // another key was chosen meanwhile
  const k = data.key;
  $('#key-detail-title').replaceChildren('Usage of ', h('span', { class: 'key-name' }, k.name), ' ', h('span', { class: `badge ${KEY_STATE_CLASS[k.state] ?? 'off'}` }, k.state));
  const use = data.use;
  const l = data.limits ?? {};
  $('#key-use').replaceChildren(
    ...(use
      ? [useCard('requests this minute', use.requestsThisMinute, l.requestsPerMinute), useCard('tokens today (UTC)', use.tokensToday, l.tokensPerDay), useCard('in flight', use.inFlight, l.concurrent)]
      : [h('p', { class: 'muted' }, 'The shared state could not be read: its use against the limits is unknown now.')]),
  );
  const t = data.totals;
  $('#key-totals').replaceChildren(
    ...[
      ['requests', num(t.requests)],
      ['errors', num(t.errors)],
      ['tokens in', num(t.tokensIn)],
      ['tokens out', num(t.tokensOut)],
      ['last used', k.lastUsedAt ? ago(k.lastUsedAt) : 'never'],
    ].map(([label, value]) => h('div', { class: 'card', 'data-total': label }, h('div', { class: 'value' }, value), h('div', { class: 'label' }, label))),
  );
  for (const c of state.keyCharts.splice(0)) c.destroy();
  drawChart($('#key-chart-requests'), data.buckets, data.series, (p) => p.requests, 'requests', state.keyCharts);
  drawChart($('#key-chart-tokens'), data.buckets, data.series, (p) => p.tokensIn + p.tokensOut, 'tokens', state.keyCharts);
}
$('#key-range').addEventListener('change', () => loadKeyDetail().catch((e) => keysError(e.message)));
$('#key-detail-refresh').addEventListener('click', () => loadKeyDetail().catch((e) => keysError(e.message)));
$('#key-detail-close').addEventListener('click', closeKeyDetail);

// --- history -------------------------------------------------------------------------

/** the provider that served, and a badge for the targets that could not (provider/model:status) */
function servedBy(e) {
  if (!e.fallbacks?.length) return e.provider;
  return h('span', {}, `${e.provider} `, h('span', { class: 'badge warn fallbacks', title: `tried first: ${e.fallbacks.join(', ')}` }, `after ${e.fallbacks.map((f) => f.replace(/^([^/]+)\/.*:(\d+)$/, '$1 $2')).join(', ')}`));
}

/** the history's key filter: "master" and every key's name (the choice kept across reloads) */
async function fillHistoryKeys() {
  const sel = $('#history-key');
  const chosen = sel.value;
  const names = (await api('GET', '/keys')).keys.map((k) => k.name).sort((a, b) => a.localeCompare(b));
  if (chosen && chosen !== 'master' && !names.includes(chosen)) names.push(chosen); // a deleted key's name still filters
  sel.replaceChildren(h('option', { value: '' }, 'all keys'), h('option', { value: 'master' }, 'master (API_KEY)'), ...names.map((n) => h('option', { value: n }, n)));
  sel.value = chosen;
}

async function loadHistory() {
  await fillHistoryKeys().catch((e) => notice(e.message, true));
  const q = $('#history-q').value.trim();
  const key = $('#history-key').value;
  const data = await api('GET', `/history?limit=200${q ? `&q=${encodeURIComponent(q)}` : ''}${key ? `&key=${encodeURIComponent(key)}` : ''}`);
  $('#history-off').hidden = data.enabled;
  const rows = data.entries.map((e) =>
    h('tr', { class: 'clickable', onclick: () => showChat(e) },
      h('td', {}, when(e.t)), h('td', {}, e.model), h('td', { class: 'served' }, servedBy(e)), h('td', {}, e.account ?? ''),
      h('td', { class: 'key' }, e.key ?? ''),
      h('td', {}, h('span', { class: `badge ${e.status < 400 ? 'ok' : 'bad'}` }, e.status)), h('td', {}, e.durationMs),
      h('td', {}, e.prompt.length > 90 ? `${e.prompt.slice(0, 90)}…` : e.prompt)),
  );
  $('#history-table tbody').replaceChildren(...(rows.length ? rows : [h('tr', {}, h('td', { colspan: 8, class: 'muted' }, key ? `No chats recorded for key ${key}.` : 'No chats recorded yet.'))]));
}

function showChat(e) {
  const d = $('#history-detail');
  d.replaceChildren(
    ...[h('h3', {}, `${e.model} · ${when(e.t)}`),
    h('p', { class: 'muted' }, `${e.dialect} · ${e.provider}${e.account ? ` · ${e.account}` : ''}${e.key ? ` · key ${e.key}` : ''} · status ${e.status} · ${e.durationMs} ms · ${e.messages} message(s) · request ${e.requestId}`),
    e.fallbacks?.length ? h('p', { class: 'fallbacks' }, `Served by ${e.provider} after these could not: ${e.fallbacks.join(', ')}`) : null,
    h('h4', {}, 'Prompt (last user turn)'), h('pre', {}, e.prompt),
    h('h4', {}, 'Answer'), h('pre', {}, e.answer || '(no text)'),
    e.toolCalls ? h('p', {}, `Tool calls: ${e.toolCalls.join(', ')}`) : null,
    e.error ? h('p', { class: 'error' }, e.error) : null].filter(Boolean),
  );
  d.hidden = false;
  d.scrollIntoView({ behavior: 'smooth' });
}
$('#history-refresh').addEventListener('click', () => loadHistory().catch((e) => notice(e.message, true)));
$('#history-q').addEventListener('keydown', (e) => e.key === 'Enter' && loadHistory().catch((err) => notice(err.message, true)));
$('#history-key').addEventListener('change', () => loadHistory().catch((e) => notice(e.message, true)));

// --- configuration -------------------------------------------------------------------

async function loadConfig() {
  const pool = await api('GET', '/pool');
  $('#proxy-current').textContent = pool.proxy || '(none: direct)';
}

$('#export').addEventListener('click', async () => {
  const data = await api('GET', '/config').catch((e) => notice(e.message, true));
  if (!data) return;
  const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }));
  const a = h('a', { href: url, download: `cligate-config-${new Date().toISOString().slice(0, 10)}.json` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
});

$('#import').addEventListener('click', async () => {
  const file = $('#import-file').files[0];
  $('#import-error').textContent = '';
  if (!file) return ($('#import-error').textContent = 'Choose a file first.');
  let body;
  try {
    body = JSON.parse(await file.text());
  } catch {
    return ($('#import-error').textContent = 'That file is not JSON.');
  }
  if (!confirm('Replace the whole configuration with this file?')) return;
  try {
    const r = await api('PUT', '/config', body);
    notice(`Imported: ${r.accounts} account(s).`);
  } catch (err) {
    $('#import-error').textContent = err.message;
  }
});

$('#proxy-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = e.target;
  const body = {};
  if (f.elements.proxy.value.trim()) body.proxy = f.elements.proxy.value.trim();
  if (f.elements.url.value.trim()) body.url = f.elements.url.value.trim();
  try {
    $('#proxy-result').textContent = JSON.stringify(await api('POST', '/proxy/test', body), null, 2);
  } catch (err) {
    $('#proxy-result').textContent = err.message;
  }
});

start().catch((err) => showLogin(err.message));
