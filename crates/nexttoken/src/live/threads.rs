//! The threaded engine: crates/wasm built again with WebAssembly's shared memory and atomics,
//! for pages served cross-origin isolated (web/js/engine/worker.js picks it only there).
//!
//! Rust ships wasm32's std built without atomics, so this build compiles std from its sources
//! (`-Z build-std`: a nightly toolchain with `rust-src`). It has a profile of its own
//! (`wasm-threads`, the workspace's Cargo.toml), so it never replaces the one-thread engine.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

use super::engine::TARGET;

const TOOLCHAIN: &str = "nightly";
const PROFILE: &str = "wasm-threads";

/// The one-thread engine's SIMD128, plus the atomics and bulk memory that shared memory needs
/// (for every crate, std included); names stripped, as in `.cargo/config.toml`.
const RUSTFLAGS: &str =
    "-C target-feature=+simd128,+atomics,+bulk-memory,+mutable-globals -C strip=symbols";

/// The link of crates/wasm itself: its memory shared, imported (every worker's instance is
/// given the one memory), and able to grow to all of wasm32's 4 GiB (GPT-2 in f32 with its
/// image needs more than 1 GiB); the stack pointer and the thread-local block's size,
/// alignment and initialiser exported, for each worker to be given its own
/// (web/js/engine/threads.js).
const LINK_ARGS: [&str; 7] = [
    "--shared-memory",
    "--import-memory",
    "--max-memory=4294967296",
    "--export=__stack_pointer",
    "--export=__wasm_init_tls",
    "--export=__tls_size",
    "--export=__tls_align",
];

/// Builds the threaded engine from the workspace at `root`; returns where cargo wrote it.
pub fn build(root: &Path, target_dir: &Path) -> Result<PathBuf> {
    let sysroot = sysroot()?;
    if !sysroot.join("lib/rustlib/src/rust/library/std").is_dir() {
        eprintln!("nexttoken: adding rust-src to the {TOOLCHAIN} toolchain with rustup");
        let mut rustup = Command::new("rustup");
        rustup.args(["component", "add", "rust-src", "--toolchain", TOOLCHAIN]);
        run(&mut rustup, "rustup could not add rust-src")?;
    }
    eprintln!("nexttoken: building the threaded browser engine (crates/wasm with shared memory)");
    let mut cargo = Command::new("rustup");
    cargo
        .args([
            "run",
            TOOLCHAIN,
            "cargo",
            "rustc",
            "-Z",
            "build-std=panic_abort,std",
        ])
        .args(["--profile", PROFILE, "-p", "nexttoken-wasm", "--lib"])
        .args(["--target", TARGET, "--"])
        .args(LINK_ARGS.map(|arg| format!("-Clink-arg={arg}")))
        .env("RUSTFLAGS", RUSTFLAGS)
        .env("RUSTUP_AUTO_INSTALL", "0")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTC")
        .current_dir(root);
    run(&mut cargo, "cargo could not build it")?;
    Ok(target_dir
        .join(TARGET)
        .join(PROFILE)
        .join("nexttoken_wasm.wasm"))
}

/// The nightly toolchain's sysroot, or what to install where there is none.
fn sysroot() -> Result<PathBuf> {
    let out = Command::new("rustup")
        .args(["run", TOOLCHAIN, "rustc", "--print", "sysroot"])
        .env("RUSTUP_AUTO_INSTALL", "0")
        .stderr(Stdio::null())
        .output();
    match out {
        Ok(out) if out.status.success() => {
            Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
        }
        _ => bail!(
            "threads need a {TOOLCHAIN} Rust toolchain with rust-src, which rustup did not find \
             (rustup toolchain install {TOOLCHAIN} --component rust-src)"
        ),
    }
}

fn run(command: &mut Command, failed: &str) -> Result<()> {
    let status = command
        .status()
        .with_context(|| format!("{failed}: rustup did not run"))?;
    if !status.success() {
        bail!("{failed} ({status})");
    }
    Ok(())
}
