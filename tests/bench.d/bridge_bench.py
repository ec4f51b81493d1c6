#!/usr/bin/env python3
"""The bridge bench: `tlsferry bridge` next to websockify, same client, same targets, same run.

    python3 tests/bench.d/bridge_bench.py --cli target/bench/release/tlsferry [--tunnels 10000]

(tests/bench runs it as SECTIONS=bridge.) Prints one JSON object on stdout; progress on stderr.

For each bridge:
  1. idle tunnels: opens --tunnels WebSocket tunnels (subprotocol `binary`, 1 byte echoed
     through each so every tunnel is live end to end) from 16 loopback source addresses, and
     holds them. Memory: the bridge's PSS (all its processes; websockify forks one per
     connection) before and while they are held, divided by the tunnels held.
  2. new clients while they are held: --new-clients sequential clients, each TCP connect +
     upgrade + 1 byte echoed; p50/p99/max latency.
  3. throughput of one tunnel, both ways (--bulk-mib), next to direct TCP to the same
     target, --rounds rounds interleaved; medians. The bridge's CPU seconds per GiB too.
websockify forks a process (~3 MiB PSS) per connection, so it is given at most
--wsfy-tunnels tunnels (default 1000) to keep the machine's memory.

Targets run in another process (asyncio): an echo port, a port that sends --bulk-mib and
closes, a port that reads --bulk-mib then answers one byte. The hard RLIMIT_NOFILE is
raised (as root, up to /proc/sys/fs/nr_open) before anything starts, so every process
inherits it.
"""
import argparse
import asyncio
import json
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KEY = b"dGhlIHNhbXBsZSBub25jZQ=="
SOURCES = [f"127.0.2.{i}" for i in range(1, 17)]


def say(*a):
    print("bridge bench:", *a, file=sys.stderr, flush=True)


def raise_nofile():
    want = 1 << 20
    try:
        want = min(want, int(Path("/proc/sys/fs/nr_open").read_text()))
    except OSError:
        pass
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for lim in ((want, want), (hard, hard)):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, lim)
            break
        except (ValueError, OSError):
            continue
    return resource.getrlimit(resource.RLIMIT_NOFILE)


# ----- the targets (run with --serve-targets in a child process) -----

async def serve_targets(bulk):
    async def echo(r, w):
        try:
            while True:
                d = await r.read(65536)
                if not d:
                    break
                w.write(d)
                await w.drain()
        except (ConnectionError, OSError):
            pass
        w.close()

    block = bytes(range(256)) * 4096  # 1 MiB

    async def down(r, w):
        try:
            left = bulk
            while left > 0:
                w.write(block[: min(left, len(block))])
                left -= min(left, len(block))
                await w.drain()
            w.close()
            await w.wait_closed()
        except (ConnectionError, OSError):
            pass

    async def up(r, w):
        try:
            got = 0
            while got < bulk:
                d = await r.read(1 << 20)
                if not d:
                    break
                got += len(d)
            w.write(b"k")
            await w.drain()
            await r.read()
        except (ConnectionError, OSError):
            pass
        w.close()

    servers = [await asyncio.start_server(h, "127.0.0.1", 0, backlog=4096) for h in (echo, down, up)]
    ports = [s.sockets[0].getsockname()[1] for s in servers]
    print("PORTS", *ports, flush=True)
    await asyncio.Event().wait()


# ----- processes -----

def start(cmd, pattern, env=None):
    log = tempfile.NamedTemporaryFile("w+", prefix="bridge-bench-", suffix=".log", delete=False)
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    deadline = time.time() + 30
    while True:
        m = re.search(pattern, Path(log.name).read_text(errors="replace"))
        if m:
            return p, m
        if p.poll() is not None or time.time() > deadline:
            p.kill()
            raise RuntimeError(f"{cmd[0]} did not start: {Path(log.name).read_text()[-2000:]}")
        time.sleep(0.05)


def stop(p):
    if p and p.poll() is None:
        p.kill()
        p.wait()


def tree(pid):
    out = [pid]
    try:
        for t in os.listdir(f"/proc/{pid}/task"):
            for c in Path(f"/proc/{pid}/task/{t}/children").read_text().split():
                out += tree(int(c))
    except OSError:
        pass
    return out


def pss_kib(pid):
    """PSS of a process and all its descendants (KiB)."""
    total = 0
    for q in tree(pid):
        try:
            for line in Path(f"/proc/{q}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def cpu_seconds(pid):
    """CPU of a process, its reaped children, and its live descendants (seconds)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for i, q in enumerate(tree(pid)):
        try:
            f = Path(f"/proc/{q}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(f[11]) + int(f[12]) + (int(f[13]) + int(f[14]) if i == 0 else 0)
        except (OSError, IndexError, ValueError):
            pass
    return total / tick


# ----- the WebSocket client -----

def upgrade(host, path):
    return (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {KEY.decode()}\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Protocol: binary\r\n\r\n").encode()


def frame(payload):
    """A masked binary frame with the all-zero masking key (valid; no XOR needed)."""
    n = len(payload)
    if n < 126:
        head = bytes([0x82, 0x80 | n])
    elif n < 65536:
        head = bytes([0x82, 0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([0x82, 0x80 | 127]) + n.to_bytes(8, "big")
    return head + b"\0\0\0\0", payload


async def open_tunnel(host, port, path, src):
    r, w = await asyncio.open_connection(host, port, local_addr=(src, 0) if src else None)
    w.write(upgrade(f"{host}:{port}", path))
    head = await r.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101"):
        w.close()
        raise RuntimeError(head.split(b"\r\n")[0].decode(errors="replace"))
    h, p = frame(b"x")
    w.write(h + p)
    got = await r.readexactly(3)  # 0x82, 1, "x"
    if got[2:] != b"x":
        raise RuntimeError(f"echo {got!r}")
    return r, w


async def hold_and_probe(host, port, path, n, new_clients, pid):
    """Opens n tunnels, measures memory, probes new-client latency, closes them."""
    before = pss_kib(pid)
    held = []
    failures = []
    sem = asyncio.Semaphore(256)
    started = time.time()

    async def one(i):
        async with sem:
            try:
                held.append(await asyncio.wait_for(open_tunnel(host, port, path, SOURCES[i % len(SOURCES)]), 30))
            except (OSError, RuntimeError, asyncio.TimeoutError, asyncio.IncompleteReadError) as e:
                failures.append(str(e) or type(e).__name__)

    await asyncio.gather(*(one(i) for i in range(n)))
    setup = time.time() - started
    await asyncio.sleep(2)
    during = pss_kib(pid)
    lat = []
    probe_fail = 0
    for _ in range(new_clients):
        t0 = time.perf_counter()
        try:
            r, w = await asyncio.wait_for(open_tunnel(host, port, path, None), 30)
            lat.append((time.perf_counter() - t0) * 1000)
            w.close()
        except (OSError, RuntimeError, asyncio.TimeoutError, asyncio.IncompleteReadError):
            probe_fail += 1
    for _, w in held:
        w.close()
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(round(p * (len(lat) - 1))))] if lat else None
    return {
        "asked": n,
        "held": len(held),
        "failures": len(failures),
        "first_failure": failures[0] if failures else None,
        "setup_s": round(setup, 2),
        "pss_before_kib": before,
        "pss_held_kib": during,
        "kib_per_tunnel": round((during - before) / len(held), 2) if held else None,
        "new_client_ms": {"n": len(lat), "failed": probe_fail, "p50": q(0.5), "p99": q(0.99), "max": lat[-1] if lat else None},
    }


def read_payload(sock, total):
    """Counts WebSocket payload bytes until `total` arrived."""
    got, rem, tail = 0, 0, b""
    while got < total:
        chunk = sock.recv(1 << 20)
        if not chunk:
            raise RuntimeError(f"closed after {got} of {total} bytes")
        if tail:
            chunk, tail = tail + chunk, b""
        i, n = 0, len(chunk)
        while i < n:
            if rem:
                take = min(rem, n - i)
                rem -= take
                got += take
                i += take
                continue
            if n - i < 2:
                tail = chunk[i:]
                break
            b1 = chunk[i + 1] & 0x7F
            hl = 2 + (2 if b1 == 126 else 8 if b1 == 127 else 0)
            if n - i < hl:
                tail = chunk[i:]
                break
            if chunk[i] & 0x0F == 8:
                return got  # closed by the bridge (short if it dropped data)
            rem = b1 if b1 < 126 else int.from_bytes(chunk[i + 2:i + hl], "big")
            i += hl
    return got


def ws_connect(host, port, path):
    s = socket.create_connection((host, port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.sendall(upgrade(f"{host}:{port}", path))
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        b = s.recv(1)
        if not b:
            raise RuntimeError("no upgrade")
        head += b
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(head.decode(errors="replace"))
    return s


LOST = {}


def bulk_down(host, port, path, total, via_ws):
    t0 = time.perf_counter()
    if via_ws:
        s = ws_connect(host, port, path)
        got = read_payload(s, total)
        if got < total:
            LOST[port] = LOST.get(port, 0) + total - got
    else:
        s = socket.create_connection((host, port))
        buf = bytearray(1 << 20)
        got = 0
        while got < total:
            n = s.recv_into(buf)
            if not n:
                raise RuntimeError("closed early")
            got += n
    dt = time.perf_counter() - t0
    s.close()
    return total / dt / 1e6


def bulk_up(host, port, path, total, via_ws):
    block = bytes(range(256)) * 256  # 64 KiB
    t0 = time.perf_counter()
    if via_ws:
        s = ws_connect(host, port, path)
        head, payload = frame(block)
        sent = 0
        while sent < total:
            s.sendmsg([head, payload])
            sent += len(block)
        read_payload(s, 1)
    else:
        s = socket.create_connection((host, port))
        sent = 0
        while sent < total:
            s.sendall(block)
            sent += len(block)
        if s.recv(1) != b"k":
            raise RuntimeError("no answer")
    dt = time.perf_counter() - t0
    s.close()
    return total / dt / 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli")
    ap.add_argument("--tunnels", type=int, default=10_000)
    ap.add_argument("--wsfy-tunnels", type=int, default=1_000)
    ap.add_argument("--new-clients", type=int, default=200)
    ap.add_argument("--bulk-mib", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--skip-idle", action="store_true", help="throughput only")
    ap.add_argument("--serve-targets", action="store_true")
    a = ap.parse_args()
    bulk = a.bulk_mib << 20
    if a.serve_targets:
        asyncio.run(serve_targets(bulk))
        return
    nofile = raise_nofile()
    say(f"RLIMIT_NOFILE {nofile}")
    # Two descriptors per tunnel in the bridge, plus its own few and the new clients':
    # hold no more than the limit allows (20,000 here: the hard limit cannot be raised
    # without CAP_SYS_RESOURCE, which a container may not have).
    fit = (nofile[0] - 64) // 2 - 10
    if a.tunnels > fit:
        say(f"RLIMIT_NOFILE {nofile[0]} fits {fit} tunnels in one bridge process, not {a.tunnels}")
    asked = a.tunnels
    a.tunnels = min(a.tunnels, fit)
    targets, m = start([sys.executable, __file__, "--serve-targets", "--bulk-mib", str(a.bulk_mib)], r"PORTS (\d+) (\d+) (\d+)")
    echo, down, up = (int(x) for x in m.groups())
    out = {"nofile": nofile[0], "tunnels_wanted": asked, "tunnels_asked": a.tunnels, "bulk_mib": a.bulk_mib,
           "rounds": a.rounds}
    procs = []
    try:
        ver = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "websockify"], capture_output=True, text=True).stdout
        out["websockify_version"] = ver or "?"
        # tlsferry bridge: one process, every target allowed, no per-address cap for the bench.
        fb, fm = start([a.cli, "bridge", "--listen", "127.0.0.1:0", "--allow", f"127.0.0.1:{echo}",
                        "--allow", f"127.0.0.1:{down}", "--allow", f"127.0.0.1:{up}", "--max-per-ip", "0",
                        "--max-connections", str(a.tunnels + 1000), "--idle-timeout", "3600", "--log-format", "off"],
                       r"listening on ws://127\.0\.0\.1:(\d+)/")
        procs.append(fb)
        fport = int(fm.group(1))
        ferry = {"path": lambda t: f"/?target=127.0.0.1:{t}", "ports": {t: fport for t in (echo, down, up)},
                 "pids": {t: fb.pid for t in (echo, down, up)}}
        # websockify: one per target (it has a single target).
        wsfy = {"path": lambda t: "/", "ports": {}, "pids": {}}
        for t in (echo, down, up):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            s.close()
            wp, _ = start(["websockify", f"127.0.0.1:{port}", f"127.0.0.1:{t}"], r"(proxying from)")
            procs.append(wp)
            wsfy["ports"][t] = port
            wsfy["pids"][t] = wp.pid
        for name, b, n in (() if a.skip_idle else
                           (("tlsferry", ferry, a.tunnels), ("websockify", wsfy, min(a.tunnels, a.wsfy_tunnels)))):
            say(f"{name}: {n} idle tunnels, then {a.new_clients} new clients")
            out[name] = asyncio.run(hold_and_probe("127.0.0.1", b["ports"][echo], b["path"](echo), n, a.new_clients,
                                                   b["pids"][echo]))
            say(f"{name}: {json.dumps(out[name])}")
            time.sleep(3)
        say(f"throughput, {a.rounds} rounds of {a.bulk_mib} MiB each way")
        res = {k: {"down": [], "up": [], "cpu_down": [], "cpu_up": []} for k in ("direct", "tlsferry", "websockify")}
        for _ in range(a.rounds):
            res["direct"]["down"].append(bulk_down("127.0.0.1", down, "/", bulk, False))
            res["direct"]["up"].append(bulk_up("127.0.0.1", up, "/", bulk, False))
            for name, b in (("tlsferry", ferry), ("websockify", wsfy)):
                for way, fn, t in (("down", bulk_down, down), ("up", bulk_up, up)):
                    pid = b["pids"][t]
                    c0 = cpu_seconds(pid)
                    res[name][way].append(fn("127.0.0.1", b["ports"][t], b["path"](t), bulk, True))
                    time.sleep(0.3)  # websockify's per-connection child is reaped
                    res[name]["cpu_" + way].append((cpu_seconds(pid) - c0) / (bulk / (1 << 30)))
        out["throughput"] = {k: {w: (round(statistics.median(v), 1) if v else None) for w, v in r.items()} for k, r in res.items()}
        out["throughput_all"] = res
        out["bytes_lost_down"] = {name: LOST.get(b["ports"][down], 0)
                                  for name, b in (("tlsferry", ferry), ("websockify", wsfy))}
        say(f"throughput: {json.dumps(out['throughput'])}")
    finally:
        for p in procs:
            stop(p)
        stop(targets)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
