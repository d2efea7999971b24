//! HTTP/1.x requests: the Host header and where the body starts.

/// Whether `payload` starts with an HTTP/1.x request line (`POST /x HTTP/1.1`).
pub fn is_request(payload: &[u8]) -> bool {
    let _ = payload;
    todo!("packet helper")
}

/// The value of the Host header of a request starting at `payload`, trimmed.
pub fn host(payload: &[u8]) -> Option<&[u8]> {
    let _ = payload;
    todo!("packet helper")
}

/// Offset of the first body byte (after `\r\n\r\n`), if the header ends within `payload`.
pub fn body_offset(payload: &[u8]) -> Option<usize> {
    let _ = payload;
    todo!("packet helper")
}

/// Whether the request headers say `Content-Encoding: gzip` or `deflate`.
pub fn content_encoding_gzip(payload: &[u8]) -> bool {
    let _ = payload;
    todo!("packet helper")
}
