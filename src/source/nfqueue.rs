//! The inline source: a packet the kernel queued (NFQUEUE) goes through the [`Pipeline`] and
//! its [`Decision`] goes back as the queue verdict and mark.
//!
//! This is the most safety-critical mapping in the project, so it is small and pure apart from
//! the pipeline call: [`hardware_address`] (what the kernel says sent it), [`queue_verdict`]
//! (decision → NF_ACCEPT/NF_DROP + NFQA_MARK) and [`judge`] (both, with the clock), each with
//! unit tests. The daemon loop owns the socket and the counters.

use crate::decision::{Decision, Mark};
use crate::finding::{Finding, Timestamp};
use crate::firewall::verdict_mark;
use crate::netlink::{self, QueuedPacket};
use crate::pipeline::Pipeline;

/// The sender's MAC, when the kernel gave a 6-byte link-layer address.
pub fn hardware_address(hwaddr: Option<&[u8]>) -> Option<[u8; 6]> {
    hwaddr
        .and_then(|a| a.get(..6))
        .and_then(|a| <[u8; 6]>::try_from(a).ok())
}

/// The verdict sent for a packet with mark `packet_mark` decided `decision`: DROP for a packet
/// dropped alone, else ACCEPT; a decided flow's mark is carried in NFQA_MARK (with every bit we
/// do not own kept), an undecided flow's mark is left as it is.
pub fn queue_verdict(decision: &Decision, packet_mark: u32) -> netlink::Decision {
    let verdict = if decision.drop {
        netlink::Verdict::Drop
    } else {
        netlink::Verdict::Accept
    };
    let mark = match decision.mark {
        Mark::Undecided => None,
        mark => Some(verdict_mark(packet_mark, mark)),
    };
    netlink::Decision { verdict, mark }
}

/// Judges one queued packet now: the pipeline's decision (fail-open for what does not decode)
/// and the findings it carried, handed to `found` with that decision.
pub fn judge(
    pipeline: &mut Pipeline,
    time: Timestamp,
    pkt: &QueuedPacket<'_>,
    found: &mut dyn FnMut(&Finding, &Decision),
) -> Decision {
    let mac = hardware_address(pkt.hwaddr);
    match pipeline.judge_ip(time, mac, pkt.payload) {
        Ok(judged) => {
            for f in judged.findings {
                found(f, &judged.decision);
            }
            judged.decision
        }
        Err(_) => Decision::UNDECODABLE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Mode, Scope};
    use crate::decision::{decide, Action, Policy, Verdict};
    use crate::firewall::{MARK_BLOCK, MARK_CLEAN};

    fn decision(mode: Mode, verdict: Verdict) -> Decision {
        let policy = Policy {
            mode,
            scope: Scope::DeviceDestination,
            block_timeout: 60,
        };
        decide(&policy, verdict, None)
    }

    /// Every (mode, verdict) the pipeline gives, as the kernel is told it.
    #[test]
    fn verdicts_and_marks() {
        use netlink::Verdict::{Accept, Drop};
        let foreign = 0x0000_3f01;
        let cases = [
            (Mode::Enforce, Verdict::Pass, Accept, None),
            (
                Mode::Enforce,
                Verdict::Clean,
                Accept,
                Some(MARK_CLEAN | foreign),
            ),
            (
                Mode::Enforce,
                Verdict::Ignore,
                Accept,
                Some(MARK_CLEAN | foreign),
            ),
            (
                Mode::Enforce,
                Verdict::Leak,
                Accept,
                Some(MARK_BLOCK | foreign),
            ),
            (Mode::Enforce, Verdict::LeakOnce, Drop, None),
            (Mode::Monitor, Verdict::Pass, Accept, None),
            (
                Mode::Monitor,
                Verdict::Clean,
                Accept,
                Some(MARK_CLEAN | foreign),
            ),
            (
                Mode::Monitor,
                Verdict::Ignore,
                Accept,
                Some(MARK_CLEAN | foreign),
            ),
            (Mode::Monitor, Verdict::Leak, Accept, None),
            (Mode::Monitor, Verdict::LeakOnce, Accept, None),
        ];
        for (mode, v, verdict, mark) in cases {
            let got = queue_verdict(&decision(mode, v), foreign);
            assert_eq!(got, netlink::Decision { verdict, mark }, "{mode:?} {v:?}");
        }
        // Undecodable: accepted, mark untouched.
        assert_eq!(
            queue_verdict(&Decision::UNDECODABLE, foreign),
            netlink::Decision::ACCEPT
        );
    }

    #[test]
    fn hardware_addresses() {
        assert_eq!(hardware_address(None), None);
        assert_eq!(hardware_address(Some(&[1, 2, 3])), None);
        let eight = [0xa4, 0x50, 0x46, 0x12, 0x34, 0x56, 0, 0];
        assert_eq!(
            hardware_address(Some(&eight)),
            Some([0xa4, 0x50, 0x46, 0x12, 0x34, 0x56])
        );
    }

    fn queued(payload: &[u8]) -> QueuedPacket<'_> {
        QueuedPacket {
            queue: 0,
            family: 2,
            id: 1,
            hw_protocol: 0x0800,
            hook: 2,
            payload,
            hwaddr: Some(&[0xa4, 0x50, 0x46, 0x12, 0x34, 0x56, 0, 0]),
            mark: None,
            indev: None,
            outdev: None,
            cap_len: None,
            skb_info: 0,
        }
    }

    /// IPv4 + UDP from 192.168.1.23:4000 to 203.0.113.9:9999, no checksums.
    fn udp4(payload: &[u8]) -> Vec<u8> {
        let total = (28 + payload.len()) as u16;
        let mut p = vec![0x45, 0];
        p.extend_from_slice(&total.to_be_bytes());
        p.extend_from_slice(&[0, 0, 0x40, 0, 64, 17, 0, 0, 192, 168, 1, 23, 203, 0, 113, 9]);
        p.extend_from_slice(&[0x0f, 0xa0, 0x27, 0x0f]);
        p.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
        p.extend_from_slice(&[0, 0]);
        p.extend_from_slice(payload);
        p
    }

    /// A leaking packet through the pipeline: dropped by the BLOCK mark with a block ordered, its
    /// finding handed over with that decision and the sender's MAC; garbage passes.
    #[test]
    fn a_queued_leak_is_decided_once() {
        let mut config = Config::default();
        config.network.leases = None;
        let mut p = Pipeline::new(config);
        let t = Timestamp::default();
        let leak = udp4(b"imei=490154203237518");
        let mut seen = Vec::new();
        let d = judge(&mut p, t, &queued(&leak), &mut |f, d| {
            seen.push((f.device_mac, *d))
        });
        assert_eq!(d.verdict, Verdict::Leak);
        assert_eq!(d.action, Some(Action::Blocked));
        assert!(d.block.is_some());
        assert_eq!(seen, [(Some([0xa4, 0x50, 0x46, 0x12, 0x34, 0x56]), d)]);
        assert_eq!(queue_verdict(&d, 0).mark, Some(MARK_BLOCK));
        let junk = judge(&mut p, t, &queued(&[0x45, 1, 2]), &mut |_, _| panic!());
        assert_eq!(queue_verdict(&junk, 0), netlink::Decision::ACCEPT);
    }
}
