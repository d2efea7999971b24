//! How `leakguard scan` prints findings: one line each, readable text or JSON lines.
//!
//! Identifiers leave the process only masked (`4901********518`), here as in syslog and status:
//! a scan report is something an owner pastes into a forum post.

use std::fmt::Write as _;
use std::io::{self, Write};

use serde_json::json;

use crate::finding::{civil_from_days, mac_text, mask, Finding};

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

/// Writes one finding as one line.
pub fn write_finding(
    w: &mut dyn Write,
    format: Format,
    f: &Finding,
    action: &str,
) -> io::Result<()> {
    match format {
        Format::Json => {
            let v = json!({
                "time": rfc3339(f.time.sec, f.time.nsec),
                "kind": f.hit.kind.name(),
                "source": f.hit.source.name(),
                "encoding": f.hit.encoding.to_string(),
                "value": mask(&f.hit.value).as_str(),
                "device": {
                    "mac": f.device_mac.as_ref().map(|m| mask(&mac_text(m)).as_str().to_string()),
                    "ip": f.src.to_string(),
                    "name": f.device_name,
                },
                "proto": f.proto.name(),
                "src": f.src.to_string(),
                "sport": f.sport,
                "dst": f.dst.to_string(),
                "dport": f.dport,
                "host": f.host,
                "action": action,
            });
            writeln!(w, "{v}")
        }
        Format::Text => {
            let mut device = String::new();
            if let Some(name) = &f.device_name {
                let _ = write!(device, "\"{name}\" ");
            }
            if let Some(mac) = &f.device_mac {
                let _ = write!(device, "{} ", mask(&mac_text(mac)));
            }
            let _ = write!(device, "{}", f.src);
            let dst = match &f.host {
                Some(h) => format!("{h} ({})", socket_text(f.dst, f.dport)),
                None => socket_text(f.dst, f.dport),
            };
            writeln!(
                w,
                "{} {} {} {} {} from {} to {}/{} [{}]",
                rfc3339(f.time.sec, f.time.nsec),
                f.hit.kind,
                mask(&f.hit.value),
                f.hit.encoding,
                f.hit.source,
                device,
                dst,
                f.proto.name(),
                action
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
