// The in-browser engine as the page uses it: the site's own model loaded at once, GPT-2 small
// fetched on request (beside the site when the export put it there, else from the Hugging Face
// hub) and kept in this browser. api.js puts the API's interface on top.
import { startEngine } from './client.js';

// GPT-2 small on the hub: its resolve URLs allow cross-origin reads; the file is f32, narrowed
// to f16 as it streams in, as the copy an export places beside the site is.
const HUB = 'https://huggingface.co/openai-community/gpt2/resolve/main/';
// The key of the model the page offers to load (models.json), GPT-2 small unless the export
// placed another there.
const GPT2 = 'gpt2';

// Reads models/models.json (written by `nexttoken export --live`), starts the engine and
// loads the starting model, reporting onProgress({ model, bytes, total }) as its weights
// arrive. Rejects where WebAssembly or module workers are missing.
export async function openEngine(onProgress = () => {}) {
  const site = await (await fetch('models/models.json')).json();
  const engine = await startEngine(site.engine, site.threads_engine);
  const local = new Local(engine, site);
  const start = local.spec(site.start);
  await local.loadNow(start, ({ bytes, total }) => onProgress({ model: start.name, bytes, total }));
  await local.checkKept();
  return local;
}

class Local {
  constructor(engine, site) {
    this.engine = engine;
    this.site = site;
    // How many threads compute: more than one only where the page is cross-origin isolated.
    this.threads = engine.threads;
    // What the page shows about GPT-2 (download.js): absent once GPT-2 runs.
    this.name = site.models[GPT2]?.name ?? GPT2;
    this.download = this.state('available');
    this.fetched = null;
  }

  // One API request; onProgress({ block, blocks, rows }) follows its passes when they take
  // long, and `signal` abandons it at its next layer.
  request(path, body, { onProgress = null, signal = null } = {}) {
    return this.engine.call('request', { path, body }, onProgress, signal);
  }

  // Where a model's files are: beside the site when listed in models.json (as full URLs:
  // the worker resolves relative ones against its own script).
  spec(key) {
    const m = this.site.models[key];
    const at = (file) => new URL(`${m.dir}${file}`, document.baseURI).href;
    return { name: m.name, config: at('config.json'), weights: at('model.safetensors'), dtype: m.dtype, source: m.source, bytes: m.bytes };
  }

  state(state, more = {}) {
    return { state, model: this.name, ...more };
  }

  // GPT-2 from this site if the export placed it here, then from the hub.
  gpt2Sources() {
    const hub = { name: GPT2, config: `${HUB}config.json`, weights: `${HUB}model.safetensors`, dtype: 'f16', source: 'hub', bytes: 548105171 };
    return this.site.models[GPT2] ? [this.spec(GPT2), hub] : [hub];
  }

  async loadNow(model, onProgress) {
    const { config } = await this.engine.call('fetch', { model }, onProgress);
    await this.engine.call('load', { model, config });
  }

  async checkKept() {
    for (const model of this.gpt2Sources()) {
      if (await this.engine.call('kept', { model }).catch(() => false)) {
        this.download = this.state('available', { kept: true, total: model.bytes });
        return;
      }
    }
    this.download = this.state('available', { total: this.gpt2Sources()[0].bytes });
  }

  // Fetches GPT-2 into the engine in the background; `download` follows it.
  startDownload() {
    if (this.download.state === 'downloading') return;
    this.download = this.state('downloading', { file: 'model.safetensors', bytes: 0, total: null });
    this.fetchGpt2().then(
      (fetched) => {
        this.fetched = fetched;
        this.download = this.state('ready');
      },
      (err) => {
        this.download = this.state('failed', { message: err.message });
      },
    );
  }

  async fetchGpt2() {
    const failures = [];
    for (const model of this.gpt2Sources()) {
      try {
        const onProgress = ({ bytes, total, kept }) => Object.assign(this.download, { bytes, total, kept });
        const { config } = await this.engine.call('fetch', { model }, onProgress);
        return { model, config };
      } catch (err) {
        failures.push(err.message);
      }
    }
    throw new Error(failures.join('; '));
  }

  // Makes the fetched GPT-2 the model that answers.
  async switchToDownloaded() {
    if (!this.fetched) throw new Error('GPT-2 has not been downloaded yet');
    await this.engine.call('load', this.fetched);
    this.fetched = null;
    this.download = null;
  }
}
