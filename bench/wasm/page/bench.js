// Starts the worker with the settings in the URL (?dtype=f32&runs=3, &threads=N for the
// threaded build) and publishes its report.
const params = new URLSearchParams(location.search);
const worker = new Worker('worker.js', { type: 'module' });
worker.onmessage = ({ data }) => {
  window.benchResult = data;
};
worker.onerror = (e) => {
  window.benchResult = { error: e.message || 'the worker failed to start' };
};
worker.postMessage({
  dtype: params.get('dtype') ?? 'f32',
  threads: Number(params.get('threads') ?? 0),
  sizes: {
    prefill_tokens: Number(params.get('prefill') ?? 256),
    prompt_tokens: Number(params.get('prompt') ?? 32),
    decode_tokens: Number(params.get('decode') ?? 64),
    runs: Number(params.get('runs') ?? 3),
  },
});
