//! rust-embed tracks the files it embedded, not the folder: without this, a file added to
//! `web/` would be missing from the binary until something else forced a rebuild.

fn main() {
    println!("cargo:rerun-if-changed=../../web");
}
