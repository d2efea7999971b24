//! The firewall against the real kernel, inside a private network namespace so nothing touches
//! the host's ruleset. Needs root, `nft`, `iptables`, `ip`; skips without them (fails with CI set).
//!
//! The code under test runs on a thread that `setns`-es into the namespace, so the `nft` and
//! `iptables` processes it spawns, and the sockets it opens, live there; the test checks that
//! first (`ip netns identify` from that thread).

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use leakguard::config::{Config, QueueBackend, Scope};
use leakguard::firewall::{self, Backend, Firewall};

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A named network namespace, deleted on drop.
struct Netns {
    name: String,
}

impl Netns {
    fn new() -> Netns {
        let name = format!(
            "lgfw-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        sh(&["ip", "netns", "add", &name]);
        Netns { name }
    }

    /// Moves the calling thread into the namespace.
    fn enter(&self) {
        let file = File::open(format!("/run/netns/{}", self.name)).expect("netns file");
        // SAFETY: setns only reads the descriptor, which `file` keeps open for the call, and
        // changes the network namespace of this thread only (the test runs on its own thread).
        let rc = unsafe { nix::libc::setns(file.as_raw_fd(), nix::libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// Runs a command (in the calling thread's namespace) and returns its stdout; panics on failure.
fn sh(args: &[&str]) -> String {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn ok(args: &[&str]) -> bool {
    Command::new(args[0])
        .args(&args[1..])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Whether the test can run; `Err` says why not.
fn can_run() -> Result<(), String> {
    if !nix::unistd::Uid::effective().is_root() {
        return Err("not root".into());
    }
    for tool in ["nft", "iptables", "ip"] {
        if !ok(&["sh", "-c", &format!("command -v {tool}")]) {
            return Err(format!(
                "{tool} not installed (apt-get install nftables iptables iproute2)"
            ));
        }
    }
    Ok(())
}

fn skip_or_fail() -> bool {
    match can_run() {
        Ok(()) => false,
        Err(why) => {
            if std::env::var_os("CI").is_some() {
                panic!("firewall test cannot run with CI set: {why}");
            }
            eprintln!("skipping firewall test: {why}");
            true
        }
    }
}

fn config(tcp_reset: bool) -> Config {
    let mut c = Config::default();
    c.network.lan_prefixes = Vec::new();
    c.network.leases = None;
    c.network.lan_interfaces = vec!["lo".into()];
    c.detect.max_learned_macs = 64;
    c.firewall.queue = 7;
    c.firewall.block_timeout = 60;
    c.firewall.tcp_reset = tcp_reset;
    c.daemon.nflog_group = 9;
    c
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("address")
}

/// Connects and says whether the connection was refused, and how long that took.
fn refused(addr: SocketAddr) -> (bool, Duration) {
    let start = Instant::now();
    let result = TcpStream::connect_timeout(&addr, Duration::from_secs(3));
    let took = start.elapsed();
    match result {
        Ok(_) => (false, took),
        Err(e) if e.kind() == ErrorKind::ConnectionRefused => (true, took),
        Err(e) => panic!("connect {addr}: unexpected {e} after {took:?}"),
    }
}

fn xt_rules(program: &str, chain: &str) -> usize {
    Command::new(program)
        .args(["-w", "-t", "filter", "-S", chain])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter(|l| l.contains("--comment leakguard"))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn table_blocks_restore_and_removal_in_a_namespace() {
    if skip_or_fail() {
        return;
    }
    let ns = Netns::new();
    let name = ns.name.clone();
    let worker = std::thread::spawn(move || scenario(&name));
    let result = worker.join();
    drop(ns);
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

fn scenario(ns: &str) {
    Netns {
        name: ns.to_string(),
    }
    .enter_and_forget();
    // Child processes spawned from this thread land in the namespace.
    assert_eq!(sh(&["ip", "netns", "identify"]).trim(), ns);
    sh(&["ip", "link", "set", "lo", "up"]);

    let native = firewall::probe_native(7);
    assert!(
        !ok(&["nft", "list", "table", "inet", firewall::PROBE_TABLE]),
        "probe left its table behind"
    );
    let mut fw = Firewall::install(&config(true)).expect("install");
    eprintln!("backend: {} (native probe: {native})", fw.backend());
    assert_eq!(
        fw.backend(),
        if native { Backend::Nft } else { Backend::Xt }
    );
    assert!(fw.present());

    let table = sh(&["nft", "list", "table", "inet", "leakguard"]);
    for chain in [
        "forward",
        "input",
        "output",
        "forward_post",
        "input_post",
        "block",
    ] {
        assert!(
            table.contains(&format!("chain {chain} {{")),
            "{chain}:\n{table}"
        );
    }
    for set in [
        "block_flow4",
        "block_flow6",
        "block_dd4",
        "block_dd6",
        "block_d4",
        "block_d6",
    ] {
        assert!(table.contains(&format!("set {set} {{")), "{set}:\n{table}");
    }
    if fw.backend() == Backend::Xt {
        for chain in ["FORWARD", "INPUT"] {
            assert_eq!(xt_rules("iptables", chain), 1, "iptables {chain}");
            assert_eq!(xt_rules("ip6tables", chain), 1, "ip6tables {chain}");
        }
        let forward = sh(&["iptables", "-w", "-t", "filter", "-S", "FORWARD"]);
        assert!(
            forward.contains("--queue-num 7 --queue-bypass"),
            "{forward}"
        );
    } else {
        assert!(table.contains("queue"), "{table}");
    }

    // Traffic before any block: both destinations answer.
    let listener = TcpListener::bind("0.0.0.0:0").expect("listen");
    let port = listener.local_addr().expect("addr").port();
    let to = |addr: &str| SocketAddr::new(ip(addr), port);
    assert!(!refused(to("127.0.0.2")).0);

    // A destination block resets TCP at once.
    let d = fw
        .add_block(
            Scope::Destination,
            ip("127.0.0.1"),
            ip("127.0.0.2"),
            6,
            0,
            0,
            60,
        )
        .expect("add block");
    let set = sh(&["nft", "list", "set", "inet", "leakguard", "block_d4"]);
    assert!(set.contains("127.0.0.2 timeout 1m expires"), "{set}");
    let (was_refused, took) = refused(to("127.0.0.2"));
    assert!(was_refused, "blocked destination accepted a connection");
    assert!(took < Duration::from_secs(1), "reset took {took:?}");
    assert!(!refused(to("127.0.0.3")).0, "unblocked destination refused");

    // The same for IPv6.
    sh(&[
        "ip",
        "-6",
        "addr",
        "add",
        "fd00::7/128",
        "dev",
        "lo",
        "nodad",
    ]);
    let listener6 = TcpListener::bind("[::]:0").expect("listen v6");
    let port6 = listener6.local_addr().expect("addr").port();
    let d6 = fw
        .add_block(Scope::Destination, ip("::1"), ip("fd00::7"), 6, 0, 0, 60)
        .expect("add v6 block");
    let (was_refused, took) = refused(SocketAddr::new(ip("fd00::7"), port6));
    assert!(was_refused && took < Duration::from_secs(1), "v6 block");
    assert!(!refused(SocketAddr::new(ip("::1"), port6)).0, "v6 other");
    fw.remove_block(&d6).expect("remove v6 block");
    assert!(
        !refused(SocketAddr::new(ip("fd00::7"), port6)).0,
        "v6 removed"
    );

    // Device·destination and flow blocks; list_blocks reads all three back.
    let dd = fw
        .add_block(
            Scope::DeviceDestination,
            ip("127.0.0.1"),
            ip("127.0.0.4"),
            6,
            0,
            0,
            60,
        )
        .expect("add dd block");
    let flow = fw
        .add_block(
            Scope::Flow,
            ip("10.0.0.2"),
            ip("192.0.2.7"),
            6,
            40000,
            80,
            120,
        )
        .expect("add flow block");
    let v6 = fw
        .add_block(
            Scope::DeviceDestination,
            ip("fd00::2"),
            ip("2001:db8::1"),
            17,
            0,
            0,
            0,
        )
        .expect("add v6 block");
    assert!(refused(to("127.0.0.4")).0);
    let blocks = fw.list_blocks().expect("list");
    assert_eq!(blocks.len(), 4, "{blocks:?}");
    for (id, max) in [(d, 60), (dd, 60), (flow, 120)] {
        let b = blocks.iter().find(|b| b.id == id).expect("listed");
        let left = b.expires_in.expect("has a timeout");
        assert!(left <= Duration::from_secs(max) && left > Duration::from_secs(max - 10));
    }
    let b = blocks.iter().find(|b| b.id == v6).expect("v6 listed");
    assert_eq!(b.expires_in, None);
    assert_eq!(b.src, Some(ip("fd00::2")));

    // Re-adding restarts the timeout instead of failing.
    fw.add_block(
        Scope::Destination,
        ip("127.0.0.9"),
        ip("127.0.0.2"),
        6,
        0,
        0,
        30,
    )
    .expect("re-add");
    let b = fw.list_blocks().expect("list");
    let left = b.iter().find(|b| b.id == d).and_then(|b| b.expires_in);
    assert!(
        left.is_some_and(|l| l <= Duration::from_secs(30)),
        "{left:?}"
    );

    fw.remove_block(&d).expect("remove block");
    fw.remove_block(&d).expect("removing twice is fine");
    assert!(!refused(to("127.0.0.2")).0, "removed block still refuses");
    assert_eq!(fw.list_blocks().expect("list").len(), 3);

    // DNS to the router is queued; with nobody on the queue, bypass lets it through.
    let server = UdpSocket::bind("127.0.0.1:53").expect("bind :53");
    server
        .set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let client = UdpSocket::bind("127.0.0.1:0").expect("bind");
    client.send_to(b"query", "127.0.0.1:53").expect("send");
    let mut buf = [0u8; 16];
    let (n, _) = server
        .recv_from(&mut buf)
        .expect("DNS query passed with bypass");
    assert_eq!(&buf[..n], b"query");

    // Simulated verdicts: a table of the test's own sets the meta mark at priority 0 (where
    // the xt queue hands a packet back) as an ACCEPT verdict with NFQA_MARK would, after a
    // foreign ct mark bit was set; our post chain must copy the decision into the ct mark,
    // keep the foreign bit, and block the BLOCK-marked packet itself.
    let simulated = format!(
        "table inet lgtest {{
           chain pre {{ type filter hook input priority -10; tcp dport {port} ct mark set 0x1; }}
           chain verdict {{ type filter hook input priority 0;
             ip daddr 127.0.0.6 tcp dport {port} meta mark set 0x08000000
             ip daddr 127.0.0.7 tcp dport {port} meta mark set 0x04000000; }}
           chain check {{ type filter hook input priority 20;
             ip daddr 127.0.0.7 ct mark 0x04000001 counter; }}
         }}"
    );
    let mut child = Command::new("nft")
        .args(["-f", "-"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("nft");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(simulated.as_bytes())
        .expect("write");
    assert!(child.wait().expect("nft").success());
    let (was_refused, took) = refused(to("127.0.0.6"));
    assert!(
        was_refused && took < Duration::from_secs(1),
        "BLOCK verdict not enforced"
    );
    assert!(!refused(to("127.0.0.7")).0, "CLEAN verdict blocked");
    let check = sh(&["nft", "list", "chain", "inet", "lgtest", "check"]);
    let packets: u64 = check
        .split("counter packets ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("counter");
    assert!(
        packets > 0,
        "ct mark is not CLEAN with the foreign bit kept:\n{check}"
    );
    sh(&["nft", "delete", "table", "inet", "lgtest"]);

    // Someone flushes everything; the daemon notices and restores.
    sh(&["nft", "flush", "ruleset"]);
    assert!(!fw.present());
    fw.restore().expect("restore");
    assert!(fw.present());
    if fw.backend() == Backend::Xt {
        assert_eq!(xt_rules("iptables", "FORWARD"), 1);
        assert_eq!(xt_rules("ip6tables", "INPUT"), 1);
    }
    let blocks = fw.list_blocks().expect("list");
    assert_eq!(blocks.len(), 3, "{blocks:?}");
    let left = blocks
        .iter()
        .find(|b| b.id == flow)
        .and_then(|b| b.expires_in)
        .expect("flow block restored with its time");
    assert!(left <= Duration::from_secs(120) && left > Duration::from_secs(100));
    assert!(refused(to("127.0.0.4")).0, "restored block does not refuse");

    // SIGHUP: new rules (no TCP reset: blocked SYNs are dropped), same blocks.
    fw.reconfigure(&config(false)).expect("reconfigure");
    assert_eq!(fw.list_blocks().expect("list").len(), 3);
    let table = sh(&["nft", "list", "table", "inet", "leakguard"]);
    assert!(!table.contains("tcp reset"), "{table}");
    if fw.backend() == Backend::Xt {
        assert_eq!(
            xt_rules("iptables", "FORWARD"),
            1,
            "reconfigure duplicated xt rules"
        );
    }
    if fw.backend() == Backend::Xt {
        // Only the iptables rules vanish: noticed, restored, blocks kept.
        sh(&["iptables", "-w", "-t", "filter", "-F", "FORWARD"]);
        assert!(!fw.present());
        fw.restore().expect("restore xt");
        assert!(fw.present());
        assert_eq!(xt_rules("iptables", "FORWARD"), 1);
        assert_eq!(xt_rules("ip6tables", "FORWARD"), 1);
        assert_eq!(fw.list_blocks().expect("list").len(), 3);
    }
    let start = Instant::now();
    let dropped = TcpStream::connect_timeout(&to("127.0.0.4"), Duration::from_millis(500));
    assert!(dropped.is_err() && start.elapsed() >= Duration::from_millis(400));

    fw.remove_all_blocks().expect("remove all");
    assert!(fw.list_blocks().expect("list").is_empty());
    let mut conn =
        TcpStream::connect_timeout(&to("127.0.0.4"), Duration::from_secs(2)).expect("unblocked");
    conn.write_all(b"x").expect("write");
    let (mut accepted, _) = listener.accept().expect("accept");
    let mut one = [0u8; 1];
    // The backlog holds earlier connections; read from the one that carries data.
    let _ = accepted.set_read_timeout(Some(Duration::from_millis(100)));
    let _ = accepted.read(&mut one);

    // SIGTERM: nothing left behind.
    fw.remove().expect("remove");
    assert!(!ok(&["nft", "list", "table", "inet", "leakguard"]));
    for program in ["iptables", "ip6tables"] {
        for chain in ["FORWARD", "INPUT"] {
            assert_eq!(xt_rules(program, chain), 0, "{program} {chain}");
        }
    }
}

impl Netns {
    /// Enters without taking ownership of deletion (the spawning thread's guard deletes it).
    fn enter_and_forget(self) {
        self.enter();
        std::mem::forget(self);
    }
}

#[test]
fn install_error_carries_nft_stderr() {
    if skip_or_fail() {
        return;
    }
    let ns = Netns::new();
    let name = ns.name.clone();
    let result = std::thread::spawn(move || {
        Netns { name }.enter_and_forget();
        let mut bad = config(true);
        bad.firewall.backend = QueueBackend::Xt;
        bad.network.lan_interfaces = vec!["an-interface-name-far-too-long".into()];
        Firewall::install(&bad).map(|fw| fw.remove())
    })
    .join()
    .expect("thread");
    drop(ns);
    let err = result.expect_err("an over-long interface name is refused");
    let text = err.to_string();
    eprintln!("install error: {text}");
    assert!(text.contains("Error"), "{text}");
}

/// Runs `f` on a thread inside namespace `ns` and returns its result (a panic propagates).
fn in_ns<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let name = ns.to_string();
    match std::thread::spawn(move || {
        Netns { name }.enter_and_forget();
        f()
    })
    .join()
    {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// Accepts connections and echoes what it reads, until the process ends.
fn echo(listener: TcpListener) {
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
            let mut buf = [0u8; 64];
            if let Ok(n) = conn.read(&mut buf) {
                let _ = conn.write_all(&buf[..n]);
            }
        }
    });
}

/// Connects from the device namespace; Ok(echo) or Err(kind, time taken).
fn talk(device: &str, to: SocketAddr) -> Result<Vec<u8>, (ErrorKind, Duration)> {
    in_ns(device, move || {
        let start = Instant::now();
        let mut conn = TcpStream::connect_timeout(&to, Duration::from_secs(2))
            .map_err(|e| (e.kind(), start.elapsed()))?;
        conn.set_read_timeout(Some(Duration::from_secs(2)))
            .expect("timeout");
        conn.write_all(b"identifiers?")
            .map_err(|e| (e.kind(), start.elapsed()))?;
        let mut buf = [0u8; 64];
        let n = conn
            .read(&mut buf)
            .map_err(|e| (e.kind(), start.elapsed()))?;
        Ok(buf[..n].to_vec())
    })
}

/// A device, a router and a server in three namespaces: forwarded traffic from the LAN
/// interface passes through the queue (bypass, nobody listening) and the blocks hit it.
#[test]
fn forwarded_traffic_through_a_router_namespace() {
    if skip_or_fail() {
        return;
    }
    let (router, device, server) = (Netns::new(), Netns::new(), Netns::new());
    let (r, d, s) = (&router.name, &device.name, &server.name);
    for cmd in [
        format!("ip link add lan0 netns {r} type veth peer name dev0 netns {d}"),
        format!("ip link add wan0 netns {r} type veth peer name srv0 netns {s}"),
        format!("ip -n {r} addr add 10.1.0.1/24 dev lan0"),
        format!("ip -n {r} addr add 10.2.0.1/24 dev wan0"),
        format!("ip -n {d} addr add 10.1.0.2/24 dev dev0"),
        format!("ip -n {s} addr add 10.2.0.2/24 dev srv0"),
        format!("ip -n {s} addr add 10.2.0.3/24 dev srv0"),
        format!("ip -n {r} link set lan0 up"),
        format!("ip -n {r} link set wan0 up"),
        format!("ip -n {d} link set dev0 up"),
        format!("ip -n {s} link set srv0 up"),
        format!("ip -n {d} route add default via 10.1.0.1"),
        format!("ip -n {s} route add default via 10.2.0.1"),
        format!("ip netns exec {r} sysctl -qw net.ipv4.ip_forward=1"),
    ] {
        let args: Vec<&str> = cmd.split(' ').collect();
        sh(&args);
    }
    for listener in in_ns(s, || {
        [
            TcpListener::bind("10.2.0.2:8080").expect("bind"),
            TcpListener::bind("10.2.0.3:8080").expect("bind"),
        ]
    }) {
        echo(listener);
    }
    let blocked: SocketAddr = "10.2.0.2:8080".parse().expect("addr");
    let other: SocketAddr = "10.2.0.3:8080".parse().expect("addr");
    assert_eq!(
        talk(d, blocked).expect("no firewall yet"),
        b"identifiers?".to_vec()
    );

    let mut fw = in_ns(r, || {
        let mut cfg = config(true);
        cfg.network.lan_interfaces = vec!["lan0".into()];
        Firewall::install(&cfg).expect("install")
    });
    // Undecided flows go through the queue; with nobody on it, bypass lets them pass.
    assert_eq!(
        talk(d, blocked).expect("queued and bypassed"),
        b"identifiers?".to_vec()
    );
    if fw.backend() == Backend::Xt {
        let listing = sh(&[
            "ip", "netns", "exec", r, "iptables", "-w", "-t", "filter", "-L", "FORWARD", "-v",
            "-n", "-x",
        ]);
        let queued: u64 = listing
            .lines()
            .find(|l| l.contains("NFQUEUE"))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no NFQUEUE rule:\n{listing}"));
        // Exactly two: the SYN (it tells the flow table where the stream starts) and the data
        // segment; the ACKs and the FIN carry no payload and stay in the kernel.
        assert_eq!(queued, 2, "queued packets:\n{listing}");
    }
    let fw = in_ns(r, move || {
        // The configured scope (device·destination) and timeout.
        let id = fw
            .block(ip("10.1.0.2"), ip("10.2.0.2"), 6, 40000, 8080)
            .expect("block");
        assert_eq!(id.scope, Scope::DeviceDestination);
        assert_eq!((id.proto, id.sport, id.dport), (0, 0, 0));
        fw
    });
    let err = talk(d, blocked).expect_err("blocked");
    assert_eq!(err.0, ErrorKind::ConnectionRefused, "{err:?}");
    assert!(err.1 < Duration::from_secs(1), "{err:?}");
    assert_eq!(
        talk(d, other).expect("other destination"),
        b"identifiers?".to_vec()
    );
    in_ns(r, move || fw.remove().expect("remove"));
    assert_eq!(
        talk(d, blocked).expect("firewall removed"),
        b"identifiers?".to_vec()
    );
    drop((router, device, server));
}
