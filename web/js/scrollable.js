// A region that scrolls must be reachable by keyboard, or its far side is out of reach for
// anyone without a mouse. A `.scroll` box (charts, heatmaps, tables, a long prompt's tokens)
// with nothing focusable inside becomes a tab stop while, and only while, its content is wider
// or taller than it; the arrow keys then scroll it.
const FOCUSABLE = 'a[href], button, input, select, textarea, [tabindex]:not([tabindex="-1"])';
const observed = new WeakSet();

export function keepScrollablesFocusable(root = document.body) {
  const sizes = new ResizeObserver((entries) => entries.forEach(({ target }) => mark(target)));
  const watch = (node) => {
    if (!node || observed.has(node)) return;
    observed.add(node);
    sizes.observe(node); // also reports its size once, at once
  };
  const scan = () => root.querySelectorAll('.scroll').forEach((box) => { watch(box); watch(box.firstElementChild); });
  new MutationObserver(scan).observe(root, { childList: true, subtree: true });
  scan();
}

function mark(node) {
  const box = node.classList.contains('scroll') ? node : node.parentElement;
  if (!box?.classList.contains('scroll')) return;
  const fits = box.scrollWidth <= box.clientWidth + 1 && box.scrollHeight <= box.clientHeight + 1;
  const reachable = fits || box.querySelector(FOCUSABLE) != null;
  if (reachable === (box.dataset.scrollStop !== 'true')) return;
  if (reachable) {
    delete box.dataset.scrollStop;
    for (const attribute of ['tabindex', 'role', 'aria-label']) box.removeAttribute(attribute);
  } else {
    box.dataset.scrollStop = 'true';
    box.tabIndex = 0;
    box.setAttribute('role', 'region');
    box.setAttribute('aria-label', `${labelOf(box)} (scrolls)`);
  }
}

// Named after the section it belongs to, so the tab stop says what it holds.
function labelOf(box) {
  const heading = box.closest('section, .stage')?.querySelector('h2, h3');
  return heading?.textContent.trim() || 'Chart';
}
