//! End-to-end tests of `leakguard scan`: captures are built in a temporary directory with the
//! frame builders in `tests/common`, the real binary scans them with `--format json`, and each
//! test asserts the exact set of findings (kind, source, encoding, masked value) and the exit
//! status (like grep: 0 no leak, 1 leaks found, 2 an error).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::encode::luhn_valid;
use common::scenes::*;
use serde_json::Value;

/// A directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("leakguard-scan-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("creating temp dir");
        TempDir(dir)
    }

    fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }

    fn write(&self, file: &str, bytes: &[u8]) -> PathBuf {
        let p = self.path(file);
        std::fs::write(&p, bytes).expect("writing temp file");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What one run of the binary did.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The JSON findings, one per stdout line.
    fn findings(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}"))
            })
            .collect()
    }

    fn expect_code(&self, code: i32) {
        assert_eq!(
            self.code,
            Some(code),
            "exit status\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
    }
}

fn leakguard<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let out = Command::new(env!("CARGO_BIN_EXE_leakguard"))
        .args(args)
        .output()
        .expect("running leakguard");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `leakguard scan --format json [--config CONFIG] FILES...`
fn scan(config: Option<&Path>, files: &[&Path]) -> Run {
    let mut args: Vec<&OsStr> = vec![
        OsStr::new("scan"),
        OsStr::new("--format"),
        OsStr::new("json"),
    ];
    if let Some(c) = config {
        args.push(OsStr::new("--config"));
        args.push(c.as_os_str());
    }
    args.extend(files.iter().map(|f| f.as_os_str()));
    leakguard(args)
}

fn masked(value: &str) -> String {
    leakguard::finding::mask(value).to_string()
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("`{key}` is not a string in {v}"))
}

/// (kind, source, encoding, masked value) of a finding.
type Key = (String, String, String, String);

fn key(v: &Value) -> Key {
    (
        text(v, "kind").to_string(),
        text(v, "source").to_string(),
        text(v, "encoding").to_string(),
        text(v, "value").to_string(),
    )
}

fn k(kind: &str, source: &str, encoding: &str, value: &str) -> Key {
    (kind.into(), source.into(), encoding.into(), masked(value))
}

fn keys(findings: &[Value]) -> BTreeSet<Key> {
    findings.iter().map(key).collect()
}

/// Findings grouped by the client port of their flow.
fn by_port(findings: &[Value]) -> BTreeMap<u16, Vec<Key>> {
    let mut m: BTreeMap<u16, Vec<Key>> = BTreeMap::new();
    for f in findings {
        let port = f["sport"].as_u64().and_then(|p| u16::try_from(p).ok());
        m.entry(port.unwrap_or_else(|| panic!("no sport in {f}")))
            .or_default()
            .push(key(f));
    }
    for v in m.values_mut() {
        v.sort();
    }
    m
}

/// No raw identifier ever leaves the process, on either stream.
fn assert_no_raw_identifiers(run: &Run) {
    for id in [
        IMEI1,
        IMEI2,
        MEID,
        IMSI,
        ICCID,
        PHONE_NUMBER,
        PHONE_MAC_TEXT,
    ] {
        assert!(
            !run.stdout.contains(id),
            "raw {id} on stdout:\n{}",
            run.stdout
        );
        assert!(
            !run.stderr.contains(id),
            "raw {id} on stderr:\n{}",
            run.stderr
        );
    }
}

/// The flow, device and destination fields every finding of the seed case shares.
fn assert_seed_flow(f: &Value, name: Option<&str>) {
    // The device's MAC is an identifier too: masked like the leaked values.
    assert_eq!(f["device"]["mac"], masked(PHONE_MAC_TEXT), "{f}");
    assert_eq!(f["device"]["ip"], "192.168.1.23", "{f}");
    match name {
        Some(n) => assert_eq!(f["device"]["name"], n, "{f}"),
        None => assert!(f["device"]["name"].is_null(), "{f}"),
    }
    assert_eq!(f["proto"], "tcp", "{f}");
    assert_eq!(f["src"], "192.168.1.23", "{f}");
    assert_eq!(f["sport"], 43_562, "{f}");
    assert_eq!(f["dst"], "203.0.113.7", "{f}");
    assert_eq!(f["dport"], 80, "{f}");
    assert_eq!(f["host"], ZZHC_HOST, "{f}");
    assert_eq!(f["action"], "reported", "{f}");
    let time = text(f, "time");
    assert!(
        time.starts_with("2019-02-14T10:23:45") && time.ends_with('Z'),
        "time {time}"
    );
}

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn nokia_config() -> PathBuf {
    manifest().join("examples/nokia7plus.toml")
}

/// Skips a test whose material is absent, except under CI, where absence is a failure.
fn skip(why: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{why} (CI is set: not skipping)");
    }
    eprintln!("skipped: {why}");
}

#[test]
fn shipped_example_captures_are_what_the_generator_writes() {
    for (name, cap) in shipped() {
        let path = manifest().join("examples/captures").join(name);
        let shipped = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            shipped.len() < 20 * 1024,
            "{name} is {} bytes",
            shipped.len()
        );
        assert!(
            shipped == cap.bytes(),
            "{name} differs from the generator: run `cargo run --example make_captures -- examples/captures`"
        );
    }
}

#[test]
fn shipped_config_names_the_phone() {
    let toml = std::fs::read_to_string(nokia_config()).expect("examples/nokia7plus.toml");
    for id in [IMEI1, IMEI2, MEID, IMSI, ICCID, PHONE_MAC_TEXT, PHONE_NAME] {
        assert!(toml.contains(id), "examples/nokia7plus.toml lacks {id}");
    }
    assert!(luhn_valid(IMEI1) && luhn_valid(IMEI2) && luhn_valid(ICCID));
}

/// The seed case with no config: the structural detector finds the IMEIs, the IMSI and the
/// ICCID by their keys and structure inside the base64, and the phone's own MAC (learned from
/// the frames it sends) in `MACID`. `MEID` (IMEI 1 without its check digit) may also be
/// reported, as a MEID or an IMEI; nothing else may be.
#[test]
fn seed_case_without_config_finds_the_structural_identifiers() {
    let dir = TempDir::new("seed");
    let pcap = dir.write("nokia7plus-zzhc.pcap", nokia7plus_zzhc().bytes());
    let run = scan(None, &[&pcap]);
    run.expect_code(1);
    assert_no_raw_identifiers(&run);
    let findings = run.findings();
    let got = keys(&findings);
    let core: BTreeSet<Key> = [
        k("imei", "pattern", "base64", IMEI1),
        k("imei", "pattern", "base64", IMEI2),
        k("imsi", "pattern", "base64", IMSI),
        k("iccid", "pattern", "base64", ICCID),
        k("mac", "learned", "base64", PHONE_MAC_TEXT),
    ]
    .into();
    // MEID is IMEI 1 without its check digit: a MEID, or an IMEI missing its check digit.
    let optional = [
        k("meid", "pattern", "base64", MEID),
        k("imei", "pattern", "base64", MEID),
    ];
    assert!(
        core.is_subset(&got),
        "missing: {:?}\ngot: {got:?}",
        core.difference(&got).collect::<Vec<_>>()
    );
    let extra: Vec<&Key> = got
        .difference(&core)
        .filter(|x| !optional.contains(x))
        .collect();
    assert!(extra.is_empty(), "unexpected findings: {extra:?}");
    assert_eq!(
        findings.len(),
        got.len(),
        "one finding per (flow, kind, identifier)"
    );
    for f in &findings {
        assert_seed_flow(f, None);
    }
    assert!(!run.stderr.trim().is_empty(), "no summary line on stderr");
}

/// The seed case with the shipped config: every identifier is a known value of the device
/// "Nokia 7 Plus", reported once, with the destination named by the DNS answer and Host header.
#[test]
fn seed_case_with_config_reports_known_values_of_the_device() {
    let dir = TempDir::new("seed-config");
    let pcap = dir.write("nokia7plus-zzhc.pcap", nokia7plus_zzhc().bytes());
    let run = scan(Some(&nokia_config()), &[&pcap]);
    run.expect_code(1);
    assert_no_raw_identifiers(&run);
    let findings = run.findings();
    let want: BTreeSet<Key> = [
        k("imei", "known", "base64", IMEI1),
        k("imei", "known", "base64", IMEI2),
        k("meid", "known", "base64", MEID),
        k("imsi", "known", "base64", IMSI),
        k("iccid", "known", "base64", ICCID),
        k("mac", "known", "base64", PHONE_MAC_TEXT),
    ]
    .into();
    assert_eq!(keys(&findings), want);
    assert_eq!(
        findings.len(),
        want.len(),
        "one finding per (flow, kind, identifier)"
    );
    for f in &findings {
        assert_seed_flow(f, Some(PHONE_NAME));
    }
}

/// The text format says the same, one line per finding, masked.
#[test]
fn seed_case_text_format_is_masked() {
    let dir = TempDir::new("seed-text");
    let pcap = dir.write("nokia7plus-zzhc.pcap", nokia7plus_zzhc().bytes());
    let config = nokia_config();
    let run = leakguard([
        OsStr::new("scan"),
        OsStr::new("--config"),
        config.as_os_str(),
        pcap.as_os_str(),
    ]);
    run.expect_code(1);
    assert_no_raw_identifiers(&run);
    assert_eq!(run.stdout.lines().count(), 6, "{}", run.stdout);
    assert!(
        run.stdout.contains(&masked(IMEI1)) && run.stdout.contains(ZZHC_HOST),
        "{}",
        run.stdout
    );
}

/// Every form an identifier travels in, one per flow: each flow has exactly the finding it
/// should (so split, reordered and retransmitted values are found exactly once), and no other
/// flow has any.
#[test]
fn forms_are_each_found_once_in_their_flow() {
    let dir = TempDir::new("forms");
    let (cap, want) = forms();
    let pcap = dir.write("forms.pcap", cap.bytes());
    let config = dir.write("forms.toml", FORMS_TOML.as_bytes());
    let run = scan(Some(&config), &[&pcap]);
    run.expect_code(1);
    assert_no_raw_identifiers(&run);
    let findings = run.findings();
    let mut got = by_port(&findings);

    // IMEI 1 without its check digit under `meid`: a MEID or an IMEI, once.
    let meid = got.remove(&MEID_FORM_PORT).unwrap_or_default();
    assert_eq!(meid.len(), 1, "meid form: {meid:?}");
    assert!(
        ["meid", "imei"].contains(&meid[0].0.as_str()),
        "meid form: {meid:?}"
    );

    let mut expected: BTreeMap<u16, Vec<Key>> = BTreeMap::new();
    for e in &want {
        expected
            .entry(e.sport)
            .or_default()
            .push(k(e.kind, e.source, e.encoding, &e.value));
    }
    for v in expected.values_mut() {
        v.sort();
    }
    let mut wrong = Vec::new();
    for port in expected.keys().chain(got.keys()).collect::<BTreeSet<_>>() {
        if expected.get(port) != got.get(port) {
            wrong.push(format!(
                "port {port}: want {:?}, got {:?}",
                expected.get(port),
                got.get(port)
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    for f in &findings {
        let port = f["sport"].as_u64().unwrap_or(0);
        let udp = (56_830..=56_832).contains(&port) || port == 53_001;
        assert_eq!(f["proto"], if udp { "udp" } else { "tcp" }, "{f}");
        assert_eq!(f["device"]["name"], "Test phone", "{f}");
        if port == 52_003 {
            let src: IpAddr = text(f, "src").parse().expect("src address");
            assert_eq!(src, IpAddr::from(PHONE_IP6), "{f}");
        }
        if port == 53_001 {
            assert_eq!(f["dport"], 53, "{f}");
        }
    }
}

/// Without a config the keyed plain values are still found by structure, and the phone's MAC
/// by learning it from its frames.
#[test]
fn forms_without_config_find_keyed_values_by_structure() {
    let dir = TempDir::new("forms-noconfig");
    let (cap, _) = forms();
    let pcap = dir.write("forms.pcap", cap.bytes());
    let run = scan(None, &[&pcap]);
    run.expect_code(1);
    let got = by_port(&run.findings());
    for (port, want) in [
        (50_001, k("imei", "pattern", "plain", IMEI1)),
        (50_002, k("imsi", "pattern", "plain", IMSI)),
        (50_008, k("mac", "learned", "url", PHONE_MAC_TEXT)),
        (51_007, k("imei", "pattern", "plain", IMEI1)),
        (52_001, k("imei", "pattern", "plain", IMEI1)),
    ] {
        assert_eq!(got.get(&port), Some(&vec![want]), "port {port}");
    }
}

/// The shipped LwM2M example with the shipped config: the endpoint names are the IMEI (and the
/// IMSI), sent in clear over UDP.
#[test]
fn lwm2m_registers_leak_the_imei_in_the_endpoint_name() {
    let dir = TempDir::new("lwm2m");
    let pcap = dir.write("lwm2m-register.pcap", lwm2m_registers().bytes());
    let run = scan(Some(&nokia_config()), &[&pcap]);
    run.expect_code(1);
    let findings = run.findings();
    let got: BTreeSet<(u16, Key)> = findings
        .iter()
        .map(|f| (f["sport"].as_u64().unwrap_or(0) as u16, key(f)))
        .collect();
    let want: BTreeSet<(u16, Key)> = [
        (56_830, k("imei", "known", "plain", IMEI1)),
        (56_831, k("imei", "known", "plain", IMEI1)),
        (56_832, k("imei", "known", "plain", IMEI1)),
        (56_832, k("imsi", "known", "plain", IMSI)),
    ]
    .into();
    assert_eq!(got, want);
    assert_eq!(findings.len(), want.len());
    for f in &findings {
        assert_eq!(f["proto"], "udp", "{f}");
        assert_eq!(f["dport"], 5683, "{f}");
        assert_eq!(f["device"]["name"], PHONE_NAME, "{f}");
    }
}

/// Look-alikes are not leaks, with or without known values configured: order numbers, a test
/// card, timestamps, UUIDs, `02:00:00:00:00:00`, a bad-Luhn IMEI, the test IMSI, an md5 ETag,
/// a random cookie, identifiers in a server's reply, identifiers sent to a NAS on the LAN.
#[test]
fn benign_lookalikes_are_not_leaks() {
    let dir = TempDir::new("benign");
    let pcap = dir.write("benign.pcap", benign().bytes());
    let config = dir.write("forms.toml", FORMS_TOML.as_bytes());
    for config in [None, Some(config.as_path())] {
        let run = scan(config, &[&pcap]);
        assert!(
            run.stdout.trim().is_empty(),
            "config {config:?}: findings:\n{}",
            run.stdout
        );
        run.expect_code(0);
    }
}

/// `--lan` replaces the default LAN prefixes: with only the phone in the LAN, its backup to the
/// NAS leaves the LAN and is a leak; everything else in the benign capture stays benign.
#[test]
fn lan_option_redefines_what_leaving_the_lan_means() {
    let dir = TempDir::new("lan");
    let pcap = dir.write("benign.pcap", benign().bytes());
    let run = leakguard([
        OsStr::new("scan"),
        OsStr::new("--format"),
        OsStr::new("json"),
        OsStr::new("--lan"),
        OsStr::new("192.168.1.23/32"),
        pcap.as_os_str(),
    ]);
    run.expect_code(1);
    let findings = run.findings();
    let want: BTreeSet<Key> = [
        k("imei", "pattern", "plain", IMEI1),
        k("iccid", "pattern", "plain", ICCID),
        k("mac", "learned", "plain", PHONE_MAC_TEXT),
    ]
    .into();
    assert_eq!(keys(&findings), want);
    assert_eq!(findings.len(), want.len());
    for f in &findings {
        assert_eq!(f["sport"], 54_101, "{f}");
        assert_eq!(f["dst"], "192.168.1.50", "{f}");
    }
}

/// The last record's start in `bytes` written by `cap`, and a cut 10 bytes into its data.
fn cut_mid_record(cap: &common::Capture) -> (usize, Vec<u8>) {
    let last = *cap.pcap().record_offsets().last().expect("a record");
    let cut = last + 16 + 10;
    (last, cap.bytes()[..cut].to_vec())
}

/// All the decimal numbers on the lines of `text` that mention `needle`, outside `needle` (a
/// temp path has digits of its own).
fn numbers_on_lines_with(text: &str, needle: &str) -> Vec<u64> {
    text.lines()
        .filter(|l| l.contains(needle))
        .flat_map(|l| {
            l.replace(needle, " ")
                .split(|c: char| !c.is_ascii_digit())
                .filter_map(|n| n.parse::<u64>().ok())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A capture cut mid-record is an error naming the file and the offset; the other files are
/// still scanned and their findings printed. Errors take precedence over leaks in the exit
/// status: 2 if any file failed, even when leaks were found in others.
#[test]
fn truncated_capture_is_an_error_and_other_files_are_still_scanned() {
    let dir = TempDir::new("truncated");
    let (last, cut) = cut_mid_record(&benign());
    let truncated = dir.write("truncated.pcap", &cut);
    let seed = dir.write("seed.pcap", nokia7plus_zzhc().bytes());
    let run = scan(Some(&nokia_config()), &[&truncated, &seed]);
    run.expect_code(2);
    let name = truncated.to_string_lossy();
    assert!(
        run.stderr.contains(name.as_ref()),
        "stderr does not name the file:\n{}",
        run.stderr
    );
    let offsets = numbers_on_lines_with(&run.stderr, &name);
    assert!(
        offsets
            .iter()
            .any(|&n| (last as u64..=cut.len() as u64).contains(&n)),
        "no offset between {last} and {} in:\n{}",
        cut.len(),
        run.stderr
    );
    let findings = run.findings();
    assert_eq!(
        findings.len(),
        6,
        "the good file's findings:\n{}",
        run.stdout
    );
    assert!(findings.iter().all(|f| f["sport"] == 43_562));
}

/// A file that is not a capture at all is an error naming it; the good file is still scanned.
#[test]
fn non_capture_file_is_an_error_naming_it() {
    let dir = TempDir::new("notpcap");
    let notes = dir.write(
        "notes.txt",
        b"these are not the packets you are looking for\n",
    );
    let missing = dir.path("missing.pcap");
    let seed = dir.write("seed.pcap", nokia7plus_zzhc().bytes());
    let run = scan(Some(&nokia_config()), &[&notes, &missing, &seed]);
    run.expect_code(2);
    for f in [&notes, &missing] {
        let name = f.to_string_lossy();
        assert!(
            run.stderr.contains(name.as_ref()),
            "stderr does not name {name}:\n{}",
            run.stderr
        );
    }
    assert_eq!(run.findings().len(), 6, "{}", run.stdout);
}

/// A bad config stops the scan: exit 2 and `file:line:col: key: message` on stderr.
#[test]
fn bad_config_names_file_line_column_and_key() {
    let dir = TempDir::new("badconfig");
    let config = dir.write(
        "bad.toml",
        b"# a misspelt key must not silently disable detection\n\
          mode = \"monitor\"\n\
          \n\
          [[device]]\n\
          name = \"phone\"\n\
          imie = [\"490154203237518\"]\n",
    );
    let seed = dir.write("seed.pcap", nokia7plus_zzhc().bytes());
    let run = scan(Some(&config), &[&seed]);
    run.expect_code(2);
    assert!(run.stdout.trim().is_empty(), "{}", run.stdout);
    let name = config.to_string_lossy().into_owned();
    let line = run
        .stderr
        .lines()
        .find_map(|l| {
            l.find(&format!("{name}:"))
                .map(|at| &l[at + name.len() + 1..])
        })
        .unwrap_or_else(|| panic!("no `{name}:` on stderr:\n{}", run.stderr));
    // line:col: key: message
    let mut parts = line.splitn(4, ": ");
    let pos = parts.next().unwrap_or("");
    let (l, c) = pos
        .split_once(':')
        .unwrap_or_else(|| panic!("no line:col in `{line}`"));
    assert_eq!(l, "6", "line of the bad key in `{line}`");
    assert!(c.parse::<u32>().is_ok(), "column in `{line}`");
    let key = parts.next().unwrap_or("");
    assert!(key.contains("imie"), "key in `{line}`");
    assert!(
        !parts.next().unwrap_or("").is_empty(),
        "message in `{line}`"
    );
}

#[test]
fn check_config_accepts_the_shipped_configs() {
    for file in ["etc/leakguard.toml", "examples/nokia7plus.toml"] {
        let run = leakguard([
            OsStr::new("check-config"),
            manifest().join(file).as_os_str(),
        ]);
        run.expect_code(0);
    }
}

#[test]
fn version() {
    let run = leakguard(["--version"]);
    run.expect_code(0);
    assert_eq!(
        run.stdout,
        format!("leakguard {}\n", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(env!("CARGO_PKG_VERSION"), "0.1.0");
}

/// tshark, if installed, reads every generated capture without a checksum error or a malformed
/// packet, and decodes the seed case's DNS answer and HTTP POST as intended.
#[test]
fn generated_captures_decode_cleanly_in_tshark() {
    if Command::new("tshark").arg("--version").output().is_err() {
        return skip("tshark is not installed");
    }
    let dir = TempDir::new("tshark");
    let mut files = Vec::new();
    for (name, cap) in shipped() {
        files.push(dir.write(name, cap.bytes()));
    }
    files.push(dir.write("forms.pcap", forms().0.bytes()));
    let tshark = |file: &Path, args: &[&str]| -> String {
        let out = Command::new("tshark")
            .arg("-r")
            .arg(file)
            .args([
                "-o",
                "ip.check_checksum:TRUE",
                "-o",
                "tcp.check_checksum:TRUE",
                "-o",
                "udp.check_checksum:TRUE",
            ])
            .args(args)
            .output()
            .expect("running tshark");
        assert!(
            out.status.success(),
            "tshark failed on {}: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    for f in &files {
        let bad = tshark(
            f,
            &["-Y", "ip.checksum.status==2 or tcp.checksum.status==2 or udp.checksum.status==2 or _ws.malformed"],
        );
        assert!(bad.trim().is_empty(), "{}: bad frames:\n{bad}", f.display());
    }
    let seed = &files[0];
    let http = tshark(
        seed,
        &[
            "-Y",
            "http.request",
            "-T",
            "fields",
            "-e",
            "http.host",
            "-e",
            "http.content_type",
        ],
    );
    assert_eq!(http.trim(), "zzhc.vnet.cn\tapplication/encrypted-json");
    let dns = tshark(
        seed,
        &[
            "-Y",
            "dns.a",
            "-T",
            "fields",
            "-e",
            "dns.qry.name",
            "-e",
            "dns.a",
        ],
    );
    assert_eq!(dns.trim(), "zzhc.vnet.cn\t203.0.113.7");
}

/// The shared corpus directory: `$LEAKGUARD_SHARED`, else `<manifest>/../shared`, else
/// `/work/shared`.
fn shared_dir() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("LEAKGUARD_SHARED") {
        return Some(PathBuf::from(p));
    }
    [manifest().join("../shared"), PathBuf::from("/work/shared")]
        .into_iter()
        .find(|p| p.is_dir())
}

/// The one real leak in the corpus, reviewed: an adware check-in (`bug-28`) to btg.btgrab.com
/// that sends `MA=005400123457`, the PC's own MAC, found with no config because the MAC was
/// learned from the PC's frames.
const CORPUS_REAL_LEAK: &str = "bug-28__input.pcap";

/// Every capture of the suricata-verify corpus, in one invocation: no crash (exit 0 or 2, never
/// a signal or a panic's 101) and no finding (ordinary traffic) — except the one reviewed real
/// leak, scanned on its own and asserted exactly.
#[test]
fn suricata_verify_corpus_scans_without_crash_or_findings() {
    let Some(corpus) = shared_dir()
        .map(|d| d.join("corpus/suricata-verify"))
        .filter(|d| d.is_dir())
    else {
        return skip("the suricata-verify corpus is absent (shared/corpus/suricata-verify)");
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .expect("reading the corpus")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter(|p| !p.ends_with(CORPUS_REAL_LEAK))
        .collect();
    files.sort();
    assert!(
        files.len() > 1000,
        "{} holds only {} files",
        corpus.display(),
        files.len()
    );
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    // With known phone numbers of four numbering plans and the router's country set, so that
    // the phone forms (short national numbers, keyed national mobiles) face real traffic too.
    let dir = TempDir::new("corpus");
    let config = dir.write(
        "corpus.toml",
        common::phones::PHONES_TOML
            .replace("leases = \"\"\n", "leases = \"\"\ncountry = \"CN\"\n")
            .as_bytes(),
    );
    let run = scan(Some(&config), &refs);
    assert!(
        matches!(run.code, Some(0) | Some(2)),
        "exit status {:?} over {} files\n--- stderr (tail)\n{}",
        run.code,
        files.len(),
        run.stderr
            .lines()
            .rev()
            .take(20)
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().take(20).collect();
    assert!(
        lines.is_empty(),
        "findings in the corpus:\n{}",
        lines.join("\n")
    );
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| !l.contains(" file(s), "))
        .collect();
    eprintln!(
        "corpus: {} files scanned, {} reported as unreadable or damaged:\n{}",
        files.len(),
        errors.len(),
        errors.join("\n")
    );
    // Damaged files are named, never fatal: only a handful of the corpus are broken on purpose.
    assert!(
        errors.len() < 20,
        "too many unreadable files:\n{}",
        errors.join("\n")
    );

    let leak = corpus.join(CORPUS_REAL_LEAK);
    let run = scan(None, &[leak.as_path()]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let found = run.findings();
    assert_eq!(found.len(), 1, "{}", run.stdout);
    let f = &found[0];
    assert_eq!(
        (
            f["kind"].as_str(),
            f["source"].as_str(),
            f["encoding"].as_str()
        ),
        (Some("mac"), Some("learned"), Some("plain"))
    );
    assert_eq!(f["host"].as_str(), Some("btg.btgrab.com"));
    assert_eq!(f["value"].as_str(), Some("00:54:**:**:**:57"));
}

/// Device names come from dnsmasq's lease file first: the device is named as the router knows
/// it, with no `[[device]]` in the config.
#[test]
fn device_name_comes_from_the_lease_file() {
    let dir = TempDir::new("leases");
    let pcap = dir.write("nokia7plus-zzhc.pcap", nokia7plus_zzhc().bytes());
    let leases = dir.write(
        "dhcp.leases",
        format!("1764547200 {PHONE_MAC_TEXT} 192.168.1.23 Nokia-7-plus 01:{PHONE_MAC_TEXT}\n")
            .as_bytes(),
    );
    let config = dir.write(
        "leases.toml",
        format!("[network]\nleases = \"{}\"\n", leases.display()).as_bytes(),
    );
    let run = scan(Some(&config), &[&pcap]);
    run.expect_code(1);
    let findings = run.findings();
    assert!(!findings.is_empty());
    for f in &findings {
        assert_eq!(f["device"]["name"], "Nokia-7-plus", "{f}");
    }
}

/// A valid capture of a link type leakguard cannot read (here LINKTYPE_USER0) is named with
/// its link type once on stderr, and the next file is still scanned. It is not an error (issue
/// 9 §5: exit 2 is for damaged files and bad input), so the exit status is the findings'.
#[test]
fn unsupported_link_type_is_named_and_the_scan_goes_on() {
    let dir = TempDir::new("linktype");
    let mut radiotap = Vec::new();
    for word in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 65_535, 147] {
        radiotap.extend_from_slice(&word.to_le_bytes());
    }
    for word in [0u32, 0, 4, 4] {
        radiotap.extend_from_slice(&word.to_le_bytes());
    }
    radiotap.extend_from_slice(&[0, 0, 4, 0]);
    let wifi = dir.write("wifi.pcap", &radiotap);
    let pcap = dir.write("nokia7plus-zzhc.pcap", nokia7plus_zzhc().bytes());
    let run = scan(None, &[&wifi, &pcap]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("wifi.pcap") && run.stderr.contains("unsupported link type 147"),
        "{}",
        run.stderr
    );
    assert_eq!(
        run.stderr.matches("unsupported link type").count(),
        1,
        "{}",
        run.stderr
    );
    let alone = scan(None, &[&wifi]);
    alone.expect_code(0);
    assert!(
        alone.stderr.contains("unsupported link type 147"),
        "{}",
        alone.stderr
    );
    assert!(
        !run.findings().is_empty(),
        "the second file was not scanned"
    );
}

/// A TLS ClientHello (TLS 1.2 record, one cipher suite, the SNI extension) for `name`.
fn client_hello(name: &str) -> Vec<u8> {
    let n = name.len() as u16;
    let mut sni = Vec::new();
    sni.extend_from_slice(&[0, 0]); // extension: server_name
    sni.extend_from_slice(&(n + 5).to_be_bytes());
    sni.extend_from_slice(&(n + 3).to_be_bytes());
    sni.push(0); // host_name
    sni.extend_from_slice(&n.to_be_bytes());
    sni.extend_from_slice(name.as_bytes());
    let mut hello = vec![3, 3];
    hello.extend_from_slice(&[0x42; 32]); // random
    hello.push(0); // session id
    hello.extend_from_slice(&[0, 2, 0x13, 0x01, 1, 0]); // one suite, null compression
    hello.extend_from_slice(&(sni.len() as u16).to_be_bytes());
    hello.extend_from_slice(&sni);
    let mut handshake = vec![1, 0];
    handshake.extend_from_slice(&(hello.len() as u16).to_be_bytes());
    handshake.extend_from_slice(&hello);
    let mut record = vec![0x16, 3, 1];
    record.extend_from_slice(&(handshake.len() as u16).to_be_bytes());
    record.extend_from_slice(&handshake);
    record
}

/// The destination of a leak is named by the TLS SNI the device sent to the same address
/// earlier: the raw TCP that carries the IMEI has no Host header.
#[test]
fn destination_named_by_tls_sni() {
    let dir = TempDir::new("sni");
    let server: IpAddr = "203.0.113.50".parse().unwrap();
    let mut cap = common::Capture::new(SEED_START);
    cap.tcp_request(
        phone(57_001),
        remote(server, 443),
        &client_hello("telemetry.example.org"),
        b"\x16\x03\x03\x00\x00",
    );
    cap.tcp_request(
        phone(57_002),
        remote(server, 9000),
        format!("{{\"imei\":\"{IMEI1}\"}}\n").as_bytes(),
        b"ok",
    );
    let pcap = dir.write("sni.pcap", cap.bytes());
    let run = scan(None, &[&pcap]);
    run.expect_code(1);
    let findings = run.findings();
    assert_eq!(findings.len(), 1, "{}", run.stdout);
    assert_eq!(
        findings[0]["host"], "telemetry.example.org",
        "{}",
        run.stdout
    );
    assert_eq!(findings[0]["dport"], 9000);
}

/// BCD of `digits` (first digit in the high nibble) with a leading `0` when odd: GT06's form.
fn bcd_padded(digits: &str) -> Vec<u8> {
    let d: Vec<u8> = std::iter::repeat(0)
        .take(digits.len() % 2)
        .chain(digits.bytes().map(|b| b - b'0'))
        .collect();
    d.chunks_exact(2).map(|p| p[0] << 4 | p[1]).collect()
}

/// TBCD (swapped nibbles, F filler) of `digits`: the 3GPP form.
fn tbcd(digits: &str) -> Vec<u8> {
    let d: Vec<u8> = digits.bytes().map(|b| b - b'0').chain([0xf]).collect();
    d.chunks_exact(2).map(|p| p[1] << 4 | p[0]).collect()
}

/// Binary forms and glued values end to end: a GT06 tracker login (IMEI in BCD) cut at every
/// offset across two segments, a TBCD IMSI and the MAC's six bytes in binary UDP payloads, a
/// MAC glued into an MQTT-style client id and a provisioning file name, the MAC as a UUID's
/// node; and their look-alikes (another IMEI's BCD, another MAC's hex, a UUID of no device),
/// each exactly once per flow.
#[test]
fn binary_and_glued_forms_are_found_exactly() {
    let dir = TempDir::new("binary");
    let mut cap = common::Capture::new(SEED_START + 9000);
    let tracker = remote(IOT_IP, 5023);
    let api = remote(API_IP, 80);
    let mut login = vec![0x78, 0x78, 0x0d, 0x01];
    login.extend(bcd_padded(IMEI1));
    login.extend([0x00, 0x01, 0x8c, 0xdd, 0x0d, 0x0a]);
    let mut want: BTreeMap<u16, Vec<Key>> = BTreeMap::new();
    for cut in 1..login.len() {
        let port = 57_000 + u16::try_from(cut).unwrap();
        cap.tcp_exchange(
            phone(port),
            tracker,
            &common::split(&login, &[cut]),
            b"\x78\x78\x05\x01",
        );
        want.insert(port, vec![k("imei", "known", "binary", IMEI1)]);
    }
    let mut gtp = vec![0x48, 0x20, 0x00, 0x1c, 0x01, 0x00, 0x08, 0x00];
    gtp.extend(tbcd(IMSI));
    gtp.extend([0x4c, 0x00, 0x06, 0x00]);
    cap.udp(phone(57_100), remote(IOT_IP, 2123), &gtp);
    want.insert(57_100, vec![k("imsi", "known", "binary", IMSI)]);
    let mut raw = vec![0x10, 0x1a, 0x00, 0x04];
    raw.extend(PHONE_MAC);
    raw.extend([0x00, 0x00, 0x02, 0x58]);
    cap.udp(phone(57_101), remote(IOT_IP, 1883), &raw);
    want.insert(57_101, vec![k("mac", "known", "binary", PHONE_MAC_TEXT)]);
    let glued: [(u16, String); 4] = [
        (
            57_102,
            "GET /mqtt?clientId=NokiaTA1046-a45046123456 HTTP/1.1\r\nHost: x\r\n\r\n".into(),
        ),
        (
            57_103,
            "GET /cfg/SEPA45046123456.cnf.xml HTTP/1.1\r\nHost: x\r\n\r\n".into(),
        ),
        (
            57_104,
            "GET /p?u=6f1c7d2e-1f3b-11ee-8000-a45046123456 HTTP/1.1\r\nHost: x\r\n\r\n".into(),
        ),
        (
            57_105,
            "GET /r?MAC:A4-50-46-12-34-56&dev=1 HTTP/1.1\r\nHost: x\r\n\r\n".into(),
        ),
    ];
    for (port, req) in &glued {
        cap.tcp_request(
            phone(*port),
            api,
            req.as_bytes(),
            b"HTTP/1.1 204 No Content\r\n\r\n",
        );
        want.insert(*port, vec![k("mac", "known", "plain", PHONE_MAC_TEXT)]);
    }
    // Look-alikes: another IMEI's BCD, another MAC glued, a UUID whose node is no device's.
    let mut other = vec![0x78, 0x78, 0x0d, 0x01];
    other.extend(bcd_padded(IMEI2));
    other.extend([0x00, 0x01, 0x8c, 0xdd, 0x0d, 0x0a]);
    cap.tcp_request(phone(57_200), tracker, &other, b"\x78\x78\x05\x01");
    for (port, req) in [
        (
            57_201,
            "GET /mqtt?clientId=NokiaTA1046-a45046123457 HTTP/1.1\r\nHost: x\r\n\r\n",
        ),
        (
            57_202,
            "GET /p?u=123e4567-e89b-12d3-a456-426614174000 HTTP/1.1\r\nHost: x\r\n\r\n",
        ),
    ] {
        cap.tcp_request(
            phone(port),
            api,
            req.as_bytes(),
            b"HTTP/1.1 204 No Content\r\n\r\n",
        );
    }
    let pcap = dir.write("binary.pcap", cap.bytes());
    // The phone's identifiers except IMEI 2 (the look-alike's).
    let config = dir.write("forms.toml", FORMS_TOML.as_bytes());
    let run = scan(Some(&config), &[&pcap]);
    run.expect_code(1);
    assert_no_raw_identifiers(&run);
    assert_eq!(by_port(&run.findings()), want);
}

/// Findings as (client port, key), and the expected ones the same way.
fn port_keys(findings: &[Value]) -> BTreeSet<(u16, Key)> {
    findings
        .iter()
        .map(|f| (f["sport"].as_u64().unwrap_or(0) as u16, key(f)))
        .collect()
}

fn expected(want: &[Expect]) -> BTreeSet<(u16, Key)> {
    want.iter()
        .map(|e| (e.sport, k(e.kind, e.source, e.encoding, &e.value)))
        .collect()
}

/// Each written form of a known phone number (national with and without the trunk prefix,
/// `00`/`011`, every separator, NANP, URL-escaped, base64, hex, digests; a grouped number cut
/// at every offset) is found exactly once, in its own flow, as the configured number.
#[test]
fn phone_numbers_in_every_form_are_found_once() {
    use common::phones::*;
    let dir = TempDir::new("phones");
    let (cap, want) = phone_forms();
    let pcap = dir.write("phones.pcap", cap.bytes());
    let config = dir.write("phones.toml", PHONES_TOML.as_bytes());
    let run = scan(Some(&config), &[&pcap]);
    run.expect_code(1);
    for raw in [CN_PHONE, FI_PHONE, US_PHONE, IS_PHONE] {
        assert!(
            !run.stdout.contains(raw) && !run.stderr.contains(raw),
            "raw {raw}"
        );
    }
    let findings = run.findings();
    let got = port_keys(&findings);
    let want = expected(&want);
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}\nextra {extra:?}"
    );
    assert_eq!(findings.len(), want.len(), "one finding per flow");
}

/// With `network.country = "CN"` and no known value, keyed Chinese mobile numbers are found
/// by structure in their national forms (a JSON number, grouped, with the trunk prefix) and
/// reported in E.164; without the country the JSON number is a counter.
#[test]
fn keyed_national_mobiles_with_network_country() {
    use common::phones::*;
    let dir = TempDir::new("country");
    let (cap, want) = keyed_nationals();
    let pcap = dir.write("keyed.pcap", cap.bytes());
    let config = dir.write("country.toml", COUNTRY_TOML.as_bytes());
    let run = scan(Some(&config), &[&pcap]);
    run.expect_code(1);
    assert_eq!(port_keys(&run.findings()), expected(&want));
    let run = scan(None, &[&pcap]);
    let got = port_keys(&run.findings());
    assert!(
        !got.iter().any(|(port, _)| *port == 58_400),
        "a JSON number without the country: {got:?}"
    );
}

/// Order numbers, timestamps, tracking numbers, prices and counters containing the known
/// numbers' digits, other countries' numbers with the same NSN, keyed numbers outside the
/// mobile ranges: no finding with the known numbers or with the country.
#[test]
fn phone_look_alikes_are_not_leaks() {
    use common::phones::*;
    let dir = TempDir::new("phone-benign");
    let pcap = dir.write("benign.pcap", phone_benign().bytes());
    for (name, toml) in [("phones.toml", PHONES_TOML), ("country.toml", COUNTRY_TOML)] {
        let config = dir.write(name, toml.as_bytes());
        let run = scan(Some(&config), &[&pcap]);
        assert!(
            run.stdout.trim().is_empty(),
            "{name}: findings:\n{}",
            run.stdout
        );
        run.expect_code(0);
    }
}

/// A bad `network.country` is an error naming the file, line, column and key.
#[test]
fn bad_network_country_is_located() {
    let dir = TempDir::new("bad-country");
    let config = dir.write("c.toml", b"[network]\ncountry = \"ZZ\"\n");
    let pcap = dir.write("benign.pcap", benign().bytes());
    let run = scan(Some(&config), &[&pcap]);
    run.expect_code(2);
    assert!(
        run.stderr
            .contains("c.toml:2:11: network.country: `ZZ` is not a country"),
        "{}",
        run.stderr
    );
}

/// Nothing leaves the process unmasked: a device with identifiers of every kind leaks each of
/// them in HTTP requests to destinations named after the identifier itself (as is, hex, md5,
/// base64url, sha1), in DNS queries and in a TLS SNI; its DHCP hostname carries its MAC. The
/// text and JSON output, and the summary on stderr, hold none of the identifiers in any
/// encoding the engine knows, while every kind is reported and every destination named
/// (masked).
#[test]
fn no_output_shows_an_identifier_in_any_form() {
    use common::exposure::{self, IDS};
    let dir = TempDir::new("exposure");
    let mut cap = common::Capture::new(SEED_START);
    let server: IpAddr = "203.0.113.60".parse().unwrap();
    let requests = exposure::requests();
    for (i, (_, request)) in requests.iter().enumerate() {
        cap.tcp_request(
            phone(41_000 + i as u16),
            remote(server, 80),
            request.as_bytes(),
            b"HTTP/1.1 204 No Content\r\n\r\n",
        );
    }
    for (i, id) in IDS.iter().enumerate() {
        let name = format!("{}.q.example", exposure::name_form(id, 0));
        cap.udp(
            phone(42_000 + i as u16),
            resolver(),
            &common::dns_query(0x4000 + i as u16, &name, 1),
        );
    }
    let sni = format!("{}.sni.example", exposure::name_form(&IDS[5], 1));
    cap.tcp_request(
        phone(43_000),
        remote(server, 443),
        &client_hello(&sni),
        b"\x16\x03\x03\x00\x00",
    );
    let pcap = dir.write("exposure.pcap", cap.bytes());
    let leases = dir.write(
        "dhcp.leases",
        b"1900000000 a4:50:46:12:34:56 192.168.1.23 android-a45046123456 *\n",
    );
    let config = dir.write(
        "exposure.toml",
        format!(
            "mode = \"monitor\"\n[network]\nleases = \"{}\"\n{}",
            leases.display(),
            exposure::device_toml()
        )
        .as_bytes(),
    );
    let json = scan(Some(&config), &[&pcap]);
    json.expect_code(1);
    let text = leakguard([
        OsStr::new("scan"),
        OsStr::new("--config"),
        config.as_os_str(),
        pcap.as_os_str(),
    ]);
    text.expect_code(1);

    // Positive controls: every kind reported, HTTP destinations named, the device named.
    let findings = json.findings();
    for id in &IDS {
        assert!(
            findings.iter().any(|f| f["kind"] == id.kind),
            "no {} finding:\n{}",
            id.kind,
            json.stdout
        );
    }
    let named = findings
        .iter()
        .filter(|f| {
            f["host"]
                .as_str()
                .is_some_and(|h| h.ends_with(".t.example"))
        })
        .count();
    assert!(
        named >= requests.len(),
        "{named} named findings:\n{}",
        json.stdout
    );
    assert!(
        findings.iter().all(|f| f["device"]["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("android-"))),
        "{}",
        json.stdout
    );
    assert!(
        json.stdout.contains(".sni.example"),
        "the SNI is not shown:\n{}",
        json.stdout
    );

    exposure::assert_nowhere(&[
        ("scan --format json", json.stdout.clone()),
        ("scan --format json stderr", json.stderr.clone()),
        ("scan --format text", text.stdout.clone()),
        ("scan --format text stderr", text.stderr.clone()),
    ]);
}

/// Issue 9 §3 over a capture, no config: a SIP REGISTER whose `+sip.instance` is an RFC 7254
/// IMEI URN with an SVN and whose IMPI is `<IMSI>@ims.mnc….mcc….3gppnetwork.org`; an LwM2M
/// endpoint name with the dashed URN; an EAP-AKA identity; a keyed hex-ASCII IMEI cut across
/// two TCP segments at every offset. Then the same shapes with a realm that does not repeat
/// the number's MCC/MNC, a wrong spare digit and hex of a bad-Luhn number: nothing.
#[test]
fn standard_syntaxes_in_a_capture() {
    const URN_IMEI: &str = "352099001761481";
    const IMSI_3GPP: &str = "310260123456789";
    let register = |imsi: &str, mcc: &str, urn: &str| {
        format!(
            "REGISTER sip:ims.mnc260.mcc{mcc}.3gppnetwork.org SIP/2.0\r\n\
             Via: SIP/2.0/UDP 192.168.1.23:5060;branch=z9hG4bK776asdhds\r\n\
             From: <sip:{imsi}@ims.mnc260.mcc{mcc}.3gppnetwork.org>;tag=49583\r\n\
             To: <sip:{imsi}@ims.mnc260.mcc{mcc}.3gppnetwork.org>\r\n\
             Call-ID: 843817637684230@998sdasdh09\r\nCSeq: 1 REGISTER\r\n\
             Contact: <sip:192.168.1.23:5060>;+sip.instance=\"<urn:gsma:imei:{urn};svn=07>\"\r\n\
             Content-Length: 0\r\n\r\n"
        )
    };
    let eap = |imsi: &str, mnc: &str| {
        format!("identity=\"0{imsi}@wlan.mnc{mnc}.mcc310.3gppnetwork.org\"")
    };
    let hexed = |v: &str| v.bytes().map(|b| format!("{b:02x}")).collect::<String>();
    let mut cap = common::Capture::new(SEED_START + 7200);
    cap.udp(
        phone(5060),
        remote(IOT_IP, 5060),
        register(IMSI_3GPP, "310", "35209900-176148-0").as_bytes(),
    );
    cap.udp(
        phone(56_900),
        remote(IOT_IP, 5683),
        b"ep=urn:gsma:imei:35209900-176148-1&lt=86400",
    );
    cap.udp(
        phone(56_901),
        remote(IOT_IP, 1812),
        eap(IMSI_3GPP, "260").as_bytes(),
    );
    let req = format!(
        "POST /v1/reg HTTP/1.1\r\nHost: api.example.com\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\nimei={}&v=2",
        hexed(IMEI1)
    );
    let at = req.find("imei=").unwrap() + 5;
    for k in 0..30 {
        let api = remote(API_IP, 80);
        cap.tcp_exchange(
            phone(57_000 + k as u16),
            api,
            &common::split(req.as_bytes(), &[at + k]),
            OK_REPLY,
        );
    }
    // Look-alikes.
    cap.udp(
        phone(5061),
        remote(IOT_IP, 5060),
        register(IMSI_3GPP, "311", "35209900-176148-5").as_bytes(),
    );
    cap.udp(
        phone(56_902),
        remote(IOT_IP, 1812),
        eap(IMSI_3GPP, "410").as_bytes(),
    );
    cap.udp(
        phone(56_903),
        remote(IOT_IP, 5683),
        format!("imei={}&", hexed("352099001761482")).as_bytes(),
    );
    let dir = TempDir::new("standard-syntaxes");
    let pcap = dir.write("syntaxes.pcap", cap.bytes());
    let run = scan(None, &[&pcap]);
    run.expect_code(1);
    let got = by_port(&run.findings());
    let mut want: BTreeMap<u16, Vec<Key>> = [
        (
            5060,
            vec![
                k("imeisv", "pattern", "plain", "3520990017614807"),
                k("imsi", "pattern", "plain", IMSI_3GPP),
            ],
        ),
        (56_900, vec![k("imei", "pattern", "plain", URN_IMEI)]),
        (56_901, vec![k("imsi", "pattern", "plain", IMSI_3GPP)]),
    ]
    .into();
    for k_ in 0..30u16 {
        want.insert(57_000 + k_, vec![k("imei", "pattern", "hex", IMEI1)]);
    }
    for (port, w) in &mut want {
        w.sort();
        let mut g = got.get(port).cloned().unwrap_or_default();
        g.sort();
        assert_eq!(&g, w, "port {port}");
    }
    assert_eq!(got.len(), want.len(), "{got:?}");
}

/// Issue 9 §5: each finding names its capture file (JSON always, text when more than one file
/// is scanned); learned MACs carry across the files of one invocation unless `--per-file`.
#[test]
fn findings_name_their_file_and_per_file_keeps_files_apart() {
    const OTHER_MAC: common::Mac = [0x3c, 0x28, 0x6d, 0x77, 0x10, 0x42];
    let other =
        |port| common::Endpoint::new(OTHER_MAC, std::net::Ipv4Addr::new(192, 168, 1, 77), port);
    // File A: the phone, with its own MAC in a request (so its MAC is learned from A).
    let mut a = common::Capture::new(SEED_START);
    a.udp(
        phone(40_001),
        remote(IOT_IP, 5683),
        format!("imei={IMEI1}&").as_bytes(),
    );
    // File B: another LAN device sends the phone's MAC (a neighbour list); the phone is not in B.
    let mut b = common::Capture::new(SEED_START + 60);
    b.udp(
        other(40_002),
        remote(IOT_IP, 5683),
        format!("neighbours={PHONE_MAC_TEXT}&").as_bytes(),
    );
    let dir = TempDir::new("file-names");
    let pa = dir.write("a.pcap", a.bytes());
    let pb = dir.write("b.pcap", b.bytes());

    let run = scan(None, &[&pa, &pb]);
    run.expect_code(1);
    let findings = run.findings();
    let by_file: BTreeSet<(String, Key)> = findings
        .iter()
        .map(|f| (f["file"].as_str().unwrap_or("").to_string(), key(f)))
        .collect();
    let (na, nb) = (pa.display().to_string(), pb.display().to_string());
    assert_eq!(
        by_file,
        [
            (na.clone(), k("imei", "pattern", "plain", IMEI1)),
            (nb.clone(), k("mac", "learned", "plain", PHONE_MAC_TEXT)),
        ]
        .into()
    );
    // One file: JSON still names it.
    let run = scan(None, &[&pb]);
    run.expect_code(0);
    let run = scan(None, &[&pa]);
    assert!(run.findings().iter().all(|f| f["file"] == na.as_str()));

    // --per-file: B alone knows nothing of the phone.
    let run = leakguard([
        OsStr::new("scan"),
        OsStr::new("--format"),
        OsStr::new("json"),
        OsStr::new("--per-file"),
        pa.as_os_str(),
        pb.as_os_str(),
    ]);
    run.expect_code(1);
    let files: Vec<String> = run
        .findings()
        .iter()
        .map(|f| f["file"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(files, vec![na.clone()]);
    assert!(run.stderr.contains("2 file(s)"), "{}", run.stderr);

    // Text: the file name leads each line when more than one file is scanned, not for one.
    let run = leakguard([OsStr::new("scan"), pa.as_os_str(), pb.as_os_str()]);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", run.stdout);
    assert!(lines[0].starts_with(&format!("{na}: ")), "{}", run.stdout);
    assert!(lines[1].starts_with(&format!("{nb}: ")), "{}", run.stdout);
    let run = leakguard([OsStr::new("scan"), pa.as_os_str()]);
    assert!(!run.stdout.contains(&na), "{}", run.stdout);
    assert_eq!(run.stdout.lines().count(), 1);
}

/// 802.11 with radiotap (127) and without (105), with LLC/SNAP, and NFLOG (239): a station's
/// request is inspected like an Ethernet one, with the sender's MAC learned from the frame.
#[test]
fn wifi_and_nflog_captures_are_scanned() {
    let ip = common::ipv4(
        PHONE_IP,
        IOT_IP,
        common::PROTO_UDP,
        7,
        &common::udp(
            PHONE_IP.into(),
            IOT_IP.into(),
            56_840,
            5683,
            format!("imei={IMEI1}&mac={PHONE_MAC_TEXT}").as_bytes(),
        ),
    );
    let mut dot11 = vec![0x88, 0x01, 0, 0];
    dot11.extend_from_slice(&[0x02, 0x4c, 0x47, 0, 0, 9]);
    dot11.extend_from_slice(&PHONE_MAC);
    dot11.extend_from_slice(&ROUTER_MAC);
    dot11.extend_from_slice(&[0x20, 0x00, 0x00, 0x00]); // sequence, QoS control
    dot11.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00]);
    dot11.extend_from_slice(&ip);
    let mut radiotap = vec![0, 0, 12, 0, 0x04, 0, 0, 0, 0x02, 0, 0x6c, 0x00]; // rate
    radiotap.extend_from_slice(&dot11);
    let mut nflog = vec![2, 0, 0, 1];
    nflog.extend_from_slice(&[16, 0, 8, 0, 0, 6, 0, 0]);
    nflog.extend_from_slice(&PHONE_MAC);
    nflog.extend_from_slice(&[0, 0]);
    let len = u16::try_from(4 + ip.len()).unwrap();
    nflog.extend_from_slice(&len.to_le_bytes());
    nflog.extend_from_slice(&[9, 0]);
    nflog.extend_from_slice(&ip);
    while nflog.len() % 4 != 0 {
        nflog.push(0);
    }
    let pcap = |link: u32, frame: &[u8]| {
        let mut b = Vec::new();
        for word in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 65_535, link] {
            b.extend_from_slice(&word.to_le_bytes());
        }
        let n = u32::try_from(frame.len()).unwrap();
        for word in [1_700_000_000u32, 0, n, n] {
            b.extend_from_slice(&word.to_le_bytes());
        }
        b.extend_from_slice(frame);
        b
    };
    let dir = TempDir::new("wifi-nflog");
    for (name, link, frame) in [
        ("radiotap.pcap", 127, &radiotap),
        ("dot11.pcap", 105, &dot11),
        ("nflog.pcap", 239, &nflog),
    ] {
        let file = dir.write(name, &pcap(link, frame));
        let run = scan(None, &[&file]);
        run.expect_code(1);
        let got = keys(&run.findings());
        let want: BTreeSet<Key> = [
            k("imei", "pattern", "plain", IMEI1),
            k("mac", "learned", "plain", PHONE_MAC_TEXT),
        ]
        .into();
        assert_eq!(got, want, "{name}: {}", run.stderr);
        for f in run.findings() {
            assert_eq!(f["device"]["mac"], masked(PHONE_MAC_TEXT), "{name}: {f}");
        }
    }
}

// Who is a LAN device in a capture with no prefix configured: the home network's devices have
// global IPv6 addresses from the ISP's prefix, outside every default prefix (see src/lan.rs).

/// A TV on the LAN that only ever sends from its global address (no IPv4, no link-local).
const TV_MAC: common::Mac = [0x02, 0x54, 0x56, 0x00, 0x00, 0x07];
/// A MAC never seen as a LAN host.
const STRANGER_MAC: common::Mac = [0x02, 0x99, 0x00, 0x00, 0x00, 0x07];
/// The phone's and the TV's global addresses, in the LAN's /64 of the ISP's prefix.
const PHONE_GLOBAL: &str = "2001:db8:1:2:a650:46ff:fe12:3456";
const TV_GLOBAL: &str = "2001:db8:1:2::7";
/// A server on the internet.
const SERVER6: &str = "2001:db8:ffff::80";

fn v6(a: &str) -> std::net::Ipv6Addr {
    a.parse().unwrap()
}

/// An ICMPv6 message (type, code, a zero checksum: leakguard does not check it, then `body`)
/// from `src_mac`/`src` to the all-routers or all-nodes group.
fn icmpv6(
    cap: &mut common::Capture,
    src_mac: common::Mac,
    src: &str,
    dst: &str,
    kind: u8,
    body: &[u8],
) {
    let mut m = vec![kind, 0, 0, 0];
    m.extend_from_slice(body);
    let dst = v6(dst);
    let last = dst.octets();
    let group = [0x33, 0x33, last[12], last[13], last[14], last[15]];
    let p = common::ipv6(v6(src), dst, 58, &m);
    cap.frame(&common::ethernet(
        group,
        src_mac,
        common::ETHERTYPE_IPV6,
        &p,
    ));
}

/// A router solicitation from the phone's link-local address.
fn phone_solicits(cap: &mut common::Capture) {
    icmpv6(
        cap,
        PHONE_MAC,
        "fe80::a650:46ff:fe12:3456",
        "ff02::2",
        133,
        &[0; 4],
    );
}

/// The router's advertisement (hop limit 64, M/O clear, lifetime 1800 s; no options).
fn router_advertises(cap: &mut common::Capture) {
    icmpv6(
        cap,
        ROUTER_MAC,
        "fe80::1",
        "ff02::1",
        134,
        &[64, 0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0],
    );
}

/// The IMEI leak every case below sends: a JSON POST to the API.
fn imei_post() -> Vec<u8> {
    http(
        "POST",
        "/v1/register",
        "Content-Type: application/json\r\n",
        format!("{{\"imei\":\"{IMEI1}\"}}").as_bytes(),
    )
}

fn scan_with(dir: &TempDir, toml: Option<&str>, pcap: &Path) -> Run {
    let config = toml.map(|t| dir.write("leakguard.toml", t.as_bytes()));
    scan(config.as_deref(), &[pcap])
}

/// A home capture: the phone resolves a name over IPv4 through the router and solicits a
/// router; then the same IMEI POST to a server on the internet is sent from the phone's global
/// address (port 58_001) and from a MAC never seen as a LAN host (port 58_002), with an address
/// in the same /64. Only the phone's is a leak, and it is found with no configuration at all.
#[test]
fn global_ipv6_leak_of_a_lan_device_is_found_without_prefixes() {
    let dir = TempDir::new("lan6");
    let mut cap = common::Capture::new(SEED_START);
    cap.dns_lookup(phone(40_001), resolver(), 0x6c01, API_HOST, &[API_IP]);
    phone_solicits(&mut cap);
    router_advertises(&mut cap);
    let server = remote(v6(SERVER6), 80);
    cap.tcp_request(
        common::Endpoint::new(PHONE_MAC, v6(PHONE_GLOBAL), 58_001),
        server,
        &imei_post(),
        OK_REPLY,
    );
    cap.tcp_request(
        common::Endpoint::new(STRANGER_MAC, v6("2001:db8:1:2::99"), 58_002),
        server,
        &imei_post(),
        OK_REPLY,
    );
    let pcap = dir.write("home.pcap", cap.bytes());

    let run = scan(None, &[&pcap]);
    run.expect_code(1);
    let findings = run.findings();
    assert_eq!(findings.len(), 1, "{}", run.stdout);
    let f = &findings[0];
    assert_eq!(key(f), k("imei", "pattern", "plain", IMEI1));
    assert_eq!(f["sport"], 58_001, "{f}");
    assert_eq!(f["src"], PHONE_GLOBAL, "{f}");
    assert_eq!(f["dst"], SERVER6, "{f}");
    assert_eq!(f["device"]["mac"], masked(PHONE_MAC_TEXT), "{f}");

    // Switched off, the global address is outside the LAN again: nothing is inspected.
    let off = scan_with(&dir, Some("[network]\nlearn_ipv6 = false\n"), &pcap);
    off.expect_code(0);
    assert_eq!(off.stdout, "", "{}", off.stderr);
    // Each trigger alone is enough: the RS (the MAC, not the order, counts: the solicitation
    // comes after the leak), or the IPv4 address. With no advertisement, the router is known by
    // being where the phone's IPv4 internet traffic goes (else its forwarded frames would make
    // the server's /64 look like the LAN's, and the leak would be missed).
    let mut late = common::Capture::new(SEED_START);
    late.tcp_request(
        common::Endpoint::new(PHONE_MAC, v6(PHONE_GLOBAL), 58_001),
        server,
        &imei_post(),
        OK_REPLY,
    );
    phone_solicits(&mut late);
    let late = dir.write("late.pcap", late.bytes());
    let mut v4 = common::Capture::new(SEED_START);
    v4.dns_lookup(phone(40_001), resolver(), 0x6c01, API_HOST, &[API_IP]);
    v4.tcp_request(
        phone(40_002),
        remote(API_IP, 80),
        b"GET / HTTP/1.1\r\n\r\n",
        OK_REPLY,
    );
    v4.tcp_request(
        common::Endpoint::new(PHONE_MAC, v6(PHONE_GLOBAL), 58_001),
        server,
        &imei_post(),
        OK_REPLY,
    );
    let v4 = dir.write("v4.pcap", v4.bytes());
    for pcap in [&late, &v4] {
        let run = scan(None, &[pcap]);
        run.expect_code(1);
        assert_eq!(
            by_port(&run.findings()).keys().collect::<Vec<_>>(),
            [&58_001]
        );
    }
}

/// The router forwards the internet with its own MAC, and looks like a host too (it answers
/// DNS from 192.168.1.1, solicits neighbours from link-local). A server's POST to the TV (which
/// never showed itself as a host) is inbound traffic, never the TV's leak nor the router's:
/// the router advertised itself, so its MAC is never a device's. The advertisement comes last:
/// `scan` learns the whole capture's devices before judging a frame.
#[test]
fn inbound_traffic_from_the_advertising_router_is_not_attributed() {
    let dir = TempDir::new("lan6-router");
    let inbound = |advertise: bool| {
        let mut cap = common::Capture::new(SEED_START);
        cap.dns_lookup(phone(40_001), resolver(), 0x6c01, API_HOST, &[API_IP]);
        icmpv6(
            &mut cap,
            ROUTER_MAC,
            "fe80::1",
            "ff02::1:ff00:7",
            135,
            &[0; 20],
        );
        cap.tcp_request(
            common::Endpoint::new(ROUTER_MAC, v6(SERVER6), 443),
            common::Endpoint::new(TV_MAC, v6(TV_GLOBAL), 58_010),
            &imei_post(),
            OK_REPLY,
        );
        if advertise {
            router_advertises(&mut cap);
        }
        cap
    };
    let pcap = dir.write("inbound.pcap", inbound(true).bytes());
    let run = scan(None, &[&pcap]);
    run.expect_code(0);
    assert_eq!(run.stdout, "", "{}", run.stderr);

    // Without the advertisement nothing in this capture tells the router from a host, and its
    // frame would be judged as a device's: the advertisement is what keeps it out.
    let quiet = dir.write("quiet.pcap", inbound(false).bytes());
    let run = scan(None, &[&quiet]);
    run.expect_code(1);
    assert_eq!(by_port(&run.findings()).keys().collect::<Vec<_>>(), [&443]);

    // The other sign of a router: it is where the LAN's IPv4 internet traffic goes.
    let mut cap = inbound(false);
    cap.tcp_request(
        phone(40_002),
        remote(API_IP, 80),
        b"GET / HTTP/1.1\r\n\r\n",
        OK_REPLY,
    );
    let gateway = dir.write("gateway.pcap", cap.bytes());
    let run = scan(None, &[&gateway]);
    run.expect_code(0);
    assert_eq!(run.stdout, "", "{}", run.stderr);
}

/// CGNAT's 100.64.0.0/10 is not in the default LAN (ISPs put their portals and proxies there):
/// a leak-shaped POST from a CGNAT address is not inspected, even from a MAC that is a LAN host,
/// and is found once the LAN is said to include it.
#[test]
fn cgnat_sources_are_not_inspected_by_default() {
    let dir = TempDir::new("cgnat");
    let mut cap = common::Capture::new(SEED_START);
    cap.dns_lookup(phone(40_001), resolver(), 0x6c01, API_HOST, &[API_IP]);
    phone_solicits(&mut cap);
    cap.tcp_request(
        common::Endpoint::new(PHONE_MAC, std::net::Ipv4Addr::new(100, 64, 7, 9), 58_020),
        remote(API_IP, 80),
        &imei_post(),
        OK_REPLY,
    );
    let pcap = dir.write("cgnat.pcap", cap.bytes());
    let run = scan(None, &[&pcap]);
    run.expect_code(0);
    assert_eq!(run.stdout, "", "{}", run.stderr);
    let run = leakguard([
        OsStr::new("scan"),
        OsStr::new("--format"),
        OsStr::new("json"),
        OsStr::new("--lan"),
        OsStr::new("100.64.0.0/10"),
        pcap.as_os_str(),
    ]);
    run.expect_code(1);
    assert_eq!(
        by_port(&run.findings()).keys().collect::<Vec<_>>(),
        [&58_020]
    );
}
