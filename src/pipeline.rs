//! The one code path both sources feed: a decoded packet goes through the flow table and the
//! detector, and comes out as findings and a verdict.
//!
//! `leakguard scan` calls [`Pipeline::handle_frame`] for each capture record; `leakguard run`
//! calls [`Pipeline::handle_ip`] for each NFQUEUE packet (the kernel hands over the IP packet and
//! the sender's hardware address separately). Everything after decoding is shared, so what the
//! tests prove on captures holds for the daemon.
//!
//! Direction: only what LAN devices send is inspected — packets from a LAN address to an address
//! outside the LAN prefixes, and DNS queries from LAN devices to any resolver (the queried name
//! leaves the network through the router's resolver too). Replies and inbound traffic are never
//! leaks; DNS answers to LAN devices are read only to learn destination names.
//!
//! Who is a LAN device is decided here, in `Pipeline::lan_ends`: the configured prefixes, and
//! in captures the global IPv6 addresses [`crate::lan`] learned from the devices' MACs.

use std::net::IpAddr;
use std::rc::Rc;

use crate::config::{AllowDevice, AllowDst, Config, Sender};
use crate::decision::{self, Decision, FlowKind, Inspection, Policy, Target};
use crate::detect::{Detector, Scratch};
use crate::finding::{Finding, Hit, Kind, KindSet, Timestamp};
use crate::flow::{FlowFacts, FlowKey, FlowTable, NameTag};
use crate::lan::LanDevices;
use crate::leases::Leases;
use crate::names::NameCache;
use crate::packet::{self, dns, http, tls, Proto, Segment};

pub use crate::decision::Verdict;

/// One packet judged: its whole decision and the findings it carried (each reported as
/// `decision.action`).
#[derive(Debug)]
pub struct Judged<'a> {
    pub decision: Decision,
    pub findings: &'a [Finding],
}

/// Counters for the summary line and `status`. Plain `u64`s: they live in one thread, and 32-bit
/// MIPS has no 64-bit atomics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub packets: u64,
    /// Packets the link or IP decoder refused (malformed, truncated, unsupported link).
    pub undecodable: u64,
    /// Bytes handed to the detector (new stream bytes, not counting the carry).
    pub bytes_inspected: u64,
    /// Flows (and DNS queries) inspected.
    pub flows_inspected: u64,
    /// Flows whose budget was spent with nothing found.
    pub flows_clean: u64,
    pub findings: u64,
    /// Hits not reported because an `[[allow]]` rule allows them.
    pub allowed: u64,
}

/// What the last packet meant for its device's flow counts (the per-device history): which
/// device sent it, whether it began a flow's inspection and whether it carried the flow's first
/// leak. Kept as a value, so the packet path allocates nothing for it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowNote {
    pub src: Option<IpAddr>,
    pub src_mac: Option<[u8; 6]>,
    /// A flow (or a DNS query) began to be inspected.
    pub new_flow: bool,
    /// The flow's first leak (every leaking DNS query is its own).
    pub first_leak: bool,
}

pub struct Pipeline {
    /// Shared read-only with the daemon (one value, swapped whole on reload).
    config: Rc<Config>,
    detector: Detector,
    flows: FlowTable,
    names: NameCache,
    leases: Option<Leases>,
    /// The LAN devices' global IPv6 addresses, learned from captured frames.
    lan: LanDevices,
    scratch: Scratch,
    dns_name: heapless::String<256>,
    /// What was reported for recent DNS queries (see `inspect_dns_query`).
    recent_queries: heapless::Deque<u64, 32>,
    /// The findings of the packet being judged (rare: owning them is fine); reused.
    found: Vec<Finding>,
    stats: Stats,
    note: FlowNote,
}

/// What inspecting a packet came to, before policy: `None` when it was not ours to judge.
type Inspected = Option<(Inspection, FlowKey, bool)>;

impl Pipeline {
    pub fn new(config: impl Into<Rc<Config>>) -> Pipeline {
        let config = config.into();
        let detector = Detector::new(&config);
        Pipeline::with_detector(config, detector)
    }

    /// A pipeline around a detector already built for `config` (or a clone of one: the
    /// automaton is shared). What the fuzz target does to try thousands of inputs a second
    /// under one configuration shape.
    pub fn with_detector(config: impl Into<Rc<Config>>, detector: Detector) -> Pipeline {
        let config = config.into();
        let flows = FlowTable::new(config.detect.max_flows as usize, config.detect.budget);
        let names = NameCache::new(config.detect.max_names as usize);
        let leases = config
            .network
            .leases
            .as_deref()
            .and_then(|p| Leases::load(p).ok());
        Pipeline {
            config,
            detector,
            flows,
            names,
            leases,
            lan: LanDevices::new(),
            scratch: Scratch::new(),
            dns_name: heapless::String::new(),
            recent_queries: heapless::Deque::new(),
            found: Vec::new(),
            stats: Stats::default(),
            note: FlowNote::default(),
        }
    }

    /// Takes a new configuration (SIGHUP) without losing flows, names or learned MACs.
    pub fn reload(&mut self, config: impl Into<Rc<Config>>) {
        let config = config.into();
        let mut detector = Detector::new(&config);
        detector.learn_macs(self.detector.learned());
        self.detector = detector;
        self.flows
            .reconfigure(config.detect.max_flows as usize, config.detect.budget);
        self.leases = config
            .network
            .leases
            .as_deref()
            .and_then(|p| Leases::load(p).ok());
        self.config = config;
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// What the packet just handled meant for its device's flow counts.
    pub fn last_note(&self) -> FlowNote {
        self.note
    }

    /// A device's current name: the lease file (by MAC, then by address), then the config's
    /// device with that MAC.
    pub fn device_name(&self, mac: Option<[u8; 6]>, ip: IpAddr) -> Option<&str> {
        name_of(&self.config, self.leases.as_ref(), mac, ip)
    }

    pub fn flows(&self) -> &FlowTable {
        &self.flows
    }

    pub fn detector(&self) -> &Detector {
        &self.detector
    }

    /// Rereads the lease file when it changed (the daemon calls this now and then).
    pub fn refresh_leases(&mut self) {
        if let (Some(path), Some(leases)) =
            (self.config.network.leases.as_deref(), &mut self.leases)
        {
            let _ = leases.refresh_if_changed(path);
        } else if let Some(path) = self.config.network.leases.as_deref() {
            self.leases = Leases::load(path).ok();
        }
    }

    /// A captured frame with its link type.
    pub fn handle_frame(
        &mut self,
        time: Timestamp,
        link: u32,
        frame: &[u8],
        out: &mut dyn FnMut(&Finding),
    ) -> Result<Verdict, packet::Error> {
        let judged = self.judge_frame(time, link, frame)?;
        judged.findings.iter().for_each(&mut *out);
        Ok(judged.decision.verdict)
    }

    /// [`handle_frame`](Self::handle_frame) with the whole decision and the findings.
    pub fn judge_frame(
        &mut self,
        time: Timestamp,
        link: u32,
        frame: &[u8],
    ) -> Result<Judged<'_>, packet::Error> {
        self.stats.packets += 1;
        self.note = FlowNote::default();
        let frame = match packet::decode_link(link, frame) {
            Ok(f) => f,
            Err(e) => {
                self.stats.undecodable += 1;
                return Err(e);
            }
        };
        match frame.ip {
            Some(ip) => self.judge(time, frame.src_mac, frame.dst_mac, ip, false),
            None => {
                self.found.clear();
                Ok(self.decided(None))
            }
        }
    }

    /// An IP packet (NFQUEUE) with the sender's hardware address when the kernel gave one.
    ///
    /// The kernel queues only what arrived on a LAN interface, so the sender counts as a LAN
    /// device whatever its address: devices also use global IPv6 addresses, outside any
    /// configured prefix.
    pub fn handle_ip(
        &mut self,
        time: Timestamp,
        src_mac: Option<[u8; 6]>,
        ip: &[u8],
        out: &mut dyn FnMut(&Finding),
    ) -> Result<Verdict, packet::Error> {
        let judged = self.judge_ip(time, src_mac, ip)?;
        judged.findings.iter().for_each(&mut *out);
        Ok(judged.decision.verdict)
    }

    /// [`handle_ip`](Self::handle_ip) with the whole decision and the findings: what the
    /// daemon acts on.
    pub fn judge_ip(
        &mut self,
        time: Timestamp,
        src_mac: Option<[u8; 6]>,
        ip: &[u8],
    ) -> Result<Judged<'_>, packet::Error> {
        self.stats.packets += 1;
        self.note = FlowNote::default();
        self.judge(time, src_mac, None, ip, true)
    }

    fn judge(
        &mut self,
        time: Timestamp,
        src_mac: Option<[u8; 6]>,
        dst_mac: Option<[u8; 6]>,
        ip: &[u8],
        from_lan_interface: bool,
    ) -> Result<Judged<'_>, packet::Error> {
        let mut found = core::mem::take(&mut self.found);
        found.clear();
        let inspected =
            self.inspect_ip(time, (src_mac, dst_mac), ip, from_lan_interface, &mut |f| {
                found.push(f)
            });
        self.found = found;
        Ok(self.decided(inspected?))
    }

    /// Policy applied to what inspection found (see [`crate::decision`]).
    fn decided(&self, inspected: Inspected) -> Judged<'_> {
        let policy = Policy::of(&self.config);
        let decision = match &inspected {
            None => decision::decide(&policy, Verdict::Ignore, None),
            Some((inspection, flow, dst_lan)) => decision::decide(
                &policy,
                decision::verdict(policy.mode, inspection),
                Some(Target {
                    flow,
                    dst_lan: *dst_lan,
                }),
            ),
        };
        Judged {
            decision,
            findings: &self.found,
        }
    }

    /// Learns what this captured frame tells about the LAN's devices (see [`crate::lan`]) and
    /// returns the MAC it would teach the detector (a LAN device's own frame; see
    /// `inspect_ip`), without inspecting it: `scan` learns every LAN device of its captures
    /// first, so that the detector's automaton is rebuilt once, not once per device, and so
    /// that a router is known for one before any of its frames is judged.
    pub fn lan_sender(&mut self, link: u32, frame: &[u8]) -> Option<[u8; 6]> {
        if !self.config.detect.learn_macs && !self.config.network.learn_ipv6 {
            return None;
        }
        // Without the sender's MAC a frame teaches neither.
        let frame = packet::decode_link(link, frame).ok()?;
        let mac = frame.src_mac?;
        let header = packet::decode_header(frame.ip?).ok()??;
        let (src_lan, dst_lan) = self.lan_ends((Some(mac), frame.dst_mac), &header, false);
        if !self.config.detect.learn_macs {
            return None;
        }
        let seg = header.segment().ok()??;
        let dns_answer = seg.proto == Proto::Udp && seg.sport == 53 && dst_lan;
        (src_lan && !dns_answer).then_some(mac)
    }

    /// Whether a packet's source and destination are the LAN's: the source inside the LAN
    /// prefixes, or a global IPv6 address learned as its MAC's own; the destination inside the
    /// prefixes, on the link (multicast, link-local), or in a /64 a LAN device sends from. A
    /// captured frame first teaches the LAN table (its MACs and headers); an NFQUEUE packet
    /// (`inline`) came from a LAN interface, so its source is the LAN's whatever its address,
    /// and nothing is learned. The prefixes are looked up once per packet, for both.
    fn lan_ends(
        &mut self,
        macs: MacPair,
        header: &packet::Header<'_>,
        inline: bool,
    ) -> (bool, bool) {
        let dst_in = self.config.is_lan(header.dst);
        if inline {
            return (true, dst_in || stays_on_the_link(header.dst));
        }
        let src_in = self.config.is_lan(header.src);
        let learned = self.config.network.learn_ipv6;
        if let (true, Some(src_mac)) = (learned, macs.0) {
            self.lan.observe(src_mac, macs.1, header, src_in, dst_in);
        }
        let src = src_in || (learned && self.lan.is_device_address(macs.0, header.src));
        let dst = dst_in
            || stays_on_the_link(header.dst)
            || (learned && self.lan.is_lan_prefix(header.dst));
        (src, dst)
    }

    /// The LAN table (what `scan` learned of the devices' IPv6 addresses).
    pub fn lan(&self) -> &LanDevices {
        &self.lan
    }

    /// Learns these LAN devices' MACs at once (one rebuild of the detector's automaton).
    pub fn learn_macs(&mut self, macs: impl IntoIterator<Item = [u8; 6]>) -> usize {
        if !self.config.detect.learn_macs {
            return 0;
        }
        self.detector.learn_macs(macs)
    }

    /// A DNS answer the router's resolver sent to a LAN device (NFLOG): learn the names.
    pub fn observe_dns_answer(&mut self, ip: &[u8]) {
        if let Ok(Some(seg)) = packet::decode_ip(ip) {
            if seg.proto == Proto::Udp && seg.sport == 53 {
                let names = &mut self.names;
                let _ = dns::answers(seg.payload, &mut |name, addr| names.insert(addr, name));
            }
        }
    }

    /// The kernel forgot a flow (conntrack DESTROY): free its entry.
    pub fn forget_flow(&mut self, key: &FlowKey) -> bool {
        self.flows.remove(key)
    }

    /// `from_lan_interface`: an NFQUEUE packet (every sender is a LAN device); otherwise a
    /// captured frame, which also teaches the LAN table.
    fn inspect_ip(
        &mut self,
        time: Timestamp,
        macs: MacPair,
        ip: &[u8],
        from_lan_interface: bool,
        out: &mut dyn FnMut(Finding),
    ) -> Result<Inspected, packet::Error> {
        let src_mac = macs.0;
        let header = match packet::decode_header(ip) {
            Ok(Some(header)) => header,
            Ok(None) => return Ok(None),
            Err(e) => {
                self.stats.undecodable += 1;
                return Err(e);
            }
        };
        let (src_lan, dst_lan) = self.lan_ends(macs, &header, from_lan_interface);
        let seg = match header.segment() {
            Ok(Some(seg)) => seg,
            Ok(None) => return Ok(None),
            Err(e) => {
                self.stats.undecodable += 1;
                return Err(e);
            }
        };

        // DNS answers to LAN devices name the destinations they will talk to.
        if seg.proto == Proto::Udp && seg.sport == 53 && dst_lan {
            let names = &mut self.names;
            let _ = dns::answers(seg.payload, &mut |name, addr| names.insert(addr, name));
            return Ok(None);
        }
        if !src_lan {
            return Ok(None);
        }
        if let Some(mac) = src_mac {
            if self.config.detect.learn_macs {
                self.detector.learn_mac_at(mac, time.sec);
            }
        }
        let is_dns_query = seg.dport == 53;
        if dst_lan && !is_dns_query {
            return Ok(None);
        }
        let inspection = if is_dns_query && seg.proto == Proto::Udp {
            self.inspect_dns_query(time, src_mac, &seg, out)
        } else {
            let own_name = self.learn_destination_name(src_mac, &seg);
            self.inspect_stream(time, src_mac, &seg, own_name, out)
        };
        Ok(Some((inspection, flow_key(&seg), dst_lan)))
    }

    /// A DNS query: the name is what leaves the network, so the decoded name (not the wire
    /// format, where labels are length-prefixed) is what the detector sees.
    ///
    /// Each query is judged alone, outside the flow table: resolvers in small devices send every
    /// query from one source port, and a flow's budget or clean mark would hide the later ones.
    /// Retries of a query must not multiply findings, so a short ring remembers what was
    /// reported for which query flow.
    fn inspect_dns_query(
        &mut self,
        time: Timestamp,
        src_mac: Option<[u8; 6]>,
        seg: &Segment<'_>,
        out: &mut dyn FnMut(Finding),
    ) -> Inspection {
        let mut inspection = Inspection {
            kind: FlowKind::DnsQuery,
            leaked_now: false,
            flow_leaked: false,
            budget_spent: false,
        };
        let mut name = core::mem::take(&mut self.dns_name);
        name.clear();
        if dns::query_name(seg.payload, &mut name).is_err() || name.is_empty() {
            self.dns_name = name;
            return inspection;
        }
        self.stats.flows_inspected += 1;
        self.stats.bytes_inspected += name.len() as u64;
        self.note = FlowNote {
            src: Some(seg.src),
            src_mac,
            new_flow: true,
            first_leak: false,
        };
        let flow = flow_key(seg);
        let Pipeline {
            detector,
            scratch,
            config,
            stats,
            names,
            leases,
            recent_queries,
            ..
        } = self;
        let ctx = Attribution {
            time,
            seg,
            src_mac,
            names,
            leases: leases.as_ref(),
            own_name: None,
        };
        let mut facts = FlowFacts {
            src_mac,
            ..FlowFacts::default()
        };
        let mut leaked = false;
        detector.scan(name.as_bytes(), scratch, &mut |hit| {
            let tag = query_tag(&flow, &hit);
            if recent_queries.iter().any(|t| *t == tag) {
                leaked |= config.kind_enabled(hit.kind);
                return;
            }
            if ctx.report(config, stats, &mut facts, hit, out) {
                leaked = true;
                if recent_queries.is_full() {
                    recent_queries.pop_front();
                }
                let _ = recent_queries.push_back(tag);
            }
        });
        self.dns_name = name;
        self.note.first_leak = leaked;
        inspection.leaked_now = leaked;
        inspection
    }

    fn inspect_stream(
        &mut self,
        time: Timestamp,
        src_mac: Option<[u8; 6]>,
        seg: &Segment<'_>,
        own_name: Option<OwnName<'_>>,
        out: &mut dyn FnMut(Finding),
    ) -> Inspection {
        let key = flow_key(seg);
        let Pipeline {
            detector,
            scratch,
            flows,
            config,
            stats,
            names,
            leases,
            ..
        } = self;
        let ctx = Attribution {
            time,
            seg,
            src_mac,
            names,
            leases: leases.as_ref(),
            own_name: own_name.as_ref().map(|o| o.name),
        };
        let mut leaked_now = false;
        let mut first_leak = false;
        // `complete`: the stream pauses after this window (the end of a write, a datagram, a
        // held segment); false when more bytes follow at once (a write cut at the MSS).
        let mut scan = |facts: &mut FlowFacts, window: &[u8], complete: bool| {
            if facts.src_mac.is_none() {
                facts.src_mac = src_mac;
            }
            if let Some(own) = &own_name {
                facts.name = own.tag;
                facts.host_allowed = own.allowed;
            }
            let mut report = |facts: &mut FlowFacts, hit| {
                let before = facts.leaked;
                if ctx.report(config, stats, facts, hit, out) {
                    leaked_now = true;
                    first_leak |= !before;
                }
            };
            detector.scan_window(window, complete, scratch, &mut |hit| report(facts, hit));
            // A gzip body in a later segment than its headers: the detector inflates a body only
            // in the window that starts with its request; remember the headers, and inflate the
            // body when it comes (after the headers' end, which the carry still shows).
            if facts.compressed_body {
                if http::is_request(window) {
                    // The carry reaches back to the request line: the detector saw it all.
                    facts.compressed_body = false;
                } else if let Some(body) = http::body_offset(window).and_then(|at| window.get(at..))
                {
                    if !body.is_empty() {
                        facts.compressed_body = false;
                        detector.scan_compressed(body, scratch, &mut |hit| report(facts, hit));
                    }
                }
            } else if let Some(body) = http::compressed_body(window) {
                facts.compressed_body = body.is_empty();
            }
        };
        let mut feed = flows.feed(&key, seg.tcp, seg.payload, &mut scan);
        if seg.tcp.is_some_and(|t| t.fin || t.rst) {
            // No more data will fill the gaps: scan what waits behind them now.
            let flushed = flows.flush(&key, &mut scan);
            feed.scanned += flushed.scanned;
            feed.budget_spent |= flushed.budget_spent;
        }
        self.stats.bytes_inspected += u64::from(feed.scanned);
        if feed.new_flow {
            self.stats.flows_inspected += 1;
        }
        self.note = FlowNote {
            src: Some(seg.src),
            src_mac,
            new_flow: feed.new_flow,
            first_leak,
        };
        Inspection {
            kind: FlowKind::Stream,
            leaked_now,
            flow_leaked: feed.leaked,
            budget_spent: feed.budget_spent,
        }
    }

    /// HTTP Host and TLS SNI name the destination for this flow's findings (and later flows'
    /// to the same address). Returns the name when this segment gives it.
    fn learn_destination_name<'p>(
        &mut self,
        src_mac: Option<[u8; 6]>,
        seg: &Segment<'p>,
    ) -> Option<OwnName<'p>> {
        let p = seg.payload;
        let name = match p.first() {
            Some(0x16) => tls::server_name(p),
            Some(_) if http::is_request(p) => http::host(p),
            _ => None,
        };
        let name = name.and_then(|n| std::str::from_utf8(n).ok())?;
        // `Host: 198.51.100.2` names nothing: keep what a DNS answer said.
        let literal = name
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<IpAddr>()
            .is_ok();
        if name.is_empty() || literal {
            return None;
        }
        if self.names.get(seg.dst) != Some(name) {
            self.names.insert(seg.dst, name);
        }
        Some(OwnName {
            name,
            tag: NameTag::of(name),
            allowed: host_allowed_kinds(
                &self.config,
                name,
                &sender(&self.config, self.leases.as_ref(), src_mac, seg.src),
            ),
        })
    }
}

/// Multicast, broadcast and link-local destinations never leave the network (mDNS, SSDP, DHCP),
/// whatever the LAN prefixes say.
/// A frame's source and destination MACs, when its link has them.
type MacPair = (Option<[u8; 6]>, Option<[u8; 6]>);

fn stays_on_the_link(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => a.is_multicast() || a.is_broadcast() || a.is_link_local(),
        IpAddr::V6(a) => a.is_multicast() || (a.segments()[0] & 0xffc0) == 0xfe80,
    }
}

fn flow_key(seg: &Segment<'_>) -> FlowKey {
    FlowKey {
        proto: seg.proto,
        src: seg.src,
        sport: seg.sport,
        dst: seg.dst,
        dport: seg.dport,
    }
}

/// The name a segment gave its destination (HTTP Host, TLS SNI).
struct OwnName<'p> {
    name: &'p str,
    tag: NameTag,
    /// The kinds that `[[allow]]` host rules allow for the name.
    allowed: KindSet,
}

/// Everything needed to turn a hit into a finding. Names are looked up only when a finding is
/// made, so the packet path copies nothing.
struct Attribution<'a> {
    time: Timestamp,
    seg: &'a Segment<'a>,
    src_mac: Option<[u8; 6]>,
    names: &'a NameCache,
    leases: Option<&'a Leases>,
    /// The name this segment gave its destination.
    own_name: Option<&'a str>,
}

impl Attribution<'_> {
    /// The destination's name for a finding of this flow: the one this segment gave; else, for
    /// a flow that named its destination earlier, that name if the cache still holds it for
    /// the address (another flow to a shared CDN address may have named it otherwise: then no
    /// name rather than the wrong one); else the name a DNS answer or another flow gave it.
    fn host(&self, facts: &FlowFacts) -> Option<&str> {
        if let Some(own) = self.own_name {
            return Some(own);
        }
        let cached = self.names.get(self.seg.dst);
        if facts.name.is_named() {
            return cached.filter(|n| NameTag::of(n) == facts.name);
        }
        cached
    }

    /// The sender's name: the lease file (by MAC, then by address), then the config's device
    /// with that MAC, then the device whose known value this is.
    fn device_name(&self, config: &Config, mac: Option<[u8; 6]>, hit: &Hit) -> Option<String> {
        name_of(config, self.leases, mac, self.seg.src)
            .or_else(|| {
                hit.device
                    .and_then(|i| config.devices.get(usize::from(i)))
                    .map(|d| d.name.as_str())
            })
            .map(str::to_string)
    }

    /// Reports a hit unless it is allowed or already reported for this flow. Returns whether it
    /// counts as a leak.
    fn report(
        &self,
        config: &Config,
        stats: &mut Stats,
        facts: &mut FlowFacts,
        hit: Hit,
        out: &mut dyn FnMut(Finding),
    ) -> bool {
        if !config.kind_enabled(hit.kind) {
            return false;
        }
        let from = sender(
            config,
            self.leases,
            self.src_mac.or(facts.src_mac),
            self.seg.src,
        );
        let by_host = if facts.name.is_named() {
            facts.host_allowed.contains(hit.kind)
        } else {
            self.names
                .get(self.seg.dst)
                .is_some_and(|h| host_allowed_kinds(config, h, &from).contains(hit.kind))
        };
        if by_host || allowed_by_prefix(config, hit.kind, self.seg.dst, &from) {
            stats.allowed += 1;
            return false;
        }
        facts.leaked = true;
        let tag = hit_tag(&hit);
        if facts.reported.contains(tag) {
            return true;
        }
        facts.reported.insert(tag);
        stats.findings += 1;
        let device_mac = self.src_mac.or(facts.src_mac);
        let device_name = self.device_name(config, device_mac, &hit);
        let host = self.host(facts).map(str::to_string);
        let finding = Finding {
            time: self.time,
            hit,
            proto: self.seg.proto,
            src: self.seg.src,
            sport: self.seg.sport,
            dst: self.seg.dst,
            dport: self.seg.dport,
            device_mac,
            device_name,
            host,
        };
        out(finding);
        true
    }
}

/// A device's name by its MAC or address: the lease file first, then the config's devices.
fn name_of<'a>(
    config: &'a Config,
    leases: Option<&'a Leases>,
    mac: Option<[u8; 6]>,
    ip: IpAddr,
) -> Option<&'a str> {
    let from_leases = leases.and_then(|l| {
        mac.and_then(|m| l.name_by_mac(&m))
            .or_else(|| l.name_by_ip(ip))
    });
    from_leases.or_else(|| {
        mac.and_then(|m| config.devices.iter().find(|d| d.mac.contains(&m)))
            .map(|d| d.name.as_str())
    })
}

/// One finding per (flow, kind, identifier): the flow remembers a short hash of each.
fn hit_tag(hit: &Hit) -> u32 {
    // FNV-1a: tiny, no state, good enough for a handful of values per flow.
    let mut h: u32 = 0x811c_9dc5;
    let kind = [hit.kind as u8];
    for b in kind.iter().chain(hit.value.as_bytes()) {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// A query flow and a hit, for the ring of recent DNS findings.
fn query_tag(flow: &FlowKey, hit: &Hit) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    flow.hash(&mut h);
    u64::from(hit_tag(hit)).hash(&mut h);
    h.finish()
}

/// The sender as `[[allow]]` rules see it. Its name is looked up (in the lease file) only when
/// some rule names a device by name: the common config pays nothing for it.
fn sender<'a>(
    config: &'a Config,
    leases: Option<&'a Leases>,
    mac: Option<[u8; 6]>,
    ip: IpAddr,
) -> Sender<'a> {
    let by_name = config
        .allow
        .iter()
        .any(|r| matches!(r.device, Some(AllowDevice::Name(_))));
    Sender {
        mac,
        name: if by_name {
            name_of(config, leases, mac, ip)
        } else {
            None
        },
    }
}

/// Whether an `[[allow]]` address rule lets `kind` go from `from` to `dst`.
pub fn allowed_by_prefix(config: &Config, kind: Kind, dst: IpAddr, from: &Sender<'_>) -> bool {
    config.allow.iter().any(|rule| {
        matches!(&rule.dst, AllowDst::Prefix(p) if p.contains(dst))
            && rule.covers_kind(kind)
            && rule.applies_to(&config.devices, from)
    })
}

/// The kinds that `[[allow]]` host rules let go from `from` to `host`.
pub fn host_allowed_kinds(config: &Config, host: &str, from: &Sender<'_>) -> KindSet {
    config
        .allow
        .iter()
        .fold(KindSet::EMPTY, |set, rule| match &rule.dst {
            AllowDst::Host(pattern)
                if host_matches(pattern, host) && rule.applies_to(&config.devices, from) =>
            {
                set.union(if rule.kinds.is_empty() {
                    KindSet::ALL
                } else {
                    rule.kinds.iter().copied().collect()
                })
            }
            _ => set,
        })
}

/// `*.example.com` matches every name below example.com (not example.com itself); any other
/// pattern matches the name exactly. Case does not matter.
pub fn host_matches(pattern: &str, host: &str) -> bool {
    // Names come from packets: compared as bytes, so a multi-byte character at any offset can
    // never land a slice inside it (a `&str` slice there panics).
    let host = host.trim_end_matches('.').as_bytes();
    match pattern.strip_prefix("*.") {
        Some(suffix) => {
            let suffix = suffix.as_bytes();
            host.len() > suffix.len() + 1
                && host
                    .get(host.len() - suffix.len()..)
                    .is_some_and(|tail| tail.eq_ignore_ascii_case(suffix))
                && host.get(host.len() - suffix.len() - 1) == Some(&b'.')
        }
        None => host.eq_ignore_ascii_case(pattern.as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Mode;

    /// A name with multi-byte characters at every offset never panics and never matches a
    /// suffix it does not end with (the hardening issue's crash: `Host: aéééééé`).
    #[test]
    fn host_matches_is_byte_safe() {
        for host in [
            "a\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}",
            "\u{e9}.example.com",
            "\u{1f600}",
            "",
            ".",
        ] {
            let _ = host_matches("*.example.com", host);
            let _ = host_matches("example.com", host);
        }
        assert!(host_matches("*.example.com", "\u{e9}.example.com"));
        assert!(host_matches("*.example.com", "A.EXAMPLE.COM."));
        assert!(!host_matches("*.example.com", "example.com"));
        assert!(!host_matches("*.example.com", "aexample.com"));
        assert!(!host_matches(
            "*.example.com",
            "a\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}"
        ));
    }

    /// IPv6 + TCP (PSH|ACK, seq 1000) carrying `payload`, with no checksums (none are checked).
    fn tcp6(src: [u8; 16], dst: [u8; 16], payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0x60, 0, 0, 0];
        p.extend_from_slice(&((20 + payload.len()) as u16).to_be_bytes());
        p.extend_from_slice(&[6, 64]);
        p.extend_from_slice(&src);
        p.extend_from_slice(&dst);
        p.extend_from_slice(&[
            0xc3, 0x50, 0, 80, 0, 0, 0x03, 0xe8, 0, 0, 0, 1, 0x50, 0x18, 0xff, 0xff,
        ]);
        p.extend_from_slice(&[0, 0, 0, 0]);
        p.extend_from_slice(payload);
        p
    }

    /// IPv4 + UDP from 192.168.1.23:`sport` to `dst`:`dport`, no checksums.
    fn udp4(sport: u16, dst: [u8; 4], dport: u16, payload: &[u8]) -> Vec<u8> {
        let total = (28 + payload.len()) as u16;
        let mut p = vec![0x45, 0];
        p.extend_from_slice(&total.to_be_bytes());
        p.extend_from_slice(&[0, 0, 0x40, 0, 64, 17, 0, 0, 192, 168, 1, 23]);
        p.extend_from_slice(&dst);
        p.extend_from_slice(&sport.to_be_bytes());
        p.extend_from_slice(&dport.to_be_bytes());
        p.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
        p.extend_from_slice(&[0, 0]);
        p.extend_from_slice(payload);
        p
    }

    /// A DNS query (id 7, recursion desired) for `name`, type A.
    fn dns_query(name: &str) -> Vec<u8> {
        let mut q = vec![0, 7, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        for label in name.split('.') {
            q.push(label.len() as u8);
            q.extend_from_slice(label.as_bytes());
        }
        q.extend_from_slice(&[0, 0, 1, 0, 1]);
        q
    }

    fn with_phone() -> Config {
        let mut config = Config::default();
        config.network.leases = None;
        config.devices.push(crate::config::Device {
            name: "phone".into(),
            imei: vec!["490154203237518".into()],
            ..Default::default()
        });
        config
    }

    /// A resolver that sends every query from one port: a hundred clean queries spend no budget
    /// and mark nothing, the leaking one is still caught (and dropped alone), and its retry is
    /// dropped without a second finding.
    #[test]
    fn dns_queries_are_judged_one_by_one() {
        let mut p = Pipeline::new(with_phone());
        let t = Timestamp::default();
        let mut found = 0;
        for i in 0..100 {
            let q = udp4(
                5353,
                [192, 168, 1, 1],
                53,
                &dns_query(&format!("host{i}.example.com")),
            );
            assert_eq!(
                p.handle_ip(t, None, &q, &mut |_| found += 1),
                Ok(Verdict::Pass)
            );
        }
        let leak = udp4(
            5353,
            [192, 168, 1, 1],
            53,
            &dns_query("490154203237518.t.example.com"),
        );
        assert_eq!(
            p.handle_ip(t, None, &leak, &mut |_| found += 1),
            Ok(Verdict::LeakOnce)
        );
        assert_eq!(
            p.handle_ip(t, None, &leak, &mut |_| found += 1),
            Ok(Verdict::LeakOnce)
        );
        assert_eq!(found, 1);
        assert!(p.flows().is_empty(), "DNS queries took flow entries");
    }

    /// IPv4 + TCP from 192.168.1.23:40000 to 203.0.113.9:80 with `seq` and `flags`.
    fn tcp4(seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
        tcp4_from(40_000, seq, flags, payload)
    }

    fn tcp4_from(sport: u16, seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
        let total = (40 + payload.len()) as u16;
        let mut p = vec![0x45, 0];
        p.extend_from_slice(&total.to_be_bytes());
        p.extend_from_slice(&[0, 0, 0x40, 0, 64, 6, 0, 0, 192, 168, 1, 23, 203, 0, 113, 9]);
        p.extend_from_slice(&sport.to_be_bytes());
        p.extend_from_slice(&[0, 80]);
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&[0, 0, 0, 1, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        p.extend_from_slice(payload);
        p
    }

    /// The end of a write (PSH) arrives before the segment cut at the MSS: when the gap fills,
    /// the held segment's window is judged as the end of the stream for now, so the phone
    /// number at its very end is reported.
    #[test]
    fn a_held_segment_that_ended_a_write_is_judged_whole() {
        const SYN: u8 = 0x02;
        const ACK: u8 = 0x10;
        const PSH_ACK: u8 = 0x18;
        let mut config = Config::default();
        config.network.leases = None;
        let mut p = Pipeline::new(config);
        let t = Timestamp::default();
        let head = b"POST /r HTTP/1.1\r\nHost: x\r\n\r\nname=abc&";
        let tail = b"city=beijing&phone=+8613812345678";
        let mut found = Vec::new();
        let mut out = |f: &Finding| found.push(f.hit.value.clone());
        assert_eq!(
            p.handle_ip(t, None, &tcp4(1000, SYN, b""), &mut out),
            Ok(Verdict::Pass)
        );
        let late = 1001 + head.len() as u32;
        assert_eq!(
            p.handle_ip(t, None, &tcp4(late, PSH_ACK, tail), &mut out),
            Ok(Verdict::Pass)
        );
        assert_eq!(
            p.handle_ip(t, None, &tcp4(1001, ACK, head), &mut out),
            Ok(Verdict::Leak)
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].as_str(), "+8613812345678");
    }

    /// Two sites behind one address (a CDN): an `[[allow]]` host rule is judged on the name each
    /// flow gave, not on the last name any flow gave that address.
    #[test]
    fn allow_rules_follow_each_flows_own_host() {
        let mut config = with_phone();
        config.allow.push(crate::config::Allow {
            dst: AllowDst::Host("mdm.example".into()),
            kinds: vec![Kind::Imei],
            device: None,
        });
        let mut p = Pipeline::new(config);
        let t = Timestamp::default();
        let head = b"POST /r HTTP/1.1\r\nHost: mdm.example\r\n\r\n";
        let other = b"GET /r?imei=490154203237518 HTTP/1.1\r\nHost: tracker.example\r\n\r\n";
        let mut found = 0;
        // The allowed flow names its host; then another flow names the same address otherwise
        // (and is reported); then the first flow sends the IMEI: still allowed.
        let a1 = tcp4_from(40_001, 1, 0x18, head);
        assert_eq!(
            p.handle_ip(t, None, &a1, &mut |_| found += 1),
            Ok(Verdict::Pass)
        );
        let b = tcp4_from(40_002, 1, 0x18, other);
        assert_eq!(
            p.handle_ip(t, None, &b, &mut |_| found += 1),
            Ok(Verdict::Leak)
        );
        let a2 = tcp4_from(40_001, 1 + head.len() as u32, 0x18, b"imei=490154203237518");
        assert_eq!(
            p.handle_ip(t, None, &a2, &mut |_| found += 1),
            Ok(Verdict::Pass)
        );
        assert_eq!((found, p.stats().allowed), (1, 1));
    }

    /// A per-device rule lets that device's leaks through and no other device's: by MAC, by
    /// the `[[device]]` name that holds the MAC, and by address rules as by host rules.
    #[test]
    fn per_device_allow_rules_match_only_their_device() {
        use crate::config::AllowDevice;
        let phone_mac = [0xa4, 0x50, 0x46, 0x12, 0x34, 0x56];
        let other_mac = [0x02, 0, 0, 0, 0, 0x99];
        let body = b"GET /r?imei=490154203237518 HTTP/1.1\r\nHost: mdm.example\r\n\r\n";
        for device in [
            AllowDevice::Mac(phone_mac),
            AllowDevice::Name("PHONE".into()),
        ] {
            for dst in [
                AllowDst::Host("mdm.example".into()),
                AllowDst::Prefix(crate::config::Prefix::parse("203.0.113.0/24").expect("p")),
            ] {
                let mut config = with_phone();
                config.devices[0].mac = vec![phone_mac];
                config.allow.push(crate::config::Allow {
                    dst: dst.clone(),
                    kinds: vec![Kind::Imei],
                    device: Some(device.clone()),
                });
                let mut p = Pipeline::new(config);
                let t = Timestamp::default();
                let mut found = 0;
                let own = tcp4_from(40_001, 1, 0x18, body);
                assert_eq!(
                    p.handle_ip(t, Some(phone_mac), &own, &mut |_| found += 1),
                    Ok(Verdict::Pass),
                    "{device:?} {dst:?}"
                );
                let other = tcp4_from(40_002, 1, 0x18, body);
                assert_eq!(
                    p.handle_ip(t, Some(other_mac), &other, &mut |_| found += 1),
                    Ok(Verdict::Leak),
                    "{device:?} {dst:?}"
                );
                // No MAC at all (a raw-IP capture): only a name rule could match, and the
                // sender has no name here.
                let bare = tcp4_from(40_003, 1, 0x18, body);
                assert_eq!(
                    p.handle_ip(t, None, &bare, &mut |_| found += 1),
                    Ok(Verdict::Leak)
                );
                assert_eq!((found, p.stats().allowed), (2, 1), "{device:?} {dst:?}");
            }
        }
    }

    /// Two sites behind one address: each finding shows its own flow's Host, never the name
    /// another flow gave the address since (then no name rather than the wrong one).
    #[test]
    fn findings_name_their_own_flows_host() {
        let mut p = Pipeline::new(with_phone());
        let t = Timestamp::default();
        let mut hosts = Vec::new();
        let head = b"POST /r HTTP/1.1\r\nHost: mdm.example\r\n\r\n";
        let a1 = tcp4_from(40_001, 1, 0x18, head);
        assert_eq!(p.handle_ip(t, None, &a1, &mut |_| {}), Ok(Verdict::Pass));
        let other = b"GET /r?imei=490154203237518 HTTP/1.1\r\nHost: tracker.example\r\n\r\n";
        let b = tcp4_from(40_002, 1, 0x18, other);
        p.handle_ip(t, None, &b, &mut |f| hosts.push(f.host.clone()))
            .expect("decodes");
        let a2 = tcp4_from(40_001, 1 + head.len() as u32, 0x18, b"imei=490154203237518");
        p.handle_ip(t, None, &a2, &mut |f| hosts.push(f.host.clone()))
            .expect("decodes");
        assert_eq!(hosts, [Some("tracker.example".to_string()), None]);
        // The name the cache refuses (not ASCII) is still the flow's own name.
        let odd = "GET /r?imei=490154203237518 HTTP/1.1\r\nHost: a\u{e9}\u{e9}.example\r\n\r\n";
        let c = tcp4_from(40_003, 1, 0x18, odd.as_bytes());
        hosts.clear();
        p.handle_ip(t, None, &c, &mut |f| hosts.push(f.host.clone()))
            .expect("decodes");
        assert_eq!(hosts, [Some("a\u{e9}\u{e9}.example".to_string())]);
    }

    /// mDNS and SSDP stay on the link: not inspected, whatever they carry.
    #[test]
    fn multicast_stays_on_the_link() {
        let mut p = Pipeline::new(with_phone());
        let mdns = udp4(5353, [224, 0, 0, 251], 5353, b"deviceid=490154203237518");
        let mut found = 0;
        let v = p.handle_ip(Timestamp::default(), None, &mdns, &mut |_| found += 1);
        assert_eq!((v, found), (Ok(Verdict::Ignore), 0));
    }

    /// In monitor mode a flow that leaked goes on to its budget, then is handed back (clean) to
    /// the kernel; in enforce mode it stays condemned.
    #[test]
    fn monitor_mode_hands_leaked_flows_back() {
        for (mode, after) in [
            (Mode::Monitor, Verdict::Clean),
            (Mode::Enforce, Verdict::Leak),
        ] {
            let mut config = with_phone();
            config.mode = mode;
            config.detect.budget = 64;
            let mut p = Pipeline::new(config);
            let t = Timestamp::default();
            let leak = udp4(4000, [203, 0, 113, 9], 9999, b"imei=490154203237518");
            assert_eq!(p.handle_ip(t, None, &leak, &mut |_| {}), Ok(Verdict::Leak));
            let filler = udp4(4000, [203, 0, 113, 9], 9999, &[b'x'; 64]);
            assert_eq!(
                p.handle_ip(t, None, &filler, &mut |_| {}),
                Ok(after),
                "{mode:?}"
            );
        }
    }

    /// A device with a global IPv6 address is outside every configured prefix; inline, the
    /// kernel vouches that it sent from a LAN interface, so its packets are inspected.
    #[test]
    fn inline_trusts_the_lan_interface_over_prefixes() {
        let mut config = Config::default();
        config.network.leases = None;
        let src = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
        let dst = [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9];
        let packet = tcp6(src, dst, b"GET /r?imei=490154203237518 HTTP/1.1\r\n\r\n");
        let time = Timestamp::default();

        let mut offline = Pipeline::new(config.clone());
        let mut found = 0;
        let v = offline.handle_frame(time, 229, &packet, &mut |_| found += 1);
        assert_eq!((v, found), (Ok(Verdict::Ignore), 0));

        let mut inline = Pipeline::new(config);
        let v = inline.handle_ip(time, None, &packet, &mut |f| {
            assert_eq!(f.hit.kind, Kind::Imei);
            found += 1
        });
        assert_eq!((v, found), (Ok(Verdict::Leak), 1));
    }

    #[test]
    fn host_patterns() {
        assert!(host_matches("*.example.com", "api.example.com"));
        assert!(host_matches("*.example.com", "A.B.Example.COM"));
        assert!(!host_matches("*.example.com", "example.com"));
        assert!(!host_matches("*.example.com", "badexample.com"));
        assert!(host_matches("zzhc.vnet.cn", "ZZHC.vnet.cn."));
    }
}
