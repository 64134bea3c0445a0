/**
 * The worker's core: the service client, the decision pipeline, the event queue, the policy
 * snapshot refresh and the declarativeNetRequest rules that follow from it.
 */

import { createClient } from '../lib/api.js';
import { createBatcher } from '../lib/batch.js';
import { TtlCache } from '../lib/cache.js';
import { createDecider } from '../lib/decide.js';
import { dnrRules, overrideRule, RULE_IDS } from '../lib/policy.js';
import { createQueue } from '../lib/queue.js';
import { describeReasons } from '../lib/verdicts.js';
import { KEYS } from './state.js';

const POLICY_MAX_AGE_MS = 5 * 60 * 1000;
const OVERRIDE_RULE_BASE = 1000;
const SESSION_OVERRIDES = 'overrides';

export function createCore(ext, state) {
  const client = createClient({
    settings: () => ({ ...state.get().config, language: state.get().lang }),
    installId: async () => (await state.ensure()).installId,
    fetch: ext.fetchUrl,
  });
  const batchers = new Map();
  const remote = (urls, context) => {
    // Hover checks wait a moment to gather a whole message; a click is sent at once.
    const delayMs = context === 'hover' ? 10 : 0;
    if (!batchers.has(context)) batchers.set(context, createBatcher({ send: (chunk) => client.checkLinks(chunk, context), delayMs }));
    return batchers.get(context).check(urls);
  };
  const overrides = new TtlCache();
  let overridesLoaded = null;
  const queue = createQueue({
    load: async () => (await ext.storage.local.get(KEYS.queue))[KEYS.queue],
    save: (q) => ext.storage.local.set({ [KEYS.queue]: q }),
  });
  const now = () => Math.floor(Date.now() / 1000);

  const decider = createDecider({
    policy: () => state.get().policy,
    failMode: () => state.failMode(),
    cache: new TtlCache(),
    overrides,
    remote: async (urls, context) => {
      const verdicts = await remote(urls, context);
      flushSoon();
      return verdicts;
    },
    onOffline: (v, context) => {
      if (context === 'hover') return;
      queue.push({ type: 'offline-decision', url: v.target, context, ts: now(), detail: { class: v.class, action: v.action, source: v.source, fail_mode: state.failMode() } }).catch(() => {});
    },
  });

  /**
   * Sends a batch of queued events. An event the service refuses (400) is dropped on its own,
   * so one bad event cannot hold the queue forever; any other failure keeps the batch queued.
   */
  async function sendEvents(batch, dropped) {
    const events = dropped ? [...batch, { type: 'unverifiable', ts: now(), detail: { dropped_events: dropped } }] : batch;
    try {
      await client.sendEvents(events);
    } catch (e) {
      if (e?.kind !== 'bad-request') throw e;
      for (const event of events) await client.sendEvents([event]).catch((one) => { if (one?.kind !== 'bad-request') throw one; });
    }
  }

  let flushing = null;
  function flushSoon() {
    flushing ??= (async () => {
      try {
        while ((await queue.drain(sendEvents)) > 0);
      } catch (e) {
        decider.report(e);
      } finally {
        flushing = null;
      }
    })();
    return flushing;
  }

  async function report(event) {
    await queue.push({ ts: now(), ...event });
    if (decider.available()) await flushSoon();
  }

  async function installRules(policy) {
    const existing = (await ext.dnr.getDynamicRules()).map((r) => r.id);
    const addRules = policy ? dnrRules(policy, ext.runtime.getURL('pages/warning/warning.html')) : [];
    await ext.dnr.updateDynamicRules({ removeRuleIds: existing, addRules });
  }

  let refreshing = null;
  function refreshPolicy({ force = false } = {}) {
    refreshing ??= fetchPolicy(force).finally(() => { refreshing = null; });
    return refreshing;
  }

  async function fetchPolicy(force) {
    const s = await state.ensure();
    if (!force && s.policy && Date.now() - s.fetchedAt < POLICY_MAX_AGE_MS) return s.policy;
    if (!force && !decider.available()) return s.policy;
    try {
      const answer = await client.getPolicy(s.policy ? s.etag : '');
      decider.report(null);
      if (answer) {
        const changed = answer.policy.version !== s.policy?.version;
        await state.setPolicy(answer.policy, answer.etag);
        if (changed) decider.clearCache();
        await installRules(state.get().policy);
      } else {
        await state.touchPolicy();
      }
      flushSoon();
    } catch (e) {
      decider.report(e);
    }
    return state.get().policy;
  }

  async function loadOverrides() {
    overridesLoaded ??= ext.storage.session.get(SESSION_OVERRIDES).then((r) => overrides.load(r[SESSION_OVERRIDES]?.cache));
    return overridesLoaded;
  }

  /** Remembers *Continue anyway* and lets the destination host through the redirect rules. */
  async function rememberOverride(url, verdict) {
    const ttl = state.get().policy?.override_ttl_seconds ?? 900;
    decider.override(url, verdict, ttl);
    const stored = (await ext.storage.session.get(SESSION_OVERRIDES))[SESSION_OVERRIDES] ?? { rules: [] };
    const live = stored.rules.filter((r) => r.expires > Date.now() && r.host !== verdict.host);
    const id = OVERRIDE_RULE_BASE + ((Math.max(0, ...live.map((r) => r.id - OVERRIDE_RULE_BASE)) + 1) % 1000);
    const expires = Date.now() + ttl * 1000;
    const stale = stored.rules.filter((r) => !live.includes(r)).map((r) => r.id);
    await ext.dnr.updateSessionRules({ removeRuleIds: [...new Set([...stale, id])], addRules: verdict.host ? [overrideRule(id, verdict.host)] : [] });
    live.push({ id, host: verdict.host, expires });
    await ext.storage.session.set({ [SESSION_OVERRIDES]: { cache: overrides.dump(), rules: live } });
    await ext.alarms.create(`override-expiry:${id}`, { when: expires + 1000 });
  }

  /** Drops override allow-rules whose time is up (alarm, and on start). */
  async function expireOverrides() {
    const stored = (await ext.storage.session.get(SESSION_OVERRIDES))[SESSION_OVERRIDES];
    const rules = await ext.dnr.getSessionRules();
    const live = (stored?.rules ?? []).filter((r) => r.expires > Date.now());
    const keep = new Set(live.map((r) => r.id));
    const removeRuleIds = rules.map((r) => r.id).filter((id) => id >= OVERRIDE_RULE_BASE && !keep.has(id));
    if (removeRuleIds.length) await ext.dnr.updateSessionRules({ removeRuleIds });
    await ext.storage.session.set({ [SESSION_OVERRIDES]: { cache: overrides.dump(), rules: live } });
  }

  /** Verdicts with every message in the user's language. */
  async function decide(urls, context, options) {
    const s = await state.ensure();
    await loadOverrides();
    if (!s.policy) await refreshPolicy();
    else refreshPolicy().catch(() => {});
    const verdicts = await decider.decide(urls, context, options);
    return verdicts.map((v) => describeReasons(v, s.t));
  }

  return { client, decider, decide, report, flushSoon, refreshPolicy, installRules, rememberOverride, expireOverrides, loadOverrides, RULE_IDS };
}
