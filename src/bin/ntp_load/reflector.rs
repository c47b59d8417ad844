//! Bare reflector: the cheapest possible UDP responder that still passes the
//! generator's checks. It measures what the kernel alone costs per packet,
//! the floor any NTP server on this machine sits on.

use crate::packet::reflect_in_place;
use crate::udp::{self, Peer, RecvBuf, MAX_BATCH, RECV_LEN};
use std::io::{self, Write};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::thread;

pub struct ReflectOptions {
    pub listen: SocketAddr,
    pub workers: usize,
    pub cpus: Vec<usize>,
    pub batch: usize,
}

/// Binds all worker sockets, prints `listening <addr>` on stdout once they
/// are ready, then serves until killed.
pub fn run(opts: &ReflectOptions) -> anyhow::Result<()> {
    let workers = opts.workers.max(1);
    let first = udp::bind_reuseport(opts.listen)?;
    // With port 0 the first bind picks the port; the others join it.
    let addr = first.local_addr()?;
    let mut sockets = vec![first];
    for _ in 1..workers {
        sockets.push(udp::bind_reuseport(addr)?);
    }
    for s in &sockets {
        udp::set_recv_buffer(s, 4 << 20);
    }
    let mut handles = Vec::new();
    for (i, sock) in sockets.into_iter().enumerate() {
        let cpu = (!opts.cpus.is_empty()).then(|| opts.cpus[i % opts.cpus.len()]);
        let batch = opts.batch.clamp(1, MAX_BATCH);
        handles.push(thread::Builder::new().name(format!("reflect-{i}")).spawn(
            move || -> io::Result<()> {
                if let Some(cpu) = cpu {
                    udp::pin_current_thread(cpu)?;
                }
                serve(sock.as_raw_fd(), batch)
            },
        )?);
    }
    let mut out = io::stdout().lock();
    writeln!(out, "listening {addr}")?;
    out.flush()?;
    drop(out);
    for h in handles {
        match h.join() {
            Ok(r) => r?,
            Err(_) => anyhow::bail!("reflector worker panicked"),
        }
    }
    Ok(())
}

fn serve(fd: std::os::fd::RawFd, batch: usize) -> io::Result<()> {
    let mut bufs: Vec<RecvBuf> = vec![[0u8; RECV_LEN]; batch];
    let mut lens = vec![0usize; batch];
    let mut peers = vec![Peer::default(); batch];
    let mut out_bufs: Vec<RecvBuf> = vec![[0u8; RECV_LEN]; batch];
    let mut out_lens = vec![0usize; batch];
    let mut out_peers = vec![Peer::default(); batch];
    loop {
        let n = match udp::recv_from_batch(fd, &mut bufs, &mut lens, &mut peers) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        // Compact the replies so one sendmmsg carries them all; packets that
        // cannot be a request are dropped, as a server would.
        let mut m = 0;
        for i in 0..n {
            let len = lens[i];
            if len < 48 || !reflect_in_place(&mut bufs[i][..len]) {
                continue;
            }
            out_bufs[m][..48].copy_from_slice(&bufs[i][..48]);
            out_lens[m] = 48;
            out_peers[m] = peers[i];
            m += 1;
        }
        let mut sent = 0;
        while sent < m {
            match udp::send_to_batch(
                fd,
                &mut out_bufs[sent..m],
                &out_lens[sent..m],
                &mut out_peers[sent..m],
            ) {
                Ok(0) => break,
                Ok(k) => sent += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // A client that went away (ICMP unreachable) must not stop
                // us: skip the datagram that failed and send the rest.
                Err(_) => sent += 1,
            }
        }
    }
}
