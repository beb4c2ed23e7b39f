//! A `model.safetensors` file read once into memory (huge pages where the kernel allows), its
//! tensors taken by name: f32 ones used in place, others converted to the stored type asked.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
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
        let map =
            pages::read_file(&file, len, data_start(&file)).map_err(|e| Error::io(path, e))?;
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

/// Where a safetensors file's tensors begin: after the 8 bytes of the header's length and the
/// header. 0 when the file is too short to say (parsing it then fails with a clear error).
pub(crate) fn data_start(mut file: &File) -> usize {
    let mut len = [0u8; 8];
    let read = file
        .seek(SeekFrom::Start(0))
        .and_then(|_| file.read_exact(&mut len));
    match read {
        Ok(()) => usize::try_from(u64::from_le_bytes(len)).map_or(0, |n| n.wrapping_add(8)),
        Err(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::compute::buf::Data;

    #[test]
    fn tensors_used_in_place_start_on_a_cache_line() {
        // A 64-byte header puts the tensor 72 bytes into the file: 8 past a cache line.
        let json = r#"{"w":{"dtype":"F32","shape":[16],"data_offsets":[0,64]}}"#;
        let mut bytes = 64u64.to_le_bytes().to_vec();
        bytes.extend(format!("{json:<64}").bytes());
        bytes.extend((0..16).flat_map(|i| (i as f32).to_le_bytes()));
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(&bytes).unwrap();
        let st = SafetensorsFile::read(file.path()).unwrap();
        let w = st.tensor("w", &[16], DType::F32).unwrap();
        let Data::F32(values) = w.data() else {
            panic!("an f32 tensor read as f32 is f32");
        };
        assert!(w.is_mapped());
        assert_eq!(values.as_ptr() as usize % 64, 0);
        assert_eq!(values[15], 15.0);
    }
}
