// The page's own requests (Run, Step, a pick, Play's steps) in the next-token panel: one that
// takes longer than 300 ms says what the model is doing and for how long, with a Cancel button.
// A cancelled one leaves the panel as it was, says so, and hands focus to Step.
import { byId } from './dom.js';

const SHOW_AFTER_MS = 300;

// Runs `work(signal)`; an AbortError is what a cancelled one throws.
export async function track(what, work) {
  const box = byId('busy');
  const text = byId('busy-text');
  const cancel = byId('busy-cancel');
  const controller = new AbortController();
  const started = performance.now();
  const tick = () => {
    text.textContent = `${what}… ${((performance.now() - started) / 1000).toFixed(1)} s`;
  };
  let ticking = null;
  const show = setTimeout(() => {
    tick();
    cancel.hidden = false;
    box.hidden = false;
    ticking = setInterval(tick, 100);
  }, SHOW_AFTER_MS);
  cancel.onclick = () => controller.abort();
  try {
    return await work(controller.signal);
  } finally {
    clearTimeout(show);
    clearInterval(ticking);
    const hadFocus = box.contains(document.activeElement);
    if (controller.signal.aborted) {
      text.textContent = `${what}: cancelled.`;
      cancel.hidden = true;
    } else {
      box.hidden = true;
    }
    if (hadFocus) byId('step').focus();
  }
}

// A new action clears what the last cancelled one said.
export function clearTrack() {
  byId('busy').hidden = true;
}
