//! TCP stream order for one flow: the next expected sequence number, trimming of retransmitted
//! bytes, and the handle of its carry of already-scanned bytes (kept in the shared
//! [`super::carry::CarryPool`]).
//!
//! Sequence numbers are compared with wrapping arithmetic (RFC 793's modular comparison): a
//! segment is "ahead" when it starts less than 2³¹ bytes after the next expected byte, "behind"
//! otherwise, so a stream that crosses `u32::MAX` behaves like any other.

use super::pool::NONE;

/// Where a segment lies relative to the next expected byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    /// Every byte was seen before (a retransmission).
    Old,
    /// Starts at or before the next expected byte; the first `skip` bytes were seen before.
    InOrder { skip: usize },
    /// Starts `offset` bytes after the next expected byte: there is a gap.
    Ahead { offset: u32 },
}

/// The stream state of one direction of a TCP flow (16 bytes).
#[derive(Clone, Copy)]
pub(crate) struct Stream {
    /// The next expected sequence number, once `synced`.
    pub next: u32,
    pub syn_next: u32,
    /// The handle of this flow's carry in the carry pool, or `NONE` (it may also have been
    /// taken by another flow: the pool tells).
    pub carry: u32,
    /// `next` is known: set by a SYN or by the first segment seen.
    pub synced: bool,
    /// A SYN was seen, and `syn_next` is the sequence number of the first byte after it:
    /// a SYN that says otherwise starts a new connection on the same addresses and ports.
    pub has_syn: bool,
}

impl Stream {
    pub const NEW: Stream = Stream {
        next: 0,
        syn_next: 0,
        carry: NONE,
        synced: false,
        has_syn: false,
    };

    /// Whether a SYN whose first data byte is `start` begins a new connection (rather than
    /// being a retransmitted or late SYN of this one).
    pub fn syn_is_new(&self, start: u32) -> bool {
        if self.has_syn {
            self.syn_next != start
        } else {
            // Without a SYN the stream was picked up from its data, all of which follows the
            // real SYN: a SYN ahead of it is another connection's.
            self.synced && matches!(self.place(start, 1), Place::Ahead { .. })
        }
    }

    /// Where `len` bytes starting at `seq` lie relative to the next expected byte.
    pub fn place(&self, seq: u32, len: usize) -> Place {
        let delta = seq.wrapping_sub(self.next) as i32;
        if delta > 0 {
            return Place::Ahead {
                offset: delta.unsigned_abs(),
            };
        }
        let behind = delta.unsigned_abs() as usize;
        if behind >= len {
            Place::Old
        } else {
            Place::InOrder { skip: behind }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(next: u32) -> Stream {
        Stream {
            next,
            synced: true,
            ..Stream::NEW
        }
    }

    #[test]
    fn places_segments() {
        let s = at(1000);
        assert_eq!(s.place(1000, 10), Place::InOrder { skip: 0 });
        assert_eq!(s.place(995, 10), Place::InOrder { skip: 5 });
        assert_eq!(s.place(990, 10), Place::Old);
        assert_eq!(s.place(980, 10), Place::Old);
        assert_eq!(s.place(1001, 10), Place::Ahead { offset: 1 });
    }

    #[test]
    fn places_across_wraparound() {
        let s = at(u32::MAX - 4);
        assert_eq!(s.place(u32::MAX - 4, 10), Place::InOrder { skip: 0 });
        assert_eq!(s.place(5, 10), Place::Ahead { offset: 10 });
        assert_eq!(s.place(u32::MAX - 9, 10), Place::InOrder { skip: 5 });
        let s = at(3);
        assert_eq!(s.place(u32::MAX - 1, 10), Place::InOrder { skip: 5 });
        assert_eq!(s.place(u32::MAX - 10, 10), Place::Old);
    }

    #[test]
    fn tells_new_syns_from_repeats() {
        let mut s = at(1000);
        assert!(!s.syn_is_new(500), "late SYN of a stream picked up mid-way");
        assert!(s.syn_is_new(2000));
        s.has_syn = true;
        s.syn_next = 1;
        assert!(!s.syn_is_new(1));
        assert!(s.syn_is_new(2000));
        assert!(!Stream::NEW.syn_is_new(5));
    }
}
