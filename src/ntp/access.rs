//! Allow/deny lists by CIDR prefix, IPv4 and IPv6. IPv4-mapped IPv6 source
//! addresses (from dual-stack sockets) are matched as IPv4.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::net::IpAddr;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

/// Map `::ffff:a.b.c.d` to `a.b.c.d`; everything else unchanged.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => ip,
        },
        v4 => v4,
    }
}

impl Cidr {
    pub fn new(addr: IpAddr, prefix: u8) -> Option<Cidr> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some(Cidr {
            addr: canonical(addr),
            prefix,
        })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Cidr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a
            .trim()
            .parse()
            .map_err(|_| format!("bad address in {s:?}"))?;
        let prefix = match p {
            Some(p) => p
                .trim()
                .parse()
                .map_err(|_| format!("bad prefix in {s:?}"))?,
            None if addr.is_ipv4() => 32,
            None => 128,
        };
        Cidr::new(addr, prefix).ok_or_else(|| format!("prefix too long in {s:?}"))
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl Serialize for Cidr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// What the access check decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Allowed,
    Denied,
}

/// Deny wins over allow; an empty allow list allows everyone not denied.
#[derive(Debug, Clone, Default)]
pub struct AccessList {
    pub allow: Vec<Cidr>,
    pub deny: Vec<Cidr>,
}

impl AccessList {
    pub fn check(&self, ip: IpAddr) -> Access {
        if self.deny.iter().any(|c| c.contains(ip)) {
            return Access::Denied;
        }
        if self.allow.is_empty() || self.allow.iter().any(|c| c.contains(ip)) {
            Access::Allowed
        } else {
            Access::Denied
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn v4_and_v6_prefixes() {
        let c: Cidr = "10.1.0.0/16".parse().unwrap();
        assert!(c.contains(ip("10.1.2.3")));
        assert!(!c.contains(ip("10.2.0.1")));
        assert!(c.contains(ip("::ffff:10.1.9.9")));
        assert!(!c.contains(ip("2001:db8::1")));
        let c6: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(c6.contains(ip("2001:db8:ffff::1")));
        assert!(!c6.contains(ip("2001:db9::1")));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("1.2.3.4")));
        let host: Cidr = "192.0.2.7".parse().unwrap();
        assert!(host.contains(ip("192.0.2.7")) && !host.contains(ip("192.0.2.8")));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("nonsense/8".parse::<Cidr>().is_err());
    }

    #[test]
    fn deny_wins_and_allow_restricts() {
        let list = AccessList {
            allow: vec![
                "192.168.0.0/16".parse().unwrap(),
                "::1/128".parse().unwrap(),
            ],
            deny: vec!["192.168.66.0/24".parse().unwrap()],
        };
        assert_eq!(list.check(ip("192.168.1.1")), Access::Allowed);
        assert_eq!(list.check(ip("192.168.66.1")), Access::Denied);
        assert_eq!(list.check(ip("8.8.8.8")), Access::Denied);
        assert_eq!(list.check(ip("::1")), Access::Allowed);
        assert_eq!(AccessList::default().check(ip("8.8.8.8")), Access::Allowed);
    }
}
