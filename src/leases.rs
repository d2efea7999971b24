//! dnsmasq's lease file (`/tmp/dhcp.leases` on OpenWrt): device names by MAC and by address.
pub struct Leases;
impl Leases {
    pub fn load(_p: &std::path::Path) -> std::io::Result<Leases> {
        todo!()
    }
    pub fn name_by_mac(&self, _m: &[u8; 6]) -> Option<&str> {
        todo!()
    }
    pub fn name_by_ip(&self, _m: std::net::IpAddr) -> Option<&str> {
        todo!()
    }
    pub fn refresh_if_changed(&mut self, _p: &std::path::Path) -> std::io::Result<bool> {
        todo!()
    }
}
