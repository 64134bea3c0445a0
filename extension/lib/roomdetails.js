/**
 * Room details in text about to be sent (pure: no browser API, Node-testable).
 *
 * Two kinds, defined by the policy's `room_details` (signatures/room_details.toml):
 * - a meeting link carrying a secret: a platform's `secret_params` (Zoom pwd=, Teams p=, ...)
 *   on one of its domains, also inside wrapped links (Safe Links, Google /url?q=, ...);
 * - invitation text pairing a meeting ID with a passcode ("Meeting ID: 850 1234 5678 ...
 *   Passcode: 123456", "ID cuộc họp: ... Mật khẩu: ...").
 * The message text never leaves the browser: what is reported is the outcome, the platform, the
 * link without its secret (or "text") and the recipients' domains.
 */

import { hostPatternMatches, isHostPattern } from './urls.js';

const URL_IN_TEXT = /\bhttps?:\/\/[^\s<>"'`\u00a0]+/gi;
const TRAILING = /[.,;:!?)\]}>'"]+$/;
const MAX_UNWRAP = 5;
const MAX_TEXT = 200_000;
const EMAIL = /[\p{L}\p{N}._%+'-]+@([\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+)/gu;

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const hostIn = (host, domain) => host === domain || host.endsWith(`.${domain}`);

function labelPattern(labels) {
  const sorted = [...new Set(labels.map((l) => l.normalize('NFC')))].sort((a, b) => b.length - a.length);
  // A label starts a word, may carry a short note in brackets ("Meeting number (access code)"),
  // and is followed by a colon: "password" in a sentence is not a label.
  return `(?<![\\p{L}\\p{N}])(?:${sorted.map(escapeRe).join('|')})[ \\t\\u00a0]*(?:\\([^)\\n]{0,40}\\)[ \\t\\u00a0]*)?[:：][ \\t\\u00a0]*`;
}

/**
 * The detector for a policy's `room_details` document, or null when there is none.
 * @param {object} doc policy.room_details
 */
export function compileRoomDetails(doc) {
  if (!doc || typeof doc !== 'object' || !Array.isArray(doc.labels)) return null;
  try {
    return compile(doc);
  } catch {
    return null; // a document this version cannot read: the guard stays idle, pages work
  }
}

const texts = (list) => (Array.isArray(list) ? list.filter((s) => typeof s === 'string' && s.trim() && s.length <= 60) : []);

function compile(doc) {
  const minDigits = Number.isInteger(doc.min_id_digits) ? doc.min_id_digits : 6;
  const languages = doc.labels
    .map((l) => ({ lang: String(l?.lang ?? ''), ids: texts(l?.meeting_id), passcodes: texts(l?.passcode) }))
    .filter((l) => l.ids.length && l.passcodes.length)
    .map((l) => ({
      lang: l.lang,
      id: new RegExp(`${labelPattern(l.ids)}(\\d(?:[ \\u00a0-]?\\d){${minDigits - 1},19})(?!\\d)`, 'giu'),
      passcode: new RegExp(`${labelPattern(l.passcodes)}([^\\s,;]{3,64})`, 'giu'),
    }));
  const platforms = (doc.platforms ?? []).map((p) => ({
    id: String(p.id), domains: texts(p.domains).map((d) => d.toLowerCase()), secrets: new Set(texts(p.secret_params).map((s) => s.toLowerCase())),
  }));
  const wrappers = (doc.wrappers ?? []).map((w) => ({
    hosts: texts(w.hosts).map((h) => h.toLowerCase()), paths: texts(w.paths), params: texts(w.params),
  }));
  return { languages, platforms, wrappers, maxGap: Number.isInteger(doc.max_gap) ? doc.max_gap : 400 };
}

function parse(href) {
  try {
    const url = new URL(href);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

/** The query's `name=value` pairs as written (so a rewrite changes nothing else). */
function queryPairs(url) {
  return url.search ? url.search.slice(1).split('&') : [];
}

function pairName(pair) {
  const name = pair.split('=')[0];
  try {
    return decodeURIComponent(name.replace(/\+/g, ' ')).toLowerCase();
  } catch {
    return name.toLowerCase();
  }
}

function withQuery(url, pairs) {
  const copy = new URL(url.href);
  copy.search = pairs.length ? `?${pairs.join('&')}` : '';
  return copy.href;
}

/** The wrapper and parameter carrying the destination of `url`, if it is a known redirector. */
function wrapped(url, compiled) {
  const host = url.hostname.toLowerCase();
  for (const w of compiled.wrappers) {
    if (!w.hosts.some((d) => hostIn(host, d))) continue;
    if (w.paths.length && !w.paths.some((p) => url.pathname.startsWith(p))) continue;
    const param = w.params.find((p) => url.searchParams.has(p));
    if (param) return { param, inner: url.searchParams.get(param) };
  }
  return null;
}

/**
 * What a link holds: `{platform, params, clean}` when it (or the link it wraps) is a platform's
 * link with secret parameters, else null. `clean` is the same link without them.
 * @param {string} href
 * @param {object} compiled from compileRoomDetails
 * @param {number} depth
 */
export function linkSecret(href, compiled, depth = 0) {
  const url = parse(href);
  if (!url || !compiled || depth > MAX_UNWRAP) return null;
  const wrap = wrapped(url, compiled);
  if (wrap) {
    const inner = linkSecret(wrap.inner, compiled, depth + 1);
    if (!inner) return null;
    const pairs = queryPairs(url).map((pair) => (pairName(pair) === wrap.param.toLowerCase() ? `${pair.split('=')[0]}=${encodeURIComponent(inner.clean)}` : pair));
    return { ...inner, clean: withQuery(url, pairs), wrapped: true };
  }
  const host = url.hostname.toLowerCase();
  const platform = compiled.platforms.find((p) => p.domains.some((d) => hostIn(host, d)));
  if (!platform) return null;
  const pairs = queryPairs(url);
  const params = [...new Set(pairs.map(pairName).filter((n) => platform.secrets.has(n)))];
  if (!params.length) return null;
  const kept = pairs.filter((pair) => !platform.secrets.has(pairName(pair)));
  return { platform: platform.id, params, clean: withQuery(url, kept), wrapped: false };
}

function linksIn(text, compiled) {
  const out = [];
  for (const m of text.matchAll(URL_IN_TEXT)) {
    const href = m[0].replace(TRAILING, '');
    const secret = linkSecret(href, compiled);
    if (secret) out.push({ kind: 'link', start: m.index, end: m.index + href.length, url: href, ...secret });
  }
  return out;
}

function matchesOf(re, text) {
  return [...text.matchAll(re)].map((m) => ({ start: m.index, end: m.index + m[0].length, valueStart: m.index + m[0].length - m[1].length, value: m[1] }));
}

function pairsIn(text, compiled) {
  const out = [];
  for (const lang of compiled.languages) {
    const ids = matchesOf(lang.id, text);
    if (!ids.length) continue;
    for (const passcode of matchesOf(lang.passcode, text)) {
      const near = ids.filter((id) => Math.max(id.start, passcode.start) - Math.min(id.end, passcode.end) <= compiled.maxGap);
      if (!near.length) continue;
      const id = near.reduce((a, b) => (Math.abs(a.start - passcode.start) <= Math.abs(b.start - passcode.start) ? a : b));
      out.push({ kind: 'text', lang: lang.lang, start: Math.min(id.start, passcode.start), end: Math.max(id.end, passcode.end), meetingId: id, passcode });
    }
  }
  return out;
}

/**
 * Every piece of room details in `text`, in order: links with secrets and ID/passcode pairs.
 * @returns {Array<object>} `{kind: 'link', start, end, url, platform, params, clean}` or
 *   `{kind: 'text', lang, start, end, meetingId, passcode}` (offsets into the NFC text)
 */
export function findRoomDetails(text, compiled) {
  if (!compiled || typeof text !== 'string' || !text) return [];
  const nfc = text.slice(0, MAX_TEXT).normalize('NFC');
  return [...linksIn(nfc, compiled), ...pairsIn(nfc, compiled)].sort((a, b) => a.start - b.start);
}

function lineBounds(text, index) {
  const start = text.lastIndexOf('\n', index - 1) + 1;
  const newline = text.indexOf('\n', index);
  return { start, end: newline === -1 ? text.length : newline };
}

/**
 * The edits that remove the room details' secrets from `text` (NFC), as `{start, end, text}`
 * replacements, last first (apply them in this order and offsets stay right):
 * each link becomes its clean form, each passcode line goes (only the passcode when the line
 * holds more, e.g. the meeting ID), and one-tap dial strings lose the passcode (",,,,*123456#").
 */
export function removalEdits(text, compiled) {
  const nfc = text.normalize('NFC');
  const edits = [];
  const passcodes = new Set();
  for (const f of findRoomDetails(nfc, compiled)) {
    if (f.kind === 'link') {
      edits.push({ start: f.start, end: f.end, text: f.clean });
      continue;
    }
    passcodes.add(f.passcode.value);
    const line = lineBounds(nfc, f.passcode.start);
    const before = nfc.slice(line.start, f.passcode.start);
    const after = nfc.slice(f.passcode.end, line.end);
    if (before.trim() === '' && after.trim() === '') {
      edits.push({ start: line.start, end: Math.min(line.end + 1, nfc.length), text: '' });
    } else {
      edits.push({ start: f.passcode.start - (before.length - before.trimEnd().length), end: f.passcode.end, text: '' });
    }
  }
  for (const value of passcodes) {
    for (const m of nfc.matchAll(new RegExp(`,+\\*?${escapeRe(value)}#`, 'g'))) {
      edits.push({ start: m.index, end: m.index + m[0].length, text: '' });
    }
  }
  return disjoint(edits);
}

/** Overlapping edits keep the first (widest) one; the result is sorted last first. */
function disjoint(edits) {
  const sorted = [...edits].sort((a, b) => a.start - b.start || b.end - a.end);
  const kept = [];
  for (const e of sorted) {
    if (kept.length && e.start < kept[kept.length - 1].end) continue;
    kept.push(e);
  }
  return kept.reverse();
}

/** `text` without its room details' secrets (see removalEdits). */
export function removeRoomSecrets(text, compiled) {
  let out = text.normalize('NFC');
  for (const e of removalEdits(out, compiled)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

/**
 * What the dialog shows of each finding: pieces of text, the secret parts marked (`secret`), so
 * the page renders them with textContent only.
 */
export function describeFinding(f) {
  if (f.kind === 'link') {
    const url = parse(f.url);
    const pieces = [];
    let rest = f.url;
    for (const name of f.params) {
      const m = rest.match(new RegExp(`([?&]${escapeRe(name)}=)([^&#]*)`, 'i'));
      if (!m) continue;
      pieces.push({ text: rest.slice(0, m.index + m[1].length) }, { text: m[2], secret: true });
      rest = rest.slice(m.index + m[0].length);
    }
    pieces.push({ text: rest });
    return { kind: 'link', platform: f.platform, host: url?.hostname ?? '', pieces };
  }
  return {
    kind: 'text', lang: f.lang,
    pieces: [{ text: `${f.meetingId.value} · ` }, { text: f.passcode.value, secret: true }],
  };
}

/** The e-mail addresses in recipient fields' text. */
export function addressesIn(texts) {
  const out = new Set();
  for (const t of texts) for (const m of String(t).matchAll(EMAIL)) out.add(m[0].toLowerCase());
  return [...out];
}

/**
 * The recipients' domains outside the organisation (sorted, once each). No address at all is
 * "outside": where a page does not show its recipients, the message may go anywhere.
 * @returns {{outside: boolean, domains: string[]}} domains: every recipient's domain
 */
export function recipientsOutside(addresses, organisationDomains) {
  const org = (organisationDomains ?? []).map((d) => d.toLowerCase());
  const domains = [...new Set(addresses.map((a) => a.split('@').pop().toLowerCase()))].sort();
  const outside = domains.length === 0 || domains.some((d) => !org.some((o) => hostIn(d, o)));
  return { outside, domains };
}

const hostList = (list) => (Array.isArray(list) ? list.filter(isHostPattern) : []);

/**
 * Where the guard runs on a page: `compose` (send-time: webmail hosts, the policy's and IT's
 * compose hosts), `enterSends` (chat apps where Enter alone sends) and `public` (paste-time).
 * @param {{composeHosts: string[], publicPostHosts: string[]}} config the settings in force
 * @param {object|null} policy the policy snapshot
 * @param {string[]} webmail the webmail host patterns in force
 * @param {URL|null} page
 */
export function guardSite(config, policy, webmail, page) {
  const doc = policy?.room_details;
  const none = { compose: false, enterSends: false, public: false };
  if (!page || !doc) return none;
  const on = (patterns) => patterns.some((p) => hostPatternMatches(p, page));
  return {
    compose: on([...webmail, ...hostList(doc.compose_hosts), ...hostList(config.composeHosts)]),
    enterSends: on(hostList(doc.enter_sends_hosts)),
    public: on([...hostList(doc.public_hosts), ...hostList(config.publicPostHosts)]),
  };
}

/** The event a choice in the dialog is reported as. */
export const CHOICE_EVENTS = Object.freeze({ remove: 'room-details-removed', send: 'room-details-shared', cancel: 'room-details-cancelled' });

/**
 * The event reported for a choice: the platform, the link without its secret (or "text") and
 * the recipients' domains. Never an address, never the message.
 */
export function choiceEvent(choice, findings, domains, context) {
  const link = findings.find((f) => f.kind === 'link');
  const platform = link?.platform ?? findings.find((f) => f.platform)?.platform ?? '';
  return {
    type: CHOICE_EVENTS[choice],
    ...(link ? { url: link.clean } : {}),
    context,
    detail: {
      found: link ? 'link' : 'text',
      ...(platform ? { platform } : {}),
      links: findings.filter((f) => f.kind === 'link').length,
      texts: findings.filter((f) => f.kind === 'text').length,
      recipient_domains: domains.join(',').slice(0, 480),
    },
  };
}
