//! Progress lines for terminal users on long steps (quiet in `--json` mode): a step prints its
//! name when it starts and its duration when it ends, on stderr.

use std::io::Write;
use std::time::{Duration, Instant};

/// Prints step progress unless quiet.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    quiet: bool,
}

impl Progress {
    pub fn new(quiet: bool) -> Self {
        Self { quiet }
    }

    /// Runs `f` as a named step and returns its result and duration.
    pub fn step<T>(&self, name: &str, f: impl FnOnce() -> T) -> (T, Duration) {
        if !self.quiet {
            eprint!("{name} ... ");
            let _ = std::io::stderr().flush();
        }
        let start = Instant::now();
        let out = f();
        let took = start.elapsed();
        if !self.quiet {
            eprintln!("{:.2} s", took.as_secs_f64());
        }
        (out, took)
    }

    /// Prints a note.
    pub fn note(&self, text: &str) {
        if !self.quiet {
            eprintln!("{text}");
        }
    }
}
