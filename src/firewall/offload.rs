//! fw4's flow offloading, and taking it over.
//!
//! With fw4's `flow_offloading` (software) or `flow_offloading_hw` (hardware) on, fw4 puts
//! `meta l4proto { tcp, udp } flow add @ft` first in its forward chain. Once a flow is
//! established its packets skip the forward hook (software) or the CPU (hardware): our queue
//! sees only a flow's first packets, and a leak in a later segment would pass uninspected.
//! Another table cannot exempt a flow from fw4's unconditional rule.
//!
//! So the daemon takes offloading over while it runs:
//!
//! 1. it finds fw4's flowtable and every rule of `inet fw4` that adds flows to it
//!    ([`detect`], from `nft -j list table inet fw4`);
//! 2. its own table gets a flowtable `offload` on the same devices, with the same hardware flag
//!    and priority, and one rule at the end of `forward_post` (after fw4's filter chains, so only
//!    traffic fw4 accepted): `ct mark & 0x0c000000 == CLEAN meta l4proto { tcp, udp } flow add
//!    @offload` ([`table_objects`]). A flow is offloaded exactly when the daemon has decided it
//!    clean (budget spent, nothing found): offload keeps its speed for almost all traffic, and
//!    no flow leaves the queue before its budget;
//! 3. it deletes fw4's `flow add` rules by handle ([`delete_fw4_rules`]), in a transaction of
//!    their own (the handles change when fw4 reloads, and a stale handle fails a transaction).
//!
//! fw4 puts its rule back on every reload: the daemon checks again every few seconds and deletes
//! it again, and logs it. On SIGTERM it puts fw4's rules back where fw4 had them (first in the
//! chain) with the same expressions ([`restore_fw4_rules`]), then removes its table. A daemon
//! killed without cleaning up leaves fw4 without its rule until fw4's next reload
//! (`service firewall reload`), which is safe: traffic flows, only not offloaded.
//!
//! When the takeover fails, the state says so ([`OffloadState::Bypassed`]): the status and
//! syslog say that flows may be inspected less than their budget.
//!
//! The crate's `FlowTable` has no `flags` (hardware offload), so this module writes its nft
//! JSON with serde_json. The kernel of the development machine has no flowtable support: the
//! unit tests below check the generated JSON, and nothing of it was loaded into a kernel.

use serde_json::{json, Value};

use super::rules::CHAIN_FORWARD_POST;
use super::{nft, Firewall, FirewallError};
use super::{DECISION_MASK, MARK_CLEAN};

/// fw4's table (`inet fw4`).
pub const FW4_TABLE: &str = "fw4";
/// Our flowtable's name (inside our table).
pub const FLOWTABLE: &str = "offload";

/// A flowtable as `nft -j list` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flowtable {
    pub name: String,
    pub hook: String,
    pub prio: i64,
    pub devices: Vec<String>,
    /// `flags offload`: the NIC or switch forwards the flows itself.
    pub hardware: bool,
}

/// A rule of `inet fw4` that adds flows to a flowtable.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowRule {
    pub chain: String,
    pub handle: u64,
    /// The rule's expressions, to put it back as it was.
    pub expr: Value,
    pub comment: Option<String>,
}

/// What fw4 offloads.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Fw4Offload {
    /// The flowtable fw4's rules add flows to (the first one referenced).
    pub flowtable: Option<Flowtable>,
    pub rules: Vec<FlowRule>,
    /// The names of every flowtable of `inet fw4` (fw4 writes `ft` only when offloading is on).
    pub flowtables: Vec<String>,
}

impl Fw4Offload {
    /// Whether fw4 offloads flows now.
    pub fn active(&self) -> bool {
        !self.rules.is_empty()
    }

    fn hardware(&self) -> bool {
        self.flowtable.as_ref().is_some_and(|f| f.hardware)
    }
}

/// The daemon's view, for `status` and the log.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum OffloadState {
    /// Not checked yet, or no fw4 table (another firewall, or none).
    #[default]
    Unknown,
    /// fw4 offloads nothing: every packet reaches the queue until its flow is decided.
    Off,
    /// fw4's offloading was on; leakguard offloads instead, only flows decided clean.
    TakenOver {
        hardware: bool,
        devices: Vec<String>,
    },
    /// fw4's offloading is on and could not be taken over: established flows skip the queue.
    Bypassed { hardware: bool, error: String },
}

impl OffloadState {
    /// One line for `leakguard status` and syslog.
    pub fn describe(&self) -> String {
        let kind = |hw: bool| if hw { "hardware" } else { "software" };
        match self {
            OffloadState::Unknown => "unknown (no inet fw4 table)".to_string(),
            OffloadState::Off => "off".to_string(),
            OffloadState::TakenOver { hardware, devices } => format!(
                "fw4 {} flow offloading taken over: flows are offloaded once decided clean \
                 (flowtable {FLOWTABLE} on {})",
                kind(*hardware),
                devices.join(" ")
            ),
            OffloadState::Bypassed { hardware, error } => format!(
                "fw4 {} flow offloading is on and could not be taken over ({error}): \
                 established flows skip the queue and may be inspected less than detect.budget",
                kind(*hardware)
            ),
        }
    }

    /// Whether flows may be inspected less than their budget.
    pub fn degraded(&self) -> bool {
        matches!(self, OffloadState::Bypassed { .. })
    }
}

/// What `nft -j list table inet fw4` shows of offloading.
pub fn detect(listing: &Value) -> Fw4Offload {
    let objects = listing
        .get("nftables")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let in_fw4 = |o: &Value| {
        o.get("family").and_then(Value::as_str) == Some("inet")
            && o.get("table").and_then(Value::as_str) == Some(FW4_TABLE)
    };
    let mut rules = Vec::new();
    let mut referenced: Option<String> = None;
    for rule in objects
        .iter()
        .filter_map(|o| o.get("rule"))
        .filter(|r| in_fw4(r))
    {
        let Some(expr) = rule.get("expr").and_then(Value::as_array) else {
            continue;
        };
        let target = expr.iter().find_map(|s| {
            let flow = s.get("flow")?;
            (flow.get("op").and_then(Value::as_str) == Some("add"))
                .then(|| flow.get("flowtable").and_then(Value::as_str))
                .flatten()
        });
        let (Some(target), Some(handle)) = (target, rule.get("handle").and_then(Value::as_u64))
        else {
            continue;
        };
        referenced.get_or_insert_with(|| target.trim_start_matches('@').to_string());
        rules.push(FlowRule {
            chain: rule
                .get("chain")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            handle,
            expr: Value::Array(expr.clone()),
            comment: rule
                .get("comment")
                .and_then(Value::as_str)
                .map(str::to_string),
        });
    }
    let flowtable = referenced.and_then(|name| {
        objects
            .iter()
            .filter_map(|o| o.get("flowtable"))
            .filter(|f| in_fw4(f))
            .find(|f| f.get("name").and_then(Value::as_str) == Some(name.as_str()))
            .map(|f| parse_flowtable(&name, f))
    });
    let flowtables = objects
        .iter()
        .filter_map(|o| o.get("flowtable"))
        .filter(|f| in_fw4(f))
        .filter_map(|f| f.get("name").and_then(Value::as_str))
        .map(str::to_string)
        .collect();
    Fw4Offload {
        flowtable,
        rules,
        flowtables,
    }
}

fn parse_flowtable(name: &str, f: &Value) -> Flowtable {
    let devices = match f.get("dev") {
        Some(Value::String(d)) => vec![d.clone()],
        Some(Value::Array(ds)) => ds
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    let flags: Vec<&str> = match f.get("flags") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    Flowtable {
        name: name.to_string(),
        hook: f
            .get("hook")
            .and_then(Value::as_str)
            .unwrap_or("ingress")
            .to_string(),
        prio: f.get("prio").and_then(Value::as_i64).unwrap_or(0),
        devices,
        hardware: flags.contains(&"offload"),
    }
}

/// The commands that give our table its flowtable (fw4's devices, hook, priority and hardware
/// flag) and the rule that offloads flows decided clean, appended to `forward_post`. Added in
/// the same transaction as the rest of the table.
pub fn table_objects(table: &str, fw4: &Flowtable) -> Vec<Value> {
    let mut flowtable = json!({
        "family": "inet",
        "table": table,
        "name": FLOWTABLE,
        "hook": fw4.hook,
        "prio": fw4.prio,
        "dev": fw4.devices,
    });
    if fw4.hardware {
        flowtable["flags"] = json!(["offload"]);
    }
    let rule = json!({
        "family": "inet",
        "table": table,
        "chain": CHAIN_FORWARD_POST,
        "comment": "leakguard: offload flows decided clean",
        "expr": [
            { "match": {
                "op": "==",
                "left": { "&": [ { "ct": { "key": "mark" } }, DECISION_MASK ] },
                "right": MARK_CLEAN
            } },
            { "match": {
                "op": "==",
                "left": { "meta": { "key": "l4proto" } },
                "right": { "set": [ "tcp", "udp" ] }
            } },
            { "flow": { "op": "add", "flowtable": format!("@{FLOWTABLE}") } }
        ]
    });
    vec![
        json!({ "add": { "flowtable": flowtable } }),
        json!({ "add": { "rule": rule } }),
    ]
}

/// Deletes fw4's `flow add` rules by handle.
pub fn delete_fw4_rules(rules: &[FlowRule]) -> Value {
    let cmds: Vec<Value> = rules
        .iter()
        .map(|r| {
            json!({ "delete": { "rule": {
                "family": "inet", "table": FW4_TABLE, "chain": r.chain, "handle": r.handle
            } } })
        })
        .collect();
    json!({ "nftables": cmds })
}

/// Puts fw4's rules back first in their chains (where fw4 writes its offload rule), in their
/// original order.
pub fn restore_fw4_rules(rules: &[FlowRule]) -> Value {
    // `insert` without a position puts a rule first: insert the last one first.
    let cmds: Vec<Value> = rules
        .iter()
        .rev()
        .map(|r| {
            let mut rule = json!({
                "family": "inet", "table": FW4_TABLE, "chain": r.chain, "expr": r.expr
            });
            if let Some(c) = &r.comment {
                rule["comment"] = json!(c);
            }
            json!({ "insert": { "rule": rule } })
        })
        .collect();
    json!({ "nftables": cmds })
}

/// The state after a check: what fw4 does and whether we hold its offloading.
pub fn state(fw4: &Fw4Offload, ours: Option<&Flowtable>, error: Option<String>) -> OffloadState {
    match (error, ours) {
        (Some(error), _) => OffloadState::Bypassed {
            hardware: fw4.hardware() || ours.is_some_and(|f| f.hardware),
            error,
        },
        (None, Some(ft)) => OffloadState::TakenOver {
            hardware: ft.hardware,
            devices: ft.devices.clone(),
        },
        (None, None) if fw4.active() => OffloadState::Bypassed {
            hardware: fw4.hardware(),
            error: "not attempted".to_string(),
        },
        (None, None) => OffloadState::Off,
    }
}

/// What the installed table holds of offloading.
#[derive(Clone, Debug, Default)]
pub(super) struct Offload {
    /// Our flowtable (a copy of fw4's), part of the table while we hold fw4's offloading.
    pub(super) ours: Option<Flowtable>,
    /// fw4's rules as they were, to put back on release.
    held: Vec<FlowRule>,
    state: OffloadState,
}

impl Firewall {
    /// Looks at fw4's offloading and takes it over (see the module doc). Returns the new state
    /// when it changed, for the log. Costs one `nft` run, two or three when fw4 just reloaded.
    pub fn check_offload(&mut self) -> Option<OffloadState> {
        let before = self.offload.state.clone();
        let after = self.take_over_offload();
        self.offload.state = after.clone();
        (after != before).then_some(after)
    }

    /// The offloading state of the last check.
    pub fn offload_state(&self) -> &OffloadState {
        &self.offload.state
    }

    fn take_over_offload(&mut self) -> OffloadState {
        let listing = match nft::list_json(&["list", "table", "inet", FW4_TABLE], "listing fw4") {
            Ok(l) => l,
            // No fw4 (another firewall, or `fw4 flush`): nothing offloads through it.
            Err(_) => {
                return match &self.offload.ours {
                    Some(ft) => state(&Fw4Offload::default(), Some(ft), None),
                    None => OffloadState::Unknown,
                }
            }
        };
        let fw4 = detect(&listing);
        if !fw4.active() {
            // fw4 reloaded with offloading turned off: its flowtable is gone, drop ours.
            let turned_off = self
                .offload
                .ours
                .as_ref()
                .is_some_and(|o| !fw4.flowtables.contains(&o.name));
            if turned_off {
                self.offload.ours = None;
                self.offload.held.clear();
                if let Err(e) = self.apply_table() {
                    return state(&fw4, None, Some(e.to_string()));
                }
            }
            return state(&fw4, self.offload.ours.as_ref(), None);
        }
        let Some(theirs) = fw4.flowtable.clone() else {
            return state(&fw4, None, Some("fw4's flowtable not found".to_string()));
        };
        if self.offload.ours.as_ref() != Some(&theirs) {
            let previous = self.offload.ours.replace(theirs);
            if let Err(e) = self.apply_table() {
                self.offload.ours = previous;
                let _ = self.apply_table();
                return state(&fw4, None, Some(e.to_string()));
            }
        }
        if let Err(e) =
            nft::apply_json(&delete_fw4_rules(&fw4.rules), "deleting fw4's offload rule")
        {
            return state(&fw4, None, Some(e.to_string()));
        }
        self.offload.held = fw4.rules.clone();
        state(&fw4, self.offload.ours.as_ref(), None)
    }

    /// Puts fw4's offload rules back (before our table goes).
    pub(super) fn release_offload(&mut self) -> Result<(), FirewallError> {
        if self.offload.held.is_empty() {
            return Ok(());
        }
        let held = std::mem::take(&mut self.offload.held);
        // Only when fw4 has not reloaded since: a reload has put its rule back already.
        let Ok(listing) = nft::list_json(&["list", "table", "inet", FW4_TABLE], "listing fw4")
        else {
            return Ok(()); // fw4 is gone: nothing to put back
        };
        let fw4 = detect(&listing);
        let still_there = self
            .offload
            .ours
            .as_ref()
            .is_some_and(|o| fw4.flowtables.contains(&o.name));
        if fw4.active() || !still_there {
            return Ok(());
        }
        nft::apply_json(&restore_fw4_rules(&held), "restoring fw4's offload rule")
    }

    /// The table document with our flowtable and its rule when we hold offloading.
    pub(super) fn with_offload(&self, doc: &nftables::schema::Nftables) -> Option<Value> {
        let ours = self.offload.ours.as_ref()?;
        let mut value = serde_json::to_value(doc).ok()?;
        let cmds = value.get_mut("nftables")?.as_array_mut()?;
        cmds.extend(table_objects(&self.settings.table, ours));
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of `nft -j list table inet fw4` with `flow_offloading_hw 1` (fw4's
    /// templates/ruleset.uc): flowtable `ft` on the zones' devices, the offload rule first in
    /// `forward`, and an unrelated rule.
    fn fw4_listing(hardware: bool, dev: Value) -> Value {
        let mut ft = json!({
            "family": "inet", "name": "ft", "table": "fw4", "handle": 2,
            "hook": "ingress", "prio": 0, "dev": dev
        });
        if hardware {
            ft["flags"] = json!(["offload"]);
        }
        json!({ "nftables": [
            { "metainfo": { "version": "1.0.9", "json_schema_version": 1 } },
            { "table": { "family": "inet", "name": "fw4", "handle": 1 } },
            { "flowtable": ft },
            { "chain": { "family": "inet", "table": "fw4", "name": "forward", "handle": 3,
                         "type": "filter", "hook": "forward", "prio": 0, "policy": "drop" } },
            { "rule": { "family": "inet", "table": "fw4", "chain": "forward", "handle": 17,
                        "comment": "!fw4: Traffic offloading",
                        "expr": [
                            { "match": { "op": "==", "left": { "meta": { "key": "l4proto" } },
                                         "right": { "set": ["tcp", "udp"] } } },
                            { "flow": { "op": "add", "flowtable": "@ft" } }
                        ] } },
            { "rule": { "family": "inet", "table": "fw4", "chain": "forward", "handle": 18,
                        "expr": [
                            { "match": { "op": "in", "left": { "ct": { "key": "state" } },
                                         "right": ["established", "related"] } },
                            { "accept": null }
                        ] } },
            // Another table's flowtable and flow rule are not fw4's.
            { "flowtable": { "family": "inet", "name": "ft", "table": "other", "handle": 4,
                             "hook": "ingress", "prio": 0, "dev": "eth9" } },
            { "rule": { "family": "inet", "table": "other", "chain": "fwd", "handle": 5,
                        "expr": [ { "flow": { "op": "add", "flowtable": "@ft" } } ] } }
        ] })
    }

    #[test]
    fn detects_hardware_offload_and_its_devices() {
        let found = detect(&fw4_listing(true, json!(["lan1", "lan2", "wan"])));
        assert!(found.active());
        assert_eq!(
            found.flowtable,
            Some(Flowtable {
                name: "ft".into(),
                hook: "ingress".into(),
                prio: 0,
                devices: vec!["lan1".into(), "lan2".into(), "wan".into()],
                hardware: true,
            })
        );
        assert_eq!(found.rules.len(), 1);
        assert_eq!(found.rules[0].handle, 17);
        assert_eq!(found.rules[0].chain, "forward");
        assert_eq!(
            found.rules[0].comment.as_deref(),
            Some("!fw4: Traffic offloading")
        );
        assert_eq!(found.flowtables, ["ft"]);
    }

    #[test]
    fn detects_software_offload_with_one_device() {
        let found = detect(&fw4_listing(false, json!("eth0")));
        let ft = found.flowtable.unwrap();
        assert!(!ft.hardware);
        assert_eq!(ft.devices, ["eth0"]);
    }

    #[test]
    fn no_rule_no_offload() {
        // fw4 with offloading off writes no flowtable and no flow rule; a listing without
        // the table (another firewall) is the same.
        let mut listing = fw4_listing(false, json!("eth0"));
        listing["nftables"]
            .as_array_mut()
            .unwrap()
            .retain(|o| o.get("rule").and_then(|r| r.get("handle")) != Some(&json!(17)));
        let found = detect(&listing);
        assert!(!found.active());
        assert_eq!(found.flowtable, None);
        assert_eq!(state(&found, None, None), OffloadState::Off);
        assert!(!detect(&json!({"nftables": []})).active());
        assert!(!detect(&json!("garbage")).active());
    }

    #[test]
    fn our_flowtable_copies_fw4s_and_offloads_only_clean_flows() {
        let found = detect(&fw4_listing(true, json!(["lan1", "wan"])));
        let objects = table_objects("leakguard", found.flowtable.as_ref().unwrap());
        assert_eq!(
            objects[0],
            json!({ "add": { "flowtable": {
                "family": "inet", "table": "leakguard", "name": "offload",
                "hook": "ingress", "prio": 0, "dev": ["lan1", "wan"], "flags": ["offload"]
            } } })
        );
        assert_eq!(
            objects[1],
            json!({ "add": { "rule": {
                "family": "inet", "table": "leakguard", "chain": "forward_post",
                "comment": "leakguard: offload flows decided clean",
                "expr": [
                    { "match": { "op": "==",
                                 "left": { "&": [ { "ct": { "key": "mark" } }, 0x0c00_0000u32 ] },
                                 "right": 0x0400_0000u32 } },
                    { "match": { "op": "==", "left": { "meta": { "key": "l4proto" } },
                                 "right": { "set": ["tcp", "udp"] } } },
                    { "flow": { "op": "add", "flowtable": "@offload" } }
                ]
            } } })
        );
        // Software offload: no flags.
        let soft = detect(&fw4_listing(false, json!("eth0")));
        let objects = table_objects("lg", soft.flowtable.as_ref().unwrap());
        assert!(objects[0]["add"]["flowtable"].get("flags").is_none());
        assert_eq!(objects[0]["add"]["flowtable"]["table"], "lg");
    }

    #[test]
    fn fw4_rules_are_deleted_by_handle_and_restored_first_in_order() {
        let mut found = detect(&fw4_listing(false, json!("eth0")));
        let mut second = found.rules[0].clone();
        second.handle = 40;
        second.comment = None;
        second.chain = "forward_lan".into();
        found.rules.push(second);
        assert_eq!(
            delete_fw4_rules(&found.rules),
            json!({ "nftables": [
                { "delete": { "rule": { "family": "inet", "table": "fw4", "chain": "forward",
                                        "handle": 17 } } },
                { "delete": { "rule": { "family": "inet", "table": "fw4",
                                        "chain": "forward_lan", "handle": 40 } } }
            ] })
        );
        let restore = restore_fw4_rules(&found.rules);
        let cmds = restore["nftables"].as_array().unwrap();
        assert_eq!(cmds.len(), 2);
        // Inserted last first, so they end up first in the chain in their original order.
        assert_eq!(cmds[0]["insert"]["rule"]["chain"], "forward_lan");
        assert_eq!(cmds[1]["insert"]["rule"]["chain"], "forward");
        assert_eq!(
            cmds[1]["insert"]["rule"]["comment"],
            "!fw4: Traffic offloading"
        );
        assert_eq!(cmds[1]["insert"]["rule"]["expr"], found.rules[0].expr);
        assert!(cmds[1]["insert"]["rule"].get("handle").is_none());
    }

    #[test]
    fn states_say_when_flows_skip_the_queue() {
        let found = detect(&fw4_listing(true, json!(["lan1", "wan"])));
        let ours = found.flowtable.clone().unwrap();
        let taken = state(&found, Some(&ours), None);
        assert!(!taken.degraded());
        assert_eq!(
            taken.describe(),
            "fw4 hardware flow offloading taken over: flows are offloaded once decided clean \
             (flowtable offload on lan1 wan)"
        );
        let failed = state(&found, None, Some("nft: Operation not supported".into()));
        assert!(failed.degraded());
        assert!(failed
            .describe()
            .contains("may be inspected less than detect.budget"));
        assert!(failed.describe().contains("Operation not supported"));
        assert_eq!(OffloadState::Off.describe(), "off");
    }
}
