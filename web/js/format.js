// How numbers and tokens are written on the page.
import { el } from './dom.js';

const BYTE_ESCAPE = /(<0x[0-9A-F]{2}>)/;

// A token's visible form: `display` (or `text`) with raw bytes of a split character and the
// leading-space marker styled apart, since both are easy to misread as ordinary characters.
export function tokenNodes({ text, display }) {
  const shown = display ?? text;
  const parts = shown.split(BYTE_ESCAPE).filter(Boolean);
  return parts.flatMap((part, i) => {
    if (BYTE_ESCAPE.test(part)) {
      return el('span', { class: 'byte', title: 'one raw byte of a character split across tokens' }, part);
    }
    if (i === 0 && display != null && text?.startsWith(' ') && part.startsWith('·')) {
      return [el('span', { class: 'space', title: 'a space' }, '·'), part.slice(1)];
    }
    return part;
  });
}

// Percentages keep two decimals, but a random or flat distribution puts every token far below
// 0.01%, where two decimals would show the same 0.00% for all of them.
export function pct(p) {
  if (p === 0) return '0%';
  const percent = p * 100;
  return percent >= 0.01 ? `${percent.toFixed(2)}%` : `${percent.toPrecision(2)}%`;
}

export const bits = (x) => `${x.toFixed(2)} bits`;

export const ms = (x) => (x >= 100 ? `${Math.round(x)} ms` : `${x.toFixed(1)} ms`);

export const count = (n) => n.toLocaleString('en-US');

export const plural = (n, word) => `${count(n)} ${word}${n === 1 ? '' : 's'}`;

export function hexBytes(bytes) {
  return bytes.map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');
}

export const norm = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
