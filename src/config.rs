//! The configuration: one TOML file for `scan` and `run` (see `etc/leakguard.toml`).
//!
//! Every error names the file, line, column and key, because the owner edits this file by hand
//! on a router over ssh and the daemon refuses to start on a bad one. Unknown keys are errors:
//! a misspelt `imie = [...]` must not silently disable detection.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use crate::finding::{Kind, Layer};

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
    pub fn contains(&self, ip: IpAddr) -> bool {
        todo!("config helper: {ip}")
    }
    pub fn parse(text: &str) -> Option<Prefix> {
        todo!("config helper: {text}")
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    /// Addresses of the LAN; traffic from them to anything else is inspected.
    pub lan_prefixes: Vec<Prefix>,
    /// dnsmasq lease file, for device names.
    pub leases: Option<PathBuf>,
    /// Interfaces whose forwarded traffic the daemon queues (default `br-lan`).
    pub lan_interfaces: Vec<String>,
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
    /// Kinds reported, indexed by `Kind as usize`.
    pub kinds: [bool; 8],
    /// Layers the detector looks through, indexed by `Layer as usize`.
    pub encodings: [bool; 7],
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

/// A destination where some kinds (all when empty) may go.
#[derive(Clone, Debug, PartialEq)]
pub struct Allow {
    pub dst: AllowDst,
    pub kinds: Vec<Kind>,
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
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file, self.line, self.column, self.key, self.message
        )
    }
}

impl std::error::Error for ConfigError {}

impl Default for Config {
    fn default() -> Self {
        todo!("config helper")
    }
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        todo!("config helper: {}", path.display())
    }

    pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
        todo!("config helper: {text} {file}")
    }

    pub fn kind_enabled(&self, kind: Kind) -> bool {
        self.detect.kinds[kind as usize]
    }

    pub fn layer_enabled(&self, layer: Layer) -> bool {
        self.detect.encodings[layer as usize]
    }

    pub fn is_lan(&self, ip: IpAddr) -> bool {
        self.network.lan_prefixes.iter().any(|p| p.contains(ip))
    }
}
