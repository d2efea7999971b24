//! Flows: a bounded table of the LAN→outside flows being inspected, TCP stream order, and each
//! flow's inspection budget.
//!
//! The detector sees a flow as a series of *windows*: the last [`CARRY`] bytes already scanned
//! followed by the new in-order bytes, so an identifier split across two segments is whole in
//! the second window. Retransmitted bytes are trimmed before they are scanned; segments that
//! arrive ahead of a gap wait in a bounded pool shared by all flows until the gap fills, or
//! until the flow gives the gap up and skips forward (the policy is in [`table`]).
//!
//! Files: [`table`] (the bounded table, LRU eviction, budget, reorder policy), [`stream`] (one
//! flow's sequence state), `carry` (the carries, in a slab shared by the flows that need one),
//! `index` (key → slot hash index), `pool` (held segments).

mod carry;
mod index;
mod pool;
pub mod stream;
pub mod table;

use std::net::IpAddr;

use crate::finding::KindSet;
use crate::packet::Proto;

/// Bytes of already-scanned stream kept per TCP flow being inspected and put in front of its
/// next window.
/// Long enough for a key, separators and the longest textual form of an identifier (a SHA-256
/// in hex is 64 characters; `"imei":"…"` base64-encoded is ~36).
pub const CARRY: usize = 96;

/// A flow in the inspected direction: the LAN side is the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlowKey {
    pub proto: Proto,
    pub src: IpAddr,
    pub sport: u16,
    pub dst: IpAddr,
    pub dport: u16,
}

/// What the pipeline keeps about a flow besides its stream state (27 bytes, alignment 1, so
/// the slot packs it with no padding).
#[derive(Clone, Debug, Default)]
pub struct FlowFacts {
    /// The sender's hardware address, when the source had one.
    pub src_mac: Option<[u8; 6]>,
    /// A leak was found in this flow.
    pub leaked: bool,
    /// The request's headers declared a gzip/deflate body that has not been scanned yet (it
    /// starts in a later window).
    pub compressed_body: bool,
    /// The name the flow gave its destination itself (HTTP Host, TLS SNI), as a tag:
    /// `[[allow]]` host rules are judged on that name, and findings show it, not whatever name
    /// another flow gave the same address.
    pub name: NameTag,
    /// With `name`: the kinds that host rules allow for that name.
    pub host_allowed: KindSet,
    /// Hashes of the (kind, value) pairs already reported for this flow, so retransmissions
    /// and repeats do not multiply findings. Bounded: when full, the oldest is forgotten.
    pub reported: Reported,
}

/// A 16-bit hash of a destination name (ASCII case and a trailing dot ignored), never 0; the
/// default, [`NameTag::NONE`], is "the flow named nothing". Two bytes where a name would take up
/// to 253: the name itself stays in the [`crate::names::NameCache`], and the tag tells whether
/// the cache still holds this flow's name for the address.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NameTag([u8; 2]);

impl NameTag {
    pub const NONE: NameTag = NameTag([0, 0]);

    pub fn of(name: &str) -> NameTag {
        let name = name.strip_suffix('.').unwrap_or(name);
        // FNV-1a folded to 16 bits.
        let mut h: u32 = 0x811c_9dc5;
        for b in name.bytes() {
            h ^= u32::from(b.to_ascii_lowercase());
            h = h.wrapping_mul(0x0100_0193);
        }
        let folded = ((h >> 16) ^ h) as u16;
        NameTag(folded.max(1).to_ne_bytes())
    }

    pub fn is_named(&self) -> bool {
        *self != NameTag::NONE
    }
}

/// The last [`Reported::CAPACITY`] tags reported for a flow: a ring that overwrites the oldest.
///
/// Eight: one window can report every identifier of a request plus the same values found again
/// in a decoded layer, and the carry shows them all again in front of the next window (the
/// Nokia request alone carries six). Stored as bytes so the type has alignment 1 and packs
/// with the other facts (34 bytes instead of 48 for a `heapless::Deque<u32, 8>`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reported {
    tags: [[u8; 4]; Reported::CAPACITY],
    len: u8,
    /// Where the next tag goes (the oldest, once full).
    cursor: u8,
}

impl Reported {
    pub const CAPACITY: usize = 8;

    /// Whether `tag` is one of those remembered.
    pub fn contains(&self, tag: u32) -> bool {
        let tag = tag.to_ne_bytes();
        self.tags
            .iter()
            .take(usize::from(self.len))
            .any(|t| *t == tag)
    }

    /// Remembers `tag`, forgetting the oldest when full.
    pub fn insert(&mut self, tag: u32) {
        if let Some(t) = self.tags.get_mut(usize::from(self.cursor)) {
            *t = tag.to_ne_bytes();
        }
        self.cursor = (self.cursor + 1) % Reported::CAPACITY as u8;
        self.len = (self.len + 1).min(Reported::CAPACITY as u8);
    }

    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// What feeding a segment did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Feed {
    /// New in-order bytes scanned by this call (within the budget).
    pub scanned: u32,
    /// The flow's budget is spent: nothing more of it will be inspected.
    pub budget_spent: bool,
    /// The segment was ahead of a gap and is held in the reorder pool.
    pub held: bool,
    /// The segment carried only bytes already seen (a retransmission).
    pub duplicate: bool,
    /// This segment created the flow's entry.
    pub new_flow: bool,
    /// A leak was found in this flow (by this segment or before).
    pub leaked: bool,
}

pub use table::FlowTable;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reported_forgets_the_oldest() {
        const N: u32 = Reported::CAPACITY as u32;
        let mut r = Reported::default();
        assert!(r.is_empty() && !r.contains(0));
        for tag in 1..=N {
            r.insert(tag);
            assert_eq!(r.len(), tag as usize);
        }
        assert!((1..=N).all(|t| r.contains(t)) && !r.contains(N + 1) && !r.contains(0));
        r.insert(N + 1);
        assert_eq!(r.len(), N as usize);
        assert!(!r.contains(1) && (2..=N + 1).all(|t| r.contains(t)));
        r.insert(N + 2);
        assert!(!r.contains(2) && (3..=N + 2).all(|t| r.contains(t)));
    }

    #[test]
    fn name_tags() {
        assert!(!NameTag::default().is_named());
        assert!(NameTag::of("").is_named());
        assert_eq!(
            NameTag::of("Api.Example.COM."),
            NameTag::of("api.example.com")
        );
        assert_ne!(
            NameTag::of("api.example.com"),
            NameTag::of("cdn.example.com")
        );
    }

    #[test]
    fn facts_are_small() {
        assert_eq!(std::mem::size_of::<Reported>(), 4 * Reported::CAPACITY + 2);
        assert_eq!(std::mem::align_of::<FlowFacts>(), 1);
        assert!(std::mem::size_of::<FlowFacts>() <= 46);
    }
}
