// Stage 2's colouring: each token by its surprisal (−log2 p of it given the tokens before) or
// by the layer where the model committed to its own pick for that slot (the first logit-lens
// layer from which the top token stays the final one), the value on hover. Clicking a token
// opens the logit lens at its position.
import { request } from './api.js';
import { byId, el, setStyle } from './dom.js';
import { count, pct } from './format.js';

// Bits at which the wash is darkest: a 1-in-65,536 token.
const MAX_BITS = 16;
const WASH = { surprisal: [217, 130, 43], committed: [37, 87, 214] };
const answers = new Map(); // token ids joined → /api/surprisal's answer
let mode = 'none';
let shown = null; // the run whose chips are on screen

// `onOpenLens(pos)` shows the lens tab at `pos`.
export function initSurprisal({ source, onOpenLens }) {
  const select = byId('token-colour');
  if (source.mode === 'static') {
    byId('token-colour-box').hidden = true;
    return;
  }
  byId('tokens').classList.add('clickable');
  select.addEventListener('change', () => {
    mode = select.value;
    if (shown) paintTokens(shown);
  });
  byId('tokens').addEventListener('click', (event) => {
    const chip = event.target.closest('[data-testid="token-chip"]');
    if (chip) onOpenLens(Number(chip.dataset.pos));
  });
}

// Colours the chips of `run` (already drawn) as the chosen mode says.
export async function paintTokens(run) {
  shown = run;
  const list = byId('tokens');
  const legend = byId('token-legend');
  const chips = [...list.querySelectorAll('[data-testid="token-chip"]')];
  list.classList.toggle('coloured', mode !== 'none');
  if (mode === 'none') {
    chips.forEach((chip) => { chip.style.removeProperty('background-color'); chip.title = chip.dataset.base ?? chip.title; });
    legend.replaceChildren();
    return;
  }
  const key = run.tokenIds.join();
  let answer = answers.get(key);
  if (!answer) {
    legend.textContent = 'Asking the model how surprising each token was…';
    try {
      answer = (await request('/api/surprisal', { tokens: run.tokenIds })).data;
    } catch (err) {
      legend.textContent = `Could not colour the tokens: ${err.message}`;
      return;
    }
    answers.set(key, answer);
    if (shown !== run) return;
  }
  chips.forEach((chip, pos) => colour(chip, answer.tokens[pos], answer.n_layer));
  legend.replaceChildren(...legendFor(mode, answer.n_layer));
}

function colour(chip, s, nLayer) {
  chip.dataset.base ??= chip.title;
  chip.dataset.surprisal = s.surprisal_bits ?? '';
  chip.dataset.committed = s.committed ?? '';
  const share = mode === 'surprisal' ? (s.surprisal_bits ?? 0) / MAX_BITS : (s.committed ?? 0) / nLayer;
  if (s.surprisal_bits == null) chip.style.removeProperty('background-color');
  else setStyle(chip, { 'background-color': wash(mode, share) });
  chip.title = `${chip.dataset.base}. ${describe(s, nLayer)}`;
}

function describe(s, nLayer) {
  if (s.surprisal_bits == null) return 'Nothing comes before the first token, so nothing predicted it.';
  const where = s.committed === 0 ? 'from the embeddings on' : s.committed === nLayer ? 'only after the last block'
    : `from block ${s.committed} on`;
  return `Surprisal ${s.surprisal_bits.toFixed(2)} bits (the model gave it ${pct(2 ** -s.surprisal_bits)}); `
    + `the model’s own pick for this slot was its top token ${where}`;
}

// Light enough at its darkest that the chip's text stays readable, light or dark.
const wash = (m, share) => `rgba(${WASH[m].join(', ')}, ${(0.06 + 0.44 * Math.min(Math.max(share, 0), 1)).toFixed(3)})`;

function legendFor(m, nLayer) {
  const swatch = (share) => el('span', { class: 'swatch-wash', style: { 'background-color': wash(m, share) } });
  const [low, high] = m === 'surprisal' ? ['0 bits (certain)', `${MAX_BITS}+ bits (1 in ${count(2 ** MAX_BITS)})`]
    : ['committed in the embeddings', `after block ${nLayer}`];
  return [low, ' ', swatch(0), swatch(0.5), swatch(1), ' ', high, '. Hover a token for its value; click it for the logit lens there.'];
}
