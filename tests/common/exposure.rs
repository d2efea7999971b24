//! "Nothing leaves the process unmasked", as material shared by the scan and daemon tests:
//! identifiers of every kind configured on one device, requests that leak each of them (in the
//! request and, dressed in an encoding, in the very name of the destination), and the check
//! that searches an output for every identifier in every encoding the engine knows.
//!
//! The encodings are written out with [`super::encode`], independently of the engine's own
//! masking code, so the test does not check the masker against itself.

use super::encode::{
    base64, base64url_nopad, hex_lower, md5_hex, sha1_hex, sha256_hex, url_all, url_component,
};

/// One identifier: its kind, its value as configured, and the key a client sends it under.
pub struct Id {
    pub kind: &'static str,
    pub value: &'static str,
    pub key: &'static str,
}

/// Every kind the engine knows. IMEISV has no config key: it is found by its structure.
pub const IDS: [Id; 8] = [
    Id {
        kind: "imei",
        value: "490154203237518",
        key: "imei",
    },
    Id {
        kind: "imeisv",
        value: "4901542032375101",
        key: "imeisv",
    },
    Id {
        kind: "meid",
        value: "A1000012345678",
        key: "meid",
    },
    Id {
        kind: "imsi",
        value: "460001234567890",
        key: "imsi",
    },
    Id {
        kind: "iccid",
        value: "89860318012345678901",
        key: "iccid",
    },
    Id {
        kind: "mac",
        value: "a4:50:46:12:34:56",
        key: "mac",
    },
    Id {
        kind: "phone",
        value: "+8613912345678",
        key: "phone",
    },
    Id {
        kind: "serial",
        value: "R58M3XK7QZ",
        key: "serial",
    },
];

/// The device name: an owner may well put an identifier in it, and DHCP hostnames carry them.
pub const DEVICE_NAME: &str = "phone 490154203237518";

/// The `[[device]]` table that knows every configurable value.
pub fn device_toml() -> String {
    let mut t = format!("\n[[device]]\nname = \"{DEVICE_NAME}\"\n");
    for id in &IDS {
        if id.kind != "imeisv" {
            t.push_str(&format!("{} = [\"{}\"]\n", id.kind, id.value));
        }
    }
    t
}

/// Every encoding of `value` the engine recognises (and a few ways a name carries it), lower
/// case: outputs are searched ignoring case.
pub fn forms(value: &str) -> Vec<String> {
    let bare: String = value.chars().filter(|c| !matches!(c, ':' | '-')).collect();
    let mut texts = vec![value.to_string(), bare.clone(), value.replace(':', "-")];
    texts.push(value.to_ascii_uppercase());
    if let Some(digits) = bare.strip_prefix('+') {
        texts.push(digits.to_string());
    }
    let mut out = Vec::new();
    for t in &texts {
        let b = t.as_bytes();
        out.push(t.clone());
        out.push(hex_lower(b));
        out.push(base64(b));
        out.push(base64(b).trim_end_matches('=').to_string());
        out.push(base64url_nopad(b));
        out.push(url_component(t));
        out.push(url_all(t));
        out.push(md5_hex(b));
        out.push(sha1_hex(b));
        out.push(sha256_hex(b));
    }
    // Digits as bytes (BCD and the nibble-swapped TBCD of IMSI/IMEI/ICCID on the wire), as a
    // text output would show such bytes: in hex.
    let digits = bare.trim_start_matches('+');
    if digits.bytes().all(|b| b.is_ascii_digit()) {
        let d: Vec<char> = digits.chars().collect();
        let (mut bcd, mut tbcd) = (String::new(), String::new());
        for pair in d.chunks(2) {
            let second = pair.get(1).copied().unwrap_or('f');
            bcd.push(pair[0]);
            bcd.push(second);
            tbcd.push(second);
            tbcd.push(pair[0]);
        }
        out.push(bcd);
        out.push(tbcd);
    }
    let mut out: Vec<String> = out
        .into_iter()
        .filter(|f| f.len() >= 6)
        .map(|f| f.to_ascii_lowercase())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The encoded form of `id` that request `n` puts in its destination's name (each a valid DNS
/// label): as is, hex, md5, base64url, sha1.
pub fn name_form(id: &Id, n: usize) -> String {
    let bare: String = id
        .value
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    match n % 5 {
        0 => bare.to_ascii_lowercase(),
        1 => hex_lower(id.value.as_bytes()),
        2 => md5_hex(id.value.as_bytes()),
        3 => base64url_nopad(id.value.as_bytes()).replace('_', "x"),
        _ => sha1_hex(id.value.as_bytes()),
    }
}

/// One HTTP request per identifier and name form: the value under its key in the query, the
/// destination named after the identifier itself. Returns (host, request).
pub fn requests() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, id) in IDS.iter().enumerate() {
        for n in [i, i + 1] {
            let host = format!("{}.t.example", name_form(id, n));
            let value = url_component(id.value);
            out.push((
                host.clone(),
                format!(
                    "GET /r?{}={value}&n={n} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: t\r\n\r\n",
                    id.key
                ),
            ));
        }
    }
    out
}

/// Asserts no output holds any identifier in any form: `outputs` are (what, text).
pub fn assert_nowhere(outputs: &[(&str, String)]) {
    let mut hits = Vec::new();
    for (what, text) in outputs {
        let lower = text.to_ascii_lowercase();
        for id in &IDS {
            for form in forms(id.value) {
                if lower.contains(&form) {
                    hits.push(format!("{what}: {} as `{form}`", id.kind));
                }
            }
        }
    }
    assert!(
        hits.is_empty(),
        "identifiers left the process:\n{}\n--- outputs\n{}",
        hits.join("\n"),
        outputs
            .iter()
            .map(|(w, t)| format!("=== {w}\n{t}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
