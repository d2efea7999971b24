//! Classic pcap (both byte orders, µs and ns, and the "modified" pcap of old Linux patches) and
//! pcapng (any number of sections and interfaces), read record by record into one reused
//! buffer: a capture of any size is read in constant memory.
//!
//! The reader owns one `Vec<u8>` that serves both as the read buffer (filled with large reads,
//! so there is no syscall per record) and as the storage a [`Record`] borrows from. It grows to
//! the largest record seen and never beyond [`MAX_BLOCK`]: a length field claiming more is a
//! [`CaptureError::Corrupt`] file, not an allocation. Blocks the scanner does not need (name
//! resolution, statistics, decryption secrets, custom) are skipped by streaming over them.

#![forbid(unsafe_code)]

use std::io::{ErrorKind, Read};

#[path = "pcapng.rs"]
mod pcapng;
use pcapng::Interface;

/// Largest packet record (captured bytes) accepted; real frames are at most 64 KiB plus a
/// little (TSO super-frames, jumbo frames), so anything larger means a corrupt length field.
pub const MAX_RECORD: usize = 256 * 1024;

/// Largest pcapng block we load into memory (packet data plus headers and options).
pub const MAX_BLOCK: usize = MAX_RECORD + 4096;

/// Most interfaces a pcapng section may describe (each costs a few bytes of state).
const MAX_INTERFACES: usize = 4096;

/// Size of the read buffer when records are small: large enough that reads are rare.
const READ_CHUNK: usize = 128 * 1024;

/// One captured frame. `data` borrows the reader's buffer until the next call.
#[derive(Debug)]
pub struct Record<'a> {
    /// Seconds since the Unix epoch.
    pub ts_sec: i64,
    /// Nanoseconds within the second.
    pub ts_nsec: u32,
    /// The link type (LINKTYPE_* number) of the interface the frame was captured on.
    pub link: u32,
    /// The captured bytes.
    pub data: &'a [u8],
    /// The length of the frame on the wire.
    pub orig_len: u32,
}

/// Why a capture could not be read, with the byte offset where it went wrong.
#[derive(Debug)]
pub enum CaptureError {
    Io(std::io::Error),
    NotACapture { magic: u32 },
    Truncated { offset: u64 },
    Corrupt { offset: u64, what: &'static str },
}

impl std::fmt::Display for CaptureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CaptureError::Io(e) => write!(f, "read error: {e}"),
            CaptureError::NotACapture { magic } => {
                write!(f, "not a capture file (magic 0x{magic:08x})")
            }
            CaptureError::Truncated { offset } => write!(f, "truncated record at byte {offset}"),
            // `what` is "<structure>: <detail>"; the offset reads best after the structure.
            CaptureError::Corrupt { offset, what } => match what.split_once(": ") {
                Some((structure, detail)) => {
                    write!(f, "corrupt {structure} at byte {offset}: {detail}")
                }
                None => write!(f, "corrupt {what} at byte {offset}"),
            },
        }
    }
}

impl std::error::Error for CaptureError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CaptureError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for CaptureError {
    fn from(e: std::io::Error) -> Self {
        CaptureError::Io(e)
    }
}

/// Classic pcap magic numbers, as read big-endian from the first four bytes.
const PCAP_US: u32 = 0xa1b2_c3d4;
const PCAP_NS: u32 = 0xa1b2_3c4d;
const PCAP_MODIFIED: u32 = 0xa1b2_cd34;
/// pcapng Section Header Block type (a palindrome: the same in both byte orders).
const NG_SHB: u32 = 0x0a0d_0d0a;
const NG_BYTE_ORDER: u32 = 0x1a2b_3c4d;

/// Byte order of the file (or of the current pcapng section).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Order {
    Little,
    Big,
}

impl Order {
    fn u16(self, b: &[u8], at: usize) -> u16 {
        let v = [byte(b, at), byte(b, at + 1)];
        match self {
            Order::Little => u16::from_le_bytes(v),
            Order::Big => u16::from_be_bytes(v),
        }
    }

    fn u32(self, b: &[u8], at: usize) -> u32 {
        let v = [
            byte(b, at),
            byte(b, at + 1),
            byte(b, at + 2),
            byte(b, at + 3),
        ];
        match self {
            Order::Little => u32::from_le_bytes(v),
            Order::Big => u32::from_be_bytes(v),
        }
    }

    fn u64(self, b: &[u8], at: usize) -> u64 {
        let (hi, lo) = match self {
            Order::Little => (self.u32(b, at + 4), self.u32(b, at)),
            Order::Big => (self.u32(b, at), self.u32(b, at + 4)),
        };
        (u64::from(hi) << 32) | u64::from(lo)
    }
}

/// A byte of `b`, 0 past its end: callers check lengths first, this only keeps a slip from
/// turning into a panic.
fn byte(b: &[u8], at: usize) -> u8 {
    b.get(at).copied().unwrap_or(0)
}

/// Timestamp resolution of a pcapng interface (`if_tsresol`).
#[derive(Clone, Copy, Debug)]
enum Resolution {
    /// Units of 10^-n seconds.
    Decimal(u8),
    /// Units of 2^-n seconds.
    Binary(u8),
}

impl Resolution {
    /// Splits a timestamp in these units into seconds and nanoseconds.
    fn split(self, ts: u64) -> (i64, u32) {
        let per_sec: u128 = match self {
            Resolution::Decimal(n) => match 10u128.checked_pow(u32::from(n)) {
                Some(p) => p,
                None => return (0, 0),
            },
            Resolution::Binary(n) => match 1u128.checked_shl(u32::from(n)) {
                Some(p) => p,
                None => return (0, 0),
            },
        };
        let ts = u128::from(ts);
        let sec = ts / per_sec;
        let nsec = (ts % per_sec) * 1_000_000_000 / per_sec;
        (i64::try_from(sec).unwrap_or(i64::MAX), nsec as u32)
    }
}

#[derive(Debug)]
enum Format {
    Pcap {
        order: Order,
        nanos: bool,
        link: u32,
        /// Record header length: 16, or 24 for the modified format.
        header: usize,
    },
    PcapNg {
        order: Order,
        interfaces: Vec<Interface>,
    },
}

/// Where the next record's bytes are in the buffer and what they mean; built inside the read
/// loop and turned into a borrowing [`Record`] after it.
struct Found {
    start: usize,
    len: usize,
    ts_sec: i64,
    ts_nsec: u32,
    link: u32,
    orig_len: u32,
}

/// Streams records out of a pcap or pcapng file.
pub struct CaptureReader<R: Read> {
    inner: R,
    buf: Vec<u8>,
    /// Unconsumed bytes are `buf[pos..end]`.
    pos: usize,
    end: usize,
    /// File offset of `buf[pos]`.
    offset: u64,
    format: Format,
}

impl<R: Read> CaptureReader<R> {
    /// Reads the file header and recognises the format. Wrap files in nothing: the reader
    /// buffers itself.
    pub fn new(inner: R) -> Result<Self, CaptureError> {
        let mut reader = CaptureReader {
            inner,
            buf: vec![0; READ_CHUNK],
            pos: 0,
            end: 0,
            offset: 0,
            format: Format::PcapNg {
                order: Order::Little,
                interfaces: Vec::new(),
            },
        };
        if !reader.fill(4)? {
            return Err(CaptureError::Truncated { offset: 0 });
        }
        let head = reader.peek();
        let magic = Order::Big.u32(head, 0);
        let swapped = magic.swap_bytes();
        let classic = |m: u32| matches!(m, PCAP_US | PCAP_NS | PCAP_MODIFIED);
        if classic(magic) || classic(swapped) {
            let (order, magic) = if classic(magic) {
                (Order::Big, magic)
            } else {
                (Order::Little, swapped)
            };
            if !reader.fill(24)? {
                return Err(CaptureError::Truncated { offset: 0 });
            }
            let link = order.u32(reader.peek(), 20) & 0xffff;
            reader.format = Format::Pcap {
                order,
                nanos: magic == PCAP_NS,
                link,
                header: if magic == PCAP_MODIFIED { 24 } else { 16 },
            };
            reader.consume(24);
            Ok(reader)
        } else if magic == NG_SHB {
            // The section header is read by `next_record` like any later one.
            Ok(reader)
        } else {
            Err(CaptureError::NotACapture { magic })
        }
    }

    /// The next record, `None` at a clean end of file.
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>, CaptureError> {
        let found = match self.format {
            Format::Pcap {
                order,
                nanos,
                link,
                header,
            } => self.next_pcap(order, nanos, link, header)?,
            Format::PcapNg { .. } => self.next_pcapng()?,
        };
        Ok(found.map(|f| Record {
            ts_sec: f.ts_sec,
            ts_nsec: f.ts_nsec,
            link: f.link,
            data: self.buf.get(f.start..f.start + f.len).unwrap_or(&[]),
            orig_len: f.orig_len,
        }))
    }

    fn next_pcap(
        &mut self,
        order: Order,
        nanos: bool,
        link: u32,
        header: usize,
    ) -> Result<Option<Found>, CaptureError> {
        let at = self.offset;
        if !self.fill(header)? {
            return if self.available() == 0 {
                Ok(None)
            } else {
                Err(CaptureError::Truncated { offset: at })
            };
        }
        let h = self.peek();
        let sec = order.u32(h, 0);
        let frac = order.u32(h, 4);
        let caplen = order.u32(h, 8) as usize;
        let orig_len = order.u32(h, 12);
        if caplen > MAX_RECORD {
            return Err(CaptureError::Corrupt {
                offset: at,
                what: "pcap record: captured length too large",
            });
        }
        if !self.fill(header + caplen)? {
            return Err(CaptureError::Truncated { offset: at });
        }
        // Normalise a fraction that overflows its second (seen from buggy writers).
        let (per_sec, scale) = if nanos {
            (1_000_000_000, 1)
        } else {
            (1_000_000, 1000)
        };
        let found = Found {
            start: self.pos + header,
            len: caplen,
            ts_sec: i64::from(sec) + i64::from(frac / per_sec),
            ts_nsec: (frac % per_sec) * scale,
            link,
            orig_len,
        };
        self.consume(header + caplen);
        Ok(Some(found))
    }

    fn available(&self) -> usize {
        self.end - self.pos
    }

    fn peek(&self) -> &[u8] {
        self.buf.get(self.pos..self.end).unwrap_or(&[])
    }

    fn consume(&mut self, n: usize) {
        let n = n.min(self.available());
        self.pos += n;
        self.offset += n as u64;
    }

    /// Makes at least `n` unconsumed bytes available; `false` when the file ends first (the
    /// bytes that were there stay available). Reads as much as fits, so small records cost
    /// no syscall each.
    fn fill(&mut self, n: usize) -> Result<bool, CaptureError> {
        if self.available() >= n {
            return Ok(true);
        }
        if self.pos + n > self.buf.len() {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
            if n > self.buf.len() {
                self.buf.resize(n.next_power_of_two(), 0);
            }
        }
        while self.available() < n {
            let Some(space) = self.buf.get_mut(self.end..) else {
                return Ok(false);
            };
            match self.inner.read(space) {
                Ok(0) => return Ok(false),
                Ok(k) => self.end += k,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(CaptureError::Io(e)),
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::pcapng::{NG_EPB, NG_IDB, NG_PB, NG_SPB};
    use super::*;
    use crate::packet::{decode_ip, decode_link};
    use proptest::prelude::*;
    use std::io::Cursor;

    /// An Ethernet/IPv4/UDP frame of 60 bytes.
    fn frame() -> Vec<u8> {
        let mut f = vec![0u8; 60];
        f[12] = 0x08;
        f[14] = 0x45;
        f[16..18].copy_from_slice(&28u16.to_be_bytes());
        f[23] = 17;
        f
    }

    fn pcap(le: bool, magic: u32, records: &[(u32, u32, &[u8])]) -> Vec<u8> {
        let w32 = |v: &mut Vec<u8>, x: u32| {
            v.extend_from_slice(&if le { x.to_le_bytes() } else { x.to_be_bytes() })
        };
        let w16 = |v: &mut Vec<u8>, x: u16| {
            v.extend_from_slice(&if le { x.to_le_bytes() } else { x.to_be_bytes() })
        };
        let mut v = Vec::new();
        w32(&mut v, magic);
        w16(&mut v, 2);
        w16(&mut v, 4);
        w32(&mut v, 0);
        w32(&mut v, 0);
        w32(&mut v, 0); // snaplen 0: must be tolerated
        w32(&mut v, 1);
        for (sec, frac, data) in records {
            w32(&mut v, *sec);
            w32(&mut v, *frac);
            w32(&mut v, data.len() as u32);
            w32(&mut v, 40); // orig_len smaller than caplen: accepted
            if magic == PCAP_MODIFIED {
                v.extend_from_slice(&[0; 8]);
            }
            v.extend_from_slice(data);
        }
        v
    }

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

    #[test]
    fn classic_pcap_all_magics_and_orders() {
        let f = frame();
        for le in [true, false] {
            for (magic, nsec) in [(PCAP_US, 5_000), (PCAP_NS, 5), (PCAP_MODIFIED, 5_000)] {
                let file = pcap(le, magic, &[(100, 5, &f), (101, 5, &f[..20])]);
                let recs = read_all(&file).unwrap();
                assert_eq!(recs.len(), 2, "le={le} magic={magic:x}");
                assert_eq!(recs[0], (100, nsec, 1, f.clone(), 40));
                assert_eq!(recs[1].3, f[..20].to_vec());
            }
        }
    }

    #[test]
    fn classic_pcap_truncated_and_corrupt() {
        let f = frame();
        let file = pcap(true, PCAP_US, &[(1, 0, &f), (2, 0, &f)]);
        let cut = &file[..file.len() - 3];
        let mut r = CaptureReader::new(Cursor::new(cut)).unwrap();
        assert!(r.next_record().unwrap().is_some());
        let e = r.next_record().unwrap_err();
        assert!(matches!(e, CaptureError::Truncated { offset: 100 }), "{e}");
        assert_eq!(e.to_string(), "truncated record at byte 100");
        // Cut inside a record header.
        let cut = &file[..24 + 16 + 60 + 5];
        let mut r = CaptureReader::new(Cursor::new(cut)).unwrap();
        assert!(r.next_record().unwrap().is_some());
        assert!(matches!(
            r.next_record(),
            Err(CaptureError::Truncated { offset: 100 })
        ));
        // A huge caplen is corruption, not an allocation.
        let mut bad = pcap(true, PCAP_US, &[]);
        bad.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0]);
        let e = read_all(&bad).unwrap_err();
        assert!(matches!(e, CaptureError::Corrupt { offset: 24, .. }), "{e}");
        // Short and foreign files.
        assert!(matches!(
            read_all(b""),
            Err(CaptureError::Truncated { offset: 0 })
        ));
        assert!(matches!(
            read_all(&file[..10]),
            Err(CaptureError::Truncated { offset: 0 })
        ));
        let e = read_all(b"\x7fELF\x02\x01\x01\x00").unwrap_err();
        assert_eq!(e.to_string(), "not a capture file (magic 0x7f454c46)");
    }

    /// Builds pcapng blocks in either byte order.
    struct Ng {
        le: bool,
        v: Vec<u8>,
    }

    impl Ng {
        fn u32b(&self, x: u32) -> [u8; 4] {
            if self.le {
                x.to_le_bytes()
            } else {
                x.to_be_bytes()
            }
        }
        fn u16b(&self, x: u16) -> [u8; 2] {
            if self.le {
                x.to_le_bytes()
            } else {
                x.to_be_bytes()
            }
        }
        fn block(&mut self, kind: u32, body: &[u8]) {
            let mut body = body.to_vec();
            while body.len() % 4 != 0 {
                body.push(0);
            }
            let len = body.len() as u32 + 12;
            let (k, l) = (self.u32b(kind), self.u32b(len));
            self.v.extend_from_slice(&k);
            self.v.extend_from_slice(&l);
            self.v.extend_from_slice(&body);
            self.v.extend_from_slice(&l);
        }
        fn shb(&mut self) {
            let mut b = Vec::new();
            b.extend_from_slice(&self.u32b(NG_BYTE_ORDER));
            b.extend_from_slice(&self.u16b(1));
            b.extend_from_slice(&self.u16b(0));
            b.extend_from_slice(&[0xff; 8]);
            self.block(NG_SHB, &b);
        }
        fn idb(&mut self, link: u16, snaplen: u32, tsresol: Option<u8>) {
            let mut b = Vec::new();
            b.extend_from_slice(&self.u16b(link));
            b.extend_from_slice(&self.u16b(0));
            b.extend_from_slice(&self.u32b(snaplen));
            // An if_name option first, to exercise option walking.
            b.extend_from_slice(&self.u16b(2));
            b.extend_from_slice(&self.u16b(3));
            b.extend_from_slice(b"et0\0");
            if let Some(r) = tsresol {
                b.extend_from_slice(&self.u16b(9));
                b.extend_from_slice(&self.u16b(1));
                b.extend_from_slice(&[r, 0, 0, 0]);
            }
            b.extend_from_slice(&[0; 4]);
            self.block(NG_IDB, &b);
        }
        fn epb(&mut self, kind: u32, iface: u32, ts: u64, data: &[u8]) {
            let mut b = Vec::new();
            if kind == NG_EPB {
                b.extend_from_slice(&self.u32b(iface));
            } else {
                b.extend_from_slice(&self.u16b(iface as u16));
                b.extend_from_slice(&self.u16b(0));
            }
            b.extend_from_slice(&self.u32b((ts >> 32) as u32));
            b.extend_from_slice(&self.u32b(ts as u32));
            b.extend_from_slice(&self.u32b(data.len() as u32));
            b.extend_from_slice(&self.u32b(data.len() as u32 + 4));
            b.extend_from_slice(data);
            self.block(kind, &b);
        }
        fn spb(&mut self, data: &[u8]) {
            let mut b = self.u32b(data.len() as u32).to_vec();
            b.extend_from_slice(data);
            self.block(NG_SPB, &b);
        }
    }

    fn sample_ng(le: bool) -> Vec<u8> {
        let f = frame();
        let mut ng = Ng { le, v: Vec::new() };
        ng.shb();
        ng.idb(1, 0, None);
        ng.block(4, &[1, 0, 4, 0, 10, 0, 0, 1, b'a', 0, 0, 0]); // NRB: skipped
        ng.idb(101, 0, Some(9)); // ns
        ng.idb(113, 0, Some(0x80 | 10)); // 1/1024 s
        ng.epb(NG_EPB, 0, 1_500_000_123, &f);
        ng.epb(NG_EPB, 1, 7_000_000_005, &f[14..]);
        ng.epb(NG_EPB, 2, 3 * 1024 + 512, &f[..3]);
        ng.block(5, &[0; 20]); // ISB: skipped
        ng.block(0x0bad, &[1, 2, 3, 4]); // custom: skipped
        ng.epb(NG_PB, 0, 2_000_000, &f);
        ng.spb(&f);
        // A second section, other byte order, its own interfaces.
        let mut ng2 = Ng {
            le: !le,
            v: Vec::new(),
        };
        ng2.shb();
        ng2.idb(228, 10, None);
        ng2.spb(&f[14..]);
        ng.v.extend_from_slice(&ng2.v);
        ng.v
    }

    #[test]
    fn pcapng_both_orders_sections_and_resolutions() {
        let f = frame();
        for le in [true, false] {
            let recs = read_all(&sample_ng(le)).unwrap();
            assert_eq!(recs.len(), 6);
            assert_eq!(recs[0], (1500, 123_000, 1, f.clone(), 64));
            assert_eq!(
                (recs[1].0, recs[1].1, recs[1].2),
                (7, 5, 101),
                "nanosecond interface"
            );
            assert_eq!(
                (recs[2].0, recs[2].1, recs[2].2),
                (3, 500_000_000, 113),
                "binary resolution"
            );
            assert_eq!(recs[2].3, f[..3].to_vec());
            assert_eq!((recs[3].0, recs[3].2), (2, 1), "obsolete packet block");
            assert_eq!((recs[4].2, recs[4].3.len()), (1, 60), "simple packet block");
            assert_eq!(recs[5].2, 228);
            assert_eq!(recs[5].3, f[14..24].to_vec(), "SPB cut to snaplen");
        }
    }

    #[test]
    fn pcapng_errors() {
        let file = sample_ng(true);
        // Bad length field in the second block (the first IDB at byte 28).
        let mut bad = file.clone();
        bad[28 + 4] = 0x1e;
        let e = read_all(&bad).unwrap_err();
        assert!(matches!(e, CaptureError::Corrupt { offset: 28, .. }), "{e}");
        assert_eq!(
            e.to_string(),
            "corrupt pcapng block at byte 28: block length not a multiple of 4"
        );
        // Packet on an interface that was never described.
        let mut ng = Ng {
            le: true,
            v: Vec::new(),
        };
        ng.shb();
        ng.epb(NG_EPB, 0, 0, &frame());
        assert!(matches!(
            read_all(&ng.v),
            Err(CaptureError::Corrupt { offset: 28, .. })
        ));
        // Every truncation is an error value (or a clean end at a block boundary).
        for cut in 0..file.len() {
            match read_all(&file[..cut]) {
                Ok(_) | Err(CaptureError::Truncated { .. }) => {}
                Err(e) => panic!("cut at {cut}: {e}"),
            }
        }
    }

    #[test]
    fn display_formats() {
        let e = CaptureError::Corrupt {
            offset: 88,
            what: "pcapng block: block length not a multiple of 4",
        };
        assert_eq!(
            e.to_string(),
            "corrupt pcapng block at byte 88: block length not a multiple of 4"
        );
        assert_eq!(
            CaptureError::Truncated { offset: 1234 }.to_string(),
            "truncated record at byte 1234"
        );
    }

    /// A reader that hands out one byte at a time: buffering must not depend on read sizes.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            match (self.0.split_first(), out.first_mut()) {
                (Some((b, rest)), Some(o)) => {
                    *o = *b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    #[test]
    fn byte_at_a_time_reads() {
        let file = sample_ng(false);
        let mut r = CaptureReader::new(Trickle(&file)).unwrap();
        let mut n = 0;
        while r.next_record().unwrap().is_some() {
            n += 1;
        }
        assert_eq!(n, 6);
    }

    #[test]
    fn large_records_grow_the_buffer() {
        let big = vec![0xabu8; 200_000];
        let file = pcap(
            true,
            PCAP_US,
            &[(1, 0, &big), (2, 0, &big[..10]), (3, 0, &big)],
        );
        let recs = read_all(&file).unwrap();
        assert_eq!(recs.len(), 3);
        assert_eq!(recs[2].3.len(), 200_000);
    }

    proptest! {
        #[test]
        fn never_panics_on_garbage(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = read_all(&bytes);
        }

        #[test]
        fn never_panics_on_garbage_after_a_valid_header(
            ng in any::<bool>(),
            tail in proptest::collection::vec(any::<u8>(), 0..600),
        ) {
            let mut file = if ng { sample_ng(true)[..28].to_vec() } else { pcap(true, PCAP_US, &[]) };
            file.extend_from_slice(&tail);
            let _ = read_all(&file);
        }

        #[test]
        fn corrupting_a_valid_file_never_panics(
            le in any::<bool>(),
            at in 0usize..400,
            val in any::<u8>(),
            cut in 0usize..500,
        ) {
            let mut file = sample_ng(le);
            let n = file.len();
            file[at % n] = val;
            file.truncate(cut.min(n));
            let _ = read_all(&file);
        }
    }

    /// Throughput of reading (and of reading plus decoding) an in-memory capture of mixed
    /// frame sizes. Run with
    /// `cargo test --release --lib -- --ignored --nocapture throughput`.
    #[test]
    #[ignore]
    fn throughput() {
        let mut f = frame();
        f.resize(1514, 0x41);
        f[16..18].copy_from_slice(&1500u16.to_be_bytes());
        f[23] = 6;
        f[14 + 20 + 12] = 0x50;
        let sizes = [60usize, 590, 1514, 1514, 1514, 120];
        let records: Vec<(u32, u32, &[u8])> = (0..60_000)
            .map(|i| (i, 0, &f[..sizes[i as usize % sizes.len()]]))
            .collect();
        let file = pcap(true, PCAP_US, &records);
        let rounds = 8;
        for decode in [false, true] {
            let start = std::time::Instant::now();
            let mut total = 0usize;
            for _ in 0..rounds {
                let mut r = CaptureReader::new(Cursor::new(&file[..])).unwrap();
                while let Some(rec) = r.next_record().unwrap() {
                    total += rec.data.len();
                    if decode {
                        let frame = decode_link(rec.link, rec.data).unwrap();
                        let seg = decode_ip(frame.ip.unwrap()).unwrap().unwrap();
                        total += seg.payload.len();
                    }
                }
            }
            let secs = start.elapsed().as_secs_f64();
            let gb = (file.len() * rounds) as f64 / 1e9;
            println!(
                "{}: {:.2} GB/s ({} bytes seen)",
                if decode { "read+decode" } else { "read" },
                gb / secs,
                total
            );
        }
    }
}
