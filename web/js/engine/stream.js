// Streams a model file straight into the engine's memory: no second copy of the weights in
// JavaScript, and progress as the bytes arrive (a download, or a read from the Cache API).

// Writes `response`'s body into a fresh engine image and reports progress(loaded, total).
export async function streamInto(engine, response, progress = () => {}) {
  const total = Number(response.headers.get('content-length'));
  if (!Number.isFinite(total) || total <= 0) {
    // Without a length the image cannot be sized ahead: read it whole (small files only).
    const bytes = new Uint8Array(await response.arrayBuffer());
    engine.image(bytes.length)(bytes, 0);
    progress(bytes.length, bytes.length);
    return bytes.length;
  }
  const write = engine.image(total);
  const reader = response.body.getReader();
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (loaded + value.length > total) throw new Error(`${response.url} is longer than its announced ${total} bytes`);
    write(value, loaded);
    loaded += value.length;
    progress(loaded, total);
  }
  if (loaded !== total) throw new Error(`${response.url} ended after ${loaded} of ${total} bytes`);
  return total;
}
