//! Accelerated, deterministic timing simulation (`gnss-timeserver simulate`).

use std::path::Path;
use std::process::ExitCode;

/// `simulate --scenario FILE --seed N --out DIR`.
pub fn run_cli(_scenario: &Path, _seed: u64, _out: &Path) -> anyhow::Result<ExitCode> {
    anyhow::bail!("simulate: not implemented yet")
}
