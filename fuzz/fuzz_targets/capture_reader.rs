//! A capture file (pcap or pcapng) read record by record, each record decoded down to TCP/UDP:
//! what `leakguard scan` does with a file it is given.
#![no_main]

use leakguard::packet::{decode_ip, decode_link};
use leakguard::source::CaptureReader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = CaptureReader::new(data) else {
        return;
    };
    while let Ok(Some(rec)) = reader.next_record() {
        assert!(rec.data.len() <= leakguard::source::pcap::MAX_RECORD);
        let Ok(frame) = decode_link(rec.link, rec.data) else {
            continue;
        };
        if let Some(ip) = frame.ip {
            if let Ok(Some(seg)) = decode_ip(ip) {
                std::hint::black_box(seg);
            }
        }
    }
});
