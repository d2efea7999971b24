#!/usr/bin/env python3
"""CPU seconds and peak RSS of `leakguard scan` and of Suricata 7 reading the same captures,
side by side in one run (the suricata-verify corpus by default).

    python3 benches/corpus_vs_suricata.py [--runs 3] [CORPUS_DIR]

Each tool runs as a child process; its CPU time (user + system) and peak RSS come from wait4's
rusage, so both are measured the same way. Suricata runs in IPS simulation with the hand-written
rules in benches/suricata/leak.rules. Build leakguard first (`cargo build --release`).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def measure(argv, cwd=None):
    """Runs argv under GNU time, returns (exit status, cpu seconds, peak RSS in MB).

    Not os.wait4 on a child of this script: Linux carries a process's peak RSS across exec, so
    anything Python forks or spawns starts with Python's own ~13 MB as its "peak". GNU time is
    small, and forks the measured program itself.
    """
    with tempfile.NamedTemporaryFile("r") as out, open(os.devnull, "wb") as null:
        status = subprocess.run([TIME, "-f", "%U %S %M", "-o", out.name, *argv],
                                stdout=null, stderr=null, cwd=cwd).returncode
        user, system, rss_kb = out.read().split()[-3:]
    return status, float(user) + float(system), int(rss_kb) / 1024.0


TIME = "/usr/bin/time"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", nargs="?", default=os.path.join(ROOT, "..", "shared", "corpus", "suricata-verify"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--leakguard", default=os.path.join(ROOT, "target", "release", "leakguard"))
    args = ap.parse_args()
    if not os.path.exists(TIME):
        sys.exit("needs GNU time: apt-get install time")
    corpus = os.path.abspath(args.corpus)
    files = sorted(os.path.join(corpus, f) for f in os.listdir(corpus) if f.endswith((".pcap", ".pcapng", ".cap")))
    size = sum(os.path.getsize(f) for f in files) / 1e6
    print(f"corpus: {corpus}: {len(files)} captures, {size:.1f} MB")
    suricata = shutil.which("suricata")
    if not suricata:
        print("suricata not installed (Debian: apt-get install -t bookworm-backports suricata); measuring leakguard only")
    rules = os.path.join(HERE, "suricata", "leak.rules")
    rows = {"leakguard": [], "suricata": []}
    for run in range(args.runs):
        code, cpu, rss = measure([args.leakguard, "scan", "--format", "json", *files])
        rows["leakguard"].append((cpu, rss))
        print(f"run {run + 1}: leakguard exit {code}: {cpu:.2f} CPU s, {rss:.1f} MB peak RSS")
        if suricata:
            with tempfile.TemporaryDirectory() as logdir:
                # In its log directory: a crashing Suricata leaves its core dump there.
                code, cpu, rss = measure([suricata, "-r", corpus, "-S", rules, "-l", logdir,
                                          "-k", "none", "--simulate-ips", "--runmode", "single"],
                                         cwd=logdir)
            if code == 0:
                rows["suricata"].append((cpu, rss))
            print(f"run {run + 1}: suricata  exit {code}: {cpu:.2f} CPU s, {rss:.1f} MB peak RSS")
    lg_cpu = min(c for c, _ in rows["leakguard"])
    lg_rss = max(r for _, r in rows["leakguard"])
    print(f"leakguard best: {lg_cpu:.2f} CPU s, peak RSS {lg_rss:.1f} MB (goal <= 8 MB)")
    if rows["suricata"]:
        s_cpu = min(c for c, _ in rows["suricata"])
        s_rss = max(r for _, r in rows["suricata"])
        print(f"suricata  best: {s_cpu:.2f} CPU s, peak RSS {s_rss:.1f} MB")
        print(f"ratio: {s_cpu / max(lg_cpu, 1e-3):.1f}x less CPU (goal >= 10x), {s_rss / lg_rss:.1f}x less memory")
    compare_detection(args.leakguard, suricata, rules)
    return 0


def compare_detection(leakguard, suricata, rules):
    """Side by side on the shipped leak captures: leakguard's findings, Suricata's alerts."""
    captures = os.path.join(ROOT, "examples", "captures")
    config = os.path.join(ROOT, "examples", "nokia7plus.toml")
    print("\ndetection on the shipped captures (leakguard with examples/nokia7plus.toml):")
    for name in sorted(os.listdir(captures)):
        path = os.path.join(captures, name)
        out = subprocess.run([leakguard, "scan", "--format", "json", "--config", config, path],
                             capture_output=True, text=True).stdout
        found = sorted({(f["kind"], f["encoding"]) for f in map(json.loads, out.splitlines())})
        line = f"  {name}: leakguard {len(found)} identifier(s) {found}"
        if suricata:
            with tempfile.TemporaryDirectory() as logdir:
                subprocess.run([suricata, "-r", path, "-S", rules, "-l", logdir, "-k", "none"],
                               capture_output=True, cwd=logdir)
                with open(os.path.join(logdir, "fast.log")) as f:
                    alerts = sorted({l.split("[**]")[1].strip() for l in f if "[**]" in l})
            line += f"; suricata {len(alerts)} alert(s) {alerts}"
        print(line)


if __name__ == "__main__":
    sys.exit(main())
