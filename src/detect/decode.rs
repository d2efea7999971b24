//! Decoders for the layers identifiers hide in: URL escapes, ASCII hex, base64 (either
//! alphabet, any alignment, padded or not, line-wrapped), gzip/deflate.
//!
//! Every decoder writes into a caller-provided buffer (a [`super::Scratch`] level) and stops
//! when it is full: no allocation, no panic on any input, partial output kept (a window may
//! end in the middle of an encoded run, and what was decoded so far can still hold a leak).

use miniz_oxide::inflate::core::{decompress, inflate_flags, DecompressorOxide};

pub use super::identifiers::hex_val;

/// `%XX` escapes and `+` (a space in forms). A `%` not followed by two hex digits is kept.
pub fn url_decode(src: &[u8], dst: &mut [u8]) -> usize {
    let (mut i, mut o) = (0, 0);
    for slot in dst.iter_mut() {
        let Some(&b) = src.get(i) else { break };
        let (v, used) = match b {
            b'%' => match (
                src.get(i + 1).copied().and_then(hex_val),
                src.get(i + 2).copied().and_then(hex_val),
            ) {
                (Some(h), Some(l)) => (h << 4 | l, 3),
                _ => (b, 1),
            },
            b'+' => (b' ', 1),
            _ => (b, 1),
        };
        *slot = v;
        o += 1;
        i += used;
    }
    o
}

/// ASCII hex (even length, either case) to bytes; `None` on a non-hex byte.
pub fn hex_decode(src: &[u8], dst: &mut [u8]) -> Option<usize> {
    let mut o = 0;
    // `zip` asks `dst` first: a full buffer stops before the next pair is judged.
    for (slot, pair) in dst.iter_mut().zip(src.chunks_exact(2)) {
        let &[h, l] = pair else { break };
        *slot = hex_val(h)? << 4 | hex_val(l)?;
        o += 1;
    }
    Some(o)
}

/// The 6-bit value of a base64 character of either alphabet (`+/` or `-_`), 0xff otherwise.
// Evaluated at compile time: an index out of range would be a build error, not a panic.
#[allow(clippy::indexing_slicing)]
pub const B64: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 26 {
        t[b'A' as usize + i] = i as u8;
        t[b'a' as usize + i] = 26 + i as u8;
        i += 1;
    }
    let mut d = 0;
    while d < 10 {
        t[b'0' as usize + d] = 52 + d as u8;
        d += 1;
    }
    t[b'+' as usize] = 62;
    t[b'-' as usize] = 62;
    t[b'/' as usize] = 63;
    t[b'_' as usize] = 63;
    t
};

/// The 6-bit value of a base64 character (see [`B64`]), 0xff otherwise.
#[inline]
pub fn b64_val(b: u8) -> u8 {
    // A u8 always indexes a 256-entry table; `get` keeps that visible to the lint.
    B64.get(usize::from(b)).copied().unwrap_or(0xff)
}

/// Bytes to standard base64 without padding (building literals at config time: a value
/// base64-encoded on its own).
pub fn b64_encode(src: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(src.len() * 4 / 3 + 3);
    for chunk in src.chunks(3) {
        let at = |i: usize| chunk.get(i).copied().unwrap_or(0);
        let b = [at(0), at(1), at(2)];
        let v = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..=chunk.len() {
            let c = ALPHABET.get((v >> (18 - 6 * i) & 63) as usize).copied();
            out.push(char::from(c.unwrap_or(b'A')));
        }
    }
    out
}

/// Base64 to bytes. Line breaks are skipped (Android's `Base64.DEFAULT` wraps at 76 columns),
/// decoding stops at `=` or any other non-alphabet byte, and a trailing partial group yields
/// the whole bytes it holds.
///
/// Every base64-looking run of a window is decoded, so whole groups of four alphabet
/// characters go three bytes at a time with one check for a non-alphabet byte among them; the
/// first group that is not (a line break, `=`, the end) and the rest go a character at a time.
/// Both ways give the same bytes: at a group boundary no bits are pending.
pub fn b64_decode(src: &[u8], dst: &mut [u8]) -> usize {
    let mut groups = 0;
    for (q, out) in src.chunks_exact(4).zip(dst.chunks_exact_mut(3)) {
        let (&[a, b, c, d], [x, y, z]) = (q, out) else {
            break;
        };
        let [a, b, c, d] = [a, b, c, d].map(b64_val);
        // Alphabet values are below 64; a non-alphabet byte is 0xff.
        if (a | b | c | d) & 0xc0 != 0 {
            break;
        }
        let v = u32::from(a) << 18 | u32::from(b) << 12 | u32::from(c) << 6 | u32::from(d);
        [*x, *y, *z] = [(v >> 16) as u8, (v >> 8) as u8, v as u8];
        groups += 1;
    }
    let (src, dst) = (
        src.get(4 * groups..).unwrap_or_default(),
        dst.get_mut(3 * groups..).unwrap_or_default(),
    );
    3 * groups + b64_decode_slow(src, dst)
}

/// [`b64_decode`] a character at a time (line breaks, the end of the text, the buffer's end).
fn b64_decode_slow(src: &[u8], dst: &mut [u8]) -> usize {
    let (mut acc, mut bits, mut o) = (0u32, 0u32, 0usize);
    for &b in src {
        let v = b64_val(b);
        if v == 0xff {
            if b == b'\n' || b == b'\r' {
                continue;
            }
            break;
        }
        acc = (acc << 6 | u32::from(v)) & 0xffff;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            let Some(slot) = dst.get_mut(o) else { break };
            *slot = (acc >> bits) as u8;
            o += 1;
        }
    }
    o
}

/// Whether decoded bytes are text worth scanning: almost no control bytes, and any non-ASCII
/// is UTF-8 (JSON with Chinese model names). Random bytes (cookies, tokens, ciphertext) fail.
///
/// Most buffers judged are random bytes (about one in eight a control byte), so the count stops
/// as soon as it passes the limit: more than `len / 32` control bytes (for a token of under 32
/// bytes, the first one).
pub fn looks_like_text(b: &[u8]) -> bool {
    if b.is_empty() {
        return false;
    }
    let limit = b.len() / 32;
    let mut ctrl = 0usize;
    let mut high = false;
    for &c in b {
        if (c < 0x20 && !matches!(c, b'\t' | b'\r' | b'\n')) || c == 0x7f {
            ctrl += 1;
            if ctrl > limit {
                return false;
            }
        }
        high |= c >= 0x80;
    }
    if !high {
        return true;
    }
    match core::str::from_utf8(b) {
        Ok(_) => true,
        // A multi-byte character cut by the end of the run is still text.
        Err(e) => e.error_len().is_none() && b.len() - e.valid_up_to() < 4,
    }
}

/// Whether `b` starts like a gzip member (magic, deflate method).
pub fn is_gzip(b: &[u8]) -> bool {
    b.len() >= 10 && b.starts_with(&[0x1f, 0x8b, 8])
}

/// Whether `b` starts with a zlib header (deflate, 32 KiB window at most, check bits ok).
fn is_zlib(b: &[u8]) -> bool {
    match *b {
        [cmf, flg, ..] => {
            cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(cmf) << 8 | u16::from(flg)) % 31 == 0
        }
        _ => false,
    }
}

/// Offset of the deflate data in a gzip member (after the optional fields).
fn gzip_data_offset(b: &[u8]) -> Option<usize> {
    if !is_gzip(b) {
        return None;
    }
    let flags = *b.get(3)?;
    let mut i = 10usize;
    if flags & 4 != 0 {
        let xlen = usize::from(*b.get(i)?) | usize::from(*b.get(i + 1)?) << 8;
        i += 2 + xlen;
    }
    for bit in [8u8, 16] {
        if flags & bit != 0 {
            i += b.get(i..)?.iter().position(|&c| c == 0)? + 1;
        }
    }
    if flags & 2 != 0 {
        i += 2;
    }
    (i <= b.len()).then_some(i)
}

/// Inflates gzip, zlib or raw deflate data into `dst`, keeping what was inflated when the
/// input is truncated or corrupt further on. Returns the output length (0: not compressed).
pub fn inflate(r: &mut DecompressorOxide, src: &[u8], dst: &mut [u8]) -> usize {
    let (data, flags) = if let Some(off) = gzip_data_offset(src) {
        (src.get(off..).unwrap_or_default(), 0)
    } else if is_zlib(src) {
        (
            src,
            inflate_flags::TINFL_FLAG_PARSE_ZLIB_HEADER | inflate_flags::TINFL_FLAG_IGNORE_ADLER32,
        )
    } else {
        (src, 0)
    };
    r.init();
    let flags = flags
        | inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF
        | inflate_flags::TINFL_FLAG_HAS_MORE_INPUT;
    let (_status, _read, written) = decompress(r, data, dst, 0, flags);
    written.min(dst.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url() {
        let mut out = [0u8; 64];
        let n = url_decode(b"a%3Db+c%2x%", &mut out);
        assert_eq!(&out[..n], b"a=b c%2x%");
    }

    #[test]
    fn hex() {
        let mut out = [0u8; 8];
        assert_eq!(hex_decode(b"41427a", &mut out), Some(3));
        assert_eq!(&out[..3], b"ABz");
        assert_eq!(hex_decode(b"4g", &mut out), None);
    }

    #[test]
    fn base64_both_alphabets_and_wraps() {
        let mut out = [0u8; 64];
        let n = b64_decode(b"aGVsbG8g\nd29y\r\nbGQ=", &mut out);
        assert_eq!(&out[..n], b"hello world");
        let n = b64_decode(b"-_-_", &mut out);
        assert_eq!(&out[..n], &[0xfb, 0xff, 0xbf]);
        let n = b64_decode(b"aGVsbG", &mut out);
        assert_eq!(&out[..n], b"hell");
        assert_eq!(b64_encode(b"hello world"), "aGVsbG8gd29ybGQ");
        assert_eq!(b64_encode(b"13912760845"), "MTM5MTI3NjA4NDU");
        assert_eq!(b64_encode(b""), "");
    }

    /// Groups of four at a time decode as a character at a time does: every mix of alphabet
    /// characters, line breaks, `=` and other bytes, into buffers of every size around a group.
    #[test]
    fn base64_groups_as_characters() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_";
        for _ in 0..5000 {
            let len = (next() % 48) as usize;
            let src: Vec<u8> = (0..len)
                .map(|_| match next() % 40 {
                    0 => b'\n',
                    1 => b'\r',
                    2 => b'=',
                    3 => b'.',
                    r => alphabet[(r as usize * 7 + (next() % 66) as usize) % 66],
                })
                .collect();
            for cap in [0, 1, 2, 3, 4, 5, 6, 7, 12, 13, 64] {
                let (mut fast, mut slow) = ([0u8; 64], [0u8; 64]);
                let n = b64_decode(&src, &mut fast[..cap]);
                let m = b64_decode_slow(&src, &mut slow[..cap]);
                assert_eq!((n, &fast[..n]), (m, &slow[..m]), "{src:?} into {cap}");
            }
        }
    }

    /// The early exit gives the count's answer: more than one control byte in 32 is not text.
    #[test]
    fn text_check_stops_at_the_limit() {
        for len in 1..100 {
            for ctrl in 0..5 {
                let mut b = vec![b'a'; len];
                for k in 0..ctrl.min(len) {
                    b[k * len / ctrl.max(1)] = 0x01;
                }
                let n = b.iter().filter(|&&c| c == 0x01).count();
                assert_eq!(looks_like_text(&b), n * 32 <= len, "{len} {n}");
            }
        }
    }

    #[test]
    fn text_check() {
        assert!(looks_like_text(b"{\"a\":1}\n"));
        assert!(looks_like_text("型号 Nokia".as_bytes()));
        assert!(!looks_like_text(&[
            0x93, 0x01, 0xff, 0x12, 0x00, 0x44, 0x81, 0x02
        ]));
    }

    /// A gzip member around raw deflate data (CRC and size left zero: not checked).
    pub fn gzip(data: &[u8]) -> Vec<u8> {
        let mut v = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
        v.extend(miniz_oxide::deflate::compress_to_vec(data, 6));
        v.extend([0; 8]);
        v
    }

    #[test]
    fn inflate_truncated_gzip_keeps_output() {
        let text: Vec<u8> = (0..400u32)
            .flat_map(|i| format!("imei=490154203237518&i={i}\n").into_bytes())
            .collect();
        let text = &text[..];
        let gz = gzip(text);
        let mut r = DecompressorOxide::new();
        let mut out = [0u8; 16384];
        let n = inflate(&mut r, &gz, &mut out);
        assert_eq!(&out[..n], text);
        let z = miniz_oxide::deflate::compress_to_vec_zlib(text, 6);
        let n = inflate(&mut r, &z, &mut out);
        assert_eq!(&out[..n], text);
        let n = inflate(&mut r, &gz[..gz.len() / 2], &mut out);
        assert!(n > 4 && text.starts_with(&out[..n]), "{n}");
        let n = inflate(&mut r, b"hello world, not compressed", &mut out);
        assert!(n < 8);
    }
}
