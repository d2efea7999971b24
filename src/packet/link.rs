//! Link layers: Ethernet (802.1Q/QinQ, PPPoE session, MPLS), raw IP (LINKTYPE 101/228/229 and
//! the BSD DLT 12/14), Linux cooked v1/v2 (113/276), BSD loopback (0, 108), PPP (9, 50), Cisco
//! HDLC (104), 802.11 data frames with LLC/SNAP, bare (105) or after radiotap (127), and NFLOG
//! (239, what `tcpdump -i nflog:N` writes on a Linux router).
//!
//! Everything is hand-parsed (smoltcp has no VLAN, PPPoE or cooked-capture views, and its
//! Ethernet view needs a feature the router build leaves out), from the offsets in [`field`],
//! one submodule per header as smoltcp's `wire` keeps them. Every read goes through [`be16`] /
//! [`mac`] / `get`, which check the length first, so no input can make a layer index out of
//! bounds.

#![forbid(unsafe_code)]

use super::{Error, Frame};

/// LINKTYPE_* numbers this module understands.
pub mod linktype {
    pub const NULL: u32 = 0;
    pub const ETHERNET: u32 = 1;
    pub const PPP: u32 = 9;
    pub const RAW_BSD12: u32 = 12;
    pub const RAW_BSD14: u32 = 14;
    pub const PPP_HDLC: u32 = 50;
    pub const RAW: u32 = 101;
    pub const C_HDLC: u32 = 104;
    pub const LOOP: u32 = 108;
    pub const LINUX_SLL: u32 = 113;
    pub const IPV4: u32 = 228;
    pub const IPV6: u32 = 229;
    pub const LINUX_SLL2: u32 = 276;
    pub const IEEE802_11: u32 = 105;
    pub const IEEE802_11_RADIOTAP: u32 = 127;
    pub const NFLOG: u32 = 239;
}

/// Ethertypes that lead somewhere.
mod ethertype {
    pub const IPV4: u16 = 0x0800;
    pub const IPV6: u16 = 0x86dd;
    pub const VLAN: u16 = 0x8100;
    pub const QINQ: u16 = 0x88a8;
    pub const QINQ_OLD: u16 = 0x9100;
    pub const PPPOE_SESSION: u16 = 0x8864;
    pub const MPLS: u16 = 0x8847;
}

/// Header layouts: byte ranges of the fields read, and the length of each header (the offset
/// of its payload). Multi-byte fields are ranges so a read of the wrong width cannot compile
/// into a silent misread: [`be16`] and [`mac`] refuse a range of the wrong length.
mod field {
    /// A field's bytes within its header.
    pub type Field = core::ops::Range<usize>;

    /// Ethernet II: destination, source, ethertype.
    pub mod ethernet {
        use super::Field;
        pub const DESTINATION: Field = 0..6;
        pub const SOURCE: Field = 6..12;
        pub const ETHERTYPE: Field = 12..14;
        pub const PAYLOAD: usize = 14;
    }

    /// An 802.1Q / 802.1ad tag after the outer ethertype: TCI, then the inner ethertype.
    pub mod vlan {
        use super::Field;
        pub const ETHERTYPE: Field = 2..4;
        pub const PAYLOAD: usize = 4;
    }

    /// PPPoE session stage (RFC 2516): ver/type, code, session id, length.
    pub mod pppoe {
        use super::Field;
        pub const VER_TYPE: usize = 0;
        pub const LENGTH: Field = 4..6;
        pub const PAYLOAD: usize = 6;
        /// Version 1, type 1: the only one defined.
        pub const VER_TYPE_1_1: u8 = 0x11;
    }

    /// PPP (RFC 1661): optional address/control, then the protocol.
    pub mod ppp {
        use super::Field;
        /// All-stations address and unnumbered-information control (`ff 03`).
        pub const ADDRESS: u8 = 0xff;
        pub const CONTROL: u8 = 0x03;
        pub const PROTOCOL: Field = 0..2;
        pub const PAYLOAD: usize = 2;
        /// Protocols that carry IP.
        pub const PROTO_IPV4: u16 = 0x0021;
        pub const PROTO_IPV6: u16 = 0x0057;
    }

    /// One MPLS label stack entry: label, traffic class and bottom-of-stack bit, TTL.
    pub mod mpls {
        /// The byte holding the bottom-of-stack bit (its lowest).
        pub const BOTTOM: usize = 2;
        pub const BOTTOM_BIT: u8 = 0x01;
        pub const ENTRY: usize = 4;
    }

    /// Radiotap: version, pad, header length (little-endian, covering the fields that follow).
    pub mod radiotap {
        use super::Field;
        pub const VERSION: usize = 0;
        pub const LENGTH: Field = 2..4;
        /// The fixed part: version, pad, length, the first present-flags word.
        pub const MIN_LEN: usize = 8;
    }

    /// An 802.11 MAC header (IEEE 802.11-2020 9.2.3): frame control, duration, up to four
    /// addresses, sequence control, then QoS and HT control in the frames that have them.
    pub mod ieee80211 {
        use super::Field;
        pub const FC0: usize = 0;
        pub const FC1: usize = 1;
        /// The receiver: the destination of a frame not sent to the distribution system.
        pub const ADDR1: Field = 4..10;
        /// The transmitting station as seen by the AP (ToDS, or no DS bit).
        pub const ADDR2: Field = 10..16;
        /// The source address of a frame from the distribution system (FromDS), the
        /// destination address of a frame to it (ToDS).
        pub const ADDR3: Field = 16..22;
        /// The source address of a frame inside the distribution system (ToDS and FromDS).
        pub const ADDR4: Field = 24..30;
        /// Frame control through sequence control.
        pub const HEADER: usize = 24;
        pub const ADDR4_LEN: usize = 6;
        pub const QOS_LEN: usize = 2;
        pub const HT_CONTROL_LEN: usize = 4;

        /// Frame control, first byte: protocol version (bits 0–1), type (2–3), subtype (4–7).
        pub const VERSION_MASK: u8 = 0b11;
        pub const TYPE_SHIFT: u8 = 2;
        pub const TYPE_MASK: u8 = 0b11;
        pub const TYPE_DATA: u8 = 2;
        pub const SUBTYPE_SHIFT: u8 = 4;
        /// Subtype bits of data frames: no data (null function), QoS.
        pub const SUBTYPE_NO_DATA: u8 = 0b0100;
        pub const SUBTYPE_QOS: u8 = 0b1000;
        /// Frame control, second byte.
        pub const TO_DS: u8 = 0x01;
        pub const FROM_DS: u8 = 0x02;
        pub const PROTECTED: u8 = 0x40;
        /// In QoS data frames: a 4-byte HT control field follows (+HTC).
        pub const ORDER: u8 = 0x80;
    }

    /// LLC/SNAP (802.2 + RFC 1042): DSAP, SSAP, control, OUI, ethertype.
    pub mod snap {
        pub const SAP: u8 = 0xaa;
        /// Unnumbered information.
        pub const CONTROL_UI: u8 = 0x03;
        /// RFC 1042's OUI is 00 00 00; 802.1H's bridge-tunnel OUI is 00 00 F8.
        pub const OUI_RFC1042: u8 = 0x00;
        pub const OUI_BRIDGE_TUNNEL: u8 = 0xf8;
        pub const LEN: usize = 8;
    }

    /// LINKTYPE_NFLOG: family, version, resource id, then TLVs (length and type in the
    /// capturing host's byte order, each padded to 4 bytes).
    pub mod nflog {
        use super::Field;
        pub const HEADER: usize = 4;
        pub const TLV_LENGTH: Field = 0..2;
        pub const TLV_TYPE: Field = 2..4;
        pub const TLV_VALUE: usize = 4;
        pub const TLV_ALIGN: usize = 4;
        /// The TLV type without its flag bits.
        pub const TLV_TYPE_MASK: u16 = 0x7fff;
        pub const NFULA_HWADDR: u16 = 8;
        pub const NFULA_PAYLOAD: u16 = 9;
        /// The hardware address TLV's value: big-endian address length, 2 pad bytes, address.
        pub const HWADDR_LEN: Field = 0..2;
        pub const HWADDR_MAC: Field = 4..10;
    }

    /// Linux cooked capture v1: packet type, ARPHRD, address length, 8 address bytes, protocol.
    pub mod sll {
        use super::Field;
        pub const HATYPE: Field = 2..4;
        pub const HALEN: Field = 4..6;
        /// The first six of the eight address bytes: the MAC when the address is Ethernet's.
        pub const MAC: Field = 6..12;
        pub const PROTOCOL: Field = 14..16;
        pub const HEADER: usize = 16;
    }

    /// Linux cooked capture v2: protocol, reserved, ifindex, ARPHRD, packet type, address
    /// length, 8 address bytes.
    pub mod sll2 {
        use super::Field;
        pub const PROTOCOL: Field = 0..2;
        pub const HATYPE: Field = 8..10;
        pub const HALEN: usize = 11;
        pub const MAC: Field = 12..18;
        pub const HEADER: usize = 20;
    }

    /// BSD loopback: a 4-byte address family.
    pub mod loopback {
        use super::Field;
        pub const FAMILY: Field = 0..4;
        pub const PAYLOAD: usize = 4;
        /// AF_INET, and AF_INET6 as OpenBSD, FreeBSD and Darwin number it.
        pub const AF_INET: u32 = 2;
        pub const AF_INET6_BSD: u32 = 24;
        pub const AF_INET6_FREEBSD: u32 = 28;
        pub const AF_INET6_DARWIN: u32 = 30;
    }

    /// Cisco HDLC: address, control, ethertype.
    pub mod cisco_hdlc {
        use super::Field;
        /// Unicast and broadcast address bytes (they tell HDLC from PPP in DLT_PPP_SERIAL).
        pub const UNICAST: u8 = 0x0f;
        pub const BROADCAST: u8 = 0x8f;
        pub const PROTOCOL: Field = 2..4;
        pub const PAYLOAD: usize = 4;
    }
}
use field::Field;

/// At most this many VLAN tags are peeled (802.1ad QinQ uses two; four is generous).
const MAX_VLAN_TAGS: usize = 4;
/// At most this many MPLS labels are peeled.
const MAX_MPLS_LABELS: usize = 16;

/// ARPHRD_ETHER: the cooked header's address is an Ethernet MAC.
const ARPHRD_ETHER: u16 = 1;

/// Strips the link layer of a frame captured with LINKTYPE `link`.
pub fn decode_link(link: u32, frame: &[u8]) -> Result<Frame<'_>, Error> {
    match link {
        linktype::ETHERNET => ethernet(frame),
        linktype::RAW | linktype::RAW_BSD12 | linktype::RAW_BSD14 => raw(frame),
        linktype::IPV4 | linktype::IPV6 => Ok(ip_frame(None, frame)),
        linktype::LINUX_SLL => sll(frame),
        linktype::LINUX_SLL2 => sll2(frame),
        linktype::NULL => loopback(frame, false),
        linktype::LOOP => loopback(frame, true),
        linktype::PPP | linktype::PPP_HDLC => {
            // DLT_PPP_SERIAL captures may hold Cisco HDLC frames; their address byte says so.
            match frame.first() {
                Some(&(field::cisco_hdlc::UNICAST | field::cisco_hdlc::BROADCAST)) => {
                    cisco_hdlc(frame)
                }
                _ => ppp(frame),
            }
        }
        linktype::C_HDLC => cisco_hdlc(frame),
        linktype::IEEE802_11 => wifi(frame),
        linktype::IEEE802_11_RADIOTAP => radiotap(frame),
        linktype::NFLOG => nflog(frame),
        _ => Err(Error::Unsupported("link type")),
    }
}

/// The big-endian u16 in `f`, if the buffer holds it (and `f` is two bytes wide).
fn be16(b: &[u8], f: Field) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(f)?.try_into().ok()?))
}

/// The MAC address in `f`, if the buffer holds it (and `f` is six bytes wide).
fn mac(b: &[u8], f: Field) -> Option<[u8; 6]> {
    b.get(f)?.try_into().ok()
}

/// The bytes from `at` on; empty when the buffer is shorter.
fn rest_from(b: &[u8], at: usize) -> &[u8] {
    b.get(at..).unwrap_or(&[])
}

fn ip_frame(src_mac: Option<[u8; 6]>, ip: &[u8]) -> Frame<'_> {
    Frame {
        src_mac,
        dst_mac: None,
        ip: Some(ip),
    }
}

fn not_ip(src_mac: Option<[u8; 6]>) -> Frame<'static> {
    Frame {
        src_mac,
        dst_mac: None,
        ip: None,
    }
}

/// Ethernet II: destination, source, ethertype, then whatever the ethertype says.
fn ethernet(frame: &[u8]) -> Result<Frame<'_>, Error> {
    use field::ethernet as f;
    let (Some(src), Some(kind)) = (mac(frame, f::SOURCE), be16(frame, f::ETHERTYPE)) else {
        return Err(Error::Truncated("ethernet header"));
    };
    let decoded = by_ethertype(Some(src), kind, rest_from(frame, f::PAYLOAD))?;
    Ok(Frame {
        dst_mac: mac(frame, f::DESTINATION),
        ..decoded
    })
}

/// Follows an ethertype through VLAN tags, PPPoE and MPLS down to IP. Shared by Ethernet,
/// the Linux cooked headers and Cisco HDLC, which all name their payload by ethertype.
fn by_ethertype(src: Option<[u8; 6]>, mut kind: u16, mut rest: &[u8]) -> Result<Frame<'_>, Error> {
    let mut tags = 0;
    while matches!(
        kind,
        ethertype::VLAN | ethertype::QINQ | ethertype::QINQ_OLD
    ) {
        tags += 1;
        if tags > MAX_VLAN_TAGS {
            return Err(Error::Malformed("vlan tag depth"));
        }
        kind = be16(rest, field::vlan::ETHERTYPE).ok_or(Error::Truncated("vlan tag"))?;
        rest = rest_from(rest, field::vlan::PAYLOAD);
    }
    match kind {
        ethertype::IPV4 | ethertype::IPV6 => Ok(ip_frame(src, rest)),
        ethertype::PPPOE_SESSION => pppoe(src, rest),
        ethertype::MPLS => mpls(src, rest),
        _ => Ok(not_ip(src)),
    }
}

/// PPPoE session stage: ver/type 0x11, code 0, session id, length, then a PPP protocol.
fn pppoe(src: Option<[u8; 6]>, b: &[u8]) -> Result<Frame<'_>, Error> {
    use field::pppoe as f;
    let (Some(&vt), Some(len)) = (b.get(f::VER_TYPE), be16(b, f::LENGTH)) else {
        return Err(Error::Truncated("pppoe header"));
    };
    if vt != f::VER_TYPE_1_1 {
        return Err(Error::Malformed("pppoe version"));
    }
    // The length covers the PPP protocol and payload; trim Ethernet padding with it.
    let body = rest_from(b, f::PAYLOAD);
    let body = body.get(..usize::from(len)).unwrap_or(body);
    let proto = be16(body, field::ppp::PROTOCOL).ok_or(Error::Truncated("pppoe header"))?;
    Ok(by_ppp_protocol(
        src,
        proto,
        rest_from(body, field::ppp::PAYLOAD),
    ))
}

fn by_ppp_protocol(src: Option<[u8; 6]>, proto: u16, rest: &[u8]) -> Frame<'_> {
    match proto {
        field::ppp::PROTO_IPV4 | field::ppp::PROTO_IPV6 => ip_frame(src, rest),
        _ => not_ip(src),
    }
}

/// An MPLS label stack (4 bytes per label, bottom-of-stack bit in the third byte); what follows
/// the last label has no type field, so IP is recognised by its version nibble.
fn mpls(src: Option<[u8; 6]>, mut b: &[u8]) -> Result<Frame<'_>, Error> {
    use field::mpls as f;
    for _ in 0..MAX_MPLS_LABELS {
        let bottom = b.get(f::BOTTOM).ok_or(Error::Truncated("mpls label"))? & f::BOTTOM_BIT != 0;
        b = b.get(f::ENTRY..).ok_or(Error::Truncated("mpls label"))?;
        if bottom {
            return Ok(match ip_version(b) {
                Some(4 | 6) => ip_frame(src, b),
                _ => not_ip(src),
            });
        }
    }
    Err(Error::Malformed("mpls label depth"))
}

/// The IP version nibble of the packet that starts `b`.
fn ip_version(b: &[u8]) -> Option<u8> {
    b.first().map(|v| v >> 4)
}

/// Raw IP whose version is only known from the first nibble.
fn raw(frame: &[u8]) -> Result<Frame<'_>, Error> {
    match ip_version(frame) {
        None => Err(Error::Truncated("raw ip")),
        Some(4 | 6) => Ok(ip_frame(None, frame)),
        Some(_) => Err(Error::Malformed("raw ip version")),
    }
}

/// Radiotap: version 0, a pad byte, the header's length (little-endian), then the 802.11 frame.
fn radiotap(frame: &[u8]) -> Result<Frame<'_>, Error> {
    use field::radiotap as f;
    let (Some(&version), Some(len)) = (frame.get(f::VERSION), frame.get(f::LENGTH)) else {
        return Err(Error::Truncated("radiotap header"));
    };
    let len = usize::from(u16::from_le_bytes([
        len.first().copied().unwrap_or(0),
        len.get(1).copied().unwrap_or(0),
    ]));
    if version != 0 || len < f::MIN_LEN {
        return Err(Error::Malformed("radiotap header"));
    }
    wifi(
        frame
            .get(len..)
            .ok_or(Error::Truncated("radiotap header"))?,
    )
}

/// An 802.11 frame: only unprotected data frames carry readable IP (open networks, decrypted
/// captures), after an LLC/SNAP header naming the ethertype. The sender is the address the
/// To/From DS bits say (a station sending to its AP: address 2).
fn wifi(frame: &[u8]) -> Result<Frame<'_>, Error> {
    use field::ieee80211 as f;
    let (Some(&fc0), Some(&fc1)) = (frame.get(f::FC0), frame.get(f::FC1)) else {
        return Err(Error::Truncated("802.11 header"));
    };
    let kind = (fc0 >> f::TYPE_SHIFT) & f::TYPE_MASK;
    let subtype = fc0 >> f::SUBTYPE_SHIFT;
    if fc0 & f::VERSION_MASK != 0 {
        return Err(Error::Malformed("802.11 version"));
    }
    // Management and control frames, null data, protected frames: no IP to read.
    if kind != f::TYPE_DATA || subtype & f::SUBTYPE_NO_DATA != 0 || fc1 & f::PROTECTED != 0 {
        return Ok(not_ip(None));
    }
    let (to_ds, from_ds) = (fc1 & f::TO_DS != 0, fc1 & f::FROM_DS != 0);
    let qos = subtype & f::SUBTYPE_QOS != 0;
    let mut header = f::HEADER;
    if to_ds && from_ds {
        header += f::ADDR4_LEN;
    }
    if qos {
        header += f::QOS_LEN;
        if fc1 & f::ORDER != 0 {
            header += f::HT_CONTROL_LEN;
        }
    }
    let src_at = match (to_ds, from_ds) {
        (false, true) => f::ADDR3,
        (true, true) => f::ADDR4,
        _ => f::ADDR2,
    };
    let src = mac(frame, src_at).ok_or(Error::Truncated("802.11 header"))?;
    let dst = mac(frame, if to_ds { f::ADDR3 } else { f::ADDR1 });
    let body = frame
        .get(header..)
        .ok_or(Error::Truncated("802.11 header"))?;
    let decoded = snap(src, body)?;
    Ok(Frame {
        dst_mac: dst,
        ..decoded
    })
}

/// LLC/SNAP: AA AA 03, an OUI (RFC 1042's 00 00 00 or 802.1H's 00 00 F8), the ethertype.
fn snap(src: [u8; 6], body: &[u8]) -> Result<Frame<'_>, Error> {
    use field::snap::{CONTROL_UI, LEN, OUI_BRIDGE_TUNNEL, OUI_RFC1042, SAP};
    match body {
        [SAP, SAP, CONTROL_UI, 0x00, 0x00, OUI_RFC1042 | OUI_BRIDGE_TUNNEL, hi, lo, rest @ ..] => {
            by_ethertype(Some(src), u16::from_be_bytes([*hi, *lo]), rest)
        }
        [SAP, SAP, ..] if body.len() < LEN => Err(Error::Truncated("llc/snap header")),
        _ => Ok(not_ip(Some(src))),
    }
}

/// NFLOG: family, version, resource id, then TLVs (length and type in the capturing host's
/// byte order, each padded to 4 bytes). The payload TLV is the IP packet; the hardware
/// address TLV (a big-endian length, 2 pad bytes, 8 address bytes) the sender's MAC.
fn nflog(frame: &[u8]) -> Result<Frame<'_>, Error> {
    use field::nflog as f;
    let mut rest = frame
        .get(f::HEADER..)
        .ok_or(Error::Truncated("nflog header"))?;
    // The byte order: the first TLV's length read little-endian must fit, else big-endian.
    let le = match rest.get(f::TLV_LENGTH) {
        Some(&[a, b]) => {
            let l = usize::from(u16::from_le_bytes([a, b]));
            (f::TLV_VALUE..=rest.len()).contains(&l)
        }
        _ => true,
    };
    let word = |b: &[u8], at: Field| -> Option<u16> {
        let pair: [u8; 2] = b.get(at)?.try_into().ok()?;
        Some(if le {
            u16::from_le_bytes(pair)
        } else {
            u16::from_be_bytes(pair)
        })
    };
    let mut src = None;
    let mut payload = None;
    while !rest.is_empty() {
        let (Some(len), Some(kind)) = (word(rest, f::TLV_LENGTH), word(rest, f::TLV_TYPE)) else {
            return Err(Error::Truncated("nflog tlv"));
        };
        let len = usize::from(len);
        let value = rest
            .get(f::TLV_VALUE..len)
            .ok_or(Error::Malformed("nflog tlv length"))?;
        match kind & f::TLV_TYPE_MASK {
            f::NFULA_PAYLOAD => payload = Some(value),
            f::NFULA_HWADDR if be16(value, f::HWADDR_LEN) == Some(6) => {
                src = mac(value, f::HWADDR_MAC)
            }
            _ => {}
        }
        let padded = len.div_ceil(f::TLV_ALIGN) * f::TLV_ALIGN;
        rest = rest_from(rest, padded);
    }
    match payload {
        Some(ip) => match ip_version(ip) {
            Some(4 | 6) => Ok(ip_frame(src, ip)),
            _ => Err(Error::Malformed("nflog payload")),
        },
        None => Ok(not_ip(src)),
    }
}

/// Linux cooked capture v1: packet type, ARPHRD, address length, 8 address bytes, protocol.
fn sll(frame: &[u8]) -> Result<Frame<'_>, Error> {
    use field::sll as f;
    let (Some(hatype), Some(alen), Some(proto)) = (
        be16(frame, f::HATYPE),
        be16(frame, f::HALEN),
        be16(frame, f::PROTOCOL),
    ) else {
        return Err(Error::Truncated("linux cooked header"));
    };
    let src = (hatype == ARPHRD_ETHER && alen == 6)
        .then(|| mac(frame, f::MAC))
        .flatten();
    by_ethertype(src, proto, rest_from(frame, f::HEADER))
}

/// Linux cooked capture v2: protocol, reserved, ifindex, ARPHRD, packet type, address length,
/// 8 address bytes.
fn sll2(frame: &[u8]) -> Result<Frame<'_>, Error> {
    use field::sll2 as f;
    let (Some(proto), Some(hatype), Some(&alen)) = (
        be16(frame, f::PROTOCOL),
        be16(frame, f::HATYPE),
        frame.get(f::HALEN),
    ) else {
        return Err(Error::Truncated("linux cooked v2 header"));
    };
    if frame.len() < f::HEADER {
        return Err(Error::Truncated("linux cooked v2 header"));
    }
    let src = (hatype == ARPHRD_ETHER && alen == 6)
        .then(|| mac(frame, f::MAC))
        .flatten();
    by_ethertype(src, proto, rest_from(frame, f::HEADER))
}

/// BSD loopback: a 4-byte address family, in the capturing host's byte order for NULL (so
/// either order) and in network order for LOOP. AF_INET6 differs between the BSDs.
fn loopback(frame: &[u8], network_order: bool) -> Result<Frame<'_>, Error> {
    use field::loopback as f;
    let family: [u8; 4] = frame
        .get(f::FAMILY)
        .and_then(|b| b.try_into().ok())
        .ok_or(Error::Truncated("loopback header"))?;
    let be = u32::from_be_bytes(family);
    let le = u32::from_le_bytes(family);
    let is = |af: u32| be == af || (!network_order && le == af);
    let rest = rest_from(frame, f::PAYLOAD);
    if is(f::AF_INET) || is(f::AF_INET6_BSD) || is(f::AF_INET6_FREEBSD) || is(f::AF_INET6_DARWIN) {
        Ok(ip_frame(None, rest))
    } else {
        Ok(not_ip(None))
    }
}

/// PPP: optional address/control `ff 03`, then a protocol of 1 byte (compressed: odd) or 2.
fn ppp(frame: &[u8]) -> Result<Frame<'_>, Error> {
    use field::ppp::{ADDRESS, CONTROL};
    let b = match frame {
        [ADDRESS, CONTROL, rest @ ..] => rest,
        _ => frame,
    };
    match b {
        [] => Err(Error::Truncated("ppp header")),
        [p, rest @ ..] if p & 1 == 1 => Ok(by_ppp_protocol(None, u16::from(*p), rest)),
        [hi, lo, rest @ ..] => Ok(by_ppp_protocol(None, u16::from_be_bytes([*hi, *lo]), rest)),
        [_] => Err(Error::Truncated("ppp header")),
    }
}

/// Cisco HDLC: address, control, ethertype.
fn cisco_hdlc(frame: &[u8]) -> Result<Frame<'_>, Error> {
    use field::cisco_hdlc as f;
    let kind = be16(frame, f::PROTOCOL).ok_or(Error::Truncated("cisco hdlc header"))?;
    by_ethertype(None, kind, rest_from(frame, f::PAYLOAD))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SRC: [u8; 6] = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];
    const IP: &[u8] = &[
        0x45, 0, 0, 20, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ];

    fn eth(after_src: &[u8]) -> Vec<u8> {
        let mut f = vec![0xff; 6];
        f.extend_from_slice(&SRC);
        f.extend_from_slice(after_src);
        f
    }

    /// An 802.11 data frame from a station to its AP (ToDS): addresses BSSID, SA, DA.
    fn wifi_data(fc0: u8, fc1: u8, extra: &[u8], body: &[u8]) -> Vec<u8> {
        let mut f = vec![fc0, fc1, 0, 0];
        f.extend_from_slice(&[0x0a; 6]); // address 1: the AP
        f.extend_from_slice(&SRC); // address 2: the station
        f.extend_from_slice(&[0x0b; 6]); // address 3
        f.extend_from_slice(&[0x10, 0x00]); // sequence control
        f.extend_from_slice(extra);
        f.extend_from_slice(body);
        f
    }

    const SNAP_IP: &[u8] = &[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00];

    #[test]
    fn wifi_data_frames() {
        let body = [SNAP_IP, IP].concat();
        // Data, ToDS: the destination is address 3.
        let to_ap = Frame {
            dst_mac: Some([0x0b; 6]),
            ..ip_frame(Some(SRC), IP)
        };
        let f = wifi_data(0x08, 0x01, &[], &body);
        assert_eq!(decode_link(105, &f).unwrap(), to_ap);
        // QoS data (2 bytes of QoS control), and with +HTC (4 more).
        let f = wifi_data(0x88, 0x01, &[0, 0], &body);
        assert_eq!(decode_link(105, &f).unwrap().ip, Some(IP));
        let f = wifi_data(0x88, 0x81, &[0, 0, 1, 2, 3, 4], &body);
        assert_eq!(decode_link(105, &f).unwrap().ip, Some(IP));
        // FromDS: the sender is address 3, the destination address 1.
        let f = wifi_data(0x08, 0x02, &[], &body);
        let fr = decode_link(105, &f).unwrap();
        assert_eq!((fr.src_mac, fr.dst_mac), (Some([0x0b; 6]), Some([0x0a; 6])));
        // Protected, null data, management, another LLC: no IP.
        for f in [
            wifi_data(0x08, 0x41, &[], &body),
            wifi_data(0x48, 0x01, &[], &[]),
            wifi_data(0x80, 0x00, &[], &body),
            wifi_data(0x08, 0x01, &[], &[0x42, 0x42, 0x03, 0, 0]),
        ] {
            assert_eq!(decode_link(105, &f).unwrap().ip, None);
        }
        // Cut anywhere: an error or no IP, never a panic.
        for n in 0..f_len(&body) {
            let f = wifi_data(0x88, 0x01, &[0, 0], &body);
            let _ = decode_link(105, &f[..n]);
        }
        assert_eq!(
            decode_link(105, &[0x08]),
            Err(Error::Truncated("802.11 header"))
        );
        assert_eq!(
            decode_link(105, &wifi_data(0x08, 0x01, &[], &[0xaa, 0xaa, 3])),
            Err(Error::Truncated("llc/snap header"))
        );
        // Radiotap (8-byte header, no fields) in front.
        let mut r = vec![0, 0, 8, 0, 0, 0, 0, 0];
        r.extend_from_slice(&wifi_data(0x08, 0x01, &[], &body));
        assert_eq!(decode_link(127, &r).unwrap(), to_ap);
        assert_eq!(
            decode_link(127, &r[..3]),
            Err(Error::Truncated("radiotap header"))
        );
        assert_eq!(
            decode_link(127, &[0, 0, 40, 0, 0, 0, 0, 0]),
            Err(Error::Truncated("radiotap header"))
        );
        assert_eq!(
            decode_link(127, &[1, 0, 8, 0, 0, 0, 0, 0]),
            Err(Error::Malformed("radiotap header"))
        );
    }

    fn f_len(body: &[u8]) -> usize {
        26 + body.len()
    }

    #[test]
    fn nflog_frames() {
        // AF_INET, version 0, group 5; a prefix TLV (padded), the hardware address, the payload.
        let mut f = vec![2, 0, 0, 5];
        f.extend_from_slice(&[9, 0, 10, 0, b'l', b'g', b'!', 0, 0, 0, 0, 0]); // len 9: prefix
        f.extend_from_slice(&[16, 0, 8, 0, 0, 6, 0, 0]);
        f.extend_from_slice(&SRC);
        f.extend_from_slice(&[0, 0]);
        f.extend_from_slice(&[24, 0, 9, 0]);
        f.extend_from_slice(IP);
        assert_eq!(decode_link(239, &f).unwrap(), ip_frame(Some(SRC), IP));
        // Big-endian TLVs (a big-endian capturing host).
        let mut be = vec![2, 0, 0, 5, 0, 24, 0, 9];
        be.extend_from_slice(IP);
        assert_eq!(decode_link(239, &be).unwrap(), ip_frame(None, IP));
        // No payload; a TLV longer than the frame; cut anywhere.
        assert_eq!(decode_link(239, &[2, 0, 0, 5]).unwrap().ip, None);
        assert_eq!(
            decode_link(239, &[2, 0, 0, 5, 200, 0, 9, 0, 0x45]),
            Err(Error::Malformed("nflog tlv length"))
        );
        for n in 0..f.len() {
            let _ = decode_link(239, &f[..n]);
        }
        assert_eq!(
            decode_link(239, &[2, 0]),
            Err(Error::Truncated("nflog header"))
        );
    }

    #[test]
    fn ethernet_ipv4_and_ipv6() {
        let f = eth(&[&[0x08, 0x00][..], IP].concat());
        let fr = decode_link(1, &f).unwrap();
        assert_eq!((fr.src_mac, fr.dst_mac), (Some(SRC), Some([0xff; 6])));
        assert_eq!(fr.ip, Some(IP));
        let f = eth(&[0x86, 0xdd, 0x60, 0]);
        assert_eq!(decode_link(1, &f).unwrap().ip, Some(&[0x60, 0][..]));
    }

    #[test]
    fn ethernet_non_ip_and_truncated() {
        let arp = eth(&[0x08, 0x06, 0, 1]);
        assert_eq!(
            decode_link(1, &arp).unwrap(),
            Frame {
                src_mac: Some(SRC),
                dst_mac: Some([0xff; 6]),
                ip: None
            }
        );
        assert_eq!(
            decode_link(1, &arp[..13]),
            Err(Error::Truncated("ethernet header"))
        );
    }

    #[test]
    fn vlan_qinq_and_depth() {
        let one = eth(&[&[0x81, 0x00, 0x00, 0x0a, 0x08, 0x00][..], IP].concat());
        assert_eq!(decode_link(1, &one).unwrap().ip, Some(IP));
        let two = eth(&[&[0x88, 0xa8, 0, 1, 0x81, 0x00, 0, 2, 0x86, 0xdd][..], IP].concat());
        assert_eq!(decode_link(1, &two).unwrap().ip, Some(IP));
        let old = eth(&[&[0x91, 0x00, 0, 1, 0x08, 0x00][..], IP].concat());
        assert_eq!(decode_link(1, &old).unwrap().ip, Some(IP));
        let deep = eth(&[0x81, 0x00, 0, 1].repeat(5));
        assert_eq!(
            decode_link(1, &deep),
            Err(Error::Malformed("vlan tag depth"))
        );
        let cut = eth(&[0x81, 0x00, 0x00]);
        assert_eq!(decode_link(1, &cut), Err(Error::Truncated("vlan tag")));
    }

    #[test]
    fn pppoe_session() {
        let mut body = vec![0x88, 0x64, 0x11, 0x00, 0x12, 0x34, 0, 22, 0x00, 0x21];
        body.extend_from_slice(IP);
        body.extend_from_slice(&[0; 6]); // Ethernet padding beyond the PPPoE length
        let f = eth(&body);
        assert_eq!(decode_link(1, &f).unwrap().ip, Some(IP));
        let mut v6 = body.clone();
        v6[9] = 0x57;
        assert_eq!(decode_link(1, &eth(&v6)).unwrap().ip, Some(IP));
        let mut lcp = body.clone();
        lcp[8..10].copy_from_slice(&[0xc0, 0x21]);
        assert_eq!(decode_link(1, &eth(&lcp)).unwrap().ip, None);
        let mut bad = body;
        bad[2] = 0x21;
        assert_eq!(
            decode_link(1, &eth(&bad)),
            Err(Error::Malformed("pppoe version"))
        );
    }

    #[test]
    fn mpls_stack() {
        let f = eth(&[&[0x88, 0x47, 0, 0x10, 0x00, 64, 0, 0x20, 0x01, 64][..], IP].concat());
        assert_eq!(decode_link(1, &f).unwrap().ip, Some(IP));
        let cut = eth(&[0x88, 0x47, 0, 0x10, 0x00, 64]);
        assert_eq!(decode_link(1, &cut), Err(Error::Truncated("mpls label")));
    }

    #[test]
    fn raw_ip_link_types() {
        for link in [101, 12, 14, 228] {
            assert_eq!(decode_link(link, IP).unwrap().ip, Some(IP), "{link}");
        }
        assert_eq!(decode_link(101, &[]), Err(Error::Truncated("raw ip")));
        assert_eq!(
            decode_link(101, &[0x20]),
            Err(Error::Malformed("raw ip version"))
        );
    }

    #[test]
    fn linux_cooked_v1_and_v2() {
        let mut sll = vec![0, 0, 0, 1, 0, 6];
        sll.extend_from_slice(&SRC);
        sll.extend_from_slice(&[0, 0, 0x08, 0x00]);
        sll.extend_from_slice(IP);
        let fr = decode_link(113, &sll).unwrap();
        assert_eq!((fr.src_mac, fr.ip), (Some(SRC), Some(IP)));
        // Not Ethernet (e.g. ARPHRD_NONE on a tun device): no MAC.
        sll[3] = 0xfe;
        assert_eq!(decode_link(113, &sll).unwrap().src_mac, None);
        assert!(decode_link(113, &sll[..15]).is_err());

        let mut sll2 = vec![0x86, 0xdd, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6];
        sll2.extend_from_slice(&SRC);
        sll2.extend_from_slice(&[0, 0]);
        sll2.extend_from_slice(IP);
        let fr = decode_link(276, &sll2).unwrap();
        assert_eq!((fr.src_mac, fr.ip), (Some(SRC), Some(IP)));
        assert_eq!(
            decode_link(276, &sll2[..19]),
            Err(Error::Truncated("linux cooked v2 header"))
        );
    }

    #[test]
    fn bsd_loopback_both_orders() {
        for fam in [
            [2, 0, 0, 0],
            [0, 0, 0, 2],
            [30, 0, 0, 0],
            [0, 0, 0, 28],
            [24, 0, 0, 0],
        ] {
            let f = [&fam[..], IP].concat();
            assert_eq!(decode_link(0, &f).unwrap().ip, Some(IP), "{fam:?}");
        }
        let f = [&[0, 0, 0, 2][..], IP].concat();
        assert_eq!(decode_link(108, &f).unwrap().ip, Some(IP));
        let f = [&[2, 0, 0, 0][..], IP].concat();
        assert_eq!(
            decode_link(108, &f).unwrap().ip,
            None,
            "LOOP is network order"
        );
        assert_eq!(
            decode_link(0, &[7, 0, 0, 0, 1]).unwrap(),
            Frame {
                src_mac: None,
                dst_mac: None,
                ip: None
            }
        );
        assert_eq!(
            decode_link(0, &[2, 0]),
            Err(Error::Truncated("loopback header"))
        );
    }

    #[test]
    fn ppp_and_hdlc() {
        let f = [&[0xff, 0x03, 0x00, 0x21][..], IP].concat();
        assert_eq!(decode_link(9, &f).unwrap().ip, Some(IP));
        assert_eq!(decode_link(50, &f).unwrap().ip, Some(IP));
        let f = [&[0x21][..], IP].concat();
        assert_eq!(
            decode_link(9, &f).unwrap().ip,
            Some(IP),
            "compressed protocol"
        );
        let f = [&[0x00, 0x57][..], IP].concat();
        assert_eq!(decode_link(9, &f).unwrap().ip, Some(IP));
        let f = [&[0x0f, 0x00, 0x08, 0x00][..], IP].concat();
        assert_eq!(decode_link(104, &f).unwrap().ip, Some(IP));
        assert_eq!(
            decode_link(50, &f).unwrap().ip,
            Some(IP),
            "HDLC in PPP_SERIAL"
        );
        assert_eq!(
            decode_link(9, &[0xff, 0x03]),
            Err(Error::Truncated("ppp header"))
        );
    }

    #[test]
    fn unsupported_link_types() {
        for link in [147, 163, 192, 200] {
            assert_eq!(decode_link(link, IP), Err(Error::Unsupported("link type")));
        }
    }

    proptest! {
        #[test]
        fn never_panics(link in prop_oneof![0u32..300, any::<u32>()],
                        bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(Frame { ip: Some(ip), .. }) = decode_link(link, &bytes) {
                prop_assert!(ip.len() <= bytes.len());
            }
        }
    }
}
