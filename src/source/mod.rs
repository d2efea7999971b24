//! Sources of packets: capture files for the offline scan ([`pcap`], which reads pcap and
//! pcapng), and the kernel's queue for the inline daemon ([`nfqueue`]: queued packet →
//! pipeline → queue verdict). Both hand the same bytes to [`crate::packet`].

pub mod nfqueue;
pub mod pcap;

pub use pcap::{CaptureError, CaptureReader, Record};
