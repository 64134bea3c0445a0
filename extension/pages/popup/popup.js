// The toolbar popup: connection to the service, policy version, the current page's verdict.
import { ext, localize, send } from '../common.js';
import { isCleartext } from '../../lib/transport.js';

const $ = (id) => document.getElementById(id);

async function main() {
  const tab = await ext.tabs.activeInCurrentWindow();
  const status = await send('status', tab?.id === undefined ? {} : { tabId: tab.id });
  const t = await localize(status.lang);
  const state = status.configured ? status.connection.state : 'unconfigured';
  $('connection').dataset.state = state;
  $('connection').textContent = t(`popup_state_${state}`) || t('popup_state_error');
  $('connection').title = status.connection.error || status.serverUrl;
  $('policy').textContent = status.policyVersion || '—';
  $('cleartext').hidden = !isCleartext(status.serverUrl ?? '');
  $('failmode').textContent = t(`failmode_${status.failMode}`);
  if (status.page) {
    $('page-class').hidden = false;
    $('page-class').textContent = t(`class_${status.page.class}`);
    $('page-class').dataset.class = status.page.class;
    $('page-host').textContent = status.page.display_host || status.pageHost;
    $('page-reason').textContent = status.page.reason;
    document.documentElement.setAttribute('data-meetguard-class', status.page.class);
    document.documentElement.setAttribute('data-meetguard-action', status.page.action);
  } else {
    $('page-host').textContent = t('popup_page_none');
  }
  $('explain').addEventListener('click', (e) => {
    e.preventDefault();
    ext.tabs.create({ url: ext.runtime.getURL('pages/warning/warning.html?explain=1') });
  });
  $('options').addEventListener('click', (e) => {
    e.preventDefault();
    ext.runtime.openOptionsPage();
  });
}

main().catch((e) => {
  $('connection').textContent = e.message;
});
