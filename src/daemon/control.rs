//! The control socket: how `leakguard status` and `leakguard unblock` talk to the running daemon.
//!
//! A unix stream socket at `<run_dir>/control.sock`, mode 0600. The protocol is one request line
//! from the client, one JSON reply from the daemon, then the daemon closes:
//!
//! | request            | reply                                            |
//! |--------------------|--------------------------------------------------|
//! | `status`           | the [`Status`] JSON                              |
//! | `unblock <id>`     | `{"ok":true,"removed":1}`                        |
//! | `unblock all`      | `{"ok":true,"removed":N}`                        |
//! | `reload`           | `{"ok":true}` (the daemon reloads as on SIGHUP)   |
//! | `history`          | the per-device history JSON                      |
//! | `device <id>`      | `{"ok":true,"mac":"…"}`: the MAC (among those it has seen) whose history digest is `id` (16 hex digits); for `leakguard allow` from LuCI, which names a device by its digest |
//! | anything else      | `{"ok":false,"error":"…"}`                       |
//!
//! Only root may talk to the daemon: unblocking lets a leak through, and the file mode alone is
//! not enough (a root-owned daemon with a lax umask, a socket directory bind-mounted elsewhere).
//! The server asks the kernel who the peer is (`SO_PEERCRED`) and refuses everyone else.
//!
//! The daemon is single-threaded and also moves packets, so the server never blocks for long:
//! the listening socket is non-blocking (the daemon polls [`ControlServer::fd`]), and each
//! wake-up of the loop has one deadline, [`WAKE_BUDGET`] ahead, for all the clients it serves
//! together: reading requests and writing replies time out at that deadline, and clients still
//! waiting after it are left queued for the next wake-up, after the packets. A client that
//! connects and stalls (or a hundred of them) costs the packet loop at most [`WAKE_BUDGET`] per
//! wake-up, never a timeout per client.

#![forbid(unsafe_code)]

use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::socket::{getsockopt, sockopt};
use serde::Serialize;
use serde_json::json;

use super::status::Status;

/// The socket's file name in the run directory.
pub const SOCKET_NAME: &str = "control.sock";

/// The time one wake-up of the daemon loop gives the control socket, all its clients together:
/// reading request lines and writing replies. A real client (`leakguard status`, the rpcd
/// plugin) writes its line right after connecting and reads the reply at once, in well under a
/// millisecond; the budget is what a stalled one can cost the packets (at 50k packets/s, a
/// queue of 1024 fills in 20 ms, so the kernel's `bypass` or queue limit takes over for what
/// comes in meanwhile, which is why it is short).
pub const WAKE_BUDGET: Duration = Duration::from_millis(200);

/// How long one client may take to send its line, within the wake-up's budget. The daemon
/// blocks in that read, which gives the CPU to the client (on a one-core router too), and a real
/// client writes its line right after `connect` returns: so a client still silent after this
/// is one that stalls, and a row of them cannot use a wake-up's budget up one by one and keep
/// real clients waiting behind them past their own 3 s timeout.
const READ_WAIT: Duration = Duration::from_millis(50);

/// A reply is written even when the wake-up's deadline has just passed (the request was read in
/// time): it goes into the socket buffer at once unless the client stopped reading.
const REPLY_MIN: Duration = Duration::from_millis(10);

/// How long the client waits for the daemon.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(3);

/// The longest request line accepted.
pub const MAX_LINE: usize = 256;

/// Connections handled per [`ControlServer::poll_request`] call at most, so a flood of bad
/// requests cannot keep the packet loop away.
const MAX_PER_POLL: usize = 8;

/// The largest reply the client reads (a status with a long alert history is a few tens of KB).
const MAX_REPLY: u64 = 4 << 20;

/// The control socket of the daemon whose run directory is `run_dir`.
pub fn socket_path(run_dir: &Path) -> PathBuf {
    run_dir.join(SOCKET_NAME)
}

/// Which blocks `unblock` removes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unblock {
    /// The block with this id (as shown by `status`).
    Id(u64),
    All,
}

/// A request on the control socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    Status,
    /// The per-device history, as [`crate::history::HistoryData`] JSON.
    History,
    Unblock(Unblock),
    Reload,
    /// The MAC whose history digest is this.
    Device(u64),
}

impl Request {
    /// Parses a request line (surrounding white space ignored). The error is the message the
    /// client is sent.
    pub fn parse(line: &str) -> Result<Request, String> {
        let mut words = line.split_whitespace();
        let request = match words.next() {
            None => return Err("empty request".to_string()),
            Some("status") => Request::Status,
            Some("history") => Request::History,
            Some("reload") => Request::Reload,
            Some("device") => match words.next() {
                Some(id) if id.len() == 16 => match u64::from_str_radix(id, 16) {
                    Ok(n) => Request::Device(n),
                    Err(_) => return Err(format!("device: not a device id: {}", printable(id))),
                },
                Some(id) => return Err(format!("device: not a device id: {}", printable(id))),
                None => return Err("device: expected a device id (16 hex digits)".to_string()),
            },
            Some("unblock") => match words.next() {
                None => return Err("unblock: expected a block id or `all`".to_string()),
                Some("all") => Request::Unblock(Unblock::All),
                Some(id) => match id.parse::<u64>() {
                    Ok(id) => Request::Unblock(Unblock::Id(id)),
                    Err(_) => return Err(format!("unblock: not a block id: {}", printable(id))),
                },
            },
            Some(other) => {
                return Err(format!(
                    "unknown command: {} (expected status, history, unblock <id|all>, reload)",
                    printable(other)
                ))
            }
        };
        match words.next() {
            None => Ok(request),
            Some(extra) => Err(format!("unexpected argument: {}", printable(extra))),
        }
    }

    /// The request line a client sends (without the newline).
    pub fn line(&self) -> String {
        match self {
            Request::Status => "status".to_string(),
            Request::History => "history".to_string(),
            Request::Reload => "reload".to_string(),
            Request::Device(id) => format!("device {id:016x}"),
            Request::Unblock(Unblock::All) => "unblock all".to_string(),
            Request::Unblock(Unblock::Id(id)) => format!("unblock {id}"),
        }
    }
}

/// A word of a request, cut and cleaned for an error message.
fn printable(word: &str) -> String {
    word.chars()
        .take(32)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// The other end of one request: the daemon answers through it once. Dropping it without a reply
/// just closes the connection (the client reports that).
#[derive(Debug)]
pub struct Responder {
    stream: UnixStream,
    /// The wake-up's deadline (see [`WAKE_BUDGET`]).
    deadline: Instant,
}

/// What is left of `deadline`, at least `floor` (socket timeouts of zero mean "none").
fn left(deadline: Instant, floor: Duration) -> Duration {
    deadline
        .saturating_duration_since(Instant::now())
        .max(floor)
}

impl Responder {
    /// Sends `json` (one value, no newline needed) and closes. Times out at the wake-up's
    /// deadline (at least [`REPLY_MIN`] from now).
    pub fn reply(mut self, json: &str) -> io::Result<()> {
        self.stream
            .set_write_timeout(Some(left(self.deadline, REPLY_MIN)))?;
        self.stream.write_all(json.as_bytes())?;
        self.stream.write_all(b"\n")?;
        self.stream.flush()?;
        self.stream.shutdown(std::net::Shutdown::Write)?;
        // Input left unread (a line too long, a client that kept writing) would make the close
        // reset the connection under the reply: discard what is already there, without waiting.
        self.stream.set_nonblocking(true)?;
        let mut sink = [0u8; 512];
        for _ in 0..64 {
            match self.stream.read(&mut sink) {
                Ok(n) if n > 0 => {}
                _ => break,
            }
        }
        Ok(())
    }

    /// Sends any serialisable value, e.g. a [`Status`].
    pub fn reply_json<T: Serialize>(self, value: &T) -> io::Result<()> {
        let json = serde_json::to_string(value).map_err(io::Error::other)?;
        self.reply(&json)
    }

    /// `{"ok":true}`
    pub fn ok(self) -> io::Result<()> {
        self.reply(&json!({ "ok": true }).to_string())
    }

    /// `{"ok":true,"removed":N}` (the reply to `unblock`).
    pub fn removed(self, n: u64) -> io::Result<()> {
        self.reply(&json!({ "ok": true, "removed": n }).to_string())
    }

    /// `{"ok":false,"error":"…"}`
    pub fn error(self, message: &str) -> io::Result<()> {
        self.reply(&error_json(message))
    }
}

fn error_json(message: &str) -> String {
    json!({ "ok": false, "error": message }).to_string()
}

/// The daemon's end of the control socket.
#[derive(Debug)]
pub struct ControlServer {
    listener: UnixListener,
    path: PathBuf,
    /// The socket file we created, by (device, inode): only that file is removed on drop.
    file_id: Option<(u64, u64)>,
    /// The one uid allowed to talk to the daemon: root (tests use their own uid).
    allowed_uid: u32,
}

impl ControlServer {
    /// Binds the socket at `path` (creating its directory, mode 0755, if missing), mode 0600,
    /// non-blocking.
    ///
    /// A socket file left by a daemon that died is removed first. If a daemon answers on it, this
    /// fails with `AddrInUse` instead: two daemons would fight over one queue and one table.
    pub fn bind(path: &Path) -> io::Result<ControlServer> {
        match fs::symlink_metadata(path) {
            Ok(meta) => {
                if !meta.file_type().is_socket() {
                    return Err(io::Error::new(
                        io::ErrorKind::AlreadyExists,
                        format!("{} exists and is not a socket", path.display()),
                    ));
                }
                match UnixStream::connect(path) {
                    Ok(_) => {
                        return Err(io::Error::new(
                            io::ErrorKind::AddrInUse,
                            format!(
                                "another leakguard is running (it answers on {})",
                                path.display()
                            ),
                        ))
                    }
                    Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                        fs::remove_file(path)?;
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(io::Error::new(e.kind(), format!("{}: {e}", path.display())))
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.is_dir() {
                fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o755)
                    .create(dir)?;
            }
        }
        let listener = UnixListener::bind(path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        // Between bind and chmod the umask's mode applies; the peer check covers that window.
        fs::set_permissions(path, fs::Permissions::from_mode(0o600))?;
        listener.set_nonblocking(true)?;
        let file_id = fs::symlink_metadata(path).ok().map(|m| (m.dev(), m.ino()));
        Ok(ControlServer {
            listener,
            path: path.to_path_buf(),
            file_id,
            allowed_uid: 0,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The listening socket, for the daemon's poll set (readable = a client is waiting).
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.listener.as_fd()
    }

    /// The deadline for one wake-up of the daemon loop: pass it to every
    /// [`poll_request`](Self::poll_request) of that wake-up.
    pub fn wake_deadline() -> Instant {
        Instant::now() + WAKE_BUDGET
    }

    /// Accepts waiting clients and returns the first valid request with its responder, or `None`
    /// when nobody (else) is waiting or `deadline` has passed (those still waiting stay queued
    /// for the next wake-up). Refused peers, malformed and unknown requests are answered with an
    /// error reply here and never reach the caller.
    pub fn poll_request(&mut self, deadline: Instant) -> Option<(Request, Responder)> {
        for _ in 0..MAX_PER_POLL {
            if Instant::now() >= deadline {
                return None;
            }
            let stream = match self.listener.accept() {
                Ok((stream, _)) => stream,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return None,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // ECONNABORTED, EMFILE, …: nothing to answer; the next poll tries again.
                    log::debug!("control socket: accept: {e}");
                    return None;
                }
            };
            match self.read_request(stream, deadline) {
                Ok(Some(found)) => return Some(found),
                Ok(None) => {}
                Err(e) => log::debug!("control socket: {e}"),
            }
        }
        None
    }

    /// Checks the peer and reads its request. `Ok(None)`: the client was answered with an error.
    fn read_request(
        &self,
        stream: UnixStream,
        deadline: Instant,
    ) -> io::Result<Option<(Request, Responder)>> {
        stream.set_nonblocking(false)?;
        let wait = left(deadline, Duration::from_millis(1)).min(READ_WAIT);
        stream.set_read_timeout(Some(wait))?;
        let responder = Responder {
            stream: stream.try_clone()?,
            deadline,
        };
        let uid = getsockopt(&stream, sockopt::PeerCredentials)
            .map_err(io::Error::from)?
            .uid();
        // The line is read before anyone is refused: closing a unix stream with unread input
        // resets it, and the client would lose the reply that says why.
        let mut line = Vec::with_capacity(32);
        let mut reader = BufReader::new(stream.take(MAX_LINE as u64 + 1));
        if let Err(e) = reader.read_until(b'\n', &mut line) {
            let message = if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) {
                "timed out waiting for a request".to_string()
            } else {
                format!("reading the request: {e}")
            };
            responder.error(&message)?;
            return Ok(None);
        }
        if uid != self.allowed_uid {
            responder.error("permission denied: the control socket is for root only")?;
            return Ok(None);
        }
        if line.len() > MAX_LINE {
            responder.error("request too long")?;
            return Ok(None);
        }
        let text = match std::str::from_utf8(&line) {
            Ok(text) => text,
            Err(_) => {
                responder.error("request is not UTF-8")?;
                return Ok(None);
            }
        };
        match Request::parse(text) {
            Ok(request) => Ok(Some((request, responder))),
            Err(message) => {
                responder.error(&message)?;
                Ok(None)
            }
        }
    }
}

impl AsFd for ControlServer {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd()
    }
}

impl Drop for ControlServer {
    /// Removes the socket file, unless it is no longer the one this server created.
    fn drop(&mut self) {
        let current = fs::symlink_metadata(&self.path)
            .ok()
            .map(|m| (m.dev(), m.ino()));
        if current.is_some() && current == self.file_id {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Sends one request line to the daemon at `path` and returns its reply (without the trailing
/// newline). Waits at most [`CLIENT_TIMEOUT`] for each step.
///
/// Errors say what the user should know: `leakguard is not running (no control socket at …)`
/// when the socket is absent or dead, a hint to use root when the mode refuses us.
pub fn request(path: &Path, line: &str) -> io::Result<String> {
    let mut stream = match UnixStream::connect(path) {
        Ok(stream) => stream,
        Err(e) => {
            let message = match e.kind() {
                io::ErrorKind::NotFound => format!(
                    "leakguard is not running (no control socket at {})",
                    path.display()
                ),
                io::ErrorKind::ConnectionRefused => format!(
                    "leakguard is not running (nothing answers on {})",
                    path.display()
                ),
                io::ErrorKind::PermissionDenied => format!(
                    "permission denied on {}: leakguard's control socket is for root only",
                    path.display()
                ),
                _ => format!("{}: {e}", path.display()),
            };
            return Err(io::Error::new(e.kind(), message));
        }
    };
    stream.set_read_timeout(Some(CLIENT_TIMEOUT))?;
    stream.set_write_timeout(Some(CLIENT_TIMEOUT))?;
    let timed_out = |e: io::Error| {
        if matches!(
            e.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ) {
            io::Error::new(
                io::ErrorKind::TimedOut,
                format!("leakguard did not answer on {}", path.display()),
            )
        } else {
            e
        }
    };
    let mut request = String::with_capacity(line.len() + 1);
    request.push_str(line.trim_end_matches('\n'));
    request.push('\n');
    match stream.write_all(request.as_bytes()) {
        // The daemon may have answered (and closed) before taking all of a bad request: read
        // what it said.
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
            ) => {}
        Err(e) => return Err(timed_out(e)),
        Ok(()) => {
            let _ = stream.shutdown(std::net::Shutdown::Write);
        }
    }
    let mut reply = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                reply.extend_from_slice(chunk.get(..n).unwrap_or(&[]));
                if reply.len() as u64 > MAX_REPLY {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "reply from leakguard too long",
                    ));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // A reset after the reply arrived still leaves a complete reply.
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset && !reply.is_empty() => break,
            Err(e) => return Err(timed_out(e)),
        }
    }
    let reply = String::from_utf8(reply).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "reply from leakguard is not UTF-8",
        )
    })?;
    let reply = reply.trim_end().to_string();
    if reply.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "leakguard closed the control connection without a reply",
        ));
    }
    Ok(reply)
}

/// The message of an error reply (`{"ok":false,"error":"…"}`), `None` for any other reply.
pub fn reply_error(reply: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(reply).ok()?;
    if value.get("ok")? != false {
        return None;
    }
    Some(value.get("error")?.as_str()?.to_string())
}

fn check_reply(reply: &str) -> io::Result<serde_json::Value> {
    if let Some(message) = reply_error(reply) {
        return Err(io::Error::other(format!("leakguard: {message}")));
    }
    serde_json::from_str(reply).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("bad reply from leakguard: {e}"),
        )
    })
}

/// `status` on the socket at `path`: the raw JSON (for `--json`) and the parsed snapshot.
pub fn status(path: &Path) -> io::Result<(String, Status)> {
    let reply = request(path, &Request::Status.line())?;
    let value = check_reply(&reply)?;
    let status = serde_json::from_value(value).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("bad status from leakguard: {e}"),
        )
    })?;
    Ok((reply, status))
}

/// `history` on the socket at `path`: the running daemon's per-device history.
pub fn history(path: &Path) -> io::Result<crate::history::HistoryData> {
    let reply = request(path, &Request::History.line())?;
    check_reply(&reply)?;
    // From the bytes, as the history store reads its file (src/history/store.rs): one
    // deserialiser of the history instead of two keeps about 30 KB out of the MIPS binary.
    serde_json::from_slice(reply.as_bytes()).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("bad history from leakguard: {e}"),
        )
    })
}

/// `device <id>` on the socket at `path`: the MAC the daemon has seen whose digest is `id`.
pub fn device_mac(path: &Path, id: u64) -> io::Result<[u8; 6]> {
    let reply = request(path, &Request::Device(id).line())?;
    let value = check_reply(&reply)?;
    value
        .get("mac")
        .and_then(serde_json::Value::as_str)
        .and_then(|m| match crate::config::AllowDevice::parse(m) {
            Ok(crate::config::AllowDevice::Mac(mac)) => Some(mac),
            _ => None,
        })
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "bad device reply from leakguard",
            )
        })
}

/// `unblock <id|all>` on the socket at `path`: how many blocks were removed.
pub fn unblock(path: &Path, which: Unblock) -> io::Result<u64> {
    let reply = request(path, &Request::Unblock(which).line())?;
    let value = check_reply(&reply)?;
    value
        .get("removed")
        .and_then(|n| n.as_u64())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad reply from leakguard: {reply}"),
            )
        })
}

/// `reload` on the socket at `path`.
pub fn reload(path: &Path) -> io::Result<()> {
    let reply = request(path, &Request::Reload.line())?;
    check_reply(&reply).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Mode;
    use nix::poll::{poll, PollFd, PollFlags};
    use std::thread;
    use std::time::Instant;

    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            let dir = std::env::temp_dir().join(format!("lg-ctl-{}-{name}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn server_at(path: &Path) -> ControlServer {
        let mut server = ControlServer::bind(path).unwrap();
        server.allowed_uid = nix::unistd::getuid().as_raw();
        server
    }

    /// Polls the server like the daemon loop does until a request arrives (5 s at most).
    fn next_request(server: &mut ControlServer) -> (Request, Responder) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            let mut fds = [PollFd::new(server.fd(), PollFlags::POLLIN)];
            let _ = poll(&mut fds, 100u16);
            if let Some(found) = server.poll_request(ControlServer::wake_deadline()) {
                return found;
            }
        }
        panic!("no request");
    }

    /// Serves until the client thread ends, asserting no request reaches the daemon.
    fn serve_none<T>(server: &mut ControlServer, client: thread::JoinHandle<T>) -> T {
        while !client.is_finished() {
            assert!(server
                .poll_request(ControlServer::wake_deadline())
                .is_none());
            thread::sleep(Duration::from_millis(5));
        }
        client.join().unwrap()
    }

    #[test]
    fn parses_requests() {
        assert_eq!(Request::parse("status\n"), Ok(Request::Status));
        assert_eq!(Request::parse("  reload "), Ok(Request::Reload));
        assert_eq!(
            Request::parse("unblock 17"),
            Ok(Request::Unblock(Unblock::Id(17)))
        );
        assert_eq!(
            Request::parse("unblock all\r\n"),
            Ok(Request::Unblock(Unblock::All))
        );
        assert_eq!(Request::parse(""), Err("empty request".into()));
        assert_eq!(
            Request::parse("unblock"),
            Err("unblock: expected a block id or `all`".into())
        );
        assert_eq!(
            Request::parse("unblock -1"),
            Err("unblock: not a block id: -1".into())
        );
        assert_eq!(
            Request::parse("status now"),
            Err("unexpected argument: now".into())
        );
        assert_eq!(
            Request::parse("frob\u{1b}[2J"),
            Err(
                "unknown command: frob?[2J (expected status, history, unblock <id|all>, reload)"
                    .into()
            )
        );
        for r in [
            Request::Status,
            Request::Reload,
            Request::Unblock(Unblock::All),
            Request::Unblock(Unblock::Id(3)),
        ] {
            assert_eq!(Request::parse(&r.line()), Ok(r));
        }
        assert_eq!(
            reply_error(r#"{"ok":false,"error":"no such block: 9"}"#).as_deref(),
            Some("no such block: 9")
        );
        assert_eq!(reply_error(r#"{"ok":true,"removed":1}"#), None);
        assert_eq!(reply_error("garbage"), None);
    }

    #[test]
    fn status_and_unblock() {
        let dir = TempDir::new("serve");
        let path = socket_path(&dir.0.join("run"));
        let mut server = server_at(&path);
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);

        let p = path.clone();
        let client = thread::spawn(move || status(&p));
        let (req, responder) = next_request(&mut server);
        assert_eq!(req, Request::Status);
        let mut snapshot = Status::new(Mode::Monitor, 100, 160);
        snapshot.counters.leaks = 2;
        responder.reply_json(&snapshot).unwrap();
        let (raw, got) = client.join().unwrap().unwrap();
        assert_eq!(got, snapshot);
        let v: serde_json::Value = serde_json::from_str(&raw).unwrap();
        assert_eq!(v["mode"], "monitor");
        assert_eq!(v["counters"]["leaks"], 2);

        let p = path.clone();
        let client = thread::spawn(move || request(&p, "unblock 7"));
        let (req, responder) = next_request(&mut server);
        assert_eq!(req, Request::Unblock(Unblock::Id(7)));
        responder.removed(1).unwrap();
        assert_eq!(
            client.join().unwrap().unwrap(),
            r#"{"ok":true,"removed":1}"#
        );

        let p = path.clone();
        let client = thread::spawn(move || unblock(&p, Unblock::All));
        let (req, responder) = next_request(&mut server);
        assert_eq!(req, Request::Unblock(Unblock::All));
        responder.removed(3).unwrap();
        assert_eq!(client.join().unwrap().unwrap(), 3);

        let p = path.clone();
        let client = thread::spawn(move || unblock(&p, Unblock::Id(9)));
        let (_, responder) = next_request(&mut server);
        responder.error("no such block: 9").unwrap();
        let err = client.join().unwrap().unwrap_err();
        assert_eq!(err.to_string(), "leakguard: no such block: 9");

        let p = path.clone();
        let client = thread::spawn(move || reload(&p));
        let (req, responder) = next_request(&mut server);
        assert_eq!(req, Request::Reload);
        responder.ok().unwrap();
        client.join().unwrap().unwrap();

        drop(server);
        assert!(!path.exists(), "socket file removed on drop");
    }

    #[test]
    fn bad_requests_get_error_replies() {
        let dir = TempDir::new("bad");
        let path = dir.0.join(SOCKET_NAME);
        let mut server = server_at(&path);

        let p = path.clone();
        let client = thread::spawn(move || request(&p, "frobnicate"));
        let reply = serve_none(&mut server, client).unwrap();
        assert_eq!(
            reply,
            r#"{"error":"unknown command: frobnicate (expected status, history, unblock <id|all>, reload)","ok":false}"#
        );

        let p = path.clone();
        let long = "x".repeat(MAX_LINE + 10);
        let client = thread::spawn(move || request(&p, &long));
        let reply = serve_none(&mut server, client).unwrap();
        assert_eq!(reply_error(&reply).as_deref(), Some("request too long"));

        // A client that connects and says nothing is answered and closed.
        let p = path.clone();
        let silent = thread::spawn(move || {
            let mut s = UnixStream::connect(&p).unwrap();
            let mut reply = String::new();
            s.read_to_string(&mut reply).unwrap();
            reply
        });
        let reply = serve_none(&mut server, silent);
        assert_eq!(
            reply_error(&reply).as_deref(),
            Some("timed out waiting for a request")
        );
    }

    /// Twenty clients that connect and stall cost each wake-up of the loop at most its one
    /// budget (not a timeout per client), and a real client queued behind them is still served
    /// within its own timeout.
    #[test]
    fn one_deadline_per_wake_up() {
        let dir = TempDir::new("stall");
        let path = dir.0.join(SOCKET_NAME);
        let mut server = server_at(&path);
        let stalled: Vec<UnixStream> = (0..20)
            .map(|_| UnixStream::connect(&path).unwrap())
            .collect();
        let p = path.clone();
        let client = thread::spawn(move || request(&p, "status"));
        let started = Instant::now();
        let mut longest = Duration::ZERO;
        let mut wake_ups = 0;
        let responder = 'wait: loop {
            assert!(
                started.elapsed() < CLIENT_TIMEOUT,
                "the real client was not served"
            );
            let mut fds = [PollFd::new(server.fd(), PollFlags::POLLIN)];
            let _ = poll(&mut fds, 100u16);
            // One wake-up, as the daemon's `handle_control`: requests until none is left.
            let deadline = ControlServer::wake_deadline();
            let start = Instant::now();
            let got = server.poll_request(deadline);
            longest = longest.max(start.elapsed());
            wake_ups += 1;
            if let Some((request, responder)) = got {
                assert_eq!(request, Request::Status);
                break 'wait responder;
            }
        };
        responder.ok().unwrap();
        assert_eq!(client.join().unwrap().unwrap(), r#"{"ok":true}"#);
        // The budget is 200 ms; a per-client timeout of 1 s would have taken 8 s per wake-up.
        assert!(
            longest < Duration::from_secs(2),
            "a wake-up took {longest:?}"
        );
        assert!(
            // Twenty stalled clients take 20 x READ_WAIT = 1 s and one wake-up's budget is
            // 200 ms: at least five wake-ups (without the deadline, eight clients each: three).
            wake_ups >= 4,
            "{wake_ups} wake-ups: the budget did not end them"
        );
        for mut s in stalled {
            let mut reply = String::new();
            s.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
            let _ = s.read_to_string(&mut reply);
            assert_eq!(
                reply_error(reply.trim()).as_deref(),
                Some("timed out waiting for a request")
            );
        }
    }

    #[test]
    fn refuses_other_uids() {
        let dir = TempDir::new("uid");
        let path = dir.0.join(SOCKET_NAME);
        let mut server = server_at(&path);
        server.allowed_uid = nix::unistd::getuid().as_raw().wrapping_add(1);
        let p = path.clone();
        let client = thread::spawn(move || request(&p, "unblock all"));
        let reply = serve_none(&mut server, client).unwrap();
        assert_eq!(
            reply_error(&reply).as_deref(),
            Some("permission denied: the control socket is for root only")
        );
    }

    #[test]
    fn stale_socket_replaced_live_one_kept() {
        let dir = TempDir::new("stale");
        let path = dir.0.join(SOCKET_NAME);
        // A daemon that died: the file is there, nobody listens.
        drop(UnixListener::bind(&path).unwrap());
        assert!(path.exists());
        let mut server = server_at(&path);

        let err = ControlServer::bind(&path).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        assert!(err.to_string().contains("another leakguard is running"));
        // The refused bind left the live socket alone, and the server still answers.
        assert!(path.exists());
        let p = path.clone();
        let client = thread::spawn(move || request(&p, "reload"));
        // The probe connection from the refused bind is answered first (empty request).
        let (req, responder) = next_request(&mut server);
        assert_eq!(req, Request::Reload);
        responder.ok().unwrap();
        assert_eq!(client.join().unwrap().unwrap(), r#"{"ok":true}"#);

        let file = dir.0.join("plain");
        fs::write(&file, b"x").unwrap();
        let err = ControlServer::bind(&file).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
    }

    #[test]
    fn client_errors_when_not_running() {
        let dir = TempDir::new("absent");
        let path = dir.0.join(SOCKET_NAME);
        let err = request(&path, "status").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert_eq!(
            err.to_string(),
            format!(
                "leakguard is not running (no control socket at {})",
                path.display()
            )
        );
        drop(UnixListener::bind(&path).unwrap());
        let err = request(&path, "status").unwrap_err();
        assert!(err.to_string().starts_with("leakguard is not running"));
    }
}
