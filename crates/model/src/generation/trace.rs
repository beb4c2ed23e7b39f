//! The trace contract (version 1): one serialisable record of a run, documented in
//! docs/trace.md. Other tools read its minimal fields; the rest is free to grow.

use serde::{Deserialize, Serialize};

use super::explain::{Candidate, StepExplanation};
use super::generate::{GenerateOptions, Generator, Prefix};
use super::sampling::Sampling;
use crate::analysis::recorder::ResidNorms;
use crate::compute::clock::Stopwatch;
use crate::model::{Forward, Model};
use crate::tokenizer::{token_display, token_text};
use crate::{Error, Result};

pub const TRACE_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct Trace {
    pub version: u32,
    pub model: ModelInfo,
    pub prompt: String,
    /// The prompt's tokens.
    pub tokens: Vec<TokenRef>,
    /// L2 norm per position of `blocks.{L}.hook_resid_pre` for every block, then of the last
    /// block's `hook_resid_post` (before `ln_f`): (n_layer + 1, n_tokens).
    pub resid_norms: Vec<Vec<f32>>,
    pub steps: Vec<Step>,
    /// Why the steps ended.
    pub finish_reason: Finish,
    pub sampling: Sampling,
    pub seed: u64,
    /// Wall time of the whole run (prefill and every step).
    pub elapsed_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub name: String,
    pub n_layer: usize,
    pub n_head: usize,
    pub n_embd: usize,
    pub vocab_size: usize,
    pub n_positions: usize,
    /// The family (`gpt2`, `llama`): what the page explains about it.
    #[serde(default = "gpt2")]
    pub architecture: String,
    /// Key/value heads per block: `n_head / n_kv_head` query heads share each (0 in traces
    /// written before this field; GPT-2 has one per query head).
    #[serde(default)]
    pub n_kv_head: usize,
    /// The tokens that end the model's text ([`Model::ends_text`]); empty in traces written
    /// before the field.
    #[serde(default)]
    pub eos_token_ids: Vec<u32>,
}

/// Why a generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Finish {
    /// Every step asked for was taken.
    Steps,
    /// The last step chose a token that ends the model's text: the model ended its answer.
    Eos,
    /// The caller stopped it before the steps were done (a server's client left).
    Stopped,
}

fn gpt2() -> String {
    "gpt2".into()
}

/// A token as shown to learners.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenRef {
    pub id: u32,
    /// The token's text; bytes of partial UTF-8 appear as `<0xF0>` escapes.
    pub text: String,
    /// For chips: a leading space as `·`, control characters made visible.
    pub display: String,
    pub bytes: Vec<u8>,
}

/// One generated token and the distribution it was chosen from.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// The top candidates by logit; `prob` is the full-vocabulary softmax at temperature 1.
    pub candidates: Vec<Candidate>,
    pub chosen: TokenRef,
    pub entropy_bits: f64,
    pub sample_entropy_bits: f64,
    pub nucleus_size: usize,
    pub mass_outside_shown: f64,
    pub sample_mass_outside_shown: f64,
}

impl ModelInfo {
    pub fn of(model: &Model) -> ModelInfo {
        let c = model.config();
        ModelInfo {
            name: model.name.clone(),
            n_layer: c.n_layer,
            n_head: c.n_head,
            n_embd: c.n_embd,
            vocab_size: c.vocab_size,
            n_positions: c.n_positions,
            architecture: model.arch.family().to_string(),
            n_kv_head: c.n_kv_head,
            eos_token_ids: model.eos.clone(),
        }
    }
}

impl TokenRef {
    pub fn of(model: &Model, id: u32) -> TokenRef {
        let bytes = model.tokenizer.token_bytes(id).unwrap_or_default().to_vec();
        TokenRef {
            id,
            text: token_text(&bytes),
            display: token_display(&bytes),
            bytes,
        }
    }
}

impl Step {
    pub fn new(model: &Model, explanation: StepExplanation, chosen: u32) -> Step {
        Step {
            candidates: explanation.candidates,
            chosen: TokenRef::of(model, chosen),
            entropy_bits: explanation.entropy_bits,
            sample_entropy_bits: explanation.sample_entropy_bits,
            nucleus_size: explanation.nucleus_size,
            mass_outside_shown: explanation.mass_outside_shown,
            sample_mass_outside_shown: explanation.sample_mass_outside_shown,
        }
    }
}

/// Runs `prompt` and up to `steps` generation steps, recording what the page shows; it stops
/// after a token that ends the model's text.
pub fn trace(model: &Model, prompt: &str, steps: usize, options: GenerateOptions) -> Result<Trace> {
    trace_while(model, prompt, steps, options, || true)
}

/// `trace`, asking `keep_going` before each step: a server stops a run whose client left,
/// returning the steps done so far.
pub fn trace_while(
    model: &Model,
    prompt: &str,
    steps: usize,
    options: GenerateOptions,
    keep_going: impl FnMut() -> bool,
) -> Result<Trace> {
    let ids = model.encode_prompt(prompt)?;
    trace_with(model, prompt, ids, steps, options, keep_going).map(|traced| traced.trace)
}

/// A trace and the state its generation ended in, to continue from (`Generator::resume`).
pub struct Traced {
    pub trace: Trace,
    /// The tokens run through the model: the prompt and every chosen token but the last.
    pub fed: Vec<u32>,
    pub state: Prefix,
}

/// `trace_while` with its passes run by `runner` (a batcher's session shares them with other
/// traces), for `prompt` already encoded as `ids` (a server checks them first), also returning
/// the state it ended in.
pub fn trace_with(
    runner: impl Forward,
    prompt: &str,
    ids: Vec<u32>,
    steps: usize,
    options: GenerateOptions,
    mut keep_going: impl FnMut() -> bool,
) -> Result<Traced> {
    let room = runner.model().config().n_positions;
    if ids.len() + steps > room {
        // Checked before any work, so no run fails midway and loses its completed steps.
        return Err(Error::Input(format!(
            "the prompt is {} tokens and {steps} steps were asked, but the model reads at \
             most {room} positions",
            ids.len()
        )));
    }
    let started = Stopwatch::start();
    let mut norms = ResidNorms::new(runner.model().config().n_layer);
    let mut generator = Generator::new(runner, ids.clone(), 0, options, &mut norms)?;
    let mut out = Vec::with_capacity(steps);
    let mut finish_reason = Finish::Steps;
    for _ in 0..steps {
        if !keep_going() {
            finish_reason = Finish::Stopped;
            break;
        }
        let step = generator.step(None)?;
        let ended = generator.model().ends_text(step.chosen);
        out.push(Step::new(generator.model(), step.explanation, step.chosen));
        if ended {
            finish_reason = Finish::Eos;
            break;
        }
    }
    let model = generator.model();
    let trace = Trace {
        version: TRACE_VERSION,
        model: ModelInfo::of(model),
        prompt: prompt.to_string(),
        tokens: ids.iter().map(|&id| TokenRef::of(model, id)).collect(),
        resid_norms: norms.rows,
        steps: out,
        finish_reason,
        sampling: options.sampling,
        seed: options.seed,
        elapsed_ms: started.elapsed_ms(),
    };
    let (fed, state) = generator.into_prefix();
    Ok(Traced { trace, fed, state })
}
