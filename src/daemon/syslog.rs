//! Logging for the daemon: RFC 3164 lines to the syslog socket, or level-prefixed lines to stderr
//! in `--foreground`.
//!
//! OpenWrt has no syslog(3) worth linking against and the crate links no C libraries, so the
//! daemon speaks the datagram protocol itself: `logd` (and every other syslogd) reads one line per
//! datagram from the unix socket `/dev/log`:
//!
//! ```text
//! <30>Dec  1 02:50:29 leakguard[1234]: message
//! ```
//!
//! The priority is `facility * 8 + severity` with facility `daemon` (3). The timestamp is **UTC**:
//! the router has no time zone database the daemon could read without a dependency, and `logd`
//! stamps each line with its own receive time anyway; the field is there because RFC 3164 readers
//! expect it. A small `civil_from_days` turns the Unix time into a calendar date.
//!
//! The socket can be missing (early boot, `logd` restarting). Losing the alerts then would defeat
//! the daemon's purpose, so lines go to stderr instead (procd keeps it), with one note saying so,
//! and the socket is tried again at most every [`RETRY`].

#![forbid(unsafe_code)]

pub use crate::finding::civil_from_days;
use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use log::{Level, LevelFilter, Log, Metadata, Record, SetLoggerError};

/// The syslog facility `daemon`.
pub const FACILITY_DAEMON: u8 = 3;

/// The tag before the pid in every line.
pub const TAG: &str = "leakguard";

/// How long the logger waits before trying an absent or failed socket again, so a dead `logd`
/// does not cost a `connect` per log line.
pub const RETRY: Duration = Duration::from_secs(5);

/// The longest message sent: longer ones are cut (at a character boundary) rather than refused by
/// the socket with `EMSGSIZE`, which would lose the whole line.
pub const MAX_MESSAGE: usize = 1024;

/// The syslog severity of a log level (RFC 5424 table 2).
pub fn severity(level: Level) -> u8 {
    match level {
        Level::Error => 3,
        Level::Warn => 4,
        Level::Info => 6,
        Level::Debug | Level::Trace => 7,
    }
}

/// The `<PRI>` value for facility `daemon` at this level.
pub fn priority(level: Level) -> u8 {
    FACILITY_DAEMON * 8 + severity(level)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Appends the RFC 3164 timestamp `Mmm dd hh:mm:ss` (day padded with a space) of a Unix time, in
/// UTC.
pub fn write_timestamp(out: &mut String, unix_secs: i64) {
    let (_, month, day) = civil_from_days(unix_secs.div_euclid(86_400));
    let secs = unix_secs.rem_euclid(86_400);
    let name = MONTHS.get(month as usize - 1).copied().unwrap_or("Jan");
    let _ = write!(
        out,
        "{name} {day:>2} {:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
}

/// Appends `YYYY-MM-DD hh:mm:ss` of a Unix time, in UTC (for `status`).
pub fn write_datetime(out: &mut String, unix_secs: i64) {
    let (year, month, day) = civil_from_days(unix_secs.div_euclid(86_400));
    let secs = unix_secs.rem_euclid(86_400);
    let _ = write!(
        out,
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
}

/// One complete syslog line: `<PRI>Mmm dd hh:mm:ss leakguard[pid]: message`.
///
/// Control characters in the message (a newline in a device name from a DHCP lease, say) become
/// spaces: one datagram is one line, and a forged second line must not appear in the log.
pub fn format_line(level: Level, unix_secs: i64, pid: u32, message: &str) -> String {
    let mut out = String::with_capacity(40 + message.len().min(MAX_MESSAGE));
    let _ = write!(out, "<{}>", priority(level));
    write_timestamp(&mut out, unix_secs);
    let _ = write!(out, " {TAG}[{pid}]: ");
    push_clean(&mut out, message);
    out
}

/// Appends `message` with control characters replaced, cut at [`MAX_MESSAGE`] bytes.
fn push_clean(out: &mut String, message: &str) {
    let mut used = 0;
    for c in message.chars() {
        used += c.len_utf8();
        if used > MAX_MESSAGE {
            break;
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
}

fn now_unix() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

/// The lowercase level prefix of a stderr line (`warn: …`).
fn level_name(level: Level) -> &'static str {
    match level {
        Level::Error => "error",
        Level::Warn => "warn",
        Level::Info => "info",
        Level::Debug => "debug",
        Level::Trace => "trace",
    }
}

fn stderr_line(level: Level, message: &str) {
    let mut line = String::with_capacity(8 + message.len().min(MAX_MESSAGE));
    line.push_str(level_name(level));
    line.push_str(": ");
    push_clean(&mut line, message);
    line.push('\n');
    // Nothing sensible is left to do when stderr itself fails.
    let _ = io::stderr().lock().write_all(line.as_bytes());
}

/// The connection state, behind the logger's mutex.
#[derive(Debug)]
struct Conn {
    path: PathBuf,
    sock: Option<UnixDatagram>,
    /// No connection attempt before this instant (set after a failure).
    retry_at: Option<Instant>,
    /// Lines currently go to stderr (the note was printed).
    on_stderr: bool,
}

impl Conn {
    /// Sends one line, connecting first if due. Returns the error when the line was not sent.
    fn send(&mut self, line: &str, now: Instant) -> io::Result<()> {
        if self.sock.is_none() {
            if self.retry_at.is_some_and(|t| now < t) {
                return Err(io::Error::new(io::ErrorKind::NotConnected, "retry pending"));
            }
            match connect(&self.path) {
                Ok(sock) => self.sock = Some(sock),
                Err(e) => {
                    self.retry_at = Some(now + RETRY);
                    return Err(e);
                }
            }
        }
        let result = match &self.sock {
            Some(sock) => sock.send(line.as_bytes()).map(drop),
            None => Err(io::Error::new(io::ErrorKind::NotConnected, "no socket")),
        };
        match &result {
            // logd is busy (its queue is full): this line is lost to syslog, the socket is fine.
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            // logd restarted (ECONNREFUSED) or the path went away: reconnect on a later line.
            Err(_) => {
                self.sock = None;
                self.retry_at = Some(now + RETRY);
            }
            Ok(()) => {}
        }
        result
    }
}

fn connect(path: &Path) -> io::Result<UnixDatagram> {
    let sock = UnixDatagram::unbound()?;
    sock.connect(path)?;
    // A full logd queue must not stall the packet loop: drop the line (it goes to stderr).
    sock.set_nonblocking(true)?;
    Ok(sock)
}

/// The syslog backend: RFC 3164 lines over a unix datagram socket, stderr while it is absent.
#[derive(Debug)]
pub struct SyslogLogger {
    conn: Mutex<Conn>,
    pid: u32,
    /// `--foreground`: every line also goes to stderr.
    echo: bool,
}

impl SyslogLogger {
    /// A logger for the socket at `path`. Connects lazily, on the first line.
    pub fn new(path: &Path) -> SyslogLogger {
        SyslogLogger {
            conn: Mutex::new(Conn {
                path: path.to_path_buf(),
                sock: None,
                retry_at: None,
                on_stderr: false,
            }),
            pid: std::process::id(),
            echo: false,
        }
    }

    /// A logger that also writes every line to stderr (`--foreground`): alerts still reach
    /// syslog, where the owner and LuCI look for them.
    pub fn echoing(path: &Path) -> SyslogLogger {
        SyslogLogger {
            echo: true,
            ..SyslogLogger::new(path)
        }
    }

    /// Points the logger at another socket (config reload); the next line connects to it.
    pub fn set_path(&self, path: &Path) {
        let mut conn = self.lock();
        if conn.path != path {
            conn.path = path.to_path_buf();
            conn.sock = None;
            conn.retry_at = None;
        }
    }

    /// The socket path in use.
    pub fn path(&self) -> PathBuf {
        self.lock().path.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Conn> {
        // A panic while holding the lock cannot leave `Conn` inconsistent: keep logging.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self, level: Level, message: &str) {
        let line = format_line(level, now_unix(), self.pid, message);
        if self.echo {
            stderr_line(level, message);
        }
        let mut conn = self.lock();
        match conn.send(&line, Instant::now()) {
            Ok(()) => conn.on_stderr = false,
            Err(_) if self.echo => {}
            Err(e) => {
                if !conn.on_stderr {
                    conn.on_stderr = true;
                    let note = format!(
                        "syslog socket {} unavailable ({e}); logging to stderr, retrying every {}s",
                        conn.path.display(),
                        RETRY.as_secs()
                    );
                    stderr_line(Level::Warn, &note);
                }
                drop(conn);
                stderr_line(level, message);
            }
        }
    }
}

impl Log for SyslogLogger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        // Alerts and status lines are short: formatting into a String here is fine.
        let message = record.args().to_string();
        self.write(record.level(), &message);
    }

    fn flush(&self) {}
}

/// What [`init`] installed; keeps the syslog backend reachable for a reload.
#[derive(Clone, Copy, Debug)]
pub struct Handle(&'static SyslogLogger);

impl Handle {
    /// Applies a reloaded `[alert] syslog` path and log level.
    pub fn reload(&self, syslog_path: &Path, level: LevelFilter) {
        self.0.set_path(syslog_path);
        log::set_max_level(level);
    }
}

/// Installs the process logger: syslog at `syslog_path`, and stderr too in the foreground.
///
/// The logger lives for the whole process. (`log::set_boxed_logger` needs the `log` crate's
/// `alloc` feature, which the crate does not enable; leaking the box and calling `set_logger` is
/// the same thing.) Fails when a logger is already installed.
pub fn init(
    foreground: bool,
    syslog_path: &Path,
    level: LevelFilter,
) -> Result<Handle, SetLoggerError> {
    let logger = if foreground {
        SyslogLogger::echoing(syslog_path)
    } else {
        SyslogLogger::new(syslog_path)
    };
    let logger: &'static SyslogLogger = Box::leak(Box::new(logger));
    log::set_logger(logger)?;
    let handle = Handle(logger);
    log::set_max_level(level);
    Ok(handle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("lg-syslog-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn recv(sock: &UnixDatagram) -> String {
        let mut buf = [0u8; 2048];
        let n = sock.recv(&mut buf).unwrap();
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(11_017), (2000, 3, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(19_783), (2024, 3, 1));
        assert_eq!(civil_from_days(-719_468), (0, 3, 1));
    }

    #[test]
    fn exact_lines() {
        assert_eq!(
            format_line(Level::Info, 1_700_000_000, 42, "hello"),
            "<30>Nov 14 22:13:20 leakguard[42]: hello"
        );
        assert_eq!(
            format_line(Level::Error, 0, 7, "x"),
            "<27>Jan  1 00:00:00 leakguard[7]: x"
        );
        assert_eq!(
            format_line(Level::Warn, 1_709_251_199, 1, "a\nb"),
            "<28>Feb 29 23:59:59 leakguard[1]: a b"
        );
        assert_eq!(priority(Level::Debug), 31);
        let mut dt = String::new();
        write_datetime(&mut dt, 1_709_251_199);
        assert_eq!(dt, "2024-02-29 23:59:59");
        let long = "é".repeat(MAX_MESSAGE);
        let line = format_line(Level::Info, 0, 1, &long);
        assert_eq!(
            line.len(),
            "<30>Jan  1 00:00:00 leakguard[1]: ".len() + MAX_MESSAGE
        );
    }

    #[test]
    fn sends_datagrams() {
        let dir = temp_dir("send");
        let path = dir.join("log");
        let server = UnixDatagram::bind(&path).unwrap();
        let logger = SyslogLogger::new(&path);
        // The max level is global; raising it is harmless (no test installs a logger).
        log::set_max_level(LevelFilter::Info);
        logger.log(
            &Record::builder()
                .args(format_args!("leak kind={}", "imei"))
                .level(Level::Info)
                .build(),
        );
        let line = recv(&server);
        let pid = std::process::id();
        assert!(line.starts_with("<30>"), "{line}");
        assert!(
            line.ends_with(&format!(" leakguard[{pid}]: leak kind=imei")),
            "{line}"
        );
        let stamp = &line[4..19];
        assert!(MONTHS.contains(&&stamp[..3]), "{line}");
        assert_eq!(&stamp[3..4], " ");
        assert_eq!(&stamp[9..10], ":");
        assert_eq!(&stamp[12..13], ":");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn falls_back_and_reconnects() {
        let dir = temp_dir("fallback");
        let path = dir.join("log");
        let logger = SyslogLogger::new(&path);
        logger.write(Level::Warn, "to stderr");
        assert!(logger.lock().on_stderr);
        assert!(logger.lock().retry_at.is_some());

        let server = UnixDatagram::bind(&path).unwrap();
        // Still inside the retry window: the socket is not tried yet.
        logger.write(Level::Warn, "still stderr");
        assert!(logger.lock().sock.is_none());
        logger.lock().retry_at = Some(Instant::now() - Duration::from_secs(1));
        logger.write(Level::Warn, "back");
        assert!(recv(&server).ends_with("]: back"));
        assert!(!logger.lock().on_stderr);

        // logd restarts: the old socket is gone, a new one appears at another path on reload.
        drop(server);
        let _ = std::fs::remove_file(&path);
        logger.write(Level::Error, "lost");
        assert!(logger.lock().on_stderr);
        let path2 = dir.join("log2");
        let server2 = UnixDatagram::bind(&path2).unwrap();
        logger.set_path(&path2);
        assert_eq!(logger.path(), path2);
        logger.write(Level::Error, "reloaded");
        let line = recv(&server2);
        assert!(line.starts_with("<27>"), "{line}");
        assert!(line.ends_with("]: reloaded"), "{line}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
