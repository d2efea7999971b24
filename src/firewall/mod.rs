//! The daemon's own nftables table (`inet leakguard`, the name is `firewall.table`).
//!
//! The table decides, per packet, whether the daemon must see it; the daemon decides per flow
//! and tells the kernel through the packet mark of its NFQUEUE verdict. Everything is written
//! as nft JSON with the `nftables` crate and applied by the `nft` binary in one transaction.
//!
//! # Marks
//!
//! We own bits 25–27 of the packet mark and bits 26–27 of the conntrack mark, and preserve all
//! others (mwan3, SQM, fw4 zones … use the low bits):
//!
//! | bit          | constant       | meaning                                                  |
//! |--------------|----------------|----------------------------------------------------------|
//! | `0x02000000` | [`MARK_QUEUE`] | meta mark only, xt backend: "queue this packet" request   |
//! | `0x04000000` | [`MARK_CLEAN`] | flow decided clean (budget spent, nothing found)          |
//! | `0x08000000` | [`MARK_BLOCK`] | flow decided blocked                                     |
//!
//! The daemon answers each queued packet with ACCEPT and NFQA_MARK set to
//! [`verdict_mark`]`(packet mark, decision)`: an undecided flow keeps its mark, a decided one
//! gets CLEAN or BLOCK. (A DROP verdict cannot mark the connection: this kernel has no
//! netlink-glue-ct, so the ct mark is set by the table instead.) After an ACCEPT verdict the
//! packet continues with the *next* hook entry, so our post chains (`forward_post`,
//! `input_post`, priority ≥ 10, after fw4's and iptables' chains at 0) see the meta mark and
//! copy it into the ct mark: `ct mark set ct mark & ~0x0c000000 | DECISION` (one rule per
//! decision, because nft 1.0.6 cannot OR two registers). A BLOCK-marked packet is then blocked
//! right there, so the packet that carried the leak does not leave either.
//!
//! # Chains
//!
//! * `forward` (filter, hook forward, `firewall.priority`, default -5: before fw4):
//!   1. `udp sport 53 oifname LAN log group <daemon.nflog_group>`: answers of outside
//!      resolvers to devices go to the daemon (for destination names) without delay;
//!   2. `ct mark & 0x0c000000 == BLOCK` → `block`, then the block sets (LAN input only):
//!      `block_flow4/6` (saddr . l4proto . daddr . sport . dport), `block_dd4/6`
//!      (saddr . daddr), `block_d4/6` (daddr), all `flags timeout`. A flow decided BLOCK by
//!      a verdict needs no set entry (its ct mark does it); `block_flow` entries, from
//!      [`Firewall::add_block`] with `Scope::Flow`, also outlive a conntrack flush and are
//!      listed by [`Firewall::list_blocks`];
//!   3. CLEAN flows, packets not from a LAN interface, and TCP segments without payload
//!      (exact pairs of IP length and TCP data offset: 40/5, 52/8, 60/10 for IPv4 with a
//!      20-byte header; 20/5, 32/8, 40/10 IPv6 payload length without extension headers)
//!      are accepted here — they are never queued;
//!   4. TCP and UDP are queued.
//! * `input` (hook input, same priority): the same blocks; DNS queries from LAN devices to the
//!   router (tcp/udp dport 53) are queued.
//! * `output` (hook output): `udp sport 53 oifname LAN log group G`, the router's own resolver
//!   answering devices.
//! * `forward_post`, `input_post`: the mark copy above.
//! * `block` (regular): TCP resets pass (they carry nothing and let both ends tear the flow
//!   down; our own resets carry the blocked flow's conntrack entry and would be eaten on a
//!   local path), then `meta l4proto tcp reject with tcp reset` (if `firewall.tcp_reset`), then
//!   `drop`.
//!
//! # Queue backends ([`Backend`])
//!
//! * `Nft`: `queue num N bypass` in the early chains (OpenWrt has kmod-nft-queue).
//! * `Xt`: the early chains set [`MARK_QUEUE`] instead, and one iptables-nft rule per family and
//!   chain (FORWARD, INPUT) queues what carries it: `-m mark --mark 0x2000000/0x2000000
//!   -m comment --comment leakguard -j NFQUEUE --queue-num N --queue-bypass`. So all the
//!   selection logic stays in one place; the iptables chains run at priority 0, between our
//!   early and post chains, and the post chain still runs after the verdict (it also clears the
//!   QUEUE bit). With `--queue-bypass`/`bypass` traffic flows when the daemon is not running.
//!   (Matching the mark rather than `-m connmark --mark 0/MASK -i lan` keeps the empty-segment
//!   exemption and the DNS-only rule of `input` in effect for xt too.)
//!
//! `QueueBackend::Auto` probes the native expression by applying, in one transaction, a
//! throwaway table `inet leakguard_probe` with a `queue` rule and its deletion: the kernel
//! rejects the whole transaction when nft_queue is missing, and leaves nothing behind when not.
//!
//! # Life cycle
//!
//! [`Firewall::install`] at start, [`Firewall::present`] every few seconds (`fw4 flush` and
//! `nft flush ruleset` delete every table, including iptables-nft's) and
//! [`Firewall::restore`] when it is gone, [`Firewall::reconfigure`] on SIGHUP,
//! [`Firewall::remove`] on SIGTERM. The table is always replaced as a whole in one transaction
//! (`add table; delete table; add …`), with the blocks that are still active re-added with
//! their remaining time. Errors carry nft's (or iptables') stderr.
//!
//! `tests/firewall.rs` runs all of this as root in private network namespaces, with real
//! traffic: loopback (blocks, resets, simulated verdict marks, flush and restore) and a
//! device → router → server path (forwarded traffic through the xt queue with bypass).

mod block;
pub mod command;
mod nft;
pub mod offload;
pub mod rules;
mod worker;
mod xt;

use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use nftables::schema::{Element, FlushObject, NfCmd, NfListObject, NfObject, Nftables, Table};
use nftables::types::NfFamily;

pub use block::{Block, BlockId};
pub use offload::OffloadState;

use crate::block::Registry;
use crate::config::{Config, QueueBackend, Scope};
use crate::decision::{BlockOrder, Mark};

/// "Queue this packet" request from our early chains to the xt rule (meta mark only).
pub const MARK_QUEUE: u32 = 0x0200_0000;
/// Flow decided clean.
pub const MARK_CLEAN: u32 = 0x0400_0000;
/// Flow decided blocked.
pub const MARK_BLOCK: u32 = 0x0800_0000;
/// The decision bits, in the meta mark and the ct mark.
pub const DECISION_MASK: u32 = MARK_CLEAN | MARK_BLOCK;
/// Every meta mark bit we own.
pub const MARK_MASK: u32 = MARK_QUEUE | DECISION_MASK;

/// The throwaway table of the native-queue probe.
pub const PROBE_TABLE: &str = "leakguard_probe";

/// The NFQA_MARK to send with an ACCEPT verdict: the packet's own mark (NFQA_MARK of the queued
/// message) with our bits replaced, so other users of the mark keep theirs.
pub fn verdict_mark(packet_mark: u32, decision: Mark) -> u32 {
    let bits = match decision {
        Mark::Undecided => 0,
        Mark::Clean => MARK_CLEAN,
        Mark::Block => MARK_BLOCK,
    };
    (packet_mark & !MARK_MASK) | bits
}

/// How packets reach the queue, as resolved from `QueueBackend` (for the log).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// nft `queue num N bypass`.
    Nft,
    /// iptables-nft `-j NFQUEUE --queue-bypass` on packets we marked.
    Xt,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Nft => "nft queue",
            Backend::Xt => "xt NFQUEUE (iptables-nft)",
        })
    }
}

/// What went wrong, with the tool's own words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FirewallError {
    /// nft failed; `stderr` is what it said.
    Nft { action: String, stderr: String },
    /// iptables/ip6tables failed.
    Xt { command: String, stderr: String },
    /// A request that cannot be expressed (mixed address families …).
    Invalid(String),
}

impl fmt::Display for FirewallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FirewallError::Nft { action, stderr } => write!(f, "nft: {action}: {stderr}"),
            FirewallError::Xt { command, stderr } => write!(f, "{command}: {stderr}"),
            FirewallError::Invalid(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for FirewallError {}

/// The part of the configuration the table is built from.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub table: String,
    pub queue: u16,
    pub backend: QueueBackend,
    pub priority: i32,
    pub tcp_reset: bool,
    pub lan_interfaces: Vec<String>,
    pub nflog_group: u16,
    /// Scope and timeout of [`Firewall::block`].
    pub scope: Scope,
    pub block_timeout: u32,
}

impl Settings {
    pub fn from_config(config: &Config) -> Settings {
        Settings {
            table: config.firewall.table.clone(),
            queue: config.firewall.queue,
            backend: config.firewall.backend,
            priority: config.firewall.priority,
            tcp_reset: config.firewall.tcp_reset,
            lan_interfaces: config.network.lan_interfaces.clone(),
            nflog_group: config.daemon.nflog_group,
            scope: config.firewall.scope,
            block_timeout: config.firewall.block_timeout,
        }
    }
}

/// The JSON ruleset of our table for `config` (pure: nothing runs).
pub fn ruleset(config: &Config, backend: Backend) -> Nftables<'static> {
    rules::ruleset(&Settings::from_config(config), backend)
}

/// The installed table. Dropping it leaves the table in place (the daemon may be restarted
/// without opening a window); call [`Firewall::remove`] to take it down.
#[derive(Debug)]
pub struct Firewall {
    settings: Settings,
    backend: Backend,
    /// The blocks in force: the one registry `status` and `unblock` read, mirrored into the
    /// sets (and re-added from it by [`Firewall::restore`] after the table was flushed away).
    blocks: Registry,
    /// fw4's flow offloading, taken over (see [`offload`]).
    offload: offload::Offload,
    /// Adds the blocks leaks order, off the packet loop (see [`worker`]).
    worker: worker::Worker,
    /// Blocks whose addition failed, found while settling, for [`Firewall::failed_blocks`].
    failed: Vec<(BlockId, FirewallError)>,
}

/// The worker's runner: one `nft -j -f -` transaction.
fn run_nft_job(json: &str, what: &str) -> Result<(), FirewallError> {
    nft::apply_text(json, what)
}

impl Firewall {
    /// Creates (or replaces) the table, chains and sets, and the xt rules for that backend.
    /// Blocks still in an existing table of the same name (a daemon that crashed) are kept.
    pub fn install(config: &Config) -> Result<Firewall, FirewallError> {
        let settings = Settings::from_config(config);
        let backend = choose_backend(&settings)?;
        let worker = worker::Worker::start(Box::new(run_nft_job), command::LIMIT * 2)
            .map_err(|e| FirewallError::Invalid(format!("starting the nft worker thread: {e}")))?;
        let mut fw = Firewall {
            settings,
            backend,
            blocks: Registry::new(),
            offload: offload::Offload::default(),
            worker,
            failed: Vec::new(),
        };
        if let Ok(live) = fw.list_blocks() {
            fw.remember(&live);
        }
        fw.apply_table()?;
        if let Err(e) = fw.install_xt() {
            // A start that fails half way removes what it installed: a table whose queue rule
            // is missing would mark flows for a queue nobody reads.
            let _ = nft::apply(&delete_table(&fw.settings.table), "deleting the table");
            let _ = xt::remove();
            return Err(e);
        }
        Ok(fw)
    }

    /// The queue backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.settings.table
    }

    /// Whether the table (and, for xt, the IPv4 FORWARD rule) still exists. Costs one or two
    /// process runs; meant for a check every few seconds.
    pub fn present(&self) -> bool {
        let table = nft::succeeds(&["list", "table", "inet", &self.settings.table]);
        table && (self.backend != Backend::Xt || xt::present(self.settings.queue))
    }

    /// Recreates everything: table, chains, sets, xt rules, and the blocks added through this
    /// value that have not expired, with their remaining time.
    pub fn restore(&mut self) -> Result<(), FirewallError> {
        self.settle();
        // The table may still be there (only the xt rules went): keep what it holds.
        if let Ok(live) = self.list_blocks() {
            self.remember(&live);
        }
        self.apply_table()?;
        self.install_xt()
    }

    /// Replaces the rules for a new configuration (SIGHUP) and keeps the blocks; a renamed
    /// table replaces the old one.
    pub fn reconfigure(&mut self, config: &Config) -> Result<(), FirewallError> {
        self.settle();
        if let Ok(live) = self.list_blocks() {
            // What the kernel holds now is what is in force (expired and removed ones gone);
            // the registry keeps the numbers and names of those still there.
            let now = Instant::now();
            let keep: Vec<BlockId> = live.iter().map(|b| b.id).collect();
            let gone: Vec<BlockId> = self
                .blocks
                .live(now)
                .map(|e| e.id)
                .filter(|id| !keep.contains(id))
                .collect();
            for id in &gone {
                self.blocks.remove(id);
            }
            self.remember(&live);
        }
        let settings = Settings::from_config(config);
        let backend = if settings.backend == self.settings.backend {
            self.backend
        } else {
            choose_backend(&settings)?
        };
        // One transaction: the old table goes only if the new one is accepted, and a refused
        // reload leaves the running table and settings as they were.
        let old = delete_table(&self.settings.table).objects.into_owned();
        let replaced = (settings.table != self.settings.table).then_some(old);
        let previous = (
            std::mem::replace(&mut self.settings, settings),
            self.backend,
        );
        self.backend = backend;
        if let Err(e) = self.apply_table_after(replaced.unwrap_or_default()) {
            (self.settings, self.backend) = previous;
            return Err(e);
        }
        self.install_xt()
    }

    /// Deletes the table and every xt rule of ours.
    pub fn remove(mut self) -> Result<(), FirewallError> {
        self.settle();
        let offload = self.release_offload();
        let table = nft::apply(&delete_table(&self.settings.table), "deleting the table");
        let rules = xt::remove();
        offload.and(table).and(rules)
    }

    /// Blocks a flow's `firewall.scope` part for `firewall.block_timeout` seconds: what the
    /// daemon calls when it finds a leak.
    pub fn block(
        &mut self,
        src: IpAddr,
        dst: IpAddr,
        proto: u8,
        sport: u16,
        dport: u16,
    ) -> Result<BlockId, FirewallError> {
        let (scope, timeout) = (self.settings.scope, self.settings.block_timeout);
        self.add_block(scope, src, dst, proto, sport, dport, timeout)
    }

    /// Blocks `scope`'s part of (src, dst, proto, sport, dport) for `timeout_secs` (0: until
    /// removed), and waits until it is in the kernel. Adding an existing block restarts its
    /// timeout.
    #[allow(clippy::too_many_arguments)]
    pub fn add_block(
        &mut self,
        scope: Scope,
        src: IpAddr,
        dst: IpAddr,
        proto: u8,
        sport: u16,
        dport: u16,
        timeout_secs: u32,
    ) -> Result<BlockId, FirewallError> {
        let id = BlockId::new(scope, src, dst, proto, sport, dport)
            .map_err(|e| FirewallError::Invalid(e.to_string()))?;
        self.put_block(id, None, timeout_secs)?;
        // Synchronous, unlike the daemon's [`Firewall::order_block`]: in force on return.
        self.settle();
        match self.failed.iter().position(|(f, _)| *f == id) {
            Some(i) => Err(self.failed.remove(i).1),
            None => Ok(id),
        }
    }

    /// Installs the block a decision ordered, once: while the same block is in force, another
    /// order (several findings of one packet or flow) leaves it as it is. Returns the block's
    /// registry entry number and the seconds it has left (0: no timeout). Does not wait for
    /// nft: the addition runs on the worker, and a failure is reported by
    /// [`Firewall::failed_blocks`].
    pub fn order_block(
        &mut self,
        order: &BlockOrder,
        device: Option<String>,
    ) -> Result<(u64, u32), FirewallError> {
        let now = Instant::now();
        if let Some(e) = self.blocks.get(&order.id, now) {
            let left = e.left(now).map_or(0, |d| d.as_secs());
            return Ok((e.number, u32::try_from(left).unwrap_or(order.timeout_secs)));
        }
        let number = self.put_block(order.id, device, order.timeout_secs)?;
        Ok((number, order.timeout_secs))
    }

    /// Adds (or re-adds, restarting its timeout) `id` in the kernel and the registry.
    fn put_block(
        &mut self,
        id: BlockId,
        device: Option<String>,
        timeout_secs: u32,
    ) -> Result<u64, FirewallError> {
        let timeout = Some(timeout_secs).filter(|t| *t > 0);
        // add (no-op when present); delete; add with the timeout: one transaction that works
        // whether or not the element exists, and resets the timeout when it does.
        let objects = vec![
            self.element_cmd(NfCmd::Add, &id, timeout),
            self.element_cmd(NfCmd::Delete, &id, None),
            self.element_cmd(NfCmd::Add, &id, timeout),
        ];
        let what = format!("adding block {id}");
        let json = nft::to_json(
            &Nftables {
                objects: objects.into(),
            },
            &what,
        )?;
        // Handed to the worker: the loop does not wait for nft. The registry has the block
        // from now on; a failure takes that entry out again ([`Firewall::failed_blocks`]).
        let now = Instant::now();
        self.blocks.expire(now);
        let number = self.blocks.put(id, device, timeout_secs, now);
        if let Err(e) = self.worker.submit(id, number, json, what) {
            self.blocks.remove(&id);
            return Err(e);
        }
        Ok(number)
    }

    /// Blocks whose addition the worker reported failed since the last call; they are out of
    /// the registry (the leaking flows themselves stay dropped by their conntrack mark).
    /// Cheap: the daemon calls it on every wake-up.
    pub fn failed_blocks(&mut self) -> Vec<(BlockId, FirewallError)> {
        let done = self.worker.finished();
        self.note_done(done);
        std::mem::take(&mut self.failed)
    }

    /// Block additions handed to the worker and not yet carried out.
    pub fn pending_blocks(&self) -> usize {
        self.worker.pending()
    }

    /// Waits for the worker's jobs (before anything that changes the sets itself).
    fn settle(&mut self) {
        let done = self.worker.settle();
        self.note_done(done);
    }

    fn note_done(&mut self, done: Vec<worker::Done>) {
        for d in done {
            if let Err(e) = d.result {
                // Only the entry the job was for: the id may have expired and been ordered
                // again since, as a new entry with its own job.
                if self
                    .blocks
                    .by_number(d.number)
                    .is_some_and(|e| e.id == d.id)
                {
                    self.blocks.remove(&d.id);
                }
                self.failed.push((d.id, e));
            }
        }
    }

    /// The blocks in force (what `status` lists and `unblock` lifts).
    pub fn blocks(&self) -> &Registry {
        &self.blocks
    }

    /// Forgets blocks whose time is up (the kernel's set timeouts remove the elements).
    pub fn expire_blocks(&mut self) {
        self.blocks.expire(Instant::now());
    }

    /// Removes one block; removing a block that is gone (expired) is not an error.
    pub fn remove_block(&mut self, id: &BlockId) -> Result<(), FirewallError> {
        self.settle();
        let objects = vec![
            self.element_cmd(NfCmd::Add, id, None),
            self.element_cmd(NfCmd::Delete, id, None),
        ];
        nft::apply(
            &Nftables {
                objects: objects.into(),
            },
            &format!("removing block {id}"),
        )?;
        self.blocks.remove(id);
        Ok(())
    }

    /// Removes every block (flushes the sets). Flows already marked BLOCK in conntrack stay
    /// blocked until their conntrack entry ends.
    pub fn remove_all_blocks(&mut self) -> Result<(), FirewallError> {
        self.settle();
        let table = &self.settings.table;
        let objects: Vec<NfObject<'static>> = rules::BLOCK_SETS
            .iter()
            .map(|name| {
                NfObject::CmdObject(NfCmd::Flush(FlushObject::Set(Box::new(
                    nftables::schema::Set {
                        family: NfFamily::INet,
                        table: table.clone().into(),
                        name: (*name).into(),
                        handle: None,
                        set_type: nftables::schema::SetTypeValue::Single(
                            nftables::schema::SetType::Ipv4Addr,
                        ),
                        policy: None,
                        flags: None,
                        elem: None,
                        timeout: None,
                        gc_interval: None,
                        size: None,
                        comment: None,
                    },
                ))))
            })
            .collect();
        nft::apply(
            &Nftables {
                objects: objects.into(),
            },
            "removing all blocks",
        )?;
        self.blocks.clear();
        Ok(())
    }

    /// The blocks in the kernel now, with the time they have left (`nft -j list set`).
    pub fn list_blocks(&self) -> Result<Vec<Block>, FirewallError> {
        let mut out = Vec::new();
        for name in rules::BLOCK_SETS {
            let doc = nft::list_json(
                &["list", "set", "inet", &self.settings.table, name],
                &format!("listing set {name}"),
            )?;
            let objects = doc.get("nftables").and_then(|o| o.as_array());
            for object in objects.into_iter().flatten() {
                let elems = object.get("set").and_then(|s| s.get("elem"));
                for elem in elems.and_then(|e| e.as_array()).into_iter().flatten() {
                    if let Some(block) = BlockId::from_element(name, elem) {
                        out.push(block);
                    }
                }
            }
        }
        Ok(out)
    }

    fn remember(&mut self, live: &[Block]) {
        let now = Instant::now();
        for block in live {
            let deadline = block.expires_in.map(|left| now + left);
            self.blocks.put_until(block.id, None, deadline);
        }
    }

    /// Replaces the table in one transaction, with the remembered blocks that are still alive.
    fn apply_table(&mut self) -> Result<(), FirewallError> {
        self.apply_table_after(Vec::new())
    }

    /// [`Self::apply_table`] in one transaction after `first` (deleting a renamed table).
    fn apply_table_after(&mut self, first: Vec<NfObject<'static>>) -> Result<(), FirewallError> {
        let now = Instant::now();
        self.blocks.expire(now + Duration::from_secs(1));
        let mut objects = first;
        objects.extend(delete_table(&self.settings.table).objects.into_owned());
        objects.extend(rules::table_objects(&self.settings, self.backend));
        for e in self.blocks.live(now) {
            let left = e.left(now).map(|d| {
                let secs = d.as_secs();
                u32::try_from(secs).unwrap_or(u32::MAX).max(1)
            });
            objects.push(self.element_cmd(NfCmd::Add, &e.id, left));
        }
        let doc = Nftables {
            objects: objects.into(),
        };
        let action = format!("installing table inet {}", self.settings.table);
        match self.with_offload(&doc) {
            Some(with) => nft::apply_json(&with, &action),
            None => nft::apply(&doc, &action),
        }
    }

    /// Removes stale xt rules of ours and, for the xt backend, inserts the current ones.
    fn install_xt(&self) -> Result<(), FirewallError> {
        xt::remove()?;
        if self.backend == Backend::Xt {
            xt::insert(self.settings.queue)?;
        }
        Ok(())
    }

    fn element_cmd(
        &self,
        cmd: fn(NfListObject<'static>) -> NfCmd<'static>,
        id: &BlockId,
        timeout: Option<u32>,
    ) -> NfObject<'static> {
        NfObject::CmdObject(cmd(NfListObject::Element(Element {
            family: NfFamily::INet,
            table: self.settings.table.clone().into(),
            name: id.set_name().into(),
            elem: vec![id.element(timeout)].into(),
        })))
    }
}

/// `add table; delete table`: deletes the table whether or not it exists.
fn delete_table(name: &str) -> Nftables<'static> {
    let table = || {
        NfListObject::Table(Table {
            family: NfFamily::INet,
            name: name.to_string().into(),
            handle: None,
        })
    };
    Nftables {
        objects: vec![
            NfObject::CmdObject(NfCmd::Add(table())),
            NfObject::CmdObject(NfCmd::Delete(table())),
        ]
        .into(),
    }
}

/// Resolves `QueueBackend` to a backend; `Auto` probes.
fn choose_backend(settings: &Settings) -> Result<Backend, FirewallError> {
    Ok(match settings.backend {
        QueueBackend::Nft => Backend::Nft,
        QueueBackend::Xt => Backend::Xt,
        QueueBackend::Auto => {
            if probe_native(settings.queue) {
                Backend::Nft
            } else {
                Backend::Xt
            }
        }
    })
}

/// Whether the kernel takes the native `queue` expression (see the module docs).
pub fn probe_native(queue: u16) -> bool {
    nft::apply(&probe_ruleset(queue), "probing nft queue").is_ok()
}

/// The probe transaction: a table with a (hookless) chain holding a `queue` rule, then its
/// deletion.
pub fn probe_ruleset(queue: u16) -> Nftables<'static> {
    let table = || {
        NfListObject::Table(Table {
            family: NfFamily::INet,
            name: PROBE_TABLE.into(),
            handle: None,
        })
    };
    let objects = vec![
        NfObject::CmdObject(NfCmd::Add(table())),
        rules::add(NfListObject::Chain(nftables::schema::Chain {
            family: NfFamily::INet,
            table: PROBE_TABLE.into(),
            name: "probe".into(),
            newname: None,
            handle: None,
            _type: None,
            hook: None,
            prio: None,
            dev: None,
            policy: None,
        })),
        rules::add(NfListObject::Rule(nftables::schema::Rule {
            family: NfFamily::INet,
            table: PROBE_TABLE.into(),
            chain: "probe".into(),
            expr: vec![rules::queue_statement(Backend::Nft, queue)].into(),
            handle: None,
            index: None,
            comment: None,
        })),
        NfObject::CmdObject(NfCmd::Delete(table())),
    ];
    Nftables {
        objects: objects.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_mark_keeps_foreign_bits() {
        assert_eq!(verdict_mark(0x0000_3f01, Mark::Clean), 0x0400_3f01);
        assert_eq!(verdict_mark(0x0600_0001, Mark::Block), 0x0800_0001);
        assert_eq!(verdict_mark(0x0a00_0001, Mark::Undecided), 0x0000_0001);
        assert_eq!(MARK_MASK, 0x0e00_0000);
    }

    #[test]
    fn probe_adds_and_deletes_in_one_transaction() {
        let json = serde_json::to_value(probe_ruleset(3)).expect("json");
        let objects = json["nftables"].as_array().expect("array");
        assert_eq!(objects.len(), 4);
        assert_eq!(objects[2]["add"]["rule"]["expr"][0]["queue"]["num"], 3);
        assert_eq!(objects[3]["delete"]["table"]["name"], PROBE_TABLE);
    }

    #[test]
    fn errors_carry_stderr() {
        let e = FirewallError::Nft {
            action: "installing table inet leakguard".into(),
            stderr: "Error: Could not process rule: No such file or directory".into(),
        };
        assert!(e.to_string().contains("No such file or directory"));
    }
}
