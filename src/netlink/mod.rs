//! Netlink: NFQUEUE, conntrack, NFLOG.
//!
//! A small pure-Rust nfnetlink layer over `nix` sockets, with no C library. Three kernel
//! interfaces share one checked zero-copy parser ([`message`]) and one socket wrapper
//! ([`NetlinkSocket`]):
//!
//! * [`Queue`] (NFQUEUE): the inline source. Packets wait in the kernel until we give a verdict;
//!   verdicts are batched into one `sendmsg`. A verdict may carry a mark; with
//!   [`Verdict::Repeat`] the packet re-enters the hook, where nft rules can copy `meta mark` to
//!   `ct mark` — how the daemon marks a decided flow without `nfnetlink_glue`.
//! * [`ConntrackEvents`]: NEW/DESTROY events, so the daemon learns when flows start and end.
//! * [`Log`] (NFLOG): copies of packets (the router's DNS answers) observed without delaying them.
//!
//! Each reader receives into one caller-provided buffer and hands borrowed views to a callback:
//! nothing is allocated per packet. All sockets are non-blocking; the daemon polls
//! [`Queue::fd`], [`ConntrackEvents::fd`] and [`Log::fd`].

pub mod conntrack;
pub mod log;
pub mod message;
pub mod queue;
pub mod socket;
pub mod tables;

use core::fmt;

use nix::errno::Errno;

pub use conntrack::{ConntrackEvent, ConntrackEvents, ConntrackStats, CtEventKind};
pub use log::{Log, LogConfig, LogPacket, LogStats};
pub use message::ParseError;
pub use queue::{Decision, Queue, QueueConfig, QueueStats, QueuedPacket, Verdict};
pub use socket::{NetlinkSocket, Recv};
pub use tables::{TableEvents, TableStats};

/// Errors of the netlink layer, each naming the operation that failed.
#[derive(Debug)]
pub enum NetlinkError {
    /// A system call failed.
    Io {
        /// What we were doing.
        op: &'static str,
        /// The errno.
        errno: Errno,
    },
    /// The kernel rejected a request (NLMSG_ERROR with a non-zero code).
    Kernel {
        /// The request.
        op: &'static str,
        /// The errno the kernel returned.
        errno: Errno,
        /// The extended-ACK text, when the kernel gave one.
        detail: Option<String>,
    },
    /// No acknowledgement arrived in time.
    Timeout {
        /// The request.
        op: &'static str,
    },
    /// The kernel's answer could not be parsed.
    Malformed {
        /// The request.
        op: &'static str,
        /// Why.
        err: ParseError,
    },
}

impl NetlinkError {
    pub(crate) fn io(op: &'static str, errno: Errno) -> Self {
        NetlinkError::Io { op, errno }
    }

    /// The errno behind the error, if any.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            NetlinkError::Io { errno, .. } | NetlinkError::Kernel { errno, .. } => Some(*errno),
            _ => None,
        }
    }
}

fn hint(errno: Errno, kernel: bool) -> &'static str {
    match errno {
        // nfnetlink answers EPERM both without CAP_NET_ADMIN and when another socket holds the
        // queue or group being bound.
        Errno::EPERM if kernel => {
            " (need root/CAP_NET_ADMIN, or another process already holds this queue/group)"
        }
        Errno::EPERM | Errno::EACCES => " (need root/CAP_NET_ADMIN)",
        Errno::EBUSY => " (already bound by another process)",
        Errno::ENOENT => " (no such queue/group instance, or the kernel module is missing)",
        Errno::EINVAL => " (the kernel rejected a parameter)",
        Errno::EPROTONOSUPPORT | Errno::EOPNOTSUPP => {
            " (kernel lacks nfnetlink support: nfnetlink_queue / nfnetlink_log / nf_conntrack_netlink)"
        }
        _ => "",
    }
}

impl fmt::Display for NetlinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetlinkError::Io { op, errno } => {
                write!(f, "{op}: {}{}", errno.desc(), hint(*errno, false))
            }
            NetlinkError::Kernel { op, errno, detail } => {
                write!(
                    f,
                    "{op}: kernel said {}{}",
                    errno.desc(),
                    hint(*errno, true)
                )?;
                if let Some(d) = detail {
                    write!(f, ": {d}")?;
                }
                Ok(())
            }
            NetlinkError::Timeout { op } => write!(f, "{op}: no answer from the kernel"),
            NetlinkError::Malformed { op, err } => write!(f, "{op}: {err}"),
        }
    }
}

impl std::error::Error for NetlinkError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_operation_and_hint() {
        let e = NetlinkError::Kernel {
            op: "bind NFLOG group",
            errno: Errno::EPERM,
            detail: Some("nope".into()),
        };
        let s = e.to_string();
        assert!(s.starts_with("bind NFLOG group: kernel said"), "{s}");
        assert!(s.contains("CAP_NET_ADMIN") && s.ends_with(": nope"), "{s}");
        let e = NetlinkError::io("bind netlink socket", Errno::EPERM);
        assert!(e.to_string().contains("need root/CAP_NET_ADMIN)"));
        assert_eq!(e.errno(), Some(Errno::EPERM));
        assert_eq!(NetlinkError::Timeout { op: "x" }.errno(), None);
    }
}
