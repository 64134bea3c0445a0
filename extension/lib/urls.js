/**
 * URL helpers. Hosts are taken from the WHATWG URL parser the browser itself uses (`new URL`),
 * never from string slicing: backslashes, `@` tricks, percent-encoded and shorthand hosts are
 * resolved exactly as the navigation will resolve them.
 */

/** Schemes of meeting apps that are opened through the operating system (deep links). */
export const APP_SCHEMES = Object.freeze(['zoommtg', 'zoomus', 'msteams', 'ms-teams']);

const WEB_SCHEMES = new Set(['http', 'https']);

/**
 * Parses `input` (relative to `base` if given) like a browser; null when it is not a URL.
 * @param {string} input
 * @param {string} [base]
 * @returns {URL|null}
 */
export function parseUrl(input, base) {
  if (typeof input !== 'string') return null;
  try {
    return base === undefined ? new URL(input) : new URL(input, base);
  } catch {
    return null;
  }
}

/** Lower-case host without a trailing dot and without IPv6 brackets. */
export function normalizeHost(host) {
  return String(host).toLowerCase().replace(/\.$/, '').replace(/^\[(.*)\]$/, '$1');
}

/** The scheme of a parsed URL, without the colon. */
export function schemeOf(url) {
  return url.protocol.slice(0, -1).toLowerCase();
}

/**
 * True when `host` is `domain` or one of its subdomains (`a.zoom.us` matches `zoom.us`,
 * `notzoom.us` does not).
 */
export function hostMatches(host, domain) {
  const h = normalizeHost(host);
  const d = normalizeHost(domain);
  return d !== '' && (h === d || h.endsWith(`.${d}`));
}

/** The most specific domain of `domains` that `host` matches, or null. */
export function matchDomain(host, domains) {
  let best = null;
  for (const domain of domains) {
    if (hostMatches(host, domain) && (best === null || domain.length > best.length)) best = domain;
  }
  return best;
}

/**
 * What kind of link a URL is for MeetGuard: `web` (http/https), `app` (a meeting app's deep
 * link), or null for everything the extension leaves alone (mailto:, javascript: run by the
 * page itself, blob:, …).
 * @param {URL} url
 * @param {Iterable<string>} [appSchemes]
 */
export function linkKind(url, appSchemes = APP_SCHEMES) {
  const scheme = schemeOf(url);
  if (WEB_SCHEMES.has(scheme)) return 'web';
  for (const s of appSchemes) if (s === scheme) return 'app';
  return null;
}

/** True when two URLs differ at most in their fragment (a jump inside the same page). */
export function sameDocument(a, b) {
  const strip = (u) => {
    const c = new URL(u.href);
    c.hash = '';
    return c.href;
  };
  return strip(a) === strip(b);
}

/**
 * Whether a webmail host pattern applies to a page URL. Patterns are `host`, `host:port` or
 * `*.domain` (any subdomain, not the domain itself); without a port any port matches.
 * @param {string} pattern
 * @param {URL} url
 */
export function hostPatternMatches(pattern, url) {
  if (!WEB_SCHEMES.has(schemeOf(url))) return false;
  const p = pattern.toLowerCase();
  const colon = p.lastIndexOf(':');
  const hasPort = colon > 0 && /^\d+$/.test(p.slice(colon + 1));
  const hostPart = hasPort ? p.slice(0, colon) : p;
  if (hasPort && p.slice(colon + 1) !== effectivePort(url)) return false;
  const host = normalizeHost(url.hostname);
  if (hostPart.startsWith('*.')) return host.endsWith(hostPart.slice(1));
  return host === normalizeHost(hostPart);
}

function effectivePort(url) {
  if (url.port) return url.port;
  return schemeOf(url) === 'https' ? '443' : '80';
}

/** Matches one of `patterns` (see hostPatternMatches). */
export function isWebmail(patterns, url) {
  return patterns.some((p) => hostPatternMatches(p, url));
}

/** Host with an optional port, as written in webmailHosts (`mail.example.org`, `10.0.0.5:8080`). */
const HOST_PATTERN = /^(\*\.)?(?=.{1,253}(:|$))([a-z0-9-]{1,63}\.)*[a-z0-9-]{1,63}(:\d{1,5})?$/;

/** True for a syntactically valid webmail host pattern. */
export function isHostPattern(value) {
  if (typeof value !== 'string' || !HOST_PATTERN.test(value.toLowerCase())) return false;
  const port = value.match(/:(\d+)$/);
  return port === null || (Number(port[1]) > 0 && Number(port[1]) < 65536);
}
