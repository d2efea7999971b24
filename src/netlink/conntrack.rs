//! Conntrack events (ctnetlink): the daemon learns when a flow is created and when it is
//! destroyed, so its flow table can follow the kernel's.
//!
//! Subscribes to the `NFNLGRP_CONNTRACK_NEW` and `NFNLGRP_CONNTRACK_DESTROY` multicast groups and
//! parses `IPCTNL_MSG_CT_NEW`/`IPCTNL_MSG_CT_DELETE` messages into [`ConntrackEvent`] (original
//! direction tuple, mark, id). Conntrack only tracks a network namespace once some rule there uses
//! `ct`; without one no events come.
#![forbid(unsafe_code)]

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::message::{Attrs, Messages, NlMsg, ParseError, NFNL_SUBSYS_CTNETLINK};
use super::socket::{NetlinkSocket, Recv};
use super::NetlinkError;

/// `cntl_msg_types`.
const IPCTNL_MSG_CT_NEW: u8 = 0;
const IPCTNL_MSG_CT_DELETE: u8 = 2;

/// nfnetlink multicast groups.
const NFNLGRP_CONNTRACK_NEW: u32 = 1;
const NFNLGRP_CONNTRACK_DESTROY: u32 = 3;

/// `ctattr_type`.
const CTA_TUPLE_ORIG: u16 = 1;
const CTA_MARK: u16 = 8;
const CTA_ID: u16 = 12;
/// `ctattr_tuple`.
const CTA_TUPLE_IP: u16 = 1;
const CTA_TUPLE_PROTO: u16 = 2;
/// `ctattr_ip`.
const CTA_IP_V4_SRC: u16 = 1;
const CTA_IP_V4_DST: u16 = 2;
const CTA_IP_V6_SRC: u16 = 3;
const CTA_IP_V6_DST: u16 = 4;
/// `ctattr_l4proto`.
const CTA_PROTO_NUM: u16 = 1;
const CTA_PROTO_SRC_PORT: u16 = 2;
const CTA_PROTO_DST_PORT: u16 = 3;

/// Whether a flow began or ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CtEventKind {
    /// A new conntrack entry was confirmed.
    New,
    /// The entry was destroyed (timeout, `conntrack -D`, flush).
    Destroy,
}

/// One conntrack event, original direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConntrackEvent {
    /// New or destroy.
    pub kind: CtEventKind,
    /// IP protocol number (6 TCP, 17 UDP, 1 ICMP …).
    pub proto: u8,
    /// Source address of the original direction.
    pub src: IpAddr,
    /// Source port (0 for protocols without ports).
    pub sport: u16,
    /// Destination address of the original direction.
    pub dst: IpAddr,
    /// Destination port (0 for protocols without ports).
    pub dport: u16,
    /// Connection mark (0 when unset).
    pub mark: u32,
    /// The kernel's id of the entry, when present.
    pub id: Option<u32>,
}

fn parse_tuple(attrs: Attrs<'_>) -> Result<(u8, IpAddr, u16, IpAddr, u16), ParseError> {
    let (mut proto, mut sport, mut dport) = (None, 0, 0);
    let (mut src, mut dst) = (None, None);
    for a in attrs {
        let a = a?;
        match a.kind() {
            CTA_TUPLE_IP => {
                for ip in a.nested() {
                    let ip = ip?;
                    match ip.kind() {
                        CTA_IP_V4_SRC => src = Some(IpAddr::V4(Ipv4Addr::from(ip.array::<4>()?))),
                        CTA_IP_V4_DST => dst = Some(IpAddr::V4(Ipv4Addr::from(ip.array::<4>()?))),
                        CTA_IP_V6_SRC => src = Some(IpAddr::V6(Ipv6Addr::from(ip.array::<16>()?))),
                        CTA_IP_V6_DST => dst = Some(IpAddr::V6(Ipv6Addr::from(ip.array::<16>()?))),
                        _ => {}
                    }
                }
            }
            CTA_TUPLE_PROTO => {
                for p in a.nested() {
                    let p = p?;
                    match p.kind() {
                        CTA_PROTO_NUM => proto = Some(p.u8()?),
                        CTA_PROTO_SRC_PORT => sport = p.be16()?,
                        CTA_PROTO_DST_PORT => dport = p.be16()?,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    let missing = |kind| ParseError::Missing { kind };
    Ok((
        proto.ok_or(missing(CTA_TUPLE_PROTO))?,
        src.ok_or(missing(CTA_TUPLE_IP))?,
        sport,
        dst.ok_or(missing(CTA_TUPLE_IP))?,
        dport,
    ))
}

impl ConntrackEvent {
    /// Parses a ctnetlink message; `Ok(None)` for messages that are not NEW/DELETE events.
    pub fn parse(msg: &NlMsg<'_>) -> Result<Option<Self>, ParseError> {
        if msg.subsys() != NFNL_SUBSYS_CTNETLINK {
            return Ok(None);
        }
        let kind = match msg.subsys_msg() {
            IPCTNL_MSG_CT_NEW => CtEventKind::New,
            IPCTNL_MSG_CT_DELETE => CtEventKind::Destroy,
            _ => return Ok(None),
        };
        let g = msg.nfgen()?;
        let (mut tuple, mut mark, mut id) = (None, 0, None);
        for a in g.attrs() {
            let a = a?;
            match a.kind() {
                CTA_TUPLE_ORIG => tuple = Some(parse_tuple(a.nested())?),
                CTA_MARK => mark = a.be32()?,
                CTA_ID => id = Some(a.be32()?),
                _ => {}
            }
        }
        let (proto, src, sport, dst, dport) = tuple.ok_or(ParseError::Missing {
            kind: CTA_TUPLE_ORIG,
        })?;
        Ok(Some(ConntrackEvent {
            kind,
            proto,
            src,
            sport,
            dst,
            dport,
            mark,
            id,
        }))
    }
}

/// Counters of the event socket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConntrackStats {
    /// Events handed to the callback.
    pub events: u64,
    /// Receive-queue overruns (`ENOBUFS`): events were lost.
    pub enobufs: u64,
    /// Messages that could not be parsed, or datagrams larger than the buffer.
    pub malformed: u64,
}

/// A socket subscribed to conntrack NEW and DESTROY events.
#[derive(Debug)]
pub struct ConntrackEvents {
    sock: NetlinkSocket,
    stats: ConntrackStats,
}

impl ConntrackEvents {
    /// Subscribes (needs CAP_NET_ADMIN); `rcvbuf` bytes of receive buffer (0 = default).
    pub fn open(rcvbuf: usize) -> Result<Self, NetlinkError> {
        let groups = (1 << (NFNLGRP_CONNTRACK_NEW - 1)) | (1 << (NFNLGRP_CONNTRACK_DESTROY - 1));
        Self::open_groups(rcvbuf, groups)
    }

    /// DESTROY events only: what the daemon needs (a flow the kernel forgot frees its entry).
    /// Every NEW event would cost the kernel a message and the daemon a wake-up per connection.
    pub fn open_destroy_only(rcvbuf: usize) -> Result<Self, NetlinkError> {
        Self::open_groups(rcvbuf, 1 << (NFNLGRP_CONNTRACK_DESTROY - 1))
    }

    fn open_groups(rcvbuf: usize, groups: u32) -> Result<Self, NetlinkError> {
        let sock = NetlinkSocket::open(groups)?;
        if rcvbuf > 0 {
            sock.set_rcvbuf(rcvbuf)?;
        }
        Ok(ConntrackEvents {
            sock,
            stats: ConntrackStats::default(),
        })
    }

    /// The socket's fd, to poll for `POLLIN`.
    pub fn fd(&self) -> std::os::fd::RawFd {
        self.sock.fd()
    }

    /// The underlying socket.
    pub fn socket(&self) -> &NetlinkSocket {
        &self.sock
    }

    /// Counters so far.
    pub fn stats(&self) -> ConntrackStats {
        self.stats
    }

    /// Reads up to 64 datagrams without blocking (into `buf`, 8 KiB is plenty) and calls `f` for
    /// each event. Returns the number of events.
    pub fn recv<F>(&mut self, buf: &mut [u8], mut f: F) -> Result<usize, NetlinkError>
    where
        F: FnMut(&ConntrackEvent),
    {
        let mut n_events = 0;
        for _ in 0..64 {
            match self.sock.recv(buf)? {
                Recv::Data(n) => {
                    for m in Messages::new(buf.get(..n).unwrap_or(&[])) {
                        match m.map(|m| ConntrackEvent::parse(&m)) {
                            Ok(Ok(Some(ev))) => {
                                self.stats.events += 1;
                                n_events += 1;
                                f(&ev);
                            }
                            Ok(Ok(None)) => {}
                            Ok(Err(_)) | Err(_) => self.stats.malformed += 1,
                        }
                    }
                }
                Recv::WouldBlock => break,
                Recv::Overrun => self.stats.enobufs += 1,
                Recv::Truncated(_) => self.stats.malformed += 1,
                Recv::Foreign => {}
            }
        }
        Ok(n_events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netlink::message::MsgBuilder;
    use proptest::prelude::*;

    fn event(msg: u8, v6: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let mut b = MsgBuilder::nfgen(&mut out, NFNL_SUBSYS_CTNETLINK, msg, 0, 0, 2, 0);
        let t = b.nest_start(CTA_TUPLE_ORIG);
        let ip = b.nest_start(CTA_TUPLE_IP);
        if v6 {
            b.attr(
                CTA_IP_V6_SRC,
                &[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            );
            b.attr(
                CTA_IP_V6_DST,
                &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            );
        } else {
            b.attr(CTA_IP_V4_SRC, &[192, 168, 1, 5]);
            b.attr(CTA_IP_V4_DST, &[1, 2, 3, 4]);
        }
        b.nest_end(ip);
        let p = b.nest_start(CTA_TUPLE_PROTO);
        b.attr(CTA_PROTO_NUM, &[6]);
        b.attr(CTA_PROTO_SRC_PORT, &40000u16.to_be_bytes());
        b.attr(CTA_PROTO_DST_PORT, &80u16.to_be_bytes());
        b.nest_end(p);
        b.nest_end(t);
        b.attr_be32(CTA_ID, 0xdead);
        b.attr_be32(CTA_MARK, 0x42);
        b.finish();
        out
    }

    #[test]
    fn parses_new_v4() {
        let d = event(IPCTNL_MSG_CT_NEW, false);
        let ev = ConntrackEvent::parse(&NlMsg::new_checked(&d).unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(
            ev,
            ConntrackEvent {
                kind: CtEventKind::New,
                proto: 6,
                src: "192.168.1.5".parse().unwrap(),
                sport: 40000,
                dst: "1.2.3.4".parse().unwrap(),
                dport: 80,
                mark: 0x42,
                id: Some(0xdead),
            }
        );
    }

    #[test]
    fn parses_destroy_v6_and_ignores_others() {
        let d = event(IPCTNL_MSG_CT_DELETE, true);
        let ev = ConntrackEvent::parse(&NlMsg::new_checked(&d).unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(ev.kind, CtEventKind::Destroy);
        assert_eq!(ev.dst, "::1".parse::<IpAddr>().unwrap());
        let d = event(1, false); // IPCTNL_MSG_CT_GET
        assert_eq!(
            ConntrackEvent::parse(&NlMsg::new_checked(&d).unwrap()),
            Ok(None)
        );
    }

    #[test]
    fn rejects_wrong_address_size() {
        let mut d = event(IPCTNL_MSG_CT_NEW, false);
        // cut the message inside the tuple: length field says less than the nest
        let len = 40u32;
        d.truncate(40);
        d[..4].copy_from_slice(&len.to_ne_bytes());
        assert!(ConntrackEvent::parse(&NlMsg::new_checked(&d).unwrap()).is_err());
    }

    proptest! {
        #[test]
        fn garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            for m in Messages::new(&data).flatten() {
                let _ = ConntrackEvent::parse(&m);
            }
        }

        #[test]
        fn mutated_events_never_panic(flip in 0usize..120, x in any::<u8>(), cut in 0usize..130) {
            let mut d = event(IPCTNL_MSG_CT_NEW, true);
            if let Some(b) = d.get_mut(flip) { *b ^= x; }
            d.truncate(cut);
            for m in Messages::new(&d).flatten() {
                let _ = ConntrackEvent::parse(&m);
            }
        }
    }
}
