//! The fuzz targets on stable, as ordinary tests: every file under
//! `fuzz/corpus/<target>/` and `fuzz/regressions/<target>/` goes through the
//! very function the libFuzzer target calls (`fuzz/src/lib.rs`, included
//! here). CI catches a regression of anything fuzzing ever found or reached
//! without nightly or cargo-fuzz; the real fuzz runs stay in `.ci/extended`.
//! `framer` and `receiver` are also fed the GNSS fixtures, as `tools/fuzz.sh`
//! seeds them.

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod entries;

use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Feed every input of `target`; the first one that panics fails the test
/// with its path. Returns how many inputs ran.
fn replay(target: &str) -> usize {
    let (_, run) = entries::TARGETS
        .iter()
        .find(|(n, _)| *n == target)
        .unwrap_or_else(|| panic!("no fuzz entry named {target}"));
    let corpus = files_in(&fuzz_dir().join("corpus").join(target));
    assert!(
        !corpus.is_empty(),
        "fuzz/corpus/{target}/ is empty or missing: commit the target's minimized corpus"
    );
    let mut inputs = corpus;
    inputs.extend(files_in(&fuzz_dir().join("regressions").join(target)));
    if matches!(target, "framer" | "receiver") {
        let fixtures = std::env::var("GNSS_FIXTURES_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|_| {
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/gnss")
            });
        let logs: Vec<PathBuf> = files_in(&fixtures)
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "log"))
            .collect();
        assert!(
            !logs.is_empty(),
            "no GNSS fixtures (*.log) in {}: set GNSS_FIXTURES_DIR",
            fixtures.display()
        );
        inputs.extend(logs);
    }
    for path in &inputs {
        let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if std::panic::catch_unwind(|| run(&data)).is_err() {
            panic!("fuzz target {target} fails on {}", path.display());
        }
    }
    inputs.len()
}

macro_rules! replay_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let n = replay(stringify!($name));
                eprintln!("{}: {n} inputs", stringify!($name));
            }
        )*

        /// Every target of `fuzz/Cargo.toml` is replayed here, and nothing else.
        #[test]
        fn every_fuzz_target_is_replayed() {
            let toml = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap();
            let mut bins: Vec<&str> = toml
                .split("[[bin]]")
                .skip(1)
                .filter_map(|b| b.lines().find_map(|l| l.trim().strip_prefix("name = ")))
                .map(|n| n.trim_matches('"'))
                .collect();
            bins.sort();
            let mut replayed = vec![$(stringify!($name)),*];
            replayed.sort();
            let mut listed: Vec<&str> = entries::TARGETS.iter().map(|(n, _)| *n).collect();
            listed.sort();
            assert_eq!(bins, replayed);
            assert_eq!(listed, replayed);
        }
    };
}

replay_tests!(
    framer,
    ubx_decode,
    nmea_decode,
    receiver,
    leap_file,
    ntp_request,
    agentx_decode,
    mode6_request,
    store_open,
);
