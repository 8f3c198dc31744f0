#!/usr/bin/python3
"""bench/prober_rate_scapy.py: the scapy baseline of bench/prober-rate.ts, run in namespace A.

    prober_rate_scapy.py --src A --hop B --port P --nonce N --count C --cap-seconds S --mode l3socket|send

Builds, per probe, the same 1-hop probe as lsprobe (IPv4 A->B proto 47 / GRE / IPv4 A->A /
UDP sport 49152 + seq % 64 -> P / the 44-octet lsprobe payload with the sequence and a
monotonic send time) the way a scapy user would, and sends it:
  l3socket: on one conf.L3socket() opened once (the fair, fast scapy idiom);
  send:     with send(pkt, verbose=0) per probe (opens a socket per call: the common idiom).
The reflector in B sends the inner packet back; replies are read with a plain non-blocking UDP
socket (not scapy's sniffing, which would only be slower) every 64 probes and matched by magic,
nonce and sequence. Stops after --count probes or --cap-seconds. Prints one JSON line.
"""
import argparse
import json
import socket
import struct
import sys
import time

import scapy
from scapy.all import GRE, IP, UDP, Raw, conf, send

MAGIC = 0x4C535052
HDR = struct.Struct("!IBBHIIQI16s")  # 44 octets: magic, version, flags, reserved, path, seq, time, nonce, mac


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True)
    ap.add_argument("--hop", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--nonce", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--cap-seconds", type=float, required=True)
    ap.add_argument("--mode", choices=["l3socket", "send"], required=True)
    a = ap.parse_args()

    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    rx.bind((a.src, a.port))
    rx.setblocking(False)
    seen = set()
    stats = {"bad": 0, "dup": 0}

    def drain() -> None:
        while True:
            try:
                d = rx.recv(2048)
            except BlockingIOError:
                return
            if len(d) < HDR.size:
                stats["bad"] += 1
                continue
            magic, _v, _f, _r, _path, seq, _t, nonce, _mac = HDR.unpack_from(d)
            if magic != MAGIC or nonce != a.nonce:
                stats["bad"] += 1
            elif seq in seen:
                stats["dup"] += 1
            else:
                seen.add(seq)

    def probe(seq: int):
        payload = HDR.pack(MAGIC, 1, 0, 0, 0, seq, time.monotonic_ns(), a.nonce, b"\0" * 16)
        return (
            IP(src=a.src, dst=a.hop, ttl=64, flags="DF", id=1)
            / GRE()
            / IP(src=a.src, dst=a.src, ttl=64, flags="DF", id=1)
            / UDP(sport=49152 + seq % 64, dport=a.port)
            / Raw(payload)
        )

    sock = conf.L3socket() if a.mode == "l3socket" else None
    # One probe first, not timed: scapy resolves the next hop's MAC (ARP) on the first send.
    if sock is not None:
        sock.send(probe(0xFFFFFFFF))
    else:
        send(probe(0xFFFFFFFF), verbose=0)

    sent = 0
    w0 = time.perf_counter()
    c0 = time.process_time()
    for seq in range(a.count):
        pkt = probe(seq)
        if sock is not None:
            sock.send(pkt)
        else:
            send(pkt, verbose=0)
        sent += 1
        if seq & 63 == 63:
            drain()
            if time.perf_counter() - w0 > a.cap_seconds:
                break
    w1 = time.perf_counter()
    c1 = time.process_time()
    deadline = w1 + 0.5
    while time.perf_counter() < deadline and len(seen) < sent:
        drain()
        time.sleep(0.005)
    drain()
    if sock is not None:
        sock.close()
    matched = len([s for s in seen if s < sent])
    print(
        json.dumps(
            {
                "mode": a.mode,
                "scapy": scapy.VERSION,
                "python": sys.version.split()[0],
                "l3socket": conf.L3socket.__name__,
                "sent": sent,
                "matched": matched,
                "bad": stats["bad"],
                "duplicates": stats["dup"],
                "wallS": w1 - w0,
                "cpuS": c1 - c0,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
