//! The listening shell: accepts TCP connections, does the TLS handshake when
//! configured, and hands each connection to hyper with the warp service.
//! Our own loop (rather than `warp::serve`) because warp 0.4 has no TLS and
//! no connection limit, and because it tells the routes the peer address.

use crate::shutdown::{wait_true, Shutdown};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use warp::filters::BoxedFilter;

/// The client's address, put into each request's extensions.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

/// Open connections at most; more are closed at once (the Pi has little
/// memory, and 50 SSE clients are the expected load).
const MAX_CONNECTIONS: usize = 512;
/// A client must send its request head within this time (slow-loris).
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

pub type Routes = BoxedFilter<(warp::reply::Response,)>;

/// Bind now so a taken port is an error at start, not in a task.
pub fn bind(addr: SocketAddr) -> anyhow::Result<std::net::TcpListener> {
    let l = std::net::TcpListener::bind(addr)
        .map_err(|e| anyhow::anyhow!("HTTP listen address {addr}: {e}"))?;
    l.set_nonblocking(true)?;
    Ok(l)
}

/// Serve until `shutdown` turns true; connections refused at the limit are
/// counted into `sheds`.
pub async fn serve(
    listener: std::net::TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    routes: Routes,
    sheds: crate::sheds::Sheds,
    mut shutdown: Shutdown,
) -> anyhow::Result<()> {
    let listener = TcpListener::from_std(listener)?;
    let svc = warp::service(routes);
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let (tcp, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(error = %e, "HTTP accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = wait_true(&mut shutdown) => return Ok(()),
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            sheds.hit(crate::sheds::Shed::HttpRefused);
            drop(tcp);
            continue;
        };
        let svc = svc.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let _ = tcp.set_nodelay(true);
            let service = hyper::service::service_fn(
                move |mut req: hyper::Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(Peer(peer));
                    let mut svc = svc.clone();
                    tower_service::Service::call(&mut svc, req)
                },
            );
            let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT);
            let result = match tls {
                None => {
                    builder
                        .serve_connection_with_upgrades(TokioIo::new(tcp), service)
                        .await
                }
                Some(acc) => {
                    match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acc.accept(tcp)).await {
                        Ok(Ok(stream)) => {
                            builder
                                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                                .await
                        }
                        Ok(Err(e)) => {
                            tracing::debug!(%peer, error = %e, "TLS handshake failed");
                            return;
                        }
                        Err(_) => return,
                    }
                }
            };
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "HTTP connection ended");
            }
        });
    }
}
