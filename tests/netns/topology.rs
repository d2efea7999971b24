//! Three network namespaces — LAN client, router, WAN servers — built for one test (or one run of
//! benches/inline_vs_none.rs) and torn down by [`Topology`]'s `Drop`, even when it panics.
//!
//! ```text
//!  LAN ns                 ROUTER ns                               WAN ns
//!  lan0 192.168.77.2/24 ─ br-lan 192.168.77.1/24   wan 198.51.100.1/24 ─ wan0 198.51.100.2/24
//!       fd77::2/64               fd77::1/64 dnsmasq    fd99::1/64            fd99::2/64
//!                                (forwarding v4+v6)                      tool.py http :8080 (GET /big),
//!                                                                        sink :9000, udp :5683
//! ```
//!
//! Every address lives inside these namespaces: nothing a test sends can leave the machine. Every
//! command runs with a deadline (see [`run_timeout`]); nothing here waits forever.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub const LAN_IP: &str = "192.168.77.2";
pub const LAN_IP6: &str = "fd77::2";
pub const ROUTER_LAN_IP: &str = "192.168.77.1";
pub const ROUTER_LAN_IP6: &str = "fd77::1";
pub const WAN_IP: &str = "198.51.100.2";
pub const WAN_IP6: &str = "fd99::2";
pub const HTTP_PORT: u16 = 8080;
pub const SINK_PORT: u16 = 9000;
pub const UDP_PORT: u16 = 5683;

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The outcome of a command: `status` is `None` when it ran out of time (it was killed).
#[derive(Debug)]
pub struct CmdOut {
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl CmdOut {
    pub fn ok(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    /// The exit code, `-1` for a signal, `None` for a timeout.
    pub fn code(&self) -> Option<i32> {
        self.status.map(|s| s.code().unwrap_or(-1))
    }
}

impl std::fmt::Display for CmdOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?} after {:.2?}\n  stdout: {}\n  stderr: {}",
            self.code(),
            self.elapsed,
            self.stdout.trim_end(),
            self.stderr.trim_end()
        )
    }
}

/// Finds `tool` in `PATH`.
pub fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

/// What a namespace run lacks of root and `tools` (by name, for the skip message): one check
/// for the tests and the inline bench.
pub fn missing(tools: &[&str]) -> Vec<String> {
    let mut missing = Vec::new();
    if !nix::unistd::geteuid().is_root() {
        missing.push("root".to_string());
    }
    for tool in tools {
        if which(tool).is_none() {
            missing.push(tool.to_string());
        }
    }
    missing
}

/// Runs `program args` with its output captured in files under `scratch` (a pipe could fill and
/// block the child), killing it after `timeout`.
pub fn run_timeout(scratch: &Path, program: &str, args: &[&str], timeout: Duration) -> CmdOut {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let out_path = scratch.join(format!(".cmd-{n}.out"));
    let err_path = scratch.join(format!(".cmd-{n}.err"));
    let start = Instant::now();
    let spawned = (|| {
        let out = fs::File::create(&out_path)?;
        let err = fs::File::create(&err_path)?;
        Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
    })();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            return CmdOut {
                status: None,
                stdout: String::new(),
                stderr: format!("cannot start {program}: {e}"),
                elapsed: start.elapsed(),
            }
        }
    };
    let status = wait_deadline(&mut child, timeout);
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let read = |p: &Path| {
        let text = fs::read(p)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let _ = fs::remove_file(p);
        text
    };
    CmdOut {
        status,
        stdout: read(&out_path),
        stderr: read(&err_path),
        elapsed: start.elapsed(),
    }
}

/// Waits for `child` at most `timeout`; `None` if it is still running.
pub fn wait_deadline(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(s)) => return Some(s),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => return None,
        }
    }
}

/// Polls `f` every 50 ms until it returns `Some`, at most `timeout`.
pub fn poll<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Deletes namespaces left by an earlier run of these tests that was killed (its pid is gone).
fn remove_stale_namespaces(scratch: &Path) {
    let out = run_timeout(scratch, "ip", &["netns", "list"], Duration::from_secs(5));
    for line in out.stdout.lines() {
        let Some(name) = line.split_whitespace().next() else {
            continue;
        };
        let Some(rest) = name.strip_prefix("lgt") else {
            continue;
        };
        let Some(pid) = rest.split('x').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            kill_namespace_pids(scratch, name);
            let _ = run_timeout(
                scratch,
                "ip",
                &["netns", "del", name],
                Duration::from_secs(5),
            );
        }
    }
}

fn kill_namespace_pids(scratch: &Path, ns: &str) {
    let out = run_timeout(
        scratch,
        "ip",
        &["netns", "pids", ns],
        Duration::from_secs(5),
    );
    for pid in out
        .stdout
        .split_whitespace()
        .filter_map(|p| p.parse::<i32>().ok())
    {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

/// The three namespaces, the servers in them and a scratch directory.
pub struct Topology {
    pub lan: String,
    pub router: String,
    pub wan: String,
    /// Scratch directory of this test (configs, records, logs).
    pub dir: PathBuf,
    /// What the WAN servers received (see tests/netns/tool.py).
    pub wan_dir: PathBuf,
    /// dnsmasq's query log.
    pub dnsmasq_log: PathBuf,
    python: String,
    tool: String,
    namespaces: Vec<String>,
    children: Vec<Child>,
}

impl Topology {
    /// Builds the namespaces and starts dnsmasq and the WAN servers. Panics (after cleaning up)
    /// when a step fails.
    pub fn new(tag: &str) -> Topology {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id();
        let dir = std::env::temp_dir().join(format!("leakguard-netns-{pid}-{n}-{tag}"));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("scratch directory");
        remove_stale_namespaces(&dir);
        let base = format!("lgt{pid}x{n}");
        let wan_dir = dir.join("wan");
        fs::create_dir_all(&wan_dir).expect("wan directory");
        let python = which("python3")
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "python3".into());
        let mut topo = Topology {
            lan: format!("{base}l"),
            router: format!("{base}r"),
            wan: format!("{base}w"),
            dnsmasq_log: dir.join("dnsmasq.log"),
            dir,
            wan_dir,
            python,
            tool: concat!(env!("CARGO_MANIFEST_DIR"), "/tests/netns/tool.py").to_string(),
            namespaces: Vec::new(),
            children: Vec::new(),
        };
        topo.build();
        topo
    }

    fn must(&self, args: &[&str]) {
        let out = run_timeout(&self.dir, "ip", args, Duration::from_secs(10));
        assert!(out.ok(), "topology: `ip {}` failed: {out}", args.join(" "));
    }

    fn build(&mut self) {
        let (l, r, w) = (self.lan.clone(), self.router.clone(), self.wan.clone());
        for ns in [&l, &r, &w] {
            self.must(&["netns", "add", ns]);
            self.namespaces.push(ns.clone());
            self.must(&["-n", ns, "link", "set", "lo", "up"]);
        }
        // The veths are created inside the namespaces: no name ever appears in the host's.
        self.must(&[
            "-n", &l, "link", "add", "lan0", "type", "veth", "peer", "name", "br-lan", "netns", &r,
        ]);
        self.must(&[
            "-n", &r, "link", "add", "wan", "type", "veth", "peer", "name", "wan0", "netns", &w,
        ]);
        for (ns, dev, v4, v6) in [
            (&l, "lan0", "192.168.77.2/24", "fd77::2/64"),
            (&r, "br-lan", "192.168.77.1/24", "fd77::1/64"),
            (&r, "wan", "198.51.100.1/24", "fd99::1/64"),
            (&w, "wan0", "198.51.100.2/24", "fd99::2/64"),
        ] {
            self.must(&["-n", ns, "addr", "add", v4, "dev", dev]);
            self.must(&["-n", ns, "-6", "addr", "add", v6, "dev", dev, "nodad"]);
            self.must(&["-n", ns, "link", "set", dev, "up"]);
        }
        self.must(&["-n", &l, "route", "add", "default", "via", ROUTER_LAN_IP]);
        self.must(&[
            "-n",
            &l,
            "-6",
            "route",
            "add",
            "default",
            "via",
            ROUTER_LAN_IP6,
        ]);
        self.must(&["-n", &w, "route", "add", "default", "via", "198.51.100.1"]);
        self.must(&["-n", &w, "-6", "route", "add", "default", "via", "fd99::1"]);
        for key in ["net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"] {
            let out = self.exec(&r, &["sysctl", "-w", key], Duration::from_secs(5));
            assert!(out.ok(), "topology: sysctl {key}: {out}");
        }

        let leases = self.dir.join("dnsmasq.leases").display().to_string();
        let pidfile = self.dir.join("dnsmasq.pid").display().to_string();
        let log = self.dnsmasq_log.display().to_string();
        let dnsmasq = which("dnsmasq")
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "dnsmasq".into());
        self.spawn(
            &r,
            "dnsmasq",
            &[
                &dnsmasq,
                "--no-daemon",
                "--conf-file=/dev/null",
                "--interface=br-lan",
                "--bind-interfaces",
                "--no-resolv",
                "--no-hosts",
                "--user=root",
                "--address=/zzhc.vnet.cn/198.51.100.2",
                "--address=/zzhc.vnet.cn/fd99::2",
                "--log-queries",
                &format!("--log-facility={log}"),
                &format!("--dhcp-leasefile={leases}"),
                &format!("--pid-file={pidfile}"),
            ],
        );
        for (name, port) in [("http", HTTP_PORT), ("sink", SINK_PORT), ("udp", UDP_PORT)] {
            self.start_server(name, port);
        }
        // dnsmasq answers once bound; wait for it with a real query.
        let answered = poll(Duration::from_secs(10), || {
            let out = self.dns_query(ROUTER_LAN_IP, "zzhc.vnet.cn");
            out.stdout.contains("ancount=1").then_some(())
        });
        assert!(
            answered.is_some(),
            "topology: dnsmasq does not answer on {ROUTER_LAN_IP}:\n{}\n{}",
            self.log_of("dnsmasq"),
            fs::read_to_string(&self.dnsmasq_log).unwrap_or_default()
        );
    }

    /// Starts tests/netns/tool.py's server `name` (`http`, `sink`, `udp`, `echo`, `discard`) on
    /// `port` in the WAN namespace and waits until it listens; killed on drop.
    pub fn start_server(&mut self, name: &str, port: u16) {
        let ready = self.dir.join(format!("{name}.ready"));
        let (python, tool) = (self.python.clone(), self.tool.clone());
        let (wan, wan_dir) = (self.wan.clone(), self.wan_dir.display().to_string());
        self.spawn(
            &wan,
            name,
            &[
                &python,
                &tool,
                name,
                &port.to_string(),
                &wan_dir,
                &ready.display().to_string(),
            ],
        );
        let up = poll(Duration::from_secs(10), || ready.exists().then_some(()));
        assert!(
            up.is_some(),
            "topology: the WAN {name} server did not start:\n{}",
            self.log_of(name)
        );
    }

    /// Starts a long-running `args` in `ns`, its output in `<dir>/<name>.log`; killed on drop.
    pub fn spawn(&mut self, ns: &str, name: &str, args: &[&str]) {
        let log = self.dir.join(format!("{name}.log"));
        let file = fs::File::create(&log).expect("log file");
        let err = file.try_clone().expect("log file");
        let child = Command::new("ip")
            .args(["netns", "exec", ns])
            .args(args)
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("topology: cannot start {name}: {e}"));
        self.children.push(child);
    }

    /// Starts `args` in `ns` in the background and returns it; the caller waits for it (it is
    /// still killed when the namespace goes away).
    pub fn spawn_background(&self, ns: &str, name: &str, args: &[&str]) -> Child {
        let log = self.dir.join(format!("{name}.log"));
        let file = fs::File::create(&log).expect("log file");
        let err = file.try_clone().expect("log file");
        Command::new("ip")
            .args(["netns", "exec", ns])
            .args(args)
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"))
    }

    /// The output of a process started with [`Self::spawn`] or [`Self::spawn_background`].
    pub fn log_of(&self, name: &str) -> String {
        fs::read_to_string(self.dir.join(format!("{name}.log"))).unwrap_or_default()
    }

    /// Runs `args` in `ns` with a deadline.
    pub fn exec(&self, ns: &str, args: &[&str], timeout: Duration) -> CmdOut {
        let mut all = vec!["netns", "exec", ns];
        all.extend_from_slice(args);
        run_timeout(&self.dir, "ip", &all, timeout)
    }

    /// Runs tests/netns/tool.py with `args` in `ns`.
    pub fn tool(&self, ns: &str, args: &[&str], timeout: Duration) -> CmdOut {
        let mut all = vec![self.python.as_str(), self.tool.as_str()];
        all.extend_from_slice(args);
        self.exec(ns, &all, timeout)
    }

    /// Starts tests/netns/tool.py with `args` in `ns` in the background; its output goes to
    /// `<dir>/<name>.log` (see [`Self::log_of`]).
    pub fn tool_background(&self, ns: &str, name: &str, args: &[&str]) -> Child {
        let mut all = vec![self.python.as_str(), self.tool.as_str()];
        all.extend_from_slice(args);
        self.spawn_background(ns, name, &all)
    }

    /// `curl -m 5` in the LAN namespace POSTing `body` as JSON to `url`; stdout is the HTTP code.
    pub fn post(&self, url: &str, body: &str) -> CmdOut {
        self.post_with(url, body, &[])
    }

    /// [`Self::post`] with more curl options (`--interface lan1`, `-H "Host: …"`).
    pub fn post_with(&self, url: &str, body: &str, extra: &[&str]) -> CmdOut {
        let mut args = vec![
            "curl",
            "-sS",
            "-g",
            "-m",
            "5",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
        ];
        if url.contains('[') {
            args.push("-6");
        }
        args.extend_from_slice(extra);
        args.extend_from_slice(&[
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            body,
            url,
        ]);
        self.exec(&self.lan, &args, Duration::from_secs(15))
    }

    /// Whether a [`Self::post`] got its 200.
    pub fn post_ok(out: &CmdOut) -> bool {
        out.ok() && out.stdout.trim() == "200"
    }

    /// A DNS A query from the LAN to `server`: `rcode=N ancount=N` or `timeout`.
    pub fn dns_query(&self, server: &str, name: &str) -> CmdOut {
        self.tool(&self.lan, &["dns", server, name], Duration::from_secs(10))
    }

    /// The bodies the WAN HTTP server received completely.
    pub fn http_bodies(&self) -> Vec<String> {
        fs::read_to_string(self.wan_dir.join("http.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v.get("body")?.as_str().map(str::to_string))
            .collect()
    }

    /// Whether any WAN server (HTTP request lines and bodies, TCP sink, UDP recorder) received
    /// `needle`.
    pub fn wan_received(&self, needle: &str) -> bool {
        let hex: String = needle.bytes().map(|b| format!("{b:02x}")).collect();
        let Ok(entries) = fs::read_dir(&self.wan_dir) else {
            return false;
        };
        entries.flatten().any(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            if name == "big.bin" {
                return false;
            }
            let data = fs::read(e.path()).unwrap_or_default();
            contains(&data, needle.as_bytes())
                || (name == "udp.txt" && contains(&data, hex.as_bytes()))
        })
    }

    /// What the WAN servers recorded, shortened, for assertion messages.
    pub fn wan_summary(&self) -> String {
        let mut s = String::new();
        if let Ok(entries) = fs::read_dir(&self.wan_dir) {
            for e in entries.flatten() {
                let data = fs::read(e.path()).unwrap_or_default();
                let shown = String::from_utf8_lossy(&data[..data.len().min(600)]).into_owned();
                s.push_str(&format!(
                    "  {} ({} bytes): {}\n",
                    e.file_name().to_string_lossy(),
                    data.len(),
                    shown.escape_debug()
                ));
            }
        }
        s
    }

    /// The TCP sink's per-connection records, in connection order.
    pub fn sink_records(&self) -> Vec<Vec<u8>> {
        let mut v: Vec<(usize, Vec<u8>)> = fs::read_dir(&self.wan_dir)
            .map(|it| {
                it.flatten()
                    .filter_map(|e| {
                        let name = e.file_name().to_string_lossy().into_owned();
                        let n = name
                            .strip_prefix("sink-")?
                            .strip_suffix(".bin")?
                            .parse()
                            .ok()?;
                        Some((n, fs::read(e.path()).ok()?))
                    })
                    .collect()
            })
            .unwrap_or_default();
        v.sort_by_key(|(n, _)| *n);
        v.into_iter().map(|(_, d)| d).collect()
    }

    /// The MAC address of the router's `br-lan`.
    pub fn router_lan_mac(&self) -> String {
        let out = run_timeout(
            &self.dir,
            "ip",
            &["-n", &self.router, "link", "show", "br-lan"],
            Duration::from_secs(5),
        );
        out.stdout
            .split_whitespace()
            .skip_while(|w| *w != "link/ether")
            .nth(1)
            .unwrap_or_else(|| panic!("no MAC for br-lan: {out}"))
            .to_string()
    }

    /// `nft list table inet <table>` in the router namespace.
    pub fn nft_table(&self, table: &str) -> CmdOut {
        self.exec(
            &self.router,
            &["nft", "list", "table", "inet", table],
            Duration::from_secs(5),
        )
    }

    /// `nft list ruleset` in the router namespace.
    pub fn nft_ruleset(&self) -> CmdOut {
        self.exec(
            &self.router,
            &["nft", "list", "ruleset"],
            Duration::from_secs(5),
        )
    }
}

impl Drop for Topology {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        for ns in &self.namespaces {
            kill_namespace_pids(&self.dir, ns);
        }
        for ns in &self.namespaces {
            let _ = run_timeout(
                &self.dir,
                "ip",
                &["netns", "del", ns],
                Duration::from_secs(10),
            );
        }
        if std::thread::panicking() || std::env::var_os("LEAKGUARD_NETNS_KEEP").is_some() {
            eprintln!("netns: kept scratch directory {}", self.dir.display());
        } else {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// `len` deterministic pseudo-random bytes (xorshift), for the 10 MB transfers.
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut v = Vec::with_capacity(len + 8);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(len);
    v
}
