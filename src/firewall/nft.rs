//! Running the `nft` binary. The nftables crate's `apply_ruleset` lets nft's stderr go to ours,
//! so the daemon could not say *why* a ruleset was refused; this runner sends the crate's JSON
//! the same way (`nft -j -f -`) but keeps stderr for the error.

use nftables::schema::Nftables;

use super::command::{self, LIMIT};
use super::FirewallError;

/// The nft executable, found in PATH like the crate does.
const NFT: &str = "nft";

/// Applies `doc` as one transaction: all of it or nothing.
pub fn apply(doc: &Nftables, action: &str) -> Result<(), FirewallError> {
    apply_text(&to_json(doc, action)?, action)
}

/// `doc` as the JSON text nft reads.
///
/// Through a `serde_json::Value` (not straight to a string): the flowtable code turns the
/// document into a `Value` too, and one serialiser of the crate's schema instead of two keeps
/// 40 KB out of the MIPS binary.
pub fn to_json(doc: &Nftables, action: &str) -> Result<String, FirewallError> {
    serde_json::to_value(doc)
        .map(|v| v.to_string())
        .map_err(|e| FirewallError::Invalid(format!("{action}: serialising JSON: {e}")))
}

/// Applies a JSON document already serialised, as one transaction.
pub fn apply_text(json: &str, action: &str) -> Result<(), FirewallError> {
    run(&["-j", "-f", "-"], Some(json), action).map(|_| ())
}

/// Applies a document written as plain JSON (what the crate's schema cannot express, such as
/// a flowtable's `flags`), as one transaction.
pub fn apply_json(doc: &serde_json::Value, action: &str) -> Result<(), FirewallError> {
    run(&["-j", "-f", "-"], Some(&doc.to_string()), action).map(|_| ())
}

/// `nft -j <args>` as plain JSON.
pub fn list_json(args: &[&str], action: &str) -> Result<serde_json::Value, FirewallError> {
    let mut all = vec!["-j"];
    all.extend_from_slice(args);
    let out = run(&all, None, action)?;
    serde_json::from_str(&out).map_err(|e| FirewallError::Nft {
        action: action.to_string(),
        stderr: format!("unexpected JSON from nft: {e}"),
    })
}

/// Whether `nft <args>` succeeds (output discarded).
pub fn succeeds(args: &[&str]) -> bool {
    command::run(NFT, args, None, LIMIT).is_ok_and(|o| o.status.success())
}

fn run(args: &[&str], input: Option<&str>, action: &str) -> Result<String, FirewallError> {
    let spawn_err = |e: std::io::Error| FirewallError::Nft {
        action: action.to_string(),
        stderr: format!("running {NFT}: {e}"),
    };
    let out = command::run(NFT, args, input.map(str::as_bytes), LIMIT).map_err(spawn_err)?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(FirewallError::Nft {
            action: action.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }
}
