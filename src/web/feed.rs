//! The task that feeds every live stream its snapshot: serialized once a
//! second for all clients, so 50 clients cost one serialization, not 50.
//! Events reach the streams straight from `Services::events_live`.

use super::state::WebState;
use crate::shutdown::{wait_true, Shutdown};
use std::sync::Arc;
use std::time::Duration;

const SNAPSHOT_INTERVAL: Duration = Duration::from_secs(1);

pub async fn run(st: Arc<WebState>, mut shutdown: Shutdown) -> anyhow::Result<()> {
    let mut tick = tokio::time::interval(SNAPSHOT_INTERVAL);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let text = serde_json::to_string(&*st.ctx.snapshot.borrow())?;
                st.snapshot_text.send_replace(Arc::from(text));
            }
            _ = wait_true(&mut shutdown) => return Ok(()),
        }
    }
}
