// The browser engine's own memory, stage by stage as a reader of the live site goes through
// them: the site's model loaded and run, GPT-2 streamed in beside it, loaded, run on a prompt
// and stepped. Node.js runs the same .wasm and web/js/engine modules the page's Web Worker
// does; a WebAssembly memory never shrinks, so each figure is the peak so far.
//
//   node bench/wasm/memory.mjs SITE_DIR [PROMPT_WORDS]
// SITE_DIR: `nexttoken export --live --with-weights DIR --out SITE_DIR`.
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { streamInto } from '../../web/js/engine/stream.js';
import { instantiate } from '../../web/js/engine/wasm.js';

const [dir, words = '40'] = process.argv.slice(2);
if (!dir) throw new Error('usage: node bench/wasm/memory.mjs SITE_DIR [PROMPT_WORDS]');
const site = JSON.parse(readFileSync(join(dir, 'models/models.json'), 'utf8'));
const engine = await instantiate(readFileSync(join(dir, site.engine)));
const rows = [];
const note = (stage) => rows.push({ stage, mb: engine.exports.memory.buffer.byteLength / 1e6 });

// A model's weights streamed in as the worker streams a download, then loaded.
async function load(key) {
  const m = site.models[key];
  const path = join(dir, m.dir, 'model.safetensors');
  const headers = { 'content-length': String(statSync(path).size) };
  await streamInto(engine, new Response(Readable.toWeb(createReadStream(path)), { headers }));
  note(`${key}: weights streamed in`);
  engine.load(m.name, readFileSync(join(dir, m.dir, 'config.json'), 'utf8'), { dtype: m.dtype, source: m.source });
  note(`${key}: loaded`);
}

function run(key) {
  const prompt = Array.from({ length: Number(words) }, (_, i) => `word${i}`).join(' ');
  const sampling = { temperature: 1, top_k: 0, top_p: 1 };
  const trace = engine.request('/api/trace', { prompt, steps: 1, sampling, seed: 1, top_n: 30 });
  if (trace.status !== 200) throw new Error(JSON.stringify(trace.data));
  note(`${key}: a prompt of ${trace.data.token_ids.length} tokens run`);
  const step = engine.request('/api/step', { tokens: trace.data.token_ids, sampling, seed: 1, top_n: 30 });
  if (step.status !== 200) throw new Error(JSON.stringify(step.data));
  note(`${key}: one step after it`);
}

note('engine started');
await load(site.start);
run(site.start);
await load('gpt2');
run('gpt2');
console.log('| stage | engine memory MB |\n|---|---|');
for (const { stage, mb } of rows) console.log(`| ${stage} | ${mb.toFixed(1)} |`);
