//! A netlink datagram as the kernel would hand it over: split into messages, each read as an
//! NFQUEUE packet, a conntrack event, an NFLOG packet and an error/ack, with every attribute
//! (and nested attribute, bounded) walked.
#![no_main]

use leakguard::netlink::message::{Attrs, Messages, NlMsg};
use leakguard::netlink::{ConntrackEvent, LogPacket, QueuedPacket};
use libfuzzer_sys::fuzz_target;

/// Walks attributes and their nests down to `depth` levels.
fn walk(attrs: Attrs<'_>, depth: u32) {
    for a in attrs {
        let Ok(a) = a else {
            return;
        };
        std::hint::black_box((a.kind(), a.is_nested(), a.value().len()));
        let _ = (a.u8(), a.be16(), a.be32(), a.array::<6>());
        if depth > 0 {
            walk(a.nested(), depth - 1);
        }
    }
}

fn message(msg: &NlMsg<'_>) {
    assert!(msg.len() >= 16 && msg.len() == msg.as_bytes().len());
    std::hint::black_box((msg.msg_type(), msg.flags(), msg.seq(), msg.pid()));
    std::hint::black_box((msg.subsys(), msg.subsys_msg(), msg.payload().len()));
    if let Ok(g) = msg.nfgen() {
        std::hint::black_box((g.family(), g.version(), g.res_id()));
        walk(g.attrs(), 4);
    }
    if let Ok(p) = QueuedPacket::parse(msg) {
        std::hint::black_box((p.is_truncated(), p.orig_len(), p.is_gso()));
        if let Ok(Some(seg)) = leakguard::packet::decode_ip(p.payload) {
            std::hint::black_box(seg);
        }
    }
    if let Ok(Some(ev)) = ConntrackEvent::parse(msg) {
        std::hint::black_box(ev);
    }
    if let Ok(p) = LogPacket::parse(msg) {
        std::hint::black_box(p);
    }
    let _ = msg.error_code();
    if let Ok(req) = msg.error_request() {
        std::hint::black_box((req.msg_type(), req.payload().len()));
    }
    std::hint::black_box(msg.ext_ack_msg());
}

fuzz_target!(|data: &[u8]| {
    for m in Messages::new(data) {
        match m {
            Ok(msg) => message(&msg),
            Err(e) => {
                std::hint::black_box(e);
            }
        }
    }
    // The same bytes as one message's attributes (what the parsers see after the headers).
    walk(Attrs::new(data), 4);
});
