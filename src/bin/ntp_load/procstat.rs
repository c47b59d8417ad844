//! CPU time and memory of a process, read from /proc.

use std::fmt;
use std::fs;

#[derive(Debug)]
pub struct ProcError(String);

impl fmt::Display for ProcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ProcError {}

/// User and system CPU time of a whole process (all threads, live and
/// exited), in seconds. The kernel keeps them in clock ticks (USER_HZ).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CpuTimes {
    pub user_s: f64,
    pub system_s: f64,
}

impl CpuTimes {
    pub fn since(self, earlier: CpuTimes) -> CpuTimes {
        CpuTimes {
            user_s: self.user_s - earlier.user_s,
            system_s: self.system_s - earlier.system_s,
        }
    }
}

/// Parses utime/stime (fields 14 and 15) out of a /proc/<pid>/stat line.
/// The command name (field 2) may contain spaces and parentheses, so the
/// fields are counted from the last ')'.
pub fn parse_stat(text: &str, ticks_per_s: f64) -> Option<CpuTimes> {
    let rest = text.get(text.rfind(')')? + 1..)?;
    let mut fields = rest.split_ascii_whitespace();
    // After ')' the first field is field 3 (state); utime is field 14.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(CpuTimes {
        user_s: utime as f64 / ticks_per_s,
        system_s: stime as f64 / ticks_per_s,
    })
}

pub fn ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

pub fn cpu_times(pid: u32) -> Result<CpuTimes, ProcError> {
    let path = format!("/proc/{pid}/stat");
    let text = fs::read_to_string(&path).map_err(|e| ProcError(format!("{path}: {e}")))?;
    parse_stat(&text, ticks_per_second())
        .ok_or_else(|| ProcError(format!("{path}: unexpected format")))
}

/// Precise CPU time (ns) of the live threads of a process, summed from
/// /proc/<pid>/task/*/schedstat. It does not split user from system, and
/// threads that already exited are missing, but unlike utime/stime it is not
/// sampled in clock ticks: a cross-check of their total.
pub fn sched_runtime_ns(pid: u32) -> Result<u64, ProcError> {
    let dir = format!("/proc/{pid}/task");
    let entries = fs::read_dir(&dir).map_err(|e| ProcError(format!("{dir}: {e}")))?;
    let mut total = 0u64;
    for entry in entries.flatten() {
        // A thread may exit between listing and reading: skip it.
        if let Ok(text) = fs::read_to_string(entry.path().join("schedstat")) {
            total += parse_schedstat(&text).unwrap_or(0);
        }
    }
    Ok(total)
}

pub fn parse_schedstat(text: &str) -> Option<u64> {
    text.split_ascii_whitespace().next()?.parse().ok()
}

/// Resident memory now and its high-water mark, in KiB.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Memory {
    pub vm_rss_kib: u64,
    pub vm_hwm_kib: u64,
}

pub fn parse_status(text: &str) -> Memory {
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    Memory {
        vm_rss_kib: field("VmRSS:"),
        vm_hwm_kib: field("VmHWM:"),
    }
}

pub fn memory(pid: u32) -> Result<Memory, ProcError> {
    let path = format!("/proc/{pid}/status");
    let text = fs::read_to_string(&path).map_err(|e| ProcError(format!("{path}: {e}")))?;
    Ok(parse_status(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_awkward_command_name() {
        let line =
            "1234 (a (b) c) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 1 0 5 1000 10";
        let t = parse_stat(line, 100.0).expect("parses");
        assert_eq!(t.user_s, 2.5);
        assert_eq!(t.system_s, 0.75);
        assert!(parse_stat("garbage", 100.0).is_none());
    }

    #[test]
    fn status_memory_fields() {
        let text = "Name:\tx\nVmHWM:\t   5120 kB\nVmRSS:\t   4096 kB\n";
        assert_eq!(
            parse_status(text),
            Memory {
                vm_rss_kib: 4096,
                vm_hwm_kib: 5120
            }
        );
    }

    #[test]
    fn schedstat_first_field_is_runtime() {
        assert_eq!(parse_schedstat("123456 789 10\n"), Some(123_456));
        assert_eq!(parse_schedstat(""), None);
    }

    #[test]
    fn reads_own_process() {
        let me = std::process::id();
        assert!(sched_runtime_ns(me).expect("own schedstat") > 0);
        assert!(cpu_times(me).is_ok());
        assert!(memory(me).expect("own status").vm_rss_kib > 0);
    }
}
