// Signatures: what is loaded, reload, and a dry run of a pasted link with the live policy.

import { api, ApiError } from './api.js';
import { byId, fill, h } from './dom.js';
import { formatNumber, formatTime, label, language, t } from './i18n.js';

const COUNTS = ['platforms', 'platform_domains', 'wrappers', 'shorteners', 'known_bad_domains',
  'known_bad_urls', 'hashes', 'url_rules', 'file_rules'];

function showSummary(doc) {
  const summary = byId('sig-summary');
  summary.dataset.version = doc.version;
  fill(summary,
    h('dt', {}, t('sig.version')), h('dd', { class: 'version' }, h('code', {}, doc.version)),
    h('dt', {}, t('sig.loaded')), h('dd', { class: 'loaded' }, formatTime(doc.loaded_at)),
    h('dt', {}, t('sig.directory')), h('dd', {}, h('code', {}, doc.directory)));
  fill(byId('sig-counts').tBodies[0], COUNTS.map((key) => h('tr', { dataset: { count: key } },
    h('th', { scope: 'row' }, t(`count.${key}`)), h('td', { class: 'num' }, formatNumber(doc[key])))));
  fill(byId('sig-lists').tBodies[0], doc.lists.length
    ? doc.lists.map((item) => h('tr', {}, h('td', {}, h('code', {}, item.file)),
      h('td', { class: 'num' }, formatNumber(item.entries))))
    : h('tr', {}, h('td', { class: 'empty' }, t('sig.no_lists'))));
  fill(byId('sig-platforms').tBodies[0],
    h('tr', {}, ['sig.name', 'sig.id', 'f.class', 'sig.advisory', 'sig.domains']
      .map((key) => h('th', { scope: 'col' }, t(key)))),
    doc.platform_list.map((p) => h('tr', { dataset: { platform: p.id, class: p.class } },
      h('td', {}, p.name), h('td', {}, h('code', {}, p.id)),
      h('td', {}, h('span', { class: `badge class-${p.class}` }, label('class', p.class))),
      h('td', {}, p.advisory ? t('yes') : t('no')),
      h('td', { class: 'domains' }, p.domains.map((d) => h('code', {}, d))))));
}

export async function renderSignatures() {
  showSummary(await api('/signatures'));
}

function problemList(problem) {
  return h('ul', { class: 'problems' }, (problem.problems || []).map((p) => h('li', {},
    h('code', {}, `${p.file}${p.line ? `:${p.line}` : ''}`), ' ', p.message)));
}

async function reload() {
  const out = byId('reload-result');
  const button = byId('reload');
  button.disabled = true;
  out.className = '';
  fill(out, t('sig.reloading'));
  try {
    const doc = await api('/reload', { method: 'POST' });
    showSummary(doc);
    out.className = 'ok';
    fill(out, doc.previous_version === doc.version
      ? t('sig.unchanged', { version: doc.version })
      : t('sig.reloaded', { from: doc.previous_version, to: doc.version }));
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 422) throw error;
    out.className = 'error';
    fill(out, h('p', {}, t('sig.reload_failed')), problemList(error.problem));
  } finally {
    button.disabled = false;
  }
}

function verdictView(verdict) {
  const rows = [
    ['verdict.input', h('code', {}, verdict.url)],
    ['f.class', h('span', { class: `badge class-${verdict.class}` }, label('class', verdict.class))],
    ['f.action', h('span', { class: `badge action-${verdict.action}` }, label('action', verdict.action))],
    ['f.platform', verdict.platform || '—'],
    ['verdict.target', h('code', {}, verdict.target || '—')],
    ['col.host', h('code', {}, verdict.host || '—')],
    ['verdict.display_host', verdict.display_host || '—'],
    ['verdict.domain', verdict.domain || '—'],
    ['verdict.click_through', verdict.click_through ? t('yes') : t('no')],
    ['verdict.unwrapped', verdict.unwrapped.length
      ? verdict.unwrapped.map((hop) => `${hop.wrapper} (${hop.host})`).join(' → ') : '—'],
    ['field.policy_version', h('code', {}, verdict.policy_version)],
  ];
  return [
    h('dl', { class: 'fields-list', dataset: { class: verdict.class, action: verdict.action } },
      rows.flatMap(([key, value]) => [h('dt', {}, t(key)), h('dd', {}, value)])),
    h('h3', {}, t('rec.reasons')),
    h('ul', { class: 'reasons' }, verdict.reasons.map((r) => h('li', { dataset: { code: r.code } },
      h('span', { class: 'code' }, r.code), ' ',
      h('span', { class: `severity severity-${r.severity}` }, label('severity', r.severity)), ' ',
      r.message, r.rule ? h('span', { class: 'rule' }, ` [${r.rule}]`) : null))),
  ];
}

async function dryRun(event) {
  event.preventDefault();
  const url = byId('dryrun-url').value;
  const out = byId('dryrun-result');
  const answer = await api('/dry-run', { method: 'POST', body: { url, lang: language() } });
  fill(out, verdictView(answer.verdict));
  out.hidden = false;
}

export function bindSignatures(onError) {
  byId('reload').addEventListener('click', () => reload().catch(onError));
  byId('dryrun-form').addEventListener('submit', (event) => dryRun(event).catch(onError));
}

export function clearSignatures() {
  for (const id of ['sig-summary', 'reload-result', 'dryrun-result']) fill(byId(id));
  byId('dryrun-result').hidden = true;
  byId('dryrun-url').value = '';
}
