//! The loop: run the model, choose a token, append it, run again.

use super::explain::{explain, StepExplanation};
use super::sampling::{uniform, Distribution, Sampling};
use crate::analysis::recorder::{NoRecorder, Recorder};
use crate::arch::KvCache;
use crate::model::{Forward, Model};
use crate::tokenizer::{token_display, token_text};
use crate::{Error, Result};

/// Settings of one generation.
#[derive(Debug, Clone, Copy)]
pub struct GenerateOptions {
    pub sampling: Sampling,
    pub seed: u64,
    /// Candidates explained at each step.
    pub top_n: usize,
}

/// One step of the loop: the distribution and the token taken from it.
#[derive(Debug, Clone)]
pub struct StepResult {
    pub explanation: StepExplanation,
    pub chosen: u32,
}

/// The state after some tokens: their keys and values, and the prediction after the last
/// (empty once cut back by [`Prefix::truncate`]).
pub struct Prefix {
    pub cache: KvCache,
    pub logits: Vec<f32>, // (V,)
}

impl Prefix {
    /// The state after the first `len` of its tokens (`len` below their number), for a
    /// sequence that shares only those. Their prediction is not kept, so
    /// [`Generator::resume`] runs at least one token after them.
    pub fn truncate(mut self, len: usize) -> Prefix {
        if len < self.cache.len() {
            self.cache.truncate(len);
            self.logits = Vec::new();
        }
        self
    }
}

/// Generates one token at a time over a KV cache, running its passes through `F`: the model
/// itself, or a batcher's session. Step `n` uses random draw `n`, so a generation resumed from
/// its tokens continues exactly as it would have.
pub struct Generator<F: Forward> {
    runner: F,
    options: GenerateOptions,
    /// The keys and values of the tokens fed so far, and the prediction after the last.
    state: Prefix,
    tokens: Vec<u32>,
    /// The token chosen last, not yet fed: the final step of a run never pays for it.
    pending: Option<u32>,
    step: u64,
}

impl<F: Forward> Generator<F> {
    /// Runs the model on `tokens` (the prompt, maybe with earlier generated tokens: `step`
    /// of them) and records the prefill with `rec`.
    pub fn new(
        runner: F,
        tokens: Vec<u32>,
        step: u64,
        options: GenerateOptions,
        rec: &mut dyn Recorder,
    ) -> Result<Self> {
        validate(runner.model(), &options)?;
        let mut cache = KvCache::new(runner.model().config());
        let logits = runner.forward(&tokens, &mut cache, rec)?;
        Ok(Generator::at(
            runner,
            options,
            tokens,
            step,
            Prefix { cache, logits },
        ))
    }

    /// Like [`Generator::new`], from the state `prefix` left after the first tokens of
    /// `tokens` (an earlier request's generation): only the tokens after them run.
    pub fn resume(
        runner: F,
        tokens: Vec<u32>,
        step: u64,
        options: GenerateOptions,
        prefix: Prefix,
    ) -> Result<Self> {
        validate(runner.model(), &options)?;
        let Prefix {
            mut cache,
            mut logits,
        } = prefix;
        let done = cache.len();
        if done > tokens.len() || done == 0 {
            return Err(Error::Input(format!(
                "a state after {done} tokens cannot resume {} tokens",
                tokens.len()
            )));
        }
        if done == tokens.len() && logits.is_empty() {
            return Err(Error::Input(
                "a state cut back without its prediction must run a token more".into(),
            ));
        }
        if done < tokens.len() {
            logits = runner.forward(&tokens[done..], &mut cache, &mut NoRecorder)?;
        }
        Ok(Generator::at(
            runner,
            options,
            tokens,
            step,
            Prefix { cache, logits },
        ))
    }

    /// The tokens fed to the model so far and the state after them, to [`Generator::resume`]
    /// later. The token chosen last is not among them: it has not been run yet.
    pub fn into_prefix(self) -> (Vec<u32>, Prefix) {
        let mut fed = self.tokens;
        if self.pending.is_some() {
            fed.pop();
        }
        (fed, self.state)
    }

    /// A generator whose model has run `tokens` into `state`, `step` of them generated.
    fn at(runner: F, options: GenerateOptions, tokens: Vec<u32>, step: u64, state: Prefix) -> Self {
        Generator {
            runner,
            options,
            state,
            tokens,
            pending: None,
            step,
        }
    }

    /// Runs the token chosen last now, recording its activations with `rec`, which comes
    /// back (nothing runs when no token is waiting). A page that shows every position's
    /// residual stream needs the chosen token's column at once; the next step then samples
    /// without running the model.
    /// A failure changes nothing, as in [`Generator::step`].
    pub fn feed_pending<R: Recorder>(&mut self, mut rec: R) -> Result<R> {
        let Some(last) = self.pending else {
            return Ok(rec);
        };
        let cache = &mut self.state.cache;
        self.state.logits = self.runner.forward(&[last], cache, &mut rec)?;
        self.pending = None; // only once its logits are in
        Ok(rec)
    }

    /// The model the generation runs on.
    pub fn model(&self) -> &Model {
        self.runner.model()
    }

    /// The tokens so far: prompt and generated.
    pub fn tokens(&self) -> &[u32] {
        &self.tokens
    }

    /// Explains the next-token distribution and samples from it (or takes `forced`).
    /// A step that fails changes nothing: the next one may try again.
    pub fn step(&mut self, forced: Option<u32>) -> Result<StepResult> {
        let room = self.model().config().n_positions;
        if self.tokens.len() >= room {
            return Err(Error::Input(format!(
                "the sequence fills the context of {room} positions: no token can follow"
            )));
        }
        if let Some(last) = self.pending {
            let cache = &mut self.state.cache;
            self.state.logits = self.runner.forward(&[last], cache, &mut NoRecorder)?;
            self.pending = None; // only once its logits are in
        }
        let logits = &self.state.logits;
        let dist = Distribution::new(logits, &self.options.sampling);
        let model = self.runner.model();
        let explanation = explain(&dist, logits, self.options.top_n, namer(model));
        let chosen = match forced {
            Some(id) if id as usize >= logits.len() => {
                return Err(Error::Input(format!(
                    "token id {id} is outside the vocabulary"
                )));
            }
            Some(id) => id,
            None => dist.pick(uniform(self.options.seed, self.step)),
        };
        self.tokens.push(chosen);
        self.pending = Some(chosen);
        self.step += 1;
        Ok(StepResult {
            explanation,
            chosen,
        })
    }
}

fn validate(model: &Model, options: &GenerateOptions) -> Result<()> {
    let vocab = model.config().vocab_size;
    options.sampling.validate(vocab).map_err(Error::Input)
}

/// Names tokens for explanations: (text, display).
pub fn namer(model: &Model) -> impl Fn(u32) -> (String, String) + '_ {
    |id| {
        let bytes = model.tokenizer.token_bytes(id).unwrap_or_default();
        (token_text(bytes), token_display(bytes))
    }
}

/// The exact distribution after `tokens` under other settings, for sliders that reshape a
/// step without choosing a token. `sampling` must have passed [`Sampling::validate`].
pub fn explain_logits(
    model: &Model,
    logits: &[f32],
    sampling: &Sampling,
    top_n: usize,
) -> StepExplanation {
    explain(
        &Distribution::new(logits, sampling),
        logits,
        top_n,
        namer(model),
    )
}
