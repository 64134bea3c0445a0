/**
 * The queue of events waiting for the service: decisions made while it was unreachable
 * (`offline-decision`, `unverifiable`) and any event whose report failed. Kept in
 * storage.local so a service-worker restart loses nothing; bounded so a long outage cannot
 * fill the disk (the oldest are dropped first, and how many were dropped is reported too).
 */

export const EVENT_TYPES = Object.freeze(['override', 'download-removed', 'download-blocked', 'unverifiable', 'offline-decision', 'room-details-shared', 'room-details-removed', 'room-details-cancelled']);

/** Checks an event before it is queued or sent. Throws TypeError. */
export function validateEvent(e) {
  if (!e || !EVENT_TYPES.includes(e.type)) throw new TypeError(`unknown event type ${e?.type}`);
  if (!Number.isInteger(e.ts)) throw new TypeError('event needs ts (unix seconds)');
  return e;
}

/**
 * @param {{load: () => Promise<any>, save: (state: any) => Promise<void>, max?: number}} store
 *   load/save persist the queue state ({events, dropped}).
 */
export function createQueue({ load, save, max = 500 }) {
  let chain = Promise.resolve();
  // Operations run one after another: two pushes racing must not lose an event.
  const serial = (fn) => {
    const run = chain.then(fn);
    chain = run.catch(() => {});
    return run;
  };
  const state = async () => {
    const s = await load();
    return { events: Array.isArray(s?.events) ? s.events : [], dropped: Number.isInteger(s?.dropped) ? s.dropped : 0 };
  };

  return {
    /** Adds events at the end, dropping the oldest beyond `max`. */
    push: (...events) => serial(async () => {
      const s = await state();
      s.events.push(...events.map(validateEvent));
      const over = s.events.length - max;
      if (over > 0) {
        s.events.splice(0, over);
        s.dropped += over;
      }
      await save(s);
    }),
    /**
     * Hands up to `n` events to `send` and removes them only when it resolves, so a failed
     * report keeps them for the next try.
     */
    drain: (send, n = 100) => serial(async () => {
      const s = await state();
      if (s.events.length === 0) return 0;
      const batch = s.events.slice(0, n);
      await send(batch, s.dropped);
      const after = await state();
      after.events.splice(0, batch.length);
      after.dropped = 0;
      await save(after);
      return batch.length;
    }),
    size: async () => (await state()).events.length,
  };
}
