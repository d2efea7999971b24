//! Identifier kinds from one table: for each [`Kind`], its name, how the owner configures its
//! known values (the `[[device]]` key, the check that gives a value's canonical form, where
//! the parsed config keeps them), how the detector searches those values, and the payload key
//! names that announce it.
//!
//! Everything that used to be matched per kind in config, detect, render and rpcd reads this
//! table instead, so a new kind is one enum variant ([`Kind`]), one row here (plus its place in
//! [`DEVICE_LISTS`] if the owner can configure it), and one `Vec<String>` in
//! [`crate::config::Device`] — besides the code that recognises it, which is new logic
//! anyway (a validator in [`crate::detect::identifiers`], its arm in the key scanner).
//!
//! The table is plain `const` data read when a configuration is built or a finding is shown;
//! the per-byte scan never looks at it (it matches the automaton's patterns, built from here).

use crate::config::Device;
use crate::detect::keys::KeyClass;
use crate::finding::Kind;

/// How known values of a kind are configured, kept and searched.
#[derive(Clone, Copy)]
pub enum Known {
    /// Not configured on its own: an IMEISV's IMEI is configured as `imei`.
    Unconfigured,
    /// `mac = […]`: six bytes each ([`Device::mac`]), searched in their written, raw and hashed
    /// forms.
    Mac,
    /// A list of text values.
    Text(TextList),
}

/// A `[[device]]` list of text values.
#[derive(Clone, Copy)]
pub struct TextList {
    /// Checks a configured value: its canonical form, or why it is refused.
    pub canonical: fn(&str) -> Result<String, String>,
    /// The parsed config's list.
    pub list: fn(&Device) -> &Vec<String>,
    pub list_mut: fn(&mut Device) -> &mut Vec<String>,
    /// How the detector searches the values.
    pub search: Search,
}

/// How the detector searches a known text value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Search {
    /// As a literal (and its digests); `bcd`: also its BCD/TBCD bytes (digits SIM and modem
    /// protocols carry as nibbles).
    Literal { bcd: bool },
    /// As a phone number, in every form it is written (see [`crate::detect::phone`]).
    Phone,
}

/// One kind's row.
#[derive(Clone, Copy)]
pub struct KindInfo {
    pub kind: Kind,
    /// The name in config files (`detect.kinds`, `[[device]]`, `[[allow]] kinds`), JSON
    /// output, syslog lines, status and LuCI.
    pub name: &'static str,
    pub known: Known,
    /// The payload keys (`imei=`, `"iccid":`) that announce the kind, with whether each is
    /// distinctive enough to match inside a word (see [`crate::detect::keys`]); the class says
    /// how the key scanner reads the value after them.
    pub keys: &'static [(&'static str, bool)],
    pub key_class: Option<KeyClass>,
}

/// Text list accessors of [`Device`]: one line per list, so the table can name them.
macro_rules! text_list {
    ($field:ident, $check:path, $search:expr) => {
        Known::Text(TextList {
            canonical: $check,
            list: |d: &Device| &d.$field,
            list_mut: |d: &mut Device| &mut d.$field,
            search: $search,
        })
    };
}

use crate::config::ids;

/// The table, in [`Kind`] order (a const check below keeps it so).
pub const KINDS: [KindInfo; 8] = [
    KindInfo {
        kind: Kind::Imei,
        name: "imei",
        known: text_list!(imei, ids::check_imei, Search::Literal { bcd: true }),
        keys: &[("imei", true)],
        key_class: Some(KeyClass::Imei),
    },
    KindInfo {
        kind: Kind::Imeisv,
        name: "imeisv",
        known: Known::Unconfigured,
        keys: &[("imeisv", true), ("imei_sv", true)],
        key_class: Some(KeyClass::Imeisv),
    },
    KindInfo {
        kind: Kind::Meid,
        name: "meid",
        known: text_list!(meid, ids::check_meid, Search::Literal { bcd: false }),
        keys: &[("meid", false)],
        key_class: Some(KeyClass::Meid),
    },
    KindInfo {
        kind: Kind::Imsi,
        name: "imsi",
        known: text_list!(imsi, ids::check_imsi, Search::Literal { bcd: true }),
        keys: &[
            ("imsi", true),
            ("subscriberid", false),
            ("subscriber_id", false),
        ],
        key_class: Some(KeyClass::Imsi),
    },
    KindInfo {
        kind: Kind::Iccid,
        name: "iccid",
        known: text_list!(iccid, ids::check_iccid, Search::Literal { bcd: true }),
        keys: &[
            ("iccid", true),
            ("simid", false),
            ("sim_id", false),
            ("simserial", false),
            ("sim_serial", false),
            ("simserialnumber", false),
            ("sim_serial_number", false),
        ],
        key_class: Some(KeyClass::Iccid),
    },
    KindInfo {
        kind: Kind::Mac,
        name: "mac",
        known: Known::Mac,
        keys: &[
            ("mac", false),
            ("macid", false),
            ("macaddr", false),
            ("macaddress", false),
            ("mac_addr", false),
            ("mac_address", false),
            ("mac-address", false),
            ("wifimac", false),
            ("wlanmac", false),
            ("btmac", false),
        ],
        key_class: Some(KeyClass::Mac),
    },
    KindInfo {
        kind: Kind::Phone,
        name: "phone",
        known: text_list!(phone, ids::check_phone, Search::Phone),
        keys: &[
            ("msisdn", true),
            ("mdn", false),
            ("phone", false),
            ("phonenumber", false),
            ("phone_number", false),
            ("phoneno", false),
            ("phonenum", false),
            ("mobile", false),
            ("mobileno", false),
            ("mobile_no", false),
            ("mobilephone", false),
            ("tel", false),
            ("telephone", false),
            ("line1number", false),
        ],
        key_class: Some(KeyClass::Phone),
    },
    KindInfo {
        kind: Kind::Serial,
        name: "serial",
        known: text_list!(serial, ids::check_serial, Search::Literal { bcd: false }),
        keys: &[],
        key_class: None,
    },
];

/// The `[[device]]` identifier lists, in the order the config's errors and the Settings tab
/// show them.
pub const DEVICE_LISTS: [Kind; 7] = [
    Kind::Mac,
    Kind::Imei,
    Kind::Imsi,
    Kind::Iccid,
    Kind::Meid,
    Kind::Phone,
    Kind::Serial,
];

// The table is indexed by `Kind as usize`: every row must sit at its kind's index, and every
// device list must be configurable.
const _: () = {
    let mut i = 0;
    while i < KINDS.len() {
        assert!(KINDS[i].kind as usize == i, "KINDS is out of Kind order");
        i += 1;
    }
    let mut j = 0;
    while j < DEVICE_LISTS.len() {
        assert!(
            !matches!(KINDS[DEVICE_LISTS[j] as usize].known, Known::Unconfigured),
            "a device list of a kind that is not configured"
        );
        j += 1;
    }
};

/// The row of `kind`.
pub const fn info(kind: Kind) -> &'static KindInfo {
    &KINDS[kind as usize]
}

/// The kind a `[[device]]` key names, if it is an identifier list.
pub fn device_list(key: &str) -> Option<Kind> {
    DEVICE_LISTS.into_iter().find(|k| info(*k).name == key)
}

/// The text values a device has configured for `kind` (none for MACs, kept as bytes, and
/// for kinds not configured on their own).
pub fn text_values(device: &Device, kind: Kind) -> &[String] {
    match info(kind).known {
        Known::Text(t) => (t.list)(device),
        Known::Mac | Known::Unconfigured => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_row_per_kind_with_its_name() {
        assert_eq!(KINDS.len(), Kind::ALL.len());
        for k in Kind::ALL {
            assert_eq!(info(k).kind, k);
            assert_eq!(Kind::from_name(info(k).name), Some(k));
        }
        for k in DEVICE_LISTS {
            assert_eq!(device_list(k.name()), Some(k));
        }
        assert_eq!(device_list("imeisv"), None);
        assert_eq!(device_list("name"), None);
    }

    #[test]
    fn text_lists_reach_their_own_field() {
        let mut d = Device::default();
        for k in DEVICE_LISTS {
            if let Known::Text(t) = info(k).known {
                (t.list_mut)(&mut d).push(k.name().to_string());
            }
        }
        assert_eq!(d.imei, ["imei"]);
        assert_eq!(d.imsi, ["imsi"]);
        assert_eq!(d.iccid, ["iccid"]);
        assert_eq!(d.meid, ["meid"]);
        assert_eq!(d.phone, ["phone"]);
        assert_eq!(d.serial, ["serial"]);
        assert_eq!(text_values(&d, Kind::Serial), ["serial"]);
        assert!(text_values(&d, Kind::Mac).is_empty());
    }
}
