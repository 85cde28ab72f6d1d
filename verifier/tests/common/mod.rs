//! The committed corpus of the fuzz and bit-flip tests: a verification bundle of the digits MLP
//! (k = 10) and a valid proof for it, as the conformance test writes them
//! (`target/conformance/digits_mlp/`). The prover's conformance test checks that they are still
//! those of today's circuit; after a change to the circuits, copy the new files here.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;

/// The corpus directory.
pub fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// The committed bundle.
pub fn bundle() -> Vec<u8> {
    std::fs::read(corpus_dir().join("digits_mlp.zkv")).unwrap()
}

/// The committed valid proof for it.
pub fn proof() -> Vec<u8> {
    std::fs::read(corpus_dir().join("digits_mlp.zkp")).unwrap()
}

/// Peak resident memory of this process in KiB (Linux; None elsewhere).
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
