//! Phone numbers as their owners' countries write them: one known number per country that
//! shapes them differently (China: 11-digit mobiles, no trunk prefix in use; Finland: trunk `0`,
//! a 9-digit NSN; the NANP: `(415) 555-2671`, `1-…`; Iceland: a 7-digit NSN), each form in its
//! own flow, and the look-alikes that contain their digits.
//!
//! The numbers are fictional: 555-01xx style numbers are not used because their last digits
//! would collide with the other scenes; none of these is assigned to a real subscriber as far
//! as the tests know (they are only ever sent to documentation addresses).

use super::encode::*;
use super::scenes::*;
use super::*;

pub const CN_PHONE: &str = "+8613912760845";
pub const FI_PHONE: &str = "+358401234567";
pub const US_PHONE: &str = "+14155552671";
pub const IS_PHONE: &str = "+3546123456";

/// The config the phone captures are scanned with: the four numbers as known values.
pub const PHONES_TOML: &str = r#"mode = "monitor"

[network]
leases = ""

[[device]]
name = "Phone owner"
phone = ["+8613912760845", "+358401234567", "+14155552671", "+3546123456"]
"#;

/// No known value; the router is in China: keyed national mobile numbers are recognised.
pub const COUNTRY_TOML: &str = r#"mode = "monitor"

[network]
leases = ""
country = "CN"
"#;

/// The written forms of each number, one flow each (JSON bodies: the form as the app has it).
pub fn textual_forms() -> Vec<(&'static str, &'static str)> {
    vec![
        (CN_PHONE, "+8613912760845"),
        (CN_PHONE, "8613912760845"),
        (CN_PHONE, "008613912760845"),
        (CN_PHONE, "13912760845"),
        (CN_PHONE, "139 1276 0845"),
        (CN_PHONE, "139-1276-0845"),
        (CN_PHONE, "139.1276.0845"),
        (CN_PHONE, "+86 139 1276 0845"),
        (CN_PHONE, "(+86) 139-1276-0845"),
        (FI_PHONE, "0401234567"),
        (FI_PHONE, "040 123 4567"),
        (FI_PHONE, "040-123 4567"),
        (FI_PHONE, "00358401234567"),
        (FI_PHONE, "00 358 40 123 4567"),
        (FI_PHONE, "+358 40 123 45 67"),
        (FI_PHONE, "+358 (0)40 123 4567"),
        (FI_PHONE, "401234567"),
        (US_PHONE, "(415) 555-2671"),
        (US_PHONE, "1-415-555-2671"),
        (US_PHONE, "+1 (415) 555-2671"),
        (US_PHONE, "415.555.2671"),
        (US_PHONE, "4155552671"),
        (US_PHONE, "011 1 415 555 2671"),
        (IS_PHONE, "6123456"),
        (IS_PHONE, "612 3456"),
        (IS_PHONE, "+354 612 3456"),
    ]
}

/// Client ports: textual forms from here (one per form).
pub const TEXT_PORT: u16 = 58_000;
/// Encoded and hashed forms from here.
pub const CODED_PORT: u16 = 58_100;
/// A grouped number cut at every offset, from here.
pub const CUT_PORT: u16 = 58_200;

fn known(sport: u16, encoding: &'static str, value: &str) -> Expect {
    Expect {
        sport,
        kind: "phone",
        source: "known",
        encoding,
        value: value.to_string(),
    }
}

fn json_post(path: &str, body: &str) -> Vec<u8> {
    http(
        "POST",
        path,
        "Content-Type: application/json\r\n",
        body.as_bytes(),
    )
}

/// Every form of the four known numbers, one per flow, with the finding each must give.
pub fn phone_forms() -> (Capture, Vec<Expect>) {
    let mut cap = Capture::new(SEED_START + 20_000);
    let api = remote(API_IP, 80);
    let mut want = Vec::new();
    for (i, (number, form)) in textual_forms().into_iter().enumerate() {
        let sport = TEXT_PORT + u16::try_from(i).unwrap();
        let body = format!("{{\"contact\":\"{form}\",\"v\":2}}");
        cap.tcp_request(phone(sport), api, &json_post("/bind", &body), OK_REPLY);
        want.push(known(sport, "plain", number));
    }

    let mut coded: Vec<(Vec<u8>, &'static str, &str)> = vec![
        // URL-escaped in a query (the spaces and the `+`).
        (
            http(
                "GET",
                &format!("/c?tel={}", url_component("+1 415 555 2671")),
                "",
                b"",
            ),
            "url",
            US_PHONE,
        ),
        (
            http(
                "GET",
                &format!("/c?tel={}", url_all("040 123 4567")),
                "",
                b"",
            ),
            "url",
            FI_PHONE,
        ),
        // A form body with spaces written as `+`, escaped `+` in front.
        (
            http(
                "POST",
                "/f",
                "Content-Type: application/x-www-form-urlencoded\r\n",
                b"name=a&tel=%2B358+40+123+4567&x=1",
            ),
            "url",
            FI_PHONE,
        ),
        // Base64: a JSON document, and the bare national numbers (too short a run to decode).
        (
            json_post(
                "/p",
                &format!(
                    "{{\"d\":\"{}\"}}",
                    base64(b"{\"phone\":\"139 1276 0845\",\"os\":\"9\"}")
                ),
            ),
            "base64",
            CN_PHONE,
        ),
        (
            json_post("/p", &format!("{{\"u\":\"{}\"}}", base64(b"13912760845"))),
            "base64",
            CN_PHONE,
        ),
        (
            json_post(
                "/p",
                &format!("{{\"u\":\"{}\"}}", base64url_nopad(b"6123456")),
            ),
            "base64",
            IS_PHONE,
        ),
        // Hex of a query string, and of the bare short number.
        (
            http(
                "GET",
                &format!("/h?d={}", hex_lower(b"tel=(415) 555-2671&v=1")),
                "",
                b"",
            ),
            "hex",
            US_PHONE,
        ),
        (
            http("GET", &format!("/h?d={}", hex_upper(b"6123456")), "", b""),
            "hex",
            IS_PHONE,
        ),
    ];
    // Digests of the forms clients hash: E.164, without `+`, the NSN, with the trunk prefix.
    for (number, form) in [
        (CN_PHONE, "+8613912760845"),
        (CN_PHONE, "13912760845"),
        (FI_PHONE, "0401234567"),
        (US_PHONE, "14155552671"),
        (IS_PHONE, "3546123456"),
    ] {
        for (enc, digest) in [
            ("md5", md5_hex(form.as_bytes())),
            ("sha1", sha1_hex(form.as_bytes())),
            ("sha256", sha256_hex(form.as_bytes())),
        ] {
            coded.push((
                http("GET", &format!("/t?uid={digest}&v=1"), "", b""),
                enc,
                number,
            ));
        }
    }
    for (i, (req, enc, number)) in coded.into_iter().enumerate() {
        let sport = CODED_PORT + u16::try_from(i).unwrap();
        cap.tcp_request(phone(sport), api, &req, OK_REPLY);
        want.push(known(sport, enc, number));
    }

    // A grouped number cut at every offset: whichever segment holds which digits, one finding.
    let form = "+358 (0)40 123 4567";
    let req = json_post("/bind", &format!("{{\"contact\":\"{form}\"}}"));
    let at = find(&req, form.as_bytes());
    for k in 0..=form.len() {
        let sport = CUT_PORT + u16::try_from(k).unwrap();
        cap.tcp_exchange(phone(sport), api, &split(&req, &[at + k]), OK_REPLY);
        want.push(known(sport, "plain", FI_PHONE));
    }

    // Binary: JT/T 808 messages (2013 BCD[6] and 2019 BCD[10] headers) from a tracker, the
    // header at an even and at an odd offset of the stream, and one cut inside the phone
    // field; 3GPP TBCD of the international digits (after TON/NPI 0x91) over UDP.
    let tracker = remote(IOT_IP, 7611);
    let jt808 = |pad: usize, v2019: bool| -> Vec<u8> {
        let mut m = vec![0x7e; 1 + pad];
        if v2019 {
            m.extend([0x01, 0x02, 0x40, 0x06, 0x01]);
            m.extend(bcd("00000000013912760845"));
        } else {
            m.extend([0x01, 0x02, 0x00, 0x06]);
            m.extend(bcd("013912760845"));
        }
        m.extend([0x00, 0x01, b'A', b'U', b'T', b'H', b'0', b'1', 0x55, 0x7e]);
        m
    };
    let mut binary = vec![
        (jt808(0, false), None),
        (jt808(1, false), None),
        (jt808(0, true), None),
        (jt808(1, true), None),
        (jt808(0, false), Some(8)),
        (jt808(1, true), Some(12)),
    ];
    binary.push((jt808(0, false), Some(5)));
    for (i, (msg, cut)) in binary.into_iter().enumerate() {
        let sport = BINARY_PORT + u16::try_from(i).unwrap();
        let segs = match cut {
            Some(k) => split(&msg, &[k]),
            None => split(&msg, &[]),
        };
        cap.tcp_exchange(phone(sport), tracker, &segs, b"");
        want.push(known(sport, "binary", CN_PHONE));
    }
    for (i, (number, digits)) in [(CN_PHONE, "8613912760845"), (FI_PHONE, "358401234567")]
        .into_iter()
        .enumerate()
    {
        for pad in [0usize, 1] {
            let sport = BINARY_PORT + 20 + u16::try_from(i * 2 + pad).unwrap();
            let mut d = vec![0x30; 2 + pad];
            d.extend([0x07, 0x91]);
            d.extend(tbcd(digits));
            d.extend([0x00, 0x00, 0x01]);
            cap.udp(phone(sport), remote(IOT_IP, 2905), &d);
            want.push(known(sport, "binary", number));
        }
    }
    want.sort();
    (cap, want)
}

/// Client ports of the binary forms.
pub const BINARY_PORT: u16 = 58_300;

/// BCD, high nibble first, an odd count filled with `F` (written here independently of the
/// detector's own encoder).
pub fn bcd(digits: &str) -> Vec<u8> {
    digits
        .as_bytes()
        .chunks(2)
        .map(|p| (p[0] - b'0') << 4 | p.get(1).map_or(0x0f, |d| d - b'0'))
        .collect()
}

/// 3GPP TBCD: swapped nibbles, an odd count filled with `F`.
pub fn tbcd(digits: &str) -> Vec<u8> {
    digits
        .as_bytes()
        .chunks(2)
        .map(|p| p.get(1).map_or(0xf0, |d| (d - b'0') << 4) | (p[0] - b'0'))
        .collect()
}

/// Keyed national mobile numbers (no known value): what [`COUNTRY_TOML`] finds by structure,
/// by client port, in E.164.
pub fn keyed_nationals() -> (Capture, Vec<Expect>) {
    let mut cap = Capture::new(SEED_START + 21_000);
    let api = remote(API_IP, 80);
    let bodies = [
        "{\"mobile\":13912760845,\"n\":1}",
        "{\"msisdn\":\"139 1276 0845\"}",
        "{\"user\":{\"tel\":\"139-1276-0845\"}}",
        "{\"phone\":\"013912760845\"}",
    ];
    let mut want = Vec::new();
    for (i, body) in bodies.iter().enumerate() {
        let sport = 58_400 + u16::try_from(i).unwrap();
        cap.tcp_request(phone(sport), api, &json_post("/u", body), OK_REPLY);
        want.push(Expect {
            sport,
            kind: "phone",
            source: "pattern",
            encoding: "plain",
            value: CN_PHONE.to_string(),
        });
    }
    (cap, want)
}

/// Look-alikes of each form: order numbers, timestamps, tracking numbers, prices and counters
/// that contain the known numbers' digits (or their groupings), other countries' numbers with
/// the same NSN, and keyed numbers outside the country's mobile ranges. Expected: nothing,
/// with [`PHONES_TOML`] and with [`COUNTRY_TOML`].
pub fn phone_benign() -> Capture {
    let mut cap = Capture::new(SEED_START + 22_000);
    let api = remote(API_IP, 80);
    let bodies = [
        // Order and trade numbers with a number's digits inside.
        "{\"order_id\":\"2023121391276084512\",\"trade_no\":\"4012345670001\"}",
        "{\"orderNo\":\"20231204155552671\",\"ref\":\"96123456\",\"sku\":\"61234567\"}",
        // Timestamps and counters.
        "{\"ts\":1701401234567,\"t\":17014155552671,\"n\":140123456,\"k\":612345600}",
        "{\"count\":13912760845000,\"mobile\":123456789,\"phone\":1550139825}",
        // Tracking numbers.
        "{\"tracking\":\"1Z4155552671X\",\"awb\":\"9400100000004155552671\",\"sf\":\"SF1391276084500\"}",
        // Prices, decimals, versions, addresses, dates.
        "{\"price\":0.401234567,\"amount\":\"415.5552671\",\"v\":612.3456,\"x\":6123456.78}",
        "{\"version\":\"4.0.1234567\",\"ip\":\"10.61.234.56\",\"date\":\"2026-06-12 3456\"}",
        // The digits inside other groupings, and other countries' numbers with the same NSN.
        "{\"a\":\"2 415 555 2671 3\",\"b\":\"415-555-2671-9\",\"c\":\"12 139 1276 0845\"}",
        "{\"a\":\"+44 401234567\",\"b\":\"+4155552671\",\"c\":\"+49 6123456\"}",
        // Keyed numbers a Chinese router must not take for mobiles.
        "{\"mobile\":12912760845,\"phone\":1391276084,\"tel\":\"11111111111\"}",
        "{\"mobile\":\"13912760845abc\",\"msisdn\":13912760845.5}",
    ];
    for (i, body) in bodies.iter().enumerate() {
        let sport = 58_500 + u16::try_from(i).unwrap();
        cap.tcp_request(phone(sport), api, &json_post("/o", body), OK_REPLY);
    }
    // Binary look-alikes: a JT/T 808 header with another terminal's number (last digit
    // differs), and a BCD run one digit short of the 10-digit NSN.
    let tracker = remote(IOT_IP, 7611);
    let mut m = vec![0x7e, 0x01, 0x02, 0x00, 0x06];
    m.extend(bcd("013912760846"));
    m.extend([0x00, 0x01, 0x55, 0x7e]);
    cap.tcp_exchange(phone(58_600), tracker, &split(&m, &[]), b"");
    let d = [0x01, 0x00, 0x41, 0x55, 0x55, 0x26, 0x00, 0x00, 0x01];
    cap.udp(phone(58_601), remote(IOT_IP, 2905), &d);
    cap
}
