//! Blocks: what a leak blocks (a [`BlockId`]: scope and keys) and the one registry of the blocks
//! in force (numbered, with their device and deadline).
//!
//! Pure data: the decision module builds a [`BlockId`] once per leaking packet, the firewall
//! mirrors the [`Registry`] into its nftables sets (and rebuilds them from it after a flush),
//! and `status`, `unblock` and LuCI read the same registry. Nothing here talks to the kernel.

use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::config::Scope;

/// The name of a block scope as written in the config, alert lines and status.
pub fn scope_name(scope: Scope) -> &'static str {
    match scope {
        Scope::Flow => "flow",
        Scope::DeviceDestination => "device-destination",
        Scope::Destination => "destination",
    }
}

/// A block's key: its scope and the fields of the flow that scope keeps. Fields the scope does
/// not use are `None`/0, so two ids compare equal exactly when they name the same set element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockId {
    pub scope: Scope,
    /// The LAN device (flow and device·destination scopes).
    pub src: Option<IpAddr>,
    pub dst: IpAddr,
    /// IP protocol number (flow scope only).
    pub proto: u8,
    pub sport: u16,
    pub dport: u16,
}

/// A flow's source and destination are of different address families: no set can hold it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MixedFamilies {
    pub src: IpAddr,
    pub dst: IpAddr,
}

impl fmt::Display for MixedFamilies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "block {} -> {}: source and destination of different address families",
            self.src, self.dst
        )
    }
}

impl std::error::Error for MixedFamilies {}

impl BlockId {
    /// Normalises the fields the scope ignores; rejects mixed address families.
    pub fn new(
        scope: Scope,
        src: IpAddr,
        dst: IpAddr,
        proto: u8,
        sport: u16,
        dport: u16,
    ) -> Result<BlockId, MixedFamilies> {
        if scope != Scope::Destination && src.is_ipv4() != dst.is_ipv4() {
            return Err(MixedFamilies { src, dst });
        }
        let whole = BlockId {
            scope,
            src: Some(src),
            dst,
            proto,
            sport,
            dport,
        };
        Ok(match scope {
            Scope::Flow => whole,
            Scope::DeviceDestination => BlockId {
                proto: 0,
                sport: 0,
                dport: 0,
                ..whole
            },
            Scope::Destination => BlockId {
                src: None,
                proto: 0,
                sport: 0,
                dport: 0,
                ..whole
            },
        })
    }

    /// The destination as status shows it: `ip`, or `ip:port` for a flow block.
    pub fn dst_text(&self) -> String {
        if self.dport != 0 {
            format!("{}:{}", self.dst, self.dport)
        } else {
            self.dst.to_string()
        }
    }
}

impl fmt::Display for BlockId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let src = self.src.map(|s| s.to_string()).unwrap_or_default();
        match self.scope {
            Scope::Flow => write!(
                f,
                "flow proto {} {src} port {} -> {} port {}",
                self.proto, self.sport, self.dst, self.dport
            ),
            Scope::DeviceDestination => write!(f, "device {src} -> {}", self.dst),
            Scope::Destination => write!(f, "destination {}", self.dst),
        }
    }
}

/// One block in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The number `leakguard unblock <n>` takes; never reused while the process runs.
    pub number: u64,
    pub id: BlockId,
    /// The device's name, as every output shows it (masked, sanitised), when known.
    pub device: Option<String>,
    /// `None`: no timeout (stays until removed).
    pub deadline: Option<Instant>,
}

impl Entry {
    /// Whole seconds left at `now` (`None` without a timeout).
    pub fn left(&self, now: Instant) -> Option<Duration> {
        self.deadline.map(|d| d.saturating_duration_since(now))
    }

    fn alive(&self, now: Instant) -> bool {
        self.deadline.map_or(true, |d| d > now)
    }
}

/// The blocks in force, in the order they were first added. Bounded by the kernel's set sizes
/// in practice; small (one entry per blocked flow or destination), so a vector.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    entries: Vec<Entry>,
    next: u64,
}

impl Registry {
    pub fn new() -> Registry {
        Registry {
            entries: Vec::new(),
            next: 1,
        }
    }

    /// The live entry for `id`, if any.
    pub fn get(&self, id: &BlockId, now: Instant) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id == *id && e.alive(now))
    }

    pub fn by_number(&self, number: u64) -> Option<&Entry> {
        self.entries.iter().find(|e| e.number == number)
    }

    /// Records `id` with `timeout_secs` (0: none) from `now`: a new entry, or the existing one
    /// with its deadline restarted (and its device named if it was not). Returns its number.
    pub fn put(
        &mut self,
        id: BlockId,
        device: Option<String>,
        timeout_secs: u32,
        now: Instant,
    ) -> u64 {
        let deadline = Some(timeout_secs)
            .filter(|t| *t > 0)
            .map(|t| now + Duration::from_secs(u64::from(t)));
        self.put_until(id, device, deadline)
    }

    /// [`put`](Self::put) with an absolute deadline (blocks read back from the kernel).
    pub fn put_until(
        &mut self,
        id: BlockId,
        device: Option<String>,
        deadline: Option<Instant>,
    ) -> u64 {
        if let Some(e) = self.entries.iter_mut().find(|e| e.id == id) {
            e.deadline = deadline;
            if e.device.is_none() {
                e.device = device;
            }
            return e.number;
        }
        let number = self.next.max(1);
        self.next = number + 1;
        self.entries.push(Entry {
            number,
            id,
            device,
            deadline,
        });
        number
    }

    /// Forgets `id`; returns whether it was there.
    pub fn remove(&mut self, id: &BlockId) -> bool {
        let before = self.entries.len();
        self.entries.retain(|e| e.id != *id);
        self.entries.len() != before
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// Drops the entries whose deadline is at or before `now`.
    pub fn expire(&mut self, now: Instant) {
        self.entries.retain(|e| e.alive(now));
    }

    /// The entries in force at `now`, oldest first.
    pub fn live(&self, now: Instant) -> impl Iterator<Item = &Entry> + '_ {
        self.entries.iter().filter(move |e| e.alive(now))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("address")
    }

    #[test]
    fn registry_numbers_refreshes_and_expires() {
        let now = Instant::now();
        let mut r = Registry::new();
        let a = BlockId::new(Scope::Flow, ip("10.0.0.2"), ip("1.2.3.4"), 6, 1, 80).expect("id");
        let b =
            BlockId::new(Scope::Destination, ip("10.0.0.2"), ip("1.2.3.5"), 6, 1, 80).expect("id");
        assert_eq!(r.put(a, None, 10, now), 1);
        assert_eq!(r.put(b, Some("phone".into()), 0, now), 2);
        // Again: same number, deadline restarted, device filled in.
        assert_eq!(r.put(a, Some("tv".into()), 20, now), 1);
        let e = r.by_number(1).expect("entry");
        assert_eq!(e.device.as_deref(), Some("tv"));
        assert_eq!(e.left(now), Some(Duration::from_secs(20)));
        assert!(r.get(&a, now + Duration::from_secs(19)).is_some());
        assert!(r.get(&a, now + Duration::from_secs(20)).is_none());
        r.expire(now + Duration::from_secs(30));
        assert_eq!(r.live(now).map(|e| e.number).collect::<Vec<_>>(), [2]);
        assert!(r.remove(&b) && !r.remove(&b) && r.is_empty());
        // Numbers are not reused.
        assert_eq!(r.put(a, None, 0, now), 3);
    }

    #[test]
    fn destinations_print_for_status() {
        let f = BlockId::new(Scope::Flow, ip("10.0.0.2"), ip("1.2.3.4"), 6, 1, 80).expect("id");
        assert_eq!(f.dst_text(), "1.2.3.4:80");
        let d =
            BlockId::new(Scope::DeviceDestination, ip("fd::2"), ip("fd::9"), 6, 1, 80).expect("id");
        assert_eq!(d.dst_text(), "fd::9");
    }
}
