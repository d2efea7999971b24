//! The configuration: one TOML file for `scan` and `run` (see `etc/leakguard.toml`).
//!
//! Every error names the file, line, column and key, because the owner edits this file by hand
//! on a router over ssh and the daemon refuses to start on a bad one. Unknown keys are errors:
//! a misspelt `imie = [...]` must not silently disable detection.
//!
//! This file holds the checked types and their defaults; `raw` is the serde layer (TOML into
//! private structs that keep spans, then into these types), `locate` turns a span into
//! `file:line:column: key`, and `ids` checks the identifiers an owner writes (with the one
//! validator the detector uses, `detect::identifiers`).

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use crate::finding::{Kind, KindSet, Layer};

pub(crate) mod ids;
mod locate;
use locate::position;
mod raw;
#[cfg(test)]
mod tests;

/// Whether the daemon drops leaking packets (`enforce`) or only reports them (`monitor`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Enforce,
    Monitor,
}

/// An address prefix such as `192.168.0.0/16` or `fc00::/7`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prefix {
    pub addr: IpAddr,
    pub len: u8,
}

impl Prefix {
    /// Whether `ip` lies in the prefix. An IPv4-mapped IPv6 address (`::ffff:192.168.1.2`) is
    /// treated as the IPv4 address it carries, so a dual-stack socket's view of a LAN host
    /// still counts as LAN.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => prefix_eq(&net.octets(), &ip.octets(), self.len),
            (IpAddr::V6(net), IpAddr::V6(ip)) => prefix_eq(&net.octets(), &ip.octets(), self.len),
            (IpAddr::V6(net), IpAddr::V4(ip)) => {
                prefix_eq(&net.octets(), &ip.to_ipv6_mapped().octets(), self.len)
            }
            (IpAddr::V4(_), IpAddr::V6(_)) => false,
        }
    }

    /// Parses `addr/len`; `None` when malformed, when the length is too long for the family,
    /// or when bits are set after the prefix (`192.168.1.1/16` is refused: it is more often a
    /// typo than a way of writing `192.168.0.0/16`).
    pub fn parse(text: &str) -> Option<Prefix> {
        parse_prefix(text).ok()
    }
}

/// Compares the first `len` bits of two equally long addresses.
fn prefix_eq(a: &[u8], b: &[u8], len: u8) -> bool {
    let len = usize::from(len).min(a.len() * 8);
    let (whole, rest) = (len / 8, len % 8);
    if a.get(..whole) != b.get(..whole) {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    match (a.get(whole), b.get(whole)) {
        (Some(x), Some(y)) => x & mask == y & mask,
        _ => false,
    }
}

/// [`Prefix::parse`] with the reason for a refusal, for config errors.
fn parse_prefix(text: &str) -> Result<Prefix, String> {
    let (addr, len) = text
        .split_once('/')
        .ok_or_else(|| format!("`{text}` is not a prefix: expected `address/length`"))?;
    let addr: IpAddr = addr
        .parse()
        .map_err(|_| format!("`{addr}` is not an IPv4 or IPv6 address"))?;
    let max: u8 = if addr.is_ipv4() { 32 } else { 128 };
    let len: u8 = match len.parse() {
        Ok(n) if n <= max && !len.starts_with('+') => n,
        _ => {
            return Err(format!(
                "prefix length `{len}` must be a number from 0 to {max}"
            ))
        }
    };
    let host_bits_clear = match addr {
        IpAddr::V4(a) => u32::from(a).checked_shl(u32::from(len)).unwrap_or(0) == 0,
        IpAddr::V6(a) => u128::from(a).checked_shl(u32::from(len)).unwrap_or(0) == 0,
    };
    if !host_bits_clear {
        return Err(format!(
            "`{text}` has bits set after the first {len}: write the network address (e.g. `{}`)",
            Prefix { addr, len }.network()
        ));
    }
    Ok(Prefix { addr, len })
}

impl Prefix {
    /// The same prefix with its host bits cleared.
    fn network(&self) -> Prefix {
        let addr = match self.addr {
            IpAddr::V4(a) => {
                let host = u32::MAX.checked_shr(u32::from(self.len)).unwrap_or(0);
                IpAddr::V4((u32::from(a) & !host).into())
            }
            IpAddr::V6(a) => {
                let host = u128::MAX.checked_shr(u32::from(self.len)).unwrap_or(0);
                IpAddr::V6((u128::from(a) & !host).into())
            }
        };
        Prefix {
            addr,
            len: self.len,
        }
    }
}

impl std::fmt::Display for Prefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    /// Addresses of the LAN; traffic from them to anything else is inspected.
    pub lan_prefixes: Vec<Prefix>,
    /// In captures, learn the LAN devices' global IPv6 addresses from their MACs (see
    /// [`crate::lan`]): their traffic is then inspected with no IPv6 prefix configured.
    pub learn_ipv6: bool,
    /// dnsmasq lease file, for device names.
    pub leases: Option<PathBuf>,
    /// Interfaces whose forwarded traffic the daemon queues (default `br-lan`).
    pub lan_interfaces: Vec<String>,
    /// The router's country (ISO 3166-1 alpha-2, upper case): keyed national mobile numbers
    /// are recognised in its national forms, and phone numbers configured without `+` are
    /// read as its national numbers.
    pub country: Option<String>,
}

/// One device the owner knows, with its identifiers in canonical form (digits only for the
/// numeric kinds, a phone with its leading `+` if given).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Device {
    pub name: String,
    pub mac: Vec<[u8; 6]>,
    pub imei: Vec<String>,
    pub imsi: Vec<String>,
    pub iccid: Vec<String>,
    pub meid: Vec<String>,
    pub phone: Vec<String>,
    pub serial: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Detect {
    /// Kinds reported.
    pub kinds: KindSet,
    /// Layers the detector looks through, indexed by `Layer as usize`.
    pub encodings: [bool; 8],
    /// Structural identifiers (IMEI by Luhn and reporting body, …) with no config.
    pub structural: bool,
    /// Learn each LAN device's MAC from the frames it sends.
    pub learn_macs: bool,
    /// Bytes inspected at the start of each flow (per direction).
    pub budget: u32,
    /// Flows tracked at once; the least recently used is evicted when full.
    pub max_flows: u32,
    /// Learned MACs kept; new ones are not learned when full.
    pub max_learned_macs: u32,
    /// Destination names (from DNS answers) kept; the oldest is replaced when full.
    pub max_names: u32,
    /// How many layers deep the decoders nest (url, hex, base64, gzip).
    pub decode_depth: u8,
}

/// A destination where some kinds (all when empty) may go, from every device or from one.
#[derive(Clone, Debug, PartialEq)]
pub struct Allow {
    pub dst: AllowDst,
    pub kinds: Vec<Kind>,
    /// The device the rule is for; `None`: every device.
    pub device: Option<AllowDevice>,
}

/// Which device an `[[allow]]` rule is for.
///
/// A MAC pins the device. A name follows the device's current name as every output shows it
/// (the DHCP lease's host name, else the `[[device]]` with its MAC), and also matches every MAC
/// of the `[[device]]` of that name: readable, but a device can rename itself in DHCP. Either
/// way a rule only ever lets a device's *own* leaks through, so a device that takes another's
/// name gains nothing against anyone else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AllowDevice {
    Mac([u8; 6]),
    Name(String),
}

/// The sender of a flow, as `[[allow]]` rules are matched against it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sender<'a> {
    pub mac: Option<[u8; 6]>,
    /// Its current name (lease file, then `[[device]]`).
    pub name: Option<&'a str>,
}

impl AllowDevice {
    /// Parses a rule's `device`: a MAC in any of the forms `[[device]]` takes, else a name.
    /// Text that looks like a MAC (hex digits and separators only) but is not one is refused,
    /// not taken for a name: `a4:50:46:12:34` is a typo, not a host called that.
    pub fn parse(text: &str) -> Result<AllowDevice, String> {
        let t = text.trim();
        if t.is_empty() {
            return Err("the device must not be empty: a name or a MAC address".to_string());
        }
        if t.len() > 64 || t.chars().any(char::is_control) {
            return Err(format!(
                "`{}` is not a device: a name (up to 64 printable characters) or a MAC address",
                t.escape_default()
            ));
        }
        let mac_like = t.bytes().any(|b| matches!(b, b':' | b'-' | b'.'))
            && t.bytes()
                .all(|b| b.is_ascii_hexdigit() || matches!(b, b':' | b'-' | b'.'));
        match parse_mac(t) {
            Ok(mac) => Ok(AllowDevice::Mac(mac)),
            Err(e) if mac_like => Err(e),
            Err(_) => Ok(AllowDevice::Name(t.to_string())),
        }
    }

    /// Whether the rule's device is `sender`; `devices` are the config's `[[device]]`s.
    pub fn matches(&self, devices: &[Device], sender: &Sender<'_>) -> bool {
        match self {
            AllowDevice::Mac(m) => sender.mac == Some(*m),
            AllowDevice::Name(n) => {
                sender.name.is_some_and(|s| s.eq_ignore_ascii_case(n))
                    || sender.mac.is_some_and(|m| {
                        devices
                            .iter()
                            .any(|d| d.name.eq_ignore_ascii_case(n) && d.mac.contains(&m))
                    })
            }
        }
    }

    /// Whether two rules name the same device (names ignoring case).
    pub fn same(&self, other: &AllowDevice) -> bool {
        match (self, other) {
            (AllowDevice::Mac(a), AllowDevice::Mac(b)) => a == b,
            (AllowDevice::Name(a), AllowDevice::Name(b)) => a.eq_ignore_ascii_case(b),
            _ => false,
        }
    }
}

impl std::fmt::Display for AllowDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AllowDevice::Mac(m) => f.write_str(crate::finding::mac_text(m).as_str()),
            AllowDevice::Name(n) => f.write_str(n),
        }
    }
}

impl Allow {
    /// Whether the rule applies to flows from `sender`.
    pub fn applies_to(&self, devices: &[Device], sender: &Sender<'_>) -> bool {
        self.device
            .as_ref()
            .map_or(true, |d| d.matches(devices, sender))
    }

    /// Whether the rule lets `kind` go.
    pub fn covers_kind(&self, kind: Kind) -> bool {
        self.kinds.is_empty() || self.kinds.contains(&kind)
    }
}

impl std::fmt::Display for AllowDst {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // One address is written as the address, as the owner wrote it.
            AllowDst::Prefix(p) if u32::from(p.len) == if p.addr.is_ipv4() { 32 } else { 128 } => {
                write!(f, "{}", p.addr)
            }
            AllowDst::Prefix(p) => write!(f, "{p}"),
            AllowDst::Host(h) => f.write_str(h),
        }
    }
}

impl AllowDst {
    /// Parses a destination as `[[allow]]` takes it.
    pub fn parse(text: &str) -> Result<AllowDst, String> {
        parse_dst(text)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum AllowDst {
    Prefix(Prefix),
    /// A host name; `*.example.com` matches every name below example.com.
    Host(String),
}

/// What a block covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Flow,
    DeviceDestination,
    Destination,
}

/// How the daemon asks the kernel to queue packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueBackend {
    /// Try the native nft `queue` expression, fall back to xt NFQUEUE.
    Auto,
    Nft,
    Xt,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Firewall {
    pub table: String,
    pub queue: u16,
    pub backend: QueueBackend,
    pub priority: i32,
    pub scope: Scope,
    pub block_timeout: u32,
    pub tcp_reset: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    /// The syslog socket (OpenWrt's logd listens on /dev/log).
    pub syslog: PathBuf,
    /// Seconds between two alerts for the same device, kind and destination.
    pub rate_limit: u32,
    /// Recent alerts kept for `status`.
    pub recent: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Daemon {
    pub run_dir: PathBuf,
    pub nflog_group: u16,
}

/// The per-device history (`leakguard report`): where it is kept, how often it is written,
/// its bounds. See [`crate::history`] for the eviction policy and [`crate::history::store`] for
/// why 30 minutes.
#[derive(Clone, Debug, PartialEq)]
pub struct History {
    /// Keep a history at all.
    pub enabled: bool,
    /// The file it is written to; the digest key is kept beside it, in `PATH.key`.
    pub path: PathBuf,
    /// Seconds between two writes, at most (only when something changed; and at a clean stop).
    pub save_interval: u32,
    pub max_devices: u32,
    pub max_destinations: u32,
    /// Days of history kept.
    pub keep_days: u32,
}

impl History {
    pub fn limits(&self) -> crate::history::Limits {
        crate::history::Limits {
            max_devices: self.max_devices,
            max_destinations: self.max_destinations,
            keep_days: self.keep_days,
        }
    }

    /// Where the digest key is kept: beside the history, never inside it.
    pub fn key_path(&self) -> PathBuf {
        let mut p = self.path.as_os_str().to_owned();
        p.push(".key");
        PathBuf::from(p)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub mode: Mode,
    pub network: Network,
    pub devices: Vec<Device>,
    pub detect: Detect,
    pub allow: Vec<Allow>,
    pub firewall: Firewall,
    pub alert: Alert,
    pub daemon: Daemon,
    pub history: History,
    /// Legitimate but probably unintended settings (`file:line:column: key: …`), for
    /// `check-config`, `scan` and the daemon's log to say out loud.
    pub warnings: Vec<ConfigError>,
}

/// A config error: `file:line:column: key: message`.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub key: String,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

/// The defaults, documented key by key in `etc/leakguard.toml` (a test checks that parsing that
/// file gives exactly this value).
impl Default for Config {
    fn default() -> Self {
        Config {
            mode: Mode::Enforce,
            network: Network {
                lan_prefixes: DEFAULT_LAN_PREFIXES
                    .iter()
                    .filter_map(|p| Prefix::parse(p))
                    .collect(),
                learn_ipv6: true,
                leases: Some(PathBuf::from("/tmp/dhcp.leases")),
                lan_interfaces: vec!["br-lan".to_string()],
                country: None,
            },
            devices: Vec::new(),
            detect: Detect {
                kinds: KindSet::ALL,
                encodings: [true; 8],
                structural: true,
                learn_macs: true,
                budget: 4096,
                max_flows: 16384,
                max_learned_macs: 1024,
                max_names: 4096,
                decode_depth: 3,
            },
            allow: Vec::new(),
            firewall: Firewall {
                table: "leakguard".to_string(),
                queue: 0,
                backend: QueueBackend::Auto,
                priority: -5,
                scope: Scope::DeviceDestination,
                block_timeout: 3600,
                tcp_reset: true,
            },
            alert: Alert {
                syslog: PathBuf::from("/dev/log"),
                rate_limit: 60,
                recent: 64,
            },
            daemon: Daemon {
                run_dir: PathBuf::from("/var/run/leakguard"),
                nflog_group: 5,
            },
            history: History {
                enabled: true,
                path: PathBuf::from("/etc/leakguard/history.json"),
                save_interval: 1800,
                max_devices: 64,
                max_destinations: 64,
                keep_days: 30,
            },
            warnings: Vec::new(),
        }
    }
}

/// The largest config file read (the documented default is about 6 KiB).
pub const MAX_FILE: usize = 1 << 20;

/// The private ranges (RFC 1918, RFC 4193). Not CGNAT's `100.64.0.0/10` (RFC 6598): ISPs put
/// their own portals and proxies there, and a LAN that uses it says so in `lan_prefixes`.
const DEFAULT_LAN_PREFIXES: [&str; 4] =
    ["192.168.0.0/16", "10.0.0.0/8", "172.16.0.0/12", "fc00::/7"];

impl Config {
    /// Reads and parses the file at `path`; the path names the file in errors. A file that
    /// cannot be read is an error at line 0, column 0, with no key.
    ///
    /// At most [`MAX_FILE`] bytes are read: a bigger file (a log written over it, a wrong
    /// path) is refused, not parsed into memory a router does not have.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        use std::io::Read;
        let file = path.display().to_string();
        let io_error = |e: std::io::Error| ConfigError {
            file: file.clone(),
            line: 0,
            column: 0,
            key: String::new(),
            message: e.to_string(),
        };
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_FILE as u64 + 1).read_to_end(&mut bytes))
            .map_err(io_error)?;
        if bytes.len() > MAX_FILE {
            let (line, column) = position(&String::from_utf8_lossy(&bytes), MAX_FILE);
            return Err(ConfigError {
                file,
                line,
                column,
                key: String::new(),
                message: format!(
                    "the file is larger than {} KiB: not a leakguard config",
                    MAX_FILE / 1024
                ),
            });
        }
        match String::from_utf8(bytes) {
            Ok(text) => Config::parse(&text, &file),
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let (line, column) = position(&String::from_utf8_lossy(e.as_bytes()), at);
                Err(ConfigError {
                    file,
                    line,
                    column,
                    key: String::new(),
                    message: "the file is not UTF-8 text (TOML must be UTF-8)".to_string(),
                })
            }
        }
    }

    /// Parses config text; `file` names it in errors. Keys left out take their defaults.
    /// Nothing is applied from a text with an error: the caller gets a whole config or none.
    pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
        let (mut config, warnings) = raw::parse(text).map_err(|e| e.locate(text, file))?;
        config.warnings = warnings.into_iter().map(|w| w.locate(text, file)).collect();
        Ok(config)
    }

    pub fn kind_enabled(&self, kind: Kind) -> bool {
        self.detect.kinds.contains(kind)
    }

    pub fn layer_enabled(&self, layer: Layer) -> bool {
        self.detect.encodings[layer as usize]
    }

    pub fn is_lan(&self, ip: IpAddr) -> bool {
        self.network.lan_prefixes.iter().any(|p| p.contains(ip))
    }
}

use ids::{parse_dst, parse_mac};
