//! The run's report (text and JSON) and the server CPU arithmetic.

use crate::generator::GenResult;
use crate::packet::Invalid;
use crate::procstat::{self, CpuTimes, Memory, ProcError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::{Duration, Instant};

#[derive(Debug, Serialize)]
pub struct Setup {
    pub target: String,
    pub mode: &'static str,
    pub threads: usize,
    pub sockets_per_thread: usize,
    pub window: Option<usize>,
    pub rate: Option<f64>,
    pub duration_s: f64,
    pub max_requests: Option<u64>,
    pub timeout_ms: u64,
    pub expect_stratum: Option<u8>,
    pub expect_leap: Option<u8>,
}

/// The server's background CPU rate, measured while no load was applied.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Idle {
    pub secs: f64,
    pub user_s_per_s: f64,
    pub system_s_per_s: f64,
    /// Same, from the precise per-thread run times.
    pub sched_s_per_s: f64,
}

pub fn measure_idle(pid: u32, secs: f64) -> Result<Idle, ProcError> {
    let secs = secs.clamp(0.0, 60.0);
    let before = procstat::cpu_times(pid)?;
    let sched_before = procstat::sched_runtime_ns(pid)?;
    let t = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(secs));
    let after = procstat::cpu_times(pid)?;
    let sched_after = procstat::sched_runtime_ns(pid)?;
    let real = t.elapsed().as_secs_f64();
    let d = after.since(before);
    let rate = |x: f64| if real > 0.0 { x / real } else { 0.0 };
    Ok(Idle {
        secs: real,
        user_s_per_s: rate(d.user_s),
        system_s_per_s: rate(d.system_s),
        sched_s_per_s: rate(sched_after.saturating_sub(sched_before) as f64 / 1e9),
    })
}

#[derive(Debug, Serialize)]
pub struct ServerCpu {
    pub pid: u32,
    pub idle: Idle,
    /// CPU used during the load window, before subtraction.
    pub raw_user_s: f64,
    pub raw_system_s: f64,
    pub window_s: f64,
    /// Per answered request, background subtracted (µs).
    pub user_us_per_req: Option<f64>,
    pub system_us_per_req: Option<f64>,
    pub total_us_per_req: Option<f64>,
    /// Total per answered request from the precise per-thread run times
    /// (schedstat), background subtracted: a cross-check of the tick-sampled
    /// total above.
    pub sched_total_us_per_req: Option<f64>,
    /// Fraction of one CPU the server used under load.
    pub cpu_utilization: f64,
    pub vm_rss_kib: u64,
    pub vm_hwm_kib: u64,
}

pub fn server_cpu(
    pid: u32,
    idle: &Idle,
    used: CpuTimes,
    sched_used_s: f64,
    window_s: f64,
    answered: u64,
    mem: Memory,
) -> ServerCpu {
    let user = (used.user_s - idle.user_s_per_s * window_s).max(0.0);
    let sys = (used.system_s - idle.system_s_per_s * window_s).max(0.0);
    let sched = (sched_used_s - idle.sched_s_per_s * window_s).max(0.0);
    let per = |x: f64| (answered > 0).then(|| x * 1e6 / answered as f64);
    ServerCpu {
        pid,
        idle: *idle,
        raw_user_s: used.user_s,
        raw_system_s: used.system_s,
        window_s,
        user_us_per_req: per(user),
        system_us_per_req: per(sys),
        total_us_per_req: per(user + sys),
        sched_total_us_per_req: per(sched),
        cpu_utilization: if window_s > 0.0 {
            (used.user_s + used.system_s) / window_s
        } else {
            0.0
        },
        vm_rss_kib: mem.vm_rss_kib,
        vm_hwm_kib: mem.vm_hwm_kib,
    }
}

#[derive(Debug, Serialize)]
pub struct Latency {
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub p999_us: f64,
    pub max_us: f64,
    pub mean_us: f64,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub setup: Setup,
    pub elapsed_s: f64,
    pub sent: u64,
    pub answered: u64,
    pub answered_per_s: f64,
    pub lost: u64,
    pub loss_ratio: f64,
    pub late: u64,
    pub invalid_total: u64,
    pub invalid: BTreeMap<&'static str, u64>,
    pub errors: BTreeMap<String, u64>,
    pub ring_full: u64,
    pub latency: Latency,
    pub server: Option<ServerCpu>,
    pub client_user_s: f64,
    pub client_system_s: f64,
}

fn us(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

impl Report {
    pub fn new(setup: &Setup, r: &GenResult, server: Option<ServerCpu>, client: CpuTimes) -> Self {
        let elapsed_s = r.active_ns as f64 / 1e9;
        let h = &r.latency_ns;
        Report {
            setup: Setup {
                target: setup.target.clone(),
                ..*setup
            },
            elapsed_s,
            sent: r.sent,
            answered: r.answered,
            answered_per_s: if elapsed_s > 0.0 {
                r.answered as f64 / elapsed_s
            } else {
                0.0
            },
            lost: r.lost,
            loss_ratio: if r.sent > 0 {
                r.lost as f64 / r.sent as f64
            } else {
                0.0
            },
            late: r.late,
            invalid_total: r.invalid_total(),
            invalid: Invalid::ALL
                .iter()
                .map(|i| (i.name(), r.invalid[i.index()]))
                .filter(|(_, n)| *n > 0)
                .collect(),
            errors: r
                .errors
                .iter()
                .map(|(e, n)| (std::io::Error::from_raw_os_error(*e).to_string(), *n))
                .collect(),
            ring_full: r.ring_full,
            latency: Latency {
                p50_us: us(h.quantile(0.5)),
                p90_us: us(h.quantile(0.9)),
                p99_us: us(h.quantile(0.99)),
                p999_us: us(h.quantile(0.999)),
                max_us: us(h.max()),
                mean_us: h.mean() / 1000.0,
            },
            server,
            client_user_s: client.user_s,
            client_system_s: client.system_s,
        }
    }

    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let st = &self.setup;
        let _ = writeln!(
            s,
            "target {} mode {} threads {} sockets/thread {}{}",
            st.target,
            st.mode,
            st.threads,
            st.sockets_per_thread,
            match (st.window, st.rate) {
                (Some(w), _) => format!(" window {w}"),
                (_, Some(r)) => format!(" rate {r}/s"),
                _ => String::new(),
            }
        );
        let _ = writeln!(
            s,
            "sent {}  answered {}  ({:.0} req/s over {:.3} s)",
            self.sent, self.answered, self.answered_per_s, self.elapsed_s
        );
        let _ = writeln!(
            s,
            "lost {} ({:.4} %)  late {}  invalid {}",
            self.lost,
            self.loss_ratio * 100.0,
            self.late,
            self.invalid_total
        );
        for (k, v) in &self.invalid {
            let _ = writeln!(s, "  invalid {k}: {v}");
        }
        if self.ring_full > 0 {
            let _ = writeln!(
                s,
                "  sends held back {} times: too many requests awaiting reply or timeout",
                self.ring_full
            );
        }
        for (k, v) in &self.errors {
            let _ = writeln!(s, "  socket error {k}: {v}");
        }
        let l = &self.latency;
        let _ = writeln!(
            s,
            "latency us  p50 {:.1}  p90 {:.1}  p99 {:.1}  p99.9 {:.1}  max {:.1}",
            l.p50_us, l.p90_us, l.p99_us, l.p999_us, l.max_us
        );
        if let Some(sv) = &self.server {
            let f = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.3}"));
            let _ = writeln!(
                s,
                "server pid {}  cpu/answered request: user {} us  system {} us  total {} us (schedstat {} us)",
                sv.pid,
                f(sv.user_us_per_req),
                f(sv.system_us_per_req),
                f(sv.total_us_per_req),
                f(sv.sched_total_us_per_req)
            );
            let _ = writeln!(
                s,
                "server busy {:.2} CPUs, idle background user {:.4} system {:.4} CPU over {:.1} s",
                sv.cpu_utilization, sv.idle.user_s_per_s, sv.idle.system_s_per_s, sv.idle.secs
            );
            let _ = writeln!(
                s,
                "server memory VmRSS {} KiB  VmHWM {} KiB",
                sv.vm_rss_kib, sv.vm_hwm_kib
            );
        }
        let _ = writeln!(
            s,
            "load tool cpu: user {:.2} s  system {:.2} s",
            self.client_user_s, self.client_system_s
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn background_is_subtracted_per_request() {
        let idle = Idle {
            secs: 2.0,
            user_s_per_s: 0.01,
            system_s_per_s: 0.0,
            sched_s_per_s: 0.02,
        };
        let used = CpuTimes {
            user_s: 0.11,
            system_s: 0.3,
        };
        let s = server_cpu(1, &idle, used, 0.5, 10.0, 100_000, Memory::default());
        // 0.11 s - 0.01 s/s * 10 s = 0.01 s over 1e5 requests = 0.1 us.
        let u = s.user_us_per_req.expect("answered > 0");
        assert!((u - 0.1).abs() < 1e-9, "{u}");
        let y = s.system_us_per_req.expect("answered > 0");
        assert!((y - 3.0).abs() < 1e-9, "{y}");
        // 0.5 s - 0.02 s/s * 10 s = 0.3 s over 1e5 requests = 3 us.
        let t = s.sched_total_us_per_req.expect("answered > 0");
        assert!((t - 3.0).abs() < 1e-9, "{t}");
        let none = server_cpu(1, &idle, used, 0.5, 10.0, 0, Memory::default());
        assert!(none.total_us_per_req.is_none());
    }
}
