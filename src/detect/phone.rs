//! Phone numbers as people, devices and networks write them.
//!
//! A number is configured once, in E.164 (`+8613912760845`), but travels as its country writes
//! it: the national significant number (NSN, `13912760845`), with the trunk prefix (`0401234567`
//! in Finland, `1-415-555-2671` in the NANP, `8 916 …` in Russia), with an international prefix
//! (`00`, `011`), grouped by spaces, dashes, dots, parentheses (`(415) 555-2671`, RFC 3966's
//! visual separators in `tel:` URIs), or inside a `+44 (0) …`.
//!
//! Matching all of that with literals would need one per grouping. Instead the automaton holds
//! a short *anchor* per number — its last four NSN digits, contiguous or split 2+2 or 1+3 by
//! one separator (every grouping people use ends in one of those) — and an anchor hit is
//! verified by walking back over the text: the NSN's digits in order with separators between
//! them, then one of the prefixes the number's country allows, then a boundary. Precision comes
//! from that walk: the whole NSN must be there, and no digit group may continue the number on
//! either side (a 7–9 digit NSN inside an order number, a timestamp or a longer digit run is
//! some other number), and a single dot between two groups is a decimal, not a phone number.
//!
//! The calling-code table below is what splits a configured number into country code and NSN
//! and names the trunk prefix. Sources: the ITU-T E.164 list of assigned country codes
//! (Complement to Recommendation E.164) and the ITU's "Dialling procedures (international
//! prefix, national (trunk) prefix and national (significant) number)" list, with the changes
//! since (Mexico dropped its trunk prefix in 2019, Lithuania moved from 8 to 0 in 2025). It is
//! kept to five bytes a row (≈1.2 KB) for router flash.

use crate::finding::IdText;

/// A national (trunk) prefix, as an index into [`TRUNKS`].
const NONE: u8 = 0;
const ZERO: u8 = 1;
const ONE: u8 = 2;
const EIGHT: u8 = 3;
const ZERO_SIX: u8 = 4;
const TRUNKS: [&str; 5] = ["", "0", "1", "8", "06"];

/// ISO 3166-1 alpha-2 code (`--` for non-geographic codes), E.164 country code, trunk prefix.
/// Sorted by ISO code (binary search); the country codes form a prefix-free set, so a number
/// splits one way only.
const PLANS: &[([u8; 2], u16, u8)] = &[
    (*b"--", 800, NONE),
    (*b"--", 808, NONE),
    (*b"--", 870, NONE),
    (*b"--", 878, NONE),
    (*b"--", 881, NONE),
    (*b"--", 882, NONE),
    (*b"--", 883, NONE),
    (*b"--", 888, NONE),
    (*b"--", 979, NONE),
    (*b"AC", 247, NONE),
    (*b"AD", 376, NONE),
    (*b"AE", 971, ZERO),
    (*b"AF", 93, ZERO),
    (*b"AG", 1, ONE),
    (*b"AI", 1, ONE),
    (*b"AL", 355, ZERO),
    (*b"AM", 374, ZERO),
    (*b"AO", 244, NONE),
    (*b"AQ", 672, NONE),
    (*b"AR", 54, ZERO),
    (*b"AS", 1, ONE),
    (*b"AT", 43, ZERO),
    (*b"AU", 61, ZERO),
    (*b"AW", 297, NONE),
    (*b"AX", 358, ZERO),
    (*b"AZ", 994, ZERO),
    (*b"BA", 387, ZERO),
    (*b"BB", 1, ONE),
    (*b"BD", 880, ZERO),
    (*b"BE", 32, ZERO),
    (*b"BF", 226, NONE),
    (*b"BG", 359, ZERO),
    (*b"BH", 973, NONE),
    (*b"BI", 257, NONE),
    (*b"BJ", 229, NONE),
    (*b"BL", 590, ZERO),
    (*b"BM", 1, ONE),
    (*b"BN", 673, NONE),
    (*b"BO", 591, ZERO),
    (*b"BQ", 599, NONE),
    (*b"BR", 55, ZERO),
    (*b"BS", 1, ONE),
    (*b"BT", 975, NONE),
    (*b"BW", 267, NONE),
    (*b"BY", 375, EIGHT),
    (*b"BZ", 501, NONE),
    (*b"CA", 1, ONE),
    (*b"CC", 61, ZERO),
    (*b"CD", 243, ZERO),
    (*b"CF", 236, NONE),
    (*b"CG", 242, NONE),
    (*b"CH", 41, ZERO),
    (*b"CI", 225, NONE),
    (*b"CK", 682, NONE),
    (*b"CL", 56, NONE),
    (*b"CM", 237, NONE),
    (*b"CN", 86, ZERO),
    (*b"CO", 57, NONE),
    (*b"CR", 506, NONE),
    (*b"CU", 53, ZERO),
    (*b"CV", 238, NONE),
    (*b"CW", 599, NONE),
    (*b"CX", 61, ZERO),
    (*b"CY", 357, NONE),
    (*b"CZ", 420, NONE),
    (*b"DE", 49, ZERO),
    (*b"DJ", 253, NONE),
    (*b"DK", 45, NONE),
    (*b"DM", 1, ONE),
    (*b"DO", 1, ONE),
    (*b"DZ", 213, ZERO),
    (*b"EC", 593, ZERO),
    (*b"EE", 372, NONE),
    (*b"EG", 20, ZERO),
    (*b"EH", 212, ZERO),
    (*b"ER", 291, ZERO),
    (*b"ES", 34, NONE),
    (*b"ET", 251, ZERO),
    (*b"FI", 358, ZERO),
    (*b"FJ", 679, NONE),
    (*b"FK", 500, NONE),
    (*b"FM", 691, NONE),
    (*b"FO", 298, NONE),
    (*b"FR", 33, ZERO),
    (*b"GA", 241, NONE),
    (*b"GB", 44, ZERO),
    (*b"GD", 1, ONE),
    (*b"GE", 995, ZERO),
    (*b"GF", 594, ZERO),
    (*b"GG", 44, ZERO),
    (*b"GH", 233, ZERO),
    (*b"GI", 350, NONE),
    (*b"GL", 299, NONE),
    (*b"GM", 220, NONE),
    (*b"GN", 224, NONE),
    (*b"GP", 590, ZERO),
    (*b"GQ", 240, NONE),
    (*b"GR", 30, NONE),
    (*b"GT", 502, NONE),
    (*b"GU", 1, ONE),
    (*b"GW", 245, NONE),
    (*b"GY", 592, NONE),
    (*b"HK", 852, NONE),
    (*b"HN", 504, NONE),
    (*b"HR", 385, ZERO),
    (*b"HT", 509, NONE),
    (*b"HU", 36, ZERO_SIX),
    (*b"ID", 62, ZERO),
    (*b"IE", 353, ZERO),
    (*b"IL", 972, ZERO),
    (*b"IM", 44, ZERO),
    (*b"IN", 91, ZERO),
    (*b"IO", 246, NONE),
    (*b"IQ", 964, ZERO),
    (*b"IR", 98, ZERO),
    (*b"IS", 354, NONE),
    (*b"IT", 39, NONE),
    (*b"JE", 44, ZERO),
    (*b"JM", 1, ONE),
    (*b"JO", 962, ZERO),
    (*b"JP", 81, ZERO),
    (*b"KE", 254, ZERO),
    (*b"KG", 996, ZERO),
    (*b"KH", 855, ZERO),
    (*b"KI", 686, NONE),
    (*b"KM", 269, NONE),
    (*b"KN", 1, ONE),
    (*b"KP", 850, ZERO),
    (*b"KR", 82, ZERO),
    (*b"KW", 965, NONE),
    (*b"KY", 1, ONE),
    (*b"KZ", 7, EIGHT),
    (*b"LA", 856, ZERO),
    (*b"LB", 961, ZERO),
    (*b"LC", 1, ONE),
    (*b"LI", 423, NONE),
    (*b"LK", 94, ZERO),
    (*b"LR", 231, ZERO),
    (*b"LS", 266, NONE),
    (*b"LT", 370, ZERO),
    (*b"LU", 352, NONE),
    (*b"LV", 371, NONE),
    (*b"LY", 218, ZERO),
    (*b"MA", 212, ZERO),
    (*b"MC", 377, NONE),
    (*b"MD", 373, ZERO),
    (*b"ME", 382, ZERO),
    (*b"MF", 590, ZERO),
    (*b"MG", 261, ZERO),
    (*b"MH", 692, ONE),
    (*b"MK", 389, ZERO),
    (*b"ML", 223, NONE),
    (*b"MM", 95, ZERO),
    (*b"MN", 976, ZERO),
    (*b"MO", 853, NONE),
    (*b"MP", 1, ONE),
    (*b"MQ", 596, ZERO),
    (*b"MR", 222, NONE),
    (*b"MS", 1, ONE),
    (*b"MT", 356, NONE),
    (*b"MU", 230, NONE),
    (*b"MV", 960, NONE),
    (*b"MW", 265, ZERO),
    (*b"MX", 52, NONE),
    (*b"MY", 60, ZERO),
    (*b"MZ", 258, NONE),
    (*b"NA", 264, ZERO),
    (*b"NC", 687, NONE),
    (*b"NE", 227, NONE),
    (*b"NF", 672, NONE),
    (*b"NG", 234, ZERO),
    (*b"NI", 505, NONE),
    (*b"NL", 31, ZERO),
    (*b"NO", 47, NONE),
    (*b"NP", 977, ZERO),
    (*b"NR", 674, NONE),
    (*b"NU", 683, NONE),
    (*b"NZ", 64, ZERO),
    (*b"OM", 968, NONE),
    (*b"PA", 507, NONE),
    (*b"PE", 51, ZERO),
    (*b"PF", 689, NONE),
    (*b"PG", 675, NONE),
    (*b"PH", 63, ZERO),
    (*b"PK", 92, ZERO),
    (*b"PL", 48, NONE),
    (*b"PM", 508, ZERO),
    (*b"PR", 1, ONE),
    (*b"PS", 970, ZERO),
    (*b"PT", 351, NONE),
    (*b"PW", 680, NONE),
    (*b"PY", 595, ZERO),
    (*b"QA", 974, NONE),
    (*b"RE", 262, ZERO),
    (*b"RO", 40, ZERO),
    (*b"RS", 381, ZERO),
    (*b"RU", 7, EIGHT),
    (*b"RW", 250, NONE),
    (*b"SA", 966, ZERO),
    (*b"SB", 677, NONE),
    (*b"SC", 248, NONE),
    (*b"SD", 249, ZERO),
    (*b"SE", 46, ZERO),
    (*b"SG", 65, NONE),
    (*b"SH", 290, NONE),
    (*b"SI", 386, ZERO),
    (*b"SJ", 47, NONE),
    (*b"SK", 421, ZERO),
    (*b"SL", 232, ZERO),
    (*b"SM", 378, NONE),
    (*b"SN", 221, NONE),
    (*b"SO", 252, NONE),
    (*b"SR", 597, NONE),
    (*b"SS", 211, ZERO),
    (*b"ST", 239, NONE),
    (*b"SV", 503, NONE),
    (*b"SX", 1, ONE),
    (*b"SY", 963, ZERO),
    (*b"SZ", 268, NONE),
    (*b"TC", 1, ONE),
    (*b"TD", 235, NONE),
    (*b"TG", 228, NONE),
    (*b"TH", 66, ZERO),
    (*b"TJ", 992, EIGHT),
    (*b"TK", 690, NONE),
    (*b"TL", 670, NONE),
    (*b"TM", 993, EIGHT),
    (*b"TN", 216, NONE),
    (*b"TO", 676, NONE),
    (*b"TR", 90, ZERO),
    (*b"TT", 1, ONE),
    (*b"TV", 688, NONE),
    (*b"TW", 886, ZERO),
    (*b"TZ", 255, ZERO),
    (*b"UA", 380, ZERO),
    (*b"UG", 256, ZERO),
    (*b"US", 1, ONE),
    (*b"UY", 598, ZERO),
    (*b"UZ", 998, EIGHT),
    (*b"VA", 39, NONE),
    (*b"VC", 1, ONE),
    (*b"VE", 58, ZERO),
    (*b"VG", 1, ONE),
    (*b"VI", 1, ONE),
    (*b"VN", 84, ZERO),
    (*b"VU", 678, NONE),
    (*b"WF", 681, NONE),
    (*b"WS", 685, NONE),
    (*b"XK", 383, ZERO),
    (*b"YE", 967, ZERO),
    (*b"YT", 262, ZERO),
    (*b"ZA", 27, ZERO),
    (*b"ZM", 260, ZERO),
    (*b"ZW", 263, ZERO),
];

/// National mobile numbers, for structural detection when the router's country is known
/// (`network.country`): the NSN's leading digits (alternatives split by `|`; `.` any digit,
/// `[a-b]` a range) and its length range. Countries not listed still get their country code and
/// trunk prefix from [`PLANS`]; only these widen what a keyed value may look like. Mobile
/// ranges only, no landlines, written after the national numbering plans (the ITU's national
/// numbering plan notifications) but not checked row by row against each regulator's current
/// plan: a range missing here only means its keyed numbers need the generic grammar.
const MOBILE: &[([u8; 2], &str, u8, u8)] = &[
    (*b"AE", "5", 9, 9),
    (*b"AT", "6[5-9]", 10, 13),
    (*b"AU", "4", 9, 9),
    (*b"BD", "1[3-9]", 10, 10),
    (*b"BE", "4[5-9]", 9, 9),
    (*b"BR", "..9", 11, 11),
    (*b"CA", "[2-9]..[2-9]", 10, 10),
    (*b"CH", "7[5-9]", 9, 9),
    (*b"CL", "9", 9, 9),
    (*b"CN", "1[3-9]", 11, 11),
    (*b"CO", "3", 10, 10),
    (*b"CZ", "[67]", 9, 9),
    (*b"DE", "1[5-7]", 10, 11),
    (*b"DK", "[2-9]", 8, 8),
    (*b"EE", "5", 7, 8),
    (*b"EG", "1[0125]", 10, 10),
    (*b"ES", "[67]", 9, 9),
    (*b"FI", "4|50", 7, 10),
    (*b"FR", "[67]", 9, 9),
    (*b"GB", "7[1-9]", 10, 10),
    (*b"GR", "69", 10, 10),
    (*b"HK", "[4-9]", 8, 8),
    (*b"HU", "[237]0|31|50", 9, 9),
    (*b"ID", "8", 9, 12),
    (*b"IE", "8[3-9]", 9, 9),
    (*b"IL", "5", 9, 9),
    (*b"IN", "[6-9]", 10, 10),
    (*b"IR", "9", 10, 10),
    (*b"IS", "[678]", 7, 7),
    (*b"IT", "3", 9, 10),
    (*b"JP", "[789]0", 10, 10),
    (*b"KE", "[17]", 9, 9),
    (*b"KR", "1[016-9]", 9, 10),
    (*b"KZ", "7", 10, 10),
    (*b"LU", "6", 9, 9),
    (*b"MO", "6", 8, 8),
    (*b"MX", "[1-9]", 10, 10),
    (*b"MY", "1", 9, 10),
    (*b"NG", "[7-9]0|81", 10, 10),
    (*b"NL", "6", 9, 9),
    (*b"NO", "[49]", 8, 8),
    (*b"NZ", "2", 8, 10),
    (*b"PH", "9", 10, 10),
    (*b"PK", "3", 10, 10),
    (*b"PL", "[4-8]", 9, 9),
    (*b"PT", "9", 9, 9),
    (*b"RO", "7", 9, 9),
    (*b"RU", "9", 10, 10),
    (*b"SA", "5", 9, 9),
    (*b"SE", "7", 9, 9),
    (*b"SG", "[89]", 8, 8),
    (*b"TH", "[689]", 9, 9),
    (*b"TR", "5", 10, 10),
    (*b"TW", "9", 9, 9),
    (*b"UA", "[3-9]", 9, 9),
    (*b"US", "[2-9]..[2-9]", 10, 10),
    (*b"VN", "[35789]", 9, 9),
    (*b"ZA", "[6-8]", 9, 9),
];

/// A country's dialling plan: what the router's `network.country` stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Country {
    pub iso: [u8; 2],
    pub cc: u16,
    trunk: u8,
    mobile: Option<(&'static str, u8, u8)>,
}

impl Country {
    /// The plan of an ISO 3166-1 alpha-2 code (either case), if the code is assigned one.
    pub fn from_iso(code: &str) -> Option<Country> {
        let b = code.as_bytes();
        let iso = [
            b.first()?.to_ascii_uppercase(),
            b.get(1)?.to_ascii_uppercase(),
        ];
        if b.len() != 2 || !iso.iter().all(u8::is_ascii_uppercase) {
            return None;
        }
        let &(_, cc, trunk) = PLANS
            .binary_search_by_key(&iso, |p| p.0)
            .ok()
            .and_then(|i| PLANS.get(i))?;
        let mobile = MOBILE
            .binary_search_by_key(&iso, |m| m.0)
            .ok()
            .and_then(|i| MOBILE.get(i))
            .map(|&(_, p, lo, hi)| (p, lo, hi));
        Some(Country {
            iso,
            cc,
            trunk,
            mobile,
        })
    }

    pub fn trunk(&self) -> &'static str {
        TRUNKS.get(usize::from(self.trunk)).copied().unwrap_or("")
    }

    /// Whether `nsn` is one of this country's mobile numbers.
    fn is_mobile(&self, nsn: &[u8]) -> bool {
        self.mobile.is_some_and(|(pattern, lo, hi)| {
            (usize::from(lo)..=usize::from(hi)).contains(&nsn.len())
                && pattern
                    .split('|')
                    .any(|alt| prefix_matches(alt.as_bytes(), nsn))
        })
    }
}

/// Whether `digits` start with what `pattern` describes: digits, `.` (any digit), `[a-b]` or
/// `[abc]` classes.
fn prefix_matches(pattern: &[u8], digits: &[u8]) -> bool {
    let mut p = 0;
    let mut d = 0;
    while let Some(&c) = pattern.get(p) {
        let Some(&x) = digits.get(d) else {
            return false;
        };
        if c == b'[' {
            let Some(close) = pattern
                .get(p..)
                .and_then(|rest| rest.iter().position(|&b| b == b']'))
            else {
                return false;
            };
            let class = pattern.get(p + 1..p + close).unwrap_or_default();
            let ok = match class {
                [lo, b'-', hi] => (*lo..=*hi).contains(&x),
                _ => class.contains(&x),
            };
            if !ok {
                return false;
            }
            p += close + 1;
        } else {
            if c != b'.' && c != x {
                return false;
            }
            p += 1;
        }
        d += 1;
    }
    true
}

/// The country code at the start of E.164 digits (no `+`) and its trunk prefix.
fn split_cc(digits: &[u8]) -> Option<(u16, &'static str)> {
    let mut cc = 0u16;
    for &d in digits.iter().take(3) {
        cc = cc * 10 + u16::from(d.wrapping_sub(b'0'));
        if let Some(p) = PLANS.iter().find(|p| p.1 == cc) {
            let trunk = TRUNKS.get(usize::from(p.2)).copied().unwrap_or("");
            return Some((cc, trunk));
        }
    }
    None
}

/// A configured number, split into what its forms are made of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Number {
    /// Country code digits (empty: unknown, the number is matched as its digits only).
    pub cc: String,
    /// The national significant number.
    pub nsn: String,
    pub trunk: &'static str,
}

impl Number {
    /// Splits a configured number: `+<cc><nsn>`, or digits that are a national number of
    /// `country` (with or without its trunk prefix), or digits of unknown country.
    pub fn parse(text: &str, country: Option<Country>) -> Option<Number> {
        let digits = text.strip_prefix('+');
        if let Some(d) = digits {
            let (cc, trunk) = split_cc(d.as_bytes())?;
            let cc = cc.to_string();
            let nsn = d.get(cc.len()..)?.to_string();
            return (nsn.len() >= 4).then_some(Number { cc, nsn, trunk });
        }
        let d = text;
        match country {
            Some(c) => {
                let trunk = c.trunk();
                let nsn = match d.strip_prefix(trunk) {
                    Some(rest) if !trunk.is_empty() && rest.len() >= 6 => rest,
                    _ => d,
                };
                Some(Number {
                    cc: c.cc.to_string(),
                    nsn: nsn.to_string(),
                    trunk,
                })
            }
            None => Some(Number {
                cc: String::new(),
                nsn: d.to_string(),
                trunk: "",
            }),
        }
    }

    /// The digit strings the number is written as without separators, most specific first:
    /// `+<cc><nsn>`, `<cc><nsn>`, `00<cc><nsn>`, `011<cc><nsn>`, `<trunk><nsn>`, `<nsn>`.
    pub fn forms(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.cc.is_empty() {
            let (cc, nsn) = (&self.cc, &self.nsn);
            out.extend([
                format!("+{cc}{nsn}"),
                format!("{cc}{nsn}"),
                format!("00{cc}{nsn}"),
                format!("011{cc}{nsn}"),
            ]);
            if !self.trunk.is_empty() {
                out.push(format!("{}{nsn}", self.trunk));
            }
        }
        out.push(self.nsn.clone());
        out.dedup();
        out
    }

    /// The last four NSN digits (what [`tail_before`] reads).
    pub fn tail(&self) -> Option<[u8; 4]> {
        let b = self.nsn.as_bytes();
        b.get(b.len().checked_sub(4)?..)?.try_into().ok()
    }

    /// The anchors the automaton looks for: the last four NSN digits as they can be written
    /// (contiguous, or split 2+2 or 1+3 by a space, dash or dot).
    pub fn anchors(&self) -> Vec<String> {
        let n = self.nsn.len();
        let Some(tail) = self.nsn.get(n.saturating_sub(4)..).filter(|t| t.len() == 4) else {
            return Vec::new();
        };
        let mut out = vec![tail.to_string()];
        for sep in [' ', '-', '.'] {
            for cut in [2, 1] {
                // ASCII digits (the NSN is validated), so every offset is a char boundary.
                if let (Some(a), Some(b)) = (tail.get(..cut), tail.get(cut..)) {
                    out.push(format!("{a}{sep}{b}"));
                }
            }
        }
        out
    }
}

/// Bytes that may separate the digit groups of a phone number: RFC 3966's visual separators
/// (`-`, `.`, `(`, `)`), blanks, `/` (German area codes), `+` (a space in a form body).
fn is_sep(b: u8) -> bool {
    matches!(b, b' ' | b'-' | b'.' | b'(' | b')' | b'/' | b'+' | b'\t')
}

/// At most this many separator bytes between two digit groups (`) - `).
const MAX_SEPS: usize = 3;

/// Where the digit run containing an anchor that ends at `e` ends: over digits, and over one
/// separator followed by a digit (what [`verify`]'s right boundary refuses).
pub fn run_end(buf: &[u8], e: usize) -> usize {
    let digit = |i: usize| buf.get(i).is_some_and(u8::is_ascii_digit);
    let mut r = e;
    loop {
        if digit(r) {
            r += 1;
        } else if buf.get(r).is_some_and(|&b| is_sep(b) && b != b')') && digit(r + 1) {
            r += 2;
        } else {
            return r;
        }
    }
}

/// The last four digits before `end` (separators between them skipped): the key of the known
/// numbers that may end there.
pub fn tail_before(buf: &[u8], end: usize) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut i = end;
    for k in (0..4).rev() {
        i = seps_back(buf, i);
        let b = *buf.get(i.checked_sub(1)?)?;
        if !b.is_ascii_digit() {
            return None;
        }
        *out.get_mut(k)? = b;
        i -= 1;
    }
    Some(out)
}

/// Digit groups of a candidate, right to left: each group's length and the first separator
/// byte before it (0: none).
type Groups = heapless::Vec<(u8, u8), 16>;

/// The byte just before offset `i` (none at the start or past the end).
fn byte_before(buf: &[u8], i: usize) -> Option<u8> {
    buf.get(i.checked_sub(1)?).copied()
}

/// Skips at most [`MAX_SEPS`] separator bytes backwards from `i`.
fn seps_back(buf: &[u8], i: usize) -> usize {
    let mut j = i;
    while j > 0 && byte_before(buf, j).is_some_and(is_sep) && i - j < MAX_SEPS {
        j -= 1;
    }
    j
}

/// Reads `want` (ASCII digits) backwards from `end`, with separators allowed between digits,
/// recording the groups. Returns where the digits start.
fn digits_back(buf: &[u8], end: usize, want: &[u8], groups: &mut Groups) -> Option<usize> {
    let mut i = end;
    let mut k = want.len();
    let mut group = 0u8;
    while k > 0 {
        let b = *buf.get(i.checked_sub(1)?)?;
        if b.is_ascii_digit() {
            if Some(&b) != want.get(k - 1) {
                return None;
            }
            k -= 1;
            i -= 1;
            group += 1;
        } else {
            let j = seps_back(buf, i);
            if j == i || !byte_before(buf, j).is_some_and(|b| b.is_ascii_digit()) {
                return None;
            }
            groups.push((group, *buf.get(j)?)).ok()?;
            group = 0;
            i = j;
        }
    }
    groups.push((group, 0)).ok()?;
    Some(i)
}

/// How a verified number was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Written {
    National,
    Trunk,
    International,
}

/// Verifies an anchor hit: the text ending at `end` (the end of the anchor, which is the end of
/// the NSN) is `number` in one of its forms, bounded on both sides. Returns the form and where
/// the text starts.
pub fn verify(buf: &[u8], end: usize, number: &Number) -> Option<(Written, usize)> {
    // Right boundary: no letter or digit (a tracking number, a token), and no separator that
    // goes on to more digits.
    match buf.get(end) {
        Some(b) if b.is_ascii_alphanumeric() => return None,
        Some(&b) if is_sep(b) && b != b')' && buf.get(end + 1).is_some_and(u8::is_ascii_digit) => {
            return None
        }
        _ => {}
    }
    let mut groups = Groups::new();
    let nsn_start = digits_back(buf, end, number.nsn.as_bytes(), &mut groups)?;
    if looks_like_version(&groups) {
        return None;
    }
    // What precedes the NSN: separators, then up to two digit groups that together must be a
    // prefix the number allows (`+44 (0) 20…`, `00 358 40…`, `1-415…`), then no more digits.
    let mut p = seps_back(buf, nsn_start);
    if p < nsn_start {
        if let (Some(g), Some(&sep)) = (groups.last_mut(), buf.get(p)) {
            g.1 = sep;
        }
    }
    let mut prefix: heapless::Vec<u8, 8> = heapless::Vec::new();
    for _ in 0..2 {
        if !byte_before(buf, p).is_some_and(|b| b.is_ascii_digit()) {
            break;
        }
        let before = buf.get(..p)?;
        let q = before
            .iter()
            .rposition(|b| !b.is_ascii_digit())
            .map_or(0, |k| k + 1);
        let mut joined: heapless::Vec<u8, 8> = heapless::Vec::new();
        joined.extend_from_slice(before.get(q..)?).ok()?;
        joined.extend_from_slice(&prefix).ok()?;
        prefix = joined;
        let r = seps_back(buf, q);
        let more = r < q && byte_before(buf, r).is_some_and(|b| b.is_ascii_digit());
        let sep = if more { *buf.get(r)? } else { 0 };
        groups.push((u8::try_from(p - q).ok()?, sep)).ok()?;
        p = if more { r } else { q };
    }
    let cc = number.cc.as_bytes();
    let trunk = number.trunk.as_bytes();
    let (written, start) = if prefix.is_empty() {
        (Written::National, nsn_start)
    } else {
        let plus = byte_before(buf, p) == Some(b'+');
        let is = |parts: &[&[u8]]| {
            let mut at = 0;
            for part in parts {
                if prefix.get(at..at + part.len()) != Some(part) {
                    return false;
                }
                at += part.len();
            }
            at == prefix.len()
        };
        let intl = !cc.is_empty()
            && [&b""[..], b"00", b"011"].iter().any(|idp| {
                (idp.is_empty() || !plus)
                    && (is(&[idp, cc]) || (!trunk.is_empty() && is(&[idp, cc, trunk])))
            });
        if intl {
            (Written::International, if plus { p - 1 } else { p })
        } else if !plus && !trunk.is_empty() && is(&[trunk]) {
            (Written::Trunk, p)
        } else {
            return None;
        }
    };
    // Left boundary: no letter or digit (a `+` form is bounded by its `+`); and `+<nsn>` is an
    // E.164 number of some other country.
    if buf.get(start) != Some(&b'+')
        && byte_before(buf, start).is_some_and(|b| b.is_ascii_alphanumeric())
    {
        return None;
    }
    if written == Written::National && buf.get(p..nsn_start).is_some_and(|s| s.contains(&b'+')) {
        return None;
    }
    if looks_like_decimal_or_date(&groups) {
        return None;
    }
    Some((written, start))
}

/// Single digits between dots are a version or an address (`4.0.1234567`), not a grouping.
/// (The leftmost group may be one digit: the rest of it is the prefix, `06.12.34.56.78`.)
fn looks_like_version(groups: &[(u8, u8)]) -> bool {
    let inner = groups.split_last().map_or(&[][..], |(_, rest)| rest);
    groups.iter().any(|g| g.1 == b'.') && inner.iter().any(|g| g.0 == 1)
}

/// A single dot between exactly two digit groups is a decimal (`0.401234567`, a price), and
/// `yyyy-mm-dd…` is a date: not phone numbers. `groups` are right to left.
fn looks_like_decimal_or_date(groups: &[(u8, u8)]) -> bool {
    let mut seps = groups.iter().map(|g| g.1).filter(|s| *s != 0);
    let decimal = groups.len() == 2 && seps.next() == Some(b'.') && seps.next().is_none();
    let dated = |s: u8| matches!(s, b'-' | b'.' | b'/');
    // Left to right: 4 digits, then two groups of 1–2, each after a date separator.
    let date = match groups {
        [.., (d, ds), (m, ms), (4, _)] => {
            (1..=2).contains(m) && dated(*ms) && (1..=2).contains(d) && dated(*ds)
        }
        _ => false,
    };
    decimal || date
}

/// A keyed value (after `msisdn=`, `"mobile":` …) that is a national mobile number of the
/// router's country: its NSN with or without the trunk prefix, with the separators people use.
/// Returns it in E.164 and the length of the text. This only widens what the generic keyed
/// grammar accepts (short NSNs, JSON numbers): the mobile ranges and exact lengths are the
/// evidence.
pub fn keyed_national(country: Country, s: &[u8]) -> Option<(IdText, usize)> {
    let mut digits: heapless::Vec<u8, 16> = heapless::Vec::new();
    // Left to right here: (length, first separator after); reversed for the shared checks.
    let mut groups = Groups::new();
    let mut group = 0u8;
    let mut i = 0;
    let mut end = 0;
    let mut seps = 0;
    while let Some(&b) = s.get(i) {
        if b.is_ascii_digit() {
            digits.push(b).ok()?;
            seps = 0;
            group += 1;
            i += 1;
            end = i;
        } else if is_sep(b) && b != b'+' && (b == b'(' || !digits.is_empty()) && seps < MAX_SEPS {
            if group > 0 {
                groups.push((group, b)).ok()?;
                group = 0;
            }
            seps += 1;
            i += 1;
        } else {
            break;
        }
    }
    if group > 0 {
        groups.push((group, 0)).ok()?;
    } else if let Some(last) = groups.last_mut() {
        last.1 = 0;
    }
    // Right to left, each group with the separator before it.
    let mut back = Groups::new();
    for (k, g) in groups.iter().enumerate().rev() {
        let before = k
            .checked_sub(1)
            .and_then(|p| groups.get(p))
            .map_or(0, |p| p.1);
        back.push((g.0, before)).ok()?;
    }
    if looks_like_version(&back) || looks_like_decimal_or_date(&back) {
        return None;
    }
    let trunk = country.trunk().as_bytes();
    let nsn = match digits.strip_prefix(trunk) {
        Some(rest) if !trunk.is_empty() && country.is_mobile(rest) => rest,
        _ => &digits,
    };
    if !country.is_mobile(nsn) || nsn.windows(2).all(|w| w.first() == w.last()) {
        return None;
    }
    let mut out = IdText::new();
    let _ = out.push('+');
    let _ = out.push_str(&country.cc.to_string());
    for &d in nsn {
        let _ = out.push(char::from(d));
    }
    Some((out, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_are_sorted_and_prefix_free() {
        assert!(PLANS.windows(2).all(|w| w[0].0 <= w[1].0));
        assert!(MOBILE.windows(2).all(|w| w[0].0 < w[1].0));
        let codes: Vec<String> = PLANS.iter().map(|p| p.1.to_string()).collect();
        for a in &codes {
            for b in &codes {
                assert!(
                    a == b || !b.starts_with(a.as_str()),
                    "{a} is a prefix of {b}"
                );
            }
        }
        for m in MOBILE {
            assert!(PLANS.iter().any(|p| p.0 == m.0), "{:?}", m.0);
        }
    }

    #[test]
    fn numbers_split_by_calling_code() {
        let n = Number::parse("+8613912760845", None).unwrap();
        assert_eq!(
            (n.cc.as_str(), n.nsn.as_str(), n.trunk),
            ("86", "13912760845", "0")
        );
        let n = Number::parse("+358401234567", None).unwrap();
        assert_eq!(
            (n.cc.as_str(), n.nsn.as_str(), n.trunk),
            ("358", "401234567", "0")
        );
        let n = Number::parse("+14155552671", None).unwrap();
        assert_eq!(
            (n.cc.as_str(), n.nsn.as_str(), n.trunk),
            ("1", "4155552671", "1")
        );
        let n = Number::parse("+79161234567", None).unwrap();
        assert_eq!(n.trunk, "8");
        let fi = Country::from_iso("fi");
        let n = Number::parse("0401234567", fi).unwrap();
        assert_eq!((n.cc.as_str(), n.nsn.as_str()), ("358", "401234567"));
        let n = Number::parse("13912760845", None).unwrap();
        assert_eq!((n.cc.as_str(), n.nsn.as_str()), ("", "13912760845"));
        assert!(
            Number::parse("+2812345678", None).is_none(),
            "28 is unassigned"
        );
        assert_eq!(
            Number::parse("+358401234567", None).unwrap().forms(),
            [
                "+358401234567",
                "358401234567",
                "00358401234567",
                "011358401234567",
                "0401234567",
                "401234567"
            ]
        );
    }

    fn found(text: &str, number: &str) -> Option<Written> {
        let n = Number::parse(number, None).unwrap();
        let b = text.as_bytes();
        // The anchor's end: after the last 4 NSN digits, however they are split.
        let mut hit = None;
        for a in n.anchors() {
            if let Some(at) = text.find(a.as_str()) {
                hit = verify(b, at + a.len(), &n).map(|(w, _)| w).or(hit);
            }
        }
        hit
    }

    #[test]
    fn separated_forms_are_verified() {
        use Written::*;
        let us = "+14155552671";
        for (text, want) in [
            ("(415) 555-2671", Some(National)),
            ("tel=415.555.2671&", Some(National)),
            ("1-415-555-2671", Some(International)),
            ("+1 (415) 555-2671", Some(International)),
            ("011 1 415 555 2671", Some(International)),
            ("tel:+1-415-555-2671;ext=1", Some(International)),
            ("4155552671", Some(National)),
            ("14155552671\"", Some(International)),
            ("x 415 555 2671 y", Some(National)),
            // Longer digit runs and other numbers.
            ("24155552671", None),
            ("41555526710", None),
            ("2 415 555 2671", None),
            ("415-555-2671-9", None),
            ("+44 415 555 2671", None),
            ("+4155552671", None),
        ] {
            assert_eq!(found(text, us), want, "{text}");
        }
        let fi = "+358401234567";
        for (text, want) in [
            ("040 123 4567", Some(Trunk)),
            ("040-1234567", Some(Trunk)),
            ("00358401234567", Some(International)),
            ("+358 (0)40 123 4567", Some(International)),
            ("+358 40 123 45 67", Some(International)),
            ("401234567", Some(National)),
            // A price, a decimal, a counter: not the number.
            ("0.401234567", None),
            ("1401234567", None),
            ("4012345678", None),
            ("12.401234567", None),
        ] {
            assert_eq!(found(text, fi), want, "{text}");
        }
        let uk = "+447700900123";
        assert_eq!(found("07700 900123", uk), Some(Trunk));
        assert_eq!(found("07700 900 123", uk), Some(Trunk));
        assert_eq!(found("+44 (0) 7700 900 123", uk), Some(International));
        let fr = "+33612345678";
        assert_eq!(found("06 12 34 56 78", fr), Some(Trunk));
        assert_eq!(found("06.12.34.56.78", fr), Some(Trunk));
        let ru = "+79161234567";
        assert_eq!(found("8 (916) 123-45-67", ru), Some(Trunk));
    }

    #[test]
    fn keyed_national_mobiles() {
        let cn = Country::from_iso("CN").unwrap();
        let k = |s: &str| keyed_national(cn, s.as_bytes()).map(|(v, n)| (v.to_string(), n));
        assert_eq!(k("13912760845,"), Some(("+8613912760845".into(), 11)));
        assert_eq!(k("139 1276 0845\""), Some(("+8613912760845".into(), 13)));
        assert_eq!(k("12912760845"), None, "12x is no mobile range");
        assert_eq!(k("1391276084"), None);
        assert_eq!(k("11111111111"), None);
        let is = Country::from_iso("IS").unwrap();
        assert_eq!(
            keyed_national(is, b"6123456&").map(|(v, _)| v.to_string()),
            Some("+3546123456".into())
        );
        let fi = Country::from_iso("FI").unwrap();
        assert_eq!(
            keyed_national(fi, b"040 123 4567").map(|(v, _)| v.to_string()),
            Some("+358401234567".into())
        );
        assert!(Country::from_iso("XX").is_none());
        assert!(Country::from_iso("C").is_none());
        assert!(Country::from_iso("CNN").is_none());
    }
}

/// The detector on phone numbers: every written form of a known number, the keyed national
/// forms with `network.country`, and the look-alikes of each.
#[cfg(test)]
mod detector {
    use crate::config::{Config, Device};
    use crate::detect::{Detector, Scratch};
    use crate::finding::Hit;
    use md5::Md5;
    use sha1::Sha1;
    use sha2::{Digest, Sha256};

    fn config(phones: &[&str], country: Option<&str>) -> Config {
        let mut c = Config::default();
        c.network.leases = None;
        c.network.country = country.map(str::to_string);
        if !phones.is_empty() {
            c.devices.push(Device {
                name: "phone".into(),
                phone: phones.iter().map(|p| p.to_string()).collect(),
                ..Device::default()
            });
        }
        c
    }

    fn hits(det: &Detector, window: &[u8]) -> Vec<(String, String, String)> {
        let mut scratch = Scratch::new();
        let mut out = Vec::new();
        det.scan(window, &mut scratch, &mut |h: Hit| {
            out.push((
                h.source.to_string(),
                h.encoding.to_string(),
                h.value.to_string(),
            ))
        });
        out.sort();
        out
    }

    fn known(enc: &str, v: &str) -> Vec<(String, String, String)> {
        vec![("known".into(), enc.into(), v.into())]
    }

    fn b64(s: &str) -> String {
        crate::detect::decode::b64_encode(s.as_bytes())
    }

    fn hex(s: &str) -> String {
        s.bytes().map(|b| format!("{b:02x}")).collect()
    }

    fn url(s: &str) -> String {
        s.bytes().map(|b| format!("%{b:02X}")).collect()
    }

    const CN: &str = "+8613912760845";
    const FI: &str = "+358401234567";
    const US: &str = "+14155552671";
    const IS: &str = "+3546123456";

    #[test]
    fn every_textual_form_of_a_known_number() {
        let det = Detector::new(&config(&[CN, FI, US, IS], None));
        let cases: &[(&str, &[&str])] = &[
            (
                CN,
                &[
                    "+8613912760845",
                    "8613912760845",
                    "008613912760845",
                    "01186 139 1276 0845",
                    "13912760845",
                    "139 1276 0845",
                    "139-1276-0845",
                    "139.1276.0845",
                    "(139) 1276 0845",
                    "+86 139 1276 0845",
                    "+86-139-1276-0845",
                    "tel:+86-139-1276-0845",
                    "sip:+8613912760845@ims.example.net;user=phone",
                ],
            ),
            (
                FI,
                &[
                    "0401234567",
                    "040 123 4567",
                    "040-123 4567",
                    "040.123.4567",
                    "(040) 1234567",
                    "00358401234567",
                    "00 358 40 123 4567",
                    "011358401234567",
                    "+358 40 123 4567",
                    "+358 (0)40 123 4567",
                    "+358 40 123 45 67",
                    "401234567",
                ],
            ),
            (
                US,
                &[
                    "(415) 555-2671",
                    "1-415-555-2671",
                    "1 (415) 555-2671",
                    "415-555-2671",
                    "415.555.2671",
                    "415 555 2671",
                    "4155552671",
                    "14155552671",
                    "+1 415-555-2671",
                    "+1.415.555.2671",
                    "011 1 415 555 2671",
                ],
            ),
            (
                IS,
                &["6123456", "612 3456", "+354 612 3456", "00354 6123456"],
            ),
        ];
        for (number, forms) in cases {
            for form in *forms {
                for w in [
                    format!("{{\"contact\":\"{form}\"}}"),
                    format!("GET /c?n={form}&x=1 HTTP/1.1\r\n"),
                    format!("<td>{form}</td>"),
                ] {
                    assert_eq!(hits(&det, w.as_bytes()), known("plain", number), "{w}");
                }
                let w = format!("n={}&", url(form));
                assert_eq!(hits(&det, w.as_bytes()), known("url", number), "{w}");
                let w = format!("d={}&", b64(&format!("{{\"contact\":\"{form}\"}}")));
                assert_eq!(hits(&det, w.as_bytes()), known("base64", number), "{w}");
                let w = format!("h={}&", hex(&format!("contact={form};")));
                assert_eq!(hits(&det, w.as_bytes()), known("hex", number), "{w}");
            }
        }
        // Spaces as `+` in a form body, `%20` in a URL.
        let w = b"phone=%2B1+415+555+2671&x=1";
        assert_eq!(hits(&det, w), known("url", US));
        let w = b"n=(415)%20555-2671&";
        assert_eq!(hits(&det, w), known("url", US));
    }

    #[test]
    fn short_forms_encoded_whole_and_hashed() {
        let det = Detector::new(&config(&[CN, FI, US, IS], None));
        for (number, forms) in [
            (
                CN,
                &[
                    "+8613912760845",
                    "8613912760845",
                    "13912760845",
                    "013912760845",
                ][..],
            ),
            (
                FI,
                &["+358401234567", "358401234567", "0401234567", "401234567"][..],
            ),
            (US, &["+14155552671", "14155552671", "4155552671"][..]),
            (IS, &["+3546123456", "3546123456", "6123456"][..]),
        ] {
            for form in forms {
                let w = format!("{{\"p\":\"{}\"}}", b64(form));
                assert_eq!(hits(&det, w.as_bytes()), known("base64", number), "{w}");
                let w = format!("{{\"p\":\"{}=\"}}", b64(form).replace('+', "-"));
                assert_eq!(hits(&det, w.as_bytes()), known("base64", number), "{w}");
                let w = format!("p={}&", hex(form));
                assert_eq!(hits(&det, w.as_bytes()), known("hex", number), "{w}");
                let w = format!("p={}&", hex(form).to_uppercase());
                assert_eq!(hits(&det, w.as_bytes()), known("hex", number), "{w}");
                for (enc, digest) in [
                    ("md5", hex_bytes(&Md5::digest(form.as_bytes()))),
                    ("sha1", hex_bytes(&Sha1::digest(form.as_bytes()))),
                    ("sha256", hex_bytes(&Sha256::digest(form.as_bytes()))),
                ] {
                    let w = format!("uid={digest}&");
                    assert_eq!(hits(&det, w.as_bytes()), known(enc, number), "{form} {w}");
                }
            }
        }
    }

    fn hex_bytes(b: &[u8]) -> String {
        b.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Order numbers, timestamps, tracking numbers, prices and counters that contain a known
    /// number's digits, and other numbers next to them: nothing.
    #[test]
    fn look_alikes_of_known_numbers() {
        let det = Detector::new(&config(&[CN, FI, US, IS], None));
        let benign: &[&str] = &[
            // Order numbers and ids with the digits inside a longer run.
            "order_id=2023121391276084512",
            "order=913912760845&",
            "{\"orderNo\":\"20231204155552671\"}",
            "trade_no=4012345670001",
            "id=96123456&",
            "id=61234567&",
            // Timestamps and counters.
            "ts=1701401234567&t=17014155552671",
            "{\"count\":140123456,\"n\":612345600}",
            "bytes=14155552671000",
            // Tracking numbers.
            "tracking=1Z4155552671X&",
            "awb=9400100000004155552671",
            "sf=SF1391276084500",
            // Prices and decimals.
            "price=0.401234567&",
            "amount=415.5552671",
            "{\"v\":612.3456}",
            "x=6123456.78",
            "total=0.6123456",
            // The digits of one number inside another grouping.
            "2 415 555 2671 3",
            "415-555-2671-9",
            "5 040 123 4567",
            "12 139 1276 0845",
            // Dates and times, versions, addresses.
            "2026-06-12 3456",
            "v=4.0.1234567",
            "ip=10.61.234.56",
            // Another country's E.164 with the same NSN.
            "+44 401234567",
            "+4155552671",
            "+49 6123456",
        ];
        for w in benign {
            assert!(
                hits(&det, w.as_bytes()).is_empty(),
                "{w}: {:?}",
                hits(&det, w.as_bytes())
            );
        }
    }

    /// JT/T 808's header carries the terminal's phone number as BCD: BCD[6] (2013: `0` + the
    /// 11-digit national number), BCD[10] (2019: zero-padded to 20 digits); 3GPP TBCD carries
    /// the international digits with swapped nibbles and an `F` filler (after a TON/NPI byte).
    /// Each at an odd and at an even offset.
    #[test]
    fn bcd_and_tbcd_forms() {
        let det = Detector::new(&config(&[CN, FI, US], None));
        let bcd = |digits: &str| -> Vec<u8> {
            digits
                .as_bytes()
                .chunks(2)
                .map(|p| (p[0] - b'0') << 4 | p.get(1).map_or(0x0f, |d| d - b'0'))
                .collect()
        };
        let tbcd = |digits: &str| -> Vec<u8> {
            digits
                .as_bytes()
                .chunks(2)
                .map(|p| p.get(1).map_or(0xf0, |d| (d - b'0') << 4) | (p[0] - b'0'))
                .collect()
        };
        let binary = |v: &str| vec![("known".to_string(), "binary".to_string(), v.to_string())];
        for pad in [0usize, 1] {
            // 2013 header: id, properties, BCD[6] phone, serial; then a location body.
            let mut w = vec![0x7e; 1 + pad];
            w.extend([0x02, 0x00, 0x00, 0x1c]);
            w.extend(bcd("013912760845"));
            w.extend([
                0x00, 0x2a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x03, 0x7e,
            ]);
            assert_eq!(hits(&det, &w), binary(CN), "2013, pad {pad}");
            // 2019 header: version bit, protocol version, BCD[10].
            let mut w = vec![0x7e; 1 + pad];
            w.extend([0x02, 0x00, 0x40, 0x1c, 0x01]);
            w.extend(bcd("00000000013912760845"));
            w.extend([0x00, 0x2a, 0x00, 0x00, 0x7e]);
            assert_eq!(hits(&det, &w), binary(CN), "2019, pad {pad}");
            // TBCD after TON/NPI 0x91 (international, E.164), odd and even digit counts.
            for (number, digits) in [(CN, "8613912760845"), (FI, "358401234567")] {
                let mut w = vec![0x04; 1 + pad];
                w.extend([0x07, 0x91]);
                w.extend(tbcd(digits));
                w.extend([0x00, 0x01]);
                assert_eq!(hits(&det, &w), binary(number), "tbcd {digits}, pad {pad}");
                // Plain BCD with an F filler (SMS-style address fields use TBCD; some
                // trackers write the international number high nibble first).
                let mut w = vec![0x05; 1 + pad];
                w.extend(bcd(digits));
                w.extend([0x00, 0x01]);
                assert_eq!(hits(&det, &w), binary(number), "bcd {digits}, pad {pad}");
            }
        }
        // Binary look-alikes: another number's BCD (the last digit differs), the decimal
        // text of a longer number read as hex, a 10-digit NSN's BCD missing a digit.
        for w in [
            &[
                0x7e, 0x02, 0x00, 0x00, 0x1c, 0x01, 0x39, 0x12, 0x76, 0x08, 0x46, 0x00, 0x7e,
            ][..],
            b"id=9400100000004155552671&n=20238613912760845111",
            &[0x00, 0x41, 0x55, 0x55, 0x26, 0x00, 0x00],
        ] {
            assert!(hits(&det, w).is_empty(), "{w:02x?}: {:?}", hits(&det, w));
        }
    }

    /// Two numbers ending in the same four digits are each found.
    #[test]
    fn numbers_sharing_an_anchor() {
        let det = Detector::new(&config(&["+8613912760845", "+8613800000845"], None));
        assert_eq!(
            hits(&det, b"a=13800000845&"),
            known("plain", "+8613800000845")
        );
        assert_eq!(
            hits(&det, b"a=139 1276 0845&"),
            known("plain", "+8613912760845")
        );
    }

    /// A number configured without `+` is a national number of `network.country`.
    #[test]
    fn national_config_with_country() {
        let det = Detector::new(&config(&["0401234567"], Some("FI")));
        assert_eq!(
            hits(&det, b"n=+358 40 123 4567&"),
            known("plain", "0401234567")
        );
        assert_eq!(hits(&det, b"n=401234567&"), known("plain", "0401234567"));
        let det = Detector::new(&config(&["13912760845"], None));
        assert_eq!(
            hits(&det, b"n=139-1276-0845&"),
            known("plain", "13912760845")
        );
        assert!(hits(&det, b"n=+8613912760845&").is_empty());
    }

    fn pattern(v: &str) -> Vec<(String, String, String)> {
        vec![("pattern".into(), "plain".into(), v.into())]
    }

    #[test]
    fn keyed_national_mobiles_with_the_country() {
        let cn = Detector::new(&config(&[], Some("CN")));
        let none = Detector::new(&config(&[], None));
        // A JSON number is a counter without the country; with it, a Chinese mobile number.
        let w = b"{\"mobile\":13912760845,\"n\":1}";
        assert_eq!(hits(&cn, w), pattern(CN));
        assert!(hits(&none, w).is_empty());
        for w in [
            &b"msisdn=13912760845&"[..],
            b"{\"phone\":\"139 1276 0845\"}",
            b"<tel>139-1276-0845</tel>",
            b"mobile=013912760845&",
        ] {
            assert_eq!(hits(&cn, w), pattern(CN), "{}", String::from_utf8_lossy(w));
        }
        let is = Detector::new(&config(&[], Some("IS")));
        assert_eq!(hits(&is, b"phone=6123456&"), pattern(IS));
        assert!(hits(&none, b"phone=6123456&").is_empty());
        let fi = Detector::new(&config(&[], Some("FI")));
        assert_eq!(hits(&fi, b"{\"msisdn\":\"040 123 4567\"}"), pattern(FI));
        let us = Detector::new(&config(&[], Some("US")));
        assert_eq!(hits(&us, b"{\"phone\":\"(415) 555-2671\"}"), pattern(US));
        // A known number under a key is reported as the known value.
        let known_cn = Detector::new(&config(&[CN], Some("CN")));
        assert_eq!(
            hits(&known_cn, b"{\"mobile\":13912760845}"),
            known("plain", CN)
        );
    }

    #[test]
    fn keyed_look_alikes_with_the_country() {
        for (country, w) in [
            ("CN", &b"{\"mobile\":12912760845}"[..]),
            ("CN", b"{\"mobile\":1391276084}"),
            ("CN", b"{\"mobile\":139127608450}"),
            ("CN", b"{\"phone\":1550139825}"),
            ("CN", b"{\"mobile\":11111111111}"),
            ("CN", b"{\"mobile\":\"2026-12-01\"}"),
            ("CN", b"{\"mobile\":13912760845.5}"),
            ("CN", b"{\"mobile\":\"13912760845abc\"}"),
            ("IS", b"{\"phone\":6123456}"),
            ("IS", b"phone=61234567&"),
            ("IS", b"phone=5123456&"),
            ("IS", b"tel=6.123456&"),
            ("US", b"{\"phone\":1234567890}"),
            ("US", b"{\"phone\":\"1550139825\"}"),
            ("EG", b"{\"phone\":1550139825}"),
            ("FI", b"{\"mobile\":0.401234567}"),
        ] {
            let det = Detector::new(&config(&[], Some(country)));
            let got = hits(&det, w);
            // What the generic grammar reports without the country is not the concern here:
            // only what the country adds.
            let without = hits(&Detector::new(&config(&[], None)), w);
            assert_eq!(got, without, "{country}: {}", String::from_utf8_lossy(w));
        }
    }
}
