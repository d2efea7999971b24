//! TLS ClientHello: the server name (SNI).
//!
//! The ClientHello is read from the first TCP payload of a flow. It may continue beyond that
//! payload (post-quantum key shares make it span segments), so fields are read up to whichever
//! ends first, the record or the captured bytes: the SNI extension usually comes early enough.

#![forbid(unsafe_code)]

const CONTENT_HANDSHAKE: u8 = 22;
const HANDSHAKE_CLIENT_HELLO: u8 = 1;
const EXT_SERVER_NAME: u16 = 0;
const NAME_HOST: u8 = 0;

/// A bounds-checked reader over a byte slice: every read past the end is `None`.
struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }

    fn u16(&mut self) -> Option<u16> {
        let s = self.take(2)?;
        Some(u16::from_be_bytes([*s.first()?, *s.get(1)?]))
    }

    /// Skips a vector with a length prefix of `prefix` bytes (1 or 2).
    fn skip_vec(&mut self, prefix: usize) -> Option<()> {
        let n = if prefix == 1 {
            usize::from(self.u8()?)
        } else {
            usize::from(self.u16()?)
        };
        self.take(n).map(|_| ())
    }
}

/// The SNI host name of a ClientHello at the start of `payload`, if there is one.
pub fn server_name(payload: &[u8]) -> Option<&[u8]> {
    let mut c = Cursor { b: payload, at: 0 };
    if c.u8()? != CONTENT_HANDSHAKE || c.u8()? != 3 {
        return None;
    }
    c.take(1)?; // minor version
    let record_len = usize::from(c.u16()?);
    // Read within the record, or within what was captured of it.
    let end = payload.len().min(5 + record_len);
    let mut c = Cursor {
        b: payload.get(..end)?,
        at: 5,
    };
    if c.u8()? != HANDSHAKE_CLIENT_HELLO {
        return None;
    }
    c.take(3)?; // handshake length: the record bound is enough
    c.take(2 + 32)?; // client version, random
    c.skip_vec(1)?; // session id
    c.skip_vec(2)?; // cipher suites
    c.skip_vec(1)?; // compression methods
    let ext_len = usize::from(c.u16()?);
    let ext_end = c.at.saturating_add(ext_len).min(end);
    while c.at + 4 <= ext_end {
        let kind = c.u16()?;
        let len = usize::from(c.u16()?);
        if kind != EXT_SERVER_NAME {
            c.take(len)?;
            continue;
        }
        let ext = c.take(len)?;
        let mut e = Cursor { b: ext, at: 0 };
        let list_end = (2 + usize::from(e.u16()?)).min(ext.len());
        while e.at + 3 <= list_end {
            let name_type = e.u8()?;
            let n = usize::from(e.u16()?);
            let name = e.take(n)?;
            if name_type == NAME_HOST && !name.is_empty() {
                return Some(name);
            }
        }
        return None;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A ClientHello with a session id, two suites, a supported-groups extension before the
    /// SNI and a padding extension after it.
    fn hello(sni: &[u8]) -> Vec<u8> {
        let mut exts = vec![0x00, 0x0a, 0x00, 0x04, 0x00, 0x02, 0x00, 0x1d];
        let mut sn = vec![0x00, 0x00];
        let list_len = 3 + sni.len() as u16;
        sn.extend_from_slice(&(list_len + 2).to_be_bytes());
        sn.extend_from_slice(&list_len.to_be_bytes());
        sn.push(0);
        sn.extend_from_slice(&(sni.len() as u16).to_be_bytes());
        sn.extend_from_slice(sni);
        exts.extend_from_slice(&sn);
        exts.extend_from_slice(&[0x00, 0x15, 0x00, 0x10]);
        exts.extend_from_slice(&[0; 16]);
        let mut body = vec![0x03, 0x03];
        body.extend_from_slice(&[0x5a; 32]);
        body.push(32);
        body.extend_from_slice(&[0x11; 32]);
        body.extend_from_slice(&[0, 4, 0x13, 0x01, 0x13, 0x02, 1, 0]);
        body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
        body.extend_from_slice(&exts);
        let mut hs = vec![1, 0];
        hs.extend_from_slice(&(body.len() as u16).to_be_bytes());
        hs.extend_from_slice(&body);
        let mut rec = vec![22, 3, 1];
        rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
        rec.extend_from_slice(&hs);
        rec
    }

    #[test]
    fn finds_sni() {
        let h = hello(b"zzhc.vnet.cn");
        assert_eq!(server_name(&h), Some(&b"zzhc.vnet.cn"[..]));
    }

    #[test]
    fn record_longer_than_capture() {
        let mut h = hello(b"example.org");
        h[3..5].copy_from_slice(&4000u16.to_be_bytes()); // claims more than is here
        assert_eq!(server_name(&h), Some(&b"example.org"[..]));
        // Cut inside the SNI: nothing.
        let full = hello(b"example.org");
        let at = full.windows(7).position(|w| w == b"example").unwrap();
        assert_eq!(server_name(&full[..at + 4]), None);
        // Cut after the SNI: still found.
        assert_eq!(server_name(&full[..at + 11]), Some(&b"example.org"[..]));
    }

    #[test]
    fn not_a_client_hello() {
        assert_eq!(server_name(b"GET / HTTP/1.1\r\n"), None);
        let mut h = hello(b"a.b");
        h[5] = 2; // ServerHello
        assert_eq!(server_name(&h), None);
        assert_eq!(server_name(&[]), None);
        assert_eq!(server_name(&hello(b"")), None);
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = server_name(&bytes);
        }

        #[test]
        fn never_panics_on_mutations(at in 0usize..200, val in any::<u8>(), cut in 0usize..200) {
            let mut h = hello(b"host.example");
            let n = h.len();
            h[at % n] = val;
            h.truncate(cut);
            let _ = server_name(&h);
        }
    }
}
