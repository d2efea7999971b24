//! Classic pcap (both byte orders, µs and ns) and pcapng, read record by record into one
//! reused buffer: a capture of any size is read in constant memory.

use std::io::Read;

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
        todo!("source helper {f:p}")
    }
}

impl std::error::Error for CaptureError {}

pub struct CaptureReader<R: Read> {
    inner: R,
}

impl<R: Read> CaptureReader<R> {
    pub fn new(inner: R) -> Result<Self, CaptureError> {
        let _ = &inner;
        todo!("source helper")
    }

    /// The next record, `None` at a clean end of file.
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>, CaptureError> {
        let _ = &mut self.inner;
        todo!("source helper")
    }
}
