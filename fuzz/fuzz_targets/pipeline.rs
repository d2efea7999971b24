//! The whole pipeline (flow table, TCP ordering, budget, detector, DNS names) fed a sequence of
//! frames. Input: records of a 2-byte little-endian length then that many bytes (cut at the end
//! of the input). Bit 15 of the length clear: an Ethernet frame through `handle_frame`; set: an
//! IP packet through `handle_ip` (the NFQUEUE path). `fuzz/seed_pipeline.py` turns captures
//! into this format.
#![no_main]

use leakguard::config::{Config, Device};
use leakguard::finding::Timestamp;
use leakguard::packet::link::linktype;
use leakguard::pipeline::Pipeline;
use libfuzzer_sys::fuzz_target;

fn config() -> Config {
    let mut cfg = Config::default();
    cfg.network.leases = None;
    // Small, so that eviction is reachable within one input.
    cfg.detect.max_flows = 64;
    cfg.detect.max_names = 64;
    cfg.detect.max_learned_macs = 16;
    cfg.devices.push(Device {
        name: "fuzz-phone".to_string(),
        mac: vec![[0xa4, 0x50, 0x46, 0x12, 0x34, 0x56]],
        imei: vec!["490154203237518".to_string()],
        imsi: vec!["460001234567890".to_string()],
        ..Device::default()
    });
    cfg
}

fuzz_target!(|data: &[u8]| {
    // A fresh pipeline per input: state carried between inputs would make crashes
    // unreproducible.
    let mut pipeline = Pipeline::new(config());
    let mut findings = 0usize;
    let mut rest = data;
    while let [lo, hi, tail @ ..] = rest {
        let word = u16::from_le_bytes([*lo, *hi]);
        let len = usize::from(word & 0x7fff).min(tail.len());
        let (frame, next) = tail.split_at(len);
        rest = next;
        let mut out = |f: &leakguard::finding::Finding| {
            findings += 1;
            std::hint::black_box(f);
        };
        let _ = if word & 0x8000 == 0 {
            pipeline.handle_frame(Timestamp::default(), linktype::ETHERNET, frame, &mut out)
        } else {
            pipeline.handle_ip(Timestamp::default(), None, frame, &mut out)
        };
    }
    std::hint::black_box((pipeline.stats(), findings));
});
