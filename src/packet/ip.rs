//! IPv4 (with options) and IPv6 (with extension headers) down to TCP or UDP.

use super::{Error, Segment};

/// Decodes an IP packet down to its TCP or UDP segment. `Ok(None)` for other protocols and for
/// IP fragments other than the first (their bytes have no transport header).
pub fn decode_ip(ip: &[u8]) -> Result<Option<Segment<'_>>, Error> {
    let _ = ip;
    todo!("packet helper")
}
