//! The reorder pool: TCP segments that arrived ahead of a gap, held until the gap fills.
//!
//! One pool is shared by every flow and allocated once: a byte arena cut into fixed blocks and
//! a table of segment descriptors, both with free lists, so holding and releasing a segment
//! allocates nothing. A segment spans as many chained blocks as it needs. The pool never
//! grows; when it is full the caller decides what gives way (see [`super::table`]).

/// Block size: a full-size Ethernet segment (1460 bytes) takes three.
const BLOCK: usize = 512;

/// "No index" in the free lists and the per-flow lists.
pub(crate) const NONE: u32 = u32::MAX;

/// A held segment.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Held {
    /// Sequence number of its first byte.
    pub seq: u32,
    /// Bytes held (possibly fewer than the segment carried: only the budget's worth is kept).
    pub len: u32,
    /// The next held segment of the same flow (in sequence order), or the next free descriptor.
    pub next: u32,
    first_block: u32,
}

pub(crate) struct Pool {
    data: Vec<u8>,
    /// Per block: the next block of the same segment, or the next free block.
    block_next: Vec<u32>,
    free_block: u32,
    free_blocks: usize,
    segs: Vec<Held>,
    free_seg: u32,
}

impl Pool {
    /// A pool of about `bytes` bytes (at least one block).
    pub fn new(bytes: usize) -> Pool {
        let blocks = (bytes / BLOCK).clamp(1, NONE as usize - 1);
        let link = |i: usize| if i + 1 < blocks { i as u32 + 1 } else { NONE };
        Pool {
            data: vec![0; blocks * BLOCK],
            block_next: (0..blocks).map(link).collect(),
            free_block: 0,
            free_blocks: blocks,
            segs: (0..blocks)
                .map(|i| Held {
                    seq: 0,
                    len: 0,
                    next: link(i),
                    first_block: NONE,
                })
                .collect(),
            free_seg: 0,
        }
    }

    /// Bytes the pool can hold in all.
    pub fn capacity(&self) -> usize {
        self.data.len()
    }

    /// Bytes of blocks in use (rounded up to whole blocks per segment).
    pub fn used(&self) -> usize {
        (self.block_next.len() - self.free_blocks) * BLOCK
    }

    /// Holds `data` as the segment starting at `seq`; `None` when the pool lacks room.
    pub fn insert(&mut self, seq: u32, data: &[u8]) -> Option<u32> {
        let need = data.len().div_ceil(BLOCK).max(1);
        if need > self.free_blocks || self.free_seg == NONE {
            return None;
        }
        let id = self.free_seg;
        let first = self.free_block;
        // Take `need` blocks off the free list, copying as we go; the last one ends the chain.
        let mut block = first;
        for (i, chunk) in data.chunks(BLOCK).enumerate() {
            let at = block as usize * BLOCK;
            if let Some(dst) = self.data.get_mut(at..at + chunk.len()) {
                dst.copy_from_slice(chunk);
            }
            let next = self.block_next.get(block as usize).copied().unwrap_or(NONE);
            if i + 1 == need {
                self.free_block = next;
                if let Some(n) = self.block_next.get_mut(block as usize) {
                    *n = NONE;
                }
            }
            block = next;
        }
        if data.is_empty() {
            self.free_block = self.block_next.get(first as usize).copied().unwrap_or(NONE);
            if let Some(n) = self.block_next.get_mut(first as usize) {
                *n = NONE;
            }
        }
        self.free_blocks -= need;
        let seg = self.segs.get_mut(id as usize)?;
        self.free_seg = seg.next;
        *seg = Held {
            seq,
            len: data.len() as u32,
            next: NONE,
            first_block: first,
        };
        Some(id)
    }

    pub fn get(&self, id: u32) -> Option<&Held> {
        self.segs.get(id as usize)
    }

    pub fn get_mut(&mut self, id: u32) -> Option<&mut Held> {
        self.segs.get_mut(id as usize)
    }

    /// Appends `take` bytes of segment `id`, starting `skip` bytes in, to `out`.
    pub fn copy_into(&self, id: u32, skip: usize, take: usize, out: &mut Vec<u8>) {
        let Some(seg) = self.get(id) else { return };
        let end = (skip + take).min(seg.len as usize);
        let mut block = seg.first_block;
        let mut pos = 0; // stream offset of `block`'s first byte within the segment
        while block != NONE && pos < end {
            let lo = skip.max(pos);
            let hi = end.min(pos + BLOCK);
            if lo < hi {
                let at = block as usize * BLOCK;
                if let Some(src) = self.data.get(at + (lo - pos)..at + (hi - pos)) {
                    out.extend_from_slice(src);
                }
            }
            pos += BLOCK;
            block = self.block_next.get(block as usize).copied().unwrap_or(NONE);
        }
    }

    /// Releases segment `id` and its blocks.
    pub fn free(&mut self, id: u32) {
        let Some(seg) = self.segs.get_mut(id as usize) else {
            return;
        };
        let mut block = seg.first_block;
        seg.first_block = NONE;
        seg.len = 0;
        seg.next = self.free_seg;
        self.free_seg = id;
        while block != NONE {
            let Some(link) = self.block_next.get_mut(block as usize) else {
                break;
            };
            let next = *link;
            *link = self.free_block;
            self.free_block = block;
            self.free_blocks += 1;
            block = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_and_returns_bytes() {
        let mut p = Pool::new(4 * BLOCK);
        let data: Vec<u8> = (0..1300u32).map(|i| i as u8).collect();
        let id = p.insert(7, &data).unwrap();
        assert_eq!(p.used(), 3 * BLOCK);
        let mut out = Vec::new();
        p.copy_into(id, 0, data.len(), &mut out);
        assert_eq!(out, data);
        out.clear();
        p.copy_into(id, 500, 100, &mut out);
        assert_eq!(out, &data[500..600]);
        out.clear();
        p.copy_into(id, 1000, 1000, &mut out);
        assert_eq!(out, &data[1000..]);
        assert!(p.insert(8, &data).is_none(), "one block left");
        let small = p.insert(9, b"abc").unwrap();
        assert!(p.insert(10, b"x").is_none());
        p.free(id);
        p.free(small);
        assert_eq!(p.used(), 0);
        let id = p.insert(11, &[1; 4 * BLOCK]).unwrap();
        out.clear();
        p.copy_into(id, 0, 4 * BLOCK, &mut out);
        assert_eq!(out, vec![1; 4 * BLOCK]);
        p.free(id);
        assert_eq!(p.used(), 0);
        let e = p.insert(12, b"").unwrap();
        assert_eq!(p.used(), BLOCK);
        p.free(e);
        assert_eq!(p.used(), 0);
    }
}
