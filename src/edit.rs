//! Changes to the config file, made one way for every caller: LuCI's backend ([`crate::rpcd`])
//! and `leakguard allow` / `leakguard block`.
//!
//! Every change is the same four steps: the file's text is edited with `toml_edit` (the
//! owner's comments and every key the change does not touch are kept), the whole new text is
//! validated by [`Config::parse`] (the one parser that decides what the daemon accepts), written
//! atomically ([`write_atomic`]), and the running daemon is asked over its control socket to
//! reload. Nothing is written unless the new text parses.
//!
//! # Allow and block: from a report row to a rule
//! A report row is (device, kind, destination). `allow` makes the smallest `[[allow]]` rule
//! that lets it through: `device` + `dst` + `kinds = [kind]` (or adds the kind to the rule that
//! already has that device and destination). `block` is what undoes it: the kind is taken out
//! of the rules *for that device and that destination* (a rule left with no kind goes; a rule for
//! every kind keeps every kind but this one). A broader rule that also lets the row through (one
//! for every device, or a wildcard destination) is not narrowed behind the owner's back: `block`
//! names it, with its line, and changes nothing. What a blocked row then does depends on the
//! mode: in `enforce` its leaks are dropped and blocked, in `monitor` only reported — the reply
//! says which.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use toml_edit::{value, Array, ArrayOfTables, DocumentMut, Item, Table};

use crate::config::{AllowDevice, AllowDst, Config, ConfigError, Mode, Sender};
use crate::daemon::control;
use crate::finding::Kind;

/// What writing a new config came to.
#[derive(Debug)]
pub struct Written {
    /// The config as written (parsed).
    pub config: Config,
    /// `Ok(mode the daemon now runs in, when it said)`, or why it did not reload (not
    /// running: the file is read at its next start).
    pub reload: Result<Option<String>, String>,
}

/// Why a new config was not written.
#[derive(Debug)]
pub enum Refused {
    /// The new text is not a valid config (where and what).
    Invalid(ConfigError),
    /// Reading the file, or writing it.
    Io(String),
    /// The change itself cannot be made (bad request, current file not TOML, …).
    Change(String),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::Invalid(e) => write!(f, "{e}"),
            Refused::Io(e) | Refused::Change(e) => f.write_str(e),
        }
    }
}

/// Validates `text`, writes it to `path` atomically and asks the daemon to reload.
pub fn commit(path: &Path, text: &str) -> Result<Written, Refused> {
    let file = path.display().to_string();
    let config = Config::parse(text, &file).map_err(Refused::Invalid)?;
    write_atomic(path, text).map_err(|e| Refused::Io(format!("writing {file}: {e}")))?;
    let socket = control::socket_path(&config.daemon.run_dir);
    let reload = match control::request(&socket, "reload") {
        Ok(raw) => match control::reply_error(&raw) {
            // The daemon answers after the reload: its mode now is what it runs with.
            None => Ok(control::status(&socket).ok().map(|(_, s)| s.mode)),
            Some(e) => Err(e),
        },
        Err(e) => Err(e.to_string()),
    };
    Ok(Written { config, reload })
}

/// The file's text (empty when it does not exist yet) as an editable document.
pub fn read_document(path: &Path) -> Result<DocumentMut, Refused> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Refused::Io(format!("{}: {e}", path.display()))),
    };
    text.parse().map_err(|e: toml_edit::TomlError| {
        Refused::Change(format!(
            "{} is not valid TOML ({}); fix it by hand first",
            path.display(),
            e.message().trim()
        ))
    })
}

/// Writes `text` to `path` so that a reader sees the old content or the new, never a mix: a
/// temporary file in the same directory (created 0600: the config holds the owner's identifiers
/// in the clear; then the old file's owner and mode), fsync, rename over, fsync of the directory.
pub fn write_atomic(path: &Path, text: &str) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let old = fs::metadata(path).ok();
    let mode = old
        .as_ref()
        .map(|m| m.permissions().mode() & 0o7777)
        .unwrap_or(0o600);
    let result = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)?;
        file.write_all(text.as_bytes())?;
        // The owner the packager gave the file (a daemon running as its own user reads it).
        if let Some(m) = &old {
            std::os::unix::fs::fchown(&file, Some(m.uid()), Some(m.gid()))?;
        }
        file.set_permissions(fs::Permissions::from_mode(mode))?;
        file.sync_all()?;
        fs::rename(&temp, path)?;
        fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// One report row as a policy request: this kind, from this device, to this destination.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub device: AllowDevice,
    pub kind: Kind,
    pub dst: AllowDst,
    /// A comment written above a new rule (the device's name, when the rule holds its MAC).
    pub note: Option<String>,
}

impl Row {
    /// From the words the CLI and LuCI pass: a device (name or MAC), a kind's name, a
    /// destination as `[[allow]]` takes it.
    pub fn parse(device: &str, kind: &str, dst: &str) -> Result<Row, String> {
        let device = AllowDevice::parse(device).map_err(|e| format!("device: {e}"))?;
        let kind = Kind::from_name(kind.trim()).ok_or_else(|| {
            let names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
            format!(
                "kind: unknown kind `{}`: expected one of {}",
                kind.escape_default(),
                names.join(", ")
            )
        })?;
        let dst = AllowDst::parse(dst.trim()).map_err(|e| format!("dst: {e}"))?;
        Ok(Row {
            device,
            kind,
            dst,
            note: None,
        })
    }

    /// The text a reply uses: `imei from tv to zzhc.vnet.cn`.
    pub fn describe(&self) -> String {
        let device = match &self.device {
            AllowDevice::Mac(m) => crate::render::masked_mac(m),
            AllowDevice::Name(n) => n.clone(),
        };
        format!("{} from {device} to {}", self.kind.name(), self.dst)
    }

    /// The senders this row's device can be, as rules see them: itself, and for a name every
    /// MAC of the `[[device]]` of that name.
    fn senders<'a>(&'a self, config: &'a Config) -> Vec<Sender<'a>> {
        match &self.device {
            AllowDevice::Mac(m) => vec![Sender {
                mac: Some(*m),
                name: config
                    .devices
                    .iter()
                    .find(|d| d.mac.contains(m))
                    .map(|d| d.name.as_str()),
            }],
            AllowDevice::Name(n) => {
                let mut out = vec![Sender {
                    mac: None,
                    name: Some(n.as_str()),
                }];
                for d in config
                    .devices
                    .iter()
                    .filter(|d| d.name.eq_ignore_ascii_case(n))
                {
                    out.extend(d.mac.iter().map(|m| Sender {
                        mac: Some(*m),
                        name: Some(n.as_str()),
                    }));
                }
                out
            }
        }
    }

    /// Whether `rule` lets this row through.
    fn covered_by(&self, config: &Config, rule: &crate::config::Allow) -> bool {
        rule.covers_kind(self.kind)
            && dst_covers(&rule.dst, &self.dst)
            && self
                .senders(config)
                .iter()
                .any(|s| rule.applies_to(&config.devices, s))
    }

    /// Whether `rule` is this row's own: the same device and exactly this destination.
    fn owns(&self, config: &Config, rule: &crate::config::Allow) -> bool {
        rule.dst == self.dst
            && rule.device.as_ref().is_some_and(|d| {
                d.same(&self.device)
                    || self
                        .senders(config)
                        .iter()
                        .any(|s| d.matches(&config.devices, s))
            })
    }
}

/// Whether a rule for `rule` lets through what goes to `want`: a name by the rule's name
/// pattern (a wildcard request only by a wildcard that holds it), an address or prefix by a
/// prefix that holds it. Names and addresses are different axes: a host rule never covers an
/// address and the other way round, as in the pipeline.
fn dst_covers(rule: &AllowDst, want: &AllowDst) -> bool {
    match (rule, want) {
        (AllowDst::Host(p), AllowDst::Host(q)) => match q.strip_prefix("*.") {
            Some(s) => p.strip_prefix("*.").is_some_and(|t| {
                s == t
                    || s.len() > t.len()
                        && s.ends_with(t)
                        && s.as_bytes().get(s.len() - t.len() - 1) == Some(&b'.')
            }),
            None => crate::pipeline::host_matches(p, q),
        },
        (AllowDst::Prefix(p), AllowDst::Prefix(q)) => p.len <= q.len && p.contains(q.addr),
        _ => false,
    }
}

/// What an allow or block did to the document.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// The document was changed: write it. The text says what was done.
    Changed(String),
    /// Nothing to change (already so); the text says why.
    Unchanged(String),
}

/// The 1-based line of the `n`th `[[allow]]` header in `text` (0 when not found).
fn allow_line(text: &str, n: usize) -> usize {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            l.trim_start()
                .strip_prefix("[[")
                .is_some_and(|r| r.trim_start().starts_with("allow") && r.contains("]]"))
        })
        .nth(n)
        .map_or(0, |(i, _)| i + 1)
}

fn rule_text(rule: &crate::config::Allow) -> String {
    let kinds = if rule.kinds.is_empty() {
        "every kind".to_string()
    } else {
        rule.kinds
            .iter()
            .map(|k| k.name())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match &rule.device {
        Some(AllowDevice::Mac(m)) => format!(
            "device = {}, dst = {}, {kinds}",
            crate::render::masked_mac(m),
            rule.dst
        ),
        Some(d) => format!("device = {d}, dst = {}, {kinds}", rule.dst),
        None => format!("every device, dst = {}, {kinds}", rule.dst),
    }
}

/// The `[[allow]]` tables of `doc`, parsed as `config` (which is the parse of `doc`).
fn allow_tables(doc: &mut DocumentMut) -> Option<&mut ArrayOfTables> {
    doc.get_mut("allow").and_then(Item::as_array_of_tables_mut)
}

/// Adds to `doc` (whose parse is `config`) the rule that lets `row` through.
pub fn allow(doc: &mut DocumentMut, config: &Config, row: &Row) -> Result<Change, String> {
    let text = doc.to_string();
    if let Some((i, rule)) = config
        .allow
        .iter()
        .enumerate()
        .find(|(_, r)| row.covered_by(config, r))
    {
        return Ok(Change::Unchanged(format!(
            "{} is already allowed by [[allow]] at line {} ({})",
            row.describe(),
            allow_line(&text, i),
            rule_text(rule)
        )));
    }
    // The row's own rule with some kinds: add this one.
    let own = config
        .allow
        .iter()
        .position(|r| row.owns(config, r) && !r.kinds.is_empty());
    if let (Some(i), Some(tables)) = (own, allow_tables(doc)) {
        let table = tables
            .get_mut(i)
            .ok_or("the config's [[allow]] tables moved")?;
        match table.get_mut("kinds").and_then(Item::as_array_mut) {
            Some(kinds) => kinds.push(row.kind.name()),
            None => return Err("[[allow]] kinds is not an array".to_string()),
        }
        return Ok(Change::Changed(format!(
            "allowed {} (added to [[allow]] at line {})",
            row.describe(),
            allow_line(&text, i)
        )));
    }
    let mut t = Table::new();
    t["device"] = value(row.device.to_string());
    t["dst"] = value(row.dst.to_string());
    let mut kinds = Array::new();
    kinds.push(row.kind.name());
    t["kinds"] = value(kinds);
    let note = row
        .note
        .as_deref()
        .map(|n| n.chars().filter(|c| !c.is_control()).collect::<String>())
        .filter(|n| !n.trim().is_empty());
    let prefix = match note {
        Some(n) => format!("\n# {} (leakguard allow)\n", n.trim()),
        None => "\n# leakguard allow\n".to_string(),
    };
    t.decor_mut().set_prefix(prefix);
    let inline = doc.contains_key("allow") && allow_tables(doc).is_none();
    match allow_tables(doc) {
        Some(tables) => tables.push(t),
        // `allow = [{ … }]` (an inline array): rewriting it as tables would lose its layout,
        // and replacing it would lose its rules.
        None if inline => {
            return Err(
                "the config writes its allow rules as an inline array (`allow = [...]`): \
                 write them as [[allow]] tables to edit them from here"
                    .to_string(),
            )
        }
        None => {
            let mut tables = ArrayOfTables::new();
            tables.push(t);
            doc["allow"] = Item::ArrayOfTables(tables);
        }
    }
    Ok(Change::Changed(format!("allowed {}", row.describe())))
}

/// Takes `row`'s kind out of the rules for its device and destination in `doc` (whose parse is
/// `config`). A broader rule that would still let it through is an error naming it.
pub fn block(doc: &mut DocumentMut, config: &Config, row: &Row) -> Result<Change, String> {
    let text = doc.to_string();
    let covering: Vec<usize> = config
        .allow
        .iter()
        .enumerate()
        .filter(|(_, r)| row.covered_by(config, r))
        .map(|(i, _)| i)
        .collect();
    let broader: Vec<String> = covering
        .iter()
        .filter(|i| !row.owns(config, &config.allow[**i]))
        .map(|i| {
            format!(
                "[[allow]] at line {} ({})",
                allow_line(&text, *i),
                rule_text(&config.allow[*i])
            )
        })
        .collect();
    if !broader.is_empty() {
        return Err(format!(
            "{} is also allowed by {}, which covers more than this device and destination: \
             narrow or remove it in the config (nothing changed)",
            row.describe(),
            broader.join(" and ")
        ));
    }
    if covering.is_empty() {
        return Ok(Change::Unchanged(format!(
            "{} is not allowed by any rule: {}",
            row.describe(),
            consequence(config.mode)
        )));
    }
    let tables = allow_tables(doc).ok_or("the config's [[allow]] tables moved")?;
    // From the last, so the indexes of the others stay put.
    for &i in covering.iter().rev() {
        let rule = &config.allow[i];
        let left: Vec<Kind> = if rule.kinds.is_empty() {
            Kind::ALL.into_iter().filter(|k| *k != row.kind).collect()
        } else {
            rule.kinds
                .iter()
                .copied()
                .filter(|k| *k != row.kind)
                .collect()
        };
        if left.is_empty() {
            tables.remove(i);
        } else {
            let table = tables
                .get_mut(i)
                .ok_or("the config's [[allow]] tables moved")?;
            let mut kinds = Array::new();
            for k in left {
                kinds.push(k.name());
            }
            table["kinds"] = value(kinds);
        }
    }
    if tables.is_empty() {
        doc.remove("allow");
    }
    Ok(Change::Changed(format!(
        "no longer allowed: {}; {}",
        row.describe(),
        consequence(config.mode)
    )))
}

/// What a leak that no rule allows meets, in `mode`.
pub fn consequence(mode: Mode) -> &'static str {
    match mode {
        Mode::Enforce => "its leaks are dropped and blocked",
        Mode::Monitor => {
            "mode is monitor: its leaks are reported, and dropped once mode = \"enforce\""
        }
    }
}

/// What [`apply_row`] did.
#[derive(Debug)]
pub struct Applied {
    pub message: String,
    /// `None`: nothing needed writing.
    pub written: Option<Written>,
}

/// `allow` (`allowing`) or `block` `row` in the config file at `path`: edited, validated,
/// written and reloaded as every change is.
pub fn apply_row(path: &Path, row: &Row, allowing: bool) -> Result<Applied, Refused> {
    let mut doc = read_document(path)?;
    let config =
        Config::parse(&doc.to_string(), &path.display().to_string()).map_err(Refused::Invalid)?;
    let change = if allowing {
        allow(&mut doc, &config, row)
    } else {
        block(&mut doc, &config, row)
    }
    .map_err(Refused::Change)?;
    match change {
        Change::Unchanged(message) => Ok(Applied {
            message,
            written: None,
        }),
        Change::Changed(message) => {
            let written = commit(path, &doc.to_string())?;
            Ok(Applied {
                message,
                written: Some(written),
            })
        }
    }
}

/// The MAC whose history digest is `id` (the `id` of a device in the report's JSON), among the
/// MACs this router knows: those the running daemon has seen, the kernel's neighbour table, the
/// lease file, the config's devices. The history holds no MAC, only its keyed digest; LuCI
/// names a device by that.
pub fn resolve_device_id(config: &Config, id: &str) -> Result<[u8; 6], String> {
    let want = u64::from_str_radix(id.trim(), 16)
        .ok()
        .filter(|_| id.trim().len() == 16)
        .ok_or_else(|| {
            format!(
                "`{}` is not a device id (16 hex digits)",
                id.escape_default()
            )
        })?;
    let daemon = match control::device_mac(&control::socket_path(&config.daemon.run_dir), want) {
        Ok(mac) => return Ok(mac),
        Err(e) => e.to_string(),
    };
    let key_path: PathBuf = config.history.key_path();
    let key = fs::read(&key_path)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
        .map(crate::history::Key::from_bytes)
        .ok_or_else(|| format!("{}: no history key to tell devices by", key_path.display()))?;
    let mut candidates: Vec<[u8; 6]> = Vec::new();
    if let Ok(arp) = fs::read_to_string("/proc/net/arp") {
        for line in arp.lines().skip(1) {
            if let Some(Ok(AllowDevice::Mac(m))) =
                line.split_whitespace().nth(3).map(AllowDevice::parse)
            {
                candidates.push(m);
            }
        }
    }
    if let Some(leases) = config
        .network
        .leases
        .as_deref()
        .and_then(|p| crate::leases::Leases::load(p).ok())
    {
        candidates.extend(leases.macs());
    }
    candidates.extend(config.devices.iter().flat_map(|d| d.mac.iter().copied()));
    candidates
        .into_iter()
        .find(|m| key.device_id(m) == want)
        .ok_or_else(|| {
            format!(
                "the device's MAC is not among those the daemon has seen ({daemon}), in the \
                 neighbour table, the leases or the config: allow it by name or MAC \
                 (leakguard allow --device)"
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (DocumentMut, Config) {
        (text.parse().unwrap(), Config::parse(text, "t").unwrap())
    }

    fn row(device: &str, kind: &str, dst: &str) -> Row {
        Row::parse(device, kind, dst).unwrap()
    }

    #[test]
    fn allow_adds_a_device_rule_keeping_comments() {
        let (mut d, c) = parse("# mine\nmode = \"monitor\" # watch first\n\n[alert]\nrecent = 9\n");
        let r = Row {
            note: Some("Living room TV".into()),
            ..row("a4:50:46:12:34:56", "mac", "zzhc.vnet.cn")
        };
        let change = allow(&mut d, &c, &r).unwrap();
        assert!(matches!(change, Change::Changed(_)), "{change:?}");
        let text = d.to_string();
        assert!(
            text.starts_with("# mine\nmode = \"monitor\" # watch first\n"),
            "{text}"
        );
        assert!(
            text.contains("# Living room TV (leakguard allow)\n[[allow]]"),
            "{text}"
        );
        let c2 = Config::parse(&text, "t").unwrap();
        assert_eq!(c2.alert.recent, 9);
        assert_eq!(c2.allow.len(), 1);
        assert_eq!(
            c2.allow[0].device,
            Some(AllowDevice::Mac([0xa4, 0x50, 0x46, 0x12, 0x34, 0x56]))
        );
        assert_eq!(c2.allow[0].kinds, vec![Kind::Mac]);
        // Again: already allowed, nothing changed.
        let mut d2: DocumentMut = text.parse().unwrap();
        assert!(matches!(
            allow(&mut d2, &c2, &r).unwrap(),
            Change::Unchanged(m) if m.contains("already allowed by [[allow]] at line")
        ));
        // Another kind for the same device and destination joins that rule.
        let r2 = row("A4-50-46-12-34-56", "imei", "zzhc.vnet.cn");
        allow(&mut d2, &c2, &r2).unwrap();
        let c3 = Config::parse(&d2.to_string(), "t").unwrap();
        assert_eq!(c3.allow.len(), 1, "{}", d2);
        assert_eq!(c3.allow[0].kinds, vec![Kind::Mac, Kind::Imei]);
    }

    #[test]
    fn block_undoes_allow_and_names_broader_rules() {
        let text = "mode = \"enforce\"\n\n[[allow]]\ndevice = \"tv\"\ndst = \"zzhc.vnet.cn\"\nkinds = [\"imei\", \"mac\"]\n\n[[allow]]\ndevice = \"tv\"\ndst = \"a.example\"\n";
        let (mut d, c) = parse(text);
        let change = block(&mut d, &c, &row("TV", "imei", "zzhc.vnet.cn")).unwrap();
        assert!(
            matches!(&change, Change::Changed(m) if m.contains("dropped and blocked")),
            "{change:?}"
        );
        let c2 = Config::parse(&d.to_string(), "t").unwrap();
        assert_eq!(c2.allow[0].kinds, vec![Kind::Mac]);
        // A rule for every kind keeps every other kind.
        let mut d2: DocumentMut = d.to_string().parse().unwrap();
        block(&mut d2, &c2, &row("tv", "phone", "a.example")).unwrap();
        let c3 = Config::parse(&d2.to_string(), "t").unwrap();
        assert_eq!(c3.allow[1].kinds.len(), Kind::ALL.len() - 1);
        assert!(!c3.allow[1].kinds.contains(&Kind::Phone));
        // The last kind of a rule: the rule goes; the last rule: the array goes.
        let mut d3: DocumentMut = d2.to_string().parse().unwrap();
        block(&mut d3, &c3, &row("tv", "mac", "zzhc.vnet.cn")).unwrap();
        let c4 = Config::parse(&d3.to_string(), "t").unwrap();
        assert_eq!(c4.allow.len(), 1);
        assert_eq!(c4.allow[0].dst, AllowDst::Host("a.example".into()));
        // Not allowed at all: unchanged, and says what happens in the mode.
        assert!(matches!(
            block(&mut d3, &c4, &row("phone", "imei", "zzhc.vnet.cn")).unwrap(),
            Change::Unchanged(m) if m.contains("not allowed by any rule")
        ));
        // A rule for every device is not narrowed silently.
        let text = "mode = \"monitor\"\n[[allow]]\ndst = \"*.vnet.cn\"\n";
        let (mut d, c) = parse(text);
        let e = block(&mut d, &c, &row("tv", "imei", "zzhc.vnet.cn")).unwrap_err();
        assert!(
            e.contains("[[allow]] at line 2 (every device, dst = *.vnet.cn"),
            "{e}"
        );
        assert_eq!(d.to_string(), text);
    }

    #[test]
    fn device_names_cover_their_config_macs() {
        let text = "[[device]]\nname = \"Phone\"\nmac = \"a4:50:46:12:34:56\"\n[[allow]]\ndevice = \"a4:50:46:12:34:56\"\ndst = \"10.0.0.0/8\"\n";
        let (mut d, c) = parse(text);
        assert!(matches!(
            allow(&mut d, &c, &row("phone", "imei", "10.1.2.3")).unwrap(),
            Change::Unchanged(_)
        ));
        assert!(matches!(
            allow(&mut d, &c, &row("phone", "imei", "11.1.2.3")).unwrap(),
            Change::Changed(_)
        ));
    }

    #[test]
    fn destinations_cover_as_the_pipeline_matches() {
        let h = |s: &str| AllowDst::parse(s).unwrap();
        assert!(dst_covers(&h("*.vnet.cn"), &h("zzhc.vnet.cn")));
        assert!(!dst_covers(&h("*.vnet.cn"), &h("vnet.cn")));
        assert!(dst_covers(&h("*.vnet.cn"), &h("*.a.vnet.cn")));
        assert!(!dst_covers(&h("*.a.vnet.cn"), &h("*.vnet.cn")));
        assert!(!dst_covers(&h("*.net.cn"), &h("*.vnet.cn")));
        assert!(dst_covers(&h("10.0.0.0/8"), &h("10.1.0.0/16")));
        assert!(!dst_covers(&h("10.1.0.0/16"), &h("10.0.0.0/8")));
        assert!(!dst_covers(&h("10.0.0.0/8"), &h("a.example")));
    }

    #[test]
    fn an_inline_allow_array_is_not_overwritten() {
        let text = "allow = [{ dst = \"a.example\" }]\n";
        let (mut d, c) = parse(text);
        assert!(allow(&mut d, &c, &row("tv", "imei", "b.example")).is_err());
        assert_eq!(d.to_string(), text);
    }

    #[test]
    fn rows_are_checked() {
        assert!(Row::parse("", "imei", "a.example")
            .unwrap_err()
            .starts_with("device:"));
        assert!(Row::parse("tv", "imie", "a.example")
            .unwrap_err()
            .starts_with("kind:"));
        assert!(Row::parse("tv", "imei", "a b")
            .unwrap_err()
            .starts_with("dst:"));
    }

    #[test]
    fn apply_row_writes_and_keeps_the_file_when_refused() {
        let dir = std::env::temp_dir().join(format!("lg-edit-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("leakguard.toml");
        let base = format!(
            "# owner\nmode = \"monitor\"\n[daemon]\nrun_dir = \"{}\"\n",
            dir.join("run").display()
        );
        fs::write(&path, &base).unwrap();
        let r = row("tv", "imei", "zzhc.vnet.cn");
        let a = apply_row(&path, &r, true).unwrap();
        let w = a.written.expect("written");
        assert!(w.reload.is_err(), "no daemon: not reloaded");
        assert_eq!(w.config.allow.len(), 1);
        assert!(fs::read_to_string(&path).unwrap().starts_with("# owner\n"));
        let b = apply_row(&path, &r, false).unwrap();
        assert!(
            b.written.is_some() && b.message.contains("monitor"),
            "{}",
            b.message
        );
        assert_eq!(Config::load(&path).unwrap().allow.len(), 0);
        // A file that does not parse is not edited.
        fs::write(&path, "mode = \"sometimes\"\n").unwrap();
        assert!(matches!(
            apply_row(&path, &r, true),
            Err(Refused::Invalid(_))
        ));
        assert_eq!(fs::read_to_string(&path).unwrap(), "mode = \"sometimes\"\n");
        let _ = fs::remove_dir_all(&dir);
    }
}
