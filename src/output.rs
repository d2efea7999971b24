//! How `leakguard scan` prints findings: one line each, readable text or JSON lines.
//!
//! Identifiers leave the process only masked (`4901********518`), here as in syslog and status:
//! a scan report is something an owner pastes into a forum post. What is shown is
//! [`crate::render`]'s view, the same for every output; this module only lays it out.

use std::fmt::Write as _;
use std::io::{self, Write};

use serde_json::json;

use crate::finding::civil_from_days;
use crate::render::View;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

impl Format {
    pub fn parse(text: &str) -> Option<Format> {
        match text {
            "text" => Some(Format::Text),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// Writes one finding, as [`crate::render`] shows it, as one line; `file` names the capture it
/// came from (`scan`: always in JSON, in text when more than one file is scanned).
pub fn write_finding(
    w: &mut dyn Write,
    format: Format,
    v: &View,
    file: Option<&str>,
) -> io::Result<()> {
    match format {
        Format::Json => {
            let mut v = json!({
                "time": rfc3339(v.time.sec, v.time.nsec),
                "kind": v.kind.name(),
                "source": v.source.name(),
                "encoding": v.encoding.to_string(),
                "value": v.value,
                "device": {
                    "mac": v.device_mac,
                    "ip": v.src.to_string(),
                    "name": v.device_name,
                },
                "proto": v.proto.name(),
                "src": v.src.to_string(),
                "sport": v.sport,
                "dst": v.dst.to_string(),
                "dport": v.dport,
                "host": v.host,
                "action": v.action.name(),
            });
            if let (Some(file), Some(map)) = (file, v.as_object_mut()) {
                map.insert("file".into(), file.into());
            }
            writeln!(w, "{v}")
        }
        Format::Text => {
            let mut device = String::new();
            if let Some(name) = &v.device_name {
                let _ = write!(device, "\"{name}\" ");
            }
            if let Some(mac) = &v.device_mac {
                let _ = write!(device, "{mac} ");
            }
            let _ = write!(device, "{}", v.src);
            let dst = match &v.host {
                Some(h) => format!("{h} ({})", socket_text(v.dst, v.dport)),
                None => socket_text(v.dst, v.dport),
            };
            if let Some(file) = file {
                write!(w, "{file}: ")?;
            }
            writeln!(
                w,
                "{} {} {} {} {} from {} to {}/{} [{}]",
                rfc3339(v.time.sec, v.time.nsec),
                v.kind,
                v.value,
                v.encoding,
                v.source,
                device,
                dst,
                v.proto.name(),
                v.action
            )
        }
    }
}

fn socket_text(ip: std::net::IpAddr, port: u16) -> String {
    match ip {
        std::net::IpAddr::V4(a) => format!("{a}:{port}"),
        std::net::IpAddr::V6(a) => format!("[{a}]:{port}"),
    }
}

/// RFC 3339 in UTC with microseconds, e.g. `2026-11-25T08:15:03.123456Z`, from Unix time.
/// Written out here (days to civil date) rather than pulling a date crate into a router binary.
pub fn rfc3339(sec: i64, nsec: u32) -> String {
    let days = sec.div_euclid(86_400);
    let secs = sec.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        nsec / 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(rfc3339(1_764_547_200, 1_500), "2025-12-01T00:00:00.000001Z");
        assert_eq!(rfc3339(951_782_400, 0), "2000-02-29T00:00:00.000000Z");
        assert_eq!(rfc3339(-1, 0), "1969-12-31T23:59:59.000000Z");
    }
}
