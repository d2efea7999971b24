//! The history file: written whole and atomically, checked whole when read back.
//!
//! Format: one header line, `leakguard-history 1 <sha256 of the rest, hex>`, then the
//! [`HistoryData`] as JSON. The digest catches what JSON parsing alone would not (a flipped
//! digit in a count, a block of a JFFS2 file replaced after a bad erase); the write goes to
//! `FILE.tmp`, is synced, renamed over `FILE` and the directory synced, so a power cut leaves
//! the old file or the new one, never half of each.
//!
//! A file that fails either check is *set aside* — renamed to `FILE.corrupt`, replacing an
//! older one so a run of bad files cannot fill the flash — reported, and the daemon starts with
//! an empty history: a bad history never stops leakguard from protecting the network.
//!
//! # How often (flash wear)
//! The daemon writes at most every `history.save_interval` seconds (default 1800: 30 minutes),
//! only when something changed, and at a clean stop. Router flash is NOR (~100 000 erase cycles
//! per block) or SLC NAND (~100 000; cheap parts 10 000) under JFFS2 or UBIFS, which spread
//! writes over the whole free space (wear levelling) and compress what they write. Measured
//! (`cargo bench --bench history`, BENCHMARKS.md): a history of 5 devices × 10 rows is ~23 kB of
//! JSON, ~2 kB deflated; 48 writes a day are ~87 kB of flash — each erase block of a 4 MB overlay
//! rewritten less than once a month. The worst case the default bounds allow (64 devices × 64 rows,
//! every row full, all changing every interval) is 3 MB of JSON, 380 kB deflated: 18 MB of flash a
//! day, about 4-5 erase cycles per block per day on a 4 MB overlay — decades at 100 000 cycles,
//! a few years on 10 000-cycle NAND. A router that sees that many leaking devices should lower
//! `max_destinations`, raise `save_interval`, or keep the history on USB storage.
//! What a power cut loses is at most 30 minutes of history; a clean reboot loses nothing.
//! Keeping it on USB storage or `/tmp` (RAM: lost at reboot) is one `history.path` away.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::HistoryData;

const MAGIC: &str = "leakguard-history";
const VERSION: u32 = 1;

/// What reading the file gave.
#[derive(Debug)]
pub enum Loaded {
    /// No file yet: a first start.
    Missing,
    Ok(HistoryData),
    /// The file was damaged; it was moved to `set_aside` (when that worked) and the history
    /// starts empty.
    Corrupt {
        reason: String,
        set_aside: Option<PathBuf>,
    },
}

/// The text written to the file.
pub fn encode(data: &HistoryData) -> String {
    let body = serde_json::to_string(data).unwrap_or_else(|_| "{\"devices\":[]}".to_string());
    let digest = Sha256::digest(body.as_bytes());
    let mut out = String::with_capacity(body.len() + 100);
    out.push_str(MAGIC);
    out.push(' ');
    out.push_str(&VERSION.to_string());
    out.push(' ');
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out.push('\n');
    out.push_str(&body);
    out.push('\n');
    out
}

/// Parses file text; the error says what is wrong with it.
pub fn decode(text: &[u8]) -> Result<HistoryData, String> {
    let nl = text
        .iter()
        .position(|b| *b == b'\n')
        .ok_or("no header line (truncated?)")?;
    let header = std::str::from_utf8(&text[..nl]).map_err(|_| "header is not text")?;
    let body = &text[nl + 1..];
    let mut words = header.split(' ');
    if words.next() != Some(MAGIC) {
        return Err("not a leakguard history file".to_string());
    }
    let version = words.next().unwrap_or_default();
    if version != VERSION.to_string() {
        return Err(format!("unknown version `{version}`"));
    }
    let want = words.next().unwrap_or_default();
    let body = body
        .strip_suffix(b"\n")
        .ok_or("truncated (no final newline)")?;
    let got: String = Sha256::digest(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if want != got {
        return Err("checksum mismatch (torn or damaged)".to_string());
    }
    serde_json::from_slice(body).map_err(|e| format!("bad contents: {e}"))
}

/// Reads the history at `path`, setting a damaged file aside.
pub fn load(path: &Path) -> Loaded {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Loaded::Missing,
        Err(e) => {
            return Loaded::Corrupt {
                reason: format!("unreadable: {e}"),
                set_aside: None,
            }
        }
    };
    match decode(&bytes) {
        Ok(data) => Loaded::Ok(data),
        Err(reason) => {
            let aside = aside_path(path);
            let set_aside = fs::rename(path, &aside).ok().map(|()| aside);
            Loaded::Corrupt { reason, set_aside }
        }
    }
}

/// Reads the history at `path` without touching it (for `leakguard report` while the daemon is
/// not running: setting aside is the daemon's job).
pub fn read(path: &Path) -> Result<Option<HistoryData>, String> {
    match fs::read(path) {
        Ok(b) => decode(&b)
            .map(Some)
            .map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Where a damaged file is moved.
pub fn aside_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".corrupt");
    PathBuf::from(name)
}

/// Writes `data` to `path` atomically; returns the bytes written.
pub fn save(path: &Path, data: &HistoryData) -> io::Result<usize> {
    let text = encode(data);
    write_atomic(path, text.as_bytes())?;
    Ok(text.len())
}

/// Writes `bytes` to `path` so that a reader sees the old file or the new one, never a torn
/// one, even across a power cut: a 0600 temporary beside it, synced, renamed over, and the
/// directory synced. Both the history and its key file are written this way.
pub(super) fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() {
            fs::create_dir_all(dir)?;
        }
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}
