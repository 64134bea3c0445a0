/**
 * Batching of link checks: every URL asked for within a short window goes to the service in one
 * request (at most `max` URLs each), and a URL already waiting or in flight is never asked twice.
 */

/**
 * @param {{send: (urls: string[]) => Promise<any[]>, max?: number, delayMs?: number,
 *          setTimer?: typeof setTimeout, clearTimer?: typeof clearTimeout}} options
 *   send(urls) resolves to one result per URL, in order.
 * @returns {{check: (urls: string[]) => Promise<any[]>, flush: () => void, pending: () => number}}
 */
export function createBatcher({ send, max = 100, delayMs = 10, setTimer = setTimeout, clearTimer = clearTimeout }) {
  let waiting = new Map();
  const inFlight = new Map();
  let timer = null;

  function flush() {
    if (timer !== null) clearTimer(timer);
    timer = null;
    const batch = [...waiting];
    waiting = new Map();
    for (let i = 0; i < batch.length; i += max) sendChunk(batch.slice(i, i + max));
  }

  function sendChunk(chunk) {
    for (const [url, d] of chunk) inFlight.set(url, d);
    const settle = (fn) => {
      chunk.forEach(([url, d], i) => {
        inFlight.delete(url);
        fn(d, i);
      });
    };
    Promise.resolve()
      .then(() => send(chunk.map(([url]) => url)))
      .then((results) => {
        if (!Array.isArray(results) || results.length !== chunk.length) {
          throw new TypeError(`expected ${chunk.length} results, got ${results?.length}`);
        }
        settle((d, i) => d.resolve(results[i]));
      })
      .catch((error) => settle((d) => d.reject(error)));
  }

  function one(url) {
    const known = waiting.get(url) ?? inFlight.get(url);
    if (known) return known.promise;
    let resolve;
    let reject;
    const promise = new Promise((res, rej) => {
      resolve = res;
      reject = rej;
    });
    waiting.set(url, { promise, resolve, reject });
    if (waiting.size >= max) flush();
    else if (timer === null) timer = setTimer(flush, delayMs);
    return promise;
  }

  return {
    check: (urls) => Promise.all(urls.map(one)),
    flush,
    pending: () => waiting.size + inFlight.size,
  };
}
