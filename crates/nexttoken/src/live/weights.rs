//! GPT-2's weights for a live site, in 16 bits: half the download, the precision the browser
//! engine keeps them in anyway (f16 matrices, every value within 1e-3 relative of f32).

use std::path::Path;

use anyhow::{Context, Result};
use half::f16;
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

/// `model.safetensors` at `from` as f16, without the attention masks old checkpoints store
/// (`attn.bias`, `attn.masked_bias`: buffers, not parameters; 48 MB of GPT-2 small's file).
pub fn to_f16(from: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(from).with_context(|| format!("reading {}", from.display()))?;
    let st = SafeTensors::deserialize(&bytes)
        .with_context(|| format!("{} is not a safetensors file", from.display()))?;
    let mut tensors = Vec::new();
    for (name, view) in st.tensors() {
        if name.ends_with(".attn.bias") || name.ends_with(".attn.masked_bias") {
            continue;
        }
        let data = match view.dtype() {
            Dtype::F32 => view
                .data()
                .chunks_exact(4)
                .flat_map(|b| {
                    f16::from_f32(f32::from_le_bytes([b[0], b[1], b[2], b[3]])).to_le_bytes()
                })
                .collect(),
            Dtype::F16 => view.data().to_vec(),
            other => anyhow::bail!("{name}: dtype {other:?}; only F32 and F16 weights are written"),
        };
        tensors.push((name, view.shape().to_vec(), data));
    }
    let views = tensors
        .iter()
        .map(|(name, shape, data)| {
            Ok((
                name.as_str(),
                TensorView::new(Dtype::F16, shape.clone(), data)?,
            ))
        })
        .collect::<Result<Vec<_>, safetensors::SafeTensorError>>()?;
    Ok(safetensors::serialize(views, None)?)
}
