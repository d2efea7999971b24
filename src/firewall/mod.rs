//! The daemon's own nftables table.
