//! The browser engine's `.wasm` files for a live export: built from this checkout's crates/wasm
//! with cargo (the target installed with rustup when missing), or files the user names. Two
//! builds: the one-thread engine every browser runs, and the one with shared memory that pages
//! served cross-origin isolated run on several threads (threads.rs), where it can be built.
//!
//! Built at export time rather than committed: the engine is the model crate itself, which
//! changes with every kernel or architecture commit, and a committed binary would have to be
//! rebuilt with each of them; a build here always matches the sources it ships with.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

pub(super) const TARGET: &str = "wasm32-unknown-unknown";

/// The engines a live site ships.
pub struct Engines {
    pub single: Vec<u8>,
    /// The build with shared memory, absent where it could not be had.
    pub threads: Option<Vec<u8>>,
}

/// `single` and `threads` when given, else release builds of crates/wasm. The threaded build
/// is left out, with one line on stderr saying why, where it cannot be made (or `single` is
/// a prebuilt file and `threads` is not): the site then runs on one thread everywhere.
pub fn engines(single: Option<&Path>, threads: Option<&Path>) -> Result<Engines> {
    let built;
    let path = match single {
        Some(path) => path,
        None => {
            built = build()?;
            &built
        }
    };
    let threads = match (threads, single) {
        (Some(path), _) => Some(path.to_path_buf()),
        (None, Some(_)) => {
            one_thread("a prebuilt --wasm engine was given without --wasm-threads");
            None
        }
        (None, None) => super::threads::build(&workspace(), &target_dir())
            .map_err(|why| one_thread(&format!("{why:#}")))
            .ok(),
    };
    Ok(Engines {
        single: read(path)?,
        threads: threads.as_deref().map(read).transpose()?,
    })
}

fn one_thread(why: &str) {
    eprintln!("nexttoken: the site's engine will run on one thread in every browser: {why}");
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading the engine {}", path.display()))
}

/// The workspace this binary was built from.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where cargo puts its builds for this workspace.
fn target_dir() -> PathBuf {
    let root = workspace();
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|dir| {
            if dir.is_absolute() {
                dir
            } else {
                root.join(dir)
            }
        })
        .unwrap_or_else(|| root.join("target"))
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
    Ok(target_dir()
        .join(TARGET)
        .join("release/nexttoken_wasm.wasm"))
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
