//! The packet path allocates nothing: once the pipeline is built and has seen the destinations'
//! names, inspecting new flows (decode → flow table → detector → verdict) makes no heap
//! allocation. Checked with a counting global allocator over real request traffic.
//!
//! A test binary of its own, because the counting allocator is process-wide.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::Path;

use leakguard::config::Config;
use leakguard::finding::Timestamp;
use leakguard::pipeline::{Pipeline, Verdict};
use leakguard::source::CaptureReader;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every call forwards to the system allocator unchanged; the counter is a thread-local
// `Cell` of a `Copy` type, which needs no allocation of its own.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: as for `alloc` and `dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

/// The frames of a capture, with their link type.
fn frames(path: &Path) -> Vec<(u32, Vec<u8>)> {
    let file = std::fs::File::open(path).expect("opening the capture");
    let mut reader = CaptureReader::new(file).expect("a capture");
    let mut out = Vec::new();
    while let Some(rec) = reader.next_record().expect("reading") {
        out.push((rec.link, rec.data.to_vec()));
    }
    out
}

/// Rewrites the TCP/UDP source port of an Ethernet + IPv4 frame from the LAN, so that each pass
/// over the capture makes new flows (checksums are not checked by the pipeline). 977 is odd, so
/// 60 passes never come back to a port used before.
fn shift_source_port(frame: &mut [u8], by: u16) {
    let is_ipv4 = frame.len() > 40 && frame[12..14] == [0x08, 0x00] && frame[14] >> 4 == 4;
    if !is_ipv4 || frame[26] != 192 {
        return;
    }
    let ihl = usize::from(frame[14] & 0x0f) * 4;
    let at = 14 + ihl;
    let port = u16::from_be_bytes([frame[at], frame[at + 1]]);
    // The LAN's resolver answers from port 53: an answer must stay an answer (shifted, it would
    // be a new device's request, and learning a new device is allowed to allocate).
    if port == 53 {
        return;
    }
    frame[at..at + 2].copy_from_slice(&port.wrapping_add(by).to_be_bytes());
}

#[test]
fn inspecting_new_flows_allocates_nothing() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut all = frames(&manifest.join("examples/captures/benign.pcap"));
    // The seed case too: a flow with hits (findings are built only then, and may allocate).
    let leak = frames(&manifest.join("examples/captures/nokia7plus-zzhc.pcap"));

    let mut config = Config::default();
    config.network.leases = None;
    let mut pipeline = Pipeline::new(config);
    let time = Timestamp::default();
    let mut findings = 0u64;

    // Warm-up: names of the destinations are learned (a new name is stored once), the LAN
    // devices' MACs are learned.
    for (link, data) in all.iter().chain(leak.iter()) {
        let _ = pipeline.handle_frame(time, *link, data, &mut |_| findings += 1);
    }
    assert!(findings > 0, "the seed capture gave no finding");

    let mut verdicts = [0u64; 4];
    let before = allocations();
    for pass in 1..=60u16 {
        for (link, data) in all.iter_mut() {
            shift_source_port(data, 977);
            let v = pipeline.handle_frame(time, *link, data, &mut |_| findings += 1);
            if let Ok(v) = v {
                let i = match v {
                    Verdict::Pass => 0,
                    Verdict::Clean => 1,
                    Verdict::Leak | Verdict::LeakOnce => 2,
                    Verdict::Ignore => 3,
                };
                verdicts[i] += 1;
            }
        }
        assert!(pass > 0);
    }
    let made = allocations() - before;
    let stats = pipeline.stats();
    eprintln!(
        "60 passes over benign.pcap: {} packets, {} flows inspected, {} bytes inspected, \
         verdicts pass/clean/leak/ignore {:?}, allocations: {made}",
        stats.packets, stats.flows_inspected, stats.bytes_inspected, verdicts
    );
    assert!(
        stats.bytes_inspected > 50_000,
        "too little was inspected to prove anything"
    );
    assert_eq!(made, 0, "the packet path allocated {made} times");
}
