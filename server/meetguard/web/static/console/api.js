// The console's private API (/admin/api). The session cookie is HttpOnly: this code never
// sees it. State-changing requests carry the session's CSRF token in a header.

let csrfToken = '';

export function setCsrf(token) {
  csrfToken = token || '';
}

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

/** JSON from `path`; throws ApiError (status 0 when the service cannot be reached). */
export async function api(path, { method = 'GET', body } = {}) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(`/admin/api${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, null);
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** The URL of an export of the log with these filters (a plain GET with the cookie). */
export function exportUrl(filters, format) {
  const params = new URLSearchParams(filters);
  params.set('format', format);
  return `/admin/api/logs?${params}`;
}
