//! The keyed digest that tells two masked values apart without keeping either.
//!
//! `4901********518` may be two different IMEIs; the history must say so without holding a full
//! identifier. It keeps the masked text and the first 8 bytes of HMAC-SHA-256 under a per-router
//! key. A masked IMEI leaves about 10⁷ candidates, so an unkeyed hash would give the value back to
//! anyone with the file in a second; with the key kept apart (its own file, mode 0600), the
//! history file alone reveals nothing beyond the mask.
//!
//! 64 bits: a home router sees at most a few thousand distinct values, so two colliding is a
//! one-in-10¹² event, and the report only uses the digest to count and tell values apart.

use std::fs;
use std::io::{self, Read};
use std::path::Path;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The secret the digests are keyed with: 32 random bytes.
#[derive(Clone)]
pub struct Key([u8; 32]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(…)")
    }
}

impl Key {
    /// A fresh random key (from the kernel's CSPRNG).
    pub fn random() -> io::Result<Key> {
        let mut k = [0u8; 32];
        fs::File::open("/dev/urandom")?.read_exact(&mut k)?;
        Ok(Key(k))
    }

    /// A fixed key, for tests.
    pub fn from_bytes(bytes: [u8; 32]) -> Key {
        Key(bytes)
    }

    /// Reads the key at `path`, or makes one there (mode 0600, written before it is used, so
    /// a digest is never made with a key that was not kept). A file that is not a key (wrong
    /// length) is an error: replacing it would silently make every kept digest meaningless.
    pub fn load_or_create(path: &Path) -> io::Result<Key> {
        match fs::read(path) {
            Ok(bytes) => {
                let k: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("{}: not a 32-byte key", path.display()),
                    )
                })?;
                Ok(Key(k))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let key = Key::random()?;
                super::store::write_atomic(path, &key.0)?;
                Ok(key)
            }
            Err(e) => Err(e),
        }
    }

    /// A device's id in the history (and in the report, LuCI and `leakguard allow`): the digest
    /// of its MAC in canonical text. One place, so that every reader resolves the same id.
    pub fn device_id(&self, mac: &[u8; 6]) -> u64 {
        self.digest("device", &crate::finding::mac_text(mac))
    }

    /// The digest of `value` in the namespace `what` (a kind's name, or `device`): the same
    /// digits as an IMEI and as a phone number are different values.
    pub fn digest(&self, what: &str, value: &str) -> u64 {
        // HMAC accepts keys of any length: `new_from_slice` cannot fail here.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.0) else {
            return 0;
        };
        mac.update(what.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        let out = mac.finalize().into_bytes();
        let mut first = [0u8; 8];
        first.copy_from_slice(&out[..8]);
        u64::from_be_bytes(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_differ_by_key_value_and_namespace() {
        let a = Key::from_bytes([1; 32]);
        let b = Key::from_bytes([2; 32]);
        let v = "490154203237518";
        assert_eq!(a.digest("imei", v), a.digest("imei", v));
        assert_ne!(a.digest("imei", v), b.digest("imei", v));
        assert_ne!(a.digest("imei", v), a.digest("phone", v));
        assert_ne!(a.digest("imei", v), a.digest("imei", "490154203237526"));
    }

    #[test]
    fn key_is_kept_and_reread() {
        let dir = std::env::temp_dir().join(format!("lg-key-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let path = dir.join("history.key");
        let k1 = Key::load_or_create(&path).unwrap();
        let k2 = Key::load_or_create(&path).unwrap();
        assert_eq!(k1.0, k2.0);
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        fs::write(&path, b"short").unwrap();
        assert!(Key::load_or_create(&path).is_err());
        let _ = fs::remove_dir_all(&dir);
    }
}
