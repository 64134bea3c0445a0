/**
 * Settings: what the options page stores and what IT sets by enterprise policy
 * (`storage.managed`, schema in managed_schema.json). Every value is validated before use; a
 * managed value, when valid, wins over the user's, and the options page shows it as locked.
 */

import { isHostPattern, normalizeHost } from './urls.js';

/** Hosts where hover checks run when neither IT nor the policy names any. */
export const DEFAULT_WEBMAIL_HOSTS = Object.freeze([
  'mail.google.com', 'outlook.office.com', 'outlook.office365.com', 'outlook.live.com',
]);

export const DEFAULTS = Object.freeze({
  serverUrl: '',
  apiKey: '',
  webmailHosts: Object.freeze([]),
  composeHosts: Object.freeze([]),
  publicPostHosts: Object.freeze([]),
  failMode: 'open',
  userLabel: '',
  language: '',
});

const PRINTABLE = /^[\x21-\x7e]+$/;

function serverUrl(value) {
  if (typeof value !== 'string') throw new TypeError('must be a string');
  if (value === '') return '';
  let url;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError('must be an http(s) URL such as https://meetguard.example.org');
  }
  if (!['http:', 'https:'].includes(url.protocol)) throw new TypeError('must start with http:// or https://');
  if (url.username || url.password || url.search || url.hash) throw new TypeError('must not contain credentials, a query or a fragment');
  return url.href.replace(/\/+$/, '');
}

function apiKey(value) {
  if (typeof value !== 'string') throw new TypeError('must be a string');
  if (value !== '' && (!PRINTABLE.test(value) || value.length > 512)) throw new TypeError('must be printable ASCII without spaces, at most 512 characters');
  return value;
}

function webmailHosts(value) {
  const list = typeof value === 'string' ? value.split(/[\s,]+/).filter(Boolean) : value;
  if (!Array.isArray(list) || list.length > 200) throw new TypeError('must be a list of at most 200 hosts');
  const bad = list.find((h) => !isHostPattern(h));
  if (bad !== undefined) throw new TypeError(`"${String(bad).slice(0, 80)}" is not a host, host:port or *.domain`);
  return Object.freeze([...new Set(list.map((h) => (h.startsWith('*.') ? `*.${normalizeHost(h.slice(2))}` : h.toLowerCase())))]);
}

function oneOf(...choices) {
  return (value) => {
    if (!choices.includes(value)) throw new TypeError(`must be one of: ${choices.filter(Boolean).join(', ')}`);
    return value;
  };
}

function userLabel(value) {
  if (typeof value !== 'string' || value.length > 128 || /[\p{Cc}\p{Cf}]/u.test(value)) {
    throw new TypeError('must be text of at most 128 characters without control characters');
  }
  return value.trim();
}

/** One validator per setting: returns the normalised value or throws TypeError saying how to fix it. */
export const VALIDATORS = Object.freeze({
  serverUrl,
  apiKey,
  webmailHosts,
  composeHosts: webmailHosts,
  publicPostHosts: webmailHosts,
  failMode: oneOf('open', 'closed'),
  userLabel,
  language: oneOf('', 'vi', 'en'),
});

/**
 * Validates a bag of settings. Unknown keys are ignored; invalid values are reported and left out.
 * @returns {{values: Record<string, any>, errors: Record<string, string>}}
 */
export function validateSettings(raw) {
  const values = {};
  const errors = {};
  if (!raw || typeof raw !== 'object') return { values, errors };
  for (const [key, check] of Object.entries(VALIDATORS)) {
    if (!(key in raw) || raw[key] === undefined) continue;
    try {
      values[key] = check(raw[key]);
    } catch (e) {
      errors[key] = e.message;
    }
  }
  return { values, errors };
}

/**
 * The settings in force: defaults < the user's options < valid managed values.
 * @returns {{config: typeof DEFAULTS, managed: string[], errors: Record<string, string>}}
 *   managed: the keys IT has set (locked on the options page); errors: invalid managed values.
 */
export function effectiveConfig(managedRaw, localRaw) {
  const local = validateSettings(localRaw).values;
  const { values: managed, errors } = validateSettings(managedRaw);
  return { config: Object.freeze({ ...DEFAULTS, ...local, ...managed }), managed: Object.keys(managed), errors };
}

/** The hosts where hover checks run: IT's or the user's list plus the policy's, else the defaults. */
export function webmailPatterns(config, policy) {
  const fromPolicy = (policy?.webmail_hosts ?? []).filter(isHostPattern);
  const all = [...config.webmailHosts, ...fromPolicy];
  return all.length ? [...new Set(all)] : [...DEFAULT_WEBMAIL_HOSTS];
}

/** The fail mode in force: IT's setting when managed, else the policy's, else the user's. */
export function failModeOf(config, managedKeys, policy) {
  if (managedKeys.includes('failMode')) return config.failMode;
  return policy?.fail_mode ?? config.failMode;
}
