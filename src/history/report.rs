//! `leakguard report` and `leakguard scan --report`: the history, filtered, as text or JSON.
//!
//! Text reads at a glance in a terminal: one block per device (name, masked MAC, addresses,
//! flow totals), then one aligned row per (destination, kind, encoding, source), grouped by
//! registrable domain with the full names and addresses under each group. JSON is the same
//! [`HistoryData`] shape the file and the control socket carry, filtered.
//!
//! Names come from packets and lease files: every one is made printable before it reaches a
//! terminal, so a hostile `Host:` cannot move the cursor or change colours.

use std::fmt::Write as _;

use super::{Destination, DeviceHistory, HistoryData, Key};
use crate::output::rfc3339;

/// Which part of the history to show.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    /// A device's name (case does not matter) or MAC.
    pub device: Option<String>,
    /// Only rows last seen at or after this Unix time.
    pub since: Option<i64>,
}

/// Parses `--since`: a count with a unit, `90s`, `30m`, `12h`, `7d`, `2w`.
pub fn parse_since(text: &str) -> Option<i64> {
    let (digits, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = digits.parse().ok()?;
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return None,
    };
    n.checked_mul(unit)
}

/// The devices and rows the filter selects. A MAC in the filter is matched by its keyed
/// digest, so it needs the key the history was made with.
pub fn select(
    data: &HistoryData,
    key: Option<&Key>,
    filter: &Filter,
) -> Result<HistoryData, String> {
    let mac = filter.device.as_deref().and_then(parse_mac);
    let mac_id = match (mac, key) {
        (Some(m), Some(k)) => Some(k.device_id(&m)),
        (Some(_), None) => {
            return Err("--device by MAC needs the history's key (run as root)".to_string())
        }
        _ => None,
    };
    let mut out = HistoryData {
        devices: Vec::new(),
        evicted_devices: data.evicted_devices,
    };
    for d in &data.devices {
        let wanted = match (&filter.device, mac_id) {
            (None, _) => true,
            (Some(_), Some(id)) => d.id == id,
            (Some(name), None) => d
                .name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(name)),
        };
        if !wanted {
            continue;
        }
        let mut d = d.clone();
        if let Some(since) = filter.since {
            if d.last_seen < since {
                continue;
            }
            d.destinations.retain(|r| r.last_seen >= since);
            let first_day = since.div_euclid(86_400);
            d.days.retain(|c| c.day >= first_day);
        }
        out.devices.push(d);
    }
    if out.devices.is_empty() {
        if let Some(name) = &filter.device {
            let known = data.devices.iter().any(|d| match mac_id {
                Some(id) => d.id == id,
                None => d
                    .name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name)),
            });
            if !known {
                return Err(format!("no device `{}` in the history", printable(name)));
            }
        }
    }
    sort(&mut out);
    Ok(out)
}

/// Devices with the most leaks first, then by name; rows by domain, kind, encoding.
fn sort(data: &mut HistoryData) {
    data.devices.sort_by(|a, b| {
        b.leaks
            .cmp(&a.leaks)
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.id.cmp(&b.id))
    });
    for d in &mut data.devices {
        d.destinations.sort_by(|a, b| {
            a.domain
                .cmp(&b.domain)
                .then_with(|| a.kind.cmp(&b.kind))
                .then_with(|| a.encoding.to_string().cmp(&b.encoding.to_string()))
                .then_with(|| a.source.name().cmp(b.source.name()))
        });
    }
}

use crate::detect::identifiers::parse_mac_exact as parse_mac;

/// The JSON form: `{"generated": …, "devices": [...], "evicted_devices": n}`.
pub fn render_json(data: &HistoryData, now: i64) -> String {
    let mut v = serde_json::to_value(data).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("generated".into(), rfc3339(now, 0).into());
    }
    format!("{v}\n")
}

/// The text form.
pub fn render_text(data: &HistoryData) -> String {
    let mut out = String::new();
    if data.devices.is_empty() {
        out.push_str("no devices in the history\n");
    }
    for (i, d) in data.devices.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        device_block(&mut out, d);
    }
    if data.evicted_devices > 0 {
        let _ = writeln!(
            out,
            "\n({} device(s) evicted to stay within history.max_devices)",
            data.evicted_devices
        );
    }
    out
}

fn device_block(out: &mut String, d: &DeviceHistory) {
    let name = d
        .name
        .as_deref()
        .map(printable)
        .unwrap_or_else(|| "(no name)".to_string());
    let mac = d.mac.as_deref().unwrap_or("(no MAC)");
    let addresses: Vec<String> = d.addresses.iter().map(|a| a.to_string()).collect();
    let _ = writeln!(out, "{name}  {mac}  {}", addresses.join(", "));
    let _ = writeln!(
        out,
        "  seen {} .. {} UTC; flows: {} inspected, {} with a leak, {} blocked; {} leak(s)",
        short_time(d.first_seen),
        short_time(d.last_seen),
        d.flows_inspected,
        d.flows_leaked,
        d.flows_blocked,
        d.leaks
    );
    if d.destinations.is_empty() {
        out.push_str("  no leaks\n");
    } else {
        table(out, &d.destinations);
    }
    if d.evicted > 0 {
        let _ = writeln!(
            out,
            "  ({} older row(s) evicted to stay within history.max_destinations)",
            d.evicted
        );
    }
}

const HEADERS: [&str; 9] = [
    "DESTINATION",
    "KIND",
    "VALUE",
    "ENCODING",
    "SOURCE",
    "COUNT",
    "FIRST",
    "LAST",
    "ACTION",
];

fn table(out: &mut String, rows: &[Destination]) {
    let mut cells: Vec<[String; 9]> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let first_of_group = i == 0 || rows[i - 1].domain != r.domain;
        let values = r.values.len() as u64 + r.more_values;
        let value = match r.values.first() {
            Some(v) if values > 1 => format!("{} +{}", v.masked, values - 1),
            Some(v) => v.masked.clone(),
            None => String::new(),
        };
        cells.push([
            if first_of_group {
                printable(&r.domain)
            } else {
                String::new()
            },
            r.kind.name().to_string(),
            value,
            r.encoding.to_string(),
            r.source.name().to_string(),
            r.count.to_string(),
            short_time(r.first_seen),
            short_time(r.last_seen),
            action_text(r),
        ]);
    }
    let mut width = HEADERS.map(|h| h.chars().count());
    for row in &cells {
        for (w, c) in width.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |out: &mut String, row: &[String]| {
        out.push_str("  ");
        for (i, c) in row.iter().enumerate() {
            let pad = width[i].saturating_sub(c.chars().count());
            let last = i + 1 == row.len();
            if i == 5 {
                // Counts align right.
                out.push_str(&" ".repeat(pad));
                out.push_str(c);
            } else {
                out.push_str(c);
                if !last {
                    out.push_str(&" ".repeat(pad));
                }
            }
            if !last {
                out.push_str("  ");
            }
        }
        out.push('\n');
    };
    line(out, &HEADERS.map(str::to_string));
    for (i, row) in cells.iter().enumerate() {
        line(out, row);
        let last_of_group = !matches!(rows.get(i + 1), Some(n) if n.domain == rows[i].domain);
        if last_of_group {
            let group: Vec<&Destination> =
                rows.iter().filter(|r| r.domain == rows[i].domain).collect();
            let below = below_line(&group);
            if !below.is_empty() {
                let _ = writeln!(out, "    {below}");
            }
        }
    }
}

/// The full names and addresses of one domain group.
fn below_line(group: &[&Destination]) -> String {
    let mut names: Vec<String> = Vec::new();
    let mut addresses: Vec<String> = Vec::new();
    for r in group {
        for n in &r.names {
            let n = printable(n);
            if !names.contains(&n) {
                names.push(n);
            }
        }
        for a in &r.addresses {
            let text = match a.ip {
                std::net::IpAddr::V4(ip) => format!("{ip}:{}/{}", a.port, a.proto),
                std::net::IpAddr::V6(ip) => format!("[{ip}]:{}/{}", a.port, a.proto),
            };
            if !addresses.contains(&text) {
                addresses.push(text);
            }
        }
    }
    names.extend(addresses);
    names.join(", ")
}

fn action_text(r: &Destination) -> String {
    let parts: Vec<String> = [
        ("blocked", r.blocked),
        ("dropped", r.dropped),
        ("reported", r.reported),
    ]
    .iter()
    .filter(|(_, n)| *n > 0)
    .map(|(what, n)| {
        if *n == r.count {
            (*what).to_string()
        } else {
            format!("{what} {n}")
        }
    })
    .collect();
    parts.join(", ")
}

/// `2026-11-25 08:15` (UTC).
pub fn short_time(sec: i64) -> String {
    let t = rfc3339(sec, 0);
    t.get(..16).unwrap_or(&t).replacen('T', " ", 1)
}

/// Control characters (and the rest of what is not printable) escaped as `\u{…}`.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || c == '\u{200b}' || ('\u{202a}'..='\u{202e}').contains(&c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}
