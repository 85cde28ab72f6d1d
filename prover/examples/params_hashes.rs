//! Prints the content hash of the IPA params for each `k` in a range, generating (and caching)
//! them as needed: the table `zkinfer_verifier::params::KNOWN_PARAMS_HASHES` is this output.
//!
//! `cargo run --release -p zkinfer-prover --example params_hashes -- 4 18`

use zkinfer_prover::params::ParamsCache;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<u32>());
    let from = args.next().transpose()?.unwrap_or(4);
    let to = args.next().transpose()?.unwrap_or(from);
    let cache = ParamsCache::new(ParamsCache::default_dir());
    for k in from..=to {
        let t = std::time::Instant::now();
        let p = cache.load_or_generate(k)?;
        let hex: String = p.hash.iter().map(|b| format!("{b:02x}")).collect();
        println!("    ({k}, \"{hex}\"), // {:.1} s", t.elapsed().as_secs_f64());
    }
    Ok(())
}
