/**
 * Whether talking to the service exposes what the extension sends. The client key travels with
 * every request, and the checked links with most: over plain http:// to another machine both
 * can be read (and answers forged) by anyone on the path. Loopback stays on this machine.
 */

/**
 * True when `serverUrl` is plain http:// to a host that is not loopback.
 * @param {string} serverUrl
 */
export function isCleartext(serverUrl) {
  let url;
  try {
    url = new URL(serverUrl);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:') return false;
  const host = url.hostname.toLowerCase();
  // The URL parser has already normalised IPv4 forms (0x7f.1, 2130706433) to dotted decimal.
  const loopback = host === 'localhost' || host.endsWith('.localhost') || host === '[::1]'
    || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
  return !loopback;
}
