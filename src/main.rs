//! The `leakguard` command: `scan` captures offline, `run` the inline daemon, and the small
//! commands that talk to it.

#![deny(unsafe_code)]

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use leakguard::config::{Config, Prefix};
use leakguard::decision::Action;
use leakguard::finding::Timestamp;
use leakguard::history::{report, store, History, Key};
use leakguard::output::{self, Format};
use leakguard::pipeline::{Pipeline, Stats};
use leakguard::render::Render;
use leakguard::source::CaptureReader;

/// Where the daemon and the small commands look for the config when none is given.
const DEFAULT_CONFIG: &str = "/etc/leakguard/leakguard.toml";

const USAGE: &str = "\
usage: leakguard scan [--config FILE] [--format text|json] [--lan CIDR]... [--report] [--per-file]
                     FILE...
       leakguard run [--config FILE] [--foreground]
       leakguard report [--device NAME|MAC] [--since 7d] [--json] [--config FILE | --file FILE]
       leakguard allow --device NAME|MAC --kind KIND --dst DEST [--config FILE]
       leakguard block --device NAME|MAC --kind KIND --dst DEST [--config FILE]
       leakguard status [--json] [--config FILE]
       leakguard unblock <ID|all> [--config FILE]
       leakguard check-config FILE
       leakguard rpcd list | call METHOD
       leakguard --version

scan     reads pcap/pcapng captures and prints the identifiers LAN devices leaked
         (exit 0: none, 1: leaks found, 2: an error); --report: the per-device report instead;
         flows and learned MACs carry across the files (rotated captures of one network),
         --per-file: each file scanned alone (unrelated captures)
report   what each device sent where (the running daemon's history, else its file)
allow    lets one report row through: an [[allow]] rule for that device, kind and
         destination (a host name, *.domain, an address or a prefix), written to the
         config (comments kept), validated, and the daemon reloaded
block    takes that row's allowance back (its leaks are then dropped in enforce mode)
run      the inline daemon: NFQUEUE + conntrack + its own nftables table
status   asks the running daemon for its counters, alerts and blocks
unblock  asks the running daemon to lift one block, or all
rpcd     the LuCI backend, as rpcd's exec plugin runs it (config: $LEAKGUARD_CONFIG or
         /etc/leakguard/leakguard.toml)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(command) = args.first() else {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    };
    let rest = &args[1..];
    let result = match command.as_str() {
        "--version" | "-V" | "version" => {
            println!("leakguard {}", leakguard::VERSION);
            Ok(ExitCode::SUCCESS)
        }
        "--help" | "-h" | "help" => {
            print!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        "scan" => scan(rest),
        "report" => report(rest),
        "check-config" => check_config(rest),
        "run" => run(rest),
        "status" => status(rest),
        "unblock" => unblock(rest),
        "allow" => allow_or_block(rest, true),
        "block" => allow_or_block(rest, false),
        "rpcd" => rpcd(rest),
        other => Err(format!("unknown command `{other}`\n{USAGE}")),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("leakguard: {message}");
            ExitCode::from(2)
        }
    }
}

/// Command-line words after the command: `--flag value` options and positional arguments.
struct Args<'a> {
    words: &'a [String],
    at: usize,
}

impl<'a> Args<'a> {
    fn new(words: &'a [String]) -> Self {
        Args { words, at: 0 }
    }

    fn next(&mut self) -> Option<&'a str> {
        let w = self.words.get(self.at)?;
        self.at += 1;
        Some(w.as_str())
    }

    fn value(&mut self, flag: &str) -> Result<&'a str, String> {
        self.next().ok_or_else(|| format!("{flag} needs a value"))
    }
}

fn load_config(path: Option<&str>) -> Result<Config, String> {
    match path {
        Some(p) => {
            let config = Config::load(Path::new(p)).map_err(|e| e.to_string())?;
            for w in &config.warnings {
                eprintln!("leakguard: warning: {w}");
            }
            Ok(config)
        }
        None => Ok(Config::default()),
    }
}

fn scan(words: &[String]) -> Result<ExitCode, String> {
    let mut args = Args::new(words);
    let mut config_path = None;
    let mut format = Format::Text;
    let mut lan = Vec::new();
    let mut files = Vec::new();
    let mut as_report = false;
    let mut per_file = false;
    while let Some(w) = args.next() {
        match w {
            "--config" | "-c" => config_path = Some(args.value(w)?),
            "--report" => as_report = true,
            "--per-file" => per_file = true,
            "--format" => {
                let v = args.value(w)?;
                format = Format::parse(v)
                    .ok_or_else(|| format!("--format: `{v}` is not text or json"))?;
            }
            "--lan" => {
                let v = args.value(w)?;
                lan.push(
                    Prefix::parse(v).ok_or_else(|| format!("--lan: `{v}` is not a CIDR prefix"))?,
                );
            }
            "--" => files.extend(args.words[args.at..].iter().map(PathBuf::from)),
            flag if flag.starts_with('-') && flag.len() > 1 => {
                return Err(format!("scan: unknown option `{flag}`"))
            }
            file => files.push(PathBuf::from(file)),
        }
        if w == "--" {
            break;
        }
    }
    if files.is_empty() {
        return Err(format!("scan: no capture file given\n{USAGE}"));
    }
    let mut config = load_config(config_path)?;
    if !lan.is_empty() {
        config.network.lan_prefixes = lan;
    }
    // With --report, findings go into a history (keyed with a key of this run only) and the
    // report is printed at the end, as `leakguard report` prints the daemon's.
    let mut history = if as_report {
        let key = Key::random().map_err(|e| format!("reading /dev/urandom: {e}"))?;
        Some(History::new(config.history.limits(), key))
    } else {
        None
    };
    let render = Render::new(&config);
    let config = std::rc::Rc::new(config);
    let mut pipeline = Pipeline::new(config.clone());
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut failed_files = 0usize;
    let mut write_error: Option<io::Error> = None;
    // Findings name their file: always in JSON, in text when there is more than one.
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let name_in_text = files.len() > 1;
    // The LAN devices are learned before any frame is inspected (of all files, or of each file
    // with --per-file): one rebuild of the detector instead of one per device (a device's MAC
    // is then also found in what was sent before its own first frame). Unreadable files are
    // reported by the scan below.
    let prelearn = |pipeline: &mut Pipeline, files: &[PathBuf]| {
        let mut macs = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for file in files {
            lan_senders(pipeline, file, &mut |mac| {
                if seen.insert(mac) {
                    macs.push(mac);
                }
            });
        }
        pipeline.learn_macs(macs);
    };
    if !per_file {
        prelearn(&mut pipeline, &files);
    }
    let mut totals = Stats::default();
    for (i, file) in files.iter().enumerate() {
        if per_file {
            if i > 0 {
                add_stats(&mut totals, pipeline.stats());
                pipeline = Pipeline::new(config.clone());
            }
            prelearn(&mut pipeline, std::slice::from_ref(file));
        }
        let name = names.get(i).map(String::as_str);
        let shown = match format {
            Format::Json => name,
            Format::Text => name.filter(|_| name_in_text),
        };
        let mut emit = |f: &leakguard::finding::Finding| {
            if write_error.is_none() {
                let view = render.view(f, Action::Reported, None);
                if let Err(e) = output::write_finding(&mut out, format, &view, shown) {
                    write_error = Some(e);
                }
            }
        };
        if let Err(message) = scan_file(&mut pipeline, file, &mut emit, history.as_mut(), &render) {
            eprintln!("leakguard: {}: {message}", file.display());
            failed_files += 1;
        }
        if let Some(e) = &write_error {
            if e.kind() == io::ErrorKind::BrokenPipe {
                return Ok(ExitCode::from(2));
            }
            return Err(format!("writing findings: {e}"));
        }
    }
    if let Some(h) = &history {
        let data = report::select(h.data(), Some(h.key()), &report::Filter::default())?;
        let text = match format {
            Format::Text => report::render_text(&data),
            Format::Json => report::render_json(&data, unix_now()),
        };
        if let Err(e) = out.write_all(text.as_bytes()) {
            if e.kind() == io::ErrorKind::BrokenPipe {
                return Ok(ExitCode::from(2));
            }
            return Err(format!("writing the report: {e}"));
        }
    }
    out.flush().map_err(|e| format!("writing findings: {e}"))?;
    add_stats(&mut totals, pipeline.stats());
    let s = totals;
    eprintln!(
        "leakguard: {} file(s), {} packets, {} flows inspected, {} bytes inspected, {} finding(s){}",
        files.len(),
        s.packets,
        s.flows_inspected,
        s.bytes_inspected,
        s.findings,
        if failed_files > 0 {
            format!(", {failed_files} file(s) with errors")
        } else {
            String::new()
        }
    );
    Ok(if failed_files > 0 {
        ExitCode::from(2)
    } else if s.findings > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Adds one pipeline's counters to the totals of a `--per-file` scan.
fn add_stats(totals: &mut Stats, s: Stats) {
    totals.packets += s.packets;
    totals.undecodable += s.undecodable;
    totals.bytes_inspected += s.bytes_inspected;
    totals.flows_inspected += s.flows_inspected;
    totals.flows_clean += s.flows_clean;
    totals.findings += s.findings;
    totals.allowed += s.allowed;
}

/// The MACs of the LAN devices sending in one capture (see `Pipeline::lan_sender`, which also
/// learns the devices' IPv6 addresses), up to where it is damaged.
fn lan_senders(pipeline: &mut Pipeline, path: &Path, found: &mut dyn FnMut([u8; 6])) {
    let Ok(file) = File::open(path) else {
        return;
    };
    let Ok(mut reader) = CaptureReader::new(file) else {
        return;
    };
    while let Ok(Some(rec)) = reader.next_record() {
        if let Some(mac) = pipeline.lan_sender(rec.link, rec.data) {
            found(mac);
        }
    }
}

/// Scans one capture; an unreadable or damaged file is an error naming where it went wrong, and
/// what was read before the damage is still scanned.
fn scan_file(
    pipeline: &mut Pipeline,
    path: &Path,
    emit: &mut dyn FnMut(&leakguard::finding::Finding),
    mut history: Option<&mut History>,
    render: &Render,
) -> Result<(), String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let mut reader = CaptureReader::new(file).map_err(|e| e.to_string())?;
    // Link types this file uses that leakguard cannot read (pcapng mixes interfaces): named once
    // per file, their frames skipped, the rest of the file still scanned.
    let mut unsupported: Vec<u32> = Vec::new();
    let result = loop {
        match reader.next_record() {
            Ok(Some(rec)) => {
                let time = Timestamp {
                    sec: rec.ts_sec,
                    nsec: rec.ts_nsec,
                };
                // A frame that does not decode is ordinary traffic for a scanner: counted, skipped.
                let result = match history.as_deref_mut() {
                    None => pipeline.handle_frame(time, rec.link, rec.data, emit),
                    Some(h) => {
                        let result = pipeline.handle_frame(time, rec.link, rec.data, &mut |f| {
                            h.record(f, &render.view(f, Action::Reported, None))
                        });
                        h.note_packet(pipeline, render, time.sec, false);
                        result
                    }
                };
                if result == Err(leakguard::packet::Error::Unsupported("link type"))
                    && !unsupported.contains(&rec.link)
                {
                    unsupported.push(rec.link);
                }
            }
            Ok(None) => break Ok(()),
            Err(e) => break Err(e.to_string()),
        }
    };
    note_unsupported(path, &unsupported);
    result
}

/// A capture's link types that leakguard cannot read, named once per file on stderr. Not an
/// error: the capture is valid, it only holds no frames leakguard can inspect (exit status 2
/// stays for damaged files and bad input).
fn note_unsupported(path: &Path, links: &[u32]) {
    if !links.is_empty() {
        let list: Vec<String> = links.iter().map(u32::to_string).collect();
        eprintln!(
            "leakguard: {}: unsupported link type {} (frames skipped)",
            path.display(),
            list.join(", ")
        );
    }
}

/// `leakguard report`: the running daemon's history, or (not running, or `--file`) the kept file.
fn report(words: &[String]) -> Result<ExitCode, String> {
    let mut args = Args::new(words);
    let mut config_path = None;
    let mut file = None;
    let mut json = false;
    let mut filter = report::Filter::default();
    while let Some(w) = args.next() {
        match w {
            "--config" | "-c" => config_path = Some(args.value(w)?),
            "--file" => file = Some(PathBuf::from(args.value(w)?)),
            "--json" => json = true,
            "--device" => filter.device = Some(args.value(w)?.to_string()),
            "--since" => {
                let v = args.value(w)?;
                let secs = report::parse_since(v).ok_or_else(|| {
                    format!("--since: `{v}` is not a duration (e.g. 90m, 12h, 7d, 2w)")
                })?;
                filter.since = Some(unix_now() - secs);
            }
            other => return Err(format!("report: unknown argument `{other}`")),
        }
    }
    let config = load_config(config_path.or(default_config_if_present()))?;
    let (data, path) = match file {
        Some(f) => (read_history(&f)?, f),
        None => {
            let socket = leakguard::daemon::control::socket_path(&config.daemon.run_dir);
            match leakguard::daemon::control::history(&socket) {
                Ok(data) => (data, config.history.path.clone()),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused
                    ) =>
                {
                    (
                        read_history(&config.history.path)?,
                        config.history.path.clone(),
                    )
                }
                Err(e) => return Err(e.to_string()),
            }
        }
    };
    let mut key_path = path.into_os_string();
    key_path.push(".key");
    let key = std::fs::read(&key_path)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
        .map(Key::from_bytes);
    let data = report::select(&data, key.as_ref(), &filter)?;
    let text = if json {
        report::render_json(&data, unix_now())
    } else {
        report::render_text(&data)
    };
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

fn read_history(path: &Path) -> Result<leakguard::history::HistoryData, String> {
    Ok(store::read(path)?.unwrap_or_default())
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn check_config(words: &[String]) -> Result<ExitCode, String> {
    let [file] = words else {
        return Err(format!("check-config needs exactly one FILE\n{USAGE}"));
    };
    let config = load_config(Some(file))?;
    println!(
        "{file}: ok ({} device(s), mode {})",
        config.devices.len(),
        match config.mode {
            leakguard::config::Mode::Enforce => "enforce",
            leakguard::config::Mode::Monitor => "monitor",
        }
    );
    Ok(ExitCode::SUCCESS)
}

fn run(words: &[String]) -> Result<ExitCode, String> {
    let mut args = Args::new(words);
    let mut config_path = DEFAULT_CONFIG;
    let mut foreground = false;
    while let Some(w) = args.next() {
        match w {
            "--config" | "-c" => config_path = args.value(w)?,
            "--foreground" | "-f" => foreground = true,
            other => return Err(format!("run: unknown argument `{other}`")),
        }
    }
    leakguard::daemon::run(Path::new(config_path), foreground).map(|()| ExitCode::SUCCESS)
}

fn status(words: &[String]) -> Result<ExitCode, String> {
    let mut args = Args::new(words);
    let mut config_path = None;
    let mut json = false;
    while let Some(w) = args.next() {
        match w {
            "--config" | "-c" => config_path = Some(args.value(w)?),
            "--json" => json = true,
            other => return Err(format!("status: unknown argument `{other}`")),
        }
    }
    let config = load_config(config_path.or(default_config_if_present()))?;
    let text = leakguard::daemon::status(&config, json)?;
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

fn unblock(words: &[String]) -> Result<ExitCode, String> {
    let mut args = Args::new(words);
    let mut config_path = None;
    let mut target = None;
    while let Some(w) = args.next() {
        match w {
            "--config" | "-c" => config_path = Some(args.value(w)?),
            t if target.is_none() && !t.starts_with('-') => target = Some(t),
            other => return Err(format!("unblock: unexpected argument `{other}`")),
        }
    }
    let target = target.ok_or_else(|| format!("unblock needs an ID or `all`\n{USAGE}"))?;
    let config = load_config(config_path.or(default_config_if_present()))?;
    let text = leakguard::daemon::unblock(&config, target)?;
    println!("{text}");
    Ok(ExitCode::SUCCESS)
}

/// `leakguard allow` / `leakguard block`: the same code as LuCI's (`leakguard::edit`).
fn allow_or_block(words: &[String], allowing: bool) -> Result<ExitCode, String> {
    let command = if allowing { "allow" } else { "block" };
    let mut args = Args::new(words);
    let mut config_path = DEFAULT_CONFIG;
    let (mut device, mut kind, mut dst) = (None, None, None);
    while let Some(w) = args.next() {
        match w {
            "--config" | "-c" => config_path = args.value(w)?,
            "--device" => device = Some(args.value(w)?),
            "--kind" => kind = Some(args.value(w)?),
            "--dst" => dst = Some(args.value(w)?),
            other => return Err(format!("{command}: unknown argument `{other}`")),
        }
    }
    let (Some(device), Some(kind), Some(dst)) = (device, kind, dst) else {
        return Err(format!(
            "{command} needs --device, --kind and --dst\n{USAGE}"
        ));
    };
    let row =
        leakguard::edit::Row::parse(device, kind, dst).map_err(|e| format!("{command}: {e}"))?;
    let path = Path::new(config_path);
    let applied = leakguard::edit::apply_row(path, &row, allowing).map_err(|e| e.to_string())?;
    println!("{}", applied.message);
    match &applied.written {
        None => println!("{}: unchanged", path.display()),
        Some(w) => match &w.reload {
            Ok(mode) => println!(
                "{}: written; the daemon reloaded it{}",
                path.display(),
                mode.as_deref()
                    .map(|m| format!(" (running in {m} mode)"))
                    .unwrap_or_default()
            ),
            Err(e) => println!(
                "{}: written; the daemon did not reload it ({e}): it takes effect at its next start",
                path.display()
            ),
        },
    }
    Ok(ExitCode::SUCCESS)
}

fn default_config_if_present() -> Option<&'static str> {
    Path::new(DEFAULT_CONFIG).exists().then_some(DEFAULT_CONFIG)
}

/// The rpcd exec plugin (`/usr/libexec/rpcd/luci.leakguard`): see `src/rpcd.rs`.
fn rpcd(words: &[String]) -> Result<ExitCode, String> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let code = leakguard::rpcd::main(words, &mut io::stdin().lock(), &mut out)
        .map_err(|e| format!("rpcd: {e}"))?;
    out.flush().map_err(|e| format!("rpcd: {e}"))?;
    Ok(ExitCode::from(code))
}
