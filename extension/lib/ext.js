/**
 * Every browser API the extension uses, behind one thin wrapper (Chrome's `chrome.*` or
 * Firefox's `browser.*`). Nothing else touches the browser's globals, so the rest of the code
 * reads as plain logic and the pure modules load in Node.
 */

const api = () => globalThis.browser ?? globalThis.chrome;

export const runtime = {
  id: () => api().runtime.id,
  getURL: (path) => api().runtime.getURL(path),
  /** The extension's own origin, e.g. `chrome-extension://<id>`. */
  origin: () => api().runtime.getURL('').replace(/\/$/, ''),
  sendMessage: (message) => api().runtime.sendMessage(message),
  uiLanguage: () => api().i18n.getUILanguage(),
  openOptionsPage: () => api().runtime.openOptionsPage(),
};

/**
 * Registers `handler(message, sender) → Promise<reply>` for runtime messages. Chrome's
 * callback-style reply is used because returning a Promise is not supported everywhere.
 */
export function onMessage(handler) {
  api().runtime.onMessage.addListener((message, sender, sendResponse) => {
    Promise.resolve()
      .then(() => handler(message, sender))
      .then(sendResponse, (e) => sendResponse({ ok: false, error: String(e?.message ?? e) }));
    return true;
  });
}

/** addListener on `api.<namespace>.<event>` (e.g. on('webNavigation.onBeforeNavigate', fn)). */
export function on(path, listener, ...extra) {
  const [ns, event] = path.split('.');
  api()[ns][event].addListener(listener, ...extra);
}

export const storage = {
  local: {
    get: (keys) => api().storage.local.get(keys),
    set: (items) => api().storage.local.set(items),
  },
  session: {
    get: (keys) => api().storage.session.get(keys),
    set: (items) => api().storage.session.set(items),
    remove: (keys) => api().storage.session.remove(keys),
  },
  /** Enterprise policy values; {} where the browser has none (or no managed storage at all). */
  managed: async () => {
    try {
      return (await api().storage.managed.get(null)) ?? {};
    } catch {
      return {};
    }
  },
};

export const tabs = {
  get: (tabId) => api().tabs.get(tabId),
  update: (tabId, props) => api().tabs.update(tabId, props),
  create: (props) => api().tabs.create(props),
  remove: (tabId) => api().tabs.remove(tabId),
  activeInCurrentWindow: async () => (await api().tabs.query({ active: true, currentWindow: true }))[0],
};

export const downloads = {
  search: (query) => api().downloads.search(query),
  pause: (id) => api().downloads.pause(id),
  resume: (id) => api().downloads.resume(id),
  cancel: (id) => api().downloads.cancel(id),
  removeFile: (id) => api().downloads.removeFile(id),
  erase: (query) => api().downloads.erase(query),
};

export const notifications = {
  create: (id, options) => api().notifications.create(id, options),
};

export const alarms = {
  create: (name, info) => api().alarms.create(name, info),
  clear: (name) => api().alarms.clear(name),
};

export const dnr = {
  getDynamicRules: () => api().declarativeNetRequest.getDynamicRules(),
  updateDynamicRules: (options) => api().declarativeNetRequest.updateDynamicRules(options),
  getSessionRules: () => api().declarativeNetRequest.getSessionRules(),
  updateSessionRules: (options) => api().declarativeNetRequest.updateSessionRules(options),
};

/** `fetch` as the extension uses it (bound, so it can be passed around). */
export const fetchUrl = (...args) => globalThis.fetch(...args);
