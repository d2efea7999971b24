//! Packet decoding: link → IP → TCP/UDP, as checked zero-copy views over the caller's bytes
//! (smoltcp `wire` where it has the protocol). A capture record and an NFQUEUE payload go
//! through the same functions; nothing here allocates.

pub mod dns;
pub mod http;
pub mod ip;
pub mod link;
pub mod tls;

use std::net::IpAddr;

/// Why a packet could not be decoded. Small and `Copy`: malformed input is ordinary traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    Truncated(&'static str),
    Malformed(&'static str),
    Unsupported(&'static str),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Truncated(what) => write!(f, "truncated {what}"),
            Error::Malformed(what) => write!(f, "malformed {what}"),
            Error::Unsupported(what) => write!(f, "unsupported {what}"),
        }
    }
}

impl std::error::Error for Error {}

/// A link-layer frame reduced to what leakguard needs: the sender's hardware address (when the
/// link has one), the receiver's (Ethernet and 802.11 only) and the network-layer bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    pub src_mac: Option<[u8; 6]>,
    /// The frame's destination on the link: what tells the router's MAC from a device's (every
    /// device sends its off-link traffic to the router; see [`crate::lan`]).
    pub dst_mac: Option<[u8; 6]>,
    /// The IPv4 or IPv6 packet, `None` for other network protocols (ARP, …).
    pub ip: Option<&'a [u8]>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// The TCP header fields the flow layer needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct TcpInfo {
    pub seq: u32,
    pub syn: bool,
    pub fin: bool,
    pub rst: bool,
    pub psh: bool,
    pub ack: bool,
}

/// A TCP or UDP segment with its addresses, borrowing its payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: Proto,
    pub sport: u16,
    pub dport: u16,
    /// Present for TCP.
    pub tcp: Option<TcpInfo>,
    pub payload: &'a [u8],
}

pub use ip::{decode_header, decode_ip, Header};
pub use link::decode_link;
