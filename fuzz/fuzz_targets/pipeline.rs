//! The whole pipeline (flow table, TCP ordering, budget, detector, DNS names, allow rules,
//! verdicts) fed a sequence of frames, under a configuration drawn from the input itself: the
//! crash that started the hardening issue needed an allow rule by host, which a fixed config
//! never has.
//!
//! Input: a header, then records.
//!
//! * Header (missing bytes read as 0): `shape[4]`, then `shape[2] & 7` allow-rule bytes.
//!   - `shape[0]`: bit 0 monitor mode, bit 1 structural off, bit 2 MAC learning off, bits 3–4
//!     decode depth (3, 0, 1, 4), bits 5–7 a device preset (none, one of every kind, …).
//!   - `shape[1]`: bits 0–1 a kinds preset, bits 2–7 kinds switched off in preset 2.
//!   - `shape[2]`: bits 0–2 allow rules, bits 3–4 how many of three LAN MACs the detector has
//!     already learned ([`LEARNED`]), bits 5–7 an encodings preset.
//!   - `shape[3]`: bits 0–1 flow capacity (64, 16, 1024, 16384), 2–3 names (64, 0, 4, 4096),
//!     4–5 learned MACs (16, 0, 2, 1024), bit 6 the budget (4096 or 64 bytes), bit 7 the LAN
//!     prefixes (the default ones or 192.168.1.0/24 and fe80::/10).
//!
//!   An all-zero header is the default configuration with small tables.
//!   - an allow-rule byte: bits 0–3 the destination (host, `*.suffix`, prefix, address),
//!     bits 4–7 its kinds (0: all).
//! * Records: a 2-byte little-endian length then that many bytes (cut at the end of the
//!   input). Bit 15 of the length clear: an Ethernet frame through `handle_frame`; set: an IP
//!   packet through `handle_ip` (the NFQUEUE path). `fuzz/seed_pipeline.py` writes this format.
//!   Record `i` is at packet time `i / 64` seconds.
//!
//! Building a detector (its aho-corasick automaton) is what costs; it depends on the devices,
//! kinds, encodings, a few switches and the MACs already learned only, so each such shape is
//! built once and cloned per input (the clone shares the automaton). The pipeline itself is new
//! for every input, so a crash reproduces from its input alone.
//!
//! Two things kept rebuilding automatons (callgrind: 89 % of the instructions, at ~235 inputs a
//! second): the learned MACs were six header bytes each, so every mutation of them was a new
//! shape to build, and the first LAN MAC learned from an input's frames rebuilt the clone at
//! once. The learned MACs are now a count from a fixed list (their bytes add no coverage: any
//! MAC takes the same code), and each clone counts as built at time 0, so a MAC learned from the
//! frames is rebuilt in only when an input reaches its 64th record (the next second), as the
//! daemon rebuilds at most once a second.
#![no_main]

use std::cell::RefCell;
use std::collections::HashMap;

use leakguard::config::{Allow, Config, Mode, Prefix};
use leakguard::detect::Detector;
use leakguard::finding::Timestamp;
use leakguard::packet::link::linktype;
use leakguard::pipeline::Pipeline;
use libfuzzer_sys::fuzz_target;

/// Device presets, as the owner writes them (so they go through the config's own checks).
const DEVICES: [&str; 8] = [
    "",
    r#"[[device]]
name = "every kind"
mac = ["a4:50:46:12:34:56"]
imei = ["490154203237518", "869876543210291"]
imsi = ["460001234567890"]
iccid = ["89860012345678901234"]
meid = ["A0000012345678"]
phone = ["+8613912345678"]
serial = ["SN12345678"]
"#,
    r#"[[device]]
name = "phone only"
phone = ["+4915112345678", "0015112345678"]
"#,
    r#"[[device]]
name = "mac only"
mac = ["02:11:22:33:44:55", "a4-50-46-00-00-01"]
"#,
    r#"[[device]]
name = "serials"
serial = ["ABCDEF", "r00t-serial-0001"]
meid = ["99000123456789"]
"#,
    r#"[[device]]
name = "a"
imei = ["490154203237518"]
[[device]]
name = "b"
imei = ["356938035643809"]
mac = ["00:1a:2b:3c:4d:5e"]
"#,
    r#"[[device]]
name = "Müller's ☎"
iccid = ["8944500102198304826"]
imsi = ["310150123456789"]
"#,
    r#"[[device]]
name = "every kind"
mac = ["a4:50:46:12:34:56"]
imei = ["490154203237518"]
imsi = ["460001234567890"]
iccid = ["89860012345678901234"]
[[device]]
name = "phone only"
phone = ["+8613912345678"]
"#,
];

/// The LAN MACs a detector may have learned already (`shape[2]` bits 3–4 take the first 0–3):
/// one the device presets leave unknown, one that preset 3 configures (so it is not learned
/// there), and one that no preset names.
const LEARNED: [[u8; 6]; 3] = [
    [0xa4, 0x50, 0x46, 0x12, 0x34, 0x56],
    [0x02, 0x11, 0x22, 0x33, 0x44, 0x55],
    [0x3c, 0x28, 0x6d, 0x01, 0x02, 0x03],
];

/// Allow-rule destinations: host names, suffixes, prefixes, single addresses, catch-alls.
const DSTS: [&str; 16] = [
    "example.com",
    "*.example.com",
    "*.com",
    "zzhc.vnet.cn",
    "*.vnet.cn",
    "a.b.example.com",
    "xn--bcher-kva.example",
    "*.a",
    "203.0.113.0/24",
    "203.0.113.7",
    "0.0.0.0/0",
    "::/0",
    "2001:db8::/32",
    "10.0.0.0/8",
    "192.168.1.1",
    "localhost",
];

const KINDS: [&str; 8] = [
    "imei", "imeisv", "meid", "imsi", "iccid", "mac", "phone", "serial",
];

const ENCODINGS: [&str; 8] = ["url", "hex", "base64", "gzip", "md5", "sha1", "sha256", ""];

fn byte(data: &[u8], i: usize) -> u8 {
    data.get(i).copied().unwrap_or(0)
}

/// The part of the configuration the detector is built from, as TOML.
fn detector_toml(s0: u8, s1: u8, s2: u8, s3: u8) -> String {
    let mut t = String::new();
    t.push_str("[detect]\n");
    t.push_str(&format!("structural = {}\n", s0 & 2 == 0));
    t.push_str(&format!("learn_macs = {}\n", s0 & 4 == 0));
    t.push_str(&format!(
        "decode_depth = {}\n",
        [3, 0, 1, 4][usize::from(s0 >> 3 & 3)]
    ));
    t.push_str(&format!(
        "max_learned_macs = {}\n",
        [16, 0, 2, 1024][usize::from(s3 >> 4 & 3)]
    ));
    t.push_str("[detect.kinds]\n");
    for (i, k) in KINDS.iter().enumerate() {
        let on = match s1 & 3 {
            0 => true,
            1 => matches!(*k, "imei" | "mac"),
            2 => i >= 6 || s1 >> (2 + i) & 1 == 0,
            _ => *k != "mac",
        };
        t.push_str(&format!("{k} = {on}\n"));
    }
    t.push_str("[detect.encodings]\n");
    for (i, e) in ENCODINGS.iter().enumerate().filter(|(_, e)| !e.is_empty()) {
        let on = match s2 >> 5 {
            0 | 1 | 2 => true,
            3 => i >= 4,
            4 => i < 4,
            5 => *e == "base64" || *e == "gzip",
            6 => false,
            _ => i % 2 == 0,
        };
        t.push_str(&format!("{e} = {on}\n"));
    }
    t.push_str(DEVICES[usize::from(s0 >> 5)]);
    t
}

/// An allow rule from its byte, through the config parser like the owner's.
fn rule_toml(b: u8) -> String {
    let mut t = format!("[[allow]]\ndst = \"{}\"\n", DSTS[usize::from(b & 15)]);
    match b >> 4 {
        0 => {}
        k @ 1..=8 => t.push_str(&format!("kinds = [\"{}\"]\n", KINDS[usize::from(k - 1)])),
        k => t.push_str(&format!(
            "kinds = [\"{}\", \"mac\"]\n",
            KINDS[usize::from(k - 9)]
        )),
    }
    t
}

fn parse(text: &str) -> Config {
    Config::parse(text, "fuzz.toml").unwrap_or_else(|e| panic!("a preset must parse: {e}\n{text}"))
}

/// How many detectors the cache keeps before it starts over: the corpus's inputs carry a few
/// hundred headers, each reused by every mutation of its records, and a detector with every
/// kind and encoding holds a few hundred kilobytes of automaton.
const MAX_SHAPES: usize = 1024;

struct Cache {
    /// Config and detector by detector shape (the bits of the header the detector reads).
    shapes: HashMap<[u8; 4], (Config, Detector)>,
    /// Each allow-rule byte parsed once.
    rules: HashMap<u8, Allow>,
    /// The two LAN prefix lists.
    lans: [Vec<Prefix>; 2],
}

thread_local! {
    static CACHE: RefCell<Option<Cache>> = const { RefCell::new(None) };
}

fn pipeline(data: &[u8]) -> (Pipeline, usize) {
    let (s0, s1, s2, s3) = (byte(data, 0), byte(data, 1), byte(data, 2), byte(data, 3));
    let rules = usize::from(s2 & 7);
    let macs = usize::from(s2 >> 3 & 3);
    let header = 4 + rules;
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        let cache = cache.get_or_insert_with(|| Cache {
            shapes: HashMap::new(),
            rules: HashMap::new(),
            lans: [
                parse("").network.lan_prefixes,
                parse("[network]\nlan_prefixes = [\"192.168.1.0/24\", \"fe80::/10\"]\n")
                    .network
                    .lan_prefixes,
            ],
        });
        // Only the bits the detector depends on. The kinds byte's upper bits count only in kinds
        // preset 2.
        let kinds = if s1 & 3 == 2 { s1 } else { s1 & 3 };
        let key = [s0 & 0xfe, kinds, s2 & 0xf8, s3 & 0x30];
        if cache.shapes.len() >= MAX_SHAPES && !cache.shapes.contains_key(&key) {
            cache.shapes.clear();
        }
        let (config, detector) = cache.shapes.entry(key).or_insert_with(|| {
            let config = parse(&detector_toml(s0, s1, s2, s3));
            let mut detector = Detector::new(&config);
            detector.learn_macs(LEARNED.into_iter().take(macs));
            (config, detector)
        });
        let mut config = config.clone();
        let mut detector = detector.clone();
        detector.set_built_at(0);
        config.mode = if s0 & 1 == 1 {
            Mode::Monitor
        } else {
            Mode::Enforce
        };
        config.network.leases = None;
        config.network.lan_prefixes = cache.lans[usize::from(s3 >> 7)].clone();
        config.detect.max_flows = [64, 16, 1024, 16384][usize::from(s3 & 3)];
        config.detect.max_names = [64, 0, 4, 4096][usize::from(s3 >> 2 & 3)];
        config.detect.budget = [4096, 64][usize::from(s3 >> 6 & 1)];
        for i in 0..rules {
            let b = byte(data, 4 + i);
            let rule = cache
                .rules
                .entry(b)
                .or_insert_with(|| parse(&rule_toml(b)).allow.remove(0));
            config.allow.push(rule.clone());
        }
        (Pipeline::with_detector(config, detector), header)
    })
}

fuzz_target!(|data: &[u8]| {
    let (mut pipeline, header) = pipeline(data);
    let mut findings = 0usize;
    let mut rest = data.get(header..).unwrap_or_default();
    let mut index = 0i64;
    while let [lo, hi, tail @ ..] = rest {
        let time = Timestamp {
            sec: index / 64,
            nsec: 0,
        };
        index += 1;
        let word = u16::from_le_bytes([*lo, *hi]);
        let len = usize::from(word & 0x7fff).min(tail.len());
        let (frame, next) = tail.split_at(len);
        rest = next;
        let mut out = |f: &leakguard::finding::Finding| {
            findings += 1;
            std::hint::black_box(f);
        };
        let _ = if word & 0x8000 == 0 {
            pipeline.handle_frame(time, linktype::ETHERNET, frame, &mut out)
        } else {
            pipeline.handle_ip(time, None, frame, &mut out)
        };
    }
    std::hint::black_box((pipeline.stats(), findings));
});
