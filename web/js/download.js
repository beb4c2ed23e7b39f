// When the server starts without GPT-2, a small bundled model answers at once while GPT-2
// downloads in the background (docs/api.md, `download` in /api/model). This shows that plainly,
// follows the download, and offers the switch once it is done.
import { byId, el } from './dom.js';

// Often enough for a progress bar to move, rarely enough to cost nothing: /api/model never
// waits for the model.
const POLL_MS = 1500;

export function watchDownload(source, onSwitch) {
  if (source.mode !== 'live') return;
  const follow = () => {
    show(source.model, onSwitch);
    if (source.model.download?.state === 'downloading') setTimeout(poll, POLL_MS);
  };
  // A failed poll means the server went away; the next action will say so in words.
  const poll = () => source.refreshModel().then(follow, () => {});
  follow();
}

function show(model, onSwitch) {
  const box = byId('download');
  const download = model.download;
  box.hidden = !download;
  if (!download) return;
  const watching = `You are watching ${model.name}, a small model built into nexttoken`;
  const parts = {
    downloading: () => [`${watching}, while ${download.model} downloads in the background: `, progress(download)],
    ready: () => [`${download.model} is downloaded. `, el('button', {
      type: 'button', class: 'primary', testid: 'switch-model', onclick: onSwitch,
    }, `Switch to ${download.model}`)],
    offline: () => [`${watching}, not ${download.model}. ${download.message}`],
    failed: () => [`${watching}, not ${download.model}: downloading it failed. ${download.message}`],
  }[download.state];
  box.replaceChildren(...(parts ? parts() : []));
}

function progress({ file, bytes, total }) {
  const mb = (n) => (n / 1e6).toFixed(1);
  const bar = el('progress', { max: total ?? 1, value: total ? bytes : 0, 'aria-label': `${file} downloaded` });
  return [`${file}, ${mb(bytes)}${total ? ` of ${mb(total)}` : ''} MB `, bar];
}
