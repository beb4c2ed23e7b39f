//! The loaded model and the requests it answers: nexttoken-api's, exactly as the server's.

use std::sync::Arc;

use nexttoken_api::{Answer, Bounds};
use nexttoken_model::{DType, Model};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::memory::Image;

/// What a tab may keep of logits and states for stepping: GPT-2 small holds 72 KiB of keys
/// and values a position, so this keeps about 900 positions while the model itself stays in
/// the tab's memory budget.
const CACHE_BYTES: usize = 64 << 20;

/// One model, once loaded.
#[derive(Default)]
pub struct Engine {
    api: Option<nexttoken_api::Engine>,
    /// How the loaded model stores its matrices.
    dtype: DType,
    /// Where the model came from: `bundled` (the site's own), `site`, `hub`.
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoadOptions<'a> {
    name: String,
    #[serde(borrow)]
    config: &'a RawValue,
    dtype: String,
    source: String,
}

impl Engine {
    /// Replaces the model with one read from `options` (JSON of [`LoadOptions`]) and its
    /// `model.safetensors`, whose tensors of the stored type are used in place.
    pub fn load(&mut self, options: &[u8], weights: Image) -> Result<(), String> {
        let o: LoadOptions = serde_json::from_slice(options).map_err(|e| e.to_string())?;
        let dtype: DType = o.dtype.parse()?;
        self.api = None; // its memory serves the next model
        let model = Model::from_image(&o.name, o.config.get(), Arc::new(weights), dtype);
        let model = Arc::new(model.map_err(|e| e.to_string())?);
        self.api = Some(nexttoken_api::Engine::new(
            model,
            Bounds::default(),
            CACHE_BYTES,
        ));
        (self.dtype, self.source) = (dtype, o.source);
        Ok(())
    }

    pub fn dtype(&self) -> DType {
        self.dtype
    }

    pub fn model(&self) -> Result<&Model, String> {
        let api = self.api.as_ref().ok_or("no model is loaded yet")?;
        Ok(&api.model)
    }

    /// The answer to `method path` with `body`, as the server gives it.
    pub fn request(&self, method: &str, path: &str, body: &[u8]) -> Answer {
        match &self.api {
            Some(api) => nexttoken_api::handle(api, &self.source, method, path, body),
            None => Answer {
                status: 503,
                body: r#"{"error":{"code":"no_model","message":"no model is loaded yet"}}"#.into(),
            },
        }
    }
}
