//! The dresses identifiers travel in, written out independently of the detector (so a test does
//! not check the decoder against itself): base64 in its flavours, hex, percent-encoding, gzip,
//! digests, and the Luhn check digit.

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};

const STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn base64_with(data: &[u8], alphabet: &[u8; 64], pad: bool) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..4 {
            if i < chars {
                out.push(char::from(alphabet[((n >> (18 - 6 * i)) & 63) as usize]));
            } else if pad {
                out.push('=');
            }
        }
    }
    out
}

/// RFC 4648 base64, padded, on one line.
pub fn base64(data: &[u8]) -> String {
    base64_with(data, STD, true)
}

/// RFC 4648 §5 base64url without padding (JWTs, many SDKs).
pub fn base64url_nopad(data: &[u8]) -> String {
    base64_with(data, URL, false)
}

/// Android's `Base64.encode(data, Base64.DEFAULT)`: padded, a `\n` after every 76 characters
/// and one at the end. The zzhc client posts exactly this.
pub fn base64_android_default(data: &[u8]) -> String {
    let one_line = base64(data);
    let mut out = String::with_capacity(one_line.len() + one_line.len() / 76 + 1);
    for (i, c) in one_line.chars().enumerate() {
        if i > 0 && i % 76 == 0 {
            out.push('\n');
        }
        out.push(c);
    }
    if !one_line.is_empty() {
        out.push('\n');
    }
    out
}

pub fn hex_lower(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn hex_upper(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02X}")).collect()
}

/// Percent-encodes every byte but RFC 3986's unreserved characters (what `encodeURIComponent`
/// and most form encoders do to `:`, `+`, `/`, `=`).
pub fn url_component(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-encodes every byte, digits included (`%34%39…`): legal, and seen from clients that
/// try to hide a value from naive filters.
pub fn url_all(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

pub fn md5_hex(data: &[u8]) -> String {
    hex_lower(&Md5::digest(data))
}

pub fn sha1_hex(data: &[u8]) -> String {
    hex_lower(&Sha1::digest(data))
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex_lower(&Sha256::digest(data))
}

/// CRC-32 (IEEE, reflected), as gzip's trailer needs.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A gzip member (RFC 1952): fixed header, deflate data, CRC-32 and length.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]; // deflate, no flags, mtime 0, Unix
    out.extend_from_slice(&miniz_oxide::deflate::compress_to_vec(data, 6));
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(u32::try_from(data.len()).unwrap()).to_le_bytes());
    out
}

/// The Luhn check digit for `body` (IMEI, ICCID, card numbers).
pub fn luhn_digit(body: &str) -> char {
    let mut sum = 0u32;
    for (i, c) in body.bytes().rev().enumerate() {
        let mut d = u32::from(c - b'0');
        if i % 2 == 0 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    char::from(b'0' + u8::try_from((10 - sum % 10) % 10).unwrap())
}

pub fn luhn_valid(number: &str) -> bool {
    match number.len().checked_sub(1) {
        Some(n) if n > 0 => number[n..].starts_with(luhn_digit(&number[..n])),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE=");
        assert_eq!(base64url_nopad(&[0xfb, 0xff]), "-_8");
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(url_component("a4:50"), "a4%3A50");
        assert!(luhn_valid("490154203237518"));
        assert!(!luhn_valid("490154203237519"));
        assert!(luhn_valid("4111111111111111"));
        let wrapped = base64_android_default(&[0u8; 60]);
        assert_eq!(wrapped.lines().next().map(str::len), Some(76));
        assert!(wrapped.ends_with('\n'));
    }

    #[test]
    fn gzip_round_trips() {
        let z = gzip(b"hello hello hello");
        let body = &z[10..z.len() - 8];
        assert_eq!(
            miniz_oxide::inflate::decompress_to_vec(body).unwrap(),
            b"hello hello hello"
        );
    }
}
