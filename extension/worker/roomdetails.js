/**
 * The worker's half of the room-details guard. A content script that catches room details on
 * their way out opens the dialog through here; the dialog (an extension page the web page can
 * neither read nor click) asks here what was found and tells here what the person chose; the
 * content script polls for the choice. The choice and its event come from the dialog only: a
 * page cannot report "removed" or "sent anyway" for the person.
 */

import { choiceEvent } from '../lib/roomdetails.js';
import { randomToken } from '../lib/files.js';

const MAX_PENDING = 20;
const PENDING_MS = 30 * 60 * 1000;

export function createRoomDetails(ext, state, core) {
  const pending = new Map();

  function prune(now = Date.now()) {
    for (const [token, entry] of pending) {
      if (now - entry.created > PENDING_MS || pending.size > MAX_PENDING) pending.delete(token);
    }
  }

  function entryFor(token, sender) {
    const entry = pending.get(token);
    if (!entry || entry.tabId !== sender.tab?.id) throw new Error('no such room-details dialog in this tab');
    return entry;
  }

  const content = {
    async 'room-details-dialog'({ findings, domains, context }, sender) {
      if (!sender.tab) throw new Error('only a page in a tab may ask');
      await state.ensure();
      prune();
      const token = randomToken();
      pending.set(token, { tabId: sender.tab.id, findings, domains, context, choice: null, created: Date.now() });
      return { token, url: ext.runtime.getURL(`pages/roomdetails/dialog.html#${token}`) };
    },
    async 'room-details-outcome'({ token }, sender) {
      const entry = entryFor(token, sender);
      if (entry.choice) pending.delete(token);
      return { choice: entry.choice };
    },
  };

  const page = {
    async 'room-details-get'({ token }, sender) {
      const entry = entryFor(token, sender);
      return { findings: entry.findings, domains: entry.domains, context: entry.context, lang: (await state.ensure()).lang };
    },
    async 'room-details-choose'({ token, choice }, sender) {
      const entry = entryFor(token, sender);
      if (entry.choice) return true;
      entry.choice = choice;
      await core.report(choiceEvent(choice, entry.findings, entry.domains, entry.context)).catch(() => {});
      return true;
    },
  };

  return { content, page };
}
