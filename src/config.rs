//! TOML configuration, validated with errors that name the key and line.

use std::path::Path;
use std::process::ExitCode;

/// `check-config FILE`: 0 when valid, 2 when invalid (error names key and line).
pub fn check_config_cli(_file: &Path) -> anyhow::Result<ExitCode> {
    anyhow::bail!("check-config: not implemented yet")
}
