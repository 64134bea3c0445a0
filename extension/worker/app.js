/**
 * The service worker's handlers, wired to one message router with two trust levels.
 * background.js registers them with the browser synchronously, at the top level.
 */

import { createRouter } from '../lib/messages.js';
import { webmailPatterns } from '../lib/config.js';
import { canContinue, summarize } from '../lib/verdicts.js';
import { isWebmail, linkKind, parseUrl } from '../lib/urls.js';
import { appSchemes } from '../lib/policy.js';
import { createState } from './state.js';
import { createCore } from './core.js';
import { createNavigation } from './navigation.js';
import { createDownloads } from './downloads.js';
import { createRoomDetails } from './roomdetails.js';
import { guardSite } from '../lib/roomdetails.js';

/** Strings the content script shows in hover badges (it cannot choose its own language). */
const BADGE_STRINGS = ['class_approved', 'class_warned', 'class_unknown', 'action_allow', 'action_warn', 'action_block', 'badge_checking', 'badge_goes_to', 'badge_unavailable'];

export function createWorker(ext) {
  const state = createState(ext);
  const core = createCore(ext, state);
  const navigation = createNavigation(ext, state, core);
  const downloads = createDownloads(ext, state, core);
  const roomDetails = createRoomDetails(ext, state, core);

  function webmailTab(sender) {
    const page = parseUrl(sender.tab?.url ?? '');
    const s = state.get();
    return page !== null && isWebmail(webmailPatterns(s.config, s.policy), page);
  }

  function topFrameTab(sender) {
    if (!sender.tab || sender.frameId !== 0) throw new Error('only the page in its own tab may do this');
    return sender.tab;
  }

  const content = {
    async init(_, sender) {
      const s = await state.ensure();
      if (!s.policy) await core.refreshPolicy();
      const strings = Object.fromEntries(BADGE_STRINGS.map((k) => [k, s.t(k, '$1')]));
      const { config, policy } = state.get();
      const guard = guardSite(config, policy, webmailPatterns(config, policy), parseUrl(sender.tab?.url ?? ''));
      return { webmail: webmailTab(sender), policy, strings, lang: s.lang, guard };
    },
    async 'check-links'({ urls }, sender) {
      await state.ensure();
      if (!webmailTab(sender)) throw new Error('hover checks run on webmail hosts only');
      return (await core.decide(urls, 'hover')).map(summarize);
    },
    click: (value, sender) => navigation.onClick(value, sender),
    ...roomDetails.content,
  };

  async function verdictFor(url) {
    const [v] = await core.decide([url], 'navigation', { preferService: true });
    return v;
  }

  const page = {
    async 'page-verdict'({ url }, sender) {
      topFrameTab(sender);
      const verdict = await verdictFor(url);
      return { verdict, canContinue: canContinue(verdict), overridden: verdict.overridden === true, lang: state.get().lang };
    },
    async continue({ url }, sender) {
      const tab = topFrameTab(sender);
      const verdict = await verdictFor(url);
      if (verdict.action === 'allow') return ext.tabs.update(tab.id, { url }).then(() => true);
      if (!canContinue(verdict)) throw new Error('policy does not allow continuing to this destination');
      await core.rememberOverride(url, verdict);
      await ext.tabs.update(tab.id, { url });
      await core.report({ type: 'override', url: verdict.target, verdict_id: verdict.id ?? undefined, context: 'click', detail: { host: verdict.host, class: verdict.class, action: verdict.action, reasons: verdict.reasons.map((r) => r.code).join(',') } }).catch(() => {});
      return true;
    },
    'file-verdict': async ({ token }) => ({ report: await downloads.fileReport(token), lang: (await state.ensure()).lang }),
    async status({ tabId }) {
      const s = await state.ensure();
      await core.refreshPolicy({ force: true });
      const tab = tabId === undefined ? await ext.tabs.activeInCurrentWindow() : await ext.tabs.get(tabId);
      const tabUrl = parseUrl(tab?.url ?? '');
      let pageVerdict = null;
      if (tabUrl && linkKind(tabUrl, appSchemes(state.get().policy)) === 'web') {
        pageVerdict = summarize((await core.decide([tabUrl.href], 'api'))[0]);
      }
      return {
        connection: core.decider.status(), configured: Boolean(s.config.serverUrl && s.config.apiKey),
        serverUrl: s.config.serverUrl, policyVersion: state.get().policy?.version ?? '', failMode: state.failMode(),
        page: pageVerdict, pageHost: tabUrl?.hostname ?? '', lang: s.lang,
      };
    },
    async 'get-settings'() {
      const s = await state.ensure();
      const stored = (await ext.storage.local.get('settings')).settings ?? {};
      return { settings: stored, effective: s.config, managed: s.managed, errors: s.errors, lang: s.lang };
    },
    async 'save-settings'({ settings }) {
      const { errors } = await state.saveSettings(settings);
      if (Object.keys(errors).length) return { saved: false, errors };
      await state.ensure();
      await core.refreshPolicy({ force: true });
      return { saved: true, errors, connection: core.decider.status(), lang: state.get().lang };
    },
    async 'close-tab'(_, sender) {
      await ext.tabs.remove(topFrameTab(sender).id);
      return true;
    },
    ...roomDetails.page,
  };

  const route = createRouter({ content, page }, () => ({ id: ext.runtime.id(), origin: ext.runtime.origin() }));

  return {
    route,
    onBeforeNavigate: (details) => navigation.onBeforeNavigate(details).catch(() => {}),
    onDownloadCreated: (item) => downloads.onCreated(item).catch(() => {}),
    onDownloadChanged: (delta) => downloads.onChanged(delta),
    async onAlarm(alarm) {
      if (alarm.name === 'policy') {
        await core.refreshPolicy();
        await core.flushSoon();
      } else if (alarm.name.startsWith('override-expiry:')) {
        await core.expireOverrides();
      }
    },
    async onStorageChanged(changes, area) {
      if (area === 'managed' || (area === 'local' && 'settings' in changes)) {
        state.invalidate();
        await core.refreshPolicy({ force: true });
      }
    },
    async onStart() {
      await ext.alarms.create('policy', { periodInMinutes: 5 });
      await state.ensure();
      await core.installRules(state.get().policy);
      await core.expireOverrides();
      await core.refreshPolicy({ force: true });
    },
  };
}
