//! The detector on an arbitrary window, with a device that has known values (so the literal,
//! digest and learned-MAC paths are live as well as the structural ones).
#![no_main]

use std::sync::OnceLock;

use leakguard::config::{Config, Device};
use leakguard::detect::{Detector, Scratch};
use libfuzzer_sys::fuzz_target;

/// Built once: building is the expensive part and scanning takes `&self`.
fn detector() -> &'static Detector {
    static DETECTOR: OnceLock<Detector> = OnceLock::new();
    DETECTOR.get_or_init(|| Detector::new(&config()))
}

fn config() -> Config {
    let mut cfg = Config::default();
    cfg.network.leases = None;
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
    // A fresh scratch per input keeps a crash reproducible from its input alone.
    let mut scratch = Scratch::new();
    let mut hits = 0usize;
    detector().scan(data, &mut scratch, &mut |hit| {
        hits += 1;
        std::hint::black_box(hit);
    });
    std::hint::black_box(hits);
});
