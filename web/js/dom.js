// A tiny DOM builder. Token texts are arbitrary bytes from a model, so text always goes in as
// text nodes, never as HTML.

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value == null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'testid') node.dataset.testid = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    // CSSOM, not a style attribute: the page's CSP refuses inline style attributes.
    else if (key === 'style') setStyle(node, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  node.append(...children.flat(Infinity).filter((c) => c != null && c !== false));
  return node;
}

export function setStyle(node, styles) {
  for (const [property, value] of Object.entries(styles)) node.style.setProperty(property, value);
}

export const byId = (id) => document.getElementById(id);

// Calls `fn` once calls have stopped for `ms`, so a dragged slider asks the server once.
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Re-rendering a list replaces its buttons; this keeps the keyboard user's place in it.
export function keepFocus(list, attribute, render) {
  const active = document.activeElement;
  const value = list.contains(active) ? active.getAttribute(attribute) : null;
  render();
  if (value == null) return;
  const again = list.querySelector(`[${attribute}="${CSS.escape(value)}"]`);
  if (again && !again.disabled) again.focus();
}
