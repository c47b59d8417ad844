//! Object identifiers. `Vec<u32>` ordering is SNMP's lexicographic order, so
//! a sorted table of OIDs is walked with plain comparisons.

use std::fmt;

/// An object identifier; at most [`MAX_SUBIDS`] sub-identifiers on the wire.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Oid(pub Vec<u32>);

/// SNMP's limit on sub-identifiers (RFC 3416 §4.1; AgentX's count is a u8).
pub const MAX_SUBIDS: usize = 128;

impl Oid {
    pub fn new(ids: &[u32]) -> Self {
        Oid(ids.to_vec())
    }

    /// This OID followed by `more`.
    pub fn child(&self, more: &[u32]) -> Self {
        let mut v = self.0.clone();
        v.extend_from_slice(more);
        Oid(v)
    }

    pub fn starts_with(&self, prefix: &Oid) -> bool {
        self.0.starts_with(&prefix.0)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Parse the dotted form (`1.3.6.1.2.1`, a leading dot allowed).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.strip_prefix('.').unwrap_or(s);
        if s.is_empty() {
            return Some(Oid::default());
        }
        let ids = s
            .split('.')
            .map(|p| p.parse::<u32>().ok())
            .collect::<Option<Vec<_>>>()?;
        (ids.len() <= MAX_SUBIDS).then_some(Oid(ids))
    }
}

impl fmt::Display for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, id) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{id}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Oid({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_lexicographic_and_text_round_trips() {
        let a = Oid::parse("1.3.6.1.2").unwrap();
        let b = Oid::parse(".1.3.6.1.2.1").unwrap();
        let c = Oid::parse("1.3.6.1.3").unwrap();
        assert!(a < b && b < c);
        assert!(b.starts_with(&a) && !c.starts_with(&a));
        assert_eq!(b.to_string(), "1.3.6.1.2.1");
        assert_eq!(Oid::parse("1.x"), None);
        assert_eq!(Oid::parse(&vec!["1"; 129].join(".")), None);
    }
}
