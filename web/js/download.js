// When the server starts without GPT-2, a small bundled model answers at once while GPT-2
// downloads in the background (docs/api.md, `download` in /api/model). This says which model
// the learner is watching and what it read, follows the download, and offers the switch once
// it is done.
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
  // After a switch the download stays `ready`, but there is nothing left to announce.
  box.hidden = model.source !== 'bundled';
  if (box.hidden) return;
  const parts = {
    downloading: () => [` ${download.model} is downloading in the background: `, progress(download)],
    ready: () => [` ${download.model} has downloaded. `, el('button', {
      type: 'button', class: 'primary', testid: 'switch-model', onclick: onSwitch,
    }, `Switch to ${download.model}`)],
    offline: () => [` ${download.model} is unavailable: this server runs offline. `, details(download.message)],
    failed: () => [` Downloading ${download.model} failed; restart the server with a network to try again. `, details(download.message)],
  }[download?.state];
  box.replaceChildren(
    el('strong', {}, `You are watching ${model.name}`),
    ', a small model built into nexttoken and trained only on State of the Union speeches (1790–2021): '
      + 'it writes like a president’s address and knows little else.',
    ...(parts ? parts() : []),
  );
}

// The server's own words (a path, an environment variable, an io error) go behind a
// disclosure that wraps anywhere, so a long unbroken line never widens a phone's page.
function details(message) {
  return message ? el('details', { class: 'raw' }, el('summary', {}, 'Details'), el('code', {}, message)) : null;
}

function progress({ file, bytes, total }) {
  const mb = (n) => (n / 1e6).toFixed(1);
  const bar = el('progress', { max: total ?? 1, value: total ? bytes : 0, 'aria-label': `${file} downloaded` });
  return [`${file}, ${mb(bytes)}${total ? ` of ${mb(total)}` : ''} MB `, bar];
}
