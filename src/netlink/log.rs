//! NFLOG: copies of packets, delivered without holding the packets back.
//!
//! The daemon binds one log group and an nft rule (`… log group G`) on the router's DNS answers
//! to LAN devices sends them here, so names can be learned for addresses without delaying DNS.
//!
//! The configuration binds the group, asks for the packet bytes (`NFULNL_COPY_PACKET` with a
//! range) and sets the queue threshold to 1 so each packet is sent at once instead of batched
//! for up to a second. The per-family `PF_BIND` command is not sent: on current kernels it only
//! changes which logger handles plain `log` rules system-wide, which group logging does not need.
#![forbid(unsafe_code)]

use super::message::{be16, field, packet_hw_addr, put, put_u8};
use super::message::{
    Messages, MsgBuilder, NlMsg, ParseError, NFNL_SUBSYS_ULOG, NLMSG_ERROR, NLM_F_ACK,
    NLM_F_REQUEST,
};
use super::socket::{NetlinkSocket, Recv};
use super::NetlinkError;

/// `nfulnl_msg_types`.
const NFULNL_MSG_PACKET: u8 = 0;
const NFULNL_MSG_CONFIG: u8 = 1;

/// `nfulnl_attr_type`.
const NFULA_PACKET_HDR: u16 = 1;
const NFULA_MARK: u16 = 2;
const NFULA_IFINDEX_INDEV: u16 = 4;
const NFULA_IFINDEX_OUTDEV: u16 = 5;
const NFULA_HWADDR: u16 = 8;
const NFULA_PAYLOAD: u16 = 9;
const NFULA_PREFIX: u16 = 10;

/// `nfulnl_attr_config`.
const NFULA_CFG_CMD: u16 = 1;
const NFULA_CFG_MODE: u16 = 2;
const NFULA_CFG_QTHRESH: u16 = 5;

/// `nfulnl_msg_config_cmds`.
const NFULNL_CFG_CMD_BIND: u8 = 1;
/// Copy the packet bytes.
const NFULNL_COPY_PACKET: u8 = 2;

/// How to set up the log group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogConfig {
    /// Log group (`log group G`).
    pub group: u16,
    /// Bytes of each packet to copy (a DNS answer over UDP fits in 1500; 0xffff for all).
    pub copy_range: u32,
    /// Socket receive buffer in bytes (0 = default).
    pub rcvbuf: usize,
}

impl LogConfig {
    /// Group `group`, copying up to `copy_range` bytes, 1 MiB receive buffer.
    pub const fn new(group: u16, copy_range: u32) -> Self {
        LogConfig {
            group,
            copy_range,
            rcvbuf: 1 << 20,
        }
    }
}

/// One logged packet. Borrows the receive buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogPacket<'a> {
    /// The group it was logged to.
    pub group: u16,
    /// Address family (AF_INET 2, AF_INET6 10, …).
    pub family: u8,
    /// Ethertype, from `NFULA_PACKET_HDR` (0 if absent).
    pub hw_protocol: u16,
    /// Netfilter hook number.
    pub hook: u8,
    /// The IP packet (at most `copy_range` bytes).
    pub payload: &'a [u8],
    /// The rule's log prefix, without the trailing NUL.
    pub prefix: Option<&'a [u8]>,
    /// Source link-layer address.
    pub hwaddr: Option<&'a [u8]>,
    /// Packet mark.
    pub mark: Option<u32>,
    /// Input interface index.
    pub indev: Option<u32>,
    /// Output interface index.
    pub outdev: Option<u32>,
}

impl<'a> LogPacket<'a> {
    /// Parses an `NFULNL_MSG_PACKET` message.
    pub fn parse(msg: &NlMsg<'a>) -> Result<Self, ParseError> {
        let g = msg.nfgen()?;
        let mut p = LogPacket {
            group: g.res_id(),
            family: g.family(),
            hw_protocol: 0,
            hook: 0,
            payload: &[],
            prefix: None,
            hwaddr: None,
            mark: None,
            indev: None,
            outdev: None,
        };
        for a in g.attrs() {
            let a = a?;
            match a.kind() {
                NFULA_PACKET_HDR => {
                    use field::nfulnl_packet_hdr as f;
                    let bad = ParseError::BadAttribute {
                        kind: NFULA_PACKET_HDR,
                    };
                    let h = a.value().get(..f::READ).ok_or(bad)?;
                    p.hw_protocol = be16(h, f::HW_PROTOCOL).ok_or(bad)?;
                    p.hook = *h.get(f::HOOK).ok_or(bad)?;
                }
                NFULA_PAYLOAD => p.payload = a.value(),
                NFULA_PREFIX => {
                    let v = a.value();
                    let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
                    p.prefix = v.get(..end);
                }
                NFULA_MARK => p.mark = Some(a.be32()?),
                NFULA_IFINDEX_INDEV => p.indev = Some(a.be32()?),
                NFULA_IFINDEX_OUTDEV => p.outdev = Some(a.be32()?),
                NFULA_HWADDR => {
                    let bad = ParseError::BadAttribute { kind: NFULA_HWADDR };
                    p.hwaddr = Some(packet_hw_addr(a.value()).ok_or(bad)?);
                }
                _ => {}
            }
        }
        Ok(p)
    }
}

/// Counters of the log socket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogStats {
    /// Packets handed to the callback.
    pub packets: u64,
    /// Receive-queue overruns (`ENOBUFS`): packets were lost to us (never to the network).
    pub enobufs: u64,
    /// Unparsable messages or datagrams larger than the buffer.
    pub malformed: u64,
}

/// A socket bound to one NFLOG group.
#[derive(Debug)]
pub struct Log {
    sock: NetlinkSocket,
    group: u16,
    stats: LogStats,
}

/// Writes the configuration request: bind the group, copy mode and range, threshold 1.
pub fn build_config(out: &mut Vec<u8>, cfg: &LogConfig, seq: u32) -> usize {
    let mut b = MsgBuilder::nfgen(
        out,
        NFNL_SUBSYS_ULOG,
        NFULNL_MSG_CONFIG,
        NLM_F_REQUEST | NLM_F_ACK,
        seq,
        0,
        cfg.group,
    );
    let mut cmd = [0; field::nfulnl_config_cmd::SIZE];
    put_u8(
        &mut cmd,
        field::nfulnl_config_cmd::COMMAND,
        NFULNL_CFG_CMD_BIND,
    );
    b.attr(NFULA_CFG_CMD, &cmd);
    let mut mode = [0; field::nfulnl_config_mode::SIZE];
    put(
        &mut mode,
        field::nfulnl_config_mode::COPY_RANGE,
        &cfg.copy_range.to_be_bytes(),
    );
    put_u8(
        &mut mode,
        field::nfulnl_config_mode::COPY_MODE,
        NFULNL_COPY_PACKET,
    );
    b.attr(NFULA_CFG_MODE, &mode);
    b.attr_be32(NFULA_CFG_QTHRESH, 1);
    b.finish()
}

impl Log {
    /// Opens a socket and binds group `cfg.group` in one acknowledged request. Fails with
    /// `EPERM` without CAP_NET_ADMIN and `EBUSY` if another process holds the group.
    pub fn open(cfg: &LogConfig) -> Result<Self, NetlinkError> {
        let mut sock = NetlinkSocket::open(0)?;
        if cfg.rcvbuf > 0 {
            sock.set_rcvbuf(cfg.rcvbuf)?;
        }
        let mut out = Vec::with_capacity(64);
        let seq = sock.next_seq();
        build_config(&mut out, cfg, seq);
        sock.request_ack(&out, seq, "bind NFLOG group")?;
        Ok(Log {
            sock,
            group: cfg.group,
            stats: LogStats::default(),
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

    /// The group number.
    pub fn group(&self) -> u16 {
        self.group
    }

    /// Counters so far.
    pub fn stats(&self) -> LogStats {
        self.stats
    }

    /// Reads up to 64 datagrams without blocking (`buf` ≥ copy range + 512) and calls `f` for each
    /// logged packet. Returns the number of packets.
    pub fn recv<F>(&mut self, buf: &mut [u8], mut f: F) -> Result<usize, NetlinkError>
    where
        F: FnMut(&LogPacket<'_>),
    {
        let mut count = 0;
        for _ in 0..64 {
            match self.sock.recv(buf)? {
                Recv::Data(n) => {
                    for m in Messages::new(buf.get(..n).unwrap_or(&[])) {
                        let Ok(m) = m else {
                            self.stats.malformed += 1;
                            break;
                        };
                        if m.msg_type() == NLMSG_ERROR
                            || m.subsys() != NFNL_SUBSYS_ULOG
                            || m.subsys_msg() != NFULNL_MSG_PACKET
                        {
                            continue;
                        }
                        match LogPacket::parse(&m) {
                            Ok(p) => {
                                self.stats.packets += 1;
                                count += 1;
                                f(&p);
                            }
                            Err(_) => self.stats.malformed += 1,
                        }
                    }
                }
                Recv::WouldBlock => break,
                Recv::Overrun => self.stats.enobufs += 1,
                Recv::Truncated(_) => self.stats.malformed += 1,
                Recv::Foreign => {}
            }
        }
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn config_bytes() {
        let mut out = Vec::new();
        let n = build_config(&mut out, &LogConfig::new(5, 0xffff), 3);
        let mut want = Vec::new();
        want.extend_from_slice(&(n as u32).to_ne_bytes());
        want.extend_from_slice(&0x0401u16.to_ne_bytes());
        want.extend_from_slice(&(NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
        want.extend_from_slice(&3u32.to_ne_bytes());
        want.extend_from_slice(&[0; 4]);
        want.extend_from_slice(&[0, 0, 0, 5]);
        want.extend_from_slice(&5u16.to_ne_bytes());
        want.extend_from_slice(&NFULA_CFG_CMD.to_ne_bytes());
        want.extend_from_slice(&[1, 0, 0, 0]);
        want.extend_from_slice(&10u16.to_ne_bytes());
        want.extend_from_slice(&NFULA_CFG_MODE.to_ne_bytes());
        want.extend_from_slice(&[0, 0, 0xff, 0xff, 2, 0, 0, 0]);
        want.extend_from_slice(&8u16.to_ne_bytes());
        want.extend_from_slice(&NFULA_CFG_QTHRESH.to_ne_bytes());
        want.extend_from_slice(&[0, 0, 0, 1]);
        assert_eq!(n, 48);
        assert_eq!(out, want);
    }

    fn packet() -> Vec<u8> {
        let mut out = Vec::new();
        let mut b = MsgBuilder::nfgen(&mut out, NFNL_SUBSYS_ULOG, NFULNL_MSG_PACKET, 0, 0, 2, 5);
        b.attr(NFULA_PACKET_HDR, &[0x08, 0x00, 3, 0]);
        b.attr(NFULA_PREFIX, b"dns\0");
        b.attr_be32(NFULA_IFINDEX_OUTDEV, 1);
        b.attr(NFULA_PAYLOAD, &[0x45, 1, 2]);
        b.finish();
        out
    }

    #[test]
    fn parses_packet() {
        let d = packet();
        let p = LogPacket::parse(&NlMsg::new_checked(&d).unwrap()).unwrap();
        assert_eq!(
            (p.group, p.family, p.hw_protocol, p.hook),
            (5, 2, 0x0800, 3)
        );
        assert_eq!(p.payload, &[0x45, 1, 2]);
        assert_eq!(p.prefix, Some(&b"dns"[..]));
        assert_eq!((p.outdev, p.indev, p.mark), (Some(1), None, None));
    }

    proptest! {
        #[test]
        fn garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            for m in Messages::new(&data).flatten() {
                let _ = LogPacket::parse(&m);
            }
        }

        #[test]
        fn mutated_never_panic(flip in 0usize..60, x in any::<u8>(), cut in 0usize..64) {
            let mut d = packet();
            if let Some(b) = d.get_mut(flip) { *b ^= x; }
            d.truncate(cut);
            for m in Messages::new(&d).flatten() {
                let _ = LogPacket::parse(&m);
            }
        }
    }
}
