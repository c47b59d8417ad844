//! Allow/deny lists by CIDR prefix, IPv4 and IPv6. IPv4-mapped IPv6 source
//! addresses (from dual-stack sockets) are matched as IPv4.

use std::net::IpAddr;

/// CIDR prefixes are the config's type: one parser, one set of checks
/// (host bits, prefix length) for the file and the server.
pub use crate::cidr::Cidr;

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
