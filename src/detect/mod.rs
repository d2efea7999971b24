//! The detector: recognises identifiers in a window of bytes, however they are dressed up.
//!
//! Built once per configuration (like an aho-corasick automaton: expensive to build, cheap to
//! run), then run on many windows with a caller-owned [`Scratch`] so that scanning allocates
//! nothing.
//!
//! One scan of a window is two passes over its bytes, both cheap on benign traffic:
//!
//! 1. one aho-corasick automaton finds the known values (every form they travel in) and the
//!    key names (`imei`, `"IMSI"`, `mac_address`, …); a key match then reads the value after
//!    it and checks its structure (Luhn, reporting body, MCC, …);
//! 2. a byte-class loop finds runs of hex/base64 characters and `%XX` escapes; only runs that
//!    pass a length gate are decoded (into a [`Scratch`] level) and, when the result is text
//!    (or gzip), scanned again one layer deeper; runs of exactly a digest's length are looked
//!    up among the precomputed digests of the known values and learned MACs.
//!
//! Learned MACs are in the same automaton, in every form a known MAC has (`:`, `-`, `.` and
//! bare hex, and their six raw bytes): learning one rebuilds it (see [`Detector::learn_mac`]),
//! which is rare and costs less than looking for MAC-shaped tokens in every window would (a
//! second pass that parsed every hex stretch at every offset cost 40 % of the throughput).
//!
//! Known and learned values of 48 bits or more are found with no boundary (glued to model
//! names, file names, a UUID's node field), and in binary forms (BCD/TBCD digits, a MAC's six
//! bytes: see [`binary`]); glued hex or base64 digests are looked up at every offset behind a
//! prefix bitmap (the first two bytes; for base64, the 12 bits of the first two characters), so
//! benign runs cost a bit test per offset, and glued hex only in runs with a stretch of 32 hex
//! digits.

#![deny(unsafe_code)]

pub mod binary;
pub mod decode;
mod digests;
pub mod identifiers;
pub(crate) mod keys;
pub mod phone;
mod scan;

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, MatchKind};
use miniz_oxide::inflate::core::DecompressorOxide;

use crate::config::Config;
use crate::finding::{Encoding, Hit, IdText, Kind, KindSet, Layer, Source};
use crate::kinds::{self, Known, Search, TextList};

use digests::Digests;
use identifiers::{mac_is_distinctive, mac_is_placeholder, mac_text, mac_text_with};
use keys::{KeyClass, KEYS};

/// Bytes of decoded output one nesting level holds (an inflated body is cut there).
const LEVEL_BYTES: usize = 16 * 1024;
/// Distinct hits remembered per scan to avoid reporting one twice.
const SEEN: usize = 64;

/// Reused buffers for decoded layers (one per nesting level), allocated once.
pub struct Scratch {
    levels: Vec<Vec<u8>>,
    inflater: Box<DecompressorOxide>,
    seen: Vec<(Kind, IdText, Encoding)>,
}

impl Scratch {
    pub fn new() -> Scratch {
        Scratch {
            levels: (0..Encoding::MAX).map(|_| vec![0; LEVEL_BYTES]).collect(),
            inflater: Box::default(),
            seen: Vec::with_capacity(SEEN),
        }
    }
}

impl Default for Scratch {
    fn default() -> Self {
        Scratch::new()
    }
}

/// How the text around a literal must look for it to count.
///
/// A known or learned value of [`EXACT_BITS`] or more (an IMEI's 15 digits, a MAC's 12 hex
/// digits, a long serial) is found anywhere, glued to other text (`Nokia-a45046123456`,
/// `/a45046123456.cfg`, a UUID's node field, `x1490154203237518`): a chance match of that
/// many bits inside other text is negligible, and real devices glue them. Shorter derived
/// forms (the IMEI without its check digit, a phone number's digits) keep a boundary: a
/// known 14-digit prefix inside a longer run of digits is some other number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// Anywhere.
    Any,
    /// No digit on either side.
    Numeric,
    /// No alphanumeric on either side, and no further `:`/`-`/`.`-separated hex (a MAC that
    /// is not distinctive, see [`identifiers::mac_is_distinctive`]).
    Mac,
    /// No alphanumeric on either side.
    Text,
}

/// What one automaton pattern stands for.
#[derive(Clone, Copy, Debug)]
enum Pattern {
    Key(KeyClass, bool),
    Literal {
        ident: u32,
        shape: Shape,
    },
    /// A known value's binary form: `form` indexes [`Detector::forms`].
    Binary {
        ident: u32,
        form: u32,
        /// Counted only in a buffer holding binary data (a learned MAC's raw bytes: six
        /// printable bytes in text are text).
        binary_only: bool,
    },
    /// A known value encoded as a whole (a short phone number in base64 or hex, which the
    /// run pass does not decode: too short a run).
    Coded {
        ident: u32,
        layer: Layer,
    },
    /// The last digits of a known phone number (in one of the ways they are written): the
    /// digit run around it is verified against the numbers ending in those digits.
    PhoneTail,
    /// `.3gppnetwork.org`, the end of a 3GPP realm (`ims.mnc001.mcc001.3gppnetwork.org`): the
    /// identity before it is an IMSI when its digits repeat the realm's MCC and MNC.
    Realm3gpp,
}

/// An identity hits are reported as (known value or learned MAC).
#[derive(Clone, Debug)]
struct Ident {
    kind: Kind,
    source: Source,
    value: IdText,
    device: Option<u16>,
}

#[derive(Clone)]
pub struct Detector {
    kinds: KindSet,
    layers: [bool; 8],
    learn: bool,
    max_learned: usize,
    depth: usize,
    ac: Option<AhoCorasick>,
    /// The automaton's patterns (kept to rebuild it when a MAC is learned).
    lits: Literals,
    /// Learned MACs added to `lits` but not yet to the automaton (see [`Detector::learn_mac_at`]).
    stale: bool,
    /// When the automaton was last rebuilt for learned MACs, in packet time (seconds).
    last_build: Option<i64>,
    /// The binary forms of known values (BCD/TBCD digits, raw MAC bytes).
    forms: Vec<binary::Form>,
    /// One bit per first two bytes of a known value's literal or binary form (every ASCII
    /// case of them): decoded bytes that are not text are searched by the automaton only when
    /// some offset has its bit set (most decoded tokens are random bytes).
    literal_prefix: Box<[u64; 1024]>,
    idents: Vec<Ident>,
    /// Known values in canonical text (hex lower-cased), so that a structural hit on a known
    /// value is left to the known-value match.
    known: HashMap<Box<[u8]>, u32>,
    known_macs: HashMap<[u8; 6], u32>,
    learned: HashMap<[u8; 6], u32>,
    digests: Digests,
    /// The known phone numbers, split, with their identity.
    phones: Vec<(phone::Number, u32)>,
    /// The numbers (indices into `phones`) by their last four NSN digits.
    tails: HashMap<[u8; 4], Vec<u32>>,
    /// The router's country (`network.country`): keyed national mobile numbers.
    country: Option<phone::Country>,
}

/// Whether switch `i` (a kind's or a layer's `as usize`) is on; out of range is off.
fn switch(set: &[bool], i: usize) -> bool {
    set.get(i).copied().unwrap_or(false)
}

/// Literal forms shorter than this are not searched: they would match everywhere. The config
/// refuses shorter identifiers rather than have them silently ignored.
pub const MIN_LITERAL: usize = 6;

/// Bits a literal must pin down to be found with no boundary around it (see [`Shape`]).
const EXACT_BITS: usize = 48;

/// Bits of a value written in `v`'s alphabet: 3.32 per decimal digit, 4 per hex digit, 5.17
/// per letter or digit otherwise (the automaton ignores case: 36 symbols).
fn literal_bits(v: &[u8]) -> usize {
    let per_100 = if v.iter().all(u8::is_ascii_digit) {
        332
    } else if v.iter().all(u8::is_ascii_hexdigit) {
        400
    } else {
        517
    };
    v.len() * per_100 / 100
}

/// The shape of a literal: [`Shape::Any`] when it pins down [`EXACT_BITS`], else `bounded`.
fn shape_for(v: &[u8], bounded: Shape) -> Shape {
    if literal_bits(v) >= EXACT_BITS {
        Shape::Any
    } else {
        bounded
    }
}

impl Detector {
    /// Builds the matchers for `config`: known values in every form they travel in, key names,
    /// switches per kind and layer.
    ///
    /// A config that [`Config::parse`] accepted always builds (it checks with
    /// [`Detector::try_new`]); for one made in code that cannot, the error is logged and the
    /// known values are not searched.
    pub fn new(config: &Config) -> Detector {
        Detector::try_new(config).unwrap_or_else(|(det, e)| {
            log::error!("{e}: known values are not searched");
            *det
        })
    }

    /// [`Detector::new`], or why the known values could not be compiled (with the detector
    /// that results without them).
    #[allow(clippy::result_large_err)]
    pub fn try_new(config: &Config) -> Result<Detector, (Box<Detector>, String)> {
        let d = &config.detect;
        let mut det = Detector {
            kinds: d.kinds,
            layers: d.encodings,
            learn: d.learn_macs,
            max_learned: d.max_learned_macs as usize,
            depth: usize::from(d.decode_depth).min(Encoding::MAX),
            ac: None,
            lits: Literals::default(),
            stale: false,
            last_build: None,
            forms: Vec::new(),
            literal_prefix: Box::new([0; 1024]),
            idents: Vec::new(),
            known: HashMap::new(),
            known_macs: HashMap::new(),
            learned: HashMap::new(),
            digests: Digests::default(),
            phones: Vec::new(),
            tails: HashMap::new(),
            country: config
                .network
                .country
                .as_deref()
                .and_then(phone::Country::from_iso),
        };
        let mut lits = Literals::default();
        for (i, dev) in config.devices.iter().enumerate() {
            let device = u16::try_from(i).ok();
            det.add_device(dev, device, &mut lits);
        }
        if d.structural {
            for &(name, class, distinctive) in KEYS {
                lits.add(name.as_bytes(), Pattern::Key(class, distinctive));
            }
            lits.add(b".3gppnetwork.org", Pattern::Realm3gpp);
        }
        det.lits = lits;
        match det.build_automaton() {
            None => Ok(det),
            Some(e) => Err((Box::new(det), e)),
        }
    }

    /// Builds the automaton and the literal prefix bitmap from the patterns collected; returns
    /// why the automaton could not be built (the previous one, if any, is kept).
    fn build_automaton(&mut self) -> Option<String> {
        let lits = &self.lits;
        let mut error = None;
        if !lits.text.is_empty() {
            match AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::LeftmostLongest)
                .build(&lits.text)
            {
                Ok(ac) => self.ac = Some(ac),
                Err(e) => {
                    error = Some(format!(
                        "the {} known values and key names cannot be compiled into one \
                         automaton ({e})",
                        lits.text.len()
                    ))
                }
            }
        }
        let prefix = &mut self.literal_prefix;
        prefix.fill(0);
        for (text, p) in lits.text.iter().zip(&lits.patterns) {
            if let (Pattern::Literal { .. } | Pattern::Binary { .. }, [a, b, ..]) = (p, &text[..]) {
                let exact = matches!(p, Pattern::Binary { .. });
                for x in [*a, a.to_ascii_lowercase(), a.to_ascii_uppercase()] {
                    for y in [*b, b.to_ascii_lowercase(), b.to_ascii_uppercase()] {
                        if exact && (x != *a || y != *b) {
                            continue;
                        }
                        let i = usize::from(u16::from_be_bytes([x, y]));
                        if let Some(w) = prefix.get_mut(i / 64) {
                            *w |= 1 << (i % 64);
                        }
                    }
                }
            }
        }
        error
    }

    fn hash_layers(&self) -> heapless::Vec<Layer, 3> {
        [Layer::Md5, Layer::Sha1, Layer::Sha256]
            .into_iter()
            .filter(|l| switch(&self.layers, *l as usize))
            .collect()
    }

    fn ident(&mut self, kind: Kind, source: Source, value: &str, device: Option<u16>) -> u32 {
        let mut v = IdText::new();
        let _ = v.push_str(value);
        self.idents.push(Ident {
            kind,
            source,
            value: v,
            device,
        });
        (self.idents.len() - 1) as u32
    }

    fn add_device(
        &mut self,
        dev: &crate::config::Device,
        device: Option<u16>,
        lits: &mut Literals,
    ) {
        let hashes = self.hash_layers();
        // The lists searched as literals, in the table's device-list order (which fixes the
        // identities' order, so a value configured twice is reported as the same kind).
        let literals =
            kinds::DEVICE_LISTS
                .into_iter()
                .filter_map(|kind| match kinds::info(kind).known {
                    Known::Text(TextList {
                        search: Search::Literal { bcd },
                        list,
                        ..
                    }) => Some((kind, list(dev), bcd)),
                    _ => None,
                });
        for (kind, values, bcd) in literals {
            if !self.kinds.contains(kind) {
                continue;
            }
            for v in values.iter().filter(|v| v.len() >= MIN_LITERAL) {
                let id = self.ident(kind, Source::Known, v, device);
                let all_digits = v.bytes().all(|b| b.is_ascii_digit());
                let bounded = if all_digits {
                    Shape::Numeric
                } else {
                    Shape::Text
                };
                let shape = shape_for(v.as_bytes(), bounded);
                lits.add(v.as_bytes(), Pattern::Literal { ident: id, shape });
                self.known_text(v.as_bytes(), id);
                if bcd {
                    self.add_bcd(lits, v.as_bytes(), id);
                }
                // RFC 7254's URN (`urn:gsma:imei:TAC-SNR-spare`): the spare digit is `0` or
                // the check digit, so the literal ends at the second dash.
                if kind == Kind::Imei && v.len() == 15 && all_digits {
                    let dashed = [v.get(..8), Some("-"), v.get(8..14), Some("-")];
                    if let [Some(a), Some(d), Some(b), Some(e)] = dashed {
                        let p = Pattern::Literal {
                            ident: id,
                            shape: Shape::Any,
                        };
                        lits.add([a, d, b, e].concat().as_bytes(), p);
                    }
                }
                // China Telecom's client sends the IMEI without its check digit as "MEID".
                // (Unless the owner configured that MEID: then it is reported as one.)
                // (All ASCII digits: byte 14 is a char boundary.)
                let body = v.get(..14).filter(|_| v.len() == 15 && all_digits);
                if let (Kind::Imei, Some(body)) = (kind, body) {
                    if !dev.meid.iter().any(|m| m == body) {
                        let shape = shape_for(body.as_bytes(), bounded);
                        lits.add(body.as_bytes(), Pattern::Literal { ident: id, shape });
                        self.known_text(body.as_bytes(), id);
                    }
                }
                self.digests.add(v.as_bytes(), id, &hashes);
            }
        }
        for kind in kinds::DEVICE_LISTS {
            if let Known::Text(TextList {
                search: Search::Phone,
                list,
                ..
            }) = kinds::info(kind).known
            {
                if self.kinds.contains(kind) {
                    for v in list(dev).iter() {
                        self.add_phone(v, device, lits);
                    }
                }
            }
        }
        if self.kinds.contains(Kind::Mac) {
            for &mac in dev.mac.iter() {
                let id = self.ident(Kind::Mac, Source::Known, &mac_text(mac), device);
                self.known_macs.entry(mac).or_insert(id);
                self.add_mac_forms(lits, mac, id, false);
            }
        }
    }

    /// Adds the BCD and TBCD forms of a known value's digits (see [`binary`]) as identity
    /// `id`, when the `binary` layer is on. Digit strings too short to pin down
    /// [`binary::MIN_BITS`] in a form get none: add the pad digit a client uses (`0` + an
    /// 11-digit national number for JT/T 808's BCD[6]) to get one.
    fn add_bcd(&mut self, lits: &mut Literals, digits: &[u8], id: u32) {
        if !switch(&self.layers, Layer::Binary as usize) {
            return;
        }
        for form in binary::bcd_forms(digits) {
            self.add_form(lits, form, id);
        }
    }

    /// A MAC's forms: its text in the four ways it is written, its six raw bytes (when it is
    /// distinctive and the `binary` layer is on; `binary_only`: counted only in binary data)
    /// and its digests.
    fn add_mac_forms(&mut self, lits: &mut Literals, mac: [u8; 6], id: u32, binary_only: bool) {
        // Twelve hex digits: 48 bits, found anywhere (see `Shape`), when they look like a real
        // device's.
        let distinctive = mac_is_distinctive(mac);
        let p = Pattern::Literal {
            ident: id,
            shape: if distinctive { Shape::Any } else { Shape::Mac },
        };
        for sep in [Some(b':'), Some(b'-'), None] {
            lits.add(mac_text_with(mac, sep, false).as_bytes(), p);
        }
        let plain = mac_text_with(mac, None, false);
        let mut cisco = Vec::with_capacity(14);
        for (i, group) in plain.as_bytes().chunks(4).enumerate() {
            if i > 0 {
                cisco.push(b'.');
            }
            cisco.extend_from_slice(group);
        }
        lits.add(&cisco, p);
        if switch(&self.layers, Layer::Binary as usize) && distinctive {
            self.add_form_with(lits, binary::mac_form(mac), id, binary_only);
        }
        self.add_mac_digests(mac, id);
    }

    fn add_form(&mut self, lits: &mut Literals, form: binary::Form, id: u32) {
        self.add_form_with(lits, form, id, false);
    }

    fn add_form_with(
        &mut self,
        lits: &mut Literals,
        form: binary::Form,
        id: u32,
        binary_only: bool,
    ) {
        let Ok(index) = u32::try_from(self.forms.len()) else {
            return;
        };
        let p = Pattern::Binary {
            ident: id,
            form: index,
            binary_only,
        };
        if lits.add_exact(&form.bytes, p) {
            self.forms.push(form);
        }
    }

    /// A known phone number: its anchors in the automaton (every written form is verified from
    /// them), its digit forms as known text and digests, and its short forms in base64 and hex
    /// as whole literals.
    fn add_phone(&mut self, v: &str, device: Option<u16>, lits: &mut Literals) {
        let Some(number) = phone::Number::parse(v, self.country) else {
            return;
        };
        if number.nsn.len() < MIN_LITERAL {
            return;
        }
        let id = self.ident(Kind::Phone, Source::Known, v, device);
        let hashes = self.hash_layers();
        for form in number.forms() {
            self.known_text(form.as_bytes(), id);
            self.digests.add(form.as_bytes(), id, &hashes);
            // Runs this short are not decoded by the run pass: match them encoded whole.
            if form.len() < 12 {
                let b64 = decode::b64_encode(form.as_bytes());
                lits.add(
                    b64.as_bytes(),
                    Pattern::Coded {
                        ident: id,
                        layer: Layer::Base64,
                    },
                );
                let url = b64.replace('+', "-").replace('/', "_");
                lits.add(
                    url.as_bytes(),
                    Pattern::Coded {
                        ident: id,
                        layer: Layer::Base64,
                    },
                );
            }
            if form.len() < 8 && !form.starts_with('+') {
                let hex: String = form.bytes().map(|b| format!("{b:02x}")).collect();
                lits.add(
                    hex.as_bytes(),
                    Pattern::Coded {
                        ident: id,
                        layer: Layer::Hex,
                    },
                );
            }
        }
        // Binary (the `binary` layer): the international digits in BCD and in TBCD (how MAP,
        // GTP and SIM files carry an MSISDN, `F`-filled), and JT/T 808's terminal phone number:
        // the national number as BCD[6], left-padded with zeros to 12 digits (the 2019
        // edition's BCD[10] ends in the same six bytes). Only NSNs of 10 digits or more are
        // padded: fewer would leave too few bits that are not the padding.
        if !number.cc.is_empty() {
            self.add_bcd(lits, format!("{}{}", number.cc, number.nsn).as_bytes(), id);
        }
        if (10..=12).contains(&number.nsn.len()) {
            self.add_bcd(lits, format!("{:0>12}", number.nsn).as_bytes(), id);
        }
        let Some(tail) = number.tail() else {
            return;
        };
        self.tails
            .entry(tail)
            .or_default()
            .push(self.phones.len() as u32);
        for anchor in number.anchors() {
            lits.add(anchor.as_bytes(), Pattern::PhoneTail);
        }
        self.phones.push((number, id));
    }

    fn known_text(&mut self, v: &[u8], id: u32) {
        self.known
            .entry(v.to_ascii_lowercase().into_boxed_slice())
            .or_insert(id);
    }

    fn add_mac_digests(&mut self, mac: [u8; 6], id: u32) {
        let hashes = self.hash_layers();
        if hashes.is_empty() {
            return;
        }
        for sep in [Some(b':'), Some(b'-'), None] {
            for upper in [false, true] {
                self.digests
                    .add(mac_text_with(mac, sep, upper).as_bytes(), id, &hashes);
            }
        }
    }

    /// The learned MACs, so that a reload (which builds a new detector) keeps them.
    pub fn learned(&self) -> impl Iterator<Item = [u8; 6]> + '_ {
        self.learned.keys().copied()
    }

    /// Learns a LAN device's MAC, so that it is found (in every textual, raw and hashed form) in
    /// what any device sends. Returns whether it was new. Bounded by `detect.max_learned_macs`.
    ///
    /// Placeholders (zero, broadcast, `02:00:00:00:00:00`, multicast) and configured MACs are
    /// not learned; when the set is full nothing more is learned.
    ///
    /// The MAC's forms join the known values' automaton, which is rebuilt (see BENCHMARKS.md for
    /// what a rebuild costs): once per device a network has, against a second pass over every
    /// window for MAC-shaped text that the patterns make unnecessary. Learn many at once with
    /// [`Detector::learn_macs`] (one rebuild).
    pub fn learn_mac(&mut self, mac: [u8; 6]) -> bool {
        self.learn_macs([mac]) > 0
    }

    /// [`Detector::learn_mac`] on the packet path, at packet time `now` (seconds): the rebuild
    /// happens at most once a second. A LAN host that sends from ever-new source MACs (up to
    /// `detect.max_learned_macs`) would otherwise make the loop rebuild the automaton for each
    /// of them (milliseconds each on x86-64, ten times that on a MIPS router). A MAC learned
    /// within a second of the last rebuild is in the map at once (`learned_macs`, status) and
    /// searched as text from the next rebuild on, which the next LAN packet after that second
    /// makes. Call it for every LAN packet with a source MAC: for a known MAC it costs two
    /// lookups and a flag test.
    pub fn learn_mac_at(&mut self, mac: [u8; 6], now: i64) -> bool {
        let new = !self.learned.contains_key(&mac)
            && !self.known_macs.contains_key(&mac)
            && self.add_learned([mac]) > 0;
        if self.stale && self.last_build != Some(now) {
            self.stale = false;
            self.last_build = Some(now);
            if let Some(e) = self.build_automaton() {
                log::error!("{e}: the MACs learned last are not searched as text");
            }
        }
        new
    }

    /// Counts the automaton as built at packet time `now` (seconds), so that
    /// [`Detector::learn_mac_at`] defers the first rebuild within that second as it defers every
    /// later one. A new detector has no build time, so the first MAC learned on the packet path
    /// rebuilds at once; a caller that starts a detector for a handful of packets at a time (the
    /// pipeline fuzz target, where that one rebuild was most of the time spent) sets it instead.
    pub fn set_built_at(&mut self, now: i64) {
        self.last_build = Some(now);
    }

    /// Learns several MACs (see [`Detector::learn_mac`]) with one rebuild of the automaton;
    /// returns how many were new.
    pub fn learn_macs(&mut self, macs: impl IntoIterator<Item = [u8; 6]>) -> usize {
        let new = self.add_learned(macs);
        if self.stale {
            self.stale = false;
            if let Some(e) = self.build_automaton() {
                log::error!("{e}: the MACs learned last are not searched as text");
            }
        }
        new
    }

    /// Adds new MACs to the map and their forms to the patterns, without rebuilding; sets
    /// `stale` when the automaton needs it.
    fn add_learned(&mut self, macs: impl IntoIterator<Item = [u8; 6]>) -> usize {
        let mut lits = std::mem::take(&mut self.lits);
        let mut new = 0;
        for mac in macs {
            if !self.learn
                || mac_is_placeholder(mac)
                || self.known_macs.contains_key(&mac)
                || self.learned.contains_key(&mac)
                || self.learned.len() >= self.max_learned
            {
                continue;
            }
            let id = self.ident(Kind::Mac, Source::Learned, &mac_text(mac), None);
            self.learned.insert(mac, id);
            if self.kinds.contains(Kind::Mac) {
                lits.learned = true;
                self.add_mac_forms(&mut lits, mac, id, true);
                lits.learned = false;
            }
            new += 1;
        }
        self.lits = lits;
        if new > 0 && self.kinds.contains(Kind::Mac) {
            self.stale = true;
        }
        new
    }

    pub fn learned_macs(&self) -> usize {
        self.learned.len()
    }

    /// The literal patterns of the automaton (known values in all their forms, key names), so
    /// that a benchmark can build a bare aho-corasick over the same patterns. The detector's
    /// own automaton is built with `ascii_case_insensitive(true)` and
    /// `MatchKind::LeftmostLongest`; build the bare one the same way for a fair comparison.
    pub fn literal_patterns(&self) -> Vec<Vec<u8>> {
        self.lits.text.clone()
    }

    /// Scans one window and calls `sink` for every identifier found in it.
    pub fn scan(&self, window: &[u8], scratch: &mut Scratch, sink: &mut dyn FnMut(Hit)) {
        self.scan_window(window, true, scratch, sink);
    }

    /// [`Detector::scan`] for a window that may end inside a value: `complete` is false when
    /// more bytes of the stream follow right after it (a TCP segment cut at the MSS, not the
    /// end of a write). A loosely structured value (a phone number) touching the end of such a
    /// window is not judged on its first digits — a millisecond timestamp cut after 8 digits
    /// looks like one; the carry shows it whole in the next window.
    pub fn scan_window(
        &self,
        window: &[u8],
        complete: bool,
        scratch: &mut Scratch,
        sink: &mut dyn FnMut(Hit),
    ) {
        let Scratch {
            levels,
            inflater,
            seen,
        } = scratch;
        seen.clear();
        let mut cx = scan::Cx {
            sink,
            seen,
            inflater,
            complete,
            decimal_hex: false,
            in_hex_value: false,
        };
        self.scan_buf(
            window,
            Encoding::PLAIN,
            scan::Origin::Window,
            levels,
            &mut cx,
        );
    }
}

impl Detector {
    /// Scans a compressed (gzip, zlib or raw deflate) HTTP body that did not start in the same
    /// window as its request's headers: clients often write the headers and the body in two
    /// segments. The pipeline remembers that the headers declared `Content-Encoding: gzip` and
    /// hands over the body's first window here. Bounded like every layer: what inflates from
    /// this window (up to the decode buffer) is scanned.
    pub fn scan_compressed(&self, body: &[u8], scratch: &mut Scratch, sink: &mut dyn FnMut(Hit)) {
        let Scratch {
            levels,
            inflater,
            seen,
        } = scratch;
        let mut cx = scan::Cx {
            sink,
            seen,
            inflater,
            complete: true,
            decimal_hex: false,
            in_hex_value: false,
        };
        self.inflate_and_scan(body, Encoding::PLAIN, scan::Origin::Window, levels, &mut cx);
    }
}

/// The automaton's patterns being collected, deduplicated (text case-insensitively, binary
/// forms byte for byte; first wins: explicit values before derived forms, values before keys).
///
/// The automaton matches ASCII case-insensitively and reports one pattern per place, so a
/// binary form equal to another pattern but for ASCII case would never be reported; with
/// forms of six bytes or more of distinct values this does not happen by chance.
#[derive(Clone, Default)]
struct Literals {
    text: Vec<Vec<u8>>,
    patterns: Vec<Pattern>,
    index: HashMap<(bool, Vec<u8>), usize>,
    /// Adding a learned MAC's forms: not indexed (they cannot equal another MAC's, and a
    /// thousand learned MACs would keep five thousand keys alive for nothing).
    learned: bool,
}

impl Literals {
    fn add(&mut self, text: &[u8], p: Pattern) {
        self.insert((false, text.to_ascii_lowercase()), text, p);
    }

    /// Adds a pattern that counts only byte for byte (the caller checks); returns whether it
    /// was new.
    fn add_exact(&mut self, bytes: &[u8], p: Pattern) -> bool {
        self.insert((true, bytes.to_vec()), bytes, p)
    }

    fn insert(&mut self, key: (bool, Vec<u8>), text: &[u8], p: Pattern) -> bool {
        if text.is_empty() || self.index.contains_key(&key) {
            return false;
        }
        if !self.learned {
            self.index.insert(key, self.text.len());
        }
        self.text.push(text.to_vec());
        self.patterns.push(p);
        true
    }
}

#[cfg(test)]
mod tests;
