//! The configuration: one TOML file for `scan` and `run` (see `etc/leakguard.toml`).
//!
//! Every error names the file, line, column and key, because the owner edits this file by hand
//! on a router over ssh and the daemon refuses to start on a bad one. Unknown keys are errors:
//! a misspelt `imie = [...]` must not silently disable detection.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use crate::finding::{Kind, KindSet, Layer};

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

/// Line and column (both from 1, columns in characters) of byte `offset` of `text`.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = text.get(..offset).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

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

/// Parsing: TOML → private raw structs (serde, unknown keys refused) → checked public types.
///
/// The raw structs keep `Spanned` values wherever a check of ours may fail, so that every error
/// carries the byte span it concerns; [`Error::locate`] turns the span into a line, a column and
/// the dotted key path (`device[0].imei[1]`) by walking a span tree of the same document.
mod raw {
    use std::collections::BTreeMap;
    use std::ops::Range;

    use serde::Deserialize;
    use toml::Spanned;

    use super::*;

    /// An error before it is placed: the byte span it concerns and what is wrong.
    pub(super) struct Error {
        span: Option<Range<usize>>,
        message: String,
    }

    type R<T> = Result<T, Error>;

    fn at<T>(span: Range<usize>, message: impl Into<String>) -> R<T> {
        Err(Error {
            span: Some(span),
            message: message.into(),
        })
    }

    impl Error {
        pub(super) fn locate(self, text: &str, file: &str) -> ConfigError {
            let mut message = self.message.trim().replace('\n', ": ");
            let Some(span) = self.span else {
                return ConfigError {
                    file: file.to_string(),
                    line: 0,
                    column: 0,
                    key: String::new(),
                    message,
                };
            };
            let mut offset = span.start.min(text.len());
            while !text.is_char_boundary(offset) {
                offset -= 1;
            }
            let (line, column) = super::position(text, offset);
            let mut key = super::keys::path_at(text, offset);
            if let Some(name) = unknown_field(&message) {
                // The span is the unknown key's own; make sure the path ends with its name even
                // if the span tree could not be built.
                if !key.ends_with(name) {
                    if !key.is_empty() {
                        key.push('.');
                    }
                    key.push_str(name);
                }
            }
            message = toml_words(&message);
            if message.starts_with("invalid type: integer")
                && message.ends_with("expected a string")
            {
                message.push_str(" (write identifiers in quotes)");
            }
            ConfigError {
                file: file.to_string(),
                line,
                column,
                key,
                message,
            }
        }
    }

    /// serde's words for types, said in TOML's words, without the names of our raw structs.
    fn toml_words(message: &str) -> String {
        let mut out = message
            .replace("invalid type: map", "invalid type: table")
            .replace("invalid type: sequence", "invalid type: array")
            .replace("expected a sequence", "expected an array")
            .replace("expected a map", "expected a table")
            .replace("expected i64", "expected an integer");
        if let Some(at) = out.find("expected struct Raw") {
            let end = out
                .get(at + "expected struct ".len()..)
                .and_then(|rest| rest.find(|c: char| !c.is_ascii_alphanumeric()))
                .map_or(out.len(), |e| at + "expected struct ".len() + e);
            out.replace_range(at..end, "expected a table");
        }
        out
    }

    /// The name in serde's "unknown field `imie`, expected one of …".
    fn unknown_field(message: &str) -> Option<&str> {
        let rest = message.strip_prefix("unknown field `")?;
        rest.split_once('`').map(|(name, _)| name)
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawConfig {
        mode: Option<Spanned<String>>,
        network: Option<RawNetwork>,
        #[serde(default)]
        device: Vec<Spanned<RawDevice>>,
        detect: Option<RawDetect>,
        #[serde(default)]
        allow: Vec<Spanned<RawAllow>>,
        firewall: Option<RawFirewall>,
        alert: Option<RawAlert>,
        daemon: Option<RawDaemon>,
        history: Option<RawHistory>,
    }

    #[derive(Deserialize, Default)]
    #[serde(deny_unknown_fields)]
    struct RawNetwork {
        lan_prefixes: Option<Spanned<Vec<Spanned<String>>>>,
        leases: Option<Spanned<String>>,
        lan_interfaces: Option<Spanned<Vec<Spanned<String>>>>,
        country: Option<Spanned<String>>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawDevice {
        name: Option<Spanned<String>>,
        mac: Option<Spanned<Ids>>,
        imei: Option<Spanned<Ids>>,
        imsi: Option<Spanned<Ids>>,
        iccid: Option<Spanned<Ids>>,
        meid: Option<Spanned<Ids>>,
        phone: Option<Spanned<Ids>>,
        serial: Option<Spanned<Ids>>,
    }

    type Switches = Spanned<BTreeMap<Spanned<String>, Spanned<bool>>>;

    #[derive(Deserialize, Default)]
    #[serde(deny_unknown_fields)]
    struct RawDetect {
        kinds: Option<Switches>,
        encodings: Option<Switches>,
        structural: Option<bool>,
        learn_macs: Option<bool>,
        budget: Option<Spanned<i64>>,
        max_flows: Option<Spanned<i64>>,
        max_learned_macs: Option<Spanned<i64>>,
        max_names: Option<Spanned<i64>>,
        decode_depth: Option<Spanned<i64>>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawAllow {
        device: Option<Spanned<String>>,
        dst: Option<Spanned<String>>,
        kinds: Option<Vec<Spanned<String>>>,
    }

    #[derive(Deserialize, Default)]
    #[serde(deny_unknown_fields)]
    struct RawFirewall {
        table: Option<Spanned<String>>,
        queue: Option<Spanned<i64>>,
        backend: Option<Spanned<String>>,
        priority: Option<Spanned<i64>>,
        scope: Option<Spanned<String>>,
        block_timeout: Option<Spanned<i64>>,
        tcp_reset: Option<bool>,
    }

    #[derive(Deserialize, Default)]
    #[serde(deny_unknown_fields)]
    struct RawAlert {
        syslog: Option<Spanned<String>>,
        rate_limit: Option<Spanned<i64>>,
        recent: Option<Spanned<i64>>,
    }

    #[derive(Deserialize, Default)]
    #[serde(deny_unknown_fields)]
    struct RawDaemon {
        run_dir: Option<Spanned<String>>,
        nflog_group: Option<Spanned<i64>>,
    }

    #[derive(Deserialize, Default)]
    #[serde(deny_unknown_fields)]
    struct RawHistory {
        enabled: Option<bool>,
        path: Option<Spanned<String>>,
        save_interval: Option<Spanned<i64>>,
        max_devices: Option<Spanned<i64>>,
        max_destinations: Option<Spanned<i64>>,
        keep_days: Option<Spanned<i64>>,
    }

    /// One identifier (`imei = "…"`) or several (`imei = ["…", "…"]`).
    enum Ids {
        One(String),
        Many(Vec<Spanned<String>>),
    }

    impl<'de> Deserialize<'de> for Ids {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Ids, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = Ids;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("a string or an array of strings")
                }
                fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Ids, E> {
                    Ok(Ids::One(v.to_string()))
                }
                fn visit_seq<A: serde::de::SeqAccess<'de>>(
                    self,
                    mut seq: A,
                ) -> Result<Ids, A::Error> {
                    let mut all = Vec::new();
                    while let Some(one) = seq.next_element()? {
                        all.push(one);
                    }
                    Ok(Ids::Many(all))
                }
            }
            d.deserialize_any(V)
        }
    }

    fn ids(v: Option<Spanned<Ids>>) -> Vec<Spanned<String>> {
        let Some(v) = v else { return Vec::new() };
        let span = v.span();
        match v.into_inner() {
            Ids::One(s) => vec![Spanned::new(span, s)],
            Ids::Many(all) => all,
        }
    }

    /// The config and its warnings (placed like errors).
    pub(super) fn parse(text: &str) -> R<(Config, Vec<Error>)> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| Error {
            span: e.span(),
            message: e.message().to_string(),
        })?;
        let first_device = raw.device.first().map(|d| d.span());
        let mut warnings = Vec::new();
        check_switches(&raw, &mut warnings);
        let config = convert(raw)?;
        // What the detector cannot honour is an error here, not a detector missing its
        // known values later.
        if let Err((_, message)) = crate::detect::Detector::try_new(&config) {
            return Err(Error {
                span: first_device,
                message,
            });
        }
        if !config.detect.structural && !config.detect.learn_macs && config.devices.is_empty() {
            warnings.push(Error {
                span: Some(0..0),
                message: "no devices, structural detection and MAC learning off: nothing is \
                          detected"
                    .to_string(),
            });
        }
        Ok((config, warnings))
    }

    /// Identifiers configured for a kind that `detect.kinds` switches off are not searched:
    /// legitimate (a kind paused), but worth saying.
    fn check_switches(raw: &RawConfig, warnings: &mut Vec<Error>) {
        let Some(kinds) = raw.detect.as_ref().and_then(|d| d.kinds.as_ref()) else {
            return;
        };
        for (k, on) in kinds.get_ref() {
            if *on.get_ref() {
                continue;
            }
            let used = raw.device.iter().any(|d| {
                let d = d.get_ref();
                let v = match k.get_ref().as_str() {
                    "imei" | "imeisv" => &d.imei,
                    "imsi" => &d.imsi,
                    "iccid" => &d.iccid,
                    "meid" => &d.meid,
                    "phone" => &d.phone,
                    "serial" => &d.serial,
                    "mac" => &d.mac,
                    _ => &None,
                };
                v.is_some()
            });
            if used && k.get_ref() != "imeisv" {
                warnings.push(Error {
                    span: Some(on.span()),
                    message: format!(
                        "the {} values of [[device]] entries are not searched while this kind is off",
                        k.get_ref()
                    ),
                });
            }
        }
    }

    fn convert(raw: RawConfig) -> R<Config> {
        let d = Config::default();
        let mode = match raw.mode {
            None => d.mode,
            Some(m) => match m.get_ref().as_str() {
                "enforce" => Mode::Enforce,
                "monitor" => Mode::Monitor,
                other => {
                    return at(
                        m.span(),
                        format!("unknown mode `{other}`: expected `enforce` or `monitor`"),
                    )
                }
            },
        };
        if raw.device.len() > MAX_DEVICES {
            let span = raw.device.get(MAX_DEVICES).map_or(0..0, |d| d.span());
            return at(span, format!("more than {MAX_DEVICES} devices"));
        }
        Ok(Config {
            mode,
            network: network(raw.network.unwrap_or_default(), d.network)?,
            devices: raw.device.into_iter().map(device).collect::<R<_>>()?,
            detect: detect(raw.detect.unwrap_or_default(), d.detect)?,
            allow: raw.allow.into_iter().map(allow).collect::<R<_>>()?,
            firewall: firewall(raw.firewall.unwrap_or_default(), d.firewall)?,
            alert: alert(raw.alert.unwrap_or_default(), d.alert)?,
            daemon: daemon(raw.daemon.unwrap_or_default(), d.daemon)?,
            history: history(raw.history.unwrap_or_default(), d.history)?,
            warnings: Vec::new(),
        })
    }

    /// Devices are numbered by a `u16` in findings; far fewer are ever configured.
    const MAX_DEVICES: usize = 4096;

    fn network(n: RawNetwork, d: Network) -> R<Network> {
        let lan_prefixes = match n.lan_prefixes {
            None => d.lan_prefixes,
            Some(list) => {
                let span = list.span();
                let list = list.into_inner();
                if list.is_empty() {
                    return at(
                        span,
                        "at least one prefix is needed: with none, no traffic is LAN traffic",
                    );
                }
                list.iter()
                    .map(|p| parse_prefix(p.get_ref()).or_else(|m| at(p.span(), m)))
                    .collect::<R<_>>()?
            }
        };
        let leases = match n.leases {
            None => d.leases,
            Some(p) if p.get_ref().is_empty() => None,
            Some(p) => Some(PathBuf::from(p.into_inner())),
        };
        let lan_interfaces = match n.lan_interfaces {
            None => d.lan_interfaces,
            Some(list) if list.get_ref().is_empty() => {
                return at(
                    list.span(),
                    "at least one interface is needed: with none, the daemon queues no traffic \
                     and inspects nothing",
                )
            }
            Some(list) => list
                .into_inner()
                .into_iter()
                .map(|i| {
                    let name = i.get_ref();
                    let ok = !name.is_empty()
                        && name.len() < 16
                        && name.bytes().all(|b| b.is_ascii_graphic() && b != b'/');
                    if ok {
                        Ok(i.into_inner())
                    } else {
                        at(
                            i.span(),
                            format!("`{name}` is not an interface name (1 to 15 characters, no spaces or `/`)"),
                        )
                    }
                })
                .collect::<R<_>>()?,
        };
        let country = match n.country {
            None => d.country,
            Some(c) if c.get_ref().is_empty() => None,
            Some(c) => match crate::detect::phone::Country::from_iso(c.get_ref()) {
                Some(plan) => Some(String::from_utf8_lossy(&plan.iso).into_owned()),
                None => {
                    return at(
                        c.span(),
                        format!(
                            "`{}` is not a country: expected an ISO 3166-1 alpha-2 code such as \
                             `CN`, `FI` or `US` (\"\" for none)",
                            c.get_ref()
                        ),
                    )
                }
            },
        };
        Ok(Network {
            lan_prefixes,
            leases,
            lan_interfaces,
            country,
        })
    }

    fn device(d: Spanned<RawDevice>) -> R<Device> {
        let span = d.span();
        let d = d.into_inner();
        let name = match d.name {
            None => return at(span, "a device needs a `name`"),
            Some(n) if n.get_ref().trim().is_empty() => {
                return at(n.span(), "the device name must not be empty")
            }
            Some(n) => n.into_inner().trim().to_string(),
        };
        let each = |v, check: fn(&str) -> Result<String, String>| -> R<Vec<String>> {
            ids(v)
                .into_iter()
                .map(|s| check(s.get_ref()).or_else(|m| at(s.span(), m)))
                .collect()
        };
        Ok(Device {
            name,
            mac: ids(d.mac)
                .into_iter()
                .map(|s| parse_mac(s.get_ref()).or_else(|m| at(s.span(), m)))
                .collect::<R<_>>()?,
            imei: each(d.imei, check_imei)?,
            imsi: each(d.imsi, check_imsi)?,
            iccid: each(d.iccid, check_iccid)?,
            meid: each(d.meid, check_meid)?,
            phone: each(d.phone, check_phone)?,
            serial: each(d.serial, check_serial)?,
        })
    }

    fn switches<T: Copy, const N: usize>(
        v: Option<Switches>,
        mut out: [bool; N],
        all: [T; N],
        name: fn(T) -> &'static str,
        what: &str,
    ) -> R<[bool; N]> {
        let Some(v) = v else { return Ok(out) };
        let mut entries: Vec<_> = v.into_inner().into_iter().collect();
        // Report the first bad name in document order, not in alphabetical order.
        entries.sort_by_key(|(k, _)| k.span().start);
        for (k, on) in entries {
            match all.iter().position(|t| name(*t) == k.get_ref()) {
                Some(i) => {
                    if let Some(slot) = out.get_mut(i) {
                        *slot = *on.get_ref();
                    }
                }
                None => {
                    let names: Vec<&str> = all.iter().map(|t| name(*t)).collect();
                    return at(
                        k.span(),
                        format!(
                            "unknown {what} `{}`: expected one of {}",
                            k.get_ref(),
                            names.join(", ")
                        ),
                    );
                }
            }
        }
        Ok(out)
    }

    fn detect(r: RawDetect, d: Detect) -> R<Detect> {
        Ok(Detect {
            kinds: {
                let was = Kind::ALL.map(|k| d.kinds.contains(k));
                let on = switches(r.kinds, was, Kind::ALL, Kind::name, "kind")?;
                Kind::ALL
                    .into_iter()
                    .zip(on)
                    .filter_map(|(k, on)| on.then_some(k))
                    .collect()
            },
            encodings: switches(
                r.encodings,
                d.encodings,
                Layer::ALL,
                Layer::name,
                "encoding",
            )?,
            structural: r.structural.unwrap_or(d.structural),
            learn_macs: r.learn_macs.unwrap_or(d.learn_macs),
            budget: int(r.budget, d.budget, 64, 65536)?,
            max_flows: int(r.max_flows, d.max_flows, 16, 1_000_000)?,
            max_learned_macs: int(r.max_learned_macs, d.max_learned_macs, 0, 65536)?,
            max_names: int(r.max_names, d.max_names, 0, 65536)?,
            decode_depth: int(r.decode_depth, d.decode_depth, 0, 4)?,
        })
    }

    /// A ranged integer, or `default` when absent.
    fn int<T: TryFrom<i64>>(v: Option<Spanned<i64>>, default: T, lo: i64, hi: i64) -> R<T> {
        let Some(v) = v else { return Ok(default) };
        let n = *v.get_ref();
        if n < lo || n > hi {
            return at(
                v.span(),
                format!("{n} is out of range: must be from {lo} to {hi}"),
            );
        }
        T::try_from(n).or_else(|_| at(v.span(), format!("{n} is out of range")))
    }

    fn allow(a: Spanned<RawAllow>) -> R<Allow> {
        let span = a.span();
        let a = a.into_inner();
        let Some(dst) = a.dst else {
            return at(
                span,
                "an allow rule needs a `dst` (a prefix, an address or a host name)",
            );
        };
        let dst = parse_dst(dst.get_ref()).or_else(|m| at(dst.span(), m))?;
        let device = match a.device {
            None => None,
            Some(d) => Some(AllowDevice::parse(d.get_ref()).or_else(|m| at(d.span(), m))?),
        };
        let kinds = a
            .kinds
            .unwrap_or_default()
            .into_iter()
            .map(|k| match Kind::from_name(k.get_ref()) {
                Some(kind) => Ok(kind),
                None => {
                    let names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
                    at(
                        k.span(),
                        format!(
                            "unknown kind `{}`: expected one of {}",
                            k.get_ref(),
                            names.join(", ")
                        ),
                    )
                }
            })
            .collect::<R<_>>()?;
        Ok(Allow { dst, kinds, device })
    }

    fn firewall(f: RawFirewall, d: Firewall) -> R<Firewall> {
        let table = match f.table {
            None => d.table,
            Some(t) => {
                let name = t.get_ref();
                let ok = !name.is_empty()
                    && name.len() <= 64
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                if !ok {
                    return at(
                        t.span(),
                        format!("`{name}` is not a table name (1 to 64 letters, digits, `_`, `-`)"),
                    );
                }
                t.into_inner()
            }
        };
        let backend = match f.backend {
            None => d.backend,
            Some(b) => match b.get_ref().as_str() {
                "auto" => QueueBackend::Auto,
                "nft" => QueueBackend::Nft,
                "xt" => QueueBackend::Xt,
                other => {
                    return at(
                        b.span(),
                        format!("unknown backend `{other}`: expected `auto`, `nft` or `xt`"),
                    )
                }
            },
        };
        let scope = match f.scope {
            None => d.scope,
            Some(s) => match s.get_ref().as_str() {
                "flow" => Scope::Flow,
                "device-destination" => Scope::DeviceDestination,
                "destination" => Scope::Destination,
                other => {
                    return at(
                        s.span(),
                        format!(
                            "unknown scope `{other}`: expected `flow`, `device-destination` or `destination`"
                        ),
                    )
                }
            },
        };
        Ok(Firewall {
            table,
            queue: int(f.queue, d.queue, 0, 65535)?,
            backend,
            priority: int(
                f.priority,
                d.priority,
                i64::from(i32::MIN),
                i64::from(i32::MAX),
            )?,
            scope,
            block_timeout: int(f.block_timeout, d.block_timeout, 1, 604_800)?,
            tcp_reset: f.tcp_reset.unwrap_or(d.tcp_reset),
        })
    }

    fn path(v: Option<Spanned<String>>, default: PathBuf) -> R<PathBuf> {
        match v {
            None => Ok(default),
            Some(p) if p.get_ref().is_empty() => at(p.span(), "the path must not be empty"),
            Some(p) => Ok(PathBuf::from(p.into_inner())),
        }
    }

    fn alert(a: RawAlert, d: Alert) -> R<Alert> {
        Ok(Alert {
            syslog: path(a.syslog, d.syslog)?,
            rate_limit: int(a.rate_limit, d.rate_limit, 0, 86_400)?,
            recent: int(a.recent, d.recent, 0, 4096)?,
        })
    }

    fn daemon(r: RawDaemon, d: Daemon) -> R<Daemon> {
        Ok(Daemon {
            run_dir: path(r.run_dir, d.run_dir)?,
            nflog_group: int(r.nflog_group, d.nflog_group, 0, 65535)?,
        })
    }

    fn history(r: RawHistory, d: History) -> R<History> {
        Ok(History {
            enabled: r.enabled.unwrap_or(d.enabled),
            path: path(r.path, d.path)?,
            // One second is for tests; see `history::store` on what flash wants.
            save_interval: int(r.save_interval, d.save_interval, 1, 86_400)?,
            max_devices: int(r.max_devices, d.max_devices, 0, 4096)?,
            max_destinations: int(r.max_destinations, d.max_destinations, 1, 4096)?,
            keep_days: int(r.keep_days, d.keep_days, 1, 366)?,
        })
    }
}

/// Checks of identifier text: each returns the canonical form or the reason for refusing it.
mod ids {
    use super::*;

    /// Digits with the separators people write (`49 015420 323751 8`, `4901-5420-…`) removed.
    fn digits(text: &str, what: &str) -> Result<String, String> {
        let out: String = text.chars().filter(|c| *c != ' ' && *c != '-').collect();
        if out.is_empty() || !out.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "`{text}` is not an {what}: only digits, spaces and dashes are allowed"
            ));
        }
        not_placeholder(text, &out)?;
        Ok(out)
    }

    /// One character repeated (`000000000000000`, `FFFFFF`) is what software writes when it
    /// has no identifier; as a known value it would match in everyone's traffic and the
    /// daemon would drop it.
    fn not_placeholder(text: &str, canonical: &str) -> Result<(), String> {
        let mut chars = canonical.chars().map(|c| c.to_ascii_lowercase());
        let first = chars.next();
        if chars.all(|c| Some(c) == first) {
            return Err(format!(
                "`{text}` is a placeholder (one character repeated), not a device's \
                 identifier: it would match unrelated traffic"
            ));
        }
        Ok(())
    }

    pub(crate) use crate::detect::identifiers::luhn_digit;

    pub(super) fn check_imei(text: &str) -> Result<String, String> {
        let d = digits(text, "IMEI")?;
        match d.len() {
            15 => {}
            14 => {
                return Err(format!(
                    "`{text}` has 14 digits: an IMEI has 15, the last being its Luhn check digit"
                ))
            }
            n => return Err(format!("`{text}` has {n} digits: an IMEI has 15")),
        }
        let (payload, check) = d.as_bytes().split_at(14);
        let want = luhn_digit(payload);
        if check.first().map(|c| c.wrapping_sub(b'0')) != Some(want) {
            return Err(format!(
                "`{text}` fails the IMEI check digit (Luhn): the last digit should be {want}"
            ));
        }
        Ok(d)
    }

    pub(super) fn check_imsi(text: &str) -> Result<String, String> {
        let d = digits(text, "IMSI")?;
        if !(14..=15).contains(&d.len()) {
            return Err(format!(
                "`{text}` has {} digits: an IMSI has 14 or 15",
                d.len()
            ));
        }
        Ok(d)
    }

    pub(super) fn check_iccid(text: &str) -> Result<String, String> {
        let d = digits(text, "ICCID")?;
        if !(18..=20).contains(&d.len()) {
            return Err(format!(
                "`{text}` has {} digits: an ICCID has 18 to 20",
                d.len()
            ));
        }
        Ok(d)
    }

    /// 14 hex digits (stored upper-case, as MEIDs are printed) or the 18-digit decimal form.
    pub(super) fn check_meid(text: &str) -> Result<String, String> {
        let t: String = text.chars().filter(|c| *c != ' ' && *c != '-').collect();
        if t.len() == 14 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
            not_placeholder(text, &t)?;
            return Ok(t.to_ascii_uppercase());
        }
        if t.len() == 18 && t.bytes().all(|b| b.is_ascii_digit()) {
            not_placeholder(text, &t)?;
            return Ok(t);
        }
        Err(format!(
            "`{text}` is not a MEID: expected 14 hex digits or 18 decimal digits"
        ))
    }

    pub(super) fn check_phone(text: &str) -> Result<String, String> {
        let t: String = text.chars().filter(|c| *c != ' ' && *c != '-').collect();
        let (plus, rest) = match t.strip_prefix('+') {
            Some(rest) => ("+", rest),
            None => ("", t.as_str()),
        };
        let min = crate::detect::MIN_LITERAL;
        if !(min..=15).contains(&rest.len()) || !rest.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "`{text}` is not a phone number: expected an optional `+` and {min} to 15 digits"
            ));
        }
        not_placeholder(text, rest)?;
        Ok(format!("{plus}{rest}"))
    }

    pub(super) fn check_serial(text: &str) -> Result<String, String> {
        let t = text.trim();
        // The detector searches no literal shorter than this: a shorter serial would be
        // accepted here and then never found.
        let min = crate::detect::MIN_LITERAL;
        if !(min..=32).contains(&t.len()) || !t.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return Err(format!(
                "`{text}` is not a serial number: expected {min} to 32 printable ASCII \
                 characters (shorter ones would match unrelated traffic, so they are not \
                 searched)"
            ));
        }
        not_placeholder(text, t)?;
        Ok(t.to_string())
    }

    /// `aa:bb:cc:dd:ee:ff`, `aa-bb-cc-dd-ee-ff`, `aabbccddeeff` or `aabb.ccdd.eeff` (the forms
    /// the detector reads, from the one parser in `detect::identifiers`).
    pub(super) fn parse_mac(text: &str) -> Result<[u8; 6], String> {
        let mac = crate::detect::identifiers::parse_mac_exact(text).ok_or_else(|| {
            format!(
                "`{text}` is not a MAC address: expected aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff, \
                 aabbccddeeff or aabb.ccdd.eeff"
            )
        })?;
        if crate::detect::identifiers::mac_is_placeholder(mac) {
            return Err(format!(
                "`{text}` is not a device's MAC address (all zero, broadcast, multicast or \
                 Android's 02:00:00:00:00:00 placeholder)"
            ));
        }
        Ok(mac)
    }

    /// An allow rule's destination: a prefix, a single address, a host name or `*.suffix`.
    pub(super) fn parse_dst(text: &str) -> Result<AllowDst, String> {
        if text.contains('/') {
            return parse_prefix(text).map(AllowDst::Prefix);
        }
        if let Ok(addr) = text.parse::<IpAddr>() {
            let len = if addr.is_ipv4() { 32 } else { 128 };
            return Ok(AllowDst::Prefix(Prefix { addr, len }));
        }
        let name = text.strip_suffix('.').unwrap_or(text).to_ascii_lowercase();
        let host = name.strip_prefix("*.").unwrap_or(&name);
        let ok = !host.is_empty()
            && host.len() <= 253
            && host.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            });
        if !ok {
            return Err(format!(
                "`{text}` is not a destination: expected a prefix (`203.0.113.0/24`), an address, \
                 a host name or `*.example.com`"
            ));
        }
        Ok(AllowDst::Host(name))
    }
}

use ids::{check_iccid, check_imei, check_imsi, check_meid, check_phone, check_serial};
use ids::{parse_dst, parse_mac};

/// Where in the document an error is: the dotted key path at a byte offset.
mod keys {
    use serde::Deserialize;
    use toml::Spanned;

    /// The shape of a TOML document with the span of every key and value.
    enum Node {
        Leaf,
        Table(Vec<(Spanned<String>, Spanned<Node>)>),
        Array(Vec<Spanned<Node>>),
    }

    impl<'de> Deserialize<'de> for Node {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = Node;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("any TOML value")
                }
                fn visit_bool<E>(self, _: bool) -> Result<Node, E> {
                    Ok(Node::Leaf)
                }
                fn visit_i64<E>(self, _: i64) -> Result<Node, E> {
                    Ok(Node::Leaf)
                }
                fn visit_u64<E>(self, _: u64) -> Result<Node, E> {
                    Ok(Node::Leaf)
                }
                fn visit_f64<E>(self, _: f64) -> Result<Node, E> {
                    Ok(Node::Leaf)
                }
                fn visit_str<E>(self, _: &str) -> Result<Node, E> {
                    Ok(Node::Leaf)
                }
                fn visit_seq<A: serde::de::SeqAccess<'de>>(
                    self,
                    mut seq: A,
                ) -> Result<Node, A::Error> {
                    let mut all = Vec::new();
                    while let Some(x) = seq.next_element()? {
                        all.push(x);
                    }
                    Ok(Node::Array(all))
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<Node, A::Error> {
                    let mut all = Vec::new();
                    while let Some(k) = map.next_key()? {
                        all.push((k, map.next_value()?));
                    }
                    Ok(Node::Table(all))
                }
            }
            d.deserialize_any(V)
        }
    }

    /// The dotted path (`device[0].imei[1]`) of the smallest key or value whose span holds
    /// `offset`; for text that is not valid TOML, a guess from the lines before it.
    pub(super) fn path_at(text: &str, offset: usize) -> String {
        match toml::from_str::<Node>(text) {
            Ok(root) => {
                let mut best: Option<(usize, String)> = None;
                walk(&root, String::new(), offset, &mut best);
                best.map(|(_, p)| p).unwrap_or_default()
            }
            Err(_) => guess(text, offset),
        }
    }

    fn holds(span: &std::ops::Range<usize>, offset: usize) -> bool {
        span.contains(&offset) || (span.is_empty() && span.start == offset)
    }

    fn consider(best: &mut Option<(usize, String)>, span: &std::ops::Range<usize>, path: &str) {
        let len = span.len();
        if best.as_ref().map_or(true, |(l, _)| len <= *l) {
            *best = Some((len, path.to_string()));
        }
    }

    fn walk(node: &Node, path: String, offset: usize, best: &mut Option<(usize, String)>) {
        match node {
            Node::Leaf => {}
            Node::Table(entries) => {
                for (k, v) in entries {
                    let p = if path.is_empty() {
                        k.get_ref().clone()
                    } else {
                        format!("{path}.{}", k.get_ref())
                    };
                    if holds(&k.span(), offset) {
                        consider(best, &k.span(), &p);
                    }
                    if holds(&v.span(), offset) {
                        consider(best, &v.span(), &p);
                    }
                    // Tables opened by a header hold keys outside their own span: descend always.
                    walk(v.get_ref(), p, offset, best);
                }
            }
            Node::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    let p = format!("{path}[{i}]");
                    if holds(&v.span(), offset) {
                        consider(best, &v.span(), &p);
                    }
                    walk(v.get_ref(), p, offset, best);
                }
            }
        }
    }

    /// For syntax errors: the last table header before `offset` and the key on its line.
    fn guess(text: &str, offset: usize) -> String {
        let before = text.get(..offset).unwrap_or(text);
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let line = text
            .get(line_start..)
            .and_then(|l| l.lines().next())
            .unwrap_or("");
        let mut table = String::new();
        let mut arrays: Vec<(String, usize)> = Vec::new();
        let mut header = |l: &str, table: &mut String| {
            let l = l.trim();
            if let Some(name) = l.strip_prefix("[[").and_then(|l| l.split("]]").next()) {
                let name = name.trim().to_string();
                let n = match arrays.iter_mut().find(|(a, _)| *a == name) {
                    Some((_, n)) => {
                        *n += 1;
                        *n
                    }
                    None => {
                        arrays.push((name.clone(), 0));
                        0
                    }
                };
                *table = format!("{name}[{n}]");
            } else if let Some(name) = l.strip_prefix('[').and_then(|l| l.split(']').next()) {
                *table = name.trim().to_string();
            }
        };
        for l in text.get(..line_start).unwrap_or("").lines() {
            header(l, &mut table);
        }
        if line.trim_start().starts_with('[') {
            header(line, &mut table);
            return table;
        }
        match line.split_once('=') {
            Some((k, _)) => {
                let k = k.trim().trim_matches('"');
                if table.is_empty() {
                    k.to_string()
                } else {
                    format!("{table}.{k}")
                }
            }
            None => table,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        Config::parse(text, "t.toml").unwrap_err().to_string()
    }

    fn ok(text: &str) -> Config {
        match Config::parse(text, "t.toml") {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn shipped_file_is_the_default() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("etc/leakguard.toml");
        assert_eq!(Config::load(&path).unwrap(), Config::default());
    }

    #[test]
    fn shipped_example_device_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("etc/leakguard.toml");
        let text = std::fs::read_to_string(path).unwrap();
        // Uncomment the example device block.
        let text: String = text
            .lines()
            .map(|l| match l.strip_prefix("# ") {
                Some(rest) if rest.starts_with("[[") || rest.contains(" = ") => rest,
                _ => l,
            })
            .collect::<Vec<_>>()
            .join("\n");
        let c = ok(&text);
        assert_eq!(c.devices.len(), 1);
        let d = &c.devices[0];
        assert_eq!(d.name, "Nokia 7 Plus");
        assert_eq!(d.mac, vec![[0xa4, 0x50, 0x46, 0x12, 0x34, 0x56]]);
        assert_eq!(d.imei, vec!["490154203237518"]);
        assert_eq!(d.imsi, vec!["460001234567890"]);
        assert_eq!(d.iccid, vec!["89860012345678901234"]);
        assert_eq!(c.allow.len(), 1);
        assert_eq!(c.allow[0].dst, AllowDst::Host("*.example.com".into()));
        assert_eq!(c.allow[0].kinds, vec![Kind::Mac]);
    }

    #[test]
    fn empty_text_is_the_default() {
        assert_eq!(ok(""), Config::default());
    }

    #[test]
    fn load_reports_io_errors() {
        let e = Config::load(Path::new("/nonexistent/leakguard.toml")).unwrap_err();
        assert_eq!((e.line, e.column, e.key.as_str()), (0, 0, ""));
        assert_eq!(e.file, "/nonexistent/leakguard.toml");
        assert!(e.message.contains("No such file"), "{}", e.message);
    }

    #[test]
    fn unknown_keys() {
        assert_eq!(
            err("mode = \"monitor\"\nmdoe = 1\n"),
            "t.toml:2:1: mdoe: unknown field `mdoe`, expected one of `mode`, `network`, \
             `device`, `detect`, `allow`, `firewall`, `alert`, `daemon`, `history`"
        );
        assert_eq!(
            err("[detect]\nbudget = 100\n  bugdet = 5\n"),
            "t.toml:3:3: detect.bugdet: unknown field `bugdet`, expected one of `kinds`, \
             `encodings`, `structural`, `learn_macs`, `budget`, `max_flows`, \
             `max_learned_macs`, `max_names`, `decode_depth`"
        );
        assert_eq!(
            err("[[device]]\nname = \"a\"\n[[device]]\nname = \"b\"\nimie = [\"490154203237518\"]\n"),
            "t.toml:5:1: device[1].imie: unknown field `imie`, expected one of `name`, `mac`, \
             `imei`, `imsi`, `iccid`, `meid`, `phone`, `serial`"
        );
        assert_eq!(
            err("[firewall]\nscope = \"flow\"\n[alert]\nsyslg = \"/dev/log\"\n"),
            "t.toml:4:1: alert.syslg: unknown field `syslg`, expected one of `syslog`, `rate_limit`, \
             `recent`"
        );
    }

    #[test]
    fn wrong_types() {
        assert_eq!(
            err("[detect]\nbudget = \"4k\"\n"),
            "t.toml:2:10: detect.budget: invalid type: string \"4k\", expected an integer"
        );
        assert_eq!(
            err("[detect]\nkinds = { imei = 1 }\n"),
            "t.toml:2:18: detect.kinds.imei: invalid type: integer `1`, expected a boolean"
        );
        assert_eq!(
            err("[[device]]\nname = \"n\"\nimei = [\"490154203237518\", 490154203237518]\n"),
            "t.toml:3:28: device[0].imei[1]: invalid type: integer `490154203237518`, expected \
             a string (write identifiers in quotes)"
        );
        assert_eq!(
            err("[device]\nname = \"n\"\n"),
            "t.toml:1:1: device: invalid type: table, expected an array"
        );
        assert_eq!(
            err("mode = \"monitor\"\nnetwork = 5\n"),
            "t.toml:2:11: network: invalid type: integer `5`, expected a table"
        );
        assert_eq!(
            err("device = [1]\n"),
            "t.toml:1:11: device[0]: invalid type: integer `1`, expected a table"
        );
        assert_eq!(
            err("[detect]\nkinds = [\"imei\"]\n"),
            "t.toml:2:9: detect.kinds: invalid type: array, expected a table"
        );
        assert_eq!(
            err("[network]\nlan_prefixes = \"10.0.0.0/8\"\n"),
            "t.toml:2:16: network.lan_prefixes: invalid type: string \"10.0.0.0/8\", expected an array"
        );
    }

    #[test]
    fn syntax_errors() {
        assert_eq!(
            err("[network]\nlan_prefixes = [\"10.0.0.0/8\" \"fc00::/7\"]\n"),
            "t.toml:2:30: network.lan_prefixes: invalid array: expected `]`"
        );
        assert_eq!(
            err("[[device]]\nname = \"a\"\n[[device]]\nname = \"b\"\nimei = 4901x\n"),
            "t.toml:5:12: device[1].imei: expected newline, `#`"
        );
        let e = Config::parse("[detect\n", "t.toml").unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (1, "detect"), "{e}");
    }

    #[test]
    fn bad_values() {
        assert_eq!(
            err("mode = \"block\"\n"),
            "t.toml:1:8: mode: unknown mode `block`: expected `enforce` or `monitor`"
        );
        assert_eq!(
            err("[[device]]\nname = \"n\"\nmac = [\"a4:50:46:12:34:56\", \"a4:50:46:12:34\"]\n"),
            "t.toml:3:29: device[0].mac[1]: `a4:50:46:12:34` is not a MAC address: expected \
             aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff, aabbccddeeff or aabb.ccdd.eeff"
        );
        assert_eq!(
            err("[[device]]\nname = \"n\"\nimei = \"490154203237519\"\n"),
            "t.toml:3:8: device[0].imei: `490154203237519` fails the IMEI check digit (Luhn): \
             the last digit should be 8"
        );
        assert_eq!(
            err("[[device]]\nname = \"n\"\nimei = \"49015420323751\"\n"),
            "t.toml:3:8: device[0].imei: `49015420323751` has 14 digits: an IMEI has 15, the \
             last being its Luhn check digit"
        );
        assert_eq!(
            err("[[device]]\nmac = \"a4:50:46:12:34:56\"\n"),
            "t.toml:1:1: device[0]: a device needs a `name`"
        );
        assert_eq!(
            err("[[device]]\nname = \" \"\n"),
            "t.toml:2:8: device[0].name: the device name must not be empty"
        );
        assert_eq!(
            err("[network]\nlan_prefixes = [\"10.0.0.0/8\", \"192.168.1.1/16\"]\n"),
            "t.toml:2:31: network.lan_prefixes[1]: `192.168.1.1/16` has bits set after the \
             first 16: write the network address (e.g. `192.168.0.0/16`)"
        );
        assert_eq!(
            err("[detect]\nbudget = 10\n"),
            "t.toml:2:10: detect.budget: 10 is out of range: must be from 64 to 65536"
        );
        assert_eq!(
            err("[detect]\nencodings = { base64 = true, rot13 = true }\n"),
            "t.toml:2:30: detect.encodings.rot13: unknown encoding `rot13`: expected one of \
             url, hex, base64, gzip, md5, sha1, sha256, binary"
        );
        assert_eq!(
            err("[detect.kinds]\nimei = true\nimeii = false\n"),
            "t.toml:3:1: detect.kinds.imeii: unknown kind `imeii`: expected one of imei, \
             imeisv, meid, imsi, iccid, mac, phone, serial"
        );
        assert_eq!(
            err("[[allow]]\ndst = \"*.example.com\"\nkinds = [\"mac\", \"imie\"]\n"),
            "t.toml:3:17: allow[0].kinds[1]: unknown kind `imie`: expected one of imei, \
             imeisv, meid, imsi, iccid, mac, phone, serial"
        );
        assert_eq!(
            err("[[allow]]\ndst = \"exa mple.com\"\n"),
            "t.toml:2:7: allow[0].dst: `exa mple.com` is not a destination: expected a prefix \
             (`203.0.113.0/24`), an address, a host name or `*.example.com`"
        );
        assert_eq!(
            err("[firewall]\nscope = \"host\"\n"),
            "t.toml:2:9: firewall.scope: unknown scope `host`: expected `flow`, \
             `device-destination` or `destination`"
        );
        assert_eq!(
            err("[firewall]\nblock_timeout = 0\n"),
            "t.toml:2:17: firewall.block_timeout: 0 is out of range: must be from 1 to 604800"
        );
        assert_eq!(
            err("[firewall]\nqueue = 65536\n"),
            "t.toml:2:9: firewall.queue: 65536 is out of range: must be from 0 to 65535"
        );
    }

    #[test]
    fn per_device_allow_rules() {
        let c = ok(concat!(
            "[[allow]]\ndevice = \"A4-50-46-12-34-56\"\ndst = \"zzhc.vnet.cn\"\nkinds = [\"imei\"]\n",
            "[[allow]]\ndevice = \" Living room TV \"\ndst = \"*.example.com\"\n",
            "[[allow]]\ndst = \"10.1.0.0/16\"\n",
        ));
        assert_eq!(
            c.allow[0].device,
            Some(AllowDevice::Mac([0xa4, 0x50, 0x46, 0x12, 0x34, 0x56]))
        );
        assert_eq!(
            c.allow[1].device,
            Some(AllowDevice::Name("Living room TV".into()))
        );
        assert_eq!(c.allow[2].device, None);
        let tv = Sender {
            mac: None,
            name: Some("living ROOM tv"),
        };
        assert!(c.allow[1].applies_to(&c.devices, &tv));
        assert!(!c.allow[0].applies_to(&c.devices, &tv));
        assert!(c.allow[2].applies_to(&c.devices, &tv));
        assert_eq!(
            err("[[allow]]\ndst = \"a.example\"\ndevice = \"a4:50:46:12:34\"\n"),
            "t.toml:3:10: allow[0].device: `a4:50:46:12:34` is not a MAC address: expected \
             aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff, aabbccddeeff or aabb.ccdd.eeff"
        );
        assert_eq!(
            err("[[allow]]\ndst = \"a.example\"\n\n[[allow]]\ndst = \"b.example\"\ndevice = \"  \"\n"),
            "t.toml:6:10: allow[1].device: the device must not be empty: a name or a MAC address"
        );
        assert_eq!(
            err("[[allow]]\ndevice = \"tv\"\n"),
            "t.toml:1:1: allow[0]: an allow rule needs a `dst` (a prefix, an address or a host name)"
        );
        assert_eq!(
            err("[[allow]]\ndst = \"a.example\"\ndevice = 7\n"),
            "t.toml:3:10: allow[0].device: invalid type: integer `7`, expected a string (write \
             identifiers in quotes)"
        );
    }

    #[test]
    fn columns_count_characters() {
        assert_eq!(
            err("[[device]]\nname = \"Téléphone\"\nimsi = \"46000\"\n"),
            "t.toml:3:8: device[0].imsi: `46000` has 5 digits: an IMSI has 14 or 15"
        );
        assert_eq!(
            err("[[device]]\nname = \"n\"\nserial = [\"ABCDEF\", \"é\"]\n"),
            "t.toml:3:21: device[0].serial[1]: `é` is not a serial number: expected 6 to 32 \
             printable ASCII characters (shorter ones would match unrelated traffic, so they \
             are not searched)"
        );
    }

    #[test]
    fn full_config() {
        let c = ok(r#"
mode = "monitor"
[network]
lan_prefixes = ["192.168.1.0/24", "fd00::/8"]
leases = ""
lan_interfaces = ["br-lan", "br-guest"]
[[device]]
name = " Nokia 7 Plus "
mac = ["A4-50-46-12-34-56", "a45046123457", "a450.4612.3458"]
imei = "49-015420-323751-8"
imsi = ["460 00 1234567890"]
iccid = "8986 0012 3456 7890 1234"
meid = ["a0000012345678", "270113177609876543"]
phone = ["+86 138-0013-8000", "13800138000"]
serial = "PNX1234"
[detect]
kinds = { serial = false }
encodings = { gzip = false }
structural = false
learn_macs = false
budget = 8192
max_flows = 1000
max_learned_macs = 0
max_names = 16
decode_depth = 0
[[allow]]
dst = "203.0.113.0/24"
[[allow]]
dst = "2001:db8::1"
kinds = ["mac", "serial"]
[[allow]]
dst = "Update.Example.com."
[firewall]
table = "lg"
queue = 3
backend = "xt"
priority = 10
scope = "destination"
block_timeout = 60
tcp_reset = false
[alert]
syslog = "/tmp/log"
rate_limit = 0
recent = 8
[daemon]
run_dir = "/tmp/lg"
nflog_group = 7
"#);
        assert_eq!(c.mode, Mode::Monitor);
        assert_eq!(c.network.leases, None);
        assert_eq!(c.network.lan_prefixes.len(), 2);
        assert!(c.is_lan("192.168.1.77".parse().unwrap()));
        assert!(!c.is_lan("192.168.2.77".parse().unwrap()));
        assert!(c.is_lan("fd12::1".parse().unwrap()));
        let d = &c.devices[0];
        assert_eq!(d.name, "Nokia 7 Plus");
        assert_eq!(d.mac[0], [0xa4, 0x50, 0x46, 0x12, 0x34, 0x56]);
        assert_eq!(d.mac[1], [0xa4, 0x50, 0x46, 0x12, 0x34, 0x57]);
        assert_eq!(d.mac[2], [0xa4, 0x50, 0x46, 0x12, 0x34, 0x58]);
        assert_eq!(d.imei, vec!["490154203237518"]);
        assert_eq!(d.imsi, vec!["460001234567890"]);
        assert_eq!(d.iccid, vec!["89860012345678901234"]);
        assert_eq!(d.meid, vec!["A0000012345678", "270113177609876543"]);
        assert_eq!(d.phone, vec!["+8613800138000", "13800138000"]);
        assert_eq!(d.serial, vec!["PNX1234"]);
        assert!(!c.kind_enabled(Kind::Serial) && c.kind_enabled(Kind::Imei));
        assert!(!c.layer_enabled(Layer::Gzip) && c.layer_enabled(Layer::Base64));
        assert_eq!(c.detect.budget, 8192);
        assert_eq!(c.detect.decode_depth, 0);
        assert_eq!(
            c.allow[1].dst,
            AllowDst::Prefix(Prefix {
                addr: "2001:db8::1".parse().unwrap(),
                len: 128
            })
        );
        assert_eq!(c.allow[1].kinds, vec![Kind::Mac, Kind::Serial]);
        assert_eq!(c.allow[2].dst, AllowDst::Host("update.example.com".into()));
        assert_eq!(c.firewall.backend, QueueBackend::Xt);
        assert_eq!(c.firewall.scope, Scope::Destination);
        assert_eq!(c.firewall.priority, 10);
        assert!(!c.firewall.tcp_reset);
        assert_eq!(c.daemon.nflog_group, 7);
    }

    #[test]
    fn prefixes() {
        let p = Prefix::parse("10.0.0.0/8").unwrap();
        assert!(p.contains("10.255.1.2".parse().unwrap()));
        assert!(!p.contains("11.0.0.1".parse().unwrap()));
        assert!(p.contains("::ffff:10.1.2.3".parse().unwrap()));
        assert!(!p.contains("fc00::1".parse().unwrap()));
        let p = Prefix::parse("fc00::/7").unwrap();
        assert!(p.contains("fdff::1".parse().unwrap()));
        assert!(!p.contains("fe80::1".parse().unwrap()));
        assert!(!p.contains("10.0.0.1".parse().unwrap()));
        let all = Prefix::parse("0.0.0.0/0").unwrap();
        assert!(all.contains("1.2.3.4".parse().unwrap()));
        assert!(Prefix::parse("1.2.3.4/32")
            .unwrap()
            .contains("1.2.3.4".parse().unwrap()));
        assert!(Prefix::parse("172.16.0.0/12")
            .unwrap()
            .contains("172.31.9.9".parse().unwrap()));
        assert!(!Prefix::parse("172.16.0.0/12")
            .unwrap()
            .contains("172.32.0.1".parse().unwrap()));
        for bad in [
            "10.0.0.0",
            "10.0.0.0/33",
            "10.0.0.1/8",
            "x/8",
            "::/129",
            "10.0.0.0/+8",
            "fc00::1/7",
        ] {
            assert_eq!(Prefix::parse(bad), None, "{bad}");
        }
        assert_eq!(Prefix::parse("::/0").map(|p| p.len), Some(0));
    }

    #[test]
    fn identifier_checks() {
        assert!(ids::check_imei("356938035643809").is_ok());
        assert!(ids::check_imei("35693803564380x").is_err());
        assert!(ids::check_imsi("46000123456789").is_ok());
        assert!(ids::check_iccid("89860012345678901").is_err());
        assert!(ids::check_meid("A000001234567").is_err());
        assert!(ids::check_phone("+12345").is_err());
        assert!(ids::check_phone("123456").is_ok());
        assert!(ids::check_phone("++123456").is_err());
        assert!(ids::check_serial("abc").is_err());
        assert!(ids::check_serial(&"x".repeat(33)).is_err());
        assert!(ids::parse_mac("a4:50-46:12:34:56").is_err());
        assert!(ids::parse_mac("00:00:00:00:00:00").is_err());
        assert!(ids::parse_mac("a4:50:46:12:34:5g").is_err());
        assert!(ids::parse_mac("a450:4612:3456").is_err());
        assert_eq!(ids::luhn_digit(b"49015420323751"), 8);
    }

    #[test]
    fn datetimes_are_refused_with_their_key() {
        let e = Config::parse("[alert]\nrecent = 1979-05-27\n", "t.toml").unwrap_err();
        assert_eq!(
            (e.line, e.column, e.key.as_str()),
            (2, 10, "alert.recent"),
            "{e}"
        );
    }

    /// What the detector would silently drop or could not honour is refused, with its place.
    #[test]
    fn identifiers_the_detector_cannot_honour() {
        let dev = |line: &str| format!("[[device]]\nname = \"d\"\n{line}\n");
        assert_eq!(
            err(&dev("serial = \"AB123\"")),
            "t.toml:3:10: device[0].serial: `AB123` is not a serial number: expected 6 to 32 \
             printable ASCII characters (shorter ones would match unrelated traffic, so they \
             are not searched)"
        );
        assert_eq!(
            ok(&dev("serial = \"AB1234\"")).devices[0].serial,
            ["AB1234"]
        );
        for (line, col) in [
            ("imei = \"000000000000000\"", 8),
            ("phone = [\"+1 111 111 111\"]", 10),
            ("meid = \"FFFFFFFFFFFFFF\"", 8),
            ("serial = \"xxxxxxxx\"", 10),
        ] {
            let e = Config::parse(&dev(line), "t.toml").unwrap_err();
            assert_eq!((e.line, e.column), (3, col), "{e}");
            assert!(e.message.contains("placeholder"), "{e}");
        }
        for mac in [
            "02:00:00:00:00:00",
            "01:00:5e:00:00:fb",
            "ff:ff:ff:ff:ff:ff",
        ] {
            let e = err(&dev(&format!("mac = \"{mac}\"")));
            assert!(e.starts_with("t.toml:3:7: device[0].mac: "), "{e}");
        }
        // A locally administered (randomised) MAC is a real device's.
        assert_eq!(
            ok(&dev("mac = \"02:11:22:33:44:55\"")).devices[0].mac.len(),
            1
        );
    }

    #[test]
    fn no_lan_interfaces_is_an_error() {
        assert_eq!(
            err("[network]\nlan_interfaces = []\n"),
            "t.toml:2:18: network.lan_interfaces: at least one interface is needed: with none, \
             the daemon queues no traffic and inspects nothing"
        );
    }

    #[test]
    fn legitimate_but_surprising_choices_are_warned_about() {
        let c = ok("[[device]]\nname = \"d\"\nimei = \"490154203237518\"\n\
                    [detect]\nkinds = { imei = false, mac = false }\n");
        let w: Vec<String> = c.warnings.iter().map(|w| w.to_string()).collect();
        assert_eq!(
            w,
            [
                "t.toml:5:18: detect.kinds.imei: the imei values of [[device]] entries are not \
              searched while this kind is off"
            ]
        );
        let c = ok("[detect]\nstructural = false\nlearn_macs = false\n");
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(c.warnings[0].message.contains("nothing is detected"));
        assert!(ok("").warnings.is_empty());
    }

    /// Wrong type, unknown key, duplicate key: each placed at file:line:column, and nothing of
    /// the file is taken (parse gives a whole config or an error).
    #[test]
    fn wrong_type_unknown_key_duplicate() {
        assert_eq!(
            err("[detect]\nbudget = \"big\"\n"),
            "t.toml:2:10: detect.budget: invalid type: string \"big\", expected an integer"
        );
        assert!(err("[alert]\nrecnet = 4\n").starts_with("t.toml:2:1: alert.recnet: unknown field"));
        let e = Config::parse(
            "mode = \"monitor\"\n[detect]\nbudget = 100\nbudget = 200\n",
            "t.toml",
        )
        .unwrap_err();
        assert_eq!((e.line, e.column), (4, 1), "{e}");
        assert!(e.message.contains("duplicate key"), "{e}");
        let e = Config::parse("[detect]\n[detect]\n", "t.toml").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
    }

    #[test]
    fn huge_and_non_utf8_files_are_refused_where_they_go_wrong() {
        let dir = std::env::temp_dir().join(format!("leakguard-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let big = dir.join("big.toml");
        // 10 MB of comments: valid TOML, but no config is this big.
        let line = format!("# {}\n", "x".repeat(98));
        std::fs::write(&big, line.repeat(100_000)).unwrap();
        let e = Config::load(&big).unwrap_err();
        assert_eq!(e.file, big.display().to_string());
        let width = line.len();
        assert_eq!(
            (e.line, e.column),
            (MAX_FILE / width + 1, MAX_FILE % width + 1),
            "{e}"
        );
        assert!(e.message.contains("larger than 1024 KiB"), "{e}");
        let latin1 = dir.join("latin1.toml");
        std::fs::write(
            &latin1,
            b"mode = \"monitor\"\n[[device]]\nname = \"M\xfcller\"\n",
        )
        .unwrap();
        let e = Config::load(&latin1).unwrap_err();
        assert_eq!((e.line, e.column), (3, 10), "{e}");
        assert!(
            e.to_string()
                .ends_with(": the file is not UTF-8 text (TOML must be UTF-8)"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(text in "\\PC{0,200}") {
            let _ = Config::parse(&text, "p.toml");
        }

        #[test]
        fn parse_never_panics_on_tomlish(parts in proptest::collection::vec(
            proptest::prop_oneof![
                proptest::strategy::Just("[[device]]\n".to_string()),
                proptest::strategy::Just("[detect]\n".to_string()),
                proptest::strategy::Just("[network]\n".to_string()),
                proptest::strategy::Just("name = \"x\"\n".to_string()),
                proptest::strategy::Just("kinds = { imei = true }\n".to_string()),
                "[a-z_]{1,12} = (\"[^\"\\n]{0,20}\"|[0-9-]{1,8}|true|\\[\\]|\\{\\})\n",
                "\\PC{0,20}",
            ],
            0..12,
        )) {
            let text: String = parts.concat();
            if let Err(e) = Config::parse(&text, "p.toml") {
                proptest::prop_assert!(e.line >= 1 && e.column >= 1, "{}", e);
            }
        }
    }
}
