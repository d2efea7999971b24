//! Alerts: one syslog line per leak, rate-limited, and a short history for `leakguard status`.
//!
//! A line is a word and `key=value` fields in a fixed order, so `logread | grep leak` and LuCI can
//! pick it apart without a parser:
//!
//! ```text
//! leak device="Nokia 7 Plus" mac=a4:50:**:**:**:56 ip=192.168.1.23 kind=imei encoding=base64
//!      value=4901********518 source=known dst=zzhc.vnet.cn dst_ip=203.0.113.7 dport=9998
//!      proto=tcp action=blocked block=device-destination expires=3600s
//! ```
//!
//! (one line; wrapped here). Fields whose value is unknown (`device`, `mac`, `dst`) are left out,
//! `block`/`expires` appear only when a block was installed. The leaked identifier never leaves the
//! process unmasked, and neither does a copy of it inside a name: a phone that leaks its IMEI by
//! resolving `490154203237518.example.cn` shows up as `dst=4901********518.example.cn`. The
//! device's own MAC address is an identifier too (it is what a MAC leak leaks), so it is masked
//! the same way (`mac=a4:50:**:**:**:56`): with the device's name and address, the vendor prefix
//! and last octet are enough for the owner to find it.
//!
//! Names come from DHCP leases and DNS answers, i.e. from the devices being watched, so every
//! value is sanitised: control characters cannot start a forged log line, and quotes are escaped.
//! The masking and sanitising is [`crate::render`]'s, the same for every output; this module
//! only lays the [`View`] out as a line and a status record.
//!
//! Alerts are rare, so this module allocates freely; its tables are bounded all the same.

#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::config;
use crate::finding::{Finding, Kind};
pub use crate::render::{
    mask_digit_runs, mask_name, masked_mac, BlockView as Block, NAME_DIGIT_RUN,
};
use crate::render::{Render, View};

pub use crate::block::scope_name;
pub use crate::decision::Action;

/// One leak as the daemon loop hands it to [`Alerts`]: its masked [`View`], and who leaked
/// where (for rate limiting only; never shown).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertEvent {
    pub view: View,
    who: Who,
    dst: Whither,
}

impl AlertEvent {
    /// The event of finding `f`, reported as `action`, with the block installed for it.
    pub fn new(render: &Render, f: &Finding, action: Action, block: Option<Block>) -> AlertEvent {
        let who = match f.device_mac {
            Some(mac) => Who::Mac(mac),
            None => Who::Ip(f.src),
        };
        let dst = match &f.host {
            Some(name) => Whither::Name(name.to_ascii_lowercase()),
            None => Whither::Ip(f.dst),
        };
        AlertEvent {
            view: render.view(f, action, block),
            who,
            dst,
        }
    }

    /// Unix seconds.
    fn time(&self) -> u64 {
        self.view.time.sec.max(0) as u64
    }
}

/// The device part of a [`RecentAlert`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertDevice {
    pub name: Option<String>,
    pub mac: Option<String>,
    pub ip: String,
}

/// The destination part of a [`RecentAlert`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertDestination {
    /// Masked like every name (see [`mask_name`]).
    pub name: Option<String>,
    pub ip: String,
    pub port: u16,
    pub proto: String,
}

/// An alert as kept for `status`: already masked and sanitised, so it can be shown as is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentAlert {
    /// Unix seconds.
    pub time: u64,
    pub device: AlertDevice,
    pub kind: String,
    pub encoding: String,
    /// The masked identifier.
    pub value: String,
    pub source: String,
    pub dst: AlertDestination,
    /// `blocked`, `dropped` or `reported`.
    pub action: String,
    /// The block scope when `action` is `blocked`.
    pub block: Option<String>,
    pub expires_secs: Option<u32>,
}

/// Appends `key=value`, quoting the value when it is empty or holds spaces, quotes, `=` or
/// backslashes (`device="Nokia 7 Plus"`). Inside quotes `"` and `\` are escaped; control
/// characters become spaces either way.
fn push_field(out: &mut String, key: &str, value: &str) {
    out.push(' ');
    out.push_str(key);
    out.push('=');
    let quote = value.is_empty()
        || value
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '=' | '\\'));
    if !quote {
        out.push_str(value);
        return;
    }
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
}

impl RecentAlert {
    /// The record of an event: its view, laid out for status.
    pub fn from_event(ev: &AlertEvent) -> RecentAlert {
        RecentAlert::from_view(&ev.view)
    }

    /// The status record of a view (already masked and sanitised).
    pub fn from_view(v: &View) -> RecentAlert {
        RecentAlert {
            time: v.time.sec.max(0) as u64,
            device: AlertDevice {
                name: v.device_name.clone(),
                mac: v.device_mac.clone(),
                ip: v.src.to_string(),
            },
            kind: v.kind.name().to_string(),
            encoding: v.encoding.to_string(),
            value: v.value.clone(),
            source: v.source.name().to_string(),
            dst: AlertDestination {
                name: v.host.clone(),
                ip: v.dst.to_string(),
                port: v.dport,
                proto: v.proto.name().to_string(),
            },
            action: v.action.name().to_string(),
            block: v.block.map(|b| scope_name(b.scope).to_string()),
            expires_secs: v.block.map(|b| b.expires_secs),
        }
    }

    /// The syslog line (without the syslog header) for this alert.
    pub fn line(&self) -> String {
        let mut out = String::with_capacity(256);
        out.push_str("leak");
        if let Some(name) = &self.device.name {
            push_field(&mut out, "device", name);
        }
        if let Some(mac) = &self.device.mac {
            push_field(&mut out, "mac", mac);
        }
        push_field(&mut out, "ip", &self.device.ip);
        push_field(&mut out, "kind", &self.kind);
        push_field(&mut out, "encoding", &self.encoding);
        push_field(&mut out, "value", &self.value);
        push_field(&mut out, "source", &self.source);
        if let Some(name) = &self.dst.name {
            push_field(&mut out, "dst", name);
        }
        push_field(&mut out, "dst_ip", &self.dst.ip);
        push_field(&mut out, "dport", &self.dst.port.to_string());
        push_field(&mut out, "proto", &self.dst.proto);
        push_field(&mut out, "action", &self.action);
        if let Some(block) = &self.block {
            push_field(&mut out, "block", block);
        }
        if let Some(secs) = self.expires_secs {
            push_field(&mut out, "expires", &format!("{secs}s"));
        }
        out
    }
}

/// The syslog line for an event (see the module docs for the format).
pub fn format_line(ev: &AlertEvent) -> String {
    RecentAlert::from_event(ev).line()
}

/// Who leaked, for rate limiting: the MAC when known (it survives a DHCP renumbering), else the IP.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Who {
    Mac([u8; 6]),
    Ip(IpAddr),
}

/// Where to, for rate limiting: the name when known (a CDN rotates addresses), else the IP.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Whither {
    Name(String),
    Ip(IpAddr),
}

#[derive(Clone, Debug)]
struct Seen {
    who: Who,
    kind: Kind,
    dst: Whither,
    /// Unix seconds of the last line logged for this key.
    last: u64,
}

/// The alert stage: rate limiting, the syslog line, the recent-alerts ring.
#[derive(Debug)]
pub struct Alerts {
    rate_limit: u64,
    seen: Vec<Seen>,
    recent: VecDeque<RecentAlert>,
    recent_cap: usize,
    suppressed: u64,
}

impl Alerts {
    /// Keys remembered for rate limiting; when full, the one logged longest ago is replaced (so a
    /// flood of distinct leaks can at worst make an old key log again early).
    pub const RATE_TABLE: usize = 256;

    /// `rate_limit_secs`: quiet time per (device, kind, destination), 0 for none; `recent`: how
    /// many alerts `status` shows.
    pub fn new(rate_limit_secs: u32, recent: u32) -> Alerts {
        Alerts {
            rate_limit: u64::from(rate_limit_secs),
            seen: Vec::new(),
            recent: VecDeque::new(),
            recent_cap: recent as usize,
            suppressed: 0,
        }
    }

    pub fn from_config(alert: &config::Alert) -> Alerts {
        Alerts::new(alert.rate_limit, alert.recent)
    }

    /// Applies a reloaded `[alert]` section, keeping the history and the rate-limit state.
    pub fn reconfigure(&mut self, alert: &config::Alert) {
        self.rate_limit = u64::from(alert.rate_limit);
        self.recent_cap = alert.recent as usize;
        self.recent.truncate(self.recent_cap);
    }

    /// Decides whether the event is logged; returns its line when it is, and records it in the
    /// ring. A repeat inside the rate limit only counts as suppressed.
    pub fn admit(&mut self, ev: &AlertEvent) -> Option<String> {
        if !self.pass_rate_limit(ev) {
            self.suppressed = self.suppressed.saturating_add(1);
            return None;
        }
        let record = RecentAlert::from_event(ev);
        let line = record.line();
        if self.recent_cap > 0 {
            if self.recent.len() >= self.recent_cap {
                self.recent.pop_back();
            }
            self.recent.push_front(record);
        }
        Some(line)
    }

    /// [`admit`](Self::admit), then logs the line at `warn` (syslog `daemon.warning`). Returns
    /// whether it was logged.
    pub fn raise(&mut self, ev: &AlertEvent) -> bool {
        match self.admit(ev) {
            Some(line) => {
                log::warn!("{line}");
                true
            }
            None => false,
        }
    }

    fn pass_rate_limit(&mut self, ev: &AlertEvent) -> bool {
        if self.rate_limit == 0 {
            return true;
        }
        let (who, kind, dst) = (ev.who.clone(), ev.view.kind, ev.dst.clone());
        let now = ev.time();
        if let Some(seen) = self
            .seen
            .iter_mut()
            .find(|s| s.kind == kind && s.who == who && s.dst == dst)
        {
            // A clock stepped backwards (NTP after boot) counts as expired, not as "just now".
            if now >= seen.last && now - seen.last < self.rate_limit {
                return false;
            }
            seen.last = now;
            return true;
        }
        let entry = Seen {
            who,
            kind,
            dst,
            last: now,
        };
        if self.seen.len() < Self::RATE_TABLE {
            self.seen.push(entry);
        } else if let Some(oldest) = self.seen.iter_mut().min_by_key(|s| s.last) {
            *oldest = entry;
        }
        true
    }

    /// Events not logged because of the rate limit, since start.
    pub fn suppressed(&self) -> u64 {
        self.suppressed
    }

    /// The recent alerts, newest first.
    pub fn recent(&self) -> impl Iterator<Item = &RecentAlert> + '_ {
        self.recent.iter()
    }

    /// A copy of the recent alerts for a status snapshot, newest first.
    pub fn recent_vec(&self) -> Vec<RecentAlert> {
        self.recent.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Scope;
    use crate::finding::{Encoding, Hit, Source, Timestamp};
    use crate::packet::Proto;
    use std::net::Ipv4Addr;

    /// The parts of a finding these tests turn, laid out as the alert line names them.
    #[derive(Clone)]
    struct Ev {
        time: u64,
        device: Device,
        kind: Kind,
        encoding: Encoding,
        value: String,
        source: Source,
        dst: Destination,
        action: Action,
        block: Option<Block>,
    }

    #[derive(Clone)]
    struct Device {
        name: Option<String>,
        mac: Option<[u8; 6]>,
        ip: IpAddr,
    }

    #[derive(Clone)]
    struct Destination {
        name: Option<String>,
        ip: IpAddr,
        port: u16,
        proto: Proto,
    }

    impl Ev {
        fn event(&self) -> AlertEvent {
            let f = Finding {
                time: Timestamp {
                    sec: self.time as i64,
                    nsec: 0,
                },
                hit: Hit {
                    kind: self.kind,
                    source: self.source,
                    encoding: self.encoding,
                    value: self.value.as_str().try_into().expect("short"),
                    device: None,
                },
                proto: self.dst.proto,
                src: self.device.ip,
                sport: 40_000,
                dst: self.dst.ip,
                dport: self.dst.port,
                device_mac: self.device.mac,
                device_name: self.device.name.clone(),
                host: self.dst.name.clone(),
            };
            AlertEvent::new(&Render::default(), &f, self.action, self.block)
        }
    }

    fn nokia() -> Ev {
        Ev {
            time: 1_000,
            device: Device {
                name: Some("Nokia 7 Plus".into()),
                mac: Some([0xa4, 0x50, 0x46, 0x12, 0x34, 0x56]),
                ip: IpAddr::V4(Ipv4Addr::new(192, 168, 1, 23)),
            },
            kind: Kind::Imei,
            encoding: Encoding::parse("base64").unwrap(),
            value: "490154203237518".into(),
            source: Source::Known,
            dst: Destination {
                name: Some("zzhc.vnet.cn".into()),
                ip: IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7)),
                port: 9998,
                proto: Proto::Tcp,
            },
            action: Action::Blocked,
            block: Some(Block {
                scope: Scope::DeviceDestination,
                expires_secs: 3600,
            }),
        }
    }

    #[test]
    fn the_issue_line() {
        assert_eq!(
            format_line(&nokia().event()),
            "leak device=\"Nokia 7 Plus\" mac=a4:50:**:**:**:56 ip=192.168.1.23 kind=imei \
             encoding=base64 value=4901********518 source=known dst=zzhc.vnet.cn \
             dst_ip=203.0.113.7 dport=9998 proto=tcp action=blocked block=device-destination \
             expires=3600s"
        );
    }

    #[test]
    fn unknown_fields_left_out() {
        let mut ev = nokia();
        ev.device.name = None;
        ev.device.mac = None;
        ev.dst.name = None;
        ev.dst.proto = Proto::Udp;
        ev.dst.port = 53;
        ev.action = Action::Reported;
        ev.block = None;
        ev.encoding = Encoding::PLAIN;
        ev.source = Source::Pattern;
        assert_eq!(
            format_line(&ev.event()),
            "leak ip=192.168.1.23 kind=imei encoding=plain value=4901********518 \
             source=pattern dst_ip=203.0.113.7 dport=53 proto=udp action=reported"
        );
    }

    #[test]
    fn dns_leak_name_is_masked() {
        let mut ev = nokia();
        ev.dst.name = Some("490154203237518.imei.example.cn".into());
        ev.dst.proto = Proto::Udp;
        ev.action = Action::Dropped;
        ev.block = None;
        let line = format_line(&ev.event());
        assert!(!line.contains("490154203237518"), "{line}");
        assert!(
            line.contains(" dst=4901********518.imei.example.cn "),
            "{line}"
        );

        assert_eq!(
            mask_digit_runs("a-8613812345678-b.example.com"),
            "a-8613******678-b.example.com"
        );
        assert_eq!(
            mask_digit_runs("cdn123456789.example"),
            "cdn123456789.example"
        );
        assert_eq!(
            mask_digit_runs(&format!("x{}y", "1".repeat(50))),
            format!("x1111{}111y", "*".repeat(43))
        );
        // A MAC inside a name, without colons, in upper case.
        assert_eq!(
            mask_name("dev-A45046123456.example", Some("a4:50:46:12:34:56")),
            "dev-A450*****456.example"
        );
        // A serial (letters and digits) inside a name.
        assert_eq!(
            mask_name("r.SN-X7Q2P9.example", Some("x7q2p9")),
            "r.SN-X7**P9.example"
        );
        // Overlapping ranges (the value inside a longer digit run) are masked once.
        assert_eq!(
            mask_name("99490154203237518.x", Some("490154203237518")),
            "9949**********518.x"
        );
    }

    #[test]
    fn hostile_names_are_sanitised() {
        let mut ev = nokia();
        ev.device.name = Some("evil\" action=none\nleak".into());
        ev.dst.name = Some("a b".into());
        let line = format_line(&ev.event());
        assert!(
            line.starts_with("leak device=\"evil\\\" action=none leak\" mac="),
            "{line}"
        );
        assert!(line.contains(" dst=\"a b\" "), "{line}");
        assert!(!line.contains('\n'));
        let mut out = String::new();
        push_field(&mut out, "k", "");
        push_field(&mut out, "k", "a=b");
        push_field(&mut out, "k", "c:\\d");
        assert_eq!(out, " k=\"\" k=\"a=b\" k=\"c:\\\\d\"");
    }

    #[test]
    fn rate_limited_and_counted() {
        let mut alerts = Alerts::new(60, 10);
        let ev = nokia();
        assert!(alerts.admit(&ev.event()).is_some());
        let mut again = ev.clone();
        again.time = 1_059;
        assert_eq!(alerts.admit(&again.event()), None);
        assert_eq!(alerts.suppressed(), 1);
        // Another kind, another destination, another device: separate keys.
        let mut other = again.clone();
        other.kind = Kind::Imsi;
        assert!(alerts.admit(&other.event()).is_some());
        other.dst.name = Some("ZZHC.vnet.cn".into()); // same name, other case: same key
        other.kind = Kind::Imei;
        assert_eq!(alerts.admit(&other.event()), None);
        other.device.mac = Some([2, 0, 0, 0, 0, 1]);
        assert!(alerts.admit(&other.event()).is_some());
        assert_eq!(alerts.suppressed(), 2);
        // After the quiet time it logs again; a clock stepped back counts as expired.
        again.time = 1_060;
        assert!(alerts.admit(&again.event()).is_some());
        again.time = 10;
        assert!(alerts.admit(&again.event()).is_some());
        // Without a limit, everything is logged.
        let mut open = Alerts::new(0, 1);
        assert!(open.admit(&ev.event()).is_some());
        assert!(open.admit(&ev.event()).is_some());
        assert_eq!(open.suppressed(), 0);
    }

    #[test]
    fn rate_table_is_bounded() {
        let mut alerts = Alerts::new(3600, 0);
        let base = nokia();
        for i in 0..(Alerts::RATE_TABLE as u64 + 10) {
            let mut ev = base.clone();
            ev.time = 1_000 + i;
            ev.dst.name = Some(format!("h{i}.example"));
            assert!(alerts.admit(&ev.event()).is_some());
        }
        assert_eq!(alerts.seen.len(), Alerts::RATE_TABLE);
        // The oldest keys were replaced: h0 logs again, the newest is still quiet.
        let mut first = base.clone();
        first.time = 2_000;
        first.dst.name = Some("h0.example".into());
        assert!(alerts.admit(&first.event()).is_some());
        let mut last = base;
        last.time = 2_000;
        last.dst.name = Some(format!("h{}.example", Alerts::RATE_TABLE + 9));
        assert_eq!(alerts.admit(&last.event()), None);
        assert_eq!(alerts.recent().count(), 0);
    }

    #[test]
    fn recent_ring() {
        let mut alerts = Alerts::new(0, 2);
        for (i, kind) in [Kind::Imei, Kind::Imsi, Kind::Iccid]
            .into_iter()
            .enumerate()
        {
            let mut ev = nokia();
            ev.kind = kind;
            ev.time = i as u64;
            alerts.admit(&ev.event());
        }
        let kinds: Vec<&str> = alerts.recent().map(|a| a.kind.as_str()).collect();
        assert_eq!(kinds, ["iccid", "imsi"]);
        let newest = alerts.recent_vec().remove(0);
        assert_eq!(newest.value, "4901********518");
        assert_eq!(newest.device.mac.as_deref(), Some("a4:50:**:**:**:56"));
        assert_eq!(newest.dst.proto, "tcp");
        assert_eq!(newest.block.as_deref(), Some("device-destination"));
        assert_eq!(newest.expires_secs, Some(3600));
        alerts.reconfigure(&config::Alert {
            syslog: "/dev/log".into(),
            rate_limit: 5,
            recent: 1,
        });
        assert_eq!(alerts.recent().count(), 1);
    }
}
