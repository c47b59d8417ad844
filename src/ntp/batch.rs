//! Batched receive/send (recvmmsg/sendmmsg) over preallocated buffers: no
//! allocation per packet.

use super::socket::{
    from_sockaddr, rx_ancillary, write_cmsgs, CmsgBuf, NtpSocket, PktInfo, CMSG_BUF, RX_BUF, TX_BUF,
};
use std::io;
use std::mem::{size_of, zeroed};
use std::net::SocketAddr;

/// One received datagram.
#[derive(Debug, Clone, Copy)]
pub struct Received {
    pub len: usize,
    pub truncated: bool,
    pub from: Option<SocketAddr>,
    pub kernel_rx_ns: Option<i64>,
    /// Destination of the request (wildcard binds only).
    pub local: Option<PktInfo>,
    /// The socket's running total of kernel drops, when the kernel said.
    pub dropped: Option<u32>,
}

/// Preallocated batch of receive and send slots (no allocation per packet).
pub struct Batch {
    rx: Box<[[u8; RX_BUF]]>,
    pub tx: Box<[[u8; TX_BUF]]>,
    tx_len: Box<[usize]>,
    names: Box<[libc::sockaddr_storage]>,
    name_lens: Box<[libc::socklen_t]>,
    /// Request each queued reply answers (its address is still in `names`:
    /// replies are sent before the next receive).
    tx_src: Box<[usize]>,
    cmsgs: Box<[CmsgBuf]>,
    tx_cmsgs: Box<[CmsgBuf]>,
    tx_cmsg_len: Box<[usize]>,
    tx_ok: Box<[bool]>,
    tx_stamp: Box<[bool]>,
    /// Receive headers: pointers set once in `new`, lengths reset per call.
    iov: Box<[libc::iovec]>,
    msgs: Box<[libc::mmsghdr]>,
    tx_iov: Box<[libc::iovec]>,
    tx_msgs: Box<[libc::mmsghdr]>,
    pub received: Box<[Received]>,
    tx_count: usize,
}

// SAFETY: the raw pointers inside iovec/mmsghdr only ever point into the
// heap buffers of this struct's own boxes (which never move or get resized);
// receive headers are wired once in `new`, send headers before each send.
unsafe impl Send for Batch {}

impl Batch {
    pub fn new(n: usize) -> Batch {
        let n = n.max(1);
        // SAFETY: all-zero is valid for these plain C structs.
        let zero_ss: libc::sockaddr_storage = unsafe { zeroed() };
        let zero_msg: libc::mmsghdr = unsafe { zeroed() };
        let mut b = Batch {
            rx: vec![[0u8; RX_BUF]; n].into_boxed_slice(),
            tx: vec![[0u8; TX_BUF]; n].into_boxed_slice(),
            tx_len: vec![0; n].into_boxed_slice(),
            names: vec![zero_ss; n].into_boxed_slice(),
            name_lens: vec![0; n].into_boxed_slice(),
            tx_src: vec![0; n].into_boxed_slice(),
            cmsgs: vec![CmsgBuf([0; CMSG_BUF]); n].into_boxed_slice(),
            tx_cmsgs: vec![CmsgBuf([0; CMSG_BUF]); n].into_boxed_slice(),
            tx_cmsg_len: vec![0; n].into_boxed_slice(),
            tx_ok: vec![false; n].into_boxed_slice(),
            tx_stamp: vec![false; n].into_boxed_slice(),
            iov: vec![
                libc::iovec {
                    iov_base: std::ptr::null_mut(),
                    iov_len: 0
                };
                n
            ]
            .into_boxed_slice(),
            msgs: vec![zero_msg; n].into_boxed_slice(),
            tx_iov: vec![
                libc::iovec {
                    iov_base: std::ptr::null_mut(),
                    iov_len: 0
                };
                n
            ]
            .into_boxed_slice(),
            tx_msgs: vec![zero_msg; n].into_boxed_slice(),
            received: vec![
                Received {
                    len: 0,
                    truncated: false,
                    from: None,
                    kernel_rx_ns: None,
                    local: None,
                    dropped: None,
                };
                n
            ]
            .into_boxed_slice(),
            tx_count: 0,
        };
        for i in 0..n {
            b.iov[i] = libc::iovec {
                iov_base: b.rx[i].as_mut_ptr().cast(),
                iov_len: RX_BUF,
            };
            let hdr = &mut b.msgs[i].msg_hdr;
            hdr.msg_name = (&mut b.names[i] as *mut libc::sockaddr_storage).cast();
            hdr.msg_iov = &mut b.iov[i];
            hdr.msg_iovlen = 1;
            hdr.msg_control = b.cmsgs[i].0.as_mut_ptr().cast();
        }
        b
    }

    /// Receive up to a batch: blocks for the first datagram (up to the
    /// socket's receive timeout), then takes whatever else is queued.
    /// Returns the number received (0 on timeout).
    pub fn recv(&mut self, sock: &NtpSocket) -> io::Result<usize> {
        let n = self.msgs.len();
        // The kernel rewrites these three per datagram; the pointers stay.
        for m in self.msgs.iter_mut() {
            m.msg_hdr.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            m.msg_hdr.msg_controllen = CMSG_BUF as _;
            m.msg_hdr.msg_flags = 0;
            m.msg_len = 0;
        }
        // SAFETY: every mmsghdr points into buffers owned by self, sized as declared.
        let r = unsafe {
            libc::recvmmsg(
                sock.raw(),
                self.msgs.as_mut_ptr(),
                n as libc::c_uint,
                libc::MSG_WAITFORONE,
                std::ptr::null_mut(),
            )
        };
        if r < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock
                | io::ErrorKind::TimedOut
                | io::ErrorKind::Interrupted => Ok(0),
                _ => Err(e),
            };
        }
        let got = (r as usize).min(n);
        for i in 0..got {
            let m = &self.msgs[i];
            self.name_lens[i] = m.msg_hdr.msg_namelen;
            let anc = rx_ancillary(&m.msg_hdr);
            self.received[i] = Received {
                len: (m.msg_len as usize).min(RX_BUF),
                truncated: m.msg_hdr.msg_flags & libc::MSG_TRUNC != 0,
                from: from_sockaddr(&self.names[i]),
                kernel_rx_ns: anc.kernel_rx_ns,
                local: anc.local,
                dropped: anc.dropped,
            };
        }
        self.tx_count = 0;
        Ok(got)
    }

    /// Split borrow: request `i` and the next free reply buffer.
    pub fn request_and_reply_buf(&mut self, i: usize) -> Option<(&[u8], &mut [u8])> {
        let len = self.received.get(i)?.len.min(RX_BUF);
        let req = self.rx.get(i)?.get(..len)?;
        let out = self.tx.get_mut(self.tx_count)?;
        Some((req, &mut out[..]))
    }

    /// Queue the reply just written (by `request_and_reply_buf`) to the
    /// sender of request `i`, asking the kernel for its TX timestamp when
    /// `tx_timestamp`. Returns its slot in the send batch.
    pub fn queue_reply(&mut self, i: usize, len: usize, tx_timestamp: bool) -> Option<usize> {
        let slot = self.tx_count;
        if slot >= self.tx.len() || i >= self.names.len() {
            return None;
        }
        self.tx_src[slot] = i;
        self.tx_len[slot] = len.min(TX_BUF);
        let local = self.received.get(i).and_then(|r| r.local);
        self.tx_cmsg_len[slot] = if local.is_some() || tx_timestamp {
            write_cmsgs(&mut self.tx_cmsgs[slot], local.as_ref(), tx_timestamp)
        } else {
            0
        };
        self.tx_stamp[slot] = tx_timestamp && self.tx_cmsg_len[slot] > 0;
        self.tx_count += 1;
        Some(slot)
    }

    pub fn queued(&self) -> usize {
        self.tx_count
    }

    pub fn reply_buf(&mut self, slot: usize) -> Option<&mut [u8]> {
        let len = *self.tx_len.get(slot)?;
        self.tx.get_mut(slot).map(|b| &mut b[..len])
    }

    /// Whether the reply in `slot` was handed to the kernel by the last `send`.
    pub fn was_sent(&self, slot: usize) -> bool {
        self.tx_ok.get(slot).copied().unwrap_or(false)
    }

    /// Whether the reply in `slot` asked the kernel for a TX timestamp.
    pub fn asked_tx_timestamp(&self, slot: usize) -> bool {
        self.tx_stamp.get(slot).copied().unwrap_or(false)
    }

    /// Send all queued replies; returns how many failed (see `was_sent`).
    pub fn send(&mut self, sock: &NtpSocket) -> usize {
        let n = self.tx_count;
        self.tx_ok[..n].fill(false);
        let mut next = 0;
        let mut failed = 0;
        while next < n {
            for i in next..n {
                self.tx_iov[i] = libc::iovec {
                    iov_base: self.tx[i].as_mut_ptr().cast(),
                    iov_len: self.tx_len[i],
                };
                let src = self.tx_src[i];
                let hdr = &mut self.tx_msgs[i].msg_hdr;
                hdr.msg_name = (&mut self.names[src] as *mut libc::sockaddr_storage).cast();
                hdr.msg_namelen = self.name_lens[src];
                hdr.msg_iov = &mut self.tx_iov[i];
                hdr.msg_iovlen = 1;
                if self.tx_cmsg_len[i] > 0 {
                    hdr.msg_control = self.tx_cmsgs[i].0.as_mut_ptr().cast();
                    hdr.msg_controllen = self.tx_cmsg_len[i] as _;
                } else {
                    hdr.msg_control = std::ptr::null_mut();
                    hdr.msg_controllen = 0;
                }
                hdr.msg_flags = 0;
            }
            // SAFETY: headers point into buffers owned by self.
            let r = unsafe {
                libc::sendmmsg(
                    sock.raw(),
                    self.tx_msgs[next..].as_mut_ptr(),
                    (n - next) as libc::c_uint,
                    0,
                )
            };
            if r < 0 {
                if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                // The datagram at `next` failed: skip it, carry on with the rest.
                failed += 1;
                next += 1;
                continue;
            }
            if r == 0 {
                failed += n - next;
                break;
            }
            let r = (r as usize).min(n - next);
            self.tx_ok[next..next + r].fill(true);
            next += r;
        }
        self.tx_count = 0;
        failed
    }
}
