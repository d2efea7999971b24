//! The scanning engine behind [`Detector::scan`]: the automaton pass, the run pass, and the
//! descent into decoded layers. Private: the public face is `Detector::scan`.

use miniz_oxide::inflate::core::DecompressorOxide;

use super::decode::{
    b64_decode, b64_val, hex_decode, inflate, is_gzip, looks_like_text, url_decode,
};
use super::identifiers::{
    self as id, hex_pair, mac_is_placeholder, mac_text, parse_mac, parse_phone,
};
use super::keys::{self, KeyClass};
use super::phone;
use super::{binary, Detector, Pattern, Shape, SEEN};
use crate::finding::{Encoding, Hit, IdText, Kind, Layer, Source};
use crate::packet::http;

/// Per-scan state handed down the layers.
pub struct Cx<'a> {
    pub sink: &'a mut dyn FnMut(Hit),
    pub seen: &'a mut Vec<(Kind, IdText, Encoding)>,
    pub inflater: &'a mut DecompressorOxide,
    /// The window ends where the stream's bytes end for now (see `Detector::scan_window`).
    pub complete: bool,
    /// The bytes being scanned are a run of decimal digits read as hex.
    pub decimal_hex: bool,
    /// A keyed value decoded from hex is being judged (no second decoding).
    pub in_hex_value: bool,
}

/// Where the buffer being scanned came from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The caller's window (may start mid-stream: base64 at its start has unknown alignment).
    Window,
    /// Decoded from a run of the layer above.
    Decoded,
    /// URL-decoded in place (or decoded from such text): most of it is the text above again,
    /// so only values not already seen in this scan are reported.
    Url,
    /// Decoded bytes that are not text (a base64 or hex run holding binary data): only the
    /// exact forms of known and learned values are looked for, and only values not already
    /// seen in this scan are reported (hex text of BCD digits is the digits again).
    Binary,
}

impl Origin {
    /// The origin of a layer decoded from this one.
    fn child(self) -> Origin {
        match self {
            Origin::Url => Origin::Url,
            _ => Origin::Decoded,
        }
    }

    /// Whether a value found here is reported only when not already seen in any encoding.
    fn repeats(self) -> bool {
        matches!(self, Origin::Url | Origin::Binary)
    }
}

/// The shortest run the run pass looks at: the shortest that decodes to a value worth
/// scanning (16 hex digits are 8 bytes, 16 base64 characters 12) and shorter than any digest.
const MIN_RUN: usize = 16;

// Byte classes of the run pass.
const DIG: u8 = 1;
const HEXL: u8 = 2;
const ALPHA: u8 = 4;
const STD: u8 = 8;
const URLSAFE: u8 = 16;

// Evaluated at compile time: an index out of range would be a build error, not a panic.
#[allow(clippy::indexing_slicing)]
const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = match b {
            b'0'..=b'9' => DIG,
            b'a'..=b'f' | b'A'..=b'F' => HEXL,
            b'g'..=b'z' | b'G'..=b'Z' => ALPHA,
            b'+' | b'/' => STD,
            b'-' | b'_' => URLSAFE,
            _ => 0,
        };
        i += 1;
    }
    t
};

/// The run-pass class of a byte (0: not a run byte).
#[inline]
fn class(b: u8) -> u8 {
    // A u8 always indexes a 256-entry table; `get` keeps that visible to the lint.
    CLASS.get(usize::from(b)).copied().unwrap_or(0)
}

/// `buf[a..b]`, or empty where that is out of range. The offsets all come from scanning `buf`
/// itself, so the empty case is a bug caught quietly (nothing reported), not a panic a LAN
/// device can trigger.
#[inline]
fn span(buf: &[u8], a: usize, b: usize) -> &[u8] {
    buf.get(a..b).unwrap_or_default()
}

/// `buf[a..]`, or empty (see [`span`]).
#[inline]
fn tail(buf: &[u8], a: usize) -> &[u8] {
    buf.get(a..).unwrap_or_default()
}

/// The first `n` bytes of a decoder's output buffer (`n` never exceeds it; see [`span`]).
#[inline]
fn head(buf: &[u8], n: usize) -> &[u8] {
    buf.get(..n).unwrap_or_default()
}

/// The maximal stretches `(start, end)` of hex digits in `run`, in order: the glued-value
/// searches (learned MACs, digests) look only inside them.
fn hex_stretches(run: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        let start = i + tail(run, i).iter().position(|&b| is_hex(b))?;
        let end = tail(run, start)
            .iter()
            .position(|&b| !is_hex(b))
            .map_or(run.len(), |k| start + k);
        i = end + 1;
        Some((start, end))
    })
}

/// A keyed value that is hex of ASCII digits (an optional `+` first: `2b`), 14 to 48 hex
/// characters, not followed by more alphanumerics: decoded into `out`, its length returned.
/// Every other character of it is `3`, which a number written in decimal is not by chance.
fn hex_ascii_value(buf: &[u8], v: usize, out: &mut [u8; 24]) -> Option<usize> {
    let token = tail(buf, v);
    let len = token
        .iter()
        .position(|b| !b.is_ascii_alphanumeric())
        .unwrap_or(token.len());
    if !(14..=2 * out.len()).contains(&len) || len % 2 == 1 {
        return None;
    }
    let mut n = 0;
    for (i, pair) in span(token, 0, len).chunks_exact(2).enumerate() {
        let b = hex_pair(pair, 0)?;
        let ok = b.is_ascii_digit() || (i == 0 && b == b'+');
        *out.get_mut(n)? = b;
        n += 1;
        if !ok {
            return None;
        }
    }
    Some(n)
}

fn is_hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

/// Whether `run` has a stretch of `n` (> 0) or more hex digits (see [`hex_stretches`], which
/// finds them once this says there are some).
///
/// The candidate `s..s + n` is read from its end back: the last byte that is not a hex digit
/// rules out every stretch starting at or before it, so in base64 text (a third of its
/// characters are hex digits) each step skips most of `n` bytes.
fn has_hex_stretch(run: &[u8], n: usize) -> bool {
    let mut s = 0;
    while let Some(w) = run.get(s..s + n) {
        match w.iter().rposition(|&b| class(b) & (DIG | HEXL) == 0) {
            Some(k) => s += k + 1,
            None => return true,
        }
    }
    false
}

/// The first maximal run `(start, end)` of [`MIN_RUN`] or more run bytes starting at or after
/// `s`, where `s` is 0 or follows a byte that is not a run byte.
///
/// This is the per-byte cost of the detector beyond the automaton, so it skips: a run of
/// `MIN_RUN` or more bytes starting at or after `s` must cover `s + MIN_RUN - 1`, so only that
/// byte is probed; when it is not a run byte, `MIN_RUN` bytes are skipped at once. (MAC-shaped
/// text needs no run: known and learned MACs are automaton patterns.)
///
/// Text is mostly words, which are run bytes too, so the probe usually lands in one. Its run
/// starts at `a`; to be long enough it must also cover `a + MIN_RUN - 1`, so the bytes after
/// the probe up to there are looked at from that end back: the last non-run byte among them
/// ends every run of interest starting at or before it, and the search goes on after it without
/// reading the word forward (nor handing a short run to `run_end`). Only a run that covers
/// `a + MIN_RUN - 1` is read to its end.
fn next_run(buf: &[u8], mut s: usize) -> Option<(usize, usize)> {
    let n = buf.len();
    let run = |b: u8| class(b) != 0;
    loop {
        let probe = s + MIN_RUN - 1;
        if !run(*buf.get(probe)?) {
            s = probe + 1;
            continue;
        }
        let a = span(buf, s, probe)
            .iter()
            .rposition(|&c| !run(c))
            .map_or(s, |k| s + k + 1);
        // The bytes after the probe that a run from `a` must cover (none when a == s).
        let need = a + MIN_RUN;
        if let Some(k) = span(buf, probe + 1, need.min(n))
            .iter()
            .rposition(|&c| !run(c))
        {
            s = probe + 1 + k + 1;
            continue;
        }
        if need > n {
            return None;
        }
        let e = tail(buf, need)
            .iter()
            .position(|&c| !run(c))
            .map_or(n, |k| need + k);
        return Some((a, e));
    }
}

/// The first two bytes that base64 text at the start of `s` decodes to (three characters).
fn b64_prefix(s: &[u8]) -> Option<[u8; 2]> {
    let v = |i: usize| {
        let x = b64_val(*s.get(i)?);
        (x != 0xff).then_some(u32::from(x))
    };
    let bits = v(0)? << 12 | v(1)? << 6 | v(2)?;
    Some([(bits >> 10) as u8, (bits >> 2) as u8])
}

/// No MAC continues past `s..e` (no alphanumeric, no further separated hex pair).
fn mac_bounds_ok(buf: &[u8], s: usize, e: usize) -> bool {
    let before = match s.checked_sub(1).map(|i| (buf.get(i), i.checked_sub(1))) {
        None | Some((None, _)) => true,
        Some((Some(&p), pp)) => {
            let hex_before = pp.and_then(|i| buf.get(i)).is_some_and(|&b| is_hex(b));
            !(p.is_ascii_alphanumeric() || (matches!(p, b':' | b'-' | b'.') && hex_before))
        }
    };
    let after = match buf.get(e) {
        None => true,
        Some(&n) => {
            !(n.is_ascii_alphanumeric()
                || (matches!(n, b':' | b'-' | b'.') && buf.get(e + 1).is_some_and(|&b| is_hex(b))))
        }
    };
    before && after
}

fn shape_ok(buf: &[u8], s: usize, e: usize, shape: Shape) -> bool {
    match shape {
        Shape::Any => true,
        Shape::Mac => mac_bounds_ok(buf, s, e),
        Shape::Numeric => {
            let digit_at = |i: usize| buf.get(i).is_some_and(u8::is_ascii_digit);
            // A '+' form is bounded by its '+'.
            (s == 0 || buf.get(s) == Some(&b'+') || !digit_at(s - 1)) && !digit_at(e)
        }
        Shape::Text => {
            let an = |i: usize| buf.get(i).is_some_and(u8::is_ascii_alphanumeric);
            (s == 0 || !an(s - 1)) && !an(e)
        }
    }
}

impl Detector {
    fn may_descend(&self, enc: Encoding, levels: &[Vec<u8>]) -> bool {
        enc.len() < self.depth && !levels.is_empty()
    }

    fn layer_on(&self, l: Layer) -> bool {
        super::switch(&self.layers, l as usize)
    }

    #[allow(clippy::too_many_arguments)]
    fn emit(
        &self,
        cx: &mut Cx,
        kind: Kind,
        source: Source,
        encoding: Encoding,
        value: &IdText,
        device: Option<u16>,
        origin: Origin,
    ) {
        if !self.kinds.contains(kind) {
            return;
        }
        let dup = cx
            .seen
            .iter()
            .any(|(k, v, e)| *k == kind && v == value && (*e == encoding || origin.repeats()));
        if dup {
            return;
        }
        if cx.seen.len() < SEEN {
            cx.seen.push((kind, value.clone(), encoding));
        }
        (cx.sink)(Hit {
            kind,
            source,
            encoding,
            value: value.clone(),
            device,
        });
    }

    fn emit_ident(&self, cx: &mut Cx, ident: u32, enc: Encoding, origin: Origin) {
        if let Some(i) = self.idents.get(ident as usize) {
            self.emit(cx, i.kind, i.source, enc, &i.value, i.device, origin);
        }
    }

    /// Scans one buffer (the window or a decoded layer) whose content has encoding `enc`.
    pub(super) fn scan_buf(
        &self,
        buf: &[u8],
        enc: Encoding,
        origin: Origin,
        levels: &mut [Vec<u8>],
        cx: &mut Cx,
    ) {
        self.automaton_pass(buf, enc, origin, true, cx);
        self.runs(buf, enc, origin, levels, cx);
        if self.layer_on(Layer::Url) && self.may_descend(enc, levels) {
            self.url_tokens(buf, enc, levels, cx);
        }
        if origin == Origin::Window && self.layer_on(Layer::Gzip) && self.may_descend(enc, levels) {
            if let Some(body) = http::compressed_body(buf).filter(|b| !b.is_empty()) {
                self.inflate_and_scan(body, enc, origin, levels, cx);
            }
        }
    }

    /// Decoded bytes that are not text: the known values' and learned MACs' literal and binary
    /// forms, nothing structural (no key context in binary data).
    fn scan_bytes(&self, buf: &[u8], enc: Encoding, cx: &mut Cx) {
        let prefix = &self.literal_prefix;
        // Each pair of neighbouring bytes in turn, the previous byte kept in a register (most
        // decoded tokens are random bytes: this loop runs on all of them).
        let mut bytes = buf.iter();
        let mut pair = bytes.next().map_or(0, |&b| u16::from(b));
        let maybe = bytes.any(|&b| {
            pair = pair << 8 | u16::from(b);
            let i = usize::from(pair);
            prefix.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
        });
        if maybe {
            self.automaton_pass(buf, enc, Origin::Binary, false, cx);
        }
    }

    /// The automaton pass: known values and learned MACs in every literal and binary form,
    /// and (with `keys`) the keys whose values are checked for their structure.
    fn automaton_pass(&self, buf: &[u8], enc: Encoding, origin: Origin, keys: bool, cx: &mut Cx) {
        if let Some(ac) = &self.ac {
            // The end of the last digit run verified for phone numbers (several anchors may
            // fall in one run, and anchors of different numbers may overlap there).
            let mut phone_done = usize::MAX;
            // Whether `buf` is binary, worked out once on the first raw-MAC match: text full of
            // a printable learned MAC's bytes must not cost a pass over the buffer per match.
            let mut binary: Option<bool> = None;
            for m in ac.find_iter(buf) {
                match self.lits.patterns.get(m.pattern().as_usize()) {
                    Some(&Pattern::Literal { ident, shape })
                        if shape_ok(buf, m.start(), m.end(), shape) =>
                    {
                        self.emit_ident(cx, ident, enc, origin);
                    }
                    Some(&Pattern::Coded { ident, layer })
                        if shape_ok(buf, m.start(), m.end(), Shape::Text)
                            && self.layer_on(layer) =>
                    {
                        if let Some(e) = enc.with_inner(layer) {
                            self.emit_ident(cx, ident, e, origin);
                        }
                    }
                    Some(&Pattern::Realm3gpp) if keys => {
                        self.realm_3gpp(buf, m.start(), enc, origin, cx);
                    }
                    Some(&Pattern::PhoneTail) => {
                        let end = phone::run_end(buf, m.end());
                        if end != phone_done {
                            phone_done = end;
                            self.phone_at(buf, end, enc, origin, cx);
                        }
                    }
                    // Six printable bytes in text are text: a learned MAC's raw bytes count in
                    // binary data only (checked on the first such match, not per buffer).
                    Some(&Pattern::Binary {
                        ident,
                        form,
                        binary_only,
                    }) if !binary_only
                        || origin == Origin::Binary
                        || *binary.get_or_insert_with(|| binary::is_binary(buf)) =>
                    {
                        self.binary_match(buf, m.start(), m.end(), ident, form, enc, origin, cx);
                    }
                    Some(&Pattern::Key(class, distinctive))
                        if keys && keys::left_ok(buf, m.start(), distinctive) =>
                    {
                        if let Some((v, escaped)) = keys::value_start(buf, m.end()) {
                            let e = match escaped && self.layer_on(Layer::Url) {
                                true => enc.with_inner(Layer::Url).unwrap_or(enc),
                                false => enc,
                            };
                            self.keyed_value(buf, v, class, e, origin, cx);
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// A binary form's bytes matched at `s..e` (ignoring case): report it when the bytes and
    /// the nibbles around them are the value's.
    #[allow(clippy::too_many_arguments)]
    fn binary_match(
        &self,
        buf: &[u8],
        s: usize,
        e: usize,
        ident: u32,
        form: u32,
        enc: Encoding,
        origin: Origin,
        cx: &mut Cx,
    ) {
        let Some(f) = self.forms.get(form as usize) else {
            return;
        };
        if f.matches(buf, s, e) && !(f.bcd && cx.decimal_hex) {
            if let Some(inner) = enc.with_inner(Layer::Binary) {
                self.emit_ident(cx, ident, inner, origin);
            }
        }
    }

    /// Inflates `data` into the next level and scans it as `gzip` inside `enc`.
    pub(super) fn inflate_and_scan(
        &self,
        data: &[u8],
        enc: Encoding,
        origin: Origin,
        levels: &mut [Vec<u8>],
        cx: &mut Cx,
    ) {
        if !self.layer_on(Layer::Gzip) || !self.may_descend(enc, levels) {
            return;
        }
        let (Some(inner), Some((cur, rest))) =
            (enc.with_inner(Layer::Gzip), levels.split_first_mut())
        else {
            return;
        };
        let n = inflate(cx.inflater, data, cur);
        if n > 0 {
            self.scan_buf(head(cur, n), inner, origin.child(), rest, cx);
        }
    }

    /// A digit run holding the last digits of a known number ends at `end`: report each known
    /// number ending in its last four digits that the text before is written as (see
    /// `phone::verify`). A run touching the end of a window that more bytes follow at once is
    /// left to the next window (the carry shows it whole).
    fn phone_at(&self, buf: &[u8], end: usize, enc: Encoding, origin: Origin, cx: &mut Cx) {
        if end == buf.len() && origin == Origin::Window && !cx.complete {
            return;
        }
        let Some(tail) = phone::tail_before(buf, end) else {
            return;
        };
        for &i in self.tails.get(&tail).into_iter().flatten() {
            if let Some((number, ident)) = self.phones.get(i as usize) {
                if phone::verify(buf, end, number).is_some() {
                    self.emit_ident(cx, *ident, enc, origin);
                }
            }
        }
    }

    /// A 3GPP realm ends at `s` (`….mnc<MNC>.mcc<MCC>` then `.3gppnetwork.org`): the identity
    /// before its `@` — an IMS private identity `<IMSI>@ims.…`, EAP-AKA/EAP-SIM/EAP-AKA'
    /// permanent identities `0<IMSI>@wlan.…`, `1<IMSI>@…`, `6<IMSI>@…` (3GPP TS 23.003,
    /// RFC 4187/4186/5448), also inside a SIP URI — is an IMSI when its first digits are the
    /// realm's MCC and MNC (the realm writes the MNC in three digits, zero-padded, for IMSIs of
    /// two-digit MNCs). Stronger evidence than any key; a number under a realm it does not
    /// repeat is not reported.
    fn realm_3gpp(&self, buf: &[u8], s: usize, enc: Encoding, origin: Origin, cx: &mut Cx) {
        let three = |at: usize| -> Option<[u8; 3]> {
            let d = buf.get(at..at + 3)?;
            d.iter()
                .all(u8::is_ascii_digit)
                .then(|| [d.first().copied(), d.get(1).copied(), d.get(2).copied()])
                .and_then(|x| match x {
                    [Some(a), Some(b), Some(c)] => Some([a, b, c]),
                    _ => None,
                })
        };
        let label = |at: usize, name: &[u8]| {
            buf.get(at..at + name.len())
                .is_some_and(|l| l.eq_ignore_ascii_case(name))
        };
        let Some(mcc_at) = s.checked_sub(7) else {
            return;
        };
        let Some(mnc_at) = mcc_at.checked_sub(7) else {
            return;
        };
        if !label(mcc_at, b".mcc") || !label(mnc_at, b".mnc") {
            return;
        }
        let (Some(mcc), Some(mnc)) = (three(mcc_at + 4), three(mnc_at + 4)) else {
            return;
        };
        // Back over the realm's first labels (`ims`, `wlan`, `nai.epc`) to the `@`.
        let before = head(buf, mnc_at);
        let Some(at) = before
            .iter()
            .rev()
            .take(32)
            .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-')))
            .map(|k| mnc_at - k - 1)
        else {
            return;
        };
        if buf.get(at) != Some(&b'@') || at + 1 == mnc_at {
            return;
        }
        let user = head(buf, at);
        let n = user.iter().rev().take_while(|b| b.is_ascii_digit()).count();
        let start = at - n;
        if start > 0 && buf.get(start - 1).is_some_and(u8::is_ascii_alphanumeric) {
            return;
        }
        let digits = span(buf, start, at);
        let imsi = match (n, digits.first()) {
            (15, _) => digits,
            (16, Some(b'0' | b'1' | b'6')) => tail(digits, 1),
            _ => return,
        };
        let mnc_ok = match mnc {
            [b'0', b, c] => imsi.get(3..6) == Some(&mnc[..]) || imsi.get(3..5) == Some(&[b, c][..]),
            _ => imsi.get(3..6) == Some(&mnc[..]),
        };
        if imsi.get(..3) != Some(&mcc[..]) || !mnc_ok || !id::is_imsi(imsi) {
            return;
        }
        if self.known.contains_key(imsi) {
            return;
        }
        let mut value = IdText::new();
        for &d in imsi {
            let _ = value.push(char::from(d));
        }
        self.emit(cx, Kind::Imsi, Source::Pattern, enc, &value, None, origin);
    }

    /// The value after a key: check its structure for the key's class, report it unless it
    /// is a known value or learned MAC (those are reported as such).
    fn keyed_value(
        &self,
        buf: &[u8],
        v: usize,
        class: KeyClass,
        enc: Encoding,
        origin: Origin,
        cx: &mut Cx,
    ) {
        // The value written as hex of its ASCII text (`msisdn=3439…`): judged as that text, one
        // layer deeper.
        if self.layer_on(Layer::Hex) && !cx.in_hex_value {
            let mut text = [0u8; 24];
            if let Some(n) = hex_ascii_value(buf, v, &mut text) {
                if let Some(inner) = enc.with_inner(Layer::Hex) {
                    cx.in_hex_value = true;
                    self.keyed_value(head(&text, n), 0, class, inner, origin, cx);
                    cx.in_hex_value = false;
                    return;
                }
            }
        }
        if matches!(
            class,
            KeyClass::Imei | KeyClass::Imeisv | KeyClass::DeviceId
        ) {
            if let Some((kind, value)) = id::imei_urn(tail(buf, v)) {
                let body = value.get(..14).unwrap_or_default();
                if !self.known.contains_key(body.as_bytes()) {
                    self.emit(cx, kind, Source::Pattern, enc, &value, None, origin);
                }
                return;
            }
        }
        match class {
            KeyClass::Mac => {
                let Some((mac, len)) = parse_mac(tail(buf, v)) else {
                    return;
                };
                if mac_is_placeholder(mac)
                    || !mac_bounds_ok(buf, v, v + len)
                    || self.known_macs.contains_key(&mac)
                    || self.learned.contains_key(&mac)
                {
                    return;
                }
                self.emit(
                    cx,
                    Kind::Mac,
                    Source::Pattern,
                    enc,
                    &mac_text(mac),
                    None,
                    origin,
                );
            }
            KeyClass::Phone => {
                // With the router's country known, a national mobile number of that country
                // (its ranges and exact length are the evidence) counts in any of its national
                // forms, reported in E.164; otherwise the generic grammar decides.
                let national = self
                    .country
                    .and_then(|c| phone::keyed_national(c, tail(buf, v)));
                let (value, len, widened) = match (national, parse_phone(tail(buf, v))) {
                    (Some((value, len)), _) => (value, len, true),
                    (None, Some((value, len))) => (value, len, false),
                    (None, None) => return,
                };
                let cut_short = v + len == buf.len() && origin == Origin::Window && !cx.complete;
                // `{"mobile": 123456789}`: a JSON number under a phone-ish key is a counter or
                // an id far more often than a phone number; numbers with `+`/`00` still count.
                // Widened by the country, only numbers of 9 digits or more: a 7-digit JSON
                // number is a counter whatever the country.
                let digits = span(buf, v, v + len);
                let long = digits.iter().filter(|d| d.is_ascii_digit()).count() >= 9;
                let json_number = !(widened && long) && (widened || !value.starts_with('+')) && {
                    let before = head(buf, v).iter().rposition(|b| *b != b' ');
                    before.is_some_and(|i| i > 0 && buf.get(i - 1..=i) == Some(b"\":"))
                };
                // Unix timestamps in seconds or milliseconds under a phone key (an Egyptian
                // `15…` mobile has a timestamp's shape too: the generic rule stands).
                let timestamp = widened
                    && matches!(digits.len(), 10 | 13)
                    && digits.iter().all(u8::is_ascii_digit)
                    && matches!(digits, [b'1', b'5'..=b'9', ..]);
                if cut_short
                    || json_number
                    || timestamp
                    || buf.get(v + len).is_some_and(u8::is_ascii_alphanumeric)
                    || self.known.contains_key(value.as_bytes())
                    || self
                        .known
                        .contains_key(value.trim_start_matches('+').as_bytes())
                {
                    return;
                }
                self.emit(cx, Kind::Phone, Source::Pattern, enc, &value, None, origin);
            }
            _ => {
                let mut t = span(buf, v, keys::token_end(buf, v));
                // SIM cards pad an odd-length ICCID with an F nibble, which apps often keep.
                if class == KeyClass::Iccid && matches!(t.len(), 20 | 21) {
                    if let Some((b'F' | b'f', digits)) = t.split_last() {
                        t = digits;
                    }
                }
                let kind = match class {
                    KeyClass::Imei | KeyClass::DeviceId if id::is_imei(t) => Kind::Imei,
                    KeyClass::Imeisv if id::is_imeisv(t) => Kind::Imeisv,
                    KeyClass::Imeisv | KeyClass::Meid if id::is_imei(t) => Kind::Imei,
                    KeyClass::Meid if id::is_meid_decimal(t) || id::is_meid_hex(t) => Kind::Meid,
                    KeyClass::Imsi if id::is_imsi(t) => Kind::Imsi,
                    KeyClass::Iccid if id::is_iccid(t) => Kind::Iccid,
                    _ => return,
                };
                let mut lower = [0u8; 32];
                let Some(l) = lower.get_mut(..t.len()) else {
                    return;
                };
                l.copy_from_slice(t);
                l.make_ascii_lowercase();
                if self.known.contains_key(&*l) {
                    return;
                }
                let mut value = IdText::new();
                for b in t {
                    let _ = value.push(char::from(b.to_ascii_uppercase()));
                }
                self.emit(cx, kind, Source::Pattern, enc, &value, None, origin);
            }
        }
    }

    /// URL-decodes each token (between blanks, quotes, angle brackets) holding a `%XX`
    /// escape, and scans it one layer deeper.
    fn url_tokens(&self, buf: &[u8], enc: Encoding, levels: &mut [Vec<u8>], cx: &mut Cx) {
        let (Some(inner), Some((cur, rest))) =
            (enc.with_inner(Layer::Url), levels.split_first_mut())
        else {
            return;
        };
        let delim = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'"' | b'\'' | b'<' | b'>');
        let n = buf.len();
        let mut pos = 0;
        // `memchr` looks a vector at a time: most windows have no `%` at all.
        while let Some(k) = memchr::memchr(b'%', tail(buf, pos)).map(|k| pos + k) {
            let escape = buf.get(k + 1).is_some_and(|&h| is_hex(h))
                && buf.get(k + 2).is_some_and(|&h| is_hex(h));
            if !escape {
                pos = k + 1;
                continue;
            }
            let s = span(buf, pos, k)
                .iter()
                .rposition(delim)
                .map_or(pos, |p| pos + p + 1);
            let e = tail(buf, k).iter().position(delim).map_or(n, |p| k + p);
            let m = url_decode(span(buf, s, e), cur);
            self.scan_buf(head(cur, m), inner, Origin::Url, rest, cx);
            pos = e;
        }
    }

    /// The run pass: finds the runs of hex/base64 characters long enough to matter
    /// ([`next_run`]) and hands them to [`Self::run_end`], going on where that says (after the
    /// lines of a wrapped run).
    fn runs(&self, buf: &[u8], enc: Encoding, origin: Origin, levels: &mut [Vec<u8>], cx: &mut Cx) {
        let mut s = 0;
        while let Some((a, e)) = next_run(buf, s) {
            s = self.run_end(buf, a, e, enc, origin, levels, cx) + 1;
        }
    }

    /// Digests of known values and learned MACs in a run: the whole run when it is one
    /// (returns true: nothing more to decode), else glued anywhere inside it (a digest as one
    /// `/`-separated segment of a User-Agent, after a prefix): every offset of a hex stretch
    /// and of the run (base64) whose first two bytes start a digest is decoded and looked up.
    ///
    /// Every run of 16 bytes or more comes here, and nearly none holds a digest, so each search
    /// is gated on what is cheap to know first: glued hex only in a run with a stretch of 32 hex
    /// digits (a cookie or token of mixed base64 has none), glued base64 only at offsets whose
    /// first two characters hold a digest's first 12 bits ([`Digests::b64_maybe`]: two table
    /// reads, where decoding the offset's first bytes took a dozen steps).
    fn digests_in_run(
        &self,
        run: &[u8],
        or: u8,
        enc: Encoding,
        origin: Origin,
        cx: &mut Cx,
    ) -> bool {
        let len = run.len();
        let all_hex = or & !(DIG | HEXL) == 0;
        let mixed = or & STD != 0 && or & URLSAFE != 0;
        if all_hex && matches!(len, 32 | 40 | 64) {
            if self.digest_hex(run, enc, origin, cx) {
                return true;
            }
        } else if !mixed && matches!(len, 22 | 27 | 43) && self.digest_b64(run, enc, origin, cx) {
            return true;
        }
        // Glued: hex stretches of a digest's length or more.
        let hex_32 = match all_hex {
            // The whole run is the one stretch: a digest's length was looked up above.
            true => len >= 32 && !matches!(len, 32 | 40 | 64),
            false => has_hex_stretch(run, 32),
        };
        for (i, j) in hex_stretches(if hex_32 { run } else { &[] }) {
            if j - i >= 32 && !(i == 0 && j == len && matches!(len, 32 | 40 | 64)) {
                for off in i..=j - 32 {
                    let (Some(a), Some(b)) = (hex_pair(run, off), hex_pair(run, off + 2)) else {
                        continue;
                    };
                    if !self.digests.maybe([a, b]) {
                        continue;
                    }
                    let (Some(c), Some(d)) = (hex_pair(run, off + 4), hex_pair(run, off + 6))
                    else {
                        continue;
                    };
                    if !self.digests.head([a, b, c, d]) {
                        continue;
                    }
                    for dl in [32, 40, 64] {
                        if off + dl <= j
                            && self.digest_hex(span(run, off, off + dl), enc, origin, cx)
                        {
                            break;
                        }
                    }
                }
            }
        }
        // Glued base64 digests (22, 27 or 43 characters) at any offset.
        if or & !(DIG | HEXL) != 0 && len > 22 {
            for off in 0..=len - 22 {
                let (Some(&c0), Some(&c1)) = (run.get(off), run.get(off + 1)) else {
                    continue;
                };
                if !self.digests.b64_maybe(c0, c1) {
                    continue;
                }
                let Some(first) = b64_prefix(tail(run, off)) else {
                    continue;
                };
                if !self.digests.maybe(first) {
                    continue;
                }
                let mut head = [0u8; 6];
                if b64_decode(span(run, off, (off + 8).min(len)), &mut head) < 4
                    || !head
                        .first_chunk::<4>()
                        .is_some_and(|h| self.digests.head(*h))
                {
                    continue;
                }
                for dl in [22, 27, 43] {
                    if off + dl <= len
                        && !(off == 0 && dl == len)
                        && self.digest_b64(span(run, off, off + dl), enc, origin, cx)
                    {
                        break;
                    }
                }
            }
        }
        false
    }

    /// A digest in hex text of exactly its length: reports it, returns whether it was one.
    ///
    /// Most whole runs of 32, 40 or 64 hex digits are request ids and tokens: the first two
    /// bytes are checked against the digests' prefix bitmap before the run is decoded whole and
    /// hashed into the map.
    fn digest_hex(&self, text: &[u8], enc: Encoding, origin: Origin, cx: &mut Cx) -> bool {
        match (hex_pair(text, 0), hex_pair(text, 2)) {
            (Some(a), Some(b)) if self.digests.maybe([a, b]) => {}
            _ => return false,
        }
        let mut raw = [0u8; 32];
        match hex_decode(text, &mut raw) {
            Some(n) if n * 2 == text.len() => {
                self.digest_found(head(&raw, n), None, enc, origin, cx)
            }
            _ => false,
        }
    }

    /// A digest in base64 text of exactly its length (unpadded); behind the 12-bit prefix
    /// bitmap like [`Self::digest_hex`].
    fn digest_b64(&self, text: &[u8], enc: Encoding, origin: Origin, cx: &mut Cx) -> bool {
        let want = match text.len() {
            22 => 16,
            27 => 20,
            43 => 32,
            _ => return false,
        };
        match (text.first(), text.get(1)) {
            (Some(&c0), Some(&c1)) if self.digests.b64_maybe(c0, c1) => {}
            _ => return false,
        }
        let mut raw = [0u8; 33];
        let n = b64_decode(text, &mut raw);
        n == want && self.digest_found(head(&raw, n), Some(Layer::Base64), enc, origin, cx)
    }

    fn digest_found(
        &self,
        raw: &[u8],
        outer: Option<Layer>,
        enc: Encoding,
        origin: Origin,
        cx: &mut Cx,
    ) -> bool {
        let Some((ident, layer)) = self.digests.get(raw) else {
            return false;
        };
        if self.layer_on(layer) && outer.map_or(true, |l| self.layer_on(l)) {
            let e = match outer {
                Some(l) => enc.with_inner(l).and_then(|e| e.with_inner(layer)),
                None => enc.with_inner(layer),
            };
            if let Some(e) = e {
                self.emit_ident(cx, ident, e, origin);
            }
        }
        true
    }

    /// A run `start..end` ended: extend it over line breaks when it is wrapped base64, then
    /// look at it. Returns where the run pass goes on.
    #[allow(clippy::too_many_arguments)]
    fn run_end(
        &self,
        buf: &[u8],
        start: usize,
        mut end: usize,
        enc: Encoding,
        origin: Origin,
        levels: &mut [Vec<u8>],
        cx: &mut Cx,
    ) -> usize {
        let n = buf.len();
        let mut wrapped = false;
        let mut seg_start = start;
        loop {
            // Base64 wrapped at 64/76 columns (MIME, PEM, Android's Base64.DEFAULT)
            // continues on the next line; the first line of a window may be partial.
            let seg = end - seg_start;
            if !(seg == 76 || seg == 64 || (seg_start == 0 && (16..76).contains(&seg))) {
                break;
            }
            let nl = match tail(buf, end) {
                [b'\n', ..] => 1,
                [b'\r', b'\n', ..] => 2,
                _ => 0,
            };
            if nl == 0 || !buf.get(end + nl).is_some_and(|&c| class(c) != 0) {
                break;
            }
            seg_start = end + nl;
            end = seg_start
                + tail(buf, seg_start)
                    .iter()
                    .position(|&c| class(c) == 0)
                    .unwrap_or(n - seg_start);
            wrapped = true;
        }
        if end - start < MIN_RUN {
            return end;
        }
        let or = span(buf, start, end).iter().fold(0u8, |a, &c| a | class(c));
        self.on_run(buf, start, end, or, wrapped, enc, origin, levels, cx);
        end
    }

    #[allow(clippy::too_many_arguments)]
    fn on_run(
        &self,
        buf: &[u8],
        start: usize,
        end: usize,
        or: u8,
        wrapped: bool,
        enc: Encoding,
        origin: Origin,
        levels: &mut [Vec<u8>],
        cx: &mut Cx,
    ) {
        let len = end - start;
        let all_hex = or & !(DIG | HEXL) == 0;
        let run = span(buf, start, end);
        if len < MIN_RUN {
            return;
        }
        let mixed = or & STD != 0 && or & URLSAFE != 0;
        if !self.digests.is_empty() && !wrapped && self.digests_in_run(run, or, enc, origin, cx) {
            return;
        }
        if !self.may_descend(enc, levels) {
            return;
        }
        if all_hex && !wrapped && self.layer_on(Layer::Hex) {
            // A run cut by an edge of the caller's window (the carry and the segment both cut
            // at any byte) may start on the second digit of a pair: try both parities there.
            // (Cut only at the end, the run starts on a pair: drop the odd digit at the end.)
            let at_start = origin == Origin::Window && start == 0;
            let at_end = origin == Origin::Window && end == buf.len();
            let skips: &[usize] = match (at_start, at_end || len % 2 == 0) {
                (true, _) => &[0, 1],
                (false, true) => &[0],
                (false, false) => &[],
            };
            if let (Some(inner), Some((cur, rest))) =
                (enc.with_inner(Layer::Hex), levels.split_first_mut())
            {
                for &skip in skips {
                    let r = tail(run, skip);
                    let r = head(r, r.len() & !1);
                    if r.len() < 16 {
                        continue;
                    }
                    if let Some(k) = hex_decode(r, cur) {
                        let out = head(cur, k);
                        if is_gzip(out) {
                            self.inflate_and_scan(out, inner, origin, rest, cx);
                            return;
                        }
                        if looks_like_text(out) {
                            self.scan_buf(out, inner, origin.child(), rest, cx);
                            return;
                        }
                        // Decimal digits read as hex are their own BCD: the plain text (with
                        // its boundaries) already judged those digits, so BCD forms do not
                        // count in their bytes (TBCD ones do: an `AT+CRSM` EF_ICCID read).
                        cx.decimal_hex = or == DIG;
                        self.scan_bytes(out, inner, cx);
                        cx.decimal_hex = false;
                    }
                }
            }
        }
        if mixed || or & (HEXL | ALPHA) == 0 || !self.layer_on(Layer::Base64) {
            return;
        }
        let Some(inner) = enc.with_inner(Layer::Base64) else {
            return;
        };
        let Some((cur, rest)) = levels.split_first_mut() else {
            return;
        };
        // A run at the start of the caller's window may begin mid-quantum.
        let shifts = if origin == Origin::Window && start == 0 {
            4
        } else {
            1
        };
        for skip in 0..shifts {
            let k = b64_decode(tail(run, skip), cur);
            if k < 12 {
                break;
            }
            let out = head(cur, k);
            if is_gzip(out) {
                self.inflate_and_scan(out, inner, origin, rest, cx);
                return;
            }
            if looks_like_text(out) {
                self.scan_buf(out, inner, origin.child(), rest, cx);
                return;
            }
            self.scan_bytes(out, inner, cx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The maximal runs of `MIN_RUN` or more run bytes, one byte at a time.
    fn runs_naive(buf: &[u8]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < buf.len() {
            if class(buf[i]) == 0 {
                i += 1;
                continue;
            }
            let j = buf[i..]
                .iter()
                .position(|&c| class(c) == 0)
                .map_or(buf.len(), |k| i + k);
            if j - i >= MIN_RUN {
                out.push((i, j));
            }
            i = j;
        }
        out
    }

    fn runs_skipping(buf: &[u8]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut s = 0;
        while let Some((a, e)) = next_run(buf, s) {
            out.push((a, e));
            s = e + 1;
        }
        out
    }

    /// The skipping search finds exactly the runs a byte-by-byte one does: words and runs of
    /// every length around `MIN_RUN`, at every offset, in many mixes (xorshift, seeded).
    #[test]
    fn next_run_finds_every_run() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for case in 0..4000 {
            let mut buf = Vec::new();
            while buf.len() < 200 {
                let r = next();
                // Runs of 1..40 bytes, most near MIN_RUN, between separators of 1..3 bytes.
                let len = match r % 4 {
                    0 => 1 + (r >> 8) as usize % 8,
                    1 => MIN_RUN - 2 + (r >> 8) as usize % 5,
                    _ => 1 + (r >> 8) as usize % 40,
                };
                for k in 0..len {
                    buf.push(b"aZ09+/-_fF"[(k + (r >> 16) as usize) % 10]);
                }
                for _ in 0..1 + (r >> 24) % 3 {
                    buf.push(b" .:=\n\"%,\x80\x00"[(r >> 32) as usize % 10]);
                }
            }
            let start = case % 7;
            let buf = &buf[start..];
            assert_eq!(runs_skipping(buf), runs_naive(buf), "{buf:?}");
        }
        assert_eq!(runs_skipping(b""), vec![]);
        assert_eq!(runs_skipping(&[b'a'; 15]), vec![]);
        assert_eq!(runs_skipping(&[b'a'; 16]), vec![(0, 16)]);
    }

    /// The skipping stretch test answers as counting each byte does.
    #[test]
    fn hex_stretch_of_every_length() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 80) as usize;
            // Mostly hex digits, a non-hex byte now and then.
            let run: Vec<u8> = (0..len)
                .map(|i| match (x >> (i % 60)) % 23 {
                    0 => b'z',
                    1 => b'/',
                    k => b"0123456789abcdefABCDEF"[k as usize % 22],
                })
                .collect();
            for n in [1, 8, 32] {
                let longest = run
                    .split(|&b| !b.is_ascii_hexdigit())
                    .map(<[u8]>::len)
                    .max()
                    .unwrap_or(0);
                assert_eq!(has_hex_stretch(&run, n), longest >= n, "{run:?} {n}");
            }
        }
    }
}
