//! `leakguard scan --report`: the per-device report built from captures — two LAN devices, three
//! destinations, exact counts — and `leakguard report --file` on a kept history.

mod common;

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::Command;

use common::scenes::*;
use common::*;
use serde_json::Value;

const TV_MAC: Mac = [0x02, 0x4c, 0x47, 0x00, 0x00, 0x77];
const TV_IP: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 77);
const TRACKER_IP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 9);

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lg-report-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_leakguard"))
        .args(args)
        .output()
        .expect("running leakguard");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The phone leaks its IMEI to zzhc.vnet.cn twice (two flows) and to api.example.net once;
/// the TV leaks its MAC (learned) to a tracker by address three times, and opens one clean flow.
fn two_devices() -> Capture {
    let mut cap = Capture::new(SEED_START);
    cap.dns_lookup(phone(30_000), resolver(), 1, ZZHC_HOST, &[ZZHC_IP]);
    cap.dns_lookup(phone(30_001), resolver(), 2, API_HOST, &[API_IP]);
    for port in [40_000, 40_001] {
        let req = format!("GET /r?imei={IMEI1} HTTP/1.1\r\nHost: {ZZHC_HOST}\r\n\r\n");
        cap.tcp_request(phone(port), remote(ZZHC_IP, 80), req.as_bytes(), b"");
    }
    let req = format!("POST /v1 HTTP/1.1\r\nHost: {API_HOST}\r\n\r\nimei={IMEI1}");
    cap.tcp_request(phone(40_002), remote(API_IP, 80), req.as_bytes(), b"");
    let tv = |port| Endpoint::new(TV_MAC, TV_IP, port);
    for port in [50_000, 50_001, 50_002] {
        let req = "GET /t?mac=02:4c:47:00:00:77 HTTP/1.1\r\nHost: 198.51.100.9\r\n\r\n";
        cap.tcp_request(tv(port), remote(TRACKER_IP, 80), req.as_bytes(), b"");
    }
    cap.tcp_request(
        tv(50_003),
        remote(TRACKER_IP, 80),
        b"GET / HTTP/1.1\r\n\r\n",
        b"",
    );
    cap
}

#[test]
fn scan_report_shows_who_sent_what_where() {
    let dir = tmp("scan");
    let pcap = dir.join("two.pcap");
    two_devices().write(&pcap);
    let (code, stdout, stderr) = run(&[
        "scan",
        "--report",
        "--format",
        "json",
        pcap.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let devices = v["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 2, "{stdout}");
    let by_mac = |m: &str| {
        devices
            .iter()
            .find(|d| d["mac"] == m)
            .unwrap_or_else(|| panic!("no device {m}: {stdout}"))
    };
    let phone = by_mac("a4:50:**:**:**:56");
    let tv = by_mac("02:4c:**:**:**:77");
    // Rows: (domain, kind, count).
    let rows = |d: &Value| -> Vec<(String, String, u64)> {
        d["destinations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["domain"].as_str().unwrap().to_string(),
                    r["kind"].as_str().unwrap().to_string(),
                    r["count"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(
        rows(phone),
        vec![
            ("example.net".to_string(), "imei".to_string(), 1),
            ("vnet.cn".to_string(), "imei".to_string(), 2),
        ]
    );
    assert_eq!(
        rows(tv),
        vec![("198.51.100.9".to_string(), "mac".to_string(), 3)]
    );
    // Flows: the phone's two DNS queries and three connections; the TV's four connections.
    assert_eq!(phone["flows_inspected"], 5, "{phone}");
    assert_eq!(phone["flows_leaked"], 3);
    assert_eq!(tv["flows_inspected"], 4);
    assert_eq!(tv["flows_leaked"], 3);
    assert_eq!(tv["flows_blocked"], 0);
    let zzhc = &phone["destinations"][1];
    assert_eq!(zzhc["names"][0], ZZHC_HOST);
    assert_eq!(zzhc["addresses"][0]["ip"], ZZHC_IP.to_string());
    assert_eq!(zzhc["values"][0]["masked"], "4901********518");
    assert_eq!(zzhc["action"], "reported");
    assert!(!stdout.contains(IMEI1), "a full identifier in the report");

    // The text form: one block per device, rows aligned under their headers.
    let (_, text, _) = run(&["scan", "--report", pcap.to_str().unwrap()]);
    let blocks: Vec<&str> = text.split("\n\n").collect();
    assert_eq!(blocks.len(), 2, "{text}");
    assert!(
        text.contains("vnet.cn") && text.contains("zzhc.vnet.cn, 203.0.113.7:80/tcp"),
        "{text}"
    );
    for block in blocks {
        let lines: Vec<&str> = block.lines().collect();
        let header = lines.iter().find(|l| l.contains("DESTINATION")).unwrap();
        for row in lines.iter().filter(|l| l.contains(" reported")) {
            assert_eq!(header.find("ACTION"), row.find("reported"), "{block}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn report_reads_a_kept_file_and_refuses_a_damaged_one() {
    let dir = tmp("file");
    let path = dir.join("history.json");
    let (code, stdout, _) = run(&["report", "--file", path.to_str().unwrap()]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("no devices"), "{stdout}");
    std::fs::write(&path, "leakguard-history 1 00\n{}\n").unwrap();
    let (code, _, stderr) = run(&["report", "--file", path.to_str().unwrap()]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("checksum mismatch"), "{stderr}");
    let (code, _, stderr) = run(&["report", "--since", "7x", "--file", path.to_str().unwrap()]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("--since"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// From report to policy on the command line: `allow` writes a per-device rule (comments kept)
/// that the next scan honours for that device only; `block` takes it back; bad requests and a
/// broader rule are refused with nothing written.
#[test]
fn allow_and_block_edit_the_config_and_scans_follow() {
    let dir = tmp("allow");
    let pcap = dir.join("two.pcap");
    two_devices().write(&pcap);
    let config = dir.join("leakguard.toml");
    let base = format!(
        "# the owner's note\nmode = \"monitor\"\n\n[daemon]\nrun_dir = \"{}\"\n",
        dir.join("run").display()
    );
    std::fs::write(&config, &base).unwrap();
    let cfg = config.to_str().unwrap();
    let findings = || {
        let (_, stdout, stderr) = run(&[
            "scan",
            "--config",
            cfg,
            "--format",
            "json",
            pcap.to_str().unwrap(),
        ]);
        assert!(stderr.contains("finding(s)"), "{stderr}");
        stdout.lines().count()
    };
    assert_eq!(findings(), 6);

    let (code, stdout, stderr) = run(&[
        "allow",
        "--config",
        cfg,
        "--device",
        PHONE_MAC_TEXT,
        "--kind",
        "imei",
        "--dst",
        ZZHC_HOST,
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("allowed imei from a4:50:**:**:**:56 to zzhc.vnet.cn"),
        "{stdout}"
    );
    assert!(stdout.contains("did not reload"), "{stdout}");
    assert!(
        !stdout.contains(PHONE_MAC_TEXT),
        "a full MAC printed: {stdout}"
    );
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.starts_with("# the owner's note\n"), "{text}");
    assert!(
        text.contains(
            "[[allow]]\ndevice = \"a4:50:46:12:34:56\"\ndst = \"zzhc.vnet.cn\"\nkinds = [\"imei\"]"
        ),
        "{text}"
    );
    // The phone's two leaks to zzhc.vnet.cn are allowed; its leak elsewhere and the TV's stay.
    assert_eq!(findings(), 4);
    // Allowing it again changes nothing.
    let (code, stdout, _) = run(&[
        "allow",
        "--config",
        cfg,
        "--device",
        PHONE_MAC_TEXT,
        "--kind",
        "imei",
        "--dst",
        ZZHC_HOST,
    ]);
    assert_eq!(code, Some(0));
    assert!(
        stdout.contains("already allowed") && stdout.contains("unchanged"),
        "{stdout}"
    );

    let (code, stdout, stderr) = run(&[
        "block",
        "--config",
        cfg,
        "--device",
        "A4-50-46-12-34-56",
        "--kind",
        "imei",
        "--dst",
        ZZHC_HOST,
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("no longer allowed") && stdout.contains("monitor"),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read_to_string(&config).unwrap().trim_end(),
        base.trim_end()
    );
    assert_eq!(findings(), 6);

    // Refusals: a bad kind, a bad MAC, a broader rule; nothing written.
    let (code, _, stderr) = run(&[
        "allow", "--config", cfg, "--device", "tv", "--kind", "imie", "--dst", ZZHC_HOST,
    ]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("unknown kind `imie`"), "{stderr}");
    let (code, _, stderr) = run(&[
        "allow",
        "--config",
        cfg,
        "--device",
        "a4:50:46:12",
        "--kind",
        "imei",
        "--dst",
        ZZHC_HOST,
    ]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("not a MAC address"), "{stderr}");
    let broad = format!("{base}\n[[allow]]\ndst = \"*.vnet.cn\"\n");
    std::fs::write(&config, &broad).unwrap();
    let (code, _, stderr) = run(&[
        "block", "--config", cfg, "--device", "tv", "--kind", "imei", "--dst", ZZHC_HOST,
    ]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("[[allow]] at line 7 (every device"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), broad);
    // A config that does not parse is not edited; the error says where.
    std::fs::write(&config, "mode = \"sometimes\"\n").unwrap();
    let (code, _, stderr) = run(&[
        "allow", "--config", cfg, "--device", "tv", "--kind", "imei", "--dst", ZZHC_HOST,
    ]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("leakguard.toml:1:8: mode: unknown mode"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
