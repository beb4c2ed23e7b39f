//! Checks on every string that becomes part of a cache path or URL: model ids
//! and revisions typed by a user, commit hashes and etags sent by a server.
//! None of them may climb out of the cache directory.

use crate::error::HubError;

const MAX_ID_LEN: usize = 96 * 2 + 1;

/// `name` or `org/name`, each part made of `[A-Za-z0-9._-]`.
pub(crate) fn check_repo_id(id: &str) -> Result<(), HubError> {
    let invalid = |reason| HubError::InvalidRepoId {
        id: id.to_string(),
        reason,
    };
    if id.is_empty() {
        return Err(invalid("it is empty"));
    }
    if id.len() > MAX_ID_LEN {
        return Err(invalid("it is too long"));
    }
    if !id.chars().all(|c| is_name_char(c) || c == '/') {
        return Err(invalid(
            "use only letters, digits, '.', '_', '-' and one '/' (as in openai-community/gpt2)",
        ));
    }
    let parts: Vec<&str> = id.split('/').collect();
    if parts.len() > 2 {
        return Err(invalid("use name or org/name, with at most one '/'"));
    }
    if parts.iter().any(|p| p.is_empty()) {
        return Err(invalid("the org and the name must both be non-empty"));
    }
    // `--` is the separator in `models--org--name`; `.`-led names are paths.
    // The hub forbids both, and `..`, in its own ids.
    let bad = |p: &&str| p.starts_with('.') || p.contains("--") || p.contains("..");
    if parts.iter().any(bad) {
        return Err(invalid(
            "a part may not start with '.' or contain '--' or '..'",
        ));
    }
    Ok(())
}

/// Branch, tag or commit: segments of `[A-Za-z0-9._-]` joined by `/`
/// (as in `refs/pr/1`), none of them `.`-led.
pub(crate) fn check_revision(revision: &str) -> Result<(), HubError> {
    let ok = !revision.is_empty() && revision.len() <= 256 && revision.split('/').all(is_safe_name);
    if ok {
        Ok(())
    } else {
        Err(HubError::InvalidRevision {
            revision: revision.to_string(),
        })
    }
}

/// A single path component that stays where it is put: no separators, no
/// `.`/`..`, no hidden names.
pub(crate) fn is_safe_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name.len() <= 128
        && name.chars().all(is_name_char)
}

/// A full git commit id, which needs no lookup in `refs/`.
pub(crate) fn is_commit_hash(revision: &str) -> bool {
    revision.len() == 40 && revision.bytes().all(|b| b.is_ascii_hexdigit())
}

/// LFS etags are the sha256 of the content, which can then be checked.
pub(crate) fn is_sha256(etag: &str) -> bool {
    etag.len() == 64 && etag.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions() {
        for good in [
            "main",
            "v1.0",
            "refs/pr/1",
            "0123456789abcdef0123456789abcdef01234567",
        ] {
            assert!(check_revision(good).is_ok(), "{good}");
        }
        for bad in [
            "", "..", "../main", "a//b", "/main", "main/", "a b", ".hidden", "a\\b",
        ] {
            assert!(check_revision(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn server_names() {
        assert!(is_safe_name("3f0a9c"));
        for bad in ["", ".", "..", "a/b", "a\\b", ".x"] {
            assert!(!is_safe_name(bad), "{bad}");
        }
        assert!(is_sha256(&"a".repeat(64)));
        assert!(!is_sha256(&"a".repeat(40)));
        assert!(!is_sha256(&"g".repeat(64)));
    }
}
