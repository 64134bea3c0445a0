// The warning page: what a link really is and what to do instead, in the user's language.
// The destination comes from this page's address (where the redirect rule or the worker put
// it); the verdict shown is always the worker's, never taken from the address.
import { el, ext, localize, send } from '../common.js';
import { pickLanguage } from '../../lib/i18n.js';
import { redactUrl } from '../../lib/policy.js';
import { parseUrl } from '../../lib/urls.js';

const root = document.documentElement;
const $ = (id) => document.getElementById(id);

function mark(cls, action, target) {
  root.setAttribute('data-meetguard-class', cls);
  root.setAttribute('data-meetguard-action', action);
  root.setAttribute('data-meetguard-target', target);
}

function list(node, items) {
  node.replaceChildren(...items.filter(Boolean).map((text) => el('li', { text })));
}

function goBack() {
  if (history.length > 1) history.back();
  else send('close-tab').catch(() => window.close());
}

async function showLink(raw) {
  const url = parseUrl(raw);
  if (!url) {
    const t = await localize(pickLanguage('', ext.runtime.uiLanguage()));
    mark('unknown', 'block', raw);
    $('title').textContent = t('warning_error', raw.slice(0, 200));
    return;
  }
  const { verdict, canContinue, lang } = await send('page-verdict', { url: url.href });
  const t = await localize(lang);
  mark(verdict.class, verdict.action, url.href);
  $('title').textContent = t(`warning_title_${verdict.action}`);
  $('destination').textContent = redactUrl(url);
  const host = verdict.display_host || verdict.host;
  $('real-host').textContent = host && verdict.host && host !== verdict.host ? `${host} (${verdict.host})` : host;
  const wrappers = verdict.unwrapped.map((w) => w.wrapper || w.host).filter(Boolean);
  $('unwrapped').textContent = wrappers.length ? t('warning_unwrapped', wrappers.join(' → ')) : '';
  $('class').textContent = t(`class_${verdict.class}`);
  $('class').dataset.class = verdict.class;
  list($('reasons'), verdict.reasons.map((r) => r.message));
  $('details').hidden = false;
  const note = $('note');
  if (canContinue || verdict.action === 'allow') {
    $('continue').hidden = false;
    if (!canContinue) $('continue').textContent = t('button_open');
    note.textContent = canContinue ? t('warning_continue_note') : '';
    note.hidden = !canContinue;
    $('continue').addEventListener('click', async () => {
      $('continue').disabled = true;
      await send('continue', { url: url.href }).catch((e) => {
        note.textContent = t('warning_error', e.message);
        note.hidden = false;
        $('continue').disabled = false;
      });
    });
  } else {
    note.textContent = t('warning_no_continue');
    note.hidden = false;
  }
}

async function showFile(token) {
  const { report, lang } = await send('file-verdict', { token });
  const t = await localize(lang);
  if (!report) {
    mark('unknown', 'block', '');
    $('title').textContent = t('file_missing');
    return;
  }
  const v = report.verdict;
  mark(v?.class ?? 'unknown', v?.action ?? 'block', report.url);
  $('title').textContent = t(report.kind === 'removed' ? 'file_title_removed' : 'file_title_unverifiable');
  $('file-name').textContent = report.filename;
  $('file-source').textContent = report.url;
  $('file-sha').textContent = report.sha256;
  const reasons = (v?.reasons ?? []).map((r) => r.message).filter(Boolean);
  list($('file-reasons'), reasons.length ? reasons : [t(report.kind === 'removed' ? 'reason_dangerous_file' : 'reason_unverifiable_file')]);
  $('file').hidden = false;
}

async function showExplain() {
  const { lang } = await send('get-settings');
  const t = await localize(lang);
  $('title').textContent = t('explain_title');
  $('explain').hidden = false;
}

async function main() {
  $('back').addEventListener('click', goBack);
  if (window.top !== window) {
    // Framed by another page: show nothing a click could be tricked into.
    const t = await localize(pickLanguage('', ext.runtime.uiLanguage()));
    document.body.replaceChildren(el('p', { text: t('warning_framed') }));
    return;
  }
  const params = new URLSearchParams(location.search);
  try {
    if (params.has('file')) await showFile(params.get('file'));
    else if (params.has('explain')) await showExplain();
    else await showLink(location.hash.slice(1));
  } catch (e) {
    const t = await localize(pickLanguage('', ext.runtime.uiLanguage()));
    $('title').textContent = t('warning_error', e.message);
  }
}

main();
