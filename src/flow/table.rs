//! The flow table: fixed capacity set at start from the config; when full, the least recently
//! used flow is evicted (and counted) to make room, so a flood of new flows costs no memory.
//!
//! # Layout
//!
//! All storage is sized once, in [`FlowTable::new`] (and again only by
//! [`FlowTable::reconfigure`]): a slot array reserved for `capacity` flows (filled as flows
//! arrive, never grown past it), an `Index` from [`FlowKey`] to slot number, one scratch
//! window of `budget + CARRY` bytes, the reorder `Pool` and the `CarryPool` (the carries of
//! the flows still being inspected, `max(64, capacity / 4)` entries of [`CARRY`] bytes: see
//! `carry` for who keeps one when there are more such flows). The least-recently-used order is
//! an intrusive doubly-linked list threaded through the slots by `u32` index, so touching and
//! evicting a flow are O(1). A slot is 104 bytes on x86_64 (40 key, 27 facts, 16 stream state
//! with the carry's handle, 18 links and counters, 3 padding) plus 8 bytes of index: 16384
//! flows take 1.8 MB, plus 4096 carries (450 KiB) and the 256 KiB pool.
//!
//! # Reorder policy
//!
//! A TCP segment that starts after the next expected byte waits in the shared pool, trimmed to
//! the flow's remaining budget (bytes past it would never be scanned). A flow holds at most
//! [`MAX_HELD_PER_FLOW`] segments, the pool at most [`POOL_BYTES`] over all flows. When a
//! segment cannot be held — the flow's limit is reached, the pool is full, or it starts past
//! the budget's end — the flow *skips forward*: it accepts its gaps as lost, scans what it held
//! in order (starting each window after a gap with an empty carry), then scans the new segment
//! the same way. So inspection never stalls on a gap that never fills, and one flow cannot make
//! another lose the bytes it holds. Bytes of a skipped gap that arrive later count as
//! retransmissions and are not scanned. [`FlowTable::flush`] skips forward on demand (end of a
//! capture, FIN).

use super::carry::CarryPool;
use super::index::Index;
use super::pool::{Pool, NONE};
use super::stream::{Place, Stream};
use super::{Feed, FlowFacts, FlowKey, CARRY};
use crate::packet::TcpInfo;

/// Bytes of out-of-order segments held over all flows.
pub const POOL_BYTES: usize = 256 * 1024;

/// Out-of-order segments held per flow.
pub const MAX_HELD_PER_FLOW: u8 = 8;

struct Slot {
    key: FlowKey,
    facts: FlowFacts,
    stream: Stream,
    /// LRU neighbours (towards the most / least recently used), or the next free slot.
    prev: u32,
    next: u32,
    /// New bytes scanned so far, counted against the budget.
    inspected: u32,
    /// This flow's held segments in the pool, in sequence order.
    held: u32,
    held_count: u8,
    spent: bool,
}

impl Slot {
    fn new(key: FlowKey) -> Slot {
        Slot {
            key,
            facts: FlowFacts::default(),
            stream: Stream::NEW,
            prev: NONE,
            next: NONE,
            inspected: 0,
            held: NONE,
            held_count: 0,
            spent: false,
        }
    }
}

pub struct FlowTable {
    index: Index,
    slots: Vec<Slot>,
    /// Free slots, linked through `Slot::next`.
    free: u32,
    /// Most and least recently used flows.
    head: u32,
    tail: u32,
    capacity: usize,
    budget: u32,
    evicted: u64,
    /// The window being scanned: carry followed by new bytes. Never grows past its reserve.
    scratch: Vec<u8>,
    pool: Pool,
    carries: CarryPool,
}

/// What one `feed` call works on: a single flow's slot (and its number) plus the shared
/// scratch and pools (distinct fields of the table, borrowed apart).
struct Cx<'a> {
    id: u32,
    slot: &'a mut Slot,
    pool: &'a mut Pool,
    carries: &'a mut CarryPool,
    scratch: &'a mut Vec<u8>,
    budget: u32,
    scan: &'a mut dyn FnMut(&mut FlowFacts, &[u8], bool),
    /// The current segment ends a write (PSH, FIN, RST): the stream pauses after it.
    pauses: bool,
    feed: Feed,
}

impl FlowTable {
    /// A table for `capacity` flows (at least 1), each inspected for its first `budget` bytes.
    pub fn new(capacity: usize, budget: u32) -> FlowTable {
        FlowTable::with_pool(capacity, budget, POOL_BYTES)
    }

    /// [`FlowTable::new`] with a reorder pool of `pool_bytes` bytes.
    pub fn with_pool(capacity: usize, budget: u32, pool_bytes: usize) -> FlowTable {
        let capacity = capacity.clamp(1, NONE as usize - 1);
        FlowTable {
            index: Index::with_capacity(capacity),
            slots: Vec::with_capacity(capacity),
            free: NONE,
            head: NONE,
            tail: NONE,
            capacity,
            budget,
            evicted: 0,
            scratch: Vec::with_capacity(budget as usize + CARRY),
            pool: Pool::new(pool_bytes),
            carries: CarryPool::new(CarryPool::entries_for(capacity)),
        }
    }

    /// Changes the budget and capacity on reload, keeping the flows that fit (the most recently
    /// used ones; the others are evicted and counted). A flow that has already scanned the new
    /// budget's worth stops being inspected.
    pub fn reconfigure(&mut self, capacity: usize, budget: u32) {
        let capacity = capacity.clamp(1, NONE as usize - 1);
        while self.index.len() > capacity {
            if !self.evict_lru() {
                break;
            }
        }
        if capacity > self.slots.len() {
            self.slots.reserve_exact(capacity - self.slots.len());
        }
        let FlowTable { index, slots, .. } = self;
        index.reserve(capacity, &|id| slots.get(id as usize).map(|s| s.key));
        self.scratch.reserve_exact(budget as usize + CARRY);
        self.capacity = capacity;
        self.budget = budget;
        let mut id = self.head;
        while let Some(slot) = self.slots.get_mut(id as usize) {
            if !slot.spent && slot.inspected >= budget {
                slot.spent = true;
                stop(slot, id, &mut self.pool, &mut self.carries);
            }
            id = slot.next;
        }
        let entries = CarryPool::entries_for(capacity);
        if entries != self.carries.capacity() {
            let slots = &mut self.slots;
            self.carries = self.carries.resized(entries, &mut |owner, handle| {
                if let Some(slot) = slots.get_mut(owner as usize) {
                    slot.stream.carry = handle;
                }
            });
        }
    }

    /// Feeds one segment of the flow `key` (created if new, evicting the least recently used
    /// flow when full). `scan(facts, window)` is called for each window to scan, in stream
    /// order: the carry plus new in-order bytes (for UDP: the datagram alone, within budget).
    pub fn feed(
        &mut self,
        key: &FlowKey,
        tcp: Option<TcpInfo>,
        payload: &[u8],
        scan: &mut dyn FnMut(&mut FlowFacts, &[u8], bool),
    ) -> Feed {
        let (id, new_flow) = self.slot_for(key);
        if new_flow && payload.is_empty() && tcp.is_some_and(|t| t.syn) {
            // A connection that has sent nothing yet is the first to go when the table is full:
            // a port scan or SYN retries to dead hosts must not push out flows being inspected.
            self.unlink(id);
            self.push_back(id);
        }
        let feed = Feed {
            new_flow,
            ..Feed::default()
        };
        let pauses = tcp.map_or(true, |t| t.psh || t.fin || t.rst);
        let Some(mut cx) = self.cx(id, scan, pauses, feed) else {
            return Feed::default();
        };
        match tcp {
            Some(info) => cx.segment(info, payload),
            None => cx.datagram(payload),
        }
        cx.feed.budget_spent = cx.slot.spent;
        cx.feed.leaked = cx.slot.facts.leaked;
        cx.feed
    }

    /// Skips every gap of the flow `key`: scans what it holds, in order, as [`FlowTable::feed`]
    /// would have had the gaps filled with nothing. For the end of a capture, or a FIN.
    /// Does nothing (and creates nothing) for an unknown flow.
    pub fn flush(
        &mut self,
        key: &FlowKey,
        scan: &mut dyn FnMut(&mut FlowFacts, &[u8], bool),
    ) -> Feed {
        let Some(mut cx) = self
            .lookup(key)
            .and_then(|id| self.cx(id, scan, true, Feed::default()))
        else {
            return Feed::default();
        };
        cx.skip_forward();
        cx.feed.budget_spent = cx.slot.spent;
        cx.feed
    }

    /// The context that places one segment (or a flush) of the flow in slot `id`.
    fn cx<'a>(
        &'a mut self,
        id: u32,
        scan: &'a mut dyn FnMut(&mut FlowFacts, &[u8], bool),
        pauses: bool,
        feed: Feed,
    ) -> Option<Cx<'a>> {
        let FlowTable {
            slots,
            scratch,
            pool,
            carries,
            budget,
            ..
        } = self;
        Some(Cx {
            id,
            slot: slots.get_mut(id as usize)?,
            pool,
            carries,
            scratch,
            budget: *budget,
            scan,
            pauses,
            feed,
        })
    }

    /// The facts of a flow, if it is tracked (does not create it or change its LRU place).
    pub fn get(&self, key: &FlowKey) -> Option<&FlowFacts> {
        let id = self.lookup(key)?;
        self.slots.get(id as usize).map(|s| &s.facts)
    }

    /// Forgets a flow (conntrack DESTROY, or FIN/RST seen). Returns whether it was there.
    pub fn remove(&mut self, key: &FlowKey) -> bool {
        match self.unindex(key) {
            Some(id) => {
                self.release(id);
                true
            }
            None => false,
        }
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Flows evicted because the table was full, since start.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// The budget each flow is inspected for.
    pub fn budget(&self) -> u32 {
        self.budget
    }

    /// Bytes of the reorder pool in use (whole blocks) and its size.
    pub fn pool_usage(&self) -> (usize, usize) {
        (self.pool.used(), self.pool.capacity())
    }

    /// Carries held by flows being inspected, and the number of entries for them.
    pub fn carry_usage(&self) -> (usize, usize) {
        (self.carries.used(), self.carries.capacity())
    }

    /// Carries taken from a flow because every entry was in use (that flow's next window
    /// started without one), since start.
    pub fn carries_lost(&self) -> u64 {
        self.carries.stolen()
    }

    /// The slot of `key`, made the most recently used; a new flow takes a free slot or the
    /// least recently used one.
    /// The slot of `key`, created if new (the bool says so), made the most recently used.
    fn slot_for(&mut self, key: &FlowKey) -> (u32, bool) {
        if let Some(id) = self.lookup(key) {
            self.unlink(id);
            self.push_front(id);
            return (id, false);
        }
        if self.index.len() >= self.capacity {
            self.evict_lru();
        }
        let id = if self.free != NONE {
            let id = self.free;
            if let Some(slot) = self.slots.get_mut(id as usize) {
                self.free = slot.next;
                *slot = Slot::new(*key);
            }
            id
        } else {
            self.slots.push(Slot::new(*key));
            (self.slots.len() - 1) as u32
        };
        self.index.insert(key, id);
        self.push_front(id);
        (id, true)
    }

    fn lookup(&self, key: &FlowKey) -> Option<u32> {
        let slots = &self.slots;
        self.index
            .get(key, &|id| slots.get(id as usize).map(|s| s.key))
    }

    fn unindex(&mut self, key: &FlowKey) -> Option<u32> {
        let FlowTable { index, slots, .. } = self;
        index.remove(key, &|id| slots.get(id as usize).map(|s| s.key))
    }

    fn evict_lru(&mut self) -> bool {
        let id = self.tail;
        let Some(key) = self.slots.get(id as usize).map(|s| s.key) else {
            return false;
        };
        self.unindex(&key);
        self.release(id);
        self.evicted += 1;
        true
    }

    /// Unlinks a slot already removed from the index, frees its held bytes and puts it on the
    /// free list.
    fn release(&mut self, id: u32) {
        self.unlink(id);
        if let Some(slot) = self.slots.get_mut(id as usize) {
            stop(slot, id, &mut self.pool, &mut self.carries);
            slot.facts = FlowFacts::default();
            slot.next = self.free;
            self.free = id;
        }
    }

    fn unlink(&mut self, id: u32) {
        let Some((prev, next)) = self.slots.get(id as usize).map(|s| (s.prev, s.next)) else {
            return;
        };
        match self.slots.get_mut(prev as usize) {
            Some(p) => p.next = next,
            None => self.head = next,
        }
        match self.slots.get_mut(next as usize) {
            Some(n) => n.prev = prev,
            None => self.tail = prev,
        }
        if let Some(s) = self.slots.get_mut(id as usize) {
            s.prev = NONE;
            s.next = NONE;
        }
    }

    fn push_front(&mut self, id: u32) {
        let old = self.head;
        if let Some(s) = self.slots.get_mut(id as usize) {
            s.prev = NONE;
            s.next = old;
        }
        match self.slots.get_mut(old as usize) {
            Some(o) => o.prev = id,
            None => self.tail = id,
        }
        self.head = id;
    }
}

impl FlowTable {
    fn push_back(&mut self, id: u32) {
        let old = self.tail;
        if let Some(s) = self.slots.get_mut(id as usize) {
            s.prev = old;
            s.next = NONE;
        }
        match self.slots.get_mut(old as usize) {
            Some(o) => o.next = id,
            None => self.head = id,
        }
        self.tail = id;
    }
}

/// Frees every segment a flow holds in the pool.
fn release_held(slot: &mut Slot, pool: &mut Pool) {
    let mut id = slot.held;
    while id != NONE {
        let next = pool.get(id).map_or(NONE, |h| h.next);
        pool.free(id);
        id = next;
    }
    slot.held = NONE;
    slot.held_count = 0;
}

/// Frees what a flow keeps for inspection to come: its held segments and its carry (slot `id`).
fn stop(slot: &mut Slot, id: u32, pool: &mut Pool, carries: &mut CarryPool) {
    release_held(slot, pool);
    carries.release(id, &mut slot.stream.carry);
}

/// Where the bytes of a window come from.
#[derive(Clone, Copy)]
enum Bytes<'p> {
    Slice(&'p [u8]),
    /// A held segment, from `skip` bytes in.
    Held {
        id: u32,
        skip: usize,
    },
}

impl Cx<'_> {
    fn datagram(&mut self, payload: &[u8]) {
        let slot = &mut *self.slot;
        if slot.spent || payload.is_empty() {
            return;
        }
        let take = payload
            .len()
            .min(self.budget.saturating_sub(slot.inspected) as usize);
        (self.scan)(
            &mut slot.facts,
            payload.get(..take).unwrap_or(payload),
            true,
        );
        self.account(take);
    }

    fn segment(&mut self, info: TcpInfo, payload: &[u8]) {
        let mut start = info.seq;
        if info.syn {
            start = info.seq.wrapping_add(1);
            if self.slot.stream.syn_is_new(start) {
                // The 4-tuple was reused by a new connection the caller did not remove: start
                // its stream (and budget) afresh.
                stop(self.slot, self.id, self.pool, self.carries);
                self.slot.inspected = 0;
                self.slot.spent = false;
                self.slot.stream = Stream::NEW;
                // A new connection: what was found (and reported) in the old one is not its.
                self.slot.facts = FlowFacts::default();
            }
            self.slot.stream.has_syn = true;
            self.slot.stream.syn_next = start;
        }
        if !self.slot.stream.synced {
            self.slot.stream.next = start;
            self.slot.stream.synced = true;
        }
        if self.slot.spent || payload.is_empty() {
            return;
        }
        match self.slot.stream.place(start, payload.len()) {
            Place::Old => self.feed.duplicate = true,
            Place::InOrder { skip } => {
                self.deliver(Bytes::Slice(payload.get(skip..).unwrap_or(&[])));
                self.drain();
            }
            Place::Ahead { offset } => {
                // A segment that starts past the budget holds nothing we would scan: ignore it
                // rather than skip forward over the gap, whose bytes are within the budget and
                // will come again (one lost segment early in a flow is ordinary Wi-Fi).
                let remaining = self.budget.saturating_sub(self.slot.inspected);
                if offset >= remaining {
                    return;
                }
                if !self.hold(start, offset, payload) {
                    self.skip_forward();
                    self.continue_at(start, Bytes::Slice(payload));
                }
            }
        }
    }

    /// Holds an early segment; false when it cannot (see the module's reorder policy).
    fn hold(&mut self, seq: u32, offset: u32, payload: &[u8]) -> bool {
        let slot = &mut *self.slot;
        let remaining = self.budget.saturating_sub(slot.inspected);
        if offset >= remaining || slot.held_count >= MAX_HELD_PER_FLOW {
            return false;
        }
        let keep = payload.len().min((remaining - offset) as usize);
        let data = payload.get(..keep).unwrap_or(payload);
        // Find the place in the flow's list (sorted by offset) and drop exact or contained
        // repeats of what is already held.
        let next = slot.stream.next;
        let end = offset as usize + keep;
        let mut prev = NONE;
        let mut cur = slot.held;
        while let Some(h) = self.pool.get(cur) {
            let h_off = h.seq.wrapping_sub(next) as usize;
            if h_off <= offset as usize && end <= h_off + h.len as usize {
                self.feed.held = true;
                self.feed.duplicate = true;
                return true;
            }
            if h_off > offset as usize {
                break;
            }
            prev = cur;
            cur = h.next;
        }
        let Some(id) = self.pool.insert(seq, data) else {
            return false;
        };
        if let Some(h) = self.pool.get_mut(id) {
            h.next = cur;
        }
        match self.pool.get_mut(prev) {
            Some(p) => p.next = id,
            None => slot.held = id,
        }
        slot.held_count += 1;
        self.feed.held = true;
        true
    }

    /// Scans the held segments that the stream has reached.
    fn drain(&mut self) {
        while let Some(h) = self.pool.get(self.slot.held).copied() {
            let delta = h.seq.wrapping_sub(self.slot.stream.next) as i32;
            if delta > 0 {
                break;
            }
            let id = self.slot.held;
            self.unlink_head(h.next);
            let skip = delta.unsigned_abs() as usize;
            if skip < h.len as usize {
                self.deliver(Bytes::Held { id, skip });
            }
            self.pool.free(id);
        }
    }

    /// Accepts every gap: scans each held segment in order, each one after a gap starting a
    /// fresh window.
    fn skip_forward(&mut self) {
        while let Some(h) = self.pool.get(self.slot.held).copied() {
            let id = self.slot.held;
            self.unlink_head(h.next);
            self.continue_at(h.seq, Bytes::Held { id, skip: 0 });
            self.pool.free(id);
        }
    }

    /// Scans `bytes` starting at `seq`, wherever the stream is: trimmed if partly old, after a
    /// skipped gap (with no carry) if ahead.
    fn continue_at(&mut self, seq: u32, bytes: Bytes<'_>) {
        let delta = seq.wrapping_sub(self.slot.stream.next) as i32;
        if delta > 0 {
            self.slot.stream.next = seq;
            // The next window does not continue the last one.
            self.carries.release(self.id, &mut self.slot.stream.carry);
            self.deliver(bytes);
            return;
        }
        let more = delta.unsigned_abs() as usize;
        let bytes = match bytes {
            Bytes::Slice(s) => match s.get(more..) {
                Some(rest) => Bytes::Slice(rest),
                None => return,
            },
            Bytes::Held { id, skip } => Bytes::Held {
                id,
                skip: skip + more,
            },
        };
        self.deliver(bytes);
    }

    fn unlink_head(&mut self, next: u32) {
        self.slot.held = next;
        self.slot.held_count = self.slot.held_count.saturating_sub(1);
    }

    /// Scans the carry plus the in-order `bytes` (within the budget) and advances the stream
    /// past all of them.
    fn deliver(&mut self, bytes: Bytes<'_>) {
        let len = match bytes {
            Bytes::Slice(s) => s.len(),
            Bytes::Held { id, skip } => self
                .pool
                .get(id)
                .map_or(0, |h| (h.len as usize).saturating_sub(skip)),
        };
        if self.slot.spent || len == 0 {
            return;
        }
        let take = len.min(self.budget.saturating_sub(self.slot.inspected) as usize);
        let slot = &mut *self.slot;
        self.scratch.clear();
        self.scratch
            .extend_from_slice(self.carries.get(self.id, slot.stream.carry));
        // Whether more bytes follow this window at once: known for the current segment; a held
        // segment's own flags are not kept, so its window counts as complete.
        let complete = match bytes {
            Bytes::Slice(s) => {
                self.scratch.extend_from_slice(s.get(..take).unwrap_or(s));
                self.pauses || take < s.len()
            }
            Bytes::Held { id, skip } => {
                self.pool.copy_into(id, skip, take, self.scratch);
                true
            }
        };
        (self.scan)(&mut slot.facts, self.scratch, complete);
        slot.stream.next = slot.stream.next.wrapping_add(len as u32);
        self.account(take);
        // A flow whose budget is spent has no next window (`account` gave its carry back).
        if !self.slot.spent {
            self.carries
                .keep(self.id, &mut self.slot.stream.carry, self.scratch);
        }
    }

    /// Counts `take` newly scanned bytes against the budget.
    fn account(&mut self, take: usize) {
        let slot = &mut *self.slot;
        slot.inspected = slot.inspected.saturating_add(take as u32);
        self.feed.scanned = self.feed.scanned.saturating_add(take as u32);
        if slot.inspected >= self.budget {
            slot.spent = true;
            stop(slot, self.id, self.pool, self.carries);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;
    use crate::packet::Proto;

    fn key(n: u16) -> FlowKey {
        FlowKey {
            proto: Proto::Tcp,
            src: IpAddr::V4(Ipv4Addr::new(192, 168, 1, 2)),
            sport: n,
            dst: IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9)),
            dport: 80,
        }
    }

    fn seg(seq: u32) -> Option<TcpInfo> {
        Some(TcpInfo {
            seq,
            ack: true,
            ..TcpInfo::default()
        })
    }

    fn syn(seq: u32) -> Option<TcpInfo> {
        Some(TcpInfo {
            seq,
            syn: true,
            ..TcpInfo::default()
        })
    }

    /// Feeds and records every window.
    fn feed(
        t: &mut FlowTable,
        k: &FlowKey,
        info: Option<TcpInfo>,
        data: &[u8],
        windows: &mut Vec<Vec<u8>>,
    ) -> Feed {
        t.feed(k, info, data, &mut |_, w, _| windows.push(w.to_vec()))
    }

    fn has(windows: &[Vec<u8>], needle: &[u8]) -> bool {
        windows
            .iter()
            .any(|w| w.windows(needle.len()).any(|x| x == needle))
    }

    const VALUE: &[u8; 40] = b"{\"imei\":\"490154203237518\",\"imsi\":\"46000\"";

    #[test]
    fn split_value_is_whole_in_the_second_window() {
        let mut t = FlowTable::new(16, 4096);
        let k = key(1);
        let mut w = Vec::new();
        let a = b"POST /report HTTP/1.1\r\n\r\n{\"imei\":\"4901542";
        let b = b"03237518\"}";
        assert_eq!(
            feed(&mut t, &k, seg(1000), a, &mut w).scanned,
            a.len() as u32
        );
        let f = feed(&mut t, &k, seg(1000 + a.len() as u32), b, &mut w);
        assert_eq!(f.scanned, b.len() as u32);
        assert_eq!(w.len(), 2);
        assert!(!has(&w[..1], b"490154203237518"));
        assert!(has(&w[1..], b"490154203237518"));
    }

    /// Splits VALUE at `cuts` into segments and feeds them after a SYN in `order`.
    fn check_split(cuts: &[usize], reversed: bool, isn: u32) {
        let mut bounds = vec![0];
        bounds.extend_from_slice(cuts);
        bounds.push(VALUE.len());
        let mut parts: Vec<(u32, &[u8])> = bounds
            .windows(2)
            .map(|b| {
                let seq = isn.wrapping_add(1).wrapping_add(b[0] as u32);
                (seq, &VALUE[b[0]..b[1]])
            })
            .collect();
        if reversed {
            parts.reverse();
        }
        let mut t = FlowTable::new(4, 4096);
        let k = key(2);
        let mut w = Vec::new();
        feed(&mut t, &k, syn(isn), b"", &mut w);
        let mut scanned = 0;
        for (seq, data) in parts {
            scanned += feed(&mut t, &k, seg(seq), data, &mut w).scanned;
        }
        assert_eq!(scanned, 40, "cuts {cuts:?} reversed {reversed}");
        assert!(has(&w, VALUE), "cuts {cuts:?} reversed {reversed}: {w:?}");
        assert_eq!(t.pool_usage().0, 0);
    }

    #[test]
    fn every_split_in_order_and_reversed() {
        for isn in [7, u32::MAX - 20] {
            for i in 1..VALUE.len() {
                check_split(&[i], false, isn);
                check_split(&[i], true, isn);
                for j in i + 1..VALUE.len() {
                    check_split(&[i, j], false, isn);
                    check_split(&[i, j], true, isn);
                }
            }
        }
    }

    #[test]
    fn retransmissions_are_not_rescanned() {
        let mut t = FlowTable::new(4, 4096);
        let k = key(3);
        let mut w = Vec::new();
        feed(&mut t, &k, syn(99), b"", &mut w);
        assert_eq!(
            feed(&mut t, &k, seg(100), b"abcdefghij", &mut w).scanned,
            10
        );
        // Exact retransmission.
        let f = feed(&mut t, &k, seg(100), b"abcdefghij", &mut w);
        assert_eq!(
            f,
            Feed {
                duplicate: true,
                ..Feed::default()
            }
        );
        assert_eq!(w.len(), 1);
        // Partial overlap: only `klmno` is new.
        let f = feed(&mut t, &k, seg(105), b"fghijklmno", &mut w);
        assert_eq!(f.scanned, 5);
        assert_eq!(w.last().unwrap(), b"abcdefghijklmno");
        // A retransmission of held bytes is held once.
        let f = feed(&mut t, &k, seg(120), b"uvwxy", &mut w);
        assert!(f.held && !f.duplicate);
        let f = feed(&mut t, &k, seg(120), b"uvwxy", &mut w);
        assert!(f.held && f.duplicate);
        assert_eq!(t.pool_usage().0, 512);
        let f = feed(&mut t, &k, seg(115), b"pqrst", &mut w);
        assert_eq!(f.scanned, 10);
        assert!(has(&w, b"abcdefghijklmnopqrstuvwxy"));
        assert_eq!(t.pool_usage().0, 0);
    }

    #[test]
    fn sequence_wraps_around() {
        let mut t = FlowTable::new(4, 4096);
        let k = key(4);
        let mut w = Vec::new();
        let isn = u32::MAX - 5;
        feed(&mut t, &k, syn(isn), b"", &mut w);
        // Bytes at u32::MAX-4 ..= u32::MAX, then 0.., sent out of order.
        let f = feed(&mut t, &k, seg(1), b"ghij", &mut w);
        assert!(f.held);
        let f = feed(&mut t, &k, seg(u32::MAX - 4), b"abcdefghij", &mut w);
        assert_eq!(f.scanned, 10);
        assert_eq!(w.last().unwrap(), b"abcdefghij");
        // A retransmission from before the wrap is old.
        assert!(feed(&mut t, &k, seg(u32::MAX - 2), b"cde", &mut w).duplicate);
        assert_eq!(feed(&mut t, &k, seg(4), b"jklm", &mut w).scanned, 3);
        assert_eq!(w.last().unwrap(), b"abcdefghijklm");
    }

    #[test]
    fn budget_stops_scanning_exactly() {
        let mut t = FlowTable::new(4, 100);
        let k = key(5);
        let mut w = Vec::new();
        let data = [b'x'; 40];
        let f1 = feed(&mut t, &k, seg(0), &data, &mut w);
        let f2 = feed(&mut t, &k, seg(40), &data, &mut w);
        let f3 = feed(&mut t, &k, seg(80), &data, &mut w);
        assert_eq!((f1.scanned, f2.scanned, f3.scanned), (40, 40, 20));
        assert!(!f1.budget_spent && !f2.budget_spent && f3.budget_spent);
        // The last window is the carry plus exactly 20 new bytes.
        assert_eq!(w[2].len(), 80 + 20);
        let f4 = feed(&mut t, &k, seg(120), &data, &mut w);
        assert_eq!(
            f4,
            Feed {
                budget_spent: true,
                ..Feed::default()
            }
        );
        assert_eq!(w.len(), 3);

        // UDP: each datagram alone, within the budget.
        let u = FlowKey {
            proto: Proto::Udp,
            ..key(6)
        };
        let mut w = Vec::new();
        assert_eq!(feed(&mut t, &u, None, &[1; 70], &mut w).scanned, 70);
        let f = feed(&mut t, &u, None, &[2; 70], &mut w);
        assert_eq!((f.scanned, f.budget_spent), (30, true));
        assert_eq!(w, vec![vec![1; 70], vec![2; 30]]);
        assert_eq!(feed(&mut t, &u, None, &[3; 5], &mut w).scanned, 0);
    }

    #[test]
    fn held_bytes_beyond_the_budget_are_not_kept() {
        let mut t = FlowTable::new(4, 100);
        let k = key(7);
        let mut w = Vec::new();
        feed(&mut t, &k, syn(0), b"", &mut w);
        assert!(feed(&mut t, &k, seg(51), &[b'b'; 400], &mut w).held);
        let f = feed(&mut t, &k, seg(1), &[b'a'; 50], &mut w);
        assert_eq!((f.scanned, f.budget_spent), (100, true));
        assert_eq!(t.pool_usage().0, 0);
    }

    #[test]
    fn a_syn_flood_does_not_push_out_flows_being_inspected() {
        let mut t = FlowTable::new(4, 4096);
        let mut w = Vec::new();
        for n in 1..=3 {
            feed(&mut t, &key(n), syn(0), b"", &mut w);
            feed(&mut t, &key(n), seg(1), b"POST /", &mut w);
        }
        for n in 100..1100 {
            feed(&mut t, &key(n), syn(0), b"", &mut w);
        }
        assert!((1..=3).all(|n| t.get(&key(n)).is_some()));
        assert_eq!(t.evicted(), 999);
        // A new connection that goes on to send data is an ordinary flow from then on.
        feed(&mut t, &key(2000), syn(0), b"", &mut w);
        feed(&mut t, &key(2000), seg(1), b"GET /", &mut w);
        feed(&mut t, &key(2001), syn(0), b"", &mut w);
        assert!(t.get(&key(2000)).is_some());
    }

    #[test]
    fn capacity_evicts_the_least_recently_used() {
        let mut t = FlowTable::new(3, 4096);
        let mut w = Vec::new();
        for n in 1..=3 {
            feed(&mut t, &key(n), seg(0), b"a", &mut w);
        }
        feed(&mut t, &key(1), seg(1), b"b", &mut w);
        t.feed(&key(3), seg(1), b"c", &mut |f, _, _| f.leaked = true);
        assert_eq!((t.len(), t.evicted()), (3, 0));
        feed(&mut t, &key(4), seg(0), b"a", &mut w);
        assert_eq!((t.len(), t.evicted()), (3, 1));
        assert!(t.get(&key(2)).is_none());
        assert!(t.get(&key(1)).is_some() && t.get(&key(4)).is_some());
        assert!(t.get(&key(3)).unwrap().leaked);
        feed(&mut t, &key(5), seg(0), b"a", &mut w);
        assert!(t.get(&key(1)).is_none(), "1 was the least recently used");
        assert_eq!((t.len(), t.capacity(), t.evicted()), (3, 3, 2));
        // Many more flows: the table never grows.
        for n in 10..1000 {
            feed(&mut t, &key(n), seg(0), b"a", &mut w);
        }
        assert_eq!(t.len(), 3);
        assert_eq!(t.slots.len(), 3);
        assert_eq!(t.evicted(), 2 + 990);
        assert!(t.remove(&key(999)));
        assert!(!t.remove(&key(999)));
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn remove_and_evict_free_held_bytes() {
        let mut t = FlowTable::new(2, 4096);
        let mut w = Vec::new();
        feed(&mut t, &key(1), syn(0), b"", &mut w);
        assert!(feed(&mut t, &key(1), seg(100), &[0; 1000], &mut w).held);
        assert_eq!(t.pool_usage().0, 1024);
        assert!(t.remove(&key(1)));
        assert_eq!(t.pool_usage().0, 0);
        feed(&mut t, &key(1), syn(0), b"", &mut w);
        feed(&mut t, &key(1), seg(100), &[0; 1000], &mut w);
        feed(&mut t, &key(2), seg(0), b"a", &mut w);
        feed(&mut t, &key(3), seg(0), b"a", &mut w);
        assert_eq!(t.evicted(), 1);
        assert_eq!(t.pool_usage().0, 0);
    }

    #[test]
    fn a_gap_that_never_fills_does_not_stall_inspection() {
        let mut t = FlowTable::new(4, 4096);
        let k = key(8);
        let mut w = Vec::new();
        feed(&mut t, &k, syn(0), b"", &mut w);
        // Byte 1..11 never arrives; eight segments are held, the ninth skips the gap.
        for i in 0..8u32 {
            let data = format!("seg{i}------");
            let f = feed(&mut t, &k, seg(11 + i * 10), data.as_bytes(), &mut w);
            assert!(f.held, "{i}");
        }
        assert!(w.is_empty());
        let f = feed(&mut t, &k, seg(91), b"seg8------", &mut w);
        assert_eq!(f.scanned, 90);
        assert!(!f.held);
        assert!(w[0].starts_with(b"seg0"), "no carry after a gap");
        assert!(has(&w, b"seg7------seg8"));
        // The gap's bytes arriving late are old.
        assert!(feed(&mut t, &k, seg(1), b"0123456789", &mut w).duplicate);
        // Flush scans what is held, past its gap.
        w.clear();
        assert!(feed(&mut t, &k, seg(200), b"late", &mut w).held);
        let f = t.flush(&k, &mut |_, x, _| w.push(x.to_vec()));
        assert_eq!(f.scanned, 4);
        assert_eq!(w, vec![b"late".to_vec()]);
        assert_eq!(t.flush(&key(99), &mut |_, _, _| panic!()), Feed::default());
    }

    #[test]
    fn pool_stays_bounded_under_a_flood_of_early_segments() {
        let mut t = FlowTable::with_pool(2000, 65536, 64 * 1024);
        let mut w = 0usize;
        let mut per_flow = vec![0u32; 1000];
        for n in 0..1000u16 {
            t.feed(&key(n), syn(0), b"", &mut |_, _, _| ());
        }
        for round in 0..20u32 {
            for n in 0..1000u16 {
                // Never the first segment: every flow has a gap at byte 1.
                let seq = 1 + 1400 * (20 - round);
                let f = t.feed(&key(n), seg(seq), &[b'z'; 1400], &mut |_, x, _| {
                    assert!(x.len() <= 1400 + CARRY);
                    w += 1;
                });
                per_flow[n as usize] += f.scanned;
                let (used, cap) = t.pool_usage();
                assert!(used <= cap);
            }
        }
        assert!(w > 0);
        assert!(per_flow.iter().all(|s| *s <= 65536));
        for n in 0..1000u16 {
            t.remove(&key(n));
        }
        assert_eq!(t.pool_usage().0, 0);
    }

    #[test]
    fn reconfigure_shrinks_and_changes_the_budget() {
        let mut t = FlowTable::new(8, 4096);
        let mut w = Vec::new();
        for n in 0..8 {
            feed(&mut t, &key(n), seg(0), &[0; 50], &mut w);
        }
        t.reconfigure(4, 60);
        assert_eq!(
            (t.len(), t.capacity(), t.evicted(), t.budget()),
            (4, 4, 4, 60)
        );
        assert!(t.get(&key(3)).is_none() && t.get(&key(4)).is_some());
        let f = feed(&mut t, &key(7), seg(50), &[0; 50], &mut w);
        assert_eq!((f.scanned, f.budget_spent), (10, true));
        t.reconfigure(16, 4096);
        for n in 100..116 {
            feed(&mut t, &key(n), seg(0), &[0; 10], &mut w);
        }
        assert_eq!(t.len(), 16);
        assert!(t.slots.len() <= 16);
    }

    #[test]
    fn a_new_syn_restarts_the_stream() {
        let mut t = FlowTable::new(4, 100);
        let k = key(9);
        let mut w = Vec::new();
        feed(&mut t, &k, syn(0), b"", &mut w);
        assert!(feed(&mut t, &k, seg(1), &[0; 100], &mut w).budget_spent);
        feed(&mut t, &k, syn(5000), b"", &mut w);
        let f = feed(&mut t, &k, seg(5001), b"again", &mut w);
        assert_eq!(f.scanned, 5);
        assert_eq!(w.last().unwrap(), b"again");
        // A retransmitted SYN changes nothing.
        feed(&mut t, &k, syn(5000), b"", &mut w);
        assert!(feed(&mut t, &k, seg(5001), b"again", &mut w).duplicate);
    }

    /// A segment beyond the budget (segments 2 and 3 lost, 4 arrives) must not make the flow
    /// skip the gap: the lost bytes are within the budget and are retransmitted.
    #[test]
    fn a_segment_past_the_budget_does_not_skip_the_gap() {
        let mut t = FlowTable::new(4, 100);
        let k = key(10);
        let mut w = Vec::new();
        feed(&mut t, &k, syn(0), b"", &mut w);
        assert_eq!(feed(&mut t, &k, seg(1), &[b'a'; 30], &mut w).scanned, 30);
        let f = feed(&mut t, &k, seg(151), b"far beyond", &mut w);
        assert_eq!((f.scanned, f.held, f.duplicate), (0, false, false));
        let f = feed(&mut t, &k, seg(31), b"&imei=490154203237518", &mut w);
        assert_eq!(f.scanned, 21);
        assert!(has(&w, b"&imei=490154203237518"));
    }

    #[test]
    fn a_new_syn_forgets_what_the_old_connection_leaked() {
        let mut t = FlowTable::new(4, 100);
        let k = key(11);
        let mut w = Vec::new();
        feed(&mut t, &k, syn(0), b"", &mut w);
        t.feed(&k, seg(1), b"x", &mut |facts, _, _| {
            facts.leaked = true;
            facts.reported.insert(7);
        });
        feed(&mut t, &k, syn(9000), b"", &mut w);
        let facts = t.get(&k).expect("the flow");
        assert!(!facts.leaked && facts.reported.is_empty());
    }

    #[test]
    fn a_flow_costs_little() {
        // 104 bytes on 64-bit hosts, less on 32-bit MIPS; the index adds 8 per flow, the carry
        // pool about 28 (a quarter of a 112-byte entry).
        let size = std::mem::size_of::<Slot>();
        println!("slot: {size} bytes");
        assert!(size <= 120, "{size}");
        assert!(std::mem::size_of::<Stream>() <= 16);
    }

    /// 10,000 TCP flows each mid-inspection with an identifier split across its first two
    /// segments: the carry pool never holds more than its entries; the least recently used
    /// flows lose their carry (and the split value), the newest keep it and find it.
    #[test]
    fn carries_stay_bounded_and_the_newest_keep_theirs() {
        let mut t = FlowTable::new(16384, 4096);
        let (_, entries) = t.carry_usage();
        assert_eq!(entries, 4096);
        let first = b"POST /r HTTP/1.1\r\n\r\n{\"imei\":\"4901542";
        let second = b"03237518\"}";
        let whole = b"\"imei\":\"490154203237518\"";
        let flows = 10_000u16;
        for n in 0..flows {
            t.feed(&key(n), syn(0), b"", &mut |_, _, _| ());
            t.feed(&key(n), seg(1), first, &mut |_, _, _| ());
            assert!(t.carry_usage().0 <= entries);
        }
        assert_eq!(t.carry_usage(), (entries, entries));
        assert_eq!(t.carries_lost(), u64::from(flows) - entries as u64);
        let mut found = |n: u16| {
            let mut w = Vec::new();
            let f = feed(&mut t, &key(n), seg(1 + first.len() as u32), second, &mut w);
            assert_eq!(f.scanned, second.len() as u32);
            has(&w, whole)
        };
        // The newest flows kept their carry; the oldest lost it to them.
        for n in flows - 100..flows {
            assert!(found(n), "flow {n} kept its carry");
        }
        for n in 0..100 {
            assert!(!found(n), "flow {n} lost its carry");
        }
        assert!(t.carry_usage().0 <= entries);
        // Every flow's entry goes back when it is removed.
        for n in 0..flows {
            t.remove(&key(n));
        }
        assert_eq!(t.carry_usage().0, 0);
    }

    #[test]
    fn udp_flows_take_no_carry() {
        let mut t = FlowTable::new(64, 4096);
        for n in 0..50 {
            let u = FlowKey {
                proto: Proto::Udp,
                ..key(n)
            };
            for _ in 0..3 {
                assert_eq!(
                    t.feed(&u, None, b"some datagram", &mut |_, _, _| ())
                        .scanned,
                    13
                );
            }
        }
        assert_eq!(t.carry_usage().0, 0);
    }

    #[test]
    fn a_spent_budget_skipped_gap_or_new_syn_gives_the_carry_back() {
        let mut t = FlowTable::new(4, 100);
        let k = key(12);
        let mut w = Vec::new();
        feed(&mut t, &k, syn(0), b"", &mut w);
        feed(&mut t, &k, seg(1), &[b'a'; 60], &mut w);
        assert_eq!(t.carry_usage().0, 1);
        assert!(feed(&mut t, &k, seg(61), &[b'b'; 60], &mut w).budget_spent);
        assert_eq!(t.carry_usage().0, 0, "spent");

        feed(&mut t, &k, syn(5000), b"", &mut w);
        feed(&mut t, &k, seg(5001), &[b'c'; 10], &mut w);
        assert_eq!(t.carry_usage().0, 1);
        feed(&mut t, &k, syn(9000), b"", &mut w);
        assert_eq!(t.carry_usage().0, 0, "a new connection");

        feed(&mut t, &k, seg(9001), &[b'd'; 10], &mut w);
        assert_eq!(t.carry_usage().0, 1);
        assert!(feed(&mut t, &k, seg(9021), &[b'e'; 10], &mut w).held);
        t.flush(&k, &mut |_, x, _| w.push(x.to_vec()));
        assert_eq!(w.last().unwrap(), &[b'e'; 10], "no carry after a gap");
        assert_eq!(
            t.carry_usage().0,
            1,
            "the window after the gap keeps its own"
        );

        // Evicted: the entry goes back.
        for n in 20..24 {
            feed(&mut t, &key(n), seg(0), b"x", &mut w);
        }
        assert!(t.get(&k).is_none());
        assert_eq!(t.carry_usage().0, 4);
        // Reconfigured budget spends them all.
        t.reconfigure(4, 1);
        assert_eq!(t.carry_usage().0, 0);
    }

    #[test]
    fn reconfigure_resizes_the_carries_keeping_the_newest() {
        let mut t = FlowTable::new(1000, 4096);
        assert_eq!(t.carry_usage(), (0, 250));
        for n in 0..300 {
            feed(&mut t, &key(n), seg(0), b"abc", &mut Vec::new());
        }
        assert_eq!(t.carry_usage(), (250, 250));
        t.reconfigure(400, 4096);
        assert_eq!(t.carry_usage(), (100, 100));
        let mut w = Vec::new();
        feed(&mut t, &key(299), seg(3), b"def", &mut w);
        assert_eq!(w, vec![b"abcdef".to_vec()]);
        w.clear();
        feed(&mut t, &key(150), seg(3), b"def", &mut w);
        assert_eq!(w, vec![b"def".to_vec()]);
        t.reconfigure(40_000, 4096);
        assert_eq!(t.carry_usage(), (100, 10_000));
        w.clear();
        feed(&mut t, &key(299), seg(6), b"ghi", &mut w);
        assert_eq!(w, vec![b"abcdefghi".to_vec()]);
    }

    proptest::proptest! {
        #[test]
        fn random_segments_never_panic_or_overspend(
            ops in proptest::collection::vec(
                (0u16..4, 0u32..600, 0usize..300, 0u8..10),
                0..200,
            ),
            budget in 64u32..400,
        ) {
            let mut t = FlowTable::with_pool(8, budget, 4096);
            let isn = [0u32, u32::MAX - 100, 1 << 31, 77];
            let mut spent = [0u32; 4];
            let data = [b'q'; 300];
            for (flow, off, len, op) in ops {
                let k = key(flow);
                let f = flow as usize;
                match op {
                    0 => {
                        t.feed(&k, syn(isn[f]), b"", &mut |_, _, _| ());
                    }
                    1 => {
                        t.remove(&k);
                        spent[f] = 0;
                    }
                    2 => {
                        spent[f] += t.flush(&k, &mut |_, w, _| assert!(w.len() <= budget as usize + CARRY)).scanned;
                    }
                    _ => {
                        let seq = isn[f].wrapping_add(off);
                        let r = t.feed(&k, seg(seq), &data[..len], &mut |_, w, _| {
                            assert!(w.len() <= budget as usize + CARRY);
                        });
                        spent[f] += r.scanned;
                    }
                }
                proptest::prop_assert!(spent[f] <= budget);
                proptest::prop_assert!(t.pool_usage().0 <= t.pool_usage().1);
            }
            for flow in 0..4 {
                t.remove(&key(flow));
            }
            proptest::prop_assert_eq!(t.pool_usage().0, 0);
        }
    }
}
