/**
 * The worker's settings, policy snapshot, install id and language, loaded from storage once per
 * service-worker lifetime (the worker may be stopped at any time; storage is the truth).
 */

import { effectiveConfig, failModeOf, validateSettings } from '../lib/config.js';
import { createTranslator, pickLanguage } from '../lib/i18n.js';
import { validatePolicy } from '../lib/policy.js';
import { randomToken } from '../lib/files.js';

/** storage.local keys. */
export const KEYS = Object.freeze({ settings: 'settings', policy: 'policy', etag: 'policyEtag', fetchedAt: 'policyFetchedAt', installId: 'installId', queue: 'eventQueue' });

async function loadMessages(ext, lang) {
  const response = await ext.fetchUrl(ext.runtime.getURL(`_locales/${lang}/messages.json`));
  return response.json();
}

export function createState(ext) {
  let ready = null;
  const translators = new Map();
  const s = { config: effectiveConfig({}, {}).config, managed: [], errors: {}, policy: null, etag: '', fetchedAt: 0, installId: '', lang: 'en', t: () => '' };

  async function translator(lang) {
    if (!translators.has(lang)) translators.set(lang, createTranslator(await loadMessages(ext, lang)));
    return translators.get(lang);
  }

  async function load() {
    const managedRaw = await ext.storage.managed();
    const local = await ext.storage.local.get(Object.values(KEYS));
    Object.assign(s, effectiveConfig(managedRaw, local[KEYS.settings]));
    try {
      s.policy = local[KEYS.policy] ? validatePolicy(local[KEYS.policy]) : null;
    } catch {
      s.policy = null;
    }
    s.etag = local[KEYS.etag] ?? '';
    s.fetchedAt = local[KEYS.fetchedAt] ?? 0;
    s.installId = local[KEYS.installId];
    if (!s.installId) {
      s.installId = randomToken();
      await ext.storage.local.set({ [KEYS.installId]: s.installId });
    }
    s.lang = pickLanguage(s.config.language, ext.runtime.uiLanguage());
    s.t = await translator(s.lang);
    return s;
  }

  return {
    /** Loads once per worker lifetime (again after invalidate()). */
    ensure() {
      ready ??= load().catch((e) => {
        ready = null;
        throw e;
      });
      return ready;
    },
    invalidate() {
      ready = null;
    },
    get: () => s,
    failMode: () => failModeOf(s.config, s.managed, s.policy),
    /** Stores a new policy snapshot (the raw document: it is validated again on load). */
    async setPolicy(doc, etag) {
      s.policy = validatePolicy(doc);
      s.etag = etag;
      s.fetchedAt = Date.now();
      await ext.storage.local.set({ [KEYS.policy]: doc, [KEYS.etag]: etag, [KEYS.fetchedAt]: s.fetchedAt });
    },
    async touchPolicy() {
      s.fetchedAt = Date.now();
      await ext.storage.local.set({ [KEYS.fetchedAt]: s.fetchedAt });
    },
    /** Saves the user's options (managed keys are not the user's to change). */
    async saveSettings(raw) {
      const { values, errors } = validateSettings(raw);
      for (const key of s.managed) delete values[key];
      if (Object.keys(errors).length === 0) {
        const stored = (await ext.storage.local.get(KEYS.settings))[KEYS.settings] ?? {};
        await ext.storage.local.set({ [KEYS.settings]: { ...stored, ...values } });
        ready = null;
      }
      return { errors };
    },
    translator,
  };
}
