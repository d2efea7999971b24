//! End-to-end tests of the inline daemon against the real kernel: three network namespaces (LAN
//! client, router running `leakguard run --foreground`, WAN servers), real NFQUEUE, conntrack and
//! nftables. See tests/netns/topology.rs for the topology, tests/netns/daemon.rs for the daemon
//! helper and the config the tests write ([`daemon::config_text`]).
//!
//! They need root and ip, nft, iptables, dnsmasq, curl, python3 and conntrack: without them they
//! print why and pass, unless `CI` is set (then they fail). They run one at a time (a global lock):
//! NFQUEUE numbers and the CPU are shared; each test still uses its own queue number (11-30).
//! Set `LEAKGUARD_NETNS_KEEP=1` to keep the scratch directories (always kept when a test fails:
//! config, daemon stderr, what the WAN servers received, dnsmasq's query log), and
//! `LEAKGUARD_NETNS_BIN=/path/to/leakguard` to test another build than `target/debug`.
//!
//! Run: `cargo test --test netns -- --nocapture` (as root). A failing assertion prints the
//! daemon's config, stderr, syslog lines and status.

#[path = "netns/daemon.rs"]
mod daemon;
#[path = "common/encode.rs"]
#[allow(dead_code)]
mod encode;
#[path = "common/exposure.rs"]
mod exposure;
#[path = "netns/topology.rs"]
mod topology;

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use daemon::{device_with_imei, Daemon, TestConfig, TABLE};
use topology::{
    pseudo_random, Topology, LAN_IP, LAN_IP6, ROUTER_LAN_IP, ROUTER_LAN_IP6, WAN_IP, WAN_IP6,
};

/// The standard example IMEI (Luhn-valid, reporting body 49).
const IMEI: &str = "490154203237518";
const IMEI_MASKED: &str = "4901********518";
const LEAK_BODY: &str = r#"{"imei":"490154203237518"}"#;
const URL: &str = "http://198.51.100.2:8080/reg";
const URL6: &str = "http://[fd99::2]:8080/reg";

static SERIAL: Mutex<()> = Mutex::new(());

/// One test at a time; a failed test must not stop the others.
fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Root and the tools, or a skip (a failure under CI).
fn prerequisites(test: &str) -> bool {
    let missing = topology::missing(&[
        "ip",
        "nft",
        "iptables",
        "dnsmasq",
        "curl",
        "python3",
        "conntrack",
    ]);
    if missing.is_empty() {
        return true;
    }
    let message = format!(
        "netns test {test}: needs {} (apt-get install iproute2 nftables iptables dnsmasq-base curl python3 conntrack; run as root)",
        missing.join(", ")
    );
    if std::env::var_os("CI").is_some() {
        panic!("{message}");
    }
    eprintln!("SKIPPED: {message}");
    false
}

/// Counter `name` of a status snapshot.
fn counter(status: &serde_json::Value, name: &str) -> u64 {
    status["counters"][name].as_u64().unwrap_or(0)
}

/// Asserts the clear IMEI appears nowhere the daemon writes: syslog, stderr, status (socket and
/// file).
fn assert_never_clear(d: &Daemon) {
    let status = d.status_json().map(|v| v.to_string()).unwrap_or_default();
    for (what, text) in [
        ("syslog", d.syslog_lines().join("\n")),
        ("stderr", d.stderr_text()),
        ("status --json", status),
        ("status.json", d.status_file()),
    ] {
        assert!(
            !text.contains(IMEI),
            "the clear IMEI appears in the daemon's {what}{}",
            d.context()
        );
    }
}

/// A clean POST with a unique marker passes and the server receives it whole.
fn assert_clean_post_passes(topo: &Topology, d: &Daemon, url: &str, marker: &str) {
    let body = format!(r#"{{"hello":"{marker}"}}"#);
    let out = topo.post(url, &body);
    assert!(
        Topology::post_ok(&out),
        "clean POST {body} to {url} did not pass: {out}\nWAN records:\n{}{}",
        topo.wan_summary(),
        d.context()
    );
    assert!(
        topo.http_bodies().contains(&body),
        "clean POST answered 200 but the server's record lacks it\nWAN records:\n{}{}",
        topo.wan_summary(),
        d.context()
    );
}

/// The leak was not delivered and an alert with kind=imei and the masked value was logged.
/// The status lists blocks (the key is there) and none is in place.
fn assert_no_blocks(status: &serde_json::Value, d: &Daemon, what: &str) {
    assert!(
        status["blocks"].as_array().is_some_and(Vec::is_empty),
        "{what}: blocks in status {}{}",
        status["blocks"],
        d.context()
    );
}

fn assert_blocked_and_alerted(topo: &Topology, d: &Daemon, what: &str, proto: &str) -> String {
    // Not a fixed sleep: the daemon counted the packet dropped (so the flow is marked blocked
    // in the kernel and its retransmissions die too) before "the server never saw it" is
    // judged. Callers make a clean exchange pass in the same test (the positive control).
    let dropped = topology::poll(Duration::from_secs(5), || {
        d.status_json()
            .ok()
            .filter(|s| counter(s, "dropped") > 0)
            .map(|_| ())
    });
    assert!(
        dropped.is_some(),
        "{what}: the daemon counted no dropped packet{}",
        d.context()
    );
    assert!(
        !topo.wan_received(IMEI),
        "{what}: the WAN server received the IMEI\nWAN records:\n{}{}",
        topo.wan_summary(),
        d.context()
    );
    let line = d
        .wait_syslog(&["kind=imei", IMEI_MASKED], Duration::from_secs(3))
        .unwrap_or_else(|| {
            panic!(
                "{what}: no syslog line with kind=imei value={IMEI_MASKED}{}",
                d.context()
            )
        });
    assert!(
        line.contains(&format!("proto={proto}")),
        "{what}: syslog line lacks proto={proto}: {line}{}",
        d.context()
    );
    assert!(
        line.contains("action=blocked"),
        "{what}: syslog line is not a block: {line}{}",
        d.context()
    );
    assert_never_clear(d);
    line
}

#[test]
fn topology_forwards_without_daemon() {
    let _g = serial();
    if !prerequisites("topology_forwards_without_daemon") {
        return;
    }
    let topo = Topology::new("baseline");
    for (url, marker) in [(URL, "v4"), (URL6, "v6")] {
        let body = format!(r#"{{"hello":"{marker}"}}"#);
        let out = topo.post(url, &body);
        assert!(
            Topology::post_ok(&out),
            "POST to {url}: {out}\n{}",
            topo.wan_summary()
        );
        assert!(
            topo.http_bodies().contains(&body),
            "server lacks {body}:\n{}",
            topo.wan_summary()
        );
    }
    for server in [ROUTER_LAN_IP, ROUTER_LAN_IP6] {
        let out = topo.dns_query(server, "zzhc.vnet.cn");
        assert!(
            out.stdout.contains("rcode=0 ancount=1"),
            "DNS via {server}: {out}"
        );
    }
    let out = topo.tool(
        &topo.lan,
        &["udpsend", WAN_IP6, "5683", "6869"],
        Duration::from_secs(5),
    );
    assert!(out.stdout.starts_with("ok:ack"), "UDP over v6: {out}");
    let out = topo.tool(
        &topo.lan,
        &["split", WAN_IP, "9000", "0.05", "6869", "7468657265"],
        Duration::from_secs(10),
    );
    assert!(out.stdout.starts_with("ok:OK 7 "), "TCP sink: {out}");
    assert_eq!(topo.sink_records(), vec![b"hithere".to_vec()]);
    let log = std::fs::read_to_string(&topo.dnsmasq_log).unwrap_or_default();
    assert!(log.contains("zzhc.vnet.cn"), "dnsmasq logs queries: {log}");
    // The router's MAC is what the malformed-packet test sends frames to.
    let mac = topo.router_lan_mac();
    assert_eq!(mac.len(), 17);

    // Positive controls: without the daemon every leak the daemon tests send arrives, and the
    // checks that must stay false under the daemon see it.
    assert!(!topo.wan_received(IMEI));
    let out = topo.post(URL, LEAK_BODY);
    assert!(Topology::post_ok(&out), "leak POST without daemon: {out}");
    assert!(topo.http_bodies().iter().any(|b| b == LEAK_BODY));
    assert!(topo.wan_received(IMEI));
    let topo = Topology::new("baseline-split");
    let args = split_leak_args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = topo.tool(&topo.lan, &args, Duration::from_secs(20));
    assert!(
        out.stdout.starts_with("ok:OK "),
        "split leak without daemon: {out}"
    );
    assert!(topo.wan_received(IMEI), "sink:\n{}", topo.wan_summary());
    let topo = Topology::new("baseline-udp");
    let out = topo.tool(
        &topo.lan,
        &["udpsend", WAN_IP, "5683", &udp_leak_hex()],
        Duration::from_secs(5),
    );
    assert!(
        out.stdout.starts_with("ok:ack"),
        "UDP leak without daemon: {out}"
    );
    assert!(topo.wan_received(IMEI), "udp:\n{}", topo.wan_summary());
    let out = topo.dns_query(ROUTER_LAN_IP, &format!("{IMEI}.example.com"));
    assert!(
        out.stdout.starts_with("rcode="),
        "DNS leak without daemon: {out}"
    );
    let log = std::fs::read_to_string(&topo.dnsmasq_log).unwrap_or_default();
    assert!(log.contains(IMEI), "dnsmasq logs the leaking query: {log}");
    // The garbage sender runs (its packets just die in the router without a daemon).
    let out = topo.tool(
        &topo.lan,
        &["garbage", WAN_IP, "300", "7", "lan0", &mac],
        Duration::from_secs(30),
    );
    assert!(
        out.ok() && out.stdout.starts_with("sent="),
        "garbage sender: {out}"
    );
    eprintln!("garbage sender: {}", out.stdout.trim());
    let out = topo.post(URL, r#"{"hello":"after-garbage"}"#);
    assert!(Topology::post_ok(&out), "POST after garbage: {out}");
}

/// tool.py arguments sending an HTTP POST to the sink in three TCP segments, the IMEI split
/// across them.
fn split_leak_args() -> Vec<String> {
    let pieces = [
        "POST /reg HTTP/1.1\r\nHost: 198.51.100.2\r\nContent-Type: application/json\r\n\r\n{\"imei\":\"4901542",
        "0323",
        "7518\"}\n",
    ];
    let mut args: Vec<String> = ["split", WAN_IP, "9000", "0.2"].map(String::from).to_vec();
    args.extend(pieces.iter().map(|p| hex(p.as_bytes())));
    args
}

/// A CoAP-like UDP payload carrying the IMEI, hex-encoded for tool.py.
fn udp_leak_hex() -> String {
    hex(format!("ep=urn:imei:{IMEI}").as_bytes())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn enforce_blocks_imei_post() {
    let _g = serial();
    if !prerequisites("enforce_blocks_imei_post") {
        return;
    }
    let topo = Topology::new("enforce");
    let d = Daemon::start(&topo, TestConfig::enforce(11));
    let timeout = u64::from(d.cfg.block_timeout);
    assert_clean_post_passes(&topo, &d, URL, "before");

    let out = topo.post(URL, LEAK_BODY);
    eprintln!("leaking POST: {out}");
    // tcp_reset = true: curl is reset (exit 56 or 52), not left to its 5 s timeout (28).
    assert!(
        out.code() != Some(28),
        "tcp_reset = true but curl timed out instead of being reset: {out}{}",
        d.context()
    );
    assert!(
        !Topology::post_ok(&out),
        "the leaking POST got its 200: {out}{}",
        d.context()
    );
    assert!(
        out.elapsed < Duration::from_secs(7),
        "the leaking POST hung: {out}"
    );
    let line = assert_blocked_and_alerted(&topo, &d, "JSON POST", "tcp");
    assert!(
        line.starts_with("<28>"),
        "syslog priority (daemon.warning): {line}"
    );
    assert!(line.contains("leakguard["), "syslog tag: {line}");
    assert!(
        line.contains("action=blocked"),
        "enforce with a scope blocks: {line}{}",
        d.context()
    );

    let status = d.status();
    eprintln!("status after the leak: {status:#}");
    assert!(
        counter(&status, "leaks") >= 1,
        "leaks counter{}",
        d.context()
    );
    let alerts = status["recent_alerts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        alerts
            .iter()
            .any(|a| a["kind"] == "imei" && a["value"] == IMEI_MASKED),
        "recent_alerts lacks the IMEI alert{}",
        d.context()
    );
    let blocks = status["blocks"].as_array().cloned().unwrap_or_default();
    let block = blocks
        .iter()
        .find(|b| b["scope"] == "device-destination")
        .unwrap_or_else(|| panic!("no device-destination block in status{}", d.context()));
    let expires = block["expires_in_secs"].as_u64().unwrap_or(u64::MAX);
    assert!(
        expires > 0 && expires <= timeout,
        "block expires_in_secs {expires}, timeout {timeout}"
    );
    // `src` is the device's IP or its MAC (when the daemon knows it).
    assert!(
        block["src"]
            .as_str()
            .is_some_and(|s| s.contains(LAN_IP) || s.matches(':').count() == 5),
        "block src is neither the device's IP nor a MAC: {block}"
    );
    assert!(
        block["dst"].as_str().unwrap_or("").contains(WAN_IP),
        "block dst: {block}"
    );

    let table = topo.nft_table(TABLE);
    eprintln!("table after the leak: {table}");
    assert!(
        table.stdout.contains("expires") && table.stdout.contains(WAN_IP),
        "no set element with a timeout for {WAN_IP} in table inet {TABLE}: {table}{}",
        d.context()
    );

    // device-destination: a clean connection from the same device to the same place is blocked.
    let out = topo.post(URL, r#"{"hello":"after-block"}"#);
    assert!(
        !Topology::post_ok(&out),
        "a clean POST passed the block: {out}{}",
        d.context()
    );
    assert!(
        !topo.wan_received("after-block"),
        "the blocked clean POST arrived{}",
        d.context()
    );

    let out = d.unblock_all();
    assert!(out.ok(), "leakguard unblock all: {out}{}", d.context());
    let status = d.status();
    assert_eq!(
        status["blocks"].as_array().map(Vec::len),
        Some(0),
        "blocks after unblock all{}",
        d.context()
    );
    assert_clean_post_passes(&topo, &d, URL, "after-unblock");
    assert_never_clear(&d);
}

#[test]
fn clean_traffic_passes_and_is_bypassed() {
    let _g = serial();
    if !prerequisites("clean_traffic_passes_and_is_bypassed") {
        return;
    }
    let topo = Topology::new("clean");
    let d = Daemon::start(&topo, TestConfig::enforce(12));
    assert_clean_post_passes(&topo, &d, URL, "clean-v4");
    assert_clean_post_passes(&topo, &d, URL6, "clean-v6");

    const SIZE: usize = 10 * 1024 * 1024;
    let upload = pseudo_random(SIZE, 0x1ea6_6a2d);
    let upload_path = topo.dir.join("upload.bin");
    std::fs::write(&upload_path, &upload).expect("upload file");
    let out = topo.tool(
        &topo.lan,
        &["upload", WAN_IP, "9000", &upload_path.display().to_string()],
        Duration::from_secs(60),
    );
    eprintln!("upload: {out}");
    assert!(
        out.stdout.starts_with(&format!("ok:OK {SIZE} ")),
        "10 MB upload: {out}{}",
        d.context()
    );
    let records = topo.sink_records();
    assert!(
        records.contains(&upload),
        "the sink's copy differs from the upload{}",
        d.context()
    );

    let download = pseudo_random(SIZE, 0xd0_a1_0a_d5);
    std::fs::write(topo.wan_dir.join("big.bin"), &download).expect("download file");
    let down_path = topo.dir.join("down.bin");
    let out = topo.exec(
        &topo.lan,
        &[
            "curl",
            "-sS",
            "-m",
            "60",
            "-o",
            &down_path.display().to_string(),
            "http://198.51.100.2:8080/big",
        ],
        Duration::from_secs(70),
    );
    eprintln!("download: {out}");
    assert!(out.ok(), "10 MB download: {out}{}", d.context());
    let got = std::fs::read(&down_path).unwrap_or_default();
    assert!(
        got.len() == SIZE && got == download,
        "download: {} bytes, differs{}",
        got.len(),
        d.context()
    );

    // The status file is rewritten every ~2 s; the socket answers now.
    let status = d.status();
    eprintln!("counters after 2 x 10 MB: {:#}", status["counters"]);
    let packets = counter(&status, "packets");
    assert!(
        packets > 0,
        "the queue saw no packet at all: is traffic queued?{}",
        d.context()
    );
    assert!(
        packets < 2000,
        "the queue saw {packets} packets for 2 x 10 MB (~14000 segments): flows are not bypassed{}",
        d.context()
    );
    assert!(
        counter(&status, "bypassed") >= 1,
        "no flow bypassed{}",
        d.context()
    );
    assert_eq!(
        counter(&status, "leaks"),
        0,
        "clean traffic produced leaks{}",
        d.context()
    );
    assert_no_blocks(&status, &d, "clean traffic");
    let file = topology::poll(Duration::from_secs(5), || {
        serde_json::from_str::<serde_json::Value>(&d.status_file()).ok()
    })
    .unwrap_or_else(|| {
        panic!(
            "no valid {}/status.json{}",
            d.run_dir.display(),
            d.context()
        )
    });
    assert!(
        file["counters"]["packets"].as_u64().is_some(),
        "status.json has no counters.packets: {file}"
    );
}

#[test]
fn leak_split_across_tcp_segments() {
    let _g = serial();
    if !prerequisites("leak_split_across_tcp_segments") {
        return;
    }
    let topo = Topology::new("split");
    let d = Daemon::start(&topo, TestConfig::enforce(13));
    let args = split_leak_args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = topo.tool(&topo.lan, &args, Duration::from_secs(20));
    eprintln!("split client: {out}");
    assert!(
        !out.stdout.starts_with("ok:"),
        "the split leak completed: {out}{}",
        d.context()
    );
    assert_blocked_and_alerted(&topo, &d, "IMEI split over 3 TCP segments", "tcp");
}

#[test]
fn leak_over_udp() {
    let _g = serial();
    if !prerequisites("leak_over_udp") {
        return;
    }
    let topo = Topology::new("udp");
    let d = Daemon::start(&topo, TestConfig::enforce(14));
    let clean = topo.tool(
        &topo.lan,
        &["udpsend", WAN_IP, "5683", "68656c6c6f"],
        Duration::from_secs(5),
    );
    assert!(
        clean.stdout.starts_with("ok:ack"),
        "clean UDP: {clean}{}",
        d.context()
    );
    let payload = udp_leak_hex();
    let out = topo.tool(
        &topo.lan,
        &["udpsend", WAN_IP, "5683", &payload],
        Duration::from_secs(5),
    );
    eprintln!("UDP leak: {out}");
    assert!(
        out.stdout.starts_with("timeout"),
        "the UDP leak was answered: {out}{}",
        d.context()
    );
    assert_blocked_and_alerted(&topo, &d, "CoAP-like UDP", "udp");
}

#[test]
fn leak_over_ipv6() {
    let _g = serial();
    if !prerequisites("leak_over_ipv6") {
        return;
    }
    let topo = Topology::new("ipv6");
    let d = Daemon::start(&topo, TestConfig::enforce(15));
    assert_clean_post_passes(&topo, &d, URL6, "clean-v6");
    let out = topo.post(URL6, LEAK_BODY);
    eprintln!("IPv6 leak: {out}");
    assert!(
        !Topology::post_ok(&out),
        "the IPv6 leak got its 200: {out}{}",
        d.context()
    );
    let line = assert_blocked_and_alerted(&topo, &d, "POST over IPv6", "tcp");
    assert!(
        line.contains(WAN_IP6),
        "syslog line lacks the v6 destination: {line}"
    );
    assert!(
        line.contains(LAN_IP6),
        "syslog line lacks the v6 device address: {line}"
    );
}

#[test]
fn leak_in_dns_query() {
    let _g = serial();
    if !prerequisites("leak_in_dns_query") {
        return;
    }
    let topo = Topology::new("dns");
    let mut cfg = TestConfig::enforce(16);
    cfg.extra = device_with_imei(IMEI);
    let d = Daemon::start(&topo, cfg);
    let out = topo.dns_query(ROUTER_LAN_IP, "zzhc.vnet.cn");
    assert!(
        out.stdout.contains("rcode=0 ancount=1"),
        "clean DNS query through the daemon: {out}{}",
        d.context()
    );
    let name = format!("{IMEI}.example.com");
    let out = topo.dns_query(ROUTER_LAN_IP, &name);
    eprintln!("DNS leak: {out}");
    assert!(
        out.stdout.starts_with("timeout"),
        "the leaking DNS query was answered: {out}{}",
        d.context()
    );
    // Not a fixed sleep: the daemon judged the query and counted it dropped, so it can never
    // reach dnsmasq later; the clean query above is the positive control (dnsmasq logged it).
    let line = d
        .wait_syslog(&["kind=imei", IMEI_MASKED], Duration::from_secs(3))
        .unwrap_or_else(|| panic!("no syslog line for the DNS leak{}", d.context()));
    let dropped = topology::poll(Duration::from_secs(5), || {
        let s = d.status_json().ok()?;
        (counter(&s, "dropped") > 0).then_some(())
    });
    assert!(
        dropped.is_some(),
        "the daemon counted no drop{}",
        d.context()
    );
    let log = topology::poll(Duration::from_secs(5), || {
        let log = std::fs::read_to_string(&topo.dnsmasq_log).ok()?;
        log.contains("zzhc.vnet.cn").then_some(log)
    })
    .unwrap_or_else(|| {
        panic!(
            "dnsmasq logged no query at all (positive control){}",
            d.context()
        )
    });
    assert!(
        !log.contains(IMEI),
        "dnsmasq received the leaking query:\n{log}{}",
        d.context()
    );
    assert!(
        line.contains("proto=udp") && line.contains("dport=53") && line.contains("action=dropped"),
        "DNS leak line: {line}"
    );
    // Only the query was dropped: no block, and the device keeps its resolver.
    let status = d.status();
    assert_no_blocks(&status, &d, "a DNS leak");
    let out = topo.dns_query(ROUTER_LAN_IP, "zzhc.vnet.cn");
    assert!(
        out.stdout.contains("rcode=0 ancount=1"),
        "a clean query after the leak was not answered: {out}{}",
        d.context()
    );
    assert_never_clear(&d);
}

#[test]
fn monitor_mode_reports_only() {
    let _g = serial();
    if !prerequisites("monitor_mode_reports_only") {
        return;
    }
    let topo = Topology::new("monitor");
    let d = Daemon::start(&topo, TestConfig::monitor(17));
    let out = topo.post(URL, LEAK_BODY);
    assert!(
        Topology::post_ok(&out),
        "monitor mode blocked the POST: {out}{}",
        d.context()
    );
    assert!(
        topo.http_bodies().iter().any(|b| b == LEAK_BODY),
        "monitor mode: the server did not receive the body\n{}{}",
        topo.wan_summary(),
        d.context()
    );
    let line = d
        .wait_syslog(&["kind=imei", IMEI_MASKED], Duration::from_secs(3))
        .unwrap_or_else(|| panic!("monitor mode: no alert{}", d.context()));
    assert!(
        line.contains("action=reported"),
        "monitor mode action: {line}{}",
        d.context()
    );
    let status = d.status();
    assert_eq!(status["mode"], "monitor");
    assert!(
        counter(&status, "leaks") >= 1,
        "leaks counter{}",
        d.context()
    );
    assert_eq!(
        counter(&status, "dropped"),
        0,
        "monitor mode dropped packets{}",
        d.context()
    );
    assert_no_blocks(&status, &d, "monitor mode");
    let table = topo.nft_table(TABLE);
    assert!(
        !table.stdout.contains("expires"),
        "monitor mode installed a set element: {table}"
    );
    assert_clean_post_passes(&topo, &d, URL, "after");
    assert_never_clear(&d);
}

#[test]
fn kill_9_keeps_traffic_flowing() {
    let _g = serial();
    if !prerequisites("kill_9_keeps_traffic_flowing") {
        return;
    }
    let topo = Topology::new("kill9");
    let mut d = Daemon::start(&topo, TestConfig::enforce(18));
    assert_clean_post_passes(&topo, &d, URL, "before-kill");
    let rules_before = queue_rules(&topo, 18);
    assert!(rules_before > 0, "no queue rule:\n{}", topo.nft_ruleset());
    // In flight when the daemon dies: a slow sender whose flow is still undecided (20 small
    // segments, 0.1 s apart: under the budget, so every one is queued) and a 4 MB upload.
    let pieces: Vec<String> = (0..20)
        .map(|i| hex(format!("slow-{i:02};").as_bytes()))
        .collect();
    let mut args = vec!["split", WAN_IP, "9000", "0.1"];
    args.extend(pieces.iter().map(String::as_str));
    let mut slow = topo.tool_background(&topo.lan, "slow", &args);
    let upload_path = topo.dir.join("upload.bin");
    let upload = pseudo_random(4 * 1024 * 1024, 99);
    std::fs::write(&upload_path, &upload).expect("upload file");
    let path_arg = upload_path.display().to_string();
    let mut uploader = topo.tool_background(
        &topo.lan,
        "uploader",
        &["upload", WAN_IP, "9000", &path_arg],
    );
    // Under traffic: both flows are in the daemon's hands before it is killed.
    let busy = topology::poll(Duration::from_secs(10), || {
        let s = d.status_json().ok()?;
        (counter(&s, "flows_inspected") >= 2).then_some(())
    });
    assert!(
        busy.is_some(),
        "no traffic through the daemon before kill -9: {}{}",
        d.status()["counters"],
        d.context()
    );
    let killed = d.signal_and_wait(Signal::SIGKILL, Duration::from_secs(5));
    assert!(killed.is_some(), "kill -9 did not end the daemon");
    for (child, name) in [(&mut uploader, "uploader"), (&mut slow, "slow")] {
        let status = topology::wait_deadline(child, Duration::from_secs(30));
        let _ = child.kill();
        let log = topo.log_of(name);
        assert!(
            status.is_some_and(|s| s.success()) && log.starts_with("ok:OK"),
            "the {name} flow running during kill -9 failed ({status:?}): {log}\n{}{}",
            topo.nft_ruleset(),
            d.context()
        );
    }
    let sent: Vec<u8> = (0..20)
        .flat_map(|i| format!("slow-{i:02};").into_bytes())
        .collect();
    let records = topo.sink_records();
    assert!(
        records.contains(&upload),
        "the sink's copy of the upload differs"
    );
    assert!(
        records.contains(&sent),
        "the slow flow arrived damaged:\n{}",
        topo.wan_summary()
    );
    // The queue rule stays behind with `bypass`: new flows pass without a listener.
    let out = topo.post(URL, r#"{"hello":"after-kill"}"#);
    assert!(
        Topology::post_ok(&out),
        "clean POST after kill -9: {out}\n{}",
        topo.nft_ruleset()
    );
    let out = topo.tool(
        &topo.lan,
        &["udpsend", WAN_IP, "5683", "6869"],
        Duration::from_secs(5),
    );
    assert!(
        out.stdout.starts_with("ok:ack"),
        "clean UDP after kill -9: {out}\n{}",
        topo.nft_ruleset()
    );
    let out = topo.dns_query(ROUTER_LAN_IP, "zzhc.vnet.cn");
    assert!(
        out.stdout.contains("ancount=1"),
        "DNS after kill -9: {out}\n{}",
        topo.nft_ruleset()
    );
    // `status` says it is not running, that it died, and since when.
    let st = d.status_text();
    assert!(
        !st.ok() && st.stderr.contains("it died") && st.stderr.contains("ago"),
        "status after kill -9: {st}"
    );
    // The next start takes over what the dead one left: one set of queue rules, not two, and
    // it says the previous daemon died.
    d.spawn(&topo);
    let status = d.status();
    assert_eq!(
        status["previous"]["clean"],
        false,
        "the restarted daemon does not say its predecessor died{}",
        d.context()
    );
    assert_eq!(
        queue_rules(&topo, 18),
        rules_before,
        "queue rules after the restart:\n{}",
        topo.nft_ruleset()
    );
    assert_clean_post_passes(&topo, &d, URL, "after-restart");
    let out = topo.post(URL, LEAK_BODY);
    assert!(
        !Topology::post_ok(&out),
        "a leak after the restart got its 200: {out}{}",
        d.context()
    );
    assert_blocked_and_alerted(&topo, &d, "leak after the restart", "tcp");
}

/// Lines of the ruleset that queue to `queue` (nft `queue` or xt NFQUEUE rules).
fn queue_rules(topo: &Topology, queue: u16) -> usize {
    let ruleset = topo.nft_ruleset().stdout;
    let nft = format!("queue num {queue}");
    let xt = format!("--queue-num {queue}");
    ruleset
        .lines()
        .filter(|l| {
            l.contains(&nft) || l.contains(&xt) || l.contains(&format!("queue-num {queue}"))
        })
        .count()
}

#[test]
fn flushed_ruleset_is_restored() {
    let _g = serial();
    if !prerequisites("flushed_ruleset_is_restored") {
        return;
    }
    let topo = Topology::new("flush");
    let mut d = Daemon::start(&topo, TestConfig::enforce(19));
    let out = topo.exec(
        &topo.router,
        &["nft", "flush", "ruleset"],
        Duration::from_secs(5),
    );
    assert!(out.ok(), "nft flush ruleset: {out}");
    let start = Instant::now();
    let back = topology::poll(Duration::from_secs(6), || {
        topo.nft_table(TABLE).ok().then_some(())
    });
    eprintln!("table back after {:.2?}", start.elapsed());
    assert!(
        back.is_some(),
        "the table did not come back within 6 s{}",
        d.context()
    );
    assert!(
        start.elapsed() <= Duration::from_secs(5) + Duration::from_millis(500),
        "table back only after {:.2?}",
        start.elapsed()
    );
    assert!(d.alive(), "the daemon died after the flush{}", d.context());
    // The queue rule (which may live in an iptables-nft table) is back as well.
    let queued = topology::poll(Duration::from_secs(5), || {
        (queue_rules(&topo, 19) > 0).then_some(())
    });
    assert!(
        queued.is_some(),
        "no queue rule after the flush{}",
        d.context()
    );
    assert_clean_post_passes(&topo, &d, URL, "after-flush");
    let out = topo.post(URL, LEAK_BODY);
    assert!(
        !Topology::post_ok(&out),
        "a leak after the flush got its 200: {out}\n{}{}",
        topo.nft_ruleset(),
        d.context()
    );
    assert_blocked_and_alerted(&topo, &d, "leak after nft flush ruleset", "tcp");
}

#[test]
fn sigterm_and_sigint_remove_the_table() {
    let _g = serial();
    if !prerequisites("sigterm_and_sigint_remove_the_table") {
        return;
    }
    let topo = Topology::new("sigterm");
    for (sig, queue) in [(Signal::SIGTERM, 20), (Signal::SIGINT, 21)] {
        let mut d = Daemon::start(&topo, TestConfig::enforce(queue));
        assert_clean_post_passes(&topo, &d, URL, &format!("before-{sig}"));
        let status = d.signal_and_wait(sig, Duration::from_secs(5));
        assert!(
            status.is_some_and(|s| s.success()),
            "{sig}: the daemon did not exit 0 within 5 s: {status:?}{}",
            d.context()
        );
        let table = topo.nft_table(TABLE);
        assert!(
            !table.ok(),
            "{sig}: table inet {TABLE} is still there: {table}"
        );
        let ruleset = topo.nft_ruleset();
        assert!(
            !ruleset.stdout.contains("NFQUEUE") && !ruleset.stdout.contains("queue num"),
            "{sig}: a queue rule is left behind:\n{}{}",
            ruleset.stdout,
            d.context()
        );
        assert_clean_post_passes(&topo, &d, URL, &format!("after-{sig}"));
    }
}

#[test]
fn malformed_packets_do_not_kill_the_daemon() {
    let _g = serial();
    if !prerequisites("malformed_packets_do_not_kill_the_daemon") {
        return;
    }
    let topo = Topology::new("garbage");
    let mut d = Daemon::start(&topo, TestConfig::enforce(22));
    let mac = topo.router_lan_mac();
    let out = topo.tool(
        &topo.lan,
        &["garbage", WAN_IP, "300", "7", "lan0", &mac],
        Duration::from_secs(30),
    );
    eprintln!("garbage: {out}");
    assert!(out.ok(), "the garbage sender failed: {out}");
    // Not a fixed sleep: a clean request queued behind the garbage passes (the queue is one
    // ordered stream, so every garbage packet had its verdict), then the daemon is alive.
    assert_clean_post_passes(&topo, &d, URL, "after-garbage");
    assert!(
        d.alive(),
        "the daemon died on malformed packets{}",
        d.context()
    );
    let status = d.status();
    eprintln!("counters after garbage: {:#}", status["counters"]);
    assert!(
        !d.stderr_text().contains("panicked"),
        "the daemon panicked{}",
        d.context()
    );
}

#[test]
fn scope_flow_blocks_only_the_leaking_flow() {
    let _g = serial();
    if !prerequisites("scope_flow_blocks_only_the_leaking_flow") {
        return;
    }
    let topo = Topology::new("scopeflow");
    let mut cfg = TestConfig::enforce(23);
    cfg.scope = "flow";
    let d = Daemon::start(&topo, cfg);
    let out = topo.post(URL, LEAK_BODY);
    assert!(
        !Topology::post_ok(&out),
        "the leak got its 200: {out}{}",
        d.context()
    );
    assert_blocked_and_alerted(&topo, &d, "POST with scope = flow", "tcp");
    // Another connection from the same device to the same place is not the leaking flow.
    assert_clean_post_passes(&topo, &d, URL, "same-destination-other-flow");
    let status = d.status();
    let blocks = status["blocks"].as_array().cloned().unwrap_or_default();
    assert!(
        blocks.iter().all(|b| b["scope"] == "flow"),
        "scope = flow installed a wider block: {blocks:?}{}",
        d.context()
    );
}

#[test]
fn block_expires_after_its_timeout() {
    let _g = serial();
    if !prerequisites("block_expires_after_its_timeout") {
        return;
    }
    let topo = Topology::new("expiry");
    let mut cfg = TestConfig::enforce(24);
    cfg.block_timeout = 3;
    let d = Daemon::start(&topo, cfg);
    let out = topo.post(URL, LEAK_BODY);
    assert!(
        !Topology::post_ok(&out),
        "the leak got its 200: {out}{}",
        d.context()
    );
    assert_blocked_and_alerted(&topo, &d, "POST with block_timeout = 3", "tcp");
    let status = d.status();
    let blocks = status["blocks"].as_array().cloned().unwrap_or_default();
    assert!(
        blocks
            .iter()
            .all(|b| b["expires_in_secs"].as_u64().unwrap_or(99) <= 3),
        "block longer than block_timeout = 3: {blocks:?}{}",
        d.context()
    );
    // Expired: polled, not slept (the set's garbage collection and the status refresh).
    let gone = topology::poll(Duration::from_secs(10), || {
        let st = d.status_json().ok()?;
        (st["blocks"].as_array().map_or(0, Vec::len) == 0).then_some(())
    });
    assert!(
        gone.is_some(),
        "the expired block is still listed{}",
        d.context()
    );
    let open = topology::poll(Duration::from_secs(5), || {
        Topology::post_ok(&topo.post(URL, "clean=1")).then_some(())
    });
    assert!(
        open.is_some(),
        "the destination stayed blocked after expiry{}",
        d.context()
    );
    assert_clean_post_passes(&topo, &d, URL, "after-expiry");
}

#[test]
fn sighup_reloads_the_config() {
    let _g = serial();
    if !prerequisites("sighup_reloads_the_config") {
        return;
    }
    let topo = Topology::new("sighup");
    let mut d = Daemon::start(&topo, TestConfig::enforce(25));
    let cfg = TestConfig {
        mode: "monitor",
        ..d.cfg.clone()
    };
    d.rewrite_config(cfg);
    d.signal(Signal::SIGHUP);
    let reloaded = topology::poll(Duration::from_secs(5), || {
        let st = d.status_json().ok()?;
        (st["mode"] == "monitor").then_some(())
    });
    assert!(
        reloaded.is_some(),
        "mode is not monitor 5 s after SIGHUP{}",
        d.context()
    );
    assert!(d.alive(), "the daemon died on SIGHUP{}", d.context());
    assert!(
        topo.nft_table(TABLE).ok(),
        "the table is gone after SIGHUP{}",
        d.context()
    );
    let out = topo.post(URL, LEAK_BODY);
    assert!(
        Topology::post_ok(&out),
        "monitor mode (after SIGHUP) blocked the POST: {out}{}",
        d.context()
    );
    let line = d
        .wait_syslog(&["kind=imei", "action=reported"], Duration::from_secs(3))
        .unwrap_or_else(|| panic!("no reported alert after SIGHUP{}", d.context()));
    assert!(line.contains(IMEI_MASKED), "{line}");
    assert_never_clear(&d);
}

/// A device that resolved the destination through the router's dnsmasq, then sends raw TCP with
/// no Host header: the alert still names the destination, learned from the DNS answer the router
/// sent (observed over NFLOG without delaying it).
#[test]
fn destination_named_from_the_routers_dns_answer() {
    let _g = serial();
    if !prerequisites("destination_named_from_the_routers_dns_answer") {
        return;
    }
    let topo = Topology::new("dnsname");
    let d = Daemon::start(&topo, TestConfig::enforce(26));
    let out = topo.dns_query(ROUTER_LAN_IP, "zzhc.vnet.cn");
    assert!(
        out.stdout.contains("ancount=1"),
        "dnsmasq did not answer zzhc.vnet.cn: {out}{}",
        d.context()
    );
    let raw = hex(format!("{{\"imei\":\"{IMEI}\"}}\n").as_bytes());
    let out = topo.tool(
        &topo.lan,
        &["split", WAN_IP, "9000", "0.1", &raw],
        Duration::from_secs(10),
    );
    eprintln!("raw client: {out}");
    let line = assert_blocked_and_alerted(&topo, &d, "raw TCP after a DNS lookup", "tcp");
    assert!(
        line.contains("dst=zzhc.vnet.cn"),
        "the alert does not name the destination from the DNS answer: {line}{}",
        d.context()
    );
}

/// `nft delete table inet leakguard` while an upload runs: the table is back within 5 s with the
/// block that was in force, the upload completes, and a new leak is blocked again.
#[test]
fn deleted_table_comes_back_with_its_blocks_under_traffic() {
    let _g = serial();
    if !prerequisites("deleted_table_comes_back_with_its_blocks_under_traffic") {
        return;
    }
    let topo = Topology::new("deltable");
    let d = Daemon::start(&topo, TestConfig::enforce(27));
    // Positive control first: a leak is blocked, so a block is in force.
    let out = topo.post(URL, LEAK_BODY);
    assert!(!Topology::post_ok(&out), "the leak got its 200: {out}");
    assert_blocked_and_alerted(&topo, &d, "leak before the deletion", "tcp");
    let blocks = d.status()["blocks"].as_array().map_or(0, Vec::len);
    assert_eq!(blocks, 1, "one block expected{}", d.context());
    let upload_path = topo.dir.join("upload.bin");
    let upload = pseudo_random(4 * 1024 * 1024, 7);
    std::fs::write(&upload_path, &upload).expect("upload file");
    let path_arg = upload_path.display().to_string();
    let mut uploader = topo.tool_background(
        &topo.lan,
        "uploader",
        // Over IPv6: the IPv4 device-destination block in force covers WAN_IP.
        &["upload", WAN_IP6, "9000", &path_arg],
    );
    let out = topo.exec(
        &topo.router,
        &["nft", "delete", "table", "inet", TABLE],
        Duration::from_secs(5),
    );
    assert!(out.ok(), "nft delete table: {out}");
    let start = Instant::now();
    let back = topology::poll(Duration::from_secs(8), || {
        let t = topo.nft_table(TABLE);
        (t.ok() && t.stdout.contains("198.51.100.2")).then_some(())
    });
    let took = start.elapsed();
    eprintln!("table and its block back after {took:.2?}");
    assert!(
        back.is_some() && took <= Duration::from_secs(5),
        "the table (with its block) was not back within 5 s ({took:.2?}): {}{}",
        topo.nft_table(TABLE),
        d.context()
    );
    let status = topology::wait_deadline(&mut uploader, Duration::from_secs(30));
    let log = topo.log_of("uploader");
    assert!(
        status.is_some_and(|s| s.success()) && log.starts_with("ok:OK"),
        "the upload during the deletion failed ({status:?}): {log}"
    );
    assert!(
        topo.sink_records().contains(&upload),
        "the upload arrived damaged"
    );
    // The restored block holds: the same device's next request to that destination is refused.
    let out = topo.post(URL, r#"{"hello":"blocked-destination"}"#);
    assert!(
        !Topology::post_ok(&out),
        "the restored device-destination block let a request through: {out}{}",
        d.context()
    );
    // And the table was learnt gone from nftables events, not from a 2-second poll.
    assert!(
        d.wait_syslog(&["is gone; restoring it"], Duration::from_secs(1))
            .is_some(),
        "no restore logged{}",
        d.context()
    );
}

/// SIGHUP with a broken config: the old one stays in force (a leak is still blocked), and the
/// error is logged once with file:line:column.
#[test]
fn sighup_with_a_broken_config_keeps_the_old_one() {
    let _g = serial();
    if !prerequisites("sighup_with_a_broken_config_keeps_the_old_one") {
        return;
    }
    let topo = Topology::new("badhup");
    let mut d = Daemon::start(&topo, TestConfig::enforce(28));
    let good = std::fs::read_to_string(&d.config_path).expect("config");
    // Line 2 of the broken file: a mode that does not exist.
    let broken = good.replacen("mode = \"enforce\"", "mode = \"enforcing\"", 1);
    let line = broken
        .lines()
        .position(|l| l.starts_with("mode = "))
        .expect("mode line")
        + 1;
    std::fs::write(&d.config_path, &broken).expect("write");
    d.signal(Signal::SIGHUP);
    let place = format!("leakguard.toml:{line}:8: mode: unknown mode `enforcing`");
    let logged = d.wait_syslog(&["reload refused", &place], Duration::from_secs(5));
    // The CLI reads the config file too: put the good one back (no SIGHUP) to talk to the
    // daemon, which still runs with what it had.
    std::fs::write(&d.config_path, &good).expect("restore config");
    assert!(
        logged.is_some(),
        "no reload error naming {place}{}",
        d.context()
    );
    assert!(
        d.alive(),
        "the daemon died on a broken reload{}",
        d.context()
    );
    // The old config (enforce) holds: positive control that the daemon still acts.
    assert_clean_post_passes(&topo, &d, URL, "after-broken-reload");
    let out = topo.post(URL, LEAK_BODY);
    assert!(
        !Topology::post_ok(&out),
        "enforce mode lost after a broken reload: {out}{}",
        d.context()
    );
    assert_blocked_and_alerted(&topo, &d, "leak after a broken reload", "tcp");
    assert_eq!(d.status()["mode"], "enforce");
    let refusals = d
        .syslog_lines()
        .iter()
        .filter(|l| l.contains("reload refused"))
        .count();
    assert_eq!(
        refusals,
        1,
        "the broken reload was logged {refusals} times{}",
        d.context()
    );
}

/// The daemon as `nobody` with only CAP_NET_ADMIN (ambient, via setpriv): the usual leak is
/// blocked and clean traffic passes, and the process really holds nothing else.
#[test]
fn runs_as_nobody_with_only_cap_net_admin() {
    let _g = serial();
    if !prerequisites("runs_as_nobody_with_only_cap_net_admin") {
        return;
    }
    if topology::which("setpriv").is_none() {
        let message =
            "netns test runs_as_nobody_with_only_cap_net_admin: needs setpriv (util-linux)";
        assert!(std::env::var_os("CI").is_none(), "{message}");
        eprintln!("SKIPPED: {message}");
        return;
    }
    let topo = Topology::new("nobody");
    let cfg = TestConfig {
        unprivileged: true,
        ..TestConfig::enforce(29)
    };
    let d = Daemon::start(&topo, cfg);
    let proc_status = std::fs::read_to_string(format!("/proc/{}/status", d.pid)).expect("proc");
    let field = |name: &str| {
        proc_status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
            .unwrap_or_default()
            .to_string()
    };
    assert!(field("Uid:").starts_with("65534"), "Uid: {}", field("Uid:"));
    // CAP_NET_ADMIN is bit 12.
    assert_eq!(field("CapEff:"), "0000000000001000", "{proc_status}");
    assert_eq!(field("CapBnd:"), "0000000000001000", "{proc_status}");
    assert_clean_post_passes(&topo, &d, URL, "as-nobody");
    let out = topo.post(URL, LEAK_BODY);
    assert!(
        !Topology::post_ok(&out),
        "as nobody, a leak got its 200: {out}{}",
        d.context()
    );
    assert_blocked_and_alerted(&topo, &d, "leak with the daemon as nobody", "tcp");
}

/// A stuck `nft` does not stall the packets: the block a leak orders is added by the daemon's
/// nft worker thread, and here that `nft` hangs (a stand-in in the daemon's PATH sleeps on any
/// set-element transaction and passes everything else to the real nft). While it hangs, a
/// clean request passes through the queue; the hung call is killed at its time limit, the
/// daemon says the block failed and lists none.
#[test]
fn stuck_nft_does_not_stall_the_packets() {
    let _g = serial();
    if !prerequisites("stuck_nft_does_not_stall_the_packets") {
        return;
    }
    let topo = Topology::new("stucknft");
    let stub_dir = topo.dir.join("stub-bin");
    std::fs::create_dir_all(&stub_dir).expect("stub dir");
    let real = ["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("nft");
    let marker = topo.dir.join("stuck.pid");
    let script = format!(
        "#!/bin/sh\n\
         # Test stand-in: hangs on block-set element changes, real nft otherwise.\n\
         if [ \"$1 $2 $3\" = \"-j -f -\" ]; then\n\
           doc=$(cat)\n\
           case $doc in\n\
             *'\"element\"'*'\"block_'*) if ! printf %s \"$doc\" | grep -q '\"chain\"'; then\n\
                 echo $$ > {marker}; exec sleep 30; fi ;;\n\
           esac\n\
           printf %s \"$doc\" | {real} \"$@\"\n\
           exit $?\n\
         fi\n\
         exec {real} \"$@\"\n",
        marker = marker.display()
    );
    let stub = stub_dir.join("nft");
    std::fs::write(&stub, script).expect("stub");
    std::fs::set_permissions(&stub, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod stub");
    let mut cfg = TestConfig::enforce(24);
    cfg.path_first = Some(stub_dir);
    let d = Daemon::start(&topo, cfg);
    assert_clean_post_passes(&topo, &d, URL, "before-stuck");
    let out = topo.post(URL, LEAK_BODY);
    assert!(!Topology::post_ok(&out), "the leak got its 200: {out}");
    let stuck_pid = topology::poll(Duration::from_secs(10), || {
        std::fs::read_to_string(&marker)
            .ok()?
            .trim()
            .parse::<i32>()
            .ok()
    })
    .unwrap_or_else(|| panic!("the block's nft call never started{}", d.context()));
    let hanging = || std::path::Path::new(&format!("/proc/{stuck_pid}")).exists();
    assert!(hanging(), "the stand-in nft is not hanging");
    // While nft hangs: the leak was judged and dropped, and a clean request passes.
    let dropped = topology::poll(Duration::from_secs(5), || {
        let s = d.status_json().ok()?;
        (counter(&s, "dropped") > 0).then_some(())
    });
    assert!(
        dropped.is_some(),
        "the daemon counted no drop{}",
        d.context()
    );
    assert_clean_post_passes(
        &topo,
        &d,
        URL6.replace("/reg", "/ok").as_str(),
        "while-stuck",
    );
    assert!(
        hanging(),
        "nft stopped hanging before the clean request was through: the test proves nothing"
    );
    // The hung call is killed at its limit, and the block is reported as not in force.
    let line = d
        .wait_syslog(&["adding block", "failed"], Duration::from_secs(20))
        .unwrap_or_else(|| panic!("no syslog line for the failed block{}", d.context()));
    eprintln!("{line}");
    let listed = topology::poll(Duration::from_secs(5), || {
        let s = d.status_json().ok()?;
        s["blocks"]
            .as_array()
            .is_some_and(Vec::is_empty)
            .then_some(())
    });
    assert!(
        listed.is_some(),
        "a failed block is still listed{}",
        d.context()
    );
    assert_never_clear(&d);
}

/// LAN packets of ever-new UDP flows, as fast as the sender goes for a few seconds (the 60 s,
/// 50k packets/s run is `flood_60s`, ignored by default): every queued packet gets a verdict
/// (nothing is left waiting in the kernel queue), the daemon lives and its RSS stays flat.
fn flood(seconds: u32, rate: u32, queue: u16) -> String {
    let topo = Topology::new("flood");
    let mut d = Daemon::start(&topo, TestConfig::enforce(queue));
    let rss = |pid: i32| -> u64 {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("VmRSS:"))
                    .and_then(|v| v.split_whitespace().next()?.parse().ok())
            })
            .unwrap_or(0)
    };
    let queue_line = |topo: &Topology| {
        let out = topo.exec(
            &topo.router,
            &["cat", "/proc/net/netfilter/nfnetlink_queue"],
            Duration::from_secs(5),
        );
        out.stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(&queue.to_string()))
            .unwrap_or_default()
            .to_string()
    };
    // Warm-up so that the RSS baseline includes the tables' first use.
    assert_clean_post_passes(&topo, &d, URL, "before-flood");
    let packets_before = counter(&d.status(), "packets");
    let rss_before = rss(d.pid);
    let mac = topo.router_lan_mac();
    let out = topo.tool(
        &topo.lan,
        &[
            "flood",
            WAN_IP,
            &rate.to_string(),
            &seconds.to_string(),
            "lan0",
            &mac,
        ],
        Duration::from_secs(u64::from(seconds) + 30),
    );
    assert!(out.stdout.starts_with("ok:"), "flood: {out}");
    // Every queued packet got its verdict: the kernel's queue drains to zero waiting.
    let drained = topology::poll(Duration::from_secs(10), || {
        let line = queue_line(&topo);
        let waiting: u64 = line.split_whitespace().nth(2)?.parse().ok()?;
        (waiting == 0).then_some(line)
    });
    assert!(
        drained.is_some(),
        "packets still waiting in queue {queue}: {}{}",
        queue_line(&topo),
        d.context()
    );
    assert!(d.alive(), "the daemon died under the flood{}", d.context());
    let status = d.status();
    let packets = counter(&status, "packets") - packets_before;
    let rss_after = rss(d.pid);
    // Positive control: the daemon still inspects and blocks after the flood.
    assert_clean_post_passes(&topo, &d, URL, "after-flood");
    let leak = topo.post(URL, LEAK_BODY);
    assert!(
        !Topology::post_ok(&leak),
        "a leak after the flood got its 200: {leak}"
    );
    assert_blocked_and_alerted(&topo, &d, "leak after the flood", "tcp");
    let fields: Vec<&str> = drained
        .as_deref()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let report = format!(
        "flood {seconds} s at {rate}/s: sender {}; daemon verdicts {packets}; kernel queue {queue}: \
         waiting {}, queue_dropped {}, user_dropped {}, id_sequence {}; RSS {rss_before} -> \
         {rss_after} KiB; evicted {}, queue ENOBUFS {}",
        out.stdout.trim(),
        fields.get(2).unwrap_or(&"?"),
        fields.get(5).unwrap_or(&"?"),
        fields.get(6).unwrap_or(&"?"),
        fields.get(7).unwrap_or(&"?"),
        counter(&status, "flows_evicted"),
        counter(&status, "queue_enobufs"),
    );
    eprintln!("{report}");
    assert!(packets > 0, "no packet reached the daemon: {report}");
    // Flat: the tables are allocated at start and bounded; a leak per packet would show here.
    assert!(
        rss_after <= rss_before + 8 * 1024,
        "RSS grew under the flood: {report}"
    );
    let _ = d.signal_and_wait(Signal::SIGTERM, Duration::from_secs(5));
    report
}

#[test]
fn flood_of_new_flows_gets_verdicts() {
    let _g = serial();
    if !prerequisites("flood_of_new_flows_gets_verdicts") {
        return;
    }
    flood(5, 20_000, 30);
}

/// The long run recorded in RELIABILITY.md:
/// `cargo test --release --test netns flood_60s -- --ignored --nocapture`.
#[test]
#[ignore]
fn flood_60s() {
    let _g = serial();
    if !prerequisites("flood_60s") {
        return;
    }
    flood(60, 50_000, 30);
}

/// Nothing leaves the process unmasked (the daemon's half of the scan test of that name): a
/// device with identifiers of every kind leaks each of them in requests to destinations named
/// after the identifier itself (as is, hex, md5, base64url, sha1) and in DNS queries; the
/// syslog, the daemon's stderr, `status --json`, `status`, the status file and the control
/// socket's replies hold none of them in any encoding the engine knows, while every kind was
/// alerted, every destination named (masked) and every block listed with its device.
#[test]
fn no_daemon_output_shows_an_identifier_in_any_form() {
    let _g = serial();
    if !prerequisites("no_daemon_output_shows_an_identifier_in_any_form") {
        return;
    }
    let topo = Topology::new("expose");
    let mut cfg = TestConfig::enforce(41);
    // Each request its own block: later flows to the same server are still inspected.
    cfg.scope = "flow";
    cfg.extra = exposure::device_toml();
    let d = Daemon::start(&topo, cfg);
    let requests = exposure::requests();
    for (_, request) in &requests {
        let piece = hex(request.as_bytes());
        topo.tool(
            &topo.lan,
            &["split", WAN_IP, "9000", "0.05", &piece],
            Duration::from_secs(10),
        );
    }
    let mut queries = Vec::new();
    for (i, id) in exposure::IDS.iter().enumerate() {
        let name = format!("{}.q.example", exposure::name_form(id, 0));
        let args = ["dns", ROUTER_LAN_IP, name.as_str()];
        queries.push(topo.tool_background(&topo.lan, &format!("dns{i}"), &args));
    }
    for q in &mut queries {
        let _ = topology::wait_deadline(q, Duration::from_secs(10));
        let _ = q.kill();
    }
    let want = requests.len() as u64;
    let counted = topology::poll(Duration::from_secs(10), || {
        let st = d.status_json().ok()?;
        (counter(&st, "leaks") >= want).then_some(st)
    });
    let status =
        counted.unwrap_or_else(|| panic!("the daemon did not count {want} leaks{}", d.context()));

    // Positive controls.
    let syslog = d.syslog_lines().join("\n");
    for id in &exposure::IDS {
        assert!(
            syslog.contains(&format!("kind={} ", id.kind)),
            "no alert for {}{}",
            id.kind,
            d.context()
        );
    }
    assert!(
        syslog.matches(".t.example ").count() >= requests.len(),
        "destinations are not named in the alerts{}",
        d.context()
    );
    // IMEISV is found by its structure: no device to name (the others are known values).
    let blocks = status["blocks"].as_array().cloned().unwrap_or_default();
    let named = blocks
        .iter()
        .filter(|b| {
            b["device"]
                .as_str()
                .is_some_and(|n| n.starts_with("phone "))
        })
        .count();
    assert!(
        blocks.len() >= requests.len() && named >= requests.len() - 2,
        "blocks are not listed with their device: {}{}",
        status["blocks"],
        d.context()
    );

    let text = d.cli(&["status"]);
    let bogus = d.cli(&["unblock", "999999"]);
    let all = d.unblock_all();
    assert!(all.ok(), "unblock all: {all}");
    let status_json = d.status_json().map(|v| v.to_string()).unwrap_or_default();
    exposure::assert_nowhere(&[
        ("syslog", syslog),
        ("stderr", d.stderr_text()),
        ("status --json", status.to_string()),
        ("status --json after unblock", status_json),
        ("status", format!("{}{}", text.stdout, text.stderr)),
        ("status.json", d.status_file()),
        (
            "control reply (unblock 999999)",
            format!("{}{}", bogus.stdout, bogus.stderr),
        ),
        (
            "control reply (unblock all)",
            format!("{}{}", all.stdout, all.stderr),
        ),
    ]);
}

/// The second LAN device's MAC (a macvlan on the LAN namespace's link: its frames reach the
/// router with this source address).
const DEVICE_B_MAC: &str = "02:42:4c:47:00:0b";
const DEVICE_B_IP: &str = "192.168.77.3";
const IMEI_B: &str = "356938035643809";

/// A JSON POST of `{"imei": imei}` from `dev` (lan0: device A, lan1: device B) naming `host`.
fn post_from(topo: &Topology, dev: &str, host: &str, imei: &str) -> topology::CmdOut {
    let body = format!(r#"{{"imei":"{imei}"}}"#);
    let host_header = format!("Host: {host}");
    topo.post_with(URL, &body, &["--interface", dev, "-H", &host_header])
}

/// `(device MAC masked, domain) -> count` from `leakguard report --json`.
fn report_counts(d: &Daemon) -> std::collections::BTreeMap<(String, String), u64> {
    let out = d.cli(&["report", "--json"]);
    assert!(out.ok(), "leakguard report --json: {out}{}", d.context());
    let v: serde_json::Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("report is not JSON ({e}): {out}"));
    assert!(
        !out.stdout.contains(IMEI) && !out.stdout.contains(IMEI_B),
        "a full identifier in the report: {}",
        out.stdout
    );
    let mut counts = std::collections::BTreeMap::new();
    for dev in v["devices"].as_array().cloned().unwrap_or_default() {
        let mac = dev["mac"].as_str().unwrap_or("(none)").to_string();
        for row in dev["destinations"].as_array().cloned().unwrap_or_default() {
            assert_eq!(row["kind"], "imei", "{row}");
            *counts
                .entry((
                    mac.clone(),
                    row["domain"].as_str().unwrap_or("").to_string(),
                ))
                .or_insert(0) += row["count"].as_u64().unwrap_or(0);
        }
    }
    counts
}

/// Issue 12: two LAN devices leak to three destinations over a run in which the daemon stops
/// cleanly (SIGTERM: everything kept), saves on its interval, is killed (`kill -9`: what came
/// after the last save is lost — at most `history.save_interval` — and nothing else), and
/// starts again on the kept file; `leakguard report --json` then shows exactly who sent what
/// where, how often. A per-device `leakguard allow` mid-run reloads the daemon and lets that
/// device's leak to that destination through, and only that. A damaged file is set aside and
/// the daemon still starts.
#[test]
fn history_survives_restarts_and_kill_9_loses_only_the_unsaved_interval() {
    let _g = serial();
    if !prerequisites("history_survives_restarts_and_kill_9_loses_only_the_unsaved_interval") {
        return;
    }
    let topo = Topology::new("history");
    let b_prefix = format!("{DEVICE_B_IP}/24");
    // Device B: a macvlan beside lan0, with its own MAC and address, routed by its own device.
    for args in [
        vec![
            "-n", &topo.lan, "link", "add", "lan1", "link", "lan0", "type", "macvlan", "mode",
            "bridge",
        ],
        vec![
            "-n",
            &topo.lan,
            "link",
            "set",
            "lan1",
            "address",
            DEVICE_B_MAC,
        ],
        vec!["-n", &topo.lan, "addr", "add", &b_prefix, "dev", "lan1"],
        vec!["-n", &topo.lan, "link", "set", "lan1", "up"],
        vec![
            "-n",
            &topo.lan,
            "route",
            "add",
            "default",
            "via",
            ROUTER_LAN_IP,
            "dev",
            "lan1",
            "metric",
            "200",
        ],
    ] {
        let out = topology::run_timeout(&topo.dir, "ip", &args, Duration::from_secs(5));
        assert!(out.ok(), "ip {}: {out}", args.join(" "));
    }
    let a_mac = topo
        .exec(
            &topo.lan,
            &["cat", "/sys/class/net/lan0/address"],
            Duration::from_secs(5),
        )
        .stdout
        .trim()
        .to_string();
    let mask = |mac: &str| format!("{}:**:**:**:{}", &mac[..5], &mac[15..]);
    let (a, b) = (mask(&a_mac), mask(DEVICE_B_MAC));
    const ZZHC: &str = "zzhc.vnet.cn";
    const API: &str = "api.example.net";
    const LOG: &str = "log.umsns.com.cn";
    let history = topo.dir.join("history.json");
    let config = |save: u32| TestConfig {
        history_path: Some(history.clone()),
        history_save: save,
        ..TestConfig::monitor(27)
    };
    let leak = |dev: &str, host: &str, imei: &str| {
        let out = post_from(&topo, dev, host, imei);
        assert!(
            Topology::post_ok(&out),
            "monitor mode passes the POST: {out}"
        );
    };
    let want =
        |rows: &[(&String, &str, u64)]| -> std::collections::BTreeMap<(String, String), u64> {
            rows.iter()
                .map(|(m, dom, n)| (((*m).clone(), dom.to_string()), *n))
                .collect()
        };

    // 1. A clean stop keeps everything (save interval an hour: only the stop writes).
    let mut d = Daemon::start(&topo, config(3600));
    leak("lan0", ZZHC, IMEI);
    leak("lan0", ZZHC, IMEI);
    leak("lan1", LOG, IMEI_B);
    let live = poll_counts(&d, 3);
    assert!(d
        .signal_and_wait(Signal::SIGTERM, Duration::from_secs(10))
        .is_some());
    let phase1 = want(&[(&a, "vnet.cn", 2), (&b, "umsns.com.cn", 1)]);
    assert_eq!(live, phase1, "{}", d.context());
    assert_eq!(
        report_counts(&d),
        phase1,
        "after SIGTERM (read from the file)"
    );
    drop(d);

    // 2. The kept file is read back; with a 2 s interval the new rows reach the file unasked.
    let mut d = Daemon::start(&topo, config(2));
    leak("lan0", API, IMEI);
    leak("lan1", LOG, IMEI_B);
    let phase2 = want(&[
        (&a, "example.net", 1),
        (&a, "vnet.cn", 2),
        (&b, "umsns.com.cn", 2),
    ]);
    let saved = topology::poll(Duration::from_secs(15), || {
        let text = std::process::Command::new(daemon::bin())
            .args(["report", "--json", "--file", history.to_str().unwrap_or("")])
            .output()
            .ok()?;
        let v: serde_json::Value = serde_json::from_slice(&text.stdout).ok()?;
        let total: u64 = v["devices"]
            .as_array()?
            .iter()
            .map(|d| d["leaks"].as_u64().unwrap_or(0))
            .sum();
        (total == 5).then_some(())
    });
    assert!(
        saved.is_some(),
        "the 2 s save interval never wrote the file{}",
        d.context()
    );
    assert_eq!(report_counts(&d), phase2, "live, after the periodic save");

    // 3. An hour's interval again, and a per-device allow (written, validated, reloaded over
    // the control socket): B's IMEI may go to api.example.net, A's may not.
    d.rewrite_config(config(3600));
    let cfg = d.config_path.display().to_string();
    let out = topology::run_timeout(
        &topo.dir,
        &daemon::bin(),
        &[
            "allow",
            "--config",
            &cfg,
            "--device",
            DEVICE_B_MAC,
            "--kind",
            "imei",
            "--dst",
            API,
        ],
        Duration::from_secs(10),
    );
    assert!(
        out.ok() && out.stdout.contains("daemon reloaded"),
        "leakguard allow: {out}{}",
        d.context()
    );
    leak("lan1", API, IMEI_B); // allowed: not a leak
    leak("lan0", API, IMEI); // the same rule does not cover device A
    leak("lan0", ZZHC, IMEI);
    let live = poll_counts(&d, 7);
    let unsaved = want(&[
        (&a, "example.net", 2),
        (&a, "vnet.cn", 3),
        (&b, "umsns.com.cn", 2),
    ]);
    assert_eq!(live, unsaved, "live, before kill -9{}", d.context());
    // kill -9: the two leaks since the last save are lost, exactly those.
    assert!(d
        .signal_and_wait(Signal::SIGKILL, Duration::from_secs(5))
        .is_some());
    assert_eq!(
        report_counts(&d),
        phase2,
        "after kill -9: the last save, nothing more"
    );
    drop(d);

    // 4. Started again on the kept file: B reaches a third destination, then a clean stop.
    // (Each start writes its own config file: the rule `allow` wrote is carried over by hand.)
    let with_rule = TestConfig {
        extra: format!(
            "\n[[allow]]\ndevice = \"{DEVICE_B_MAC}\"\ndst = \"{API}\"\nkinds = [\"imei\"]\n"
        ),
        ..config(3600)
    };
    let mut d = Daemon::start(&topo, with_rule);
    leak("lan1", ZZHC, IMEI_B);
    leak("lan1", API, IMEI_B); // still allowed
    poll_counts(&d, 6);
    assert!(d
        .signal_and_wait(Signal::SIGTERM, Duration::from_secs(10))
        .is_some());
    let last = want(&[
        (&a, "example.net", 1),
        (&a, "vnet.cn", 2),
        (&b, "umsns.com.cn", 2),
        (&b, "vnet.cn", 1),
    ]);
    assert_eq!(report_counts(&d), last, "the whole run{}", d.context());
    let text = d.cli(&["report"]);
    assert!(
        text.stdout.contains(ZZHC) && text.stdout.contains(API) && text.stdout.contains(LOG),
        "the text report names every destination: {text}"
    );
    assert!(
        !text.stdout.contains(IMEI) && !text.stdout.contains(IMEI_B),
        "{text}"
    );
    drop(d);

    // 5. A damaged file (one byte changed): set aside, reported, and the daemon starts empty.
    let mut bytes = std::fs::read(&history).expect("history file");
    let at = bytes.len() - 10;
    bytes[at] ^= 1;
    std::fs::write(&history, &bytes).expect("damage the history");
    let d = Daemon::start(&topo, config(3600));
    let aside = topo.dir.join("history.json.corrupt");
    assert!(
        aside.exists(),
        "the damaged file was not set aside{}",
        d.context()
    );
    assert!(
        d.stderr_text().contains("is damaged")
            || d.syslog_lines().iter().any(|l| l.contains("is damaged")),
        "the damaged file was not reported{}",
        d.context()
    );
    assert!(report_counts(&d).is_empty(), "a new, empty history");
    assert!(d.status_json().is_ok());
}

/// The live report once it holds `leaks` findings in all (10 s at most).
fn poll_counts(d: &Daemon, leaks: u64) -> std::collections::BTreeMap<(String, String), u64> {
    let got = topology::poll(Duration::from_secs(10), || {
        let c = report_counts(d);
        (c.values().sum::<u64>() == leaks).then_some(c)
    });
    got.unwrap_or_else(|| {
        panic!(
            "the report never reached {leaks} leaks: {:?}{}",
            report_counts(d),
            d.context()
        )
    })
}
