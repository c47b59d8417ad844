//! Turns PPS edges plus receiver time into a disciplined clock: pairing, servo,
//! lock states, holdover, leap seconds, stability metrics.

pub mod leap;
pub mod pairing;
pub mod servo;

use serde::Serialize;

/// Discipline view in the status snapshot.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DisciplineStatus {}
