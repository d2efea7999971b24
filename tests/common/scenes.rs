//! The scenes the tests and the shipped example captures are made of: who is on the LAN, which
//! identifiers they carry, and the conversations that leak them (or look as if they did).
//!
//! Every identifier here is structurally valid (Luhn, a real MCC, an `89` ICCID) so that the
//! structural detector has something real to find; none belongs to a real device. See
//! `docs/real-clients.md` for where each request shape comes from.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::encode::*;
use super::*;

/// The phone of the seed case, on the owner's Wi-Fi.
pub const PHONE_MAC: Mac = [0xa4, 0x50, 0x46, 0x12, 0x34, 0x56];
pub const PHONE_MAC_TEXT: &str = "a4:50:46:12:34:56";
pub const PHONE_IP: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 23);
pub const PHONE_IP6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 1, 0, 0, 0, 0x23);
/// The router: DNS resolver, and the next hop for everything beyond the LAN.
pub const ROUTER_MAC: Mac = [0x02, 0x4c, 0x47, 0x00, 0x00, 0x01];
pub const ROUTER_IP: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 1);
/// A NAS on the same LAN (LAN-to-LAN traffic is not inspected).
pub const NAS_MAC: Mac = [0x02, 0x4c, 0x47, 0x00, 0x00, 0x50];
pub const NAS_IP: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 50);

/// China Telecom's self-registration server; its address is a documentation one (TEST-NET-3).
pub const ZZHC_HOST: &str = "zzhc.vnet.cn";
pub const ZZHC_IP: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 7);
/// Other servers beyond the LAN (TEST-NET-2, documentation IPv6).
pub const API_IP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 20);
pub const API_HOST: &str = "api.example.net";
pub const IOT_IP: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 50);
pub const API_IP6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x80);

/// The phone's identifiers. IMEI 1 is the classic Luhn-valid example IMEI; IMEI 2 has a
/// Chinese (`86`, TAF) reporting body; the MEID the zzhc client sends is IMEI 1 without its
/// check digit; the IMSI has China's MCC 460; the ICCID is a 20-digit `898603` (China Telecom)
/// one with a Luhn check digit.
/// Client ports of the hex body cut at every offset.
pub const HEX_SPLIT_PORT_BASE: u16 = 56_000;
pub const IMEI1: &str = "490154203237518";
pub const IMEI2: &str = "869882041735292";
pub const MEID: &str = "49015420323751";
pub const IMSI: &str = "460001234567890";
pub const ICCID: &str = "89860318012345678901";
pub const PHONE_NUMBER: &str = "+8613912345678";
/// The device name in the shipped config.
pub const PHONE_NAME: &str = "Nokia 7 Plus";

/// 2019-02-14 10:23:45 UTC, when the seed case's phone registers.
pub const SEED_START: u64 = 1_550_139_825;

pub fn phone(port: u16) -> Endpoint {
    Endpoint::new(PHONE_MAC, PHONE_IP, port)
}

pub fn phone6(port: u16) -> Endpoint {
    Endpoint::new(PHONE_MAC, PHONE_IP6, port)
}

/// A host beyond the router: frames to and from it carry the router's MAC.
pub fn remote(ip: impl Into<std::net::IpAddr>, port: u16) -> Endpoint {
    Endpoint::new(ROUTER_MAC, ip, port)
}

pub fn resolver() -> Endpoint {
    Endpoint::new(ROUTER_MAC, ROUTER_IP, 53)
}

/// The registration document, as the Qualcomm client builds it: a flat JSON object (Android's
/// `JSONObject.toString()`: no spaces) with the China Telecom self-registration keys in the
/// order of the 2018 field list, every value a string, absent values empty.
pub fn zzhc_json() -> String {
    let fields: [(&str, &str); 29] = [
        ("REGVER", "7.0"),
        ("MEID", MEID),
        ("MODEL", "TA-1062"),
        ("SWVER", "00CN_3_22B"),
        ("UETYPE", "1"),
        ("MACID", PHONE_MAC_TEXT),
        ("OSVER", "9"),
        ("ROM", "64G"),
        ("RAM", "4G"),
        ("DATASIM", "1"),
        ("ACCESSTYPE", "2"),
        ("REGDATE", "2019-02-14 18:23:45"),
        ("MLPLVER", ""),
        ("MSPLVER", ""),
        ("MMEID", ""),
        ("IMEI1", IMEI1),
        ("SIM1CELLID", "52081537"),
        ("SIM1VoLTESW", "1"),
        ("SIM1TYPE", "2"),
        ("SIM1CDMAIMSI", ""),
        ("SIM1LTEIMSI", IMSI),
        ("SIM1ICCID", ICCID),
        ("IMEI2", IMEI2),
        ("SIM2CELLID", ""),
        ("SIM2VoLTESW", ""),
        ("SIM2TYPE", ""),
        ("SIM2CDMAIMSI", ""),
        ("SIM2LTEIMSI", ""),
        ("SIM2ICCID", ""),
    ];
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("\"{k}\":\"{v}\""))
        .collect();
    format!("{{{}}}", body.join(","))
}

/// The HTTP request head Android's bundled Apache HttpClient writes for the client's
/// `HttpPost("http://zzhc.vnet.cn")` with one `Content-Type` header and a byte-array entity.
pub fn zzhc_head(body_len: usize) -> String {
    format!(
        "POST / HTTP/1.1\r\n\
         Content-Type: application/encrypted-json\r\n\
         Content-Length: {body_len}\r\n\
         Host: {ZZHC_HOST}\r\n\
         Connection: Keep-Alive\r\n\
         User-Agent: Apache-HttpClient/UNAVAILABLE (java 1.4)\r\n\r\n"
    )
}

/// The server's answer (its shape as the clients parse it: `resultCode` `0` is success).
pub fn zzhc_reply() -> String {
    let body = "{\"resultCode\":\"0\",\"resultDesc\":\"Success\"}";
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json;charset=UTF-8\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// The seed case: the phone resolves zzhc.vnet.cn through the router, then POSTs the
/// base64'd JSON (Android `Base64.DEFAULT`: 76-column lines) in three segments: the head, and
/// the body cut in two.
pub fn nokia7plus_zzhc() -> Capture {
    let mut cap = Capture::new(SEED_START);
    cap.dns_lookup(phone(37_845), resolver(), 0x5c1d, ZZHC_HOST, &[ZZHC_IP]);
    cap.pause(40_000);
    let body = base64_android_default(zzhc_json().as_bytes());
    let head = zzhc_head(body.len());
    let request = format!("{head}{body}");
    let segs = split(
        request.as_bytes(),
        &[head.len(), head.len() + body.len() / 2],
    );
    cap.tcp_exchange(
        phone(43_562),
        remote(ZZHC_IP, 80),
        &segs,
        zzhc_reply().as_bytes(),
    );
    cap
}

/// NB-IoT / LTE-M module registrations over CoAP (UDP 5683), each a separate flow from the
/// phone's address (a module behind a LAN router looks the same): Nordic's `lwm2m_client`
/// sample (`ep=urn:imei:<IMEI>`), CTWing's plain `ep=<IMEI>`, OneNET's `ep=<IMEI>;<IMSI>`.
pub fn lwm2m_registers() -> Capture {
    let mut cap = Capture::new(SEED_START + 3600);
    for (i, (sport, ep)) in lwm2m_endpoints().into_iter().enumerate() {
        let mid = 0x2a10 + u16::try_from(i).unwrap();
        let ep = format!("ep={ep}");
        let msg = coap_post(
            mid,
            &[0x8c, 0x1f, 0x03, u8::try_from(i).unwrap()],
            &["rd"],
            COAP_LINK_FORMAT,
            &[&ep, "lt=86400", "lwm2m=1.0", "b=U"],
            b"</>;rt=\"oma.lwm2m\";ct=11543,</1/0>,</3/0>,</4/0>,</5/0>",
        );
        cap.udp(phone(sport), remote(IOT_IP, 5683), &msg);
        cap.pause(100_000);
    }
    cap
}

/// The LwM2M endpoint names of [`lwm2m_registers`], with the client port of each.
pub fn lwm2m_endpoints() -> Vec<(u16, String)> {
    vec![
        (56_830, format!("urn:imei:{IMEI1}")),
        (56_831, IMEI1.to_string()),
        (56_832, format!("{IMEI1};{IMSI}")),
    ]
}

/// One finding a scene expects, unmasked (the test masks it the way the binary must).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Expect {
    pub sport: u16,
    pub kind: &'static str,
    pub source: &'static str,
    pub encoding: &'static str,
    pub value: String,
}

fn known(sport: u16, kind: &'static str, encoding: &'static str, value: &str) -> Expect {
    Expect {
        sport,
        kind,
        source: "known",
        encoding,
        value: value.to_string(),
    }
}

/// The config the "forms" capture is scanned with: the phone's identifiers as known values.
pub const FORMS_TOML: &str = r#"mode = "monitor"

[[device]]
name = "Test phone"
mac = ["a4:50:46:12:34:56"]
imei = ["490154203237518"]
imsi = ["460001234567890"]
iccid = ["89860318012345678901"]
phone = ["+8613912345678"]
"#;

/// An HTTP/1.1 request to [`API_HOST`].
pub fn http(method: &str, target: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "{method} {target} HTTP/1.1\r\nHost: {API_HOST}\r\nUser-Agent: okhttp/3.12.1\r\n{headers}"
    );
    if method == "POST" {
        r.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    r.push_str("\r\n");
    let mut r = r.into_bytes();
    r.extend_from_slice(body);
    r
}

pub const OK_REPLY: &[u8] = b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n";

/// Where `needle` starts in `hay` (test data: it is there).
pub fn find(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len())
        .position(|w| w == needle)
        .expect("value not in request")
}

/// Port of the flow whose request is cut at every offset `k` of IMEI 1 (`0..=15`).
pub const SPLIT_PORT_BASE: u16 = 51_000;
/// Port of the flow that carries IMEI 1 without its check digit under the key `meid`: the
/// detector may call it a MEID or an IMEI, so tests check it separately.
pub const MEID_FORM_PORT: u16 = 50_015;

/// One identifier per flow, in every form it travels in, plus the stream edge cases (a value cut
/// at every offset, reordered and retransmitted segments), IPv6, UDP (LwM2M over CoAP) and a
/// DNS query name. Returns the capture and the findings expected with [`FORMS_TOML`].
pub fn forms() -> (Capture, Vec<Expect>) {
    let mut cap = Capture::new(SEED_START + 7200);
    let mut want = Vec::new();
    let api = remote(API_IP, 80);
    let imei = IMEI1.as_bytes();
    // Long and repetitive enough that deflate really compresses it (a short body is sent as a
    // stored block, where the IMEI would stand in clear).
    let gz_json = gzip(
        format!(
            "{{\"imei\":\"{IMEI1}\",\"ts\":1550139825,\"model\":\"Nokia 7 Plus\",\
             \"tags\":[\"boot\",\"boot\",\"boot\",\"boot\",\"boot\",\"boot\",\"boot\"]}}"
        )
        .as_bytes(),
    );
    let b64url = base64url_nopad(format!("{{\"imsi\":\"{IMSI}\",\"sig\":\"?>?>~~\"}}").as_bytes());
    assert!(
        b64url.contains(['-', '_']),
        "base64url sample uses neither - nor _: {b64url}"
    );
    // Every byte percent-encoded, so no base64 run is visible before the url layer comes off.
    let b64_then_url = url_all(&base64(format!("{{\"imei\":\"{IMEI1}\"}}").as_bytes()));

    let requests: Vec<(u16, Vec<u8>, Option<Expect>)> = vec![
        (
            50_001,
            http("GET", &format!("/reg?imei={IMEI1}&v=2"), "", b""),
            Some(known(50_001, "imei", "plain", IMEI1)),
        ),
        (
            50_002,
            http(
                "POST",
                "/dev",
                "Content-Type: application/json\r\n",
                format!("{{\"imsi\":\"{IMSI}\",\"lang\":\"zh\"}}").as_bytes(),
            ),
            Some(known(50_002, "imsi", "plain", IMSI)),
        ),
        (
            50_003,
            http("GET", &format!("/t?did={}", md5_hex(imei)), "", b""),
            Some(known(50_003, "imei", "md5", IMEI1)),
        ),
        (
            50_004,
            http(
                "GET",
                &format!("/t?DID={}", md5_hex(imei).to_uppercase()),
                "",
                b"",
            ),
            Some(known(50_004, "imei", "md5", IMEI1)),
        ),
        (
            50_005,
            http("GET", &format!("/t?h={}", sha1_hex(imei)), "", b""),
            Some(known(50_005, "imei", "sha1", IMEI1)),
        ),
        (
            50_006,
            http("GET", &format!("/t?h={}", sha256_hex(imei)), "", b""),
            Some(known(50_006, "imei", "sha256", IMEI1)),
        ),
        (
            50_007,
            http(
                "POST",
                "/sim",
                "Content-Type: application/x-www-form-urlencoded\r\n",
                format!("sim={}&x=1", hex_lower(ICCID.as_bytes())).as_bytes(),
            ),
            Some(known(50_007, "iccid", "hex", ICCID)),
        ),
        (
            50_008,
            http(
                "GET",
                &format!("/w?mac={}", url_component(PHONE_MAC_TEXT)),
                "",
                b"",
            ),
            Some(known(50_008, "mac", "url", PHONE_MAC_TEXT)),
        ),
        (
            50_009,
            http("GET", &format!("/w?id={}", url_all(IMEI1)), "", b""),
            Some(known(50_009, "imei", "url", IMEI1)),
        ),
        (
            50_010,
            http("GET", &format!("/p?d={b64url}"), "", b""),
            Some(known(50_010, "imsi", "base64", IMSI)),
        ),
        (
            50_011,
            http(
                "POST",
                "/up",
                "Content-Type: application/json\r\nContent-Encoding: gzip\r\n",
                &gz_json,
            ),
            Some(known(50_011, "imei", "gzip", IMEI1)),
        ),
        (
            50_012,
            http(
                "POST",
                "/up",
                "Content-Type: text/plain\r\n",
                base64(&gzip(format!("{{\"iccid\":\"{ICCID}\"}}").as_bytes())).as_bytes(),
            ),
            Some(known(50_012, "iccid", "gzip+base64", ICCID)),
        ),
        (
            50_013,
            http("GET", &format!("/q?d={b64_then_url}"), "", b""),
            Some(known(50_013, "imei", "base64+url", IMEI1)),
        ),
        (
            50_014,
            http(
                "POST",
                "/bind",
                "Content-Type: application/json\r\n",
                format!("{{\"msisdn\":\"{PHONE_NUMBER}\"}}").as_bytes(),
            ),
            Some(known(50_014, "phone", "plain", PHONE_NUMBER)),
        ),
        (
            MEID_FORM_PORT,
            http(
                "POST",
                "/dev",
                "Content-Type: application/json\r\n",
                format!("{{\"meid\":\"{MEID}\"}}").as_bytes(),
            ),
            None,
        ),
    ];
    for (sport, req, expect) in requests {
        cap.tcp_request(phone(sport), api, &req, OK_REPLY);
        want.extend(expect);
    }

    // The value cut at every offset: one finding per flow, whichever segment holds which digits.
    let req = http("GET", &format!("/reg?imei={IMEI1}&v=2"), "", b"");
    let at = find(&req, imei);
    for k in 0..=imei.len() {
        let sport = SPLIT_PORT_BASE + u16::try_from(k).unwrap();
        cap.tcp_exchange(phone(sport), api, &split(&req, &[at + k]), OK_REPLY);
        want.push(known(sport, "imei", "plain", IMEI1));
    }

    // Reordered segments, cut inside the value.
    let req = http(
        "POST",
        "/dev",
        "Content-Type: application/json\r\n",
        format!("{{\"imei\":\"{IMEI1}\"}}").as_bytes(),
    );
    let at = find(&req, imei);
    let segs = split(&req, &[at + 3, at + 8, at + 12]);
    cap.tcp_exchange(phone(52_001), api, &reorder(&segs, &[0, 3, 2, 1]), OK_REPLY);
    want.push(known(52_001, "imei", "plain", IMEI1));

    // Retransmitted segments: still one finding for the flow.
    cap.tcp_exchange(phone(52_002), api, &retransmit(&segs, &[1, 2]), OK_REPLY);
    want.push(known(52_002, "imei", "plain", IMEI1));

    // A hex-encoded body cut at every offset: the hex pairs on either side of the cut may be
    // split, and the window then starts (or ends) on the second digit of a pair.
    // Longer than the carry, so that the second window starts inside the run.
    let body = hex_lower(
        format!(
            "{{\"model\":\"TA-1046\",\"os\":\"9\",\"build\":\"00WW_2_17C\",\"imei\":\"{IMEI1}\"}}"
        )
        .as_bytes(),
    );
    let req = http(
        "POST",
        "/h",
        "Content-Type: text/plain\r\n",
        body.as_bytes(),
    );
    let body_at = find(&req, body.as_bytes());
    for k in 1..body.len() {
        let sport = HEX_SPLIT_PORT_BASE + u16::try_from(k).unwrap();
        cap.tcp_exchange(phone(sport), api, &split(&req, &[body_at + k]), OK_REPLY);
        want.push(known(sport, "imei", "hex", IMEI1));
    }

    // A gzip body written after its headers, in a segment of its own (as okhttp does): the
    // headers that declare it are only in the carry of the body's window.
    let req = http(
        "POST",
        "/up",
        "Content-Type: application/json\r\nContent-Encoding: gzip\r\n",
        &gz_json,
    );
    let body_at = find(&req, b"\r\n\r\n") + 4;
    cap.tcp_exchange(phone(52_004), api, &split(&req, &[body_at]), OK_REPLY);
    want.push(known(52_004, "imei", "gzip", IMEI1));

    // IPv6.
    let req = http("GET", &format!("/reg?imei={IMEI1}"), "", b"");
    cap.tcp_request(phone6(52_003), remote(API_IP6, 80), &req, OK_REPLY);
    want.push(known(52_003, "imei", "plain", IMEI1));

    // UDP: LwM2M registrations over CoAP.
    for (i, (sport, ep)) in lwm2m_endpoints().into_iter().enumerate() {
        let q = format!("ep={ep}");
        let msg = coap_post(
            0x3100 + u16::try_from(i).unwrap(),
            &[0x11, 0x22],
            &["rd"],
            COAP_LINK_FORMAT,
            &[&q, "lt=300", "b=U"],
            b"</3/0>",
        );
        cap.udp(phone(sport), remote(IOT_IP, 5683), &msg);
        want.push(known(sport, "imei", "plain", IMEI1));
        if ep.contains(IMSI) {
            want.push(known(sport, "imsi", "plain", IMSI));
        }
    }

    // A DNS query name carrying the IMEI as a label (to the LAN resolver).
    cap.udp(
        phone(53_001),
        resolver(),
        &dns_query(0x7a7a, &format!("{IMEI1}.t.example.com"), DNS_A),
    );
    want.push(known(53_001, "imei", "plain", IMEI1));

    want.sort();
    (cap, want)
}

/// Deterministic bytes that look random (a session cookie).
fn noise(n: usize, mut seed: u32) -> Vec<u8> {
    (0..n)
        .map(|_| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 24) as u8
        })
        .collect()
}

/// Traffic that looks like identifiers but is not a leak: order numbers, a test card number,
/// millisecond timestamps, UUIDs, Android's fixed `02:00:00:00:00:00`, an IMEI with a bad check
/// digit, the test network's IMSI, an md5 ETag, a random cookie; and real identifiers where they
/// are not leaks (a server's reply, traffic to a NAS on the LAN). Expected: no finding.
pub fn benign() -> Capture {
    let mut cap = Capture::new(SEED_START + 10_800);
    let api = remote(API_IP, 80);
    let cookie = base64(&noise(30, 7));
    let requests: Vec<Vec<u8>> = vec![
        http(
            "GET",
            "/order?order_id=202312010000123456&ts=1700000000000&uuid=0f8fad5b-d9cb-469f-a165-70867728950e",
            "",
            b"",
        ),
        http(
            "POST",
            "/pay",
            "Content-Type: application/json\r\n",
            b"{\"card\":\"4111111111111111\",\"orderNo\":\"867521049182634\",\"t\":1700000000123}",
        ),
        http("POST", "/dev", "Content-Type: application/json\r\n", b"{\"imei\":\"490154203237519\"}"),
        http("POST", "/dev", "Content-Type: application/json\r\n", b"{\"imsi\":\"001010123456789\"}"),
        http(
            "POST",
            "/dev",
            "Content-Type: application/json\r\n",
            b"{\"mac\":\"02:00:00:00:00:00\",\"wifiMac\":\"02:00:00:00:00:00\"}",
        ),
        http(
            "GET",
            "/static/app.js",
            &format!("If-None-Match: \"{}\"\r\nCookie: sid={cookie}\r\n", md5_hex(b"app.js v7")),
            b"",
        ),
        http(
            "GET",
            "/u/c9bf9e57-1685-4c89-bafb-ff5af830be8a",
            "X-Request-Id: 7d444840-9dc0-11d1-b245-5ffdce74fad2\r\n",
            b"",
        ),
    ];
    for (i, req) in requests.iter().enumerate() {
        cap.tcp_request(
            phone(54_000 + u16::try_from(i).unwrap()),
            api,
            req,
            OK_REPLY,
        );
    }
    // The server tells the phone its identifiers: inbound, not a leak.
    let body = format!("{{\"imei\":\"{IMEI1}\",\"imsi\":\"{IMSI}\",\"mac\":\"{PHONE_MAC_TEXT}\"}}");
    let reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    cap.tcp_request(
        phone(54_100),
        api,
        &http("GET", "/me", "", b""),
        reply.as_bytes(),
    );
    // Phone to NAS on the LAN.
    let nas = Endpoint::new(NAS_MAC, NAS_IP, 8080);
    let backup =
        format!("{{\"imei\":\"{IMEI1}\",\"iccid\":\"{ICCID}\",\"mac\":\"{PHONE_MAC_TEXT}\"}}");
    cap.tcp_request(
        phone(54_101),
        nas,
        &http("POST", "/backup", "", backup.as_bytes()),
        OK_REPLY,
    );
    // An ordinary DNS lookup.
    cap.dns_lookup(
        phone(54_102),
        resolver(),
        0x1234,
        "www.example.com",
        &[Ipv4Addr::new(93, 184, 216, 34)],
    );
    cap
}

/// The captures shipped in `examples/captures/`, by file name.
pub fn shipped() -> Vec<(&'static str, Capture)> {
    vec![
        ("nokia7plus-zzhc.pcap", nokia7plus_zzhc()),
        ("lwm2m-register.pcap", lwm2m_registers()),
        ("benign.pcap", benign()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_valid() {
        assert!(luhn_valid(IMEI1) && luhn_valid(IMEI2) && luhn_valid(ICCID));
        assert_eq!(&IMEI1[..14], MEID);
        assert_eq!(ICCID.len(), 20);
        assert!(!luhn_valid("490154203237519"));
    }

    #[test]
    fn zzhc_body_is_android_base64() {
        let body = base64_android_default(zzhc_json().as_bytes());
        let lines: Vec<&str> = body.lines().collect();
        assert!(lines.len() > 2);
        assert!(lines[..lines.len() - 1].iter().all(|l| l.len() == 76));
        assert!(zzhc_json().starts_with("{\"REGVER\":\"7.0\",\"MEID\":\"49015420323751\""));
    }
}
