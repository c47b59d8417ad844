//! The fake u-blox receiver: speaks UBX + NMEA on a pseudo-terminal as an
//! M8T or F9T would. [`core::ReceiverCore`] is the sans-IO part (bytes of each
//! epoch from the true time, replies to configuration commands); this module
//! is the thin shell that owns the pty and two threads (epoch writer, command
//! reader).
//!
//! ```no_run
//! use gnss_timeserver::sim::receiver::{FakeReceiver, Model};
//! use gnss_timeserver::sim::scenario::Scenario;
//! let fake = FakeReceiver::spawn(Scenario::Healthy, Model::F9T)?;
//! println!("receiver on {}", fake.path().display());
//! fake.set_scenario("jamming")?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod core;
pub mod messages;
mod nmea_epoch;
pub mod wire;

#[cfg(test)]
mod tests;

pub use self::core::{CommandRecord, ReceiverCore, StartupOutput};

use crate::sim::scenario::{Conditions, Scenario, UnknownScenario};
use crate::time::{system_realtime_ns, NS_PER_SEC};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// Which receiver to imitate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Model {
    /// NEO-M8T: protocol 22, CFG-MSG/CFG-TP5, MON-HW.
    M8T,
    /// ZED-F9T: protocol 29, CFG-VALSET, MON-RF, SEC-SIG.
    F9T,
}

impl FromStr for Model {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "m8t" | "m8" => Ok(Model::M8T),
            "f9t" | "f9" => Ok(Model::F9T),
            _ => Err(format!("unknown receiver model {s:?}; valid: m8t, f9t")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct FakeOptions {
    pub model: Model,
    pub scenario: Scenario,
    pub startup: StartupOutput,
    /// Also expose the pty under this stable path (a symlink, replaced if present).
    pub link: Option<PathBuf>,
    /// How long after the top of the second the epoch's bytes go out.
    pub epoch_delay: Duration,
    /// `false`: the receiver ignores everything the host sends (an NMEA-only
    /// GPS, or UBX input disabled).
    pub accepts_commands: bool,
    /// The fake's "true" UTC = CLOCK_REALTIME + this offset. `demo` can give
    /// the system clock a visible error for the servo to remove; a simulated
    /// PPS source must use the same offset.
    pub true_time_offset_ns: i64,
    /// The receiver's UART rate. `None`: any rate works (a plain pty).
    /// `Some(b)`: when the host's line speed differs, the host reads garbage
    /// and its commands are lost, like a real UART at the wrong baud.
    pub baud: Option<u32>,
}

impl Default for FakeOptions {
    fn default() -> Self {
        Self {
            model: Model::F9T,
            scenario: Scenario::Healthy,
            startup: StartupOutput::Preconfigured,
            link: None,
            epoch_delay: Duration::from_millis(45),
            accepts_commands: true,
            true_time_offset_ns: 0,
            baud: None,
        }
    }
}

struct Shared {
    core: Mutex<ReceiverCore>,
    master: Mutex<File>,
    stop: AtomicBool,
    /// Epoch output paused (receiver powered down, cable cut on a UART).
    muted: AtomicBool,
    /// See [`FakeOptions::true_time_offset_ns`].
    offset_ns: i64,
    /// See [`FakeOptions::baud`] (0 = any rate), and the pty fd whose line
    /// speed the host sets.
    baud: AtomicU32,
    line: OwnedFd,
    written: AtomicU64,
    dropped: AtomicU64,
}

impl Shared {
    fn true_now(&self) -> i64 {
        system_realtime_ns() + self.offset_ns
    }

    /// Host and receiver agree on the line speed (always, without a fake baud).
    fn speed_matches(&self) -> bool {
        let baud = self.baud.load(Ordering::Relaxed);
        if baud == 0 {
            return true;
        }
        line_speed(&self.line).is_none_or(|host| host == baud)
    }
}

/// The output speed the host set on the pty (termios2 keeps arbitrary rates).
fn line_speed(fd: &OwnedFd) -> Option<u32> {
    // SAFETY: TCGETS2 fills a termios2 struct we own; the fd is valid for the call.
    let mut t: libc::termios2 = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TCGETS2, &mut t) };
    (rc == 0).then_some(t.c_ospeed)
}

/// What a UART at the wrong rate delivers: bytes, but none of them right.
fn garble(bytes: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .map(|b| b.rotate_left(3) ^ 0xA5)
        .filter(|&b| b != b'$' && b != 0xB5)
        .collect()
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicked writer thread must not take the handle down with it.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running fake receiver. Dropping it closes the pty, which looks to the
/// serial task exactly like unplugging a USB receiver.
pub struct FakeReceiver {
    path: PathBuf,
    link: Option<PathBuf>,
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    // Held open so that writes succeed while no reader has the device open,
    // like a UART transmitting into an unconnected line.
    _slave: OwnedFd,
}

impl FakeReceiver {
    pub fn spawn(scenario: Scenario, model: Model) -> io::Result<Self> {
        Self::spawn_with(FakeOptions {
            model,
            scenario,
            ..FakeOptions::default()
        })
    }

    pub fn spawn_with(opts: FakeOptions) -> io::Result<Self> {
        let pty = nix::pty::openpty(None, None).map_err(io::Error::from)?;
        let mut tio = nix::sys::termios::tcgetattr(&pty.slave).map_err(io::Error::from)?;
        nix::sys::termios::cfmakeraw(&mut tio);
        nix::sys::termios::tcsetattr(&pty.slave, nix::sys::termios::SetArg::TCSANOW, &tio)
            .map_err(io::Error::from)?;
        let path = nix::unistd::ttyname(pty.slave.as_fd()).map_err(io::Error::from)?;
        let flags = nix::fcntl::fcntl(pty.master.as_raw_fd(), nix::fcntl::FcntlArg::F_GETFL)
            .map_err(io::Error::from)?;
        let flags = nix::fcntl::OFlag::from_bits_truncate(flags) | nix::fcntl::OFlag::O_NONBLOCK;
        nix::fcntl::fcntl(pty.master.as_raw_fd(), nix::fcntl::FcntlArg::F_SETFL(flags))
            .map_err(io::Error::from)?;
        let master = File::from(pty.master);
        let reader = master.try_clone()?;

        if let Some(link) = &opts.link {
            if std::fs::symlink_metadata(link).is_ok() {
                std::fs::remove_file(link)?;
            }
            std::os::unix::fs::symlink(&path, link)?;
        }

        let now = system_realtime_ns() + opts.true_time_offset_ns;
        let shared = Arc::new(Shared {
            core: Mutex::new(ReceiverCore::new(
                opts.model,
                opts.scenario,
                opts.startup,
                now,
            )),
            master: Mutex::new(master),
            stop: AtomicBool::new(false),
            muted: AtomicBool::new(false),
            offset_ns: opts.true_time_offset_ns,
            baud: AtomicU32::new(opts.baud.unwrap_or(0)),
            line: pty.slave.try_clone()?,
            written: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        });
        let w = Arc::clone(&shared);
        let delay = i64::try_from(opts.epoch_delay.as_nanos()).unwrap_or(0);
        let writer = std::thread::Builder::new()
            .name("fake-rx-epochs".into())
            .spawn(move || epoch_loop(&w, delay))?;
        let r = Arc::clone(&shared);
        let accepts = opts.accepts_commands;
        let cmd = std::thread::Builder::new()
            .name("fake-rx-commands".into())
            .spawn(move || command_loop(&r, reader, accepts))?;
        Ok(Self {
            path,
            link: opts.link,
            shared,
            threads: vec![writer, cmd],
            _slave: pty.slave,
        })
    }

    /// The pty's device path, e.g. `/dev/pts/7`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The stable symlink, when one was asked for.
    pub fn link_path(&self) -> Option<&Path> {
        self.link.as_deref()
    }

    /// Switch scenario while running; unknown names list the valid ones.
    pub fn set_scenario(&self, name: &str) -> Result<(), UnknownScenario> {
        let sc: Scenario = name.parse()?;
        lock(&self.shared.core).set_scenario(sc, self.shared.true_now());
        Ok(())
    }

    pub fn scenario(&self) -> Scenario {
        lock(&self.shared.core).scenario()
    }

    pub fn model(&self) -> Model {
        lock(&self.shared.core).model()
    }

    /// The world the fake is describing at true UTC `t_ns` (what tests compare with).
    pub fn conditions(&self, t_ns: i64) -> Conditions {
        lock(&self.shared.core).conditions(t_ns)
    }

    /// The fake's UART rate (`None` when any rate works).
    pub fn baud(&self) -> Option<u32> {
        Some(self.shared.baud.load(Ordering::Relaxed)).filter(|b| *b != 0)
    }

    /// Whether the receiver currently sends NMEA (the host may switch it off).
    pub fn nmea_output(&self) -> bool {
        lock(&self.shared.core).nmea_output()
    }

    /// Configuration commands received so far and how they were answered.
    pub fn command_log(&self) -> Vec<CommandRecord> {
        lock(&self.shared.core).command_log().to_vec()
    }

    /// Receiver reset mid-stream: torn frame, ~1 s silence, boot banner,
    /// configuration back to the startup state.
    pub fn reset(&self) {
        let torn = lock(&self.shared.core).reset(self.shared.true_now());
        write_out(&self.shared, &torn);
    }

    /// Stop (`false`) or resume (`true`) sending epochs while the pty stays
    /// open: what a UART sees when the receiver loses power.
    pub fn set_transmitting(&self, on: bool) {
        self.shared.muted.store(!on, Ordering::Relaxed);
    }

    /// Lose the configuration silently (no boot banner).
    pub fn forget_configuration(&self) {
        lock(&self.shared.core).forget_configuration();
    }

    /// Raw bytes injected into the stream (garbage tests).
    pub fn inject(&self, bytes: &[u8]) {
        write_out(&self.shared, bytes);
    }

    pub fn bytes_written(&self) -> u64 {
        self.shared.written.load(Ordering::Relaxed)
    }

    /// Bytes dropped because nobody was reading and the pty buffer was full.
    pub fn bytes_dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }
}

impl Drop for FakeReceiver {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        if let Some(link) = &self.link {
            // Only remove the link if it is still ours (a successor may own it).
            if std::fs::read_link(link).ok().as_deref() == Some(self.path.as_path()) {
                let _ = std::fs::remove_file(link);
            }
        }
    }
}

/// Write everything or drop the rest after a short wait: a UART does not
/// block when nobody listens.
fn write_out(shared: &Shared, mut bytes: &[u8]) {
    let mut master = lock(&shared.master);
    let mut waits = 0;
    while !bytes.is_empty() {
        match master.write(bytes) {
            Ok(0) => break,
            Ok(n) => {
                shared.written.fetch_add(n as u64, Ordering::Relaxed);
                bytes = &bytes[n..];
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && waits < 4 => {
                waits += 1;
                let mut fds = [PollFd::new(master.as_fd(), PollFlags::POLLOUT)];
                let _ = poll(&mut fds, PollTimeout::from(50u16));
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    shared
        .dropped
        .fetch_add(bytes.len() as u64, Ordering::Relaxed);
}

fn epoch_loop(shared: &Shared, delay_ns: i64) {
    let mut next_second = shared.true_now().div_euclid(NS_PER_SEC) + 1;
    while !shared.stop.load(Ordering::Relaxed) {
        let due = next_second * NS_PER_SEC + delay_ns;
        let now = shared.true_now();
        if now < due {
            // Short naps keep shutdown prompt.
            let nap = (due - now).min(50_000_000);
            std::thread::sleep(Duration::from_nanos(nap as u64));
            continue;
        }
        // If we fell far behind (suspend, clock step), skip to the present.
        if now - due > 2 * NS_PER_SEC {
            next_second = now.div_euclid(NS_PER_SEC);
        }
        let bytes = lock(&shared.core).epoch(next_second * NS_PER_SEC);
        if !shared.muted.load(Ordering::Relaxed) {
            if shared.speed_matches() {
                write_out(shared, &bytes);
            } else {
                write_out(shared, &garble(&bytes));
            }
        }
        next_second += 1;
    }
}

fn command_loop(shared: &Shared, mut master: File, accepts_commands: bool) {
    let mut buf = [0u8; 1024];
    while !shared.stop.load(Ordering::Relaxed) {
        let mut fds = [PollFd::new(master.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(50u16)) {
            Ok(0) | Err(_) => continue,
            Ok(_) => {}
        }
        match master.read(&mut buf) {
            Ok(0) => std::thread::sleep(Duration::from_millis(20)),
            Ok(_) if !accepts_commands || !shared.speed_matches() => {}
            Ok(n) => {
                let (reply, new_baud) = {
                    let mut core = lock(&shared.core);
                    let reply = core.input(&buf[..n], shared.true_now());
                    (reply, core.take_baud_change())
                };
                if !reply.is_empty() {
                    write_out(shared, &reply);
                }
                // A fake with a fixed UART rate follows CFG-PRT / UART1-BAUDRATE.
                if let Some(b) = new_baud.filter(|b| *b > 0) {
                    if shared.baud.load(Ordering::Relaxed) != 0 {
                        shared.baud.store(b, Ordering::Relaxed);
                    }
                }
            }
            // EIO while no one has the slave open; EAGAIN on spurious wakeups.
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}
