//! The image scripts fail early with a message that names what is missing.
//! (The image build and boot test themselves run in `.ci/run`: they need
//! root, mmdebstrap and qemu, and take minutes.)

use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;

const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// A PATH holding only the basic tools the scripts use before their checks.
fn minimal_path(dir: &Path) {
    for tool in ["dirname", "date", "id", "cat", "rm", "mkdir"] {
        let found = ["/usr/bin", "/bin"]
            .iter()
            .map(|d| Path::new(d).join(tool))
            .find(|p| p.exists())
            .unwrap_or_else(|| panic!("{tool} not found in /usr/bin or /bin"));
        symlink(found, dir.join(tool)).expect("symlink");
    }
}

fn run(script: &str, path: &Path, env: &[(&str, &str)]) -> (i32, String) {
    let out = Command::new("/bin/bash")
        .arg(Path::new(REPO).join(script))
        .env_clear()
        .env("PATH", path)
        .env("HOME", path)
        .envs(env.iter().copied())
        .output()
        .expect("run bash");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn build_names_each_missing_tool_and_its_package() {
    let dir = tempfile::tempdir().expect("tempdir");
    minimal_path(dir.path());
    let (code, err) = run("image/build.sh", dir.path(), &[]);
    assert_eq!(code, 1, "{err}");
    for want in [
        "missing tools:",
        "mmdebstrap (Debian package mmdebstrap)",
        "mkfs.vfat (Debian package dosfstools)",
        "fdtput (Debian package device-tree-compiler)",
        "qemu-aarch64-static (Debian package qemu-user-static)",
        "aarch64-linux-gnu-gcc (Debian package gcc-aarch64-linux-gnu)",
    ] {
        assert!(err.contains(want), "no `{want}` in:\n{err}");
    }
}

#[test]
fn boot_test_names_missing_tools() {
    let dir = tempfile::tempdir().expect("tempdir");
    minimal_path(dir.path());
    let (code, err) = run("image/boot-test.sh", dir.path(), &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("qemu-system-aarch64 (Debian package qemu-system-arm)"),
        "{err}"
    );
}
