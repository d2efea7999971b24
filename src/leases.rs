//! dnsmasq's lease file (`/tmp/dhcp.leases` on OpenWrt): device names by MAC and by address.
