//! Starting `leakguard run --foreground` in a [`Topology`]'s router namespace, collecting its
//! syslog datagrams, asking it for its status — and the config the tests (and
//! benches/inline_vs_none.rs) give it.

use std::fs;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::topology::{poll, run_timeout, wait_deadline, CmdOut, Topology};

/// The binary under test; `LEAKGUARD_NETNS_BIN` overrides it (a release build, a stand-in).
pub fn bin() -> String {
    std::env::var("LEAKGUARD_NETNS_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_leakguard").to_string())
}

/// The knobs the tests turn; everything else is in [`config_text`].
#[derive(Clone, Debug)]
pub struct TestConfig {
    /// `enforce` or `monitor`.
    pub mode: &'static str,
    /// NFQUEUE number: different in every test.
    pub queue: u16,
    /// NFLOG group: different in every test.
    pub nflog_group: u16,
    /// `flow`, `device-destination` or `destination`.
    pub scope: &'static str,
    pub block_timeout: u32,
    pub tcp_reset: bool,
    /// Extra TOML appended at the end (e.g. a `[[device]]`).
    pub extra: String,
    /// `[history] path`: by default in the daemon's own run directory (never the system's).
    pub history_path: Option<PathBuf>,
    /// `[history] save_interval`, seconds.
    pub history_save: u32,
    /// Run as `nobody` with only CAP_NET_ADMIN (ambient, through `setpriv`).
    pub unprivileged: bool,
    /// A directory put first in the daemon's PATH (stand-ins for `nft` and friends).
    pub path_first: Option<PathBuf>,
    /// `[detect] max_flows`; the daemon's default when `None` (the benchmark sets it).
    pub max_flows: Option<u32>,
}

impl TestConfig {
    pub fn enforce(queue: u16) -> TestConfig {
        TestConfig {
            mode: "enforce",
            queue,
            nflog_group: queue + 100,
            scope: "device-destination",
            block_timeout: 120,
            tcp_reset: true,
            extra: String::new(),
            history_path: None,
            history_save: 1800,
            unprivileged: false,
            path_first: None,
            max_flows: None,
        }
    }

    pub fn monitor(queue: u16) -> TestConfig {
        TestConfig {
            mode: "monitor",
            ..TestConfig::enforce(queue)
        }
    }
}

/// The table name every test uses (`[firewall] table`).
pub const TABLE: &str = "leakguard";

/// The config file the daemon runs with. Keys follow `src/config.rs` (section = struct, key =
/// field); adjust here if the parser names them differently.
pub fn config_text(cfg: &TestConfig, syslog: &Path, run_dir: &Path) -> String {
    format!(
        r#"# written by tests/netns.rs
mode = "{mode}"

[network]
lan_prefixes = ["192.168.77.0/24", "fd77::/64"]
lan_interfaces = ["br-lan"]

[detect]
budget = 4096
{max_flows}
[firewall]
table = "{TABLE}"
queue = {queue}
backend = "auto"
scope = "{scope}"
block_timeout = {timeout}
tcp_reset = {reset}

[alert]
syslog = "{syslog}"
rate_limit = 0
recent = 50

[daemon]
run_dir = "{run_dir}"
nflog_group = {nflog}

[history]
path = "{history}"
save_interval = {save}
{extra}"#,
        mode = cfg.mode,
        queue = cfg.queue,
        scope = cfg.scope,
        timeout = cfg.block_timeout,
        reset = cfg.tcp_reset,
        syslog = syslog.display(),
        run_dir = run_dir.display(),
        nflog = cfg.nflog_group,
        history = cfg
            .history_path
            .clone()
            .unwrap_or_else(|| run_dir.join("history.json"))
            .display(),
        save = cfg.history_save,
        max_flows = cfg
            .max_flows
            .map(|n| format!("max_flows = {n}\n"))
            .unwrap_or_default(),
        extra = cfg.extra,
    )
}

/// A `[[device]]` with the test IMEI, for detection by known value (DNS names have no key).
pub fn device_with_imei(imei: &str) -> String {
    format!(
        r#"
[[device]]
name = "test phone"
imei = ["{imei}"]
"#
    )
}

/// A running daemon. Dropping it stops it (SIGTERM, then SIGKILL after 5 s).
pub struct Daemon {
    child: Option<Child>,
    pub pid: i32,
    pub config_path: PathBuf,
    pub stderr_path: PathBuf,
    pub run_dir: PathBuf,
    pub syslog_path: PathBuf,
    pub cfg: TestConfig,
    scratch: PathBuf,
    syslog: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    collector: Option<JoinHandle<()>>,
    exit: Option<ExitStatus>,
}

impl Daemon {
    /// Writes the config, binds the syslog socket, starts the daemon in the router namespace and
    /// waits (10 s at most) until its table exists and its control socket answers.
    pub fn start(topo: &Topology, cfg: TestConfig) -> Daemon {
        let n = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = topo.dir.join(format!("daemon-{}-{n}", cfg.queue));
        fs::create_dir_all(&dir).expect("daemon directory");
        let syslog_path = dir.join("log.sock");
        let run_dir = dir.join("run");
        let config_path = dir.join("leakguard.toml");
        let stderr_path = dir.join("stderr.log");
        fs::write(&config_path, config_text(&cfg, &syslog_path, &run_dir)).expect("config");

        // The syslog socket exists before the daemon starts, as /dev/log does on a router.
        let sock = UnixDatagram::bind(&syslog_path).expect("bind the syslog socket");
        sock.set_read_timeout(Some(Duration::from_millis(100)))
            .expect("timeout");
        let syslog = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let collector = {
            let (syslog, stop) = (Arc::clone(&syslog), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 65536];
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(n) = sock.recv(&mut buf) {
                        let line = String::from_utf8_lossy(&buf[..n]).into_owned();
                        syslog.lock().unwrap_or_else(|e| e.into_inner()).push(line);
                    }
                }
            })
        };

        let mut daemon = Daemon {
            child: None,
            pid: 0,
            config_path,
            stderr_path,
            run_dir,
            syslog_path,
            cfg,
            scratch: topo.dir.clone(),
            syslog,
            stop,
            collector: Some(collector),
            exit: None,
        };
        if daemon.cfg.unprivileged {
            // What the daemon writes must be writable by nobody: its run directory and the
            // syslog socket (as /dev/log is on a router).
            fs::create_dir_all(&daemon.run_dir).expect("run directory");
            let nobody = Some(nix::unistd::Uid::from_raw(65534));
            nix::unistd::chown(&daemon.run_dir, nobody, None).expect("chown run directory");
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&daemon.syslog_path, fs::Permissions::from_mode(0o666))
                .expect("chmod syslog socket");
        }
        daemon.spawn(topo);
        daemon
    }

    /// Starts the daemon process (again: after it died, with the same config, run directory
    /// and syslog socket) and waits until it is ready.
    pub fn spawn(&mut self, topo: &Topology) {
        let stderr = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.stderr_path)
            .expect("stderr file");
        let stdout = stderr.try_clone().expect("stderr file");
        let config_arg = self.config_path.display().to_string();
        let bin = bin();
        let mut args: Vec<&str> = vec!["netns", "exec", &topo.router];
        if self.cfg.unprivileged {
            args.extend([
                "setpriv",
                "--reuid=nobody",
                "--regid=nogroup",
                "--clear-groups",
                "--inh-caps=-all,+net_admin",
                "--ambient-caps=-all,+net_admin",
                "--bounding-set=-all,+net_admin",
                "--no-new-privs",
            ]);
        }
        args.extend([bin.as_str(), "run", "--config", &config_arg, "--foreground"]);
        let mut command = Command::new("ip");
        if let Some(dir) = &self.cfg.path_first {
            let path = std::env::var("PATH").unwrap_or_default();
            command.env("PATH", format!("{}:{path}", dir.display()));
        }
        let child = command
            .args(&args)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("start leakguard");
        // `ip netns exec` and `setpriv` exec the command: this pid is the daemon's.
        self.pid = child.id() as i32;
        self.child = Some(child);
        self.exit = None;
        let (pid, daemon) = (self.pid, self);
        let start = Instant::now();
        let ready = poll(Duration::from_secs(10), || {
            if !daemon.alive() {
                return Some(false);
            }
            (topo.nft_table(TABLE).ok() && daemon.status_json().is_ok()).then_some(true)
        });
        match ready {
            Some(true) => eprintln!("netns: daemon {pid} ready after {:.2?}", start.elapsed()),
            Some(false) => panic!(
                "the daemon exited during start-up ({:?}){}",
                daemon.exit,
                daemon.context()
            ),
            None => panic!(
                "the daemon was not ready within 10 s (table inet {TABLE}: {}; status: {:?}){}",
                topo.nft_table(TABLE),
                daemon.status_json().err(),
                daemon.context()
            ),
        }
    }

    /// `leakguard status` (text) with the daemon's config: its output and exit status.
    pub fn status_text(&self) -> CmdOut {
        self.cli(&["status"])
    }

    /// Rewrites the config file (same syslog socket and run directory) for a SIGHUP reload.
    pub fn rewrite_config(&mut self, cfg: TestConfig) {
        let text = config_text(&cfg, &self.syslog_path, &self.run_dir);
        fs::write(&self.config_path, text).expect("rewrite config");
        self.cfg = cfg;
    }

    /// Whether the daemon process is still running (records its exit status if not).
    pub fn alive(&mut self) -> bool {
        if self.exit.is_some() {
            return false;
        }
        match self.child.as_mut().map(|c| c.try_wait()) {
            Some(Ok(None)) => true,
            Some(Ok(Some(s))) => {
                self.exit = Some(s);
                false
            }
            _ => false,
        }
    }

    pub fn syslog_lines(&self) -> Vec<String> {
        self.syslog
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn stderr_text(&self) -> String {
        fs::read(&self.stderr_path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// Waits (at most `timeout`) for a syslog line containing every one of `needles`.
    pub fn wait_syslog(&self, needles: &[&str], timeout: Duration) -> Option<String> {
        poll(timeout, || {
            self.syslog_lines()
                .into_iter()
                .find(|l| needles.iter().all(|n| l.contains(n)))
        })
    }

    pub fn cli(&self, args: &[&str]) -> CmdOut {
        let config = self.config_path.display().to_string();
        let mut all: Vec<&str> = args.to_vec();
        all.extend_from_slice(&["--config", &config]);
        run_timeout(&self.scratch, &bin(), &all, Duration::from_secs(5))
    }

    /// `leakguard status --json --config CFG`, parsed.
    pub fn status_json(&self) -> Result<serde_json::Value, String> {
        let out = self.cli(&["status", "--json"]);
        if !out.ok() {
            return Err(format!("leakguard status --json: {out}"));
        }
        serde_json::from_str(&out.stdout).map_err(|e| format!("status is not JSON ({e}): {out}"))
    }

    /// The status, or a panic with the context.
    pub fn status(&self) -> serde_json::Value {
        self.status_json()
            .unwrap_or_else(|e| panic!("no status: {e}{}", self.context()))
    }

    /// `<run_dir>/status.json` as written by the daemon.
    pub fn status_file(&self) -> String {
        fs::read_to_string(self.run_dir.join("status.json")).unwrap_or_default()
    }

    /// `leakguard unblock all`.
    pub fn unblock_all(&self) -> CmdOut {
        self.cli(&["unblock", "all"])
    }

    pub fn signal(&self, sig: Signal) {
        if self.exit.is_none() {
            let _ = kill(Pid::from_raw(self.pid), sig);
        }
    }

    /// Sends `sig` and waits for the exit at most `timeout`.
    pub fn signal_and_wait(&mut self, sig: Signal, timeout: Duration) -> Option<ExitStatus> {
        self.signal(sig);
        let status = self.child.as_mut().and_then(|c| wait_deadline(c, timeout));
        if status.is_some() {
            self.exit = status;
        }
        status
    }

    /// The daemon's stderr, its syslog lines and its status, for assertion messages.
    pub fn context(&self) -> String {
        let status = match self.status_json() {
            Ok(v) => serde_json::to_string_pretty(&v).unwrap_or_default(),
            Err(e) => e,
        };
        format!(
            "\n--- daemon pid {} exit {:?}, config {}:\n{}\n--- daemon stderr:\n{}\n--- syslog ({} lines):\n{}\n--- status:\n{}\n---",
            self.pid,
            self.exit,
            self.config_path.display(),
            fs::read_to_string(&self.config_path).unwrap_or_default(),
            self.stderr_text(),
            self.syslog_lines().len(),
            self.syslog_lines().join("\n"),
            status
        )
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            if self.exit.is_none() {
                let _ = kill(Pid::from_raw(self.pid), Signal::SIGTERM);
                if wait_deadline(child, Duration::from_secs(5)).is_none() {
                    let _ = child.kill();
                    let _ = child.wait();
                }
            }
        }
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.collector.take() {
            let _ = h.join();
        }
    }
}
