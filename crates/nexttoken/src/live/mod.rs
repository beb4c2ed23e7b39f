//! `nexttoken export --live`: the whole live page as static files. The engine, compiled to
//! WebAssembly, runs in the reader's browser (web/js/engine/), so any static host serves a page
//! where learners type their own prompts; a recording of the curated prompts stays beside it
//! for browsers without WebAssembly.
//!
//! The site: `index.html` (marked `browser`, its CSP allowing WebAssembly and the Hugging Face
//! hub), `web/`, `data/curated.json`, `engine/nexttoken.wasm` (one thread) and, where it could
//! be built, `engine/nexttoken-threads.wasm` (shared memory, for pages served cross-origin
//! isolated), and `models/`: `models.json` says which engines there are, which model starts
//! and which the page may load, each in its own folder.

mod engine;
mod threads;
mod weights;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde_json::json;

use crate::export::{self, Written};
use crate::models::{self, BUNDLED_MODEL};
use crate::server::assets::INDEX;

const ENGINE: &str = "engine/nexttoken.wasm";
const THREADS_ENGINE: &str = "engine/nexttoken-threads.wasm";
/// The headers that let the page share memory with its workers, so the threaded engine runs,
/// in the `_headers` file Netlify and Cloudflare Pages read (the README names other hosts').
const ISOLATION_HEADERS: &str = "/*\n  Cross-Origin-Opener-Policy: same-origin\n  \
    Cross-Origin-Embedder-Policy: require-corp\n";

/// The key the page loads "GPT-2 small" by (web/js/engine/source.js).
const UPGRADE: &str = "gpt2";

/// Scripts from this site, WebAssembly compiled from them, and GPT-2 from the Hugging Face hub
/// (its resolve URLs redirect to its CDN hosts); nothing else.
const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    connect-src 'self' https://huggingface.co https://*.huggingface.co https://*.hf.co; \
    img-src 'self' data:; style-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'";
const MODE_META: &str = r#"<meta name="nexttoken-mode" content="browser">"#;

pub struct LiveOptions {
    /// The model the page starts with (default: the bundled one).
    pub start: Option<String>,
    /// A model to place beside the site in 16 bits, which the page loads as GPT-2.
    pub with_weights: Option<String>,
    /// A prebuilt engine instead of building crates/wasm.
    pub wasm: Option<PathBuf>,
    /// A prebuilt threaded engine (crates/wasm with shared memory).
    pub wasm_threads: Option<PathBuf>,
}

/// Writes the live site to `out`; `steps` greedy tokens per curated prompt in its recording.
/// Every model and the engine are read (or built) before anything is written.
pub fn export_live(out: &Path, steps: usize, options: &LiveOptions) -> Result<Written> {
    let start_name = options.start.as_deref().unwrap_or(BUNDLED_MODEL);
    let (model, _) = models::load(Some(start_name))?;
    let start = models::files(start_name)?;
    let start_key = key(&model.name);
    let upgrade = match &options.with_weights {
        Some(_) if start_key == UPGRADE => {
            bail!("--with-weights places GPT-2 beside a site that starts on another model; this one starts on {}", model.name)
        }
        Some(name) => {
            let files = models::files(name)?;
            let f16 = weights::to_f16(&files.weights_path()?)?;
            Some((files, f16))
        }
        None => None,
    };
    let engines = engine::engines(options.wasm.as_deref(), options.wasm_threads.as_deref())?;
    let html = String::from_utf8_lossy(
        &export::embedded_files()
            .into_iter()
            .find(|(path, _)| path == INDEX)
            .map(|(_, data)| data)
            .unwrap_or_default(),
    )
    .into_owned();
    let page = live_page(&html)?;

    let mut written = export::export(&model, out, steps)?;
    write(&out.join(INDEX), page.as_bytes())?;
    write(&out.join(ENGINE), &engines.single)?;
    if let Some(threads) = &engines.threads {
        write(&out.join(THREADS_ENGINE), threads)?;
        write(&out.join("_headers"), ISOLATION_HEADERS.as_bytes())?;
        written.files += 2;
    }
    let weights = start.weights()?;
    let mut listed = serde_json::Map::new();
    let source = start.source_label();
    let listing = entry(&start_key, &model.name, "f32", source, weights.len());
    listed.insert(start_key.clone(), listing);
    write_model(out, &start_key, &start.config, &weights)?;
    written.files += 3;
    if let Some((files, f16)) = upgrade {
        write_model(out, UPGRADE, &files.config, &f16)?;
        let listing = entry(UPGRADE, &files.name, "f16", "site", f16.len());
        listed.insert(UPGRADE.into(), listing);
        written.files += 2;
    }
    let mut index = json!({ "engine": ENGINE, "start": start_key, "models": listed });
    if engines.threads.is_some() {
        index["threads_engine"] = THREADS_ENGINE.into();
    }
    write(
        &out.join("models/models.json"),
        &serde_json::to_vec_pretty(&index)?,
    )?;
    written.files += 1;
    Ok(written)
}

fn write_model(out: &Path, key: &str, config: &str, weights: &[u8]) -> Result<()> {
    let dir = out.join("models").join(key);
    write(&dir.join("config.json"), config.as_bytes())?;
    write(&dir.join("model.safetensors"), weights)
}

/// A folder name for a model: its name's last part.
fn key(name: &str) -> String {
    name.rsplit('/').next().unwrap_or(name).to_string()
}

fn entry(key: &str, name: &str, dtype: &str, source: &str, bytes: usize) -> serde_json::Value {
    json!({ "name": name, "dir": format!("models/{key}/"), "dtype": dtype, "source": source, "bytes": bytes })
}

/// The page marked for the in-browser engine, under the live site's CSP.
fn live_page(html: &str) -> Result<String> {
    const CSP_START: &str = r#"<meta http-equiv="Content-Security-Policy" content=""#;
    let Some(at) = html.find(CSP_START) else {
        bail!("index.html has no Content-Security-Policy meta tag to widen for WebAssembly");
    };
    let content = at + CSP_START.len();
    let end = content
        + html[content..]
            .find('"')
            .context("index.html's Content-Security-Policy tag is not closed")?;
    let html = format!("{}{CSP}{}", &html[..content], &html[end..]);
    if !html.contains(export::MODE_MARKER) {
        bail!(
            "index.html has no {} marker for the page's mode",
            export::MODE_MARKER
        );
    }
    Ok(html.replacen(export::MODE_MARKER, MODE_META, 1))
}

fn write(path: &Path, data: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, data).with_context(|| format!("writing {}", path.display()))
}
