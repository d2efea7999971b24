//! The xt fallback: iptables-nft rules that queue what our early chains marked with
//! [`MARK_QUEUE`](super::MARK_QUEUE), for kernels without the native `queue` expression.
//!
//! Every rule carries `-m comment --comment leakguard`, so removal finds ours by listing the
//! chain (`-S`) and deleting the lines with that comment, whatever queue number they used.

use super::command::{self, LIMIT};
use super::{FirewallError, MARK_QUEUE};

/// The comment that marks our rules.
pub const COMMENT: &str = "leakguard";

const CHAINS: [&str; 2] = ["FORWARD", "INPUT"];
const PROGRAMS: [&str; 2] = ["iptables", "ip6tables"];

/// How long iptables may wait for the xtables lock (fw4 reloads hold it), in seconds: bounded,
/// and below [`LIMIT`], after which the call is killed anyway.
const LOCK_WAIT: &str = "2";

/// The leading arguments of every call: a bounded lock wait, the filter table.
fn base() -> Vec<String> {
    ["-w", LOCK_WAIT, "-t", "filter"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// The match and target of our rule (everything after `-I CHAIN`).
pub fn spec(queue: u16) -> Vec<String> {
    let mark = format!("{MARK_QUEUE:#x}/{MARK_QUEUE:#x}");
    [
        "-m",
        "mark",
        "--mark",
        &mark,
        "-m",
        "comment",
        "--comment",
        COMMENT,
        "-j",
        "NFQUEUE",
        "--queue-num",
        &queue.to_string(),
        "--queue-bypass",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// Inserts the rule at the top of FORWARD and INPUT, for IPv4 and IPv6. A missing `ip6tables`
/// binary is logged and skipped (IPv4-only routers); any other failure is an error.
pub fn insert(queue: u16) -> Result<(), FirewallError> {
    for program in PROGRAMS {
        for chain in CHAINS {
            let mut args = base();
            args.push("-I".into());
            args.push(chain.into());
            args.extend(spec(queue));
            match run(program, &args) {
                Err(FirewallError::Xt { stderr, .. })
                    if program == "ip6tables" && stderr.starts_with("not found") =>
                {
                    log::warn!("ip6tables not found: IPv6 traffic is not queued");
                    break;
                }
                other => other?,
            };
        }
    }
    Ok(())
}

/// Whether the IPv4 FORWARD rule is in place (`iptables -C`).
pub fn present(queue: u16) -> bool {
    let mut args = base();
    args.push("-C".into());
    args.push("FORWARD".into());
    args.extend(spec(queue));
    run("iptables", &args).is_ok()
}

/// Deletes every rule of ours from FORWARD and INPUT. A missing chain or program means there is
/// nothing to delete.
pub fn remove() -> Result<(), FirewallError> {
    for program in PROGRAMS {
        for chain in CHAINS {
            let mut list = base();
            list.extend(["-S".to_string(), chain.to_string()]);
            let listing = match run(program, &list) {
                Ok(text) => text,
                Err(_) => continue,
            };
            for args in ours(&listing) {
                run(program, &args)?;
            }
        }
    }
    Ok(())
}

/// The delete commands (`-t filter -D CHAIN …`) for our lines of an `iptables -S` listing.
pub fn ours(listing: &str) -> Vec<Vec<String>> {
    listing
        .lines()
        .filter_map(|line| {
            let words: Vec<String> = line
                .split_whitespace()
                .map(|w| w.trim_matches('"').to_string())
                .collect();
            let mine = words
                .windows(2)
                .any(|w| w[0] == "--comment" && w[1] == COMMENT);
            if !mine || words.first().map(String::as_str) != Some("-A") {
                return None;
            }
            let mut args = base();
            args.push("-D".into());
            args.extend(words.into_iter().skip(1));
            Some(args)
        })
        .collect()
}

fn run<S: AsRef<str>>(program: &str, args: &[S]) -> Result<String, FirewallError> {
    let command = || {
        let mut text = program.to_string();
        for a in args {
            text.push(' ');
            text.push_str(a.as_ref());
        }
        text
    };
    let out = command::run(program, args, None, LIMIT).map_err(|e| FirewallError::Xt {
        command: command(),
        stderr: if e.kind() == std::io::ErrorKind::NotFound {
            format!("not found: {e}")
        } else {
            e.to_string()
        },
    })?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(FirewallError::Xt {
            command: command(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_our_rules_in_a_listing() {
        let listing = "-P FORWARD ACCEPT\n\
            -A FORWARD -i eth0 -j ACCEPT\n\
            -A FORWARD -m mark --mark 0x2000000/0x2000000 -m comment --comment leakguard -j NFQUEUE --queue-num 3 --queue-bypass\n\
            -A FORWARD -m comment --comment \"leakguard\" -j NFQUEUE --queue-num 4\n\
            -A FORWARD -m comment --comment leakguard-other -j ACCEPT\n";
        let found = ours(listing);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0][..6], ["-w", "2", "-t", "filter", "-D", "FORWARD"]);
        assert!(found[0].contains(&"3".to_string()));
        assert!(found[1].contains(&"leakguard".to_string()));
    }

    #[test]
    fn spec_queues_marked_packets_with_bypass() {
        let s = spec(5).join(" ");
        assert_eq!(
            s,
            "-m mark --mark 0x2000000/0x2000000 -m comment --comment leakguard \
             -j NFQUEUE --queue-num 5 --queue-bypass"
        );
    }
}
