//! Destination names: a bounded map from an address to the name a device knew it by (HTTP Host,
//! TLS SNI, DNS answers seen before the flow).
