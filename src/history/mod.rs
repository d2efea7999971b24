//! The per-device privacy history: what each LAN device sent where, over days.
//!
//! The alert ring in `status` answers "what was just dropped"; an owner's question is "what is
//! my TV telling whom". This keeps, per device (by MAC, with its current name and addresses),
//! one [`Destination`] row per (identifier kind, registrable domain, encoding, source) with
//! first and last seen, count and the action taken, plus the device's flow counts and its leaks
//! per day. `scan --report` fills one from captures, the daemon keeps one in RAM and persists it
//! ([`store`]), `leakguard report` prints it ([`report`]).
//!
//! # Bounds and eviction
//! Everything is bounded by [`Limits`] (the `[history]` config section) and by small fixed
//! caps per row:
//! * devices: at most `max_devices`. A new device, when full, evicts the device seen least
//!   recently *among those with no leak*; only when every kept device has leaked does the least
//!   recently seen one go. A flood of spoofed MACs that leak nothing cannot push out the record
//!   of a device that leaked.
//! * destination rows per device: at most `max_destinations`; a new row, when full, evicts the
//!   row seen least recently (fewest findings on a tie). Each eviction is counted on the device,
//!   so the report says that older rows were dropped.
//! * per row: at most [`NAMES_PER_ROW`] names, [`ADDRESSES_PER_ROW`] addresses and
//!   [`VALUES_PER_ROW`] distinct values; the most recent are kept, the others counted.
//! * per device: at most [`ADDRESSES_PER_DEVICE`] addresses (most recent first) and one leak
//!   count per day for `keep_days` days.
//! * time: rows, days and devices last seen more than `keep_days` ago are dropped ([`History::prune`]).
//!
//! # No full identifier
//! A finding's value becomes its masked text and a keyed digest ([`digest`]) as it enters; the
//! device's own MAC likewise. Nothing else of the value is kept, so neither the file nor the
//! report can give an identifier back.

pub mod digest;
pub mod domain;
pub mod report;
pub mod store;

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::decision::Action;
use crate::finding::{Encoding, Finding, Kind, Source};
use crate::render::{masked_mac, Render, View};

pub use digest::Key;

/// Names kept per destination row.
pub const NAMES_PER_ROW: usize = 4;
/// Destination addresses (with port and protocol) kept per row.
pub const ADDRESSES_PER_ROW: usize = 4;
/// Distinct values (masked, with their digest) kept per row.
pub const VALUES_PER_ROW: usize = 4;
/// Addresses kept per device.
pub const ADDRESSES_PER_DEVICE: usize = 4;

/// The configurable bounds (`[history]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_devices: u32,
    pub max_destinations: u32,
    pub keep_days: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_devices: 64,
            max_destinations: 64,
            keep_days: 30,
        }
    }
}

/// What is kept and written: the devices and how many were evicted.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HistoryData {
    pub devices: Vec<DeviceHistory>,
    /// Devices evicted to make room for new ones.
    #[serde(default)]
    pub evicted_devices: u64,
}

/// One device: identified by the keyed digest of its MAC (or of its address, when the source
/// gave no MAC: raw-IP captures).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceHistory {
    #[serde(with = "hex_id")]
    pub id: u64,
    /// The MAC, masked.
    pub mac: Option<String>,
    pub name: Option<String>,
    /// Most recent first.
    pub addresses: Vec<IpAddr>,
    pub first_seen: i64,
    pub last_seen: i64,
    pub flows_inspected: u64,
    pub flows_leaked: u64,
    pub flows_blocked: u64,
    /// Findings (one per flow, kind and value).
    pub leaks: u64,
    /// Findings per UTC day, oldest first.
    pub days: Vec<DayCount>,
    pub destinations: Vec<Destination>,
    /// Destination rows evicted to make room.
    #[serde(default)]
    pub evicted: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCount {
    /// Days since 1970-01-01 (UTC).
    pub day: i64,
    pub leaks: u64,
}

/// One (kind, registrable domain, encoding, source) row of a device.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Destination {
    #[serde(with = "kind_name")]
    pub kind: Kind,
    /// The registrable domain of the destination's name, or its address when it had none.
    pub domain: String,
    #[serde(with = "encoding_text")]
    pub encoding: Encoding,
    #[serde(with = "source_name")]
    pub source: Source,
    /// Full names seen below `domain`, most recent first.
    pub names: Vec<String>,
    pub addresses: Vec<Endpoint>,
    pub values: Vec<Value>,
    /// Distinct values beyond [`VALUES_PER_ROW`] (counted once each as they are pushed out).
    #[serde(default)]
    pub more_values: u64,
    pub first_seen: i64,
    pub last_seen: i64,
    pub count: u64,
    pub reported: u64,
    pub dropped: u64,
    pub blocked: u64,
    /// The action taken the last time.
    #[serde(with = "action_name")]
    pub action: Action,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub ip: IpAddr,
    pub port: u16,
    pub proto: String,
}

/// A value as the history keeps it: masked, and the keyed digest that tells it from another
/// value with the same mask.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Value {
    pub masked: String,
    #[serde(with = "hex_id")]
    pub id: u64,
}

/// What one packet did to its device's flow counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowEvent {
    /// A flow (or DNS query) began to be inspected.
    pub inspected: bool,
    /// The flow's first leak.
    pub leaked: bool,
    /// The flow was blocked (or the query dropped) for it.
    pub blocked: bool,
}

/// The history in RAM: [`HistoryData`] under [`Limits`], with the digest key.
#[derive(Clone, Debug)]
pub struct History {
    data: HistoryData,
    limits: Limits,
    key: Key,
    dirty: bool,
}

impl History {
    pub fn new(limits: Limits, key: Key) -> History {
        History::from_data(HistoryData::default(), limits, key)
    }

    /// Takes kept data (read back from the file) under `limits`: a smaller bound than the file
    /// was written with evicts by the same policy.
    pub fn from_data(data: HistoryData, limits: Limits, key: Key) -> History {
        let mut h = History {
            data,
            limits,
            key,
            dirty: false,
        };
        h.enforce_limits();
        h
    }

    pub fn data(&self) -> &HistoryData {
        &self.data
    }

    pub fn key(&self) -> &Key {
        &self.key
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// New bounds (SIGHUP): shrinking evicts at once.
    pub fn set_limits(&mut self, limits: Limits) {
        if limits != self.limits {
            self.limits = limits;
            self.enforce_limits();
        }
    }

    /// Whether something changed since [`History::mark_saved`].
    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    pub fn mark_saved(&mut self) {
        self.dirty = false;
    }

    /// A device's flow counts. `name` is its current name, when known.
    pub fn note_flow(
        &mut self,
        time: i64,
        mac: Option<[u8; 6]>,
        ip: IpAddr,
        name: Option<&str>,
        event: FlowEvent,
    ) {
        if event == FlowEvent::default() {
            return;
        }
        let Some(device) = self.device(time, mac, ip, name) else {
            return;
        };
        device.flows_inspected += u64::from(event.inspected);
        device.flows_leaked += u64::from(event.leaked);
        device.flows_blocked += u64::from(event.blocked);
        self.dirty = true;
    }

    /// The packet the pipeline just judged, in its device's flow counts; `stopped`: it did not
    /// get through (dropped, or its flow blocked).
    /// The name is masked by `render` as every output masks it.
    pub fn note_packet(
        &mut self,
        pipeline: &crate::pipeline::Pipeline,
        render: &Render,
        time: i64,
        stopped: bool,
    ) {
        let note = pipeline.last_note();
        if let Some(src) = note.src {
            let event = FlowEvent {
                inspected: note.new_flow,
                leaked: note.first_leak,
                blocked: note.first_leak && stopped,
            };
            let name = pipeline
                .device_name(note.src_mac, src)
                .map(|n| render.mask_name(n, None));
            self.note_flow(time, note.src_mac, src, name.as_deref(), event);
        }
    }

    /// One finding, as `view` (its one masked view: [`crate::render`]) shows it. Of the
    /// finding itself only the keyed digests of its value and MAC are taken.
    pub fn record(&mut self, f: &Finding, view: &View) {
        let time = f.time.sec;
        let action = view.action;
        let value = Value {
            masked: view.value.clone(),
            id: self.key.digest(f.hit.kind.name(), &f.hit.value),
        };
        let max_rows = self.limits.max_destinations.max(1) as usize;
        let keep_days = self.limits.keep_days.max(1) as usize;
        let Some(device) = self.device(time, f.device_mac, f.src, view.device_name.as_deref())
        else {
            return;
        };
        device.leaks += 1;
        let day = time.div_euclid(86_400);
        match device.days.iter_mut().find(|d| d.day == day) {
            Some(d) => d.leaks += 1,
            None => {
                device.days.push(DayCount { day, leaks: 1 });
                device.days.sort_by_key(|d| d.day);
                if device.days.len() > keep_days {
                    let extra = device.days.len() - keep_days;
                    device.days.drain(..extra);
                }
            }
        }
        let domain = match &view.host {
            Some(h) => domain::registrable(h),
            None => f.dst.to_string(),
        };
        let (kind, encoding, source) = (f.hit.kind, f.hit.encoding, f.hit.source);
        let at = device.destinations.iter().position(|d| {
            d.kind == kind && d.encoding == encoding && d.source == source && d.domain == domain
        });
        let row = match at {
            Some(i) => &mut device.destinations[i],
            None => {
                if device.destinations.len() >= max_rows {
                    evict_row(device);
                }
                device.destinations.push(Destination {
                    kind,
                    domain,
                    encoding,
                    source,
                    names: Vec::new(),
                    addresses: Vec::new(),
                    values: Vec::new(),
                    more_values: 0,
                    first_seen: time,
                    last_seen: time,
                    count: 0,
                    reported: 0,
                    dropped: 0,
                    blocked: 0,
                    action,
                });
                let last = device.destinations.len() - 1;
                &mut device.destinations[last]
            }
        };
        row.first_seen = row.first_seen.min(time);
        row.last_seen = row.last_seen.max(time);
        row.count += 1;
        row.action = action;
        match action {
            Action::Reported => row.reported += 1,
            Action::Dropped => row.dropped += 1,
            Action::Blocked => row.blocked += 1,
        }
        if let Some(h) = &view.host {
            let name = h.trim_end_matches('.').to_ascii_lowercase();
            push_recent(&mut row.names, name, NAMES_PER_ROW);
        }
        let endpoint = Endpoint {
            ip: f.dst,
            port: f.dport,
            proto: f.proto.name().to_string(),
        };
        push_recent(&mut row.addresses, endpoint, ADDRESSES_PER_ROW);
        if !row.values.iter().any(|v| v.id == value.id) && row.values.len() >= VALUES_PER_ROW {
            row.more_values += 1;
        }
        push_recent(&mut row.values, value, VALUES_PER_ROW);
        self.dirty = true;
    }

    /// Drops what was last seen more than `keep_days` before `now`.
    pub fn prune(&mut self, now: i64) {
        let horizon = now - i64::from(self.limits.keep_days.max(1)) * 86_400;
        let first_day = horizon.div_euclid(86_400);
        let before = self.data.devices.len();
        let mut changed = false;
        self.data.devices.retain(|d| d.last_seen >= horizon);
        changed |= self.data.devices.len() != before;
        for d in &mut self.data.devices {
            let (rows, days) = (d.destinations.len(), d.days.len());
            d.destinations.retain(|r| r.last_seen >= horizon);
            d.days.retain(|c| c.day >= first_day);
            changed |= rows != d.destinations.len() || days != d.days.len();
        }
        self.dirty |= changed;
    }

    /// The device `mac` (or `ip`, without a MAC), made when new, its name and addresses brought
    /// up to date. `None` only when `max_devices` is 0.
    fn device(
        &mut self,
        time: i64,
        mac: Option<[u8; 6]>,
        ip: IpAddr,
        name: Option<&str>,
    ) -> Option<&mut DeviceHistory> {
        let id = match &mac {
            Some(m) => self.key.device_id(m),
            None => self.key.digest("device-ip", &ip.to_string()),
        };
        let at = match self.data.devices.iter().position(|d| d.id == id) {
            Some(i) => i,
            None => {
                let max = self.limits.max_devices as usize;
                if max == 0 {
                    return None;
                }
                while self.data.devices.len() >= max {
                    self.evict_device();
                }
                self.data.devices.push(DeviceHistory {
                    id,
                    mac: mac.as_ref().map(masked_mac),
                    name: None,
                    addresses: Vec::new(),
                    first_seen: time,
                    last_seen: time,
                    flows_inspected: 0,
                    flows_leaked: 0,
                    flows_blocked: 0,
                    leaks: 0,
                    days: Vec::new(),
                    destinations: Vec::new(),
                    evicted: 0,
                });
                self.dirty = true;
                self.data.devices.len() - 1
            }
        };
        let d = &mut self.data.devices[at];
        d.first_seen = d.first_seen.min(time);
        d.last_seen = d.last_seen.max(time);
        if let Some(n) = name {
            if d.name.as_deref() != Some(n) {
                d.name = Some(n.to_string());
                self.dirty = true;
            }
        }
        if d.addresses.first() != Some(&ip) {
            push_recent(&mut d.addresses, ip, ADDRESSES_PER_DEVICE);
            self.dirty = true;
        }
        Some(d)
    }

    /// The policy: the least recently seen device with no leak, else the least recently seen.
    fn evict_device(&mut self) {
        let victim = self
            .data
            .devices
            .iter()
            .enumerate()
            .min_by_key(|(_, d)| (d.leaks > 0, d.last_seen))
            .map(|(i, _)| i);
        if let Some(i) = victim {
            self.data.devices.remove(i);
            self.data.evicted_devices += 1;
            self.dirty = true;
        }
    }

    fn enforce_limits(&mut self) {
        let max = self.limits.max_devices as usize;
        while self.data.devices.len() > max {
            self.evict_device();
        }
        let rows = self.limits.max_destinations.max(1) as usize;
        let days = self.limits.keep_days.max(1) as usize;
        for d in &mut self.data.devices {
            while d.destinations.len() > rows {
                evict_row(d);
                self.dirty = true;
            }
            d.days.sort_by_key(|c| c.day);
            if d.days.len() > days {
                let extra = d.days.len() - days;
                d.days.drain(..extra);
                self.dirty = true;
            }
            d.addresses.truncate(ADDRESSES_PER_DEVICE);
            for r in &mut d.destinations {
                r.names.truncate(NAMES_PER_ROW);
                r.addresses.truncate(ADDRESSES_PER_ROW);
                r.values.truncate(VALUES_PER_ROW);
            }
        }
    }
}

/// The row seen least recently (fewest findings on a tie) makes room.
fn evict_row(device: &mut DeviceHistory) {
    let victim = device
        .destinations
        .iter()
        .enumerate()
        .min_by_key(|(_, r)| (r.last_seen, r.count))
        .map(|(i, _)| i);
    if let Some(i) = victim {
        device.destinations.remove(i);
        device.evicted += 1;
    }
}

/// Puts `item` first (moving it there if present), keeping at most `cap`.
fn push_recent<T: PartialEq>(list: &mut Vec<T>, item: T, cap: usize) {
    if let Some(i) = list.iter().position(|x| *x == item) {
        list.remove(i);
    }
    list.insert(0, item);
    list.truncate(cap);
}

/// Digests as 16 hex digits (JSON numbers lose precision above 2⁵³ in JavaScript).
mod hex_id {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(id: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{id:016x}"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let text = String::deserialize(d)?;
        u64::from_str_radix(&text, 16).map_err(serde::de::Error::custom)
    }
}

/// Kinds, sources, encodings and actions by the names used everywhere else.
macro_rules! by_name {
    ($module:ident, $ty:ty, $name:expr, $parse:expr) => {
        mod $module {
            use super::*;
            use serde::{Deserializer, Serializer};

            pub fn serialize<S: Serializer>(v: &$ty, s: S) -> Result<S::Ok, S::Error> {
                let name: fn(&$ty) -> String = $name;
                s.serialize_str(&name(v))
            }

            pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<$ty, D::Error> {
                let text = String::deserialize(d)?;
                let parse: fn(&str) -> Option<$ty> = $parse;
                parse(&text).ok_or_else(|| serde::de::Error::custom(format!("unknown `{text}`")))
            }
        }
    };
}

by_name!(kind_name, Kind, |k| k.name().to_string(), Kind::from_name);
by_name!(encoding_text, Encoding, |e| e.to_string(), Encoding::parse);
by_name!(source_name, Source, |s| s.name().to_string(), |t| [
    Source::Known,
    Source::Learned,
    Source::Pattern
]
.into_iter()
.find(|s| s.name() == t));
by_name!(action_name, Action, |a| a.name().to_string(), |t| [
    Action::Reported,
    Action::Dropped,
    Action::Blocked
]
.into_iter()
.find(|a| a.name() == t));

#[cfg(test)]
mod tests;
