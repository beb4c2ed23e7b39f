//! `nexttoken bench`: prefill and decode timings, plain and with what the page records, as the
//! JSON that bench/run.sh compares with bench/hf_bench.py (same keys, same prompts).

use std::time::Instant;

use anyhow::{ensure, Result};
use nexttoken_model::compute::probe::{self, Probe};
use nexttoken_model::explain::explain;
use nexttoken_model::generate::namer;
use nexttoken_model::kernels::Path;
use nexttoken_model::recorder::Both;
use nexttoken_model::sampling::Distribution;
use nexttoken_model::{
    pool, ActivationCache, KvCache, Model, NoRecorder, Recorder, ResidNorms, Sampling,
};
use serde::Serialize;

use crate::cli::BenchArgs;
use crate::models;

/// Candidates the page shows per step.
const PAGE_CANDIDATES: usize = 30;

#[derive(Serialize)]
struct Report {
    engine: &'static str,
    dtype: &'static str,
    /// The kernel path that ran (`NEXTTOKEN_KERNELS`, or the fastest the CPU has).
    kernels: &'static str,
    threads: usize,
    prompt_tokens: usize,
    decode_tokens: usize,
    prefill_tokens: usize,
    runs: usize,
    load_ms: f64,
    weights_mb: f64,
    /// Median time of one prefill (logits of the last position only).
    prefill_ms: f64,
    /// Decode steps per second after the prompt, greedy, median over runs.
    decode_tok_s: f64,
    /// The same with the page's recording: residual norms, attention patterns, top candidates.
    prefill_recorded_ms: f64,
    decode_recorded_tok_s: f64,
    /// Peak resident memory (VmHWM) after loading and the plain runs.
    peak_rss_mb: f64,
    /// The same after the recorded runs too (their copies of every attention pattern).
    peak_rss_recorded_mb: f64,
    /// The machine's read bandwidth on the same threads, measured after the runs (the best
    /// of at least 10 rounds over at least 1.5 s, each reading `read_buffer_mb` once): the
    /// limit of decoding, which reads every weight each step.
    read_gb_s: f64,
    /// The probe's buffer: 4× the largest cache, at least 1 GiB.
    read_buffer_mb: f64,
    /// What one decode step reads: the weights, once (all of them: a learned position
    /// table is counted whole though one row is read, the KV cache not at all; each is ~1%).
    decode_bytes: f64,
    /// decode_tok_s × decode_bytes: the read rate decoding reached.
    decode_gb_s: f64,
    /// decode_gb_s ÷ read_gb_s.
    decode_share_of_bandwidth: f64,
    /// With `--interleave N`: N plain decode steps, each followed by the probe reading
    /// decode_bytes; the median step, and the median rate of those reads.
    #[serde(skip_serializing_if = "Option::is_none")]
    interleaved_step_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    interleaved_read_gb_s: Option<f64>,
    /// The median over those steps of the read's time ÷ the step's: decode's share of what
    /// the machine streamed at that moment. Quartiles in the `_q1` and `_q3` keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    interleaved_share: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    interleaved_share_q1: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    interleaved_share_q3: Option<f64>,
}

pub fn run(args: &BenchArgs) -> Result<()> {
    ensure!(
        args.prompt_tokens > 0 && args.prefill_tokens > 0,
        "--prompt-tokens and --prefill-tokens must be at least 1"
    );
    let started = Instant::now();
    let (model, _) = models::load_with(args.model.model.as_deref(), args.dtype)?;
    let load_ms = started.elapsed().as_secs_f64() * 1e3;
    let vocab = model.config().vocab_size;
    let prefill_ids = prompt(args.prefill_tokens, vocab);
    let decode_ids = prompt(args.prompt_tokens, vocab);
    let steps = args.decode_tokens;
    // Plain runs first, so the peak memory of plain use is read before any recorded run
    // keeps activations; they are also the warm-up (page faults of mapped weights, the pool).
    prefill(&model, &prefill_ids, false)?;
    decode(&model, &decode_ids, steps, false)?;
    let peak_plain = peak_rss_mb()?;
    let (prefill_s, prefill_rec_s) = paired(args.runs, |recorded| {
        prefill(&model, &prefill_ids, recorded)
    })?;
    let (decode_s, decode_rec_s) = paired(args.runs, |recorded| {
        decode(&model, &decode_ids, steps, recorded)
    })?;
    let peak_rss_recorded_mb = peak_rss_mb()?;
    // After the memory readings: the probe holds its buffer (a GiB or more) for a moment.
    let read_gb_s = probe::read_bandwidth(10);
    let decode_bytes = model.arch.weight_bytes() as f64;
    let decode_gb_s = steps as f64 / decode_s * decode_bytes / 1e9;
    let paired = match args.interleave {
        0 => None,
        n => Some(interleaved(
            &model,
            &decode_ids,
            steps,
            n,
            decode_bytes as usize,
        )?),
    };
    let report = Report {
        engine: "nexttoken",
        dtype: args.dtype.name(),
        kernels: Path::active().name(),
        threads: pool::threads(),
        prompt_tokens: args.prompt_tokens,
        decode_tokens: steps,
        prefill_tokens: args.prefill_tokens,
        runs: args.runs,
        load_ms,
        weights_mb: model.arch.weight_bytes() as f64 / 1e6,
        prefill_ms: prefill_s * 1e3,
        decode_tok_s: steps as f64 / decode_s,
        prefill_recorded_ms: prefill_rec_s * 1e3,
        decode_recorded_tok_s: steps as f64 / decode_rec_s,
        peak_rss_mb: peak_plain,
        peak_rss_recorded_mb,
        read_gb_s,
        read_buffer_mb: probe::buffer_bytes() as f64 / 1e6,
        decode_bytes,
        decode_gb_s,
        decode_share_of_bandwidth: decode_gb_s / read_gb_s,
        interleaved_step_ms: paired.as_ref().map(|p| p.step_ms),
        interleaved_read_gb_s: paired.as_ref().map(|p| p.read_gb_s),
        interleaved_share: paired.as_ref().map(|p| p.share[1]),
        interleaved_share_q1: paired.as_ref().map(|p| p.share[0]),
        interleaved_share_q3: paired.as_ref().map(|p| p.share[2]),
    };
    if args.json {
        outln!("{}", serde_json::to_string(&report)?)?;
    } else {
        print(&report)?;
    }
    Ok(())
}

/// Token ids spread over the vocabulary, the same formula as bench/hf_bench.py.
fn prompt(n: usize, vocab: usize) -> Vec<u32> {
    (0..n).map(|i| ((1000 + 7919 * i) % vocab) as u32).collect()
}

/// What the page records: residual norms and every attention pattern.
fn page_recorder(model: &Model) -> (ResidNorms, ActivationCache) {
    let n_layer = model.config().n_layer;
    let names: Vec<String> = (0..n_layer)
        .map(|l| format!("blocks.{l}.attn.hook_pattern"))
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    (ResidNorms::new(n_layer), ActivationCache::only(&names))
}

/// Seconds for one prefill of `ids`.
fn prefill(model: &Model, ids: &[u32], recorded: bool) -> Result<f64> {
    let (mut norms, mut patterns) = page_recorder(model);
    let (mut both, mut none) = (Both(&mut norms, &mut patterns), NoRecorder);
    let rec: &mut dyn Recorder = if recorded { &mut both } else { &mut none };
    let start = Instant::now();
    let logits = model.forward(ids, &mut KvCache::new(model.config()), rec)?;
    if recorded {
        choose(model, &logits, true);
    }
    Ok(start.elapsed().as_secs_f64())
}

/// Seconds for `steps` greedy steps after `ids`.
fn decode(model: &Model, ids: &[u32], steps: usize, recorded: bool) -> Result<f64> {
    let (mut norms, mut patterns) = page_recorder(model);
    let (mut both, mut none) = (Both(&mut norms, &mut patterns), NoRecorder);
    let rec: &mut dyn Recorder = if recorded { &mut both } else { &mut none };
    let mut cache = KvCache::new(model.config());
    let mut logits = model.forward(ids, &mut cache, rec)?;
    let start = Instant::now();
    for _ in 0..steps {
        let next = choose(model, &logits, recorded);
        logits = model.forward(&[next], &mut cache, rec)?;
    }
    Ok(start.elapsed().as_secs_f64())
}

/// The greedy token; with `explained`, through the exact distribution and the page's
/// candidate list, as a trace does.
fn choose(model: &Model, logits: &[f32], explained: bool) -> u32 {
    if !explained {
        return argmax(logits);
    }
    let dist = Distribution::new(logits, &Sampling::greedy());
    let shown = explain(&dist, logits, PAGE_CANDIDATES, namer(model));
    std::hint::black_box(shown);
    dist.pick(0.0)
}

/// What [`interleaved`] measured.
struct Paired {
    step_ms: f64,
    read_gb_s: f64,
    /// Quartiles of the per-step share: first, median, third.
    share: [f64; 3],
}

/// `steps` plain decode steps, in sequences of `per_sequence` steps after `ids` (the
/// positions of the plain decode runs), each step followed by the probe reading `bytes`, as
/// much as the step read. Consecutive step and read see nearly the same machine, so the ratio
/// of their times holds still where either alone swings with the load.
fn interleaved(
    model: &Model,
    ids: &[u32],
    per_sequence: usize,
    steps: usize,
    bytes: usize,
) -> Result<Paired> {
    let mut probe = Probe::new();
    probe.read(bytes); // its pages' first read
    let (mut step_s, mut read_s, mut share) = (Vec::new(), Vec::new(), Vec::new());
    while step_s.len() < steps {
        let mut cache = KvCache::new(model.config());
        let mut logits = model.forward(ids, &mut cache, &mut NoRecorder)?;
        for _ in 0..per_sequence.min(steps - step_s.len()) {
            let start = Instant::now();
            let next = argmax(&logits);
            logits = model.forward(&[next], &mut cache, &mut NoRecorder)?;
            let step = start.elapsed().as_secs_f64();
            let read = probe.read(bytes);
            step_s.push(step);
            read_s.push(bytes as f64 / read / 1e9);
            share.push(read / step);
        }
    }
    share.sort_by(f64::total_cmp);
    let quartile = |q: usize| share[(share.len() - 1) * q / 4];
    Ok(Paired {
        step_ms: median(&mut step_s) * 1e3,
        read_gb_s: median(&mut read_s),
        share: [quartile(1), median(&mut share.clone()), quartile(3)],
    })
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

/// Medians of `runs` plain and `runs` recorded runs of `f`, after one untimed recorded run,
/// taken alternately: these machines drift by ±10% within a minute, and alternating spreads
/// the drift over both, so the recording overhead is not the drift.
fn paired(runs: usize, f: impl Fn(bool) -> Result<f64>) -> Result<(f64, f64)> {
    f(true)?;
    let (mut plain, mut recorded) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        plain.push(f(false)?);
        recorded.push(f(true)?);
    }
    Ok((median(&mut plain), median(&mut recorded)))
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

/// VmHWM from /proc/self/status, in MB (10^6 bytes).
fn peak_rss_mb() -> Result<f64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmHWM in /proc/self/status"))?;
    Ok(kb * 1024.0 / 1e6)
}

fn print(r: &Report) -> std::io::Result<()> {
    outln!(
        "nexttoken {} on {} threads, {} kernels (weights {:.0} MB, loaded in {:.0} ms)",
        r.dtype,
        r.threads,
        r.kernels,
        r.weights_mb,
        r.load_ms
    )?;
    outln!(
        "prefill {} tokens: {:.1} ms (recorded {:.1} ms)",
        r.prefill_tokens,
        r.prefill_ms,
        r.prefill_recorded_ms
    )?;
    outln!(
        "decode {} tokens after {}: {:.1} tok/s (recorded {:.1} tok/s)",
        r.decode_tokens,
        r.prompt_tokens,
        r.decode_tok_s,
        r.decode_recorded_tok_s
    )?;
    outln!(
        "decode read {:.1} GB/s of the machine's {:.1} GB/s read bandwidth: {:.0}%",
        r.decode_gb_s,
        r.read_gb_s,
        100.0 * r.decode_share_of_bandwidth
    )?;
    if let (Some(step), Some(read), Some(q1), Some(share), Some(q3)) = (
        r.interleaved_step_ms,
        r.interleaved_read_gb_s,
        r.interleaved_share_q1,
        r.interleaved_share,
        r.interleaved_share_q3,
    ) {
        outln!(
            "interleaved with probe reads: step {step:.2} ms, reads {read:.1} GB/s, share {:.0}% \
             (quartiles {:.0}-{:.0}%)",
            100.0 * share,
            100.0 * q1,
            100.0 * q3
        )?;
    }
    outln!(
        "peak RSS {:.0} MB; medians of {} runs",
        r.peak_rss_mb,
        r.runs
    )?;
    Ok(())
}
