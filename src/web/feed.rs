//! The one task that feeds every live stream: it serializes the snapshot
//! once a second and relays new events from the store, so 50 clients cost
//! one serialization, not 50.
//
// TODO(events-store): subscribe to `Services::events_live` when it lands
// instead of polling the store for ids above the last one seen.

use super::state::WebState;
use crate::app::supervisor::{wait_true, Shutdown};
use std::sync::Arc;
use std::time::Duration;

const SNAPSHOT_INTERVAL: Duration = Duration::from_secs(1);
const EVENT_POLL: Duration = Duration::from_millis(250);
/// Events read per poll; a burst larger than this is relayed over several polls.
const EVENT_BATCH: usize = 256;

pub async fn run(st: Arc<WebState>, mut shutdown: Shutdown) -> anyhow::Result<()> {
    let mut snap_tick = tokio::time::interval(SNAPSHOT_INTERVAL);
    let mut ev_tick = tokio::time::interval(EVENT_POLL);
    // Start after what is already stored: streams carry new events only.
    let mut last_id = st
        .ctx
        .store
        .recent_events(1, None)
        .await?
        .last()
        .map_or(0, |e| e.id);
    loop {
        tokio::select! {
            _ = snap_tick.tick() => {
                let text = serde_json::to_string(&*st.ctx.snapshot.borrow())?;
                st.snapshot_text.send_replace(Arc::from(text));
            }
            _ = ev_tick.tick() => {
                let evs = st.ctx.store.recent_events(EVENT_BATCH, None).await?;
                let seen = last_id;
                for e in evs.into_iter().filter(|e| e.id > seen) {
                    last_id = e.id;
                    // No receivers is fine: nobody is watching.
                    let _ = st.live.send(e);
                }
            }
            _ = wait_true(&mut shutdown) => return Ok(()),
        }
    }
}
