//! What a forward pass runs on: sequences of new tokens, each after its own KV cache and with
//! its own recorder, stacked into one batch; and how each gets its rows of the stacked
//! activations back.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use super::Dims;
use crate::analysis::recorder::Recorder;
use crate::{Error, Result};

/// A flag the owner of a pass raises to abandon it (a server's client went away): a forward
/// pass whose every sequence's cache carries a raised flag stops at the next layer and fails
/// with [`Error::Cancelled`]. Clones share the flag, so it can be raised from another thread.
#[derive(Debug, Clone, Default)]
pub struct Stop(Arc<AtomicBool>);

impl Stop {
    pub fn raise(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_raised(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Keys and values of every position seen so far, per layer, so each new token attends to
/// the past without recomputing it.
#[derive(Debug, Clone)]
pub struct KvCache {
    pub(crate) keys: Vec<Vec<f32>>, // n_layer × (S, KV): KV = n_kv_head × head_dim
    pub(crate) values: Vec<Vec<f32>>, // n_layer × (S, KV)
    pub(crate) len: usize,
    /// Checked between layers by the pass that extends this cache; it travels with the
    /// cache into a batch, so it stops the pass that runs on another thread too.
    stop: Option<Stop>,
}

impl KvCache {
    /// Reserves room for the whole context up front: the pages become resident only as
    /// positions are written, and the cache never reallocates (a doubling `Vec` would copy it
    /// and briefly hold it twice).
    pub fn new(dims: &Dims) -> KvCache {
        let full = || Vec::with_capacity(dims.n_positions * dims.kv_width());
        KvCache {
            keys: (0..dims.n_layer).map(|_| full()).collect(),
            values: (0..dims.n_layer).map(|_| full()).collect(),
            len: 0,
            stop: None,
        }
    }

    /// A cache of no model, left behind while its contents are away in a batch: the forward
    /// pass refuses it.
    pub(crate) fn detached() -> KvCache {
        KvCache {
            keys: Vec::new(),
            values: Vec::new(),
            len: 0,
            stop: None,
        }
    }

    /// Bytes its keys and values take: their allocations, room for positions not yet written
    /// included (untouched pages of which may not be resident yet).
    pub fn bytes(&self) -> usize {
        let floats: usize = self
            .keys
            .iter()
            .chain(&self.values)
            .map(Vec::capacity)
            .sum();
        floats * std::mem::size_of::<f32>()
    }

    /// Gives back the room reserved for positions not yet written, for a cache that is kept
    /// rather than extended: kept after 5 positions, it holds 5, not `n_positions`. Extending
    /// it later grows it as a `Vec` grows.
    pub fn shrink_to_fit(&mut self) {
        for layer in self.keys.iter_mut().chain(&mut self.values) {
            layer.shrink_to_fit();
        }
    }

    /// The flag the next passes over this cache check between layers (`None`: none).
    pub fn set_stop(&mut self, stop: Option<Stop>) {
        self.stop = stop;
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.stop.as_ref().is_some_and(Stop::is_raised)
    }

    /// How many positions the cache holds.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// A copy of the first `len` positions (all of them when `len` is larger) of blocks `from..`
    /// only, the earlier blocks left empty: what [`crate::Architecture::resume_batch`] at block
    /// `from` reads, at a fraction of a whole copy's cost. Only such a pass can run after it.
    pub fn resumable(&self, from: usize, len: usize) -> KvCache {
        let len = len.min(self.len);
        let held = self.len.max(1);
        let copy = |layers: &[Vec<f32>]| -> Vec<Vec<f32>> {
            let keep = |(l, rows): (usize, &Vec<f32>)| {
                if l < from {
                    Vec::new()
                } else {
                    rows[..len * (rows.len() / held)].to_vec() // (len, KV)
                }
            };
            layers.iter().enumerate().map(keep).collect()
        };
        KvCache {
            keys: copy(&self.keys),
            values: copy(&self.values),
            len,
            stop: None,
        }
    }

    /// Drops what a resumed or abandoned pass appended past `len`: every block back to `len`
    /// positions (an abandoned pass appended some blocks' and not others').
    pub(crate) fn forget_new(&mut self, kv_width: usize) {
        for rows in self.keys.iter_mut().chain(self.values.iter_mut()) {
            rows.truncate(self.len * kv_width);
        }
    }

    /// Keeps the first `len` positions (all of them when `len` is larger): a position's keys
    /// and values depend only on the tokens up to it, so they stay exact for any sequence
    /// that starts with those tokens.
    pub fn truncate(&mut self, len: usize) {
        let len = len.min(self.len);
        let held = self.len.max(1);
        for rows in self.keys.iter_mut().chain(self.values.iter_mut()) {
            let width = rows.len() / held;
            rows.truncate(len * width); // (len, KV)
        }
        self.len = len;
    }
}

/// One sequence of a batch: its new tokens, run after the positions in its cache, and what
/// records its activations (nothing when `None`).
pub struct Sequence<'a> {
    pub tokens: &'a [u32],
    pub cache: &'a mut KvCache,
    pub rec: Option<&'a mut dyn Recorder>,
}

impl<'a> Sequence<'a> {
    /// A sequence that records nothing.
    pub fn new(tokens: &'a [u32], cache: &'a mut KvCache) -> Sequence<'a> {
        Sequence {
            tokens,
            cache,
            rec: None,
        }
    }

    /// Whether this sequence's recorder asks for `name`.
    pub(crate) fn wants(&self, name: &str) -> bool {
        self.rec.as_ref().is_some_and(|r| r.wants(name))
    }
}

/// Whether every sequence's owner has abandoned the pass: it then ends at the next layer.
pub(crate) fn all_stopped(batch: &[Sequence]) -> bool {
    batch.iter().all(|seq| seq.cache.is_stopped())
}

/// Called before each block of every pass with `(block, blocks, rows)`, and once more with
/// `block == blocks` after the last: an embedder whose passes run on its only thread (the
/// browser engine, where no other thread can raise a [`Stop`]) reports progress there, and
/// returns true to abandon the pass, which then ends as a stopped one does.
pub type Watch = fn(usize, usize, usize) -> bool;

static WATCH: OnceLock<Watch> = OnceLock::new();

/// Sets the watch over every pass; the first call wins.
pub fn watch_passes(watch: Watch) {
    let _ = WATCH.set(watch);
}

/// Whether the pass over `batch` is abandoned before `block` of `blocks` (or after the last):
/// by the watch, or by every sequence's stop.
pub(crate) fn abandoned(batch: &[Sequence], block: usize, blocks: usize) -> bool {
    let rows = batch.iter().map(|seq| seq.tokens.len()).sum();
    let watched = WATCH.get().is_some_and(|watch| watch(block, blocks, rows));
    watched || all_stopped(batch)
}

/// Refuses what no forward pass from block `from` on can run: no tokens, a cache of another
/// model or without its positions in those blocks, a context overflow, an id outside the
/// vocabulary.
pub(super) fn check(d: &Dims, from: usize, tokens: &[u32], cache: &KvCache) -> Result<()> {
    if tokens.is_empty() {
        return Err(Error::Input("at least one token is needed".into()));
    }
    if cache.keys.len() != d.n_layer {
        return Err(Error::Input(format!(
            "the KV cache has {} layers, the model {}",
            cache.keys.len(),
            d.n_layer
        )));
    }
    let held = cache.len * d.kv_width();
    let layers = cache.keys.iter().chain(&cache.values);
    if layers
        .enumerate()
        .any(|(i, rows)| i % d.n_layer >= from && rows.len() != held)
    {
        return Err(Error::Input(format!(
            "the KV cache does not hold its {} positions in every block from {from} on",
            cache.len
        )));
    }
    if cache.len + tokens.len() > d.n_positions {
        return Err(Error::Input(format!(
            "{} tokens do not fit in the context of {} positions",
            cache.len + tokens.len(),
            d.n_positions
        )));
    }
    match tokens.iter().find(|&&t| t as usize >= d.vocab_size) {
        Some(t) => Err(Error::Input(format!(
            "token id {t} is outside the vocabulary (0..{})",
            d.vocab_size
        ))),
        None => Ok(()),
    }
}

/// Hands each sequence's rows of the stacked `data` (T, ...row) to its recorder, when it asks
/// for `name`: shape (T_i, ...row). The recorder may overwrite them (a patch), so the caller
/// goes on with `data` as the hook leaves it.
pub(crate) fn hook_rows(batch: &mut [Sequence], name: &str, row: &[usize], data: &mut [f32]) {
    let width: usize = row.iter().product();
    let mut start = 0;
    for seq in batch.iter_mut() {
        let t = seq.tokens.len();
        if let Some(rec) = seq.rec.as_deref_mut().filter(|r| r.wants(name)) {
            let shape: Vec<usize> = std::iter::once(t).chain(row.iter().copied()).collect();
            rec.hook(name, &shape, &mut data[start * width..(start + t) * width]);
        }
        start += t;
    }
}

/// Each sequence's logits (V,) of its last new position, from the final norm's output `xf`
/// (T, C) through `unembed` (rows (n, C) to logits (n, V)). Every row is unembedded only when
/// a recorder asks for `logits` (T, V); a step's pass unembeds just each sequence's last row.
pub(crate) fn final_logits(
    batch: &mut [Sequence],
    xf: &[f32],
    (e, v): (usize, usize),
    unembed: impl Fn(&[f32]) -> Vec<f32>,
) -> Vec<Vec<f32>> {
    if batch.iter().any(|s| s.wants("logits")) {
        let mut all = unembed(xf); // (T, V)
        hook_rows(batch, "logits", &[v], &mut all);
        return last_rows(batch, v, &all);
    }
    let last = last_rows(batch, e, xf).concat(); // (B, C): each sequence's last row
    let logits = unembed(&last); // (B, V)
    logits.chunks_exact(v).map(<[f32]>::to_vec).collect()
}

/// Each sequence's last row of the stacked `data` (T, width).
fn last_rows(batch: &[Sequence], width: usize, data: &[f32]) -> Vec<Vec<f32>> {
    let mut end = 0;
    batch
        .iter()
        .map(|seq| {
            end += seq.tokens.len();
            data[(end - 1) * width..end * width].to_vec()
        })
        .collect()
}

/// Hands `data` to the recorder only when it asks for `name`.
pub(crate) fn record(rec: &mut dyn Recorder, name: &str, shape: &[usize], data: &[f32]) {
    if rec.wants(name) {
        rec.record(name, shape, data);
    }
}
