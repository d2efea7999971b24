#!/usr/bin/env python3
"""Servers and clients for leakguard's network-namespace tests (tests/netns.rs) and the inline
benchmark (benches/inline_vs_none.rs).

Only ever talks to the addresses the test passes in, which all live in the test's own namespaces.
Every socket has a timeout: a test must never hang on this script.

Servers (run in the WAN namespace; each writes READY_FILE once listening):
  http   PORT DIR READY_FILE  POST: appends {"line", "body"} JSON lines to DIR/http.jsonl
                              (the request line as soon as it is read, the body once complete),
                              answers 200 "ok". GET /big: DIR/big.bin (written by the test).
  sink   PORT DIR READY_FILE  TCP: each connection's bytes go to DIR/sink-<n>.bin; on EOF answers
                              "OK <len> <sha256>\n". Dual-stack.
  udp    PORT DIR READY_FILE  UDP: each datagram appended hex-encoded to DIR/udp.txt, answers "ack".
  echo   PORT DIR READY_FILE  UDP: answers each datagram with itself, records nothing (benches:
                              nothing but the round trip is measured).
  discard PORT DIR READY_FILE UDP: reads and drops every datagram, records nothing (4 MB buffer).

Clients (run in the LAN namespace); print one result word and exit 0 when the exchange completed:
  split  HOST PORT DELAY HEXPIECE...  sends the pieces as separate TCP segments (TCP_NODELAY,
                                      DELAY seconds apart), then half-closes and reads the answer.
                                      Prints ok:<answer> | reset | timeout | error:<e>.
  upload HOST PORT FILE               sends FILE to a sink, prints the sink's answer.
  udpsend HOST PORT HEXPAYLOAD        one datagram, waits 2 s for an answer: ok:<answer> | timeout.
  dns    SERVER NAME                  one A query over UDP, waits 2 s: rcode=<n> ancount=<n> | timeout.
  garbage DST COUNT SEED IFACE DSTMAC malformed IPv4/IPv6 TCP/UDP packets: half through an
                                      IPPROTO_RAW socket (IP_HDRINCL), half as raw Ethernet frames
                                      on IFACE to DSTMAC (bad lengths the kernel would otherwise
                                      fix up). Prints sent=<n> errors=<n>.
  flood  DST RATE SECONDS IFACE DSTMAC [FLOWS]  UDP frames at RATE packets/s on IFACE, from
                                      FLOWS source ports in turn, ever new flows (see flood()).
                                      Prints ok:sent=<n> errors=<n> seconds=<s> rate=<r>.
  warm   HOST PORT ADDR...            one datagram to an echo server from each local ADDR (so the
                                      router knows every address's MAC before anything is timed).
                                      Prints ok <n> when all answered, only <n> otherwise.
  latency HOST PORT SRC BASE N        N datagrams to an echo server, the i-th from SRC:BASE+i (a new
                                      flow each), one at a time, 1 s for each answer, 45 s in all.
                                      Prints a JSON list of round trips in µs (null: no answer).
  flows  HOST PORT BASE COUNT ADDR... one small datagram from every (ADDR, BASE..BASE+COUNT-1),
                                      address-major and paced, 240 s at most. Prints how many
                                      were sent.
"""

import hashlib
import http.server
import json
import os
import random
import socket
import socketserver
import struct
import sys
import threading
import time

IO_TIMEOUT = 10.0


def ready(path):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(os.getpid()))
    os.rename(tmp, path)


def dual_stack_socket(kind):
    s = socket.socket(socket.AF_INET6, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    return s


# ---------------------------------------------------------------------------------------------
# servers


class DualStackHTTPServer(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


def serve_http(port, out_dir, ready_file):
    lock = threading.Lock()
    record = os.path.join(out_dir, "http.jsonl")

    def write(obj):
        with lock:
            with open(record, "a") as f:
                f.write(json.dumps(obj) + "\n")

    class Handler(http.server.BaseHTTPRequestHandler):
        timeout = IO_TIMEOUT
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def do_POST(self):
            write({"line": self.requestline, "body": None})
            n = int(self.headers.get("Content-Length", "0") or "0")
            body = b""
            try:
                while len(body) < n:
                    chunk = self.rfile.read(n - len(body))
                    if not chunk:
                        break
                    body += chunk
            finally:
                write({"line": self.requestline, "body": body.decode("latin-1")})
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"ok")

        def do_GET(self):
            if self.path != "/big":
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            path = os.path.join(out_dir, "big.bin")
            size = os.path.getsize(path)
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(size))
            self.send_header("Connection", "close")
            self.end_headers()
            with open(path, "rb") as f:
                while True:
                    chunk = f.read(65536)
                    if not chunk:
                        break
                    self.wfile.write(chunk)

    server = DualStackHTTPServer(("::", port), Handler)
    ready(ready_file)
    server.serve_forever()


def serve_sink(port, out_dir, ready_file):
    counter = [0]
    lock = threading.Lock()

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            with lock:
                counter[0] += 1
                n = counter[0]
            sock = self.request
            sock.settimeout(IO_TIMEOUT)
            h = hashlib.sha256()
            total = 0
            with open(os.path.join(out_dir, "sink-%d.bin" % n), "wb") as f:
                try:
                    while True:
                        data = sock.recv(65536)
                        if not data:
                            break
                        f.write(data)
                        f.flush()
                        h.update(data)
                        total += len(data)
                except OSError:
                    return
            try:
                sock.sendall(b"OK %d %s\n" % (total, h.hexdigest().encode()))
            except OSError:
                pass

    class Server(socketserver.ThreadingTCPServer):
        address_family = socket.AF_INET6
        daemon_threads = True
        allow_reuse_address = True

        def server_bind(self):
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            super().server_bind()

    server = Server(("::", port), Handler)
    ready(ready_file)
    server.serve_forever()


def serve_udp(port, out_dir, ready_file):
    s = dual_stack_socket(socket.SOCK_DGRAM)
    s.bind(("::", port))
    ready(ready_file)
    record = os.path.join(out_dir, "udp.txt")
    while True:
        data, peer = s.recvfrom(65535)
        with open(record, "a") as f:
            f.write(data.hex() + "\n")
        s.sendto(b"ack", peer)


def serve_echo(port, out_dir, ready_file):
    s = dual_stack_socket(socket.SOCK_DGRAM)
    s.bind(("::", port))
    ready(ready_file)
    while True:
        data, peer = s.recvfrom(65535)
        s.sendto(data, peer)


def serve_discard(port, out_dir, ready_file):
    s = dual_stack_socket(socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(("::", port))
    ready(ready_file)
    while True:
        s.recv(65535)


# ---------------------------------------------------------------------------------------------
# clients


def connect(host, port, timeout):
    last = None
    for family, kind, proto, _, addr in socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM):
        s = socket.socket(family, kind, proto)
        s.settimeout(timeout)
        try:
            s.connect(addr)
            return s
        except OSError as e:
            last = e
            s.close()
    raise last or OSError("no address")


def read_answer(s):
    answer = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        answer += chunk
    return answer


def client_split(host, port, delay, pieces):
    try:
        s = connect(host, int(port), 5.0)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i, piece in enumerate(pieces):
            if i:
                time.sleep(delay)
            s.sendall(piece)
        time.sleep(delay)
        s.shutdown(socket.SHUT_WR)
        answer = read_answer(s)
        print("ok:" + answer.decode("latin-1").strip())
        return 0
    except ConnectionResetError:
        print("reset")
    except (socket.timeout, TimeoutError):
        print("timeout")
    except OSError as e:
        print("error:%s" % e)
    return 1


def client_upload(host, port, path):
    try:
        s = connect(host, int(port), 10.0)
        with open(path, "rb") as f:
            while True:
                chunk = f.read(65536)
                if not chunk:
                    break
                s.sendall(chunk)
        s.shutdown(socket.SHUT_WR)
        print("ok:" + read_answer(s).decode("latin-1").strip())
        return 0
    except ConnectionResetError:
        print("reset")
    except (socket.timeout, TimeoutError):
        print("timeout")
    except OSError as e:
        print("error:%s" % e)
    return 1


def client_udpsend(host, port, payload):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(2.0)
    s.sendto(payload, (host, int(port)))
    try:
        data, _ = s.recvfrom(65535)
        print("ok:" + data.decode("latin-1"))
        return 0
    except (socket.timeout, TimeoutError):
        print("timeout")
        return 1


def client_dns(server, name):
    qid = random.randrange(65536)
    query = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.strip(".").split("."):
        query += bytes([len(label)]) + label.encode()
    query += b"\x00" + struct.pack("!HH", 1, 1)
    family = socket.AF_INET6 if ":" in server else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(2.0)
    s.sendto(query, (server, 53))
    deadline = time.time() + 2.0
    while time.time() < deadline:
        try:
            data, _ = s.recvfrom(4096)
        except (socket.timeout, TimeoutError):
            break
        if len(data) >= 12 and struct.unpack("!H", data[:2])[0] == qid:
            flags, _, ancount = struct.unpack("!HHH", data[2:8])
            print("rcode=%d ancount=%d" % (flags & 0xF, ancount))
            return 0
    print("timeout")
    return 1


# ---------------------------------------------------------------------------------------------
# malformed packets


def checksum(data):
    if len(data) % 2:
        data += b"\x00"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return (~s) & 0xFFFF


def garbage_l4(rng, proto):
    """A TCP or UDP header (often lying about itself) and a random payload."""
    sport = rng.randrange(1024, 65536)
    dport = rng.choice([80, 8080, 9000, 5683, 53, rng.randrange(65536)])
    payload = rng.randbytes(rng.randrange(0, 200))
    if rng.random() < 0.3:
        payload = b"imei=49015420323" + payload  # half an identifier, to poke the detector
    if proto == 6:
        data_offset = rng.choice([0, 1, 4, 5, 5, 5, 8, 15])
        flags = rng.randrange(256)
        hdr = struct.pack("!HHIIBBHHH", sport, dport, rng.getrandbits(32), rng.getrandbits(32),
                          data_offset << 4, flags, rng.randrange(65536), rng.randrange(65536),
                          rng.randrange(65536))
        cut = rng.choice([len(hdr), len(hdr), rng.randrange(0, len(hdr) + 1)])
        return hdr[:cut] + (payload if cut == len(hdr) else b"")
    length = rng.choice([8 + len(payload), 0, 7, rng.randrange(65536)])
    hdr = struct.pack("!HHHH", sport, dport, length, rng.randrange(65536))
    cut = rng.choice([8, 8, rng.randrange(0, 9)])
    return hdr[:cut] + (payload if cut == 8 else b"")


def garbage_ipv4(rng, src, dst, honest_lengths):
    proto = rng.choice([6, 6, 17, 17, rng.randrange(256)])
    l4 = garbage_l4(rng, proto) if proto in (6, 17) else rng.randbytes(rng.randrange(0, 64))
    ihl = 5 if honest_lengths or rng.random() < 0.5 else rng.choice([0, 3, 4, 6, 15])
    options = b"\x01" * (max(ihl, 5) * 4 - 20) if ihl > 5 else b""
    total = 20 + len(options) + len(l4)
    if not honest_lengths and rng.random() < 0.6:
        total = rng.choice([0, 19, total - 1, total + 1, total + 500, 65535]) & 0xFFFF
    frag = 0
    if rng.random() < 0.15:
        frag = rng.choice([0x2000, 0x2001, 0x0001, 0x1FFF])  # MF / offsets
    hdr = struct.pack("!BBHHHBBH4s4s", (4 << 4) | ihl, 0, total, rng.randrange(65536), frag,
                      64, proto, 0, src, dst)
    hdr = hdr[:10] + struct.pack("!H", checksum(hdr + options)) + hdr[12:]
    return hdr + options + l4


def garbage_ipv6(rng, src, dst):
    proto = rng.choice([6, 17, 0, 44, 60, rng.randrange(256)])
    l4 = garbage_l4(rng, proto) if proto in (6, 17) else rng.randbytes(rng.randrange(0, 64))
    plen = len(l4)
    if rng.random() < 0.6:
        plen = rng.choice([0, plen - 1, plen + 1, plen + 500, 65535]) & 0xFFFF
    hdr = struct.pack("!IHBB16s16s", 6 << 28, plen, proto, 64, src, dst)
    return hdr + l4


def garbage(dst, count, seed, iface, dst_mac):
    rng = random.Random(int(seed))
    src4 = socket.inet_aton("192.168.77.2")
    dst4 = socket.inet_aton(dst)
    src6 = socket.inet_pton(socket.AF_INET6, "fd77::2")
    dst6 = socket.inet_pton(socket.AF_INET6, "fd99::2")
    mac = bytes(int(x, 16) for x in dst_mac.split(":"))
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    raw.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    link = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    link.bind((iface, 0))
    own_mac = link.getsockname()[4]
    sent = errors = 0
    for i in range(int(count)):
        try:
            if i % 2 == 0:
                pkt = garbage_ipv4(rng, src4, dst4, honest_lengths=True)
                raw.sendto(pkt, (dst, 0))
            elif i % 6 == 1:
                pkt = garbage_ipv6(rng, src6, dst6)
                link.send(mac + own_mac + b"\x86\xdd" + pkt)
            else:
                pkt = garbage_ipv4(rng, src4, dst4, honest_lengths=False)
                link.send(mac + own_mac + b"\x08\x00" + pkt)
            sent += 1
        except OSError:
            errors += 1
        if i % 50 == 0:
            time.sleep(0.01)
    print("sent=%d errors=%d" % (sent, errors))
    return 0


def flood(dst, rate, seconds, iface, dst_mac, flows=4096):
    """UDP datagrams of 64 payload bytes at `rate` packets/s for `seconds`, from `flows`
    source ports in turn. Every 64 rounds (the daemon's 4096-byte budget of each flow) the
    destination port moves on, so the flows are always new and every packet is queued.
    Prints what was sent and the rate reached."""
    rate, seconds, flows = float(rate), float(seconds), int(flows)
    src4 = socket.inet_aton("192.168.77.2")
    dst4 = socket.inet_aton(dst)
    mac = bytes(int(x, 16) for x in dst_mac.split(":"))
    link = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    link.bind((iface, 0))
    own = link.getsockname()[4]
    payload = b"flood-" + b"x" * 58

    def frame(sport, dport):
        udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                         src4, dst4)
        ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
        return mac + own + b"\x08\x00" + ip + udp

    sent = errors = 0
    start = time.monotonic()
    deadline = start + seconds
    batch = max(1, int(rate / 1000))
    dport = 20000
    frames = [frame(10000 + i, dport) for i in range(flows)]
    rounds = 0
    while True:
        now = time.monotonic()
        if now >= deadline:
            break
        # Paced in batches of ~1 ms worth of packets.
        due = int((now - start) * rate)
        if sent + errors >= due:
            time.sleep(0.0005)
            continue
        for _ in range(batch):
            try:
                link.send(frames[(sent + errors) % flows])
                sent += 1
            except OSError:
                errors += 1
            if (sent + errors) % flows == 0:
                rounds += 1
                if rounds % 64 == 0:
                    dport = 20000 + (rounds // 64) % 40000
                    frames = [frame(10000 + i, dport) for i in range(flows)]
    took = time.monotonic() - start
    print("ok:sent=%d errors=%d seconds=%.1f rate=%.0f" % (sent, errors, took, sent / took))
    return 0


# ---------------------------------------------------------------------------------------------
# benchmark clients (benches/inline_vs_none.rs)


def client_warm(host, port, addrs):
    answered = 0
    for addr in addrs:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((addr, 0))
        s.settimeout(2.0)
        s.sendto(b"warm", (host, int(port)))
        try:
            if s.recv(64) == b"warm":
                answered += 1
        except (socket.timeout, TimeoutError):
            pass
        s.close()
    print("ok %d" % answered if answered == len(addrs) else "only %d" % answered)
    return 0


def client_latency(host, port, src, base, n):
    rtts = []
    deadline = time.time() + 45
    for i in range(int(n)):
        if time.time() > deadline:
            rtts.append(None)
            continue
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((src, int(base) + i))
        s.settimeout(1.0)
        payload = b"ping %06d" % i
        t0 = time.perf_counter_ns()
        s.sendto(payload, (host, int(port)))
        try:
            while True:
                if s.recv(2048) == payload:
                    rtts.append((time.perf_counter_ns() - t0) / 1000.0)
                    break
        except (socket.timeout, TimeoutError):
            rtts.append(None)
        s.close()
    print(json.dumps(rtts))
    return 0


def client_flows(host, port, base, count, addrs):
    sent = 0
    payload = b'{"hello":"bench"}'
    deadline = time.time() + 240
    for p in range(int(base), int(base) + int(count)):
        if time.time() > deadline:
            break
        for addr in addrs:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((addr, p))
                s.sendto(payload, (host, int(port)))
                sent += 1
            except OSError:
                time.sleep(0.001)
            s.close()
        # Pace: a short pause every 8 ports (8 x len(addrs) datagrams) keeps the daemon's queue
        # (1024 packets) from overflowing.
        if p % 8 == 0:
            time.sleep(0.002)
    print(sent)
    return 0


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "http":
        serve_http(int(args[0]), args[1], args[2])
    elif cmd == "sink":
        serve_sink(int(args[0]), args[1], args[2])
    elif cmd == "udp":
        serve_udp(int(args[0]), args[1], args[2])
    elif cmd == "echo":
        serve_echo(int(args[0]), args[1], args[2])
    elif cmd == "discard":
        serve_discard(int(args[0]), args[1], args[2])
    elif cmd == "split":
        return client_split(args[0], args[1], float(args[2]), [bytes.fromhex(p) for p in args[3:]])
    elif cmd == "upload":
        return client_upload(args[0], args[1], args[2])
    elif cmd == "udpsend":
        return client_udpsend(args[0], args[1], bytes.fromhex(args[2]))
    elif cmd == "dns":
        return client_dns(args[0], args[1])
    elif cmd == "garbage":
        return garbage(args[0], args[1], args[2], args[3], args[4])
    elif cmd == "flood":
        return flood(*args)
    elif cmd == "warm":
        return client_warm(args[0], args[1], args[2:])
    elif cmd == "latency":
        return client_latency(*args)
    elif cmd == "flows":
        return client_flows(args[0], args[1], args[2], args[3], args[4:])
    else:
        print("unknown command %s" % cmd, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
