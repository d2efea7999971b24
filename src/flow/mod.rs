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
//! flow's sequence state and carry), `index` (key → slot hash index), `pool` (held segments).

mod index;
mod pool;
pub mod stream;
pub mod table;

use std::net::IpAddr;

use crate::packet::Proto;

/// Bytes of already-scanned stream kept per TCP flow and put in front of the next window.
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

/// What the pipeline keeps about a flow besides its stream state.
#[derive(Clone, Debug, Default)]
pub struct FlowFacts {
    /// The sender's hardware address, when the source had one.
    pub src_mac: Option<[u8; 6]>,
    /// A leak was found in this flow.
    pub leaked: bool,
    /// The request's headers declared a gzip/deflate body that has not been scanned yet (it
    /// starts in a later window).
    pub compressed_body: bool,
    /// Hashes of the (kind, value) pairs already reported for this flow, so retransmissions
    /// and repeats do not multiply findings. Bounded: when full, the oldest is forgotten.
    pub reported: heapless::Deque<u32, 8>,
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
}

pub use table::FlowTable;
