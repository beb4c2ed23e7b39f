//! The browser half of the WebAssembly benchmark (bench/wasm): prefill and greedy decoding
//! timed exactly as `nexttoken bench` times its plain runs natively (same prompts, same
//! medians), so the two can be set side by side.

use nexttoken_model::compute::pool;
use nexttoken_model::{KvCache, Model, NoRecorder};
use serde::{Deserialize, Serialize};

use crate::engine::Engine;
use crate::now_ms;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Sizes {
    prefill_tokens: usize,
    prompt_tokens: usize,
    decode_tokens: usize,
    runs: usize,
}

#[derive(Serialize)]
struct Report {
    engine: &'static str,
    dtype: &'static str,
    threads: usize,
    prefill_tokens: usize,
    prompt_tokens: usize,
    decode_tokens: usize,
    runs: usize,
    /// Median of one prefill (logits of the last position only).
    prefill_ms: f64,
    /// Greedy decode steps per second after the prompt, median over runs.
    decode_tok_s: f64,
}

impl Engine {
    /// Runs the benchmark that `body` (JSON of [`Sizes`]) describes on the loaded model.
    pub fn bench(&self, body: &[u8]) -> Result<Vec<u8>, String> {
        let model = self.model()?;
        let s: Sizes = serde_json::from_slice(body).map_err(|e| e.to_string())?;
        let room = model.config().n_positions;
        if s.runs == 0 || s.prefill_tokens > room || s.prompt_tokens + s.decode_tokens > room {
            return Err(format!("sizes must fit in {room} positions, with runs ≥ 1"));
        }
        let vocab = model.config().vocab_size;
        let (prefill_ids, decode_ids) = (
            prompt(s.prefill_tokens, vocab),
            prompt(s.prompt_tokens, vocab),
        );
        // One untimed run of each warms the memory up, as natively.
        prefill(model, &prefill_ids)?;
        decode(model, &decode_ids, s.decode_tokens)?;
        let (mut prefills, mut decodes) = (Vec::new(), Vec::new());
        for _ in 0..s.runs {
            prefills.push(prefill(model, &prefill_ids)?);
            decodes.push(decode(model, &decode_ids, s.decode_tokens)?);
        }
        let report = Report {
            engine: "nexttoken-wasm",
            dtype: self.dtype().name(),
            threads: pool::threads(),
            prefill_tokens: s.prefill_tokens,
            prompt_tokens: s.prompt_tokens,
            decode_tokens: s.decode_tokens,
            runs: s.runs,
            prefill_ms: median(&mut prefills),
            decode_tok_s: s.decode_tokens as f64 / (median(&mut decodes) / 1e3),
        };
        serde_json::to_vec(&report).map_err(|e| e.to_string())
    }
}

/// Token ids spread over the vocabulary: the formula of `nexttoken bench` and hf_bench.py.
fn prompt(n: usize, vocab: usize) -> Vec<u32> {
    (0..n).map(|i| ((1000 + 7919 * i) % vocab) as u32).collect()
}

/// Milliseconds for one prefill of `ids`.
fn prefill(model: &Model, ids: &[u32]) -> Result<f64, String> {
    let start = now_ms();
    let logits = model
        .forward(ids, &mut KvCache::new(model.config()), &mut NoRecorder)
        .map_err(|e| e.to_string())?;
    std::hint::black_box(logits);
    Ok(now_ms() - start)
}

/// Milliseconds for `steps` greedy steps after `ids`.
fn decode(model: &Model, ids: &[u32], steps: usize) -> Result<f64, String> {
    let mut cache = KvCache::new(model.config());
    let forward = |ids: &[u32], cache: &mut KvCache| {
        model
            .forward(ids, cache, &mut NoRecorder)
            .map_err(|e| e.to_string())
    };
    let mut logits = forward(ids, &mut cache)?;
    let start = now_ms();
    for _ in 0..steps {
        logits = forward(&[argmax(&logits)], &mut cache)?;
    }
    Ok(now_ms() - start)
}

fn argmax(x: &[f32]) -> u32 {
    let mut best = 0;
    for (i, &v) in x.iter().enumerate() {
        if v > x[best] {
            best = i;
        }
    }
    best as u32
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}
