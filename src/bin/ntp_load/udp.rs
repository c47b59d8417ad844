//! Thin wrappers over the Linux batch socket calls (recvmmsg/sendmmsg) and
//! CPU pinning. Everything unsafe in the tool lives here.

use nix::sys::socket::{
    bind, setsockopt, socket, sockopt, AddressFamily, SockFlag, SockType, SockaddrStorage,
};
use std::io;
use std::mem;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};
use std::ptr;

/// Most datagrams moved by one batch call.
pub const MAX_BATCH: usize = 64;

/// Receive buffer size: larger than any reply we expect, so an oversized
/// reply shows up with its real length instead of being cut to 48 bytes.
pub const RECV_LEN: usize = 1024;

pub type RecvBuf = [u8; RECV_LEN];

/// A UDP socket bound to `addr` with SO_REUSEPORT, so several workers can
/// share one port and the kernel spreads flows across them.
pub fn bind_reuseport(addr: SocketAddr) -> io::Result<UdpSocket> {
    let family = if addr.is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    };
    let fd = socket(family, SockType::Datagram, SockFlag::SOCK_CLOEXEC, None)?;
    setsockopt(&fd, sockopt::ReusePort, &true)?;
    bind(fd.as_raw_fd(), &SockaddrStorage::from(addr))?;
    Ok(UdpSocket::from(fd))
}

/// Sets SO_RCVBUF (the kernel doubles and caps it); failures are harmless.
pub fn set_recv_buffer(sock: &UdpSocket, bytes: usize) {
    let _ = setsockopt(sock, sockopt::RcvBuf, &bytes);
}

fn last_error() -> io::Error {
    io::Error::last_os_error()
}

/// Sends `bufs` on a connected socket; returns how many went out.
pub fn send_connected(fd: RawFd, bufs: &mut [[u8; 48]]) -> io::Result<usize> {
    let n = bufs.len().min(MAX_BATCH);
    if n == 0 {
        return Ok(0);
    }
    // SAFETY: iovec and mmsghdr are plain C structs for which all-zero is valid.
    let mut iov: [libc::iovec; MAX_BATCH] = unsafe { mem::zeroed() };
    let mut hdr: [libc::mmsghdr; MAX_BATCH] = unsafe { mem::zeroed() };
    for i in 0..n {
        iov[i].iov_base = bufs[i].as_mut_ptr().cast();
        iov[i].iov_len = 48;
        hdr[i].msg_hdr.msg_iov = &mut iov[i];
        hdr[i].msg_hdr.msg_iovlen = 1;
    }
    // SAFETY: every header points at a live buffer of the stated length for
    // the duration of the call.
    let r = unsafe { libc::sendmmsg(fd, hdr.as_mut_ptr(), n as libc::c_uint, libc::MSG_DONTWAIT) };
    if r < 0 {
        return Err(last_error());
    }
    Ok(r as usize)
}

/// Receives up to `bufs.len()` datagrams without blocking; their lengths go
/// to `lens`. Returns how many arrived (0 when none were waiting).
pub fn recv_connected(fd: RawFd, bufs: &mut [RecvBuf], lens: &mut [usize]) -> io::Result<usize> {
    let n = bufs.len().min(lens.len()).min(MAX_BATCH);
    if n == 0 {
        return Ok(0);
    }
    // SAFETY: all-zero is valid for these C structs.
    let mut iov: [libc::iovec; MAX_BATCH] = unsafe { mem::zeroed() };
    let mut hdr: [libc::mmsghdr; MAX_BATCH] = unsafe { mem::zeroed() };
    for i in 0..n {
        iov[i].iov_base = bufs[i].as_mut_ptr().cast();
        iov[i].iov_len = RECV_LEN;
        hdr[i].msg_hdr.msg_iov = &mut iov[i];
        hdr[i].msg_hdr.msg_iovlen = 1;
    }
    // SAFETY: buffers outlive the call and match the lengths given.
    let r = unsafe {
        libc::recvmmsg(
            fd,
            hdr.as_mut_ptr(),
            n as libc::c_uint,
            libc::MSG_DONTWAIT,
            ptr::null_mut(),
        )
    };
    if r < 0 {
        let e = last_error();
        if e.kind() == io::ErrorKind::WouldBlock {
            return Ok(0);
        }
        return Err(e);
    }
    let r = r as usize;
    for i in 0..r {
        lens[i] = (hdr[i].msg_len as usize).min(RECV_LEN);
    }
    Ok(r)
}

/// One received datagram's source address, kept so the reply can go back.
#[derive(Clone, Copy)]
pub struct Peer {
    addr: libc::sockaddr_storage,
    len: libc::socklen_t,
}

impl Default for Peer {
    fn default() -> Self {
        // SAFETY: all-zero is a valid (unspecified-family) sockaddr_storage.
        Self {
            addr: unsafe { mem::zeroed() },
            len: 0,
        }
    }
}

/// Blocks until at least one datagram arrives, then takes whatever else is
/// already queued (MSG_WAITFORONE), up to `bufs.len()`.
pub fn recv_from_batch(
    fd: RawFd,
    bufs: &mut [RecvBuf],
    lens: &mut [usize],
    peers: &mut [Peer],
) -> io::Result<usize> {
    let n = bufs.len().min(lens.len()).min(peers.len()).min(MAX_BATCH);
    // SAFETY: all-zero is valid for these C structs.
    let mut iov: [libc::iovec; MAX_BATCH] = unsafe { mem::zeroed() };
    let mut hdr: [libc::mmsghdr; MAX_BATCH] = unsafe { mem::zeroed() };
    for i in 0..n {
        iov[i].iov_base = bufs[i].as_mut_ptr().cast();
        iov[i].iov_len = RECV_LEN;
        hdr[i].msg_hdr.msg_iov = &mut iov[i];
        hdr[i].msg_hdr.msg_iovlen = 1;
        hdr[i].msg_hdr.msg_name = ptr::addr_of_mut!(peers[i].addr).cast();
        hdr[i].msg_hdr.msg_namelen = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    }
    // SAFETY: buffers and address storage outlive the call.
    let r = unsafe {
        libc::recvmmsg(
            fd,
            hdr.as_mut_ptr(),
            n as libc::c_uint,
            libc::MSG_WAITFORONE,
            ptr::null_mut(),
        )
    };
    if r < 0 {
        return Err(last_error());
    }
    let r = r as usize;
    for i in 0..r {
        lens[i] = (hdr[i].msg_len as usize).min(RECV_LEN);
        peers[i].len = hdr[i].msg_hdr.msg_namelen;
    }
    Ok(r)
}

/// Sends `bufs[i][..lens[i]]` to `peers[i]` for every i; blocks if the send
/// buffer is full. Returns how many went out.
pub fn send_to_batch(
    fd: RawFd,
    bufs: &mut [RecvBuf],
    lens: &[usize],
    peers: &mut [Peer],
) -> io::Result<usize> {
    let n = bufs.len().min(lens.len()).min(peers.len()).min(MAX_BATCH);
    if n == 0 {
        return Ok(0);
    }
    // SAFETY: all-zero is valid for these C structs.
    let mut iov: [libc::iovec; MAX_BATCH] = unsafe { mem::zeroed() };
    let mut hdr: [libc::mmsghdr; MAX_BATCH] = unsafe { mem::zeroed() };
    for i in 0..n {
        iov[i].iov_base = bufs[i].as_mut_ptr().cast();
        iov[i].iov_len = lens[i].min(RECV_LEN);
        hdr[i].msg_hdr.msg_iov = &mut iov[i];
        hdr[i].msg_hdr.msg_iovlen = 1;
        hdr[i].msg_hdr.msg_name = ptr::addr_of_mut!(peers[i].addr).cast();
        hdr[i].msg_hdr.msg_namelen = peers[i].len;
    }
    // SAFETY: buffers and addresses outlive the call.
    let r = unsafe { libc::sendmmsg(fd, hdr.as_mut_ptr(), n as libc::c_uint, 0) };
    if r < 0 {
        return Err(last_error());
    }
    Ok(r as usize)
}

/// Waits until one of `fds` is readable or `timeout_ns` passes.
pub fn wait_readable(fds: &[RawFd], timeout_ns: u64) -> io::Result<()> {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let ts = libc::timespec {
        tv_sec: (timeout_ns / 1_000_000_000) as libc::time_t,
        tv_nsec: (timeout_ns % 1_000_000_000) as libc::c_long,
    };
    // SAFETY: pfds is a live array of the stated length; ts is valid.
    let r = unsafe {
        libc::ppoll(
            pfds.as_mut_ptr(),
            pfds.len() as libc::nfds_t,
            &ts,
            ptr::null(),
        )
    };
    if r < 0 {
        let e = last_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(());
        }
        return Err(e);
    }
    Ok(())
}

/// Pins the calling thread to one CPU.
pub fn pin_current_thread(cpu: usize) -> io::Result<()> {
    use nix::sched::{sched_setaffinity, CpuSet};
    use nix::unistd::Pid;
    let mut set = CpuSet::new();
    set.set(cpu)?;
    sched_setaffinity(Pid::from_raw(0), &set)?;
    Ok(())
}
