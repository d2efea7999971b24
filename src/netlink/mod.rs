//! Netlink: NFQUEUE, conntrack, NFLOG.
