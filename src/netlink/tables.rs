//! nftables table events: how the daemon learns that its table was deleted (`nft flush
//! ruleset`, `fw4 flush`, `nft delete table inet leakguard`) without forking `nft list table`
//! every few seconds on a router CPU.
//!
//! The socket joins `NFNLGRP_NFTABLES`, where the kernel announces every committed ruleset
//! change. Only `NFT_MSG_DELTABLE` matters here; the rest (fw4's own rules, our block set's
//! elements) is skipped after reading its header. A deletion of the watched table — or an
//! overrun, after which events may have been lost — makes [`TableEvents::recv`] report that
//! the table may be gone; the caller then checks once and restores it.
#![forbid(unsafe_code)]

use super::message::{Messages, NlMsg, ParseError};
use super::socket::{NetlinkSocket, Recv};
use super::NetlinkError;

/// `NFNLGRP_NFTABLES` (linux/netfilter/nfnetlink.h).
const NFNLGRP_NFTABLES: u32 = 7;
/// `NFNL_SUBSYS_NFTABLES`.
const NFNL_SUBSYS_NFTABLES: u8 = 10;
/// `NFT_MSG_DELTABLE` (linux/netfilter/nf_tables.h).
const NFT_MSG_DELTABLE: u8 = 2;
/// `NFT_MSG_NEWTABLE`.
const NFT_MSG_NEWTABLE: u8 = 0;
/// `NFTA_TABLE_NAME`.
const NFTA_TABLE_NAME: u16 = 1;
/// `NFPROTO_INET`.
const NFPROTO_INET: u8 = 1;

/// A table created or deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableEvent<'a> {
    pub created: bool,
    pub family: u8,
    pub name: &'a [u8],
}

impl<'a> TableEvent<'a> {
    /// A NEWTABLE or DELTABLE message; `None` for every other nftables message.
    pub fn parse(msg: &NlMsg<'a>) -> Result<Option<TableEvent<'a>>, ParseError> {
        if msg.subsys() != NFNL_SUBSYS_NFTABLES {
            return Ok(None);
        }
        let created = match msg.subsys_msg() {
            NFT_MSG_NEWTABLE => true,
            NFT_MSG_DELTABLE => false,
            _ => return Ok(None),
        };
        let g = msg.nfgen()?;
        let mut name: &[u8] = &[];
        for a in g.attrs() {
            let a = a?;
            if a.kind() == NFTA_TABLE_NAME {
                let v = a.value();
                name = v.split(|&b| b == 0).next().unwrap_or(v);
            }
        }
        Ok(Some(TableEvent {
            created,
            family: g.family(),
            name,
        }))
    }
}

/// Counters of the table-event socket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableStats {
    pub messages: u64,
    pub deleted: u64,
    pub enobufs: u64,
    pub malformed: u64,
}

/// A socket subscribed to nftables ruleset changes, watching one `inet` table.
#[derive(Debug)]
pub struct TableEvents {
    sock: NetlinkSocket,
    table: String,
    stats: TableStats,
}

impl TableEvents {
    /// Subscribes (needs CAP_NET_ADMIN) to the changes of table `inet <table>`.
    pub fn open(table: &str, rcvbuf: usize) -> Result<Self, NetlinkError> {
        let sock = NetlinkSocket::open(1 << (NFNLGRP_NFTABLES - 1))?;
        if rcvbuf > 0 {
            sock.set_rcvbuf(rcvbuf)?;
        }
        Ok(TableEvents {
            sock,
            table: table.to_string(),
            stats: TableStats::default(),
        })
    }

    /// Watches another table name from now on (a reload renamed it).
    pub fn watch(&mut self, table: &str) {
        table.clone_into(&mut self.table);
    }

    pub fn socket(&self) -> &NetlinkSocket {
        &self.sock
    }

    pub fn stats(&self) -> TableStats {
        self.stats
    }

    /// Reads what is queued without blocking. Returns whether the watched table may be gone:
    /// its last event read was a deletion, or events were lost. (Our own table updates delete
    /// and re-create it in one transaction: the creation that follows cancels the deletion.)
    pub fn recv(&mut self, buf: &mut [u8]) -> Result<bool, NetlinkError> {
        let mut gone = false;
        for _ in 0..64 {
            match self.sock.recv(buf)? {
                Recv::Data(n) => {
                    for m in Messages::new(buf.get(..n).unwrap_or_default()) {
                        self.stats.messages += 1;
                        match m.and_then(|m| TableEvent::parse(&m)) {
                            Ok(Some(e))
                                if e.family == NFPROTO_INET && e.name == self.table.as_bytes() =>
                            {
                                if !e.created {
                                    self.stats.deleted += 1;
                                }
                                gone = !e.created;
                            }
                            Ok(_) => {}
                            Err(_) => self.stats.malformed += 1,
                        }
                    }
                }
                Recv::WouldBlock => break,
                Recv::Overrun => {
                    self.stats.enobufs += 1;
                    gone = true;
                }
                Recv::Truncated(_) => {
                    self.stats.malformed += 1;
                    gone = true;
                }
                Recv::Foreign => {}
            }
        }
        Ok(gone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netlink::message::MsgBuilder;

    fn table_msg(msg: u8, family: u8, name: &str) -> Vec<u8> {
        let mut out = Vec::new();
        let mut b = MsgBuilder::nfgen(&mut out, NFNL_SUBSYS_NFTABLES, msg, 0, 0, family, 0);
        let mut v = name.as_bytes().to_vec();
        v.push(0);
        b.attr(NFTA_TABLE_NAME, &v);
        b.finish();
        out
    }

    #[test]
    fn parses_new_and_deleted_tables() {
        let d = table_msg(NFT_MSG_DELTABLE, NFPROTO_INET, "leakguard");
        let m = Messages::new(&d).next().unwrap().unwrap();
        assert_eq!(
            TableEvent::parse(&m).unwrap(),
            Some(TableEvent {
                created: false,
                family: NFPROTO_INET,
                name: b"leakguard"
            })
        );
        let n = table_msg(NFT_MSG_NEWTABLE, 2, "fw4");
        let m = Messages::new(&n).next().unwrap().unwrap();
        let e = TableEvent::parse(&m).unwrap().unwrap();
        assert!(e.created && e.family == 2 && e.name == b"fw4");
        // A chain message (NFT_MSG_NEWCHAIN = 3) is not a table event.
        let c = table_msg(3, NFPROTO_INET, "leakguard");
        let m = Messages::new(&c).next().unwrap().unwrap();
        assert_eq!(TableEvent::parse(&m).unwrap(), None);
    }

    #[test]
    fn parse_never_panics_on_cut_messages() {
        let d = table_msg(NFT_MSG_DELTABLE, NFPROTO_INET, "leakguard");
        for cut in 0..d.len() {
            for m in Messages::new(&d[..cut]).flatten() {
                let _ = TableEvent::parse(&m);
            }
        }
    }
}
