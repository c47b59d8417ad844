//! The sorted table of (OID, value) a session answers from: one immutable
//! value per snapshot, so a walk never sees half an update.

use super::codec::{SearchRange, Value, VarBind};
use super::oid::Oid;

/// Most varbinds one GetBulk answer carries (net-snmp asks for far fewer;
/// this bounds what a hostile master can make us build).
pub const MAX_BULK_VARBINDS: usize = 2048;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MibTable {
    rows: Vec<(Oid, Value)>,
}

impl MibTable {
    /// Sort and de-duplicate (the first value for an OID wins).
    pub fn new(mut rows: Vec<(Oid, Value)>) -> Self {
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        rows.dedup_by(|b, a| a.0 == b.0);
        MibTable { rows }
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn rows(&self) -> &[(Oid, Value)] {
        &self.rows
    }

    /// Get (§7.2.3.1): the exact instance, else noSuchInstance when the
    /// object (the OID minus its last sub-identifier) has instances here,
    /// else noSuchObject.
    pub fn get(&self, name: &Oid) -> VarBind {
        let value = match self.rows.binary_search_by(|r| r.0.cmp(name)) {
            Ok(i) => self.rows[i].1.clone(),
            Err(i) => {
                let parent = Oid(name.0[..name.0.len().saturating_sub(1)].to_vec());
                let has_object = !parent.is_empty()
                    && (self.rows.get(i).is_some_and(|r| r.0.starts_with(&parent))
                        || (i > 0 && self.rows[i - 1].0.starts_with(&parent)));
                if has_object {
                    Value::NoSuchInstance
                } else {
                    Value::NoSuchObject
                }
            }
        };
        VarBind {
            name: name.clone(),
            value,
        }
    }

    /// GetNext (§7.2.3.2): the first instance in the range, else
    /// endOfMibView named by the range's start.
    pub fn next(&self, r: &SearchRange) -> VarBind {
        let i = self.rows.partition_point(|row| {
            if r.include {
                row.0 < r.start
            } else {
                row.0 <= r.start
            }
        });
        match self.rows.get(i) {
            Some((name, value)) if r.end.is_empty() || *name < r.end => VarBind {
                name: name.clone(),
                value: value.clone(),
            },
            _ => VarBind {
                name: r.start.clone(),
                value: Value::EndOfMibView,
            },
        }
    }

    /// GetBulk (§7.2.3.3): `non_repeaters` single steps, then up to
    /// `max_repetitions` rounds over the rest, stopping early when every
    /// repeater is at the end or the answer reaches [`MAX_BULK_VARBINDS`].
    pub fn bulk(
        &self,
        non_repeaters: u16,
        max_repetitions: u16,
        ranges: &[SearchRange],
    ) -> Vec<VarBind> {
        let n = (non_repeaters as usize).min(ranges.len());
        let mut out: Vec<VarBind> = ranges[..n].iter().map(|r| self.next(r)).collect();
        let mut cursors: Vec<SearchRange> = ranges[n..].to_vec();
        if cursors.is_empty() {
            return out;
        }
        for _ in 0..max_repetitions {
            let mut all_end = true;
            for c in cursors.iter_mut() {
                if out.len() >= MAX_BULK_VARBINDS {
                    return out;
                }
                let vb = self.next(c);
                if vb.value != Value::EndOfMibView {
                    all_end = false;
                    c.start = vb.name.clone();
                    c.include = false;
                }
                out.push(vb);
            }
            if all_end {
                break;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(s: &str) -> Oid {
        Oid::parse(s).unwrap()
    }

    fn table() -> MibTable {
        MibTable::new(vec![
            (oid("1.3.6.1.4.1.32473.1.2.0"), Value::Integer(2)),
            (oid("1.3.6.1.4.1.32473.1.1.0"), Value::Integer(1)),
            (oid("1.3.6.1.4.1.32473.1.3.1.2.1"), Value::Gauge32(5)),
            (oid("1.3.6.1.4.1.32473.1.3.1.2.2"), Value::Gauge32(6)),
        ])
    }

    fn range(start: &str, include: bool, end: &str) -> SearchRange {
        SearchRange {
            start: oid(start),
            include,
            end: if end.is_empty() {
                Oid::default()
            } else {
                oid(end)
            },
        }
    }

    #[test]
    fn get_distinguishes_missing_instance_from_missing_object() {
        let t = table();
        assert_eq!(
            t.get(&oid("1.3.6.1.4.1.32473.1.1.0")).value,
            Value::Integer(1)
        );
        assert_eq!(
            t.get(&oid("1.3.6.1.4.1.32473.1.1.1")).value,
            Value::NoSuchInstance
        );
        assert_eq!(
            t.get(&oid("1.3.6.1.4.1.32473.9.0")).value,
            Value::NoSuchObject
        );
        assert_eq!(t.get(&Oid::default()).value, Value::NoSuchObject);
    }

    #[test]
    fn next_honours_include_and_end() {
        let t = table();
        let vb = t.next(&range("1.3.6.1.4.1.32473.1.1.0", true, ""));
        assert_eq!(vb.name, oid("1.3.6.1.4.1.32473.1.1.0"));
        let vb = t.next(&range("1.3.6.1.4.1.32473.1.1.0", false, ""));
        assert_eq!(vb.name, oid("1.3.6.1.4.1.32473.1.2.0"));
        let vb = t.next(&range(
            "1.3.6.1.4.1.32473.1.1.0",
            false,
            "1.3.6.1.4.1.32473.1.2",
        ));
        assert_eq!(vb.value, Value::EndOfMibView);
        assert_eq!(vb.name, oid("1.3.6.1.4.1.32473.1.1.0"));
        let vb = t.next(&range("1.3.6.1.4.1.32473.1.3.1.2.2", false, ""));
        assert_eq!(vb.value, Value::EndOfMibView);
    }

    #[test]
    fn bulk_walks_and_stops_at_the_end() {
        let t = table();
        let vbs = t.bulk(0, 10, &[range("1.3.6.1.4.1.32473", false, "")]);
        assert_eq!(vbs.len(), 5);
        assert_eq!(vbs[3].value, Value::Gauge32(6));
        assert_eq!(vbs[4].value, Value::EndOfMibView);
        let vbs = t.bulk(
            1,
            2,
            &[
                range("1.3.6.1.4.1.32473.1.1.0", false, ""),
                range("1.3", false, ""),
            ],
        );
        assert_eq!(vbs.len(), 3);
        assert_eq!(vbs[0].value, Value::Integer(2));
        assert_eq!(vbs[1].value, Value::Integer(1));
        assert_eq!(vbs[2].value, Value::Integer(2));
        let huge = vec![range("1.3", false, ""); 3000];
        assert_eq!(t.bulk(0, 1000, &huge).len(), MAX_BULK_VARBINDS);
    }
}
