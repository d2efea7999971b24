//! The pure half of the firewall: configuration in, nft JSON out. Nothing here runs a process,
//! so the unit tests below check the exact JSON without root.

use std::borrow::Cow;
use std::collections::HashSet;

use nftables::expr::{BinaryOperation, Expression, Meta, MetaKey, NamedExpression, Payload};
use nftables::expr::{PayloadField, SetItem, CT};
use nftables::schema::{
    Chain, NfCmd, NfListObject, NfObject, Nftables, Rule, Set, SetFlag, SetType, SetTypeValue,
    Table,
};
use nftables::stmt::{JumpTarget, Log, Mangle, Match, Operator, Queue, QueueFlag, Reject};
use nftables::stmt::{RejectType, Statement};
use nftables::types::{NfChainPolicy, NfChainType, NfFamily, NfHook};

use super::{Backend, Settings};
use super::{DECISION_MASK, MARK_BLOCK, MARK_CLEAN, MARK_QUEUE};

/// Chain names inside our table.
pub const CHAIN_FORWARD: &str = "forward";
pub const CHAIN_INPUT: &str = "input";
pub const CHAIN_FORWARD_POST: &str = "forward_post";
pub const CHAIN_INPUT_POST: &str = "input_post";
pub const CHAIN_OUTPUT: &str = "output";
/// Regular chain the early and post chains jump to for a blocked packet.
pub const CHAIN_BLOCK: &str = "block";

/// Set names: flows (5-tuple), device·destination pairs, destinations; per address family.
pub const SET_FLOW4: &str = "block_flow4";
pub const SET_FLOW6: &str = "block_flow6";
pub const SET_DD4: &str = "block_dd4";
pub const SET_DD6: &str = "block_dd6";
pub const SET_D4: &str = "block_d4";
pub const SET_D6: &str = "block_d6";

/// Every block set, in the order `list_blocks` reports them.
pub const BLOCK_SETS: [&str; 6] = [SET_FLOW4, SET_FLOW6, SET_DD4, SET_DD6, SET_D4, SET_D6];

/// The RST bit of the TCP flags byte.
const TCP_RST: u32 = 0x04;
/// The TCP SYN flag.
const TCP_SYN: u32 = 0x02;

/// IPv4 total length and TCP data offset (in 32-bit words) of the TCP segments without payload
/// seen in practice: bare header, header with timestamps, SYN with the usual options. nft cannot
/// compare `ip length` with `tcp doff * 4` (no arithmetic between fields, and a concatenation
/// with the 4-bit `tcp doff` crashes nft 1.0.6), so each pair is its own exact rule: a segment
/// with the same length and a shorter header carries payload and is still queued.
const EMPTY_TCP: [(u32, u32); 3] = [(5, 20), (8, 32), (10, 40)];

/// The `inet` table with its sets, chains and rules, as one list of `add` commands.
pub fn ruleset(settings: &Settings, backend: Backend) -> Nftables<'static> {
    let mut objects = Vec::new();
    objects.extend(table_objects(settings, backend));
    Nftables {
        objects: objects.into(),
    }
}

/// The commands of [`ruleset`] without the document wrapper, for batches that also delete the
/// old table or add elements in the same transaction.
pub fn table_objects(settings: &Settings, backend: Backend) -> Vec<NfObject<'static>> {
    let table = settings.table.as_str();
    let mut out = vec![add(NfListObject::Table(Table {
        family: NfFamily::INet,
        name: table.to_string().into(),
        handle: None,
    }))];
    for (name, ty) in [
        (
            SET_FLOW4,
            SetTypeValue::Concatenated(Cow::Owned(vec![
                SetType::Ipv4Addr,
                SetType::InetProto,
                SetType::Ipv4Addr,
                SetType::InetService,
                SetType::InetService,
            ])),
        ),
        (
            SET_FLOW6,
            SetTypeValue::Concatenated(Cow::Owned(vec![
                SetType::Ipv6Addr,
                SetType::InetProto,
                SetType::Ipv6Addr,
                SetType::InetService,
                SetType::InetService,
            ])),
        ),
        (
            SET_DD4,
            SetTypeValue::Concatenated(Cow::Owned(vec![SetType::Ipv4Addr, SetType::Ipv4Addr])),
        ),
        (
            SET_DD6,
            SetTypeValue::Concatenated(Cow::Owned(vec![SetType::Ipv6Addr, SetType::Ipv6Addr])),
        ),
        (SET_D4, SetTypeValue::Single(SetType::Ipv4Addr)),
        (SET_D6, SetTypeValue::Single(SetType::Ipv6Addr)),
    ] {
        out.push(add(NfListObject::Set(Box::new(Set {
            family: NfFamily::INet,
            table: table.to_string().into(),
            name: name.into(),
            handle: None,
            set_type: ty,
            policy: None,
            flags: Some(HashSet::from([SetFlag::Timeout])),
            elem: None,
            timeout: None,
            gc_interval: None,
            size: None,
            comment: None,
        }))));
    }

    let early = settings.priority;
    let post = post_priority(early);
    for (name, hook, prio) in [
        (CHAIN_FORWARD, Some(NfHook::Forward), early),
        (CHAIN_INPUT, Some(NfHook::Input), early),
        (CHAIN_OUTPUT, Some(NfHook::Output), early),
        (CHAIN_FORWARD_POST, Some(NfHook::Forward), post),
        (CHAIN_INPUT_POST, Some(NfHook::Input), post),
        (CHAIN_BLOCK, None, 0),
    ] {
        out.push(add(NfListObject::Chain(Chain {
            family: NfFamily::INet,
            table: table.to_string().into(),
            name: name.into(),
            newname: None,
            handle: None,
            _type: hook.map(|_| NfChainType::Filter),
            hook,
            prio: hook.map(|_| prio),
            dev: None,
            policy: hook.map(|_| NfChainPolicy::Accept),
        })));
    }

    let rule = |chain: &'static str, expr: Vec<Statement<'static>>| {
        add(NfListObject::Rule(Rule {
            family: NfFamily::INet,
            table: table.to_string().into(),
            chain: chain.into(),
            expr: expr.into(),
            handle: None,
            index: None,
            comment: None,
        }))
    };

    // block: the one place that decides how a blocked packet dies. TCP resets pass: they carry
    // nothing, they let both ends tear the flow down, and the resets we send ourselves carry the
    // blocked flow's conntrack entry (a local client would never see them otherwise).
    out.push(rule(
        CHAIN_BLOCK,
        vec![
            is(
                and(payload("tcp", "flags"), TCP_RST),
                Expression::Number(TCP_RST),
            ),
            Statement::Accept(None),
        ],
    ));
    if settings.tcp_reset {
        out.push(rule(
            CHAIN_BLOCK,
            vec![
                is(meta(MetaKey::L4proto), Expression::String("tcp".into())),
                Statement::Reject(Some(Reject::new(Some(RejectType::TCPReset), None))),
            ],
        ));
    }
    out.push(rule(CHAIN_BLOCK, vec![Statement::Drop(None)]));

    let lan = settings.lan_interfaces.as_slice();
    // forward: learn DNS answers from outside resolvers, then blocks, then queue.
    if !lan.is_empty() {
        out.push(rule(
            CHAIN_FORWARD,
            dns_answer_log(lan, settings.nflog_group),
        ));
    }
    for expr in block_checks(lan) {
        out.push(rule(CHAIN_FORWARD, expr));
    }
    for expr in queue_rules(lan, backend, settings.queue, None) {
        out.push(rule(CHAIN_FORWARD, expr));
    }
    // input: the same blocks; only DNS queries to the router are queued.
    for expr in block_checks(lan) {
        out.push(rule(CHAIN_INPUT, expr));
    }
    for expr in queue_rules(lan, backend, settings.queue, Some(53)) {
        out.push(rule(CHAIN_INPUT, expr));
    }
    // output: DNS answers of the router's own resolver to LAN devices.
    if !lan.is_empty() {
        out.push(rule(
            CHAIN_OUTPUT,
            dns_answer_log(lan, settings.nflog_group),
        ));
    }
    // post chains: the verdict's meta mark becomes the flow's ct mark.
    for chain in [CHAIN_FORWARD_POST, CHAIN_INPUT_POST] {
        for expr in mark_copy_rules() {
            out.push(rule(chain, expr));
        }
    }
    out
}

/// Priority of the post chains: after fw4's and iptables-nft's filter chains (0), whatever the
/// early priority is.
pub fn post_priority(early: i32) -> i32 {
    early.saturating_add(15).max(10)
}

/// `udp sport 53 oifname { lan } log group G`.
fn dns_answer_log(lan: &[String], group: u16) -> Vec<Statement<'static>> {
    vec![
        is(payload("udp", "sport"), Expression::Number(53)),
        is(meta(MetaKey::Oifname), ifname_set(lan)),
        Statement::Log(Some(Log::new(Some(u32::from(group))))),
    ]
}

/// The rules every packet meets first, cheapest first: a flow whose ct mark says BLOCK (both
/// directions) goes to the `block` chain; a flow decided clean — nearly all packets, once
/// flows pass their budget — leaves at the second rule; packets not from a LAN interface leave
/// at the third (one interface test, not one per set). Then LAN packets of undecided flows
/// that match a block set go to `block`. A flow already decided clean keeps flowing when a
/// block for its destination is added later: blocks stop new flows.
fn block_checks(lan: &[String]) -> Vec<Vec<Statement<'static>>> {
    let mut rules = vec![
        vec![
            is(
                and(ct_mark(), DECISION_MASK),
                Expression::Number(MARK_BLOCK),
            ),
            jump(CHAIN_BLOCK),
        ],
        vec![
            is(
                and(ct_mark(), DECISION_MASK),
                Expression::Number(MARK_CLEAN),
            ),
            Statement::Accept(None),
        ],
    ];
    if !lan.is_empty() {
        rules.push(vec![
            Statement::Match(Match {
                left: meta(MetaKey::Iifname),
                right: ifname_set(lan),
                op: Operator::NEQ,
            }),
            Statement::Accept(None),
        ]);
    }
    for (ip, set_flow, set_dd, set_d) in [
        ("ip", SET_FLOW4, SET_DD4, SET_D4),
        ("ip6", SET_FLOW6, SET_DD6, SET_D6),
    ] {
        let keys: [(Expression<'static>, &str); 3] = [
            (
                concat(vec![
                    payload(ip, "saddr"),
                    meta(MetaKey::L4proto),
                    payload(ip, "daddr"),
                    payload("th", "sport"),
                    payload("th", "dport"),
                ]),
                set_flow,
            ),
            (
                concat(vec![payload(ip, "saddr"), payload(ip, "daddr")]),
                set_dd,
            ),
            (payload(ip, "daddr"), set_d),
        ];
        for (key, set) in keys {
            rules.push(vec![
                is(key, Expression::String(format!("@{set}").into())),
                jump(CHAIN_BLOCK),
            ]);
        }
    }
    rules
}

/// Decided flows leave, packets from elsewhere leave, empty TCP segments leave; the rest (TCP
/// and UDP from a LAN interface, to `dport` if given) is queued.
fn queue_rules(
    lan: &[String],
    backend: Backend,
    queue: u16,
    dport: Option<u16>,
) -> Vec<Vec<Statement<'static>>> {
    if lan.is_empty() {
        return Vec::new();
    }
    // Decided flows and packets from elsewhere have left in `block_checks`.
    let mut rules = Vec::new();
    // Empty segments stay in the kernel — except SYNs: one per connection, and the SYN tells the
    // flow table where the stream starts (so segments reordered at the start, and a 4-tuple
    // reused by a new connection, are placed right).
    let not_syn = || is(and(payload("tcp", "flags"), TCP_SYN), Expression::Number(0));
    for (doff, tcp_len) in EMPTY_TCP {
        rules.push(vec![
            is(payload("ip", "hdrlength"), Expression::Number(5)),
            is(payload("ip", "length"), Expression::Number(20 + tcp_len)),
            is(payload("tcp", "doff"), Expression::Number(doff)),
            not_syn(),
            Statement::Accept(None),
        ]);
    }
    for (doff, tcp_len) in EMPTY_TCP {
        rules.push(vec![
            is(payload("ip6", "nexthdr"), Expression::String("tcp".into())),
            is(payload("ip6", "length"), Expression::Number(tcp_len)),
            is(payload("tcp", "doff"), Expression::Number(doff)),
            not_syn(),
            Statement::Accept(None),
        ]);
    }
    let mut expr = vec![is(
        meta(MetaKey::L4proto),
        anon_set(vec![
            Expression::String("tcp".into()),
            Expression::String("udp".into()),
        ]),
    )];
    if let Some(port) = dport {
        expr.push(is(
            payload("th", "dport"),
            Expression::Number(u32::from(port)),
        ));
    }
    expr.push(queue_statement(backend, queue));
    rules.push(expr);
    rules
}

/// Native: `queue num N bypass`. xt: `meta mark set meta mark | QUEUE`, the request that the
/// iptables NFQUEUE rule (priority 0) acts on.
pub fn queue_statement(backend: Backend, queue: u16) -> Statement<'static> {
    match backend {
        Backend::Nft => Statement::Queue(Queue {
            num: Expression::Number(u32::from(queue)),
            flags: Some(HashSet::from([QueueFlag::Bypass])),
        }),
        Backend::Xt => Statement::Mangle(Mangle {
            key: meta(MetaKey::Mark),
            value: or(meta(MetaKey::Mark), MARK_QUEUE),
        }),
    }
}

/// `meta mark & MASK == CLEAN ct mark set ct mark & ~DECISION_MASK | CLEAN` (same for BLOCK, which
/// also blocks the packet that carried the verdict), and the QUEUE request bit is cleared so
/// that nothing after us sees it. nft 1.0.6 cannot OR two registers (`ct mark | meta mark`), so
/// there is one rule per decision: each is a mask-and-xor of one register, which every kernel
/// with nf_tables supports.
fn mark_copy_rules() -> Vec<Vec<Statement<'static>>> {
    let mut rules = Vec::new();
    for decision in [MARK_CLEAN, MARK_BLOCK] {
        rules.push(vec![
            is(
                and(meta(MetaKey::Mark), DECISION_MASK),
                Expression::Number(decision),
            ),
            Statement::Mangle(Mangle {
                key: ct_mark(),
                value: or(and(ct_mark(), !DECISION_MASK), decision),
            }),
        ]);
    }
    rules.push(vec![
        is(
            and(meta(MetaKey::Mark), MARK_QUEUE),
            Expression::Number(MARK_QUEUE),
        ),
        Statement::Mangle(Mangle {
            key: meta(MetaKey::Mark),
            value: and(meta(MetaKey::Mark), !MARK_QUEUE),
        }),
    ]);
    rules.push(vec![
        is(
            and(meta(MetaKey::Mark), DECISION_MASK),
            Expression::Number(MARK_BLOCK),
        ),
        jump(CHAIN_BLOCK),
    ]);
    rules
}

pub fn add(object: NfListObject<'static>) -> NfObject<'static> {
    NfObject::CmdObject(NfCmd::Add(object))
}

fn is(left: Expression<'static>, right: Expression<'static>) -> Statement<'static> {
    Statement::Match(Match {
        left,
        right,
        op: Operator::EQ,
    })
}

fn jump(target: &'static str) -> Statement<'static> {
    Statement::Jump(JumpTarget {
        target: target.into(),
    })
}

fn payload(protocol: &'static str, field: &'static str) -> Expression<'static> {
    Expression::Named(NamedExpression::Payload(Payload::PayloadField(
        PayloadField {
            protocol: protocol.into(),
            field: field.into(),
        },
    )))
}

fn meta(key: MetaKey) -> Expression<'static> {
    Expression::Named(NamedExpression::Meta(Meta { key }))
}

fn ct_mark() -> Expression<'static> {
    Expression::Named(NamedExpression::CT(CT {
        key: "mark".into(),
        family: None,
        dir: None,
    }))
}

fn and(left: Expression<'static>, mask: u32) -> Expression<'static> {
    Expression::BinaryOperation(Box::new(BinaryOperation::AND(
        left,
        Expression::Number(mask),
    )))
}

fn or(left: Expression<'static>, bits: u32) -> Expression<'static> {
    Expression::BinaryOperation(Box::new(BinaryOperation::OR(vec![
        left,
        Expression::Number(bits),
    ])))
}

pub fn concat(items: Vec<Expression<'static>>) -> Expression<'static> {
    Expression::Named(NamedExpression::Concat(items))
}

fn anon_set(items: Vec<Expression<'static>>) -> Expression<'static> {
    Expression::Named(NamedExpression::Set(
        items.into_iter().map(SetItem::Element).collect(),
    ))
}

fn ifname_set(lan: &[String]) -> Expression<'static> {
    anon_set(
        lan.iter()
            .map(|name| Expression::String(name.clone().into()))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::QueueBackend;

    fn settings() -> Settings {
        Settings {
            table: "leakguard".into(),
            queue: 7,
            backend: QueueBackend::Auto,
            priority: -5,
            tcp_reset: true,
            lan_interfaces: vec!["br-lan".into(), "wlan0".into()],
            nflog_group: 9,
            scope: crate::config::Scope::DeviceDestination,
            block_timeout: 600,
        }
    }

    fn json(settings: &Settings, backend: Backend) -> serde_json::Value {
        serde_json::to_value(ruleset(settings, backend)).expect("serialises")
    }

    fn rules_of<'v>(doc: &'v serde_json::Value, chain: &str) -> Vec<&'v serde_json::Value> {
        doc["nftables"]
            .as_array()
            .expect("array")
            .iter()
            .filter_map(|o| o.get("add").and_then(|a| a.get("rule")))
            .filter(|r| r["chain"] == chain)
            .collect()
    }

    #[test]
    fn native_queue_rule_has_number_and_bypass() {
        let doc = json(&settings(), Backend::Nft);
        let forward = rules_of(&doc, CHAIN_FORWARD);
        let last = forward.last().expect("rules");
        let queue = &last["expr"][1]["queue"];
        assert_eq!(queue["num"], 7);
        assert_eq!(queue["flags"], serde_json::json!(["bypass"]));
        assert_eq!(
            last["expr"][0]["match"]["right"],
            serde_json::json!({"set": ["tcp", "udp"]})
        );
        let input = rules_of(&doc, CHAIN_INPUT);
        let last = input.last().expect("rules");
        assert_eq!(last["expr"][1]["match"]["right"], 53);
        assert_eq!(last["expr"][2]["queue"]["num"], 7);
    }

    #[test]
    fn xt_backend_marks_instead_of_queueing() {
        let doc = json(&settings(), Backend::Xt);
        let text = doc.to_string();
        assert!(!text.contains("\"queue\""));
        let forward = rules_of(&doc, CHAIN_FORWARD);
        let last = forward.last().expect("rules");
        assert_eq!(
            last["expr"][1]["mangle"],
            serde_json::json!({"key": {"meta": {"key": "mark"}},
                               "value": {"|": [{"meta": {"key": "mark"}}, MARK_QUEUE]}})
        );
    }

    #[test]
    fn chains_hooks_and_priorities() {
        let doc = json(&settings(), Backend::Nft);
        let chains: Vec<_> = doc["nftables"]
            .as_array()
            .expect("array")
            .iter()
            .filter_map(|o| o["add"].get("chain"))
            .map(|c| (c["name"].clone(), c["hook"].clone(), c["prio"].clone()))
            .collect();
        let want = [
            ("forward", "forward", -5),
            ("input", "input", -5),
            ("output", "output", -5),
            ("forward_post", "forward", 10),
            ("input_post", "input", 10),
        ];
        for (name, hook, prio) in want {
            assert!(
                chains.contains(&(name.into(), hook.into(), prio.into())),
                "{name} in {chains:?}"
            );
        }
        assert!(chains.iter().any(|c| c.0 == "block" && c.1.is_null()));
        assert_eq!(post_priority(-150), 10);
        assert_eq!(post_priority(20), 35);
    }

    #[test]
    fn sets_have_timeouts_and_types() {
        let doc = json(&settings(), Backend::Nft);
        let sets: Vec<_> = doc["nftables"]
            .as_array()
            .expect("array")
            .iter()
            .filter_map(|o| o["add"].get("set"))
            .collect();
        assert_eq!(sets.len(), 6);
        for set in &sets {
            assert_eq!(set["flags"], serde_json::json!(["timeout"]));
            assert_eq!(set["table"], "leakguard");
        }
        let dd4 = sets.iter().find(|s| s["name"] == SET_DD4).expect("dd4");
        assert_eq!(dd4["type"], serde_json::json!(["ipv4_addr", "ipv4_addr"]));
        let f6 = sets.iter().find(|s| s["name"] == SET_FLOW6).expect("flow6");
        assert_eq!(
            f6["type"],
            serde_json::json!([
                "ipv6_addr",
                "inet_proto",
                "ipv6_addr",
                "inet_service",
                "inet_service"
            ])
        );
    }

    #[test]
    fn mark_copy_preserves_other_bits() {
        let doc = json(&settings(), Backend::Nft);
        let post = rules_of(&doc, CHAIN_FORWARD_POST);
        assert_eq!(
            post[0]["expr"][1]["mangle"]["value"],
            serde_json::json!({"|": [{"&": [{"ct": {"key": "mark"}}, !DECISION_MASK]}, MARK_CLEAN]})
        );
        assert_eq!(post[1]["expr"][0]["match"]["right"], MARK_BLOCK);
        assert_eq!(
            post.last().expect("rule")["expr"][1]["jump"]["target"],
            "block"
        );
    }

    #[test]
    fn blocks_reset_tcp_only_when_configured() {
        let doc = json(&settings(), Backend::Nft);
        let block = rules_of(&doc, CHAIN_BLOCK);
        assert_eq!(block.len(), 3);
        assert!(block[0]["expr"][1].get("accept").is_some());
        assert_eq!(block[1]["expr"][1]["reject"]["type"], "tcp reset");
        let mut quiet = settings();
        quiet.tcp_reset = false;
        let doc = json(&quiet, Backend::Nft);
        let block = rules_of(&doc, CHAIN_BLOCK);
        assert_eq!(block.len(), 2);
        assert!(block[1]["expr"][0].get("drop").is_some());
    }

    #[test]
    fn dns_answers_are_logged_to_the_group() {
        let doc = json(&settings(), Backend::Nft);
        for chain in [CHAIN_OUTPUT, CHAIN_FORWARD] {
            let first = rules_of(&doc, chain)[0];
            assert_eq!(first["expr"][0]["match"]["right"], 53);
            assert_eq!(
                first["expr"][1]["match"]["right"],
                serde_json::json!({"set": ["br-lan", "wlan0"]})
            );
            assert_eq!(first["expr"][2]["log"]["group"], 9);
        }
    }

    #[test]
    fn empty_tcp_segments_are_exact_pairs() {
        let doc = json(&settings(), Backend::Nft);
        let forward = rules_of(&doc, CHAIN_FORWARD);
        let v4: Vec<_> = forward
            .iter()
            .filter(|r| r["expr"][0]["match"]["left"]["payload"]["field"] == "hdrlength")
            .map(|r| {
                (
                    r["expr"][1]["match"]["right"].as_u64(),
                    r["expr"][2]["match"]["right"].as_u64(),
                )
            })
            .collect();
        assert_eq!(
            v4,
            [
                (Some(40), Some(5)),
                (Some(52), Some(8)),
                (Some(60), Some(10))
            ]
        );
        // Every empty-segment rule spares SYNs: `tcp flags & syn == 0`.
        let empty: Vec<_> = forward
            .iter()
            .filter(|r| r.to_string().contains("\"doff\""))
            .collect();
        assert_eq!(empty.len(), 6);
        for r in empty {
            let syn = &r["expr"][3]["match"];
            assert_eq!(syn["left"]["&"][0]["payload"]["field"], "flags", "{r}");
            assert_eq!(
                (syn["left"]["&"][1].as_u64(), syn["right"].as_u64()),
                (Some(2), Some(0))
            );
        }
    }

    /// Cheapest first: BLOCK-marked flows to `block`, CLEAN flows out, other interfaces out, and
    /// only then the set lookups.
    #[test]
    fn decided_flows_leave_before_the_set_lookups() {
        let doc = json(&settings(), Backend::Nft);
        let forward = rules_of(&doc, CHAIN_FORWARD);
        let text: Vec<String> = forward.iter().map(|r| r.to_string()).collect();
        let position = |needle: &str| {
            text.iter()
                .position(|r| r.contains(needle))
                .unwrap_or_else(|| panic!("no rule with {needle}: {text:#?}"))
        };
        let block = position(&format!("{MARK_BLOCK}"));
        let clean = position(&format!("{MARK_CLEAN}"));
        let other_ifaces = position("\"!=\"");
        let first_set = position("@block_");
        assert!(
            block < clean && clean < other_ifaces && other_ifaces < first_set,
            "{text:#?}"
        );
    }

    #[test]
    fn no_lan_interfaces_no_queueing() {
        let mut s = settings();
        s.lan_interfaces.clear();
        let doc = json(&s, Backend::Nft);
        assert!(!doc.to_string().contains("\"queue\""));
        // Blocks by ct mark and sets still apply.
        assert!(!rules_of(&doc, CHAIN_FORWARD).is_empty());
    }
}
