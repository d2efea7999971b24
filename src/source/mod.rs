//! Sources of packets for the offline scan: capture files. (The inline source is
//! [`crate::netlink`].) Both hand the same bytes to [`crate::packet`].

pub mod pcap;

pub use pcap::{CaptureError, CaptureReader, Record};
