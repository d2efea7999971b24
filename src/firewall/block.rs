//! Blocks in nftables: the set and element a [`BlockId`] is, and how `nft -j list` shows them.

use std::net::IpAddr;
use std::time::Duration;

use nftables::expr::{Elem, Expression, NamedExpression};
use serde_json::Value;

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

    /// Reads one element of set `set` as `nft -j list` prints it: the key alone, or
    /// `{"elem": {"val": key, "timeout": .., "expires": ..}}`.
    ///
    /// Read from plain JSON rather than the nftables crate's schema: deserialising that schema
    /// (every nft object and expression) was 280 KB of a 2.4 MB MIPS binary, for this one read.
    pub fn from_element(set: &str, elem: &Value) -> Option<Block> {
        let (val, expires) = match elem.get("elem") {
            Some(inner) => (
                inner.get("val")?,
                seconds(inner.get("expires")).or(seconds(inner.get("timeout"))),
            ),
            None => (elem, None),
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
            expires_in: expires.map(Duration::from_secs),
        })
    }
}

/// A timeout or expiry in whole seconds, as nft prints them (a number).
fn seconds(v: Option<&Value>) -> Option<u64> {
    v?.as_u64()
}

fn concat_items<const N: usize>(val: &Value) -> Option<[&Value; N]> {
    let items = val.get("concat")?.as_array()?;
    let refs: Vec<&Value> = items.iter().collect();
    refs.try_into().ok()
}

fn addr(v: &Value) -> Option<IpAddr> {
    v.as_str()?.parse().ok()
}

fn port(v: &Value) -> Option<u16> {
    match v {
        Value::Number(n) => u16::try_from(n.as_u64()?).ok(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// nft prints well-known protocols by name.
fn proto_number(v: &Value) -> Option<u8> {
    match v {
        Value::Number(n) => u8::try_from(n.as_u64()?).ok(),
        Value::String(s) => match s.as_str() {
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
        let elem: Value = serde_json::from_str(text).expect("parses");
        let block = BlockId::from_element(SET_FLOW4, &elem).expect("block");
        assert_eq!(block.id.proto, 6);
        assert_eq!(block.id.sport, 1000);
        assert_eq!(block.expires_in, Some(Duration::from_secs(59)));
        // Without `expires`, the timeout is what is left.
        let text = r#"{"elem": {"val": {"concat": ["10.0.0.1", "10.0.0.9"]}, "timeout": 30}}"#;
        let elem: Value = serde_json::from_str(text).expect("parses");
        let block = BlockId::from_element(SET_DD4, &elem).expect("block");
        assert_eq!(block.src, Some(ip("10.0.0.1")));
        assert_eq!(block.expires_in, Some(Duration::from_secs(30)));
        let elem = serde_json::json!("2001:db8::1");
        let block = BlockId::from_element(SET_D6, &elem).expect("block");
        assert_eq!(block.dst, ip("2001:db8::1"));
        assert_eq!(block.expires_in, None);
        assert!(BlockId::from_element(SET_DD4, &elem).is_none());
        assert!(BlockId::from_element("other", &elem).is_none());
        // What the daemon writes, it reads back.
        let id =
            BlockId::new(Scope::Flow, ip("10.0.0.2"), ip("1.2.3.4"), 17, 5353, 53).expect("id");
        let written = serde_json::to_value(id.element(Some(60))).expect("json");
        let block = BlockId::from_element(SET_FLOW4, &written).expect("block");
        assert_eq!(block.id, id);
        assert_eq!(block.expires_in, Some(Duration::from_secs(60)));
    }
}
