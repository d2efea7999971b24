//! DNS messages: the name a query asks for, and the addresses an answer gives for a name.
//!
//! Only what leakguard needs to name destinations: the first question, and A/AAAA answers
//! attributed to that question (not to a CNAME target: the device asked for the question
//! name, and that is the name a finding should show). Messages are UDP payloads; DNS over TCP
//! has a 2-byte length in front, which the caller removes. Compression pointers are followed
//! at most [`MAX_JUMPS`] times and only backwards, so no message can loop.

#![forbid(unsafe_code)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::Error;

/// Byte offsets of the fields read (RFC 1035 4.1), in one place as smoltcp's `wire` keeps them.
mod field {
    /// Header: flags (QR is the top bit), question and answer counts; its length.
    pub const FLAGS: usize = 2;
    pub const QDCOUNT: usize = 4;
    pub const ANCOUNT: usize = 6;
    pub const HEADER: usize = 12;
    /// After a question's name: type and class.
    pub const QUESTION_TAIL: usize = 4;
    /// After a resource record's name: type, class, TTL, data length, data.
    pub const RR_TYPE: usize = 0;
    pub const RR_CLASS: usize = 2;
    pub const RR_RDLENGTH: usize = 8;
    pub const RR_RDATA: usize = 10;
}
use field::HEADER;
/// Most compression pointers followed while reading one name.
const MAX_JUMPS: usize = 16;
/// Most answer records looked at (a UDP message holds far fewer A/AAAA records).
const MAX_ANSWERS: usize = 256;

const TYPE_A: u16 = 1;
const TYPE_AAAA: u16 = 28;
const CLASS_IN: u16 = 1;

fn be16(msg: &[u8], at: usize) -> Result<u16, Error> {
    match (msg.get(at), msg.get(at + 1)) {
        (Some(&a), Some(&b)) => Ok(u16::from_be_bytes([a, b])),
        _ => Err(Error::Truncated("dns message")),
    }
}

/// The fixed header fields used here.
struct Header {
    response: bool,
    questions: u16,
    answers: u16,
}

fn header(msg: &[u8]) -> Result<Header, Error> {
    if msg.len() < HEADER {
        return Err(Error::Truncated("dns header"));
    }
    Ok(Header {
        response: be16(msg, field::FLAGS)? & 0x8000 != 0,
        questions: be16(msg, field::QDCOUNT)?,
        answers: be16(msg, field::ANCOUNT)?,
    })
}

/// Reads the name at `at` into `out` (if given) as dotted text; returns the offset just past
/// the name where it is stored (after its first pointer, if any).
fn read_name(
    msg: &[u8],
    mut at: usize,
    mut out: Option<&mut heapless::String<256>>,
) -> Result<usize, Error> {
    let mut after = None;
    let mut jumps = 0;
    loop {
        let len = *msg.get(at).ok_or(Error::Truncated("dns name"))?;
        match len >> 6 {
            0 if len == 0 => return Ok(after.unwrap_or(at + 1)),
            0 => {
                let label = msg
                    .get(at + 1..at + 1 + usize::from(len))
                    .ok_or(Error::Truncated("dns name"))?;
                if let Some(out) = out.as_deref_mut() {
                    let too_long = Error::Malformed("dns name length");
                    if !out.is_empty() {
                        out.push('.').map_err(|_| too_long)?;
                    }
                    for &b in label {
                        let c = if b.is_ascii_graphic() { b as char } else { '?' };
                        out.push(c).map_err(|_| too_long)?;
                    }
                }
                at += 1 + usize::from(len);
            }
            3 => {
                let target = usize::from(be16(msg, at)? & 0x3fff);
                jumps += 1;
                // Only backwards, and only so often: no loops, bounded work.
                if jumps > MAX_JUMPS || target >= at {
                    return Err(Error::Malformed("dns compression pointer"));
                }
                after.get_or_insert(at + 2);
                at = target;
            }
            _ => return Err(Error::Malformed("dns label type")),
        }
    }
}

/// Writes the first question's name of a DNS query (not a response) as dotted text into `out`.
/// Bytes that are not printable ASCII become `?`; the root name is the empty string.
pub fn query_name(msg: &[u8], out: &mut heapless::String<256>) -> Result<(), Error> {
    out.clear();
    let h = header(msg)?;
    if h.response {
        return Err(Error::Unsupported("dns response"));
    }
    if h.questions == 0 {
        return Err(Error::Malformed("dns question count"));
    }
    read_name(msg, HEADER, Some(out)).map(|_| ())
}

/// Calls `each(name, addr)` for every A/AAAA record of a DNS response, following compression
/// pointers (bounded). `name` is the question's name (the one the device asked for); in a
/// response without a question (mDNS) it is the record's own name.
pub fn answers(msg: &[u8], each: &mut dyn FnMut(&str, IpAddr)) -> Result<(), Error> {
    let h = header(msg)?;
    if !h.response {
        return Err(Error::Unsupported("dns query"));
    }
    let mut question = heapless::String::<256>::new();
    let mut at = HEADER;
    for i in 0..h.questions {
        at = read_name(msg, at, (i == 0).then_some(&mut question))?;
        at += field::QUESTION_TAIL;
    }
    let mut owner = heapless::String::<256>::new();
    for _ in 0..usize::from(h.answers).min(MAX_ANSWERS) {
        owner.clear();
        let named = if h.questions == 0 {
            Some(&mut owner)
        } else {
            None
        };
        at = read_name(msg, at, named)?;
        let kind = be16(msg, at + field::RR_TYPE)?;
        // mDNS uses the class's top bit as cache-flush.
        let class = be16(msg, at + field::RR_CLASS)? & 0x7fff;
        let rdlen = usize::from(be16(msg, at + field::RR_RDLENGTH)?);
        let rdata_at = at + field::RR_RDATA;
        let rdata = msg
            .get(rdata_at..rdata_at + rdlen)
            .ok_or(Error::Truncated("dns answer"))?;
        at = rdata_at + rdlen;
        let addr = match (kind, class, rdata.len()) {
            (TYPE_A, CLASS_IN, 4) => {
                let b: [u8; 4] = rdata.try_into().map_err(|_| Error::Malformed("dns a"))?;
                IpAddr::V4(Ipv4Addr::from(b))
            }
            (TYPE_AAAA, CLASS_IN, 16) => {
                let b: [u8; 16] = rdata.try_into().map_err(|_| Error::Malformed("dns aaaa"))?;
                IpAddr::V6(Ipv6Addr::from(b))
            }
            _ => continue,
        };
        let name = if h.questions == 0 {
            owner.as_str()
        } else {
            question.as_str()
        };
        each(name, addr);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A query for zzhc.vnet.cn, type A.
    fn query() -> Vec<u8> {
        let mut m = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        m.extend_from_slice(b"\x04zzhc\x04vnet\x02cn\x00\x00\x01\x00\x01");
        m
    }

    /// The response: a CNAME to cdn.example (pointer into the question), then A and AAAA
    /// records of the CNAME target.
    fn response() -> Vec<u8> {
        let mut m = query();
        m[2] = 0x81;
        m[3] = 0x80;
        m[7] = 4; // answer count
        let rr = |m: &mut Vec<u8>, name: [u8; 2], kind: u8, rdata: &[u8]| {
            m.extend_from_slice(&name);
            m.extend_from_slice(&[0, kind, 0, 1, 0, 0, 0, 60, 0, rdata.len() as u8]);
            m.extend_from_slice(rdata);
        };
        // CNAME zzhc.vnet.cn (pointer to the question) -> cdn.example
        let target = m.len() + 12;
        rr(&mut m, [0xc0, 12], 5, b"\x03cdn\x07example\x00");
        let cdn = [0xc0, target as u8];
        rr(&mut m, cdn, 1, &[1, 2, 3, 4]);
        rr(&mut m, cdn, 16, &[1, b'x']); // TXT: ignored
        let v6: [u8; 16] = "2001:db8::9".parse::<Ipv6Addr>().unwrap().octets();
        rr(&mut m, cdn, 28, &v6);
        m
    }

    fn collect(msg: &[u8]) -> (Result<(), Error>, Vec<(String, IpAddr)>) {
        let mut v = Vec::new();
        let r = answers(msg, &mut |n, a| v.push((n.to_string(), a)));
        (r, v)
    }

    #[test]
    fn query_name_of_a_query() {
        let mut out = heapless::String::new();
        query_name(&query(), &mut out).unwrap();
        assert_eq!(out.as_str(), "zzhc.vnet.cn");
        assert_eq!(
            query_name(&response(), &mut out),
            Err(Error::Unsupported("dns response"))
        );
        let mut odd = query();
        odd[13] = 0x01;
        odd[14] = b' ';
        query_name(&odd, &mut out).unwrap();
        assert_eq!(out.as_str(), "??hc.vnet.cn");
        assert_eq!(
            query_name(&query()[..20], &mut out),
            Err(Error::Truncated("dns name"))
        );
    }

    #[test]
    fn answers_use_the_question_name() {
        let (r, v) = collect(&response());
        r.unwrap();
        assert_eq!(
            v,
            vec![
                ("zzhc.vnet.cn".to_string(), "1.2.3.4".parse().unwrap()),
                ("zzhc.vnet.cn".to_string(), "2001:db8::9".parse().unwrap()),
            ]
        );
        // Truncated after the first address: it is still reported.
        let full = response();
        let (r, v) = collect(&full[..full.len() - 5]);
        assert_eq!(r, Err(Error::Truncated("dns answer")));
        assert_eq!(v.len(), 1);
        assert_eq!(collect(&query()).0, Err(Error::Unsupported("dns query")));
    }

    #[test]
    fn mdns_answers_without_question() {
        let mut m = vec![0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0];
        m.extend_from_slice(b"\x05phone\x05local\x00");
        m.extend_from_slice(&[0, 1, 0x80, 1, 0, 0, 0, 120, 0, 4, 192, 168, 1, 7]);
        let (r, v) = collect(&m);
        r.unwrap();
        assert_eq!(
            v,
            vec![("phone.local".into(), "192.168.1.7".parse().unwrap())]
        );
    }

    #[test]
    fn pointer_loops_and_forward_pointers_are_rejected() {
        let mut m = query();
        m.truncate(12);
        m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
        let mut out = heapless::String::new();
        assert_eq!(
            query_name(&m, &mut out),
            Err(Error::Malformed("dns compression pointer"))
        );
        m[13] = 14;
        assert_eq!(
            query_name(&m, &mut out),
            Err(Error::Malformed("dns compression pointer"))
        );
        m[12] = 0x80;
        assert_eq!(
            query_name(&m, &mut out),
            Err(Error::Malformed("dns label type"))
        );
    }

    #[test]
    fn long_names_do_not_overflow() {
        let mut m = query();
        m.truncate(12);
        for _ in 0..5 {
            m.push(63);
            m.extend_from_slice(&[b'a'; 63]);
        }
        m.push(0);
        let mut out = heapless::String::new();
        assert_eq!(
            query_name(&m, &mut out),
            Err(Error::Malformed("dns name length"))
        );
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut out = heapless::String::new();
            let _ = query_name(&bytes, &mut out);
            let _ = answers(&bytes, &mut |_, _| {});
        }

        #[test]
        fn never_panics_on_mutated_response(at in 0usize..200, val in any::<u8>(), cut in 0usize..200) {
            let mut m = response();
            let n = m.len();
            m[at % n] = val;
            m.truncate(cut.max(12).min(n));
            let _ = answers(&m, &mut |_, _| {});
            m[2] &= 0x7f;
            let mut out = heapless::String::new();
            let _ = query_name(&m, &mut out);
        }
    }
}
