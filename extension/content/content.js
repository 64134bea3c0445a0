// MeetGuard content script (classic script: the browser does not load content scripts as
// modules). It registers the click listeners synchronously at document_start, so no click is
// missed, and loads the module that does the work (content/main.js) from the extension.
(() => {
  const api = globalThis.browser ?? globalThis.chrome;
  let impl = null;
  const early = [];
  const onClick = (event) => {
    if (impl) impl.onClick(event);
    else if (holdEarly(event)) early.push(event);
  };
  // Before the module is there, a link click is held and then decided by the worker.
  function holdEarly(event) {
    const link = event.composedPath().find((n) => n instanceof HTMLAnchorElement || n instanceof HTMLAreaElement);
    if (!event.isTrusted || !link?.href || !/^(https?|zoommtg|zoomus|msteams|ms-teams):/i.test(link.href)) return false;
    event.preventDefault();
    event.stopImmediatePropagation();
    return true;
  }
  addEventListener('click', onClick, true);
  addEventListener('auxclick', onClick, true);
  import(api.runtime.getURL('content/main.js'))
    .then((module) => module.start())
    .then((started) => {
      impl = started;
      for (const event of early.splice(0)) impl.decideHeld(event);
    })
    .catch(() => {
      impl = { onClick: () => {} };
    });
})();
