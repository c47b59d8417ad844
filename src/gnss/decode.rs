//! `gnss-timeserver decode FILE`: raw capture in, one JSON object per epoch out.

use std::path::Path;
use std::process::ExitCode;

pub fn run_cli(_file: &Path) -> anyhow::Result<ExitCode> {
    anyhow::bail!("decode: not implemented yet")
}
