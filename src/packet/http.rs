//! HTTP/1.x requests: the Host header and where the body starts.
//!
//! These run on every inspection window of a flow, so each is one forward pass over the bytes
//! with no allocation. Only complete header lines (ended by `\n`) are trusted: a line cut off at
//! the end of the window may be a prefix of a longer value.

#![forbid(unsafe_code)]

const METHODS: [&[u8]; 8] = [
    b"GET", b"POST", b"PUT", b"HEAD", b"DELETE", b"OPTIONS", b"PATCH", b"CONNECT",
];

/// Whether `payload` starts with an HTTP/1.x request line (`POST /x HTTP/1.1`).
pub fn is_request(payload: &[u8]) -> bool {
    let Some(rest) = METHODS
        .iter()
        .find_map(|m| payload.strip_prefix(*m).and_then(|r| r.strip_prefix(b" ")))
    else {
        return false;
    };
    // The target starts right after the space ('/', '*', or an absolute/authority form).
    if !rest.first().is_some_and(|b| b.is_ascii_graphic()) {
        return false;
    }
    // When the whole request line is here it must end in the protocol version.
    match rest.iter().position(|&b| b == b'\n') {
        None => true,
        Some(nl) => {
            let line = rest.get(..nl).unwrap_or(&[]);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            line.len() >= 9
                && line
                    .get(line.len() - 9..)
                    .is_some_and(|v| v.starts_with(b" HTTP/1."))
        }
    }
}

/// The complete header lines after the request line, up to the blank line, as
/// (name, trimmed value).
fn headers(payload: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    let mut lines = payload.split_inclusive(|&b| b == b'\n');
    lines.next(); // request line
    lines
        .take_while(|l| l.ends_with(b"\n") && !trim(l).is_empty())
        .filter_map(|line| {
            let colon = line.iter().position(|&b| b == b':')?;
            Some((line.get(..colon)?, trim(line.get(colon + 1..)?)))
        })
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t' | b'\r' | b'\n', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t' | b'\r' | b'\n'] = s {
        s = rest;
    }
    s
}

/// The value of the Host header of a request starting at `payload`, trimmed, without a
/// `:port` suffix (an IPv6 literal keeps its brackets).
pub fn host(payload: &[u8]) -> Option<&[u8]> {
    let (_, value) = headers(payload).find(|(name, _)| name.eq_ignore_ascii_case(b"host"))?;
    let host = if value.starts_with(b"[") {
        let close = value.iter().position(|&b| b == b']')?;
        value.get(..=close)?
    } else {
        match value.iter().rposition(|&b| b == b':') {
            Some(colon) if value.get(colon + 1..)?.iter().all(u8::is_ascii_digit) => {
                value.get(..colon)?
            }
            _ => value,
        }
    };
    (!host.is_empty()).then_some(host)
}

/// Offset of the first body byte (after `\r\n\r\n`, or a bare `\n\n`), if the header ends
/// within `payload`.
pub fn body_offset(payload: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < payload.len() {
        if payload.get(i) == Some(&b'\n') {
            match (payload.get(i + 1), payload.get(i + 2)) {
                (Some(b'\n'), _) => return Some(i + 2),
                (Some(b'\r'), Some(b'\n')) => return Some(i + 3),
                _ => {}
            }
        }
        i += 1;
    }
    None
}

/// The gzip/deflate body of a request starting at `payload`: `Some(body)` when the headers
/// declare `Content-Encoding: gzip` or `deflate` (the body is empty when it has not started in
/// `payload`: clients often write it in a segment of its own), `None` for anything else.
/// The one place both the detector and the pipeline ask.
pub fn compressed_body(payload: &[u8]) -> Option<&[u8]> {
    if !is_request(payload) || !content_encoding_gzip(payload) {
        return None;
    }
    Some(
        body_offset(payload)
            .and_then(|at| payload.get(at..))
            .unwrap_or(&[]),
    )
}

/// Whether the request headers say `Content-Encoding: gzip` (or `x-gzip`, or `deflate`).
pub fn content_encoding_gzip(payload: &[u8]) -> bool {
    headers(payload)
        .filter(|(name, _)| name.eq_ignore_ascii_case(b"content-encoding"))
        .any(|(_, value)| {
            value.split(|&b| b == b',').any(|coding| {
                let coding = trim(coding);
                [&b"gzip"[..], b"x-gzip", b"deflate"]
                    .iter()
                    .any(|c| coding.eq_ignore_ascii_case(c))
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_bodies() {
        let req = b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Encoding: gzip\r\n\r\nBODY";
        assert_eq!(compressed_body(req), Some(&b"BODY"[..]));
        let head = b"POST /x HTTP/1.1\r\nContent-Encoding: deflate\r\n\r\n";
        assert_eq!(compressed_body(head), Some(&b""[..]));
        assert_eq!(
            compressed_body(b"POST /x HTTP/1.1\r\nHost: a\r\n\r\nBODY"),
            None
        );
        assert_eq!(compressed_body(b"\x1f\x8b\x08 not a request"), None);
    }
    use proptest::prelude::*;

    const POST: &[u8] = b"POST /api/v1/reg HTTP/1.1\r\n\
        Content-Type: application/encrypted-json\r\n\
        hOsT:  zzhc.vnet.cn:8080 \r\n\
        Content-Encoding: GZip\r\n\
        Content-Length: 4\r\n\
        \r\n\
        eyJp";

    #[test]
    fn request_lines() {
        assert!(is_request(POST));
        assert!(is_request(b"GET / HTTP/1.0\r\n"));
        assert!(is_request(b"OPTIONS * HTTP/1.1\n"));
        assert!(is_request(b"CONNECT example.org:443 HTTP/1.1\r\n\r\n"));
        assert!(is_request(b"GET /a-very-long-url-cut-by-the-window"));
        assert!(!is_request(b"GET  / HTTP/1.1\r\n"));
        assert!(!is_request(b"GET / SIP/2.0\r\n"));
        assert!(!is_request(b"HTTP/1.1 200 OK\r\n"));
        assert!(!is_request(b"GETX / HTTP/1.1\r\n"));
        assert!(!is_request(b"POST"));
        assert!(!is_request(b""));
    }

    #[test]
    fn host_header() {
        assert_eq!(host(POST), Some(&b"zzhc.vnet.cn"[..]));
        assert_eq!(
            host(b"GET / HTTP/1.1\r\nHost: [2001:db8::1]:80\r\n\r\n"),
            Some(&b"[2001:db8::1]"[..])
        );
        assert_eq!(host(b"GET / HTTP/1.1\nHost: a.b\n\n"), Some(&b"a.b"[..]));
        // Incomplete line: could be a prefix of the real name.
        assert_eq!(host(b"GET / HTTP/1.1\r\nHost: zzhc.vn"), None);
        // After the blank line is the body, not a header.
        assert_eq!(host(b"POST / HTTP/1.1\r\n\r\nHost: x\r\n"), None);
        assert_eq!(host(b"GET / HTTP/1.1\r\nHost: \r\n\r\n"), None);
        assert_eq!(host(b"GET / HTTP/1.1\r\nX-Host: y\r\n\r\n"), None);
    }

    #[test]
    fn body_offsets() {
        assert_eq!(body_offset(POST).map(|o| &POST[o..]), Some(&b"eyJp"[..]));
        assert_eq!(body_offset(b"GET / HTTP/1.1\n\nbody"), Some(16));
        assert_eq!(body_offset(b"GET / HTTP/1.1\r\nHost: a\r\n"), None);
        assert_eq!(body_offset(b"x\r\n\r\n"), Some(5));
    }

    #[test]
    fn gzip_encodings() {
        assert!(content_encoding_gzip(POST));
        assert!(content_encoding_gzip(
            b"POST / HTTP/1.1\r\ncontent-encoding: identity, x-gzip\r\n\r\n"
        ));
        assert!(content_encoding_gzip(
            b"POST / HTTP/1.1\r\nContent-Encoding:deflate\r\n\r\n"
        ));
        assert!(!content_encoding_gzip(
            b"POST / HTTP/1.1\r\nContent-Encoding: br\r\n\r\n"
        ));
        assert!(!content_encoding_gzip(
            b"POST / HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n"
        ));
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = (is_request(&bytes), host(&bytes), content_encoding_gzip(&bytes));
            if let Some(o) = body_offset(&bytes) {
                prop_assert!(o <= bytes.len());
            }
        }

        #[test]
        fn never_panics_on_request_like(tail in "[ -~\r\n:]{0,120}") {
            let p = format!("POST {tail}");
            let _ = (is_request(p.as_bytes()), host(p.as_bytes()), body_offset(p.as_bytes()));
        }
    }
}
