//! The LuCI app (openwrt-package/luci-app-leakguard) against a real daemon.
//!
//! * `rpcd_plugin_as_rpcd_runs_it`: the package's exec plugin, run the way rpcd runs it
//!   (`PLUGIN list` with no input, `PLUGIN call METHOD` with the arguments as compact JSON on
//!   stdin, no trailing newline, `ubus_rpc_session` added; the first JSON value on stdout is the
//!   reply and must be an object), against `leakguard run` in the network namespaces of
//!   tests/netns (a leak from the LAN namespace, its alert, unblock, mode switch, a bad config).
//! * `package_files_are_where_luci_expects_them`: layout, JSON of menu.d and acl.d, the ACL
//!   granting exactly the plugin's methods (status read-only, the rest write), the .pot covering
//!   every string the views translate.
//! * `browser`: tests/luci/browser.mjs (headless Chromium) against tests/luci/server.mjs, which
//!   plays the router's uhttpd + rpcd and answers `/ubus` with this plugin (see there).
//!
//! Root, the namespace tools and (for `browser`) node + chromium are needed: without them the
//! tests say why and pass, unless `CI` is set.

#[path = "netns/daemon.rs"]
#[allow(dead_code)]
mod daemon;
#[path = "netns/topology.rs"]
#[allow(dead_code)]
mod topology;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{json, Value};

use daemon::{Daemon, TestConfig, TABLE};
use topology::{poll, Topology, WAN_IP};

const APP: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/openwrt-package/luci-app-leakguard"
);
const IMEI: &str = "490154203237518";
const IMEI_MASKED: &str = "4901********518";
const LEAK_BODY: &str = r#"{"imei":"490154203237518"}"#;
const URL: &str = "http://198.51.100.2:8080/reg";

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Root and `tools`, or a skip (a failure under CI).
fn prerequisites(test: &str, tools: &[&str]) -> bool {
    let mut missing = Vec::new();
    if !nix::unistd::geteuid().is_root() {
        missing.push("root".to_string());
    }
    for tool in tools {
        if topology::which(tool).is_none() {
            missing.push(tool.to_string());
        }
    }
    if missing.is_empty() {
        return true;
    }
    let message = format!(
        "luci test {test}: needs {} (bash .ci/run installs them; run as root)",
        missing.join(", ")
    );
    if std::env::var_os("CI").is_some() {
        panic!("{message}");
    }
    eprintln!("SKIPPED: {message}");
    false
}

const NETNS_TOOLS: [&str; 6] = ["ip", "nft", "iptables", "dnsmasq", "curl", "python3"];

fn plugin_path() -> PathBuf {
    Path::new(APP).join("root/usr/libexec/rpcd/luci.leakguard")
}

/// `PATH` with the leakguard under test first (the plugin runs `leakguard` from `PATH`, as on a
/// router where it is /usr/sbin/leakguard).
fn path_with_bin() -> String {
    let bin = PathBuf::from(daemon::bin());
    let dir = bin
        .parent()
        .expect("binary directory")
        .display()
        .to_string();
    format!("{dir}:{}", std::env::var("PATH").unwrap_or_default())
}

/// Runs the plugin as rpcd does: `list` with stdin from /dev/null, or `call METHOD` with `args`
/// plus `ubus_rpc_session` as compact JSON on stdin (no newline). Returns the first JSON value
/// printed, which must be an object (rpcd answers anything else with an error code).
fn plugin(config: &Path, call: Option<(&str, Value)>) -> Value {
    let mut cmd = Command::new(plugin_path());
    cmd.env("PATH", path_with_bin())
        .env("LEAKGUARD_CONFIG", config)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let input = match &call {
        None => {
            cmd.arg("list").stdin(Stdio::null());
            None
        }
        Some((method, args)) => {
            cmd.args(["call", method]).stdin(Stdio::piped());
            let mut args = args.clone();
            args["ubus_rpc_session"] = json!("0123456789abcdef0123456789abcdef");
            Some(serde_json::to_string(&args).expect("args"))
        }
    };
    let mut child = cmd.spawn().expect("run the rpcd plugin");
    if let Some(input) = input {
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(input.as_bytes()).expect("write args");
    }
    let out = child.wait_with_output().expect("plugin output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let first = serde_json::Deserializer::from_str(&stdout)
        .into_iter::<Value>()
        .next()
        .unwrap_or_else(|| {
            panic!(
                "plugin {call:?} printed no JSON: {stdout} / {}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
        .unwrap_or_else(|e| panic!("plugin {call:?} printed bad JSON ({e}): {stdout}"));
    assert!(first.is_object(), "plugin {call:?}: not an object: {first}");
    first
}

fn call(config: &Path, method: &str, args: Value) -> Value {
    plugin(config, Some((method, args)))
}

fn read_json(rel: &str) -> Value {
    let path = Path::new(APP).join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The ACL group's ubus methods of `luci.leakguard`, for `read` or `write`.
fn acl_methods(section: &str) -> BTreeSet<String> {
    let acl = read_json("root/usr/share/rpcd/acl.d/luci-app-leakguard.json");
    let group = acl.as_object().expect("acl object");
    assert_eq!(group.len(), 1, "one ACL group: {acl}");
    let ubus = &acl["luci-app-leakguard"][section]["ubus"];
    let objects = ubus.as_object().expect("ubus objects");
    assert_eq!(
        objects.keys().collect::<Vec<_>>(),
        ["luci.leakguard"],
        "{section}: only the app's own object is reachable"
    );
    ubus["luci.leakguard"]
        .as_array()
        .expect("methods")
        .iter()
        .map(|m| m.as_str().expect("method name").to_string())
        .collect()
}

#[test]
fn package_files_are_where_luci_expects_them() {
    for rel in [
        "Makefile",
        "htdocs/luci-static/resources/view/leakguard/status.js",
        "htdocs/luci-static/resources/view/leakguard/devices.js",
        "htdocs/luci-static/resources/view/leakguard/settings.js",
        "root/usr/share/luci/menu.d/luci-app-leakguard.json",
        "root/usr/share/rpcd/acl.d/luci-app-leakguard.json",
        "root/usr/libexec/rpcd/luci.leakguard",
        "po/templates/leakguard.pot",
    ] {
        assert!(Path::new(APP).join(rel).is_file(), "{rel} missing");
    }
    let makefile = std::fs::read_to_string(Path::new(APP).join("Makefile")).unwrap();
    for needle in [
        "LUCI_TITLE:=",
        "LUCI_DEPENDS:=+luci-base +leakguard",
        "luci.mk",
    ] {
        assert!(makefile.contains(needle), "Makefile lacks {needle}");
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(plugin_path())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o111, 0o111, "the rpcd plugin is executable");

    // The menu: Services → leakguard, an alias to the status tab, views that exist.
    let menu = read_json("root/usr/share/luci/menu.d/luci-app-leakguard.json");
    let top = &menu["admin/services/leakguard"];
    assert_eq!(top["depends"]["acl"], json!(["luci-app-leakguard"]));
    assert_eq!(top["action"]["type"], "alias");
    for (node, entry) in menu.as_object().unwrap() {
        assert!(node.starts_with("admin/services/leakguard"), "{node}");
        if entry["action"]["type"] == "view" {
            let view = entry["action"]["path"].as_str().unwrap();
            let file = format!("htdocs/luci-static/resources/view/{view}.js");
            assert!(Path::new(APP).join(&file).is_file(), "{node}: {file}");
        }
    }

    // The ACL: status readable; unblock and the config only with write access; and the plugin
    // lists exactly these methods, so nothing it answers is unreachable or ungranted.
    let read = acl_methods("read");
    let write = acl_methods("write");
    assert_eq!(
        read,
        BTreeSet::from(["status".to_string(), "devices".to_string()])
    );
    assert!(read.is_disjoint(&write));
    let listed: BTreeSet<String> = leakguard::rpcd::signatures()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let granted: BTreeSet<String> = read.union(&write).cloned().collect();
    assert_eq!(listed, granted, "plugin methods vs ACL");

    // Translations: every _('…') of the views is in the template.
    let pot = std::fs::read_to_string(Path::new(APP).join("po/templates/leakguard.pot")).unwrap();
    let views = Path::new(APP).join("htdocs/luci-static/resources/view/leakguard");
    for entry in std::fs::read_dir(&views).unwrap().flatten() {
        let js = std::fs::read_to_string(entry.path()).unwrap();
        for msgid in translated_strings(&js) {
            let line = format!("msgid \"{}\"", msgid.replace('"', "\\\""));
            assert!(
                pot.contains(&line),
                "{}: {line} missing from po/templates/leakguard.pot",
                entry.path().display()
            );
        }
    }
}

/// The literal arguments of `_('…')` in a view (single-quoted, as LuCI's i18n-scan.pl reads).
fn translated_strings(js: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = js;
    while let Some(at) = rest.find("_('") {
        let after = &rest[at + 3..];
        let mut text = String::new();
        let mut chars = after.char_indices();
        let mut end = after.len();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, n)) = chars.next() {
                        text.push(n);
                    }
                }
                '\'' => {
                    end = i + 1;
                    break;
                }
                c => text.push(c),
            }
        }
        out.push(text);
        rest = &after[end..];
    }
    out
}

#[test]
fn rpcd_plugin_as_rpcd_runs_it() {
    let _g = serial();
    if !prerequisites("rpcd_plugin_as_rpcd_runs_it", &NETNS_TOOLS) {
        return;
    }
    let topo = Topology::new("luci-rpcd");
    let mut d = Daemon::start(&topo, TestConfig::enforce(41));
    let config = d.config_path.clone();

    let listed = plugin(&config, None);
    assert_eq!(listed, leakguard::rpcd::signatures());

    let status = call(&config, "status", json!({}));
    assert_eq!(status["running"], true, "{status}{}", d.context());
    assert_eq!(status["status"]["mode"], "enforce");
    assert!(status["status"]["started"].as_u64().unwrap_or(0) > 0);

    // A leak from the LAN namespace: its alert (masked) and its block come through the plugin.
    let out = topo.post(URL, LEAK_BODY);
    assert!(!Topology::post_ok(&out), "the leak passed: {out}");
    let status = poll(Duration::from_secs(5), || {
        let s = call(&config, "status", json!({}));
        (s["status"]["blocks"]
            .as_array()
            .is_some_and(|b| !b.is_empty()))
        .then_some(s)
    })
    .unwrap_or_else(|| panic!("no block in the plugin's status{}", d.context()));
    let text = status.to_string();
    assert!(!text.contains(IMEI), "clear IMEI in status: {text}");
    let alert = &status["status"]["recent_alerts"][0];
    assert_eq!(alert["kind"], "imei", "{status}");
    assert_eq!(alert["value"], IMEI_MASKED);
    // The page shows the value as syslog has it.
    let line = d
        .wait_syslog(&["kind=imei"], Duration::from_secs(3))
        .unwrap_or_else(|| panic!("no syslog line{}", d.context()));
    assert!(line.contains(&format!("value={IMEI_MASKED} ")), "{line}");
    assert_eq!(alert["action"], "blocked");
    let block = &status["status"]["blocks"][0];
    let id = block["id"].as_u64().expect("block id");
    assert!(topo.nft_table(TABLE).stdout.contains(WAN_IP));

    let reply = call(&config, "unblock", json!({ "id": "nonsense" }));
    assert_eq!(reply["ok"], false, "{reply}");
    let reply = call(&config, "unblock", json!({ "id": id.to_string() }));
    assert_eq!(
        reply,
        json!({ "ok": true, "removed": 1 }),
        "{}",
        d.context()
    );
    let table = topo.nft_table(TABLE);
    assert!(
        !table.stdout.contains(WAN_IP),
        "block still in nftables: {table}"
    );

    // One control switches the mode: written into the file (comments kept), daemon reloaded.
    let reply = call(&config, "set_mode", json!({ "mode": "monitor" }));
    assert_eq!(reply["ok"], true, "{reply}{}", d.context());
    assert_eq!(reply["written"], true);
    assert_eq!(reply["reloaded"], true, "{reply}");
    assert_eq!(reply["running_mode"], "monitor", "{reply}");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.starts_with("# written by tests/netns.rs"), "{text}");
    let status = call(&config, "status", json!({}));
    assert_eq!(status["status"]["mode"], "monitor");

    // get_config: the text and the settings parsed by the daemon's own parser.
    let got = call(&config, "get_config", json!({}));
    assert_eq!(got["ok"], true, "{got}");
    assert_eq!(got["text"], text);
    assert_eq!(got["settings"]["mode"], "monitor");
    assert_eq!(got["settings"]["scope"], "device-destination");
    assert_eq!(got["settings"]["lan_interfaces"], json!(["br-lan"]));

    // A bad config: refused with its line and column, nothing written, the daemon unchanged.
    let bad = format!("{text}\n[firewall2]\nscope = \"flow\"\n");
    let bad_line = bad.lines().count() - 1;
    for method in ["check_config", "set_config"] {
        let reply = call(&config, method, json!({ "text": bad }));
        assert_eq!(reply["ok"], false, "{method}: {reply}");
        assert_eq!(reply["line"], bad_line, "{method}: {reply}");
        assert!(reply["column"].as_u64().unwrap_or(0) >= 1, "{reply}");
    }
    assert_eq!(std::fs::read_to_string(&config).unwrap(), text);
    let reply = call(
        &config,
        "set_settings",
        json!({ "settings": { "scope": "sideways" } }),
    );
    assert_eq!(reply["ok"], false, "{reply}");
    assert!(
        reply["error"].as_str().unwrap().contains("scope"),
        "{reply}"
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), text);

    // Stopped: not running, since when the daemon last wrote its status, the last snapshot.
    // (The daemon writes status.json every 2 s.)
    poll(Duration::from_secs(5), || {
        (!d.status_file().is_empty()).then_some(())
    })
    .unwrap_or_else(|| panic!("no status.json{}", d.context()));
    d.signal_and_wait(nix::sys::signal::Signal::SIGTERM, Duration::from_secs(5))
        .expect("daemon exits on SIGTERM");
    let status = call(&config, "status", json!({}));
    assert_eq!(status["running"], false, "{status}");
    assert_eq!(status["state"], "stopped", "{status}");
    assert!(status["last_seen"].as_u64().unwrap_or(0) > 0, "{status}");
    assert_eq!(status["stale"], true);
    assert!(status["error"].as_str().unwrap().contains("not running"));
    drop(d);

    // Killed: the socket it leaves behind says it died.
    let mut d = Daemon::start(&topo, TestConfig::monitor(43));
    let config = d.config_path.clone();
    assert_eq!(call(&config, "status", json!({}))["state"], "running");
    d.signal_and_wait(nix::sys::signal::Signal::SIGKILL, Duration::from_secs(5))
        .expect("daemon killed");
    let status = call(&config, "status", json!({}));
    assert_eq!(status["running"], false, "{status}");
    assert_eq!(status["state"], "died", "{status}");
}

/// Where `bash .ci/run` installs playwright-core (`LEAKGUARD_NODE_MODULES` overrides).
fn node_modules() -> PathBuf {
    std::env::var_os("LEAKGUARD_NODE_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/luci-node/node_modules")
        })
}

/// A pseudo-translation of the template (every msgstr `[msgid]`), to see translations apply.
fn pseudo_po(pot: &str) -> String {
    let mut out = String::new();
    let mut msgid: Option<String> = None;
    for line in pot.lines() {
        if let Some(id) = line
            .strip_prefix("msgid \"")
            .and_then(|l| l.strip_suffix('"'))
        {
            msgid = (!id.is_empty()).then(|| id.to_string());
            out.push_str(line);
        } else if line == "msgstr \"\"" {
            match msgid.take() {
                Some(id) => out.push_str(&format!("msgstr \"[{id}]\"")),
                None => out.push_str(line),
            }
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

#[test]
fn browser() {
    let _g = serial();
    let mut tools = NETNS_TOOLS.to_vec();
    tools.extend(["node", "chromium"]);
    if !prerequisites("browser", &tools) {
        return;
    }
    let modules = node_modules();
    if !modules.join("playwright-core").is_dir() {
        let message = format!(
            "luci test browser: needs playwright-core in {} (npm install --prefix target/luci-node playwright-core; bash .ci/run does)",
            modules.display()
        );
        if std::env::var_os("CI").is_some() {
            panic!("{message}");
        }
        eprintln!("SKIPPED: {message}");
        return;
    }
    let topo = Topology::new("luci-browser");
    let d = Daemon::start(&topo, TestConfig::enforce(42));
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/luci-screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot directory");
    let pot = std::fs::read_to_string(Path::new(APP).join("po/templates/leakguard.pot")).unwrap();
    let po = topo.dir.join("xx.po");
    std::fs::write(&po, pseudo_po(&pot)).unwrap();

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/luci/browser.mjs");
    let acl = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/luci/acl-luci-base.json");
    let out = Command::new("node")
        .arg(script)
        .env("PATH", path_with_bin())
        .env("LEAKGUARD_CONFIG", &d.config_path)
        .env("LG_APP", APP)
        .env(
            "LG_RUNTIME",
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/luci/runtime"),
        )
        .env("LG_ACL", acl)
        .env("LG_NODE_MODULES", &modules)
        .env("LG_SHOTS", &shots)
        .env("LG_SCRATCH", &topo.dir)
        .env("LG_POLL", "3")
        .env("LG_LANG", "xx")
        .env("LG_PO", &po)
        .env("LG_LAN_NS", &topo.lan)
        .env("LG_ROUTER_NS", &topo.router)
        .env("LG_TABLE", TABLE)
        .env("LG_WAN_IP", WAN_IP)
        .env("LG_LEAK_URL", URL)
        .env("LG_LEAK_BODY", LEAK_BODY)
        .env("LG_IMEI", IMEI)
        .env("LG_IMEI_MASKED", IMEI_MASKED)
        .env("LG_DAEMON_PID", d.pid.to_string())
        .stdin(Stdio::null())
        .output()
        .expect("run node tests/luci/browser.mjs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}{stderr}");
    assert!(
        out.status.success() && stdout.contains("step: all passed"),
        "browser test failed ({}): {stdout}{stderr}{}",
        out.status,
        d.context()
    );
}
