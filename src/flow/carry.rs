//! The carry pool: the last [`CARRY`] bytes of a TCP flow's last window, kept in a slab shared by
//! all flows instead of in every flow's slot.
//!
//! Why a shared slab: a flow needs a carry only between two windows while it is still being
//! inspected. UDP flows never need one (a datagram is its own window), and a TCP flow stops
//! needing one when its budget is spent, which for most flows happens in their first few
//! segments. Keeping 96 bytes in every slot made the carry the largest part of a flow's cost.
//!
//! # Policy
//!
//! The pool has a fixed number of entries, allocated once ([`CarryPool::entries_for`]:
//! `max(64, capacity / 4)`, never more than the table's capacity, since a flow holds at most
//! one). A flow takes an entry when it first keeps a carry and gives it back when its budget
//! is spent, when it skips a gap, restarts on a new SYN, or is removed or evicted. When no
//! entry is free, the one used least recently is taken from its flow (the holders form an LRU
//! list threaded through the entries): that flow's next window then starts without a carry, so
//! it may miss an identifier split exactly at that boundary. Only flows idle for longer than
//! `entries` other flows' windows lose their carry this way.
//!
//! # Handles
//!
//! A flow's slot keeps the `u32` index of its entry (a *handle*), and each entry its owner's
//! slot number. A handle is valid only while the entry names the slot as its owner, so taking
//! an entry from a flow need not touch that flow's slot: its handle just stops being valid.
//! Sound because an entry's owner is only ever set together with that owner's handle.

use super::pool::NONE;
use super::CARRY;

/// One entry's bookkeeping (its bytes live in [`CarryPool::data`]).
#[derive(Clone, Copy, Debug)]
struct Entry {
    /// The slot number of the flow holding this entry, or [`NONE`] when it is free.
    owner: u32,
    /// LRU neighbours among the holders (towards the most / least recently used); `next` also
    /// links the free list.
    prev: u32,
    next: u32,
    /// Bytes of carry held.
    len: u8,
}

const FREE: Entry = Entry {
    owner: NONE,
    prev: NONE,
    next: NONE,
    len: 0,
};

pub(crate) struct CarryPool {
    /// `entries.len() * CARRY` bytes, entry `i` at `i * CARRY`.
    data: Vec<u8>,
    entries: Vec<Entry>,
    /// Free entries, linked through `Entry::next`.
    free: u32,
    /// Most and least recently used holders.
    head: u32,
    tail: u32,
    used: usize,
    /// Carries taken from their flow because the pool was full, since start.
    stolen: u64,
}

impl CarryPool {
    /// The number of entries for a table of `capacity` flows.
    pub fn entries_for(capacity: usize) -> usize {
        (capacity / 4).max(64).min(capacity.max(1))
    }

    /// A pool of `entries` entries (at least one), allocated now.
    pub fn new(entries: usize) -> CarryPool {
        let entries = entries.clamp(1, NONE as usize - 1);
        let link = |i: usize| if i + 1 < entries { i as u32 + 1 } else { NONE };
        CarryPool {
            // Zeroed, so the pages of entries never used are not touched.
            data: vec![0; entries * CARRY],
            entries: (0..entries)
                .map(|i| Entry {
                    next: link(i),
                    ..FREE
                })
                .collect(),
            free: 0,
            head: NONE,
            tail: NONE,
            used: 0,
            stolen: 0,
        }
    }

    /// Entries in all.
    pub fn capacity(&self) -> usize {
        self.entries.len()
    }

    /// Entries held by a flow.
    pub fn used(&self) -> usize {
        self.used
    }

    /// Carries taken from a flow because the pool was full.
    pub fn stolen(&self) -> u64 {
        self.stolen
    }

    /// Whether `handle` is the entry of slot `owner`.
    pub fn holds(&self, owner: u32, handle: u32) -> bool {
        self.entries
            .get(handle as usize)
            .is_some_and(|e| e.owner == owner && owner != NONE)
    }

    /// The carry of slot `owner` (empty when it holds none, or lost it).
    pub fn get(&self, owner: u32, handle: u32) -> &[u8] {
        if !self.holds(owner, handle) {
            return &[];
        }
        let len = self.entries.get(handle as usize).map_or(0, |e| e.len);
        let at = handle as usize * CARRY;
        self.data.get(at..at + usize::from(len)).unwrap_or(&[])
    }

    /// Keeps the last [`CARRY`] bytes of `window` as the carry of slot `owner`, whose handle is
    /// `*handle` (taking an entry, and setting `*handle`, when it holds none).
    pub fn keep(&mut self, owner: u32, handle: &mut u32, window: &[u8]) {
        let tail = window
            .get(window.len().saturating_sub(CARRY)..)
            .unwrap_or(&[]);
        if tail.is_empty() {
            self.release(owner, handle);
            return;
        }
        if self.holds(owner, *handle) {
            self.unlink(*handle);
        } else {
            *handle = self.take(owner);
        }
        let h = *handle;
        let at = h as usize * CARRY;
        if let Some(dst) = self.data.get_mut(at..at + tail.len()) {
            dst.copy_from_slice(tail);
        }
        if let Some(e) = self.entries.get_mut(h as usize) {
            e.len = tail.len() as u8;
        }
        self.push_front(h);
    }

    /// Gives back the entry of slot `owner`, if it still holds one; `*handle` becomes `NONE`.
    pub fn release(&mut self, owner: u32, handle: &mut u32) {
        let h = std::mem::replace(handle, NONE);
        if !self.holds(owner, h) {
            return;
        }
        self.unlink(h);
        if let Some(e) = self.entries.get_mut(h as usize) {
            *e = Entry {
                next: self.free,
                ..FREE
            };
            self.free = h;
            self.used -= 1;
        }
    }

    /// A new pool of `entries` entries holding the carries of this one, the most recently used
    /// first (those that do not fit are lost). `moved(owner, handle)` is told each carry's new
    /// handle and must store it in the owner's slot.
    pub fn resized(&self, entries: usize, moved: &mut dyn FnMut(u32, u32)) -> CarryPool {
        let mut new = CarryPool::new(entries);
        // From the least recently used: when the new pool is smaller, the newest holders take
        // the entries of the oldest.
        let mut h = self.tail;
        while let Some(e) = self.entries.get(h as usize).copied() {
            let mut handle = NONE;
            let at = h as usize * CARRY;
            if let Some(bytes) = self.data.get(at..at + usize::from(e.len)) {
                new.keep(e.owner, &mut handle, bytes);
            }
            moved(e.owner, handle);
            h = e.prev;
        }
        new.stolen = self.stolen;
        new
    }

    /// A free entry for `owner`, or the least recently used holder's.
    fn take(&mut self, owner: u32) -> u32 {
        let h = if self.free != NONE {
            let h = self.free;
            self.free = self.entries.get(h as usize).map_or(NONE, |e| e.next);
            self.used += 1;
            h
        } else {
            // The pool has at least one entry, so with none free there is a holder.
            let h = self.tail;
            self.unlink(h);
            self.stolen += 1;
            h
        };
        if let Some(e) = self.entries.get_mut(h as usize) {
            *e = Entry { owner, ..FREE };
        }
        h
    }

    fn unlink(&mut self, h: u32) {
        let Some((prev, next)) = self.entries.get(h as usize).map(|e| (e.prev, e.next)) else {
            return;
        };
        match self.entries.get_mut(prev as usize) {
            Some(p) => p.next = next,
            None => self.head = next,
        }
        match self.entries.get_mut(next as usize) {
            Some(n) => n.prev = prev,
            None => self.tail = prev,
        }
        if let Some(e) = self.entries.get_mut(h as usize) {
            e.prev = NONE;
            e.next = NONE;
        }
    }

    fn push_front(&mut self, h: u32) {
        let old = self.head;
        if let Some(e) = self.entries.get_mut(h as usize) {
            e.prev = NONE;
            e.next = old;
        }
        match self.entries.get_mut(old as usize) {
            Some(o) => o.prev = h,
            None => self.tail = h,
        }
        self.head = h;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_tail() {
        let mut p = CarryPool::new(4);
        let mut h = NONE;
        assert_eq!(p.get(0, h), b"");
        p.keep(0, &mut h, b"abc");
        assert_eq!(p.get(0, h), b"abc");
        assert_eq!(p.used(), 1);
        let long: Vec<u8> = (0..200u8).collect();
        p.keep(0, &mut h, &long);
        assert_eq!(p.get(0, h), &long[200 - CARRY..]);
        assert_eq!(p.used(), 1);
        assert_eq!(p.get(1, h), b"", "another slot's");
        p.release(0, &mut h);
        assert_eq!((h, p.used()), (NONE, 0));
        assert_eq!(p.get(0, h), b"");
        p.keep(0, &mut h, b"");
        assert_eq!((h, p.used()), (NONE, 0), "nothing to keep takes nothing");
    }

    #[test]
    fn the_least_recently_used_holder_loses_its_carry() {
        let mut p = CarryPool::new(3);
        let mut h = [NONE; 5];
        for (i, h) in h.iter_mut().enumerate().take(3) {
            p.keep(i as u32, h, &[i as u8; 10]);
        }
        // Slot 0 used again: slot 1 is now the least recently used.
        p.keep(0, &mut h[0], b"zero");
        p.keep(3, &mut h[3], b"three");
        assert_eq!((p.used(), p.stolen()), (3, 1));
        assert_eq!(p.get(1, h[1]), b"");
        assert_eq!(p.get(0, h[0]), b"zero");
        assert_eq!(p.get(2, h[2]), &[2; 10]);
        assert_eq!(p.get(3, h[3]), b"three");
        // Releasing a lost carry frees nothing of its new owner's.
        p.release(1, &mut h[1]);
        assert_eq!(p.get(3, h[3]), b"three");
        assert_eq!(p.used(), 3);
        p.release(2, &mut h[2]);
        p.keep(4, &mut h[4], b"four");
        assert_eq!(
            (p.used(), p.stolen()),
            (3, 1),
            "a free entry is taken first"
        );

        // Resizing keeps the most recently used.
        let mut moved = Vec::new();
        let q = p.resized(2, &mut |o, h| moved.push((o, h)));
        for (o, new) in moved {
            h[o as usize] = new;
        }
        assert_eq!(q.capacity(), 2);
        assert_eq!(q.get(0, h[0]), b"");
        assert_eq!(q.get(3, h[3]), b"three");
        assert_eq!(q.get(4, h[4]), b"four");
    }
}
