//! dnsmasq's lease file (`/tmp/dhcp.leases` on OpenWrt): device names by MAC and by address.
//!
//! The file has one lease per line. DHCPv4 leases read `expiry mac ip hostname client-id`; after
//! a `duid <server-duid>` line come DHCPv6 leases, `expiry iaid ip hostname client-duid`, which
//! name an address but carry no MAC. A hostname of `*` means the client sent none. Lines that do
//! not parse are skipped: the file belongs to dnsmasq, and a half-written line must not cost the
//! names on the others.
//!
//! Names are looked up when a finding is reported, not per packet, and a home router has at most
//! a few hundred leases, so the leases are a plain vector searched in order (the first lease
//! with a name wins). At most [`MAX_LEASES`] are kept.

use std::fs;
use std::io;
use std::net::IpAddr;
use std::path::Path;
use std::time::SystemTime;

/// Leases kept from one file; the rest of a larger file is ignored.
pub const MAX_LEASES: usize = 4096;

/// Longest host name kept (a DNS name's limit); longer ones are ignored.
const MAX_NAME: usize = 253;

#[derive(Clone, Debug, PartialEq, Eq)]
struct Lease {
    mac: Option<[u8; 6]>,
    ip: IpAddr,
    name: Option<String>,
}

/// The leases of one read of the file.
#[derive(Clone, Debug, Default)]
pub struct Leases {
    leases: Vec<Lease>,
    /// Modification time and length of the file when it was read, to notice a rewrite.
    stamp: Option<(SystemTime, u64)>,
}

impl Leases {
    /// Reads the lease file at `path`.
    pub fn load(path: &Path) -> io::Result<Leases> {
        let stamp = stamp(path)?;
        let text = fs::read(path)?;
        let mut leases = Leases::parse(&String::from_utf8_lossy(&text));
        leases.stamp = Some(stamp);
        Ok(leases)
    }

    /// Parses lease file text, skipping lines that do not parse.
    pub fn parse(text: &str) -> Leases {
        let mut leases = Vec::new();
        let mut v6 = false;
        for line in text.lines() {
            if leases.len() >= MAX_LEASES {
                break;
            }
            let mut fields = line.split_ascii_whitespace();
            let Some(first) = fields.next() else { continue };
            if first == "duid" {
                v6 = true;
                continue;
            }
            if first.parse::<u64>().is_err() {
                continue;
            }
            let (Some(hw), Some(ip), Some(name)) = (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            let Ok(ip) = ip.parse::<IpAddr>() else {
                continue;
            };
            // A DHCPv6 line's second field is the IAID, not a MAC; a DHCPv4 lease for a
            // non-Ethernet link writes its hardware type in front (`6-…`) and is kept nameless
            // by MAC but still named by address.
            let mac = if v6 || ip.is_ipv6() {
                None
            } else {
                parse_mac(hw)
            };
            let name = (name != "*" && !name.is_empty() && name.len() <= MAX_NAME)
                .then(|| name.to_string());
            leases.push(Lease { mac, ip, name });
        }
        Leases {
            leases,
            stamp: None,
        }
    }

    /// The name of the device with hardware address `mac`.
    pub fn name_by_mac(&self, mac: &[u8; 6]) -> Option<&str> {
        self.leases
            .iter()
            .filter(|l| l.mac.as_ref() == Some(mac))
            .find_map(|l| l.name.as_deref())
    }

    /// The name of the device leased address `ip`.
    pub fn name_by_ip(&self, ip: IpAddr) -> Option<&str> {
        let ip = ip.to_canonical();
        self.leases
            .iter()
            .filter(|l| l.ip == ip)
            .find_map(|l| l.name.as_deref())
    }

    /// The hardware address of the device leased address `ip` (DHCPv4 leases only).
    pub fn mac_by_ip(&self, ip: IpAddr) -> Option<[u8; 6]> {
        let ip = ip.to_canonical();
        self.leases
            .iter()
            .filter(|l| l.ip == ip)
            .find_map(|l| l.mac)
    }

    /// Every hardware address the file names (for telling which device a history digest is).
    pub fn macs(&self) -> impl Iterator<Item = [u8; 6]> + '_ {
        self.leases.iter().filter_map(|l| l.mac)
    }

    pub fn len(&self) -> usize {
        self.leases.len()
    }

    pub fn is_empty(&self) -> bool {
        self.leases.is_empty()
    }

    /// Rereads the file if its modification time (or length) changed since it was last read;
    /// returns whether it did. Cheap enough to call every few seconds: one `stat`.
    pub fn refresh_if_changed(&mut self, path: &Path) -> io::Result<bool> {
        let now = stamp(path)?;
        if self.stamp == Some(now) {
            return Ok(false);
        }
        *self = Leases::load(path)?;
        Ok(true)
    }
}

fn stamp(path: &Path) -> io::Result<(SystemTime, u64)> {
    let meta = fs::metadata(path)?;
    Ok((meta.modified()?, meta.len()))
}

// `aa:bb:cc:dd:ee:ff` as dnsmasq writes it (or any form the config accepts: one parser).
use crate::detect::identifiers::parse_mac_exact as parse_mac;

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "\
1764560000 a4:50:46:12:34:56 192.168.1.23 Nokia-7-plus 01:a4:50:46:12:34:56
1764560100 3C:22:FB:00:11:22 192.168.1.40 * 01:3c:22:fb:00:11:22
1764560200 00:11:22:33:44:55 192.168.1.50 laptop *
garbage line
1764560300 zz:11:22:33:44:55 192.168.1.51 badmac *
1764560400 00:11:22:33:44:66 not-an-ip name *
1764560500 00:11:22:33:44:77
duid 00:01:00:01:2a:2b:2c:2d:a4:50:46:12:34:56
1764560600 2541025 fd12:3456::23 Nokia-7-plus 00:01:00:01:2a:2b:2c:2d:a4:50:46:12:34:56
1764560700 12345 fd12:3456::99 * 00:03:00:01:00:11:22:33:44:55
";

    #[test]
    fn parses_dnsmasq_leases() {
        let l = Leases::parse(FILE);
        assert_eq!(l.len(), 6);
        let nokia = [0xa4, 0x50, 0x46, 0x12, 0x34, 0x56];
        assert_eq!(l.name_by_mac(&nokia), Some("Nokia-7-plus"));
        assert_eq!(
            l.name_by_ip("192.168.1.23".parse().unwrap()),
            Some("Nokia-7-plus")
        );
        assert_eq!(l.mac_by_ip("192.168.1.23".parse().unwrap()), Some(nokia));
        // Upper-case MAC, no hostname.
        let apple = [0x3c, 0x22, 0xfb, 0x00, 0x11, 0x22];
        assert_eq!(l.mac_by_ip("192.168.1.40".parse().unwrap()), Some(apple));
        assert_eq!(l.name_by_mac(&apple), None);
        assert_eq!(l.name_by_ip("192.168.1.40".parse().unwrap()), None);
        assert_eq!(
            l.name_by_ip("192.168.1.50".parse().unwrap()),
            Some("laptop")
        );
        // A lease whose hardware address does not parse still names its address.
        assert_eq!(
            l.name_by_ip("192.168.1.51".parse().unwrap()),
            Some("badmac")
        );
        assert_eq!(l.mac_by_ip("192.168.1.51".parse().unwrap()), None);
        // IPv6 leases name addresses only.
        assert_eq!(
            l.name_by_ip("fd12:3456::23".parse().unwrap()),
            Some("Nokia-7-plus")
        );
        assert_eq!(l.mac_by_ip("fd12:3456::23".parse().unwrap()), None);
        assert_eq!(l.name_by_ip("fd12:3456::99".parse().unwrap()), None);
        assert_eq!(l.name_by_ip("192.168.1.99".parse().unwrap()), None);
        // IPv4-mapped addresses are the IPv4 address.
        assert_eq!(
            l.name_by_ip("::ffff:192.168.1.50".parse().unwrap()),
            Some("laptop")
        );
    }

    #[test]
    fn empty_and_garbage() {
        assert!(Leases::parse("").is_empty());
        assert!(Leases::parse("\n\n  \n duid\nx y z w\n").is_empty());
        assert_eq!(parse_mac("a4:50:46:12:34:56:78"), None);
        assert_eq!(parse_mac("a4:50:46:12:34"), None);
        assert_eq!(parse_mac("a4:50:46:12:34:+5"), None);
    }

    #[test]
    fn refreshes_only_on_change() {
        let dir = std::env::temp_dir().join(format!("leakguard-leases-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("dhcp.leases");
        fs::write(&path, "1 a4:50:46:12:34:56 192.168.1.23 phone *\n").unwrap();
        let mut l = Leases::load(&path).unwrap();
        assert_eq!(l.name_by_ip("192.168.1.23".parse().unwrap()), Some("phone"));
        assert!(!l.refresh_if_changed(&path).unwrap());
        // A rewrite with another length is noticed even within the mtime's granularity.
        fs::write(&path, "1 a4:50:46:12:34:56 192.168.1.23 phone2 *\n").unwrap();
        assert!(l.refresh_if_changed(&path).unwrap());
        assert_eq!(
            l.name_by_ip("192.168.1.23".parse().unwrap()),
            Some("phone2")
        );
        assert!(!l.refresh_if_changed(&path).unwrap());
        fs::remove_file(&path).unwrap();
        assert!(l.refresh_if_changed(&path).is_err());
        assert!(Leases::load(&path).is_err());
        let _ = fs::remove_dir(&dir);
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(text in "\\PC{0,300}") {
            let l = Leases::parse(&text);
            let _ = l.name_by_mac(&[0; 6]);
        }
    }
}
