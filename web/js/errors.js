// The message box in the next-token panel, which is always in view: one plain sentence that
// says what to do next, a Retry button when the failed action can simply run again, and the
// raw details (address, status, the browser's or server's own words) behind a disclosure.
import { byId } from './dom.js';

let retryAction = null;
let returnFocus = null;

export function initErrors() {
  byId('error-close').addEventListener('click', () => dismiss());
  byId('error-retry').addEventListener('click', () => {
    const retry = retryAction;
    dismiss();
    retry?.();
  });
}

// `error`: null (clears the box), a sentence, or an Error whose `detail` goes behind the
// disclosure; `retry` runs the failed action again.
export function showError(error, retry = null) {
  const box = byId('error');
  if (!error) {
    box.hidden = true;
    retryAction = null;
    return;
  }
  const message = typeof error === 'string' ? error : error.message;
  const detail = typeof error === 'string' ? null : error.detail;
  // Where the keyboard user was when it failed: closing the box returns there.
  if (box.hidden) returnFocus = document.activeElement;
  byId('error-text').textContent = message;
  byId('error-detail').textContent = detail ?? '';
  byId('error-details').hidden = !detail;
  byId('error-retry').hidden = !retry;
  retryAction = retry;
  box.hidden = false;
}

// Hides the box; focus goes back to the control the user acted on (or the panel), never to
// the page's body, since the focused button is about to disappear.
function dismiss() {
  const inBox = byId('error').contains(document.activeElement);
  showError(null);
  if (!inBox) return;
  const back = returnFocus?.isConnected && !returnFocus.disabled && returnFocus !== document.body ? returnFocus : byId('loop');
  back.focus();
}
