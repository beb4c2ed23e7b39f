//! Patching sweeps: a grid of patches, one metric per cell, computed without a whole forward
//! pass per patch.
//!
//! A patch at block L and position p leaves everything before it as the unpatched (base) run
//! computed it: every position before p (attention is causal), and every block before L. So
//! each patched pass resumes at block L ([`crate::Architecture::resume_batch`]) from the base
//! run's residual for positions p.., after the base run's keys and values for positions ..p;
//! and every cell of a row resumes at the same block, so a row runs as one batch: the matrix
//! products see all its cells' rows stacked. [`Pair::patched`] is the plain way, which the
//! tests hold this to.

use std::ops::Range;

use super::patch::{Direction, Pair, Patch, Site};
use crate::arch::{KvCache, Sequence};
use crate::{Error, Result};

/// Positions (new and cached) one batch may hold: bounds the cache copies a batch makes.
const BATCH_POSITIONS: usize = 1024;

/// A grid of patches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sweep {
    /// The residual stream entering each block: rows are blocks, columns positions.
    Resid,
    /// Attention's output in each block: rows are blocks, columns positions.
    Attn,
    /// The MLP's output in each block: rows are blocks, columns positions.
    Mlp,
    /// Each head's output at every position at once: rows are blocks, columns heads.
    Heads,
    /// Each head of one block at each position: rows are heads, columns positions.
    HeadPos(usize),
}

impl Sweep {
    /// `resid`, `attn`, `mlp`, `heads`, or `head_pos` (which needs `layer`).
    pub fn parse(name: &str, layer: Option<usize>) -> Result<Sweep> {
        match (name, layer) {
            ("resid", _) => Ok(Sweep::Resid),
            ("attn", _) => Ok(Sweep::Attn),
            ("mlp", _) => Ok(Sweep::Mlp),
            ("heads", _) => Ok(Sweep::Heads),
            ("head_pos", Some(l)) => Ok(Sweep::HeadPos(l)),
            ("head_pos", None) => Err(Error::Input(
                "the head × position sweep is of one layer: give its layer".into(),
            )),
            _ => Err(Error::Input(format!(
                "unknown sweep {name:?}: one of resid, attn, mlp, heads, head_pos"
            ))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Sweep::Resid => "resid",
            Sweep::Attn => "attn",
            Sweep::Mlp => "mlp",
            Sweep::Heads => "heads",
            Sweep::HeadPos(_) => "head_pos",
        }
    }

    /// What the rows and the columns are: `layer`, `head` or `position`.
    pub fn axes(self) -> (&'static str, &'static str) {
        match self {
            Sweep::Heads => ("layer", "head"),
            Sweep::HeadPos(_) => ("head", "position"),
            _ => ("layer", "position"),
        }
    }

    /// The block every cell of `row` patches, and each cell's site and positions.
    fn row(self, row: usize, n_cols: usize, t: usize) -> (usize, Vec<(Site, Range<usize>)>) {
        let cells = (0..n_cols).map(|c| match self {
            Sweep::Resid => (Site::Resid, c..c + 1),
            Sweep::Attn => (Site::Attn, c..c + 1),
            Sweep::Mlp => (Site::Mlp, c..c + 1),
            Sweep::Heads => (Site::Head(c), 0..t),
            Sweep::HeadPos(_) => (Site::Head(row), c..c + 1),
        });
        let layer = match self {
            Sweep::HeadPos(layer) => layer,
            _ => row,
        };
        (layer, cells.collect())
    }
}

impl Pair<'_> {
    /// Rows × columns of `sweep` on this pair.
    pub fn shape(&self, sweep: Sweep) -> (usize, usize) {
        let d = self.model.config();
        match sweep {
            Sweep::Heads => (d.n_layer, d.n_head),
            Sweep::HeadPos(_) => (d.n_head, self.len()),
            _ => (d.n_layer, self.len()),
        }
    }

    /// Rows `rows` of `sweep`: the metric of every cell's patched run, each row handed to
    /// `done(row, values)` as soon as it is computed.
    pub fn sweep(
        &self,
        direction: Direction,
        sweep: Sweep,
        rows: Range<usize>,
        mut done: impl FnMut(usize, Vec<f32>),
    ) -> Result<()> {
        let (n_rows, n_cols) = self.shape(sweep);
        if rows.end > n_rows || rows.is_empty() {
            return Err(Error::Input(format!(
                "rows {rows:?} are not inside the sweep's {n_rows}"
            )));
        }
        for row in rows {
            let (layer, cells) = sweep.row(row, n_cols, self.len());
            for (site, positions) in &cells {
                self.check(layer, *site, positions)?;
            }
            done(row, self.resumed(direction, layer, &cells)?);
        }
        Ok(())
    }

    /// Every cell of one row, all patching block `layer`, in batches that resume there.
    fn resumed(
        &self,
        direction: Direction,
        layer: usize,
        cells: &[(Site, Range<usize>)],
    ) -> Result<Vec<f32>> {
        let mut metrics = Vec::with_capacity(cells.len());
        let per_batch = (BATCH_POSITIONS / self.len()).max(1);
        for chunk in cells.chunks(per_batch) {
            metrics.extend(self.batch(direction, layer, chunk)?);
        }
        Ok(metrics)
    }

    fn batch(
        &self,
        direction: Direction,
        layer: usize,
        cells: &[(Site, Range<usize>)],
    ) -> Result<Vec<f32>> {
        let base = self.run(direction.base());
        let e = self.model.config().n_embd;
        let resid = base.act(&Site::Resid.hook(layer)); // (T, C) entering the block
        let mut caches: Vec<KvCache> = Vec::with_capacity(cells.len());
        let mut patches: Vec<Patch> = Vec::with_capacity(cells.len());
        let mut x = Vec::new(); // (Σ new positions, C)
        for (site, positions) in cells {
            let first = positions.start; // everything before it is the base run's
            caches.push(base.cache.resumable(layer, first));
            patches.push(self.patch(direction, layer, *site, positions.clone(), first));
            x.extend_from_slice(&resid[first * e..]);
        }
        let mut batch: Vec<Sequence> = cells
            .iter()
            .zip(caches.iter_mut().zip(patches.iter_mut()))
            .map(|((_, positions), (cache, patch))| Sequence {
                tokens: &base.tokens[positions.start..],
                cache,
                rec: Some(patch),
            })
            .collect();
        let logits = self.model.arch.resume_batch(layer, x, &mut batch)?;
        Ok(logits.iter().map(|l| self.metric_of(l)).collect())
    }
}
