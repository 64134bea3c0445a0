// MeetGuard service worker. Every listener is registered synchronously at the top level, so
// the browser can wake the worker for any of these events; the handlers live in worker/.
import * as ext from './lib/ext.js';
import { createWorker } from './worker/app.js';

const worker = createWorker(ext);

ext.onMessage(worker.route);
ext.on('webNavigation.onBeforeNavigate', worker.onBeforeNavigate);
ext.on('downloads.onCreated', worker.onDownloadCreated);
ext.on('downloads.onChanged', worker.onDownloadChanged);
ext.on('alarms.onAlarm', (alarm) => worker.onAlarm(alarm).catch(() => {}));
ext.on('storage.onChanged', (changes, area) => worker.onStorageChanged(changes, area).catch(() => {}));
ext.on('runtime.onInstalled', () => worker.onStart().catch(() => {}));
ext.on('runtime.onStartup', () => worker.onStart().catch(() => {}));
