//! Detector tests: every kind in every form, the China Telecom request, benign look-alikes.

use super::*;
use crate::config::{Config, Device};
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// The default config (every kind and layer on, no devices), with no leases file to read.
pub fn test_config() -> Config {
    let mut c = Config::default();
    c.network.leases = None;
    c
}

const IMEI: &str = "490154203237518";
const IMEI2: &str = "356938035643809";
const IMSI: &str = "460001234567890";
const ICCID: &str = "89860318640220133897";
const ICCID19: &str = "8944500102198304826";
const MAC: [u8; 6] = [0xa4, 0x50, 0x46, 0x12, 0x34, 0x56];

fn phone_device() -> Config {
    let mut c = test_config();
    c.devices.push(Device {
        name: "phone".into(),
        mac: vec![MAC],
        imei: vec![IMEI.into()],
        imsi: vec![IMSI.into()],
        iccid: vec![ICCID.into()],
        meid: vec!["A0000012345678".into()],
        phone: vec!["+8613800138000".into()],
        serial: vec!["PNX7A1234567".into()],
    });
    c
}

/// Hits as (kind, source, encoding, value) strings, sorted.
fn scan_with(det: &Detector, window: &[u8]) -> Vec<(String, String, String, String)> {
    let mut scratch = Scratch::new();
    let mut out = Vec::new();
    det.scan(window, &mut scratch, &mut |h: Hit| {
        out.push((
            h.kind.to_string(),
            h.source.to_string(),
            h.encoding.to_string(),
            h.value.to_string(),
        ))
    });
    out.sort();
    out
}

fn hits(config: &Config, window: &[u8]) -> Vec<(String, String, String, String)> {
    scan_with(&Detector::new(config), window)
}

fn h(kind: &str, source: &str, enc: &str, value: &str) -> (String, String, String, String) {
    (kind.into(), source.into(), enc.into(), value.into())
}

/// Base64 (standard alphabet, padded), wrapped every `wrap` columns with "\n" when non-zero.
fn b64(data: &[u8], wrap: usize) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                s.push(char::from(A[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                s.push('=');
            }
        }
    }
    if wrap == 0 {
        return s;
    }
    let mut w = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && i % wrap == 0 {
            w.push('\n');
        }
        w.push(ch);
    }
    w.push('\n');
    w
}

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut v = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    v.extend(miniz_oxide::deflate::compress_to_vec(data, 6));
    v.extend([0; 8]);
    v
}

#[test]
fn known_values_plain() {
    let c = phone_device();
    let k = |kind, v: &str| h(kind, "known", "plain", v);
    assert_eq!(
        hits(&c, format!("GET /?id={IMEI}&x=1").as_bytes()),
        vec![k("imei", IMEI)]
    );
    assert_eq!(
        hits(&c, format!("a {IMSI} b").as_bytes()),
        vec![k("imsi", IMSI)]
    );
    assert_eq!(
        hits(&c, format!("a={ICCID}").as_bytes()),
        vec![k("iccid", ICCID)]
    );
    assert_eq!(
        hits(&c, b"x=a0000012345678;"),
        vec![k("meid", "A0000012345678")]
    );
    assert_eq!(
        hits(&c, b"sn=pnx7a1234567\n"),
        vec![k("serial", "PNX7A1234567")]
    );
    // The IMEI without its check digit (China Telecom's MEID field) is the IMEI.
    assert_eq!(
        hits(&c, b"{\"X\":\"49015420323751\"}"),
        vec![k("imei", IMEI)]
    );
    for p in ["+8613800138000", "8613800138000", "008613800138000"] {
        assert_eq!(
            hits(&c, format!("n={p}&").as_bytes()),
            vec![k("phone", "+8613800138000")],
            "{p}"
        );
    }
    for m in [
        "a4:50:46:12:34:56",
        "A4:50:46:12:34:56",
        "a4-50-46-12-34-56",
        "A4-50-46-12-34-56",
        "a450.4612.3456",
        "a45046123456",
        "A45046123456",
    ] {
        assert_eq!(
            hits(&c, format!("v=\"{m}\"").as_bytes()),
            vec![k("mac", "a4:50:46:12:34:56")],
            "{m}"
        );
        assert_eq!(
            hits(&c, m.as_bytes()),
            vec![k("mac", "a4:50:46:12:34:56")],
            "{m}"
        );
    }
}

/// Known values of 48 bits or more need no boundary: devices glue them to model names, file
/// names, UUIDs and other digits.
#[test]
fn known_values_glued_to_other_text() {
    let c = phone_device();
    let k = |kind, v: &str| vec![h(kind, "known", "plain", v)];
    let mac = "a4:50:46:12:34:56";
    for w in [
        format!("x=1{IMEI}"),
        format!("x={IMEI}9"),
        format!("dev{IMEI}x"),
        format!("{{\"sn\":\"NK{IMEI}01\"}}"),
    ] {
        assert_eq!(hits(&c, w.as_bytes()), k("imei", IMEI), "{w}");
    }
    for w in [
        "x=ffa45046123456",
        "x=a4504612345601",
        "x=00:a4:50:46:12:34:56",
        "x=a4:50:46:12:34:56:78",
        "clientId=NokiaTA1046-a45046123456&",
        "GET /prov/A45046123456.cfg HTTP/1.1",
        "GET /SEPA45046123456.cnf.xml HTTP/1.1",
        "hostname=ESP_a45046123456",
        "Nokia_A4-50-46-12-34-56",
        "MAC:A4-50-46-12-34-56",
        "\"uuid\":\"6f1c7d2e-1f3b-11ee-8000-a45046123456\"",
        "host=dev.a450.4612.3456.lan",
    ] {
        assert_eq!(hits(&c, w.as_bytes()), k("mac", mac), "{w}");
    }
    assert_eq!(hits(&c, b"x=xpnx7a1234567"), k("serial", "PNX7A1234567"));
    // Derived forms below 48 bits keep their boundary: the IMEI without its check digit
    // inside a longer run of digits is another number.
    assert!(hits(&c, b"x=1490154203237510").is_empty());
    assert!(hits(&c, b"x=490154203237510").is_empty());
}

/// Benign look-alikes of glued values: another MAC's 12 hex digits, UUIDs whose node is no
/// LAN device's, long hex ids.
#[test]
fn glued_look_alikes_give_nothing() {
    let c = phone_device();
    for w in [
        "clientId=NokiaTA1046-a45046123457&",
        "\"uuid\":\"6f1c7d2e-1f3b-11ee-8000-3c286d010203\"",
        "\"uuid\":\"123e4567-e89b-12d3-a456-426614174000\"",
        "id=9b2f45a450461234e6a1c0d2",
        "x=a45046123465",
    ] {
        assert!(hits(&c, w.as_bytes()).is_empty(), "{w}");
    }
}

#[test]
fn device_index_is_reported() {
    let mut c = test_config();
    c.devices.push(Device::default());
    c.devices.push(Device {
        imei: vec![IMEI2.into()],
        ..Device::default()
    });
    let det = Detector::new(&c);
    let mut scratch = Scratch::new();
    let mut got = Vec::new();
    det.scan(format!("imei={IMEI2}").as_bytes(), &mut scratch, &mut |h| {
        got.push(h)
    });
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].device, Some(1));
    assert_eq!(got[0].source, Source::Known);
}

#[test]
fn learned_macs() {
    let mut det = Detector::new(&test_config());
    assert!(det.learn_mac(MAC));
    assert!(!det.learn_mac(MAC));
    for placeholder in [
        [0; 6],
        [0xff; 6],
        [2, 0, 0, 0, 0, 0],
        [0x01, 0, 0x5e, 0, 0, 1],
    ] {
        assert!(!det.learn_mac(placeholder));
    }
    assert_eq!(det.learned_macs(), 1);
    let l = vec![h("mac", "learned", "plain", "a4:50:46:12:34:56")];
    for m in [
        "a4:50:46:12:34:56",
        "A4-50-46-12-34-56",
        "a450.4612.3456",
        "A45046123456",
    ] {
        assert_eq!(scan_with(&det, format!("x={m}&y").as_bytes()), l, "{m}");
        assert_eq!(scan_with(&det, m.as_bytes()), l, "{m}");
        // A mac key next to a learned MAC: reported once, as learned.
        assert_eq!(
            scan_with(&det, format!("{{\"mac\":\"{m}\"}}").as_bytes()),
            l,
            "{m}"
        );
    }
    assert!(scan_with(&det, b"x=a4:50:46:12:34:57").is_empty());
    // Glued to other hex: found (48 bits, see `learned_and_digests_glued`).
    assert_eq!(scan_with(&det, b"x=ffa45046123456"), l);
    assert_eq!(scan_with(&det, b"x=a4:50:46:12:34:56:77"), l);
}

/// On the packet path the automaton is rebuilt at most once a second of packet time: a MAC
/// learned in the same second as the last rebuild is in the map at once and searched from the
/// next packet of a later second on (a host sending from ever-new MACs costs one rebuild a
/// second, not one per MAC).
#[test]
fn learning_on_the_packet_path_rebuilds_once_a_second() {
    let mut det = Detector::new(&test_config());
    let other = [0x3c, 0x22, 0xfb, 0x01, 0x02, 0x03];
    assert!(det.learn_mac_at(MAC, 100));
    let l = vec![h("mac", "learned", "plain", "a4:50:46:12:34:56")];
    assert_eq!(scan_with(&det, b"x=a4:50:46:12:34:56&"), l);
    // Same second: learned, not yet searched.
    assert!(det.learn_mac_at(other, 100));
    assert_eq!(det.learned_macs(), 2);
    assert!(scan_with(&det, b"x=3c:22:fb:01:02:03&").is_empty());
    // A later second's packet (from any known device) rebuilds; both are searched.
    assert!(!det.learn_mac_at(MAC, 101));
    let o = vec![h("mac", "learned", "plain", "3c:22:fb:01:02:03")];
    assert_eq!(scan_with(&det, b"x=3c:22:fb:01:02:03&"), o);
    assert_eq!(scan_with(&det, b"x=a4:50:46:12:34:56&"), l);
}

/// A detector counted as built at a second defers the first MAC learned in that second too.
#[test]
fn a_build_time_defers_the_first_rebuild() {
    let mut det = Detector::new(&test_config());
    det.set_built_at(100);
    assert!(det.learn_mac_at(MAC, 100));
    assert_eq!(det.learned_macs(), 1);
    assert!(scan_with(&det, b"x=a4:50:46:12:34:56&").is_empty());
    assert!(!det.learn_mac_at(MAC, 101));
    let l = vec![h("mac", "learned", "plain", "a4:50:46:12:34:56")];
    assert_eq!(scan_with(&det, b"x=a4:50:46:12:34:56&"), l);
}

#[test]
fn learning_is_bounded() {
    let mut c = test_config();
    c.detect.max_learned_macs = 2;
    let mut det = Detector::new(&c);
    assert!(det.learn_mac([0x10, 0, 0, 0, 0, 1]));
    assert!(det.learn_mac([0x10, 0, 0, 0, 0, 2]));
    assert!(!det.learn_mac([0x10, 0, 0, 0, 0, 3]));
    assert_eq!(det.learned_macs(), 2);
    c.detect.learn_macs = false;
    let mut det = Detector::new(&c);
    assert!(!det.learn_mac(MAC));
}

#[test]
fn structural_in_every_key_shape() {
    let c = test_config();
    let p = |kind, v: &str| vec![h(kind, "pattern", "plain", v)];
    let shapes = [
        "GET /r?imei={}&a=1 HTTP/1.1",
        "imei={}",
        "{\"imei\":\"{}\"}",
        "{\"imei\": {} }",
        "{\"IMEI\" : \"{}\",",
        "{\\\"imei\\\":\\\"{}\\\"}",
        "<imei>{}</imei>",
        "<dev imei=\"{}\"/>",
        "X-Imei: {}\r\n",
        "{\"deviceImei\":\"{}\"}",
        "{\"IMEI1\":\"{}\",\"IMEI2\":\"\"}",
        "device_id={}",
        "deviceId={}",
        "name=\"imei\"\r\n\r\n{}\r\n--b",
    ];
    for s in shapes {
        let w = s.replace("{}", IMEI2);
        assert_eq!(hits(&c, w.as_bytes()), p("imei", IMEI2), "{w}");
    }
    assert_eq!(
        hits(&c, b"imeisv=4901542032375101&"),
        p("imeisv", "4901542032375101")
    );
    assert_eq!(
        hits(&c, b"\"meid\":\"A0000012345678\""),
        p("meid", "A0000012345678")
    );
    assert_eq!(
        hits(&c, b"\"meid\":\"a0000012345678\""),
        p("meid", "A0000012345678")
    );
    assert_eq!(
        hits(&c, b"\"MEID\":\"49015420323751\""),
        p("meid", "49015420323751")
    );
    assert_eq!(hits(&c, b"\"MEID\":\"490154203237518\""), p("imei", IMEI));
    assert_eq!(hits(&c, format!("imsi={IMSI}").as_bytes()), p("imsi", IMSI));
    assert_eq!(
        hits(&c, b"\"SIM1LTEIMSI\":\"310260123456789\""),
        p("imsi", "310260123456789")
    );
    assert_eq!(
        hits(&c, format!("iccid={ICCID}").as_bytes()),
        p("iccid", ICCID)
    );
    assert_eq!(
        hits(&c, format!("\"SIM1ICCID\":\"{ICCID19}\"").as_bytes()),
        p("iccid", ICCID19)
    );
    assert_eq!(
        hits(&c, format!("sim_serial={ICCID19}").as_bytes()),
        p("iccid", ICCID19)
    );
    for m in [
        "a4:50:46:12:34:56",
        "A4-50-46-12-34-56",
        "a450.4612.3456",
        "A45046123456",
    ] {
        for k in [
            "mac",
            "MACID",
            "wifi_mac",
            "macAddress",
            "mac_address",
            "wifiMac",
        ] {
            let w = format!("{{\"{k}\":\"{m}\"}}");
            assert_eq!(hits(&c, w.as_bytes()), p("mac", "a4:50:46:12:34:56"), "{w}");
        }
    }
    assert_eq!(
        hits(&c, b"phone=%2B8613800138000&"),
        p("phone", "+8613800138000")
    );
    assert_eq!(
        hits(&c, b"\"phone\":\"+86 138-0013-8000\""),
        p("phone", "+8613800138000")
    );
    assert_eq!(
        hits(&c, b"msisdn=008613800138000"),
        p("phone", "+8613800138000")
    );
    assert_eq!(
        hits(&c, b"<mobile>13800138000</mobile>"),
        p("phone", "13800138000")
    );
    assert_eq!(
        hits(&c, b"userPhone=13800138000&"),
        p("phone", "13800138000")
    );
    assert_eq!(
        hits(&c, b"tel: +1 (555) 123-4567\r\n"),
        p("phone", "+15551234567")
    );
}

#[test]
fn benign_look_alikes_give_nothing() {
    let c = test_config();
    let benign: &[&[u8]] = &[
        b"order_id=771234123412340&imei=771234123412340",
        b"{\"imei\":\"490154203237519\"}",
        b"{\"imei\":\"000000000000000\"}",
        b"{\"card\":\"4111111111111111\",\"imei\":\"4111111111111111\"}",
        b"{\"ts\":1700000000000,\"phone\":1700000000000,\"tel\":\"1600000000\"}",
        b"{\"uuid\":\"123e4567-e89b-12d3-a456-426614174000\"}",
        b"ETag: \"9e107d9d372bb6826bd81d3542a419d6\"\r\n",
        b"Cookie: sid=dGhpc2lzbm90YmFzZTY0OnhAIyQlXiYqKCk=; tk=Zm9vYmFyYmF6cXV4cXV1eg9f8w7A\r\n",
        b"{\"mac\":\"02:00:00:00:00:00\",\"wifimac\":\"00:00:00:00:00:00\",\"btmac\":\"ff:ff:ff:ff:ff:ff\"}",
        b"imsi=001010123456789&imsi2=999990123456789",
        b"ids=490154203237518,356938035643809",
        b"primeimage=490154203237518",
        b"hotel=13800138000&imac=a4:50:46:12:34:56",
        b"bssid=a4:50:46:12:34:56",
        b"iccid=8944500102198304827",
        b"phone=11111111111",
        b"serial=490154203237518",
        // Phone-ish keys on counters, addresses, dates and decimals.
        b"{\"usage\":{\"wifi\":9876543210,\"mobile\":123456789}}",
        b"{\"mobile\":\"192.168.100.254\"}",
        b"{\"mobile\":\"192.168.100.254.\"}",
        b"{\"tel\":\"2026-12-01\"}",
        b"{\"mobile\":\"2026-12-01 03:27:12\"}",
        b"{\"mobile\":0.123456789}",
        b"mobile=0.123456789.&x=1",
        // `meid` inside other words.
        b"{\"gameId\":\"35123456789012\",\"frameId\":\"10234567890123\",\"nameId\":\"abcdef01234567\"}",
    ];
    for w in benign {
        assert!(hits(&c, w).is_empty(), "{}", String::from_utf8_lossy(w));
    }
}

/// A phone number cut by the end of a window that more bytes follow at once is not judged on
/// its first digits (a 13-digit timestamp cut after 8 looks like one); at the end of a write it
/// is.
#[test]
fn a_value_cut_by_the_window_is_not_judged_early() {
    let d = Detector::new(&test_config());
    let mut scratch = Scratch::new();
    let w = b"{\"mobile\":\"17330212";
    let mut n = 0;
    d.scan_window(w, false, &mut scratch, &mut |_| n += 1);
    assert_eq!(n, 0);
    let w = b"name=x&phone=+8613812345678";
    d.scan_window(w, false, &mut scratch, &mut |_| n += 1);
    assert_eq!(n, 0);
    d.scan_window(w, true, &mut scratch, &mut |_| n += 1);
    assert_eq!(n, 1);
}

#[test]
fn url_layer() {
    let c = test_config();
    let w = format!("POST /x HTTP/1.1\r\n\r\ndata=%7B%22imei%22%3A%22{IMEI}%22%7D");
    assert_eq!(
        hits(&c, w.as_bytes()),
        vec![h("imei", "pattern", "url", IMEI)]
    );
    // A plain value next to an unrelated escape is not also reported as url.
    let w = format!("imei={IMEI}&name=J%20Doe");
    assert_eq!(
        hits(&c, w.as_bytes()),
        vec![h("imei", "pattern", "plain", IMEI)]
    );
    let w = format!("a=1&imei%3D{IMEI}&b");
    assert_eq!(
        hits(&c, w.as_bytes()),
        vec![h("imei", "pattern", "url", IMEI)]
    );
    // Base64 inside a URL-encoded token is reported once, as base64 (seen in the plain text).
    let w = format!("a=%20&b={}&c=1", b64(format!("imei={IMEI}").as_bytes(), 0));
    assert_eq!(
        hits(&c, w.as_bytes()),
        vec![h("imei", "pattern", "base64", IMEI)]
    );
    // Base64 that was URL-escaped is found after URL decoding.
    let enc = b64(format!("{{\"imei\":\"{IMEI}\"}}").as_bytes(), 0);
    assert!(enc.contains('+') || enc.contains('/') || enc.contains('='));
    let esc = enc
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D");
    let w = format!("x=1&b={esc}&c=1");
    let got = hits(&c, w.as_bytes());
    // The part before the first escape may already decode far enough to hold it.
    assert!(
        got == vec![h("imei", "pattern", "base64+url", IMEI)]
            || got == vec![h("imei", "pattern", "base64", IMEI)],
        "{got:?}"
    );
    // Escaped from its first byte on: only the URL layer can see it.
    let esc: String = enc.bytes().map(|b| format!("%{b:02X}")).collect();
    let w = format!("x=1&b={esc}&c=1");
    assert_eq!(
        hits(&c, w.as_bytes()),
        vec![h("imei", "pattern", "base64+url", IMEI)]
    );
    let w = "mac=a4%3A50%3A46%3A12%3A34%3A56&x=1";
    assert_eq!(
        hits(&c, w.as_bytes()),
        vec![h("mac", "pattern", "url", "a4:50:46:12:34:56")]
    );
}

#[test]
fn hex_layer() {
    let c = phone_device();
    let w = format!("d={}&", hex(format!("imei={IMEI2}").as_bytes()));
    assert_eq!(
        hits(&c, w.as_bytes()),
        vec![h("imei", "pattern", "hex", IMEI2)]
    );
    let w = format!("d={}", hex(IMSI.as_bytes()).to_uppercase());
    assert_eq!(
        hits(&c, w.as_bytes()),
        vec![h("imsi", "known", "hex", IMSI)]
    );
}

#[test]
fn base64_layer_any_alignment_and_wrap() {
    let c = phone_device();
    let body = format!("{{\"imei\":\"{IMEI2}\",\"imsi\":\"{IMSI}\"}}");
    let enc = b64(body.as_bytes(), 0);
    let want = vec![
        h("imei", "pattern", "base64", IMEI2),
        h("imsi", "known", "base64", IMSI),
    ];
    assert_eq!(hits(&c, format!("q={enc}&").as_bytes()), want);
    // URL-safe alphabet, unpadded.
    let url = enc.replace('+', "-").replace('/', "_").replace('=', "");
    assert_eq!(hits(&c, format!("q={url}").as_bytes()), want);
    // The window starts mid-stream: any of 4 alignments.
    for cut in 1..4 {
        let w = &enc.as_bytes()[cut..];
        let got = hits(&c, w);
        assert!(
            got.contains(&h("imsi", "known", "base64", IMSI)),
            "cut {cut}: {got:?}"
        );
    }
}

#[test]
fn gzip_layers() {
    let c = phone_device();
    // Long enough to be compressed (a short body may be a stored block: plain text inside).
    let text = format!(
        "{{\"imei\":\"{IMEI2}\",\"x\":\"{ICCID}\",\"pad\":\"{}\"}}",
        "ab".repeat(300)
    );
    let body = gzip(text.as_bytes());
    let mut req = b"POST /u HTTP/1.1\r\nHost: a\r\nContent-Encoding: gzip\r\n\r\n".to_vec();
    req.extend(&body);
    let want = vec![
        h("iccid", "known", "gzip", ICCID),
        h("imei", "pattern", "gzip", IMEI2),
    ];
    assert_eq!(hits(&c, &req), want);
    // Truncated stream: what was inflated is still scanned.
    let cut = req.len() - 12;
    assert!(hits(&c, &req[..cut]).contains(&h("imei", "pattern", "gzip", IMEI2)));
    // Content-Encoding: deflate (zlib).
    let z = miniz_oxide::deflate::compress_to_vec_zlib(text.as_bytes(), 6);
    let mut req = b"POST /u HTTP/1.1\r\nContent-Encoding: deflate\r\nHost: a\r\n\r\n".to_vec();
    req.extend(&z);
    assert_eq!(hits(&c, &req), want);
    // gzip then base64.
    let w = format!("payload={}", b64(&body, 0));
    assert_eq!(
        hits(&c, w.as_bytes()),
        vec![
            h("iccid", "known", "gzip+base64", ICCID),
            h("imei", "pattern", "gzip+base64", IMEI2),
        ]
    );
}

#[test]
fn digests() {
    let mut det = Detector::new(&phone_device());
    assert!(det.learn_mac([0x3c, 0x28, 0x6d, 0x01, 0x02, 0x03]));
    let md5 = hex(&Md5::digest(IMEI.as_bytes()));
    assert_eq!(
        scan_with(&det, format!("{{\"did\":\"{md5}\"}}").as_bytes()),
        vec![h("imei", "known", "md5", IMEI)]
    );
    let sha1 = hex(&Sha1::digest(IMSI.as_bytes())).to_uppercase();
    assert_eq!(
        scan_with(&det, format!("u={sha1}").as_bytes()),
        vec![h("imsi", "known", "sha1", IMSI)]
    );
    let sha256 = hex(&Sha256::digest(b"A4:50:46:12:34:56"));
    assert_eq!(
        scan_with(&det, format!("m={sha256}").as_bytes()),
        vec![h("mac", "known", "sha256", "a4:50:46:12:34:56")]
    );
    let learned = hex(&Md5::digest(b"3c286d010203"));
    assert_eq!(
        scan_with(&det, format!("m={learned}").as_bytes()),
        vec![h("mac", "learned", "md5", "3c:28:6d:01:02:03")]
    );
    let b = b64(&Md5::digest(IMEI.as_bytes()), 0);
    assert_eq!(
        scan_with(&det, format!("k={b}&").as_bytes()),
        vec![h("imei", "known", "md5+base64", IMEI)]
    );
    let b = b64(&Sha256::digest(b"+8613800138000"), 0).replace('=', "");
    assert_eq!(
        scan_with(&det, format!("k={b}&").as_bytes()),
        vec![h("phone", "known", "sha256+base64", "+8613800138000")]
    );
    // An md5 of something else (an etag) is nothing.
    let other = hex(&Md5::digest(b"index.html"));
    assert!(scan_with(&det, format!("ETag: \"{other}\"").as_bytes()).is_empty());
}

/// The Nokia 7 Plus registration to China Telecom: base64 (Android Base64.DEFAULT, 76
/// columns, "\n") of a JSON body, sent as `application/encrypted-json`.
#[test]
fn china_telecom_registration() {
    let json = concat!(
        "{\"REGVER\":\"1.0\",\"MEID\":\"86752003123456\",\"MODELSMS\":\"TE-Nokia 7 plus\",",
        "\"SWVER\":\"00WW_3_39C\",\"SIM1ICCID\":\"89860318640220133897\",",
        "\"SIM1LTEIMSI\":\"460110123456789\",\"SIM1CDMAIMSI\":\"460030912345678\",",
        "\"SIM1CELLID\":\"12345\",\"IMEI1\":\"867520031234569\",\"IMEI2\":\"352099001761481\",",
        "\"MACID\":\"3c:28:6d:ab:cd:ef\",\"ACCESSTYPE\":\"1\",\"REGDATE\":\"2019-05-06 10:11:12\"}"
    );
    let body = b64(json.as_bytes(), 76);
    assert!(body.lines().next().unwrap().len() == 76);
    let req = format!(
        "POST / HTTP/1.1\r\nContent-Type: application/encrypted-json\r\nHost: zzhc.vnet.cn\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let b = |kind, v: &str| h(kind, "pattern", "base64", v);
    let want = vec![
        b("iccid", "89860318640220133897"),
        b("imei", "352099001761481"),
        b("imei", "867520031234569"),
        b("imsi", "460030912345678"),
        b("imsi", "460110123456789"),
        b("mac", "3c:28:6d:ab:cd:ef"),
        b("meid", "86752003123456"),
    ];
    assert_eq!(hits(&test_config(), req.as_bytes()), want);
    // With the phone configured, the same request is credited to it.
    let mut c = test_config();
    c.devices.push(Device {
        imei: vec!["867520031234569".into()],
        mac: vec![[0x3c, 0x28, 0x6d, 0xab, 0xcd, 0xef]],
        ..Device::default()
    });
    let got = hits(&c, req.as_bytes());
    assert!(
        got.contains(&h("imei", "known", "base64", "867520031234569")),
        "{got:?}"
    );
    assert!(
        got.contains(&h("mac", "known", "base64", "3c:28:6d:ab:cd:ef")),
        "{got:?}"
    );
    assert!(!got.iter().any(|x| x.0 == "meid"), "{got:?}");
    // A window starting mid-body still finds what it holds.
    let mid = &req.as_bytes()[req.len() / 2 + 3..];
    assert!(!hits(&test_config(), mid).is_empty());
}

#[test]
fn switches_and_dedup() {
    let mut c = phone_device();
    let w = format!(
        "imei={IMEI}&again={IMEI}&b={}",
        b64(format!("imei={IMEI}").as_bytes(), 0)
    );
    assert_eq!(
        hits(&c, w.as_bytes()),
        vec![
            h("imei", "known", "base64", IMEI),
            h("imei", "known", "plain", IMEI)
        ]
    );
    c.detect.encodings[Layer::Base64 as usize] = false;
    assert_eq!(
        hits(&c, w.as_bytes()),
        vec![h("imei", "known", "plain", IMEI)]
    );
    c.detect.kinds = c.detect.kinds.without(Kind::Imei);
    assert!(hits(&c, w.as_bytes()).is_empty());
    let mut c = test_config();
    c.detect.structural = false;
    assert!(hits(&c, format!("imei={IMEI}").as_bytes()).is_empty());
    let mut c = test_config();
    c.detect.decode_depth = 1;
    let inner = b64(format!("imei={IMEI}").as_bytes(), 0);
    let w = format!("x={}", b64(inner.as_bytes(), 0));
    assert!(hits(&c, w.as_bytes()).is_empty());
    c.detect.decode_depth = 2;
    assert_eq!(
        hits(&c, w.as_bytes()),
        vec![h("imei", "pattern", "base64+base64", IMEI)]
    );
}

#[test]
fn literal_patterns_are_exposed() {
    let det = Detector::new(&phone_device());
    let p = det.literal_patterns();
    assert!(p.iter().any(|s| s == IMEI.as_bytes()));
    assert!(p.iter().any(|s| s == b"imei"));
    assert!(p.iter().any(|s| s == b"a4:50:46:12:34:56"));
}

fn benign_http(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n + 1024);
    let mut i = 0u64;
    while out.len() < n {
        i += 1;
        out.extend(
            format!(
                "GET /static/js/app.{i}.js?v=1700000{i:06}&lang=en-US HTTP/1.1\r\nHost: cdn.example.com\r\n\
                 User-Agent: Mozilla/5.0 (Linux; Android 9; Nokia 7 plus) AppleWebKit/537.36\r\n\
                 Accept: */*\r\nCookie: sid=Q2hZ8xk3Lw9pTq0vR7mB1sKe4Ua6Nd2f{i}; _ga=GA1.2.{i}.1700000000\r\n\
                 If-None-Match: \"9e107d9d372bb6826bd81d3542a419d6\"\r\nReferer: https://www.example.com/a%20b?q=test\r\n\r\n\
                 {{\"id\":{i},\"order\":\"77123412341{i:04}\",\"ts\":1700000000000,\"name\":\"item\"}}\r\n"
            )
            .as_bytes(),
        );
    }
    out
}

#[test]
fn one_megabyte_of_benign_traffic() {
    let mut det = Detector::new(&phone_device());
    for i in 0..200u8 {
        det.learn_mac([0x10, 0x22, 0x33, 0x44, i, 0x66]);
    }
    let data = benign_http(1 << 20);
    let mut scratch = Scratch::new();
    let mut n = 0;
    let t = std::time::Instant::now();
    for w in data.chunks(4096) {
        det.scan(w, &mut scratch, &mut |_| n += 1);
    }
    eprintln!("1 MiB benign: {:?}, {n} hits", t.elapsed());
    assert_eq!(n, 0);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn scan_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let mut scratch = Scratch::new();
            for c in [test_config(), phone_device()] {
                let det = Detector::new(&c);
                det.scan(&bytes, &mut scratch, &mut |_| {});
            }
        }

        #[test]
        fn scan_never_panics_on_texty_input(s in "[a-f0-9A-Z:=%\"{}+/\\n.-]{0,400}") {
            let mut scratch = Scratch::new();
            let mut det = Detector::new(&phone_device());
            det.learn_mac([0x10, 0x22, 0x33, 0x44, 0x55, 0x66]);
            det.scan(s.as_bytes(), &mut scratch, &mut |_| {});
            let prefixed = format!("imei={s}");
            det.scan(prefixed.as_bytes(), &mut scratch, &mut |_| {});
        }
    }
}

/// Throughput against a bare aho-corasick scan over the same patterns and bytes. Run with
/// `cargo test --release --lib detect::tests::throughput -- --ignored --nocapture`.
#[test]
#[ignore]
fn throughput_against_bare_automaton() {
    let mut det = Detector::new(&phone_device());
    for i in 0..200u8 {
        det.learn_mac([0x10, 0x22, 0x33, 0x44, i, 0x66]);
    }
    let bare = aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::LeftmostLongest)
        .build(det.literal_patterns())
        .unwrap();
    let data = benign_http(8 << 20);
    let mut scratch = Scratch::new();
    let mut best = (f64::MAX, f64::MAX);
    for _ in 0..5 {
        let t = std::time::Instant::now();
        let mut n = 0usize;
        for w in data.chunks(4096) {
            n += bare.find_iter(w).count();
        }
        let tb = t.elapsed().as_secs_f64();
        let t = std::time::Instant::now();
        let mut hits = 0usize;
        for w in data.chunks(4096) {
            det.scan(w, &mut scratch, &mut |_| hits += 1);
        }
        let td = t.elapsed().as_secs_f64();
        assert!(n < usize::MAX && hits == 0);
        best = (best.0.min(tb), best.1.min(td));
    }
    let mb = data.len() as f64 / 1e6;
    eprintln!(
        "bare {:.0} MB/s, detector {:.0} MB/s, ratio {:.2}",
        mb / best.0,
        mb / best.1,
        best.0 / best.1
    );
}

/// The run pass probes every `MIN_RUN`th byte and skips what cannot hold a run: a value must be
/// found wherever it sits.
#[test]
fn found_at_every_offset() {
    let mut det = Detector::new(&test_config());
    assert!(det.learn_mac(MAC));
    let l = h("mac", "learned", "plain", "a4:50:46:12:34:56");
    let inner = b64(format!("{{\"imei\":\"{IMEI}\"}}").as_bytes(), 0);
    for off in 0..40 {
        let pad = "ab cd.e:f ".repeat(4);
        let pad = pad.get(..off).expect("ASCII padding");
        for m in [
            "a4:50:46:12:34:56",
            "a4-50-46-12-34-56",
            "a450.4612.3456",
            "a45046123456",
        ] {
            let w = format!("{pad} {m} and some more text after it");
            assert_eq!(scan_with(&det, w.as_bytes()), vec![l.clone()], "{w}");
            let w = format!("{pad}at:{m}:z and some more text after it");
            assert_eq!(scan_with(&det, w.as_bytes()), vec![l.clone()], "{w}");
        }
        let w = format!("{pad}={inner}&x");
        assert_eq!(
            scan_with(&det, w.as_bytes()),
            vec![h("imei", "pattern", "base64", IMEI)],
            "{w}"
        );
    }
}

/// Scanning allocates nothing: a counting allocator (per thread, so parallel tests do not
/// disturb it) around scans of every kind of window. `GlobalAlloc` is an unsafe trait.
#[allow(unsafe_code)]
mod no_allocation {
    use super::*;
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    struct Counting;

    thread_local! {
        static ALLOCS: Cell<usize> = const { Cell::new(0) };
    }

    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
            // SAFETY: forwarded unchanged to the system allocator.
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: forwarded unchanged to the system allocator.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    #[global_allocator]
    static GLOBAL: Counting = Counting;

    #[test]
    fn scan_allocates_nothing() {
        let mut det = Detector::new(&phone_device());
        det.learn_mac([0x3c, 0x28, 0x6d, 0x01, 0x02, 0x03]);
        let json = format!("{{\"imei\":\"{IMEI2}\",\"mac\":\"3c:28:6d:01:02:03\"}}");
        let windows: Vec<Vec<u8>> = vec![
            benign_http(8192),
            format!(
                "imei={IMEI}&q={}&u=%7B%22imsi%22%3A%22{IMSI}%22%7D",
                b64(json.as_bytes(), 76)
            )
            .into_bytes(),
            format!(
                "d={}&m={}",
                hex(json.as_bytes()),
                hex(&Md5::digest(IMEI.as_bytes()))
            )
            .into_bytes(),
            {
                let mut r = b"POST / HTTP/1.1\r\nContent-Encoding: gzip\r\n\r\n".to_vec();
                r.extend(gzip(json.as_bytes()));
                r
            },
        ];
        let mut scratch = Scratch::new();
        let mut found = 0usize;
        let before = ALLOCS.with(Cell::get);
        for w in &windows {
            det.scan(w, &mut scratch, &mut |_| found += 1);
        }
        let after = ALLOCS.with(Cell::get);
        assert!(found >= 6, "{found}");
        assert_eq!(after - before, 0, "allocations during scan");
        // The counter does count.
        let b = std::hint::black_box(Box::new(1u64));
        assert!(ALLOCS.with(Cell::get) > after && *b == 1);
    }
}

/// BCD of `digits` (first digit in the high nibble), an odd length ending in `pad`.
fn bcd(digits: &str, pad: u8) -> Vec<u8> {
    let d: Vec<u8> = digits.bytes().map(|b| b - b'0').chain([pad]).collect();
    d.chunks_exact(2).map(|p| p[0] << 4 | p[1]).collect()
}

/// TBCD of `digits` (nibbles swapped), an odd length filled with F.
fn tbcd(digits: &str) -> Vec<u8> {
    let d: Vec<u8> = digits.bytes().map(|b| b - b'0').chain([0xf]).collect();
    d.chunks_exact(2).map(|p| p[1] << 4 | p[0]).collect()
}

/// A GT06 (Concox) login packet: start 0x7878, length, protocol 0x01, the IMEI as 8 bytes of
/// BCD with a leading 0, a serial number and a CRC, stop 0x0d0a.
fn gt06_login(imei: &str) -> Vec<u8> {
    let mut p = vec![0x78, 0x78, 0x0d, 0x01];
    p.extend(bcd(&format!("0{imei}"), 0).iter().take(8));
    p.extend([0x00, 0x01, 0x8c, 0xdd, 0x0d, 0x0a]);
    p
}

#[test]
fn binary_forms_of_known_values() {
    let c = phone_device();
    let b = |kind, v: &str| vec![h(kind, "known", "binary", v)];
    assert_eq!(hits(&c, &gt06_login(IMEI)), b("imei", IMEI));
    // BCD with an F filler after the last digit, inside other bytes.
    let mut w = vec![0x02, 0x00, 0x10];
    w.extend(bcd(IMEI, 0xf));
    w.extend([0x7e, 0x00]);
    assert_eq!(hits(&c, &w), b("imei", IMEI));
    // TBCD (3GPP): the IMSI with swapped nibbles and an F filler.
    let mut w = vec![0x01, 0x00, 0x08];
    w.extend(tbcd(IMSI));
    w.extend([0x4c, 0x00, 0x05]);
    assert_eq!(hits(&c, &w), b("imsi", IMSI));
    // NAS mobile identity: the first digit beside the type and parity nibbles (0x9: odd, IMSI).
    let mut w = vec![0x17, 0x08, (IMSI.as_bytes()[0] - b'0') << 4 | 0x9];
    w.extend(tbcd(IMSI.get(1..).expect("ASCII")).iter().take(7));
    w.extend([0x00, 0x12]);
    assert_eq!(hits(&c, &w), b("imsi", IMSI));
    // The ICCID as the SIM stores it (EF_ICCID, swapped nibbles), 10 bytes.
    let iccid: Vec<u8> = ICCID
        .as_bytes()
        .chunks(2)
        .map(|p| (p[1] - b'0') << 4 | (p[0] - b'0'))
        .collect();
    let mut w = vec![0x90, 0x00];
    w.extend(&iccid);
    assert_eq!(hits(&c, &w), b("iccid", ICCID));
    // ... and as the hex text an AT+CRSM read of EF_ICCID returns.
    let w = format!("+CRSM: 144,0,\"{}\"\r\n", hex(&iccid).to_uppercase());
    assert_eq!(
        hits(&c, w.as_bytes()),
        vec![h("iccid", "known", "binary+hex", ICCID)]
    );
    // A MAC as its six bytes (a DHCP-like chaddr, a binary MQTT payload).
    let mut w = vec![0x01, 0x01, 0x06, 0x00];
    w.extend(MAC);
    w.extend([0u8; 10]);
    assert_eq!(hits(&c, &w), b("mac", "a4:50:46:12:34:56"));
    // A binary message in base64: the bytes decode to no text, the form is still there.
    let msg = format!("m={}&t=1", b64(&gt06_login(IMEI), 0));
    assert_eq!(
        hits(&c, msg.as_bytes()),
        vec![h("imei", "known", "binary+base64", IMEI)]
    );
    // The value both as text and inside the hex of the same bytes: reported once, as text.
    let w = format!("id=0{IMEI}&");
    assert_eq!(
        hits(&c, w.as_bytes()),
        vec![h("imei", "known", "plain", IMEI)]
    );
    // The layer can be switched off.
    let mut off = phone_device();
    off.detect.encodings[Layer::Binary as usize] = false;
    assert!(hits(&off, &gt06_login(IMEI)).is_empty());
    assert!(Detector::new(&off).forms.is_empty());
}

#[test]
fn binary_look_alikes_give_nothing() {
    let c = phone_device();
    // The IMEI's BCD with its first or last digit different: another number.
    let mut p = gt06_login(IMEI);
    p[4] = 0x05;
    assert!(hits(&c, &p).is_empty());
    let mut w = vec![0x02];
    w.extend(bcd(IMEI, 0xf));
    let last = w.len() - 1;
    w[last] = 0x7f;
    assert!(hits(&c, &w).is_empty());
    // At the very start of a window the nibble before cannot be checked.
    assert!(hits(&c, &gt06_login(IMEI)[5..]).is_empty());
    // The same bytes but for ASCII case (the automaton ignores case; the form does not).
    let mut w = vec![0x00, 0x00];
    let mut t = tbcd(IMSI);
    assert!(t.iter().any(u8::is_ascii_alphabetic), "{t:02x?}");
    for b in t.iter_mut().filter(|b| b.is_ascii_alphabetic()) {
        *b ^= 0x20;
    }
    w.extend(&t);
    assert!(hits(&c, &w).is_empty());
    // BCD-looking binary data: packed digits of other numbers, a BCD timestamp.
    let mut w = Vec::new();
    for n in ["356938035643809", "460001234567891", "20261201235959"] {
        w.extend(bcd(n, 0xf));
        w.extend(tbcd(n));
        w.push(0x00);
    }
    assert!(hits(&c, &w).is_empty());
    // Five of the MAC's six bytes, and the six in another order.
    let mut w = vec![0x00];
    w.extend(&MAC[..5]);
    w.extend([0x00, MAC[1], MAC[0], MAC[2], MAC[3], MAC[4], MAC[5], 0x00]);
    assert!(hits(&c, &w).is_empty());
}

#[test]
fn learned_macs_as_raw_bytes() {
    let mut det = Detector::new(&test_config());
    assert!(det.learn_mac(MAC));
    let l = vec![h("mac", "learned", "binary", "a4:50:46:12:34:56")];
    for at in 0..8 {
        let mut w = vec![0x10; at];
        w.extend(MAC);
        w.extend([0x00, 0xff]);
        assert_eq!(scan_with(&det, &w), l, "at {at}");
    }
    // In a binary message inside base64.
    let mut m = vec![0x00, 0x01];
    m.extend(MAC);
    m.extend([0x80; 8]);
    let w = format!("p={}", b64(&m, 0));
    assert_eq!(
        scan_with(&det, w.as_bytes()),
        vec![h("mac", "learned", "binary+base64", "a4:50:46:12:34:56")]
    );
    // Only binary data is searched for raw bytes: these six are printable and the text is
    // text. Another MAC's bytes are nothing.
    let mut printable = Detector::new(&test_config());
    assert!(printable.learn_mac(*b"\x3cAbc12"));
    assert!(scan_with(&printable, b"GET /<Abc12 HTTP/1.1\r\n").is_empty());
    assert_eq!(
        scan_with(&printable, b"\x00\x01<Abc12\x00"),
        vec![h("mac", "learned", "binary", "3c:41:62:63:31:32")]
    );
    // A MAC that is not distinctive (test networks' 00:00:00:00:00:01) is no raw form: its
    // bytes are in every binary protocol.
    let mut plain = Detector::new(&test_config());
    assert!(plain.learn_mac([0, 0, 0, 0, 0, 1]));
    assert!(scan_with(&plain, &[0x17, 0x03, 0, 0, 0, 0, 0, 1, 0x80]).is_empty());
    let mut c = test_config();
    c.devices.push(Device {
        mac: vec![[0, 0, 0, 0, 0, 2]],
        ..Device::default()
    });
    assert!(hits(&c, &[0x17, 0x03, 0, 0, 0, 0, 0, 2, 0x80]).is_empty());
    assert!(hits(&c, b"x=a000000000002").is_empty());
    assert_eq!(
        hits(&c, b"x=000000000002&"),
        vec![h("mac", "known", "plain", "00:00:00:00:00:02")]
    );
    let mut w = vec![0x00, 0xa4, 0x50, 0x46, 0x12, 0x34, 0x57, 0x00];
    assert!(scan_with(&det, &w).is_empty());
    w[6] = 0x56;
    assert_eq!(scan_with(&det, &w), l);
}

/// Learned MACs glued to other text, in every separator form, at every offset; digests glued.
#[test]
fn learned_and_digests_glued() {
    let mut det = Detector::new(&test_config());
    assert!(det.learn_mac(MAC));
    let l = vec![h("mac", "learned", "plain", "a4:50:46:12:34:56")];
    for m in [
        "a45046123456",
        "A45046123456",
        "a4:50:46:12:34:56",
        "A4-50-46-12-34-56",
        "a450.4612.3456",
    ] {
        for (pre, post) in [
            ("clientId=NokiaTA1046-", "&x=1"),
            ("GET /prov/", ".cfg HTTP/1.1"),
            ("GET /SEP", ".cnf.xml HTTP/1.1"),
            ("hostname=ESP_", ""),
            ("MAC:", "\r\n"),
            ("x=ff", "01"),
            ("x=00:", ":78"),
            ("x1", "z"),
        ] {
            for pad in 0..13 {
                let w = format!("{}{pre}{m}{post}", "q".repeat(pad));
                assert_eq!(scan_with(&det, w.as_bytes()), l, "{w}");
            }
        }
    }
    // The node field of a UUID (version 1 UUIDs carry the MAC there).
    let w = b"{\"uuid\":\"6f1c7d2e-1f3b-11ee-8000-a45046123456\"}";
    assert_eq!(scan_with(&det, w), l);
    // Look-alikes: another MAC's digits, a UUID whose node is no LAN device's, 12 random hex.
    for w in [
        "clientId=NokiaTA1046-a45046123457&",
        "\"uuid\":\"6f1c7d2e-1f3b-11ee-8000-3c286d010203\"",
        "\"uuid\":\"123e4567-e89b-12d3-a456-426614174000\"",
        "id=9b2f45a450461234e6a1c0d2&t=1",
        "x=a4:50:46:12:34:57",
        "x=a4-50-46-12-34-5",
    ] {
        assert!(scan_with(&det, w.as_bytes()).is_empty(), "{w}");
    }
    // A MAC that is not distinctive keeps its boundaries.
    let mut plain = Detector::new(&test_config());
    assert!(plain.learn_mac([0, 0, 0, 0, 0, 1]));
    assert!(scan_with(&plain, b"id=f000000000001").is_empty());
    assert!(scan_with(&plain, b"x=00:00:00:00:00:00:01").is_empty());
    assert_eq!(
        scan_with(&plain, b"x=00:00:00:00:00:01&"),
        vec![h("mac", "learned", "plain", "00:00:00:00:00:01")]
    );

    // Digests glued: a `/`-separated User-Agent segment, a prefix, upper case, base64.
    let c = phone_device();
    let md5 = hex(&Md5::digest(IMEI.as_bytes()));
    let sha1 = hex(&Sha1::digest(IMSI.as_bytes())).to_uppercase();
    for (w, want) in [
        (
            format!("User-Agent: App/2.1/{md5}/Android\r\n"),
            h("imei", "known", "md5", IMEI),
        ),
        (format!("did=v2{md5}"), h("imei", "known", "md5", IMEI)),
        (format!("u=ab{sha1}cd&"), h("imsi", "known", "sha1", IMSI)),
        (
            format!(
                "k=v1_{}_x",
                b64(&Md5::digest(IMEI.as_bytes()), 0).trim_end_matches('=')
            ),
            h("imei", "known", "md5+base64", IMEI),
        ),
    ] {
        assert_eq!(hits(&c, w.as_bytes()), vec![want], "{w}");
    }
    let other = hex(&Md5::digest(b"index.html"));
    assert!(hits(&c, format!("User-Agent: App/2.1/{other}/x").as_bytes()).is_empty());
}

/// Issue 9 §3: RFC 7254 IMEI URNs with dashes and an SVN, 3GPP identities under a realm that
/// repeats their MCC and MNC, and keyed values written as hex of their ASCII text.
#[test]
fn standard_identifier_syntaxes() {
    let none = test_config();
    let p = |kind: &str, enc: &str, v: &str| h(kind, "pattern", enc, v);
    // RFC 7254's form (its example's TAC 90420156 has no real reporting body, so a real one
    // here): the spare digit sent as 0, the IMEI reported with its check digit; the spare
    // digit may also be the check digit itself.
    for w in [
        "Contact: <sip:alice@10.0.0.2>;+sip.instance=\"<urn:gsma:imei:35209900-176148-0>\"",
        "</rd?ep=urn:gsma:imei:35209900-176148-1&lt=86400>",
        "{\"endpoint\":\"urn:gsma:imei:35209900-176148-0\"}",
    ] {
        assert_eq!(
            hits(&none, w.as_bytes()),
            vec![p("imei", "plain", "352099001761481")],
            "{w}"
        );
    }
    assert_eq!(
        hits(
            &none,
            b"+sip.instance=\"<urn:gsma:imei:35209900-176148-0;svn=42>\""
        ),
        vec![p("imeisv", "plain", "3520990017614842")]
    );
    // A configured IMEI in its URN form is the known value.
    assert_eq!(
        hits(
            &test_config_with_imei(),
            b"ep=urn:gsma:imei:49015420-323751-0&b=1"
        ),
        vec![h("imei", "known", "plain", IMEI)]
    );
    // Look-alikes: a wrong spare digit, no reporting body, a dashed id that is not a URN's
    // shape, an SVN of three digits.
    for w in [
        "urn:gsma:imei:35209900-176148-5",
        "urn:gsma:imei:20231201-120000-0",
        "imei=35209900-1761480-0",
        "urn:gsma:imei:35209900-176148-0;svn=421",
        "urn:uuid:90420156-0257-6307-a000-000000000000",
    ] {
        assert!(hits(&none, w.as_bytes()).is_empty(), "{w}");
    }

    // 3GPP identities: an IMS private identity, EAP-AKA (0) and EAP-SIM (1) permanent
    // identities, a SIP URI; a two-digit MNC written zero-padded in the realm.
    let imsi = "310260123456789";
    for w in [
        format!("Authorization: Digest username=\"{imsi}@ims.mnc260.mcc310.3gppnetwork.org\""),
        format!("identity=0{imsi}@wlan.mnc260.mcc310.3gppnetwork.org"),
        format!("\"1{imsi}@wlan.mnc260.mcc310.3gppnetwork.org\""),
        format!("REGISTER sip:ims.mnc260.mcc310.3gppnetwork.org SIP/2.0\r\nFrom: <sip:{imsi}@ims.mnc260.mcc310.3gppnetwork.org>"),
        format!("0{imsi}@nai.epc.MNC260.MCC310.3GPPNETWORK.ORG"),
    ] {
        assert_eq!(hits(&none, w.as_bytes()), vec![p("imsi", "plain", imsi)], "{w}");
    }
    let two = "234150999999999";
    assert_eq!(
        hits(
            &none,
            format!("sip:{two}@ims.mnc015.mcc234.3gppnetwork.org").as_bytes()
        ),
        vec![p("imsi", "plain", two)]
    );
    // Look-alikes: the realm's MCC or MNC differ from the number's, a number glued to letters,
    // too few digits, a realm with no identity, a phone number's IMPU.
    for w in [
        format!("{imsi}@ims.mnc410.mcc310.3gppnetwork.org"),
        format!("{imsi}@ims.mnc260.mcc311.3gppnetwork.org"),
        format!("2{imsi}@wlan.mnc260.mcc310.3gppnetwork.org"),
        format!("x{imsi}@ims.mnc260.mcc310.3gppnetwork.org"),
        "31026012345678@ims.mnc260.mcc310.3gppnetwork.org".to_string(),
        "sip:ims.mnc260.mcc310.3gppnetwork.org".to_string(),
        "sip:+14155552671@ims.mnc260.mcc310.3gppnetwork.org".to_string(),
        "ab@ims.mnc260.mcc310.3gppnetwork.org".to_string(),
    ] {
        assert!(hits(&none, w.as_bytes()).is_empty(), "{w}");
    }

    // A keyed value written as hex of its ASCII digits, one layer deeper.
    let hexed = |v: &str| v.bytes().map(|b| format!("{b:02x}")).collect::<String>();
    assert_eq!(
        hits(&none, format!("imei={}&x=1", hexed(IMEI)).as_bytes()),
        vec![p("imei", "hex", IMEI)]
    );
    assert_eq!(
        hits(
            &none,
            format!("{{\"imsi\":\"{}\"}}", hexed(IMSI)).as_bytes()
        ),
        vec![p("imsi", "hex", IMSI)]
    );
    assert_eq!(
        hits(
            &none,
            format!("msisdn={}&", hexed("+8613912760845")).as_bytes()
        ),
        vec![p("phone", "hex", "+8613912760845")]
    );
    // Look-alikes: hex of digits that are no IMEI (bad Luhn), hex that is not all digits, a
    // decimal id that happens to be long.
    for w in [
        format!("imei={}&", hexed("490154203237519")),
        format!("imei={}&", hexed("49015420323751a")),
        "imei=343930313534323033323337353138ff&".to_string(),
        "imsi=31323334353637383930313233&".to_string(),
    ] {
        assert!(hits(&none, w.as_bytes()).is_empty(), "{w}");
    }
}

fn test_config_with_imei() -> Config {
    let mut c = test_config();
    c.devices.push(Device {
        imei: vec![IMEI.into()],
        ..Device::default()
    });
    c
}
