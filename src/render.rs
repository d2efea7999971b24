//! One view of a finding for every output: scan text and JSON, the syslog line, the status
//! file and `status --json`, control replies (and, on top, LuCI and the report). Masked and
//! sanitised here, once, so no output can show more than another.
//!
//! What is masked:
//! * the identifier itself ([`mask`]: `4901********518`), and the device's MAC (it is what a MAC
//!   leak leaks: `a4:50:**:**:**:56`);
//! * in every name that is shown (the destination's Host/SNI/DNS name, the device's name from
//!   DHCP leases or the config): the identifier in every form the engine recognises in text —
//!   as is, without separators, hex, base64 (both alphabets), md5/sha1/sha256 hex — the same
//!   for every value the config knows and the device's own MAC, and every run of
//!   [`NAME_DIGIT_RUN`] or more digits (IMEI, IMSI, ICCID, MEID and phone numbers all are).
//!   A phone that leaks its IMEI by resolving `490154203237518.example.cn` shows up as
//!   `4901********518.example.cn`.
//!
//! What is sanitised: names come from DHCP leases, DNS answers, Host headers and SNI — from the
//! devices being watched — so control characters become spaces (no forged log lines); quoting
//! is the job of each format.
//!
//! Findings are rare, so this module allocates freely.

use std::net::IpAddr;

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::config::{Config, Scope};
use crate::decision::Action;
use crate::finding::{mac_text, mask, Encoding, Finding, Kind, Source, Timestamp};
use crate::kinds;
use crate::packet::Proto;

/// Digit runs at least this long are masked in names: IMEI (15), IMSI (15), ICCID (19-20), MEID
/// (14) and phone numbers (10+) all are; port numbers, dates and version strings are not.
pub const NAME_DIGIT_RUN: usize = 10;

/// Forms shorter than this are not looked for in names: they would mask random parts of them.
const MIN_FORM: usize = 6;

/// The block installed for a finding, as outputs show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockView {
    pub scope: Scope,
    pub expires_secs: u32,
}

/// A finding as it may leave the process: every string masked and sanitised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct View {
    pub time: Timestamp,
    pub kind: Kind,
    pub source: Source,
    pub encoding: Encoding,
    /// The identifier, masked.
    pub value: String,
    /// The device's name (leases, config), masked.
    pub device_name: Option<String>,
    /// The device's MAC, masked.
    pub device_mac: Option<String>,
    pub proto: Proto,
    pub src: IpAddr,
    pub sport: u16,
    pub dst: IpAddr,
    pub dport: u16,
    /// The flow's own destination name (HTTP Host, TLS SNI; else a DNS answer's), masked.
    pub host: Option<String>,
    pub action: Action,
    pub block: Option<BlockView>,
}

/// The masker: the forms of every value the config knows, computed once per config.
#[derive(Clone, Debug, Default)]
pub struct Render {
    known: Vec<String>,
}

impl Render {
    /// Masks the identifiers of `config`'s devices wherever they appear in a name, on top of
    /// each finding's own value.
    pub fn new(config: &Config) -> Render {
        let mut known = Vec::new();
        for d in &config.devices {
            for kind in kinds::DEVICE_LISTS {
                for v in kinds::text_values(d, kind) {
                    add_forms(&mut known, v);
                }
            }
            for mac in &d.mac {
                add_forms(&mut known, &mac_text(mac));
            }
        }
        known.sort_unstable();
        known.dedup();
        Render { known }
    }

    /// The view of `f`, reported as `action`, with the block installed for it.
    pub fn view(&self, f: &Finding, action: Action, block: Option<BlockView>) -> View {
        let value = f.hit.value.as_str();
        let forms = forms_of(f);
        let name = |n: &str| self.mask_name_with(n, &forms);
        View {
            time: f.time,
            kind: f.hit.kind,
            source: f.hit.source,
            encoding: f.hit.encoding,
            value: mask(value).as_str().to_string(),
            device_name: f.device_name.as_deref().map(name),
            device_mac: f.device_mac.as_ref().map(masked_mac),
            proto: f.proto,
            src: f.src,
            sport: f.sport,
            dst: f.dst,
            dport: f.dport,
            host: f.host.as_deref().map(name),
            action,
            block,
        }
    }

    /// The device's name as [`view`](Self::view) shows it (for the block registry).
    pub fn device_name(&self, f: &Finding) -> Option<String> {
        let forms = forms_of(f);
        f.device_name
            .as_deref()
            .map(|n| self.mask_name_with(n, &forms))
    }

    /// Masks `name` for output (see the module docs), `value` being the finding's identifier.
    pub fn mask_name(&self, name: &str, value: Option<&str>) -> String {
        let mut forms = Vec::new();
        if let Some(v) = value {
            add_forms(&mut forms, v);
        }
        self.mask_name_with(name, &forms)
    }

    fn mask_name_with(&self, name: &str, forms: &[String]) -> String {
        let bytes = name.as_bytes();
        // Byte ranges to mask; built from ASCII matches, so every bound is a char boundary.
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        digit_runs(bytes, &mut ranges);
        for needle in forms.iter().chain(&self.known) {
            find_all_ignore_case(bytes, needle.as_bytes(), &mut ranges);
        }
        masked(name, ranges)
    }
}

/// The forms of a finding's own value and of its device's MAC.
fn forms_of(f: &Finding) -> Vec<String> {
    let mut forms = Vec::new();
    add_forms(&mut forms, f.hit.value.as_str());
    if let Some(mac) = &f.device_mac {
        add_forms(&mut forms, &mac_text(mac));
    }
    forms
}

/// A device's MAC as every output shows it: masked like any identifier (`a4:50:**:**:**:56`).
pub fn masked_mac(mac: &[u8; 6]) -> String {
    mask(&mac_text(mac)).as_str().to_string()
}

/// Masks every run of [`NAME_DIGIT_RUN`] or more ASCII digits in `name` the way [`mask`] masks an
/// identifier (`490154203237518.zzhc.example` → `4901********518.zzhc.example`); control
/// characters become spaces.
pub fn mask_digit_runs(name: &str) -> String {
    let mut ranges = Vec::new();
    digit_runs(name.as_bytes(), &mut ranges);
    masked(name, ranges)
}

/// Masks `name` for output: long digit runs and every form of `value` (see the module docs).
pub fn mask_name(name: &str, value: Option<&str>) -> String {
    Render::default().mask_name(name, value)
}

/// The forms of `value` that can appear in text, lower-case (names are compared ignoring ASCII
/// case): as is; without `:`/`-` separators and with `-` for `:` (a MAC); hex of its bytes;
/// base64 of its bytes in both alphabets, unpadded; and the hex of its md5, sha1 and sha256.
fn add_forms(out: &mut Vec<String>, value: &str) {
    if !value.is_ascii() || value.len() < MIN_FORM {
        return;
    }
    let bare = |t: &str| -> String { t.chars().filter(|c| !matches!(c, ':' | '-')).collect() };
    // The value as written, and in either case (MACs and serials are sent both ways), each
    // with and without separators; a phone number also without its `+`.
    let mut texts = Vec::new();
    for t in [
        value.to_string(),
        value.to_ascii_lowercase(),
        value.to_ascii_uppercase(),
    ] {
        texts.push(bare(&t));
        texts.push(t.replace(':', "-"));
        texts.push(t);
    }
    if let Some(digits) = bare(value).strip_prefix('+') {
        texts.push(digits.to_string());
    }
    texts.sort_unstable();
    texts.dedup();
    for t in &texts {
        let b = t.as_bytes();
        out.push(t.to_ascii_lowercase());
        out.push(hex(b));
        out.push(base64(b, false).to_ascii_lowercase());
        out.push(base64(b, true).to_ascii_lowercase());
        out.push(hex(&Md5::digest(b)));
        out.push(hex(&Sha1::digest(b)));
        out.push(hex(&Sha256::digest(b)));
    }
    out.retain(|f| f.len() >= MIN_FORM);
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Base64 without padding; `url`: the `-_` alphabet.
fn base64(data: &[u8], url: bool) -> String {
    const STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let get = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (get(0) << 16) | (get(1) << 8) | get(2);
        for i in 0..=chunk.len() {
            let six = ((n >> (18 - 6 * i)) & 63) as usize;
            let c = match STD.get(six).copied().unwrap_or(b'A') {
                b'+' if url => b'-',
                b'/' if url => b'_',
                c => c,
            };
            out.push(char::from(c));
        }
    }
    out
}

fn digit_runs(bytes: &[u8], ranges: &mut Vec<(usize, usize)>) {
    let mut i = 0;
    while i < bytes.len() {
        if bytes.get(i).is_some_and(u8::is_ascii_digit) {
            let start = i;
            while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i - start >= NAME_DIGIT_RUN {
                ranges.push((start, i));
            }
        } else {
            i += 1;
        }
    }
}

/// Adds every occurrence of `needle` in `hay` (ASCII case-insensitive) to `ranges`. Needles
/// shorter than [`MIN_FORM`] bytes are ignored: they would mask random parts of names.
fn find_all_ignore_case(hay: &[u8], needle: &[u8], ranges: &mut Vec<(usize, usize)>) {
    if needle.len() < MIN_FORM || needle.len() > hay.len() {
        return;
    }
    for start in 0..=hay.len() - needle.len() {
        if let Some(window) = hay.get(start..start + needle.len()) {
            if window.eq_ignore_ascii_case(needle) {
                ranges.push((start, start + needle.len()));
            }
        }
    }
}

/// `name` with `ranges` masked (overlapping ranges merged) and the rest sanitised.
fn masked(name: &str, mut ranges: Vec<(usize, usize)>) -> String {
    ranges.sort_unstable();
    let mut out = String::with_capacity(name.len());
    let mut at = 0;
    let mut pending: Option<(usize, usize)> = None;
    for (s, e) in ranges {
        match pending {
            Some((ps, pe)) if s <= pe => pending = Some((ps, pe.max(e))),
            _ => {
                if let Some((ps, pe)) = pending {
                    push_sanitised(&mut out, name.get(at..ps).unwrap_or(""));
                    push_masked(&mut out, name.get(ps..pe).unwrap_or(""));
                    at = pe;
                }
                pending = Some((s, e));
            }
        }
    }
    if let Some((ps, pe)) = pending {
        push_sanitised(&mut out, name.get(at..ps).unwrap_or(""));
        push_masked(&mut out, name.get(ps..pe).unwrap_or(""));
        at = pe;
    }
    push_sanitised(&mut out, name.get(at..).unwrap_or(""));
    out
}

/// Appends `text` masked: [`mask`] for identifier-sized text, the same shape (first four and last
/// three kept) for anything longer than `mask` takes.
fn push_masked(out: &mut String, text: &str) {
    let n = text.chars().count();
    if n <= 32 {
        out.push_str(&mask(text));
        return;
    }
    for (i, c) in text.chars().enumerate() {
        out.push(if i < 4 || i + 3 >= n { c } else { '*' });
    }
}

/// Appends `text` with control characters as spaces.
pub fn push_sanitised(out: &mut String, text: &str) {
    out.extend(text.chars().map(|c| if c.is_control() { ' ' } else { c }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Hit;

    fn finding(value: &str, host: &str) -> Finding {
        Finding {
            time: Timestamp::default(),
            hit: Hit {
                kind: Kind::Imei,
                source: Source::Known,
                encoding: Encoding::PLAIN,
                value: value.try_into().expect("short"),
                device: None,
            },
            proto: Proto::Tcp,
            src: "192.168.1.23".parse().expect("ip"),
            sport: 40_000,
            dst: "203.0.113.7".parse().expect("ip"),
            dport: 80,
            device_mac: Some([0xa4, 0x50, 0x46, 0x12, 0x34, 0x56]),
            device_name: Some("phone\nof 490154203237518".into()),
            host: Some(host.into()),
        }
    }

    #[test]
    fn names_mask_every_form_of_the_value() {
        let r = Render::default();
        let imei = "490154203237518";
        for form in [
            imei.to_string(),
            hex(imei.as_bytes()),
            base64(imei.as_bytes(), false),
            hex(&Md5::digest(imei.as_bytes())).to_ascii_uppercase(),
            hex(&Sha256::digest(imei.as_bytes())),
            "A4-50-46-12-34-56".to_string(),
            "a45046123456".to_string(),
        ] {
            let v = r.view(
                &finding(imei, &format!("x.{form}.example")),
                Action::Blocked,
                None,
            );
            let host = v.host.expect("host");
            assert!(!host.contains(&form), "{form} in {host}");
            assert!(
                host.starts_with("x.") && host.ends_with(".example"),
                "{host}"
            );
        }
        let v = r.view(&finding(imei, "ok.example"), Action::Reported, None);
        assert_eq!(v.host.as_deref(), Some("ok.example"));
        assert_eq!(v.value, "4901********518");
        assert_eq!(v.device_mac.as_deref(), Some("a4:50:**:**:**:56"));
        assert_eq!(v.device_name.as_deref(), Some("phone of 4901********518"));
    }

    #[test]
    fn known_values_are_masked_in_any_finding() {
        let mut config = Config::default();
        config.devices.push(crate::config::Device {
            name: "t".into(),
            serial: vec!["X7Q2P9K".into()],
            ..Default::default()
        });
        let r = Render::new(&config);
        let v = r.view(
            &finding("490154203237518", "sn-x7q2p9k.example"),
            Action::Reported,
            None,
        );
        assert_eq!(v.host.as_deref(), Some("sn-x7***9k.example"));
    }

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64(b"foobar", false), "Zm9vYmFy");
        assert_eq!(base64(b"fooba", false), "Zm9vYmE");
        assert_eq!(base64(&[0xfb, 0xff], true), "-_8");
    }
}
