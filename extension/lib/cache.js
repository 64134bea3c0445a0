/** Small in-memory caches with expiry; time is injected so they are testable. */

/**
 * A map whose entries expire. Oldest entries are dropped beyond `max` (insertion order, a
 * refreshed entry moves to the end).
 */
export class TtlCache {
  /** @param {{max?: number, now?: () => number}} [options] now() in milliseconds */
  constructor({ max = 5000, now = Date.now } = {}) {
    this.max = max;
    this.now = now;
    this.entries = new Map();
  }

  /** The live value for `key`, or undefined. */
  get(key) {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expires <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Stores `value` for `ttlSeconds` (nothing is stored for a ttl ≤ 0). */
  set(key, value, ttlSeconds) {
    this.entries.delete(key);
    if (!(ttlSeconds > 0)) return;
    this.entries.set(key, { value, expires: this.now() + ttlSeconds * 1000 });
    while (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value);
  }

  /** Expiry time (ms) of a live entry, or undefined. */
  expiresAt(key) {
    return this.get(key) === undefined ? undefined : this.entries.get(key).expires;
  }

  delete(key) {
    this.entries.delete(key);
  }

  clear() {
    this.entries.clear();
  }

  /** Live entries as [key, value, expires] — for persisting across service-worker restarts. */
  dump() {
    const t = this.now();
    return [...this.entries].filter(([, e]) => e.expires > t).map(([k, e]) => [k, e.value, e.expires]);
  }

  /** Restores entries written by dump(), skipping expired ones. */
  load(rows) {
    const t = this.now();
    for (const row of Array.isArray(rows) ? rows : []) {
      const [key, value, expires] = row;
      if (typeof key === 'string' && Number.isFinite(expires) && expires > t) {
        this.entries.set(key, { value, expires });
      }
    }
  }
}
