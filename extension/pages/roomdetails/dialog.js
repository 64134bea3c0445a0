// The room-details dialog: an extension page shown in an iframe over the compose box, so the
// web page can neither read what was found nor click a button. It asks the worker what the
// content script found (by the token in its address) and tells the worker what the person chose.
import { el, localize, send } from '../common.js';

const $ = (id) => document.getElementById(id);
const token = location.hash.slice(1);

function finding(f, t) {
  const label = f.kind === 'link' ? t('rd_link', f.platform || f.host || '?') : t('rd_text');
  const pieces = (f.pieces ?? []).map((p) => (p.secret ? el('mark', { text: String(p.text) }) : String(p.text)));
  return el('li', {}, el('span', { text: label }), el('span', { className: 'found' }, ...pieces));
}

async function choose(choice) {
  for (const b of document.querySelectorAll('button')) b.disabled = true;
  await send('room-details-choose', { token, choice });
}

async function main() {
  const { findings, domains, context, lang } = await send('room-details-get', { token });
  const t = await localize(lang);
  const paste = context === 'paste';
  $('title').textContent = t(paste ? 'rd_title_paste' : 'rd_title');
  $('findings').replaceChildren(...findings.map((f) => finding(f, t)));
  $('recipients').textContent = paste ? t('rd_public') : domains.length ? t('rd_recipients', domains.join(', ')) : t('rd_recipients_unknown');
  $('remove').textContent = t(paste ? 'rd_remove_paste' : 'rd_remove');
  $('send').textContent = t(paste ? 'rd_send_paste' : 'rd_send');
  $('remove').addEventListener('click', () => choose('remove'));
  $('send').addEventListener('click', () => choose('send'));
  $('cancel').addEventListener('click', () => choose('cancel'));
  addEventListener('keydown', (e) => { if (e.key === 'Escape') choose('cancel'); });
  $('main').hidden = false;
  document.documentElement.dataset.ready = '1';
  $('cancel').focus();
}

main().catch((e) => {
  document.body.textContent = String(e?.message ?? e);
});
