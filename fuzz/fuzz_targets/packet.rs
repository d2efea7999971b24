//! One frame: the first byte picks the link type, the rest is the frame. Decoded link → IP →
//! TCP/UDP, and the application parsers (DNS, TLS SNI, HTTP) run on the segment's payload and,
//! to reach them without valid headers in front, on the raw frame as well.
#![no_main]

use leakguard::packet::link::linktype;
use leakguard::packet::{decode_ip, decode_link, dns, http, tls};
use libfuzzer_sys::fuzz_target;

/// Every link type `decode_link` supports.
const LINKS: [u32; 13] = [
    linktype::ETHERNET,
    linktype::NULL,
    linktype::RAW,
    linktype::LINUX_SLL,
    linktype::LINUX_SLL2,
    linktype::PPP,
    linktype::C_HDLC,
    linktype::IPV4,
    linktype::IPV6,
    linktype::RAW_BSD12,
    linktype::RAW_BSD14,
    linktype::PPP_HDLC,
    linktype::LOOP,
];

fn application(payload: &[u8]) {
    let mut name = heapless::String::<256>::new();
    let _ = dns::query_name(payload, &mut name);
    let _ = dns::answers(payload, &mut |name, addr| {
        std::hint::black_box((name, addr));
    });
    if let Some(sni) = tls::server_name(payload) {
        assert!(sni.len() <= payload.len());
    }
    if let Some(host) = http::host(payload) {
        assert!(host.len() <= payload.len());
    }
    if let Some(at) = http::body_offset(payload) {
        assert!(
            at <= payload.len(),
            "body offset {at} past {}",
            payload.len()
        );
    }
    std::hint::black_box((
        http::is_request(payload),
        http::content_encoding_gzip(payload),
    ));
}

fuzz_target!(|data: &[u8]| {
    let Some((&select, frame)) = data.split_first() else {
        return;
    };
    let link = LINKS[usize::from(select) % LINKS.len()];
    application(frame);
    let Ok(decoded) = decode_link(link, frame) else {
        return;
    };
    let Some(ip) = decoded.ip else {
        return;
    };
    if let Ok(Some(seg)) = decode_ip(ip) {
        application(seg.payload);
    }
});
