//! Events: what happened, when, how bad. A neutral module: cores return
//! [`Event`]s as outputs, shells hand them to an [`EventSink`] (journal line,
//! live feed, store). It imports no core and no shell.
//!
//! JSON (stored rows, control socket, live feed):
//! `{"id": 7, "time_ns": …, "kind": "antenna.state", "severity": "error",
//!   "durable": true, "data": {"status": "open", "power": "on"}, "message": "antenna open, power on"}`.
//! `id` is present once the sink has numbered the event; `message` is for
//! people and is ignored when read back.

mod kind;
mod message;
mod sink;

pub use kind::EventKind;
pub use sink::{EventSink, LiveEvents, LIVE_CAPACITY};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Notice,
    Warning,
    Error,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Notice => "notice",
            Severity::Warning => "warning",
            Severity::Error => "error",
            Severity::Critical => "critical",
        }
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "info" => Severity::Info,
            "notice" => Severity::Notice,
            "warning" => Severity::Warning,
            "error" => Severity::Error,
            "critical" => Severity::Critical,
            _ => {
                return Err(format!(
                    "unknown severity `{s}` (info, notice, warning, error, critical)"
                ))
            }
        })
    }
}

/// One event. `severity` and `durable` come from the kind
/// ([`EventKind::severity`], [`EventKind::durable`]); they are fields so a
/// stored row reads back as it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Assigned by the sink (strictly increasing, shared with the store);
    /// `None` before that.
    pub id: Option<u64>,
    /// UTC ns.
    pub time_ns: i64,
    pub kind: EventKind,
    pub severity: Severity,
    /// Committed to disk at once instead of in the next batch.
    pub durable: bool,
}

impl Event {
    pub fn new(time_ns: i64, kind: EventKind) -> Self {
        Self {
            id: None,
            time_ns,
            severity: kind.severity(),
            durable: kind.durable(),
            kind,
        }
    }

    /// Stamped with the system clock: for shells, never for cores (which
    /// get time as a value).
    pub fn now(kind: EventKind) -> Self {
        Self::new(crate::time::system_realtime_ns(), kind)
    }

    /// The contract name, e.g. `lock.transition`.
    pub fn name(&self) -> &str {
        self.kind.name()
    }

    /// One line for people.
    pub fn message(&self) -> String {
        self.kind.message()
    }

    /// The typed payload as JSON (`{}` for a kind without one).
    pub fn data(&self) -> Value {
        match &self.kind {
            EventKind::Untyped { details, .. } => {
                let mut m = Map::new();
                m.insert("details".into(), Value::String(details.clone()));
                Value::Object(m)
            }
            k => match serde_json::to_value(k) {
                Ok(Value::Object(mut m)) => m.remove("data").unwrap_or(Value::Object(Map::new())),
                _ => Value::Object(Map::new()),
            },
        }
    }
}

impl Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        if let Some(id) = self.id {
            m.serialize_entry("id", &id)?;
        }
        m.serialize_entry("time_ns", &self.time_ns)?;
        m.serialize_entry("kind", self.name())?;
        m.serialize_entry("severity", &self.severity)?;
        m.serialize_entry("durable", &self.durable)?;
        m.serialize_entry("data", &self.data())?;
        m.serialize_entry("message", &self.message())?;
        m.end()
    }
}

impl<'de> Deserialize<'de> for Event {
    /// Typed when the kind and its data are known; otherwise (rows written
    /// before kinds were typed, or by a newer version) `EventKind::Untyped`.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut v = Map::deserialize(d)?;
        let time_ns = v
            .get("time_ns")
            .and_then(Value::as_i64)
            .ok_or_else(|| D::Error::missing_field("time_ns"))?;
        let name = match v.get("kind") {
            Some(Value::String(k)) => k.clone(),
            _ => return Err(D::Error::missing_field("kind")),
        };
        let id = v.get("id").and_then(Value::as_u64);
        let severity: Option<Severity> = v
            .get("severity")
            .and_then(|s| serde_json::from_value(s.clone()).ok());
        let durable = v.get("durable").and_then(Value::as_bool);
        let data = v.remove("data");
        let typed = data.as_ref().and_then(|data| {
            let mut m = Map::new();
            m.insert("kind".into(), Value::String(name.clone()));
            m.insert("data".into(), data.clone());
            serde_json::from_value::<EventKind>(Value::Object(m)).ok()
        });
        Ok(match typed {
            Some(kind) => Event {
                id,
                time_ns,
                severity: kind.severity(),
                durable: kind.durable(),
                kind,
            },
            None => {
                let details = match (v.get("details"), &data) {
                    (Some(Value::String(s)), _) => s.clone(),
                    (_, Some(Value::Object(m)))
                        if m.get("details").is_some_and(Value::is_string) =>
                    {
                        m["details"].as_str().unwrap_or_default().to_string()
                    }
                    (_, Some(d)) => d.to_string(),
                    _ => String::new(),
                };
                Event {
                    id,
                    time_ns,
                    kind: EventKind::Untyped {
                        kind: name,
                        details,
                    },
                    severity: severity.unwrap_or(Severity::Info),
                    durable: durable.unwrap_or(false),
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape_is_the_contract_and_round_trips() {
        let mut ev = Event::new(
            5,
            EventKind::AntennaState {
                status: "open".into(),
                power: "on".into(),
            },
        );
        ev.id = Some(9);
        let v = serde_json::to_value(&ev).unwrap();
        assert_eq!(v["id"], 9);
        assert_eq!(v["time_ns"], 5);
        assert_eq!(v["kind"], "antenna.state");
        assert_eq!(v["severity"], "error");
        assert_eq!(v["durable"], true);
        assert_eq!(v["data"]["status"], "open");
        assert_eq!(v["data"]["power"], "on");
        assert_eq!(v["message"], "antenna open, power on");
        let back: Event = serde_json::from_value(v).unwrap();
        assert_eq!(back, ev);
    }

    #[test]
    fn legacy_rows_and_unknown_kinds_read_as_untyped() {
        let old = r#"{"time_ns":1,"kind":"lock.transition","severity":"warning","details":"x","durable":true}"#;
        let ev: Event = serde_json::from_str(old).unwrap();
        assert_eq!(ev.kind, "lock.transition");
        assert_eq!(ev.severity, Severity::Warning);
        assert!(ev.durable);
        assert_eq!(ev.message(), "x");
        let newer = r#"{"time_ns":1,"kind":"future.kind","severity":"notice","durable":false,"data":{"a":1}}"#;
        let ev: Event = serde_json::from_str(newer).unwrap();
        assert_eq!(ev.name(), "future.kind");
        assert_eq!(ev.message(), r#"{"a":1}"#);
        // Re-serialized, it keeps its name.
        assert_eq!(serde_json::to_value(&ev).unwrap()["kind"], "future.kind");
        assert!(serde_json::from_str::<Event>(r#"{"kind":"x"}"#).is_err());
    }

    #[test]
    fn severity_and_durability_follow_the_payload() {
        let lock = |to: &str| EventKind::LockTransition {
            from: "locked".into(),
            to: to.into(),
            reason: "r".into(),
        };
        assert_eq!(lock("holdover").severity(), Severity::Warning);
        assert_eq!(lock("unsynchronized").severity(), Severity::Error);
        assert!(lock("locked").durable());
        let jam = |s: &str| EventKind::JammingState {
            state: s.into(),
            indicator: None,
        };
        assert!(jam("critical").durable() && !jam("warning").durable());
        assert_eq!(jam("critical").severity(), Severity::Critical);
        assert!("warning".parse::<Severity>().unwrap() > Severity::Notice);
        assert!("loud".parse::<Severity>().is_err());
    }
}
