use gnss_timeserver::sim::timing::{run, Scenario};
#[test]
fn dbg() {
    let sc = Scenario::load(std::path::Path::new(&std::env::var("SC").unwrap())).unwrap();
    let out = run(&sc, std::env::var("SEED").map(|s| s.parse().unwrap()).unwrap_or(1));
    for t in &out.transitions { eprintln!("TR {t:?}"); }
}
