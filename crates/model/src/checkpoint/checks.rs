//! What every checkpoint passes at load, whatever its format: its files are regular files
//! (a FIFO would block the open forever, `/dev/zero` would never end), its JSON is of a
//! bounded size, every weight is finite, and every stored tensor is used.

use std::collections::HashSet;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::compute::buf::{Buf, Data};
use crate::{Error, Result};

/// `config.json`: a few KB in every published checkpoint.
pub(crate) const MAX_CONFIG_BYTES: u64 = 1 << 20;
/// `vocab.json`, `merges.txt`, `tokenizer.json`: GPT-2's are 1–1.4 MB, a 256k-token
/// vocabulary's about 35 MB.
pub(crate) const MAX_TOKENIZER_BYTES: u64 = 128 << 20;

/// Opens `path` (through symlinks) if it is a regular file; anything else is refused before
/// the open, which for a FIFO would wait for a writer.
pub(crate) fn open_regular(path: &Path) -> Result<File> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(not_regular(path));
    }
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    // Swapped for something else between the two looks: refuse it all the same.
    match file.metadata() {
        Ok(m) if m.is_file() => Ok(file),
        Ok(_) => Err(not_regular(path)),
        Err(e) => Err(Error::io(path, e)),
    }
}

fn not_regular(path: &Path) -> Error {
    Error::Format {
        path: path.to_path_buf(),
        msg: "not a regular file (a directory, device, FIFO or socket): a checkpoint's files \
              must be plain files"
            .into(),
    }
}

/// The UTF-8 text of the regular file `path`, refused above `cap` bytes without reading it.
pub(crate) fn read_text(path: &Path, cap: u64) -> Result<String> {
    let file = open_regular(path)?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let too_big = |len: u64| Error::Format {
        path: path.to_path_buf(),
        msg: format!(
            "{len} bytes: larger than the {} MiB such a file may be",
            cap >> 20
        ),
    };
    if len > cap {
        return Err(too_big(len));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    // A file that grows while it is read stops at the cap too.
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > cap {
        return Err(too_big(bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|e| Error::Format {
        path: path.to_path_buf(),
        msg: format!("not UTF-8 text: {e}"),
    })
}

/// Refuses a weight tensor holding NaN or ±inf (in its stored type, so a value too large
/// for 16 bits counts too): every logit it touches would be NaN, and the page would show
/// token 0 with an entropy of 0.
pub(crate) fn finite(path: &Path, name: &str, buf: &Buf) -> Result<()> {
    let bad = match buf.data() {
        Data::F32(x) => first_bad(x, |v| !v.is_finite()),
        Data::Bf16(x) => first_bad(x, |v| !v.is_finite()),
        Data::F16(x) => first_bad(x, |v| !v.is_finite()),
    };
    match bad {
        None => {
            buf.note_finite();
            Ok(())
        }
        Some((at, value)) => Err(Error::Tensor {
            path: path.to_path_buf(),
            name: name.to_string(),
            msg: format!(
                "value {at} of {} is {value}: the weights must be finite",
                buf.len()
            ),
        }),
    }
}

/// The index and value of the first element that is `bad`. Blocks are tested whole (no early
/// exit inside, so the test vectorises) and only a failing block is searched.
fn first_bad<T: Copy + std::fmt::Display>(
    x: &[T],
    bad: impl Fn(T) -> bool,
) -> Option<(usize, String)> {
    const BLOCK: usize = 4096;
    let (block, chunk) = x
        .chunks(BLOCK)
        .enumerate()
        .find(|(_, c)| c.iter().fold(false, |any, &v| any | bad(v)))?;
    let at = chunk.iter().position(|&v| bad(v))?;
    Some((block * BLOCK + at, chunk[at].to_string()))
}

/// Refuses stored tensors that no parameter took, `ignorable` ones apart: a config with
/// fewer layers than the weights, or weights of another model, would otherwise load and run
/// as something they are not.
pub(crate) fn all_used<'a>(
    path: &Path,
    stored: impl Iterator<Item = &'a str>,
    used: &HashSet<String>,
    ignorable: impl Fn(&str) -> bool,
) -> Result<()> {
    let mut unused: Vec<&str> = stored
        .filter(|name| !used.contains(*name) && !ignorable(name))
        .collect();
    if unused.is_empty() {
        return Ok(());
    }
    unused.sort_unstable();
    let shown = unused
        .iter()
        .take(5)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    let more = match unused.len() {
        n if n > 5 => format!(" and {} more", n - 5),
        _ => String::new(),
    };
    Err(Error::Format {
        path: path.to_path_buf(),
        msg: format!(
            "{} tensor(s) the config has no place for: {shown}{more} (does config.json \
             match these weights, n_layer included?)",
            unused.len()
        ),
    })
}
