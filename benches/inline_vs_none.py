#!/usr/bin/env python3
"""What the inline daemon costs: the same LAN/ROUTER/WAN namespaces as tests/netns.rs, measured
side by side in one run without and with `leakguard run --foreground` in the router namespace.

    cargo build --release
    python3 benches/inline_vs_none.py [--cycles 3] [--modes none,daemon,ct,rules] [--bin target/release/leakguard]   # as root

Rounds alternate so that drift in a shared machine's load hits every side alike: each cycle runs
one round per mode, by default in the order
  none    bare forwarding: no ruleset, so no conntrack in the router namespace (without),
  daemon  the daemon running (with),
  ct      a minimal stateful firewall (`ct state established,related accept`): conntrack on, as
          fw4 has it on every OpenWrt router, so daemon/ct is the daemon's cost on a real router,
  rules   the daemon's own nft table and xt NFQUEUE rules restored with no daemon (the queue rule
          has `bypass`, so packets pass): the kernel's share of the daemon's cost.
Each round measures
  1. iperf3 bulk TCP LAN->WAN (-t 5) and WAN->LAN (-R),
  2. wrk -t2 -c32 -d5s with `Connection: close` against nginx in WAN: every request is a new
     connection, so every request's first data packet is queued to the daemon,
  3. the RTT of N UDP datagrams to an echo server in WAN, each from a new source port (a new
     flow, so each one is queued).
Then, with a fresh daemon ([detect] max_flows = 16384):
  4. 16,384 distinct UDP flows from 32 LAN addresses: VmRSS and flows_tracked,
  5. 100,000 more new flows: flows_tracked stays <= 16384, flows_evicted, VmRSS again.

Needs root, ip, nft, conntrack, iperf3, wrk, nginx (apt-get install iproute2 nftables conntrack
iperf3 wrk nginx-light). Every address is inside the namespaces this script creates and deletes
(try/finally); every loop and command is bounded in count and time.

The script is also its own WAN helper: `inline_vs_none.py _udp PORT_ECHO PORT_DISCARD READY`.
"""
import argparse
import json
import os
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

LAN_IP, ROUTER_LAN_IP, ROUTER_WAN_IP, WAN_IP = "192.168.77.2", "192.168.77.1", "198.51.100.1", "198.51.100.2"
HTTP_PORT, IPERF_PORT, ECHO_PORT, DISCARD_PORT = 8080, 5201, 5683, 5684
QUEUE = 41
TABLE = "leakguard"
# Extra LAN addresses for the flow-table test: 192.168.77.10 .. .41 (32 addresses).
EXTRA_ADDRS = ["192.168.77.%d" % i for i in range(10, 42)]
# Source ports: the kernel's ephemeral range is moved above these (wrk, iperf3 use it).
LATENCY_PORT_BASE = 1024  # round k uses LATENCY_PORT_BASE + k*N ..
FLOW_PORT_BASE = 26000  # 16384 flows: 32 addresses x 512 ports
FLOOD_PORT_BASE = 27000  # 100,000 flows: 32 addresses x 3125 ports
EPHEMERAL = "32768 65000"
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------------------------
# WAN helper: UDP echo and discard


def serve_udp(echo_port, discard_port, ready_file):
    echo = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    echo.bind((WAN_IP, int(echo_port)))
    discard = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    discard.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    discard.bind((WAN_IP, int(discard_port)))
    with open(ready_file + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename(ready_file + ".tmp", ready_file)
    while True:
        r, _, _ = select.select([echo, discard], [], [], 1.0)
        for s in r:
            data, peer = s.recvfrom(65535)
            if s is echo:
                s.sendto(data, peer)


# ---------------------------------------------------------------------------------------------
# processes


def run(argv, timeout=30, check=True, ns=None):
    if ns:
        argv = ["ip", "netns", "exec", ns] + argv
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise RuntimeError("timed out after %ss: %s" % (timeout, " ".join(argv))) from e
    if check and p.returncode != 0:
        raise RuntimeError("failed (%d): %s\n%s%s" % (p.returncode, " ".join(argv), p.stdout, p.stderr))
    return p


def cpu_ticks(pid):
    """utime + stime of a process, in clock ticks (None when it is gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return None


def status_field(pid, key):
    """A kB field of /proc/PID/status (VmRSS, RssAnon, ...), or Pss from smaps_rollup."""
    try:
        with open("/proc/%d/%s" % (pid, "smaps_rollup" if key == "Pss" else "status")) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])  # kB
    except OSError:
        pass
    return None


class Bench:
    def __init__(self, args):
        self.args = args
        self.bin = os.path.abspath(args.bin)
        self.dir = tempfile.mkdtemp(prefix="leakguard-bench-")
        base = "lgb%d" % os.getpid()
        self.lan, self.router, self.wan = base + "l", base + "r", base + "w"
        self.namespaces = []
        self.children = []
        self.daemon = None
        self.daemon_n = 0
        self.nginx_pids = []

    # -- topology ------------------------------------------------------------------------------

    def ip(self, *args):
        run(["ip"] + list(args), timeout=10)

    @staticmethod
    def remove_stale_namespaces():
        """Deletes the namespaces of an earlier run of this script that was killed (pid gone)."""
        for line in run(["ip", "netns", "list"], check=False).stdout.splitlines():
            name = line.split()[0] if line.split() else ""
            digits = name[3:-1]
            if name.startswith("lgb") and digits.isdigit() and int(digits) != os.getpid() \
                    and not os.path.exists("/proc/" + digits):
                for pid in run(["ip", "netns", "pids", name], check=False).stdout.split():
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except (OSError, ValueError):
                        pass
                run(["ip", "netns", "del", name], check=False)

    def build(self):
        self.remove_stale_namespaces()
        l, r, w = self.lan, self.router, self.wan
        for ns in (l, r, w):
            self.ip("netns", "add", ns)
            self.namespaces.append(ns)
            self.ip("-n", ns, "link", "set", "lo", "up")
        self.ip("-n", l, "link", "add", "lan0", "type", "veth", "peer", "name", "br-lan", "netns", r)
        self.ip("-n", r, "link", "add", "wan", "type", "veth", "peer", "name", "wan0", "netns", w)
        for ns, dev, v4, v6 in [
            (l, "lan0", "192.168.77.2/24", "fd77::2/64"),
            (r, "br-lan", "192.168.77.1/24", "fd77::1/64"),
            (r, "wan", "198.51.100.1/24", "fd99::1/64"),
            (w, "wan0", "198.51.100.2/24", "fd99::2/64"),
        ]:
            self.ip("-n", ns, "addr", "add", v4, "dev", dev)
            self.ip("-n", ns, "-6", "addr", "add", v6, "dev", dev, "nodad")
            self.ip("-n", ns, "link", "set", dev, "up")
        for a in EXTRA_ADDRS:
            self.ip("-n", l, "addr", "add", a + "/24", "dev", "lan0")
        self.ip("-n", l, "route", "add", "default", "via", ROUTER_LAN_IP)
        self.ip("-n", l, "-6", "route", "add", "default", "via", "fd77::1")
        self.ip("-n", w, "route", "add", "default", "via", ROUTER_WAN_IP)
        self.ip("-n", w, "-6", "route", "add", "default", "via", "fd99::1")
        for ns, keys in [
            (r, ["net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"]),
            (l, ["net.ipv4.tcp_tw_reuse=1", "net.ipv4.ip_local_port_range=" + EPHEMERAL]),
            (w, ["net.core.somaxconn=4096", "net.ipv4.tcp_max_syn_backlog=4096", "net.ipv4.tcp_tw_reuse=1"]),
        ]:
            for k in keys:
                run(["sysctl", "-q", "-w", k], ns=ns)
        self.start_servers()
        # Neighbour entries for every LAN address now, so no ARP round trip is measured later.
        out = run([sys.executable, os.path.abspath(__file__), "_warm"], ns=l, timeout=30)
        if "ok" not in out.stdout:
            raise RuntimeError("the UDP echo does not answer through the router: %s" % out.stdout)

    def spawn(self, ns, name, argv):
        log = open(os.path.join(self.dir, name + ".log"), "wb")
        p = subprocess.Popen(["ip", "netns", "exec", ns] + argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        self.children.append(p)
        return p

    def log_of(self, name):
        try:
            with open(os.path.join(self.dir, name + ".log"), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_for(self, what, pred, timeout=10.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if pred():
                return
            time.sleep(0.05)
        raise RuntimeError("%s did not happen within %ss" % (what, timeout))

    def port_open(self, ns, port, proto="t"):
        out = run(["ss", "-Hln" + proto], ns=ns, check=False).stdout
        return (":%d " % port) in out

    def start_servers(self):
        w = self.wan
        self.spawn(w, "iperf3", ["iperf3", "-s", "-B", WAN_IP, "-p", str(IPERF_PORT)])
        ready = os.path.join(self.dir, "udp.ready")
        self.spawn(w, "udp", [sys.executable, os.path.abspath(__file__), "_udp", str(ECHO_PORT), str(DISCARD_PORT), ready])
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(
                """worker_processes 2;
daemon off;
master_process on;
pid %(d)s/nginx.pid;
error_log %(d)s/nginx-error.log warn;
events { worker_connections 8192; }
http {
    access_log off;
    client_body_temp_path %(d)s/nginx-body;
    proxy_temp_path %(d)s/nginx-proxy;
    server {
        listen %(ip)s:%(port)d backlog=4096;
        location / { return 200 "ok\\n"; }
    }
}
"""
                % {"d": self.dir, "ip": WAN_IP, "port": HTTP_PORT}
            )
        self.spawn(w, "nginx", ["nginx", "-c", conf, "-p", self.dir])
        self.wait_for("iperf3 listening", lambda: self.port_open(w, IPERF_PORT))
        self.wait_for("nginx listening", lambda: self.port_open(w, HTTP_PORT))
        self.wait_for("udp echo ready", lambda: os.path.exists(ready))
        pidfile = os.path.join(self.dir, "nginx.pid")
        self.wait_for("nginx pid file", lambda: os.path.exists(pidfile))
        master = int(open(pidfile).read().strip())
        self.wait_for("nginx workers", lambda: len(self.children_of(master)) >= 2)
        self.nginx_pids = [master] + self.children_of(master)

    @staticmethod
    def children_of(pid):
        try:
            with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
                return [int(x) for x in f.read().split()]
        except OSError:
            return []

    def cleanup(self):
        self.stop_daemon()
        for p in self.children:
            if p.poll() is None:
                p.kill()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        for ns in self.namespaces:
            out = run(["ip", "netns", "pids", ns], check=False, timeout=5).stdout
            for pid in out.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (OSError, ValueError):
                    pass
        for ns in self.namespaces:
            run(["ip", "netns", "del", ns], check=False, timeout=10)
        if self.args.keep:
            print("kept scratch directory %s" % self.dir, file=sys.stderr)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    # -- daemon --------------------------------------------------------------------------------

    def start_daemon(self, max_flows=16384):
        self.daemon_n += 1
        d = os.path.join(self.dir, "daemon-%d" % self.daemon_n)
        os.makedirs(d)
        syslog_path = os.path.join(d, "log.sock")
        cfg = os.path.join(d, "leakguard.toml")
        with open(cfg, "w") as f:
            f.write(
                """# written by benches/inline_vs_none.py (the shape of tests/netns/daemon.rs)
mode = "enforce"

[network]
lan_prefixes = ["192.168.77.0/24", "fd77::/64"]
lan_interfaces = ["br-lan"]

[detect]
budget = 4096
max_flows = %(max_flows)d

[firewall]
table = "%(table)s"
queue = %(queue)d
backend = "auto"
scope = "device-destination"
block_timeout = 120
tcp_reset = true

[alert]
syslog = "%(syslog)s"
rate_limit = 0
recent = 50

[daemon]
run_dir = "%(run)s"
nflog_group = %(nflog)d

[history]
path = "%(run)s/history.json"
"""
                % {"max_flows": max_flows, "table": TABLE, "queue": QUEUE, "syslog": syslog_path,
                   "run": os.path.join(d, "run"), "nflog": QUEUE + 100}
            )
        # The syslog socket exists before the daemon starts, as /dev/log does on a router.
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(syslog_path)
        sock.settimeout(0.2)
        stop = threading.Event()
        lines = []

        def drain():
            while not stop.is_set():
                try:
                    lines.append(sock.recv(65536).decode("utf-8", "replace"))
                except (socket.timeout, TimeoutError):
                    pass
                except OSError:
                    return

        t = threading.Thread(target=drain, daemon=True)
        t.start()
        log = open(os.path.join(d, "stderr.log"), "wb")
        p = subprocess.Popen(["ip", "netns", "exec", self.router, self.bin, "run", "--config", cfg, "--foreground"],
                             stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        self.daemon = {"proc": p, "pid": p.pid, "cfg": cfg, "dir": d, "sock": sock, "stop": stop, "thread": t, "lines": lines}
        deadline = time.time() + 15
        while time.time() < deadline:
            if p.poll() is not None:
                break
            if run(["nft", "list", "table", "inet", TABLE], ns=self.router, check=False).returncode == 0:
                try:
                    self.status()
                    return self.daemon
                except RuntimeError:
                    pass
            time.sleep(0.1)
        err = open(os.path.join(d, "stderr.log"), "rb").read().decode("utf-8", "replace")
        raise RuntimeError("the daemon did not become ready (exit %s):\n%s" % (p.poll(), err))

    def status(self):
        out = run([self.bin, "status", "--json", "--config", self.daemon["cfg"]], timeout=5, check=False)
        if out.returncode != 0:
            raise RuntimeError("leakguard status: %s %s" % (out.stdout, out.stderr))
        return json.loads(out.stdout)

    def stop_daemon(self):
        d, self.daemon = self.daemon, None
        if d is not None:
            p = d["proc"]
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(timeout=5)
            d["stop"].set()
            d["thread"].join(timeout=2)
            d["sock"].close()
        # A "without" round must see a router with no rules at all.
        if self.router in self.namespaces:
            run(["nft", "flush", "ruleset"], ns=self.router, check=False)

    # -- measurements --------------------------------------------------------------------------

    def settle(self):
        run(["conntrack", "-F"], ns=self.router, check=False)
        time.sleep(self.args.settle)

    def iperf(self, reverse):
        argv = ["iperf3", "-c", WAN_IP, "-p", str(IPERF_PORT), "-t", str(self.args.iperf_time), "-J"]
        if reverse:
            argv.append("-R")
        out = run(argv, ns=self.lan, timeout=self.args.iperf_time + 20, check=False)
        try:
            j = json.loads(out.stdout)
            end = j["end"]
            return {"gbps": end["sum_received"]["bits_per_second"] / 1e9,
                    "retr": end.get("sum_sent", {}).get("retransmits", 0)}
        except (ValueError, KeyError) as e:
            raise RuntimeError("iperf3: %s\n%s%s" % (e, out.stdout[-2000:], out.stderr)) from e

    def wrk(self):
        url = "http://%s:%d/" % (WAN_IP, HTTP_PORT)
        t0 = [cpu_ticks(p) or 0 for p in self.nginx_pids]
        start = time.time()
        out = run(["wrk", "-t2", "-c32", "-d%ds" % self.args.wrk_time, "--timeout", "2s", "-H", "Connection: close", url],
                  ns=self.lan, timeout=self.args.wrk_time + 20, check=False)
        wall = time.time() - start
        t1 = [cpu_ticks(p) or 0 for p in self.nginx_pids]
        rps = None
        errors = ""
        for line in out.stdout.splitlines():
            if line.startswith("Requests/sec:"):
                rps = float(line.split()[1])
            if "Socket errors" in line or "Non-2xx" in line:
                errors += line.strip() + "; "
        if rps is None:
            raise RuntimeError("wrk: no rate\n%s%s" % (out.stdout, out.stderr))
        nginx_cpu = (sum(t1) - sum(t0)) / CLK_TCK / wall * 100.0
        return {"rps": rps, "nginx_cpu": nginx_cpu, "errors": errors.strip()}

    def udp_latency(self, round_no):
        n = self.args.latency_n
        base = LATENCY_PORT_BASE + round_no * n
        if base + n > FLOW_PORT_BASE:
            raise RuntimeError("too many rounds for the latency port range")
        # Runs in the LAN namespace: this script, as a child, with `_latency`.
        out = run([sys.executable, os.path.abspath(__file__), "_latency", str(base), str(n)],
                  ns=self.lan, timeout=60)
        rtts = json.loads(out.stdout)
        ok = sorted(x for x in rtts if x is not None)
        if not ok:
            raise RuntimeError("no UDP echo answered")
        return {"median_us": percentile(ok, 50), "p99_us": percentile(ok, 99), "lost": len(rtts) - len(ok)}

    def apply_mode(self, mode):
        """none: bare forwarding (no ruleset, so no conntrack in the router namespace);
        ct: a minimal stateful router firewall (conntrack on, as fw4 has on every OpenWrt);
        rules: the daemon's own ruleset loaded by nft with no daemon (its queue rule has
        `bypass`, so packets pass): the kernel's share of the cost; daemon: the daemon."""
        if mode == "daemon":
            self.start_daemon()
        elif mode == "ct":
            path = os.path.join(self.dir, "ct.nft")
            with open(path, "w") as f:
                f.write("table inet bench {\n chain forward {\n  type filter hook forward priority 0; policy accept;\n"
                        "  ct state established,related accept\n  ct state invalid drop\n }\n}\n")
            run(["nft", "-f", path], ns=self.router)
        elif mode == "rules":
            # The table as nft lists it, and the xt NFQUEUE rules (the daemon falls back to them
            # where the kernel lacks nft_queue) as iptables-save wrote them.
            nft_path, v4_path, v6_path = (os.path.join(self.dir, "daemon-" + n) for n in ("table.nft", "v4.rules", "v6.rules"))
            for path, text in zip((nft_path, v4_path, v6_path), self.daemon_ruleset):
                with open(path, "w") as f:
                    f.write(text)
            run(["nft", "-f", nft_path], ns=self.router)
            for tool, path in (("iptables-restore", v4_path), ("ip6tables-restore", v6_path)):
                if "NFQUEUE" in open(path).read():
                    run(["sh", "-c", '%s < "%s"' % (tool, path)], ns=self.router)

    def capture_ruleset(self):
        self.start_daemon()
        try:
            self.daemon_ruleset = (
                run(["nft", "list", "table", "inet", TABLE], ns=self.router).stdout,
                run(["iptables-save", "-t", "filter"], ns=self.router, check=False).stdout,
                run(["ip6tables-save", "-t", "filter"], ns=self.router, check=False).stdout,
            )
        finally:
            self.stop_daemon()

    def round(self, round_no, mode):
        with_daemon = mode == "daemon"
        res = {"daemon": with_daemon, "mode": mode}
        self.apply_mode(mode)
        try:
            self.settle()
            pid = self.daemon["pid"] if self.daemon else None
            c0 = cpu_ticks(pid) if pid else None
            res["iperf_fwd"] = self.iperf(False)
            self.settle()
            res["iperf_rev"] = self.iperf(True)
            self.settle()
            c1 = cpu_ticks(pid) if pid else None
            res["wrk"] = self.wrk()
            c2 = cpu_ticks(pid) if pid else None
            self.settle()
            res["udp"] = self.udp_latency(round_no)
            if pid:
                res["daemon_cpu_iperf"] = (c1 - c0) / CLK_TCK
                res["daemon_cpu_wrk"] = (c2 - c1) / CLK_TCK / self.args.wrk_time * 100.0
                st = self.status()
                res["status"] = st.get("counters", {})
                res["rss_kb"] = status_field(pid, "VmRSS")
                if self.daemon["proc"].poll() is not None:
                    raise RuntimeError("the daemon exited during the round")
        finally:
            self.stop_daemon()
        return res

    def send_flows(self, port_base, ports_per_addr, passes=1):
        """One small clean datagram from every (extra address, port) to the discard port."""
        total = 0
        for _ in range(passes):
            out = run([sys.executable, os.path.abspath(__file__), "_flows", str(port_base), str(ports_per_addr)],
                      ns=self.lan, timeout=300)
            total += int(out.stdout.strip() or 0)
        return total

    def flow_table(self):
        d = self.start_daemon(max_flows=16384)
        try:
            pid = d["pid"]
            self.settle()
            res = {"rss0_kb": status_field(pid, "VmRSS"), "pss0_kb": status_field(pid, "Pss"), "anon0_kb": status_field(pid, "RssAnon"),
                   "file0_kb": status_field(pid, "RssFile")}
            per_addr = 16384 // len(EXTRA_ADDRS)
            # Up to three passes of the same 16,384 tuples: a pass can lose datagrams when the
            # queue overflows; a repeat of a tuple is no new flow.
            sent = 0
            for _ in range(3):
                sent += self.send_flows(FLOW_PORT_BASE, per_addr)
                time.sleep(1.0)
                tracked = self.status()["counters"].get("flows_tracked", 0)
                if tracked >= 16384:
                    break
            st = self.status()["counters"]
            res.update({"sent16k": sent, "tracked16k": st.get("flows_tracked"), "evicted16k": st.get("flows_evicted"),
                        "rss16k_kb": status_field(pid, "VmRSS"), "hwm16k_kb": status_field(pid, "VmHWM"),
                        "pss16k_kb": status_field(pid, "Pss"), "anon16k_kb": status_field(pid, "RssAnon"), "file16k_kb": status_field(pid, "RssFile"),
                        "counters16k": st})
            t0 = time.time()
            sent = self.send_flows(FLOOD_PORT_BASE, 100000 // len(EXTRA_ADDRS) + 1)
            res["flood_secs"] = time.time() - t0
            time.sleep(1.0)
            st = self.status()["counters"]
            res.update({"sent_flood": sent, "tracked_flood": st.get("flows_tracked"), "evicted_flood": st.get("flows_evicted"),
                        "rss_flood_kb": status_field(pid, "VmRSS"), "hwm_flood_kb": status_field(pid, "VmHWM"),
                        "pss_flood_kb": status_field(pid, "Pss"), "anon_flood_kb": status_field(pid, "RssAnon"), "file_flood_kb": status_field(pid, "RssFile"),
                        "counters_flood": st})
            if d["proc"].poll() is not None:
                raise RuntimeError("the daemon exited during the flood")
            return res
        finally:
            self.stop_daemon()


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


# ---------------------------------------------------------------------------------------------
# LAN helpers (run by the script itself inside the LAN namespace)


def latency_client(base, n):
    rtts = []
    deadline = time.time() + 45
    for i in range(int(n)):
        if time.time() > deadline:
            rtts.append(None)
            continue
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((LAN_IP, int(base) + i))
        s.settimeout(1.0)
        payload = b"ping %06d" % i
        t0 = time.perf_counter_ns()
        s.sendto(payload, (WAN_IP, ECHO_PORT))
        try:
            while True:
                data = s.recv(2048)
                if data == payload:
                    rtts.append((time.perf_counter_ns() - t0) / 1000.0)
                    break
        except (socket.timeout, TimeoutError):
            rtts.append(None)
        s.close()
    print(json.dumps(rtts))


def warm_client():
    """One echo from every LAN address: the router learns their MACs before anything is timed."""
    answered = 0
    for addr in [LAN_IP] + EXTRA_ADDRS:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((addr, 0))
        s.settimeout(2.0)
        s.sendto(b"warm", (WAN_IP, ECHO_PORT))
        try:
            if s.recv(64) == b"warm":
                answered += 1
        except (socket.timeout, TimeoutError):
            pass
        s.close()
    print("ok %d" % answered if answered == 1 + len(EXTRA_ADDRS) else "only %d" % answered)


def flows_client(port_base, ports_per_addr):
    """One datagram from each (address, port): address-major so that each burst is spread."""
    sent = 0
    payload = b'{"hello":"bench"}'
    deadline = time.time() + 240
    for port in range(int(port_base), int(port_base) + int(ports_per_addr)):
        if time.time() > deadline:
            break
        for addr in EXTRA_ADDRS:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((addr, port))
                s.sendto(payload, (WAN_IP, DISCARD_PORT))
                sent += 1
            except OSError:
                time.sleep(0.001)
            s.close()
        # Pace: ~32 datagrams then a short pause keeps the queue (1024 packets) from overflowing.
        if port % 8 == 0:
            time.sleep(0.002)
    print(sent)


# ---------------------------------------------------------------------------------------------
# report


MODE_NAME = {"none": "none", "ct": "conntrack fw", "rules": "daemon's rules, no daemon", "daemon": "daemon"}


def ratio(a, b):
    return a / b if b else float("nan")


def mb(kb):
    return kb / 1024.0 if kb is not None else float("nan")


METRICS = [
    # key, label, getter, format, kind (ratio | diff), goal
    ("fwd", "iperf3 TCP LAN→WAN", lambda r: r["iperf_fwd"]["gbps"], "%.2f Gbit/s", "ratio", 0.95),
    ("rev", "iperf3 TCP WAN→LAN (-R)", lambda r: r["iperf_rev"]["gbps"], "%.2f Gbit/s", "ratio", 0.95),
    ("wrk", "wrk -t2 -c32, Connection: close", lambda r: r["wrk"]["rps"], "%.0f req/s", "ratio", 0.80),
    ("med", "UDP RTT of a new flow, median", lambda r: r["udp"]["median_us"], "%.0f µs", "diff", None),
    ("p99", "UDP RTT of a new flow, p99", lambda r: r["udp"]["p99_us"], "%.0f µs", "diff", None),
]


def report(cycles, modes, table, args):
    rounds = [r for c in cycles for r in c]
    print("\n### Per round (in the order run)\n")
    print("| # | mode | iperf3 LAN→WAN Gbit/s | iperf3 WAN→LAN Gbit/s | wrk req/s | nginx CPU % | UDP RTT median µs | UDP RTT p99 µs | UDP lost | daemon CPU % during wrk |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for i, r in enumerate(rounds):
        print("| %d | %s | %.2f | %.2f | %.0f | %.0f | %.0f | %.0f | %d | %s |" % (
            i + 1, MODE_NAME[r["mode"]], r["iperf_fwd"]["gbps"], r["iperf_rev"]["gbps"], r["wrk"]["rps"],
            r["wrk"]["nginx_cpu"], r["udp"]["median_us"], r["udp"]["p99_us"], r["udp"]["lost"],
            "%.0f" % r["daemon_cpu_wrk"] if r["daemon"] else "-"))
    for i, r in enumerate(rounds):
        if r["wrk"]["errors"]:
            print("\nround %d wrk: %s" % (i + 1, r["wrk"]["errors"]))

    comparisons = [(a, b) for a, b in [("daemon", "none"), ("daemon", "ct"), ("rules", "none"), ("ct", "none")]
                   if a in modes and b in modes]
    if not rounds:
        comparisons = []
    per = {}
    print("\n### Per cycle (ratio of rates, difference of RTTs)\n")
    print("| cycle | comparison | iperf3 LAN→WAN | iperf3 WAN→LAN | wrk req/s | UDP RTT median | UDP RTT p99 |")
    print("|---|---|---|---|---|---|---|")
    for ci, c in enumerate(cycles):
        by = {r["mode"]: r for r in c}
        for a, b in comparisons:
            if a not in by or b not in by:
                continue
            cells = []
            for key, _, get, _, kind, _ in METRICS:
                if kind == "ratio":
                    v = ratio(get(by[a]), get(by[b]))
                    cells.append("%.1f %%" % (v * 100))
                else:
                    v = get(by[a]) - get(by[b])
                    cells.append("%+.0f µs" % v)
                per.setdefault((a, b, key), []).append(v)
            print("| %d | %s / %s | %s |" % (ci + 1, MODE_NAME[a], MODE_NAME[b], " | ".join(cells)))

    def med_of(mode, get):
        vals = [get(r) for r in rounds if r["mode"] == mode]
        return statistics.median(vals) if vals else float("nan")

    if rounds:
        summary(cycles, modes, comparisons, per, med_of)
    flow_report(table)
    for i, r in enumerate(rounds):
        if r["daemon"]:
            print("round %d daemon: VmRSS %s kB, CPU %.1f s during both iperf3 runs; counters %s" % (
                i + 1, r["rss_kb"], r["daemon_cpu_iperf"], json.dumps(r["status"], sort_keys=True)))


def summary(cycles, modes, comparisons, per, med_of):
    print("\n### Summary (medians over %d cycles)\n" % len(cycles))
    head = [MODE_NAME[m] for m in modes] + ["%s / %s" % (MODE_NAME[a], MODE_NAME[b]) for a, b in comparisons]
    print("| measure | %s | goal (daemon / none) | met |" % " | ".join(head))
    print("|---|" + "---|" * (len(modes) + len(comparisons)) + "---|---|")
    for key, label, get, fmt, kind, goal in METRICS:
        cells = [fmt % med_of(m, get) for m in modes]
        comp = []
        for a, b in comparisons:
            vals = per.get((a, b, key), [])
            if not vals:
                comp.append("-")
            elif kind == "ratio":
                comp.append("%.1f %%" % (statistics.median(vals) * 100))
            else:
                comp.append("%+.0f µs" % statistics.median(vals))
        if goal is not None and ("daemon", "none", key) in per:
            m = statistics.median(per[("daemon", "none", key)])
            met = "yes" if m >= goal else "NO (%.1f %%)" % (m * 100)
            goal_text = "≥ %d %%" % round(goal * 100)
        else:
            goal_text, met = "-", "-"
        print("| %s | %s | %s | %s |" % (label, " | ".join(cells + comp), goal_text, met))


def flow_report(table):
    if table:
        print("\n### Flow table (one daemon, [detect] max_flows = 16384)\n")
        print("| step | flows_tracked | flows_evicted | VmRSS | RssAnon | RssFile | Pss | VmHWM | goal | met |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        print("| started, no traffic | 0 | 0 | %.2f MB | %.2f MB | %.2f MB | %.2f MB | - | - | - |" % (
            mb(table["rss0_kb"]), mb(table["anon0_kb"]), mb(table["file0_kb"]), mb(table["pss0_kb"])))
        ok16 = table["rss16k_kb"] is not None and table["rss16k_kb"] <= 6 * 1024
        print("| %d distinct UDP flows sent | %s | %s | %.2f MB | %.2f MB | %.2f MB | %.2f MB | %.2f MB | VmRSS ≤ 6 MB | %s |" % (
            table["sent16k"], table["tracked16k"], table["evicted16k"], mb(table["rss16k_kb"]), mb(table["anon16k_kb"]),
            mb(table["file16k_kb"]), mb(table["pss16k_kb"]), mb(table["hwm16k_kb"]), "yes" if ok16 else "NO (+%.2f MB)" % (mb(table["rss16k_kb"]) - 6)))
        bounded = table["tracked_flood"] is not None and table["tracked_flood"] <= 16384
        print("| +%d new flows in %.1f s | %s | %s | %.2f MB | %.2f MB | %.2f MB | %.2f MB | %.2f MB | tracked ≤ 16384, RSS flat | %s |" % (
            table["sent_flood"], table["flood_secs"], table["tracked_flood"], table["evicted_flood"], mb(table["rss_flood_kb"]),
            mb(table["anon_flood_kb"]), mb(table["file_flood_kb"]), mb(table["pss_flood_kb"]), mb(table["hwm_flood_kb"]),
            "yes" if bounded and table["rss_flood_kb"] - table["rss16k_kb"] < 512 else "NO"))
        print("\ndaemon counters after 16k flows: %s" % json.dumps(table["counters16k"], sort_keys=True))
        print("daemon counters after the flood: %s" % json.dumps(table["counters_flood"], sort_keys=True))
    print()


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "_udp":
        return serve_udp(*sys.argv[2:5])
    if len(sys.argv) > 1 and sys.argv[1] == "_latency":
        return latency_client(*sys.argv[2:4])
    if len(sys.argv) > 1 and sys.argv[1] == "_warm":
        return warm_client()
    if len(sys.argv) > 1 and sys.argv[1] == "_flows":
        return flows_client(*sys.argv[2:4])
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cycles", type=int, default=3, help="cycles of rounds, one round per mode (default 3; 0: only the flow-table measures)")
    ap.add_argument("--modes", default="none,daemon,ct,rules",
                    help="rounds of a cycle, in order: none (no ruleset), daemon, ct (conntrack firewall only), "
                         "rules (the daemon's ruleset without the daemon); default none,daemon,ct,rules")
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "leakguard"))
    ap.add_argument("--iperf-time", type=int, default=5)
    ap.add_argument("--wrk-time", type=int, default=5)
    ap.add_argument("--latency-n", type=int, default=2000)
    ap.add_argument("--settle", type=float, default=1.0, help="seconds of quiet after each conntrack -F")
    ap.add_argument("--skip-flows", action="store_true", help="skip the 16k-flow RSS and flood measures")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = ap.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    bad = [m for m in modes if m not in MODE_NAME]
    if bad or not modes:
        sys.exit("--modes: known modes are %s" % ", ".join(MODE_NAME))
    if os.geteuid() != 0:
        sys.exit("run as root (network namespaces, nftables, NFQUEUE)")
    missing = [t for t in ["ip", "nft", "conntrack", "iperf3", "wrk", "nginx", "ss"] if shutil.which(t) is None]
    if missing or not os.path.exists(args.bin):
        sys.exit("missing: %s (apt-get install iproute2 nftables conntrack iperf3 wrk nginx-light; cargo build --release)"
                 % ", ".join(missing + ([args.bin] if not os.path.exists(args.bin) else [])))
    n_rounds = args.cycles * len(modes)
    if LATENCY_PORT_BASE + n_rounds * args.latency_n > FLOW_PORT_BASE:
        sys.exit("--cycles x modes x --latency-n too large for the source port range")
    print("leakguard %s (%s)" % (run([args.bin, "--version"], check=False).stdout.strip(), args.bin))
    print("kernel %s, %d CPUs, load average %s" % (os.uname().release, os.cpu_count(), " ".join("%.2f" % x for x in os.getloadavg())))
    # SIGTERM (a timeout) unwinds like Ctrl-C, so the finally below deletes the namespaces.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    b = Bench(args)
    cycles, table = [], None
    try:
        b.build()
        if "rules" in modes:
            b.capture_ruleset()
        n = 0
        for c in range(args.cycles):
            cycle = []
            for mode in modes:
                t0 = time.time()
                r = b.round(n, mode)
                n += 1
                cycle.append(r)
                print("round %d (%s, %.0f s): fwd %.2f Gbit/s, rev %.2f Gbit/s, wrk %.0f req/s (nginx %.0f %% CPU), "
                      "UDP RTT median %.0f µs p99 %.0f µs lost %d; load %.2f" % (
                          n, MODE_NAME[mode], time.time() - t0, r["iperf_fwd"]["gbps"], r["iperf_rev"]["gbps"],
                          r["wrk"]["rps"], r["wrk"]["nginx_cpu"], r["udp"]["median_us"], r["udp"]["p99_us"], r["udp"]["lost"],
                          os.getloadavg()[0]), flush=True)
            cycles.append(cycle)
        if not args.skip_flows:
            table = b.flow_table()
            print("flow table: %s tracked, VmRSS %s kB; after flood %s tracked, %s evicted, VmRSS %s kB" % (
                table["tracked16k"], table["rss16k_kb"], table["tracked_flood"], table["evicted_flood"], table["rss_flood_kb"]),
                flush=True)
    finally:
        b.cleanup()
    report(cycles, modes, table, args)
    print("\nload average at the end: %s" % " ".join("%.2f" % x for x in os.getloadavg()))


if __name__ == "__main__":
    sys.exit(main())
