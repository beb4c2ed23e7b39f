// The recording's sliders (web/js/approx.js) against the live server's exact distributions:
// every setting the page calls exact must equal /api/distribution to rounding, and every
// approximate one must hold the true numbers inside the ranges it states. The recorded step is
// built the way `nexttoken export` builds it: the top 30 logits, the log-sum-exp, the 31st
// logit and the entropy. No browser: approx.js is a plain module.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { approximate } from '../../web/js/approx.js';

const SERVERS = [process.env.NEXTTOKEN_URL, process.env.NEXTTOKEN_BUNDLED_URL].filter(Boolean);
if (!SERVERS.length) throw new Error('NEXTTOKEN_URL is not set: run tests/browser/run.sh');
const PROMPTS = ['The capital of France is', 'Fellow-Citizens of the Senate and House of Representatives: In', 'def add(a, b):\n    return'];
const RECORDED = 30;

const post = async (base, path, body) => {
  const response = await fetch(new URL(path, base), {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  assert.equal(response.status, 200, path);
  return response.json();
};

const T1 = { greedy: false, temperature: 1, top_k: null, top_p: null };

// A recorded step and its texts, as the export writes them.
async function record(base, tokens) {
  const full = await post(base, '/api/distribution', { tokens, sampling: T1, top_n: RECORDED + 1 });
  const top = full.candidates[0];
  const kept = full.candidates.slice(0, RECORDED);
  return {
    step: {
      lse: top.logit - Math.log(top.prob),
      candidates: kept.map((c) => [c.id, c.logit]),
      rest_max: full.candidates[RECORDED].logit,
      entropy_bits: full.entropy_bits,
    },
    texts: Object.fromEntries(kept.map((c) => [c.id, [c.text, c.display]])),
  };
}

function settings() {
  const all = [{ ...T1, greedy: true }];
  for (const temperature of [0.3, 0.7, 1, 1.6, 3]) {
    for (const top_k of [null, 1, 5, 29, 30, 45]) {
      for (const top_p of [null, 0.05, 0.5, 0.9]) all.push({ greedy: false, temperature, top_k, top_p });
    }
  }
  return all;
}

const close = (a, b) => Math.abs(a - b) <= 1e-9 + 1e-6 * Math.abs(b);

function check(mine, truth, sampling, what) {
  mine.candidates.forEach((c, i) => assert.ok(close(c.prob, truth.candidates[i].prob), `${what}: T=1 probability of rank ${i}`));
  const range = mine.recording.nucleus_range;
  if (!mine.approximate) {
    mine.candidates.forEach((c, i) => {
      assert.ok(close(c.sample_prob, truth.candidates[i].sample_prob), `${what}: rank ${i} ${c.sample_prob} vs ${truth.candidates[i].sample_prob}`);
      assert.equal(c.kept, truth.candidates[i].kept, `${what}: rank ${i} kept`);
    });
    assert.equal(range, null, what);
    assert.equal(mine.nucleus_size, truth.nucleus_size, `${what}: nucleus`);
    assert.ok(close(mine.sample_mass_outside_shown, truth.sample_mass_outside_shown), `${what}: mass outside`);
    if (!mine.recording.sample_entropy_approx) assert.ok(close(mine.sample_entropy_bits, truth.sample_entropy_bits), `${what}: entropy`);
    return 'exact';
  }
  const [lo, hi] = mine.recording.unrecorded_share;
  const outside = truth.sample_mass_outside_shown;
  assert.ok(lo - 1e-9 <= outside && outside <= hi + 1e-9, `${what}: true unrecorded share ${outside} outside [${lo}, ${hi}]`);
  if (range) {
    assert.ok(range[0] <= truth.nucleus_size && (range[1] == null || truth.nucleus_size <= range[1]), `${what}: nucleus ${truth.nucleus_size} vs ${range}`);
  } else assert.equal(mine.nucleus_size, truth.nucleus_size, `${what}: nucleus`);
  return 'approximate';
}

describe('recorded sliders against the full distribution', () => {
  for (const base of SERVERS) {
    test(`exact where the recording settles it, bounded elsewhere (${base})`, async (t) => {
      const model = await (await fetch(new URL('/api/model', base))).json();
      const seen = { exact: 0, approximate: 0 };
      for (const prompt of PROMPTS) {
        const tokens = (await post(base, '/api/tokenize', { text: prompt })).tokens.map((t) => t.id);
        const { step, texts } = await record(base, tokens);
        const data = { model, texts };
        for (const sampling of settings()) {
          const mine = approximate(step, data, sampling);
          const truth = await post(base, '/api/distribution', { tokens, sampling, top_n: RECORDED });
          seen[check(mine, truth, sampling, `${JSON.stringify(sampling)} after ${JSON.stringify(prompt)}`)] += 1;
          // The rules promised in docs/api.md: these are always exact.
          const kInside = sampling.top_k != null && sampling.top_k < RECORDED;
          const t1Whole = sampling.temperature === 1 && sampling.top_k == null && sampling.top_p == null;
          if (sampling.greedy || kInside || t1Whole) assert.equal(mine.approximate, false, JSON.stringify(sampling));
        }
      }
      t.diagnostic(`settings × prompts: ${JSON.stringify(seen)}`);
      assert.ok(seen.exact > 0 && seen.approximate > 0, JSON.stringify(seen));
    });
  }
});
