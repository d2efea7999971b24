#!/usr/bin/env python3
"""CPU seconds and peak RSS of `leakguard scan` and of Suricata 7 reading the same captures,
side by side in one run (the suricata-verify corpus by default).

    python3 benches/corpus_vs_suricata.py [--runs 3] [CORPUS_DIR]

Each tool runs as a child process; its CPU time (user + system) and peak RSS come from wait4's
rusage, so both are measured the same way. Suricata runs in IPS simulation with the hand-written
rules in benches/suricata/leak.rules. Build leakguard first (`cargo build --release`).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def measure(argv, **kw):
    """Runs argv, returns (exit status, cpu seconds, peak RSS in MB)."""
    with open(os.devnull, "wb") as null:
        p = subprocess.Popen(argv, stdout=null, stderr=null, **kw)
        _, status, ru = os.wait4(p.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return code, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", nargs="?", default=os.path.join(ROOT, "..", "shared", "corpus", "suricata-verify"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--leakguard", default=os.path.join(ROOT, "target", "release", "leakguard"))
    args = ap.parse_args()
    corpus = os.path.abspath(args.corpus)
    files = sorted(os.path.join(corpus, f) for f in os.listdir(corpus) if f.endswith((".pcap", ".pcapng", ".cap")))
    size = sum(os.path.getsize(f) for f in files) / 1e6
    print(f"corpus: {corpus}: {len(files)} captures, {size:.1f} MB")
    suricata = shutil.which("suricata")
    if not suricata:
        print("suricata not installed (see DEVELOPERS.md: bookworm-backports); measuring leakguard only")
    rules = os.path.join(HERE, "suricata", "leak.rules")
    rows = {"leakguard": [], "suricata": []}
    for run in range(args.runs):
        code, cpu, rss = measure([args.leakguard, "scan", "--format", "json", *files])
        rows["leakguard"].append((cpu, rss))
        print(f"run {run + 1}: leakguard exit {code}: {cpu:.2f} CPU s, {rss:.1f} MB peak RSS")
        if suricata:
            with tempfile.TemporaryDirectory() as logdir:
                code, cpu, rss = measure([suricata, "-r", corpus, "-S", rules, "-l", logdir,
                                          "-k", "none", "--simulate-ips", "--runmode", "single"])
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
