//! Thin UDP socket layer for the workers (Linux): SO_REUSEPORT sockets,
//! kernel receive/transmit timestamps, control messages and the error queue.
//! Batched I/O is in `batch`. All `unsafe` of the NTP server lives in these two.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Largest request we read; longer datagrams are reported truncated.
pub const RX_BUF: usize = 2048;
pub const TX_BUF: usize = 128;
pub(super) const CMSG_BUF: usize = 256;

/// Which receive timestamps the socket delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RxTimestamping {
    /// SO_TIMESTAMPING with software RX (and TX when enabled) timestamps.
    Timestamping,
    /// SO_TIMESTAMPNS.
    TimestampNs,
    /// None: the daemon reads the clock after recvmmsg.
    Daemon,
}

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn setsockopt<T>(fd: RawFd, level: libc::c_int, name: libc::c_int, v: &T) -> io::Result<()> {
    // SAFETY: `v` points to a live T of the size passed.
    cvt(unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (v as *const T).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    })
    .map(|_| ())
}

fn to_sockaddr(addr: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: all-zero is a valid sockaddr_storage.
    let mut ss: libc::sockaddr_storage = unsafe { zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in.
            unsafe { std::ptr::write((&mut ss as *mut libc::sockaddr_storage).cast(), sin) };
            size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: as above, for sockaddr_in6.
            unsafe { std::ptr::write((&mut ss as *mut libc::sockaddr_storage).cast(), sin6) };
            size_of::<libc::sockaddr_in6>()
        }
    };
    (ss, len as libc::socklen_t)
}

pub(super) fn from_sockaddr(ss: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match i32::from(ss.ss_family) {
        libc::AF_INET => {
            // SAFETY: family says this storage holds a sockaddr_in.
            let sin: &libc::sockaddr_in = unsafe { &*(ss as *const _ as *const libc::sockaddr_in) };
            Some(SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes()),
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: family says this storage holds a sockaddr_in6.
            let sin6: &libc::sockaddr_in6 =
                unsafe { &*(ss as *const _ as *const libc::sockaddr_in6) };
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(sin6.sin6_addr.s6_addr),
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

/// A bound UDP socket of one worker.
#[derive(Debug)]
pub struct NtpSocket {
    fd: OwnedFd,
    pub local: SocketAddr,
    pub rx_ts: RxTimestamping,
    pub tx_ts: bool,
    /// SO_TIMESTAMPING flags in use (0 when not used).
    ts_flags: libc::c_int,
}

impl NtpSocket {
    /// Bind with SO_REUSEPORT so several workers share the address.
    pub fn bind(
        addr: SocketAddr,
        want_kernel_rx: bool,
        want_kernel_tx: bool,
        poll_timeout_ms: u32,
    ) -> io::Result<NtpSocket> {
        let family = if addr.is_ipv4() {
            libc::AF_INET
        } else {
            libc::AF_INET6
        };
        // SAFETY: plain socket(2) call; the fd is owned right below.
        let raw = cvt(unsafe { libc::socket(family, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) })?;
        // SAFETY: `raw` is a fresh, valid descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let one: libc::c_int = 1;
        setsockopt(raw, libc::SOL_SOCKET, libc::SO_REUSEPORT, &one)?;
        if !addr.is_ipv4() {
            setsockopt(raw, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, &one)?;
        }
        if addr.ip().is_unspecified() {
            // Learn each request's destination address so the reply leaves
            // from it (multi-homed hosts, several addresses on one interface).
            if addr.is_ipv4() {
                setsockopt(raw, libc::IPPROTO_IP, libc::IP_PKTINFO, &one)?;
            } else {
                setsockopt(raw, libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO, &one)?;
            }
        }
        let tv = libc::timeval {
            tv_sec: libc::time_t::from(poll_timeout_ms as i32 / 1000),
            tv_usec: libc::suseconds_t::from(poll_timeout_ms as i32 % 1000 * 1000),
        };
        setsockopt(raw, libc::SOL_SOCKET, libc::SO_RCVTIMEO, &tv)?;
        let (ss, len) = to_sockaddr(&addr);
        // SAFETY: ss/len describe a valid socket address.
        cvt(unsafe { libc::bind(raw, (&ss as *const libc::sockaddr_storage).cast(), len) })?;
        // SAFETY: all-zero is a valid sockaddr_storage; getsockname fills it.
        let mut local_ss: libc::sockaddr_storage = unsafe { zeroed() };
        let mut local_len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        cvt(unsafe {
            libc::getsockname(
                raw,
                (&mut local_ss as *mut libc::sockaddr_storage).cast(),
                &mut local_len,
            )
        })?;
        let local = from_sockaddr(&local_ss).unwrap_or(addr);

        let mut rx_ts = RxTimestamping::Daemon;
        let mut tx_ts = false;
        let mut ts_flags = 0;
        if want_kernel_rx || want_kernel_tx {
            let mut flags = libc::SOF_TIMESTAMPING_SOFTWARE;
            if want_kernel_rx {
                flags |= libc::SOF_TIMESTAMPING_RX_SOFTWARE;
            }
            if want_kernel_tx {
                // No TX_SOFTWARE here: TX timestamps are asked per reply with
                // an SCM_TIMESTAMPING control message (`write_cmsgs`), so only
                // replies that need one cost an error-queue message. The
                // OPT_ID counter counts only datagrams that ask for one.
                flags |= libc::SOF_TIMESTAMPING_OPT_ID | libc::SOF_TIMESTAMPING_OPT_TSONLY;
            }
            let flags = flags as libc::c_int;
            if setsockopt(raw, libc::SOL_SOCKET, libc::SO_TIMESTAMPING, &flags).is_ok() {
                ts_flags = flags;
                tx_ts = want_kernel_tx;
                if want_kernel_rx {
                    rx_ts = RxTimestamping::Timestamping;
                }
            }
        }
        if want_kernel_rx
            && rx_ts == RxTimestamping::Daemon
            && setsockopt(raw, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, &one).is_ok()
        {
            rx_ts = RxTimestamping::TimestampNs;
        }
        Ok(NtpSocket {
            fd,
            local,
            rx_ts,
            tx_ts,
            ts_flags,
        })
    }

    /// Restart the kernel's OPT_ID counter at 0 (disable, re-enable TX
    /// timestamps). Used after a send error, when we can no longer be sure
    /// which identifiers the kernel gave to which datagrams.
    pub fn reset_tx_ids(&self) -> io::Result<()> {
        let tx_bits =
            (libc::SOF_TIMESTAMPING_OPT_ID | libc::SOF_TIMESTAMPING_OPT_TSONLY) as libc::c_int;
        let without = self.ts_flags & !tx_bits;
        setsockopt(
            self.raw(),
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPING,
            &without,
        )?;
        setsockopt(
            self.raw(),
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPING,
            &self.ts_flags,
        )
    }

    /// One datagram to `to` (control replies, outside the batches).
    pub fn send_to(&self, buf: &[u8], to: SocketAddr) -> io::Result<()> {
        let (ss, len) = to_sockaddr(&to);
        // SAFETY: buf and ss outlive the call; len is ss's valid length.
        let r = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                buf.as_ptr().cast(),
                buf.len(),
                0,
                (&ss as *const libc::sockaddr_storage).cast(),
                len,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    pub(super) fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

#[allow(clippy::useless_conversion)] // time_t/c_long are 32-bit on some targets
fn ts_to_ns(ts: &libc::timespec) -> i64 {
    i64::from(ts.tv_sec)
        .saturating_mul(1_000_000_000)
        .saturating_add(i64::from(ts.tv_nsec))
}

/// Walk the control messages of `hdr`, calling `f(level, type, data)`.
#[allow(clippy::unnecessary_cast)] // msg_controllen/cmsg_len are not usize on every libc
fn for_each_cmsg(hdr: &libc::msghdr, mut f: impl FnMut(libc::c_int, libc::c_int, &[u8])) {
    // SAFETY: the kernel filled msg_control/msg_controllen of a buffer we own;
    // CMSG_* macros stay within msg_controllen.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(hdr);
        while !c.is_null() {
            let data = libc::CMSG_DATA(c);
            let header = libc::CMSG_LEN(0) as usize;
            let len = ((*c).cmsg_len as usize).saturating_sub(header);
            let end = (hdr.msg_control as *const u8).add(hdr.msg_controllen as usize);
            if data.add(len) as *const u8 <= end {
                f(
                    (*c).cmsg_level,
                    (*c).cmsg_type,
                    std::slice::from_raw_parts(data, len),
                );
            }
            c = libc::CMSG_NXTHDR(hdr, c);
        }
    }
}

fn read_timespec(data: &[u8]) -> Option<libc::timespec> {
    if data.len() < size_of::<libc::timespec>() {
        return None;
    }
    // SAFETY: length checked; read_unaligned handles any alignment.
    Some(unsafe { std::ptr::read_unaligned(data.as_ptr().cast::<libc::timespec>()) })
}

/// Local address a request was sent to (from IP_PKTINFO / IPV6_PKTINFO).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PktInfo {
    V4 { addr: [u8; 4], ifindex: i32 },
    V6 { addr: [u8; 16], ifindex: u32 },
}

/// Kernel receive timestamp (CLOCK_REALTIME ns) and destination address of
/// a received message.
pub(super) fn rx_ancillary(hdr: &libc::msghdr) -> (Option<i64>, Option<PktInfo>) {
    let mut ts_out = None;
    let mut pi = None;
    for_each_cmsg(hdr, |level, ty, data| {
        if level == libc::SOL_SOCKET
            && (ty == libc::SCM_TIMESTAMPING || ty == libc::SCM_TIMESTAMPNS)
        {
            if let Some(ts) = read_timespec(data) {
                if ts.tv_sec != 0 || ts.tv_nsec != 0 {
                    ts_out = Some(ts_to_ns(&ts));
                }
            }
        } else if level == libc::IPPROTO_IP
            && ty == libc::IP_PKTINFO
            && data.len() >= size_of::<libc::in_pktinfo>()
        {
            // SAFETY: length checked; unaligned read of a plain C struct.
            let p: libc::in_pktinfo = unsafe { std::ptr::read_unaligned(data.as_ptr().cast()) };
            pi = Some(PktInfo::V4 {
                addr: p.ipi_addr.s_addr.to_ne_bytes(),
                ifindex: p.ipi_ifindex,
            });
        } else if level == libc::IPPROTO_IPV6
            && ty == libc::IPV6_PKTINFO
            && data.len() >= size_of::<libc::in6_pktinfo>()
        {
            // SAFETY: as above.
            let p: libc::in6_pktinfo = unsafe { std::ptr::read_unaligned(data.as_ptr().cast()) };
            pi = Some(PktInfo::V6 {
                addr: p.ipi6_addr.s6_addr,
                ifindex: p.ipi6_ifindex,
            });
        }
    });
    (ts_out, pi)
}

/// Write the control messages of one reply into `buf`: IP_PKTINFO /
/// IPV6_PKTINFO so the reply leaves from the address the request was sent to,
/// and SCM_TIMESTAMPING asking for a software TX timestamp of this datagram
/// only. Returns the length used (0: none).
#[allow(clippy::unnecessary_cast)] // msg_controllen is not usize on every libc
pub(super) fn write_cmsgs(buf: &mut CmsgBuf, pi: Option<&PktInfo>, tx_timestamp: bool) -> usize {
    let pi_size = match pi {
        Some(PktInfo::V4 { .. }) => size_of::<libc::in_pktinfo>(),
        Some(PktInfo::V6 { .. }) => size_of::<libc::in6_pktinfo>(),
        None => 0,
    };
    let ts_size = size_of::<u32>();
    // SAFETY: the total CMSG_SPACE is checked against the buffer; the msghdr
    // only lends the buffer to the CMSG_* macros, which stay within it.
    unsafe {
        let mut total = 0usize;
        if pi.is_some() {
            total += libc::CMSG_SPACE(pi_size as u32) as usize;
        }
        if tx_timestamp {
            total += libc::CMSG_SPACE(ts_size as u32) as usize;
        }
        if total == 0 || total > CMSG_BUF {
            return 0;
        }
        buf.0[..total].fill(0);
        let mut hdr: libc::msghdr = zeroed();
        hdr.msg_control = buf.0.as_mut_ptr().cast();
        hdr.msg_controllen = total as _;
        let mut c = libc::CMSG_FIRSTHDR(&hdr);
        if let Some(pi) = pi {
            if c.is_null() {
                return 0;
            }
            let (level, ty) = match pi {
                PktInfo::V4 { .. } => (libc::IPPROTO_IP, libc::IP_PKTINFO),
                PktInfo::V6 { .. } => (libc::IPPROTO_IPV6, libc::IPV6_PKTINFO),
            };
            (*c).cmsg_level = level;
            (*c).cmsg_type = ty;
            (*c).cmsg_len = libc::CMSG_LEN(pi_size as u32) as _;
            let data = libc::CMSG_DATA(c);
            match *pi {
                PktInfo::V4 { addr, ifindex } => {
                    let p = libc::in_pktinfo {
                        ipi_ifindex: ifindex,
                        ipi_spec_dst: libc::in_addr {
                            s_addr: u32::from_ne_bytes(addr),
                        },
                        ipi_addr: libc::in_addr { s_addr: 0 },
                    };
                    std::ptr::write_unaligned(data.cast(), p);
                }
                PktInfo::V6 { addr, ifindex } => {
                    let p = libc::in6_pktinfo {
                        ipi6_addr: libc::in6_addr { s6_addr: addr },
                        ipi6_ifindex: ifindex,
                    };
                    std::ptr::write_unaligned(data.cast(), p);
                }
            }
            c = libc::CMSG_NXTHDR(&hdr, c);
        }
        if tx_timestamp {
            if c.is_null() {
                return 0;
            }
            (*c).cmsg_level = libc::SOL_SOCKET;
            (*c).cmsg_type = libc::SCM_TIMESTAMPING;
            (*c).cmsg_len = libc::CMSG_LEN(ts_size as u32) as _;
            let flags = libc::SOF_TIMESTAMPING_TX_SOFTWARE as u32;
            std::ptr::write_unaligned(libc::CMSG_DATA(c).cast(), flags);
        }
        total
    }
}

#[repr(C, align(8))]
#[derive(Clone, Copy)]
pub(super) struct CmsgBuf(pub(super) [u8; CMSG_BUF]);

/// Messages read from the error queue per recvmmsg.
const ERRQ_BATCH: usize = 32;

/// Preallocated buffers to read the error queue in batches (recvmmsg).
pub struct ErrQueue {
    data: Box<[[u8; 16]]>,
    cmsgs: Box<[CmsgBuf]>,
    iov: Box<[libc::iovec]>,
    msgs: Box<[libc::mmsghdr]>,
}

// SAFETY: the raw pointers inside iovec/mmsghdr only ever point into this
// struct's own boxes and are rebuilt before each syscall.
unsafe impl Send for ErrQueue {}

impl Default for ErrQueue {
    fn default() -> Self {
        // SAFETY: all-zero is valid for this plain C struct.
        let zero_msg: libc::mmsghdr = unsafe { zeroed() };
        ErrQueue {
            data: vec![[0u8; 16]; ERRQ_BATCH].into_boxed_slice(),
            cmsgs: vec![CmsgBuf([0; CMSG_BUF]); ERRQ_BATCH].into_boxed_slice(),
            iov: vec![
                libc::iovec {
                    iov_base: std::ptr::null_mut(),
                    iov_len: 0
                };
                ERRQ_BATCH
            ]
            .into_boxed_slice(),
            msgs: vec![zero_msg; ERRQ_BATCH].into_boxed_slice(),
        }
    }
}

/// Drain the socket error queue of TX timestamps, a batch per syscall:
/// calls `f(opt_id, ns)`. Returns how many were read.
pub fn drain_tx_timestamps(
    sock: &NtpSocket,
    q: &mut ErrQueue,
    mut f: impl FnMut(u32, i64),
) -> usize {
    let mut count = 0;
    loop {
        for i in 0..ERRQ_BATCH {
            q.iov[i] = libc::iovec {
                iov_base: q.data[i].as_mut_ptr().cast(),
                iov_len: q.data[i].len(),
            };
            let hdr = &mut q.msgs[i].msg_hdr;
            hdr.msg_name = std::ptr::null_mut();
            hdr.msg_namelen = 0;
            hdr.msg_iov = &mut q.iov[i];
            hdr.msg_iovlen = 1;
            hdr.msg_control = q.cmsgs[i].0.as_mut_ptr().cast();
            hdr.msg_controllen = CMSG_BUF as _;
            hdr.msg_flags = 0;
            q.msgs[i].msg_len = 0;
        }
        // SAFETY: every mmsghdr points into buffers owned by `q`, sized as declared.
        let r = unsafe {
            libc::recvmmsg(
                sock.raw(),
                q.msgs.as_mut_ptr(),
                ERRQ_BATCH as libc::c_uint,
                libc::MSG_ERRQUEUE | libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if r <= 0 {
            break;
        }
        let got = (r as usize).min(ERRQ_BATCH);
        for m in q.msgs.iter().take(got) {
            let mut ts = None;
            let mut id = None;
            for_each_cmsg(&m.msg_hdr, |level, ty, d| {
                if level == libc::SOL_SOCKET && ty == libc::SCM_TIMESTAMPING {
                    if let Some(t) = read_timespec(d) {
                        ts = Some(ts_to_ns(&t));
                    }
                } else if ((level == libc::SOL_IP && ty == libc::IP_RECVERR)
                    || (level == libc::SOL_IPV6 && ty == libc::IPV6_RECVERR))
                    && d.len() >= size_of::<libc::sock_extended_err>()
                {
                    // SAFETY: length checked; unaligned read of a plain C struct.
                    let e: libc::sock_extended_err =
                        unsafe { std::ptr::read_unaligned(d.as_ptr().cast()) };
                    if e.ee_errno == libc::ENOMSG as u32
                        && e.ee_origin == libc::SO_EE_ORIGIN_TIMESTAMPING
                    {
                        id = Some(e.ee_data);
                    }
                }
            });
            if let (Some(id), Some(ts)) = (id, ts) {
                if ts != 0 {
                    f(id, ts);
                    count += 1;
                }
            }
        }
        if got < ERRQ_BATCH {
            break;
        }
    }
    count
}
