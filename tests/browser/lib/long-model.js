// A model with room for long prompts, made from the tiny fixture: the same weights with its
// 64 learned positions repeated up to `positions` rows of `wpe`. The numbers mean nothing; the
// point is a model that reads 1,024 tokens in milliseconds, so the page's long-prompt views can
// be tested without GPT-2. Usage: node lib/long-model.js FIXTURE_DIR OUT_DIR [positions]
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const WPE = /(^|\.)wpe\.weight$/;

export async function stretchPositions(fixture, out, positions = 1024) {
  const file = await readFile(join(fixture, 'model.safetensors'));
  const headerLength = Number(file.readBigUInt64LE(0));
  const header = JSON.parse(file.subarray(8, 8 + headerLength).toString('utf8'));
  const data = file.subarray(8 + headerLength);
  const names = Object.keys(header).filter((k) => k !== '__metadata__')
    .sort((a, b) => header[a].data_offsets[0] - header[b].data_offsets[0]);
  const chunks = [];
  const next = { __metadata__: header.__metadata__ };
  let offset = 0;
  for (const name of names) {
    const { dtype, shape, data_offsets: [from, to] } = header[name];
    let bytes = data.subarray(from, to);
    let newShape = shape;
    if (WPE.test(name)) {
      if (dtype !== 'F32') throw new Error(`${name} is ${dtype}; only F32 is stretched`);
      const rowBytes = bytes.length / shape[0];
      bytes = Buffer.concat(Array.from({ length: positions }, (_, i) => bytes.subarray((i % shape[0]) * rowBytes, (i % shape[0] + 1) * rowBytes)));
      newShape = [positions, shape[1]];
    }
    next[name] = { dtype, shape: newShape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(next);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // the format pads the header to 8 bytes
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const config = JSON.parse(await readFile(join(fixture, 'config.json'), 'utf8'));
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'config.json'), JSON.stringify({ ...config, n_positions: positions }, null, 2));
  await writeFile(join(out, 'model.safetensors'), Buffer.concat([length, Buffer.from(json), ...chunks]));
}

if (process.argv[1]?.endsWith('long-model.js')) {
  const [fixture, out, positions] = process.argv.slice(2);
  await stretchPositions(fixture, out, positions ? Number(positions) : undefined);
}
