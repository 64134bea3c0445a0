// The console's state lives in the page URL, so every view is a shareable link that
// survives a reload: ?view=logs&since=24h&class=warned&host=zoom.us&cursor=…&record=…&lang=vi

export const FILTERS = ['since', 'until', 'class', 'action', 'platform', 'host', 'client',
  'user', 'kind', 'context', 'event', 'code'];
export const VIEWS = ['logs', 'dashboard', 'people', 'signatures', 'retro'];
const KEYS = [...FILTERS, 'view', 'limit', 'cursor', 'record', 'lang', 'sort', 'q'];
export const DEFAULT_SINCE = '24h';
export const DEFAULT_LIMIT = '50';

/** The state in the current URL (unknown parameters are ignored). */
export function readState() {
  const params = new URLSearchParams(window.location.search);
  const state = {};
  for (const key of KEYS) {
    const value = params.get(key);
    if (value) state[key] = value.slice(0, 512);
  }
  if (!VIEWS.includes(state.view)) state.view = 'logs';
  if (!state.since && !state.until) state.since = DEFAULT_SINCE;
  return state;
}

export function urlOf(state) {
  const params = new URLSearchParams();
  for (const key of KEYS) {
    if (state[key]) params.set(key, state[key]);
  }
  return `?${params}`;
}

/** Go to `state`: a new history entry (push) or in place (replace). */
export function go(state, { replace = false, history = null } = {}) {
  const url = urlOf(state);
  if (replace) window.history.replaceState(history, '', url);
  else window.history.pushState(history, '', url);
  window.dispatchEvent(new Event('meetguard:navigate'));
}

/** Only the log filters of a state (what the API and an export take). */
export function filtersOf(state) {
  const out = {};
  for (const key of FILTERS) {
    if (state[key]) out[key] = state[key];
  }
  return out;
}

/** A datetime-local input value (local time) from an ISO time or unix seconds, or ''. */
export function toLocalInput(value) {
  if (!value || /^\d+[smhdw]$/.test(value)) return '';
  const date = /^\d+(\.\d+)?$/.test(value) ? new Date(Number(value) * 1000) : new Date(value);
  if (Number.isNaN(date.getTime())) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`
    + `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** ISO 8601 UTC from a datetime-local value (read as local time), or ''. */
export function fromLocalInput(value) {
  if (!value) return '';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? '' : date.toISOString().replace('.000Z', 'Z');
}
