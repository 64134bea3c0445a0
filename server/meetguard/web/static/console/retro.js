// Newly flagged: retro-hunt findings (links people clicked before the signatures knew them to
// be bad), each with the people it concerns, linked to their log records; and "Run now".

import { api } from './api.js';
import { byId, fill, h } from './dom.js';
import { formatNumber, formatTime, label, t } from './i18n.js';
import { bindRange, logLink, showRange } from './views.js';

function badge(group, value) {
  return h('span', { class: `badge ${group}-${value}` }, label(group, value));
}

function people(state, d) {
  const users = new Set(d.users || []);
  return (d.people || []).map((person) => h('div', { class: 'person' },
    logLink(state, users.has(person) ? { user: person } : { client: person }, person)));
}

function records(state, d) {
  const ids = d.records || [];
  const shown = ids.slice(0, 20).map((id) => h('div', {},
    logLink(state, { record: id, since: ageOf(d.first_seen) }, h('code', {}, id.slice(-8)))));
  if ((d.records_total || ids.length) > shown.length) {
    shown.push(h('div', { class: 'more' },
      t('retro.more', { n: formatNumber((d.records_total || ids.length) - shown.length) })));
  }
  return shown;
}

/** A `since` covering a record first seen at `ts` (the log view's range). */
function ageOf(ts) {
  const days = Math.ceil((Date.now() / 1000 - (ts || 0)) / 86400) + 1;
  return `${Math.min(Math.max(days, 1), 3650)}d`;
}

function findingRows(state, page) {
  if (!page.items.length) return [h('tr', {}, h('td', { class: 'empty' }, t('retro.none')))];
  const header = h('tr', {}, ['retro.found', 'col.target', 'retro.change', 'retro.gained',
    'retro.people', 'retro.records'].map((key) => h('th', { scope: 'col' }, t(key))));
  return [header, ...page.items.map((r) => {
    const d = r.detail || {};
    return h('tr', { dataset: { recordId: r.id, target: r.target || '' } },
      h('td', { class: 'time' }, logLink(state, { record: r.id, kind: 'retro' }, formatTime(r.ts))),
      h('td', { class: 'target' }, h('code', {}, r.target || '—'),
        h('div', { class: 'host' }, r.host || '')),
      h('td', {}, badge('action', d.old_action), ' → ', badge('action', d.new_action)),
      h('td', { class: 'codes' }, (d.gained && d.gained.length ? d.gained : d.reasons || [])
        .map((code) => h('span', { class: 'code', title: label('code', code) }, code))),
      h('td', { class: 'people' }, people(state, d)),
      h('td', { class: 'ids' }, records(state, d)));
  })];
}

function runText(run) {
  const d = run.detail || {};
  return t('retro.run', {
    time: formatTime(run.ts), targets: formatNumber(d.targets || 0),
    records: formatNumber(d.records || 0), findings: formatNumber(d.findings || 0),
    fresh: formatNumber(d.new_findings || 0), seconds: (d.seconds || 0).toFixed(1),
  });
}

export async function renderRetro(state) {
  showRange('retro', state);
  const params = new URLSearchParams({ kind: 'retro', limit: '200' });
  if (state.since) params.set('since', state.since);
  if (state.until) params.set('until', state.until);
  const findings = new URLSearchParams(params);
  findings.set('event', 'newly-flagged');
  const runs = new URLSearchParams(params);
  runs.set('event', 'retrohunt-run');
  runs.set('limit', '1');
  const [page, last] = await Promise.all([api(`/logs?${findings}`), api(`/logs?${runs}`)]);
  fill(byId('retro-findings').tBodies[0], findingRows(state, page));
  fill(byId('retro-last'), last.items.length ? runText(last.items[0]) : t('retro.no_run'));
}

async function runNow(readState) {
  const out = byId('retro-result');
  const button = byId('retro-run');
  button.disabled = true;
  out.className = '';
  fill(out, t('retro.running'));
  try {
    const answer = await api('/retrohunt', { method: 'POST', body: { since: '7d' } });
    out.className = 'ok';
    fill(out, t('retro.done', { findings: formatNumber(answer.summary.findings),
      fresh: formatNumber(answer.summary.new_findings) }));
    await renderRetro(readState());
  } catch (error) {
    out.className = 'error';
    fill(out, error.message);
  } finally {
    button.disabled = false;
  }
}

export function bindRetro(readState) {
  byId('retro-run').addEventListener('click', () => runNow(readState));
  bindRange('retro', readState);
}

export function clearRetro() {
  fill(byId('retro-findings').tBodies[0]);
  fill(byId('retro-last'));
  fill(byId('retro-result'));
}
