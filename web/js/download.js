// When the server starts without GPT-2, a small bundled model answers at once while GPT-2
// downloads in the background (docs/api.md, `download` in /api/model). This says which model
// the learner is watching and what it read, follows the download, and offers the switch once
// it is done. A live export (the engine in this browser) starts the same way, but fetches
// GPT-2 only when the learner asks, and switches to it as soon as it has arrived.
import { byId, el } from './dom.js';

// Often enough for a progress bar to move, rarely enough to cost nothing: /api/model never
// waits for the model.
const POLL_MS = 1500;

export function watchDownload(source, onSwitch) {
  if (source.mode !== 'live') return;
  const here = source.runsIn === 'browser';
  const follow = () => {
    const state = source.model.download?.state;
    // Switch as soon as GPT-2 has arrived; a switch refused while another action runs is
    // tried again at the next poll, until the model has changed.
    if (here && state === 'ready') {
      onSwitch();
      setTimeout(poll, POLL_MS);
      return;
    }
    show(source.model, here ? () => {
      source.fetchModel();
      poll();
    } : onSwitch, here);
    if (state === 'downloading') setTimeout(poll, here ? POLL_MS / 5 : POLL_MS);
  };
  // A failed poll means the server went away; the next action will say so in words.
  const poll = () => source.refreshModel().then(follow, () => {});
  follow();
}

function show(model, onAction, here) {
  const box = byId('download');
  const download = model.download;
  // After a switch the download stays `ready`, but there is nothing left to announce.
  box.hidden = model.source !== 'bundled';
  if (box.hidden) return;
  const action = (label) => el('button', { type: 'button', class: 'primary', testid: 'load-model', onclick: onAction }, label);
  const parts = (here ? {
    available: () => [` ${download.kept ? `${title(download.model)} is kept in this browser: ` : ''}`,
      action(`Load ${title(download.model)}`),
      download.kept ? ' (no download).' : ` (${size(download.total)} to download, then kept in this browser).`],
    downloading: () => [` ${title(download.model)} is ${download.kept ? 'loading from this browser' : 'downloading'}: `, progress(download)],
    failed: () => [` ${title(download.model)} could not be downloaded: neither this site nor huggingface.co answered. `,
      action('Try again'), details(download.message)],
  } : {
    downloading: () => [` ${download.model} is downloading in the background: `, progress(download)],
    ready: () => [` ${download.model} has downloaded. `, el('button', {
      type: 'button', class: 'primary', testid: 'switch-model', onclick: onAction,
    }, `Switch to ${download.model}`)],
    offline: () => [` ${download.model} is unavailable: this server runs offline. `, details(download.message)],
    failed: () => [` Downloading ${download.model} failed; restart the server with a network to try again. `, details(download.message)],
  })[download?.state];
  box.replaceChildren(
    el('strong', {}, `You are watching ${model.name}`),
    `, a small model ${here ? 'shipped with this page' : 'built into nexttoken'} and trained only on State of the `
      + 'Union speeches (1790–2021): it writes like a president’s address and knows little else.',
    // A part may be a list of nodes (the progress line): replaceChildren takes nodes only.
    ...(parts ? parts().flat() : []),
  );
}

// The server's own words (a path, an environment variable, an io error) go behind a
// disclosure that wraps anywhere, so a long unbroken line never widens a phone's page.
function details(message) {
  return message ? el('details', { class: 'raw' }, el('summary', {}, 'Details'), el('code', {}, message)) : null;
}

const title = (name) => (name === 'gpt2' ? 'GPT-2 small' : name);
const size = (bytes) => (bytes ? `${Math.round(bytes / 1e6)} MB` : 'a few hundred MB');

function progress({ file, bytes, total }) {
  const mb = (n) => (n / 1e6).toFixed(1);
  const bar = el('progress', { max: total ?? 1, value: total ? bytes : 0, 'aria-label': `${file} downloaded` });
  return [`${file}, ${mb(bytes)}${total ? ` of ${mb(total)}` : ''} MB `, bar];
}
