// The log view: filters (in the URL), one page of records, cursor paging, a record's detail,
// and exports of everything the filters match.

import { api, ApiError, exportUrl } from './api.js';
import { byId, fill, h } from './dom.js';
import { formatNumber, formatTime, label, t } from './i18n.js';
import {
  DEFAULT_LIMIT, FILTERS, filtersOf, fromLocalInput, go, toLocalInput,
} from './state.js';

const SELECTS = ['class', 'action', 'kind', 'context', 'event', 'platform', 'code'];
let vocabulary = null;

/** Fill the filter drop-downs from the service's vocabulary (values never typed by hand). */
export function setVocabulary(vocab) {
  vocabulary = vocab;
  relabel();
}

/** Re-label the drop-downs in the current language, keeping their values. */
export function relabel() {
  if (!vocabulary) return;
  const form = byId('filters');
  for (const name of SELECTS) {
    const select = form.elements[name];
    const value = select.value;
    const options = (name === 'code' ? vocabulary.codes : vocabulary[name])
      .map((item) => (typeof item === 'string'
        ? h('option', { value: item }, label(name, item))
        : h('option', { value: item.id }, item.name)));
    fill(select, h('option', { value: '' }, t('f.any')), options);
    select.value = value;
  }
}

function showForm(state) {
  const form = byId('filters');
  for (const name of [...SELECTS, 'host', 'client', 'user']) form.elements[name].value = state[name] || '';
  form.elements.limit.value = state.limit || DEFAULT_LIMIT;
  form.elements.since_local.value = toLocalInput(state.since);
  form.elements.until_local.value = toLocalInput(state.until);
  for (const button of document.querySelectorAll('#filters .quick button')) {
    button.setAttribute('aria-pressed', String(button.dataset.since === state.since
                                              && !state.until));
  }
}

function stateFromForm(current) {
  const form = byId('filters');
  const next = { view: 'logs', lang: current.lang };
  for (const name of [...SELECTS, 'host', 'client', 'user']) {
    const value = form.elements[name].value.trim();
    if (value) next[name] = value;
  }
  const limit = form.elements.limit.value;
  if (limit !== DEFAULT_LIMIT) next.limit = limit;
  const since = fromLocalInput(form.elements.since_local.value);
  const until = fromLocalInput(form.elements.until_local.value);
  next.since = since || (toLocalInput(current.since) ? '' : current.since);
  if (until) next.until = until;
  return next;
}

export function bindLogs(getState) {
  const form = byId('filters');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    go(stateFromForm(getState()));
  });
  for (const button of form.querySelectorAll('.quick button')) {
    button.addEventListener('click', () => {
      const next = stateFromForm(getState());
      delete next.until;
      go({ ...next, since: button.dataset.since });
    });
  }
  byId('clear-filters').addEventListener('click', () => {
    go({ view: 'logs', lang: getState().lang });
  });
  byId('page-first').addEventListener('click', () => {
    const { cursor, record, ...rest } = getState();
    go(rest, { history: { stack: [] } });
  });
  byId('page-prev').addEventListener('click', () => {
    const stack = [...(window.history.state?.stack || [])];
    const previous = stack.pop();
    const { cursor, record, ...rest } = getState();
    go(previous ? { ...rest, cursor: previous } : rest, { history: { stack } });
  });
  byId('record-close').addEventListener('click', () => {
    const { record, ...rest } = getState();
    go(rest, { history: window.history.state });
  });
}

/** Render the log view for `state` (fetches one page, and the record if one is open). */
export async function renderLogs(state) {
  showForm(state);
  const filters = filtersOf(state);
  byId('export-csv').setAttribute('href', exportUrl(filters, 'csv'));
  byId('export-ndjson').setAttribute('href', exportUrl(filters, 'ndjson'));
  const params = new URLSearchParams(filters);
  params.set('limit', state.limit || DEFAULT_LIMIT);
  if (state.cursor) params.set('cursor', state.cursor);
  const [page] = await Promise.all([api(`/logs?${params}`), renderRecord(state)]);
  showPage(state, page);
}

function showPage(state, page) {
  const body = byId('log-table').tBodies[0];
  fill(body, page.items.map((record) => row(state, record)));
  byId('log-empty').hidden = page.items.length > 0;
  const stack = window.history.state?.stack || [];
  byId('page-label').textContent = t('page.n', {
    n: formatNumber(stack.length + 1), count: formatNumber(page.items.length),
  });
  byId('page-first').disabled = !state.cursor;
  byId('page-prev').disabled = !state.cursor;
  const next = byId('page-next');
  next.disabled = !page.next_cursor;
  next.onclick = page.next_cursor ? () => {
    const { record, ...rest } = state;
    go({ ...rest, cursor: page.next_cursor },
      { history: { stack: [...stack, state.cursor || ''] } });
  } : null;
}

function badge(group, value) {
  return h('span', { class: `badge ${group}-${value || 'none'}` }, label(group, value));
}

function row(state, record) {
  const open = () => go({ ...state, record: record.id }, { history: window.history.state });
  return h('tr', {
    dataset: { recordId: record.id, class: record.class || '' },
    class: state.record === record.id ? 'selected' : null,
  },
  h('td', { class: 'time' }, formatTime(record.ts)),
  h('td', {}, record.kind === 'event' ? label('event', record.event) : label('kind', record.kind)),
  h('td', {}, record.class ? badge('class', record.class) : '—'),
  h('td', {}, record.action ? badge('action', record.action) : '—'),
  h('td', {}, record.platform || '—'),
  h('td', { class: 'host' }, record.host || '—'),
  h('td', { class: 'target' }, h('code', {}, record.target || '—')),
  h('td', { class: 'client' }, record.client, record.user ? h('div', { class: 'user' }, record.user) : null),
  h('td', { class: 'codes' }, record.codes.map((code) => h('span', { class: 'code', title: label('code', code) }, code))),
  h('td', {}, h('button', { type: 'button', class: 'details', onclick: open }, t('logs.details'))));
}

async function renderRecord(state) {
  const aside = byId('record');
  if (!state.record) {
    aside.hidden = true;
    return;
  }
  let record;
  try {
    record = await api(`/records/${encodeURIComponent(state.record)}`);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error;
    fill(byId('record-fields'), h('dd', {}, t('rec.notfound')));
    fill(byId('record-reasons'));
    fill(byId('record-detail'));
    aside.hidden = false;
    return;
  }
  showRecord(record);
  aside.hidden = false;
  aside.scrollTop = 0;
}

const FIELDS = ['id', 'time', 'kind', 'event', 'context', 'class', 'action', 'platform', 'host',
  'target', 'client', 'user', 'rules', 'policy_version', 'sha256'];

function fieldValue(record, name) {
  switch (name) {
    case 'time': return `${formatTime(record.ts)} (${new Date(record.ts * 1000).toISOString()})`;
    case 'kind': return label('kind', record.kind);
    case 'event': return label('event', record.event);
    case 'context': return label('context', record.context);
    case 'class': return record.class ? badge('class', record.class) : '—';
    case 'action': return record.action ? badge('action', record.action) : '—';
    case 'target': return h('code', { class: 'target-full' }, record.target || '—');
    case 'rules': return record.rules.length ? record.rules.join(', ') : '—';
    default: return record[name] ?? '—';
  }
}

function showRecord(record) {
  const fields = byId('record-fields');
  fields.dataset.recordId = record.id;
  fill(fields, FIELDS.flatMap((name) => [
    h('dt', {}, t(`field.${name}`)), h('dd', { dataset: { field: name } }, fieldValue(record, name)),
  ]));
  const severities = record.detail?.severities || [];
  fill(byId('record-reasons'), record.codes.length ? record.codes.map((code, i) => h('li', {},
    h('span', { class: 'code' }, code), ' ',
    severities[i] ? h('span', { class: `severity severity-${severities[i]}` }, label('severity', severities[i])) : null,
    ' ', label('code', code))) : h('li', {}, t('rec.none')));
  fill(byId('record-detail'), JSON.stringify(record.detail || {}, null, 2));
}

export function clearLogs() {
  fill(byId('log-table').tBodies[0]);
  fill(byId('record-fields'));
  fill(byId('record-reasons'));
  byId('record-detail').textContent = '';
  byId('record').hidden = true;
}

export { FILTERS };
