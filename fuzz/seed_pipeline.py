#!/usr/bin/env python3
"""Turns capture files into seeds for the `pipeline` fuzz target.

The target reads a header that picks its configuration (see fuzz_targets/pipeline.rs), then
records of a 2-byte little-endian length and that many bytes, each an Ethernet frame (bit 15 of
the length clear). This keeps the Ethernet records (LINKTYPE 1) of classic pcap and pcapng
files, at most 64 of them and 32767 bytes each, and writes one seed per capture and header.

    python3 fuzz/seed_pipeline.py OUT_DIR CAPTURE...
"""
import os
import struct
import sys

MAX_FRAMES = 64
MAX_LEN = 0x7FFF

# Configuration headers: a device with one value of every kind; the same in monitor mode with
# allow rules (`*.example.com` for all kinds, `*.vnet.cn` for IMEIs); a learned MAC with a
# 16-flow table and a 64-byte budget.
HEADERS = {
    "known": bytes([0x20, 0, 0, 0]),
    "allow": bytes([0x21, 0, 0x02, 0, 0x01, 0x14]),
    "small": bytes([0x00, 0, 0x08, 0x41]),
}


def pcap_frames(b):
    magic = b[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\x34\xcd\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d", b"\xa1\xb2\xcd\x34"):
        e = ">"
    else:
        return
    header = 24 if magic in (b"\x34\xcd\xb2\xa1", b"\xa1\xb2\xcd\x34") else 16
    if len(b) < 24 or struct.unpack(e + "I", b[20:24])[0] & 0xFFFF != 1:
        return
    at = 24
    while at + header <= len(b):
        incl = struct.unpack(e + "I", b[at + 8:at + 12])[0]
        yield b[at + header:at + header + incl]
        at += header + incl


def pcapng_frames(b):
    e, links, at = "<", [], 0
    while at + 12 <= len(b):
        kind = struct.unpack(e + "I", b[at:at + 4])[0]
        if b[at:at + 4] == b"\x0a\x0d\x0d\x0a":
            e = "<" if b[at + 8:at + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            links = []
            kind = 0x0A0D0D0A
        length = struct.unpack(e + "I", b[at + 4:at + 8])[0]
        if length < 12:
            return
        body = b[at + 8:at + length - 4]
        if kind == 1 and len(body) >= 2:
            links.append(struct.unpack(e + "H", body[:2])[0])
        elif kind == 6 and len(body) >= 20:
            iface, cap = struct.unpack(e + "I", body[:4])[0], struct.unpack(e + "I", body[12:16])[0]
            if iface < len(links) and links[iface] == 1:
                yield body[20:20 + cap]
        elif kind == 3 and len(body) >= 4 and links[:1] == [1]:
            yield body[4:]
        at += length


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for path in sys.argv[2:]:
        with open(path, "rb") as f:
            b = f.read()
        frames = pcapng_frames(b) if b[:4] == b"\x0a\x0d\x0d\x0a" else pcap_frames(b)
        seed = bytearray()
        for i, fr in enumerate(frames):
            if i == MAX_FRAMES:
                break
            fr = fr[:MAX_LEN]
            seed += struct.pack("<H", len(fr)) + fr
        if seed:
            name = os.path.splitext(os.path.basename(path))[0]
            for tag, header in HEADERS.items():
                with open(os.path.join(out, f"{name}-{tag}"), "wb") as f:
                    f.write(header + seed)


if __name__ == "__main__":
    main()
