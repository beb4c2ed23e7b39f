//! The threaded engine: crates/wasm built again with WebAssembly's shared memory and atomics,
//! for pages served cross-origin isolated (web/js/engine/worker.js picks it only there).
//!
//! Rust ships wasm32's std built without atomics, so this build compiles std from its sources
//! (`-Z build-std`: a nightly toolchain with `rust-src`). It has a profile of its own
//! (`wasm-threads`, the workspace's Cargo.toml), so it never replaces the one-thread engine.
//! Its target is wasm32-unknown-unknown as the toolchain describes it with atomics among the
//! target's own features ([`target_spec`]): given as `-C target-feature`, atomics (unstable)
//! drew a warning from every crate's build.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

use super::engine::TARGET;

const TOOLCHAIN: &str = "nightly";
const PROFILE: &str = "wasm-threads";

/// The one-thread engine's SIMD128, plus the atomics and bulk memory that shared memory needs
/// (for every crate, std included).
const FEATURES: &str = "+simd128,+atomics,+bulk-memory,+mutable-globals";

/// The name of that target, and of its file in the target directory.
const SPEC: &str = "wasm32-nexttoken-threads";

/// Names stripped and LLVM's loop strength reduction off, as in `.cargo/config.toml`.
const RUSTFLAGS: &str = "-C strip=symbols -C llvm-args=-disable-lsr";

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
    let spec = target_spec(target_dir)?;
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
            "-Z",
            "json-target-spec",
        ])
        .args(["--profile", PROFILE, "-p", "nexttoken-wasm", "--lib"])
        .arg("--target")
        .arg(&spec)
        .arg("--")
        .args(LINK_ARGS.map(|arg| format!("-Clink-arg={arg}")))
        .env("RUSTFLAGS", RUSTFLAGS)
        .env("RUSTUP_AUTO_INSTALL", "0")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTC")
        .current_dir(root);
    run(&mut cargo, "cargo could not build it")?;
    Ok(target_dir
        .join(SPEC)
        .join(PROFILE)
        .join("nexttoken_wasm.wasm"))
}

/// Writes the threaded engine's target (wasm32-unknown-unknown as the nightly toolchain
/// prints it, with [`FEATURES`] and threads) into `target_dir`, rewritten only when it changed
/// (cargo builds std again for a new one); returns its path.
fn target_spec(target_dir: &Path) -> Result<PathBuf> {
    let out = Command::new("rustup")
        .args(["run", TOOLCHAIN, "rustc", "-Z", "unstable-options"])
        .args(["--print", "target-spec-json", "--target", TARGET])
        .env("RUSTUP_AUTO_INSTALL", "0")
        .output()
        .context("rustc could not print the wasm32 target: rustup did not run")?;
    if !out.status.success() {
        bail!(
            "rustc could not print the wasm32 target: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let mut spec: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("rustc printed no JSON target")?;
    spec["features"] = FEATURES.into();
    spec["singlethread"] = false.into();
    let text = serde_json::to_string_pretty(&spec)?;
    let path = target_dir.join(format!("{SPEC}.json"));
    if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
        std::fs::create_dir_all(target_dir)?;
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(path)
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
