//! A `model.safetensors` file read once into memory (huge pages where the kernel allows), its
//! tensors taken by name: f32 ones used in place, others converted to the stored type asked.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use safetensors::{Dtype, SafeTensors};

use super::checks;
use super::convert::{self, Source};
use super::pages;
use crate::compute::buf::{Buf, DType, Image};
use crate::{Error, Result};

pub(crate) struct SafetensorsFile {
    path: PathBuf,
    map: Arc<Image>,
}

impl SafetensorsFile {
    pub(crate) fn read(path: &Path) -> Result<SafetensorsFile> {
        let file = checks::open_regular(path)?;
        let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        let len = usize::try_from(len).map_err(|_| Error::Format {
            path: path.to_path_buf(),
            msg: format!("{len} bytes do not fit in memory"),
        })?;
        let map = pages::read_file(&file, len).map_err(|e| Error::io(path, e))?;
        let st = SafetensorsFile {
            path: path.to_path_buf(),
            map: Arc::new(map),
        };
        st.parse()?;
        Ok(st)
    }

    fn parse(&self) -> Result<SafeTensors<'_>> {
        SafeTensors::deserialize(&self.map).map_err(|e| Error::Format {
            path: self.path.clone(),
            msg: format!("not a valid safetensors file: {e}"),
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Every stored tensor's name.
    pub(crate) fn names(&self) -> Vec<String> {
        let st = self.parse();
        st.map_or_else(
            |_| Vec::new(),
            |st| st.names().into_iter().map(String::from).collect(),
        )
    }

    /// Whether the file holds `name`.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.parse().is_ok_and(|st| st.names().contains(&name))
    }

    /// Tensor `name`, checked against `shape`, stored as `dtype`.
    pub(crate) fn tensor(&self, name: &str, shape: &[usize], dtype: DType) -> Result<Buf> {
        let err = |msg: String| Error::Tensor {
            path: self.path.clone(),
            name: name.to_string(),
            msg,
        };
        let st = self.parse()?;
        let view = st.tensor(name).map_err(|e| err(e.to_string()))?;
        if view.shape() != shape {
            return Err(err(format!("shape {:?}, expected {shape:?}", view.shape())));
        }
        let from = match view.dtype() {
            Dtype::F32 => DType::F32,
            Dtype::F16 => DType::F16,
            Dtype::BF16 => DType::Bf16,
            other => return Err(err(format!("dtype {other:?}, expected F32, F16 or BF16"))),
        };
        let source = Source::Loaded { map: &self.map };
        convert::tensor(view.data(), from, dtype, source).map_err(|e| Error::io(&self.path, e))
    }
}
