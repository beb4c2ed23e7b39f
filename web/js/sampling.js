// The sampling controls. What they show is exactly what the page sends: slider positions are
// the values themselves, and "off" ends of top-k and top-p are sent as null.
import { byId } from './dom.js';

const MAX_SEED = Number.MAX_SAFE_INTEGER;

export function initSampling({ onChange, onSeedChange, approximate }) {
  const inputs = ['temperature', 'top-p', 'top-k'].map(byId);
  for (const input of inputs) input.addEventListener('input', () => { showValues(); onChange(); });
  byId('greedy').addEventListener('change', () => { showValues(); onChange(); });
  byId('seed').addEventListener('change', () => { byId('seed').value = readSeed(); onSeedChange(); });
  byId('sampling-approx').hidden = !approximate;
  showValues();
}

export function readSettings() {
  const topP = Number(byId('top-p').value);
  const topK = Number(byId('top-k').value);
  return {
    sampling: {
      greedy: byId('greedy').checked,
      temperature: Number(byId('temperature').value),
      top_k: topK === 0 ? null : topK,
      top_p: topP >= 1 ? null : topP,
    },
    seed: readSeed(),
  };
}

// The server takes seeds that a JavaScript number holds exactly; anything else is clamped.
function readSeed() {
  const value = Math.trunc(Number(byId('seed').value));
  return Number.isFinite(value) ? Math.min(Math.max(value, 0), MAX_SEED) : 0;
}

function showValues() {
  const { sampling } = readSettings();
  byId('temperature-value').textContent = sampling.temperature.toFixed(2);
  byId('top-p-value').textContent = sampling.top_p == null ? '1.00 (off)' : sampling.top_p.toFixed(2);
  byId('top-k-value').textContent = sampling.top_k == null ? 'off' : String(sampling.top_k);
  byId('sampling-panel').classList.toggle('greedy', sampling.greedy);
  byId('greedy-note').hidden = !sampling.greedy;
}
