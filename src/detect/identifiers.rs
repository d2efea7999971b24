//! Structural identifiers: what makes 15 digits an IMEI and not an order number (Luhn, the
//! GSMA reporting body), an IMSI (a real MCC), an ICCID (89, Luhn), a MAC, a phone number.
//!
//! This is the one place identifier syntax is validated: the config (check digits, MAC
//! addresses an owner writes), the dnsmasq leases reader, the report's `--device` filter and the
//! detector all call these, so a form accepted in one is accepted in all.
//!
//! Every check here is only ever applied to a value that sits next to a key naming it (see
//! `keys`): the router drops traffic on these hits, so structure alone is never enough.

use crate::finding::IdText;

/// The Luhn check over ASCII digits (the last digit is the check digit).
pub fn luhn_ok(digits: &[u8]) -> bool {
    match digits.split_last() {
        Some((&check, payload)) if all_digits(digits) => luhn_digit(payload) == check - b'0',
        _ => false,
    }
}

/// The Luhn check digit (0–9) that completes `payload` (ASCII digits; others count as their
/// value mod 10, callers check the digits first).
pub fn luhn_digit(payload: &[u8]) -> u8 {
    let sum: u32 = payload
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(d.wrapping_sub(b'0') % 10);
            if i % 2 == 0 {
                let x = d * 2;
                x / 10 + x % 10
            } else {
                d
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

fn all_digits(v: &[u8]) -> bool {
    !v.is_empty() && v.iter().all(u8::is_ascii_digit)
}

/// All the same digit (`000000000000000`, `111…`): placeholders, never a real identifier.
fn all_same(v: &[u8]) -> bool {
    v.iter().all(|b| Some(b) == v.first())
}

/// Whether the first two digits of a TAC are a GSMA reporting body that issues TACs. Order
/// numbers and timestamps rarely start with exactly these *and* pass Luhn.
pub fn reporting_body_ok(digits: &[u8]) -> bool {
    const BODIES: [&[u8; 2]; 17] = [
        b"01", b"10", b"30", b"33", b"35", b"44", b"45", b"49", b"50", b"51", b"52", b"53", b"54",
        b"86", b"91", b"98", b"99",
    ];
    BODIES.iter().any(|b| digits.starts_with(*b))
}

/// A 15-digit IMEI: Luhn valid, a real reporting body, not a placeholder.
pub fn is_imei(v: &[u8]) -> bool {
    v.len() == 15 && all_digits(v) && !all_same(v) && reporting_body_ok(v) && luhn_ok(v)
}

/// An IMEI written as RFC 7254 writes it after `urn:gsma:imei:` (SIP `+sip.instance`, LwM2M
/// endpoint names): `TAC-SNR-spare`, 8, 6 and 1 digits, optionally `;svn=NN`. 3GPP TS 23.003
/// has the phone send the spare digit as `0` (RFC 7254's own example ends in `-0`), so it may
/// be `0` or the Luhn check digit, nothing else; the 14 digits need a real reporting body.
/// Returns the IMEI (14 digits and its check digit), or with an SVN the 16-digit IMEISV.
pub fn imei_urn(s: &[u8]) -> Option<(crate::finding::Kind, IdText)> {
    let digits = |r: core::ops::Range<usize>| {
        s.get(r)
            .filter(|d| d.iter().all(u8::is_ascii_digit))
            .is_some()
    };
    let shape = digits(0..8)
        && s.get(8) == Some(&b'-')
        && digits(9..15)
        && s.get(15) == Some(&b'-')
        && digits(16..17);
    if !shape {
        return None;
    }
    let mut body = [0u8; 14];
    for (o, &d) in body
        .iter_mut()
        .zip(s.iter().take(8).chain(s.iter().skip(9).take(6)))
    {
        *o = d;
    }
    let check = b'0' + luhn_digit(&body);
    let spare = *s.get(16)?;
    if !is_meid_decimal(&body) || (spare != b'0' && spare != check) {
        return None;
    }
    let rest = s.get(17..).unwrap_or_default();
    let mut value = IdText::new();
    for &d in &body {
        let _ = value.push(char::from(d));
    }
    if let Some(svn) = rest.strip_prefix(b";svn=") {
        if let [a @ b'0'..=b'9', b @ b'0'..=b'9', ref after @ ..] = *svn {
            if !after.first().is_some_and(u8::is_ascii_alphanumeric) {
                let _ = value.push(char::from(a));
                let _ = value.push(char::from(b));
                return Some((crate::finding::Kind::Imeisv, value));
            }
        }
        return None;
    }
    if rest
        .first()
        .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'-')
    {
        return None;
    }
    let _ = value.push(char::from(check));
    Some((crate::finding::Kind::Imei, value))
}

/// A 16-digit IMEISV: a plausible IMEI body (14 digits, reporting body) and a 2-digit SVN. No
/// check digit exists, so it is only accepted next to an `imeisv` key.
pub fn is_imeisv(v: &[u8]) -> bool {
    v.len() == 16 && all_digits(v) && !all_same(v.get(..14).unwrap_or(v)) && reporting_body_ok(v)
}

/// A decimal MEID as China Telecom's client sends it (the IMEI without its check digit): 14
/// digits with a plausible reporting body.
pub fn is_meid_decimal(v: &[u8]) -> bool {
    v.len() == 14 && all_digits(v) && !all_same(v) && reporting_body_ok(v)
}

/// A hex MEID: 14 hex digits whose manufacturer code starts at A0 (the range reserved for
/// MEIDs, so it cannot be a decimal ESN/IMEI).
pub fn is_meid_hex(v: &[u8]) -> bool {
    v.len() == 14
        && v.iter().all(u8::is_ascii_hexdigit)
        && matches!(v.first(), Some(b'a'..=b'f' | b'A'..=b'F'))
        && !all_same(v)
}

/// ITU-T E.212 mobile country codes in use (test code 001 and the 9xx shared codes are left
/// out on purpose). Sorted, for binary search.
const MCC: [u16; 238] = [
    202, 204, 206, 208, 212, 213, 214, 216, 218, 219, 220, 221, 222, 225, 226, 228, 230, 231, 232,
    234, 235, 238, 240, 242, 244, 246, 247, 248, 250, 255, 257, 259, 260, 262, 266, 268, 270, 272,
    274, 276, 278, 280, 282, 283, 284, 286, 288, 289, 290, 292, 293, 294, 295, 297, 302, 308, 310,
    311, 312, 313, 314, 315, 316, 330, 332, 334, 338, 340, 342, 344, 346, 348, 350, 352, 354, 356,
    358, 360, 362, 363, 364, 365, 366, 368, 370, 372, 374, 376, 400, 401, 402, 404, 405, 406, 410,
    412, 413, 414, 415, 416, 417, 418, 419, 420, 421, 422, 424, 425, 426, 427, 428, 429, 430, 431,
    432, 434, 436, 437, 438, 440, 441, 450, 452, 454, 455, 456, 457, 460, 461, 466, 467, 470, 472,
    502, 505, 510, 514, 515, 520, 525, 528, 530, 536, 537, 539, 540, 541, 542, 543, 544, 545, 546,
    547, 548, 549, 550, 551, 552, 553, 554, 555, 602, 603, 604, 605, 606, 607, 608, 609, 610, 611,
    612, 613, 614, 615, 616, 617, 618, 619, 620, 621, 622, 623, 624, 625, 626, 627, 628, 629, 630,
    631, 632, 633, 634, 635, 636, 637, 638, 639, 640, 641, 642, 643, 645, 646, 647, 648, 649, 650,
    651, 652, 653, 654, 655, 657, 658, 659, 702, 704, 706, 708, 710, 712, 714, 716, 722, 724, 730,
    732, 734, 736, 738, 740, 742, 744, 746, 748, 750,
];

pub fn mcc_ok(mcc: u16) -> bool {
    MCC.binary_search(&mcc).is_ok()
}

/// An IMSI: 14–15 digits starting with an assigned MCC, not a placeholder.
pub fn is_imsi(v: &[u8]) -> bool {
    if !(14..=15).contains(&v.len()) || !all_digits(v) || all_same(v) {
        return false;
    }
    let mcc = v
        .iter()
        .take(3)
        .fold(0u16, |a, d| a * 10 + u16::from(d - b'0'));
    mcc_ok(mcc)
}

/// An ICCID: `89` (telecom) and Luhn over 19–20 digits, or a 20-digit Chinese ICCID (`8986`)
/// whose last digit is often not a Luhn check digit.
pub fn is_iccid(v: &[u8]) -> bool {
    if !(19..=20).contains(&v.len()) || !all_digits(v) || !v.starts_with(b"89") {
        return false;
    }
    luhn_ok(v) || (v.len() == 20 && v.starts_with(b"8986"))
}

/// MACs that identify no device: all zero, broadcast, Android's `02:00:00:00:00:00` placeholder
/// (what apps get instead of the real MAC since Android 6), and multicast addresses.
pub fn mac_is_placeholder(mac: [u8; 6]) -> bool {
    mac == [0; 6] || mac == [0xff; 6] || mac == [2, 0, 0, 0, 0, 0] || mac[0] & 1 == 1
}

/// Whether a MAC is distinctive enough to be found with no boundary around it and as raw
/// bytes: at least four distinct byte values, at most two of them `00` or `ff`. Real devices'
/// MACs (an OUI and three bytes the vendor numbers) are; the `00:00:00:00:00:01` of test
/// networks and emulators, or virtual-router MACs (`00:00:5e:00:01:01`), are not, and their
/// bytes turn up in every binary protocol.
pub fn mac_is_distinctive(mac: [u8; 6]) -> bool {
    let distinct = mac
        .iter()
        .enumerate()
        .filter(|(i, b)| !mac.iter().take(*i).any(|m| m == *b))
        .count();
    let blank = mac.iter().filter(|b| matches!(b, 0x00 | 0xff)).count();
    distinct >= 4 && blank <= 2
}

/// The value of one hex digit, either case.
pub fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The byte written as two hex digits at `at`.
pub fn hex_pair(s: &[u8], at: usize) -> Option<u8> {
    Some(hex_val(*s.get(at)?)? << 4 | hex_val(*s.get(at + 1)?)?)
}

/// Parses a MAC written at the start of `s`: `aa:bb:cc:dd:ee:ff`, `aa-bb-…`, `aabb.ccdd.eeff`
/// or `aabbccddeeff`. Returns the address and the length of its text. The caller checks the
/// boundaries around it.
pub fn parse_mac(s: &[u8]) -> Option<([u8; 6], usize)> {
    let mut mac = [0u8; 6];
    if let Some(&sep @ (b':' | b'-')) = s.get(2) {
        for (i, m) in mac.iter_mut().enumerate() {
            *m = hex_pair(s, i * 3)?;
            if i < 5 && s.get(i * 3 + 2) != Some(&sep) {
                return None;
            }
        }
        return Some((mac, 17));
    }
    if s.get(4) == Some(&b'.') {
        for (i, m) in mac.iter_mut().enumerate() {
            let at = (i / 2) * 5 + (i % 2) * 2;
            *m = hex_pair(s, at)?;
        }
        if s.get(9) != Some(&b'.') {
            return None;
        }
        return Some((mac, 14));
    }
    for (i, m) in mac.iter_mut().enumerate() {
        *m = hex_pair(s, i * 2)?;
    }
    Some((mac, 12))
}

/// A MAC that is the whole of `text` (surrounding blanks allowed), in any of the forms
/// [`parse_mac`] reads: what an owner writes in the config, dnsmasq in its leases, and
/// `leakguard report --device`.
pub fn parse_mac_exact(text: &str) -> Option<[u8; 6]> {
    let t = text.trim().as_bytes();
    parse_mac(t).and_then(|(mac, len)| (len == t.len()).then_some(mac))
}

/// Canonical MAC text: lower-case, colon-separated.
pub fn mac_text(mac: [u8; 6]) -> IdText {
    mac_text_with(mac, Some(b':'), false)
}

/// A MAC as text with the given separator and case (the forms it travels in).
pub fn mac_text_with(mac: [u8; 6], sep: Option<u8>, upper: bool) -> IdText {
    let digits: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let digit = |n: u8| char::from(digits.get(usize::from(n & 15)).copied().unwrap_or(b'0'));
    let mut out = IdText::new();
    for (i, b) in mac.iter().enumerate() {
        if i > 0 {
            if let Some(s) = sep {
                let _ = out.push(char::from(s));
            }
        }
        let _ = out.push(digit(b >> 4));
        let _ = out.push(digit(*b));
    }
    out
}

/// A phone number next to a phone key: optional `+` (or `%2B`) or `00`, then 8–15 digits with
/// ` -().` allowed between them. Returns the canonical value (`+` and digits, or digits) and
/// the length of the text consumed. The caller checks what follows.
pub fn parse_phone(s: &[u8]) -> Option<(IdText, usize)> {
    let (mut plus, mut i) = if s.first() == Some(&b'+') {
        (true, 1)
    } else if matches!(s, [b'%', b'2', b'b' | b'B', ..]) {
        (true, 3)
    } else {
        (false, 0)
    };
    let mut digits: heapless::Vec<u8, 20> = heapless::Vec::new();
    // The digit groups and what separated them, to tell `192.168.100.254`, `2026-12-01` and
    // `0.123456789` from `+86 139-1234-5678`.
    let mut groups: heapless::Vec<(u8, u8), 8> = heapless::Vec::new();
    let mut group_len = 0u8;
    let mut end = i;
    while let Some(&b) = s.get(i) {
        if b.is_ascii_digit() {
            digits.push(b).ok()?;
            group_len += 1;
            i += 1;
            end = i;
        } else if matches!(b, b' ' | b'-' | b'(' | b')' | b'.') && (!digits.is_empty() || b == b'(')
        {
            if group_len > 0 {
                groups.push((group_len, b)).ok()?;
                group_len = 0;
            }
            i += 1;
        } else {
            break;
        }
    }
    if group_len > 0 {
        groups.push((group_len, 0)).ok()?;
    } else if let Some(last) = groups.last_mut() {
        // A separator after the last digits (`192.168.100.254.`) separates nothing.
        last.1 = 0;
    }
    if looks_like_address_date_or_decimal(&groups) {
        return None;
    }
    let mut d: &[u8] = &digits;
    if let (false, Some(rest)) = (plus, d.strip_prefix(b"00")) {
        plus = true;
        d = rest;
    }
    if !(8..=15).contains(&d.len()) || all_same(d) || d.first() == Some(&b'0') && plus {
        return None;
    }
    // Unix timestamps in seconds or milliseconds, which apps put everywhere.
    let ts = matches!(d, [b'1', b'5'..=b'9', ..]) && (d.len() == 10 || d.len() == 13);
    if ts && !plus {
        return None;
    }
    let mut out = IdText::new();
    if plus {
        let _ = out.push('+');
    }
    for b in d {
        let _ = out.push(char::from(*b));
    }
    Some((out, end))
}

/// Dotted quads (`192.168.100.254`), dates (`2026-12-01`, `2026.12.01`), decimals
/// (`0.123456789`, `12.5`) and times: digit groups that are not a phone number's.
fn looks_like_address_date_or_decimal(groups: &[(u8, u8)]) -> bool {
    let dots = groups.iter().filter(|g| g.1 == b'.').count();
    let quad = dots == 3 && groups.len() == 4 && groups.iter().all(|g| g.0 <= 3);
    let date = matches!(
        groups,
        [(4, b'-' | b'.'), (1..=2, b'-' | b'.'), (1..=2, _), ..]
    );
    // One dot with a single group on either side is a decimal number.
    let decimal = matches!(groups, [(_, b'.'), _]);
    quad || date || decimal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_and_imei() {
        assert!(luhn_ok(b"490154203237518"));
        assert!(!luhn_ok(b"490154203237519"));
        assert!(is_imei(b"490154203237518"));
        assert!(is_imei(b"356938035643809"));
        assert!(!is_imei(b"000000000000000"));
        // Luhn valid, but 12 is no reporting body.
        assert!(luhn_ok(b"123456789012347"));
        assert!(!is_imei(b"123456789012347"));
        assert!(!is_imei(b"4111111111111111"));
        assert!(is_imeisv(b"4901542032375101"));
        assert!(is_meid_decimal(b"49015420323751"));
        assert!(is_meid_hex(b"A0000012345678"));
        assert!(!is_meid_hex(b"90000012345678"));
    }

    #[test]
    fn mcc_list_is_sorted_and_imsi() {
        assert!(MCC.windows(2).all(|w| w[0] < w[1]));
        assert!(is_imsi(b"460001234567890"));
        assert!(is_imsi(b"310260123456789"));
        assert!(!is_imsi(b"001010123456789"));
        assert!(!is_imsi(b"999990123456789"));
        assert!(!is_imsi(b"123456789012345"));
    }

    #[test]
    fn iccid() {
        assert!(is_iccid(b"8944500102198304826"));
        assert!(is_iccid(b"89860318640220133897"));
        assert!(!is_iccid(b"8944500102198304827"));
        assert!(!is_iccid(b"4111111111111111111"));
    }

    #[test]
    fn macs() {
        let m = [0xa4, 0x50, 0x46, 0x12, 0x34, 0x56];
        assert_eq!(parse_mac(b"a4:50:46:12:34:56"), Some((m, 17)));
        assert_eq!(parse_mac(b"A4-50-46-12-34-56x"), Some((m, 17)));
        assert_eq!(parse_mac(b"a450.4612.3456"), Some((m, 14)));
        assert_eq!(parse_mac(b"a45046123456"), Some((m, 12)));
        assert_eq!(parse_mac(b"a4:50-46:12:34:56"), None);
        assert_eq!(parse_mac(b"a4:50:46:12:34"), None);
        assert_eq!(mac_text(m).as_str(), "a4:50:46:12:34:56");
        assert_eq!(mac_text_with(m, None, true).as_str(), "A45046123456");
        assert!(mac_is_placeholder([2, 0, 0, 0, 0, 0]));
        assert!(mac_is_placeholder([1, 0, 0x5e, 0, 0, 1]));
        assert!(!mac_is_placeholder(m));
        assert!(mac_is_distinctive(m));
        assert!(mac_is_distinctive([0x00, 0x0c, 0x29, 0x3e, 0x01, 0xa7]));
        assert!(!mac_is_distinctive([0, 0, 0, 0, 0, 1]));
        assert!(!mac_is_distinctive([0, 0, 0x5e, 0, 1, 1]));
        assert!(!mac_is_distinctive([0x10, 0x10, 0x10, 0x20, 0x20, 0x30]));
    }

    #[test]
    fn phones() {
        let p = |s: &[u8]| parse_phone(s).map(|(v, n)| (v.as_str().to_owned(), n));
        assert_eq!(p(b"+8613800138000\""), Some(("+8613800138000".into(), 14)));
        assert_eq!(p(b"008613800138000"), Some(("+8613800138000".into(), 15)));
        assert_eq!(p(b"13800138000&"), Some(("13800138000".into(), 11)));
        assert_eq!(p(b"+1 (555) 123-4567 "), Some(("+15551234567".into(), 17)));
        assert_eq!(p(b"1700000000000"), None);
        assert_eq!(p(b"1600000000"), None);
        assert_eq!(p(b"11111111111"), None);
        assert_eq!(p(b"1234"), None);
    }
}
