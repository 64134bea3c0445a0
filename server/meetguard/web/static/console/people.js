// People: the hygiene report (/admin/api/reports/people). One row per person (user label, or
// install id), five counts each linking to the log view that lists exactly those records, a
// weekly trend, sorting and a filter (both in the URL), and a CSV export of the same report.

import { api } from './api.js';
import { byId, fill, h, s } from './dom.js';
import { formatNumber, formatTime, t } from './i18n.js';
import { go } from './state.js';
import { bindRange, logLink, showRange } from './views.js';

export const COLUMNS = ['warned_visits', 'overrides', 'lookalikes', 'blocked_downloads',
  'room_details_shared'];
const SORTS = new Set(['person', 'total', ...COLUMNS]);
let cached = null; // {key, doc}: sorting and filtering do not fetch again

function rangeParams(state) {
  const params = new URLSearchParams();
  if (state.since) params.set('since', state.since);
  if (state.until) params.set('until', state.until);
  return params;
}

/** A bar per week; the tooltip and the accessible name say the numbers. */
function trend(weeks, values) {
  const max = Math.max(1, ...values);
  const width = 6;
  const words = weeks.map((w, i) => `${formatTime(w).slice(0, 10)}: ${values[i]}`).join(', ');
  return s('svg', { class: 'trend', width: weeks.length * (width + 2), height: 20, role: 'img',
    'aria-label': words, dataset: { trend: values.join(',') } },
  s('title', {}, words),
  values.map((v, i) => s('rect', { x: i * (width + 2), y: 20 - Math.round((v / max) * 18) - 1,
    width, height: Math.round((v / max) * 18) + 1, class: v ? 'bar' : 'bar zero' })));
}

function sorted(people, sort) {
  const key = SORTS.has(sort.replace(/^-/, '')) ? sort.replace(/^-/, '') : 'total';
  const dir = sort.startsWith('-') || !sort ? -1 : 1;
  const value = (p) => (key === 'person' ? p.person : key === 'total' ? p.total : p.counts[key]);
  return [...people].sort((a, b) => {
    const [x, y] = [value(a), value(b)];
    const order = typeof x === 'string' ? x.localeCompare(y) : x - y;
    return order * dir || a.person.localeCompare(b.person);
  });
}

function header(state) {
  const sort = state.sort || '-total';
  const cell = (key) => {
    const active = sort.replace(/^-/, '') === key;
    const next = active && sort.startsWith('-') ? key : `-${key}`;
    const ariaSort = active ? (sort.startsWith('-') ? 'descending' : 'ascending') : 'none';
    return h('th', { scope: 'col', 'aria-sort': ariaSort },
      h('button', { type: 'button', class: 'sort', dataset: { sort: key },
        onclick: () => go({ ...state, sort: next }, { replace: true }) }, t(`people.${key}`)));
  };
  return h('tr', {}, cell('person'), COLUMNS.map(cell), cell('total'),
    h('th', { scope: 'col' }, t('people.trend')));
}

function row(state, doc, person) {
  const filters = Object.fromEntries(doc.categories.map((c) => [c.id, c.filters]));
  return h('tr', { dataset: { person: person.person, by: person.by } },
    h('td', { class: 'person' }, person.person,
      person.by === 'client' ? h('div', { class: 'user' }, t('people.install')) : null),
    COLUMNS.map((c) => h('td', { class: 'num', dataset: { count: c } }, person.counts[c]
      ? logLink(state, { ...filters[c], [person.by]: person.person },
        formatNumber(person.counts[c])) : '0')),
    h('td', { class: 'num total' }, formatNumber(person.total)),
    h('td', {}, trend(doc.weeks, person.trend)));
}

export async function renderPeople(state) {
  showRange('people', state);
  const params = rangeParams(state);
  const key = params.toString();
  if (cached?.key !== key) cached = { key, doc: await api(`/reports/people?${params}`) };
  const { doc } = cached;
  const query = (state.q || '').toLowerCase();
  byId('people-filter').value = state.q || '';
  const people = sorted(doc.people.filter((p) => p.person.toLowerCase().includes(query)),
    state.sort || '-total');
  const table = byId('people-table');
  fill(table.tHead, header(state));
  fill(table.tBodies[0], people.map((p) => row(state, doc, p)));
  byId('people-empty').hidden = people.length > 0;
  params.set('format', 'csv');
  byId('people-csv').setAttribute('href', `/admin/api/reports/people?${params}`);
  return doc;
}

export function bindPeople(getState) {
  bindRange('people', getState);
  byId('people-filter').addEventListener('input', (event) => {
    go({ ...getState(), q: event.target.value.slice(0, 128) }, { replace: true });
  });
}

export function clearPeople() {
  cached = null;
  const table = byId('people-table');
  fill(table.tHead);
  fill(table.tBodies[0]);
}
