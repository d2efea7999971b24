//! Test material shared by `tests/scan.rs` and `examples/make_captures.rs`: a classic pcap
//! writer and frame builders (Ethernet, IPv4/IPv6, TCP, UDP, DNS) with correct checksums, and a
//! [`Capture`] that plays whole conversations (DNS lookup, TCP handshake, data, FIN) into it.
//!
//! Why write captures instead of shipping recorded ones: every byte of a test capture is then
//! known, so a test can say exactly which findings it expects, and the edge cases (a value cut at
//! every offset, reordered or retransmitted segments) are generated instead of hunted for.
//!
//! Kept free of dependencies on purpose (the encoders in [`encode`] use the crate's own hash and
//! deflate dependencies); test code, so it panics on misuse rather than returning errors.
#![allow(dead_code)]

pub mod encode;
pub mod exposure;
pub mod phones;
pub mod scenes;

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

/// An Ethernet address.
pub type Mac = [u8; 6];

/// `LINKTYPE_ETHERNET`.
pub const LINKTYPE_ETHERNET: u32 = 1;
pub const ETHERTYPE_IPV4: u16 = 0x0800;
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
pub const PROTO_TCP: u8 = 6;
pub const PROTO_UDP: u8 = 17;

/// TCP flag bits.
pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;

/// The largest TCP payload [`Capture::tcp_exchange`] puts in one segment when the caller does
/// not split the data itself (a typical Ethernet MSS).
pub const MSS: usize = 1448;

/// Classic pcap (not pcapng): little-endian, microsecond timestamps, Ethernet link type.
pub struct PcapWriter {
    buf: Vec<u8>,
    offsets: Vec<usize>,
}

impl Default for PcapWriter {
    fn default() -> Self {
        PcapWriter::new()
    }
}

impl PcapWriter {
    pub fn new() -> PcapWriter {
        let mut buf = Vec::with_capacity(4096);
        buf.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes()); // magic: µs resolution
        buf.extend_from_slice(&2u16.to_le_bytes()); // version 2.4
        buf.extend_from_slice(&4u16.to_le_bytes());
        buf.extend_from_slice(&0i32.to_le_bytes()); // thiszone
        buf.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
        buf.extend_from_slice(&262_144u32.to_le_bytes()); // snaplen
        buf.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        PcapWriter {
            buf,
            offsets: Vec::new(),
        }
    }

    /// Appends one frame captured whole at `ts_us` microseconds after the Unix epoch.
    pub fn record(&mut self, ts_us: u64, frame: &[u8]) {
        self.offsets.push(self.buf.len());
        let len = u32::try_from(frame.len()).expect("frame too long");
        self.buf
            .extend_from_slice(&u32::try_from(ts_us / 1_000_000).unwrap().to_le_bytes());
        self.buf
            .extend_from_slice(&u32::try_from(ts_us % 1_000_000).unwrap().to_le_bytes());
        self.buf.extend_from_slice(&len.to_le_bytes()); // captured length
        self.buf.extend_from_slice(&len.to_le_bytes()); // length on the wire
        self.buf.extend_from_slice(frame);
    }

    /// Byte offset of each record header in [`PcapWriter::bytes`] (to cut a file mid-record).
    pub fn record_offsets(&self) -> &[usize] {
        &self.offsets
    }

    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }
}

/// The Internet checksum's running sum (RFC 1071) over `data`, added to `acc`.
pub fn sum16(data: &[u8], mut acc: u32) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        acc += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        acc += u32::from(*last) << 8;
    }
    acc
}

/// Folds a running sum into the one's-complement checksum.
pub fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// The TCP/UDP pseudo-header sum for IPv4 or IPv6.
fn pseudo_sum(src: IpAddr, dst: IpAddr, proto: u8, len: usize) -> u32 {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let acc = sum16(&s.octets(), 0);
            let acc = sum16(&d.octets(), acc);
            acc + u32::from(proto) + u32::try_from(len).unwrap()
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let acc = sum16(&s.octets(), 0);
            let acc = sum16(&d.octets(), acc);
            let len = u32::try_from(len).unwrap();
            acc + (len >> 16) + (len & 0xffff) + u32::from(proto)
        }
        _ => panic!("mixed address families: {src} -> {dst}"),
    }
}

/// An Ethernet II frame.
pub fn ethernet(dst: Mac, src: Mac, ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + payload.len());
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// An IPv4 packet (20-byte header, DF set, TTL 64) with its header checksum.
pub fn ipv4(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, id: u16, payload: &[u8]) -> Vec<u8> {
    let total = u16::try_from(20 + payload.len()).expect("IPv4 packet too long");
    let mut p = Vec::with_capacity(usize::from(total));
    p.extend_from_slice(&[0x45, 0x00]);
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&[0x40, 0x00, 64, proto, 0, 0]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    let c = fold(sum16(&p, 0));
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// An IPv6 packet (no extension headers, hop limit 64).
pub fn ipv6(src: std::net::Ipv6Addr, dst: std::net::Ipv6Addr, next: u8, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(payload.len()).expect("IPv6 payload too long");
    let mut p = Vec::with_capacity(40 + payload.len());
    p.extend_from_slice(&[0x60, 0, 0, 0]);
    p.extend_from_slice(&len.to_be_bytes());
    p.extend_from_slice(&[next, 64]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(payload);
    p
}

/// A TCP segment (20-byte header, no options) with its checksum over the pseudo-header.
#[allow(clippy::too_many_arguments)]
pub fn tcp(
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &[u8],
) -> Vec<u8> {
    let mut s = Vec::with_capacity(20 + payload.len());
    s.extend_from_slice(&sport.to_be_bytes());
    s.extend_from_slice(&dport.to_be_bytes());
    s.extend_from_slice(&seq.to_be_bytes());
    let ack = if flags & ACK != 0 { ack } else { 0 };
    s.extend_from_slice(&ack.to_be_bytes());
    s.extend_from_slice(&[5 << 4, flags]);
    s.extend_from_slice(&64_240u16.to_be_bytes()); // window
    s.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
    s.extend_from_slice(payload);
    let c = fold(sum16(&s, pseudo_sum(src, dst, PROTO_TCP, s.len())));
    s[16..18].copy_from_slice(&c.to_be_bytes());
    s
}

/// A UDP datagram with its checksum over the pseudo-header.
pub fn udp(src: IpAddr, dst: IpAddr, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(8 + payload.len()).expect("UDP datagram too long");
    let mut d = Vec::with_capacity(usize::from(len));
    d.extend_from_slice(&sport.to_be_bytes());
    d.extend_from_slice(&dport.to_be_bytes());
    d.extend_from_slice(&len.to_be_bytes());
    d.extend_from_slice(&[0, 0]);
    d.extend_from_slice(payload);
    let mut c = fold(sum16(&d, pseudo_sum(src, dst, PROTO_UDP, d.len())));
    if c == 0 {
        c = 0xffff; // 0 means "no checksum" in UDP
    }
    d[6..8].copy_from_slice(&c.to_be_bytes());
    d
}

/// Appends `name` as DNS labels (no compression).
fn dns_name(out: &mut Vec<u8>, name: &str) {
    for label in name.trim_end_matches('.').split('.') {
        out.push(u8::try_from(label.len()).expect("DNS label too long"));
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
}

pub const DNS_A: u16 = 1;
pub const DNS_AAAA: u16 = 28;

/// A recursive DNS query for `name`.
pub fn dns_query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&[0x01, 0x00]); // RD
    m.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]); // 1 question
    dns_name(&mut m, name);
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(&1u16.to_be_bytes()); // IN
    m
}

/// The answer to [`dns_query`]: the question again, then one A record per address, each naming
/// the question by a compression pointer (as real resolvers do).
pub fn dns_answer(id: u16, name: &str, addrs: &[Ipv4Addr], ttl: u32) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&[0x81, 0x80]); // QR, RD, RA
    m.extend_from_slice(&[0, 1]);
    m.extend_from_slice(&u16::try_from(addrs.len()).unwrap().to_be_bytes());
    m.extend_from_slice(&[0, 0, 0, 0]);
    dns_name(&mut m, name);
    m.extend_from_slice(&DNS_A.to_be_bytes());
    m.extend_from_slice(&1u16.to_be_bytes());
    for a in addrs {
        m.extend_from_slice(&[0xc0, 0x0c]); // pointer to the question's name
        m.extend_from_slice(&DNS_A.to_be_bytes());
        m.extend_from_slice(&1u16.to_be_bytes());
        m.extend_from_slice(&ttl.to_be_bytes());
        m.extend_from_slice(&4u16.to_be_bytes());
        m.extend_from_slice(&a.octets());
    }
    m
}

/// Appends one CoAP option (RFC 7252 §3.1): delta and length nibbles with their extensions.
fn coap_option(out: &mut Vec<u8>, delta: u16, value: &[u8]) {
    fn nibble(n: usize) -> (u8, Vec<u8>) {
        match n {
            0..=12 => (n as u8, vec![]),
            13..=268 => (13, vec![(n - 13) as u8]),
            _ => (14, u16::try_from(n - 269).unwrap().to_be_bytes().to_vec()),
        }
    }
    let (d, dext) = nibble(usize::from(delta));
    let (l, lext) = nibble(value.len());
    out.push((d << 4) | l);
    out.extend_from_slice(&dext);
    out.extend_from_slice(&lext);
    out.extend_from_slice(value);
}

pub const COAP_URI_PATH: u16 = 11;
pub const COAP_CONTENT_FORMAT: u16 = 12;
pub const COAP_URI_QUERY: u16 = 15;
/// `application/link-format`, the payload of an LwM2M Register.
pub const COAP_LINK_FORMAT: u16 = 40;

/// A confirmable CoAP POST: `path` segments as Uri-Path options, a Content-Format, each of
/// `queries` as one Uri-Query option, then the payload. This is the shape of an LwM2M
/// "Register" (`POST /rd?ep=…&lt=…&lwm2m=…&b=U`).
pub fn coap_post(
    mid: u16,
    token: &[u8],
    path: &[&str],
    content_format: u16,
    queries: &[&str],
    payload: &[u8],
) -> Vec<u8> {
    let mut m = vec![
        0x40 | u8::try_from(token.len()).expect("token too long"),
        0x02,
    ];
    m.extend_from_slice(&mid.to_be_bytes());
    m.extend_from_slice(token);
    let mut last = 0u16;
    let mut option = |m: &mut Vec<u8>, number: u16, value: &[u8]| {
        coap_option(m, number - last, value);
        last = number;
    };
    for p in path {
        option(&mut m, COAP_URI_PATH, p.as_bytes());
    }
    let cf = content_format.to_be_bytes();
    let cf: &[u8] = if content_format == 0 {
        &[]
    } else if content_format < 256 {
        &cf[1..]
    } else {
        &cf
    };
    option(&mut m, COAP_CONTENT_FORMAT, cf);
    for q in queries {
        option(&mut m, COAP_URI_QUERY, q.as_bytes());
    }
    if !payload.is_empty() {
        m.push(0xff);
        m.extend_from_slice(payload);
    }
    m
}

/// One end of a conversation: the Ethernet address frames from it carry (for a host beyond the
/// router: the router's), its IP address and port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub mac: Mac,
    pub ip: IpAddr,
    pub port: u16,
}

impl Endpoint {
    pub fn new(mac: Mac, ip: impl Into<IpAddr>, port: u16) -> Endpoint {
        Endpoint {
            mac,
            ip: ip.into(),
            port,
        }
    }

    /// The same host on another port.
    pub fn port(self, port: u16) -> Endpoint {
        Endpoint { port, ..self }
    }
}

/// A piece of a TCP byte stream: `data` starts at byte `offset` of the stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub offset: usize,
    pub data: Vec<u8>,
}

/// Splits `data` into segments at the given offsets (unordered, duplicates and the ends ignored,
/// so no segment is empty).
pub fn split(data: &[u8], cuts: &[usize]) -> Vec<Segment> {
    let mut cuts: Vec<usize> = cuts
        .iter()
        .copied()
        .filter(|&c| c > 0 && c < data.len())
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut segs = Vec::with_capacity(cuts.len() + 1);
    let mut start = 0;
    for end in cuts.into_iter().chain(std::iter::once(data.len())) {
        segs.push(Segment {
            offset: start,
            data: data[start..end].to_vec(),
        });
        start = end;
    }
    segs
}

/// Splits `data` into segments of at most [`MSS`] bytes.
pub fn split_mss(data: &[u8]) -> Vec<Segment> {
    let cuts: Vec<usize> = (1..=data.len() / MSS).map(|i| i * MSS).collect();
    split(data, &cuts)
}

/// The segments in the order given by `order` (indexes into `segs`; each should appear once).
pub fn reorder(segs: &[Segment], order: &[usize]) -> Vec<Segment> {
    order.iter().map(|&i| segs[i].clone()).collect()
}

/// The segments with each one listed in `which` sent a second time right after the first.
pub fn retransmit(segs: &[Segment], which: &[usize]) -> Vec<Segment> {
    let mut out = Vec::with_capacity(segs.len() + which.len());
    for (i, s) in segs.iter().enumerate() {
        out.push(s.clone());
        if which.contains(&i) {
            out.push(s.clone());
        }
    }
    out
}

/// A capture being written: frames with a clock that advances one millisecond per frame.
pub struct Capture {
    pcap: PcapWriter,
    ts_us: u64,
    ip_id: u16,
}

impl Capture {
    /// A capture whose first frame is at `start` (Unix seconds).
    pub fn new(start: u64) -> Capture {
        Capture {
            pcap: PcapWriter::new(),
            ts_us: start * 1_000_000,
            ip_id: 0x1c46,
        }
    }

    /// Moves the clock on by `us` microseconds (a pause between conversations).
    pub fn pause(&mut self, us: u64) {
        self.ts_us += us;
    }

    pub fn pcap(&self) -> &PcapWriter {
        &self.pcap
    }

    pub fn bytes(&self) -> &[u8] {
        self.pcap.bytes()
    }

    pub fn write(&self, path: &Path) {
        std::fs::write(path, self.bytes())
            .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }

    /// Appends one raw Ethernet frame.
    pub fn frame(&mut self, frame: &[u8]) {
        self.pcap.record(self.ts_us, frame);
        self.ts_us += 1_000;
    }

    /// Wraps a transport-layer payload in IP and Ethernet and appends it.
    pub fn ip(&mut self, from: Endpoint, to: Endpoint, proto: u8, l4: &[u8]) {
        let (ethertype, packet) = match (from.ip, to.ip) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                self.ip_id = self.ip_id.wrapping_add(1);
                (ETHERTYPE_IPV4, ipv4(s, d, proto, self.ip_id, l4))
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => (ETHERTYPE_IPV6, ipv6(s, d, proto, l4)),
            _ => panic!("mixed address families: {} -> {}", from.ip, to.ip),
        };
        let f = ethernet(to.mac, from.mac, ethertype, &packet);
        self.frame(&f);
    }

    /// One UDP datagram.
    pub fn udp(&mut self, from: Endpoint, to: Endpoint, payload: &[u8]) {
        let d = udp(from.ip, to.ip, from.port, to.port, payload);
        self.ip(from, to, PROTO_UDP, &d);
    }

    /// One TCP segment.
    pub fn tcp(
        &mut self,
        from: Endpoint,
        to: Endpoint,
        seq: u32,
        ack: u32,
        flags: u8,
        payload: &[u8],
    ) {
        let s = tcp(from.ip, to.ip, from.port, to.port, seq, ack, flags, payload);
        self.ip(from, to, PROTO_TCP, &s);
    }

    /// A DNS lookup of `name` over UDP: the query from `client`, the answer from `resolver`.
    pub fn dns_lookup(
        &mut self,
        client: Endpoint,
        resolver: Endpoint,
        id: u16,
        name: &str,
        addrs: &[Ipv4Addr],
    ) {
        self.udp(client, resolver, &dns_query(id, name, DNS_A));
        self.udp(resolver, client, &dns_answer(id, name, addrs, 600));
    }

    /// A whole TCP connection from `client` to `server`: handshake, the client's `request`
    /// segments (in the order given, each at its own sequence number: reordered or repeated
    /// segments stay consistent), the server's acknowledgement and `reply` (if any), then an
    /// orderly close started by the client.
    pub fn tcp_exchange(
        &mut self,
        client: Endpoint,
        server: Endpoint,
        request: &[Segment],
        reply: &[u8],
    ) {
        let c_isn: u32 = 0x1a2b_0000u32.wrapping_add(u32::from(client.port) << 8);
        let s_isn: u32 = 0x7e00_0000u32.wrapping_add(u32::from(client.port));
        let total = request
            .iter()
            .map(|s| s.offset + s.data.len())
            .max()
            .unwrap_or(0);
        let total = u32::try_from(total).unwrap();
        let rlen = u32::try_from(reply.len()).unwrap();
        let c1 = c_isn.wrapping_add(1);
        let s1 = s_isn.wrapping_add(1);

        self.tcp(client, server, c_isn, 0, SYN, &[]);
        self.tcp(server, client, s_isn, c1, SYN | ACK, &[]);
        self.tcp(client, server, c1, s1, ACK, &[]);
        for seg in request {
            let seq = c1.wrapping_add(u32::try_from(seg.offset).unwrap());
            self.tcp(client, server, seq, s1, PSH | ACK, &seg.data);
        }
        let c_end = c1.wrapping_add(total);
        self.tcp(server, client, s1, c_end, ACK, &[]);
        for seg in split_mss(reply) {
            let seq = s1.wrapping_add(u32::try_from(seg.offset).unwrap());
            self.tcp(server, client, seq, c_end, PSH | ACK, &seg.data);
        }
        let s_end = s1.wrapping_add(rlen);
        if rlen > 0 {
            self.tcp(client, server, c_end, s_end, ACK, &[]);
        }
        self.tcp(client, server, c_end, s_end, FIN | ACK, &[]);
        self.tcp(server, client, s_end, c_end.wrapping_add(1), FIN | ACK, &[]);
        self.tcp(
            client,
            server,
            c_end.wrapping_add(1),
            s_end.wrapping_add(1),
            ACK,
            &[],
        );
    }

    /// [`Capture::tcp_exchange`] with the request sent in [`MSS`]-sized segments.
    pub fn tcp_request(
        &mut self,
        client: Endpoint,
        server: Endpoint,
        request: &[u8],
        reply: &[u8],
    ) {
        self.tcp_exchange(client, server, &split_mss(request), reply);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_verify() {
        // A header with its checksum in place sums to zero.
        let p = ipv4(
            Ipv4Addr::new(192, 168, 1, 23),
            Ipv4Addr::new(203, 0, 113, 7),
            PROTO_TCP,
            1,
            b"",
        );
        assert_eq!(fold(sum16(&p[..20], 0)), 0);
        let s = IpAddr::from([192, 168, 1, 23]);
        let d = IpAddr::from([203, 0, 113, 7]);
        let seg = tcp(s, d, 40000, 80, 1, 2, PSH | ACK, b"odd");
        assert_eq!(fold(sum16(&seg, pseudo_sum(s, d, PROTO_TCP, seg.len()))), 0);
    }

    #[test]
    fn split_reorder_retransmit() {
        let segs = split(b"abcdef", &[4, 0, 2, 2, 6]);
        assert_eq!(segs.len(), 3);
        assert_eq!(
            segs[1],
            Segment {
                offset: 2,
                data: b"cd".to_vec()
            }
        );
        let r = reorder(&segs, &[2, 0, 1]);
        assert_eq!(r[0].offset, 4);
        assert_eq!(retransmit(&segs, &[1]).len(), 4);
    }
}
