//! The flow index: [`FlowKey`] → slot number, as an open-addressing hash table of bare `u32`
//! slot numbers (linear probing, at most half full, backward-shift deletion).
//!
//! Why not `HashMap<FlowKey, u32>`: its buckets hold the 40-byte key again, and with its load
//! factor that is ~90 bytes per flow, more than a third of a flow's whole cost. The key already
//! lives in the slot, so the index stores only the slot number (8 bytes per flow at half load)
//! and asks the table for the key when it compares or moves an entry.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use super::FlowKey;

const EMPTY: u32 = u32::MAX;

pub(crate) struct Index {
    buckets: Vec<u32>,
    len: usize,
    hasher: RandomState,
}

impl Index {
    /// An index for `capacity` keys, allocated now.
    pub fn with_capacity(capacity: usize) -> Index {
        Index {
            buckets: vec![EMPTY; Self::buckets_for(capacity)],
            len: 0,
            hasher: RandomState::new(),
        }
    }

    fn buckets_for(capacity: usize) -> usize {
        capacity.saturating_mul(2).max(8).next_power_of_two()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    fn home(&self, key: &FlowKey) -> usize {
        (self.hasher.hash_one(key) as usize) & (self.buckets.len() - 1)
    }

    fn mask(&self) -> usize {
        self.buckets.len() - 1
    }

    /// The bucket holding `key`, if any. `key_of(id)` is the key stored in slot `id`.
    fn position(&self, key: &FlowKey, key_of: &dyn Fn(u32) -> Option<FlowKey>) -> Option<usize> {
        let mut i = self.home(key);
        loop {
            let id = *self.buckets.get(i)?;
            if id == EMPTY {
                return None;
            }
            if key_of(id).as_ref() == Some(key) {
                return Some(i);
            }
            i = (i + 1) & self.mask();
        }
    }

    pub fn get(&self, key: &FlowKey, key_of: &dyn Fn(u32) -> Option<FlowKey>) -> Option<u32> {
        self.position(key, key_of)
            .and_then(|i| self.buckets.get(i).copied())
    }

    /// Adds `key` → `id`; the caller has checked that `key` is absent and that the index has
    /// room (no more keys than its capacity).
    pub fn insert(&mut self, key: &FlowKey, id: u32) {
        if self.len + 1 > self.buckets.len() / 2 {
            // Never happens within the capacity; refuse rather than loop forever when full.
            return;
        }
        let mut i = self.home(key);
        let mask = self.mask();
        while let Some(b) = self.buckets.get_mut(i) {
            if *b == EMPTY {
                *b = id;
                self.len += 1;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// Removes `key`, returning its slot number.
    pub fn remove(
        &mut self,
        key: &FlowKey,
        key_of: &dyn Fn(u32) -> Option<FlowKey>,
    ) -> Option<u32> {
        let mut hole = self.position(key, key_of)?;
        let id = std::mem::replace(self.buckets.get_mut(hole)?, EMPTY);
        self.len -= 1;
        // Backward shift: pull later entries of the cluster into the hole when their home
        // bucket does not lie between the hole and where they sit.
        let mask = self.mask();
        let mut j = hole;
        loop {
            j = (j + 1) & mask;
            let other = match self.buckets.get(j) {
                Some(&o) if o != EMPTY => o,
                _ => break,
            };
            let Some(other_key) = key_of(other) else {
                break;
            };
            let home = self.home(&other_key);
            if (j.wrapping_sub(home) & mask) >= (j.wrapping_sub(hole) & mask) {
                if let Some(h) = self.buckets.get_mut(hole) {
                    *h = other;
                }
                if let Some(b) = self.buckets.get_mut(j) {
                    *b = EMPTY;
                }
                hole = j;
            }
        }
        Some(id)
    }

    /// Makes room for `capacity` keys, rehashing if the table must grow.
    pub fn reserve(&mut self, capacity: usize, key_of: &dyn Fn(u32) -> Option<FlowKey>) {
        let want = Self::buckets_for(capacity);
        if want <= self.buckets.len() {
            return;
        }
        let old = std::mem::replace(&mut self.buckets, vec![EMPTY; want]);
        self.len = 0;
        for id in old.into_iter().filter(|id| *id != EMPTY) {
            if let Some(k) = key_of(id) {
                self.insert(&k, id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;
    use crate::packet::Proto;

    fn key(n: u32) -> FlowKey {
        FlowKey {
            proto: Proto::Udp,
            src: IpAddr::V4(Ipv4Addr::from(n)),
            sport: n as u16,
            dst: IpAddr::V4(Ipv4Addr::new(1, 1, 1, 1)),
            dport: 53,
        }
    }

    #[test]
    fn inserts_finds_and_removes_under_churn() {
        let mut keys: Vec<Option<FlowKey>> = vec![None; 64];
        let mut ix = Index::with_capacity(64);
        let mut state = 1u32;
        for round in 0..20_000u32 {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let slot = (state >> 16) as usize % 64;
            let lookup = |id: u32| keys.get(id as usize).copied().flatten();
            match keys[slot] {
                Some(k) => {
                    assert_eq!(ix.get(&k, &lookup), Some(slot as u32));
                    assert_eq!(ix.remove(&k, &lookup), Some(slot as u32));
                    keys[slot] = None;
                    let lookup = |id: u32| keys.get(id as usize).copied().flatten();
                    assert_eq!(ix.get(&k, &lookup), None);
                }
                None => {
                    let k = key(round);
                    assert_eq!(ix.get(&k, &lookup), None);
                    ix.insert(&k, slot as u32);
                    keys[slot] = Some(k);
                }
            }
            let lookup = |id: u32| keys.get(id as usize).copied().flatten();
            assert_eq!(ix.len(), keys.iter().flatten().count());
            for (i, k) in keys.iter().enumerate() {
                if let Some(k) = k {
                    assert_eq!(ix.get(k, &lookup), Some(i as u32));
                }
            }
        }
        let lookup = |id: u32| keys.get(id as usize).copied().flatten();
        ix.reserve(1000, &lookup);
        for (i, k) in keys.iter().enumerate() {
            if let Some(k) = k {
                assert_eq!(ix.get(k, &lookup), Some(i as u32));
            }
        }
    }
}
