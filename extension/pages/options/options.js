// Options: the service URL and client key (and a few personal settings). Whatever IT has set
// by enterprise policy is shown locked; every value is validated by the worker before it is kept.
import { el, localize, send } from '../common.js';
import { isCleartext } from '../../lib/transport.js';

const FIELDS = ['serverUrl', 'apiKey', 'language', 'webmailHosts', 'userLabel'];
const $ = (id) => document.getElementById(id);

function fill({ settings, effective, managed }) {
  for (const key of FIELDS) {
    const value = managed.includes(key) ? effective[key] : (settings[key] ?? effective[key]);
    $(key).value = Array.isArray(value) ? value.join('\n') : (value ?? '');
    $(key).disabled = managed.includes(key);
    document.querySelector(`.managed[data-for="${key}"]`).hidden = !managed.includes(key);
  }
  showCleartext();
}

/** Says plainly when the service URL would send the client key in clear (http:// off loopback). */
function showCleartext() {
  $('cleartext').hidden = !isCleartext($('serverUrl').value.trim());
}

async function main() {
  let data = await send('get-settings');
  let t = await localize(data.lang);
  fill(data);
  $('managed-errors').replaceChildren(...Object.keys(data.errors).map((k) => el('li', { text: t('options_managed_invalid', k) })));
  $('fields').disabled = false;
  $('serverUrl').addEventListener('input', showCleartext);
  $('form').addEventListener('submit', async (event) => {
    event.preventDefault();
    $('status').textContent = '';
    const settings = {};
    for (const key of FIELDS) {
      if (data.managed.includes(key)) continue;
      settings[key] = key === 'webmailHosts' ? $(key).value.split(/[\s,]+/).filter(Boolean) : $(key).value.trim();
    }
    const result = await send('save-settings', { settings });
    for (const key of FIELDS) document.querySelector(`[data-error="${key}"]`).textContent = result.errors[key] ? t(`options_invalid_${key}`) : '';
    if (!result.saved) return;
    data = await send('get-settings');
    t = await localize(data.lang);
    fill(data);
    $('status').textContent = t('options_saved');
  });
}

main();
