//! DNS messages: the name a query asks for, and the addresses an answer gives for a name.

use std::net::IpAddr;

use super::Error;

/// Writes the first question's name of a DNS query (not a response) as dotted text into `out`.
pub fn query_name(msg: &[u8], out: &mut heapless::String<256>) -> Result<(), Error> {
    let _ = (msg, out);
    todo!("packet helper")
}

/// Calls `each(name, addr)` for every A/AAAA record of a DNS response, following compression
/// pointers (bounded). `name` is the question's name (the one the device asked for).
pub fn answers(msg: &[u8], each: &mut dyn FnMut(&str, IpAddr)) -> Result<(), Error> {
    let _ = (msg, each);
    todo!("packet helper")
}
