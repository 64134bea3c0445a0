/**
 * Downloads: the worker fetches the same URL itself (with the user's credentials, at most
 * MAX_BYTES), hashes it with WebCrypto, asks the service, uploads the bytes only when asked,
 * and removes what the service blocks. A file that cannot be checked is reported as
 * `unverifiable`, never passed as clean.
 */

import { baseName, fileFacts, mustRemove, randomToken, readBounded, sha256Hex } from '../lib/files.js';
import { redactUrl } from '../lib/policy.js';
import { parseUrl } from '../lib/urls.js';
import { ServiceError } from '../lib/api.js';

export const MAX_BYTES = 64 * 1024 * 1024;
const FETCH_TIMEOUT_MS = 60_000;
const SESSION_FILE = (token) => `file:${token}`;

export function createDownloads(ext, state, core) {
  const seen = new Map();

  async function fetchBytes(url) {
    const response = await ext.fetchUrl(url, { credentials: 'include', redirect: 'follow', cache: 'no-store', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    if (!response.ok) throw new Error(`HTTP ${response.status} fetching the file`);
    return { bytes: await readBounded(response, MAX_BYTES), mime: response.headers.get('Content-Type') ?? '' };
  }

  async function check(item, url) {
    const { bytes, mime } = await fetchBytes(url);
    const sha256 = await sha256Hex(bytes);
    const current = (await ext.downloads.search({ id: item.id }))[0] ?? item;
    const filename = baseName(seen.get(item.id)?.filename || current.filename, url);
    let verdict = await core.client.checkFile(fileFacts({ sha256, size: bytes.byteLength, filename, mime: item.mime || mime, url: redacted(url) }));
    if (verdict.content_wanted) verdict = await core.client.uploadFile(sha256, bytes);
    return { verdict, sha256, filename };
  }

  function redacted(url) {
    const parsed = parseUrl(url);
    return parsed ? redactUrl(parsed) : url;
  }

  /** Cancels or deletes the download, then erases it from the list. */
  async function remove(id) {
    const [item] = await ext.downloads.search({ id });
    if (!item) return;
    if (item.state === 'in_progress') await ext.downloads.cancel(id).catch(() => {});
    const [after] = await ext.downloads.search({ id });
    if (after?.state === 'complete' && after.exists !== false) await ext.downloads.removeFile(id).catch(() => {});
    await ext.downloads.erase({ id });
  }

  async function tellUser({ kind, filename, url, sha256, verdict }) {
    const s = state.get();
    const token = randomToken();
    await ext.storage.session.set({ [SESSION_FILE(token)]: { kind, filename, url: redacted(url), sha256, verdict, ts: Date.now() } });
    const reason = verdict?.reasons?.[0]?.message || s.t(kind === 'removed' ? 'reason_dangerous_file' : 'reason_unverifiable_file');
    await ext.notifications.create(`meetguard-file-${token}`, {
      type: 'basic', iconUrl: ext.runtime.getURL('icons/icon-128.png'), priority: 2,
      title: s.t(kind === 'removed' ? 'notify_removed_title' : 'notify_unverifiable_title'),
      message: s.t('notify_file_body', filename, reason),
    }).catch(() => {});
    await ext.tabs.create({ url: `${ext.runtime.getURL('pages/warning/warning.html')}?file=${token}` });
  }

  async function process(item) {
    const url = item.finalUrl || item.url;
    await state.ensure();
    if (!parseUrl(url) || !/^(https?|data):/.test(url)) {
      return unverifiable(item, url, '', 'the download has no address the extension can fetch');
    }
    let result;
    try {
      result = await check(item, url);
    } catch (e) {
      return unverifiable(item, url, baseName(item.filename, url), String(e?.message ?? e), e);
    }
    const { verdict, sha256, filename } = result;
    if (!mustRemove(verdict)) return resume(item.id);
    await remove(item.id);
    await core.report({ type: 'download-removed', url: redacted(url), verdict_id: verdict.id ?? undefined, sha256, filename, detail: { class: verdict.class, action: verdict.action, reasons: (verdict.reasons ?? []).map((r) => r.code).join(',') } });
    await tellUser({ kind: 'removed', filename, url, sha256, verdict });
  }

  async function unverifiable(item, url, filename, error, cause) {
    if (cause instanceof ServiceError) core.decider.report(cause);
    const closed = state.failMode() === 'closed';
    await core.report({ type: 'unverifiable', url: redacted(url), filename: filename || undefined, detail: { error: error.slice(0, 300), removed: closed } });
    if (!closed) return resume(item.id);
    await remove(item.id);
    await tellUser({ kind: 'unverifiable', filename, url, sha256: '', verdict: null });
  }

  async function resume(id) {
    const [item] = await ext.downloads.search({ id });
    if (item?.paused) await ext.downloads.resume(id).catch(() => {});
  }

  return {
    /** downloads.onCreated: hold the download while its bytes are checked. */
    async onCreated(item) {
      if (item.byExtensionId === ext.runtime.id()) return;
      seen.set(item.id, { filename: item.filename });
      await ext.downloads.pause(item.id).catch(() => {});
      try {
        await process(item);
      } finally {
        seen.delete(item.id);
      }
    },
    /** downloads.onChanged: the final file name is often known only after onCreated. */
    onChanged(delta) {
      const entry = seen.get(delta.id);
      if (entry && delta.filename?.current) entry.filename = delta.filename.current;
    },
    /** What the warning page shows for a removed file. */
    async fileReport(token) {
      return (await ext.storage.session.get(SESSION_FILE(token)))[SESSION_FILE(token)] ?? null;
    },
  };
}
