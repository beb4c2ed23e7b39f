// Streams a model file straight into the engine's memory, with progress as the bytes arrive:
// from a download (each chunk also written to the copy this browser keeps) or from that kept
// copy. The engine's image is sized once, up front; no copy of the whole file ever exists on
// the JavaScript heap, and where the browser allows it a download's chunks all land in one
// reused buffer, so the download leaves no garbage behind either.

import { Narrower, plan } from './narrow.js';

// The buffer a download is read into, and the pieces a kept copy is read in.
const CHUNK = 1 << 20;
// How long a read of a kept copy goes on before it lets the worker read its messages: each
// pause costs a timer's 4 ms clamp, 1 s if taken after every piece of GPT-2 small.
const PAUSE_MS = 50;

// Writes `response`'s body into a fresh engine image and into `copy` (keep.js) when given;
// reports progress(loaded, total). `size` is the file's length where the response announces
// none; with `narrow`, f32 tensors are narrowed to f16 on the way (narrow.js). Resolves to the
// file's length.
export async function streamInto(engine, response, { size = 0, copy = null, progress = () => {}, narrow = false } = {}) {
  const total = Number(response.headers.get('content-length')) || size;
  if (!(total > 0)) throw new Error(`${response.url} did not say how long it is`);
  let into = null;
  let head = new Uint8Array(0);
  let loaded = 0;
  for await (const chunk of chunks(response.body)) {
    if (loaded + chunk.length > total) throw new Error(`${response.url} is longer than its announced ${total} bytes`);
    loaded += chunk.length;
    if (into) {
      into(chunk);
    } else {
      // The first bytes are held (copied out of the reader's buffer) until the header is in.
      const more = new Uint8Array(head.length + chunk.length);
      more.set(head);
      more.set(chunk, head.length);
      head = more;
      into = sink(engine, head, total, narrow, copy);
      into?.(head);
    }
    progress(loaded, total);
  }
  if (loaded !== total || !into) throw new Error(`${response.url} ended after ${loaded} of ${total} bytes`);
  return total;
}

// What takes the file's bytes in order: written as they are into an image of `total` bytes,
// or narrowed into one of the narrowed file's size; null while `head` holds too little of the
// header to know which.
function sink(engine, head, total, narrow, copy) {
  const layout = narrow ? plan(head) : null;
  if (narrow && layout === null) return null;
  if (!layout?.narrows) {
    const image = engine.image(total);
    let at = 0;
    return (bytes) => {
      image.write(bytes, at);
      copy?.write(bytes, at);
      at += bytes.length;
    };
  }
  if (layout.length !== total) throw new Error(`the safetensors header describes ${layout.length} bytes, the file has ${total}`);
  const image = engine.image(layout.total);
  const narrower = new Narrower(layout, (bytes, at) => {
    image.write(bytes, at);
    copy?.write(bytes, at);
  });
  return (bytes) => narrower.push(bytes);
}

// Reads a kept copy (keep.js's open()) into a fresh engine image in pieces, so that progress
// moves and the worker answers its messages every PAUSE_MS.
export async function readInto(engine, kept, progress = () => {}) {
  const image = engine.image(kept.size);
  let paused = performance.now();
  for (let at = 0; at < kept.size; at += CHUNK) {
    const length = Math.min(CHUNK, kept.size - at);
    if (kept.read(image.view(at, length), at) !== length) throw new Error('the copy kept in this browser is incomplete');
    progress(at + length, kept.size);
    if (performance.now() - paused > PAUSE_MS) {
      await new Promise((resume) => setTimeout(resume));
      paused = performance.now();
    }
  }
  return kept.size;
}

// The body's chunks: through a reader that fills one buffer over and over where the body is
// a byte stream (a fetch's, in browsers), else as the stream hands them out. Stopping early
// (an error) cancels the rest of the download.
async function* chunks(body) {
  const byob = byobReader(body);
  const reader = byob ?? body.getReader();
  let buffer = new ArrayBuffer(byob ? CHUNK : 0);
  try {
    for (;;) {
      const { done, value } = await (byob ? reader.read(new Uint8Array(buffer)) : reader.read());
      if (done) return;
      yield value;
      buffer = value.buffer; // a BYOB read hands the same memory back
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

function byobReader(body) {
  try {
    return body.getReader({ mode: 'byob' });
  } catch {
    return null; // not a byte stream
  }
}
