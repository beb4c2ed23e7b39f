//! Recording intermediates is a parameter of the forward pass, not a second model; so is
//! patching one ([`crate::patch::Patch`]): a recorder may overwrite what it is handed.
//!
//! Names follow TransformerLens, so values can be checked against `run_with_cache`.

/// Receives activations from a forward pass ([`crate::Forward`]) by TransformerLens hook name. `Send`,
/// because the forward pass runs on the thread pool.
pub trait Recorder: Send {
    /// Whether the forward pass should hand over `name` (it skips the copy, and any work
    /// done only for recording, when not).
    fn wants(&self, name: &str) -> bool;
    /// `data` is row-major with the given `shape`.
    fn record(&mut self, name: &str, shape: &[usize], data: &[f32]);

    /// What the forward pass calls at every hook the recorder wants, with the activation it
    /// goes on with: recording only reads it (the default); a patch overwrites it in place,
    /// and the rest of the pass runs on the patched values.
    fn hook(&mut self, name: &str, shape: &[usize], data: &mut [f32]) {
        self.record(name, shape, data);
    }

    /// Whether [`Recorder::hook`] may change the activations: such a recorder must run inside
    /// the pass, not on a copy of its activations.
    fn edits(&self) -> bool {
        false
    }
}

/// Records nothing: the plain forward pass.
pub struct NoRecorder;

impl Recorder for NoRecorder {
    fn wants(&self, _: &str) -> bool {
        false
    }
    fn record(&mut self, _: &str, _: &[usize], _: &[f32]) {}
}

/// Every hook name a forward pass offers, in the order it fires: the family's embedding hooks
/// (`hook_embed`, and `hook_pos_embed` where positions are a table), then [`BLOCK_HOOKS`] for
/// every block, then the final norm and the logits.
pub fn hook_names(embed_hooks: &[&str], n_layer: usize) -> Vec<String> {
    let mut names: Vec<String> = embed_hooks.iter().map(|h| h.to_string()).collect();
    for l in 0..n_layer {
        for hook in BLOCK_HOOKS {
            names.push(format!("blocks.{l}.{hook}"));
        }
    }
    names.push("ln_final.hook_normalized".into());
    names.push("logits".into());
    names
}

/// The per-block hooks, in the order they fire. `attn.hook_z` is every head's output before
/// the output projection, (T, n_head, head_dim): patching one head's slice patches that head.
pub const BLOCK_HOOKS: [&str; 7] = [
    "hook_resid_pre",
    "attn.hook_pattern",
    "attn.hook_z",
    "hook_attn_out",
    "hook_resid_mid",
    "hook_mlp_out",
    "hook_resid_post",
];

/// One recorded activation.
#[derive(Debug, Clone)]
pub struct Activation {
    pub name: String,
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// Keeps full copies of the requested activations (all of them when `names` is `None`),
/// in the order they were recorded, like TransformerLens's `ActivationCache`.
#[derive(Debug, Default)]
pub struct ActivationCache {
    names: Option<Vec<String>>,
    pub entries: Vec<Activation>,
}

impl ActivationCache {
    pub fn all() -> Self {
        Self::default()
    }

    pub fn only(names: &[&str]) -> Self {
        Self {
            names: Some(names.iter().map(|s| s.to_string()).collect()),
            entries: Vec::new(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&Activation> {
        self.entries.iter().find(|a| a.name == name)
    }
}

impl Recorder for ActivationCache {
    fn wants(&self, name: &str) -> bool {
        self.names
            .as_ref()
            .is_none_or(|names| names.iter().any(|n| n == name))
    }

    fn record(&mut self, name: &str, shape: &[usize], data: &[f32]) {
        self.entries.push(Activation {
            name: name.to_string(),
            shape: shape.to_vec(),
            data: data.to_vec(),
        });
    }
}

/// The L2 norm of the residual stream at every position entering each block, then leaving
/// the last block (before `ln_f`): the page's per-layer strips. Keeps T floats per row.
#[derive(Debug, Default)]
pub struct ResidNorms {
    /// The last block's `hook_resid_post`, the one post-block hook kept.
    last_post: String,
    pub rows: Vec<Vec<f32>>, // (n_layer + 1, T)
}

impl ResidNorms {
    pub fn new(n_layer: usize) -> Self {
        Self {
            last_post: format!("blocks.{}.hook_resid_post", n_layer.saturating_sub(1)),
            rows: Vec::new(),
        }
    }

    fn is_norm_hook(&self, name: &str) -> bool {
        (name.starts_with("blocks.") && name.ends_with(".hook_resid_pre")) || name == self.last_post
    }
}

impl Recorder for ResidNorms {
    fn wants(&self, name: &str) -> bool {
        self.is_norm_hook(name)
    }

    fn record(&mut self, _: &str, shape: &[usize], data: &[f32]) {
        let width = shape.last().copied().unwrap_or(1).max(1);
        let norms = data
            .chunks(width)
            .map(|row| row.iter().map(|v| v * v).sum::<f32>().sqrt())
            .collect();
        self.rows.push(norms);
    }
}

/// Sends every activation to both recorders (e.g. norms for the page and a full cache).
pub struct Both<'a, A: Recorder, B: Recorder>(pub &'a mut A, pub &'a mut B);

impl<A: Recorder, B: Recorder> Recorder for Both<'_, A, B> {
    fn wants(&self, name: &str) -> bool {
        self.0.wants(name) || self.1.wants(name)
    }

    fn record(&mut self, name: &str, shape: &[usize], data: &[f32]) {
        if self.0.wants(name) {
            self.0.record(name, shape, data);
        }
        if self.1.wants(name) {
            self.1.record(name, shape, data);
        }
    }

    /// The first may patch what the second then records.
    fn hook(&mut self, name: &str, shape: &[usize], data: &mut [f32]) {
        if self.0.wants(name) {
            self.0.hook(name, shape, data);
        }
        if self.1.wants(name) {
            self.1.hook(name, shape, data);
        }
    }

    fn edits(&self) -> bool {
        self.0.edits() || self.1.edits()
    }
}
