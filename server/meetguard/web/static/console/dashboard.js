// The dashboard: counts that matter to IT, two charts, and the top lists, from /admin/api/stats
// for the time range in the URL. Each card and list entry links to the matching log view.

import { api } from './api.js';
import { drawChart } from './chart.js';
import { byId, fill, h } from './dom.js';
import { formatNumber, formatTime, label, t } from './i18n.js';
import { bindRange, logLink, showRange } from './views.js';

function card(key, value, link) {
  return h('div', { class: 'card', dataset: { card: key, value: String(value) } },
    h('div', { class: 'card-value' }, formatNumber(value)),
    h('div', { class: 'card-label' }, link || t(`dash.${key}`)));
}

function cards(state, stats) {
  const total = Object.values(stats.totals.class).reduce((a, b) => a + b, 0);
  return [
    card('total', total),
    card('overrides', stats.overrides,
      logLink(state, { kind: 'event', event: 'override' }, t('dash.overrides'))),
    card('blocked_downloads', stats.blocked_downloads,
      logLink(state, { kind: 'event', event: 'download-blocked' }, t('dash.blocked_downloads'))),
    card('lookalikes', stats.impersonation,
      logLink(state, { code: 'impersonation' }, t('dash.lookalikes'))),
    card('hover', stats.hover_allow),
  ];
}

function topRows(state, items, filterOf, nameOf) {
  if (!items.length) return [h('tr', {}, h('td', { class: 'empty' }, t('dash.none')))];
  return items.map((item) => h('tr', {},
    h('td', {}, logLink(state, filterOf(item), nameOf(item))),
    h('td', { class: 'num' }, formatNumber(item.count))));
}

function overrideRows(state, page) {
  if (!page.items.length) return [h('tr', {}, h('td', { class: 'empty' }, t('dash.none')))];
  const header = h('tr', {}, ['col.time', 'col.client', 'col.platform', 'col.host', 'col.target']
    .map((key) => h('th', { scope: 'col' }, t(key))));
  return [header, ...page.items.map((r) => h('tr', { dataset: { recordId: r.id, class: r.class || '' } },
    h('td', { class: 'time' }, logLink(state, { kind: 'event', event: 'override', record: r.id },
      formatTime(r.ts))),
    h('td', { class: 'client' }, r.client, r.user ? h('div', { class: 'user' }, r.user) : null),
    h('td', {}, r.platform || '—'),
    h('td', { class: 'host' }, r.host || '—'),
    h('td', { class: 'target' }, h('code', {}, r.target || '—'))))];
}

export async function renderDashboard(state) {
  showRange('dashboard', state);
  const params = new URLSearchParams();
  if (state.since) params.set('since', state.since);
  if (state.until) params.set('until', state.until);
  const overrides = new URLSearchParams(params);
  overrides.set('kind', 'event');
  overrides.set('event', 'override');
  overrides.set('limit', '10');
  const [stats, recent] = await Promise.all([api(`/stats?${params}`),
    api(`/logs?${overrides}`)]);
  fill(byId('recent-overrides').tBodies[0], overrideRows(state, recent));
  fill(byId('cards'), cards(state, stats));
  drawChart(byId('chart-class'), stats, 'class', t('dash.by_class'));
  drawChart(byId('chart-action'), stats, 'action', t('dash.by_action'));
  fill(byId('top-platforms').tBodies[0], topRows(state, stats.top_warned_platforms,
    (p) => ({ platform: p.platform }), (p) => p.name));
  fill(byId('top-unknown').tBodies[0], topRows(state, stats.top_unknown_hosts,
    (x) => ({ host: x.host, class: 'unknown' }), (x) => x.host));
  return stats;
}

export function bindDashboard(getState) {
  bindRange('dashboard', getState);
}

export function clearDashboard() {
  for (const id of ['cards', 'chart-class', 'chart-action']) fill(byId(id));
  fill(byId('top-platforms').tBodies[0]);
  fill(byId('top-unknown').tBodies[0]);
  fill(byId('recent-overrides').tBodies[0]);
}

export { label };
