//! A non-blocking `NETLINK_NETFILTER` socket over `nix`: open, bind groups, send, receive into the
//! caller's buffer, and request/acknowledge for configuration messages.
//!
//! The only `unsafe` in the netlink layer lives here: `nix` has no wrappers for the
//! `SOL_NETLINK` options (`NETLINK_NO_ENOBUFS`, `NETLINK_EXT_ACK`), so
//! a private helper, `set_int_opt`, calls `setsockopt(2)` directly.

use std::io::IoSliceMut;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::libc;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{
    bind, recvmsg, sendto, setsockopt, socket, sockopt, AddressFamily, MsgFlags, NetlinkAddr,
    SockFlag, SockProtocol, SockType,
};

use super::message::{Messages, NLMSG_ERROR};
use super::NetlinkError;

/// `SOL_NETLINK` socket option level.
const SOL_NETLINK: libc::c_int = 270;
/// When set, the kernel stops reporting receive-queue overruns; we want them reported.
const NETLINK_NO_ENOBUFS: libc::c_int = 5;
/// Ask for extended ACKs (error strings) on failed requests.
const NETLINK_EXT_ACK: libc::c_int = 11;

/// What one [`NetlinkSocket::recv`] got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recv {
    /// A datagram of this many bytes is at the start of the buffer.
    Data(usize),
    /// Nothing to read now (the socket is non-blocking).
    WouldBlock,
    /// The kernel dropped messages because our receive queue was full (`ENOBUFS`). Reading
    /// goes on; the caller counts it.
    Overrun,
    /// A datagram larger than the buffer arrived and was cut (then discarded).
    Truncated(usize),
    /// The datagram did not come from the kernel (port id ≠ 0) and was discarded.
    Foreign,
}

/// A non-blocking, close-on-exec `NETLINK_NETFILTER` socket.
#[derive(Debug)]
pub struct NetlinkSocket {
    fd: OwnedFd,
    seq: u32,
}

/// The crate's one `unsafe`: nix has no safe wrapper for these socket options (NETLINK_*).
#[allow(unsafe_code)]
fn set_int_opt(
    fd: &OwnedFd,
    level: libc::c_int,
    name: libc::c_int,
    val: libc::c_int,
) -> nix::Result<()> {
    // SAFETY: `fd` is an open socket owned by the caller for the duration of the call; the
    // pointer and length describe `val`, a c_int on this stack frame that outlives the call, and
    // setsockopt(2) only reads that many bytes from it.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&val as *const libc::c_int).cast::<libc::c_void>(),
            core::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    Errno::result(r).map(drop)
}

impl NetlinkSocket {
    /// Opens the socket and binds it with the given multicast group bitmask (group `n` is bit
    /// `n-1`; 0 for none). Turns extended ACKs on (ignored where unsupported) and leaves
    /// `NETLINK_NO_ENOBUFS` off so that overruns are reported.
    pub fn open(groups: u32) -> Result<Self, NetlinkError> {
        let fd = socket(
            AddressFamily::Netlink,
            SockType::Raw,
            SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
            SockProtocol::NetlinkNetFilter,
        )
        .map_err(|e| NetlinkError::io("socket(NETLINK_NETFILTER)", e))?;
        bind(fd.as_raw_fd(), &NetlinkAddr::new(0, groups))
            .map_err(|e| NetlinkError::io("bind netlink socket", e))?;
        // Older kernels lack extended ACKs; plain error codes are enough then.
        let _ = set_int_opt(&fd, SOL_NETLINK, NETLINK_EXT_ACK, 1);
        let s = NetlinkSocket { fd, seq: 1 };
        s.set_no_enobufs(false)?;
        Ok(s)
    }

    /// The raw fd, for `poll`/`epoll` in the daemon's loop.
    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Borrowed fd, for `nix::poll`.
    pub fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Next request sequence number.
    pub fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1).max(1);
        self.seq
    }

    /// Sets the receive buffer: `SO_RCVBUFFORCE` (beyond `rmem_max`, needs CAP_NET_ADMIN), falling
    /// back to `SO_RCVBUF` (capped by `net.core.rmem_max`).
    pub fn set_rcvbuf(&self, bytes: usize) -> Result<(), NetlinkError> {
        if setsockopt(&self.fd, sockopt::RcvBufForce, &bytes).is_ok() {
            return Ok(());
        }
        setsockopt(&self.fd, sockopt::RcvBuf, &bytes)
            .map_err(|e| NetlinkError::io("setsockopt SO_RCVBUF", e))
    }

    /// `NETLINK_NO_ENOBUFS`: `false` (the default we keep) makes overruns visible as `ENOBUFS`.
    pub fn set_no_enobufs(&self, on: bool) -> Result<(), NetlinkError> {
        set_int_opt(&self.fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, on as libc::c_int)
            .map_err(|e| NetlinkError::io("setsockopt NETLINK_NO_ENOBUFS", e))
    }

    /// Sends `buf` (one or more messages) to the kernel in one datagram. `EAGAIN`/`ENOBUFS`/
    /// `EINTR` are retried for up to about a second, so a batch of verdicts is not lost to a
    /// transient memory shortage.
    pub fn send(&self, buf: &[u8]) -> Result<(), NetlinkError> {
        let kernel = NetlinkAddr::new(0, 0);
        let deadline = Instant::now() + Duration::from_secs(1);
        loop {
            match sendto(self.fd.as_raw_fd(), buf, &kernel, MsgFlags::empty()) {
                Ok(_) => return Ok(()),
                Err(Errno::EINTR) => {}
                Err(e @ (Errno::EAGAIN | Errno::ENOBUFS)) => {
                    if Instant::now() >= deadline {
                        return Err(NetlinkError::io("send to netlink", e));
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(e) => return Err(NetlinkError::io("send to netlink", e)),
            }
        }
    }

    /// Receives one datagram into `buf` without blocking.
    pub fn recv(&self, buf: &mut [u8]) -> Result<Recv, NetlinkError> {
        let cap = buf.len();
        let mut iov = [IoSliceMut::new(buf)];
        loop {
            match recvmsg::<NetlinkAddr>(self.fd.as_raw_fd(), &mut iov, None, MsgFlags::MSG_TRUNC) {
                Ok(m) => {
                    if m.flags.contains(MsgFlags::MSG_TRUNC) || m.bytes > cap {
                        return Ok(Recv::Truncated(m.bytes));
                    }
                    if m.address.is_some_and(|a| a.pid() != 0) {
                        return Ok(Recv::Foreign);
                    }
                    return Ok(Recv::Data(m.bytes));
                }
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => return Ok(Recv::WouldBlock),
                Err(Errno::ENOBUFS) => return Ok(Recv::Overrun),
                Err(e) => return Err(NetlinkError::io("recv from netlink", e)),
            }
        }
    }

    /// Waits until the socket is readable or `timeout` passes; returns whether it is readable.
    pub fn wait_readable(&self, timeout: Duration) -> Result<bool, NetlinkError> {
        let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        let t = PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX);
        let mut fds = [PollFd::new(self.fd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, t) {
            Ok(n) => Ok(n > 0),
            Err(Errno::EINTR) => Ok(false),
            Err(e) => Err(NetlinkError::io("poll netlink socket", e)),
        }
    }

    /// Sends one request carrying `NLM_F_ACK` with sequence `seq` and waits (up to 2 s) for its
    /// acknowledgement. Other messages that arrive meanwhile are discarded: call this during
    /// setup, before traffic is expected. `op` names the request in errors.
    pub fn request_ack(&self, msg: &[u8], seq: u32, op: &'static str) -> Result<(), NetlinkError> {
        self.send(msg)?;
        let mut buf = [0u8; 8192];
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Err(NetlinkError::Timeout { op });
            }
            match self.recv(&mut buf)? {
                Recv::Data(n) => {
                    for m in Messages::new(buf.get(..n).unwrap_or(&[])).flatten() {
                        if m.msg_type() != NLMSG_ERROR || m.seq() != seq {
                            continue;
                        }
                        let code = m
                            .error_code()
                            .map_err(|e| NetlinkError::Malformed { op, err: e })?;
                        if code == 0 {
                            return Ok(());
                        }
                        let errno = Errno::from_raw(code.saturating_neg());
                        let detail = m.ext_ack_msg().map(str::to_owned);
                        return Err(NetlinkError::Kernel { op, errno, detail });
                    }
                }
                Recv::WouldBlock => {
                    self.wait_readable(deadline - now)?;
                }
                Recv::Overrun | Recv::Truncated(_) | Recv::Foreign => {}
            }
        }
    }
}
