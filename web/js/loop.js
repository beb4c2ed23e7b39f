// The next-token panel's frame: beside the stages on wide screens, docked at the bottom on
// narrow ones (CSS decides which), so the prediction, the choice and the text stay in view.
// This keeps the dock's height known to the page, opens and closes the dock, and gives Step
// and Back their keys.
import { byId } from './dom.js';

// Keys that type text must keep typing it: shortcuts act only outside fields that take text.
const TYPING = new Set(['text', 'number', 'search', 'url', 'email', 'password', 'tel']);
const typingIn = (target) => target.isContentEditable || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT'
  || (target.tagName === 'INPUT' && TYPING.has(target.type));

// `keys`: { '.': onStep, ',': onBack } — documented in the panel and on the buttons.
export function initLoop({ keys }) {
  const panel = byId('loop');
  const toggle = byId('dock-toggle');
  toggle.addEventListener('click', () => {
    const open = panel.dataset.open !== 'true';
    panel.dataset.open = String(open);
    toggle.setAttribute('aria-expanded', String(open));
    toggle.textContent = open ? 'Less ▾' : 'More ▴';
  });
  // The page scrolls out from under the dock: its height is the page's bottom padding.
  new ResizeObserver(() => {
    const docked = getComputedStyle(panel).position === 'fixed';
    document.documentElement.style.setProperty('--dock-h', docked ? `${panel.offsetHeight}px` : '0px');
  }).observe(panel);
  document.addEventListener('keydown', (event) => {
    const action = keys[event.key];
    if (!action || event.ctrlKey || event.metaKey || event.altKey || typingIn(event.target)) return;
    event.preventDefault();
    action();
  });
}
