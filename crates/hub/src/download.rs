//! Downloading one blob: into `blobs/{etag}.incomplete`, resuming what an
//! earlier run left there, then checked and renamed to `blobs/{etag}`.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::cache::{create_parent, RepoCache};
use crate::error::{io_err, HubError};
use crate::http::{Client, FileMeta};
use crate::names;
use crate::progress::Progress;

/// Connection drops tolerated within one call, each resumed where it stopped.
const MAX_RESUMES: usize = 3;
const CHUNK: usize = 256 * 1024;

/// Makes sure `blobs/{etag}` holds the verified bytes of `file`.
pub(crate) fn fetch_blob(
    client: &Client,
    cache: &RepoCache,
    file: &str,
    meta: &FileMeta,
    progress: &dyn Progress,
) -> Result<(), HubError> {
    let blob = cache.blob_path(&meta.etag);
    if blob.is_file() {
        return Ok(());
    }
    // Held until return; the same lock file as huggingface_hub, so two
    // programs never write the same `.incomplete` at once.
    let _lock = lock(&cache.lock_path(&meta.etag))?;
    if blob.is_file() {
        return Ok(()); // finished by whoever held the lock before us
    }
    let partial = cache.incomplete_path(&meta.etag);
    create_parent(&partial)?;
    // A corrupt result is thrown away and fetched once more from scratch.
    let mut reason = String::new();
    for _ in 0..2 {
        download_resuming(client, file, meta, &partial, progress)?;
        match verify(&partial, meta) {
            Ok(()) => return fs::rename(&partial, &blob).map_err(io_err("rename", &partial)),
            Err(why) => reason = why,
        }
        fs::remove_file(&partial).map_err(io_err("remove", &partial))?;
    }
    Err(HubError::Corrupt {
        repo: client.repo_id().to_string(),
        file: file.to_string(),
        reason,
    })
}

fn lock(path: &Path) -> Result<File, HubError> {
    create_parent(path)?;
    let file = File::create(path).map_err(io_err("create", path))?;
    file.lock().map_err(io_err("lock", path))?;
    Ok(file)
}

fn download_resuming(
    client: &Client,
    file: &str,
    meta: &FileMeta,
    partial: &Path,
    progress: &dyn Progress,
) -> Result<(), HubError> {
    let mut resumes = 0;
    loop {
        match download_once(client, file, meta, partial, progress) {
            Err(HubError::Interrupted { .. }) if resumes < MAX_RESUMES => resumes += 1,
            other => return other,
        }
    }
}

/// One GET, appending to `partial` what it already holds.
fn download_once(
    client: &Client,
    file: &str,
    meta: &FileMeta,
    partial: &Path,
    progress: &dyn Progress,
) -> Result<(), HubError> {
    let have = fs::metadata(partial).map(|m| m.len()).unwrap_or(0);
    if meta.size.is_some_and(|size| have >= size) {
        return Ok(()); // nothing left to fetch: verification decides
    }
    let mut response = client.get(&meta.url, have)?;
    let start = match response.status().as_u16() {
        206 if range_start(response.headers()) == Some(have) => have,
        206 => return Err(bad_range(&meta.url)),
        // A server that ignores Range sends everything: start over.
        200 => 0,
        status => {
            return Err(HubError::Http {
                url: meta.url.clone(),
                status,
            })
        }
    };
    let mut out = open_at(partial, start)?;
    progress.start(file, meta.size, start);
    let copied = copy_body(response.body_mut().as_reader(), &mut out, partial, progress);
    progress.finish(file);
    let (copied, broken) = copied?;
    out.flush().map_err(io_err("write", partial))?;
    let got = start + copied;
    match (broken, meta.size) {
        (Some(reason), _) => Err(interrupted(file, meta, got, &reason)),
        (None, Some(size)) if got < size => {
            Err(interrupted(file, meta, got, "connection closed early"))
        }
        _ => Ok(()),
    }
}

fn open_at(partial: &Path, start: u64) -> Result<File, HubError> {
    let mut options = OpenOptions::new();
    if start == 0 {
        options.write(true).create(true).truncate(true);
    } else {
        options.append(true);
    }
    options.open(partial).map_err(io_err("open", partial))
}

/// Bytes copied, and why the body broke off if it did. A failed read is
/// the network (resumable); a failed write is the disk (`Io`, final).
fn copy_body(
    mut body: impl Read,
    out: &mut File,
    partial: &Path,
    progress: &dyn Progress,
) -> Result<(u64, Option<String>), HubError> {
    let mut buf = vec![0u8; CHUNK];
    let mut copied = 0u64;
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => return Ok((copied, None)),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Ok((copied, Some(e.to_string()))),
        };
        out.write_all(&buf[..n]).map_err(io_err("write", partial))?;
        copied += n as u64;
        progress.advance(n as u64);
    }
}

/// Size first (cheap), then the sha256 when the etag is one (LFS files).
fn verify(path: &Path, meta: &FileMeta) -> Result<(), String> {
    let len = fs::metadata(path).map_err(|e| e.to_string())?.len();
    if let Some(size) = meta.size.filter(|&size| size != len) {
        return Err(format!("{len} bytes, expected {size}"));
    }
    if !names::is_sha256(&meta.etag) {
        return Ok(());
    }
    let actual = sha256_hex(path).map_err(|e| e.to_string())?;
    if actual.eq_ignore_ascii_case(&meta.etag) {
        Ok(())
    } else {
        Err(format!("sha256 {actual}, expected {}", meta.etag))
    }
}

fn sha256_hex(path: &Path) -> std::io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    loop {
        match file.read(&mut buf)? {
            0 => break,
            n => hasher.update(&buf[..n]),
        }
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// The first byte of a 206 answer, from `Content-Range: bytes N-M/T`.
fn range_start(headers: &ureq::http::HeaderMap) -> Option<u64> {
    let value = headers.get("Content-Range")?.to_str().ok()?;
    let (start, _) = value.strip_prefix("bytes ")?.split_once('-')?;
    start.trim().parse().ok()
}

fn bad_range(url: &str) -> HubError {
    HubError::BadResponse {
        url: url.to_string(),
        reason: "partial content does not start where the download stopped".to_string(),
    }
}

fn interrupted(file: &str, meta: &FileMeta, got: u64, reason: &str) -> HubError {
    HubError::Interrupted {
        file: file.to_string(),
        url: meta.url.clone(),
        got,
        reason: reason.to_string(),
    }
}
