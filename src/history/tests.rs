//! The history's bounds, eviction policy, masking and persistence.

use std::net::{IpAddr, Ipv4Addr};

use super::store::{self, Loaded};
use super::*;
use crate::finding::{Hit, IdText, Timestamp};
use crate::packet::Proto;

const DAY: i64 = 86_400;

/// Records a finding through its one masked view, as the daemon and `scan --report` do.
trait Add {
    fn add(&mut self, f: &Finding, action: Action);
}

impl Add for History {
    fn add(&mut self, f: &Finding, action: Action) {
        let view = crate::render::Render::default().view(f, action, None);
        self.record(f, &view);
    }
}
const T0: i64 = 1_764_547_200; // 2025-12-01

fn key() -> Key {
    Key::from_bytes([7; 32])
}

fn limits(devices: u32, rows: u32) -> Limits {
    Limits {
        max_devices: devices,
        max_destinations: rows,
        keep_days: 30,
    }
}

fn finding(time: i64, mac: u8, kind: Kind, value: &str, host: Option<&str>, dst: u8) -> Finding {
    let mut v = IdText::new();
    let _ = v.push_str(value);
    Finding {
        time: Timestamp { sec: time, nsec: 0 },
        hit: Hit {
            kind,
            source: Source::Known,
            encoding: Encoding::PLAIN,
            value: v,
            device: None,
        },
        proto: Proto::Tcp,
        src: IpAddr::V4(Ipv4Addr::new(192, 168, 1, mac)),
        sport: 40_000,
        dst: IpAddr::V4(Ipv4Addr::new(203, 0, 113, dst)),
        dport: 80,
        device_mac: Some([0x02, 0, 0, 0, 0, mac]),
        device_name: Some(format!("dev{mac}")),
        host: host.map(str::to_string),
    }
}

const IMEI: &str = "490154203237518";

#[test]
fn rows_group_by_kind_domain_encoding_source() {
    let mut h = History::new(Limits::default(), key());
    h.add(
        &finding(T0, 1, Kind::Imei, IMEI, Some("zzhc.vnet.cn"), 7),
        Action::Blocked,
    );
    h.add(
        &finding(T0 + 5, 1, Kind::Imei, IMEI, Some("log.vnet.cn"), 8),
        Action::Blocked,
    );
    h.add(
        &finding(
            T0 + 9,
            1,
            Kind::Mac,
            "02:00:00:00:00:01",
            Some("zzhc.vnet.cn"),
            7,
        ),
        Action::Reported,
    );
    let d = &h.data().devices;
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].name.as_deref(), Some("dev1"));
    assert_eq!(d[0].mac.as_deref(), Some("02:00:**:**:**:01"));
    assert_eq!(d[0].leaks, 3);
    assert_eq!(d[0].destinations.len(), 2);
    let imei = &d[0].destinations[0];
    assert_eq!((imei.kind, imei.domain.as_str()), (Kind::Imei, "vnet.cn"));
    assert_eq!(
        (imei.count, imei.blocked, imei.first_seen, imei.last_seen),
        (2, 2, T0, T0 + 5)
    );
    assert_eq!(imei.names, vec!["log.vnet.cn", "zzhc.vnet.cn"]);
    assert_eq!(imei.addresses.len(), 2);
    assert_eq!(imei.values.len(), 1);
    assert_eq!(imei.values[0].masked, "4901********518");
    assert_eq!(
        d[0].days,
        vec![DayCount {
            day: T0 / DAY,
            leaks: 3
        }]
    );
}

#[test]
fn two_values_with_one_mask_are_told_apart() {
    let mut h = History::new(Limits::default(), key());
    h.add(
        &finding(T0, 1, Kind::Imei, "490154203237518", None, 7),
        Action::Reported,
    );
    h.add(
        &finding(T0, 1, Kind::Imei, "490154299999518", None, 7),
        Action::Reported,
    );
    h.add(
        &finding(T0, 1, Kind::Imei, "490154203237518", None, 7),
        Action::Reported,
    );
    let row = &h.data().devices[0].destinations[0];
    assert_eq!(row.values.len(), 2);
    assert_eq!(row.values[0].masked, row.values[1].masked);
    assert_ne!(row.values[0].id, row.values[1].id);
    assert_eq!(row.domain, "203.0.113.7", "no name: grouped by address");
}

#[test]
fn per_row_lists_are_bounded() {
    let mut h = History::new(Limits::default(), key());
    for i in 0..20u8 {
        let host = format!("h{i}.example.com");
        let value = format!("49015420323{:04}", i);
        let mut f = finding(T0 + i64::from(i), 1, Kind::Imei, &value, Some(&host), i);
        f.dport = 1000 + u16::from(i);
        h.add(&f, Action::Reported);
    }
    let row = &h.data().devices[0].destinations[0];
    assert_eq!(row.count, 20);
    assert_eq!(row.names.len(), NAMES_PER_ROW);
    assert_eq!(row.names[0], "h19.example.com", "most recent first");
    assert_eq!(row.addresses.len(), ADDRESSES_PER_ROW);
    assert_eq!(row.values.len(), VALUES_PER_ROW);
    assert_eq!(row.values.len() as u64 + row.more_values, 20);
}

#[test]
fn destination_rows_evict_the_least_recently_seen() {
    let mut h = History::new(limits(8, 3), key());
    for (i, host) in ["a.com", "b.com", "c.com"].iter().enumerate() {
        h.add(
            &finding(T0 + i as i64, 1, Kind::Imei, IMEI, Some(host), 1),
            Action::Reported,
        );
    }
    // a.com is seen again: b.com is now the least recently seen.
    h.add(
        &finding(T0 + 10, 1, Kind::Imei, IMEI, Some("a.com"), 1),
        Action::Reported,
    );
    h.add(
        &finding(T0 + 11, 1, Kind::Imei, IMEI, Some("d.com"), 1),
        Action::Reported,
    );
    let d = &h.data().devices[0];
    let domains: Vec<&str> = d.destinations.iter().map(|r| r.domain.as_str()).collect();
    assert_eq!(domains.len(), 3);
    assert!(!domains.contains(&"b.com"), "{domains:?}");
    assert!(domains.contains(&"a.com") && domains.contains(&"d.com"));
    assert_eq!(d.evicted, 1);
}

#[test]
fn devices_evict_clean_ones_first_then_least_recent() {
    let mut h = History::new(limits(3, 8), key());
    let ip = |n: u8| IpAddr::V4(Ipv4Addr::new(192, 168, 1, n));
    let mac = |n: u8| Some([0x02, 0, 0, 0, 0, n]);
    let inspected = FlowEvent {
        inspected: true,
        ..FlowEvent::default()
    };
    // Device 1 leaked long ago; 2 and 3 are clean and seen later.
    h.add(&finding(T0, 1, Kind::Imei, IMEI, None, 1), Action::Reported);
    h.note_flow(T0 + 1, mac(2), ip(2), None, inspected);
    h.note_flow(T0 + 2, mac(3), ip(3), None, inspected);
    // A flood of new clean devices pushes out the clean ones, never device 1.
    for n in 10..40 {
        h.note_flow(T0 + i64::from(n), mac(n), ip(n), None, inspected);
    }
    let data = h.data();
    assert_eq!(data.devices.len(), 3);
    assert!(
        data.devices.iter().any(|d| d.leaks == 1),
        "the leaking device was evicted"
    );
    assert_eq!(data.evicted_devices, 30);
    // When every kept device has leaked, the least recently seen goes.
    let mut h = History::new(limits(2, 8), key());
    h.add(&finding(T0, 1, Kind::Imei, IMEI, None, 1), Action::Reported);
    h.add(
        &finding(T0 + 1, 2, Kind::Imei, IMEI, None, 1),
        Action::Reported,
    );
    h.add(
        &finding(T0 - 5, 1, Kind::Imei, IMEI, None, 1),
        Action::Reported,
    );
    h.add(
        &finding(T0 + 2, 3, Kind::Imei, IMEI, None, 1),
        Action::Reported,
    );
    let names: Vec<_> = h
        .data()
        .devices
        .iter()
        .map(|d| d.name.clone().unwrap())
        .collect();
    assert_eq!(names, vec!["dev2", "dev3"], "dev1 last seen at T0");
}

#[test]
fn zero_devices_keeps_nothing() {
    let mut h = History::new(limits(0, 8), key());
    h.add(&finding(T0, 1, Kind::Imei, IMEI, None, 1), Action::Reported);
    assert!(h.data().devices.is_empty());
}

#[test]
fn flow_counts_per_device() {
    let mut h = History::new(Limits::default(), key());
    let ip = IpAddr::V4(Ipv4Addr::new(192, 168, 1, 1));
    let mac = Some([0x02, 0, 0, 0, 0, 1]);
    for _ in 0..5 {
        h.note_flow(
            T0,
            mac,
            ip,
            None,
            FlowEvent {
                inspected: true,
                ..Default::default()
            },
        );
    }
    h.note_flow(
        T0,
        mac,
        ip,
        Some("tv"),
        FlowEvent {
            leaked: true,
            blocked: true,
            ..Default::default()
        },
    );
    let d = &h.data().devices[0];
    assert_eq!(
        (d.flows_inspected, d.flows_leaked, d.flows_blocked),
        (5, 1, 1)
    );
    assert_eq!(d.name.as_deref(), Some("tv"));
    // Without a MAC, the address is the device.
    h.note_flow(
        T0,
        None,
        ip,
        None,
        FlowEvent {
            inspected: true,
            ..Default::default()
        },
    );
    assert_eq!(h.data().devices.len(), 2);
    assert_eq!(h.data().devices[1].mac, None);
}

#[test]
fn days_and_rows_age_out() {
    let mut h = History::new(limits(8, 8), key());
    let mut l = h.limits();
    l.keep_days = 3;
    h.set_limits(l);
    for day in 0..6 {
        let host = format!("d{day}.com");
        h.add(
            &finding(T0 + day * DAY, 1, Kind::Imei, IMEI, Some(&host), 1),
            Action::Reported,
        );
    }
    assert_eq!(
        h.data().devices[0].days.len(),
        3,
        "one count per day, keep_days of them"
    );
    h.prune(T0 + 5 * DAY);
    let d = &h.data().devices[0];
    let domains: Vec<&str> = d.destinations.iter().map(|r| r.domain.as_str()).collect();
    assert_eq!(domains, vec!["d2.com", "d3.com", "d4.com", "d5.com"]);
    h.prune(T0 + 100 * DAY);
    assert!(h.data().devices.is_empty());
}

#[test]
fn shrinking_limits_evicts_at_once() {
    let mut h = History::new(limits(8, 8), key());
    for n in 1..=6 {
        h.add(
            &finding(T0 + i64::from(n), n, Kind::Imei, IMEI, None, 1),
            Action::Reported,
        );
    }
    h.set_limits(limits(2, 8));
    assert_eq!(h.data().devices.len(), 2);
    assert_eq!(h.data().evicted_devices, 4);
}

#[test]
fn never_holds_a_full_identifier() {
    let mut h = History::new(Limits::default(), key());
    h.add(
        &finding(T0, 0x56, Kind::Imei, IMEI, Some("a.example.com"), 1),
        Action::Blocked,
    );
    h.add(
        &finding(T0, 0x56, Kind::Mac, "02:00:00:00:00:56", None, 1),
        Action::Blocked,
    );
    // A name that carries the identifier (a DNS query leak) is kept masked too.
    let named = format!("{IMEI}.t.example.cn");
    h.add(
        &finding(T0, 0x56, Kind::Imei, IMEI, Some(&named), 2),
        Action::Dropped,
    );
    let text = store::encode(h.data());
    assert!(!text.contains(IMEI), "{text}");
    assert!(!text.contains("490154203237518"), "{text}");
    assert!(!text.contains("02:00:00:00:00:56"), "{text}");
    assert!(text.contains("4901********518"));
    let report = report::render_text(h.data());
    assert!(!report.contains(IMEI));
}

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("lg-history-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn saves_and_loads_back() {
    let dir = temp("roundtrip");
    let path = dir.join("history.json");
    assert!(matches!(store::load(&path), Loaded::Missing));
    let mut h = History::new(Limits::default(), key());
    h.add(
        &finding(T0, 1, Kind::Imei, IMEI, Some("zzhc.vnet.cn"), 7),
        Action::Blocked,
    );
    h.note_flow(
        T0,
        Some([2, 0, 0, 0, 0, 1]),
        "192.168.1.1".parse().unwrap(),
        None,
        FlowEvent {
            inspected: true,
            ..Default::default()
        },
    );
    store::save(&path, h.data()).unwrap();
    match store::load(&path) {
        Loaded::Ok(data) => assert_eq!(&data, h.data()),
        other => panic!("{other:?}"),
    }
    assert!(!dir.join("history.json.tmp").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_corrupt_file_is_set_aside() {
    let dir = temp("corrupt");
    let path = dir.join("history.json");
    let mut h = History::new(Limits::default(), key());
    h.add(
        &finding(T0, 1, Kind::Imei, IMEI, Some("zzhc.vnet.cn"), 7),
        Action::Blocked,
    );
    let good = store::encode(h.data());
    // Torn: cut anywhere; damaged: one digit changed; garbage; empty.
    let mut flipped = good.clone().into_bytes();
    let at = flipped.iter().rposition(|b| *b == b'1').unwrap();
    flipped[at] = b'2';
    let cases: Vec<Vec<u8>> = vec![
        good.as_bytes()[..good.len() / 2].to_vec(),
        good.as_bytes()[..good.len() - 1].to_vec(),
        flipped,
        b"\x00\x00\x00garbage".to_vec(),
        Vec::new(),
        good.replace("leakguard-history 1", "leakguard-history 9")
            .into_bytes(),
    ];
    for bytes in cases {
        std::fs::write(&path, &bytes).unwrap();
        match store::load(&path) {
            Loaded::Corrupt { reason, set_aside } => {
                assert!(!reason.is_empty());
                assert_eq!(
                    set_aside.as_deref(),
                    Some(store::aside_path(&path).as_path())
                );
                assert!(!path.exists(), "the bad file is moved away");
                assert_eq!(std::fs::read(store::aside_path(&path)).unwrap(), bytes);
            }
            other => panic!("{other:?}"),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn report_text_is_aligned_and_filtered() {
    let mut h = History::new(Limits::default(), key());
    h.add(
        &finding(T0, 1, Kind::Imei, IMEI, Some("zzhc.vnet.cn"), 7),
        Action::Blocked,
    );
    h.add(
        &finding(
            T0 + 60,
            1,
            Kind::Iccid,
            "89860012345678901234",
            Some("zzhc.vnet.cn"),
            7,
        ),
        Action::Blocked,
    );
    h.add(
        &finding(
            T0 + 3 * DAY,
            2,
            Kind::Mac,
            "02:00:00:00:00:02",
            Some("t.example.com"),
            9,
        ),
        Action::Reported,
    );
    let all = report::select(h.data(), Some(h.key()), &report::Filter::default()).unwrap();
    let text = report::render_text(&all);
    let lines: Vec<&str> = text.lines().collect();
    let header = lines
        .iter()
        .find(|l| l.trim_start().starts_with("DESTINATION"))
        .unwrap();
    let row = lines
        .iter()
        .find(|l| l.contains("4901********518"))
        .unwrap();
    assert_eq!(header.find("KIND"), row.find("imei"), "{text}");
    assert_eq!(header.find("ENCODING"), row.find("plain"), "{text}");
    assert!(text.contains("zzhc.vnet.cn, 203.0.113.7:80/tcp"), "{text}");
    // By name, by MAC, since.
    let f = report::Filter {
        device: Some("DEV2".into()),
        since: None,
    };
    assert_eq!(
        report::select(h.data(), Some(h.key()), &f)
            .unwrap()
            .devices
            .len(),
        1
    );
    let f = report::Filter {
        device: Some("02:00:00:00:00:01".into()),
        since: None,
    };
    let one = report::select(h.data(), Some(h.key()), &f).unwrap();
    assert_eq!(one.devices[0].name.as_deref(), Some("dev1"));
    assert!(
        report::select(h.data(), None, &f).is_err(),
        "a MAC needs the key"
    );
    let f = report::Filter {
        device: None,
        since: Some(T0 + DAY),
    };
    let recent = report::select(h.data(), Some(h.key()), &f).unwrap();
    assert_eq!(recent.devices.len(), 1);
    let f = report::Filter {
        device: Some("nobody".into()),
        since: None,
    };
    assert!(report::select(h.data(), Some(h.key()), &f).is_err());
    assert_eq!(report::parse_since("7d"), Some(7 * DAY));
    assert_eq!(report::parse_since("12h"), Some(12 * 3600));
    assert_eq!(report::parse_since("7"), None);
    assert_eq!(report::parse_since("d"), None);
}

#[test]
fn hostile_names_are_printable() {
    let mut h = History::new(Limits::default(), key());
    let mut f = finding(T0, 1, Kind::Imei, IMEI, Some("a\u{1b}[2Jb.example.com"), 7);
    f.device_name = Some("tv\u{7}".into());
    h.add(&f, Action::Reported);
    let text = report::render_text(h.data());
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );
}
