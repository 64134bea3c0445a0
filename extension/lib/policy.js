/**
 * The policy snapshot from `GET /v1/policy`: validated once, then used for instant local
 * decisions (approved, warned and known-bad domains need no round trip), for offline decisions,
 * and to build the declarativeNetRequest rules that stop warned and known-bad domains before a
 * request leaves the browser.
 */

import { APP_SCHEMES, linkKind, matchDomain, normalizeHost, parseUrl, schemeOf } from './urls.js';

const CLASSES = new Set(['approved', 'warned', 'unknown']);
const DOMAIN = /^(?=.{1,253}$)([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/;
const SCHEME = /^[a-z][a-z0-9+.-]{0,31}$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** Rule ids of the dynamic declarativeNetRequest rules built from a policy. */
export const RULE_IDS = Object.freeze({ warned: 1, approved: 2, knownBad: 4 });
/** Priority of the per-destination "Continue anyway" allow rules (session rules). */
export const OVERRIDE_PRIORITY = 3;

function domains(list, field) {
  if (!Array.isArray(list)) throw new TypeError(`policy.${field} must be a list`);
  return [...new Set(list.filter((d) => typeof d === 'string').map(normalizeHost).filter((d) => DOMAIN.test(d)))];
}

function seconds(value, fallback) {
  return Number.isInteger(value) && value >= 0 && value <= 86400 * 7 ? value : fallback;
}

function platform(p, i) {
  if (!p || typeof p !== 'object' || typeof p.id !== 'string' || !CLASSES.has(p.class)) {
    throw new TypeError(`policy.platforms[${i}] needs an id and a class`);
  }
  const schemes = Array.isArray(p.schemes) ? p.schemes : [];
  return Object.freeze({
    id: p.id,
    name: typeof p.name === 'string' && p.name ? p.name : p.id,
    class: p.class,
    domains: Object.freeze(domains(p.domains ?? [], `platforms[${i}].domains`)),
    schemes: Object.freeze(schemes.map((s) => String(s).toLowerCase().replace(/:$/, '')).filter((s) => SCHEME.test(s))),
  });
}

/**
 * Validates a policy document from the service and returns a frozen, normalised snapshot.
 * Throws TypeError naming the bad field: a broken snapshot must never replace a good one.
 */
export function validatePolicy(doc) {
  if (!doc || typeof doc !== 'object') throw new TypeError('policy must be an object');
  if (typeof doc.version !== 'string' || doc.version === '') throw new TypeError('policy.version missing');
  if (!Array.isArray(doc.platforms)) throw new TypeError('policy.platforms must be a list');
  const clickThrough = doc.click_through ?? {};
  return Object.freeze({
    version: doc.version,
    platforms: Object.freeze(doc.platforms.map(platform)),
    organisation_domains: Object.freeze(domains(doc.organisation_domains ?? [], 'organisation_domains')),
    known_bad_domains: Object.freeze(domains(doc.known_bad_domains ?? [], 'known_bad_domains')),
    shorteners: Object.freeze(domains(doc.shorteners ?? [], 'shorteners')),
    webmail_hosts: Object.freeze((Array.isArray(doc.webmail_hosts) ? doc.webmail_hosts : []).filter((h) => typeof h === 'string')),
    fail_mode: doc.fail_mode === 'closed' ? 'closed' : 'open',
    click_through: Object.freeze({ warned: clickThrough.warned !== false, unknown: clickThrough.unknown !== false }),
    override_ttl_seconds: seconds(doc.override_ttl_seconds, 900),
    verdict_ttl_seconds: seconds(doc.verdict_ttl_seconds, 300),
    // The send-time guard's definitions, checked where they are compiled (lib/roomdetails.js).
    room_details: doc.room_details && typeof doc.room_details === 'object' ? doc.room_details : null,
  });
}

/** Every scheme the policy maps to a platform, plus the built-in meeting-app schemes. */
export function appSchemes(policy) {
  const all = new Set(APP_SCHEMES);
  for (const p of policy?.platforms ?? []) for (const s of p.schemes) all.add(s);
  all.delete('http');
  all.delete('https');
  return all;
}

function platformsOf(policy, cls) {
  return policy.platforms.filter((p) => p.class === cls);
}

function findPlatform(policy, host, cls) {
  let best = null;
  for (const p of platformsOf(policy, cls)) {
    const d = matchDomain(host, p.domains);
    if (d !== null && (best === null || d.length > best.domain.length)) best = { platform: p, domain: d };
  }
  return best;
}

const SECRET_PARAMS = /^(pwd|passcode|password|pass|p|tk|token|secret|key)$/i;

/** The URL with meeting passwords and tokens in its query replaced by `***`. */
export function redactUrl(url) {
  const copy = new URL(url.href);
  let changed = false;
  for (const key of [...copy.searchParams.keys()]) {
    if (SECRET_PARAMS.test(key)) {
      copy.searchParams.set(key, '***');
      changed = true;
    }
  }
  return changed ? copy.href : url.href;
}

function verdict(policy, url, fields) {
  const host = normalizeHost(url.hostname);
  const clickThrough = fields.action === 'warn' && (fields.class === 'warned' ? policy.click_through.warned : policy.click_through.unknown);
  return {
    id: null,
    ttl: policy.verdict_ttl_seconds,
    url: url.href,
    target: redactUrl(url),
    host,
    display_host: host,
    domain: fields.domain,
    class: fields.class,
    platform: fields.platform ?? null,
    action: fields.action,
    click_through: clickThrough,
    reasons: fields.reasons,
    unwrapped: [],
    policy_version: policy.version,
    source: 'local',
  };
}

function reason(code, severity, args) {
  return { code, severity, message: '', args };
}

function decideApp(policy, url) {
  const scheme = schemeOf(url);
  const p = policy.platforms.find((x) => x.schemes.includes(scheme));
  if (!p) return null;
  return decidePlatform(policy, url, { platform: p, domain: normalizeHost(url.hostname) || scheme });
}

function decidePlatform(policy, url, match) {
  const { platform: p, domain } = match;
  if (p.class === 'approved') {
    return verdict(policy, url, { class: 'approved', action: 'allow', platform: p.id, domain, reasons: [reason('approved-platform', 'info', [p.name])] });
  }
  if (p.class === 'warned') {
    const action = policy.click_through.warned ? 'warn' : 'block';
    return verdict(policy, url, { class: 'warned', action, platform: p.id, domain, reasons: [reason('warned-platform', 'medium', [p.name])] });
  }
  return null;
}

/**
 * The verdict the snapshot alone gives for `input`, or null when only the service can tell
 * (unknown hosts, shorteners, IP hosts, plain http, userinfo tricks, anything unusual).
 * Known-bad domains block; approved platforms and the organisation's domains (over https)
 * allow; warned platforms warn (or block where policy allows no click-through).
 * Reasons carry `code`, `severity` and `args`; the caller writes the message in the user's language.
 */
export function localDecision(policy, input) {
  const url = parseUrl(input);
  if (!policy || !url) return null;
  const kind = linkKind(url, appSchemes(policy));
  if (kind === 'app') return decideApp(policy, url);
  if (kind !== 'web') return null;
  const host = normalizeHost(url.hostname);
  if (host.includes(':') || IPV4.test(host) || !DOMAIN.test(host)) return null;
  const bad = matchDomain(host, policy.known_bad_domains);
  if (bad !== null) {
    return verdict(policy, url, { class: 'unknown', action: 'block', domain: bad, reasons: [reason('known-bad', 'critical', [bad])] });
  }
  // userinfo (`https://zoom.us@…`) is a deception the service names; shorteners hide the target.
  if (url.username || url.password || matchDomain(host, policy.shorteners) !== null) return null;
  const secure = url.protocol === 'https:';
  const approved = findPlatform(policy, host, 'approved');
  if (approved && secure) return decidePlatform(policy, url, approved);
  const own = matchDomain(host, policy.organisation_domains);
  if (own !== null && secure) {
    return verdict(policy, url, { class: 'approved', action: 'allow', domain: own, reasons: [reason('approved-platform', 'info', [own])] });
  }
  if (approved || own !== null) return null;
  const warned = findPlatform(policy, host, 'warned');
  return warned ? decidePlatform(policy, url, warned) : null;
}

/** True when `host` is covered by one of the policy's redirect rules (warned or known bad). */
export function coveredByRules(policy, host) {
  if (!policy) return false;
  if (matchDomain(host, policy.known_bad_domains) !== null) return true;
  const approved = platformsOf(policy, 'approved').flatMap((p) => p.domains).concat(policy.organisation_domains);
  if (matchDomain(host, approved) !== null) return false;
  return platformsOf(policy, 'warned').some((p) => matchDomain(host, p.domains) !== null);
}

/**
 * declarativeNetRequest dynamic rules for a snapshot: top-level navigations to warned or
 * known-bad domains are redirected to `warningPage` (the original URL after `#`) before any
 * request leaves; approved domains get an allow rule so a warned parent domain cannot catch them.
 */
export function dnrRules(policy, warningPage) {
  const redirect = (id, priority, requestDomains) => ({
    id,
    priority,
    action: { type: 'redirect', redirect: { regexSubstitution: `${warningPage}?via=rule#\\0` } },
    condition: { regexFilter: '^.+$', requestDomains, resourceTypes: ['main_frame'] },
  });
  const warned = platformsOf(policy, 'warned').flatMap((p) => p.domains);
  const approved = platformsOf(policy, 'approved').flatMap((p) => p.domains).concat(policy.organisation_domains);
  const rules = [];
  if (warned.length) rules.push(redirect(RULE_IDS.warned, 1, [...new Set(warned)]));
  if (approved.length) {
    rules.push({ id: RULE_IDS.approved, priority: 2, action: { type: 'allow' }, condition: { requestDomains: [...new Set(approved)], resourceTypes: ['main_frame'] } });
  }
  if (policy.known_bad_domains.length) rules.push(redirect(RULE_IDS.knownBad, 4, [...policy.known_bad_domains]));
  return rules;
}

/** A session rule letting top-level navigations to `host` through after *Continue anyway*. */
export function overrideRule(id, host) {
  return { id, priority: OVERRIDE_PRIORITY, action: { type: 'allow' }, condition: { requestDomains: [normalizeHost(host)], resourceTypes: ['main_frame'] } };
}
