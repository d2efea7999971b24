//! Key names that announce an identifier, and the small grammar that finds the value after
//! one: `imei=…`, `"imei":"…"`, `\"imei\": …`, `<imei>…`, `imei="…"`, `X-Imei: …`,
//! `imei%3D…`, multipart `name="imei"` + blank line.
//!
//! Structural identifiers are only reported in this key context: 15 Luhn-valid digits alone
//! are as often an order number as an IMEI, and the router drops traffic on what we report.

use crate::kinds::KINDS;

/// Which identifiers a key announces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyClass {
    Imei,
    Imeisv,
    Meid,
    Imsi,
    Iccid,
    Mac,
    Phone,
    /// `deviceid` and friends: an IMEI when it is one (often it is an Android ID instead).
    DeviceId,
}

/// `deviceid` and friends: the keys of no kind of their own (see [`KeyClass::DeviceId`]).
const DEVICE_ID_KEYS: &[(&str, bool)] = &[
    ("deviceid", false),
    ("device_id", false),
    ("device-id", false),
    ("devid", false),
];

/// A key, its class, and whether it is distinctive enough to match after letters or digits
/// (`SIM1ICCID`, `deviceImei`, `SIM1LTEIMSI`), where a short word like `tel` or `mac` must
/// start a word (`hotel`, `imac`). Gathered at compile time from each kind's row in
/// [`crate::kinds::KINDS`] and the device-id keys.
pub const KEYS: &[(&str, KeyClass, bool)] = &ALL_KEYS;

// Evaluated by the compiler: an index out of range fails the build, it cannot panic.
#[allow(clippy::indexing_slicing)]
const KEY_COUNT: usize = {
    let mut n = DEVICE_ID_KEYS.len();
    let mut i = 0;
    while i < KINDS.len() {
        if KINDS[i].key_class.is_some() {
            n += KINDS[i].keys.len();
        }
        i += 1;
    }
    n
};

// Evaluated by the compiler: an index out of range fails the build, it cannot panic.
#[allow(clippy::indexing_slicing)]
const ALL_KEYS: [(&str, KeyClass, bool); KEY_COUNT] = {
    let mut out = [("", KeyClass::DeviceId, false); KEY_COUNT];
    let mut n = 0;
    let mut i = 0;
    while i < KINDS.len() {
        if let Some(class) = KINDS[i].key_class {
            let mut j = 0;
            while j < KINDS[i].keys.len() {
                let (name, distinctive) = KINDS[i].keys[j];
                out[n] = (name, class, distinctive);
                n += 1;
                j += 1;
            }
        }
        i += 1;
    }
    let mut j = 0;
    while j < DEVICE_ID_KEYS.len() {
        let (name, distinctive) = DEVICE_ID_KEYS[j];
        out[n] = (name, KeyClass::DeviceId, distinctive);
        n += 1;
        j += 1;
    }
    out
};

/// Whether a key matched at `s..` may start there: after a non-alphanumeric byte, or
/// anywhere for a distinctive key, or after a lower-case letter when the key starts upper-case
/// (camelCase `userPhone`, `wifiMac`).
pub fn left_ok(buf: &[u8], s: usize, distinctive: bool) -> bool {
    if s == 0 || distinctive {
        return true;
    }
    match buf.get(s - 1..=s) {
        Some(&[p, c]) => {
            !p.is_ascii_alphanumeric() || (p.is_ascii_lowercase() && c.is_ascii_uppercase())
        }
        _ => true,
    }
}

/// Where the value announced by a key ending at `e` starts, if the bytes after the key are an
/// assignment (`=`, `:`, `>`, `%3D`, `%3A`, a multipart blank line) with only quotes, escapes
/// and blanks around it. One digit may follow the key (`IMEI1`, `imei2`). The flag says the
/// assignment was URL-escaped (the value sits in URL-encoded text).
pub fn value_start(buf: &[u8], e: usize) -> Option<(usize, bool)> {
    let mut i = e;
    if buf.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    if buf.get(i).is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    let limit = (i + 16).min(buf.len());
    let mut assigned = false;
    let mut escaped = false;
    while i < limit {
        let Some(&b) = buf.get(i) else { break };
        match b {
            b'"' | b'\'' | b'\\' | b' ' | b'\t' => i += 1,
            b':' | b'=' | b'>' => {
                assigned = true;
                i += 1;
            }
            b'\r' if buf.get(i..i + 4) == Some(b"\r\n\r\n") => {
                assigned = true;
                i += 4;
            }
            b'%' => {
                let (h, l) = match (buf.get(i + 1), buf.get(i + 2)) {
                    (Some(h), Some(l)) => (*h, l.to_ascii_uppercase()),
                    _ => break,
                };
                match (h, l) {
                    (b'2', b'2' | b'7' | b'0') => {}
                    (b'3', b'D' | b'A') => assigned = true,
                    _ => break,
                }
                escaped = true;
                i += 3;
            }
            b'&' if buf.get(i..i + 6) == Some(b"&quot;") => i += 6,
            _ => break,
        }
    }
    (assigned && i < buf.len()).then_some((i, escaped))
}

/// The end of the alphanumeric token starting at `s` (the value of a numeric key).
pub fn token_end(buf: &[u8], s: usize) -> usize {
    buf.get(s..)
        .unwrap_or_default()
        .iter()
        .position(|b| !b.is_ascii_alphanumeric())
        .map_or(buf.len(), |n| s + n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_lower_case_and_unique() {
        for (i, (k, _, _)) in KEYS.iter().enumerate() {
            assert_eq!(k.to_ascii_lowercase(), *k);
            assert!(KEYS[..i].iter().all(|(o, _, _)| o != k));
        }
    }

    #[test]
    fn grammar() {
        fn v(s: &[u8], e: usize) -> Option<&[u8]> {
            value_start(s, e).map(|(i, _)| &s[i..])
        }
        assert_eq!(v(b"imei=1&", 4), Some(&b"1&"[..]));
        assert_eq!(v(b"\"imei\": \"1\"", 5), Some(&b"1\""[..]));
        assert_eq!(v(b"\\\"imei\\\":\\\"1", 6), Some(&b"1"[..]));
        assert_eq!(v(b"<imei>1</imei>", 5), Some(&b"1</imei>"[..]));
        assert_eq!(v(b"IMEI1\":\"1", 4), Some(&b"1"[..]));
        assert_eq!(v(b"imei%22%3A%221", 4), Some(&b"1"[..]));
        assert_eq!(v(b"name=\"imei\"\r\n\r\n1", 10), Some(&b"1"[..]));
        assert_eq!(v(b"imei_md5=1", 4), None);
        assert_eq!(v(b"imeiX=1", 4), None);
        assert_eq!(v(b"imei 1", 4), None);
        assert_eq!(v(b"imei=", 4), None);
        assert!(left_ok(b"userPhone", 4, false));
        assert!(!left_ok(b"hotel", 2, false));
        assert!(left_ok(b"SIM1ICCID", 4, true));
    }
}
