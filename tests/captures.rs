//! The capture reader against the shared suricata-verify corpus and Wireshark's tools (moved
//! here from `src/source/pcap.rs`: they need files outside the crate and external programs).
//! Both skip with a message when the corpus or the tools are absent, and fail under `CI` when
//! the corpus is missing.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::PathBuf;

use leakguard::packet::{decode_ip, decode_link};
use leakguard::source::{CaptureError, CaptureReader};

/// Everything a reader yields for one file: (ts_sec, ts_nsec, link, data, orig_len).
type Records = Vec<(i64, u32, u32, Vec<u8>, u32)>;

fn read_all(bytes: &[u8]) -> Result<Records, CaptureError> {
    let mut r = CaptureReader::new(Cursor::new(bytes))?;
    let mut out = Vec::new();
    while let Some(rec) = r.next_record()? {
        out.push((
            rec.ts_sec,
            rec.ts_nsec,
            rec.link,
            rec.data.to_vec(),
            rec.orig_len,
        ));
    }
    Ok(out)
}

/// The shared directory, by the rule in COMMON.md; `None` (test skipped) when absent.
fn shared_dir() -> Option<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        manifest.parent().map(|p| p.join("shared")),
        std::env::var_os("LEAKGUARD_SHARED").map(PathBuf::from),
        Some(PathBuf::from("/work/shared")),
    ];
    let found = candidates.into_iter().flatten().find(|p| p.is_dir());
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "shared corpus missing under CI"
        );
        println!("skipped: no shared directory (set LEAKGUARD_SHARED)");
    }
    found
}

/// Reads every capture of the suricata-verify corpus and decodes every record: nothing may
/// panic; unreadable files and undecodable frames are counted and printed (run with
/// `--nocapture` to see them).
#[test]
fn corpus_reads_and_decodes() {
    let Some(shared) = shared_dir() else { return };
    let dir = shared.join("corpus/suricata-verify");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        assert!(std::env::var_os("CI").is_none(), "corpus missing under CI");
        println!("skipped: {} absent", dir.display());
        return;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    let (mut files, mut records, mut segments) = (0usize, 0usize, 0usize);
    let mut file_errors: BTreeMap<String, usize> = BTreeMap::new();
    let mut links: BTreeMap<u32, usize> = BTreeMap::new();
    let mut link_errors: BTreeMap<(u32, String), usize> = BTreeMap::new();
    let mut ip_errors: BTreeMap<String, usize> = BTreeMap::new();
    let mut not_ip = 0usize;
    // Decoded IP without a TCP/UDP segment, by the IP protocol field (first header).
    let mut no_segment: BTreeMap<(u8, u8), usize> = BTreeMap::new();
    for path in &paths {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !(name.ends_with(".pcap") || name.ends_with(".pcapng") || name.ends_with(".cap")) {
            continue;
        }
        files += 1;
        let Ok(file) = std::fs::File::open(path) else {
            continue;
        };
        let mut reader = match CaptureReader::new(file) {
            Ok(r) => r,
            Err(e) => {
                println!("{name}: {e}");
                *file_errors.entry(kind_of(&e)).or_default() += 1;
                continue;
            }
        };
        let mut n = 0usize;
        loop {
            n += 1;
            match reader.next_record() {
                Ok(None) => break,
                Err(e) => {
                    println!("{name}: {e}");
                    *file_errors.entry(kind_of(&e)).or_default() += 1;
                    break;
                }
                Ok(Some(rec)) => {
                    records += 1;
                    *links.entry(rec.link).or_default() += 1;
                    match decode_link(rec.link, rec.data) {
                        Err(e) => {
                            println!("{name}: record {n}: {e}");
                            *link_errors.entry((rec.link, e.to_string())).or_default() += 1
                        }
                        Ok(frame) => match frame.ip.map(decode_ip) {
                            None => not_ip += 1,
                            Some(Ok(Some(_))) => segments += 1,
                            Some(Ok(None)) => {
                                let ip = frame.ip.unwrap_or(&[]);
                                let version = ip.first().map_or(0, |v| v >> 4);
                                let at = if version == 4 { 9 } else { 6 };
                                let proto = ip.get(at).copied().unwrap_or(0);
                                *no_segment.entry((version, proto)).or_default() += 1;
                            }
                            Some(Err(e)) => {
                                println!("{name}: record {n}: {e}");
                                *ip_errors.entry(e.to_string()).or_default() += 1
                            }
                        },
                    }
                }
            }
        }
    }
    println!("files {files}, records {records}, tcp/udp segments {segments}, non-ip {not_ip}");
    println!("link types (LINKTYPE: records): {links:?}");
    println!("file errors: {file_errors:?}");
    println!("link decode errors ((LINKTYPE, error): count): {link_errors:?}");
    println!("ip decode errors: {ip_errors:?}");
    println!("ip without tcp/udp ((version, protocol): count): {no_segment:?}");
    assert!(files > 0 && records > 0);
}

fn read_path(path: &std::path::Path) -> Result<Records, CaptureError> {
    let bytes = std::fs::read(path).map_err(CaptureError::Io)?;
    read_all(&bytes)
}

fn tool(name: &str) -> bool {
    std::process::Command::new(name)
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// With Wireshark's tools installed: record counts agree with tshark for a sample of the
/// corpus, and the same captures rewritten by editcap as pcapng and as nanosecond pcap read
/// back to the same records (the corpus itself is all microsecond pcap). Files this reader
/// rejects are skipped here (the test above reports them).
#[test]
fn corpus_cross_check_with_wireshark_tools() {
    let Some(shared) = shared_dir() else { return };
    let dir = shared.join("corpus/suricata-verify");
    if !dir.is_dir() || !tool("tshark") || !tool("editcap") {
        println!("skipped: corpus or tshark/editcap absent");
        return;
    }
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
        .collect();
    paths.sort();
    let tmp = std::env::temp_dir().join(format!("leakguard-pcap-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let mut checked = 0;
    // LEAKGUARD_CROSS_CHECK_ALL=1 checks every file (minutes) instead of a sample.
    let step = if std::env::var_os("LEAKGUARD_CROSS_CHECK_ALL").is_some() {
        1
    } else {
        150
    };
    for path in paths.iter().step_by(step) {
        let Ok(classic) = read_path(path) else {
            continue;
        };
        let out = std::process::Command::new("tshark")
            .arg("-r")
            .arg(path)
            .args(["-T", "fields", "-e", "frame.number"])
            .output()
            .unwrap();
        let lines = out.stdout.iter().filter(|&&b| b == b'\n').count();
        assert_eq!(lines, classic.len(), "{}", path.display());
        for format in ["pcapng", "nsecpcap"] {
            let converted = tmp.join(format);
            let status = std::process::Command::new("editcap")
                .args(["-F", format])
                .arg(path)
                .arg(&converted)
                .status()
                .unwrap();
            assert!(status.success());
            let again = read_path(&converted).unwrap();
            assert_eq!(again.len(), classic.len(), "{format} {}", path.display());
            for (a, b) in classic.iter().zip(&again) {
                assert_eq!(a, b, "{format} {}", path.display());
            }
        }
        checked += 1;
    }
    let _ = std::fs::remove_dir_all(&tmp);
    println!("cross-checked {checked} files with tshark and editcap");
    assert!(checked > 0);
}

fn kind_of(e: &CaptureError) -> String {
    match e {
        CaptureError::Io(_) => "io".into(),
        CaptureError::NotACapture { .. } => "not a capture".into(),
        CaptureError::Truncated { .. } => "truncated".into(),
        CaptureError::Corrupt { what, .. } => format!("corrupt {what}"),
    }
}
