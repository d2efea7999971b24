//! The inline daemon, `leakguard run`: NFQUEUE packets through the same [`Pipeline`] as `scan`,
//! verdicts back to the kernel, blocks in the daemon's own nftables table, alerts to syslog.
//!
//! One thread, one `poll` loop over five file descriptors: the queue, conntrack events, the
//! NFLOG group that carries DNS answers, the control socket and a signalfd. Nothing on the
//! packet path blocks: verdicts go back in batches, and what spawns `nft` (adding a block)
//! runs after the batch's verdicts are sent, so a leak costs the leaking flow, not the queue.
//!
//! How a flow is decided (see [`crate::firewall`] for the marks):
//! * still inspecting → ACCEPT, mark untouched: the next packet is queued too;
//! * budget spent, nothing found, or not ours to judge → ACCEPT with the CLEAN mark: the table
//!   copies it into the ct mark and never queues the flow again;
//! * leak, `enforce` → ACCEPT with the BLOCK mark: the table's post chain drops it (TCP: reset)
//!   and marks the flow, and the daemon adds a block with a timeout for the configured scope;
//! * leak, `monitor` → ACCEPT, alert only.
//!
//! If the daemon dies, the queue rules' `bypass` lets traffic flow.

pub mod alert;
pub mod control;
pub mod status;
pub mod syslog;

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use log::{error, info, warn, LevelFilter};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

use crate::config::Config;
use crate::decision::{Action, Decision};
use crate::finding::{Finding, Timestamp};
use crate::firewall::{self, Firewall};
use crate::flow::FlowKey;
use crate::history::{store, History, Key};
use crate::netlink::{ConntrackEvents, Log, LogConfig, Queue, QueueConfig, TableEvents};
use crate::packet::Proto;
use crate::pipeline::Pipeline;
use crate::render::Render;
use crate::source::nfqueue;

use alert::{AlertEvent, Alerts};
use control::{ControlServer, Request, Unblock};
use status::{BlockStatus, Counters, Status};

/// How often the loop wakes with nothing to do: checks the table, writes the status file.
const TICK: Duration = Duration::from_secs(1);
/// How often the table's presence is checked and the status file written.
const CHECK_EVERY: Duration = Duration::from_secs(2);
/// How often the table is checked by forking `nft list table` when nftables events tell us
/// of its deletion anyway (a safety net for what events do not cover, such as an xt rule
/// deleted by hand); without events, every [`CHECK_EVERY`].
const VERIFY_EVERY: Duration = Duration::from_secs(30);
/// How often the lease file's mtime is looked at.
const LEASES_EVERY: Duration = Duration::from_secs(10);
/// Blocks installed at once, at most: a LAN host sending leaks to ever new destinations
/// cannot grow the kernel's sets past this. When full, the leaking flow is still dropped (by
/// its packet's verdict and flow mark); only the wider block is not added.
const MAX_BLOCKS: usize = 4096;

/// Block additions handed to the nft worker and not yet done, at most: what an unblock, reload
/// or restore (which wait for the worker first) can be kept waiting for is this many nft runs.
const MAX_PENDING_BLOCKS: usize = 8;
/// New blocks per second, at most (a burst of [`BLOCK_BURST`]): each costs an `nft` call, and
/// a host flooding leak-looking traffic must not keep the loop from other devices' packets.
/// Over the rate, as when full, the flow itself is still dropped.
const BLOCKS_PER_SEC: f64 = 10.0;
const BLOCK_BURST: f64 = 20.0;
/// A table-full condition is logged at most once per this long, with how often it recurred.
const FULL_LOG_EVERY: Duration = Duration::from_secs(60);

/// Logs a recurring condition once, then at most once per [`FULL_LOG_EVERY`] with a count of
/// the times in between: a flood must not become a log line per packet.
#[derive(Default)]
struct LogOnce {
    last: Option<Instant>,
    since: u64,
}

impl LogOnce {
    /// Counts one occurrence; returns how many there were since the last line when one is due.
    fn due(&mut self, now: Instant) -> Option<u64> {
        self.since += 1;
        match self.last {
            Some(t) if now.duration_since(t) < FULL_LOG_EVERY => None,
            _ => {
                self.last = Some(now);
                Some(std::mem::take(&mut self.since))
            }
        }
    }
}

/// A token bucket for block additions.
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn new() -> Bucket {
        Bucket {
            tokens: BLOCK_BURST,
            at: Instant::now(),
        }
    }

    fn take(&mut self, now: Instant) -> bool {
        let refill = now.duration_since(self.at).as_secs_f64() * BLOCKS_PER_SEC;
        self.tokens = (self.tokens + refill).min(BLOCK_BURST);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Headers in front of the inspected payload in each queued packet (IPv6 + TCP with options).
const HEADER_ROOM: u32 = 128;

/// Runs the daemon until SIGTERM/SIGINT. Errors at start (bad config, no root, netlink or nft
/// refusing) are returned; the table is removed on the way out whatever happened.
pub fn run(config_path: &Path, foreground: bool) -> Result<(), String> {
    let config = Config::load(config_path).map_err(|e| e.to_string())?;
    let log = syslog::init(foreground, &config.alert.syslog, LevelFilter::Info)
        .map_err(|e| format!("installing the logger: {e}"))?;
    for w in &config.warnings {
        warn!("{w}");
    }
    let mut daemon = Daemon::start(config_path.to_path_buf(), config, log)?;
    let result = daemon.run_loop();
    daemon.shutdown();
    result
}

/// `leakguard status`: the running daemon's snapshot, as JSON or as text.
pub fn status(config: &Config, json: bool) -> Result<String, String> {
    let path = control::socket_path(&config.daemon.run_dir);
    let (raw, snapshot) = control::status(&path).map_err(|e| {
        let last = status::read(&config.daemon.run_dir);
        format!(
            "{}\n  control socket: {e}",
            status::not_running_text(last.as_ref(), unix_now())
        )
    })?;
    Ok(if json {
        format!("{}\n", raw.trim_end())
    } else {
        status::render_text(&snapshot)
    })
}

/// `leakguard unblock <id|all>`.
pub fn unblock(config: &Config, target: &str) -> Result<String, String> {
    let which = match target {
        "all" => Unblock::All,
        id => Unblock::Id(
            id.parse()
                .map_err(|_| format!("unblock: `{id}` is not a block id or `all`"))?,
        ),
    };
    let path = control::socket_path(&config.daemon.run_dir);
    let removed = control::unblock(&path, which).map_err(|e| e.to_string())?;
    Ok(format!("{removed} block(s) removed"))
}

struct Daemon {
    config_path: PathBuf,
    /// The one configuration value, shared read-only with the pipeline; a reload replaces it
    /// whole.
    config: Rc<Config>,
    log: syslog::Handle,
    pipeline: Pipeline,
    firewall: Option<Firewall>,
    queue: Queue,
    conntrack: Option<ConntrackEvents>,
    nflog: Option<Log>,
    /// nftables table events: how the deletion of our table is noticed.
    tables: Option<TableEvents>,
    control: ControlServer,
    signals: SignalFd,
    alerts: Alerts,
    /// The one masked view of a finding (alerts, status, block names).
    render: Render,
    counters: Counters,
    /// Unix seconds at start, for display; uptime comes from `started_at`, a monotonic clock
    /// (routers without an RTC start before NTP sets the wall clock).
    started: u64,
    started_at: Instant,
    /// How the previous daemon ended, found in the status file at start.
    previous: Option<status::Previous>,
    block_bucket: Bucket,
    blocks_full: LogOnce,
    blocks_throttled: LogOnce,
    flows_full: LogOnce,
    evicted_seen: u64,
    queue_buf: Vec<u8>,
    event_buf: Vec<u8>,
    /// Findings of the current batch with their packet's decision: rare, so owning them is
    /// fine; reused.
    findings: Vec<(Finding, Decision)>,
    /// The per-device history (`history.enabled`), and when it was last written.
    history: Option<History>,
    history_saved: Instant,
}

impl Daemon {
    fn start(config_path: PathBuf, config: Config, log: syslog::Handle) -> Result<Daemon, String> {
        let mut mask = SigSet::empty();
        for s in [Signal::SIGHUP, Signal::SIGTERM, Signal::SIGINT] {
            mask.add(s);
        }
        mask.thread_block()
            .map_err(|e| format!("blocking signals: {e}"))?;
        let signals = SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
            .map_err(|e| format!("signalfd: {e}"))?;

        let copy_range = config.detect.budget + HEADER_ROOM;
        let queue = Queue::open(&QueueConfig::new(config.firewall.queue, copy_range))
            .map_err(|e| e.to_string())?;
        let conntrack = match ConntrackEvents::open_destroy_only(1 << 20) {
            Ok(c) => Some(c),
            Err(e) => {
                warn!("conntrack events unavailable, flows end by eviction only: {e}");
                None
            }
        };
        let nflog = match Log::open(&LogConfig::new(config.daemon.nflog_group, 1024)) {
            Ok(l) => Some(l),
            Err(e) => {
                warn!(
                    "NFLOG group {} unavailable, no DNS names: {e}",
                    config.daemon.nflog_group
                );
                None
            }
        };
        // Subscribed before the table exists, so that no deletion after it can be missed.
        let tables = match TableEvents::open(&config.firewall.table, 1 << 18) {
            Ok(t) => Some(t),
            Err(e) => {
                warn!(
                    "nftables events unavailable, the table is checked every {} s: {e}",
                    CHECK_EVERY.as_secs()
                );
                None
            }
        };
        std::fs::create_dir_all(&config.daemon.run_dir)
            .map_err(|e| format!("{}: {e}", config.daemon.run_dir.display()))?;
        let previous = status::previous(&config.daemon.run_dir, unix_now());
        match &previous {
            Some(p) if !p.clean => warn!(
                "the previous leakguard (pid {}) died without stopping; protection was off from \
                 about {} UTC (its last status) until now; taking over what it left",
                p.pid,
                status::datetime(p.down_since)
            ),
            Some(p) => info!(
                "the previous leakguard stopped at {} UTC",
                status::datetime(p.down_since)
            ),
            None => {}
        }
        let control = ControlServer::bind(&control::socket_path(&config.daemon.run_dir))
            .map_err(|e| format!("control socket: {e}"))?;
        // The table last: once it exists, packets are queued, and everything is ready for them.
        let firewall = Firewall::install(&config).map_err(|e| e.to_string())?;
        info!(
            "leakguard {} started: mode {}, queue {} via {} backend, table inet {}",
            crate::VERSION,
            status::mode_name(config.mode),
            config.firewall.queue,
            backend_name(firewall.backend()),
            firewall.table()
        );
        let queue_buf = vec![0u8; (copy_range as usize + 512).max(1 << 16)];
        let history = open_history(&config.history);
        let config = Rc::new(config);
        Ok(Daemon {
            config_path,
            alerts: Alerts::from_config(&config.alert),
            render: Render::new(&config),
            pipeline: Pipeline::new(Rc::clone(&config)),
            config,
            log,
            firewall: Some(firewall),
            queue,
            conntrack,
            nflog,
            tables,
            control,
            signals,
            counters: Counters::default(),
            started: unix_now(),
            started_at: Instant::now(),
            previous,
            block_bucket: Bucket::new(),
            blocks_full: LogOnce::default(),
            blocks_throttled: LogOnce::default(),
            flows_full: LogOnce::default(),
            evicted_seen: 0,
            queue_buf,
            event_buf: vec![0u8; 1 << 16],
            findings: Vec::new(),
            history,
            history_saved: Instant::now(),
        })
    }

    fn run_loop(&mut self) -> Result<(), String> {
        // The first status at once: a daemon killed in its first seconds leaves one too.
        if let Err(e) = status::write_atomic(&self.config.daemon.run_dir, &self.snapshot()) {
            warn!("writing the status file: {e}");
        }
        let mut last_check = Instant::now();
        let mut last_verify = Instant::now();
        let mut last_leases = Instant::now();
        loop {
            let (queue_ready, ct_ready, log_ready, control_ready, signal_ready, tables_ready) = {
                // Fixed capacity: the loop allocates nothing per wake-up.
                let mut fds: heapless::Vec<PollFd<'_>, 6> = heapless::Vec::new();
                let _ = fds.push(PollFd::new(self.queue.socket().as_fd(), PollFlags::POLLIN));
                let _ = fds.push(PollFd::new(self.control.fd(), PollFlags::POLLIN));
                let _ = fds.push(PollFd::new(self.signals.as_fd(), PollFlags::POLLIN));
                if let Some(c) = &self.conntrack {
                    let _ = fds.push(PollFd::new(c.socket().as_fd(), PollFlags::POLLIN));
                }
                if let Some(l) = &self.nflog {
                    let _ = fds.push(PollFd::new(l.socket().as_fd(), PollFlags::POLLIN));
                }
                if let Some(t) = &self.tables {
                    let _ = fds.push(PollFd::new(t.socket().as_fd(), PollFlags::POLLIN));
                }
                let timeout =
                    PollTimeout::try_from(TICK.as_millis() as i32).unwrap_or(PollTimeout::MAX);
                match poll(&mut fds, timeout) {
                    Ok(_) => {}
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(e) => return Err(format!("poll: {e}")),
                }
                let ready = |i: usize| {
                    fds.get(i)
                        .and_then(|f| f.revents())
                        .is_some_and(|r| !r.is_empty())
                };
                let ct_index = 3;
                let log_index = 3 + usize::from(self.conntrack.is_some());
                let tables_index = log_index + usize::from(self.nflog.is_some());
                (
                    ready(0),
                    self.conntrack.is_some() && ready(ct_index),
                    self.nflog.is_some() && ready(log_index),
                    ready(1),
                    ready(2),
                    self.tables.is_some() && ready(tables_index),
                )
            };
            if signal_ready && self.handle_signals() {
                return Ok(());
            }
            if queue_ready {
                self.handle_queue();
            }
            if ct_ready {
                self.handle_conntrack();
            }
            if log_ready {
                self.handle_nflog();
            }
            if control_ready {
                self.handle_control();
            }
            self.report_failed_blocks();
            if tables_ready && self.table_may_be_gone() {
                last_verify = Instant::now();
                self.check_table();
            }
            let verify_every = match self.tables {
                Some(_) => VERIFY_EVERY,
                None => CHECK_EVERY,
            };
            if last_verify.elapsed() >= verify_every {
                last_verify = Instant::now();
                self.check_table();
            }
            if last_check.elapsed() >= CHECK_EVERY {
                last_check = Instant::now();
                self.expire_blocks();
                self.report_evictions();
                if let Err(e) = status::write_atomic(&self.config.daemon.run_dir, &self.snapshot())
                {
                    warn!("writing the status file: {e}");
                }
                let every = Duration::from_secs(u64::from(self.config.history.save_interval));
                if self.history_saved.elapsed() >= every {
                    self.save_history();
                }
            }
            if last_leases.elapsed() >= LEASES_EVERY {
                last_leases = Instant::now();
                self.pipeline.refresh_leases();
            }
        }
    }

    /// Returns true when the daemon must stop.
    fn handle_signals(&mut self) -> bool {
        let mut stop = false;
        while let Ok(Some(info)) = self.signals.read_signal() {
            match Signal::try_from(info.ssi_signo as i32) {
                Ok(Signal::SIGHUP) => self.reload(),
                Ok(s @ (Signal::SIGTERM | Signal::SIGINT)) => {
                    info!("{s} received, stopping");
                    stop = true;
                }
                _ => {}
            }
        }
        stop
    }

    fn handle_queue(&mut self) {
        let Daemon {
            queue,
            queue_buf,
            pipeline,
            findings,
            counters,
            history,
            render,
            ..
        } = self;
        findings.clear();
        let result = queue.recv_batch(queue_buf, |pkt| {
            counters.packets += 1;
            let now = now_timestamp();
            let decision = nfqueue::judge(pipeline, now, &pkt, &mut |f, d| {
                counters.leaks += 1;
                findings.push((f.clone(), *d));
            });
            if let Some(h) = history.as_mut() {
                h.note_packet(pipeline, render, now.sec, decision.stops_packet());
            }
            if decision.mark == crate::decision::Mark::Clean {
                counters.bypassed += 1;
            }
            if decision.stops_packet() {
                counters.dropped += 1;
            }
            Some(nfqueue::queue_verdict(&decision, pkt.mark.unwrap_or(0)))
        });
        if let Err(e) = result {
            warn!("queue: {e}");
        }
        let stats = self.pipeline.stats();
        self.counters.bytes_inspected = stats.bytes_inspected;
        self.counters.flows_inspected = stats.flows_inspected;
        if !self.findings.is_empty() {
            let findings = std::mem::take(&mut self.findings);
            for (f, decision) in &findings {
                self.act_on(f, decision);
            }
            self.findings = findings;
        }
    }

    /// After the verdicts are out: install the block the decision ordered, and alert.
    fn act_on(&mut self, f: &Finding, decision: &Decision) {
        let mut action = decision.action.unwrap_or(Action::Reported);
        let mut block = None;
        let order = decision.block.as_ref().filter(|o| self.block_allowed(o));
        if let Some(order) = order {
            let device = self.render.device_name(f);
            match self
                .firewall
                .as_mut()
                .map(|fw| fw.order_block(order, device))
            {
                Some(Ok((_, expires_secs))) => {
                    block = Some(alert::Block {
                        scope: order.id.scope,
                        expires_secs,
                    });
                }
                Some(Err(e)) => error!("adding a block: {e}"),
                None => error!("adding a block: no firewall table"),
            }
            if block.is_none() {
                action = Action::Dropped;
            }
        } else if decision.block.is_some() {
            action = Action::Dropped;
        }
        let event = AlertEvent::new(&self.render, f, action, block);
        self.alerts.raise(&event);
        if let Some(h) = &mut self.history {
            h.record(f, &self.render.view(f, action, None));
        }
    }

    fn handle_conntrack(&mut self) {
        let Some(ct) = &mut self.conntrack else {
            return;
        };
        let pipeline = &mut self.pipeline;
        let counters = &mut self.counters;
        let result = ct.recv(&mut self.event_buf, |ev| {
            counters.conntrack_events += 1;
            // Subscribed to DESTROY only.
            let proto = match ev.proto {
                6 => Proto::Tcp,
                17 => Proto::Udp,
                _ => return,
            };
            pipeline.forget_flow(&FlowKey {
                proto,
                src: ev.src,
                sport: ev.sport,
                dst: ev.dst,
                dport: ev.dport,
            });
        });
        if let Err(e) = result {
            warn!("conntrack events: {e}");
        }
    }

    fn handle_nflog(&mut self) {
        let Some(log) = &mut self.nflog else {
            return;
        };
        let pipeline = &mut self.pipeline;
        if let Err(e) = log.recv(&mut self.event_buf, |pkt| {
            pipeline.observe_dns_answer(pkt.payload)
        }) {
            warn!("NFLOG: {e}");
        }
    }

    fn handle_control(&mut self) {
        // One deadline for this wake-up, whatever the number of clients (see control.rs).
        let deadline = ControlServer::wake_deadline();
        while let Some((request, responder)) = self.control.poll_request(deadline) {
            let sent = match request {
                Request::Status => responder.reply_json(&self.snapshot()),
                Request::History => match &self.history {
                    Some(h) => responder.reply_json(h.data()),
                    None => responder.error("the history is disabled (history.enabled = false)"),
                },
                Request::Reload => {
                    self.reload();
                    responder.ok()
                }
                Request::Device(id) => match self.device_mac(id) {
                    Some(mac) => responder.reply_json(&serde_json::json!({
                        "ok": true,
                        "mac": crate::finding::mac_text(&mac).as_str(),
                    })),
                    None => responder.error(
                        "no device with that id among the MACs this daemon has seen since it started",
                    ),
                },
                Request::Unblock(which) => match self.unblock(which) {
                    Ok(n) => responder.removed(n),
                    Err(e) => responder.error(&e),
                },
            };
            if let Err(e) = sent {
                warn!("control socket reply: {e}");
            }
        }
    }

    fn unblock(&mut self, which: Unblock) -> Result<u64, String> {
        let fw = self.firewall.as_mut().ok_or("no firewall table")?;
        match which {
            Unblock::All => {
                let n = fw.blocks().len() as u64;
                fw.remove_all_blocks().map_err(|e| e.to_string())?;
                info!("all blocks lifted ({n})");
                Ok(n)
            }
            Unblock::Id(n) => {
                let id = fw
                    .blocks()
                    .by_number(n)
                    .map(|e| e.id)
                    .ok_or_else(|| format!("no block with id {n}"))?;
                fw.remove_block(&id).map_err(|e| e.to_string())?;
                info!("block {n} lifted");
                Ok(1)
            }
        }
    }

    fn reload(&mut self) {
        let config = match Config::load(&self.config_path) {
            Ok(c) => c,
            Err(e) => {
                error!("reload refused, keeping the running config: {e}");
                return;
            }
        };
        let mut config = config;
        if config.firewall.queue != self.config.firewall.queue
            || config.detect.budget != self.config.detect.budget
        {
            // The queue's copy range was set from the budget at start: keep both as they run.
            warn!("firewall.queue and detect.budget changes take effect at the next restart");
            config.firewall.queue = self.config.firewall.queue;
            config.detect.budget = self.config.detect.budget;
        }
        // The table first: if nft refuses the new one, nothing of the new config is applied.
        if let Some(fw) = &mut self.firewall {
            if let Err(e) = fw.reconfigure(&config) {
                error!("reload refused, keeping the running config and table: {e}");
                return;
            }
        }
        if let Some(t) = &mut self.tables {
            t.watch(&config.firewall.table);
        }
        for w in &config.warnings {
            warn!("{w}");
        }
        self.reload_history(&config.history);
        // From here on one value, shared read-only: every stage sees the same configuration.
        let config = Rc::new(config);
        self.log.reload(&config.alert.syslog, LevelFilter::Info);
        self.alerts.reconfigure(&config.alert);
        self.render = Render::new(&config);
        self.pipeline.reload(Rc::clone(&config));
        self.config = config;
        info!("configuration reloaded from {}", self.config_path.display());
    }

    /// Whether a block may be added now: not when the block set is full or blocks come faster
    /// than [`BLOCKS_PER_SEC`] (the flow is dropped anyway; see [`MAX_BLOCKS`]). A block
    /// already in force is re-ordered freely (that costs no `nft` call).
    fn block_allowed(&mut self, order: &crate::decision::BlockOrder) -> bool {
        let now = Instant::now();
        let Some(fw) = &self.firewall else {
            return true;
        };
        if fw.blocks().get(&order.id, now).is_some() {
            return true;
        }
        // The registry's length, not a walk over its live entries: expired ones are pruned
        // every CHECK_EVERY and on every addition, and this runs for every leaking packet.
        if fw.blocks().len() >= MAX_BLOCKS {
            if let Some(n) = self.blocks_full.due(now) {
                warn!(
                    "block set full ({MAX_BLOCKS} blocks): leaking flows are still dropped, no \
                     new device/destination blocks until some expire ({n} not added since the \
                     last report)"
                );
            }
            return false;
        }
        // nft is slow or stuck (fw4 holding its lock): no backlog of additions that an unblock,
        // reload or restore would then wait for (see src/firewall/worker.rs).
        if fw.pending_blocks() >= MAX_PENDING_BLOCKS {
            if let Some(n) = self.blocks_throttled.due(now) {
                warn!(
                    "nft is behind ({MAX_PENDING_BLOCKS} block additions waiting): leaking flows \
                     are still dropped, the extra blocks are not added ({n} since the last report)"
                );
            }
            return false;
        }
        if !self.block_bucket.take(now) {
            if let Some(n) = self.blocks_throttled.due(now) {
                warn!(
                    "blocks ordered faster than {BLOCKS_PER_SEC}/s: leaking flows are still \
                     dropped, the extra blocks are not added ({n} since the last report)"
                );
            }
            return false;
        }
        true
    }

    /// The flow table's full policy (least recently used evicted), logged once a minute at
    /// most while it recurs.
    fn report_evictions(&mut self) {
        let evicted = self.pipeline.flows().evicted();
        if evicted > self.evicted_seen {
            let now = Instant::now();
            let new = evicted - self.evicted_seen;
            self.evicted_seen = evicted;
            // `due` counts one; the others of this batch are counted here.
            self.flows_full.since += new - 1;
            if let Some(n) = self.flows_full.due(now) {
                warn!(
                    "flow table full ({} flows): the least recently used are evicted, flows \
                     that only sent a SYN first ({n} evicted since the last report)",
                    self.config.detect.max_flows
                );
            }
        }
    }

    /// Reads the nftables events; whether one said our table was deleted (or some were lost).
    fn table_may_be_gone(&mut self) -> bool {
        let Some(t) = &mut self.tables else {
            return false;
        };
        match t.recv(&mut self.event_buf) {
            Ok(gone) => gone,
            Err(e) => {
                warn!("nftables events: {e}");
                true
            }
        }
    }

    /// `fw4 flush` or `nft flush ruleset` delete every table: put ours back.
    fn check_table(&mut self) {
        if let Some(fw) = &mut self.firewall {
            if !fw.present() {
                warn!("table inet {} is gone; restoring it", fw.table());
                if let Err(e) = fw.restore() {
                    error!("restoring the table: {e}");
                }
            }
            // fw4's flow offloading would let established flows skip the queue: take it over
            // (src/firewall/offload.rs), and say so whenever that changes.
            if let Some(state) = fw.check_offload() {
                if state.degraded() {
                    error!("flow offloading: {}", state.describe());
                } else {
                    info!("flow offloading: {}", state.describe());
                }
            }
        }
    }

    fn expire_blocks(&mut self) {
        if let Some(fw) = &mut self.firewall {
            fw.expire_blocks();
        }
    }

    /// Blocks the nft worker could not add (src/firewall/worker.rs): said once each. The flows
    /// that leaked stay dropped by their conntrack mark; only the device's next flows to that
    /// destination are no longer stopped before inspection.
    fn report_failed_blocks(&mut self) {
        if let Some(fw) = &mut self.firewall {
            for (id, e) in fw.failed_blocks() {
                error!("adding block {id} failed, it is not in force: {e}");
            }
        }
    }

    fn snapshot(&self) -> Status {
        let now = unix_now();
        let mut s = Status::new(self.config.mode, self.started, now);
        s.uptime_secs = self.started_at.elapsed().as_secs();
        s.pid = std::process::id();
        s.previous = self.previous.clone();
        let backend = self
            .firewall
            .as_ref()
            .map(|f| backend_name(f.backend()))
            .unwrap_or("none");
        s.queue_backend = backend.to_string();
        s.ruleset_backend = "nftables".to_string();
        s.offload = self
            .firewall
            .as_ref()
            .map(|f| f.offload_state().describe())
            .unwrap_or_default();
        s.counters = self.counters.clone();
        s.counters.flows_tracked = self.pipeline.flows().len() as u64;
        s.counters.flows_evicted = self.pipeline.flows().evicted();
        s.counters.alerts_suppressed = self.alerts.suppressed();
        s.counters.queue_enobufs = self.queue.stats().enobufs;
        s.recent_alerts = self.alerts.recent_vec();
        s.learned_macs = self.pipeline.detector().learned_macs() as u64;
        let instant = Instant::now();
        if let Some(fw) = &self.firewall {
            s.blocks = fw
                .blocks()
                .live(instant)
                .map(|e| BlockStatus {
                    id: e.number,
                    scope: crate::block::scope_name(e.id.scope).to_string(),
                    device: e.device.clone(),
                    src: e.id.src.map(|ip| ip.to_string()),
                    dst: e.id.dst_text(),
                    expires_in_secs: e.left(instant).map_or(0, |d| d.as_secs()),
                })
                .collect();
        }
        s
    }

    /// The MAC whose history digest is `id`: among the MACs the detector learned from frames
    /// and the config's devices (the digest cannot be reversed; only a known MAC is found).
    fn device_mac(&self, id: u64) -> Option<[u8; 6]> {
        let h = self.history.as_ref()?;
        let config = self.pipeline.config();
        self.pipeline
            .detector()
            .learned()
            .chain(config.devices.iter().flat_map(|d| d.mac.iter().copied()))
            .find(|m| h.key().device_id(m) == id)
    }

    /// Writes the history when something changed (and drops what aged out first).
    fn save_history(&mut self) {
        self.history_saved = Instant::now();
        let Some(h) = &mut self.history else { return };
        h.prune(unix_now() as i64);
        if !h.is_dirty() {
            return;
        }
        let path = &self.config.history.path;
        match store::save(path, h.data()) {
            Ok(_) => h.mark_saved(),
            Err(e) => warn!("writing the history to {}: {e}", path.display()),
        }
    }

    /// `[history]` changed on SIGHUP: new bounds apply at once; a new path or `enabled` is
    /// honoured by saving what is kept first.
    fn reload_history(&mut self, new: &crate::config::History) {
        let old = self.config.history.clone();
        if old.path != new.path || !new.enabled {
            self.save_history();
        }
        if !new.enabled {
            self.history = None;
            return;
        }
        match &mut self.history {
            Some(h) if old.path == new.path => h.set_limits(new.limits()),
            _ => {
                self.history = open_history(new);
                self.history_saved = Instant::now();
            }
        }
    }

    fn shutdown(&mut self) {
        self.save_history();
        if let Some(fw) = self.firewall.take() {
            let table = fw.table().to_string();
            match fw.remove() {
                Ok(()) => info!("table inet {table} removed"),
                Err(e) => error!("removing table inet {table}: {e}"),
            }
        }
        // The last status says the daemon stopped, and when: `status` and LuCI tell a clean
        // stop from a death (whose last status still says running).
        let mut last = self.snapshot();
        last.running = false;
        last.blocks.clear();
        if let Err(e) = status::write_atomic(&self.config.daemon.run_dir, &last) {
            warn!("writing the status file: {e}");
        }
    }
}

/// The history kept at `config.path`, or an empty one. A damaged file is set aside and
/// reported, never a reason not to start.
fn open_history(config: &crate::config::History) -> Option<History> {
    if !config.enabled {
        return None;
    }
    let key = match Key::load_or_create(&config.key_path()) {
        Ok(k) => k,
        Err(e) => {
            error!(
                "history key {}: {e}; values are told apart within this run only",
                config.key_path().display()
            );
            Key::random().ok()?
        }
    };
    let data = match store::load(&config.path) {
        store::Loaded::Missing => Default::default(),
        store::Loaded::Ok(data) => data,
        store::Loaded::Corrupt { reason, set_aside } => {
            match set_aside {
                Some(aside) => error!(
                    "history {} is damaged ({reason}): set aside as {}, starting a new one",
                    config.path.display(),
                    aside.display()
                ),
                None => error!(
                    "history {} is damaged ({reason}) and could not be set aside; starting a new one",
                    config.path.display()
                ),
            }
            Default::default()
        }
    };
    let mut history = History::from_data(data, config.limits(), key);
    history.prune(unix_now() as i64);
    Some(history)
}

fn backend_name(b: firewall::Backend) -> &'static str {
    match b {
        firewall::Backend::Nft => "nft",
        firewall::Backend::Xt => "xt",
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn now_timestamp() -> Timestamp {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp {
        sec: d.as_secs() as i64,
        nsec: d.subsec_nanos(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A condition recurring per packet is one line, then one a minute with the count.
    #[test]
    fn full_tables_are_logged_once_then_once_a_minute() {
        let mut once = LogOnce::default();
        let t = Instant::now();
        assert_eq!(once.due(t), Some(1));
        for i in 1..1000 {
            assert_eq!(once.due(t + Duration::from_millis(i)), None);
        }
        assert_eq!(once.due(t + FULL_LOG_EVERY), Some(1000));
        assert_eq!(once.due(t + FULL_LOG_EVERY + Duration::from_secs(1)), None);
    }

    #[test]
    fn block_additions_are_rate_limited() {
        let mut b = Bucket::new();
        let t = b.at;
        let burst = (0..100).filter(|_| b.take(t)).count();
        assert_eq!(burst, BLOCK_BURST as usize);
        // One second later: BLOCKS_PER_SEC more, not a new burst.
        let later = t + Duration::from_secs(1);
        let more = (0..100).filter(|_| b.take(later)).count();
        assert_eq!(more, BLOCKS_PER_SEC as usize);
    }
}
