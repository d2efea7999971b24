//! The LuCI backend: an rpcd exec plugin. `/usr/libexec/rpcd/luci.leakguard` (package
//! luci-app-leakguard) is a two-line shell script that runs `leakguard rpcd "$@"`, so rpcd's
//! object `luci.leakguard` is answered by this module.
//!
//! Why an exec plugin written in Rust, not a ucode script: the backend has to validate and edit the
//! TOML config, and the one parser that decides what the daemon accepts is [`Config::parse`] (the
//! code behind `leakguard check-config`). A ucode or shell backend would need a TOML parser of its
//! own, and a second parser is a second opinion on what is valid. Being in the binary also means
//! the backend speaks the control socket's protocol through [`control::request`], not a copy of it.
//! And an exec plugin runs here exactly as rpcd runs it (ucode is not packaged for Debian), so the
//! tests drive the real thing. The cost (a process per call: 14 ms here, shell wrapper included) is
//! nothing next to LuCI's 5 s poll.
//!
//! The protocol (openwrt/rpcd `exec.c`): `PLUGIN list` prints one JSON object naming each method
//! and a sample of its arguments; `PLUGIN call METHOD` gets the arguments as one JSON object on
//! stdin (rpcd adds `ubus_rpc_session`) and prints one JSON object, which becomes the ubus reply.
//! Every reply here is an object, failures included (`{"ok":false,"error":…}`): rpcd turns
//! anything else into a bare ubus error code, and the page could not say what went wrong.
//!
//! | method         | ACL   | does                                                          |
//! |----------------|-------|---------------------------------------------------------------|
//! | `status`       | read  | the daemon's snapshot (control socket; `status.json` if it is down) |
//! | `get_config`   | write | the config file's text and the settings parsed from it        |
//! | `check_config` | write | validates a config text (nothing written)                     |
//! | `set_config`   | write | validates, writes atomically, reloads the daemon              |
//! | `set_settings` | write | edits the settings the Settings tab shows into the file, then as `set_config` |
//! | `set_mode`     | write | `set_settings` with the mode alone (enforce ↔ monitor)        |
//! | `unblock`      | write | lifts one block (`{"id":"3"}`) or all (`{"id":"all"}`)        |
//! | `devices`      | read  | the per-device history, as `leakguard report --json` (Devices tab) |
//! | `allow`        | write | one report row allowed: `leakguard allow` ([`crate::edit`])   |
//! | `block`        | write | one report row's allowance taken back: `leakguard block`      |
//!
//! The config is read and written as text; what it means is decided by [`Config::parse`], and
//! edits go through `toml_edit`, which keeps the owner's comments and every key the tab does not
//! show. Nothing is written unless the whole new text parses as a config.

use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::FileTypeExt;
use std::path::PathBuf;
use std::time::UNIX_EPOCH;

use serde_json::{json, Map, Value};
use toml_edit::{value, Array, ArrayOfTables, DocumentMut, Item, Table};

use crate::config::{AllowDst, Config, ConfigError, Mode, Scope};
use crate::daemon::control::{self, Unblock};
use crate::daemon::status::STATUS_FILE;
use crate::edit;
use crate::finding::{mac_text, Kind};

/// Where the config is when `LEAKGUARD_CONFIG` does not say otherwise.
pub const DEFAULT_CONFIG: &str = "/etc/leakguard/leakguard.toml";

/// The largest argument object read from stdin (uhttpd refuses bodies over 64 KiB already).
const MAX_INPUT: u64 = 1 << 20;

/// The methods and their argument samples, as `list` prints them (rpcd takes a string sample as
/// "string", a number as int32, an object as "table").
pub fn signatures() -> Value {
    json!({
        "status": {},
        "get_config": {},
        "check_config": { "text": "" },
        "set_config": { "text": "" },
        "set_settings": { "settings": {} },
        "set_mode": { "mode": "" },
        "unblock": { "id": "" },
        "devices": {},
        "allow": { "device": "", "device_id": "", "name": "", "kind": "", "dst": "" },
        "block": { "device": "", "device_id": "", "name": "", "kind": "", "dst": "" },
    })
}

/// `leakguard rpcd list` / `leakguard rpcd call METHOD`: what rpcd runs. Returns the process's
/// exit code; the reply goes to `out`.
pub fn main(args: &[String], input: &mut dyn Read, out: &mut dyn Write) -> io::Result<u8> {
    let config = std::env::var_os("LEAKGUARD_CONFIG")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG));
    let reply = match args {
        [list] if list == "list" => signatures(),
        [call, method] if call == "call" => {
            let mut text = String::new();
            input.take(MAX_INPUT).read_to_string(&mut text)?;
            match parse_args(&text) {
                Ok(args) => Backend::new(config).call(method, &args),
                Err(e) => failure(&e),
            }
        }
        _ => {
            writeln!(
                out,
                "usage: leakguard rpcd list | leakguard rpcd call METHOD  (rpcd exec plugin)"
            )?;
            return Ok(2);
        }
    };
    writeln!(out, "{reply}")?;
    Ok(0)
}

/// The arguments rpcd sends: one JSON object; nothing at all counts as `{}`.
fn parse_args(text: &str) -> Result<Map<String, Value>, String> {
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("arguments are not a JSON object".to_string()),
        Err(e) => Err(format!("arguments are not JSON: {e}")),
    }
}

fn failure(message: &str) -> Value {
    json!({ "ok": false, "error": message })
}

/// A config error as the page shows it: where (line and column in the text) and what.
fn config_error(e: &ConfigError) -> Value {
    json!({
        "ok": false,
        "error": e.to_string(),
        "line": e.line,
        "column": e.column,
        "key": e.key,
        "message": e.message,
    })
}

/// The backend of one call: which config file, and the daemon it names.
pub struct Backend {
    config_path: PathBuf,
}

impl Backend {
    pub fn new(config_path: PathBuf) -> Backend {
        Backend { config_path }
    }

    /// Answers `method`. Unknown methods get an error object (rpcd never sends one: it refuses
    /// methods `list` did not name).
    pub fn call(&self, method: &str, args: &Map<String, Value>) -> Value {
        let text = |key: &str| args.get(key).and_then(Value::as_str);
        match method {
            "status" => self.status(),
            "get_config" => self.get_config(),
            "check_config" => match text("text") {
                Some(t) => self.check(t),
                None => failure("check_config: expected {\"text\": …}"),
            },
            "set_config" => match text("text") {
                Some(t) => self.set_config(t),
                None => failure("set_config: expected {\"text\": …}"),
            },
            "set_settings" => match args.get("settings") {
                Some(Value::Object(s)) => self.set_settings(s),
                _ => failure("set_settings: expected {\"settings\": {…}}"),
            },
            "set_mode" => match text("mode") {
                Some(mode) => {
                    let mut s = Map::new();
                    s.insert("mode".into(), Value::from(mode));
                    self.set_settings(&s)
                }
                None => failure("set_mode: expected {\"mode\": \"enforce\"|\"monitor\"}"),
            },
            "unblock" => self.unblock(args.get("id")),
            "devices" => self.devices(),
            "allow" => self.row(args, true),
            "block" => self.row(args, false),
            other => failure(&format!("unknown method {other}")),
        }
    }

    fn file_name(&self) -> String {
        self.config_path.display().to_string()
    }

    /// The config the daemon runs with, as far as the file says: its parse, or the defaults with
    /// the error when the file is missing or broken (the run directory is still the default one).
    fn config(&self) -> (Config, Option<ConfigError>) {
        match Config::load(&self.config_path) {
            Ok(c) => (c, None),
            Err(e) => (Config::default(), Some(e)),
        }
    }

    fn socket(&self, config: &Config) -> PathBuf {
        control::socket_path(&config.daemon.run_dir)
    }

    /// `status`: `{running, state, status, …}`. Running: the control socket's snapshot. Not
    /// running: `state` is `stopped` (the socket is gone: a clean stop removes it) or `died` (the
    /// socket is left and nobody answers), with the last `status.json` the daemon wrote (it
    /// rewrites it every 2 s, so its time is when the daemon was last alive), marked stale, and
    /// the error that says why the socket failed.
    fn status(&self) -> Value {
        let (config, config_err) = self.config();
        let mut reply = Map::new();
        reply.insert("config".into(), Value::from(self.file_name()));
        if let Some(e) = &config_err {
            reply.insert("config_error".into(), Value::from(e.to_string()));
        }
        match control::request(&self.socket(&config), "status") {
            Ok(raw) => match serde_json::from_str::<Value>(&raw) {
                Ok(snapshot) if control::reply_error(&raw).is_none() => {
                    reply.insert("running".into(), Value::Bool(true));
                    reply.insert("state".into(), Value::from("running"));
                    reply.insert("status".into(), snapshot);
                }
                _ => {
                    reply.insert("running".into(), Value::Bool(false));
                    reply.insert(
                        "error".into(),
                        Value::from(control::reply_error(&raw).unwrap_or(raw)),
                    );
                }
            },
            Err(e) => {
                reply.insert("running".into(), Value::Bool(false));
                reply.insert("error".into(), Value::from(e.to_string()));
                // A daemon that stops removes its socket; one that died leaves it behind.
                let left = fs::symlink_metadata(self.socket(&config))
                    .is_ok_and(|m| m.file_type().is_socket());
                reply.insert(
                    "state".into(),
                    Value::from(if left { "died" } else { "stopped" }),
                );
                let file = config.daemon.run_dir.join(STATUS_FILE);
                if let Some(snapshot) = fs::read(&file)
                    .ok()
                    .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                {
                    reply.insert("status".into(), snapshot);
                    reply.insert("stale".into(), Value::Bool(true));
                }
                if let Some(secs) = fs::metadata(&file)
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                {
                    reply.insert("last_seen".into(), Value::from(secs.as_secs()));
                }
            }
        }
        Value::Object(reply)
    }

    /// `get_config`: the file's text and the settings the Settings tab edits.
    fn get_config(&self) -> Value {
        let (text, exists) = match fs::read_to_string(&self.config_path) {
            Ok(t) => (t, true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => (String::new(), false),
            Err(e) => return failure(&format!("{}: {e}", self.file_name())),
        };
        let mut reply = Map::new();
        reply.insert("ok".into(), Value::Bool(true));
        reply.insert("path".into(), Value::from(self.file_name()));
        reply.insert("exists".into(), Value::Bool(exists));
        match Config::parse(&text, &self.file_name()) {
            Ok(config) => {
                reply.insert("settings".into(), settings(&config));
            }
            Err(e) => {
                reply.insert("settings".into(), settings(&Config::default()));
                reply.insert("config_error".into(), config_error(&e));
            }
        }
        reply.insert("text".into(), Value::from(text));
        Value::Object(reply)
    }

    fn check(&self, text: &str) -> Value {
        match Config::parse(text, &self.file_name()) {
            Ok(c) => json!({
                "ok": true,
                "mode": mode_name(c.mode),
                "devices": c.devices.len(),
            }),
            Err(e) => config_error(&e),
        }
    }

    /// Validates `text`, writes it (temporary file, fsync, rename: the daemon and a power cut see
    /// the old file or the new one, never half), then asks the daemon to reload: [`edit::commit`].
    fn set_config(&self, text: &str) -> Value {
        match edit::commit(&self.config_path, text) {
            Ok(written) => written_reply(&written),
            Err(refused) => refused_reply(&refused),
        }
    }

    /// `allow` / `block`: one report row (`device` name or MAC, or `device_id` — the history's
    /// digest of its MAC, resolved here —, `kind`, `dst`) through [`edit::apply_row`], the code
    /// behind `leakguard allow` and `leakguard block`.
    fn row(&self, args: &Map<String, Value>, allowing: bool) -> Value {
        let method = if allowing { "allow" } else { "block" };
        let text = |key: &str| args.get(key).and_then(Value::as_str);
        let (Some(kind), Some(dst)) = (text("kind"), text("dst")) else {
            return failure(&format!(
                "{method}: expected {{\"device\"|\"device_id\": …, \"kind\": …, \"dst\": …}}"
            ));
        };
        let (config, _) = self.config();
        let device = match (text("device_id").filter(|s| !s.is_empty()), text("device")) {
            (Some(id), fallback) => match edit::resolve_device_id(&config, id) {
                Ok(mac) => mac_text(&mac).as_str().to_string(),
                Err(e) => match fallback.filter(|s| !s.trim().is_empty()) {
                    // The MAC is not known now: the name the history shows is what is left
                    // (unless it was masked: then it names nothing).
                    Some(name) if !name.contains('*') => name.to_string(),
                    _ => return failure(&format!("{method}: {e}")),
                },
            },
            (None, Some(d)) => d.to_string(),
            (None, None) => return failure(&format!("{method}: expected a device or device_id")),
        };
        let mut row = match edit::Row::parse(&device, kind, dst) {
            Ok(r) => r,
            Err(e) => return failure(&format!("{method}: {e}")),
        };
        row.note = text("name").map(str::to_string);
        match edit::apply_row(&self.config_path, &row, allowing) {
            Ok(applied) => {
                let mut reply = match &applied.written {
                    Some(w) => written_reply(w),
                    None => json!({ "ok": true, "written": false }),
                };
                reply["message"] = Value::from(applied.message);
                reply
            }
            Err(refused) => refused_reply(&refused),
        }
    }

    /// `devices`: the history (the running daemon's, else its file), as `leakguard report
    /// --json` prints it.
    fn devices(&self) -> Value {
        let (config, _) = self.config();
        let socket = self.socket(&config);
        let (data, live) = match control::history(&socket) {
            Ok(d) => (d, true),
            Err(_) => match crate::history::store::read(&config.history.path) {
                Ok(d) => (d.unwrap_or_default(), false),
                Err(e) => return failure(&e),
            },
        };
        let data = match crate::history::report::select(
            &data,
            None,
            &crate::history::report::Filter::default(),
        ) {
            Ok(d) => d,
            Err(e) => return failure(&e),
        };
        let mut reply = serde_json::to_value(&data).unwrap_or_default();
        reply["ok"] = Value::Bool(true);
        reply["running"] = Value::Bool(live);
        reply["mode"] = Value::from(mode_name(config.mode));
        reply["keep_days"] = Value::from(config.history.keep_days);
        reply["now"] = Value::from(
            std::time::SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        );
        reply["allow"] = settings(&config)["allow"].clone();
        reply
    }

    /// Applies the Settings tab's values to the current file's text, then [`Self::set_config`].
    fn set_settings(&self, settings: &Map<String, Value>) -> Value {
        let current = match fs::read_to_string(&self.config_path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
            Err(e) => return failure(&format!("{}: {e}", self.file_name())),
        };
        let mut doc: DocumentMut = match current.parse() {
            Ok(d) => d,
            Err(e) => {
                return failure(&format!(
                    "{} is not valid TOML ({}); fix it in the config file editor first",
                    self.file_name(),
                    e.message()
                ))
            }
        };
        if let Err(e) = apply_settings(&mut doc, settings) {
            return failure(&e);
        }
        self.set_config(&doc.to_string())
    }

    fn unblock(&self, id: Option<&Value>) -> Value {
        let which = match id {
            Some(Value::String(s)) if s == "all" => Unblock::All,
            Some(Value::String(s)) => match s.parse() {
                Ok(n) => Unblock::Id(n),
                Err(_) => return failure("unblock: id is a block number or \"all\""),
            },
            Some(Value::Number(n)) => match n.as_u64() {
                Some(n) => Unblock::Id(n),
                None => return failure("unblock: id is a block number or \"all\""),
            },
            _ => return failure("unblock: expected {\"id\": \"N\"|\"all\"}"),
        };
        let (config, _) = self.config();
        match control::unblock(&self.socket(&config), which) {
            Ok(n) => json!({ "ok": true, "removed": n }),
            Err(e) => failure(&e.to_string()),
        }
    }
}

/// The reply to a written config: written, and whether the daemon reloaded.
fn written_reply(w: &edit::Written) -> Value {
    let mut reply = json!({
        "ok": true,
        "written": true,
        "mode": mode_name(w.config.mode),
    });
    match &w.reload {
        Ok(running_mode) => {
            reply["reloaded"] = Value::Bool(true);
            if let Some(m) = running_mode {
                reply["running_mode"] = Value::from(m.as_str());
            }
        }
        Err(e) => {
            reply["reloaded"] = Value::Bool(false);
            reply["reload_error"] = Value::from(e.as_str());
        }
    }
    reply
}

fn refused_reply(r: &edit::Refused) -> Value {
    let mut reply = match r {
        edit::Refused::Invalid(e) => config_error(e),
        other => failure(&other.to_string()),
    };
    reply["written"] = Value::Bool(false);
    reply
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Enforce => "enforce",
        Mode::Monitor => "monitor",
    }
}

fn scope_name(scope: Scope) -> &'static str {
    match scope {
        Scope::Flow => "flow",
        Scope::DeviceDestination => "device-destination",
        Scope::Destination => "destination",
    }
}

/// What the Settings tab shows, from a parsed config (identifiers in their canonical form).
pub fn settings(config: &Config) -> Value {
    let devices: Vec<Value> = config
        .devices
        .iter()
        .map(|d| {
            let mut shown = Map::new();
            shown.insert("name".into(), json!(d.name));
            for kind in crate::kinds::DEVICE_LISTS {
                let values: Vec<String> = match crate::kinds::info(kind).known {
                    crate::kinds::Known::Mac => d
                        .mac
                        .iter()
                        .map(|m| mac_text(m).as_str().to_string())
                        .collect(),
                    _ => crate::kinds::text_values(d, kind).to_vec(),
                };
                shown.insert(kind.name().into(), json!(values));
            }
            Value::Object(shown)
        })
        .collect();
    let allow: Vec<Value> = config
        .allow
        .iter()
        .map(|a| {
            json!({
                "dst": match &a.dst {
                    AllowDst::Prefix(p) => p.to_string(),
                    AllowDst::Host(h) => h.clone(),
                },
                "kinds": a.kinds.iter().map(|k| k.name()).collect::<Vec<_>>(),
                "device": a.device.as_ref().map(|d| d.to_string()),
            })
        })
        .collect();
    json!({
        "mode": mode_name(config.mode),
        "scope": scope_name(config.firewall.scope),
        "block_timeout": config.firewall.block_timeout,
        "lan_interfaces": config.network.lan_interfaces,
        "devices": devices,
        "allow": allow,
        "kinds": Kind::ALL.iter().map(|k| k.name()).collect::<Vec<_>>(),
    })
}

/// Strings of a JSON list (a lone string counts as a list of one); empty strings dropped.
fn strings(v: &Value, what: &str) -> Result<Vec<String>, String> {
    let items: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        Value::String(_) => vec![v],
        Value::Null => Vec::new(),
        _ => return Err(format!("{what}: expected a list of strings")),
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Value::String(s) if s.trim().is_empty() => {}
            Value::String(s) => out.push(s.trim().to_string()),
            _ => return Err(format!("{what}: expected a list of strings")),
        }
    }
    Ok(out)
}

fn array(items: &[String]) -> Item {
    let mut a = Array::new();
    for s in items {
        a.push(s.as_str());
    }
    value(a)
}

fn string_of(v: &Value, what: &str) -> Result<String, String> {
    v.as_str()
        .map(|s| s.trim().to_string())
        .ok_or_else(|| format!("{what}: expected a string"))
}

/// Writes the settings present in `s` into `doc`; keys absent from `s` are left as they are.
/// Values are only put in place here: whether they are valid is [`Config::parse`]'s decision.
pub fn apply_settings(doc: &mut DocumentMut, s: &Map<String, Value>) -> Result<(), String> {
    for key in s.keys() {
        if ![
            "mode",
            "scope",
            "block_timeout",
            "lan_interfaces",
            "devices",
            "allow",
        ]
        .contains(&key.as_str())
        {
            return Err(format!("settings: unknown setting {key}"));
        }
    }
    if let Some(v) = s.get("mode") {
        doc["mode"] = value(string_of(v, "mode")?);
    }
    if let Some(v) = s.get("scope") {
        doc["firewall"]["scope"] = value(string_of(v, "scope")?);
    }
    if let Some(v) = s.get("block_timeout") {
        let n = match v {
            Value::Number(n) => n.as_i64(),
            Value::String(t) => t.trim().parse::<i64>().ok(),
            _ => None,
        }
        .ok_or("block_timeout: expected a whole number of seconds")?;
        doc["firewall"]["block_timeout"] = value(n);
    }
    if let Some(v) = s.get("lan_interfaces") {
        doc["network"]["lan_interfaces"] = array(&strings(v, "lan_interfaces")?);
    }
    if let Some(v) = s.get("devices") {
        let list = v.as_array().ok_or("devices: expected a list")?;
        let mut tables = ArrayOfTables::new();
        for (i, d) in list.iter().enumerate() {
            let d = d
                .as_object()
                .ok_or_else(|| format!("devices[{i}]: expected an object"))?;
            let mut t = Table::new();
            if let Some(name) = d.get("name") {
                let name = string_of(name, &format!("devices[{i}].name"))?;
                if !name.is_empty() {
                    t["name"] = value(name);
                }
            }
            for key in crate::kinds::DEVICE_LISTS.map(Kind::name) {
                if let Some(v) = d.get(key) {
                    let items = strings(v, &format!("devices[{i}].{key}"))?;
                    if !items.is_empty() {
                        t[key] = array(&items);
                    }
                }
            }
            tables.push(t);
        }
        set_tables(doc, "device", tables);
    }
    if let Some(v) = s.get("allow") {
        let list = v.as_array().ok_or("allow: expected a list")?;
        let mut tables = ArrayOfTables::new();
        for (i, a) in list.iter().enumerate() {
            let a = a
                .as_object()
                .ok_or_else(|| format!("allow[{i}]: expected an object"))?;
            let mut t = Table::new();
            if let Some(d) = a.get("device").filter(|d| !d.is_null()) {
                let device = string_of(d, &format!("allow[{i}].device"))?;
                if !device.is_empty() {
                    t["device"] = value(device);
                }
            }
            t["dst"] = value(string_of(
                a.get("dst").unwrap_or(&Value::Null),
                &format!("allow[{i}].dst"),
            )?);
            if let Some(k) = a.get("kinds") {
                let kinds = strings(k, &format!("allow[{i}].kinds"))?;
                if !kinds.is_empty() {
                    t["kinds"] = array(&kinds);
                }
            }
            tables.push(t);
        }
        set_tables(doc, "allow", tables);
    }
    Ok(())
}

/// Replaces the `[[key]]` tables (removes them when there are none), where the first one was.
fn set_tables(doc: &mut DocumentMut, key: &str, mut tables: ArrayOfTables) {
    let position = doc
        .get(key)
        .and_then(Item::as_array_of_tables)
        .and_then(|old| old.iter().next())
        .and_then(Table::position);
    if tables.is_empty() {
        doc.remove(key);
        return;
    }
    if let Some(p) = position {
        for (i, t) in tables.iter_mut().enumerate() {
            t.set_position(p + i);
        }
    }
    doc[key] = Item::ArrayOfTables(tables);
}

/// The one atomic write every config change takes (see [`crate::edit`]).
pub use crate::edit::write_atomic;

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    fn doc(text: &str) -> DocumentMut {
        text.parse().unwrap()
    }

    fn settings_of(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn settings_keep_comments_and_other_keys() {
        let mut d = doc("# owner's note\nmode = \"monitor\" # keep\n\n[detect]\nbudget = 2048\n");
        apply_settings(
            &mut d,
            &settings_of(json!({
                "mode": "enforce",
                "scope": "flow",
                "block_timeout": "600",
                "lan_interfaces": ["br-lan", "br-guest"],
            })),
        )
        .unwrap();
        let text = d.to_string();
        assert!(text.starts_with("# owner's note\n"), "{text}");
        assert!(text.contains("budget = 2048"), "{text}");
        let c = Config::parse(&text, "t").unwrap();
        assert_eq!(c.mode, Mode::Enforce);
        assert_eq!(c.firewall.scope, Scope::Flow);
        assert_eq!(c.firewall.block_timeout, 600);
        assert_eq!(c.network.lan_interfaces, ["br-lan", "br-guest"]);
        assert_eq!(c.detect.budget, 2048);
    }

    #[test]
    fn devices_and_allow_rules_round_trip() {
        let mut d =
            doc("mode = \"monitor\"\n\n[[device]]\nname = \"old\"\n\n[alert]\nrecent = 9\n");
        let s = settings_of(json!({
            "devices": [
                { "name": "Nokia 7 Plus", "mac": ["A4:50:46:12:34:56"], "imei": ["490154203237518", ""] },
                { "name": "tablet", "serial": "R52N80ABCDE" },
            ],
            "allow": [ { "dst": "*.example-mdm.com", "kinds": ["imei"] }, { "dst": "10.1.0.0/16" } ],
        }));
        apply_settings(&mut d, &s).unwrap();
        let text = d.to_string();
        let c = Config::parse(&text, "t").unwrap();
        assert_eq!(c.devices.len(), 2, "{text}");
        assert_eq!(c.alert.recent, 9);
        let shown = settings(&c);
        assert_eq!(shown["devices"][0]["name"], "Nokia 7 Plus");
        assert_eq!(shown["devices"][0]["mac"][0], "a4:50:46:12:34:56");
        assert_eq!(shown["devices"][0]["imei"], json!(["490154203237518"]));
        assert_eq!(shown["devices"][1]["serial"], json!(["R52N80ABCDE"]));
        assert_eq!(shown["allow"][0]["dst"], "*.example-mdm.com");
        assert_eq!(shown["allow"][0]["kinds"], json!(["imei"]));
        assert_eq!(shown["allow"][1]["dst"], "10.1.0.0/16");
        assert_eq!(shown["allow"][1]["kinds"], json!([]));
        // The device tables stay where the old one was: before [alert].
        assert!(
            text.find("[[device]]").unwrap() < text.find("[alert]").unwrap(),
            "{text}"
        );

        apply_settings(&mut d, &settings_of(json!({ "devices": [], "allow": [] }))).unwrap();
        let text = d.to_string();
        assert!(
            !text.contains("[[device]]") && !text.contains("[[allow]]"),
            "{text}"
        );
    }

    #[test]
    fn settings_with_wrong_shapes_are_refused() {
        let mut d = doc("");
        for bad in [
            json!({ "mode": 1 }),
            json!({ "block_timeout": "soon" }),
            json!({ "devices": {} }),
            json!({ "devices": [ { "imei": [1] } ] }),
            json!({ "allow": [ {} ] }),
            json!({ "table": "x" }),
        ] {
            assert!(
                apply_settings(&mut d, &settings_of(bad.clone())).is_err(),
                "{bad}"
            );
        }
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("lg-rpcd-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn bad_config_is_refused_with_its_line_and_nothing_written() {
        let dir = scratch("bad");
        let path = dir.join("leakguard.toml");
        let good = format!(
            "mode = \"monitor\"\n[daemon]\nrun_dir = \"{}\"\n",
            dir.join("run").display()
        );
        fs::write(&path, &good).unwrap();
        let b = Backend::new(path.clone());
        let bad = format!("{good}[[device]]\nname = \"x\"\nimei = [\"12345\"]\n");
        let reply = b.call("set_config", &settings_of(json!({ "text": bad })));
        assert_eq!(reply["ok"], false, "{reply}");
        assert_eq!(reply["written"], false);
        assert_eq!(reply["line"], 6, "{reply}");
        assert!(reply["column"].as_u64().unwrap() > 0);
        assert!(reply["error"].as_str().unwrap().contains("imei"), "{reply}");
        assert_eq!(fs::read_to_string(&path).unwrap(), good);

        // A good text is written (daemon absent: written, not reloaded) with no temp file left.
        let new = good.replace("monitor", "enforce");
        let reply = b.call("set_config", &settings_of(json!({ "text": new })));
        assert_eq!(reply["ok"], true, "{reply}");
        assert_eq!(reply["written"], true);
        assert_eq!(reply["reloaded"], false);
        assert_eq!(fs::read_to_string(&path).unwrap(), new);
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o644
        );

        let reply = b.call("status", &Map::new());
        assert_eq!(reply["running"], false, "{reply}");
        assert!(
            reply["error"].as_str().unwrap().contains("not running"),
            "{reply}"
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn allow_and_block_rows_and_devices() {
        let dir = scratch("rows");
        let path = dir.join("leakguard.toml");
        let base = format!(
            "mode = \"enforce\"\n[daemon]\nrun_dir = \"{}\"\n[history]\npath = \"{}\"\n",
            dir.join("run").display(),
            dir.join("history.json").display()
        );
        fs::write(&path, &base).unwrap();
        let b = Backend::new(path.clone());
        let row =
            json!({ "device": "tv", "name": "Living room", "kind": "mac", "dst": "t.example" });
        let reply = b.call("allow", &settings_of(row.clone()));
        assert_eq!(
            (reply["ok"].clone(), reply["written"].clone()),
            (json!(true), json!(true)),
            "{reply}"
        );
        assert!(
            reply["message"]
                .as_str()
                .unwrap()
                .starts_with("allowed mac from tv"),
            "{reply}"
        );
        let c = Config::load(&path).unwrap();
        assert_eq!(c.allow.len(), 1);
        assert_eq!(settings(&c)["allow"][0]["device"], "tv");
        let reply = b.call("block", &settings_of(row));
        assert_eq!(reply["ok"], true, "{reply}");
        assert!(
            reply["message"]
                .as_str()
                .unwrap()
                .contains("dropped and blocked"),
            "{reply}"
        );
        assert!(Config::load(&path).unwrap().allow.is_empty());
        // A device id that no known MAC digests to, with a masked name: refused, nothing written.
        let reply = b.call(
            "allow",
            &settings_of(json!({ "device_id": "0123456789abcdef", "name": "phone-49****18", "kind": "imei", "dst": "a.example" })),
        );
        assert_eq!(reply["ok"], false, "{reply}");
        assert_eq!(
            fs::read_to_string(&path).unwrap().trim_end(),
            base.trim_end()
        );
        let reply = b.call(
            "allow",
            &settings_of(json!({ "kind": "imei", "dst": "a.example" })),
        );
        assert_eq!(reply["ok"], false, "{reply}");
        // No daemon, no file yet: an empty history.
        let reply = b.call("devices", &Map::new());
        assert_eq!(reply["ok"], true, "{reply}");
        assert_eq!(reply["devices"], json!([]));
        assert_eq!(reply["running"], false);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn atomic_write_keeps_owner_and_mode() {
        let dir = scratch("owner");
        let path = dir.join("leakguard.toml");
        fs::write(&path, "mode = \"monitor\"\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        // As root (the tests' usual case) the file can be given to another owner first.
        let owner = std::os::unix::fs::chown(&path, Some(65534), Some(65534))
            .map(|()| (65534, 65534))
            .unwrap_or_else(|_| {
                let m = fs::metadata(&path).unwrap();
                (m.uid(), m.gid())
            });
        write_atomic(&path, "mode = \"enforce\"\n").unwrap();
        let m = fs::metadata(&path).unwrap();
        assert_eq!((m.uid(), m.gid()), owner);
        assert_eq!(m.permissions().mode() & 0o777, 0o640);
        assert_eq!(fs::read_to_string(&path).unwrap(), "mode = \"enforce\"\n");
        write_atomic(&dir.join("new.toml"), "").unwrap();
        let m = fs::metadata(dir.join("new.toml")).unwrap();
        assert_eq!(m.permissions().mode() & 0o777, 0o600);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn protocol_list_and_call() {
        let mut out = Vec::new();
        let code = main(&["list".into()], &mut io::empty(), &mut out).unwrap();
        assert_eq!(code, 0);
        let listed: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(listed, signatures());
        for bad in ["[1]", "nope"] {
            let mut out = Vec::new();
            main(
                &["call".into(), "status".into()],
                &mut bad.as_bytes(),
                &mut out,
            )
            .unwrap();
            let v: Value = serde_json::from_slice(&out).unwrap();
            assert_eq!(v["ok"], false, "{v}");
        }
    }
}
