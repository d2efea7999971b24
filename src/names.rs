//! Destination names: a bounded map from an address to the name a device knew it by (HTTP Host,
//! TLS SNI, DNS answers seen before the flow).
//!
//! Names are learned rarely (once per DNS answer or new connection), read more often (allow
//! rules by host name, reports), so the cache favours cheap lookups and a fixed footprint: a
//! vector of at most `capacity` entries reserved up front, a hash index reserved likewise, and
//! each name in its own `String` allocated only when an entry first gets a name longer than it
//! held (a replaced entry reuses its buffer). When full, the *clock* policy picks the entry to
//! replace: the hand sweeps the entries in insertion order, sparing once each one learned again
//! since the hand last passed (a name still in use is seen again in DNS answers), and replaces
//! the first one not learned again — FIFO with a second chance.

use std::collections::HashMap;
use std::net::IpAddr;

/// Longest name kept (a DNS name's limit); longer ones are not learned.
pub const MAX_NAME: usize = 253;

struct Entry {
    ip: IpAddr,
    name: String,
    /// Learned again since the clock hand last passed.
    again: bool,
}

pub struct NameCache {
    entries: Vec<Entry>,
    index: HashMap<IpAddr, u32>,
    capacity: usize,
    /// The clock hand: the next entry considered for replacement.
    hand: usize,
}

impl NameCache {
    /// A cache for `capacity` names; 0 learns nothing.
    pub fn new(capacity: usize) -> NameCache {
        let capacity = capacity.min(u32::MAX as usize);
        NameCache {
            entries: Vec::with_capacity(capacity),
            index: HashMap::with_capacity(capacity),
            capacity,
            hand: 0,
        }
    }

    /// Learns that `ip` is called `name` (lower-cased, without a trailing dot). A name that is
    /// empty, longer than [`MAX_NAME`] or not printable ASCII is ignored.
    pub fn insert(&mut self, ip: IpAddr, name: &str) {
        let name = name.strip_suffix('.').unwrap_or(name);
        if self.capacity == 0
            || name.is_empty()
            || name.len() > MAX_NAME
            || !name.bytes().all(|b| b.is_ascii_graphic())
        {
            return;
        }
        let ip = ip.to_canonical();
        if let Some(&i) = self.index.get(&ip) {
            if let Some(e) = self.entries.get_mut(i as usize) {
                e.again = true;
                if !e.name.eq_ignore_ascii_case(name) {
                    set_name(&mut e.name, name);
                }
            }
            return;
        }
        if self.entries.len() < self.capacity {
            let mut e = Entry {
                ip,
                name: String::new(),
                again: false,
            };
            set_name(&mut e.name, name);
            self.index.insert(ip, self.entries.len() as u32);
            self.entries.push(e);
            return;
        }
        let victim = self.sweep();
        if let Some(e) = self.entries.get_mut(victim) {
            self.index.remove(&e.ip);
            e.ip = ip;
            e.again = false;
            set_name(&mut e.name, name);
            self.index.insert(ip, victim as u32);
        }
    }

    /// Moves the clock hand to the entry to replace and returns it.
    fn sweep(&mut self) -> usize {
        let n = self.entries.len();
        // Two turns at most: the first clears every `again`.
        for _ in 0..2 * n {
            let i = self.hand;
            self.hand = (self.hand + 1) % n.max(1);
            match self.entries.get_mut(i) {
                Some(e) if e.again => e.again = false,
                _ => return i,
            }
        }
        self.hand
    }

    /// The name `ip` was last known by.
    pub fn get(&self, ip: IpAddr) -> Option<&str> {
        let i = *self.index.get(&ip.to_canonical())?;
        self.entries.get(i as usize).map(|e| e.name.as_str())
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

/// Replaces `buf` with the lower-cased `name`, reusing its allocation when it is large enough.
fn set_name(buf: &mut String, name: &str) {
    buf.clear();
    buf.extend(name.chars().map(|c| c.to_ascii_lowercase()));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([203, 0, 113, n])
    }

    #[test]
    fn learns_and_looks_up() {
        let mut c = NameCache::new(4);
        assert!(c.is_empty());
        c.insert(ip(1), "zzhc.vnet.cn.");
        c.insert("2001:db8::1".parse().unwrap(), "Example.COM");
        assert_eq!(c.get(ip(1)), Some("zzhc.vnet.cn"));
        assert_eq!(
            c.get("::ffff:203.0.113.1".parse().unwrap()),
            Some("zzhc.vnet.cn")
        );
        assert_eq!(c.get("2001:db8::1".parse().unwrap()), Some("example.com"));
        assert_eq!(c.get(ip(2)), None);
        c.insert(ip(1), "other.example");
        assert_eq!(c.get(ip(1)), Some("other.example"));
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn refuses_bad_names() {
        let mut c = NameCache::new(4);
        c.insert(ip(1), "");
        c.insert(ip(2), ".");
        c.insert(ip(3), "with space.example");
        c.insert(ip(4), &"a".repeat(254));
        c.insert(ip(5), "tést.example");
        assert!(c.is_empty());
        let mut none = NameCache::new(0);
        none.insert(ip(1), "a.example");
        assert_eq!(none.get(ip(1)), None);
    }

    #[test]
    fn replaces_the_oldest_when_full() {
        let mut c = NameCache::new(3);
        for n in 1..=3 {
            c.insert(ip(n), &format!("h{n}.example"));
        }
        c.insert(ip(4), "h4.example");
        assert_eq!(c.len(), 3);
        assert_eq!(c.get(ip(1)), None, "the oldest goes first");
        assert_eq!(c.get(ip(4)), Some("h4.example"));
        // Learned again: 2 gets a second chance, 3 goes.
        c.insert(ip(2), "h2.example");
        c.insert(ip(5), "h5.example");
        assert_eq!(c.get(ip(3)), None);
        assert_eq!(c.get(ip(2)), Some("h2.example"));
        assert_eq!(c.get(ip(5)), Some("h5.example"));
        // Many more: bounded, and every kept entry is still found.
        for n in 10..250 {
            c.insert(ip(n), &format!("n{n}.example"));
        }
        assert_eq!(c.len(), 3);
        assert_eq!(c.index.len(), 3);
        for n in 247..250 {
            assert_eq!(c.get(ip(n)), Some(format!("n{n}.example").as_str()));
        }
    }

    #[test]
    fn all_learned_again_still_replaces_one() {
        let mut c = NameCache::new(2);
        c.insert(ip(1), "a.example");
        c.insert(ip(2), "b.example");
        c.insert(ip(1), "a.example");
        c.insert(ip(2), "b.example");
        c.insert(ip(3), "c.example");
        assert_eq!(c.len(), 2);
        assert_eq!(c.get(ip(3)), Some("c.example"));
    }

    proptest::proptest! {
        #[test]
        fn stays_bounded_and_consistent(
            ops in proptest::collection::vec((0u8..20, "[a-z.]{0,12}"), 0..100),
            cap in 0usize..6,
        ) {
            let mut c = NameCache::new(cap);
            for (n, name) in ops {
                c.insert(ip(n), &name);
                proptest::prop_assert!(c.len() <= cap);
                proptest::prop_assert_eq!(c.index.len(), c.len());
                for (i, e) in c.entries.iter().enumerate() {
                    proptest::prop_assert_eq!(c.index.get(&e.ip), Some(&(i as u32)));
                }
            }
        }
    }
}
