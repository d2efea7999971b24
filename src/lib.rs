//! leakguard: stops LAN devices from leaking their identifiers in cleartext.
//!
//! The crate is one pipeline with two sources, and the file tree shows it:
//!
//! ```text
//! source (pcap files) ─┐
//!                      ├─► packet ─► flow ─► detect ─► pipeline ─► output / verdict
//! netlink (NFQUEUE) ───┘   decode    order   find       judge       (scan)  (run: firewall,
//!                                    budget  identifiers                     alert, status)
//! ```
//!
//! * [`source`] reads capture files; [`netlink`] talks to the kernel (NFQUEUE, conntrack, NFLOG).
//! * [`packet`] decodes link → IP → TCP/UDP as checked zero-copy views over the caller's bytes.
//! * [`lan`] learns which global IPv6 addresses in a capture are the LAN devices' own, from
//!   their MACs.
//! * [`flow`] keeps a bounded table of flows, puts TCP segments in order and spends each flow's
//!   inspection budget.
//! * [`detect`] recognises identifiers however they are dressed up (known values, learned MACs,
//!   structural IMEI/IMSI/ICCID/…, url/hex/base64/gzip layers, hashes).
//! * [`pipeline`] is the one code path both sources feed: it turns detector hits into
//!   [`finding::Finding`]s, and [`decision`] turns what it found into the packet's whole
//!   decision (verdict, flow mark, action, the [`block`] to install).
//!
//! No `unsafe` anywhere but the one `setsockopt` call nix has no wrapper for
//! (`netlink::socket`), which carries its justification: the crate denies it.
//!
//! Memory is bounded by configuration: every table has a capacity and a stated policy when full,
//! and nothing is allocated per packet on the hot path.

#![deny(unsafe_code)]

pub mod block;
pub mod config;
pub mod daemon;
#[deny(clippy::string_slice, clippy::indexing_slicing)]
pub mod decision;
#[deny(clippy::string_slice, clippy::indexing_slicing)]
pub mod detect;
pub mod edit;
pub mod finding;
pub mod firewall;
#[deny(clippy::string_slice, clippy::indexing_slicing)]
pub mod flow;
pub mod history;
pub mod kinds;
#[deny(clippy::string_slice, clippy::indexing_slicing)]
pub mod lan;
#[deny(clippy::string_slice, clippy::indexing_slicing)]
pub mod leases;
#[deny(clippy::string_slice, clippy::indexing_slicing)]
pub mod names;
#[deny(clippy::string_slice, clippy::indexing_slicing)]
pub mod netlink;
pub mod output;
#[deny(clippy::string_slice, clippy::indexing_slicing)]
pub mod packet;
#[deny(clippy::string_slice, clippy::indexing_slicing)]
pub mod pipeline;
pub mod render;
pub mod rpcd;
pub mod source;

/// The version printed by `leakguard --version` (OpenWrt's CI looks for PKG_VERSION in it).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
