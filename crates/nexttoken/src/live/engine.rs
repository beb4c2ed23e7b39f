//! The browser engine's `.wasm` for a live export: built from this checkout's crates/wasm with
//! cargo (the target installed with rustup when missing), or a file the user names.
//!
//! Built at export time rather than committed: the engine is the model crate itself, which
//! changes with every kernel or architecture commit, and a committed binary would have to be
//! rebuilt with each of them; a build here always matches the sources it ships with.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

const TARGET: &str = "wasm32-unknown-unknown";

/// The workspace this binary was built from.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The engine's bytes: `file` when given, else a release build of crates/wasm.
pub fn wasm(file: Option<&Path>) -> Result<Vec<u8>> {
    let path = match file {
        Some(path) => path.to_path_buf(),
        None => build()?,
    };
    std::fs::read(&path).with_context(|| format!("reading the engine {}", path.display()))
}

fn build() -> Result<PathBuf> {
    let root = workspace();
    if !root.join("crates/wasm/Cargo.toml").is_file() {
        bail!(
            "export --live builds the browser engine from the nexttoken sources, which are not at \
             {}: run it in a checkout (cargo run --release -- export --live ...) or pass --wasm \
             with a nexttoken_wasm.wasm built from the same version",
            root.display()
        );
    }
    add_target()?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("nexttoken: building the browser engine (crates/wasm) for {TARGET}");
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "-p",
            "nexttoken-wasm",
            "--target",
            TARGET,
        ])
        .current_dir(&root)
        .status()
        .context("running cargo to build the browser engine")?;
    if !status.success() {
        bail!("cargo could not build the browser engine ({status})");
    }
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|dir| {
            if dir.is_absolute() {
                dir
            } else {
                root.join(dir)
            }
        })
        .unwrap_or_else(|| root.join("target"));
    Ok(target_dir.join(TARGET).join("release/nexttoken_wasm.wasm"))
}

/// Installs the WebAssembly target with rustup when it is missing (a fresh machine).
fn add_target() -> Result<()> {
    let listed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    let Ok(listed) = listed else {
        // No rustup: cargo says what is missing if the target is.
        return Ok(());
    };
    if String::from_utf8_lossy(&listed.stdout)
        .lines()
        .any(|l| l.trim() == TARGET)
    {
        return Ok(());
    }
    eprintln!("nexttoken: installing the {TARGET} target with rustup");
    let status = Command::new("rustup")
        .args(["target", "add", TARGET])
        .status()
        .context("running rustup target add")?;
    if !status.success() {
        bail!("rustup could not add the {TARGET} target ({status})");
    }
    Ok(())
}
