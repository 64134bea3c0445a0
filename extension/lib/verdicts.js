/**
 * Verdicts as the extension handles them: checking what the service sent, the verdict for a
 * destination nobody could check (offline), the one-line summary a hover badge shows.
 */

import { normalizeHost, parseUrl } from './urls.js';
import { redactUrl } from './policy.js';

export const CLASSES = Object.freeze(['approved', 'warned', 'unknown']);
export const ACTIONS = Object.freeze(['allow', 'warn', 'block']);
const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'];
const CODE = /^[a-z][a-z0-9-]{0,63}$/;

function text(value, max) {
  return typeof value === 'string' ? value.slice(0, max) : '';
}

function checkReason(r) {
  if (!r || typeof r !== 'object' || !CODE.test(r.code) || !SEVERITIES.includes(r.severity)) {
    throw new TypeError('verdict reason needs a code and a severity');
  }
  const out = { code: r.code, severity: r.severity, message: text(r.message, 500) };
  if (typeof r.rule === 'string') out.rule = text(r.rule, 200);
  return out;
}

/**
 * Validates one verdict from `/v1/links/check` and keeps only the fields the extension uses.
 * Throws TypeError on a verdict it must not act on.
 */
export function validateVerdict(v) {
  if (!v || typeof v !== 'object') throw new TypeError('verdict must be an object');
  if (!CLASSES.includes(v.class) || !ACTIONS.includes(v.action)) throw new TypeError('verdict class/action invalid');
  if (!Array.isArray(v.reasons)) throw new TypeError('verdict reasons must be a list');
  return {
    id: typeof v.id === 'string' ? text(v.id, 64) : null,
    ttl: Number.isInteger(v.ttl) && v.ttl >= 0 ? Math.min(v.ttl, 86400) : 0,
    url: text(v.url, 8192),
    target: text(v.target, 8192),
    host: text(v.host, 253),
    display_host: text(v.display_host || v.host, 253),
    domain: text(v.domain, 253),
    class: v.class,
    platform: typeof v.platform === 'string' ? text(v.platform, 64) : null,
    action: v.action,
    click_through: v.action === 'warn' && v.click_through === true,
    reasons: v.reasons.slice(0, 20).map(checkReason),
    unwrapped: (Array.isArray(v.unwrapped) ? v.unwrapped : []).slice(0, 10)
      .map((u) => ({ wrapper: text(u?.wrapper, 64), host: text(u?.host, 253) })),
    policy_version: text(v.policy_version, 128),
    source: 'service',
  };
}

/**
 * The verdict for a destination the service could not check and the snapshot does not know:
 * allowed when the fail mode is `open`, blocked when it is `closed`, reason `unverifiable`
 * either way (never presented as clean).
 */
export function offlineVerdict(input, failMode, policyVersion = '') {
  const url = parseUrl(input);
  const host = url ? normalizeHost(url.hostname) : '';
  return {
    id: null,
    ttl: 0,
    url: url ? url.href : String(input),
    target: url ? redactUrl(url) : String(input),
    host,
    display_host: host,
    domain: host,
    class: 'unknown',
    platform: null,
    action: failMode === 'closed' ? 'block' : 'allow',
    click_through: false,
    reasons: [{ code: 'unverifiable', severity: 'medium', message: '', args: [] }],
    unwrapped: [],
    policy_version: policyVersion,
    source: 'offline',
  };
}

/** The most severe reason (first of equals), or null. */
export function topReason(reasons) {
  let best = null;
  for (const r of reasons ?? []) {
    if (best === null || SEVERITIES.indexOf(r.severity) > SEVERITIES.indexOf(best.severity)) best = r;
  }
  return best;
}

/** Fills empty reason messages (local and offline verdicts) in the user's language. */
export function describeReasons(verdict, t) {
  const reasons = verdict.reasons.map((r) => (r.message ? r : { ...r, message: t(`reason_${r.code.replace(/-/g, '_')}`, ...(r.args ?? [])) }));
  return { ...verdict, reasons };
}

/** What a hover badge and a content script get: no URL echo, only what the service decided. */
export function summarize(verdict) {
  const top = topReason(verdict.reasons);
  return {
    class: verdict.class,
    action: verdict.action,
    host: verdict.host,
    display_host: verdict.display_host || verdict.host,
    reason: top ? top.message : '',
    code: top ? top.code : '',
    ttl: verdict.ttl,
  };
}

/** True when the user may go on to this destination after a warning. */
export function canContinue(verdict) {
  return verdict.action === 'warn' && verdict.click_through === true;
}
