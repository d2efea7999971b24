//! Checks of identifier text: each returns the canonical form or the reason for refusing it.

use super::*;

/// Digits with the separators people write (`49 015420 323751 8`, `4901-5420-…`) removed.
fn digits(text: &str, what: &str) -> Result<String, String> {
    let out: String = text.chars().filter(|c| *c != ' ' && *c != '-').collect();
    if out.is_empty() || !out.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "`{text}` is not an {what}: only digits, spaces and dashes are allowed"
        ));
    }
    not_placeholder(text, &out)?;
    Ok(out)
}

/// One character repeated (`000000000000000`, `FFFFFF`) is what software writes when it
/// has no identifier; as a known value it would match in everyone's traffic and the
/// daemon would drop it.
fn not_placeholder(text: &str, canonical: &str) -> Result<(), String> {
    let mut chars = canonical.chars().map(|c| c.to_ascii_lowercase());
    let first = chars.next();
    if chars.all(|c| Some(c) == first) {
        return Err(format!(
            "`{text}` is a placeholder (one character repeated), not a device's \
             identifier: it would match unrelated traffic"
        ));
    }
    Ok(())
}

pub(crate) use crate::detect::identifiers::luhn_digit;

pub(crate) fn check_imei(text: &str) -> Result<String, String> {
    let d = digits(text, "IMEI")?;
    match d.len() {
        15 => {}
        14 => {
            return Err(format!(
                "`{text}` has 14 digits: an IMEI has 15, the last being its Luhn check digit"
            ))
        }
        n => return Err(format!("`{text}` has {n} digits: an IMEI has 15")),
    }
    let (payload, check) = d.as_bytes().split_at(14);
    let want = luhn_digit(payload);
    if check.first().map(|c| c.wrapping_sub(b'0')) != Some(want) {
        return Err(format!(
            "`{text}` fails the IMEI check digit (Luhn): the last digit should be {want}"
        ));
    }
    Ok(d)
}

pub(crate) fn check_imsi(text: &str) -> Result<String, String> {
    let d = digits(text, "IMSI")?;
    if !(14..=15).contains(&d.len()) {
        return Err(format!(
            "`{text}` has {} digits: an IMSI has 14 or 15",
            d.len()
        ));
    }
    Ok(d)
}

pub(crate) fn check_iccid(text: &str) -> Result<String, String> {
    let d = digits(text, "ICCID")?;
    if !(18..=20).contains(&d.len()) {
        return Err(format!(
            "`{text}` has {} digits: an ICCID has 18 to 20",
            d.len()
        ));
    }
    Ok(d)
}

/// 14 hex digits (stored upper-case, as MEIDs are printed) or the 18-digit decimal form.
pub(crate) fn check_meid(text: &str) -> Result<String, String> {
    let t: String = text.chars().filter(|c| *c != ' ' && *c != '-').collect();
    if t.len() == 14 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
        not_placeholder(text, &t)?;
        return Ok(t.to_ascii_uppercase());
    }
    if t.len() == 18 && t.bytes().all(|b| b.is_ascii_digit()) {
        not_placeholder(text, &t)?;
        return Ok(t);
    }
    Err(format!(
        "`{text}` is not a MEID: expected 14 hex digits or 18 decimal digits"
    ))
}

pub(crate) fn check_phone(text: &str) -> Result<String, String> {
    let t: String = text.chars().filter(|c| *c != ' ' && *c != '-').collect();
    let (plus, rest) = match t.strip_prefix('+') {
        Some(rest) => ("+", rest),
        None => ("", t.as_str()),
    };
    let min = crate::detect::MIN_LITERAL;
    if !(min..=15).contains(&rest.len()) || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "`{text}` is not a phone number: expected an optional `+` and {min} to 15 digits"
        ));
    }
    not_placeholder(text, rest)?;
    Ok(format!("{plus}{rest}"))
}

pub(crate) fn check_serial(text: &str) -> Result<String, String> {
    let t = text.trim();
    // The detector searches no literal shorter than this: a shorter serial would be
    // accepted here and then never found.
    let min = crate::detect::MIN_LITERAL;
    if !(min..=32).contains(&t.len()) || !t.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(format!(
            "`{text}` is not a serial number: expected {min} to 32 printable ASCII \
             characters (shorter ones would match unrelated traffic, so they are not \
             searched)"
        ));
    }
    not_placeholder(text, t)?;
    Ok(t.to_string())
}

/// `aa:bb:cc:dd:ee:ff`, `aa-bb-cc-dd-ee-ff`, `aabbccddeeff` or `aabb.ccdd.eeff` (the forms
/// the detector reads, from the one parser in `detect::identifiers`).
pub(super) fn parse_mac(text: &str) -> Result<[u8; 6], String> {
    let mac = crate::detect::identifiers::parse_mac_exact(text).ok_or_else(|| {
        format!(
            "`{text}` is not a MAC address: expected aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff, \
             aabbccddeeff or aabb.ccdd.eeff"
        )
    })?;
    if crate::detect::identifiers::mac_is_placeholder(mac) {
        return Err(format!(
            "`{text}` is not a device's MAC address (all zero, broadcast, multicast or \
             Android's 02:00:00:00:00:00 placeholder)"
        ));
    }
    Ok(mac)
}

/// An allow rule's destination: a prefix, a single address, a host name or `*.suffix`.
pub(super) fn parse_dst(text: &str) -> Result<AllowDst, String> {
    if text.contains('/') {
        return parse_prefix(text).map(AllowDst::Prefix);
    }
    if let Ok(addr) = text.parse::<IpAddr>() {
        let len = if addr.is_ipv4() { 32 } else { 128 };
        return Ok(AllowDst::Prefix(Prefix { addr, len }));
    }
    let name = text.strip_suffix('.').unwrap_or(text).to_ascii_lowercase();
    let host = name.strip_prefix("*.").unwrap_or(&name);
    let ok = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    if !ok {
        return Err(format!(
            "`{text}` is not a destination: expected a prefix (`203.0.113.0/24`), an address, \
             a host name or `*.example.com`"
        ));
    }
    Ok(AllowDst::Host(name))
}
