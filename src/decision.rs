//! What happens to a packet: decided here, once, for both sources.
//!
//! The pipeline inspects a packet and says what it found ([`Inspection`]); this module turns
//! that, the mode and the block policy into the packet's whole [`Decision`]: its [`Verdict`],
//! what the kernel is told (drop or accept, the flow mark), what the packet's findings are
//! reported as ([`Action`]), and the block to install with its scope ([`BlockOrder`]). Pure:
//! no I/O, no clock, so every (mode, kind of flow, finding) case is a unit test below.
//!
//! The rules, in one place:
//! * a DNS query is judged alone: a leak drops that query only (`LeakOnce`), never blocks — the
//!   device would lose its resolver;
//! * a stream (TCP, other UDP) that leaks is `Leak`; in `enforce` it stays condemned (later
//!   packets already queued are dropped too) and gets a block for `firewall.scope`, narrowed to
//!   the flow when the destination is a resolver (port 53) or a LAN address;
//! * a flow whose budget is spent with nothing found is `Clean`, and so is what is not ours to
//!   judge (`Ignore`): the kernel stops queueing it;
//! * `monitor` reports, never drops, never blocks;
//! * in doubt (a packet that does not decode) the packet passes, the flow undecided.

use crate::block::BlockId;
use crate::config::{Config, Mode, Scope};
use crate::flow::FlowKey;
use crate::packet::Proto;

/// What the packet just handled is, as far as policy goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Let it pass; later packets of the flow still need inspecting.
    Pass,
    /// Let it pass; the flow's budget is spent with nothing found, so the kernel can stop
    /// queueing it.
    Clean,
    /// It carries a leak (or belongs to a flow that leaked, in `enforce` mode): drop it and block
    /// the flow.
    Leak,
    /// It carries a leak, and only this packet is to be dropped: a DNS query, judged alone
    /// (blocking its flow would cut the device off its resolver).
    LeakOnce,
    /// Not ours to judge (not IP, not TCP/UDP, not LAN→outside): let it pass, and its flow
    /// need not be queued again.
    Ignore,
}

/// How the pipeline judges a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowKind {
    /// TCP, or UDP other than DNS queries: through the flow table, up to the budget.
    Stream,
    /// A DNS query over UDP: each one judged alone, outside the flow table.
    DnsQuery,
}

/// What inspecting one packet found out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inspection {
    pub kind: FlowKind,
    /// This packet carries a leak (found now, or a repeat of one already reported).
    pub leaked_now: bool,
    /// The flow has leaked, in this packet or an earlier one.
    pub flow_leaked: bool,
    /// The flow's inspection budget is spent.
    pub budget_spent: bool,
}

/// The verdict for an inspected packet.
pub fn verdict(mode: Mode, i: &Inspection) -> Verdict {
    match i.kind {
        FlowKind::DnsQuery if i.leaked_now => Verdict::LeakOnce,
        FlowKind::DnsQuery => Verdict::Pass,
        // In `enforce` mode a flow that leaked stays condemned (its packets queued before the
        // kernel marked it are dropped too); in `monitor` mode it goes on to its budget and is
        // then handed back to the kernel like any other.
        FlowKind::Stream if i.leaked_now || (mode == Mode::Enforce && i.flow_leaked) => {
            Verdict::Leak
        }
        FlowKind::Stream if i.budget_spent => Verdict::Clean,
        FlowKind::Stream => Verdict::Pass,
    }
}

/// The flow decision the verdict's packet mark carries to the table (see
/// [`crate::firewall::verdict_mark`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// Still inspecting: queue the next packet too.
    Undecided,
    /// Decided clean: never queue the flow again.
    Clean,
    /// Decided blocked: the table drops (TCP: resets) the flow.
    Block,
}

/// What is done about a packet's findings, as alerts and reports say it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// The packet was dropped and a block installed.
    Blocked,
    /// The packet was dropped, no block installed.
    Dropped,
    /// Monitor mode (or an offline scan): only reported.
    Reported,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Blocked => "blocked",
            Action::Dropped => "dropped",
            Action::Reported => "reported",
        }
    }
}

impl core::fmt::Display for Action {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// A block to install: which one, for how long (0: until removed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockOrder {
    pub id: BlockId,
    pub timeout_secs: u32,
}

/// The whole decision for one packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub verdict: Verdict,
    /// Drop this packet itself (NF_DROP) instead of accepting it.
    pub drop: bool,
    /// The flow decision the accepted packet's mark carries.
    pub mark: Mark,
    /// What the packet's findings are reported as; `None` when it carries none.
    pub action: Option<Action>,
    /// The block to install (enforce, a leaking stream).
    pub block: Option<BlockOrder>,
}

impl Decision {
    /// A packet that did not decode: not ours to judge, and fail-open is the rule in doubt.
    pub const UNDECODABLE: Decision = Decision {
        verdict: Verdict::Pass,
        drop: false,
        mark: Mark::Undecided,
        action: None,
        block: None,
    };

    /// Whether the packet does not get through (dropped here, or by the table's block chain).
    pub fn stops_packet(&self) -> bool {
        self.drop || self.mark == Mark::Block
    }
}

/// The part of the configuration decisions depend on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    pub mode: Mode,
    /// `firewall.scope`: what a leak blocks.
    pub scope: Scope,
    /// `firewall.block_timeout`, seconds (0: until removed).
    pub block_timeout: u32,
}

impl Policy {
    pub fn of(config: &Config) -> Policy {
        Policy {
            mode: config.mode,
            scope: config.firewall.scope,
            block_timeout: config.firewall.block_timeout,
        }
    }
}

/// The packet's flow, for the block a leak installs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target<'a> {
    pub flow: &'a FlowKey,
    /// The destination is a LAN address (or stays on the link).
    pub dst_lan: bool,
}

/// The block scope for a leaking flow: `firewall.scope`, except towards a resolver or another
/// LAN address, where only the flow is blocked (or the device would lose its DNS, or the
/// router, for the block's lifetime).
pub fn block_scope(policy: &Policy, target: &Target<'_>) -> Scope {
    if target.flow.dport == 53 || target.dst_lan {
        Scope::Flow
    } else {
        policy.scope
    }
}

/// The whole decision for a packet judged `verdict`; `target` is its flow (`None` when the
/// packet has none to speak of: not IP, not TCP/UDP).
pub fn decide(policy: &Policy, verdict: Verdict, target: Option<Target<'_>>) -> Decision {
    let enforce = policy.mode == Mode::Enforce;
    let mut d = Decision {
        verdict,
        drop: false,
        mark: Mark::Undecided,
        action: None,
        block: None,
    };
    match verdict {
        Verdict::Pass => {}
        Verdict::Clean | Verdict::Ignore => d.mark = Mark::Clean,
        Verdict::Leak | Verdict::LeakOnce if !enforce => d.action = Some(Action::Reported),
        // A DNS query: this packet only; the query flow stays undecided.
        Verdict::LeakOnce => {
            d.drop = true;
            d.action = Some(Action::Dropped);
        }
        Verdict::Leak => {
            d.mark = Mark::Block;
            d.action = Some(Action::Dropped);
            d.block = target.and_then(|t| {
                let f = t.flow;
                let proto = match f.proto {
                    Proto::Tcp => 6,
                    Proto::Udp => 17,
                };
                let id = BlockId::new(
                    block_scope(policy, &t),
                    f.src,
                    f.dst,
                    proto,
                    f.sport,
                    f.dport,
                );
                id.ok().map(|id| BlockOrder {
                    id,
                    timeout_secs: policy.block_timeout,
                })
            });
            if d.block.is_some() {
                d.action = Some(Action::Blocked);
            }
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    fn flow(proto: Proto, dst: &str, dport: u16) -> FlowKey {
        FlowKey {
            proto,
            src: "192.168.1.23".parse().expect("ip"),
            sport: 40_000,
            dst: dst.parse().expect("ip"),
            dport,
        }
    }

    fn policy(mode: Mode, scope: Scope) -> Policy {
        Policy {
            mode,
            scope,
            block_timeout: 3600,
        }
    }

    fn inspection(kind: FlowKind, now: bool, before: bool, spent: bool) -> Inspection {
        Inspection {
            kind,
            leaked_now: now,
            flow_leaked: before,
            budget_spent: spent,
        }
    }

    /// Every (mode, kind of flow, finding now, leaked before, budget spent) case.
    #[test]
    fn verdicts_for_every_case() {
        use FlowKind::*;
        use Verdict::*;
        for mode in [Mode::Enforce, Mode::Monitor] {
            for spent in [false, true] {
                for before in [false, true] {
                    // A DNS query is judged alone: its flow's past and budget do not matter.
                    let q = |now| verdict(mode, &inspection(DnsQuery, now, before, spent));
                    assert_eq!((q(true), q(false)), (LeakOnce, Pass));
                    let s = |now| verdict(mode, &inspection(Stream, now, before, spent));
                    assert_eq!(s(true), Leak, "{mode:?}");
                    let quiet = match (mode, before, spent) {
                        (Mode::Enforce, true, _) => Leak,
                        (_, _, true) => Clean,
                        _ => Pass,
                    };
                    assert_eq!(s(false), quiet, "{mode:?} before={before} spent={spent}");
                }
            }
        }
    }

    /// What the kernel is told and what the findings are reported as, per mode and verdict.
    #[test]
    fn decisions_for_every_verdict() {
        use Verdict::*;
        let f = flow(Proto::Tcp, "203.0.113.7", 443);
        let t = Some(Target {
            flow: &f,
            dst_lan: false,
        });
        for mode in [Mode::Enforce, Mode::Monitor] {
            let p = policy(mode, Scope::DeviceDestination);
            for v in [Pass, Clean, Ignore] {
                let d = decide(&p, v, t);
                assert!(!d.drop && d.action.is_none() && d.block.is_none(), "{v:?}");
                let mark = if v == Pass {
                    Mark::Undecided
                } else {
                    Mark::Clean
                };
                assert_eq!(d.mark, mark);
                assert!(!d.stops_packet());
            }
            for v in [Leak, LeakOnce] {
                let d = decide(&p, v, t);
                if mode == Mode::Monitor {
                    assert_eq!((d.drop, d.mark, d.block), (false, Mark::Undecided, None));
                    assert_eq!(d.action, Some(Action::Reported));
                    assert!(!d.stops_packet());
                }
            }
            if mode == Mode::Enforce {
                let once = decide(&p, LeakOnce, t);
                assert_eq!(
                    (once.drop, once.mark, once.block),
                    (true, Mark::Undecided, None)
                );
                assert_eq!(once.action, Some(Action::Dropped));
                let leak = decide(&p, Leak, t);
                assert!(!leak.drop && leak.mark == Mark::Block && leak.stops_packet());
                assert_eq!(leak.action, Some(Action::Blocked));
                let order = leak.block.expect("a block");
                assert_eq!(order.timeout_secs, 3600);
                assert_eq!(order.id.scope, Scope::DeviceDestination);
                assert_eq!(order.id.src, Some(f.src));
                assert_eq!((order.id.dst, order.id.dport), (f.dst, 0));
                // No flow to block: dropped, not blocked.
                let none = decide(&p, Leak, None);
                assert_eq!((none.block, none.action), (None, Some(Action::Dropped)));
            }
        }
        assert_eq!(Decision::UNDECODABLE.mark, Mark::Undecided);
        assert!(!Decision::UNDECODABLE.stops_packet());
    }

    /// The configured scope, narrowed to the flow towards a resolver or a LAN address.
    #[test]
    fn block_scopes() {
        for scope in [Scope::Flow, Scope::DeviceDestination, Scope::Destination] {
            let p = policy(Mode::Enforce, scope);
            let cases: [(FlowKey, bool, Scope); 4] = [
                (flow(Proto::Tcp, "203.0.113.7", 80), false, scope),
                (flow(Proto::Udp, "203.0.113.7", 9999), false, scope),
                // DNS over TCP to an outside resolver, and to the router.
                (flow(Proto::Tcp, "8.8.8.8", 53), false, Scope::Flow),
                (flow(Proto::Tcp, "192.168.1.1", 853), true, Scope::Flow),
            ];
            for (f, dst_lan, want) in cases {
                let d = decide(&p, Verdict::Leak, Some(Target { flow: &f, dst_lan }));
                let id = d.block.expect("block").id;
                assert_eq!(id.scope, want, "{f:?}");
                let expect = BlockId::new(
                    want,
                    f.src,
                    f.dst,
                    if f.proto == Proto::Tcp { 6 } else { 17 },
                    f.sport,
                    f.dport,
                )
                .expect("id");
                assert_eq!(id, expect);
            }
        }
        // Mixed families cannot be blocked: dropped only.
        let f = FlowKey {
            dst: IpAddr::V6("2001:db8::1".parse().expect("ip")),
            ..flow(Proto::Tcp, "203.0.113.7", 80)
        };
        let p = policy(Mode::Enforce, Scope::Flow);
        let d = decide(
            &p,
            Verdict::Leak,
            Some(Target {
                flow: &f,
                dst_lan: false,
            }),
        );
        assert_eq!((d.block, d.action), (None, Some(Action::Dropped)));
    }
}
