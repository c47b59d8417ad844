//! Surveyed antenna position and where it is kept between restarts.

pub use crate::gnss::SurveyPosition;

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
