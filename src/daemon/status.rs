//! The daemon's status: a snapshot for `leakguard status`, the control socket and LuCI.
//!
//! The daemon builds a [`Status`] from its counters, its block list and the alert ring, and
//! both writes it to `<run_dir>/status.json` (LuCI's rpcd reads the file, so the web page works
//! without talking to the daemon) and answers `status` on the control socket with it. The JSON
//! keys are an interface: tests pin them.
//!
//! Everything here is already masked (see [`super::alert`]); [`render_text`] masks long digit
//! runs in names once more, in case a snapshot was built from unmasked names.

#![forbid(unsafe_code)]

use std::fmt::Write as _;
use std::fs;
use std::io::{self, Write as _};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::alert::{mask_digit_runs, RecentAlert};
use super::syslog::write_datetime;
use crate::config::Mode;

/// The file name of the snapshot in the run directory.
pub const STATUS_FILE: &str = "status.json";

/// `enforce` or `monitor`.
pub fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Enforce => "enforce",
        Mode::Monitor => "monitor",
    }
}

/// Counters since start. Plain `u64`s in a snapshot: the daemon loop is single-threaded and
/// keeps its own, so no `AtomicU64` (absent on 32-bit MIPS) is needed anywhere.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Packets received from the queue.
    pub packets: u64,
    /// Payload bytes the detector scanned.
    pub bytes_inspected: u64,
    /// Flows whose payload was scanned.
    pub flows_inspected: u64,
    /// Flows in the table now.
    pub flows_tracked: u64,
    /// Flows evicted because the table was full.
    pub flows_evicted: u64,
    /// Flows decided clean and handed back to the kernel (no longer queued).
    pub bypassed: u64,
    /// Packets dropped.
    pub dropped: u64,
    /// Leaks found (every one, logged or suppressed).
    pub leaks: u64,
    /// Alerts not logged because of the rate limit.
    pub alerts_suppressed: u64,
    /// Times the kernel reported the queue socket's buffer overflowed.
    pub queue_enobufs: u64,
    /// Conntrack events received.
    pub conntrack_events: u64,
}

/// One installed block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockStatus {
    /// The id `leakguard unblock <id>` takes.
    pub id: u64,
    /// `flow`, `device-destination` or `destination`.
    pub scope: String,
    /// The device's name, if known.
    pub device: Option<String>,
    /// The blocked source (device IP or MAC); absent for a `destination` block.
    pub src: Option<String>,
    /// The blocked destination: `ip`, `ip:port/proto` or a name.
    pub dst: String,
    pub expires_in_secs: u64,
}

/// A snapshot of the daemon.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub version: String,
    /// `enforce` or `monitor`.
    pub mode: String,
    pub uptime_secs: u64,
    /// Unix seconds.
    pub started: u64,
    /// How packets reach the daemon (`nft`, `xt`).
    pub queue_backend: String,
    /// How the daemon's rules were installed.
    pub ruleset_backend: String,
    pub counters: Counters,
    /// Newest first.
    pub recent_alerts: Vec<RecentAlert>,
    pub blocks: Vec<BlockStatus>,
    pub learned_macs: u64,
    /// Whether the daemon was running when this was written: `false` is the last status of a
    /// daemon that stopped cleanly. A daemon that died leaves `true` and an `updated` that no
    /// longer moves.
    #[serde(default = "yes")]
    pub running: bool,
    /// The daemon's process id.
    #[serde(default)]
    pub pid: u32,
    /// Unix seconds when this snapshot was taken (written every 2 s while running).
    #[serde(default)]
    pub updated: u64,
    /// How the daemon before this one ended, as found at start.
    #[serde(default)]
    pub previous: Option<Previous>,
    /// fw4's flow offloading and what the daemon does about it
    /// ([`crate::firewall::OffloadState::describe`]).
    #[serde(default)]
    pub offload: String,
}

fn yes() -> bool {
    true
}

/// The end of the previous daemon: when protection went off and whether it stopped or died.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Previous {
    pub pid: u32,
    /// `true`: it stopped (SIGTERM); `false`: it died (killed, crashed, out of memory).
    pub clean: bool,
    /// Unix seconds: its last status (a death is known to have happened after it).
    pub down_since: u64,
    /// Seconds from then until this daemon started.
    pub down_secs: u64,
}

/// Reads the status file a daemon left in `dir` (at start, before this one writes its own):
/// how that daemon ended, if one ran.
pub fn previous(dir: &Path, now: u64) -> Option<Previous> {
    let last = read(dir)?;
    Some(Previous {
        pid: last.pid,
        clean: !last.running,
        down_since: last.updated,
        down_secs: now.saturating_sub(last.updated),
    })
}

/// The status file in `dir`, if there is a readable one.
///
/// Through a `serde_json::Value`, as `leakguard status` reads the daemon's reply: one
/// deserialiser of `Status` instead of two keeps about 40 KB out of the MIPS binary.
pub fn read(dir: &Path) -> Option<Status> {
    let text = fs::read_to_string(dir.join(STATUS_FILE)).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    serde_json::from_value(value).ok()
}

/// What `leakguard status` says when no daemon answers, from the status file the last one left:
/// whether it stopped or died, and since when protection is off.
pub fn not_running_text(last: Option<&Status>, now: u64) -> String {
    match last {
        None => "leakguard is not running (no status file: it has not run since boot)".to_string(),
        Some(s) if !s.running => format!(
            "leakguard is not running: it stopped at {} UTC ({} ago)",
            datetime(s.updated),
            duration_text(now.saturating_sub(s.updated))
        ),
        Some(s) => format!(
            "leakguard is not running: it died (pid {}); its last status was at {} UTC ({} ago), \
             so protection has been off since about then",
            s.pid,
            datetime(s.updated),
            duration_text(now.saturating_sub(s.updated))
        ),
    }
}

impl Status {
    /// An empty snapshot of this build, started at `started` and taken at `now` (Unix seconds).
    pub fn new(mode: Mode, started: u64, now: u64) -> Status {
        Status {
            version: crate::VERSION.to_string(),
            mode: mode_name(mode).to_string(),
            uptime_secs: now.saturating_sub(started),
            started,
            queue_backend: String::new(),
            ruleset_backend: String::new(),
            counters: Counters::default(),
            recent_alerts: Vec::new(),
            blocks: Vec::new(),
            learned_macs: 0,
            running: true,
            pid: 0,
            updated: now,
            previous: None,
            offload: String::new(),
        }
    }
}

/// Writes `status` as `<dir>/status.json`: to a temporary file in the same directory, then
/// renamed over the old one, so a reader (LuCI polling every few seconds) never sees half a file.
/// Creates `dir` (mode 0755) when missing. Returns the path written.
pub fn write_atomic(dir: &Path, status: &Status) -> io::Result<PathBuf> {
    if !dir.is_dir() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(dir)?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o755))?;
    }
    let target = dir.join(STATUS_FILE);
    let temp = dir.join(format!(".{STATUS_FILE}.{}.tmp", std::process::id()));
    let mut json = serde_json::to_vec_pretty(status).map_err(io::Error::other)?;
    json.push(b'\n');
    let written = (|| {
        let mut file = fs::File::create(&temp)?;
        // Values are masked: the file may be world-readable, whatever the daemon's umask.
        file.set_permissions(fs::Permissions::from_mode(0o644))?;
        file.write_all(&json)?;
        // No fsync: the run directory is a tmpfs, and a torn file after a power cut is moot.
        fs::rename(&temp, &target)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written.map(|()| target)
}

/// `3d 4h 5m`, `4h 5m`, `5m 6s` or `6s`.
pub fn duration_text(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}d {h}h {m}m")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m {s}s")
    } else {
        format!("{s}s")
    }
}

/// `2026-12-01 00:45:00` (UTC).
pub fn datetime(unix: u64) -> String {
    let mut s = String::with_capacity(19);
    write_datetime(&mut s, i64::try_from(unix).unwrap_or(i64::MAX));
    s
}

/// The human form of a status for `leakguard status`:
///
/// ```text
/// leakguard 0.1.0  mode enforce  up 2h 5m  since 2026-12-01 00:45:00 UTC
/// queue nft  ruleset nft  learned MACs 4
///
/// counters
///   packets                   12034
///   …
///
/// blocks (1)
///   #3  device-destination  Nokia 7 Plus 192.168.1.23 -> zzhc.vnet.cn  expires in 59m 2s
///
/// recent alerts (1)
///   2026-12-01 02:50:29  blocked   Nokia 7 Plus 192.168.1.23  imei=4901********518 base64 known
///       -> zzhc.vnet.cn 203.0.113.7:9998/tcp
/// ```
pub fn render_text(status: &Status) -> String {
    let mut out = String::with_capacity(1024);
    let _ = writeln!(
        out,
        "leakguard {}  mode {}  up {}  since {} UTC",
        clean(&status.version),
        clean(&status.mode),
        duration_text(status.uptime_secs),
        datetime(status.started)
    );
    if let Some(p) = &status.previous {
        let _ = writeln!(
            out,
            "before this start: the previous daemon {} {} UTC; protection was off for about {}",
            if p.clean {
                "stopped at"
            } else {
                "died, last seen at"
            },
            datetime(p.down_since),
            duration_text(p.down_secs)
        );
    }
    let _ = writeln!(
        out,
        "queue {}  ruleset {}  learned MACs {}",
        or_dash(&status.queue_backend),
        or_dash(&status.ruleset_backend),
        status.learned_macs
    );
    let _ = writeln!(out, "flow offloading {}", or_dash(&clean(&status.offload)));

    let c = &status.counters;
    out.push_str("\ncounters\n");
    for (label, value) in [
        ("packets", c.packets),
        ("bytes inspected", c.bytes_inspected),
        ("flows inspected", c.flows_inspected),
        ("flows tracked", c.flows_tracked),
        ("flows evicted", c.flows_evicted),
        ("flows bypassed", c.bypassed),
        ("packets dropped", c.dropped),
        ("leaks", c.leaks),
        ("alerts suppressed", c.alerts_suppressed),
        ("queue overflows", c.queue_enobufs),
        ("conntrack events", c.conntrack_events),
    ] {
        let _ = writeln!(out, "  {label:<20}{value:>12}");
    }

    let _ = writeln!(out, "\nblocks ({})", status.blocks.len());
    if status.blocks.is_empty() {
        out.push_str("  none\n");
    }
    let id_width = status
        .blocks
        .iter()
        .map(|b| b.id.to_string().len())
        .max()
        .unwrap_or(1);
    for b in &status.blocks {
        let mut who = String::new();
        if let Some(name) = &b.device {
            who.push_str(&clean(name));
        }
        if let Some(src) = &b.src {
            if !who.is_empty() {
                who.push(' ');
            }
            who.push_str(&clean(src));
        }
        if who.is_empty() {
            who.push_str("any");
        }
        let _ = writeln!(
            out,
            "  #{:<id_width$}  {:<18}  {} -> {}  expires in {}",
            b.id,
            clean(&b.scope),
            who,
            clean(&b.dst),
            duration_text(b.expires_in_secs)
        );
    }

    let _ = writeln!(out, "\nrecent alerts ({})", status.recent_alerts.len());
    if status.recent_alerts.is_empty() {
        out.push_str("  none\n");
    }
    for a in &status.recent_alerts {
        let mut who = String::new();
        if let Some(name) = &a.device.name {
            who.push_str(&clean(name));
            who.push(' ');
        }
        who.push_str(&clean(&a.device.ip));
        let mut dst = String::new();
        if let Some(name) = &a.dst.name {
            dst.push_str(&clean(name));
            dst.push(' ');
        }
        let _ = write!(
            dst,
            "{}:{}/{}",
            clean(&a.dst.ip),
            a.dst.port,
            clean(&a.dst.proto)
        );
        let _ = writeln!(
            out,
            "  {}  {:<8}  {}  {}={} {} {}\n      -> {}",
            datetime(a.time),
            clean(&a.action),
            who,
            clean(&a.kind),
            clean(&a.value),
            clean(&a.encoding),
            clean(&a.source),
            dst
        );
    }
    out
}

/// Text from a snapshot, safe to print: long digit runs masked, control characters gone.
fn clean(text: &str) -> String {
    mask_digit_runs(text)
}

fn or_dash(text: &str) -> String {
    if text.is_empty() {
        "-".to_string()
    } else {
        clean(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::alert::{AlertDestination, AlertDevice};
    use serde_json::Value;

    fn sample() -> Status {
        let mut s = Status::new(Mode::Enforce, 1_764_549_900, 1_764_557_429);
        s.queue_backend = "nft".into();
        s.ruleset_backend = "nft".into();
        s.learned_macs = 4;
        s.counters.packets = 12_034;
        s.counters.leaks = 3;
        s.counters.alerts_suppressed = 2;
        s.blocks.push(BlockStatus {
            id: 3,
            scope: "device-destination".into(),
            device: Some("Nokia 7 Plus".into()),
            src: Some("192.168.1.23".into()),
            dst: "zzhc.vnet.cn".into(),
            expires_in_secs: 3542,
        });
        s.recent_alerts.push(RecentAlert {
            time: 1_764_557_429,
            device: AlertDevice {
                name: Some("Nokia 7 Plus".into()),
                mac: Some("a4:50:46:12:34:56".into()),
                ip: "192.168.1.23".into(),
            },
            kind: "imei".into(),
            encoding: "base64".into(),
            value: "4901********518".into(),
            source: "known".into(),
            dst: AlertDestination {
                // Built unmasked on purpose: render_text must still not print it.
                name: Some("490154203237518.zzhc.vnet.cn".into()),
                ip: "203.0.113.7".into(),
                port: 9998,
                proto: "tcp".into(),
            },
            action: "blocked".into(),
            block: Some("device-destination".into()),
            expires_secs: Some(3600),
        });
        s
    }

    fn keys(v: &Value) -> Vec<&str> {
        let mut k: Vec<&str> = v.as_object().unwrap().keys().map(|s| s.as_str()).collect();
        k.sort_unstable();
        k
    }

    /// A clean stop and a death leave different last words; `status` and the next start read
    /// them back (and a status file from before these keys existed still parses).
    #[test]
    fn stopped_or_died_and_since_when() {
        let dir = std::env::temp_dir().join(format!("leakguard-status-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        assert_eq!(previous(&dir, 1000), None);
        assert!(not_running_text(None, 1000).contains("has not run"));
        let mut s = sample();
        s.pid = 4242;
        s.updated = 1_764_550_000;
        write_atomic(&dir, &s).unwrap();
        let died = previous(&dir, s.updated + 90).unwrap();
        assert_eq!(
            died,
            Previous {
                pid: 4242,
                clean: false,
                down_since: s.updated,
                down_secs: 90
            }
        );
        let text = not_running_text(read(&dir).as_ref(), s.updated + 90);
        assert_eq!(
            text,
            "leakguard is not running: it died (pid 4242); its last status was at \
             2025-12-01 00:46:40 UTC (1m 30s ago), so protection has been off since about then"
        );
        s.running = false;
        write_atomic(&dir, &s).unwrap();
        assert!(previous(&dir, s.updated + 5).unwrap().clean);
        assert!(not_running_text(read(&dir).as_ref(), s.updated + 5).contains("it stopped at"));
        let mut v = serde_json::to_value(&s).unwrap();
        for k in ["running", "pid", "updated", "previous"] {
            v.as_object_mut().unwrap().remove(k);
        }
        let old: Status = serde_json::from_value(v).unwrap();
        assert!(old.running && old.previous.is_none());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn json_keys_are_the_interface() {
        let status = sample();
        let v = serde_json::to_value(&status).unwrap();
        assert_eq!(
            keys(&v),
            [
                "blocks",
                "counters",
                "learned_macs",
                "mode",
                "offload",
                "pid",
                "previous",
                "queue_backend",
                "recent_alerts",
                "ruleset_backend",
                "running",
                "started",
                "updated",
                "uptime_secs",
                "version"
            ]
        );
        assert_eq!(
            keys(&v["counters"]),
            [
                "alerts_suppressed",
                "bypassed",
                "bytes_inspected",
                "conntrack_events",
                "dropped",
                "flows_evicted",
                "flows_inspected",
                "flows_tracked",
                "leaks",
                "packets",
                "queue_enobufs"
            ]
        );
        assert_eq!(
            keys(&v["blocks"][0]),
            ["device", "dst", "expires_in_secs", "id", "scope", "src"]
        );
        assert_eq!(
            keys(&v["recent_alerts"][0]),
            [
                "action",
                "block",
                "device",
                "dst",
                "encoding",
                "expires_secs",
                "kind",
                "source",
                "time",
                "value"
            ]
        );
        assert_eq!(
            keys(&v["recent_alerts"][0]["device"]),
            ["ip", "mac", "name"]
        );
        assert_eq!(
            keys(&v["recent_alerts"][0]["dst"]),
            ["ip", "name", "port", "proto"]
        );
        assert_eq!(v["mode"], "enforce");
        assert_eq!(v["uptime_secs"], 7529);
        assert_eq!(v["counters"]["packets"], 12_034);
        assert_eq!(v["recent_alerts"][0]["value"], "4901********518");
        let back: Status = serde_json::from_value(v).unwrap();
        assert_eq!(back, status);
    }

    #[test]
    fn atomic_write_leaves_no_temp_file() {
        let base = std::env::temp_dir().join(format!("lg-status-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let dir = base.join("run/leakguard");
        let path = write_atomic(&dir, &sample()).unwrap();
        assert_eq!(path, dir.join("status.json"));
        let mode = fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o755);
        let mut second = sample();
        second.counters.packets = 1;
        write_atomic(&dir, &second).unwrap();
        let names: Vec<String> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["status.json"]);
        let read: Status = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        assert_eq!(read, second);
        let _ = fs::remove_dir_all(&base);
    }

    #[test]
    fn text_shows_masked_values_only() {
        let text = render_text(&sample());
        assert!(!text.contains("490154203237518"), "{text}");
        assert!(text.contains("imei=4901********518"), "{text}");
        assert!(text.contains("-> 4901********518.zzhc.vnet.cn 203.0.113.7:9998/tcp"));
        let first = text.lines().next().unwrap();
        assert_eq!(
            first,
            format!(
                "leakguard {}  mode enforce  up 2h 5m  since 2025-12-01 00:45:00 UTC",
                crate::VERSION
            )
        );
        assert!(
            text.contains("\n  packets                    12034\n"),
            "{text}"
        );
        assert!(text.contains(
            "\n  #3  device-destination  Nokia 7 Plus 192.168.1.23 -> zzhc.vnet.cn  \
             expires in 59m 2s\n"
        ));
        assert!(text.contains(
            "\n  2025-12-01 02:50:29  blocked   Nokia 7 Plus 192.168.1.23  \
             imei=4901********518 base64 known\n"
        ));
        let empty = render_text(&Status::new(Mode::Monitor, 0, 5));
        assert!(empty.contains("\nblocks (0)\n  none\n"));
        assert!(empty.contains("\nrecent alerts (0)\n  none\n"));
        assert!(empty.contains("queue -  ruleset -"));
        assert!(empty.contains("\nflow offloading -\n"), "{empty}");
        let mut offloaded = sample();
        offloaded.offload = "fw4 software flow offloading taken over".to_string();
        let text = render_text(&offloaded);
        assert!(text.contains("\nflow offloading fw4 software flow offloading taken over\n"));
    }

    #[test]
    fn durations() {
        assert_eq!(duration_text(0), "0s");
        assert_eq!(duration_text(61), "1m 1s");
        assert_eq!(duration_text(7529), "2h 5m");
        assert_eq!(duration_text(3 * 86_400 + 3600 * 4 + 300), "3d 4h 5m");
    }
}
