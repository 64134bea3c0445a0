// What the views that show a time range share: links into the log view for the same range,
// and the range buttons (Last 24 hours, 7 days, …) of a view.

import { h } from './dom.js';
import { go, urlOf } from './state.js';

/** A link to the log view listing the records `filters` select in the range of `state`. */
export function logLink(state, filters, text) {
  const target = { view: 'logs', lang: state.lang, since: state.since, until: state.until, ...filters };
  return h('a', {
    href: urlOf(target),
    onclick: (event) => {
      event.preventDefault();
      go(target);
    },
  }, text);
}

function rangeButtons(view) {
  return document.querySelectorAll(`#view-${view} .quick button`);
}

/** Marks the range button of `view` that `state` shows as pressed. */
export function showRange(view, state) {
  for (const button of rangeButtons(view)) {
    button.setAttribute('aria-pressed', String(button.dataset.since === state.since && !state.until));
  }
}

/** Makes the range buttons of `view` show that range (from now: no until, no page). */
export function bindRange(view, getState) {
  for (const button of rangeButtons(view)) {
    button.addEventListener('click', () => {
      const { until, cursor, record, ...rest } = getState();
      go({ ...rest, view, since: button.dataset.since });
    });
  }
}
