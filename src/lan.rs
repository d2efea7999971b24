//! Who is a LAN device in a capture, beyond the configured prefixes: the global IPv6 addresses
//! of the LAN's devices, learned from their MACs.
//!
//! A home LAN's devices take global IPv6 addresses from the router's delegated prefix, which no
//! default prefix can name (only `fc00::/7` is private). Their frames tell who they are: the MAC
//! that sends from a LAN IPv4 address, from an IPv6 link-local address, or as a DHCP/DHCPv6
//! client or a router solicitation is a host on this link, and a global IPv6 source address in a
//! frame from that MAC is that host's own. So `scan` of a home capture finds IPv6 leaks with no
//! prefix configured.
//!
//! The hazard is the router. It too sends from a LAN IPv4 address and from link-local, and every
//! frame it forwards from the internet carries its MAC and a remote source address: trusted as a
//! device, it would make inbound traffic look like a device's, and a false finding is what this
//! crate must not make. A MAC stops being trusted, for good, when it
//!
//! * speaks as a router: a router advertisement, a redirect, or a neighbour advertisement with
//!   the router flag (only routers send them, RFC 4861);
//! * is where the LAN sends the internet: the destination MAC of a frame to an IPv4 address
//!   outside the LAN prefixes is the gateway (IPv4 because that decision needs nothing learned:
//!   for IPv6 "outside the LAN" is what this table is learning, and a device's global address
//!   not learned yet would make the device look like a gateway);
//! * sends from more than [`MAX_PREFIXES`] distinct global /64s: a host's addresses (stable,
//!   temporary, a renumbering) sit in one or two /64s of its LAN, while a router forwarding the
//!   internet shows a new /64 with nearly every remote host.
//!
//! A router that shows none of these signs in a capture (no advertisement, no IPv4 internet
//! traffic, few remote hosts) cannot be told from a host: the remote /64s it forwards then count
//! as the LAN's (leaks to them are missed), and what it forwards to a device never seen as a
//! host is judged as a device's own traffic. Real captures rarely lack all three (routers advertise every few minutes
//! and answer every neighbour solicitation for themselves with the router flag).
//!
//! Only a source address from a trusted MAC becomes LAN; destinations in a trusted device's /64s
//! are LAN too (traffic between two devices is not a leak). A learned address never widens what
//! counts as a destination outside the LAN, so learning can only add inspected senders whose MAC
//! is a host's. IPv4 is not learned: its LAN is the configured prefixes, which keep CGNAT's
//! `100.64.0.0/10` out (ISPs put their portals and proxies there).
//!
//! Frames only: the daemon needs none of this, since the kernel queues only what arrived on a
//! LAN interface and every such packet is a LAN device's, whatever its address.
//!
//! Bounded: at most [`MAX_MACS`] MACs, each with at most [`MAX_PREFIXES`] /64s, in fixed
//! storage; when full, new MACs are not learned (they stay outside the LAN: a missed leak, never
//! a false one). Nothing here allocates.

use std::net::{IpAddr, Ipv6Addr};

use crate::packet::ip::{Header, ICMPV6};

/// MACs remembered (a power of two, as the index map needs): a home LAN has tens of hosts.
pub const MAX_MACS: usize = 128;
/// Distinct global /64s a MAC may send from and still be a host (see the module's doc).
pub const MAX_PREFIXES: usize = 4;

/// ICMPv6 message types (RFC 4861) and the neighbour advertisement's router flag.
mod icmpv6 {
    pub const ROUTER_SOLICITATION: u8 = 133;
    pub const ROUTER_ADVERTISEMENT: u8 = 134;
    pub const NEIGHBOR_ADVERTISEMENT: u8 = 136;
    pub const REDIRECT: u8 = 137;
    /// Byte 4 of a neighbour advertisement: R, S, O flags.
    pub const NA_FLAGS: usize = 4;
    pub const NA_ROUTER: u8 = 0x80;
}

/// UDP ports of a client's request: DHCPv6 (546 → 547) and DHCP (68 → 67).
const DHCPV6_CLIENT: (u16, u16) = (546, 547);
const DHCP_CLIENT: (u16, u16) = (68, 67);
const UDP: u8 = 17;

/// What the frames of one MAC have shown.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Seen {
    /// It sent as a host of this link (LAN IPv4, link-local, DHCP, router solicitation).
    host: bool,
    /// It spoke as a router, received the LAN's internet traffic or sent from too many /64s.
    router: bool,
    /// The global /64s it sent from (their first 8 bytes).
    prefixes: heapless::Vec<u64, MAX_PREFIXES>,
}

impl Seen {
    fn trusted(&self) -> bool {
        self.host && !self.router
    }
}

/// What one frame taught about its sender: the MAC, whether it sent as a host, its /64.
type Taught = ([u8; 6], bool, Option<u64>);

/// The table: MACs and what their frames showed.
#[derive(Debug, Default)]
pub struct LanDevices {
    macs: heapless::FnvIndexMap<[u8; 6], Seen, MAX_MACS>,
    /// What the last two senders' frames taught (the MAC, host or not, its /64) and the last
    /// gateway marked: a conversation's frames teach the same again, and learning is
    /// idempotent, so a repeat is skipped without a lookup (most frames are repeats).
    last_senders: [Option<Taught>; 2],
    last_gateway: Option<[u8; 6]>,
    /// The /64s trusted hosts send from (the LAN destinations), kept apart so that judging a
    /// destination is a scan of a few words; rebuilt when a host's prefixes or trust change.
    lan_64s: heapless::Vec<u64, MAX_LAN_64S>,
}

/// LAN /64s kept for destinations: a home LAN has one or two. Past the bound, traffic to the
/// further ones is judged as leaving the LAN (as without learning).
pub const MAX_LAN_64S: usize = 16;

/// A global unicast IPv6 address (2000::/3) and its /64.
fn global_64(ip: IpAddr) -> Option<u64> {
    match ip {
        IpAddr::V6(a) if a.segments()[0] & 0xe000 == 0x2000 => Some(prefix_64(a)),
        _ => None,
    }
}

fn prefix_64(a: Ipv6Addr) -> u64 {
    (u128::from(a) >> 64) as u64
}

/// Group addresses (multicast, broadcast) name no one host.
fn unicast(mac: [u8; 6]) -> bool {
    mac[0] & 1 == 0
}

impl LanDevices {
    pub fn new() -> LanDevices {
        LanDevices::default()
    }

    /// Learns from one frame: `src_mac` sent `header`'s packet to `dst_mac`. `src_lan` and
    /// `dst_lan`: whether its addresses are inside the configured LAN prefixes.
    pub fn observe(
        &mut self,
        src_mac: [u8; 6],
        dst_mac: Option<[u8; 6]>,
        header: &Header<'_>,
        src_lan: bool,
        dst_lan: bool,
    ) {
        if let Some(gw) = dst_mac.filter(|&m| unicast(m) && m != src_mac) {
            if self.last_gateway != Some(gw) && !dst_lan && leaves_the_link_v4(header.dst) {
                self.mark_router(gw);
                self.last_gateway = Some(gw);
            }
        }
        if !unicast(src_mac) {
            return;
        }
        let payload = header.payload;
        let icmp = (header.proto == ICMPV6 && header.src.is_ipv6())
            .then(|| payload.first().copied())
            .flatten();
        let router = match icmp {
            Some(icmpv6::ROUTER_ADVERTISEMENT | icmpv6::REDIRECT) => true,
            Some(icmpv6::NEIGHBOR_ADVERTISEMENT) => payload
                .get(icmpv6::NA_FLAGS)
                .is_some_and(|f| f & icmpv6::NA_ROUTER != 0),
            _ => false,
        };
        if router {
            self.mark_router(src_mac);
            return;
        }
        let ports = match (header.proto, payload) {
            (UDP, [s0, s1, d0, d1, ..]) => Some((
                u16::from_be_bytes([*s0, *s1]),
                u16::from_be_bytes([*d0, *d1]),
            )),
            _ => None,
        };
        let (host, prefix) = match header.src {
            IpAddr::V4(_) => (src_lan || ports == Some(DHCP_CLIENT), None),
            IpAddr::V6(a) => {
                let host = a.segments()[0] & 0xffc0 == 0xfe80
                    || icmp == Some(icmpv6::ROUTER_SOLICITATION)
                    || ports == Some(DHCPV6_CLIENT);
                let prefix = global_64(header.src).filter(|_| !src_lan);
                (host, prefix)
            }
        };
        if !host && prefix.is_none() {
            return;
        }
        // The two ends of a conversation between two hosts alternate.
        let taught = (src_mac, host, prefix);
        if self.last_senders.contains(&Some(taught)) {
            return;
        }
        self.last_senders = [Some(taught), self.last_senders[0]];
        let Some(seen) = self.entry(src_mac, host) else {
            return;
        };
        let before = (seen.trusted(), seen.prefixes.len());
        seen.host |= host;
        if let Some(p) = prefix {
            if !seen.prefixes.contains(&p) && seen.prefixes.push(p).is_err() {
                seen.router = true;
            }
        }
        if (seen.trusted(), seen.prefixes.len()) != before {
            self.rebuild_lan_64s();
        }
    }

    /// Whether `ip`, sent from `mac`, is a LAN device's own address: a global IPv6 address in a
    /// /64 this trusted host has sent from.
    pub fn is_device_address(&self, mac: Option<[u8; 6]>, ip: IpAddr) -> bool {
        let (Some(mac), Some(p)) = (mac, global_64(ip)) else {
            return false;
        };
        self.macs
            .get(&mac)
            .is_some_and(|s| s.trusted() && s.prefixes.contains(&p))
    }

    /// Whether `ip` is in a /64 some trusted host sends from (a LAN destination).
    pub fn is_lan_prefix(&self, ip: IpAddr) -> bool {
        global_64(ip).is_some_and(|p| self.lan_64s.contains(&p))
    }

    /// Whether `mac` is trusted as a host of the LAN.
    pub fn is_trusted(&self, mac: [u8; 6]) -> bool {
        self.macs.get(&mac).is_some_and(Seen::trusted)
    }

    /// MACs remembered.
    pub fn len(&self) -> usize {
        self.macs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.macs.is_empty()
    }

    /// Never trusted again (a router, the gateway).
    fn mark_router(&mut self, mac: [u8; 6]) {
        if let Some(seen) = self.entry(mac, true) {
            let was_trusted = seen.trusted() && !seen.prefixes.is_empty();
            seen.router = true;
            if was_trusted {
                self.rebuild_lan_64s();
            }
        }
    }

    fn rebuild_lan_64s(&mut self) {
        self.lan_64s.clear();
        let trusted = self.macs.values().filter(|s| s.trusted());
        for p in trusted.flat_map(|s| s.prefixes.iter()) {
            if !self.lan_64s.contains(p) && self.lan_64s.push(*p).is_err() {
                return;
            }
        }
    }

    /// `mac`'s entry; a new one only when `create` and there is room.
    fn entry(&mut self, mac: [u8; 6], create: bool) -> Option<&mut Seen> {
        if !create || self.macs.len() == MAX_MACS {
            return self.macs.get_mut(&mac);
        }
        match self.macs.entry(mac) {
            heapless::Entry::Occupied(e) => Some(e.into_mut()),
            heapless::Entry::Vacant(e) => e.insert(Seen::default()).ok(),
        }
    }
}

/// A unicast IPv4 destination beyond the link (outside the LAN prefixes, the caller checked):
/// what only the gateway receives.
fn leaves_the_link_v4(dst: IpAddr) -> bool {
    match dst {
        IpAddr::V4(a) => {
            !(a.is_unspecified()
                || a.is_broadcast()
                || a.is_multicast()
                || a.is_link_local()
                || a.is_loopback())
        }
        IpAddr::V6(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHONE: [u8; 6] = [0xa4, 0x50, 0x46, 0x12, 0x34, 0x56];
    const ROUTER: [u8; 6] = [0x02, 0x4c, 0x47, 0x00, 0x00, 0x01];
    const STRANGER: [u8; 6] = [0x02, 0x99, 0x00, 0x00, 0x00, 0x07];

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// The default prefixes, as the pipeline passes them.
    fn is_lan(a: IpAddr) -> bool {
        crate::config::Config::default().is_lan(a)
    }

    fn see(t: &mut LanDevices, src: [u8; 6], dst: [u8; 6], from: &str, to: &str, l4: (u8, &[u8])) {
        let header = Header {
            src: ip(from),
            dst: ip(to),
            proto: l4.0,
            payload: l4.1,
        };
        t.observe(
            src,
            Some(dst),
            &header,
            is_lan(header.src),
            is_lan(header.dst),
        );
    }

    const TCP: (u8, &[u8]) = (6, &[0xc0, 0x00, 0x00, 0x50]);
    const RS: (u8, &[u8]) = (ICMPV6, &[133, 0, 0, 0, 0, 0, 0, 0]);
    const RA: (u8, &[u8]) = (ICMPV6, &[134, 0, 0, 0, 64, 0, 0x07, 0x08]);
    const NS: (u8, &[u8]) = (ICMPV6, &[135, 0, 0, 0, 0, 0, 0, 0]);
    const GLOBAL: &str = "2001:db8:1:2:a650:46ff:fe12:3456";
    const REMOTE: &str = "2001:db8:ffff::80";

    /// The phone sends from its global address, then is asked about it.
    fn global_is_lan_after(trigger: impl Fn(&mut LanDevices)) -> bool {
        let mut t = LanDevices::new();
        trigger(&mut t);
        see(&mut t, PHONE, ROUTER, GLOBAL, REMOTE, TCP);
        t.is_device_address(Some(PHONE), ip(GLOBAL))
    }

    #[test]
    fn each_host_trigger_makes_the_global_address_lan() {
        let lan_v4 = |t: &mut LanDevices| see(t, PHONE, ROUTER, "192.168.1.23", "1.1.1.1", TCP);
        let link_local = |t: &mut LanDevices| see(t, PHONE, ROUTER, "fe80::1", "fe80::2", NS);
        let rs = |t: &mut LanDevices| see(t, PHONE, [0x33; 6], "::", "ff02::2", RS);
        let dhcp6 = |t: &mut LanDevices| {
            // 546 → 547 from a global source (relayed set-ups, or a device that has one).
            see(
                t,
                PHONE,
                [0x33; 6],
                GLOBAL,
                "ff02::1:2",
                (17, &[2, 0x22, 2, 0x23]),
            )
        };
        let dhcp4 = |t: &mut LanDevices| {
            see(
                t,
                PHONE,
                [0xff; 6],
                "0.0.0.0",
                "255.255.255.255",
                (17, &[0, 68, 0, 67]),
            )
        };
        assert!(global_is_lan_after(lan_v4));
        assert!(global_is_lan_after(link_local));
        assert!(global_is_lan_after(rs));
        assert!(global_is_lan_after(dhcp6));
        assert!(global_is_lan_after(dhcp4));
        // No trigger: a global address alone is no proof.
        assert!(!global_is_lan_after(|_| {}));
        // Another MAC's trigger does not vouch for this one.
        assert!(!global_is_lan_after(|t| see(
            t, STRANGER, ROUTER, "fe80::9", "ff02::2", RS
        )));
        // A public IPv4 source, CGNAT included, is no trigger.
        assert!(!global_is_lan_after(|t| see(
            t,
            PHONE,
            ROUTER,
            "100.64.1.2",
            "1.1.1.1",
            TCP
        )));
    }

    #[test]
    fn only_the_addresses_sent_are_lan() {
        let mut t = LanDevices::new();
        see(&mut t, PHONE, ROUTER, "fe80::1", "ff02::2", RS);
        see(&mut t, PHONE, ROUTER, GLOBAL, REMOTE, TCP);
        // Its /64 (another temporary address) is; a remote /64, and from another MAC, are not.
        assert!(t.is_device_address(Some(PHONE), ip("2001:db8:1:2::77")));
        assert!(!t.is_device_address(Some(PHONE), ip(REMOTE)));
        assert!(!t.is_device_address(Some(STRANGER), ip(GLOBAL)));
        assert!(!t.is_device_address(None, ip(GLOBAL)));
        // Not global: left to the prefixes.
        assert!(!t.is_device_address(Some(PHONE), ip("fe80::1")));
        assert!(!t.is_device_address(Some(PHONE), ip("192.168.1.23")));
        // As a destination, the device's /64 is the LAN.
        assert!(t.is_lan_prefix(ip("2001:db8:1:2::99")));
        assert!(!t.is_lan_prefix(ip(REMOTE)));
    }

    #[test]
    fn an_advertising_router_is_never_a_device() {
        let mut t = LanDevices::new();
        // The router looks like a host (LAN IPv4, link-local) and forwards a remote address …
        see(&mut t, ROUTER, PHONE, "192.168.1.1", "192.168.1.23", TCP);
        see(&mut t, ROUTER, PHONE, REMOTE, GLOBAL, TCP);
        assert!(t.is_device_address(Some(ROUTER), ip(REMOTE)));
        // … until it advertises: then never again, whatever it sends.
        see(&mut t, ROUTER, [0x33; 6], "fe80::1", "ff02::1", RA);
        assert!(!t.is_trusted(ROUTER));
        assert!(!t.is_device_address(Some(ROUTER), ip(REMOTE)));
        assert!(!t.is_lan_prefix(ip(REMOTE)));
        see(&mut t, ROUTER, [0x33; 6], "fe80::1", "ff02::2", RS);
        see(&mut t, ROUTER, PHONE, "192.168.1.1", "192.168.1.23", TCP);
        assert!(!t.is_trusted(ROUTER));
        // An advertiser first is never learned either; so for a redirect and a router's NA.
        for msg in [
            RA,
            (ICMPV6, &[137, 0, 0, 0, 0, 0, 0, 0][..]),
            (ICMPV6, &[136, 0, 0, 0, 0xe0, 0, 0, 0][..]),
        ] {
            let mut t = LanDevices::new();
            see(&mut t, ROUTER, [0x33; 6], "fe80::1", "ff02::1", msg);
            see(&mut t, ROUTER, [0x33; 6], "fe80::1", "ff02::2", NS);
            see(&mut t, ROUTER, PHONE, REMOTE, GLOBAL, TCP);
            assert!(!t.is_device_address(Some(ROUTER), ip(REMOTE)), "{msg:?}");
        }
        // A host's NA (no router flag) is a host's.
        let mut t = LanDevices::new();
        see(
            &mut t,
            PHONE,
            ROUTER,
            "fe80::1",
            "fe80::2",
            (ICMPV6, &[136, 0, 0, 0, 0x60, 0, 0, 0]),
        );
        assert!(t.is_trusted(PHONE));
    }

    #[test]
    fn the_gateway_of_the_lans_ipv4_is_never_a_device() {
        let mut t = LanDevices::new();
        see(&mut t, ROUTER, PHONE, "192.168.1.1", "192.168.1.23", TCP);
        see(&mut t, ROUTER, PHONE, "fe80::1", "fe80::2", NS);
        assert!(t.is_trusted(ROUTER));
        // The phone sends to the internet through it.
        see(&mut t, PHONE, ROUTER, "192.168.1.23", "93.184.216.34", TCP);
        assert!(!t.is_trusted(ROUTER) && t.is_trusted(PHONE));
        // Frames to LAN, broadcast, multicast and link-local addresses name no gateway.
        let mut t = LanDevices::new();
        see(&mut t, PHONE, ROUTER, "192.168.1.23", "192.168.1.50", TCP);
        see(
            &mut t,
            PHONE,
            ROUTER,
            "192.168.1.23",
            "255.255.255.255",
            TCP,
        );
        see(&mut t, PHONE, ROUTER, "192.168.1.23", "224.0.0.251", TCP);
        see(&mut t, PHONE, ROUTER, "192.168.1.23", "169.254.1.1", TCP);
        see(&mut t, ROUTER, PHONE, "192.168.1.1", "192.168.1.23", TCP);
        assert!(t.is_trusted(ROUTER));
        // A group destination MAC is nobody's.
        see(
            &mut t,
            PHONE,
            [0xff; 6],
            "192.168.1.23",
            "93.184.216.34",
            TCP,
        );
        assert!(t.is_trusted(PHONE));
    }

    #[test]
    fn a_mac_sending_from_many_prefixes_is_not_trusted() {
        let mut t = LanDevices::new();
        see(&mut t, ROUTER, PHONE, "fe80::1", "fe80::2", NS);
        for i in 0..MAX_PREFIXES {
            let from = format!("2001:db8:{i:x}::1");
            see(&mut t, ROUTER, PHONE, &from, GLOBAL, TCP);
            assert!(t.is_device_address(Some(ROUTER), ip(&from)), "{from}");
        }
        // The same /64s again change nothing …
        see(&mut t, ROUTER, PHONE, "2001:db8:0::2", GLOBAL, TCP);
        assert!(t.is_trusted(ROUTER));
        // … one more distinct /64 and it is forwarding the internet.
        see(&mut t, ROUTER, PHONE, "2001:db8:99::1", GLOBAL, TCP);
        assert!(!t.is_trusted(ROUTER));
        assert!(!t.is_device_address(Some(ROUTER), ip("2001:db8:0::1")));
        // Addresses inside the configured prefixes are not counted (ULA).
        let mut t = LanDevices::new();
        see(&mut t, PHONE, ROUTER, "fe80::1", "fe80::2", NS);
        for i in 0..3 * MAX_PREFIXES {
            see(
                &mut t,
                PHONE,
                ROUTER,
                &format!("fd00:0:0:{i:x}::1"),
                REMOTE,
                TCP,
            );
        }
        assert!(t.is_trusted(PHONE));
    }

    #[test]
    fn the_table_is_bounded() {
        let mut t = LanDevices::new();
        for i in 0..2 * MAX_MACS {
            let mac = [2, 0, 0, 0, (i >> 8) as u8, i as u8];
            see(&mut t, mac, ROUTER, "fe80::1", "fe80::2", NS);
        }
        assert_eq!(t.len(), MAX_MACS);
        // The first ones stay learned; the ones past the bound were not learned.
        let first = [2, 0, 0, 0, 0, 0];
        let past = [2, 0, 0, 0, 0, (MAX_MACS + 1) as u8];
        assert!(t.is_trusted(first) && !t.is_trusted(past));
        see(&mut t, past, ROUTER, GLOBAL, REMOTE, TCP);
        assert!(!t.is_device_address(Some(past), ip(GLOBAL)));
        // Frames that teach nothing take no room.
        let mut t = LanDevices::new();
        see(
            &mut t,
            STRANGER,
            PHONE,
            "93.184.216.34",
            "192.168.1.23",
            TCP,
        );
        see(&mut t, [0x33; 6], PHONE, "fe80::1", "ff02::1", NS);
        assert!(t.is_empty());
    }
}
