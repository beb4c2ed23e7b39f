//! The loaded model and the requests it answers, in the JSON of docs/api.md.

use std::sync::Arc;

use nexttoken_model::trace::ModelInfo;
use nexttoken_model::{trace, DType, GenerateOptions, Model, Sampling};
use serde::Deserialize;
use serde_json::json;

use crate::memory::Image;

/// One model, once loaded.
#[derive(Default)]
pub struct Engine {
    model: Option<Model>,
    /// How the loaded model stores its matrices.
    dtype: DType,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TraceRequest {
    prompt: String,
    #[serde(default = "one")]
    steps: usize,
    #[serde(default)]
    sampling: Sampling,
    #[serde(default)]
    seed: u64,
    #[serde(default = "thirty")]
    top_n: usize,
}

fn one() -> usize {
    1
}

fn thirty() -> usize {
    30
}

impl Engine {
    /// Replaces the model with one read from its `config.json` and `model.safetensors`,
    /// whose tensors of the stored type are used in place.
    pub fn load(
        &mut self,
        name: &[u8],
        config: &[u8],
        dtype: &[u8],
        weights: Image,
    ) -> Result<(), String> {
        let text = |bytes, what| std::str::from_utf8(bytes).map_err(|e| format!("{what}: {e}"));
        let (name, config) = (text(name, "model name")?, text(config, "config.json")?);
        let dtype: DType = text(dtype, "dtype")?.parse()?;
        self.model = None; // its memory serves the next model
        let model = Model::from_image(name, config, Arc::new(weights), dtype);
        self.model = Some(model.map_err(|e| e.to_string())?);
        self.dtype = dtype;
        Ok(())
    }

    pub fn dtype(&self) -> DType {
        self.dtype
    }

    pub fn model(&self) -> Result<&Model, String> {
        self.model
            .as_ref()
            .ok_or_else(|| "no model is loaded yet".to_string())
    }

    /// The status and JSON answer to `path` with `body`.
    pub fn request(&self, path: &[u8], body: &[u8]) -> (u32, String) {
        let Some(model) = &self.model else {
            return error(503, "no_model", "no model is loaded yet");
        };
        match path {
            b"/api/model" => (200, json!(ModelInfo::of(model)).to_string()),
            b"/api/trace" => match self.trace(model, body) {
                Ok(answer) => (200, answer),
                Err(message) => error(400, "bad_request", &message),
            },
            _ => error(404, "not_found", "no such route in the browser engine"),
        }
    }

    fn trace(&self, model: &Model, body: &[u8]) -> Result<String, String> {
        let req: TraceRequest = serde_json::from_slice(body).map_err(|e| e.to_string())?;
        req.sampling.validate(model.config().vocab_size)?;
        let options = GenerateOptions {
            sampling: req.sampling,
            seed: req.seed,
            top_n: req.top_n,
        };
        let trace = trace(model, &req.prompt, req.steps, options).map_err(|e| e.to_string())?;
        serde_json::to_string(&trace).map_err(|e| e.to_string())
    }
}

fn error(status: u32, code: &str, message: &str) -> (u32, String) {
    let body = json!({ "error": { "code": code, "message": message } });
    (status, body.to_string())
}
