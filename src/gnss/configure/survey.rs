//! Surveyed antenna position and where it is kept between restarts.

use serde::Serialize;

/// Antenna reference point position, ECEF, as the receiver reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SurveyPosition {
    pub ecef_x_cm: i32,
    pub ecef_y_cm: i32,
    pub ecef_z_cm: i32,
    /// 3D accuracy of the position, mm.
    pub accuracy_mm: u32,
}

/// Where the surveyed position lives between restarts (the store on the
/// appliance; memory in tests).
pub trait SurveyStore: Send {
    fn load(&self) -> Option<SurveyPosition>;
    fn save(&mut self, pos: &SurveyPosition) -> Result<(), String>;
}

/// In-memory [`SurveyStore`] (tests, `demo` without a database).
#[derive(Debug, Default, Clone)]
pub struct MemorySurveyStore {
    pub position: Option<SurveyPosition>,
}

impl SurveyStore for MemorySurveyStore {
    fn load(&self) -> Option<SurveyPosition> {
        self.position
    }
    fn save(&mut self, pos: &SurveyPosition) -> Result<(), String> {
        self.position = Some(*pos);
        Ok(())
    }
}
