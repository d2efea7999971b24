//! What the inline daemon costs a router: the LAN/ROUTER/WAN namespaces of tests/netns.rs (the
//! same harness: tests/netns/topology.rs, daemon.rs, tool.py), measured side by side in one run
//! without and with `leakguard run --foreground` in the router namespace.
//!
//! ```text
//! cargo bench --bench inline_vs_none -- [--cycles 3] [--modes none,daemon,ct,rules] [--skip-flows]
//! ```
//!
//! As root. `LEAKGUARD_NETNS_BIN=target/router/leakguard` measures another build than the
//! bench's own (`target/release/leakguard`); `LEAKGUARD_NETNS_KEEP=1` keeps the scratch directory.
//!
//! Rounds alternate so that drift in a shared machine's load hits every side alike: each cycle
//! runs one round per mode, by default in the order
//!
//! - `none`: bare forwarding, no ruleset, so no conntrack in the router namespace (without),
//! - `daemon`: the daemon running (with),
//! - `ct`: a minimal stateful firewall (`ct state established,related accept`): conntrack on,
//!   as fw4 has it on every OpenWrt router, so daemon/ct is the daemon's cost there,
//! - `rules`: the daemon's own nft table and xt NFQUEUE rules restored with no daemon (the queue
//!   rule has `bypass`, so packets pass): the kernel's share of the daemon's cost.
//!
//! Each round measures
//!
//! 1. iperf3 bulk TCP LAN→WAN (`-t 5`) and WAN→LAN (`-R`),
//! 2. `wrk -t2 -c32 -d5s` with `Connection: close` against nginx in WAN: every request is a
//!    new connection, so every request's first data packet is queued to the daemon,
//! 3. the RTT of N UDP datagrams to an echo server in WAN, each from a new source port (a new
//!    flow, so each one is queued).
//!
//! Then, with a fresh daemon (`[detect] max_flows = 16384`):
//!
//! 4. 16,384 distinct UDP flows from 32 LAN addresses: VmRSS and flows_tracked,
//! 5. 100,000 more new flows: flows_tracked stays ≤ 16384, flows_evicted, VmRSS again.
//!
//! It prints each round as it ends, then tables: per round, per cycle (ratios of rates,
//! differences of round trips), the medians with the goals, and the flow table.
//!
//! Needs ip, nft, conntrack, iptables, dnsmasq, python3 (the harness) and iperf3, wrk, nginx
//! (`apt-get install iperf3 wrk nginx-light`); without them, or without root, it says why and
//! exits 0. Every address is inside the namespaces the harness creates and deletes (on drop, and
//! a killed run's are deleted by the next one); every command has a deadline.

#[path = "../tests/netns/daemon.rs"]
#[allow(dead_code)]
mod daemon;
#[path = "../tests/netns/topology.rs"]
#[allow(dead_code)]
mod topology;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::time::{Duration, Instant};

use daemon::{Daemon, TestConfig, TABLE};
use topology::{poll, CmdOut, Topology, LAN_IP, WAN_IP};

/// The WAN servers the bench adds to the harness's (its HTTP server has 8080, its UDP recorder
/// 5683).
const IPERF_PORT: u16 = 5201;
const NGINX_PORT: u16 = 8081;
const ECHO_PORT: u16 = 5684;
const DISCARD_PORT: u16 = 5685;
const QUEUE: u16 = 41;
const MAX_FLOWS: u32 = 16384;
/// Extra LAN addresses for the flow-table measures: 192.168.77.10 .. .41.
const EXTRA_ADDRS: usize = 32;
/// Source ports: the LAN's ephemeral range is moved above these (wrk and iperf3 use it).
const LATENCY_PORT_BASE: u32 = 1024; // round k uses LATENCY_PORT_BASE + k * latency_n ..
const FLOW_PORT_BASE: u32 = 26000; // 16384 flows: 32 addresses × 512 ports
const FLOOD_PORT_BASE: u32 = 27000; // 100,032 flows: 32 addresses × 3126 ports
const EPHEMERAL: &str = "32768 65000";
/// /proc/PID/stat counts CPU time in USER_HZ, 100 on every Linux ABI.
const CLK_TCK: f64 = 100.0;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Mode {
    None,
    Daemon,
    Ct,
    Rules,
}

impl Mode {
    fn parse(s: &str) -> Option<Mode> {
        Some(match s {
            "none" => Mode::None,
            "daemon" => Mode::Daemon,
            "ct" => Mode::Ct,
            "rules" => Mode::Rules,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Mode::None => "none",
            Mode::Daemon => "daemon",
            Mode::Ct => "conntrack fw",
            Mode::Rules => "daemon's rules, no daemon",
        }
    }
}

struct Args {
    cycles: usize,
    modes: Vec<Mode>,
    iperf_time: u32,
    wrk_time: u32,
    latency_n: u32,
    settle: f64,
    skip_flows: bool,
}

const USAGE: &str = "cargo bench --bench inline_vs_none -- [--cycles N (default 3; 0: only the flow-table measures)] \
[--modes none,daemon,ct,rules] [--iperf-time S] [--wrk-time S] [--latency-n N] [--settle S] [--skip-flows]";

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        cycles: 3,
        modes: vec![Mode::None, Mode::Daemon, Mode::Ct, Mode::Rules],
        iperf_time: 5,
        wrk_time: 5,
        latency_n: 2000,
        settle: 1.0,
        skip_flows: false,
    };
    fn num<T: std::str::FromStr>(name: &str, v: Option<String>) -> Result<T, String> {
        let v = v.ok_or(format!("{name} needs a value"))?;
        v.parse().map_err(|_| format!("{name}: not a number: {v}"))
    }
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            // What `cargo bench` passes to every bench.
            "--bench" => {}
            "--cycles" => a.cycles = num(&arg, it.next())?,
            "--iperf-time" => a.iperf_time = num(&arg, it.next())?,
            "--wrk-time" => a.wrk_time = num(&arg, it.next())?,
            "--latency-n" => a.latency_n = num(&arg, it.next())?,
            "--settle" => a.settle = num(&arg, it.next())?,
            "--skip-flows" => a.skip_flows = true,
            "--modes" => {
                let v = it.next().ok_or("--modes needs a value")?;
                a.modes = v
                    .split(',')
                    .map(str::trim)
                    .filter(|m| !m.is_empty())
                    .map(|m| Mode::parse(m).ok_or(format!("--modes: unknown mode {m}")))
                    .collect::<Result<_, _>>()?;
                if a.modes.is_empty() {
                    return Err("--modes: none given".into());
                }
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let rounds = (a.cycles * a.modes.len()) as u32;
    if LATENCY_PORT_BASE + rounds * a.latency_n > FLOW_PORT_BASE {
        return Err("--cycles × modes × --latency-n too large for the source port range".into());
    }
    Ok(a)
}

// ---------------------------------------------------------------------------------------------
// /proc

/// utime + stime of a process, in clock ticks (`None` when it is gone).
fn cpu_ticks(pid: i32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// A kB field of /proc/PID/status (VmRSS, RssAnon, …), or Pss from smaps_rollup.
fn status_field(pid: i32, key: &str) -> Option<u64> {
    let file = if key == "Pss" {
        "smaps_rollup"
    } else {
        "status"
    };
    let text = fs::read_to_string(format!("/proc/{pid}/{file}")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

fn children_of(pid: i32) -> Vec<i32> {
    fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn load1() -> f64 {
    load_average()
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

// ---------------------------------------------------------------------------------------------
// measures

#[derive(Clone, Copy, Default)]
struct Memory {
    rss: Option<u64>,
    hwm: Option<u64>,
    pss: Option<u64>,
    anon: Option<u64>,
    file: Option<u64>,
}

impl Memory {
    fn of(pid: i32) -> Memory {
        Memory {
            rss: status_field(pid, "VmRSS"),
            hwm: status_field(pid, "VmHWM"),
            pss: status_field(pid, "Pss"),
            anon: status_field(pid, "RssAnon"),
            file: status_field(pid, "RssFile"),
        }
    }
}

struct Wrk {
    rps: f64,
    nginx_cpu: f64,
    errors: String,
}

struct Udp {
    median_us: f64,
    p99_us: f64,
    lost: usize,
}

struct DaemonRound {
    cpu_iperf_s: f64,
    cpu_wrk_pct: f64,
    rss_kb: Option<u64>,
    counters: serde_json::Value,
}

struct Round {
    mode: Mode,
    fwd_gbps: f64,
    rev_gbps: f64,
    wrk: Wrk,
    udp: Udp,
    daemon: Option<DaemonRound>,
}

struct FlowTable {
    start: Memory,
    sent16k: u64,
    tracked16k: u64,
    evicted16k: u64,
    at16k: Memory,
    counters16k: serde_json::Value,
    sent_flood: u64,
    flood_secs: f64,
    tracked_flood: u64,
    evicted_flood: u64,
    at_flood: Memory,
    counters_flood: serde_json::Value,
}

fn counter(status: &serde_json::Value, key: &str) -> u64 {
    status["counters"][key].as_u64().unwrap_or(0)
}

struct Bench {
    args: Args,
    topo: Topology,
    nginx_pids: Vec<i32>,
    extra_addrs: Vec<String>,
    /// The daemon's table and xt rules as `nft list` and `iptables-save` print them (`rules`).
    ruleset: Option<[String; 3]>,
}

impl Bench {
    fn new(args: Args) -> Bench {
        let topo = Topology::new("bench");
        let (lan, wan) = (topo.lan.clone(), topo.wan.clone());
        let extra_addrs: Vec<String> = (10..10 + EXTRA_ADDRS)
            .map(|i| format!("192.168.77.{i}"))
            .collect();
        let mut b = Bench {
            args,
            topo,
            nginx_pids: Vec::new(),
            extra_addrs,
            ruleset: None,
        };
        for a in &b.extra_addrs {
            b.must(
                &lan,
                &["ip", "addr", "add", &format!("{a}/24"), "dev", "lan0"],
            );
        }
        let lan_range = format!("net.ipv4.ip_local_port_range={EPHEMERAL}");
        for (ns, keys) in [
            (&lan, vec!["net.ipv4.tcp_tw_reuse=1", lan_range.as_str()]),
            (
                &wan,
                vec![
                    "net.core.somaxconn=4096",
                    "net.ipv4.tcp_max_syn_backlog=4096",
                    "net.ipv4.tcp_tw_reuse=1",
                ],
            ),
        ] {
            for k in keys {
                b.must(ns, &["sysctl", "-q", "-w", k]);
            }
        }
        b.start_servers();
        // Neighbour entries for every LAN address now, so no ARP round trip is measured later.
        let port = ECHO_PORT.to_string();
        let mut warm = vec!["warm", WAN_IP, port.as_str(), LAN_IP];
        warm.extend(b.extra_addrs.iter().map(String::as_str));
        let out = b.topo.tool(&lan, &warm, Duration::from_secs(60));
        assert!(
            out.stdout.starts_with("ok"),
            "the UDP echo does not answer every LAN address through the router: {out}"
        );
        b
    }

    /// Runs `args` in `ns`, panicking (the harness then deletes the namespaces) when it fails.
    fn must(&self, ns: &str, args: &[&str]) -> CmdOut {
        let out = self.topo.exec(ns, args, Duration::from_secs(30));
        assert!(out.ok(), "`{}` failed: {out}", args.join(" "));
        out
    }

    fn listening(&self, port: u16) -> bool {
        let out = self
            .topo
            .exec(&self.topo.wan, &["ss", "-Hlnt"], Duration::from_secs(5));
        out.stdout.contains(&format!(":{port} "))
    }

    fn start_servers(&mut self) {
        let wan = self.topo.wan.clone();
        self.topo.start_server("echo", ECHO_PORT);
        self.topo.start_server("discard", DISCARD_PORT);
        let port = IPERF_PORT.to_string();
        self.topo.spawn(
            &wan,
            "iperf3",
            &["iperf3", "-s", "-B", WAN_IP, "-p", port.as_str()],
        );
        let dir = self.topo.dir.display().to_string();
        let conf = self.topo.dir.join("nginx.conf");
        fs::write(
            &conf,
            format!(
                r#"worker_processes 2;
daemon off;
master_process on;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    client_body_temp_path {dir}/nginx-body;
    proxy_temp_path {dir}/nginx-proxy;
    server {{
        listen {WAN_IP}:{NGINX_PORT} backlog=4096;
        location / {{ return 200 "ok\n"; }}
    }}
}}
"#
            ),
        )
        .expect("nginx.conf");
        let conf = conf.display().to_string();
        self.topo
            .spawn(&wan, "nginx", &["nginx", "-c", &conf, "-p", &dir]);
        for (what, port) in [("iperf3", IPERF_PORT), ("nginx", NGINX_PORT)] {
            let up = poll(Duration::from_secs(10), || {
                self.listening(port).then_some(())
            });
            assert!(
                up.is_some(),
                "{what} is not listening on {port}:\n{}",
                self.topo.log_of(what)
            );
        }
        let pidfile = self.topo.dir.join("nginx.pid");
        let master = poll(Duration::from_secs(10), || {
            fs::read_to_string(&pidfile)
                .ok()?
                .trim()
                .parse::<i32>()
                .ok()
        })
        .expect("nginx wrote no pid file");
        let workers = poll(Duration::from_secs(10), || {
            let c = children_of(master);
            (c.len() >= 2).then_some(c)
        })
        .expect("nginx started no workers");
        self.nginx_pids = std::iter::once(master).chain(workers).collect();
    }

    fn start_daemon(&self) -> Daemon {
        let cfg = TestConfig {
            max_flows: Some(MAX_FLOWS),
            ..TestConfig::enforce(QUEUE)
        };
        Daemon::start(&self.topo, cfg)
    }

    /// Stops the daemon and removes every rule, so that a "without" round sees a bare router.
    fn stop_daemon(&self, d: Option<Daemon>) {
        drop(d);
        let _ = self.topo.exec(
            &self.topo.router,
            &["nft", "flush", "ruleset"],
            Duration::from_secs(10),
        );
    }

    fn settle(&self) {
        let _ = self.topo.exec(
            &self.topo.router,
            &["conntrack", "-F"],
            Duration::from_secs(10),
        );
        std::thread::sleep(Duration::from_secs_f64(self.args.settle));
    }

    /// iperf3's received rate, Gbit/s.
    fn iperf(&self, reverse: bool) -> f64 {
        let (port, time) = (IPERF_PORT.to_string(), self.args.iperf_time.to_string());
        let mut argv = vec!["iperf3", "-c", WAN_IP, "-p", &port, "-t", &time, "-J"];
        if reverse {
            argv.push("-R");
        }
        let timeout = Duration::from_secs(u64::from(self.args.iperf_time) + 20);
        let out = self.topo.exec(&self.topo.lan, &argv, timeout);
        serde_json::from_str::<serde_json::Value>(&out.stdout)
            .ok()
            .and_then(|j| j["end"]["sum_received"]["bits_per_second"].as_f64())
            .map(|bps| bps / 1e9)
            .unwrap_or_else(|| panic!("iperf3 gave no rate: {out}"))
    }

    fn wrk(&self) -> Wrk {
        let url = format!("http://{WAN_IP}:{NGINX_PORT}/");
        let duration = format!("-d{}s", self.args.wrk_time);
        let ticks = |pids: &[i32]| pids.iter().map(|&p| cpu_ticks(p).unwrap_or(0)).sum::<u64>();
        let t0 = ticks(&self.nginx_pids);
        let start = Instant::now();
        let argv = [
            "wrk",
            "-t2",
            "-c32",
            &duration,
            "--timeout",
            "2s",
            "-H",
            "Connection: close",
            &url,
        ];
        let timeout = Duration::from_secs(u64::from(self.args.wrk_time) + 20);
        let out = self.topo.exec(&self.topo.lan, &argv, timeout);
        let wall = start.elapsed().as_secs_f64();
        let t1 = ticks(&self.nginx_pids);
        let mut rps = None;
        let mut errors = String::new();
        for line in out.stdout.lines() {
            if let Some(v) = line.strip_prefix("Requests/sec:") {
                rps = v.trim().parse::<f64>().ok();
            }
            if line.contains("Socket errors") || line.contains("Non-2xx") {
                let _ = write!(errors, "{}; ", line.trim());
            }
        }
        Wrk {
            rps: rps.unwrap_or_else(|| panic!("wrk gave no rate: {out}")),
            nginx_cpu: (t1 - t0) as f64 / CLK_TCK / wall * 100.0,
            errors: errors.trim_end().to_string(),
        }
    }

    fn udp_latency(&self, round_no: usize) -> Udp {
        let n = self.args.latency_n;
        let base = LATENCY_PORT_BASE + round_no as u32 * n;
        let (port, base, count) = (ECHO_PORT.to_string(), base.to_string(), n.to_string());
        let out = self.topo.tool(
            &self.topo.lan,
            &["latency", WAN_IP, &port, LAN_IP, &base, &count],
            Duration::from_secs(60),
        );
        let rtts: Vec<Option<f64>> = serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("the latency client printed no list ({e}): {out}"));
        let mut ok: Vec<f64> = rtts.iter().flatten().copied().collect();
        assert!(!ok.is_empty(), "no UDP echo answered: {out}");
        ok.sort_by(f64::total_cmp);
        Udp {
            median_us: percentile(&ok, 50.0),
            p99_us: percentile(&ok, 99.0),
            lost: rtts.len() - ok.len(),
        }
    }

    /// Loads a mode's ruleset, or starts the daemon (returned).
    fn apply_mode(&self, mode: Mode) -> Option<Daemon> {
        let router = &self.topo.router;
        match mode {
            Mode::None => None,
            Mode::Daemon => Some(self.start_daemon()),
            Mode::Ct => {
                let path = self.topo.dir.join("ct.nft");
                fs::write(
                    &path,
                    "table inet bench {\n chain forward {\n  type filter hook forward priority 0; policy accept;\n  \
                     ct state established,related accept\n  ct state invalid drop\n }\n}\n",
                )
                .expect("ct.nft");
                self.must(router, &["nft", "-f", &path.display().to_string()]);
                None
            }
            Mode::Rules => {
                let ruleset = self.ruleset.as_ref().expect("the daemon's ruleset");
                let [table, v4, v6] = ruleset;
                let write = |name: &str, text: &str| {
                    let path = self.topo.dir.join(name);
                    fs::write(&path, text).expect("ruleset file");
                    path.display().to_string()
                };
                self.must(router, &["nft", "-f", &write("daemon-table.nft", table)]);
                // The xt NFQUEUE rules, where the daemon fell back to them (no nft_queue).
                for (tool, name, text) in [
                    ("iptables-restore", "daemon-v4.rules", v4),
                    ("ip6tables-restore", "daemon-v6.rules", v6),
                ] {
                    if text.contains("NFQUEUE") {
                        self.must(router, &[tool, &write(name, text)]);
                    }
                }
                None
            }
        }
    }

    /// The daemon's table and xt rules, for the `rules` mode.
    fn capture_ruleset(&mut self) {
        let d = self.start_daemon();
        let router = self.topo.router.clone();
        let table = self
            .must(&router, &["nft", "list", "table", "inet", TABLE])
            .stdout;
        let save = |tool: &str| {
            self.topo
                .exec(&router, &[tool, "-t", "filter"], Duration::from_secs(10))
                .stdout
        };
        let (v4, v6) = (save("iptables-save"), save("ip6tables-save"));
        self.stop_daemon(Some(d));
        self.ruleset = Some([table, v4, v6]);
    }

    fn round(&self, round_no: usize, mode: Mode) -> Round {
        let mut d = self.apply_mode(mode);
        self.settle();
        let pid = d.as_ref().map(|d| d.pid);
        let ticks = || pid.and_then(cpu_ticks).unwrap_or(0);
        let c0 = ticks();
        let fwd_gbps = self.iperf(false);
        self.settle();
        let rev_gbps = self.iperf(true);
        self.settle();
        let c1 = ticks();
        let wrk = self.wrk();
        let c2 = ticks();
        self.settle();
        let udp = self.udp_latency(round_no);
        let daemon = d.as_mut().map(|d| {
            let st = d.status();
            assert!(
                d.alive(),
                "the daemon exited during the round{}",
                d.context()
            );
            DaemonRound {
                cpu_iperf_s: (c1 - c0) as f64 / CLK_TCK,
                cpu_wrk_pct: (c2 - c1) as f64 / CLK_TCK / f64::from(self.args.wrk_time) * 100.0,
                rss_kb: status_field(d.pid, "VmRSS"),
                counters: st["counters"].clone(),
            }
        });
        self.stop_daemon(d);
        Round {
            mode,
            fwd_gbps,
            rev_gbps,
            wrk,
            udp,
            daemon,
        }
    }

    /// One small clean datagram from every (extra address, port) to the discard server.
    fn send_flows(&self, port_base: u32, ports_per_addr: u32) -> u64 {
        let (port, base, count) = (
            DISCARD_PORT.to_string(),
            port_base.to_string(),
            ports_per_addr.to_string(),
        );
        let mut argv = vec![
            "flows",
            WAN_IP,
            port.as_str(),
            base.as_str(),
            count.as_str(),
        ];
        argv.extend(self.extra_addrs.iter().map(String::as_str));
        let out = self
            .topo
            .tool(&self.topo.lan, &argv, Duration::from_secs(300));
        out.stdout
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("the flows client printed no count: {out}"))
    }

    fn flow_table(&self) -> FlowTable {
        let mut d = self.start_daemon();
        let pid = d.pid;
        self.settle();
        let start = Memory::of(pid);
        let per_addr = MAX_FLOWS / EXTRA_ADDRS as u32;
        // Up to three passes of the same 16,384 tuples: a pass can lose datagrams when the queue
        // overflows; a repeat of a tuple is no new flow.
        let mut sent16k = 0;
        for _ in 0..3 {
            sent16k += self.send_flows(FLOW_PORT_BASE, per_addr);
            std::thread::sleep(Duration::from_secs(1));
            if counter(&d.status(), "flows_tracked") >= u64::from(MAX_FLOWS) {
                break;
            }
        }
        let st16k = d.status();
        let at16k = Memory::of(pid);
        let t0 = Instant::now();
        let sent_flood = self.send_flows(FLOOD_PORT_BASE, 100_000 / EXTRA_ADDRS as u32 + 1);
        let flood_secs = t0.elapsed().as_secs_f64();
        std::thread::sleep(Duration::from_secs(1));
        let st = d.status();
        let at_flood = Memory::of(pid);
        assert!(
            d.alive(),
            "the daemon exited during the flood{}",
            d.context()
        );
        self.stop_daemon(Some(d));
        FlowTable {
            start,
            sent16k,
            tracked16k: counter(&st16k, "flows_tracked"),
            evicted16k: counter(&st16k, "flows_evicted"),
            at16k,
            counters16k: st16k["counters"].clone(),
            sent_flood,
            flood_secs,
            tracked_flood: counter(&st, "flows_tracked"),
            evicted_flood: counter(&st, "flows_evicted"),
            at_flood,
            counters_flood: st["counters"].clone(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// report

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let k = (sorted.len() - 1) as f64 * p / 100.0;
    let lo = k as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (k - lo as f64)
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        f64::NAN
    } else {
        a / b
    }
}

fn mb(kb: Option<u64>) -> f64 {
    kb.map_or(f64::NAN, |k| k as f64 / 1024.0)
}

/// Rates are compared by ratio, round trips by difference.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Ratio,
    Diff,
}

struct Metric {
    label: &'static str,
    get: fn(&Round) -> f64,
    unit: &'static str,
    decimals: usize,
    kind: Kind,
    /// The goal for daemon / none.
    goal: Option<f64>,
}

const METRICS: [Metric; 5] = [
    Metric {
        label: "iperf3 TCP LAN→WAN",
        get: |r| r.fwd_gbps,
        unit: "Gbit/s",
        decimals: 2,
        kind: Kind::Ratio,
        goal: Some(0.95),
    },
    Metric {
        label: "iperf3 TCP WAN→LAN (-R)",
        get: |r| r.rev_gbps,
        unit: "Gbit/s",
        decimals: 2,
        kind: Kind::Ratio,
        goal: Some(0.95),
    },
    Metric {
        label: "wrk -t2 -c32, Connection: close",
        get: |r| r.wrk.rps,
        unit: "req/s",
        decimals: 0,
        kind: Kind::Ratio,
        goal: Some(0.80),
    },
    Metric {
        label: "UDP RTT of a new flow, median",
        get: |r| r.udp.median_us,
        unit: "µs",
        decimals: 0,
        kind: Kind::Diff,
        goal: None,
    },
    Metric {
        label: "UDP RTT of a new flow, p99",
        get: |r| r.udp.p99_us,
        unit: "µs",
        decimals: 0,
        kind: Kind::Diff,
        goal: None,
    },
];

impl Metric {
    fn compare(&self, a: &Round, b: &Round) -> f64 {
        match self.kind {
            Kind::Ratio => ratio((self.get)(a), (self.get)(b)),
            Kind::Diff => (self.get)(a) - (self.get)(b),
        }
    }

    fn show(&self, compared: f64) -> String {
        match self.kind {
            Kind::Ratio => format!("{:.1} %", compared * 100.0),
            Kind::Diff => format!("{compared:+.0} µs"),
        }
    }
}

fn report(cycles: &[Vec<Round>], modes: &[Mode], table: Option<&FlowTable>) {
    let rounds: Vec<&Round> = cycles.iter().flatten().collect();
    if !rounds.is_empty() {
        println!("\n### Per round (in the order run)\n");
        println!("| # | mode | iperf3 LAN→WAN Gbit/s | iperf3 WAN→LAN Gbit/s | wrk req/s | nginx CPU % | UDP RTT median µs | UDP RTT p99 µs | UDP lost | daemon CPU % during wrk |");
        println!("|---|---|---|---|---|---|---|---|---|---|");
        for (i, r) in rounds.iter().enumerate() {
            println!(
                "| {} | {} | {:.2} | {:.2} | {:.0} | {:.0} | {:.0} | {:.0} | {} | {} |",
                i + 1,
                r.mode.name(),
                r.fwd_gbps,
                r.rev_gbps,
                r.wrk.rps,
                r.wrk.nginx_cpu,
                r.udp.median_us,
                r.udp.p99_us,
                r.udp.lost,
                r.daemon
                    .as_ref()
                    .map_or("-".into(), |d| format!("{:.0}", d.cpu_wrk_pct))
            );
        }
    }
    for (i, r) in rounds.iter().enumerate() {
        if !r.wrk.errors.is_empty() {
            println!("\nround {} wrk: {}", i + 1, r.wrk.errors);
        }
    }

    let comparisons: Vec<(Mode, Mode)> = [
        (Mode::Daemon, Mode::None),
        (Mode::Daemon, Mode::Ct),
        (Mode::Rules, Mode::None),
        (Mode::Ct, Mode::None),
    ]
    .into_iter()
    .filter(|(a, b)| modes.contains(a) && modes.contains(b))
    .collect();
    // (a, b, metric index) -> per-cycle comparison values.
    let mut per: BTreeMap<(Mode, Mode, usize), Vec<f64>> = BTreeMap::new();
    if !rounds.is_empty() {
        println!("\n### Per cycle (ratio of rates, difference of RTTs)\n");
        println!("| cycle | comparison | iperf3 LAN→WAN | iperf3 WAN→LAN | wrk req/s | UDP RTT median | UDP RTT p99 |");
        println!("|---|---|---|---|---|---|---|");
        for (ci, c) in cycles.iter().enumerate() {
            let by = |m: Mode| c.iter().find(|r| r.mode == m);
            for &(a, b) in &comparisons {
                let (Some(ra), Some(rb)) = (by(a), by(b)) else {
                    continue;
                };
                let mut cells = Vec::new();
                for (k, m) in METRICS.iter().enumerate() {
                    let v = m.compare(ra, rb);
                    cells.push(m.show(v));
                    per.entry((a, b, k)).or_default().push(v);
                }
                println!(
                    "| {} | {} / {} | {} |",
                    ci + 1,
                    a.name(),
                    b.name(),
                    cells.join(" | ")
                );
            }
        }
        summary(cycles.len(), &rounds, modes, &comparisons, &per);
    }
    if let Some(t) = table {
        flow_report(t);
    }
    for (i, r) in rounds.iter().enumerate() {
        if let Some(d) = &r.daemon {
            println!(
                "round {} daemon: VmRSS {} kB, CPU {:.1} s during both iperf3 runs; counters {}",
                i + 1,
                d.rss_kb.map_or("?".into(), |k| k.to_string()),
                d.cpu_iperf_s,
                d.counters
            );
        }
    }
}

fn summary(
    n_cycles: usize,
    rounds: &[&Round],
    modes: &[Mode],
    comparisons: &[(Mode, Mode)],
    per: &BTreeMap<(Mode, Mode, usize), Vec<f64>>,
) {
    println!("\n### Summary (medians over {n_cycles} cycles)\n");
    let head: Vec<String> = modes
        .iter()
        .map(|m| m.name().to_string())
        .chain(
            comparisons
                .iter()
                .map(|(a, b)| format!("{} / {}", a.name(), b.name())),
        )
        .collect();
    println!(
        "| measure | {} | goal (daemon / none) | met |",
        head.join(" | ")
    );
    println!("|---|{}---|---|", "---|".repeat(head.len()));
    for (k, m) in METRICS.iter().enumerate() {
        let mut cells: Vec<String> = modes
            .iter()
            .map(|&mode| {
                let vals: Vec<f64> = rounds
                    .iter()
                    .filter(|r| r.mode == mode)
                    .map(|r| (m.get)(r))
                    .collect();
                format!("{:.*} {}", m.decimals, median(&vals), m.unit)
            })
            .collect();
        for &(a, b) in comparisons {
            cells.push(match per.get(&(a, b, k)) {
                Some(vals) if !vals.is_empty() => m.show(median(vals)),
                _ => "-".into(),
            });
        }
        let (goal_text, met) = match (m.goal, per.get(&(Mode::Daemon, Mode::None, k))) {
            (Some(goal), Some(vals)) => {
                let v = median(vals);
                (
                    format!("≥ {:.0} %", goal * 100.0),
                    if v >= goal {
                        "yes".to_string()
                    } else {
                        format!("NO ({:.1} %)", v * 100.0)
                    },
                )
            }
            _ => ("-".into(), "-".into()),
        };
        println!(
            "| {} | {} | {goal_text} | {met} |",
            m.label,
            cells.join(" | ")
        );
    }
}

fn flow_report(t: &FlowTable) {
    println!("\n### Flow table (one daemon, [detect] max_flows = {MAX_FLOWS})\n");
    println!("| step | flows_tracked | flows_evicted | VmRSS | RssAnon | RssFile | Pss | VmHWM | goal | met |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let row = |m: &Memory| {
        format!(
            "{:.2} MB | {:.2} MB | {:.2} MB | {:.2} MB",
            mb(m.rss),
            mb(m.anon),
            mb(m.file),
            mb(m.pss)
        )
    };
    println!(
        "| started, no traffic | 0 | 0 | {} | - | - | - |",
        row(&t.start)
    );
    let ok16 = t.at16k.rss.is_some_and(|kb| kb <= 6 * 1024);
    println!(
        "| {} distinct UDP flows sent | {} | {} | {} | {:.2} MB | VmRSS ≤ 6 MB | {} |",
        t.sent16k,
        t.tracked16k,
        t.evicted16k,
        row(&t.at16k),
        mb(t.at16k.hwm),
        if ok16 {
            "yes".to_string()
        } else {
            format!("NO (+{:.2} MB)", mb(t.at16k.rss) - 6.0)
        }
    );
    let flat = match (t.at_flood.rss, t.at16k.rss) {
        (Some(a), Some(b)) => a < b + 512,
        _ => false,
    };
    println!(
        "| +{} new flows in {:.1} s | {} | {} | {} | {:.2} MB | tracked ≤ {MAX_FLOWS}, RSS flat | {} |",
        t.sent_flood,
        t.flood_secs,
        t.tracked_flood,
        t.evicted_flood,
        row(&t.at_flood),
        mb(t.at_flood.hwm),
        if t.tracked_flood <= u64::from(MAX_FLOWS) && flat {
            "yes"
        } else {
            "NO"
        }
    );
    println!("\ndaemon counters after 16k flows: {}", t.counters16k);
    println!("daemon counters after the flood: {}", t.counters_flood);
    println!();
}

fn main() {
    let args = parse_args().unwrap_or_else(|e| {
        eprintln!("inline_vs_none: {e}\nusage: {USAGE}");
        std::process::exit(2)
    });
    let missing = topology::missing(&[
        "ip",
        "nft",
        "iptables",
        "conntrack",
        "dnsmasq",
        "python3",
        "ss",
        "iperf3",
        "wrk",
        "nginx",
    ]);
    if !missing.is_empty() {
        println!(
            "SKIPPED inline_vs_none: needs {} (apt-get install iproute2 nftables iptables conntrack dnsmasq-base \
             python3 iperf3 wrk nginx-light; run as root)",
            missing.join(", ")
        );
        return;
    }
    let bin = daemon::bin();
    let version = topology::run_timeout(
        &std::env::temp_dir(),
        &bin,
        &["--version"],
        Duration::from_secs(5),
    );
    println!("{} ({bin})", version.stdout.trim());
    println!(
        "kernel {}, {} CPUs, load average {}",
        fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap_or_default()
            .trim(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average()
    );
    let mut b = Bench::new(args);
    if b.args.modes.contains(&Mode::Rules) && b.args.cycles > 0 {
        b.capture_ruleset();
    }
    let mut cycles = Vec::new();
    let mut n = 0;
    for _ in 0..b.args.cycles {
        let mut cycle = Vec::new();
        for mode in b.args.modes.clone() {
            let t0 = Instant::now();
            let r = b.round(n, mode);
            n += 1;
            println!(
                "round {n} ({}, {:.0} s): fwd {:.2} Gbit/s, rev {:.2} Gbit/s, wrk {:.0} req/s (nginx {:.0} % CPU), \
                 UDP RTT median {:.0} µs p99 {:.0} µs lost {}; load {:.2}",
                mode.name(),
                t0.elapsed().as_secs_f64(),
                r.fwd_gbps,
                r.rev_gbps,
                r.wrk.rps,
                r.wrk.nginx_cpu,
                r.udp.median_us,
                r.udp.p99_us,
                r.udp.lost,
                load1()
            );
            cycle.push(r);
        }
        cycles.push(cycle);
    }
    let table = (!b.args.skip_flows).then(|| {
        let t = b.flow_table();
        println!(
            "flow table: {} tracked, VmRSS {:.2} MB; after the flood {} tracked, {} evicted, VmRSS {:.2} MB",
            t.tracked16k,
            mb(t.at16k.rss),
            t.tracked_flood,
            t.evicted_flood,
            mb(t.at_flood.rss)
        );
        t
    });
    let modes = b.args.modes.clone();
    drop(b);
    report(&cycles, &modes, table.as_ref());
    println!("\nload average at the end: {}", load_average());
}
