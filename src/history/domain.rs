//! The registrable domain a destination name belongs to (`zzhc.vnet.cn` → `vnet.cn`,
//! `api.weather.co.uk` → `weather.co.uk`): the report groups destinations by the party that
//! registered them, with the full names listed below.
//!
//! The Public Suffix List would be exact but costs ~200 kB in a binary meant for 8 MB of flash,
//! and goes stale on a router nobody updates. This is its common core instead: one-label
//! suffixes (`com`, `cn`), the second-level registries of country codes (`co.uk`, `com.cn`,
//! `ne.jp`, …: a two-letter TLD under one of the generic second-level labels), and the shared
//! hosting suffixes IoT devices talk to most (`cloudfront.net`, `amazonaws.com` regions, …),
//! where each customer is its own party. A name it gets wrong is still listed in full under
//! its group; only the grouping is coarser or finer.

/// Second-level labels that country-code registries use as public suffixes (`co.uk`, `com.au`,
/// `ne.jp`, `gob.mx`, …).
const GENERIC_SECOND_LEVEL: [&str; 21] = [
    "ac", "co", "com", "edu", "go", "gob", "gov", "gv", "int", "ltd", "mil", "ne", "net", "nic",
    "nom", "or", "org", "plc", "sch", "gen", "biz",
];

/// Shared suffixes below which each name is its own party (from the Public Suffix List's
/// private section, the ones devices reach most); a `*` label matches any one label (a region).
const SHARED_SUFFIXES: [&str; 18] = [
    "cloudfront.net",
    "azurewebsites.net",
    "azure-devices.net",
    "blob.core.windows.net",
    "cloudapp.net",
    "appspot.com",
    "herokuapp.com",
    "elasticbeanstalk.com",
    "firebaseio.com",
    "github.io",
    "blogspot.com",
    "web.app",
    "s3.amazonaws.com",
    "s3.*.amazonaws.com",
    "execute-api.*.amazonaws.com",
    "iot.*.amazonaws.com",
    "*.compute.amazonaws.com",
    "elb.amazonaws.com",
];

/// The registrable domain of `name` (lower case, without a trailing dot). A name that is
/// itself a suffix, an address literal or a single label is returned whole.
pub fn registrable(name: &str) -> String {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if name.parse::<std::net::IpAddr>().is_ok() {
        return name;
    }
    let labels: Vec<&str> = name.split('.').collect();
    let n = labels.len();
    let suffix = suffix_labels(&labels);
    if n <= suffix {
        return name;
    }
    labels[n - suffix - 1..].join(".")
}

/// How many trailing labels of `labels` form the public suffix.
fn suffix_labels(labels: &[&str]) -> usize {
    let n = labels.len();
    let shared = SHARED_SUFFIXES
        .iter()
        .filter(|pattern| {
            let parts: Vec<&str> = pattern.split('.').collect();
            n > parts.len()
                && labels[n - parts.len()..]
                    .iter()
                    .zip(&parts)
                    .all(|(label, part)| *part == "*" || label == part)
        })
        .map(|pattern| pattern.split('.').count())
        .max();
    if let Some(parts) = shared {
        return parts;
    }
    if n >= 3 {
        let tld = labels[n - 1];
        let second = labels[n - 2];
        if tld.len() == 2 && GENERIC_SECOND_LEVEL.contains(&second) {
            return 2;
        }
    }
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_by_registrable_domain() {
        for (name, want) in [
            ("zzhc.vnet.cn", "vnet.cn"),
            ("ZZHC.VNET.CN.", "vnet.cn"),
            ("vnet.cn", "vnet.cn"),
            ("cn", "cn"),
            ("a.b.c.example.com", "example.com"),
            ("api.weather.co.uk", "weather.co.uk"),
            ("co.uk", "co.uk"),
            ("log.umsns.com.cn", "umsns.com.cn"),
            ("x.y.ne.jp", "y.ne.jp"),
            ("d1234.cloudfront.net", "d1234.cloudfront.net"),
            ("a.d1234.cloudfront.net", "d1234.cloudfront.net"),
            ("bucket.s3.amazonaws.com", "bucket.s3.amazonaws.com"),
            (
                "abc-ats.iot.eu-west-1.amazonaws.com",
                "abc-ats.iot.eu-west-1.amazonaws.com",
            ),
            ("203.0.113.7", "203.0.113.7"),
            ("2001:db8::1", "2001:db8::1"),
            ("localhost", "localhost"),
            ("a.example.io", "example.io"),
        ] {
            assert_eq!(registrable(name), want, "{name}");
        }
    }
}
