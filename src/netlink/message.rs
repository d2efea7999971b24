//! Checked zero-copy views over netlink datagrams, and builders for the requests we send.
//!
//! Every nfnetlink message the kernel sends us has the same shape: a 16-byte `nlmsghdr`, a
//! 4-byte `nfgenmsg`, then a run of type-length-value attributes (`nlattr`), each padded to 4
//! bytes, some of them nested. NFQUEUE packets, conntrack events and NFLOG packets differ only in
//! which attribute numbers they use, so one parser serves all three: [`Messages`] walks the
//! messages of a datagram, [`NlMsg`] checks one header, [`Attrs`] walks attributes. Each checks
//! lengths once at construction so no accessor can index out of bounds; malformed input yields a
//! [`ParseError`], never a panic. Nothing here allocates.
//!
//! The builders write into a caller-owned `Vec<u8>` whose capacity is reserved once, so the
//! verdict path does not allocate either.
#![forbid(unsafe_code)]

use core::fmt;

/// Layouts of the kernel's structs as byte ranges, one submodule per struct, as smoltcp's
/// `wire` keeps them (`linux/netlink.h`, `linux/netfilter/nfnetlink*.h`). The views below and
/// the NFQUEUE / NFLOG parsers read fields only through these, so each offset is written once.
pub(crate) mod field {
    /// A field's bytes within its struct.
    pub type Field = core::ops::Range<usize>;

    /// `struct nlmsghdr`: length (header included), type, flags, sequence, port id.
    pub mod nlmsghdr {
        use super::Field;
        pub const LEN: Field = 0..4;
        pub const TYPE: Field = 4..6;
        pub const FLAGS: Field = 6..8;
        pub const SEQ: Field = 8..12;
        pub const PID: Field = 12..16;
        pub const SIZE: usize = 16;
    }

    /// `struct nlmsgerr`: the error code, then the request it answers (its header at least).
    pub mod nlmsgerr {
        use super::Field;
        pub const ERROR: Field = 0..4;
        pub const REQUEST: usize = 4;
    }

    /// `struct nfgenmsg`: family, version, resource id (big-endian).
    pub mod nfgenmsg {
        use super::Field;
        pub const FAMILY: usize = 0;
        pub const VERSION: usize = 1;
        pub const RES_ID: Field = 2..4;
        pub const SIZE: usize = 4;
    }

    /// `struct nlattr`: length (header included), type with the nested/byte-order flags.
    pub mod nlattr {
        use super::Field;
        pub const LEN: Field = 0..2;
        pub const TYPE: Field = 2..4;
        pub const SIZE: usize = 4;
    }

    /// `struct nfqnl_msg_packet_hdr` (packed): packet id, hardware protocol, hook.
    pub mod nfqnl_packet_hdr {
        use super::Field;
        pub const PACKET_ID: Field = 0..4;
        pub const HW_PROTOCOL: Field = 4..6;
        pub const HOOK: usize = 6;
        pub const SIZE: usize = 7;
    }

    /// `struct nfqnl_msg_verdict_hdr`: verdict, packet id (both big-endian).
    pub mod nfqnl_verdict_hdr {
        use super::Field;
        pub const VERDICT: Field = 0..4;
        pub const PACKET_ID: Field = 4..8;
        pub const SIZE: usize = 8;
    }

    /// `struct nfqnl_msg_config_cmd`: command, pad, protocol family (unused since 3.8).
    pub mod nfqnl_config_cmd {
        pub const COMMAND: usize = 0;
        pub const SIZE: usize = 4;
    }

    /// `struct nfqnl_msg_config_params` (packed): copy range (big-endian), copy mode.
    pub mod nfqnl_config_params {
        use super::Field;
        pub const COPY_RANGE: Field = 0..4;
        pub const COPY_MODE: usize = 4;
        pub const SIZE: usize = 5;
    }

    /// `struct nfulnl_msg_packet_hdr`: hardware protocol, hook, pad.
    pub mod nfulnl_packet_hdr {
        use super::Field;
        pub const HW_PROTOCOL: Field = 0..2;
        pub const HOOK: usize = 2;
        /// The bytes read (the pad byte is not required).
        pub const READ: usize = 3;
    }

    /// `struct nfulnl_msg_config_cmd`: command.
    pub mod nfulnl_config_cmd {
        pub const COMMAND: usize = 0;
        pub const SIZE: usize = 1;
    }

    /// `struct nfulnl_msg_config_mode` (packed): copy range (big-endian), copy mode, pad.
    pub mod nfulnl_config_mode {
        use super::Field;
        pub const COPY_RANGE: Field = 0..4;
        pub const COPY_MODE: usize = 4;
        pub const SIZE: usize = 6;
    }

    /// `struct nfqnl_msg_packet_hw` / `nfulnl_msg_packet_hw` (the same layout): address
    /// length (big-endian), pad, up to 8 address bytes.
    pub mod packet_hw {
        use super::Field;
        pub const ADDRLEN: Field = 0..2;
        pub const ADDR: usize = 4;
        pub const ADDR_MAX: usize = 8;
    }
}
use field::Field;

/// Size of `struct nlmsghdr`.
pub const NLMSG_HDRLEN: usize = field::nlmsghdr::SIZE;
/// Size of `struct nfgenmsg`.
pub const NFGENMSG_LEN: usize = field::nfgenmsg::SIZE;
/// Size of `struct nlattr`.
pub const NLA_HDRLEN: usize = field::nlattr::SIZE;

/// `nlmsghdr.nlmsg_type` values of the netlink core.
pub const NLMSG_NOOP: u16 = 1;
/// An error or, with error code 0, an acknowledgement.
pub const NLMSG_ERROR: u16 = 2;
/// End of a multipart dump.
pub const NLMSG_DONE: u16 = 3;
/// Data lost (never sent by current kernels).
pub const NLMSG_OVERRUN: u16 = 4;

/// `nlmsghdr.nlmsg_flags`: this is a request.
pub const NLM_F_REQUEST: u16 = 0x1;
/// Part of a multipart message.
pub const NLM_F_MULTI: u16 = 0x2;
/// Ask the kernel for an acknowledgement.
pub const NLM_F_ACK: u16 = 0x4;
/// Error message: the echoed request was cut to its header.
pub const NLM_F_CAPPED: u16 = 0x100;
/// Error message: extended-ACK TLVs follow the echoed request.
pub const NLM_F_ACK_TLVS: u16 = 0x200;

/// `nlattr.nla_type` flag: the payload is a nested attribute run.
pub const NLA_F_NESTED: u16 = 1 << 15;
/// `nlattr.nla_type` flag: the payload is in network byte order.
pub const NLA_F_NET_BYTEORDER: u16 = 1 << 14;
/// Mask of the attribute number proper.
pub const NLA_TYPE_MASK: u16 = !(NLA_F_NESTED | NLA_F_NET_BYTEORDER);

/// Extended-ACK TLV carrying a human-readable message (NUL-terminated).
pub const NLMSGERR_ATTR_MSG: u16 = 1;

/// nfnetlink subsystem ids (high byte of the message type).
pub const NFNL_SUBSYS_CTNETLINK: u8 = 1;
/// NFQUEUE.
pub const NFNL_SUBSYS_QUEUE: u8 = 3;
/// NFLOG (historically "ULOG").
pub const NFNL_SUBSYS_ULOG: u8 = 4;
/// `nfgenmsg.version`.
pub const NFNETLINK_V0: u8 = 0;

/// Rounds a length up to netlink's 4-byte alignment.
pub const fn align4(len: usize) -> usize {
    (len + 3) & !3
}

/// nfnetlink message type: subsystem in the high byte, message in the low byte.
pub const fn nfnl_type(subsys: u8, msg: u8) -> u16 {
    ((subsys as u16) << 8) | msg as u16
}

/// Why bytes from the kernel could not be understood.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// Fewer bytes than a header needs.
    Truncated,
    /// A length field is smaller than its header or runs past the enclosing buffer.
    BadLength,
    /// An attribute has the wrong size for its type.
    BadAttribute {
        /// Attribute number (type masked).
        kind: u16,
    },
    /// A required attribute is absent.
    Missing {
        /// Attribute number.
        kind: u16,
    },
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Truncated => f.write_str("netlink message truncated"),
            ParseError::BadLength => f.write_str("netlink length field out of range"),
            ParseError::BadAttribute { kind } => write!(f, "netlink attribute {kind} malformed"),
            ParseError::Missing { kind } => write!(f, "netlink attribute {kind} missing"),
        }
    }
}

impl std::error::Error for ParseError {}

/// The bytes of field `f`, if the buffer holds them and `f` is `N` bytes wide.
pub(crate) fn field_bytes<const N: usize>(b: &[u8], f: Field) -> Option<[u8; N]> {
    b.get(f)?.try_into().ok()
}

pub(crate) fn be16(b: &[u8], f: Field) -> Option<u16> {
    field_bytes(b, f).map(u16::from_be_bytes)
}

pub(crate) fn be32(b: &[u8], f: Field) -> Option<u32> {
    field_bytes(b, f).map(u32::from_be_bytes)
}

pub(crate) fn ne16(b: &[u8], f: Field) -> Option<u16> {
    field_bytes(b, f).map(u16::from_ne_bytes)
}

fn ne32(b: &[u8], f: Field) -> Option<u32> {
    field_bytes(b, f).map(u32::from_ne_bytes)
}

/// Writes `v` into field `f` of a struct being built (a no-op if `f` lies outside `b` or is not
/// `v`'s width: the builders size `b` from the same layout, so that cannot happen).
pub(crate) fn put(b: &mut [u8], f: Field, v: &[u8]) {
    if let Some(s) = b.get_mut(f) {
        if s.len() == v.len() {
            s.copy_from_slice(v);
        }
    }
}

/// Writes the one-byte field at `at` of a struct being built (a no-op outside `b`).
pub(crate) fn put_u8(b: &mut [u8], at: usize, v: u8) {
    if let Some(x) = b.get_mut(at) {
        *x = v;
    }
}

/// The hardware address in an `NFQA_HWADDR` / `NFULA_HWADDR` value (`struct *_packet_hw`):
/// as many bytes as its length says, at most 8. `None` when the value is too short for it.
pub(crate) fn packet_hw_addr(v: &[u8]) -> Option<&[u8]> {
    use field::packet_hw as f;
    let len = be16(v, f::ADDRLEN)? as usize;
    v.get(f::ADDR..f::ADDR + len.min(f::ADDR_MAX))
}

/// One netlink message, length-checked: `nlmsg_len` is at least the header and fits the buffer.
///
/// Header fields are in host byte order (netlink's own convention); nfnetlink payloads are
/// big-endian.
#[derive(Debug, Clone, Copy)]
pub struct NlMsg<'a> {
    buf: &'a [u8],
}

impl<'a> NlMsg<'a> {
    /// Checks the header of the message at the start of `buf` and views exactly `nlmsg_len` bytes.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, ParseError> {
        let len = ne32(buf, field::nlmsghdr::LEN).ok_or(ParseError::Truncated)? as usize;
        if len < NLMSG_HDRLEN {
            return Err(ParseError::BadLength);
        }
        let buf = buf.get(..len).ok_or(ParseError::BadLength)?;
        Ok(NlMsg { buf })
    }

    /// `nlmsg_len`: header plus payload, without trailing padding.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Never true: a checked message holds at least its header.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// `nlmsg_type`.
    pub fn msg_type(&self) -> u16 {
        ne16(self.buf, field::nlmsghdr::TYPE).unwrap_or(0)
    }

    /// `nlmsg_flags`.
    pub fn flags(&self) -> u16 {
        ne16(self.buf, field::nlmsghdr::FLAGS).unwrap_or(0)
    }

    /// `nlmsg_seq`.
    pub fn seq(&self) -> u32 {
        ne32(self.buf, field::nlmsghdr::SEQ).unwrap_or(0)
    }

    /// `nlmsg_pid` (port id of the sender; 0 for the kernel).
    pub fn pid(&self) -> u32 {
        ne32(self.buf, field::nlmsghdr::PID).unwrap_or(0)
    }

    /// Bytes after the header.
    pub fn payload(&self) -> &'a [u8] {
        self.buf.get(NLMSG_HDRLEN..).unwrap_or(&[])
    }

    /// The whole message, header included.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// The nfnetlink subsystem (high byte of the type).
    pub fn subsys(&self) -> u8 {
        (self.msg_type() >> 8) as u8
    }

    /// The subsystem's message number (low byte of the type).
    pub fn subsys_msg(&self) -> u8 {
        (self.msg_type() & 0xff) as u8
    }

    /// Views the payload as `nfgenmsg` followed by attributes.
    pub fn nfgen(&self) -> Result<NfGenMsg<'a>, ParseError> {
        NfGenMsg::new_checked(self.payload())
    }

    /// For an `NLMSG_ERROR` message: the error code (0 = acknowledgement, else `-errno`).
    pub fn error_code(&self) -> Result<i32, ParseError> {
        let p = self.payload();
        let s = field_bytes(p, field::nlmsgerr::ERROR).ok_or(ParseError::Truncated)?;
        Ok(i32::from_ne_bytes(s))
    }

    /// For an `NLMSG_ERROR` message: the header of the request it answers.
    pub fn error_request(&self) -> Result<NlMsg<'a>, ParseError> {
        let p = self
            .payload()
            .get(field::nlmsgerr::REQUEST..)
            .ok_or(ParseError::Truncated)?;
        // The echoed request may be capped to its header: view only what is present.
        let len = ne32(p, field::nlmsghdr::LEN).ok_or(ParseError::Truncated)? as usize;
        let have = if self.flags() & NLM_F_CAPPED != 0 {
            NLMSG_HDRLEN
        } else {
            len
        };
        let s = p.get(..have.min(p.len())).ok_or(ParseError::Truncated)?;
        if s.len() < NLMSG_HDRLEN {
            return Err(ParseError::Truncated);
        }
        Ok(NlMsg { buf: s })
    }

    /// For an `NLMSG_ERROR` message with `NLM_F_ACK_TLVS`: the extended-ACK text, if any.
    pub fn ext_ack_msg(&self) -> Option<&'a str> {
        if self.flags() & NLM_F_ACK_TLVS == 0 {
            return None;
        }
        let p = self.payload().get(field::nlmsgerr::REQUEST..)?;
        let req_len = ne32(p, field::nlmsghdr::LEN)? as usize;
        let skip = if self.flags() & NLM_F_CAPPED != 0 {
            NLMSG_HDRLEN
        } else {
            align4(req_len)
        };
        let tlvs = p.get(skip..)?;
        for a in Attrs::new(tlvs) {
            let a = a.ok()?;
            if a.kind() == NLMSGERR_ATTR_MSG {
                let v = a.value();
                let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
                return core::str::from_utf8(v.get(..end)?).ok();
            }
        }
        None
    }
}

/// Iterates over the messages packed in one datagram. Stops after the first malformed one.
#[derive(Debug, Clone)]
pub struct Messages<'a> {
    rest: &'a [u8],
}

impl<'a> Messages<'a> {
    /// Walks `datagram` (the bytes one `recv` returned).
    pub fn new(datagram: &'a [u8]) -> Self {
        Messages { rest: datagram }
    }
}

impl<'a> Iterator for Messages<'a> {
    type Item = Result<NlMsg<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match NlMsg::new_checked(self.rest) {
            Ok(m) => {
                let step = align4(m.len());
                self.rest = self.rest.get(step..).unwrap_or(&[]);
                Some(Ok(m))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

/// `struct nfgenmsg` followed by the message's attributes.
#[derive(Debug, Clone, Copy)]
pub struct NfGenMsg<'a> {
    buf: &'a [u8],
}

impl<'a> NfGenMsg<'a> {
    /// Checks that `payload` holds at least the 4-byte `nfgenmsg`.
    pub fn new_checked(payload: &'a [u8]) -> Result<Self, ParseError> {
        if payload.len() < NFGENMSG_LEN {
            return Err(ParseError::Truncated);
        }
        Ok(NfGenMsg { buf: payload })
    }

    /// `nfgen_family` (AF_INET, AF_INET6, AF_UNSPEC …).
    pub fn family(&self) -> u8 {
        self.buf.get(field::nfgenmsg::FAMILY).copied().unwrap_or(0)
    }

    /// `version` (0).
    pub fn version(&self) -> u8 {
        self.buf.get(field::nfgenmsg::VERSION).copied().unwrap_or(0)
    }

    /// `res_id`: queue number, log group … (big-endian on the wire).
    pub fn res_id(&self) -> u16 {
        be16(self.buf, field::nfgenmsg::RES_ID).unwrap_or(0)
    }

    /// The attributes after the header.
    pub fn attrs(&self) -> Attrs<'a> {
        Attrs::new(self.buf.get(NFGENMSG_LEN..).unwrap_or(&[]))
    }
}

/// One attribute: number (flags masked off), whether it is nested, and its value bytes.
#[derive(Debug, Clone, Copy)]
pub struct Attr<'a> {
    kind: u16,
    nested: bool,
    value: &'a [u8],
}

impl<'a> Attr<'a> {
    /// Attribute number with `NLA_F_NESTED`/`NLA_F_NET_BYTEORDER` masked off.
    pub fn kind(&self) -> u16 {
        self.kind
    }

    /// Whether the sender flagged the value as a nested attribute run.
    pub fn is_nested(&self) -> bool {
        self.nested
    }

    /// The value bytes (without padding).
    pub fn value(&self) -> &'a [u8] {
        self.value
    }

    /// The value as one byte; its length must be exactly 1.
    pub fn u8(&self) -> Result<u8, ParseError> {
        match self.value {
            [b] => Ok(*b),
            _ => Err(ParseError::BadAttribute { kind: self.kind }),
        }
    }

    /// The value as a big-endian u16; its length must be exactly 2.
    pub fn be16(&self) -> Result<u16, ParseError> {
        match self.value {
            [a, b] => Ok(u16::from_be_bytes([*a, *b])),
            _ => Err(ParseError::BadAttribute { kind: self.kind }),
        }
    }

    /// The value as a big-endian u32; its length must be exactly 4.
    pub fn be32(&self) -> Result<u32, ParseError> {
        match self.value {
            [a, b, c, d] => Ok(u32::from_be_bytes([*a, *b, *c, *d])),
            _ => Err(ParseError::BadAttribute { kind: self.kind }),
        }
    }

    /// The value as a fixed-size array (addresses); its length must be exactly `N`.
    pub fn array<const N: usize>(&self) -> Result<[u8; N], ParseError> {
        self.value
            .try_into()
            .map_err(|_| ParseError::BadAttribute { kind: self.kind })
    }

    /// The value as a nested attribute run.
    pub fn nested(&self) -> Attrs<'a> {
        Attrs::new(self.value)
    }
}

/// Iterates over an attribute run. Stops after the first malformed attribute.
///
/// Attributes start on 4-byte boundaries (the iterator advances by the padded length); an
/// attribute whose header is short or whose length runs past the run is an error. The last
/// attribute may lack its trailing padding.
#[derive(Debug, Clone)]
pub struct Attrs<'a> {
    rest: &'a [u8],
}

impl<'a> Attrs<'a> {
    /// Walks `buf` as a run of attributes.
    pub fn new(buf: &'a [u8]) -> Self {
        Attrs { rest: buf }
    }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = Result<Attr<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let r = (|| {
            let len = ne16(self.rest, field::nlattr::LEN).ok_or(ParseError::Truncated)? as usize;
            let ty = ne16(self.rest, field::nlattr::TYPE).ok_or(ParseError::Truncated)?;
            if len < NLA_HDRLEN {
                return Err(ParseError::BadLength);
            }
            let value = self
                .rest
                .get(NLA_HDRLEN..len)
                .ok_or(ParseError::BadLength)?;
            Ok((
                Attr {
                    kind: ty & NLA_TYPE_MASK,
                    nested: ty & NLA_F_NESTED != 0,
                    value,
                },
                len,
            ))
        })();
        match r {
            Ok((a, len)) => {
                self.rest = self.rest.get(align4(len)..).unwrap_or(&[]);
                Some(Ok(a))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

/// Writes one netlink request into a caller-owned buffer; [`MsgBuilder::finish`] patches the
/// length. Appends only, so several messages can be batched in one buffer for one `sendmsg`.
#[derive(Debug)]
pub struct MsgBuilder<'v> {
    buf: &'v mut Vec<u8>,
    start: usize,
}

impl<'v> MsgBuilder<'v> {
    /// Starts a message (16-byte header, length patched later) at the end of `buf`.
    pub fn new(buf: &'v mut Vec<u8>, msg_type: u16, flags: u16, seq: u32) -> Self {
        let start = buf.len();
        buf.extend_from_slice(&0u32.to_ne_bytes());
        buf.extend_from_slice(&msg_type.to_ne_bytes());
        buf.extend_from_slice(&flags.to_ne_bytes());
        buf.extend_from_slice(&seq.to_ne_bytes());
        buf.extend_from_slice(&0u32.to_ne_bytes());
        MsgBuilder { buf, start }
    }

    /// Starts an nfnetlink message: header plus `nfgenmsg {family, version 0, res_id}`.
    pub fn nfgen(
        buf: &'v mut Vec<u8>,
        subsys: u8,
        msg: u8,
        flags: u16,
        seq: u32,
        family: u8,
        res_id: u16,
    ) -> Self {
        let b = MsgBuilder::new(buf, nfnl_type(subsys, msg), flags, seq);
        b.buf.push(family);
        b.buf.push(NFNETLINK_V0);
        b.buf.extend_from_slice(&res_id.to_be_bytes());
        b
    }

    fn pad(&mut self) {
        while (self.buf.len() - self.start) % 4 != 0 {
            self.buf.push(0);
        }
    }

    /// Appends an attribute with raw value bytes (padded to 4).
    pub fn attr(&mut self, kind: u16, value: &[u8]) -> &mut Self {
        self.pad();
        let len = (NLA_HDRLEN + value.len()) as u16;
        self.buf.extend_from_slice(&len.to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(value);
        self.pad();
        self
    }

    /// Appends a big-endian u32 attribute.
    pub fn attr_be32(&mut self, kind: u16, v: u32) -> &mut Self {
        self.attr(kind, &v.to_be_bytes())
    }

    /// Opens a nested attribute; returns its offset for [`MsgBuilder::nest_end`].
    pub fn nest_start(&mut self, kind: u16) -> usize {
        self.pad();
        let at = self.buf.len();
        self.buf.extend_from_slice(&0u16.to_ne_bytes());
        self.buf
            .extend_from_slice(&(kind | NLA_F_NESTED).to_ne_bytes());
        at
    }

    /// Closes a nested attribute opened at `at`.
    pub fn nest_end(&mut self, at: usize) -> &mut Self {
        let len = (self.buf.len() - at) as u16;
        let f = field::nlattr::LEN;
        if let Some(s) = self.buf.get_mut(at + f.start..at + f.end) {
            s.copy_from_slice(&len.to_ne_bytes());
        }
        self
    }

    /// Patches `nlmsg_len`; returns the message's length.
    pub fn finish(mut self) -> usize {
        self.pad();
        let len = self.buf.len() - self.start;
        let f = field::nlmsghdr::LEN;
        if let Some(s) = self.buf.get_mut(self.start + f.start..self.start + f.end) {
            s.copy_from_slice(&(len as u32).to_ne_bytes());
        }
        len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hdr(len: u32, ty: u16, flags: u16, seq: u32) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&len.to_ne_bytes());
        v.extend_from_slice(&ty.to_ne_bytes());
        v.extend_from_slice(&flags.to_ne_bytes());
        v.extend_from_slice(&seq.to_ne_bytes());
        v.extend_from_slice(&0u32.to_ne_bytes());
        v
    }

    #[test]
    fn builder_exact_bytes() {
        let mut buf = Vec::new();
        let mut b = MsgBuilder::nfgen(&mut buf, NFNL_SUBSYS_QUEUE, 1, NLM_F_REQUEST, 7, 0, 0x0102);
        b.attr(1, &[0xaa, 0xbb, 0xcc]);
        b.attr_be32(3, 0x11223344);
        let n = b.finish();
        let mut want = hdr(36, 0x0301, 1, 7);
        want.extend_from_slice(&[0, 0, 0x01, 0x02]); // nfgenmsg
        want.extend_from_slice(&7u16.to_ne_bytes());
        want.extend_from_slice(&1u16.to_ne_bytes());
        want.extend_from_slice(&[0xaa, 0xbb, 0xcc, 0]); // padded
        want.extend_from_slice(&8u16.to_ne_bytes());
        want.extend_from_slice(&3u16.to_ne_bytes());
        want.extend_from_slice(&[0x11, 0x22, 0x33, 0x44]);
        assert_eq!(n, 36);
        assert_eq!(buf, want);
    }

    #[test]
    fn builder_nested_and_appends() {
        let mut buf = vec![0xee; 4]; // something already batched
        let mut b = MsgBuilder::new(&mut buf, 0x10, 0, 1);
        let at = b.nest_start(1);
        b.attr(2, &[1]);
        b.nest_end(at);
        let n = b.finish();
        assert_eq!(n, 16 + 4 + 8);
        let m = NlMsg::new_checked(&buf[4..]).unwrap();
        let a = Attrs::new(m.payload()).next().unwrap().unwrap();
        assert_eq!(a.kind(), 1);
        assert!(a.is_nested());
        let inner = a.nested().next().unwrap().unwrap();
        assert_eq!((inner.kind(), inner.u8().unwrap()), (2, 1));
    }

    #[test]
    fn messages_walks_datagram() {
        let mut d = hdr(20, 0x0300, 0, 1);
        d.extend_from_slice(&[2, 0, 0, 5]);
        d.extend_from_slice(&hdr(16, NLMSG_DONE, 0, 2));
        let ms: Vec<_> = Messages::new(&d).collect();
        assert_eq!(ms.len(), 2);
        let m0 = ms[0].unwrap();
        assert_eq!((m0.subsys(), m0.subsys_msg(), m0.seq()), (3, 0, 1));
        let g = m0.nfgen().unwrap();
        assert_eq!((g.family(), g.res_id()), (2, 5));
        assert_eq!(ms[1].unwrap().msg_type(), NLMSG_DONE);
    }

    #[test]
    fn rejects_bad_lengths() {
        assert_eq!(
            NlMsg::new_checked(&[1, 2]).unwrap_err(),
            ParseError::Truncated
        );
        let short = hdr(8, 0, 0, 0);
        assert_eq!(
            NlMsg::new_checked(&short).unwrap_err(),
            ParseError::BadLength
        );
        let long = hdr(64, 0, 0, 0);
        assert_eq!(
            NlMsg::new_checked(&long).unwrap_err(),
            ParseError::BadLength
        );
        // attribute with nla_len 2 (< header)
        let a = [2u8, 0, 1, 0];
        let mut it = Attrs::new(&a);
        assert!(it.next().unwrap().is_err());
        assert!(it.next().is_none());
        // attribute running past the run
        let mut b = Vec::new();
        b.extend_from_slice(&12u16.to_ne_bytes());
        b.extend_from_slice(&1u16.to_ne_bytes());
        b.extend_from_slice(&[0; 4]);
        assert_eq!(
            Attrs::new(&b).next().unwrap().unwrap_err(),
            ParseError::BadLength
        );
        // dangling 2 bytes
        assert_eq!(
            Attrs::new(&[8, 0]).next().unwrap().unwrap_err(),
            ParseError::Truncated
        );
    }

    #[test]
    fn typed_accessors_check_size() {
        let mut b = Vec::new();
        b.extend_from_slice(&7u16.to_ne_bytes());
        b.extend_from_slice(&5u16.to_ne_bytes());
        b.extend_from_slice(&[1, 2, 3, 0]);
        let a = Attrs::new(&b).next().unwrap().unwrap();
        assert!(a.be32().is_err());
        assert!(a.be16().is_err());
        assert!(a.array::<3>().is_ok());
    }

    #[test]
    fn error_message_and_ext_ack() {
        // NLMSG_ERROR, -EPERM, echoed request capped, TLV msg "nope"
        let mut e = hdr(0, NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS, 9);
        e.extend_from_slice(&(-1i32).to_ne_bytes());
        e.extend_from_slice(&hdr(40, 0x0302, 5, 9));
        e.extend_from_slice(&9u16.to_ne_bytes());
        e.extend_from_slice(&NLMSGERR_ATTR_MSG.to_ne_bytes());
        e.extend_from_slice(b"nope\0\0\0\0");
        let len = e.len() as u32;
        e[..4].copy_from_slice(&len.to_ne_bytes());
        let m = NlMsg::new_checked(&e).unwrap();
        assert_eq!(m.error_code().unwrap(), -1);
        assert_eq!(m.error_request().unwrap().seq(), 9);
        assert_eq!(m.ext_ack_msg(), Some("nope"));
    }

    proptest! {
        #[test]
        fn garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..256)) {
            for m in Messages::new(&data) {
                let Ok(m) = m else { continue };
                let _ = (m.msg_type(), m.flags(), m.seq(), m.pid(), m.error_code());
                let _ = m.error_request();
                let _ = m.ext_ack_msg();
                if let Ok(g) = m.nfgen() {
                    for a in g.attrs().flatten() {
                        let _ = (a.u8(), a.be16(), a.be32(), a.array::<16>());
                        for n in a.nested().flatten() { let _ = n.be32(); }
                    }
                }
            }
            for a in Attrs::new(&data).flatten() { let _ = a.value(); }
        }
    }
}
