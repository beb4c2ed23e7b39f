//! `nexttoken export`: the page plus precomputed greedy runs of the curated prompts, as plain
//! files any static host can serve. The compact `data/curated.json` format is in docs/api.md.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use nexttoken_model::embedding::Embedding;
use nexttoken_model::trace::{ModelInfo, Step, TokenRef};
use nexttoken_model::{trace, GenerateOptions, KvCache, Model, ResidNorms, Sampling};
use serde::{Deserialize, Serialize};

use crate::models::BUNDLED_MODEL;
use crate::server::assets::{Web, INDEX};

/// Where the page keeps its curated prompts, inside `web/`.
pub const PROMPTS: &str = "prompts.json";
/// The bundled model's own curated prompts, inside `web/`.
pub const BUNDLED_PROMPTS: &str = "prompts-sotu-tiny.json";
/// Candidates recorded per step: enough for the page's bars, small enough for phones.
pub const CANDIDATES: usize = 30;
/// The page carries this comment where the static-mode tag belongs.
pub const MODE_MARKER: &str = "<!--nexttoken-mode-->";
pub const MODE_META: &str = r#"<meta name="nexttoken-mode" content="static">"#;

/// One entry of `web/prompts.json`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CuratedPrompt {
    pub label: String,
    pub prompt: String,
    #[serde(default)]
    pub kind: String,
}

/// `data/curated.json`.
#[derive(Debug, Serialize)]
pub struct Curated {
    #[serde(rename = "static")]
    pub is_static: bool,
    pub model: ModelInfo,
    pub prompts: Vec<CuratedRun>,
    /// Text and display form of every candidate, once: `{"<id>": [text, display]}`.
    pub texts: BTreeMap<u32, (String, String)>,
}

#[derive(Debug, Serialize)]
pub struct CuratedRun {
    pub label: String,
    pub prompt: String,
    pub kind: String,
    pub tokens: Vec<TokenRef>,
    pub token_ids: Vec<u32>,
    pub embedding: Embedding,
    pub resid_norms: Vec<Vec<f32>>,
    pub steps: Vec<CompactStep>,
}

#[derive(Debug, Serialize)]
pub struct CompactStep {
    pub chosen: Chosen,
    /// log-sum-exp of the full logits at temperature 1: a candidate's exact probability is
    /// `exp(logit - lse)`.
    pub lse: f64,
    /// `[id, logit]` of the top candidates by logit.
    pub candidates: Vec<(u32, f32)>,
    /// The largest logit not among `candidates`: every other token's is at most this, which
    /// bounds what the unrecorded tokens can do under the page's sliders.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rest_max: Option<f32>,
    /// Entropy of the full temperature-1 distribution, in bits.
    pub entropy_bits: f64,
    /// The chosen token's embedding norms and residual-stream column, as `/api/step` gives.
    pub embedding: Embedding,
    pub resid_norms: Vec<Vec<f32>>, // (n_layer + 1, 1)
}

#[derive(Debug, Serialize)]
pub struct Chosen {
    pub id: u32,
    pub text: String,
    pub display: String,
}

/// Runs every prompt greedily for `steps` tokens and keeps what the page needs.
pub fn curated(model: &Model, prompts: &[CuratedPrompt], steps: usize) -> Result<Curated> {
    let options = GenerateOptions {
        sampling: Sampling::greedy(),
        seed: 0,
        // One more than recorded: its logit is `rest_max`.
        top_n: CANDIDATES + 1,
    };
    let mut texts = BTreeMap::new();
    let mut runs = Vec::with_capacity(prompts.len());
    for p in prompts {
        let t = trace(model, &p.prompt, steps, options)
            .with_context(|| format!("running the curated prompt {:?}", p.label))?;
        let token_ids: Vec<u32> = t.tokens.iter().map(|tok| tok.id).collect();
        for step in &t.steps {
            for c in step.candidates.iter().take(CANDIDATES) {
                texts.insert(c.id, (c.text.clone(), c.display.clone()));
            }
        }
        let columns = generated_columns(model, &token_ids, &t.steps)
            .with_context(|| format!("recording the generated tokens of {:?}", p.label))?;
        runs.push(CuratedRun {
            label: p.label.clone(),
            prompt: p.prompt.clone(),
            kind: p.kind.clone(),
            embedding: Embedding::of(model, &token_ids),
            token_ids,
            tokens: t.tokens,
            resid_norms: t.resid_norms,
            steps: t.steps.into_iter().zip(columns).map(compact).collect(),
        });
    }
    Ok(Curated {
        is_static: true,
        model: ModelInfo::of(model),
        prompts: runs,
        texts,
    })
}

/// Each generated token's embedding norms and residual column, from one recorded run of the
/// whole sequence (a position depends only on the tokens up to it).
fn generated_columns(
    model: &Model,
    prompt: &[u32],
    steps: &[Step],
) -> Result<Vec<(Embedding, Vec<Vec<f32>>)>> {
    let generated: Vec<u32> = steps.iter().map(|s| s.chosen.id).collect();
    let sequence = [prompt, &generated].concat();
    let mut norms = ResidNorms::new(model.config().n_layer);
    let mut cache = KvCache::new(model.config());
    model.forward(&sequence, &mut cache, &mut norms)?;
    Ok((prompt.len()..sequence.len())
        .map(|pos| {
            let column = norms.rows.iter().map(|row| vec![row[pos]]).collect();
            (Embedding::at(model, &sequence[pos..=pos], pos), column)
        })
        .collect())
}

fn compact((step, (embedding, resid_norms)): (Step, (Embedding, Vec<Vec<f32>>))) -> CompactStep {
    // The top candidate's T=1 probability is exp(logit - lse), so lse = logit - ln(prob);
    // it is never zero, being the largest.
    let lse = step
        .candidates
        .first()
        .map_or(0.0, |c| c.logit as f64 - c.prob.ln());
    CompactStep {
        chosen: Chosen {
            id: step.chosen.id,
            text: step.chosen.text,
            display: step.chosen.display,
        },
        lse,
        candidates: step
            .candidates
            .iter()
            .take(CANDIDATES)
            .map(|c| (c.id, c.logit))
            .collect(),
        rest_max: step.candidates.get(CANDIDATES).map(|c| c.logit),
        entropy_bits: step.entropy_bits,
        embedding,
        resid_norms,
    }
}

/// Puts the static-mode tag where the page's marker is, else right after `<head>`.
pub fn mark_static(html: &str) -> Result<String> {
    if html.contains(MODE_MARKER) {
        return Ok(html.replacen(MODE_MARKER, MODE_META, 1));
    }
    let Some(at) = after_head_tag(html) else {
        bail!("index.html has neither {MODE_MARKER} nor a <head> tag to mark static mode");
    };
    Ok(format!("{}{MODE_META}{}", &html[..at], &html[at..]))
}

/// The byte offset just past the `<head>` (or `<head ...>`) opening tag.
fn after_head_tag(html: &str) -> Option<usize> {
    let lower = html.to_ascii_lowercase(); // ASCII lowercasing keeps byte offsets
    let mut from = 0;
    while let Some(found) = lower[from..].find("<head") {
        let start = from + found;
        let next = lower.as_bytes().get(start + 5).copied();
        if matches!(next, Some(b'>' | b' ' | b'\t' | b'\n' | b'\r')) {
            return lower[start..].find('>').map(|end| start + end + 1);
        }
        from = start + 5;
    }
    None
}

/// What an export wrote.
#[derive(Debug)]
pub struct Written {
    pub files: usize,
    pub curated_bytes: usize,
}

impl Written {
    pub fn summary(&self, out: &Path) -> String {
        format!(
            "wrote {} files to {} (data/curated.json: {:.1} KB)",
            self.files,
            out.display(),
            self.curated_bytes as f64 / 1000.0
        )
    }
}

/// Writes `index.html` (marked static) at the top of `out`, every other page file under
/// `out/web/` where the page asks for it, and `out/data/curated.json`.
pub fn write_site(out: &Path, files: &[(String, Vec<u8>)], curated: &Curated) -> Result<Written> {
    let mut written = 0;
    for (path, data) in files {
        if path == INDEX {
            let html = String::from_utf8_lossy(data);
            write(&out.join(INDEX), mark_static(&html)?.as_bytes())?;
        } else {
            write(&out.join("web").join(path), data)?;
        }
        written += 1;
    }
    let json = serde_json::to_vec(curated)?;
    write(&out.join("data").join("curated.json"), &json)?;
    Ok(Written {
        files: written + 1,
        curated_bytes: json.len(),
    })
}

fn write(path: &Path, data: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, data).with_context(|| format!("writing {}", path.display()))
}

/// The page files built into this binary, as (path inside `web/`, bytes).
pub fn embedded_files() -> Vec<(String, Vec<u8>)> {
    Web::iter()
        .filter_map(|path| Web::get(&path).map(|f| (path.to_string(), f.data.into_owned())))
        .collect()
}

/// The curated prompts of the page built into this binary.
pub fn embedded_prompts() -> Result<Vec<CuratedPrompt>> {
    prompts_file(PROMPTS)
}

/// The curated prompts for `model`: the bundled model, which read only State of the Union
/// speeches, has its own (the page picks the same file).
pub fn embedded_prompts_for(model: &Model) -> Result<Vec<CuratedPrompt>> {
    prompts_file(if model.name == BUNDLED_MODEL {
        BUNDLED_PROMPTS
    } else {
        PROMPTS
    })
}

fn prompts_file(name: &str) -> Result<Vec<CuratedPrompt>> {
    let file = Web::get(name).with_context(|| format!("web/{name} is missing from this build"))?;
    serde_json::from_slice(&file.data).with_context(|| format!("reading web/{name}"))
}

/// The whole export with the embedded page.
pub fn export(model: &Model, out: &Path, steps: usize) -> Result<Written> {
    let files = embedded_files();
    if !files.iter().any(|(path, _)| path == INDEX) {
        bail!("web/index.html is missing from this build: the page must exist to be exported");
    }
    let curated = curated(model, &embedded_prompts_for(model)?, steps)?;
    write_site(out, &files, &curated)
}
