//! TLS ClientHello: the server name (SNI).

/// The SNI host name of a ClientHello at the start of `payload`, if there is one.
pub fn server_name(payload: &[u8]) -> Option<&[u8]> {
    let _ = payload;
    todo!("packet helper")
}
