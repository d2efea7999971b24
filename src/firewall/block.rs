//! Blocks in nftables: the set and element a [`BlockId`] is, and how `nft -j list` shows them.

use std::net::IpAddr;
use std::time::Duration;

use nftables::expr::{Elem, Expression, NamedExpression};

use super::rules::{concat, SET_D4, SET_D6, SET_DD4, SET_DD6, SET_FLOW4, SET_FLOW6};
pub use crate::block::BlockId;
use crate::config::Scope;

/// A block as it is in the kernel now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub id: BlockId,
    pub scope: Scope,
    pub src: Option<IpAddr>,
    pub dst: IpAddr,
    /// Time left; `None` for a block without timeout.
    pub expires_in: Option<Duration>,
}

impl BlockId {
    /// The set holding this block.
    pub fn set_name(&self) -> &'static str {
        let v4 = self.dst.is_ipv4();
        match (self.scope, v4) {
            (Scope::Flow, true) => SET_FLOW4,
            (Scope::Flow, false) => SET_FLOW6,
            (Scope::DeviceDestination, true) => SET_DD4,
            (Scope::DeviceDestination, false) => SET_DD6,
            (Scope::Destination, true) => SET_D4,
            (Scope::Destination, false) => SET_D6,
        }
    }

    /// The set element's key.
    pub fn key(&self) -> Expression<'static> {
        let addr = |ip: IpAddr| Expression::String(ip.to_string().into());
        let src = self.src.unwrap_or(self.dst);
        match self.scope {
            Scope::Flow => concat(vec![
                addr(src),
                Expression::Number(u32::from(self.proto)),
                addr(self.dst),
                Expression::Number(u32::from(self.sport)),
                Expression::Number(u32::from(self.dport)),
            ]),
            Scope::DeviceDestination => concat(vec![addr(src), addr(self.dst)]),
            Scope::Destination => addr(self.dst),
        }
    }

    /// The element with its timeout (none: the block stays until removed).
    pub fn element(&self, timeout_secs: Option<u32>) -> Expression<'static> {
        Expression::Named(NamedExpression::Elem(Elem {
            val: Box::new(self.key()),
            timeout: timeout_secs.filter(|t| *t > 0),
            expires: None,
            comment: None,
            counter: None,
        }))
    }

    /// Reads one element of set `set` as `nft -j list` prints it.
    pub fn from_element(set: &str, expr: &Expression) -> Option<Block> {
        let (val, expires) = match expr {
            Expression::Named(NamedExpression::Elem(elem)) => {
                (elem.val.as_ref(), elem.expires.or(elem.timeout))
            }
            other => (other, None),
        };
        let id = match set {
            SET_FLOW4 | SET_FLOW6 => {
                let [src, proto, dst, sport, dport] = concat_items(val)?;
                BlockId::new(
                    Scope::Flow,
                    addr(src)?,
                    addr(dst)?,
                    proto_number(proto)?,
                    port(sport)?,
                    port(dport)?,
                )
                .ok()?
            }
            SET_DD4 | SET_DD6 => {
                let [src, dst] = concat_items(val)?;
                BlockId::new(Scope::DeviceDestination, addr(src)?, addr(dst)?, 0, 0, 0).ok()?
            }
            SET_D4 | SET_D6 => {
                let dst = addr(val)?;
                BlockId::new(Scope::Destination, dst, dst, 0, 0, 0).ok()?
            }
            _ => return None,
        };
        Some(Block {
            id,
            scope: id.scope,
            src: id.src,
            dst: id.dst,
            expires_in: expires.map(|s| Duration::from_secs(u64::from(s))),
        })
    }
}

fn concat_items<'e, const N: usize>(val: &'e Expression) -> Option<[&'e Expression<'e>; N]> {
    match val {
        Expression::Named(NamedExpression::Concat(items)) => {
            let refs: Vec<&Expression> = items.iter().collect();
            refs.try_into().ok()
        }
        _ => None,
    }
}

fn addr(expr: &Expression) -> Option<IpAddr> {
    match expr {
        Expression::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn port(expr: &Expression) -> Option<u16> {
    match expr {
        Expression::Number(n) => u16::try_from(*n).ok(),
        Expression::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// nft prints well-known protocols by name.
fn proto_number(expr: &Expression) -> Option<u8> {
    match expr {
        Expression::Number(n) => u8::try_from(*n).ok(),
        Expression::String(s) => match s.as_ref() {
            "icmp" => Some(1),
            "igmp" => Some(2),
            "tcp" => Some(6),
            "udp" => Some(17),
            "gre" => Some(47),
            "esp" => Some(50),
            "ah" => Some(51),
            "ipv6-icmp" | "icmpv6" => Some(58),
            "sctp" => Some(132),
            "udplite" => Some(136),
            other => other.parse().ok(),
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("address")
    }

    #[test]
    fn ids_are_normalised_per_scope() {
        let d =
            BlockId::new(Scope::Destination, ip("10.0.0.2"), ip("1.2.3.4"), 6, 1, 2).expect("id");
        assert_eq!((d.src, d.proto, d.sport, d.dport), (None, 0, 0, 0));
        assert_eq!(d.set_name(), SET_D4);
        let dd = BlockId::new(
            Scope::DeviceDestination,
            ip("fd00::2"),
            ip("2001:db8::1"),
            6,
            1,
            2,
        )
        .expect("id");
        assert_eq!(dd.set_name(), SET_DD6);
        assert_eq!(dd.src, Some(ip("fd00::2")));
        assert!(BlockId::new(Scope::Flow, ip("10.0.0.2"), ip("2001:db8::1"), 6, 1, 2).is_err());
        // A destination block ignores the source, so mixed families are fine there.
        assert!(BlockId::new(
            Scope::Destination,
            ip("10.0.0.2"),
            ip("2001:db8::1"),
            6,
            1,
            2
        )
        .is_ok());
    }

    #[test]
    fn element_json() {
        let id =
            BlockId::new(Scope::Flow, ip("10.0.0.2"), ip("1.2.3.4"), 6, 40000, 80).expect("id");
        let json = serde_json::to_value(id.element(Some(60))).expect("json");
        assert_eq!(
            json["elem"]["val"],
            serde_json::json!({"concat": ["10.0.0.2", 6, "1.2.3.4", 40000, 80]})
        );
        assert_eq!(json["elem"]["timeout"], 60);
    }

    #[test]
    fn reads_listed_elements() {
        let text = r#"{"elem": {"val": {"concat": ["10.0.0.1", "tcp", "1.2.3.4", 1000, 80]},
                       "timeout": 60, "expires": 59}}"#;
        let expr: Expression = serde_json::from_str(text).expect("parses");
        let block = BlockId::from_element(SET_FLOW4, &expr).expect("block");
        assert_eq!(block.id.proto, 6);
        assert_eq!(block.id.sport, 1000);
        assert_eq!(block.expires_in, Some(Duration::from_secs(59)));
        let expr = Expression::String("2001:db8::1".into());
        let block = BlockId::from_element(SET_D6, &expr).expect("block");
        assert_eq!(block.dst, ip("2001:db8::1"));
        assert_eq!(block.expires_in, None);
        assert!(BlockId::from_element(SET_DD4, &expr).is_none());
        assert!(BlockId::from_element("other", &expr).is_none());
    }
}
