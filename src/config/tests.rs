use super::*;

fn err(text: &str) -> String {
    Config::parse(text, "t.toml").unwrap_err().to_string()
}

fn ok(text: &str) -> Config {
    match Config::parse(text, "t.toml") {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn shipped_file_is_the_default() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("etc/leakguard.toml");
    assert_eq!(Config::load(&path).unwrap(), Config::default());
}

/// The default LAN is the private ranges: CGNAT's 100.64.0.0/10 is not in it (ISPs put their
/// portals and proxies there), and neither are global IPv6 addresses (learned per MAC in
/// captures instead, which is on by default).
#[test]
fn default_lan_is_private_ranges_without_cgnat() {
    let c = Config::default();
    let lan = |a: &str| c.is_lan(a.parse().unwrap());
    for a in [
        "192.168.1.2",
        "10.1.2.3",
        "172.31.0.1",
        "fd00::1",
        "fc00::1",
    ] {
        assert!(lan(a), "{a}");
    }
    for a in [
        "100.64.0.1",
        "100.100.100.100",
        "100.127.255.254",
        "100.63.255.255",
        "100.128.0.1",
        "2001:db8::1",
        "fe80::1",
    ] {
        assert!(!lan(a), "{a}");
    }
    assert!(c.network.learn_ipv6);
}

#[test]
fn shipped_example_device_parses() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("etc/leakguard.toml");
    let text = std::fs::read_to_string(path).unwrap();
    // Uncomment the example device block.
    let text: String = text
        .lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(rest) if rest.starts_with("[[") || rest.contains(" = ") => rest,
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let c = ok(&text);
    assert_eq!(c.devices.len(), 1);
    let d = &c.devices[0];
    assert_eq!(d.name, "Nokia 7 Plus");
    assert_eq!(d.mac, vec![[0xa4, 0x50, 0x46, 0x12, 0x34, 0x56]]);
    assert_eq!(d.imei, vec!["490154203237518"]);
    assert_eq!(d.imsi, vec!["460001234567890"]);
    assert_eq!(d.iccid, vec!["89860012345678901234"]);
    assert_eq!(c.allow.len(), 1);
    assert_eq!(c.allow[0].dst, AllowDst::Host("*.example.com".into()));
    assert_eq!(c.allow[0].kinds, vec![Kind::Mac]);
}

#[test]
fn empty_text_is_the_default() {
    assert_eq!(ok(""), Config::default());
}

#[test]
fn load_reports_io_errors() {
    let e = Config::load(Path::new("/nonexistent/leakguard.toml")).unwrap_err();
    assert_eq!((e.line, e.column, e.key.as_str()), (0, 0, ""));
    assert_eq!(e.file, "/nonexistent/leakguard.toml");
    assert!(e.message.contains("No such file"), "{}", e.message);
}

#[test]
fn unknown_keys() {
    assert_eq!(
        err("mode = \"monitor\"\nmdoe = 1\n"),
        "t.toml:2:1: mdoe: unknown field `mdoe`, expected one of `mode`, `network`, \
         `device`, `detect`, `allow`, `firewall`, `alert`, `daemon`, `history`"
    );
    assert_eq!(
        err("[detect]\nbudget = 100\n  bugdet = 5\n"),
        "t.toml:3:3: detect.bugdet: unknown field `bugdet`, expected one of `kinds`, \
         `encodings`, `structural`, `learn_macs`, `budget`, `max_flows`, \
         `max_learned_macs`, `max_names`, `decode_depth`"
    );
    assert_eq!(
        err("[[device]]\nname = \"a\"\n[[device]]\nname = \"b\"\nimie = [\"490154203237518\"]\n"),
        "t.toml:5:1: device[1].imie: unknown field `imie`, expected one of `name`, `mac`, \
         `imei`, `imsi`, `iccid`, `meid`, `phone`, `serial`"
    );
    assert_eq!(
        err("[firewall]\nscope = \"flow\"\n[alert]\nsyslg = \"/dev/log\"\n"),
        "t.toml:4:1: alert.syslg: unknown field `syslg`, expected one of `syslog`, `rate_limit`, \
         `recent`"
    );
}

#[test]
fn wrong_types() {
    assert_eq!(
        err("[detect]\nbudget = \"4k\"\n"),
        "t.toml:2:10: detect.budget: invalid type: string \"4k\", expected an integer"
    );
    assert_eq!(
        err("[detect]\nkinds = { imei = 1 }\n"),
        "t.toml:2:18: detect.kinds.imei: invalid type: integer `1`, expected a boolean"
    );
    assert_eq!(
        err("[[device]]\nname = \"n\"\nimei = [\"490154203237518\", 490154203237518]\n"),
        "t.toml:3:28: device[0].imei[1]: invalid type: integer `490154203237518`, expected \
         a string (write identifiers in quotes)"
    );
    assert_eq!(
        err("[device]\nname = \"n\"\n"),
        "t.toml:1:1: device: invalid type: table, expected an array"
    );
    assert_eq!(
        err("mode = \"monitor\"\nnetwork = 5\n"),
        "t.toml:2:11: network: invalid type: integer `5`, expected a table"
    );
    assert_eq!(
        err("device = [1]\n"),
        "t.toml:1:11: device[0]: invalid type: integer `1`, expected a table"
    );
    assert_eq!(
        err("[detect]\nkinds = [\"imei\"]\n"),
        "t.toml:2:9: detect.kinds: invalid type: array, expected a table"
    );
    assert_eq!(
        err("[network]\nlan_prefixes = \"10.0.0.0/8\"\n"),
        "t.toml:2:16: network.lan_prefixes: invalid type: string \"10.0.0.0/8\", expected an array"
    );
}

#[test]
fn syntax_errors() {
    assert_eq!(
        err("[network]\nlan_prefixes = [\"10.0.0.0/8\" \"fc00::/7\"]\n"),
        "t.toml:2:30: network.lan_prefixes: invalid array: expected `]`"
    );
    assert_eq!(
        err("[[device]]\nname = \"a\"\n[[device]]\nname = \"b\"\nimei = 4901x\n"),
        "t.toml:5:12: device[1].imei: expected newline, `#`"
    );
    let e = Config::parse("[detect\n", "t.toml").unwrap_err();
    assert_eq!((e.line, e.key.as_str()), (1, "detect"), "{e}");
}

#[test]
fn bad_values() {
    assert_eq!(
        err("mode = \"block\"\n"),
        "t.toml:1:8: mode: unknown mode `block`: expected `enforce` or `monitor`"
    );
    assert_eq!(
        err("[[device]]\nname = \"n\"\nmac = [\"a4:50:46:12:34:56\", \"a4:50:46:12:34\"]\n"),
        "t.toml:3:29: device[0].mac[1]: `a4:50:46:12:34` is not a MAC address: expected \
         aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff, aabbccddeeff or aabb.ccdd.eeff"
    );
    assert_eq!(
        err("[[device]]\nname = \"n\"\nimei = \"490154203237519\"\n"),
        "t.toml:3:8: device[0].imei: `490154203237519` fails the IMEI check digit (Luhn): \
         the last digit should be 8"
    );
    assert_eq!(
        err("[[device]]\nname = \"n\"\nimei = \"49015420323751\"\n"),
        "t.toml:3:8: device[0].imei: `49015420323751` has 14 digits: an IMEI has 15, the \
         last being its Luhn check digit"
    );
    assert_eq!(
        err("[[device]]\nmac = \"a4:50:46:12:34:56\"\n"),
        "t.toml:1:1: device[0]: a device needs a `name`"
    );
    assert_eq!(
        err("[[device]]\nname = \" \"\n"),
        "t.toml:2:8: device[0].name: the device name must not be empty"
    );
    assert_eq!(
        err("[network]\nlan_prefixes = [\"10.0.0.0/8\", \"192.168.1.1/16\"]\n"),
        "t.toml:2:31: network.lan_prefixes[1]: `192.168.1.1/16` has bits set after the \
         first 16: write the network address (e.g. `192.168.0.0/16`)"
    );
    assert_eq!(
        err("[detect]\nbudget = 10\n"),
        "t.toml:2:10: detect.budget: 10 is out of range: must be from 64 to 65536"
    );
    assert_eq!(
        err("[detect]\nencodings = { base64 = true, rot13 = true }\n"),
        "t.toml:2:30: detect.encodings.rot13: unknown encoding `rot13`: expected one of \
         url, hex, base64, gzip, md5, sha1, sha256, binary"
    );
    assert_eq!(
        err("[detect.kinds]\nimei = true\nimeii = false\n"),
        "t.toml:3:1: detect.kinds.imeii: unknown kind `imeii`: expected one of imei, \
         imeisv, meid, imsi, iccid, mac, phone, serial"
    );
    assert_eq!(
        err("[[allow]]\ndst = \"*.example.com\"\nkinds = [\"mac\", \"imie\"]\n"),
        "t.toml:3:17: allow[0].kinds[1]: unknown kind `imie`: expected one of imei, \
         imeisv, meid, imsi, iccid, mac, phone, serial"
    );
    assert_eq!(
        err("[[allow]]\ndst = \"exa mple.com\"\n"),
        "t.toml:2:7: allow[0].dst: `exa mple.com` is not a destination: expected a prefix \
         (`203.0.113.0/24`), an address, a host name or `*.example.com`"
    );
    assert_eq!(
        err("[firewall]\nscope = \"host\"\n"),
        "t.toml:2:9: firewall.scope: unknown scope `host`: expected `flow`, \
         `device-destination` or `destination`"
    );
    assert_eq!(
        err("[firewall]\nblock_timeout = 0\n"),
        "t.toml:2:17: firewall.block_timeout: 0 is out of range: must be from 1 to 604800"
    );
    assert_eq!(
        err("[firewall]\nqueue = 65536\n"),
        "t.toml:2:9: firewall.queue: 65536 is out of range: must be from 0 to 65535"
    );
}

#[test]
fn per_device_allow_rules() {
    let c = ok(concat!(
        "[[allow]]\ndevice = \"A4-50-46-12-34-56\"\ndst = \"zzhc.vnet.cn\"\nkinds = [\"imei\"]\n",
        "[[allow]]\ndevice = \" Living room TV \"\ndst = \"*.example.com\"\n",
        "[[allow]]\ndst = \"10.1.0.0/16\"\n",
    ));
    assert_eq!(
        c.allow[0].device,
        Some(AllowDevice::Mac([0xa4, 0x50, 0x46, 0x12, 0x34, 0x56]))
    );
    assert_eq!(
        c.allow[1].device,
        Some(AllowDevice::Name("Living room TV".into()))
    );
    assert_eq!(c.allow[2].device, None);
    let tv = Sender {
        mac: None,
        name: Some("living ROOM tv"),
    };
    assert!(c.allow[1].applies_to(&c.devices, &tv));
    assert!(!c.allow[0].applies_to(&c.devices, &tv));
    assert!(c.allow[2].applies_to(&c.devices, &tv));
    assert_eq!(
        err("[[allow]]\ndst = \"a.example\"\ndevice = \"a4:50:46:12:34\"\n"),
        "t.toml:3:10: allow[0].device: `a4:50:46:12:34` is not a MAC address: expected \
         aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff, aabbccddeeff or aabb.ccdd.eeff"
    );
    assert_eq!(
        err("[[allow]]\ndst = \"a.example\"\n\n[[allow]]\ndst = \"b.example\"\ndevice = \"  \"\n"),
        "t.toml:6:10: allow[1].device: the device must not be empty: a name or a MAC address"
    );
    assert_eq!(
        err("[[allow]]\ndevice = \"tv\"\n"),
        "t.toml:1:1: allow[0]: an allow rule needs a `dst` (a prefix, an address or a host name)"
    );
    assert_eq!(
        err("[[allow]]\ndst = \"a.example\"\ndevice = 7\n"),
        "t.toml:3:10: allow[0].device: invalid type: integer `7`, expected a string (write \
         identifiers in quotes)"
    );
}

#[test]
fn columns_count_characters() {
    assert_eq!(
        err("[[device]]\nname = \"Téléphone\"\nimsi = \"46000\"\n"),
        "t.toml:3:8: device[0].imsi: `46000` has 5 digits: an IMSI has 14 or 15"
    );
    assert_eq!(
        err("[[device]]\nname = \"n\"\nserial = [\"ABCDEF\", \"é\"]\n"),
        "t.toml:3:21: device[0].serial[1]: `é` is not a serial number: expected 6 to 32 \
         printable ASCII characters (shorter ones would match unrelated traffic, so they \
         are not searched)"
    );
}

#[test]
fn full_config() {
    let c = ok(r#"
mode = "monitor"
[network]
lan_prefixes = ["192.168.1.0/24", "fd00::/8"]
learn_ipv6 = false
leases = ""
lan_interfaces = ["br-lan", "br-guest"]
[[device]]
name = " Nokia 7 Plus "
mac = ["A4-50-46-12-34-56", "a45046123457", "a450.4612.3458"]
imei = "49-015420-323751-8"
imsi = ["460 00 1234567890"]
iccid = "8986 0012 3456 7890 1234"
meid = ["a0000012345678", "270113177609876543"]
phone = ["+86 138-0013-8000", "13800138000"]
serial = "PNX1234"
[detect]
kinds = { serial = false }
encodings = { gzip = false }
structural = false
learn_macs = false
budget = 8192
max_flows = 1000
max_learned_macs = 0
max_names = 16
decode_depth = 0
[[allow]]
dst = "203.0.113.0/24"
[[allow]]
dst = "2001:db8::1"
kinds = ["mac", "serial"]
[[allow]]
dst = "Update.Example.com."
[firewall]
table = "lg"
queue = 3
backend = "xt"
priority = 10
scope = "destination"
block_timeout = 60
tcp_reset = false
[alert]
syslog = "/tmp/log"
rate_limit = 0
recent = 8
[daemon]
run_dir = "/tmp/lg"
nflog_group = 7
"#);
    assert_eq!(c.mode, Mode::Monitor);
    assert_eq!(c.network.leases, None);
    assert_eq!(c.network.lan_prefixes.len(), 2);
    assert!(!c.network.learn_ipv6);
    assert!(c.is_lan("192.168.1.77".parse().unwrap()));
    assert!(!c.is_lan("192.168.2.77".parse().unwrap()));
    assert!(c.is_lan("fd12::1".parse().unwrap()));
    let d = &c.devices[0];
    assert_eq!(d.name, "Nokia 7 Plus");
    assert_eq!(d.mac[0], [0xa4, 0x50, 0x46, 0x12, 0x34, 0x56]);
    assert_eq!(d.mac[1], [0xa4, 0x50, 0x46, 0x12, 0x34, 0x57]);
    assert_eq!(d.mac[2], [0xa4, 0x50, 0x46, 0x12, 0x34, 0x58]);
    assert_eq!(d.imei, vec!["490154203237518"]);
    assert_eq!(d.imsi, vec!["460001234567890"]);
    assert_eq!(d.iccid, vec!["89860012345678901234"]);
    assert_eq!(d.meid, vec!["A0000012345678", "270113177609876543"]);
    assert_eq!(d.phone, vec!["+8613800138000", "13800138000"]);
    assert_eq!(d.serial, vec!["PNX1234"]);
    assert!(!c.kind_enabled(Kind::Serial) && c.kind_enabled(Kind::Imei));
    assert!(!c.layer_enabled(Layer::Gzip) && c.layer_enabled(Layer::Base64));
    assert_eq!(c.detect.budget, 8192);
    assert_eq!(c.detect.decode_depth, 0);
    assert_eq!(
        c.allow[1].dst,
        AllowDst::Prefix(Prefix {
            addr: "2001:db8::1".parse().unwrap(),
            len: 128
        })
    );
    assert_eq!(c.allow[1].kinds, vec![Kind::Mac, Kind::Serial]);
    assert_eq!(c.allow[2].dst, AllowDst::Host("update.example.com".into()));
    assert_eq!(c.firewall.backend, QueueBackend::Xt);
    assert_eq!(c.firewall.scope, Scope::Destination);
    assert_eq!(c.firewall.priority, 10);
    assert!(!c.firewall.tcp_reset);
    assert_eq!(c.daemon.nflog_group, 7);
}

#[test]
fn prefixes() {
    let p = Prefix::parse("10.0.0.0/8").unwrap();
    assert!(p.contains("10.255.1.2".parse().unwrap()));
    assert!(!p.contains("11.0.0.1".parse().unwrap()));
    assert!(p.contains("::ffff:10.1.2.3".parse().unwrap()));
    assert!(!p.contains("fc00::1".parse().unwrap()));
    let p = Prefix::parse("fc00::/7").unwrap();
    assert!(p.contains("fdff::1".parse().unwrap()));
    assert!(!p.contains("fe80::1".parse().unwrap()));
    assert!(!p.contains("10.0.0.1".parse().unwrap()));
    let all = Prefix::parse("0.0.0.0/0").unwrap();
    assert!(all.contains("1.2.3.4".parse().unwrap()));
    assert!(Prefix::parse("1.2.3.4/32")
        .unwrap()
        .contains("1.2.3.4".parse().unwrap()));
    assert!(Prefix::parse("172.16.0.0/12")
        .unwrap()
        .contains("172.31.9.9".parse().unwrap()));
    assert!(!Prefix::parse("172.16.0.0/12")
        .unwrap()
        .contains("172.32.0.1".parse().unwrap()));
    for bad in [
        "10.0.0.0",
        "10.0.0.0/33",
        "10.0.0.1/8",
        "x/8",
        "::/129",
        "10.0.0.0/+8",
        "fc00::1/7",
    ] {
        assert_eq!(Prefix::parse(bad), None, "{bad}");
    }
    assert_eq!(Prefix::parse("::/0").map(|p| p.len), Some(0));
}

#[test]
fn identifier_checks() {
    assert!(ids::check_imei("356938035643809").is_ok());
    assert!(ids::check_imei("35693803564380x").is_err());
    assert!(ids::check_imsi("46000123456789").is_ok());
    assert!(ids::check_iccid("89860012345678901").is_err());
    assert!(ids::check_meid("A000001234567").is_err());
    assert!(ids::check_phone("+12345").is_err());
    assert!(ids::check_phone("123456").is_ok());
    assert!(ids::check_phone("++123456").is_err());
    assert!(ids::check_serial("abc").is_err());
    assert!(ids::check_serial(&"x".repeat(33)).is_err());
    assert!(ids::parse_mac("a4:50-46:12:34:56").is_err());
    assert!(ids::parse_mac("00:00:00:00:00:00").is_err());
    assert!(ids::parse_mac("a4:50:46:12:34:5g").is_err());
    assert!(ids::parse_mac("a450:4612:3456").is_err());
    assert_eq!(ids::luhn_digit(b"49015420323751"), 8);
}

#[test]
fn datetimes_are_refused_with_their_key() {
    let e = Config::parse("[alert]\nrecent = 1979-05-27\n", "t.toml").unwrap_err();
    assert_eq!(
        (e.line, e.column, e.key.as_str()),
        (2, 10, "alert.recent"),
        "{e}"
    );
}

/// What the detector would silently drop or could not honour is refused, with its place.
#[test]
fn identifiers_the_detector_cannot_honour() {
    let dev = |line: &str| format!("[[device]]\nname = \"d\"\n{line}\n");
    assert_eq!(
        err(&dev("serial = \"AB123\"")),
        "t.toml:3:10: device[0].serial: `AB123` is not a serial number: expected 6 to 32 \
         printable ASCII characters (shorter ones would match unrelated traffic, so they \
         are not searched)"
    );
    assert_eq!(
        ok(&dev("serial = \"AB1234\"")).devices[0].serial,
        ["AB1234"]
    );
    for (line, col) in [
        ("imei = \"000000000000000\"", 8),
        ("phone = [\"+1 111 111 111\"]", 10),
        ("meid = \"FFFFFFFFFFFFFF\"", 8),
        ("serial = \"xxxxxxxx\"", 10),
    ] {
        let e = Config::parse(&dev(line), "t.toml").unwrap_err();
        assert_eq!((e.line, e.column), (3, col), "{e}");
        assert!(e.message.contains("placeholder"), "{e}");
    }
    for mac in [
        "02:00:00:00:00:00",
        "01:00:5e:00:00:fb",
        "ff:ff:ff:ff:ff:ff",
    ] {
        let e = err(&dev(&format!("mac = \"{mac}\"")));
        assert!(e.starts_with("t.toml:3:7: device[0].mac: "), "{e}");
    }
    // A locally administered (randomised) MAC is a real device's.
    assert_eq!(
        ok(&dev("mac = \"02:11:22:33:44:55\"")).devices[0].mac.len(),
        1
    );
}

#[test]
fn no_lan_interfaces_is_an_error() {
    assert_eq!(
        err("[network]\nlan_interfaces = []\n"),
        "t.toml:2:18: network.lan_interfaces: at least one interface is needed: with none, \
         the daemon queues no traffic and inspects nothing"
    );
}

#[test]
fn legitimate_but_surprising_choices_are_warned_about() {
    let c = ok("[[device]]\nname = \"d\"\nimei = \"490154203237518\"\n\
                [detect]\nkinds = { imei = false, mac = false }\n");
    let w: Vec<String> = c.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        w,
        [
            "t.toml:5:18: detect.kinds.imei: the imei values of [[device]] entries are not \
          searched while this kind is off"
        ]
    );
    let c = ok("[detect]\nstructural = false\nlearn_macs = false\n");
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    assert!(c.warnings[0].message.contains("nothing is detected"));
    assert!(ok("").warnings.is_empty());
}

/// Wrong type, unknown key, duplicate key: each placed at file:line:column, and nothing of
/// the file is taken (parse gives a whole config or an error).
#[test]
fn wrong_type_unknown_key_duplicate() {
    assert_eq!(
        err("[detect]\nbudget = \"big\"\n"),
        "t.toml:2:10: detect.budget: invalid type: string \"big\", expected an integer"
    );
    assert!(err("[alert]\nrecnet = 4\n").starts_with("t.toml:2:1: alert.recnet: unknown field"));
    let e = Config::parse(
        "mode = \"monitor\"\n[detect]\nbudget = 100\nbudget = 200\n",
        "t.toml",
    )
    .unwrap_err();
    assert_eq!((e.line, e.column), (4, 1), "{e}");
    assert!(e.message.contains("duplicate key"), "{e}");
    let e = Config::parse("[detect]\n[detect]\n", "t.toml").unwrap_err();
    assert_eq!(e.line, 2, "{e}");
}

#[test]
fn huge_and_non_utf8_files_are_refused_where_they_go_wrong() {
    let dir = std::env::temp_dir().join(format!("leakguard-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let big = dir.join("big.toml");
    // 10 MB of comments: valid TOML, but no config is this big.
    let line = format!("# {}\n", "x".repeat(98));
    std::fs::write(&big, line.repeat(100_000)).unwrap();
    let e = Config::load(&big).unwrap_err();
    assert_eq!(e.file, big.display().to_string());
    let width = line.len();
    assert_eq!(
        (e.line, e.column),
        (MAX_FILE / width + 1, MAX_FILE % width + 1),
        "{e}"
    );
    assert!(e.message.contains("larger than 1024 KiB"), "{e}");
    let latin1 = dir.join("latin1.toml");
    std::fs::write(
        &latin1,
        b"mode = \"monitor\"\n[[device]]\nname = \"M\xfcller\"\n",
    )
    .unwrap();
    let e = Config::load(&latin1).unwrap_err();
    assert_eq!((e.line, e.column), (3, 10), "{e}");
    assert!(
        e.to_string()
            .ends_with(": the file is not UTF-8 text (TOML must be UTF-8)"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

proptest::proptest! {
    #[test]
    fn parse_never_panics(text in "\\PC{0,200}") {
        let _ = Config::parse(&text, "p.toml");
    }

    #[test]
    fn parse_never_panics_on_tomlish(parts in proptest::collection::vec(
        proptest::prop_oneof![
            proptest::strategy::Just("[[device]]\n".to_string()),
            proptest::strategy::Just("[detect]\n".to_string()),
            proptest::strategy::Just("[network]\n".to_string()),
            proptest::strategy::Just("name = \"x\"\n".to_string()),
            proptest::strategy::Just("kinds = { imei = true }\n".to_string()),
            "[a-z_]{1,12} = (\"[^\"\\n]{0,20}\"|[0-9-]{1,8}|true|\\[\\]|\\{\\})\n",
            "\\PC{0,20}",
        ],
        0..12,
    )) {
        let text: String = parts.concat();
        if let Err(e) = Config::parse(&text, "p.toml") {
            proptest::prop_assert!(e.line >= 1 && e.column >= 1, "{}", e);
        }
    }
}
