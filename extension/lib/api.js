/**
 * The client of the MeetGuard service (JSON over HTTP). `fetch` is injected. Every failure is a
 * ServiceError whose `kind` says what the caller should make of it:
 * `offline` (no answer, timeout, 5xx), `auth` (401/403: the key is wrong), `rate` (429, with
 * `retryAfter` seconds), `bad-request` (other 4xx), `bad-response` (an answer we cannot use).
 */

import { validateVerdict } from './verdicts.js';
import { validatePolicy } from './policy.js';

export class ServiceError extends Error {
  constructor(kind, message, { status = 0, retryAfter = 0 } = {}) {
    super(message);
    this.name = 'ServiceError';
    this.kind = kind;
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

/** Request headers for every call. */
export function buildHeaders({ apiKey, installId, userLabel, language }) {
  const headers = {
    Authorization: `Bearer ${apiKey}`,
    'X-MeetGuard-Install': installId,
    'Accept-Language': language === 'vi' ? 'vi' : 'en',
    Accept: 'application/json',
  };
  // Header values are ASCII: a Vietnamese user label travels percent-encoded.
  if (userLabel) headers['X-MeetGuard-User'] = /^[\x20-\x7e]*$/.test(userLabel) ? userLabel : encodeURIComponent(userLabel);
  return headers;
}

/** Seconds to wait from a Retry-After header (seconds or HTTP date); 60 when absent or odd. */
export function parseRetryAfter(value, now = Date.now()) {
  if (value == null || value === '') return 60;
  if (/^\d+$/.test(value.trim())) return Math.min(Number(value), 3600);
  const at = Date.parse(value);
  return Number.isNaN(at) ? 60 : Math.max(0, Math.min(3600, Math.ceil((at - now) / 1000)));
}

/** A ServiceError for a non-2xx answer, using the problem+json detail when there is one. */
export function errorFor(status, problem, retryAfterHeader) {
  const detail = problem && typeof problem === 'object' ? String(problem.detail ?? problem.title ?? '') : '';
  const message = `HTTP ${status}${detail ? `: ${detail.slice(0, 300)}` : ''}`;
  if (status === 401 || status === 403) return new ServiceError('auth', message, { status });
  if (status === 429) return new ServiceError('rate', message, { status, retryAfter: parseRetryAfter(retryAfterHeader) });
  if (status >= 500) return new ServiceError('offline', message, { status });
  return new ServiceError('bad-request', message, { status });
}

/**
 * @param {{settings: () => {serverUrl: string, apiKey: string, userLabel: string, language: string},
 *          installId: () => Promise<string>, fetch: typeof fetch, timeoutMs?: number}} deps
 */
export function createClient({ settings, installId, fetch, timeoutMs = 5000 }) {
  async function request(method, path, { json, body, contentType, headers = {}, okStatus = [200] } = {}) {
    const s = settings();
    if (!s.serverUrl || !s.apiKey) throw new ServiceError('offline', 'service not configured');
    const all = { ...buildHeaders({ ...s, installId: await installId() }), ...headers };
    if (json !== undefined) all['Content-Type'] = 'application/json';
    if (contentType) all['Content-Type'] = contentType;
    let response;
    try {
      response = await fetch(`${s.serverUrl}${path}`, {
        method, headers: all, body: json !== undefined ? JSON.stringify(json) : body,
        credentials: 'omit', cache: 'no-store', redirect: 'error', signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      throw new ServiceError('offline', `service unreachable: ${e?.message ?? e}`);
    }
    if (!okStatus.includes(response.status)) {
      const problem = await response.json().catch(() => null);
      throw errorFor(response.status, problem, response.headers.get('Retry-After'));
    }
    return response;
  }

  async function json(response) {
    try {
      return await response.json();
    } catch {
      throw new ServiceError('bad-response', 'answer is not JSON', { status: response.status });
    }
  }

  function fileVerdict(doc) {
    const v = doc?.verdict;
    if (!v || typeof v !== 'object' || !['allow', 'warn', 'block'].includes(v.action)) {
      throw new ServiceError('bad-response', 'file verdict missing');
    }
    return v;
  }

  return {
    /** Verdicts for up to 100 URLs, in input order. */
    async checkLinks(urls, context) {
      const doc = await json(await request('POST', '/v1/links/check', { json: { urls, context } }));
      if (!Array.isArray(doc?.verdicts) || doc.verdicts.length !== urls.length) {
        throw new ServiceError('bad-response', 'verdict count does not match');
      }
      try {
        return doc.verdicts.map(validateVerdict);
      } catch (e) {
        throw new ServiceError('bad-response', e.message);
      }
    },
    async checkFile(facts) {
      return fileVerdict(await json(await request('POST', '/v1/files/check', { json: facts })));
    },
    async uploadFile(sha256, bytes) {
      const path = `/v1/files/${sha256}/content`;
      return fileVerdict(await json(await request('PUT', path, { body: bytes, contentType: 'application/octet-stream' })));
    },
    async sendEvents(events) {
      return json(await request('POST', '/v1/events', { json: { events }, okStatus: [200, 202] }));
    },
    /** The policy, or null when unchanged since `etag` (304). */
    async getPolicy(etag) {
      const headers = etag ? { 'If-None-Match': etag } : {};
      const response = await request('GET', '/v1/policy', { headers, okStatus: [200, 304] });
      if (response.status === 304) return null;
      try {
        return { policy: validatePolicy(await json(response)), etag: response.headers.get('ETag') ?? '' };
      } catch (e) {
        throw e instanceof ServiceError ? e : new ServiceError('bad-response', e.message);
      }
    },
    async health() {
      return json(await request('GET', '/healthz'));
    },
  };
}
