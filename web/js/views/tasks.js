// The requests a view is waiting for, in the view itself: after 300 ms one says what it is
// computing and for how long, with a Cancel button; a cancelled or failed one stays with a
// Retry button (one row and button per kind of request, so keyboard focus stays put). An
// error belongs to the view that made the request, so it never sits on another tab.
import { el } from '../dom.js';

const SHOW_AFTER_MS = 300;

export function taskList(testid) {
  const box = el('div', { class: 'tasks', testid });
  const slots = new Map(); // key → { row, text, button, controller, timers }
  let pending = 0; // requests out now

  const slot = (key) => {
    if (!slots.has(key)) {
      const text = el('span', { class: 'task-text' });
      const button = el('button', { type: 'button', class: 'task-button', testid: 'task-button' });
      slots.set(key, { row: el('p', { class: 'task', testid: 'task', dataset: { key } }, text, button), text, button });
    }
    return slots.get(key);
  };
  const stop = (s) => {
    clearTimeout(s.timers?.show);
    clearInterval(s.timers?.tick);
    s.controller?.abort();
  };

  // Runs `work(signal)` as `key`, cancelling the one before it with the same key. Resolves to
  // its result, or null when it was cancelled, replaced or failed (the row then says so).
  async function run(key, what, work) {
    const s = slot(key);
    stop(s);
    const controller = new AbortController();
    s.controller = controller;
    const started = performance.now();
    const tick = () => {
      s.text.textContent = `${what}… ${((performance.now() - started) / 1000).toFixed(1)} s`;
      s.button.textContent = 'Cancel';
      s.row.classList.remove('task-error');
      s.row.removeAttribute('role');
      if (!s.row.isConnected) box.append(s.row);
    };
    s.button.onclick = () => controller.abort();
    s.timers = { show: setTimeout(() => { tick(); s.timers.tick = setInterval(tick, 100); }, SHOW_AFTER_MS) };
    const settle = (message, isError) => {
      if (s.controller !== controller) return null; // a newer request of this kind owns the row
      stop(s);
      if (message == null) {
        s.row.remove();
        return null;
      }
      s.text.textContent = message;
      s.button.textContent = 'Retry';
      s.button.onclick = () => run(key, what, work);
      s.row.classList.toggle('task-error', isError);
      if (isError) s.row.setAttribute('role', 'alert');
      if (!s.row.isConnected) box.append(s.row);
      return null;
    };
    pending += 1;
    try {
      const result = await work(controller.signal);
      if (controller.signal.aborted) return settle(`${what}: cancelled.`, false);
      settle(null);
      return result;
    } catch (err) {
      return settle(controller.signal.aborted ? `${what}: cancelled.` : `${what} failed: ${err.message}`, !controller.signal.aborted);
    } finally {
      pending -= 1;
    }
  }

  return {
    box,
    run,
    busy: () => pending > 0,
    // Stops everything and clears the rows: the view shows another sequence now.
    reset() {
      for (const s of slots.values()) {
        stop(s);
        s.controller = null;
        s.row.remove();
      }
    },
  };
}
