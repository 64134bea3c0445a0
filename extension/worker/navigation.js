/**
 * Navigations: clicks reported by content scripts (checked before the page leaves) and every
 * other top-level navigation, checked from the browser's own navigation data.
 */

import { coveredByRules } from '../lib/policy.js';
import { linkKind, parseUrl } from '../lib/urls.js';
import { appSchemes } from '../lib/policy.js';

/** The warning page for `url` (the destination travels after `#`, as the redirect rules put it). */
export function warningUrl(ext, url, via) {
  return `${ext.runtime.getURL('pages/warning/warning.html')}?via=${via}#${url}`;
}

export function createNavigation(ext, state, core) {
  const tabVerdicts = new Map();

  function checkable(url) {
    const parsed = parseUrl(url);
    return parsed !== null && linkKind(parsed, appSchemes(state.get().policy)) !== null;
  }

  async function showWarning(tabId, url, via, { newTab = false, openerTab } = {}) {
    const target = warningUrl(ext, url, via);
    if (newTab) await ext.tabs.create({ url: target, openerTabId: openerTab?.id, index: openerTab ? openerTab.index + 1 : undefined });
    else await ext.tabs.update(tabId, { url: target });
  }

  /** webNavigation.onBeforeNavigate: top-level navigations, whatever started them. */
  async function onBeforeNavigate(details) {
    if (details.frameId !== 0 || details.tabId < 0) return;
    await state.ensure();
    if (!checkable(details.url)) return;
    const [v] = await core.decide([details.url], 'navigation');
    tabVerdicts.set(details.tabId, { url: details.url, verdict: v });
    if (v.action === 'allow') return;
    // A redirect rule already sends this request to the warning page before it leaves.
    if (v.source === 'local' && coveredByRules(state.get().policy, v.host) && linkKind(parseUrl(details.url)) === 'web') return;
    await showWarning(details.tabId, details.url, 'navigation');
  }

  /**
   * A click the content script held back. The URL is the content script's claim: it decides
   * what the warning page shows, never what is allowed — navigations are checked again above.
   */
  async function onClick({ url, newTab, frameTarget }, sender) {
    const [v] = await core.decide([url], 'click');
    if (v.action === 'allow') {
      if (newTab) await ext.tabs.create({ url, openerTabId: sender.tab.id, index: sender.tab.index + 1 });
      else if (frameTarget) await ext.tabs.update(sender.tab.id, { url });
      return { action: 'allow', handled: newTab || frameTarget };
    }
    await showWarning(sender.tab.id, url, 'click', { newTab, openerTab: sender.tab });
    return { action: v.action, handled: true };
  }

  return { onBeforeNavigate, onClick, tabVerdicts, showWarning };
}
