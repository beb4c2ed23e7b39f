// The model files this browser keeps, so a second visit starts without a download: files in
// the origin private file system, written and read through the Web Worker's synchronous access
// handles chunk by chunk, from a download's chunks and straight into the engine's memory. No
// copy of a model's weights ever sits on the JavaScript heap (the Cache API takes a whole
// Response: a second stream of every download, whose chunks piled up as garbage on the
// worker's heap). A file is written under a temporary name and renamed once complete, so a
// download cut short is never taken for a kept model.

const DIR = 'nexttoken-models-v1';
const PART = '.part';
const encoder = new TextEncoder();

// Deletes the Cache API copies that versions before the file store kept (under the store's
// name), which nothing reads any more: a copy of GPT-2 is half a gigabyte of the reader's disk.
// Quietly, for the rest of the page does not wait on it or care whether there were any.
export function forgetCacheCopies() {
  self.caches?.delete(DIR).catch(() => {});
}

// The store, or null where this page can keep nothing (no origin private file system or no
// synchronous access to it: a page not served from https or localhost, an older browser).
export async function openStore() {
  if (typeof FileSystemFileHandle !== 'function' || !FileSystemFileHandle.prototype.createSyncAccessHandle) return null;
  try {
    const root = await navigator.storage.getDirectory();
    return new Store(await root.getDirectoryHandle(DIR, { create: true }));
  } catch {
    return null;
  }
}

class Store {
  constructor(dir) {
    this.dir = dir;
  }

  // Whether a copy of `url` is kept here, made from a download of `size` bytes (a site
  // exported again may have changed the file behind the same address; the copy itself may be
  // smaller, narrowed to f16).
  async has(url, size = null) {
    return (await this.file(url, size)) !== null;
  }

  // The copy of `url` kept from a download of `size` bytes, as { size, read(view, at),
  // close() } (its own size; read answers how many bytes it read into `view` from offset
  // `at`); null when none is kept, or another tab holds it.
  async open(url, size = null) {
    try {
      // Several readers at once where the browser allows it (others open one at a time).
      const handle = await (await this.file(url, size)).createSyncAccessHandle({ mode: 'read-only' });
      return { size: handle.getSize(), read: (view, at) => handle.read(view, { at }), close: () => handle.close() };
    } catch {
      return null;
    }
  }

  // A new copy of `url` from a download of `size` bytes (see Copy), or null where it cannot be
  // written (another tab is writing it, or the storage refuses).
  async create(url, size = null) {
    const name = await nameOf(url, size);
    try {
      const file = await this.dir.getFileHandle(name + PART, { create: true });
      const handle = await file.createSyncAccessHandle();
      handle.truncate(0);
      return new Copy(this.dir, file, handle, name);
    } catch {
      return null;
    }
  }

  // A small file kept whole (a config.json): its text, or null.
  async readText(url) {
    const file = await this.file(url);
    return file ? file.getFile().then((f) => f.text(), () => null) : null;
  }

  async writeText(url, text) {
    const copy = await this.create(url);
    copy?.write(encoder.encode(text), 0);
    await copy?.keep();
  }

  async file(url, size = null) {
    return this.dir.getFileHandle(await nameOf(url, size)).catch(() => null);
  }
}

// A file being written: write(bytes, at) as chunks arrive, then keep() once it is complete or
// drop() when the download failed. A write the storage refuses (a full disk, the quota) only
// means the file is not kept.
class Copy {
  constructor(dir, file, handle, name) {
    Object.assign(this, { dir, file, handle, name, failed: false });
  }

  write(bytes, at) {
    if (this.failed) return;
    try {
      if (this.handle.write(bytes, { at }) !== bytes.length) this.failed = true;
    } catch {
      this.failed = true;
    }
  }

  async keep() {
    this.close();
    if (!this.failed) {
      try {
        await this.dir.removeEntry(this.name).catch(() => {}); // an older copy
        await this.file.move(this.name);
        return;
      } catch {
        // Not renamed (a browser without move(), another tab reading the older copy): not kept.
      }
    }
    await this.drop();
  }

  async drop() {
    this.close();
    await this.dir.removeEntry(this.name + PART).catch(() => {});
  }

  close() {
    try {
      this.handle.close();
    } catch {
      this.failed = true;
    }
  }
}

// A file's name for `url`: its SHA-256 in hex (an address has characters and lengths that no
// file name may), then the length of the download it was made from, where one is named.
async function nameOf(url, size) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(url)));
  const hex = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
  return size === null ? hex : `${hex}-${size}`;
}
