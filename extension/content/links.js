/**
 * Webmail links: every link that comes into view (or close to it) is queued, and the queue goes
 * to the worker as one batch after a short pause, so an opened message is checked in one
 * request. New links added by a single-page app are picked up by a MutationObserver.
 * Hovering a link shows the badge with its verdict.
 */

import * as ext from '../lib/ext.js';
import { linkKind, parseUrl } from '../lib/urls.js';

const BATCH_DELAY_MS = 30;
const MAX_BATCH = 100;
const HIDE_DELAY_MS = 400;

function linkUrl(link, schemes) {
  const url = parseUrl(link.href);
  return url && linkKind(url, schemes) ? url.href : null;
}

export function createLinkWatcher({ badge, cached, remember, schemes }) {
  const queued = new Set();
  const asked = new Map();
  let timer = null;
  let hovered = null;
  let hideTimer = null;

  function show(link) {
    const url = linkUrl(link, schemes);
    if (!url) return;
    hovered = { link, url };
    clearTimeout(hideTimer);
    badge.show(link.getBoundingClientRect(), cached(url) ?? null);
    if (!cached(url)) {
      queue(url);
      flush();
    }
  }

  function queue(url) {
    if (cached(url) || asked.has(url)) return;
    queued.add(url);
    timer ??= setTimeout(flush, BATCH_DELAY_MS);
  }

  function flush() {
    clearTimeout(timer);
    timer = null;
    const urls = [...queued];
    queued.clear();
    for (let i = 0; i < urls.length; i += MAX_BATCH) send(urls.slice(i, i + MAX_BATCH));
  }

  async function send(urls) {
    const request = ext.runtime.sendMessage({ type: 'check-links', urls });
    for (const u of urls) asked.set(u, request);
    let reply;
    try {
      reply = await request;
    } finally {
      for (const u of urls) asked.delete(u);
    }
    if (!reply?.ok) {
      if (hovered && urls.includes(hovered.url)) badge.unavailable();
      return;
    }
    reply.result.forEach((summary, i) => remember(urls[i], summary));
    if (hovered && urls.includes(hovered.url)) {
      badge.show(hovered.link.getBoundingClientRect(), reply.result[urls.indexOf(hovered.url)]);
    }
  }

  const visibility = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      visibility.unobserve(entry.target);
      const url = linkUrl(entry.target, schemes);
      if (url) queue(url);
    }
  }, { rootMargin: '100% 0px' });

  function watch(root) {
    if (root instanceof HTMLAnchorElement || root instanceof HTMLAreaElement) visibility.observe(root);
    if (root.querySelectorAll) for (const link of root.querySelectorAll('a[href], area[href]')) visibility.observe(link);
  }

  const mutations = new MutationObserver((records) => {
    for (const record of records) {
      if (record.type === 'attributes') watch(record.target);
      else for (const node of record.addedNodes) if (node.nodeType === Node.ELEMENT_NODE) watch(node);
    }
  });

  function begin() {
    watch(document);
    mutations.observe(document.documentElement, { childList: true, subtree: true, attributes: true, attributeFilter: ['href'] });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', begin, { once: true });
  else begin();

  document.addEventListener('mouseover', (event) => {
    if (!event.isTrusted) return;
    const link = event.composedPath().find((n) => n instanceof HTMLAnchorElement || n instanceof HTMLAreaElement);
    if (link && link.href) show(link);
  }, true);
  document.addEventListener('mouseout', (event) => {
    const link = event.composedPath().find((n) => n instanceof HTMLAnchorElement || n instanceof HTMLAreaElement);
    if (!link || link !== hovered?.link || link.contains(event.relatedTarget)) return;
    hideTimer = setTimeout(() => {
      hovered = null;
      badge.hide();
    }, HIDE_DELAY_MS);
  }, true);

  return { flush, pending: () => queued.size + asked.size };
}
