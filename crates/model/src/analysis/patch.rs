//! Activation patching: run a clean prompt and a minimally different corrupted one, copy one
//! activation from one run into the other, and measure how much of the answer comes back.
//!
//! A patch is a [`Recorder`] that overwrites what the forward pass hands it ([`Patch`]), so
//! patching runs the one reference pass, like recording does. The metric is
//! logit(answer) − logit(other) at the last position. [`Pair::patched`] runs one patch the
//! plain way, a whole pass per patch; [`Pair::sweep`] (in `sweep.rs`) runs a grid of them
//! reusing the unpatched run and is held to the plain way in tests.

use std::ops::Range;

pub use super::sweep::Sweep;

use super::divergence::{kl, log_softmax};
use super::recorder::{ActivationCache, Recorder};
use crate::arch::{Dims, KvCache};
use crate::model::Model;
use crate::{Error, Result};

/// Where a patch goes in a block, by TransformerLens hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    /// `blocks.{L}.hook_resid_pre`: the residual stream entering the block.
    Resid,
    /// `blocks.{L}.hook_attn_out`: what attention adds to the stream.
    Attn,
    /// `blocks.{L}.hook_mlp_out`: what the MLP adds.
    Mlp,
    /// Head `h`'s slice of `blocks.{L}.attn.hook_z`: its output before the output projection,
    /// so patching it patches exactly that head's contribution.
    Head(usize),
}

impl Site {
    pub fn hook(self, layer: usize) -> String {
        match self {
            Site::Resid => format!("blocks.{layer}.hook_resid_pre"),
            Site::Attn => format!("blocks.{layer}.hook_attn_out"),
            Site::Mlp => format!("blocks.{layer}.hook_mlp_out"),
            Site::Head(_) => format!("blocks.{layer}.attn.hook_z"),
        }
    }

    /// The columns of one position's row that the patch replaces.
    fn cols(self, d: &Dims) -> Range<usize> {
        match self {
            Site::Head(h) => h * d.head_dim..(h + 1) * d.head_dim,
            _ => 0..d.n_embd,
        }
    }
}

/// One of the pair's two prompts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    Clean,
    Corrupted,
}

/// Which run is patched with which run's activations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Clean activations restored into the corrupted run: what is enough to bring the answer back.
    Denoise,
    /// Corrupted activations put into the clean run: what the answer cannot do without.
    Noise,
}

impl Direction {
    /// The run that is patched.
    pub fn base(self) -> Prompt {
        match self {
            Direction::Denoise => Prompt::Corrupted,
            Direction::Noise => Prompt::Clean,
        }
    }

    /// The run the patched values come from.
    pub fn source(self) -> Prompt {
        match self {
            Direction::Denoise => Prompt::Clean,
            Direction::Noise => Prompt::Corrupted,
        }
    }
}

/// Overwrites part of one activation with another run's values as the pass goes: at `hook`,
/// the rows of the absolute `positions` that this pass runs, columns `cols`.
pub struct Patch<'a> {
    hook: String,
    positions: Range<usize>,
    cols: Range<usize>,
    /// The source run's activation (T, width), by absolute position.
    source: &'a [f32],
    /// The absolute position of the pass's first row (the cache's length before it).
    first: usize,
}

impl<'a> Patch<'a> {
    pub fn new(
        hook: String,
        positions: Range<usize>,
        cols: Range<usize>,
        source: &'a [f32],
        first: usize,
    ) -> Patch<'a> {
        Patch {
            hook,
            positions,
            cols,
            source,
            first,
        }
    }
}

impl Recorder for Patch<'_> {
    fn wants(&self, name: &str) -> bool {
        name == self.hook
    }

    fn record(&mut self, _: &str, _: &[usize], _: &[f32]) {}

    fn hook(&mut self, _: &str, shape: &[usize], data: &mut [f32]) {
        let width: usize = shape[1..].iter().product();
        let rows = self.first..self.first + shape[0];
        let from = self.positions.start.max(rows.start);
        for p in from..self.positions.end.min(rows.end) {
            let (dst, src) = ((p - self.first) * width, p * width);
            let cols = self.cols.clone();
            data[dst + cols.start..dst + cols.end]
                .copy_from_slice(&self.source[src + cols.start..src + cols.end]);
        }
    }

    fn edits(&self) -> bool {
        true
    }
}

/// One unpatched run: its tokens, keys and values, every patchable activation, and the logits
/// (V,) of its last position.
pub(super) struct Run {
    pub(super) tokens: Vec<u32>,
    pub(super) cache: KvCache,
    acts: ActivationCache,
    pub(super) logits: Vec<f32>,
}

impl Run {
    fn new(model: &Model, tokens: Vec<u32>) -> Result<Run> {
        let n_layer = model.config().n_layer;
        let mut names: Vec<String> = (0..n_layer)
            .flat_map(|l| [Site::Resid, Site::Attn, Site::Mlp, Site::Head(0)].map(|s| s.hook(l)))
            .collect();
        names.push(format!("blocks.{}.hook_resid_post", n_layer - 1));
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut acts = ActivationCache::only(&names);
        let mut cache = KvCache::new(model.config());
        let logits = model.forward(&tokens, &mut cache, &mut acts)?;
        Ok(Run {
            tokens,
            cache,
            acts,
            logits,
        })
    }

    /// A recorded activation (T, width).
    pub(super) fn act(&self, hook: &str) -> &[f32] {
        &self
            .acts
            .get(hook)
            .expect("every patchable hook is recorded")
            .data
    }
}

/// A clean and a corrupted prompt of equal length, run once each, and the answer pair whose
/// logit difference measures the behaviour.
pub struct Pair<'m> {
    pub(super) model: &'m Model,
    pub answer: u32,
    pub other: u32,
    clean: Run,
    corrupted: Run,
}

impl<'m> Pair<'m> {
    /// Runs both prompts. They must have the same number of tokens, since a patch copies an
    /// activation position by position.
    pub fn new(
        model: &'m Model,
        clean: Vec<u32>,
        corrupted: Vec<u32>,
        answer: u32,
        other: u32,
    ) -> Result<Pair<'m>> {
        if clean.len() != corrupted.len() {
            return Err(Error::Input(format!(
                "the clean prompt has {} tokens and the corrupted one {}: patching copies \
                 activations position by position, so both need the same number of tokens",
                clean.len(),
                corrupted.len()
            )));
        }
        let vocab = model.config().vocab_size as u32;
        if let Some(id) = [answer, other].into_iter().find(|&id| id >= vocab) {
            return Err(Error::Input(format!(
                "token id {id} is outside the vocabulary (0..{vocab})"
            )));
        }
        if answer == other {
            return Err(Error::Input(
                "the answer and the other token are the same: their logit difference is always 0"
                    .into(),
            ));
        }
        Ok(Pair {
            model,
            answer,
            other,
            clean: Run::new(model, clean)?,
            corrupted: Run::new(model, corrupted)?,
        })
    }

    /// Tokens per prompt.
    pub fn len(&self) -> usize {
        self.clean.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(super) fn run(&self, prompt: Prompt) -> &Run {
        match prompt {
            Prompt::Clean => &self.clean,
            Prompt::Corrupted => &self.corrupted,
        }
    }

    pub fn tokens(&self, prompt: Prompt) -> &[u32] {
        &self.run(prompt).tokens
    }

    /// The next-token logits (V,) after the prompt.
    pub fn logits(&self, prompt: Prompt) -> &[f32] {
        &self.run(prompt).logits
    }

    /// logit(answer) − logit(other) of next-token logits (V,).
    pub fn metric_of(&self, logits: &[f32]) -> f32 {
        logits[self.answer as usize] - logits[self.other as usize]
    }

    /// The unpatched run's metric.
    pub fn metric(&self, prompt: Prompt) -> f32 {
        self.metric_of(self.logits(prompt))
    }

    /// (patched − corrupted) / (clean − corrupted): 1 where the patched run gives the clean
    /// answer's difference, 0 where it gives the corrupted one's; `None` when the two are equal.
    pub fn normalise(&self, patched: f32) -> Option<f32> {
        let (clean, corrupted) = (self.metric(Prompt::Clean), self.metric(Prompt::Corrupted));
        (clean != corrupted).then(|| (patched - corrupted) / (clean - corrupted))
    }

    /// KL(clean ‖ corrupted) of the two next-token distributions at temperature 1, in nats.
    pub fn kl_nats(&self) -> f64 {
        let [p, q] = [Prompt::Clean, Prompt::Corrupted].map(|s| log_softmax(self.logits(s)));
        kl(&p, &q)
    }

    /// The metric read by the logit lens from the residual at the last position entering each
    /// block, then leaving the last one (n_layer + 1 values; the last is the metric itself).
    pub fn lens(&self, prompt: Prompt) -> Vec<f32> {
        let (d, run) = (self.model.config(), self.run(prompt));
        let last = |act: &[f32]| act[(self.len() - 1) * d.n_embd..].to_vec(); // (C,)
        let mut rows: Vec<f32> = (0..d.n_layer)
            .flat_map(|l| last(run.act(&Site::Resid.hook(l))))
            .collect(); // (L + 1, C) once the last block's output joins
        rows.extend(last(
            run.act(&format!("blocks.{}.hook_resid_post", d.n_layer - 1)),
        ));
        let logits = self.model.arch.decode_residual(&rows); // (L + 1, V)
        logits
            .chunks_exact(d.vocab_size)
            .map(|l| self.metric_of(l))
            .collect()
    }

    /// The patch of `site` in block `layer` at `positions`, from `direction`'s source run into
    /// its base run.
    pub fn patch(
        &self,
        direction: Direction,
        layer: usize,
        site: Site,
        positions: Range<usize>,
        first: usize,
    ) -> Patch<'_> {
        let hook = site.hook(layer);
        let source = self.run(direction.source()).act(&hook);
        Patch::new(
            hook,
            positions,
            site.cols(self.model.config()),
            source,
            first,
        )
    }

    /// The plain way, one whole forward pass of the base run with the patch: the metric.
    pub fn patched(
        &self,
        direction: Direction,
        layer: usize,
        site: Site,
        positions: Range<usize>,
    ) -> Result<f32> {
        self.check(layer, site, &positions)?;
        let mut patch = self.patch(direction, layer, site, positions, 0);
        let tokens = self.tokens(direction.base());
        let logits =
            self.model
                .forward(tokens, &mut KvCache::new(self.model.config()), &mut patch)?;
        Ok(self.metric_of(&logits))
    }

    pub(super) fn check(&self, layer: usize, site: Site, positions: &Range<usize>) -> Result<()> {
        let d = self.model.config();
        if layer >= d.n_layer {
            return Err(Error::Input(format!(
                "layer {layer} does not exist: the model has {}",
                d.n_layer
            )));
        }
        if matches!(site, Site::Head(h) if h >= d.n_head) {
            return Err(Error::Input(format!(
                "the model has {} heads per layer",
                d.n_head
            )));
        }
        if positions.is_empty() || positions.end > self.len() {
            return Err(Error::Input(format!(
                "positions {positions:?} are not inside the {} tokens",
                self.len()
            )));
        }
        Ok(())
    }
}
