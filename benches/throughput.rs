//! Scan throughput of the detector against a bare aho-corasick scan of the same bytes with the
//! same literal patterns, measured side by side in one run.
//!
//! `cargo bench --bench throughput` prints MB/s for both and their ratio (goal: ≥ 0.5). The input
//! is fixed (a seeded generator): HTTP requests with headers, form and JSON bodies, cookies and
//! tokens in base64 and hex, timestamps and order numbers — what a router sees at the start of
//! flows — with a few real identifiers sprinkled in. Two detectors run side by side: one
//! configured device (every literal, binary and digest form of its values), and the same with 32
//! learned MACs; each against a bare automaton over its own patterns. Then it times learning
//! 1024 MACs (each rebuilds the automaton).
//!
//! `LEAKGUARD_BENCH_MB=2` shrinks the input and `LEAKGUARD_BENCH_ONLY=no|32` runs one detector
//! and skips the learning timings (for `valgrind --tool=callgrind`, under which 1024 rebuilds of
//! the automaton take the better part of an hour); the figures in BENCHMARKS.md use the defaults.

use std::hint::black_box;
use std::time::Instant;

use aho_corasick::{AhoCorasick, MatchKind};
use leakguard::config::{Config, Device};
use leakguard::detect::{Detector, Scratch};

const WINDOW: usize = 4096 + 96;

fn main() {
    let mut config = Config::default();
    config.devices.push(Device {
        name: "Nokia 7 Plus".into(),
        mac: vec![[0xa4, 0x50, 0x46, 0x12, 0x34, 0x56]],
        imei: vec!["490154203237518".into()],
        imsi: vec!["460001234567890".into()],
        iccid: vec!["89860012345678901234".into()],
        // Phone numbers of two numbering plans: their anchors (the last four digits in three
        // groupings) sit in digit-heavy traffic, and the router's country widens keyed ones.
        phone: vec!["+8613912760845".into(), "+14155552671".into()],
        ..Device::default()
    });
    config.network.country = Some("CN".into());
    // Two detectors side by side: the configured device alone, and the same with 32 LAN
    // devices learned from their frames (their MACs are then found glued to other text, as raw
    // bytes and hashed).
    let plain = Detector::new(&config);
    let mut learned = Detector::new(&config);
    for i in 0..32u8 {
        learned.learn_mac([0x3c, 0x28, 0x6d, i.wrapping_mul(37), 0x5a ^ i, 0xc1]);
    }
    // `LEAKGUARD_BENCH_MB` shrinks the input (for a profiler run); the figures use the default.
    let size_mb = std::env::var("LEAKGUARD_BENCH_MB")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(64);
    let input = make_input(size_mb << 20);
    let mb = input.len() as f64 / 1e6;
    println!("input: {mb:.1} MB in windows of {WINDOW} bytes");
    let mut ratios = Vec::new();
    let only = std::env::var("LEAKGUARD_BENCH_ONLY").ok();
    for (name, detector) in [("no learned MACs", &plain), ("32 learned MACs", &learned)] {
        if only.as_deref().is_some_and(|o| !name.starts_with(o)) {
            continue;
        }
        let patterns = detector.literal_patterns();
        // Built exactly as the detector builds its own automaton.
        let bare = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .expect("patterns build");
        let mut best_bare = f64::MAX;
        let mut best_detector = f64::MAX;
        let mut hits = 0usize;
        let mut matches = 0usize;
        let mut scratch = Scratch::new();
        for _round in 0..3 {
            let t = Instant::now();
            for w in input.chunks(WINDOW) {
                matches += bare.find_iter(black_box(w)).count();
            }
            best_bare = best_bare.min(t.elapsed().as_secs_f64());

            let t = Instant::now();
            for w in input.chunks(WINDOW) {
                detector.scan(black_box(w), &mut scratch, &mut |_hit| hits += 1);
            }
            best_detector = best_detector.min(t.elapsed().as_secs_f64());
        }
        let bare_mbs = mb / best_bare;
        let det_mbs = mb / best_detector;
        println!("{name}: {} literal patterns", patterns.len());
        println!(
            "  bare aho-corasick: {bare_mbs:8.1} MB/s ({} matches per pass)",
            matches / 3
        );
        println!(
            "  leakguard detector: {det_mbs:8.1} MB/s ({} hits per pass)",
            hits / 3
        );
        println!(
            "  ratio detector/bare: {:.2} (goal >= 0.50)",
            det_mbs / bare_mbs
        );
        ratios.push((name, det_mbs / bare_mbs));
    }
    let line: Vec<String> = ratios.iter().map(|(n, r)| format!("{n} {r:.2}")).collect();
    println!("ratios side by side: {}", line.join(", "));
    if only.is_some() {
        return;
    }

    // What learning costs: each learned MAC rebuilds the automaton. Up to the default bound
    // (`detect.max_learned_macs`, 1024), timed in steps.
    let mut det = Detector::new(&config);
    let t = Instant::now();
    let (mut last, mut from) = (t, 0u32);
    for i in 1..=1024u32 {
        let [_, _, a, b] = i.to_be_bytes();
        det.learn_mac([0x3c, 0x28, 0x6d, a ^ 0x11, b, 0xc1 ^ a]);
        if matches!(i, 32 | 256 | 1024) {
            let now = Instant::now();
            println!(
                "learning: {i} MACs in {:.1} ms in all; MACs {}..={i}: {:.2} ms each",
                (now - t).as_secs_f64() * 1e3,
                from + 1,
                (now - last).as_secs_f64() * 1e3 / f64::from(i - from),
            );
            (last, from) = (now, i);
        }
    }
}

/// A deterministic mix of benign request bytes (xorshift; no rand crate needed).
fn make_input(size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size + 8192);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    const WORDS: &[&str] = &[
        "account",
        "session",
        "version",
        "android",
        "update",
        "config",
        "weather",
        "channel",
        "content",
        "language",
        "region",
        "client",
        "timestamp",
        "status",
        "result",
        "payload",
    ];
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut n = 0u64;
    while out.len() < size {
        n += 1;
        let r = next();
        let host = WORDS[(r % 16) as usize];
        out.extend_from_slice(
            format!(
                "POST /api/v{}/{}?t={} HTTP/1.1\r\nHost: {}.example.com\r\nUser-Agent: okhttp/3.12.1\r\n\
                 Accept-Encoding: gzip\r\nCookie: sid=",
                r % 4,
                WORDS[(r >> 8) as usize % 16],
                1_700_000_000_000u64 + (r >> 20) % 1_000_000_000,
                host
            )
            .as_bytes(),
        );
        for _ in 0..40 {
            out.push(B64[(next() % 64) as usize]);
        }
        out.extend_from_slice(b"\r\nX-Request-Id: ");
        for _ in 0..16 {
            out.extend_from_slice(format!("{:02x}", next() as u8).as_bytes());
        }
        out.extend_from_slice(b"\r\nContent-Type: application/json\r\n\r\n{");
        for i in 0..12 {
            let r = next();
            out.extend_from_slice(
                format!(
                    "\"{}{}\":\"{}\",\"order\":{},",
                    WORDS[(r % 16) as usize],
                    i,
                    WORDS[(r >> 4) as usize % 16],
                    (r >> 8) % 1_000_000_000_000_000
                )
                .as_bytes(),
            );
        }
        if n % 64 == 0 {
            out.extend_from_slice(b"\"imei\":\"490154203237518\",");
        }
        out.extend_from_slice(b"\"end\":true}\r\n");
    }
    out
}
