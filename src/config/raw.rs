//! Parsing: TOML → private raw structs (serde, unknown keys refused) → checked public types.
//!
//! The raw structs keep `Spanned` values wherever a check of ours may fail, so that every error
//! carries the byte span it concerns; [`Error::locate`] turns the span into a line, a column and
//! the dotted key path (`device[0].imei[1]`) by walking a span tree of the same document.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::*;
use crate::kinds::{self, Known};

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
        let (line, column) = super::locate::position(text, offset);
        let mut key = super::locate::path_at(text, offset);
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
        if message.starts_with("invalid type: integer") && message.ends_with("expected a string") {
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
    learn_ipv6: Option<bool>,
    leases: Option<Spanned<String>>,
    lan_interfaces: Option<Spanned<Vec<Spanned<String>>>>,
    country: Option<Spanned<String>>,
}

/// A `[[device]]`: its name and its identifier lists, indexed by kind. The lists are read by
/// the keys [`kinds::DEVICE_LISTS`] names, so a new kind needs no field here.
struct RawDevice {
    name: Option<Spanned<String>>,
    lists: [Option<Spanned<Ids>>; Kind::ALL.len()],
}

/// The keys of a `[[device]]`, in the order an unknown key's message lists them.
static DEVICE_FIELDS: [&str; 1 + kinds::DEVICE_LISTS.len()] = {
    let mut out = ["name"; 1 + kinds::DEVICE_LISTS.len()];
    let mut i = 0;
    while i < kinds::DEVICE_LISTS.len() {
        out[i + 1] = kinds::info(kinds::DEVICE_LISTS[i]).name;
        i += 1;
    }
    out
};

/// A key of a `[[device]]` (read as serde reads a struct's field names, so an unknown one is
/// refused at its own position).
enum DeviceKey {
    Name,
    List(Kind),
}

impl<'de> Deserialize<'de> for DeviceKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<DeviceKey, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = DeviceKey;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("field identifier")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<DeviceKey, E> {
                if v == "name" {
                    return Ok(DeviceKey::Name);
                }
                kinds::device_list(v)
                    .map(DeviceKey::List)
                    .ok_or_else(|| E::unknown_field(v, &DEVICE_FIELDS))
            }
        }
        d.deserialize_identifier(V)
    }
}

impl<'de> Deserialize<'de> for RawDevice {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<RawDevice, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawDevice;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("struct RawDevice")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<RawDevice, A::Error> {
                use serde::de::Error as _;
                let mut dev = RawDevice {
                    name: None,
                    lists: Default::default(),
                };
                while let Some(key) = map.next_key::<DeviceKey>()? {
                    match key {
                        DeviceKey::Name if dev.name.is_some() => {
                            return Err(A::Error::duplicate_field("name"))
                        }
                        DeviceKey::Name => dev.name = Some(map.next_value()?),
                        DeviceKey::List(kind) => {
                            let slot = dev
                                .lists
                                .get_mut(kind as usize)
                                .ok_or_else(|| A::Error::custom("kind out of range"))?;
                            if slot.is_some() {
                                return Err(A::Error::duplicate_field(kind.name()));
                            }
                            *slot = Some(map.next_value()?);
                        }
                    }
                }
                Ok(dev)
            }
        }
        d.deserialize_struct("RawDevice", &DEVICE_FIELDS, V)
    }
}

impl RawDevice {
    /// The list configured for `kind`, if any.
    fn list(&self, kind: Kind) -> Option<&Spanned<Ids>> {
        self.lists.get(kind as usize)?.as_ref()
    }

    fn take(&mut self, kind: Kind) -> Option<Spanned<Ids>> {
        self.lists.get_mut(kind as usize)?.take()
    }
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
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Ids, A::Error> {
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
        // A kind with no list of its own (IMEISV) warns about nothing: its IMEI is still searched.
        let Some(kind) = kinds::device_list(k.get_ref()) else {
            continue;
        };
        let used = raw.device.iter().any(|d| d.get_ref().list(kind).is_some());
        if used {
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
        learn_ipv6: n.learn_ipv6.unwrap_or(d.learn_ipv6),
        leases,
        lan_interfaces,
        country,
    })
}

fn device(d: Spanned<RawDevice>) -> R<Device> {
    let span = d.span();
    let mut d = d.into_inner();
    let name = match d.name.take() {
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
    let mut device = Device {
        name,
        ..Device::default()
    };
    for kind in kinds::DEVICE_LISTS {
        let values = d.take(kind);
        match kinds::info(kind).known {
            Known::Mac => {
                device.mac = ids(values)
                    .into_iter()
                    .map(|s| parse_mac(s.get_ref()).or_else(|m| at(s.span(), m)))
                    .collect::<R<_>>()?;
            }
            Known::Text(list) => *(list.list_mut)(&mut device) = each(values, list.canonical)?,
            Known::Unconfigured => {}
        }
    }
    Ok(device)
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
