//! The detector: recognises identifiers in a window of bytes, however they are dressed up.
//!
//! Built once per configuration (like an aho-corasick automaton: expensive to build, cheap to
//! run), then run on many windows with a caller-owned [`Scratch`] so that scanning allocates
//! nothing.

pub mod decode;
pub mod identifiers;

use crate::config::Config;
use crate::finding::Hit;

/// Reused buffers for decoded layers (one per nesting level), allocated once.
pub struct Scratch {
    _private: (),
}

impl Scratch {
    pub fn new() -> Scratch {
        todo!("detect helper")
    }
}

impl Default for Scratch {
    fn default() -> Self {
        Scratch::new()
    }
}

pub struct Detector {
    _private: (),
}

impl Detector {
    /// Builds the matchers for `config`: known values in every form they travel in, key names,
    /// switches per kind and layer.
    pub fn new(config: &Config) -> Detector {
        let _ = config;
        todo!("detect helper")
    }

    /// Learns a LAN device's MAC, so that it is found (in every textual and hashed form) in what
    /// any device sends. Returns whether it was new. Bounded by `detect.max_learned_macs`.
    pub fn learn_mac(&mut self, mac: [u8; 6]) -> bool {
        let _ = mac;
        todo!("detect helper")
    }

    pub fn learned_macs(&self) -> usize {
        todo!("detect helper")
    }

    /// Scans one window and calls `sink` for every identifier found in it.
    pub fn scan(&self, window: &[u8], scratch: &mut Scratch, sink: &mut dyn FnMut(Hit)) {
        let _ = (window, scratch, sink);
        todo!("detect helper")
    }
}
impl Detector {
    pub fn learned(&self) -> Vec<[u8; 6]> {
        todo!()
    }
}
