/**
 * Messages between the extension's parts, with two trust levels:
 * - `content`: content scripts, which run inside web pages a hostile page may have tampered
 *   with. They may ask for verdicts and report clicks; nothing they send is a security decision.
 * - `page`: the extension's own pages (warning, popup, options), loaded from the extension origin.
 * Every message is checked against its schema before any handler sees it.
 */

const MAX_URL = 8192;
const MAX_BATCH = 100;

const isUrl = (v) => typeof v === 'string' && v.length > 0 && v.length <= MAX_URL;
const isBool = (v) => typeof v === 'boolean';
const isToken = (v) => typeof v === 'string' && /^[A-Za-z0-9_-]{8,64}$/.test(v);
const isTabId = (v) => Number.isInteger(v) && v >= 0;
const isUrlList = (v) => Array.isArray(v) && v.length > 0 && v.length <= MAX_BATCH && v.every(isUrl);
const isChoice = (v) => v === 'remove' || v === 'send' || v === 'cancel';
const isContext = (v) => v === 'compose' || v === 'paste';
const isDomains = (v) => Array.isArray(v) && v.length <= 100 && v.every((d) => typeof d === 'string' && d.length <= 253 && !d.includes('@'));
/** What the room-details dialog shows: bounded, plain data (rendered as text, never HTML). */
const isFindings = (v) => Array.isArray(v) && v.length > 0 && v.length <= 20 && v.every((f) => f && typeof f === 'object' && !Array.isArray(f)) && JSON.stringify(v).length <= 40000;
const isSettings = (v) => v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length <= 10;

/** Field checks per message type, per trust level. A field is required unless marked optional. */
export const SCHEMAS = Object.freeze({
  content: Object.freeze({
    init: {},
    'check-links': { urls: isUrlList },
    click: { url: isUrl, newTab: isBool, frameTarget: isBool },
    'room-details-dialog': { findings: isFindings, domains: isDomains, context: isContext },
    'room-details-outcome': { token: isToken },
  }),
  page: Object.freeze({
    'page-verdict': { url: isUrl },
    continue: { url: isUrl },
    'file-verdict': { token: isToken },
    status: { tabId: [isTabId, 'optional'] },
    'get-settings': {},
    'save-settings': { settings: isSettings },
    'close-tab': {},
    'room-details-get': { token: isToken },
    'room-details-choose': { token: isToken, choice: isChoice },
  }),
});

/**
 * The trust level of a message's sender, or null when it must be ignored.
 * @param {{id?: string, url?: string, tab?: object, origin?: string}} sender from runtime.onMessage
 * @param {{id: string, origin: string}} self this extension's id and origin (`chrome-extension://<id>`)
 */
export function trustOf(sender, self) {
  if (!sender || sender.id !== self.id || typeof sender.url !== 'string') return null;
  if (sender.url.startsWith(`${self.origin}/`)) return 'page';
  if (sender.tab && Number.isInteger(sender.tab.id)) return 'content';
  return null;
}

/**
 * Checks a message against the schema of its type for the sender's trust level.
 * @returns {{ok: true, type: string, value: object} | {ok: false, error: string}}
 */
export function validateMessage(message, trust) {
  const schemas = SCHEMAS[trust];
  if (!schemas) return { ok: false, error: 'untrusted sender' };
  if (!message || typeof message !== 'object' || Array.isArray(message)) return { ok: false, error: 'message must be an object' };
  const { type, ...fields } = message;
  if (typeof type !== 'string' || !Object.hasOwn(schemas, type)) return { ok: false, error: `unknown message type for ${trust}: ${String(type).slice(0, 40)}` };
  const schema = schemas[type];
  for (const key of Object.keys(fields)) {
    if (!Object.hasOwn(schema, key)) return { ok: false, error: `${type}: unexpected field ${key.slice(0, 40)}` };
  }
  for (const [key, rule] of Object.entries(schema)) {
    const [check, optional] = Array.isArray(rule) ? rule : [rule, null];
    if (fields[key] === undefined && optional) continue;
    if (!check(fields[key])) return { ok: false, error: `${type}: invalid ${key}` };
  }
  return { ok: true, type, value: fields };
}

/**
 * One router for every message: sender trust, then schema, then the handler registered for
 * that trust level and type. Handlers get (value, sender) and return the reply.
 * @param {{content: Record<string, Function>, page: Record<string, Function>}} handlers
 * @param {() => {id: string, origin: string}} self
 */
export function createRouter(handlers, self) {
  return async function route(message, sender) {
    const trust = trustOf(sender, self());
    const checked = validateMessage(message, trust);
    if (!checked.ok) return { ok: false, error: checked.error };
    const handler = handlers[trust]?.[checked.type];
    if (typeof handler !== 'function') return { ok: false, error: `no handler for ${checked.type}` };
    try {
      return { ok: true, result: await handler(checked.value, sender) };
    } catch (e) {
      return { ok: false, error: String(e?.message ?? e) };
    }
  };
}
