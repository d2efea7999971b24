//! Link layers: Ethernet (802.1Q/QinQ, PPPoE session, MPLS), raw IP (LINKTYPE 101/228/229 and
//! the BSD DLT 12/14), Linux cooked v1/v2 (113/276), BSD loopback (0, 108), PPP (9, 50) and
//! Cisco HDLC (104).

use super::{Error, Frame};

/// Strips the link layer of a frame captured with LINKTYPE `link`.
pub fn decode_link(link: u32, frame: &[u8]) -> Result<Frame<'_>, Error> {
    let _ = (link, frame);
    todo!("packet helper")
}
