//! What a leak is: the identifier kind, where the detector knew it from, the layers it was
//! dressed in, and its value (which leaves the process only masked).
//!
//! These types are shared by every stage after `detect`; they are small, `Copy` where they can
//! be, and allocate nothing, so the detector can hand hits to the pipeline on the packet path.

use core::fmt;

/// The kind of identifier found. What each kind is called, how it is configured and which
/// keys announce it is in one table, [`crate::kinds::KINDS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Imei,
    Imeisv,
    Meid,
    Imsi,
    Iccid,
    Mac,
    Phone,
    Serial,
}

impl Kind {
    /// Every kind, in declaration order: the kinds of [`crate::kinds::KINDS`]' rows (whose
    /// const check keeps them in this order).
    pub const ALL: [Kind; crate::kinds::KINDS.len()] = {
        let mut all = [Kind::Imei; crate::kinds::KINDS.len()];
        let mut i = 0;
        while i < all.len() {
            all[i] = crate::kinds::KINDS[i].kind;
            i += 1;
        }
        all
    };

    /// The name used in config files, JSON output and syslog lines (from [`crate::kinds`]).
    pub fn name(self) -> &'static str {
        crate::kinds::info(self).name
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// A set of kinds, one bit each, sized from [`Kind::ALL`]: a new kind grows the set instead of
/// overflowing a `u8` mask (`1 << kind`) and aliasing another kind. Bytes, so it keeps the flow
/// facts at alignment 1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct KindSet([u8; KindSet::BYTES]);

impl KindSet {
    pub const BYTES: usize = Kind::ALL.len().div_ceil(8);
    pub const EMPTY: KindSet = KindSet([0; KindSet::BYTES]);
    pub const ALL: KindSet = {
        let mut set = KindSet::EMPTY;
        let mut i = 0;
        while i < Kind::ALL.len() {
            set = set.with(Kind::ALL[i]);
            i += 1;
        }
        set
    };

    /// The set with `kind` added.
    pub const fn with(self, kind: Kind) -> KindSet {
        let mut bytes = self.0;
        let bit = kind as usize;
        bytes[bit / 8] |= 1 << (bit % 8);
        KindSet(bytes)
    }

    /// The set with `kind` taken out.
    pub const fn without(self, kind: Kind) -> KindSet {
        let mut bytes = self.0;
        let bit = kind as usize;
        bytes[bit / 8] &= !(1 << (bit % 8));
        KindSet(bytes)
    }

    pub const fn contains(&self, kind: Kind) -> bool {
        let bit = kind as usize;
        self.0[bit / 8] & (1 << (bit % 8)) != 0
    }

    pub fn union(self, other: KindSet) -> KindSet {
        let mut bytes = self.0;
        for (b, o) in bytes.iter_mut().zip(other.0) {
            *b |= o;
        }
        KindSet(bytes)
    }

    pub fn is_empty(&self) -> bool {
        *self == KindSet::EMPTY
    }

    /// The kinds in the set, in [`Kind::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Kind> {
        Kind::ALL.into_iter().filter(move |k| self.contains(*k))
    }
}

impl FromIterator<Kind> for KindSet {
    fn from_iter<I: IntoIterator<Item = Kind>>(iter: I) -> KindSet {
        iter.into_iter().fold(KindSet::EMPTY, KindSet::with)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where the detector knew the identifier from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// A value the owner put in the config (`[[device]]`).
    Known,
    /// A value the engine learned from traffic: a LAN device's own MAC address.
    Learned,
    /// A value recognised by its structure (Luhn, MCC list, …) next to a key that names it.
    Pattern,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Source::Known => "known",
            Source::Learned => "learned",
            Source::Pattern => "pattern",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One layer an identifier was dressed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layer {
    Url,
    Hex,
    Base64,
    Gzip,
    Md5,
    Sha1,
    Sha256,
    /// The value as bytes, not text: digits in BCD or TBCD, a MAC's six bytes.
    Binary,
}

impl Layer {
    pub const ALL: [Layer; 8] = [
        Layer::Url,
        Layer::Hex,
        Layer::Base64,
        Layer::Gzip,
        Layer::Md5,
        Layer::Sha1,
        Layer::Sha256,
        Layer::Binary,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Layer::Url => "url",
            Layer::Hex => "hex",
            Layer::Base64 => "base64",
            Layer::Gzip => "gzip",
            Layer::Md5 => "md5",
            Layer::Sha1 => "sha1",
            Layer::Sha256 => "sha256",
            Layer::Binary => "binary",
        }
    }

    pub fn from_name(name: &str) -> Option<Layer> {
        Layer::ALL.into_iter().find(|l| l.name() == name)
    }
}

/// The layers around an identifier, in the order they were applied to it: `gzip+base64` is an
/// identifier that was gzipped, then base64-encoded; `md5+hex` never appears because a digest
/// found as hex text is just `md5`. Empty means `plain`.
///
/// Bounded (the detector nests at most [`Encoding::MAX`] layers), so it is `Copy` and costs no
/// allocation on the packet path.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Encoding {
    layers: [Option<Layer>; Encoding::MAX],
}

impl Encoding {
    pub const MAX: usize = 4;
    pub const PLAIN: Encoding = Encoding {
        layers: [None; Encoding::MAX],
    };

    /// The encoding of a value found inside `self` after one more layer was peeled off from the
    /// outside: decoding base64 text that held gzip data gives `gzip` + `base64`. Returns `None`
    /// when the nesting is deeper than [`Encoding::MAX`].
    pub fn wrapped_in(self, outer: Layer) -> Option<Encoding> {
        let n = self.len();
        if n == Self::MAX {
            return None;
        }
        let mut e = self;
        e.layers[n] = Some(outer);
        Some(e)
    }

    /// The encoding of a value found *inside* this one (an inner layer, e.g. a digest of the
    /// identifier found in base64-decoded text): the new layer goes first.
    pub fn with_inner(self, inner: Layer) -> Option<Encoding> {
        let n = self.len();
        if n == Self::MAX {
            return None;
        }
        let mut e = Encoding::PLAIN;
        e.layers[0] = Some(inner);
        e.layers[1..=n].copy_from_slice(&self.layers[..n]);
        Some(e)
    }

    pub fn len(&self) -> usize {
        self.layers.iter().take_while(|l| l.is_some()).count()
    }

    pub fn is_empty(&self) -> bool {
        self.is_plain()
    }

    pub fn is_plain(&self) -> bool {
        self.layers[0].is_none()
    }

    pub fn layers(&self) -> impl Iterator<Item = Layer> + '_ {
        self.layers.iter().map_while(|l| *l)
    }

    /// Parses `plain`, `base64`, `gzip+base64`, … (config and tests).
    pub fn parse(text: &str) -> Option<Encoding> {
        if text == "plain" {
            return Some(Encoding::PLAIN);
        }
        let mut e = Encoding::PLAIN;
        for part in text.split('+') {
            e = e.wrapped_in(Layer::from_name(part)?)?;
        }
        Some(e)
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_plain() {
            return f.write_str("plain");
        }
        for (i, l) in self.layers().enumerate() {
            if i > 0 {
                f.write_str("+")?;
            }
            f.write_str(l.name())?;
        }
        Ok(())
    }
}

impl fmt::Debug for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// An identifier in canonical text form: digits for IMEI/IMSI/ICCID/MEID/phone (a phone keeps
/// a leading `+`), lower-case `aa:bb:cc:dd:ee:ff` for a MAC, the serial as configured.
///
/// Fixed capacity: identifiers are short, and a longer configured serial is refused by the
/// config parser rather than truncated.
pub type IdText = heapless::String<32>;

/// What the detector reports: one identifier seen in one scanned window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    pub kind: Kind,
    pub source: Source,
    pub encoding: Encoding,
    pub value: IdText,
    /// Index into the config's `[[device]]` list when the value is a known one.
    pub device: Option<u16>,
}

/// Masks an identifier for every log and status output: keeps the first four and the last three
/// characters of a long value (`4901********518`), fewer of a short one, and every separator of a
/// MAC (`a4:50:**:**:**:56`) so the reader still sees what kind of value it was.
pub fn mask(value: &str) -> heapless::String<40> {
    let mut out = heapless::String::new();
    let chars: heapless::Vec<char, 40> = value.chars().take(40).collect();
    let n = chars.len();
    let (head, tail) = if chars.contains(&':') {
        (5, 2)
    } else if n >= 10 {
        (4, 3)
    } else if n >= 6 {
        (2, 2)
    } else {
        (0, 0)
    };
    for (i, c) in chars.iter().enumerate() {
        let keep = i < head || i + tail >= n || *c == ':' || *c == '+';
        let _ = out.push(if keep { *c } else { '*' });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_sets_hold_every_kind_apart() {
        assert_eq!(KindSet::ALL.iter().collect::<Vec<_>>(), Kind::ALL);
        for k in Kind::ALL {
            let one = KindSet::EMPTY.with(k);
            assert_eq!(one.iter().collect::<Vec<_>>(), [k]);
            assert!(Kind::ALL.iter().all(|o| one.contains(*o) == (*o == k)));
        }
        let two: KindSet = [Kind::Mac, Kind::Serial].into_iter().collect();
        assert!(two.contains(Kind::Serial) && !two.contains(Kind::Imei));
        assert_eq!(two.union(KindSet::EMPTY.with(Kind::Imei)).iter().count(), 3);
        assert!(KindSet::EMPTY.is_empty() && !two.is_empty());
    }

    #[test]
    fn masks_like_the_issue_says() {
        assert_eq!(mask("490154203237518").as_str(), "4901********518");
        assert_eq!(mask("a4:50:46:12:34:56").as_str(), "a4:50:**:**:**:56");
        assert_eq!(mask("123").as_str(), "***");
    }

    #[test]
    fn encodings_print_and_parse() {
        let e = Encoding::PLAIN
            .wrapped_in(Layer::Gzip)
            .unwrap()
            .wrapped_in(Layer::Base64)
            .unwrap();
        assert_eq!(e.to_string(), "gzip+base64");
        assert_eq!(Encoding::parse("gzip+base64"), Some(e));
        assert_eq!(Encoding::PLAIN.to_string(), "plain");
        let inner = Encoding::parse("base64")
            .unwrap()
            .with_inner(Layer::Md5)
            .unwrap();
        assert_eq!(inner.to_string(), "md5+base64");
        assert_eq!(Encoding::parse("nope"), None);
    }
}

/// A capture or kernel timestamp: seconds since the Unix epoch and nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Timestamp {
    pub sec: i64,
    pub nsec: u32,
}

/// The calendar date `(year, month 1..=12, day 1..=31)` of a day counted from 1970-01-01 in the
/// proleptic Gregorian calendar.
///
/// Works in 400-year eras (146 097 days each) starting on March 1st, so the leap day is the last
/// day of the shifted year and no month table is needed.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468; // days from 0000-03-01 to 1970-01-01
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of era, 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // year of era, 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of the March-based year, 0..=365
    let mp = (5 * doy + 2) / 153; // March-based month, 0..=11
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A leak: a hit placed in its flow and attributed to a device and a destination.
///
/// Built only when something is found (rare), so it may own its strings.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub time: Timestamp,
    pub hit: Hit,
    pub proto: crate::packet::Proto,
    pub src: std::net::IpAddr,
    pub sport: u16,
    pub dst: std::net::IpAddr,
    pub dport: u16,
    /// The sender's hardware address, when the source had one.
    pub device_mac: Option<[u8; 6]>,
    /// The sender's name: lease file first, then the config's `[[device]]`.
    pub device_name: Option<String>,
    /// The destination's name (HTTP Host, TLS SNI, DNS answer), when known.
    pub host: Option<String>,
}

/// Formats a MAC as lower-case `aa:bb:cc:dd:ee:ff`.
pub fn mac_text(mac: &[u8; 6]) -> IdText {
    use core::fmt::Write;
    let mut s = IdText::new();
    for (i, b) in mac.iter().enumerate() {
        let _ = write!(s, "{}{:02x}", if i > 0 { ":" } else { "" }, b);
    }
    s
}
