//! Accelerated, deterministic timing simulation (`gnss-timeserver simulate`):
//! a scenario (oscillator, PPS noise, receiver, events) runs through the real
//! discipline `Engine` (pairing, servo, lock states, holdover, leap) against a
//! `SimClock`, seconds of simulated time in microseconds of real time.

pub mod run;
pub mod scenario;
pub mod summary;

pub use run::{run, RunOutput, TeRow};
pub use scenario::{EventSpec, Scenario, ScenarioError};
pub use summary::{summarize, Summary};

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

/// Run and summarize in one call.
pub fn simulate(sc: &Scenario, seed: u64) -> (Summary, RunOutput) {
    let out = run(sc, seed);
    (summarize(sc, seed, &out), out)
}

/// Write `te.csv` (t, te_ns, state, bound_ns) into `dir`.
pub fn write_te_csv(dir: &Path, rows: &[TeRow]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let f = std::fs::File::create(dir.join("te.csv"))?;
    let mut w = std::io::BufWriter::new(f);
    writeln!(w, "t,te_ns,state,bound_ns")?;
    for r in rows {
        if r.bound_ns.is_finite() {
            writeln!(
                w,
                "{},{:.3},{},{:.3}",
                r.t_s,
                r.te_ns,
                r.state.as_str(),
                r.bound_ns
            )?;
        } else {
            writeln!(w, "{},{:.3},{},", r.t_s, r.te_ns, r.state.as_str())?;
        }
    }
    w.flush()
}

/// `simulate --scenario FILE --seed N --out DIR`.
pub fn run_cli(scenario: &Path, seed: u64, out: &Path) -> anyhow::Result<ExitCode> {
    let sc = Scenario::load(scenario)?;
    let (summary, output) = simulate(&sc, seed);
    write_te_csv(out, &output.rows)?;
    let json = serde_json::to_string(&summary)?;
    std::fs::write(out.join("summary.json"), &json)?;
    println!("{json}");
    Ok(ExitCode::SUCCESS)
}
