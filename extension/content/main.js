/**
 * The content script's work: clicks on links are decided before the page leaves (instantly
 * from what is already known, else by the worker), and in webmail the links of the visible
 * message are checked in batches and a hover badge shows each verdict.
 */

import * as ext from '../lib/ext.js';
import { appSchemes, localDecision } from '../lib/policy.js';
import { linkKind, parseUrl, sameDocument } from '../lib/urls.js';
import { createBadge } from './badge.js';
import { createLinkWatcher } from './links.js';

const SAFE_TARGETS = new Set(['', '_self']);
const FRAME_TARGETS = new Set(['_top', '_parent']);

function linkOf(event) {
  return event.composedPath().find((n) => n instanceof HTMLAnchorElement || n instanceof HTMLAreaElement) ?? null;
}

export async function start() {
  const known = new Map();
  let policy = null;
  let schemes = appSchemes(null);
  let watcher = null;

  function summaryOf(url) {
    const entry = known.get(url);
    return entry && entry.expires > Date.now() ? entry.summary : undefined;
  }

  function cached(url) {
    return summaryOf(url) ?? localDecision(policy, url) ?? undefined;
  }

  function remember(url, summary) {
    if (summary.ttl > 0) known.set(url, { summary, expires: Date.now() + summary.ttl * 1000 });
  }

  /** What a click on this link is: null when MeetGuard leaves it alone. */
  function clickTarget(event) {
    if (!event.isTrusted) return null;
    if (event.type === 'click' ? event.button !== 0 : event.button !== 1) return null;
    const link = linkOf(event);
    if (!link || link.hasAttribute('download')) return null;
    const url = parseUrl(link.href);
    if (!url || !linkKind(url, schemes)) return null;
    if (linkKind(url, schemes) === 'web' && sameDocument(url, new URL(location.href))) return null;
    const target = (link.target || link.ownerDocument.querySelector('base[target]')?.target || '').toLowerCase();
    const newTab = event.type === 'auxclick' || event.ctrlKey || event.metaKey || event.shiftKey || !(SAFE_TARGETS.has(target) || FRAME_TARGETS.has(target));
    return { url: url.href, newTab, frameTarget: !newTab && FRAME_TARGETS.has(target) && window !== window.top };
  }

  async function decide(click) {
    const reply = await ext.runtime.sendMessage({ type: 'click', ...click });
    if (!reply?.ok) return;
    if (reply.result.action === 'allow' && !reply.result.handled) location.assign(click.url);
  }

  function onClick(event) {
    const click = clickTarget(event);
    if (!click) return;
    const now = cached(click.url);
    if (now?.action === 'allow') return;
    event.preventDefault();
    event.stopImmediatePropagation();
    decide(click).catch(() => {});
  }

  const init = await ext.runtime.sendMessage({ type: 'init' });
  if (init?.ok) {
    policy = init.result.policy;
    schemes = appSchemes(policy);
    if (init.result.webmail) {
      const badge = createBadge(init.result.strings);
      watcher = createLinkWatcher({ badge, cached: summaryOf, remember, schemes });
    }
    const guard = init.result.guard;
    if (guard?.compose || guard?.public) {
      // The send-time guard for room details, only where it runs (its own module).
      import('./compose.js').then((m) => m.startComposeGuard({ policy, guard })).catch(() => {});
    }
  }
  return {
    onClick,
    /** A click held by the bootstrap before this module was loaded. */
    decideHeld(event) {
      const click = clickTarget(event);
      if (click) decide(click).catch(() => {});
    },
    watcher,
  };
}
