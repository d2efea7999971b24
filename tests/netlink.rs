//! End-to-end tests of the netlink layer against the real kernel, each in a fresh network
//! namespace so no rule touches the host.
//!
//! How: the test (outer run) creates a named namespace with `ip netns add`, then re-runs this
//! same test binary for just that test under `ip netns exec NAME`, with
//! `LEAKGUARD_NETNS_INNER` set; the inner run does the work (rules, sockets, traffic on
//! 127.0.0.1). A guard deletes the namespace even when the test fails.
//!
//! Needs root and the `ip`, `iptables` (nft backend), `nft` and `conntrack` tools (Debian
//! packages iproute2, iptables, nftables, conntrack). Without them the tests are skipped with a
//! message, or fail when `CI` is set.

use std::collections::BTreeSet;
use std::net::UdpSocket;
use std::process::Command;
use std::time::{Duration, Instant};

use leakguard::netlink::{
    ConntrackEvent, ConntrackEvents, CtEventKind, Decision, Log, LogConfig, Queue, QueueConfig,
};

const INNER: &str = "LEAKGUARD_NETNS_INNER";

/// Deletes the namespace when dropped.
struct NetnsGuard(String);

impl Drop for NetnsGuard {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn tool_present(tool: &str, arg: &str) -> bool {
    Command::new(tool)
        .arg(arg)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Skips (or, under CI, fails) when the environment cannot run the test.
fn can_run(test: &str) -> bool {
    let why = if !nix::unistd::geteuid().is_root() {
        Some("needs root".to_string())
    } else {
        [
            ("ip", "-V"),
            ("iptables", "--version"),
            ("ip6tables", "--version"),
            ("nft", "--version"),
            ("conntrack", "--version"),
        ]
        .iter()
        .find(|(t, a)| !tool_present(t, a))
        .map(|(t, _)| format!("needs the `{t}` tool"))
    };
    match why {
        None => true,
        Some(w) if std::env::var_os("CI").is_some() => panic!("{test}: {w} (CI is set)"),
        Some(w) => {
            eprintln!("skipping {test}: {w}");
            false
        }
    }
}

/// Runs `body` inside a fresh network namespace (see the module docs).
fn in_netns(test: &str, body: fn()) {
    if std::env::var(INNER).as_deref() == Ok(test) {
        sh(&["ip", "link", "set", "lo", "up"]);
        body();
        return;
    }
    if !can_run(test) {
        return;
    }
    let name = format!("lgnl-{}-{test}", std::process::id());
    sh(&["ip", "netns", "add", &name]);
    let _guard = NetnsGuard(name.clone());
    let exe = std::env::current_exe().expect("current_exe");
    let out = Command::new("ip")
        .args(["netns", "exec", &name])
        .arg(exe)
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(INNER, test)
        .output()
        .expect("run ip netns exec");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("--- inner run of {test} ---\n{text}");
    assert!(out.status.success(), "{test} failed inside the namespace");
    assert!(
        text.contains("1 passed"),
        "{test}: the inner run did not run the test"
    );
}

fn sh(args: &[&str]) -> String {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?} failed: {text}");
    text
}

/// The UDP payload of an IPv4 packet.
fn udp_payload(ip: &[u8]) -> &[u8] {
    let ihl = usize::from(ip.first().copied().unwrap_or(0) & 0x0f) * 4;
    ip.get(ihl + 8..).unwrap_or(&[])
}

fn receiver(port: u16) -> UdpSocket {
    let s = UdpSocket::bind(("127.0.0.1", port)).expect("bind receiver");
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    s
}

fn drain(rx: &UdpSocket) -> Vec<Vec<u8>> {
    let mut got = Vec::new();
    let mut b = [0u8; 4096];
    while let Ok(n) = rx.recv(&mut b) {
        got.push(b[..n].to_vec());
    }
    got
}

#[test]
fn queue_accept_drop_truncate() {
    in_netns("queue_accept_drop_truncate", || {
        sh(&[
            "iptables",
            "-A",
            "OUTPUT",
            "-o",
            "lo",
            "-p",
            "udp",
            "--dport",
            "9999",
            "-j",
            "NFQUEUE",
            "--queue-num",
            "7",
            "--queue-bypass",
        ]);
        let mut q = Queue::open(&QueueConfig::new(7, 256)).expect("open queue 7");
        assert_eq!(q.num(), 7);
        let rx = receiver(9999);
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        for i in 0..10 {
            tx.send_to(format!("pkt{i}").as_bytes(), "127.0.0.1:9999")
                .unwrap();
        }
        tx.send_to(&[b'B'; 2000], "127.0.0.1:9999").unwrap();

        let mut buf = vec![0u8; 256 + 512];
        let mut seen = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        while seen.len() < 11 && Instant::now() < deadline {
            q.socket()
                .wait_readable(Duration::from_millis(100))
                .unwrap();
            q.recv_batch(&mut buf, |p| {
                assert_eq!(p.queue, 7);
                assert_eq!(p.family, 2);
                assert_eq!(p.hw_protocol, 0x0800);
                assert_eq!(p.hook, 3, "NF_INET_LOCAL_OUT");
                let data = udp_payload(p.payload);
                if data.first() == Some(&b'B') {
                    assert_eq!(p.cap_len, Some(2028), "IPv4 20 + UDP 8 + 2000");
                    assert_eq!(p.payload.len(), 256);
                    assert!(p.is_truncated());
                    seen.push("big".to_string());
                    return Some(Decision::ACCEPT);
                }
                assert!(!p.is_truncated());
                let s = String::from_utf8(data.to_vec()).unwrap();
                let n: u32 = s.trim_start_matches("pkt").parse().unwrap();
                seen.push(s);
                Some(if n % 2 == 0 {
                    Decision::ACCEPT
                } else {
                    Decision::DROP
                })
            })
            .expect("recv_batch");
        }
        assert_eq!(seen.len(), 11, "queued packets: {seen:?}");
        let got = drain(&rx);
        let mut names: BTreeSet<String> = BTreeSet::new();
        for g in &got {
            if g.len() == 2000 {
                names.insert("big".into());
            } else {
                names.insert(String::from_utf8(g.clone()).unwrap());
            }
        }
        let want: BTreeSet<String> = ["pkt0", "pkt2", "pkt4", "pkt6", "pkt8", "big"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(names, want);
        let st = q.stats();
        assert_eq!((st.packets, st.verdicts, st.cap_truncated), (11, 11, 1));
        assert_eq!((st.kernel_errors, st.malformed, st.oversize), (0, 0, 0));
        println!("queue stats: {st:?}");
    });
}

#[test]
fn queue_repeat_sets_mark() {
    in_netns("queue_repeat_sets_mark", || {
        sh(&[
            "iptables",
            "-A",
            "OUTPUT",
            "-o",
            "lo",
            "-p",
            "udp",
            "--dport",
            "9997",
            "-m",
            "mark",
            "--mark",
            "0",
            "-j",
            "NFQUEUE",
            "--queue-num",
            "8",
        ]);
        sh(&["nft", "add", "table", "inet", "t"]);
        sh(&[
            "nft",
            "add",
            "chain",
            "inet",
            "t",
            "out",
            "{ type filter hook output priority 10; }",
        ]);
        sh(&[
            "nft", "add", "rule", "inet", "t", "out", "udp", "dport", "9997", "meta", "mark",
            "0x42", "counter", "ct", "mark", "set", "meta", "mark",
        ]);
        let mut q = Queue::open(&QueueConfig::new(8, 512)).expect("open queue 8");
        let rx = receiver(9997);
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        tx.send_to(b"mark-me", "127.0.0.1:9997").unwrap();
        let mut buf = vec![0u8; 2048];
        let mut n = 0;
        let deadline = Instant::now() + Duration::from_secs(5);
        while n == 0 && Instant::now() < deadline {
            q.socket()
                .wait_readable(Duration::from_millis(100))
                .unwrap();
            n += q
                .recv_batch(&mut buf, |p| {
                    assert_eq!(p.mark, None);
                    Some(Decision::repeat_marked(0x42))
                })
                .unwrap();
        }
        assert_eq!(n, 1);
        let got = drain(&rx);
        assert_eq!(got, vec![b"mark-me".to_vec()]);
        let chain = sh(&["nft", "list", "chain", "inet", "t", "out"]);
        assert!(
            chain.contains("packets 1 "),
            "mark not seen by nft: {chain}"
        );
        let ct = sh(&["conntrack", "-L", "-p", "udp", "--dport", "9997"]);
        assert!(ct.contains("mark=66"), "ct mark not copied: {ct}");
    });
}

#[test]
fn conntrack_new_and_destroy() {
    in_netns("conntrack_new_and_destroy", || {
        sh(&["nft", "add", "table", "inet", "c"]);
        sh(&[
            "nft",
            "add",
            "chain",
            "inet",
            "c",
            "out",
            "{ type filter hook output priority 0; }",
        ]);
        sh(&[
            "nft", "add", "rule", "inet", "c", "out", "udp", "dport", "9996", "ct", "state", "new",
            "ct", "mark", "set", "7",
        ]);
        let mut ev = ConntrackEvents::open(1 << 20).expect("subscribe to conntrack events");
        let _rx = receiver(9996);
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let sport = tx.local_addr().unwrap().port();
        tx.send_to(b"hello", "127.0.0.1:9996").unwrap();

        let mut buf = vec![0u8; 8192];
        let wait_for = |ev: &mut ConntrackEvents, buf: &mut [u8], kind: CtEventKind| {
            let mut found: Option<ConntrackEvent> = None;
            let deadline = Instant::now() + Duration::from_secs(5);
            while found.is_none() && Instant::now() < deadline {
                ev.socket()
                    .wait_readable(Duration::from_millis(100))
                    .unwrap();
                ev.recv(buf, |e| {
                    if e.kind == kind && e.dport == 9996 && e.sport == sport {
                        found = Some(*e);
                    }
                })
                .unwrap();
            }
            found.unwrap_or_else(|| panic!("no {kind:?} event"))
        };
        let new = wait_for(&mut ev, &mut buf, CtEventKind::New);
        assert_eq!(new.proto, 17);
        assert_eq!(new.src, "127.0.0.1".parse::<std::net::IpAddr>().unwrap());
        assert_eq!(new.dst, new.src);
        assert_eq!(new.mark, 7);
        assert!(new.id.is_some());
        sh(&["conntrack", "-D", "-p", "udp", "--dport", "9996"]);
        let gone = wait_for(&mut ev, &mut buf, CtEventKind::Destroy);
        assert_eq!(gone.id, new.id);
        assert_eq!(gone.mark, 7);
        let st = ev.stats();
        assert!(st.events >= 2 && st.malformed == 0, "{st:?}");
        println!("conntrack stats: {st:?}");
    });
}

#[test]
fn nflog_delivers_payload() {
    in_netns("nflog_delivers_payload", || {
        sh(&["nft", "add", "table", "inet", "l"]);
        sh(&[
            "nft",
            "add",
            "chain",
            "inet",
            "l",
            "out",
            "{ type filter hook output priority 0; }",
        ]);
        sh(&[
            "nft", "add", "rule", "inet", "l", "out", "udp", "dport", "9998", "log", "prefix",
            "\"dns\"", "group", "5",
        ]);
        let mut log = Log::open(&LogConfig::new(5, 0xffff)).expect("bind NFLOG group 5");
        assert_eq!(log.group(), 5);
        let rx = receiver(9998);
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        tx.send_to(b"hello-nflog", "127.0.0.1:9998").unwrap();
        // The packet itself is not held back.
        assert_eq!(drain(&rx), vec![b"hello-nflog".to_vec()]);

        let mut buf = vec![0u8; 0xffff + 512];
        let mut got = None;
        let deadline = Instant::now() + Duration::from_secs(5);
        while got.is_none() && Instant::now() < deadline {
            log.socket()
                .wait_readable(Duration::from_millis(100))
                .unwrap();
            log.recv(&mut buf, |p| {
                assert_eq!((p.group, p.family), (5, 2));
                assert_eq!(p.prefix, Some(&b"dns"[..]));
                assert_eq!(p.outdev, Some(1), "lo");
                got = Some(udp_payload(p.payload).to_vec());
            })
            .unwrap();
        }
        assert_eq!(got.as_deref(), Some(&b"hello-nflog"[..]));
        assert_eq!(log.stats().packets, 1);
    });
}

#[test]
fn errors_are_explained() {
    in_netns("errors_are_explained", || {
        let first = Queue::open(&QueueConfig::new(9, 128)).expect("first bind");
        let e = Queue::open(&QueueConfig::new(9, 128)).expect_err("second bind must fail");
        let msg = e.to_string();
        // nfnetlink_queue answers EPERM when another socket holds the queue.
        assert_eq!(e.errno(), Some(nix::errno::Errno::EPERM), "{msg}");
        assert!(msg.contains("another process"), "{msg}");
        drop(first);
        // Closing the socket releases the queue.
        Queue::open(&QueueConfig::new(9, 128)).expect("bind after release");
        assert!(msg.contains("bind and configure NFQUEUE"), "{msg}");
    });
}

#[test]
fn queue_ipv6_and_oversize_datagram() {
    in_netns("queue_ipv6_and_oversize_datagram", || {
        sh(&[
            "ip6tables",
            "-A",
            "OUTPUT",
            "-o",
            "lo",
            "-p",
            "udp",
            "--dport",
            "9995",
            "-j",
            "NFQUEUE",
            "--queue-num",
            "10",
        ]);
        let mut q = Queue::open(&QueueConfig::new(10, 4000)).expect("open queue 10");
        let rx = UdpSocket::bind("[::1]:9995").expect("bind [::1]:9995");
        rx.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let tx = UdpSocket::bind("[::1]:0").unwrap();
        tx.send_to(b"six", "[::1]:9995").unwrap();
        let mut buf = vec![0u8; 4096 + 512];
        let mut seen = 0;
        let deadline = Instant::now() + Duration::from_secs(5);
        while seen == 0 && Instant::now() < deadline {
            q.socket()
                .wait_readable(Duration::from_millis(100))
                .unwrap();
            seen += q
                .recv_batch(&mut buf, |p| {
                    assert_eq!((p.family, p.hw_protocol), (10, 0x86dd));
                    // IPv6 header 40 + UDP 8
                    assert_eq!(p.payload.get(48..), Some(&b"six"[..]));
                    Some(Decision::ACCEPT)
                })
                .unwrap();
        }
        assert_eq!(seen, 1);
        assert_eq!(drain(&rx), vec![b"six".to_vec()]);

        // A datagram larger than the receive buffer: the packet is accepted unseen, not stranded.
        tx.send_to(&[b'x'; 3000], "[::1]:9995").unwrap();
        let mut small = vec![0u8; 512];
        let deadline = Instant::now() + Duration::from_secs(5);
        while q.stats().oversize == 0 && Instant::now() < deadline {
            q.socket()
                .wait_readable(Duration::from_millis(100))
                .unwrap();
            let n = q.recv_batch(&mut small, |_| Some(Decision::DROP)).unwrap();
            assert_eq!(n, 0);
        }
        assert_eq!(q.stats().oversize, 1);
        let got = drain(&rx);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].len(), 3000);
    });
}

#[test]
fn queue_deferred_batch_verdict() {
    in_netns("queue_deferred_batch_verdict", || {
        sh(&[
            "iptables",
            "-A",
            "OUTPUT",
            "-o",
            "lo",
            "-p",
            "udp",
            "--dport",
            "9994",
            "-j",
            "NFQUEUE",
            "--queue-num",
            "11",
        ]);
        let mut q = Queue::open(&QueueConfig::new(11, 128)).expect("open queue 11");
        let rx = receiver(9994);
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        for i in 0..3 {
            tx.send_to(format!("d{i}").as_bytes(), "127.0.0.1:9994")
                .unwrap();
        }
        let mut buf = vec![0u8; 1024];
        let mut ids = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        while ids.len() < 3 && Instant::now() < deadline {
            q.socket()
                .wait_readable(Duration::from_millis(100))
                .unwrap();
            q.recv_batch(&mut buf, |p| {
                ids.push(p.id);
                None // decided later
            })
            .unwrap();
        }
        assert_eq!(ids.len(), 3);
        // Held until the verdict: nothing has arrived yet.
        assert!(drain(&rx).is_empty());
        let last = *ids.iter().max().unwrap();
        q.verdict_batch(last, leakguard::netlink::Verdict::Accept, None)
            .unwrap();
        q.flush().unwrap();
        assert_eq!(drain(&rx).len(), 3);
    });
}
