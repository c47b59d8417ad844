//! The shutdown signal every long-running task gets (neutral: the
//! supervisor in `app` and the shells it runs share it).

use tokio::sync::watch;

pub type Shutdown = watch::Receiver<bool>;

/// Resolves once the flag is true (or its sender is gone).
pub async fn wait_true(rx: &mut Shutdown) {
    loop {
        if *rx.borrow_and_update() {
            return;
        }
        if rx.changed().await.is_err() {
            return;
        }
    }
}
