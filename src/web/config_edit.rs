//! Admin writes of the configuration (sans-IO): a JSON patch shaped like
//! `GET /api/v1/config` is checked key by key through the very parser the
//! daemon starts with, so the panel gets one error per field and the file
//! written is one `check-config` accepts.

use crate::config::{Config, ConfigError};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Keys the running daemon applies at once; every other change is saved and
/// takes effect at the next start.
pub const LIVE_KEYS: &[&str] = &["http.time-zone", "http.public-read"];

#[derive(Debug)]
pub struct Edit {
    pub config: Config,
    /// The new file, TOML.
    pub toml: String,
    /// Dotted keys whose value changed.
    pub changed: Vec<String>,
    pub restart_required: bool,
}

/// Field errors: dotted key → message.
pub type FieldErrors = BTreeMap<String, String>;

pub fn apply(current: &Config, patch: &Value) -> Result<Edit, FieldErrors> {
    let mut errors = FieldErrors::new();
    let Value::Object(patch) = patch else {
        errors.insert(
            String::new(),
            "the body must be a JSON object shaped like GET /api/v1/config".into(),
        );
        return Err(errors);
    };
    let base = serde_json::to_value(current).unwrap_or(Value::Null);
    let mut leaves = Vec::new();
    flatten("", patch, &base, &mut leaves, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    // Each change alone, so every bad field is reported, not only the first.
    for (key, value) in &leaves {
        let mut doc = base.clone();
        set(&mut doc, key, value.clone());
        if let Err(msg) = parse(&doc) {
            errors.insert(key.clone(), msg.1);
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    // Then all together (some rules span fields, e.g. cert and key).
    let mut doc = base.clone();
    for (key, value) in &leaves {
        set(&mut doc, key, value.clone());
    }
    let (config, toml) = parse(&doc).map_err(|(key, msg)| {
        let key = key
            .filter(|k| leaves.iter().any(|(l, _)| l == k))
            .or_else(|| leaves.first().map(|(k, _)| k.clone()))
            .unwrap_or_default();
        FieldErrors::from([(key, msg)])
    })?;
    let after = serde_json::to_value(&config).unwrap_or(Value::Null);
    let changed: Vec<String> = leaves
        .iter()
        .filter(|(k, _)| get(&base, k) != get(&after, k))
        .map(|(k, _)| k.clone())
        .collect();
    let restart_required = changed.iter().any(|k| !LIVE_KEYS.contains(&k.as_str()));
    Ok(Edit {
        config,
        toml,
        changed,
        restart_required,
    })
}

/// Leaves of the patch as (dotted key, value); keys must exist in `base`.
fn flatten(
    prefix: &str,
    patch: &Map<String, Value>,
    base: &Value,
    out: &mut Vec<(String, Value)>,
    errors: &mut FieldErrors,
) {
    for (k, v) in patch {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match (base.get(k), v) {
            (None, _) => {
                errors.insert(key, "unknown key".into());
            }
            (Some(Value::Object(_)), Value::Object(inner)) => {
                flatten(&key, inner, &base[k.as_str()], out, errors);
            }
            (Some(Value::Object(_)), _) => {
                errors.insert(key, "expected an object (a section)".into());
            }
            (Some(_), _) => out.push((key, v.clone())),
        }
    }
}

fn set(doc: &mut Value, dotted: &str, value: Value) {
    let mut cur = doc;
    let mut parts = dotted.split('.').peekable();
    while let Some(p) = parts.next() {
        if parts.peek().is_none() {
            if let Value::Object(m) = cur {
                m.insert(p.to_string(), value);
            }
            return;
        }
        match cur.get_mut(p) {
            Some(next) => cur = next,
            None => return,
        }
    }
}

fn get<'a>(doc: &'a Value, dotted: &str) -> Option<&'a Value> {
    dotted.split('.').try_fold(doc, |v, p| v.get(p))
}

/// JSON document → TOML text → the daemon's own parser and checks.
fn parse(doc: &Value) -> Result<(Config, String), (Option<String>, String)> {
    let toml_value = toml::Value::try_from(strip_nulls(doc.clone()))
        .map_err(|e| (None, format!("cannot be written as TOML: {e}")))?;
    let text = toml::to_string(&toml_value)
        .map_err(|e| (None, format!("cannot be written as TOML: {e}")))?;
    match Config::parse(&text, "config") {
        Ok(c) => Ok((c, text)),
        Err(ConfigError::Parse { key, message, .. }) => Err((key, message)),
        Err(ConfigError::Invalid { key, message, .. }) => Err((Some(key), message)),
        Err(e) => Err((None, e.to_string())),
    }
}

/// TOML has no null: an absent key is the config's "none".
fn strip_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn good_change_round_trips_through_the_parser() {
        let c = Config::default();
        let e = apply(
            &c,
            &json!({"http": {"time-zone": "Europe/Madrid"}, "discipline": {"min-satellites": 5}}),
        )
        .unwrap();
        assert_eq!(e.config.http.time_zone, "Europe/Madrid");
        assert_eq!(e.config.discipline.min_satellites, 5);
        assert_eq!(
            e.changed,
            vec!["discipline.min-satellites", "http.time-zone"]
        );
        assert!(e.restart_required);
        let again = Config::parse(&e.toml, "x").unwrap();
        assert_eq!(again, e.config);
        let live = apply(&c, &json!({"http": {"time-zone": "America/Lima"}})).unwrap();
        assert!(!live.restart_required);
    }

    #[test]
    fn every_bad_field_reported() {
        let c = Config::default();
        let errs = apply(
            &c,
            &json!({
                "http": {"time-zone": "../../etc/passwd", "bogus": 1},
                "discipline": {"min-satellites": 900, "max-frequency-ppm": "fast"},
                "ntp": 3
            }),
        )
        .unwrap_err();
        assert_eq!(
            errs.get("http.bogus").map(String::as_str),
            Some("unknown key")
        );
        assert!(errs.contains_key("ntp"), "{errs:?}");
        // Unknown keys stop before values are tried; fix them and retry.
        let errs = apply(
            &c,
            &json!({
                "http": {"time-zone": "../../etc/passwd"},
                "discipline": {"min-satellites": 900, "max-frequency-ppm": "fast"}
            }),
        )
        .unwrap_err();
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert!(
            errs["discipline.min-satellites"].contains("out of range"),
            "{errs:?}"
        );
        assert!(errs["http.time-zone"].contains("IANA"), "{errs:?}");
        assert!(errs.contains_key("discipline.max-frequency-ppm"));
    }

    #[test]
    fn cross_field_rule_and_non_object() {
        let c = Config::default();
        let errs = apply(&c, &json!({"http": {"cert": "/tmp/c.pem"}})).unwrap_err();
        assert!(errs["http.cert"].contains("go together"), "{errs:?}");
        assert!(apply(&c, &json!([1, 2])).is_err());
        // Clearing an optional key (null) is allowed.
        let e = apply(&c, &json!({"http": {"redirect-from": null}})).unwrap();
        assert!(e.changed.is_empty());
    }
}
