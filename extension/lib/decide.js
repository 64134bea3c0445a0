/**
 * The decision for a destination: a remembered override, a cached verdict, the policy
 * snapshot, the service — in that order — and, when the service cannot answer, the fail mode.
 * Everything it needs is injected, so the whole order is testable without a browser.
 */

import { localDecision } from './policy.js';
import { ServiceError } from './api.js';
import { canContinue, offlineVerdict } from './verdicts.js';
import { parseUrl } from './urls.js';

/** Seconds the service is left alone after a failure, by kind of failure. */
export const BACKOFF_SECONDS = Object.freeze({ offline: 5, auth: 60, 'bad-response': 30, 'bad-request': 30 });

/** The cache key of a URL: its parsed form, so equivalent spellings share one entry. */
export function urlKey(input) {
  return parseUrl(input)?.href ?? String(input);
}

/**
 * @param {object} deps
 * @param {() => object|null} deps.policy current snapshot
 * @param {() => 'open'|'closed'} deps.failMode
 * @param {import('./cache.js').TtlCache} deps.cache verdicts by URL
 * @param {import('./cache.js').TtlCache} deps.overrides `url:<url>` and `host:<host>` keys
 * @param {(urls: string[], context: string) => Promise<object[]>} deps.remote service check
 * @param {(verdict: object, context: string) => void} [deps.onOffline] a decision made without the service
 * @param {() => number} [deps.now] milliseconds
 */
export function createDecider({ policy, failMode, cache, overrides, remote, onOffline = () => {}, now = Date.now }) {
  let unavailableUntil = 0;
  let lastError = null;
  let lastOk = 0;

  function withOverride(verdict, key) {
    if (!canContinue(verdict)) return verdict;
    if (overrides.get(`url:${key}`) || overrides.get(`host:${verdict.host}`)) {
      return { ...verdict, action: 'allow', overridden: true };
    }
    return verdict;
  }

  /** What is known without asking the service: cache, then snapshot; undefined when neither. */
  function known(key) {
    const hit = cache.get(key);
    if (hit) return hit;
    const local = localDecision(policy(), key);
    if (local) cache.set(key, local, local.ttl);
    return local ?? undefined;
  }

  function failed(error) {
    if (!(error instanceof ServiceError)) throw error;
    lastError = error;
    const wait = error.kind === 'rate' ? error.retryAfter : (BACKOFF_SECONDS[error.kind] ?? 5);
    unavailableUntil = now() + wait * 1000;
  }

  async function ask(keys, context) {
    if (keys.length === 0) return [];
    if (now() >= unavailableUntil) {
      try {
        const verdicts = await remote(keys, context);
        lastOk = now();
        lastError = null;
        unavailableUntil = 0;
        verdicts.forEach((v, i) => cache.set(keys[i], v, v.ttl));
        return verdicts;
      } catch (error) {
        failed(error);
      }
    }
    return keys.map((key) => {
      const v = localDecision(policy(), key) ?? offlineVerdict(key, failMode(), policy()?.version ?? '');
      onOffline(v, context);
      return v;
    });
  }

  return {
    /**
     * Verdicts for `urls` in order. With `preferService`, the service is asked even for
     * destinations the snapshot knows (the warning page wants the service's verdict: it is
     * logged and has an id an override can refer to); the cache still answers first.
     */
    async decide(urls, context, { preferService = false } = {}) {
      const keys = urls.map(urlKey);
      const out = keys.map((k) => (preferService ? cache.get(k) : known(k)));
      if (preferService) out.forEach((v, i) => { if (v?.source === 'local') out[i] = undefined; });
      const missing = [...new Set(keys.filter((k, i) => out[i] === undefined))];
      const answers = new Map();
      (await ask(missing, context)).forEach((v, i) => answers.set(missing[i], v));
      return keys.map((k, i) => withOverride(out[i] ?? answers.get(k), k));
    },
    /** The cached or locally known verdict, without waiting for anything (undefined if none). */
    peek(url) {
      const key = urlKey(url);
      const v = known(key);
      return v && withOverride(v, key);
    },
    /** Remembers *Continue anyway* for this URL and its real destination host. */
    override(url, verdict, ttlSeconds) {
      overrides.set(`url:${urlKey(url)}`, true, ttlSeconds);
      if (verdict.host) overrides.set(`host:${verdict.host}`, true, ttlSeconds);
    },
    /** Connection state for the popup. */
    status() {
      return {
        state: lastError === null ? (lastOk ? 'connected' : 'unknown') : lastError.kind,
        error: lastError?.message ?? '',
        lastOk,
        retryAt: unavailableUntil,
      };
    },
    /** Records a success or failure seen elsewhere (policy refresh, health check, events). */
    report(error) {
      if (error) failed(error);
      else {
        lastOk = now();
        lastError = null;
        unavailableUntil = 0;
      }
    },
    available: () => now() >= unavailableUntil,
    /** Forgets cached verdicts (a new policy version makes them stale). */
    clearCache: () => cache.clear(),
  };
}
