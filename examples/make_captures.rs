//! Writes the example captures shipped in `examples/captures/`:
//!
//! ```text
//! cargo run --example make_captures -- examples/captures
//! leakguard scan --config examples/nokia7plus.toml examples/captures/nokia7plus-zzhc.pcap
//! ```
//!
//! * `nokia7plus-zzhc.pcap`: the seed case. A phone on the LAN (192.168.1.23,
//!   a4:50:46:12:34:56) resolves zzhc.vnet.cn through the router, then POSTs China Telecom's
//!   self-registration document the way Qualcomm's `autoregistration` app does: JSON with IMEI,
//!   MEID, IMSI, ICCID, Wi-Fi MAC and cell id, base64'd in Android's 76-column flavour, sent as
//!   `Content-Type: application/encrypted-json` (it is not encrypted).
//! * `lwm2m-register.pcap`: three NB-IoT/LTE-M style LwM2M registrations over CoAP whose
//!   endpoint names are the IMEI (and IMSI).
//! * `benign.pcap`: look-alikes that are not leaks; a scan finds nothing.
//!
//! With `--all`, it also writes `forms.pcap` and `forms.toml`, the larger capture the
//! end-to-end tests build (every encoding, split/reordered/retransmitted segments, IPv6, UDP,
//! DNS), for inspecting with tshark; it is not shipped.
//!
//! The frames are built by the same code the end-to-end tests use (`tests/common`), and a test
//! checks that the shipped files are what this program writes.

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::PathBuf;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let all = args.iter().any(|a| a == "--all");
    let out = PathBuf::from(
        args.iter()
            .find(|a| !a.starts_with("--"))
            .map_or("examples/captures", String::as_str),
    );
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("make_captures: {}: {e}", out.display());
        std::process::exit(2);
    }
    let mut captures = common::scenes::shipped();
    if all {
        captures.push(("forms.pcap", common::scenes::forms().0));
        let toml = out.join("forms.toml");
        if let Err(e) = std::fs::write(&toml, common::scenes::FORMS_TOML) {
            eprintln!("make_captures: {}: {e}", toml.display());
            std::process::exit(2);
        }
    }
    for (name, cap) in captures {
        let path = out.join(name);
        cap.write(&path);
        println!("{} ({} bytes)", path.display(), cap.bytes().len());
    }
}
