//! IPv4 (with options) and IPv6 (with extension headers) down to TCP or UDP.
//!
//! smoltcp's checked views do the header work. Two things differ from a network stack's needs,
//! because these bytes come from captures and from NFQUEUE rather than from a wire we answer:
//!
//! * A length field larger than the captured bytes is normal (snap length, NFQUEUE copy
//!   range), so the packet is decoded from what was captured instead of being rejected. In that
//!   case the view is built unchecked, after this module has checked every byte the header
//!   accessors read. A zero total length (TCP segmentation offload) means "all of it".
//! * Checksums are never verified: captured outgoing packets carry offloaded (unfilled) ones.

#![forbid(unsafe_code)]

use std::net::IpAddr;

use smoltcp::wire::{IpProtocol, Ipv4Packet, Ipv6Packet, TcpPacket, UdpPacket};

use super::{Error, Proto, Segment, TcpInfo};

/// At most this many IPv6 extension headers are walked before giving up.
const MAX_EXTENSION_HEADERS: usize = 8;

const IPV4_HEADER: usize = 20;
const IPV6_HEADER: usize = 40;
const UDP_HEADER: usize = 8;

/// IPv6 next-header values walked or recognised here. Anything else ends the walk: it is the
/// upper layer (TCP, UDP, ICMPv6), hides it (ESP) or has none (no-next).
mod next {
    pub const HOP_BY_HOP: u8 = 0;
    pub const ROUTING: u8 = 43;
    pub const FRAGMENT: u8 = 44;
    pub const AH: u8 = 51;
    pub const DEST_OPTS: u8 = 60;
    pub const MOBILITY: u8 = 135;
    pub const ICMPV6: u8 = 58;
}
pub use next::ICMPV6;

/// An IP packet's addresses and what it carries after its headers (IPv6 extension headers
/// walked): the protocol number and its bytes. What [`decode_ip`] reduces to TCP or UDP, and
/// what [`crate::lan`] reads ICMPv6 from (router solicitations and advertisements).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: u8,
    pub payload: &'a [u8],
}

impl<'a> Header<'a> {
    /// The TCP or UDP segment the packet carries; `Ok(None)` for other protocols.
    pub fn segment(&self) -> Result<Option<Segment<'a>>, Error> {
        transport(self.src, self.dst, self.proto, self.payload)
    }
}

/// Decodes an IP packet down to its TCP or UDP segment. `Ok(None)` for other protocols and for
/// IP fragments other than the first (their bytes have no transport header).
pub fn decode_ip(ip: &[u8]) -> Result<Option<Segment<'_>>, Error> {
    match decode_header(ip)? {
        Some(header) => header.segment(),
        None => Ok(None),
    }
}

/// Decodes an IP packet's headers. `Ok(None)` for IP fragments other than the first.
pub fn decode_header(ip: &[u8]) -> Result<Option<Header<'_>>, Error> {
    match ip.first().map(|v| v >> 4) {
        None => Err(Error::Truncated("ip header")),
        Some(4) => ipv4(ip),
        Some(6) => ipv6(ip),
        Some(_) => Err(Error::Malformed("ip version")),
    }
}

fn ipv4(ip: &[u8]) -> Result<Option<Header<'_>>, Error> {
    if ip.len() < IPV4_HEADER {
        return Err(Error::Truncated("ipv4 header"));
    }
    let header = Ipv4Packet::new_unchecked(ip);
    let header_len = usize::from(header.header_len());
    if header_len < IPV4_HEADER {
        return Err(Error::Malformed("ipv4 header length"));
    }
    if ip.len() < header_len {
        return Err(Error::Truncated("ipv4 header"));
    }
    let (total, packet) = match usize::from(header.total_len()) {
        0 => (ip.len(), header),
        t if t < header_len => return Err(Error::Malformed("ipv4 total length")),
        // Within the capture: the checked view, trimmed of Ethernet padding. Beyond it: decode
        // the captured part (every field read below lies in the header checked above).
        t => match ip.get(..t) {
            Some(whole) => (
                t,
                Ipv4Packet::new_checked(whole).map_err(|_| Error::Malformed("ipv4"))?,
            ),
            None => (t, header),
        },
    };
    if packet.frag_offset() != 0 {
        return Ok(None);
    }
    let end = total.min(ip.len());
    let payload = ip.get(header_len..end).unwrap_or(&[]);
    Ok(Some(Header {
        src: IpAddr::V4(packet.src_addr()),
        dst: IpAddr::V4(packet.dst_addr()),
        proto: u8::from(packet.next_header()),
        payload,
    }))
}

fn ipv6(ip: &[u8]) -> Result<Option<Header<'_>>, Error> {
    if ip.len() < IPV6_HEADER {
        return Err(Error::Truncated("ipv6 header"));
    }
    let header = Ipv6Packet::new_unchecked(ip);
    let total = match usize::from(header.payload_len()) {
        // Jumbogram or offloaded segment: the length is elsewhere or unset.
        0 => ip.len(),
        n => IPV6_HEADER + n,
    };
    let packet = match ip.get(..total) {
        Some(whole) => Ipv6Packet::new_checked(whole).map_err(|_| Error::Malformed("ipv6"))?,
        None => header,
    };
    let end = total.min(ip.len());
    let src = IpAddr::V6(packet.src_addr());
    let dst = IpAddr::V6(packet.dst_addr());
    let mut proto = u8::from(packet.next_header());
    let mut at = IPV6_HEADER;
    for _ in 0..MAX_EXTENSION_HEADERS {
        let ext = |n: usize| extension(ip, at, end, n);
        match proto {
            next::HOP_BY_HOP | next::ROUTING | next::DEST_OPTS | next::MOBILITY => {
                let &[nh, hlen, ..] = ext(2)? else {
                    return Err(Error::Truncated("ipv6 extension header"));
                };
                let len = (usize::from(hlen) + 1) * 8;
                ext(len)?;
                proto = nh;
                at += len;
            }
            next::AH => {
                let &[nh, hlen, ..] = ext(2)? else {
                    return Err(Error::Truncated("ipv6 extension header"));
                };
                let len = (usize::from(hlen) + 2) * 4;
                ext(len)?;
                proto = nh;
                at += len;
            }
            next::FRAGMENT => {
                let &[nh, _, o0, o1, ..] = ext(8)? else {
                    return Err(Error::Truncated("ipv6 extension header"));
                };
                let offset = u16::from_be_bytes([o0, o1]) & 0xfff8;
                if offset != 0 {
                    return Ok(None);
                }
                proto = nh;
                at += 8;
            }
            _ => {
                return Ok(Some(Header {
                    src,
                    dst,
                    proto,
                    payload: ip.get(at..end).unwrap_or(&[]),
                }))
            }
        }
    }
    Err(Error::Malformed("ipv6 extension header chain"))
}

/// The `n` bytes of the extension header at `at`, all within the packet's end.
fn extension(ip: &[u8], at: usize, end: usize, n: usize) -> Result<&[u8], Error> {
    ip.get(at..end)
        .and_then(|b| b.get(..n))
        .ok_or(Error::Truncated("ipv6 extension header"))
}

fn transport<'a>(
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    seg: &'a [u8],
) -> Result<Option<Segment<'a>>, Error> {
    match IpProtocol::from(proto) {
        IpProtocol::Tcp => tcp(src, dst, seg).map(Some),
        IpProtocol::Udp => udp(src, dst, seg).map(Some),
        _ => Ok(None),
    }
}

fn tcp<'a>(src: IpAddr, dst: IpAddr, seg: &'a [u8]) -> Result<Segment<'a>, Error> {
    let packet = TcpPacket::new_checked(seg).map_err(|_| {
        if seg.len() < 20 {
            Error::Truncated("tcp header")
        } else if TcpPacket::new_unchecked(seg).header_len() < 20 {
            Error::Malformed("tcp data offset")
        } else {
            Error::Truncated("tcp header")
        }
    })?;
    let info = TcpInfo {
        seq: packet.seq_number().0 as u32,
        syn: packet.syn(),
        fin: packet.fin(),
        rst: packet.rst(),
        psh: packet.psh(),
        ack: packet.ack(),
    };
    Ok(Segment {
        src,
        dst,
        proto: Proto::Tcp,
        sport: packet.src_port(),
        dport: packet.dst_port(),
        tcp: Some(info),
        payload: packet.payload(),
    })
}

fn udp<'a>(src: IpAddr, dst: IpAddr, seg: &'a [u8]) -> Result<Segment<'a>, Error> {
    if seg.len() < UDP_HEADER {
        return Err(Error::Truncated("udp header"));
    }
    let header = UdpPacket::new_unchecked(seg);
    let len = usize::from(header.len());
    // A sane length within the capture bounds the payload (dropping Ethernet padding);
    // one beyond it means a snapped capture, and 0 (jumbogram, offload) means "all".
    let (packet, end) = match seg.get(..len) {
        Some(whole) if len >= UDP_HEADER => (
            UdpPacket::new_checked(whole).map_err(|_| Error::Malformed("udp"))?,
            len,
        ),
        _ => (header, seg.len()),
    };
    Ok(Segment {
        src,
        dst,
        proto: Proto::Udp,
        sport: packet.src_port(),
        dport: packet.dst_port(),
        tcp: None,
        payload: seg.get(UDP_HEADER..end).unwrap_or(&[]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    /// IPv4 header (no options) for `proto` with a payload of `len` bytes.
    fn v4(proto: u8, len: usize) -> Vec<u8> {
        let total = (20 + len) as u16;
        let mut h = vec![0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, 64, proto, 0xde, 0xad];
        h[2..4].copy_from_slice(&total.to_be_bytes());
        h.extend_from_slice(&[192, 168, 1, 23, 220, 181, 38, 148]);
        h
    }

    fn tcp_hdr(flags: u8, payload: &[u8]) -> Vec<u8> {
        let mut t = vec![0xc3, 0x50, 0x00, 0x50, 0x01, 0x02, 0x03, 0x04, 0, 0, 0, 0];
        t.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0x00, 0x00, 0, 0]);
        t.extend_from_slice(payload);
        t
    }

    const POST: &[u8] = b"POST /imsi HTTP/1.1\r\nHost: zzhc.vnet.cn\r\n\r\n";

    #[test]
    fn ipv4_tcp_http_post() {
        let t = tcp_hdr(0x18, POST);
        let mut p = v4(6, t.len());
        p.extend_from_slice(&t);
        p.extend_from_slice(&[0; 6]); // Ethernet padding
        let s = decode_ip(&p).unwrap().unwrap();
        assert_eq!(s.src, IpAddr::V4(Ipv4Addr::new(192, 168, 1, 23)));
        assert_eq!(s.dst, IpAddr::V4(Ipv4Addr::new(220, 181, 38, 148)));
        assert_eq!((s.proto, s.sport, s.dport), (Proto::Tcp, 50000, 80));
        let info = s.tcp.unwrap();
        assert_eq!(info.seq, 0x01020304);
        assert!(info.psh && info.ack && !info.syn && !info.fin && !info.rst);
        assert_eq!(s.payload, POST);
    }

    #[test]
    fn ipv4_options_and_truncated_capture() {
        let t = tcp_hdr(0x02, b"hello world");
        let mut p = v4(6, t.len() + 4);
        p[0] = 0x46;
        p.extend_from_slice(&[1, 1, 1, 0]); // NOP NOP NOP EOL
        p.extend_from_slice(&t);
        assert_eq!(decode_ip(&p).unwrap().unwrap().payload, b"hello world");
        // Snapped: the total length says more than was captured.
        let s = decode_ip(&p[..p.len() - 6]).unwrap().unwrap();
        assert_eq!(s.payload, b"hello");
        assert!(s.tcp.unwrap().syn);
        // Snapped inside the TCP header.
        assert_eq!(decode_ip(&p[..30]), Err(Error::Truncated("tcp header")));
        // Total length 0 (offloaded segmentation): take the capture.
        let mut tso = p.clone();
        tso[2..4].copy_from_slice(&[0, 0]);
        assert_eq!(decode_ip(&tso).unwrap().unwrap().payload, b"hello world");
    }

    #[test]
    fn ipv4_fragments() {
        let t = tcp_hdr(0x18, b"first");
        let mut p = v4(6, t.len());
        p.extend_from_slice(&t);
        p[6] = 0x20; // MF, offset 0: decoded
        assert_eq!(decode_ip(&p).unwrap().unwrap().payload, b"first");
        p[7] = 0x10; // offset 128: no transport header
        assert_eq!(decode_ip(&p), Ok(None));
    }

    #[test]
    fn ipv4_malformed() {
        let mut p = v4(17, 8);
        p.extend_from_slice(&[0, 53, 0, 53, 0, 8, 0, 0]);
        assert!(decode_ip(&p).unwrap().is_some());
        let mut bad = p.clone();
        bad[0] = 0x44;
        assert_eq!(decode_ip(&bad), Err(Error::Malformed("ipv4 header length")));
        let mut bad = p.clone();
        bad[2..4].copy_from_slice(&[0, 10]);
        assert_eq!(decode_ip(&bad), Err(Error::Malformed("ipv4 total length")));
        assert_eq!(decode_ip(&p[..19]), Err(Error::Truncated("ipv4 header")));
        assert_eq!(decode_ip(&[]), Err(Error::Truncated("ip header")));
        assert_eq!(decode_ip(&[0x50; 40]), Err(Error::Malformed("ip version")));
        let mut icmp = v4(1, 8);
        icmp.extend_from_slice(&[8, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(decode_ip(&icmp), Ok(None));
    }

    #[test]
    fn udp_lengths() {
        let mut p = v4(17, 12);
        p.extend_from_slice(&[0x13, 0x88, 0, 53, 0, 10, 0, 0, b'a', b'b', b'x', b'x']);
        let s = decode_ip(&p).unwrap().unwrap();
        assert_eq!(
            (s.proto, s.sport, s.dport, s.tcp),
            (Proto::Udp, 5000, 53, None)
        );
        assert_eq!(s.payload, b"ab", "UDP length trims");
        // A UDP length beyond the capture: what was captured.
        p[24..26].copy_from_slice(&[0, 200]);
        assert_eq!(decode_ip(&p).unwrap().unwrap().payload, b"abxx");
        assert_eq!(decode_ip(&p[..25]), Err(Error::Truncated("udp header")));
    }

    fn v6(next: u8, rest: &[u8]) -> Vec<u8> {
        let mut h = vec![0x60, 0, 0, 0];
        h.extend_from_slice(&(rest.len() as u16).to_be_bytes());
        h.extend_from_slice(&[next, 64]);
        h.extend_from_slice(&Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 0x17).octets());
        h.extend_from_slice(&Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1).octets());
        h.extend_from_slice(rest);
        h
    }

    #[test]
    fn ipv6_hop_by_hop_and_fragment() {
        let t = tcp_hdr(0x18, POST);
        let mut rest = vec![44, 0, 5, 2, 0, 0, 1, 0]; // hop-by-hop (router alert), next fragment
        rest.extend_from_slice(&[6, 0, 0x00, 0x01, 0, 0, 0, 9]); // first fragment, MF
        rest.extend_from_slice(&t);
        let p = v6(0, &rest);
        let s = decode_ip(&p).unwrap().unwrap();
        assert_eq!(s.src, IpAddr::V6("fd00::17".parse().unwrap()));
        assert_eq!(s.payload, POST);
        // Non-first fragment.
        let mut later = p.clone();
        later[40 + 8 + 2] = 0x05;
        assert_eq!(decode_ip(&later), Ok(None));
        // Truncated inside the extension chain.
        assert_eq!(
            decode_ip(&p[..44]),
            Err(Error::Truncated("ipv6 extension header"))
        );
        // Snapped payload: decoded from what was captured.
        assert_eq!(
            decode_ip(&p[..p.len() - 3]).unwrap().unwrap().payload,
            &POST[..POST.len() - 3]
        );
    }

    #[test]
    fn ipv6_routing_dest_opts_ah_esp() {
        let mut rest = vec![60, 0, 0, 0, 0, 0, 0, 0]; // routing, next dest-opts
        rest.extend_from_slice(&[51, 0, 1, 4, 0, 0, 0, 0]); // dest opts (PadN), next AH
        rest.extend_from_slice(&[17, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1]); // AH, 12 bytes
        rest.extend_from_slice(&[0, 1, 0, 2, 0, 9, 0, 0, b'!']);
        let p = v6(43, &rest);
        let s = decode_ip(&p).unwrap().unwrap();
        assert_eq!((s.proto, s.sport, s.payload), (Proto::Udp, 1, &b"!"[..]));
        assert_eq!(decode_ip(&v6(50, &[0; 16])), Ok(None));
        assert_eq!(decode_ip(&v6(59, &[])), Ok(None));
        assert_eq!(decode_ip(&v6(58, &[128, 0, 0, 0])), Ok(None));
        // An endless chain of empty options headers is cut off.
        let chain = [60u8, 0, 0, 0, 0, 0, 0, 0].repeat(12);
        assert_eq!(
            decode_ip(&v6(60, &chain)),
            Err(Error::Malformed("ipv6 extension header chain"))
        );
        assert_eq!(
            decode_ip(&v6(6, &[])[..39]),
            Err(Error::Truncated("ipv6 header"))
        );
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
            let _ = decode_ip(&bytes);
        }

        #[test]
        fn never_panics_with_plausible_headers(
            v6hdr in any::<bool>(),
            proto in prop_oneof![Just(6u8), Just(17u8), Just(0u8), Just(44u8), any::<u8>()],
            tail in proptest::collection::vec(any::<u8>(), 0..120),
        ) {
            let p = if v6hdr { v6(proto, &tail) } else {
                let mut p = v4(proto, tail.len());
                p.extend_from_slice(&tail);
                p
            };
            for cut in [p.len(), p.len() / 2, 41] {
                if let Ok(Some(s)) = decode_ip(&p[..cut.min(p.len())]) {
                    prop_assert!(s.payload.len() <= p.len());
                }
            }
        }
    }
}
