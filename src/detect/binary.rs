//! Binary forms of known values: digits as BCD and TBCD bytes, a MAC as its six bytes.
//!
//! Binary protocols carry identifiers as bytes, not text. Cellular modules and trackers pack
//! digits two to a byte: *BCD* puts the first digit in the high nibble (GT06/Concox login
//! packets send the IMEI as 8 bytes `0` + 15 digits; JT/T 808 headers carry the SIM's number as
//! BCD[6] with a leading `0`), *TBCD* (3GPP TS 29.002, TS 24.008) swaps the nibbles and fills an
//! odd length with `F` (an IMSI or IMEI in MAP, GTP and NAS, an ICCID as the SIM stores it in
//! EF_ICCID). NAS "mobile identity" puts a type/parity nibble before the first digit.
//!
//! Rather than one pattern per padding convention, each value gets four patterns: the whole
//! bytes of its digit pairs in BCD and in TBCD, starting on the first digit or on the second
//! (when the first shares its byte with a pad or type nibble). The digit left over at either
//! end is checked in the neighbouring byte's nibble ([`Nibble`]); the other nibble of that
//! byte (pad, `F` filler, parity and type) may be anything. The patterns go into the
//! detector's one automaton with the text forms: matching them costs nothing extra.
//!
//! Every form is an exact byte string of at least [`MIN_BITS`] bits (the nibble checks
//! count 4 each): a chance match in other binary data is negligible. The automaton matches
//! ASCII case-insensitively (for the text forms), so a binary match is compared byte for byte
//! before it counts.

/// Fewest bits a binary form must pin down (a MAC's 48).
pub const MIN_BITS: usize = 48;

/// Longest digit string given binary forms (an ICCID's 20 digits, with room to spare).
const MAX_DIGITS: usize = 24;

/// A nibble of the byte next to a match that must hold a given digit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Nibble {
    pub mask: u8,
    pub value: u8,
}

impl Nibble {
    fn high(d: u8) -> Nibble {
        Nibble {
            mask: 0xf0,
            value: d << 4,
        }
    }

    fn low(d: u8) -> Nibble {
        Nibble {
            mask: 0x0f,
            value: d,
        }
    }

    pub fn ok(self, b: Option<&u8>) -> bool {
        b.is_some_and(|b| b & self.mask == self.value)
    }
}

/// One binary form: the bytes to find, and the nibbles the bytes around them must hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Form {
    pub bytes: heapless::Vec<u8, { MAX_DIGITS / 2 }>,
    pub before: Option<Nibble>,
    pub after: Option<Nibble>,
    /// Digits in plain BCD order (first digit in the high nibble): written as hex text these
    /// bytes are the digits themselves.
    pub bcd: bool,
}

impl Form {
    /// Bits of the value the form pins down.
    pub fn bits(&self) -> usize {
        8 * self.bytes.len()
            + 4 * (usize::from(self.before.is_some()) + usize::from(self.after.is_some()))
    }

    /// Whether the match `s..e` of this form's bytes in `buf` is one: the bytes equal (the
    /// automaton ignores ASCII case) and the nibbles around hold the digits left over.
    pub fn matches(&self, buf: &[u8], s: usize, e: usize) -> bool {
        buf.get(s..e) == Some(&self.bytes[..])
            && self
                .before
                .map_or(true, |n| s.checked_sub(1).is_some_and(|p| n.ok(buf.get(p))))
            && self.after.map_or(true, |n| n.ok(buf.get(e)))
    }
}

/// The BCD and TBCD forms of a digit string (ASCII digits; anything else gives none), each
/// starting on its first or second digit, keeping those that pin down [`MIN_BITS`].
pub fn bcd_forms(digits: &[u8]) -> heapless::Vec<Form, 4> {
    let mut out = heapless::Vec::new();
    if digits.len() > MAX_DIGITS || !digits.iter().all(u8::is_ascii_digit) {
        return out;
    }
    let d: heapless::Vec<u8, MAX_DIGITS> = digits.iter().map(|b| b - b'0').collect();
    for swapped in [false, true] {
        for skip in [0, 1] {
            let Some(body) = d.get(skip..) else {
                continue;
            };
            let pack = |hi: u8, lo: u8| if swapped { lo << 4 | hi } else { hi << 4 | lo };
            // The first digit shares its byte with the one before the match: in BCD it is
            // that byte's low nibble, in TBCD its high one.
            let before = d.first().filter(|_| skip == 1).map(|&f| {
                if swapped {
                    Nibble::high(f)
                } else {
                    Nibble::low(f)
                }
            });
            // A digit left after the pairs starts the byte after the match.
            let after = (body.len() % 2 == 1)
                .then(|| body.last().copied())
                .flatten()
                .map(|l| {
                    if swapped {
                        Nibble::low(l)
                    } else {
                        Nibble::high(l)
                    }
                });
            let form = Form {
                bytes: body
                    .chunks_exact(2)
                    .filter_map(|p| match *p {
                        [h, l] => Some(pack(h, l)),
                        _ => None,
                    })
                    .collect(),
                before,
                after,
                bcd: !swapped,
            };
            if form.bits() >= MIN_BITS && !out.contains(&form) {
                let _ = out.push(form);
            }
        }
    }
    out
}

/// A MAC's six bytes as a form.
pub fn mac_form(mac: [u8; 6]) -> Form {
    Form {
        bytes: mac.into_iter().collect(),
        before: None,
        after: None,
        bcd: false,
    }
}

/// Whether a buffer holds binary data (a control byte other than tab and line breaks, or a
/// byte with the high bit set): only there are learned MACs looked for as raw bytes. Written
/// as a fold so that the compiler vectorises it.
pub fn is_binary(buf: &[u8]) -> bool {
    buf.iter().fold(false, |acc, &b| {
        acc | ((b < 0x20 && b != b'\t' && b != b'\n' && b != b'\r') || b >= 0x7f)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(f: &Form) -> Vec<u8> {
        f.bytes.to_vec()
    }

    #[test]
    fn imei_forms() {
        // 15 digits: GT06's `0` + IMEI, BCD with an F filler, TBCD with an F filler, and
        // NAS mobile identity (first digit beside the type nibble).
        let f = bcd_forms(b"490154203237518");
        assert_eq!(f.len(), 4);
        // BCD from the first digit: 49 01 54 20 32 37 51, then 8 in the next high nibble.
        assert_eq!(bytes(&f[0]), [0x49, 0x01, 0x54, 0x20, 0x32, 0x37, 0x51]);
        assert_eq!(f[0].before, None);
        assert_eq!(f[0].after, Some(Nibble::high(8)));
        // BCD from the second digit (`04 90 15 …` padded): 90 15 42 03 23 75 18, 4 before.
        assert_eq!(bytes(&f[1]), [0x90, 0x15, 0x42, 0x03, 0x23, 0x75, 0x18]);
        assert_eq!(f[1].before, Some(Nibble::low(4)));
        assert_eq!(f[1].after, None);
        // TBCD: 94 10 45 02 23 73 15, then F8.
        assert_eq!(bytes(&f[2]), [0x94, 0x10, 0x45, 0x02, 0x23, 0x73, 0x15]);
        assert_eq!(f[2].after, Some(Nibble::low(8)));
        // TBCD after a type nibble (`4A 09 51 24 30 32 57 81`): 09 51 24 30 32 57 81.
        assert_eq!(bytes(&f[3]), [0x09, 0x51, 0x24, 0x30, 0x32, 0x57, 0x81]);
        assert_eq!(f[3].before, Some(Nibble::high(4)));
        for form in &f {
            assert!(form.bits() >= 60);
        }
    }

    #[test]
    fn matching_checks_bytes_and_nibbles() {
        let f = bcd_forms(b"490154203237518");
        let gt06 = [
            0x78, 0x78, 0x0d, 0x01, 0x04, 0x90, 0x15, 0x42, 0x03, 0x23, 0x75, 0x18, 0x00,
        ];
        assert!(f[1].matches(&gt06, 5, 12));
        // The first digit is not the one before: some other number.
        let mut other = gt06;
        other[4] = 0x05;
        assert!(!f[1].matches(&other, 5, 12));
        // At the start of the buffer the nibble before cannot be checked: no match.
        assert!(!f[1].matches(&gt06[5..], 0, 7));
        // Case differs (the automaton would match it): not the bytes.
        let tbcd = [0x94, 0x10, 0x45, 0x02, 0x23, 0x73, 0x15, 0xf8];
        assert!(f[2].matches(&tbcd, 0, 7));
        let mut lower = tbcd;
        lower[1] = 0x30;
        assert!(!f[2].matches(&lower, 0, 7));
        let mut wrong_last = tbcd;
        wrong_last[7] = 0xf7;
        assert!(!f[2].matches(&wrong_last, 0, 7));
    }

    #[test]
    fn even_lengths_and_limits() {
        // 20-digit ICCID: 10 whole bytes from the first digit, 9 + two nibbles from the second.
        let f = bcd_forms(b"89860318640220133897");
        assert_eq!(f.len(), 4);
        assert_eq!(f[0].bytes.len(), 10);
        assert_eq!((f[0].before, f[0].after), (None, None));
        assert_eq!(f[1].bytes.len(), 9);
        assert!(f[1].before.is_some() && f[1].after.is_some());
        // Too short to pin down 48 bits: 10 digits give 40.
        assert!(bcd_forms(b"1391276084").is_empty());
        // 12 digits (JT/T 808's BCD[6]): six whole bytes, or five and two nibbles.
        assert_eq!(bcd_forms(b"013912760845").len(), 4);
        // 11 digits pin down 44 bits in any form: the caller adds the pad digit.
        assert!(bcd_forms(b"13912760845").is_empty());
        assert!(bcd_forms(b"49015420323751x").is_empty());
        assert!(bcd_forms(&[b'1'; 30]).is_empty());
    }

    #[test]
    fn binary_buffers() {
        assert!(!is_binary(b"GET / HTTP/1.1\r\n\tx\n"));
        assert!(is_binary(b"GET \x00"));
        assert!(is_binary("型号".as_bytes()));
        assert!(!is_binary(b""));
    }
}
