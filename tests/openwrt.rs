//! The OpenWrt package: the feed Makefile's fields, the init script (shellcheck, and what it
//! hands to procd, through a recording stand-in for the `procd_*` helpers that follows the real
//! `/lib/functions/procd.sh`), the feed CI's test scripts, and the `.ipk`s of
//! `scripts/release-ipk.sh`, unpacked the way opkg and the feed CI do, their binary run under
//! qemu-user.
//!
//! Tools (shellcheck, qemu-user-static) and the cross builds (`scripts/cross-build.sh`, which CI
//! runs first) are skipped with a message when absent, and fail the test when `CI` is set.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Map, Value};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn pkg() -> PathBuf {
    root().join("openwrt-package/leakguard")
}

fn init_script() -> PathBuf {
    pkg().join("files/leakguard.init")
}

fn leakguard_bin() -> &'static str {
    env!("CARGO_BIN_EXE_leakguard")
}

fn cargo_version() -> String {
    let manifest = fs::read_to_string(root().join("Cargo.toml")).unwrap();
    manifest
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .unwrap()
        .to_string()
}

/// Skips a test whose tool or material is absent, except under CI, where absence is a failure.
fn skip(why: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{why} (CI is set: not skipping)");
    }
    // Straight to the stderr stream, not `eprintln!`: the test harness captures the macros'
    // output of a passing test, and a skip must show in a plain `cargo test` run.
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "openwrt: skipped: {why}");
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    out
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("leakguard-openwrt-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// `VAR:=value` of the feed Makefile.
fn makefile_var(makefile: &str, var: &str) -> Option<String> {
    makefile.lines().find_map(|l| {
        l.trim_start()
            .strip_prefix(var)
            .and_then(|r| r.strip_prefix(":="))
            .map(|v| v.trim().to_string())
    })
}

/// A shell variable assignment `NAME=value` at the start of a line of the init script.
fn init_var(script: &str, var: &str) -> String {
    script
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{var}=")))
        .unwrap_or_else(|| panic!("{var} not set in the init script"))
        .to_string()
}

#[test]
fn makefile_has_the_fields_the_feed_requires() {
    let mk = fs::read_to_string(pkg().join("Makefile")).unwrap();
    assert_eq!(makefile_var(&mk, "PKG_NAME").unwrap(), "leakguard");
    // apk's grammar: PKG_VERSION is major.minor.fixup and equals the crate's version.
    let version = makefile_var(&mk, "PKG_VERSION").unwrap();
    assert_eq!(version, cargo_version());
    let parts: Vec<&str> = version.split('.').collect();
    assert!(
        parts.len() == 3 && parts.iter().all(|p| p.parse::<u32>().is_ok()),
        "{version}"
    );
    let release = makefile_var(&mk, "PKG_RELEASE").unwrap();
    assert!(
        release.parse::<u32>().unwrap() >= 1,
        "PKG_RELEASE {release}"
    );
    assert_eq!(makefile_var(&mk, "PKG_LICENSE").unwrap(), "GPL-2.0-only");
    let license_file = makefile_var(&mk, "PKG_LICENSE_FILES").unwrap();
    assert!(
        root().join(&license_file).is_file(),
        "{license_file} missing"
    );
    assert!(makefile_var(&mk, "PKG_MAINTAINER").unwrap().contains('@'));
    // The project's own profile, which must exist in Cargo.toml.
    assert_eq!(makefile_var(&mk, "CARGO_PKG_PROFILE").unwrap(), "router");
    let manifest = fs::read_to_string(root().join("Cargo.toml")).unwrap();
    assert!(manifest.contains("[profile.router]"));
    assert!(mk.contains("rust-package.mk"));
    assert!(mk.contains("$(eval $(call RustBinPackage,leakguard))"));
    assert!(mk.contains("$(eval $(call BuildPackage,leakguard))"));
    assert!(mk.contains("PKG_BUILD_DEPENDS:=rust/host"));
    for dep in [
        "$(RUST_ARCH_DEPENDS)",
        "+kmod-nft-queue",
        "+kmod-nf-conntrack-netlink",
        "+kmod-nfnetlink-log",
        "+nftables-json",
        "+procd-ujail",
    ] {
        assert!(mk.contains(dep), "DEPENDS lacks {dep}");
    }
    assert!(mk.contains("USERID:=leakguard:leakguard"));
    // conffiles, and the files in the places the init script expects them.
    assert!(mk.contains("define Package/leakguard/conffiles\n/etc/leakguard/leakguard.toml\nendef"));
    let init = fs::read_to_string(init_script()).unwrap();
    assert!(mk.contains("$(INSTALL_BIN) $(PKG_INSTALL_DIR)/bin/leakguard $(1)/usr/sbin/"));
    assert_eq!(init_var(&init, "PROG"), "/usr/sbin/leakguard");
    assert_eq!(init_var(&init, "CONF"), "/etc/leakguard/leakguard.toml");
    assert!(mk.contains(
        "$(INSTALL_CONF) $(PKG_BUILD_DIR)/etc/leakguard.toml $(1)/etc/leakguard/leakguard.toml"
    ));
    let caps = init_var(&init, "CAPS");
    assert!(
        mk.contains(&format!(
            "$(INSTALL_DATA) ./files/capabilities.json $(1){caps}"
        )),
        "the package must install the capabilities file the init script hands to ujail ({caps})"
    );
    assert!(mk.contains("$(INSTALL_BIN) ./files/leakguard.init $(1)/etc/init.d/leakguard"));
    // A new install starts in monitor mode.
    assert!(mk.contains(
        r#"$(SED) 's/^mode = "enforce"/mode = "monitor"/' $(PKG_BUILD_DIR)/etc/leakguard.toml"#
    ));
    let etc = fs::read_to_string(root().join("etc/leakguard.toml")).unwrap();
    assert!(
        etc.lines().any(|l| l == r#"mode = "enforce""#),
        "the sed must find its line"
    );
}

#[test]
fn capabilities_file_grants_cap_net_admin_only() {
    let caps: Value =
        serde_json::from_str(&fs::read_to_string(pkg().join("files/capabilities.json")).unwrap())
            .unwrap();
    let sets = caps.as_object().unwrap();
    let names: Vec<&str> = sets.keys().map(String::as_str).collect();
    for set in [
        "bounding",
        "effective",
        "ambient",
        "permitted",
        "inheritable",
    ] {
        assert_eq!(sets[set], json!(["CAP_NET_ADMIN"]), "{set}");
        assert!(names.contains(&set));
    }
    assert_eq!(sets.len(), 5);
}

#[test]
fn shell_passes_shellcheck() {
    if !have("shellcheck") {
        return skip("shellcheck is not installed");
    }
    // The init script and the feed's test scripts run under busybox ash (dash's dialect:
    // `local` exists); the developer scripts under bash.
    let files = [
        "openwrt-package/leakguard/files/leakguard.init",
        "openwrt-package/leakguard/test.sh",
        "openwrt-package/leakguard/test-version.sh",
        "tests/openwrt/procd-standin.sh",
        "tests/openwrt/run-init.sh",
        "scripts/cross-build.sh",
        "scripts/release-ipk.sh",
    ];
    for file in files {
        let mut cmd = Command::new("shellcheck");
        cmd.current_dir(root());
        if file.starts_with("openwrt-package") {
            cmd.args(["-s", "dash"]);
        }
        let out = run(cmd.arg(file));
        assert!(out.status.success(), "shellcheck {file}:\n{}", text(&out));
    }
}

/// What the init script handed to procd (the JSON message `ubus call service set` would carry)
/// and the commands it ran.
struct Handed {
    message: Value,
    system: Vec<String>,
    calls: Vec<String>,
}

/// Builds the message from the stand-in's records (see tests/openwrt/procd-standin.sh).
fn parse_record(record: &str) -> Handed {
    let mut message = Value::Object(Map::new());
    let mut system = Vec::new();
    let mut calls = Vec::new();
    for line in record.lines() {
        let mut fields = line.split('\t');
        let (ty, value) = (fields.next().unwrap(), fields.next().unwrap());
        let path: Vec<&str> = fields.collect();
        match ty {
            "exec" => system.push(value.to_string()),
            "call" => calls.push(value.to_string()),
            _ => {
                let leaf = match ty {
                    "object" => Value::Object(Map::new()),
                    "array" => Value::Array(Vec::new()),
                    "string" | "trigger" => Value::String(value.to_string()),
                    "int" => Value::from(value.parse::<i64>().unwrap()),
                    "boolean" => Value::Bool(value == "true"),
                    other => panic!("unknown record type {other}"),
                };
                insert(&mut message, &path, leaf);
            }
        }
    }
    Handed {
        message,
        system,
        calls,
    }
}

fn insert(node: &mut Value, path: &[&str], leaf: Value) {
    let (first, rest) = path.split_first().unwrap();
    if *first == "[]" {
        let array = node.as_array_mut().expect("[] on a non-array");
        assert!(rest.is_empty());
        array.push(leaf);
        return;
    }
    let object = node.as_object_mut().expect("key on a non-object");
    if rest.is_empty() {
        // An object or array opened twice keeps what it holds, as json_add_object would not —
        // but the stand-in opens each once.
        if !(leaf.is_object() || leaf.is_array()) || !object.contains_key(*first) {
            object.insert(first.to_string(), leaf);
        }
        return;
    }
    let child = object
        .entry(first.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    insert(child, rest, leaf);
}

struct InitRun {
    dir: TempDir,
}

impl InitRun {
    /// A scratch root: the shipped config (monitor mode) at `etc/leakguard/leakguard.toml`,
    /// `ujail` present or not, the user present or not.
    fn new(name: &str, config_edit: &dyn Fn(String) -> String) -> InitRun {
        let dir = TempDir::new(name);
        fs::create_dir_all(dir.0.join("etc/leakguard")).unwrap();
        let etc = fs::read_to_string(root().join("etc/leakguard.toml")).unwrap();
        let shipped = etc.replace("\nmode = \"enforce\"\n", "\nmode = \"monitor\"\n");
        fs::write(
            dir.0.join("etc/leakguard/leakguard.toml"),
            config_edit(shipped),
        )
        .unwrap();
        InitRun { dir }
    }

    fn conf(&self) -> String {
        self.dir
            .0
            .join("etc/leakguard/leakguard.toml")
            .display()
            .to_string()
    }

    fn run(&self, action: &str, ujail: bool, user: bool) -> Handed {
        let record = self.dir.0.join(format!("record.{action}"));
        let _ = fs::remove_file(&record);
        let ujail_path = self.dir.0.join("ujail");
        if ujail {
            fs::write(&ujail_path, "#!/bin/sh\n").unwrap();
            run(Command::new("chmod").arg("0755").arg(&ujail_path));
        } else {
            let _ = fs::remove_file(&ujail_path);
        }
        let out = run(Command::new("sh")
            .arg(root().join("tests/openwrt/run-init.sh"))
            .arg(init_script())
            .arg(action)
            .env("PROCD_RECORD", &record)
            .env("LG_CONF", self.conf())
            .env("LG_UJAIL", &ujail_path)
            .env("LG_CAPS", pkg().join("files/capabilities.json"))
            .env("LG_USERS", if user { "root leakguard" } else { "root" }));
        assert!(out.status.success(), "run-init {action}: {}", text(&out));
        parse_record(&fs::read_to_string(&record).unwrap_or_default())
    }
}

#[test]
fn init_hands_procd_a_jailed_unprivileged_daemon() {
    let init = InitRun::new("jailed", &|c| c);
    let handed = init.run("start", true, true);
    let conf = init.conf();
    let caps = pkg().join("files/capabilities.json").display().to_string();
    let conf_dir = Path::new(&conf).parent().unwrap().display().to_string();
    let m = &handed.message;
    assert_eq!(m["name"], "leakguard");
    assert_eq!(m["script"], "/etc/init.d/leakguard");
    let instances = m["instances"].as_object().unwrap();
    assert_eq!(instances.len(), 1, "{m:#}");
    let i = &instances["leakguard"];
    assert_eq!(
        i["command"],
        json!(["/usr/sbin/leakguard", "run", "--config", conf])
    );
    // respawn with procd.sh's defaults (threshold 3600 s, 5 s timeout, 5 retries).
    assert_eq!(i["respawn"], json!(["3600", "5", "5"]));
    // A changed config is a SIGHUP (the daemon rereads it), not a restart.
    assert_eq!(i["file"], json!([conf]));
    assert_eq!(i["reload_signal"], json!(1));
    assert_eq!(i["stdout"], json!(true));
    assert_eq!(i["stderr"], json!(true));
    // Least privilege the way procd applies it: ujail, the user, CAP_NET_ADMIN only.
    assert_eq!(i["user"], "leakguard");
    assert_eq!(i["group"], "leakguard");
    assert_eq!(i["capabilities"], caps);
    assert_eq!(
        i["no_new_privs"],
        json!(true),
        "a bare `no_new_privs` is false in jshn"
    );
    let jail = &i["jail"];
    assert_eq!(jail["name"], "leakguard");
    assert_eq!(jail["log"], json!(true), "/dev/log for syslog");
    let mounts = jail["mount"].as_object().unwrap();
    let expected: BTreeMap<String, Value> = [
        (conf_dir.clone(), json!("0")),
        ("/usr/sbin/nft".to_string(), json!("0")),
        ("/var/run/leakguard".to_string(), json!("1")),
    ]
    .into_iter()
    .collect();
    let got: BTreeMap<String, Value> = mounts.clone().into_iter().collect();
    // The leases file is mounted only when it exists (it does on a router; maybe not here).
    let mut got_without_leases = got.clone();
    if Path::new("/tmp/dhcp.leases").exists() {
        assert_eq!(
            got_without_leases.remove("/tmp/dhcp.leases"),
            Some(json!("0"))
        );
    }
    assert_eq!(got_without_leases, expected);
    for flag in ["procfs", "sysfs", "ubus", "ronly"] {
        assert!(jail.get(flag).is_none(), "jail does not need {flag}");
    }
    // LuCI's apply (config.change for "leakguard") reloads the service.
    assert_eq!(
        m["triggers"],
        json!([
            "config.change package=leakguard run_script=/etc/init.d/leakguard,reload delay=1000"
        ])
    );
    assert_eq!(handed.calls, ["set"]);
    // The run directory belongs to the user; the config (device identifiers) to its group.
    assert!(handed
        .system
        .contains(&"mkdir -p /var/run/leakguard".to_string()));
    assert!(handed
        .system
        .contains(&"chown leakguard:leakguard /var/run/leakguard".to_string()));
    assert!(handed
        .system
        .contains(&format!("chown root:leakguard {conf}")));
    assert!(handed.system.contains(&format!("chmod 0640 {conf}")));
    assert!(
        !handed.system.iter().any(|s| s.starts_with("logger")),
        "{:?}",
        handed.system
    );
}

#[test]
fn init_follows_the_configured_paths() {
    // Any existing file stands for the leases file.
    let leases = root().join("Cargo.toml").display().to_string();
    let init = InitRun::new("paths", &|c| {
        c.replace(
            "run_dir = \"/var/run/leakguard\"",
            "run_dir = \"/tmp/lg-run\"  # moved",
        )
        .replace(
            "leases = \"/tmp/dhcp.leases\"",
            &format!("leases = \"{leases}\""),
        )
    });
    let handed = init.run("start", true, true);
    let mounts = &handed.message["instances"]["leakguard"]["jail"]["mount"];
    assert_eq!(mounts["/tmp/lg-run"], json!("1"), "{mounts:#}");
    assert_eq!(
        mounts[leases.as_str()],
        json!("0"),
        "the leases file, as configured"
    );
    assert!(mounts.get("/var/run/leakguard").is_none());
    assert!(handed.system.contains(&"mkdir -p /tmp/lg-run".to_string()));
}

#[test]
fn init_without_ujail_runs_the_daemon_as_root_and_says_so() {
    let init = InitRun::new("nojail", &|c| c);
    for (ujail, user) in [(false, true), (true, false)] {
        let handed = init.run("start", ujail, user);
        let i = &handed.message["instances"]["leakguard"];
        assert!(i.get("jail").is_none(), "{i:#}");
        assert!(
            i.get("user").is_none() && i.get("capabilities").is_none(),
            "{i:#}"
        );
        assert_eq!(i["command"][0], "/usr/sbin/leakguard");
        assert_eq!(i["reload_signal"], json!(1));
        let warned = handed
            .system
            .iter()
            .any(|s| s.starts_with("logger -t leakguard -p daemon.warn") && s.contains("as root"));
        assert!(warned, "{:?}", handed.system);
        assert!(!handed.system.iter().any(|s| s.starts_with("chown")));
    }
}

#[test]
fn stop_removes_the_table_named_in_the_config() {
    let init = InitRun::new("stop", &|c| c);
    let handed = init.run("stop", true, true);
    assert_eq!(handed.system, ["nft delete table inet leakguard"]);
    assert_eq!(handed.calls, ["delete leakguard "]);
    let renamed = InitRun::new("stop2", &|c| {
        c.replace("table = \"leakguard\"", "table = \"lg_test\"")
    });
    let handed = renamed.run("stop", true, true);
    assert_eq!(handed.system, ["nft delete table inet lg_test"]);
}

#[test]
fn feed_test_scripts_pass_against_the_binary() {
    let dir = TempDir::new("feedtest");
    let bin = dir.0.join("bin");
    fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(leakguard_bin(), bin.join("leakguard")).unwrap();
    let init = InitRun::new("feedconf", &|c| c);
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let version = cargo_version();
    for script in ["test-version.sh", "test.sh"] {
        let out = run(Command::new("sh")
            .arg(pkg().join(script))
            .args(["leakguard", &version])
            .env("PATH", &path)
            .env("LEAKGUARD_CONF", init.conf()));
        assert!(out.status.success(), "{script}: {}", text(&out));
        let said = text(&out);
        assert!(said.contains(&version), "{script}: {said}");
        if script == "test.sh" {
            assert!(said.contains(r#""kind":"imei""#), "{said}");
            assert!(said.contains(r#"mode = "monitor""#), "{said}");
        }
    }
    // Another package's name passes without testing anything, a wrong version fails.
    let out = run(Command::new("sh")
        .arg(pkg().join("test-version.sh"))
        .args(["leakguard", "9.9.9"])
        .env("PATH", &path));
    assert!(!out.status.success(), "{}", text(&out));
}

/// OpenWrt 24.10 architecture, Rust target, qemu-user.
const ARCHS: [(&str, &str, &str); 4] = [
    ("mips_24kc", "mips-unknown-linux-musl", "qemu-mips-static"),
    (
        "mipsel_24kc",
        "mipsel-unknown-linux-musl",
        "qemu-mipsel-static",
    ),
    (
        "arm_cortex-a7_neon-vfpv4",
        "armv7-unknown-linux-musleabihf",
        "qemu-arm-static",
    ),
    (
        "aarch64_cortex-a53",
        "aarch64-unknown-linux-musl",
        "qemu-aarch64-static",
    ),
];

/// `tar -tvzf` of a file: (mode string, owner/group, size, name) per member.
fn tar_list(file: &Path) -> Vec<(String, String, u64, String)> {
    let out = run(Command::new("tar")
        .args(["--numeric-owner", "--full-time", "-tvzf"])
        .arg(file)
        .env("TZ", "UTC"));
    assert!(
        out.status.success(),
        "tar -t {}: {}",
        file.display(),
        text(&out)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (
                f[0].to_string(),
                f[1].to_string(),
                f[2].parse().unwrap(),
                f[5..].join(" "),
            )
        })
        .collect()
}

fn tar_mtimes(file: &Path) -> Vec<String> {
    let out = run(Command::new("tar")
        .args(["--full-time", "-tvzf"])
        .arg(file)
        .env("TZ", "UTC"));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            format!("{} {}", f[3], f[4])
        })
        .collect()
}

#[test]
fn ipks_are_built_reproducibly_in_ipkg_build_format_and_run_under_qemu() {
    // The architectures whose cross build exists (CI builds them before the tests).
    let built: Vec<(&str, &str, &str)> = ARCHS
        .iter()
        .copied()
        .filter(|(_, triple, _)| {
            root()
                .join(format!("target/{triple}/router/leakguard"))
                .is_file()
        })
        .collect();
    // A plain `cargo test` on a machine without the cross builds skips with this message; CI
    // (.ci/run) builds all four with `scripts/cross-build.sh --check` before `cargo test`, so
    // there a missing one is a failure.
    if built.is_empty() {
        return skip(
            "no cross build in target/<triple>/router/leakguard for any of the four router \
             targets: run scripts/cross-build.sh first (CI does, before cargo test)",
        );
    }
    for (arch, triple, _) in ARCHS.iter().filter(|a| !built.contains(a)) {
        skip(&format!(
            "{arch}: no cross build (target/{triple}/router/leakguard): \
             run scripts/cross-build.sh {triple}"
        ));
    }
    let dir = TempDir::new("ipk");
    let epoch = "1764547200"; // 2025-12-01T00:00:00Z
    let build = |out: &Path| {
        let r = run(Command::new("bash")
            .arg(root().join("scripts/release-ipk.sh"))
            .arg("--out")
            .arg(out)
            .args(built.iter().map(|a| a.0))
            .env("SOURCE_DATE_EPOCH", epoch));
        assert!(r.status.success(), "release-ipk: {}", text(&r));
    };
    let (first, second) = (dir.0.join("a"), dir.0.join("b"));
    build(&first);
    build(&second);
    let version = cargo_version();
    let mk = fs::read_to_string(pkg().join("Makefile")).unwrap();
    let release = makefile_var(&mk, "PKG_RELEASE").unwrap();
    let full_version = format!("{version}-r{release}");
    let have_qemu = have("qemu-mips-static");
    if !have_qemu {
        skip("qemu-user-static is not installed: the binaries in the .ipks are not run");
    }

    for &(arch, triple, qemu) in &built {
        let name = format!("leakguard_{full_version}_{arch}.ipk");
        let ipk = first.join(&name);
        let again = fs::read(second.join(&name)).unwrap();
        assert!(fs::read(&ipk).unwrap() == again, "{name}: not reproducible");

        // Outer: a gzip'd tar (opkg reads only that form), three members in ipkg-build's order.
        let magic = &fs::read(&ipk).unwrap()[..2];
        assert_eq!(magic, [0x1f, 0x8b], "{name}: not gzip");
        let outer = tar_list(&ipk);
        let names: Vec<&str> = outer.iter().map(|m| m.3.as_str()).collect();
        assert_eq!(
            names,
            ["./debian-binary", "./data.tar.gz", "./control.tar.gz"],
            "{name}"
        );
        assert!(outer.iter().all(|m| m.1 == "0/0"), "{outer:?}");
        let stamp = "2025-12-01 00:00:00";
        assert!(
            tar_mtimes(&ipk).iter().all(|t| t == stamp),
            "{:?}",
            tar_mtimes(&ipk)
        );

        let unpack = dir.0.join(arch);
        fs::create_dir_all(unpack.join("data")).unwrap();
        let r = run(Command::new("tar")
            .arg("-xzf")
            .arg(&ipk)
            .arg("-C")
            .arg(&unpack));
        assert!(r.status.success(), "{}", text(&r));
        assert_eq!(
            fs::read_to_string(unpack.join("debian-binary")).unwrap(),
            "2.0\n"
        );

        // control, as the feed CI reads it.
        let r = run(Command::new("sh")
            .arg("-c")
            .arg("tar -xzOf \"$1\" ./control.tar.gz | tar xzf - ./control")
            .arg("sh")
            .arg(&ipk)
            .current_dir(&unpack));
        assert!(r.status.success(), "{}", text(&r));
        let control = fs::read_to_string(unpack.join("control")).unwrap();
        let fields: Vec<(&str, &str)> = control
            .lines()
            .filter(|l| !l.starts_with(' '))
            .map(|l| l.split_once(": ").unwrap_or((l.trim_end_matches(':'), "")))
            .collect();
        let keys: Vec<&str> = fields.iter().map(|f| f.0).collect();
        assert_eq!(
            keys,
            [
                "Package",
                "Version",
                "Depends",
                "Source",
                "SourceName",
                "License",
                "LicenseFiles",
                "Section",
                "Require-User",
                "SourceDateEpoch",
                "URL",
                "Maintainer",
                "Architecture",
                "Installed-Size",
                "Description"
            ],
            "{control}"
        );
        let field = |k: &str| fields.iter().find(|f| f.0 == k).unwrap().1;
        assert_eq!(field("Package"), "leakguard");
        assert_eq!(field("Version"), full_version);
        assert_eq!(field("Architecture"), arch);
        assert_eq!(field("License"), "GPL-2.0-only");
        assert_eq!(field("Require-User"), "leakguard:leakguard");
        assert_eq!(field("SourceDateEpoch"), epoch);
        assert_eq!(
            field("Depends"),
            "libc, kmod-nft-queue, kmod-nf-conntrack-netlink, kmod-nfnetlink-log, nftables-json, procd-ujail"
        );
        // The feed CI's PKG_VERSION: the version without the release.
        assert_eq!(full_version.rsplit_once('-').unwrap().0, version);
        assert!(
            control.contains("\nDescription:  leakguard sees the first bytes"),
            "{control}"
        );
        let data_size = run(Command::new("sh")
            .arg("-c")
            .arg("zcat data.tar.gz | wc -c")
            .current_dir(&unpack));
        let data_size: u64 = String::from_utf8(data_size.stdout)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert_eq!(field("Installed-Size"), data_size.to_string());

        let ctl = tar_list(&unpack.join("control.tar.gz"));
        let ctl_names: Vec<(&str, &str)> =
            ctl.iter().map(|m| (m.3.as_str(), m.0.as_str())).collect();
        assert_eq!(
            ctl_names,
            [
                ("./", "drwxr-xr-x"),
                ("./conffiles", "-rw-r--r--"),
                ("./control", "-rw-r--r--"),
                ("./postinst", "-rwxr-xr-x"),
                ("./prerm", "-rwxr-xr-x")
            ]
        );
        let r = run(Command::new("tar")
            .args([
                "-xzf",
                "control.tar.gz",
                "./conffiles",
                "./postinst",
                "./prerm",
            ])
            .current_dir(&unpack));
        assert!(r.status.success(), "{}", text(&r));
        assert_eq!(
            fs::read_to_string(unpack.join("conffiles")).unwrap(),
            "/etc/leakguard/leakguard.toml\n"
        );
        let postinst = fs::read_to_string(unpack.join("postinst")).unwrap();
        assert!(postinst.starts_with("#!/bin/sh\n"));
        assert!(postinst.contains(". ${IPKG_INSTROOT}/lib/functions.sh\ndefault_postinst $0 $@\n"));
        let prerm = fs::read_to_string(unpack.join("prerm")).unwrap();
        assert!(prerm.contains("default_prerm $0 $@\n"));

        let data = tar_list(&unpack.join("data.tar.gz"));
        let listing: Vec<(&str, &str, &str)> = data
            .iter()
            .map(|m| (m.3.as_str(), m.0.as_str(), m.1.as_str()))
            .collect();
        assert_eq!(
            listing,
            [
                ("./", "drwxr-xr-x", "0/0"),
                ("./etc/", "drwxr-xr-x", "0/0"),
                ("./etc/init.d/", "drwxr-xr-x", "0/0"),
                ("./etc/init.d/leakguard", "-rwxr-xr-x", "0/0"),
                ("./etc/leakguard/", "drwxr-xr-x", "0/0"),
                ("./etc/leakguard/leakguard.toml", "-rw-------", "0/0"),
                ("./usr/", "drwxr-xr-x", "0/0"),
                ("./usr/sbin/", "drwxr-xr-x", "0/0"),
                ("./usr/sbin/leakguard", "-rwxr-xr-x", "0/0"),
                ("./usr/share/", "drwxr-xr-x", "0/0"),
                ("./usr/share/leakguard/", "drwxr-xr-x", "0/0"),
                (
                    "./usr/share/leakguard/capabilities.json",
                    "-rw-r--r--",
                    "0/0"
                ),
            ],
            "{name}"
        );
        let r = run(Command::new("tar")
            .args(["-xzf", "../data.tar.gz"])
            .current_dir(unpack.join("data")));
        assert!(r.status.success(), "{}", text(&r));
        let data_root = unpack.join("data");
        // The binary is the cross build, the files are the package's.
        let bin = data_root.join("usr/sbin/leakguard");
        assert!(
            fs::read(&bin).unwrap()
                == fs::read(root().join(format!("target/{triple}/router/leakguard"))).unwrap()
        );
        assert_eq!(
            fs::read(data_root.join("etc/init.d/leakguard")).unwrap(),
            fs::read(init_script()).unwrap()
        );
        let conf = data_root.join("etc/leakguard/leakguard.toml");
        let conf_text = fs::read_to_string(&conf).unwrap();
        assert!(conf_text.lines().any(|l| l == r#"mode = "monitor""#));
        let check = run(Command::new(leakguard_bin()).arg("check-config").arg(&conf));
        assert!(check.status.success(), "{}", text(&check));

        if have_qemu {
            // The binary runs on its CPU, and the feed CI's test.sh passes with it on PATH.
            let out = run(Command::new(qemu).arg(&bin).arg("--version"));
            assert!(out.status.success(), "{arch}: {}", text(&out));
            let said = String::from_utf8_lossy(&out.stdout).to_string();
            assert!(
                said.split_whitespace().any(|w| w == version),
                "{arch}: {said}"
            );
            let path_dir = unpack.join("path");
            fs::create_dir_all(&path_dir).unwrap();
            let wrapper = path_dir.join("leakguard");
            fs::write(
                &wrapper,
                format!("#!/bin/sh\nexec {qemu} {} \"$@\"\n", bin.display()),
            )
            .unwrap();
            run(Command::new("chmod").arg("0755").arg(&wrapper));
            let path = format!("{}:{}", path_dir.display(), std::env::var("PATH").unwrap());
            let out = run(Command::new("sh")
                .arg(pkg().join("test.sh"))
                .args(["leakguard", &version])
                .env("PATH", &path)
                .env("LEAKGUARD_CONF", &conf));
            assert!(out.status.success(), "{arch} test.sh: {}", text(&out));
            eprintln!(
                "{arch}: {name} {} bytes; {said}",
                fs::metadata(&ipk).unwrap().len()
            );
        }
    }
}
