// The page's own requests (Run, Step, a pick, Play's steps) in the next-token panel: one that
// takes longer than 300 ms says what the model is doing and for how long, with a Cancel button.
// A cancelled one leaves the panel as it was, says so, and hands focus to Step.
import { byId } from './dom.js';

const SHOW_AFTER_MS = 300;

// Runs `work(signal)`; an AbortError is what a cancelled one throws. Work that cannot stop
// (`cancellable: false`) shows its progress without the button.
export async function track(what, work, { cancellable = true } = {}) {
  const box = byId('busy');
  const text = byId('busy-text');
  const cancel = byId('busy-cancel');
  const controller = new AbortController();
  const started = performance.now();
  // Where the engine in this browser is in its passes (it reports on the request's signal).
  let layer = '';
  controller.signal.addEventListener('progress', ({ detail: { block, blocks, rows } }) => {
    const tokens = `${rows.toLocaleString('en-US')} token${rows === 1 ? '' : 's'}`;
    layer = block < blocks ? `, layer ${block + 1} of ${blocks} (${tokens})` : `, last layer done (${tokens})`;
  });
  const tick = () => {
    text.textContent = `${what}… ${((performance.now() - started) / 1000).toFixed(1)} s${layer}`;
  };
  let ticking = null;
  const show = setTimeout(() => {
    tick();
    cancel.hidden = !cancellable;
    box.hidden = false;
    ticking = setInterval(tick, 100);
  }, SHOW_AFTER_MS);
  cancel.onclick = () => controller.abort();
  let cancelled = false;
  try {
    return await work(controller.signal);
  } catch (err) {
    cancelled = err.name === 'AbortError';
    throw err;
  } finally {
    clearTimeout(show);
    clearInterval(ticking);
    const hadFocus = box.contains(document.activeElement);
    text.textContent = cancelled ? `${what}: cancelled.` : '';
    cancel.hidden = true;
    box.hidden = !cancelled;
    if (hadFocus) byId('step').focus();
  }
}

// A new action clears what the last cancelled one said.
export function clearTrack() {
  byId('busy').hidden = true;
}
