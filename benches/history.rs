//! The per-device history's memory and its flash writes (issue 12), as figures.
//!
//! Fills a [`History`] with N devices × M destination rows through the same path the daemon
//! takes (a finding, its one masked view, `History::record`), every device with a leak on each of
//! the 30 kept days, and reports: the heap the history holds (a counting allocator: live bytes
//! after filling minus before), per device and per row; the file `store::save` writes; that
//! file deflated (JFFS2 and UBIFS compress with zlib/lzo: what reaches flash is nearer this);
//! and the bytes written to flash per day at the default save interval under a steady leak rate
//! (every interval has a change, so every interval writes: 86 400 / 1800 = 48 writes a day).
//!
//! Two row shapes: `typical` (one name, one address, one value per row: what a device talking to
//! its vendor looks like) and `full` (every per-row cap reached: 4 names, 4 addresses, 4 values).
//!
//! Run: `cargo bench --bench history` (prints a table; no timing involved).

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicUsize, Ordering};

use leakguard::decision::Action;
use leakguard::finding::{Encoding, Finding, Hit, IdText, Kind, Source, Timestamp};
use leakguard::history::{store, History, Key, Limits};
use leakguard::packet::Proto;
use leakguard::render::Render;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; only sizes are counted
// (the same counting allocator as tests/no_alloc.rs).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        System.realloc(ptr, layout, new)
    }
}

#[global_allocator]
static A: Counting = Counting;

const T0: i64 = 1_796_000_000;
const DAY: i64 = 86_400;
const SAVE_INTERVAL: i64 = 1800;

fn finding(t: i64, dev: u32, row: u32, k: u32) -> Finding {
    let mut value = IdText::new();
    let _ = value.push_str(&format!("49015420{:03}{:03}{k}", dev % 1000, row % 1000));
    Finding {
        time: Timestamp { sec: t, nsec: 0 },
        hit: Hit {
            kind: Kind::Imei,
            source: Source::Pattern,
            encoding: Encoding::PLAIN,
            value,
            device: None,
        },
        proto: Proto::Tcp,
        src: IpAddr::V4(Ipv4Addr::new(
            192,
            168,
            (dev / 250) as u8,
            (dev % 250 + 2) as u8,
        )),
        sport: 40_000,
        dst: IpAddr::V4(Ipv4Addr::new(
            203,
            (row / 250) as u8,
            (row % 250) as u8,
            k as u8 + 1,
        )),
        dport: 443,
        device_mac: Some([0x02, 0x4c, 0x47, (dev >> 8) as u8, dev as u8, 0x11]),
        device_name: Some(format!("device-{dev}")),
        host: Some(format!("api{k}.vendor{row}.com")),
    }
}

/// Live heap bytes of a history of `devices` × `rows`, with `per_row` names/addresses/values,
/// and the history (for the file figures).
fn fill(devices: u32, rows: u32, per_row: u32) -> (usize, History) {
    let render = Render::default();
    let limits = Limits {
        max_devices: devices,
        max_destinations: rows,
        keep_days: 30,
    };
    let before = LIVE.load(Ordering::Relaxed);
    let mut h = History::new(limits, Key::from_bytes([3; 32]));
    for d in 0..devices {
        for r in 0..rows {
            for k in 0..per_row {
                // Spread over the 30 kept days: every device has 30 day counts.
                let t = T0 + i64::from((r * per_row + k) % 30) * DAY + i64::from(d);
                let f = finding(t, d, r, k);
                let view = render.view(&f, Action::Blocked, None);
                h.record(&f, &view);
            }
        }
        for day in 0..30 {
            let f = finding(T0 + day * DAY + 7, d, 0, 0);
            let view = render.view(&f, Action::Blocked, None);
            h.record(&f, &view);
        }
    }
    let after = LIVE.load(Ordering::Relaxed);
    (after.saturating_sub(before), h)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    println!(
        "{:<8} {:>4} {:>4} {:>10} {:>9} {:>8} {:>10} {:>10} {:>13} {:>13}",
        "rows",
        "dev",
        "dst",
        "heap B",
        "B/device",
        "B/row",
        "file B",
        "deflated",
        "flash/day raw",
        "flash/day zip"
    );
    for (shape, per_row) in [("typical", 1u32), ("full", 4u32)] {
        for (devices, rows) in [(1u32, 1u32), (5, 10), (16, 32), (64, 64)] {
            let (heap, h) = fill(devices, rows, per_row);
            let cells = u64::from(devices) * u64::from(rows);
            // The empty history's own size is negligible (one Vec header); per device: the heap
            // divided by devices; per row: by devices × rows (the device's own part included).
            let text = store::encode(h.data());
            let deflated = miniz_oxide::deflate::compress_to_vec_zlib(text.as_bytes(), 6);
            let saves = DAY / SAVE_INTERVAL;
            println!(
                "{:<8} {:>4} {:>4} {:>10} {:>9} {:>8} {:>10} {:>10} {:>13} {:>13}",
                shape,
                devices,
                rows,
                heap,
                heap / devices as usize,
                heap as u64 / cells,
                text.len(),
                deflated.len(),
                text.len() as i64 * saves,
                deflated.len() as i64 * saves,
            );
        }
    }
    println!(
        "(flash/day: 48 saves a day at history.save_interval = 1800 s, every interval changed)"
    );
}
