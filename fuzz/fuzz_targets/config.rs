//! The config file parser on arbitrary text; a config that parses is also built into a
//! detector (what the daemon does next with it).
#![no_main]

use leakguard::config::Config;
use leakguard::detect::Detector;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Config::parse(text, "fuzz.toml") {
        Ok(cfg) => {
            std::hint::black_box(Detector::new(&cfg));
        }
        Err(e) => {
            std::hint::black_box(e.to_string());
        }
    }
});
