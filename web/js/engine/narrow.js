// A safetensors file's f32 tensors narrowed to f16 as it streams in, so a model downloaded in
// f32 (GPT-2 from the Hugging Face hub, 548 MB) takes the f16 copy's 249 MB in the tab and
// never the f32 file's: Float16Array rounds to nearest, ties to even, as the engine's own
// narrowing does. The result is a safetensors file of its own, kept as it is.

// The header's length, then the header: the first bytes of the file.
const LENGTH_BYTES = 8;

// How the narrowed file is laid out, from the file's first bytes (`head`): null while the
// header is not all there yet, else { header, total, tensors } with the narrowed file's
// header bytes and length, the file's `length` as its header describes it, each tensor's
// place ({ begin, end } in the file, `to` in the narrowed one, `narrow` when f32) and whether
// any is narrowed. Throws on what is no safetensors file.
export function plan(head) {
  if (head.length < LENGTH_BYTES) return null;
  const length = Number(new DataView(head.buffer, head.byteOffset, LENGTH_BYTES).getBigUint64(0, true));
  if (length > 100e6) throw new Error('this is no safetensors file (its header would be longer than 100 MB)');
  if (head.length < LENGTH_BYTES + length) return null;
  const json = JSON.parse(new TextDecoder().decode(head.subarray(LENGTH_BYTES, LENGTH_BYTES + length)));
  const start = LENGTH_BYTES + length;
  const names = Object.keys(json).filter((name) => name !== '__metadata__')
    .sort((a, b) => json[a].data_offsets[0] - json[b].data_offsets[0]);
  const out = json.__metadata__ ? { __metadata__: json.__metadata__ } : {};
  const tensors = [];
  let at = 0;
  let to = 0;
  for (const name of names) {
    const { dtype, shape, data_offsets: [begin, end] } = json[name];
    if (begin !== at) throw new Error(`the safetensors file has a gap or an overlap before ${name}`);
    const narrow = dtype === 'F32';
    const bytes = narrow ? (end - begin) / 2 : end - begin;
    out[name] = { dtype: narrow ? 'F16' : dtype, shape, data_offsets: [to, to + bytes] };
    tensors.push({ begin: start + begin, end: start + end, to, narrow });
    at = end;
    to += bytes;
  }
  // Padded with spaces so the tensors start 8-byte aligned, as the engine uses them in place.
  let text = JSON.stringify(out);
  text += ' '.repeat((8 - ((LENGTH_BYTES + text.length) % 8)) % 8);
  const header = new Uint8Array(LENGTH_BYTES + text.length);
  new DataView(header.buffer).setBigUint64(0, BigInt(text.length), true);
  header.set(new TextEncoder().encode(text), LENGTH_BYTES);
  for (const t of tensors) t.to += header.length;
  return { header, total: header.length + to, length: start + at, tensors, narrows: tensors.some((t) => t.narrow) };
}

// Turns the file's bytes, given in order from its first, into the narrowed file's: write(bytes,
// at) is called with each stretch of it (the bytes valid only during the call).
export class Narrower {
  constructor(layout, write) {
    Object.assign(this, { layout, write, next: 0, carry: new Uint8Array(4), carried: 0 });
    this.f32 = new Float32Array(1 << 18);
    this.f16 = new Float16Array(this.f32.length);
    write(layout.header, 0);
  }

  // The next `bytes` of the file.
  push(bytes) {
    const at = this.next;
    this.next += bytes.length;
    for (const t of this.layout.tensors) {
      const from = Math.max(at, t.begin);
      const until = Math.min(at + bytes.length, t.end);
      if (from >= until) continue;
      const piece = bytes.subarray(from - at, until - at);
      if (t.narrow) this.narrow(piece, t.to + (from - t.begin - this.carried) / 2);
      else this.write(piece, t.to + (from - t.begin));
    }
  }

  // f32 bytes from a 4-byte boundary less the `carried` bytes held from the last piece.
  narrow(piece, to) {
    const bytes = new Uint8Array(this.f32.buffer);
    let taken = 0;
    while (this.carried + (piece.length - taken) >= 4) {
      const values = Math.min(this.f32.length, (this.carried + piece.length - taken) >> 2);
      bytes.set(this.carry.subarray(0, this.carried));
      const fresh = values * 4 - this.carried;
      bytes.set(piece.subarray(taken, taken + fresh), this.carried);
      taken += fresh;
      this.carried = 0;
      this.f16.set(this.f32.subarray(0, values));
      this.write(new Uint8Array(this.f16.buffer, 0, values * 2), to);
      to += values * 2;
    }
    this.carry.set(piece.subarray(taken), this.carried);
    this.carried += piece.length - taken;
  }
}
