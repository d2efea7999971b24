//! Hashed identifiers: analytics SDKs send `md5(imei)` or `sha1(mac)` and call it anonymous.
//!
//! The digest of every known value and learned MAC, in each textual form it is usually hashed
//! in, is computed once (at config load, or when a MAC is learned) and kept in a map from the
//! raw digest to the identity. Scanning then only decodes hex/base64 runs of exactly a
//! digest's length and looks them up: no hashing on the packet path.
//!
//! Nearly every hex or base64 run of a digest's length on the wire is a request id, a token or
//! a cookie, not a digest of a known value. So each lookup sits behind a prefix bitmap of the
//! digests' first bits ([`Digests::maybe`] for the first two bytes, [`Digests::b64_maybe`] for
//! the first two base64 characters): a run whose prefix no digest has is neither decoded whole
//! nor hashed into the map.

use std::collections::HashMap;

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::decode::b64_val;
use crate::finding::Layer;

/// A raw digest, zero-padded to 32 bytes, with its length (16, 20 or 32).
type Key = ([u8; 32], u8);

fn key(raw: &[u8]) -> Option<Key> {
    let mut k = [0u8; 32];
    k.get_mut(..raw.len())?.copy_from_slice(raw);
    Some((k, raw.len() as u8))
}

#[derive(Clone)]
pub struct Digests {
    map: HashMap<Key, (u32, Layer)>,
    /// One bit per first two bytes of a digest: glued runs are decoded at an offset only
    /// where this bit is set.
    prefix: Box<[u64; 1024]>,
    /// One bit per first 12 bits of a digest (what its first two base64 characters hold): the
    /// glued-base64 search tests it at each offset before decoding anything there.
    b64_prefix: [u64; 64],
    /// The first four bytes of every digest: checked before a candidate is decoded whole
    /// (with a few thousand digests, one in twenty offsets passes the two-byte bitmap).
    heads: std::collections::HashSet<[u8; 4]>,
}

impl Default for Digests {
    fn default() -> Self {
        Digests {
            map: HashMap::new(),
            prefix: Box::new([0; 1024]),
            b64_prefix: [0; 64],
            heads: Default::default(),
        }
    }
}

impl Digests {
    /// Adds the digests of `text` (for the layers in `layers`) as identity `ident`. A digest
    /// already present keeps its first identity (a known value beats a learned one).
    pub fn add(&mut self, text: &[u8], ident: u32, layers: &[Layer]) {
        for &layer in layers {
            let k = match layer {
                Layer::Md5 => key(&Md5::digest(text)),
                Layer::Sha1 => key(&Sha1::digest(text)),
                Layer::Sha256 => key(&Sha256::digest(text)),
                _ => None,
            };
            if let Some(k) = k {
                let p = usize::from(u16::from_be_bytes([k.0[0], k.0[1]]));
                if let Some(w) = self.prefix.get_mut(p / 64) {
                    *w |= 1 << (p % 64);
                }
                let p12 = p >> 4;
                if let Some(w) = self.b64_prefix.get_mut(p12 / 64) {
                    *w |= 1 << (p12 % 64);
                }
                self.heads.insert([k.0[0], k.0[1], k.0[2], k.0[3]]);
                self.map.entry(k).or_insert((ident, layer));
            }
        }
    }

    /// The identity and hash layer whose digest is `raw`.
    pub fn get(&self, raw: &[u8]) -> Option<(u32, Layer)> {
        if self.map.is_empty() || !matches!(raw.len(), 16 | 20 | 32) {
            return None;
        }
        self.map.get(&key(raw)?).copied()
    }

    /// Whether some digest starts with these two bytes.
    pub fn maybe(&self, first: [u8; 2]) -> bool {
        let p = usize::from(u16::from_be_bytes(first));
        self.prefix
            .get(p / 64)
            .is_some_and(|w| w & (1 << (p % 64)) != 0)
    }

    /// Whether some digest's base64 text (either alphabet) may start with the characters `c0`,
    /// `c1`: the 12 bits they hold are a digest's first 12. False for a non-alphabet byte.
    pub fn b64_maybe(&self, c0: u8, c1: u8) -> bool {
        let (v0, v1) = (b64_val(c0), b64_val(c1));
        if (v0 | v1) & 0xc0 != 0 {
            return false;
        }
        let p = usize::from(v0) << 6 | usize::from(v1);
        self.b64_prefix
            .get(p / 64)
            .is_some_and(|w| w & (1 << (p % 64)) != 0)
    }

    /// Whether some digest starts with these four bytes.
    pub fn head(&self, first: [u8; 4]) -> bool {
        self.heads.contains(&first)
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_md5_of_text() {
        let mut d = Digests::default();
        d.add(b"490154203237518", 7, &[Layer::Md5, Layer::Sha1]);
        // md5("490154203237518")
        let raw = Md5::digest(b"490154203237518");
        assert_eq!(d.get(&raw), Some((7, Layer::Md5)));
        assert_eq!(d.get(&[0u8; 16]), None);
        assert_eq!(d.get(&Sha256::digest(b"490154203237518")), None);
    }

    /// The prefix bitmaps pass every digest's own prefix, in hex bytes and in base64 text of
    /// either alphabet, and stop most others.
    #[test]
    fn prefixes_pass_every_digest() {
        let mut d = Digests::default();
        let layers = [Layer::Md5, Layer::Sha1, Layer::Sha256];
        let texts: Vec<String> = (0..50).map(|i| format!("35{i:013}")).collect();
        for (i, t) in texts.iter().enumerate() {
            d.add(t.as_bytes(), i as u32, &layers);
        }
        let std = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let url = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for t in &texts {
            let raws = [
                Md5::digest(t.as_bytes()).to_vec(),
                Sha1::digest(t.as_bytes()).to_vec(),
                Sha256::digest(t.as_bytes()).to_vec(),
            ];
            for raw in raws {
                assert!(d.maybe([raw[0], raw[1]]));
                assert!(d.head([raw[0], raw[1], raw[2], raw[3]]));
                let (c0, c1) = (raw[0] >> 2, (raw[0] & 3) << 4 | raw[1] >> 4);
                for alphabet in [std, url] {
                    let (a, b) = (alphabet[usize::from(c0)], alphabet[usize::from(c1)]);
                    assert!(d.b64_maybe(a, b), "{t}");
                }
            }
        }
        // 150 digests set at most 150 of the 4096 12-bit prefixes.
        let set = (0..4096u16)
            .filter(|&p| d.b64_maybe(std[usize::from(p >> 6)], std[usize::from(p & 63)]))
            .count();
        assert!((1..=150).contains(&set), "{set}");
        assert!(!d.b64_maybe(b'=', b'A') && !d.b64_maybe(b'A', b'.'));
    }
}
