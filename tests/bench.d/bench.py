#!/usr/bin/env python3
"""tests/bench's measuring half: starts the servers on 127.0.0.1, runs every client
interleaved round by round, takes medians, and rewrites the generated part of
BENCHMARKS.md (between the `bench:begin` / `bench:end` markers; the text around them is
kept). tests/bench builds everything first and passes the paths in the environment.

Nothing here asserts speed: it measures and reports.
"""
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def env_int(name, default):
    v = os.environ.get(name, "")
    return int(v) if v.strip() else default


# ----- knobs (environment) -----
ROUNDS = env_int("ROUNDS", 15)  # native end-to-end rounds
HS_N = env_int("HS_N", 300)  # handshakes per round: library loop and Python
CLI_HS_N = env_int("CLI_HS_N", 40)  # CLI processes per round
STIME_SECS = env_int("STIME_SECS", 2)  # openssl s_time run per round
BULK_MIB = env_int("BULK_MIB", 256)
CORE_ROUNDS = env_int("CORE_ROUNDS", 9)
CORE_BULK_MIB = env_int("CORE_BULK_MIB", 256)
JS_ROUNDS = env_int("JS_ROUNDS", 9)
JS_HS = env_int("JS_HS", 40)
JS_BULK_MIB = env_int("JS_BULK_MIB", 64)
JS_SLOW_MIB = env_int("JS_SLOW_MIB", 8)
PROFILE = os.environ.get("PROFILE", "1") != "0"
SECTIONS = os.environ.get("SECTIONS", "core,native,aes256,tokio,awslc,js,size,profile,bridge").split(",")
# The bridge next to websockify (tests/bench.d/bridge_bench.py).
BRIDGE_TUNNELS = env_int("BRIDGE_TUNNELS", 10_000)  # idle tunnels held at once
BRIDGE_WSFY_TUNNELS = env_int("BRIDGE_WSFY_TUNNELS", 1_000)  # websockify forks per tunnel: ~3 MiB each
BRIDGE_NEW = env_int("BRIDGE_NEW", 200)  # new clients timed while they are held
BRIDGE_BULK_MIB = env_int("BRIDGE_BULK_MIB", 256)  # one tunnel's transfer, each way
BRIDGE_ROUNDS = env_int("BRIDGE_ROUNDS", 5)

P = {
    "cli": os.environ.get("FERRY_CLI"),
    "cli_awslc": os.environ.get("FERRY_CLI_AWSLC"),
    "client": os.environ.get("NATIVE_CLIENT"),
    "client_awslc": os.environ.get("NATIVE_CLIENT_AWSLC"),
    "core_overhead": os.environ.get("CORE_OVERHEAD_BIN"),
    "idle_memory": os.environ.get("IDLE_MEMORY_BIN"),
    "wasm_pkg": os.environ.get("WASM_PKG"),
    "wasm_sizes": os.environ.get("WASM_SIZES"),
    "build_info": os.environ.get("BUILD_INFO"),
    "bridge_cli": os.environ.get("BRIDGE_CLI") or os.environ.get("FERRY_CLI"),
}

RESULTS = {}
LOG = []


def say(*a):
    print("bench:", *a, file=sys.stderr, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def spread(xs):
    """min–max of the values, for the reader to judge the noise."""
    xs = [x for x in xs if x is not None]
    return (min(xs), max(xs)) if xs else (None, None)


# ----- processes -----

class Proc:
    """A background server, killed (and reaped) by stop()."""

    def __init__(self, cmd, pattern, env=None, cwd=None):
        self.log = tempfile.NamedTemporaryFile("w+", prefix="bench-", suffix=".log", delete=False)
        self.p = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                  stdin=subprocess.DEVNULL)
        deadline = time.time() + 30
        rx = re.compile(pattern)
        while True:
            text = Path(self.log.name).read_text(errors="replace")
            m = rx.search(text)
            if m:
                self.match = m.group(1)
                return
            if self.p.poll() is not None or time.time() > deadline:
                self.stop()
                raise RuntimeError(f"{cmd[0]} did not start: {text[-2000:]}")
            time.sleep(0.05)

    def cpu(self):
        """CPU seconds the server has used so far (all its threads, nanosecond account)."""
        total = 0
        try:
            for task in Path(f"/proc/{self.p.pid}/task").iterdir():
                total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError):
            pass
        return total / 1e9

    def stop(self):
        if self.log.closed:
            return
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGKILL)
        self.p.wait()
        self.log.close()
        os.unlink(self.log.name)


ALL_PROCS = []


def start(cmd, pattern, **kw):
    p = Proc(cmd, pattern, **kw)
    ALL_PROCS.append(p)
    return p


def timed(cmd, stdin_path=None, capture=False, env=None):
    """Runs cmd (posix_spawn, so that the child's rusage is its own and not a copy of this
    Python process); returns (wall seconds, user+sys CPU seconds, max RSS KiB, stdout)."""
    cmd = [str(c) for c in cmd]
    exe = shutil.which(cmd[0]) or cmd[0]
    out = tempfile.TemporaryFile("w+") if capture else None
    err = tempfile.TemporaryFile("w+")
    actions = [(os.POSIX_SPAWN_OPEN, 0, stdin_path or "/dev/null", os.O_RDONLY, 0)]
    if out is not None:
        actions.append((os.POSIX_SPAWN_DUP2, out.fileno(), 1))
    else:
        actions.append((os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0))
    actions.append((os.POSIX_SPAWN_DUP2, err.fileno(), 2))
    t = time.perf_counter()
    pid = os.posix_spawn(exe, cmd, env or os.environ, file_actions=actions)
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t
    code = os.waitstatus_to_exitcode(status)
    err.seek(0)
    errors = err.read()
    err.close()
    text = ""
    if out is not None:
        out.seek(0)
        text = out.read()
        out.close()
    if code != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {code}: {errors[-1500:]} {text[-500:]}")
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, text


def parse_ok(text):
    line = next((l for l in text.splitlines() if l.startswith("ok ")), None)
    if line is None:
        raise RuntimeError(f"no result line in: {text[-500:]}")
    # key=value pairs; a value may hold spaces (provider=tlsferry pure-Rust provider …).
    return dict(re.findall(r"(\w+)=(.*?)(?= \w+=|$)", line[3:]))


# ----- PKI (openssl CLI, generated now) -----

def openssl(args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_pki(dir_, kind):
    """A root CA and a localhost leaf of `kind` (ec | rsa) in dir_/kind-*."""
    key = (["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] if kind == "ec"
           else ["-newkey", "rsa:2048"])
    d = Path(dir_)
    openssl(["req", "-x509", *key, "-nodes", "-keyout", f"{kind}-ca.key", "-out", f"{kind}-ca.pem",
             "-days", "2", "-subj", f"/CN=tlsferry bench {kind} CA", "-addext",
             "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"], d)
    (d / "leaf.ext").write_text(
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
    openssl(["req", *key, "-nodes", "-keyout", f"{kind}-leaf.key", "-out", f"{kind}-leaf.csr",
             "-subj", "/CN=localhost"], d)
    openssl(["x509", "-req", "-sha256", "-in", f"{kind}-leaf.csr", "-CA", f"{kind}-ca.pem", "-CAkey",
             f"{kind}-ca.key", "-set_serial", str(int(time.time())), "-days", "2", "-extfile",
             "leaf.ext", "-out", f"{kind}-leaf.pem"], d)
    return {"ca": str(d / f"{kind}-ca.pem"), "cert": str(d / f"{kind}-leaf.pem"),
            "key": str(d / f"{kind}-leaf.key")}


# ----- machine -----

def machine():
    def sh(cmd):
        try:
            return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
        except OSError:
            return "?"
    lscpu = sh("lscpu")
    model = re.search(r"Model name:\s*(.*)", lscpu)
    flags = re.search(r"Flags:\s*(.*)", lscpu)
    fl = set(flags.group(1).split()) if flags else set()
    mem = sh("free -g | awk '/Mem:/ {print $2}'")
    return {
        "cpu": f"{model.group(1).strip() if model else '?'}, {sh('nproc')} CPUs "
               f"(AES-NI {'yes' if 'aes' in fl else 'no'}, VAES {'yes' if 'vaes' in fl else 'no'}, "
               f"PCLMULQDQ {'yes' if 'pclmulqdq' in fl else 'no'}, AVX-512 {'yes' if 'avx512f' in fl else 'no'})",
        "hypervisor": (re.search(r"Hypervisor vendor:\s*(.*)", lscpu) or [None, "none"])[1],
        "memory": f"{mem} GiB",
        "kernel": platform.release(),
        "rustc": sh("rustc --version"),
        "openssl": sh("openssl version"),
        "python": sh("python3 --version") + " (ssl: " + __import__("ssl").OPENSSL_VERSION + ")",
        "node": sh("node --version") + " (OpenSSL " + sh("node -p process.versions.openssl") + ")",
        "load_before": sh("cat /proc/loadavg"),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": sh(f"git -C {ROOT} rev-parse --short HEAD") + (
            " (+ uncommitted changes)" if sh(f"git -C {ROOT} status --porcelain -- core native wasm") else ""),
    }


# ----- 1. core benches -----

def core_benches():
    say("core overhead and idle memory (cargo benches)")
    env = dict(os.environ, ROUNDS=str(CORE_ROUNDS), BULK_MIB=str(CORE_BULK_MIB))
    out = run([P["core_overhead"]], env=env).stdout
    RESULTS["core_overhead"] = out.strip()
    RESULTS["idle_memory"] = run([P["idle_memory"]]).stdout.strip()
    m = re.search(r"TLS 1\.3, ECDSA P-256 chain \| (\d+) B", RESULTS["idle_memory"])
    RESULTS["idle_bytes"] = int(m.group(1)) if m else None


# ----- 2./3. native end to end -----

def stime(port, ca):
    wall, cpu, _, text = timed(["openssl", "s_time", "-connect", f"127.0.0.1:{port}", "-new",
                                "-time", str(STIME_SECS), "-CAfile", ca], capture=True)
    m = re.search(r"(\d+) connections in ([\d.]+)s", text)
    if not m:
        raise RuntimeError(f"s_time: {text[-300:]}")
    n = int(m.group(1))
    return {"n": n, "wall": wall, "cpu": cpu}


def cli_handshakes(cli, port, ca, n):
    wall = cpu = 0.0
    req = "GET / HTTP/1.0\r\n\r\n"
    for _ in range(n):
        w, c, _, _ = timed([cli, "connect", f"127.0.0.1:{port}", "--cafile", ca, "--servername",
                            "localhost", "--send", req, "--output", "/dev/null"])
        wall += w
        cpu += c
    return {"n": n, "wall": wall, "cpu": cpu}


def native_section(label, client, cli, pkis, bulk, ec):
    """One provider's table: handshakes against s_server for each key, then bulk."""
    res = {"hs": {}, "bulk": {}, "aead": {"rustcrypto": [], "rustcrypto_cpu": [], "openssl": []}, "info": {}}
    servers = {}
    for kind, pki in pkis.items():
        servers[kind] = start(["openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", pki["cert"],
                               "-key", pki["key"], "-www", "-tls1_3"], r"ACCEPT 127\.0\.0\.1:(\d+)")
    total = BULK_MIB * 1024 * 1024
    hs_clients = ["tlsferry (library loop)", "tlsferry CLI (1 process each)", "Python ssl",
                  "openssl s_time -new"]
    bulk_clients = ["tlsferry (library)", "tlsferry CLI", "Python ssl", "openssl s_client"]
    for kind in pkis:
        res["hs"][kind] = {c: [] for c in hs_clients}
    for c in bulk_clients:
        res["bulk"][c] = []
    req = tempfile.NamedTemporaryFile("w", delete=False)
    req.write(f"{total}\n")
    req.close()
    try:
        for r in range(ROUNDS):
            say(f"{label}: round {r + 1}/{ROUNDS}")
            for kind, pki in pkis.items():
                port = servers[kind].match
                order = hs_clients[r % 4:] + hs_clients[:r % 4]
                for c in order:
                    s0, t0 = servers[kind].cpu(), time.perf_counter()
                    if c.startswith("tlsferry (library"):
                        _, _, _, text = timed([client, "handshakes", f"127.0.0.1:{port}", pki["ca"],
                                               str(HS_N)], capture=True)
                        d = parse_ok(text)
                        res["info"][f"hs-{kind}-lib"] = d
                        m = {"n": int(d["n"]), "wall": float(d["wall"]), "cpu": float(d["cpu"])}
                    elif c.startswith("tlsferry CLI"):
                        m = cli_handshakes(cli, port, pki["ca"], CLI_HS_N)
                    elif c == "Python ssl":
                        _, _, _, text = timed([sys.executable, HERE / "py_client.py", "handshakes",
                                               f"127.0.0.1:{port}", pki["ca"], str(HS_N)], capture=True)
                        d = parse_ok(text)
                        res["info"][f"hs-{kind}-py"] = d
                        m = {"n": int(d["n"]), "wall": float(d["wall"]), "cpu": float(d["cpu"])}
                    else:
                        m = stime(port, pki["ca"])
                    m["server_busy"] = (servers[kind].cpu() - s0) / (time.perf_counter() - t0)
                    res["hs"][kind][c].append(m)
            order = bulk_clients[r % 4:] + bulk_clients[:r % 4]
            for c in order:
                addr = f"127.0.0.1:{bulk.match}"
                s0, t0 = bulk.cpu(), time.perf_counter()
                if c == "tlsferry (library)":
                    _, _, _, text = timed([client, "bulk", addr, ec["ca"], str(total)], capture=True)
                    d = parse_ok(text)
                    res["info"]["bulk-lib"] = d
                    m = {"wall": float(d["wall"]), "cpu": float(d["cpu"])}
                elif c == "tlsferry CLI":
                    w, cpu, _, _ = timed([cli, "connect", addr, "--cafile", ec["ca"], "--servername",
                                          "localhost", "--send", f"{total}\n", "--output", "/dev/null"])
                    m = {"wall": w, "cpu": cpu}
                elif c == "Python ssl":
                    _, _, _, text = timed([sys.executable, HERE / "py_client.py", "bulk", addr, ec["ca"],
                                           str(total)], capture=True)
                    d = parse_ok(text)
                    res["info"]["bulk-py"] = d
                    m = {"wall": float(d["wall"]), "cpu": float(d["cpu"])}
                else:
                    w, cpu, _, _ = timed(["openssl", "s_client", "-connect", addr, "-CAfile", ec["ca"],
                                          "-servername", "localhost", "-verify_return_error", "-quiet"],
                                         stdin_path=req.name)
                    m = {"wall": w, "cpu": cpu}
                m["mbps"] = total / m["wall"] / 1e6
                m["server_busy"] = (bulk.cpu() - s0) / (time.perf_counter() - t0)
                res["bulk"][c].append(m)
            # The ceilings, in the same round.
            _, _, _, text = timed([client, "aead", "64"], capture=True)
            d = parse_ok(text)
            res["aead"]["rustcrypto"].append(int(d["bytes"]) / float(d["wall"]) / 1e6)
            res["aead"]["rustcrypto_cpu"].append(float(d["cpu"]) / (int(d["bytes"]) / 1e9))
            res["aead"]["openssl"].append(openssl_speed())
    finally:
        os.unlink(req.name)
        for s in servers.values():
            s.stop()
    return res


def openssl_speed():
    text = run(["openssl", "speed", "-evp", "aes-128-gcm", "-decrypt", "-bytes", "16384",
                "-seconds", "1"]).stdout
    m = re.search(r"AES-128-GCM\s+([\d.]+)k", text)
    return float(m.group(1)) * 1000 / 1e6 if m else None


def peak_rss_time_v(cli, bulk_port, ca):
    """Peak RSS of the CLI over a BULK_MIB transfer, as /usr/bin/time -v reports it."""
    total = BULK_MIB * 1024 * 1024
    if not Path("/usr/bin/time").exists():
        return None
    p = subprocess.run(["/usr/bin/time", "-v", cli, "connect", f"127.0.0.1:{bulk_port}", "--cafile", ca,
                        "--servername", "localhost", "--send", f"{total}\n", "--output", "/dev/null"],
                       capture_output=True, text=True)
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    return int(m.group(1)) if m else None


# ----- 4. JS -----

def js_section(rsa, ec, bridge_cli):
    say("JS clients in Node (wasm, node:tls, subtls, node-forge)")
    server = start(["node", HERE / "node_server.mjs", "--cert", rsa["cert"], "--key", rsa["key"]],
                   r"PORT (\d+)")
    port = server.match
    # The same server with an ECDSA P-256 leaf and root: the wasm client's handshake cost there.
    ec_server = start(["node", HERE / "node_server.mjs", "--cert", ec["cert"], "--key", ec["key"]],
                      r"PORT (\d+)")
    bridge = start([bridge_cli, "bridge", "--listen", "127.0.0.1:0", "--allow", f"127.0.0.1:{port}"],
                   r"listening on (ws://\S+)")
    try:
        cmd = ["node", "--experimental-websocket", "--no-warnings", HERE / "js_clients.mjs",
               "--pkg", Path(P["wasm_pkg"]) / "js" / "index.js", "--port", port, "--ca", rsa["ca"],
               "--ec-port", ec_server.match, "--ec-ca", ec["ca"],
               "--bridge", bridge.match, "--rounds", str(JS_ROUNDS), "--hs", str(JS_HS),
               "--bytes", str(JS_BULK_MIB << 20), "--slow-bytes", str(JS_SLOW_MIB << 20)]
        out = subprocess.run(list(map(str, cmd)), capture_output=True, text=True, cwd=HERE, timeout=1800)
        rows = [json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")]
        if not rows:
            raise RuntimeError(f"js_clients.mjs printed nothing: {out.stderr[-2000:]}")
        RESULTS["js"] = rows
    finally:
        bridge.stop()
        server.stop()
        ec_server.stop()


# ----- 6. the bridge -----

def bridge_section():
    say(f"tlsferry bridge next to websockify: {BRIDGE_TUNNELS} idle tunnels, new clients, throughput")
    cmd = [sys.executable, HERE / "bridge_bench.py", "--cli", P["bridge_cli"], "--tunnels", BRIDGE_TUNNELS,
           "--wsfy-tunnels", BRIDGE_WSFY_TUNNELS, "--new-clients", BRIDGE_NEW, "--bulk-mib", BRIDGE_BULK_MIB,
           "--rounds", BRIDGE_ROUNDS]
    out = subprocess.run(list(map(str, cmd)), capture_output=True, text=True, timeout=3600)
    sys.stderr.write(out.stderr[-4000:])
    lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
    if not lines:
        raise RuntimeError(f"bridge_bench.py printed nothing: {out.stderr[-2000:]}")
    RESULTS["bridge"] = json.loads(lines[-1])


def bridge_tables(b):
    """The bridge section's tables and goals."""
    L, goals = [], []
    f, w = b.get("tlsferry", {}), b.get("websockify", {})
    L.append(f"`tests/bench.d/bridge_bench.py`: one Python asyncio client process, targets in another, each bridge "
             f"in its own; RLIMIT_NOFILE {fmt(b.get('nofile'))}. Idle tunnels: subprotocol `binary`, one byte echoed "
             "through each, from 16 loopback source addresses, then held; memory is the bridge's PSS (all its "
             "processes) while they are held minus before, per tunnel. New clients: sequential TCP connect + "
             "upgrade + one byte echoed, while the tunnels are held. websockify "
             f"{b.get('websockify_version', '?')} forks a process per connection, so it is given "
             f"{fmt(w.get('asked'))} tunnels, not {fmt(b.get('tunnels_asked'))}.\n")
    L.append("| | tunnels asked | held | failed | time to open them | PSS before | PSS held | per tunnel "
             "| new clients served | p50 | p99 | max |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, r in (("tlsferry bridge", f), ("websockify", w)):
        if not r:
            continue
        nc = r.get("new_client_ms", {})
        L.append(f"| {name} | {fmt(r.get('asked'))} | {fmt(r.get('held'))} | {fmt(r.get('failures'))} "
                 f"| {fmt(r.get('setup_s'), 1)} s | {fmt(r.get('pss_before_kib', 0) / 1024, 1)} MiB "
                 f"| {fmt(r.get('pss_held_kib', 0) / 1024, 1)} MiB | {fmt(r.get('kib_per_tunnel'), 1)} KiB "
                 f"| {fmt(nc.get('n'))} of {fmt((nc.get('n') or 0) + (nc.get('failed') or 0))} "
                 f"| {fmt(nc.get('p50'), 2)} ms | {fmt(nc.get('p99'), 2)} ms | {fmt(nc.get('max'), 2)} ms |")
    t = b.get("throughput", {})
    if t:
        L.append(f"\nOne tunnel's throughput, {fmt(b.get('bulk_mib'))} MiB each way, median of "
                 f"{fmt(b.get('rounds'))} interleaved rounds (MB/s; the client, the bridge and the target share "
                 "the 2 vCPUs). CPU: the bridge's CPU seconds per GiB relayed.\n")
        L.append("| | target → client (down) | client → target (up) | × direct, down | × direct, up | CPU s/GiB down | up |")
        L.append("|---|---|---|---|---|---|---|")
        d = t.get("direct", {})
        for name, key in (("direct TCP", "direct"), ("tlsferry bridge", "tlsferry"), ("websockify", "websockify")):
            r = t.get(key, {})
            L.append(f"| {name} | {fmt(r.get('down'))} | {fmt(r.get('up'))} | {fmt(ratio(r.get('down'), d.get('down')), 2)} "
                     f"| {fmt(ratio(r.get('up'), d.get('up')), 2)} | {fmt(r.get('cpu_down'), 2) if key != 'direct' else ''} "
                     f"| {fmt(r.get('cpu_up'), 2) if key != 'direct' else ''} |")
    asked, wanted = b.get("tunnels_asked", 0), b.get("tunnels_wanted", 0)
    note = "" if asked == wanted else (f"; a hard RLIMIT_NOFILE of {fmt(b.get('nofile'))} fits {fmt(asked)} "
                                        "in one process (2 descriptors each) and cannot be raised here")
    goals.append((f"bridge: {fmt(wanted)} concurrent idle tunnels: held {fmt(f.get('held'))} of {fmt(asked)}{note}",
                  f.get("held") == wanted and wanted >= 10_000))
    k = f.get("kib_per_tunnel")
    goals.append((f"bridge: ≤ 64 KiB per idle tunnel: {fmt(k, 1)} KiB (websockify {fmt(w.get('kib_per_tunnel'), 0)} KiB)",
                  k is not None and k <= 64))
    p99 = f.get("new_client_ms", {}).get("p99")
    goals.append((f"bridge: new client ≤ 100 ms p99 while they are held: {fmt(p99, 2)} ms", p99 is not None and p99 <= 100))
    if t:
        rd = ratio(t.get("tlsferry", {}).get("down"), t.get("direct", {}).get("down"))
        ru = ratio(t.get("tlsferry", {}).get("up"), t.get("direct", {}).get("up"))
        worst = min(x for x in (rd, ru) if x is not None) if (rd or ru) else None
        goals.append((f"bridge: one tunnel ≥ 0.5× direct TCP: {fmt(rd, 2)}× down, {fmt(ru, 2)}× up",
                      worst is not None and worst >= 0.5))
    return L, goals


# ----- 5. size -----

def size_section():
    if P["wasm_sizes"] and Path(P["wasm_sizes"]).exists():
        RESULTS["wasm_sizes"] = json.loads(Path(P["wasm_sizes"]).read_text())


# ----- profile -----

def profile_section(client, ec_port, ec_ca, bulk_port, bulk_ca):
    if not shutil.which("perf"):
        return
    say("profile (perf) of the library loop")
    out = {}
    for name, args in (("bulk", ["bulk", f"127.0.0.1:{bulk_port}", bulk_ca, str(BULK_MIB << 20)]),
                       ("handshakes", ["handshakes", f"127.0.0.1:{ec_port}", ec_ca, str(HS_N)])):
        data = tempfile.NamedTemporaryFile(suffix=".perf", delete=False).name
        try:
            subprocess.run(["perf", "record", "-q", "-F", "2000", "-o", data, "--", client, *args],
                           check=True, capture_output=True)
            rep = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "--sort",
                                  "dso,symbol", "--percent-limit", "1.5"], capture_output=True, text=True).stdout
            lines = [l.rstrip() for l in rep.splitlines() if l.strip() and not l.startswith("#")]
            out[name] = "\n".join(shorten(l) for l in lines[:18])
        except (subprocess.CalledProcessError, OSError) as e:
            out[name] = f"(perf failed: {e})"
        finally:
            os.unlink(data)
    RESULTS["profile"] = out


def shorten(line):
    line = re.sub(r"::h[0-9a-f]{16}", "", line)
    line = re.sub(r"<([^<>]{60})[^<>]*>", r"<\1…>", line)
    return line[:160]


def aes256_section(client, cli, bulk, ec):
    """Bulk from a Python ssl server left at OpenSSL's default TLS 1.3 order, which picks
    TLS_AES_256_GCM_SHA384: the library, the CLI and Python's ssl client, interleaved."""
    total = BULK_MIB * 1024 * 1024
    addr = f"127.0.0.1:{bulk.match}"
    clients = ["tlsferry (library)", "tlsferry CLI", "Python ssl"]
    res = {"bulk": {c: [] for c in clients}, "info": {}}
    for r in range(ROUNDS):
        say(f"aes256: round {r + 1}/{ROUNDS}")
        for c in clients[r % 3:] + clients[:r % 3]:
            s0, t0 = bulk.cpu(), time.perf_counter()
            if c == "tlsferry (library)":
                _, _, _, text = timed([client, "bulk", addr, ec["ca"], str(total)], capture=True)
                d = parse_ok(text)
                res["info"]["lib"] = d
                m = {"wall": float(d["wall"]), "cpu": float(d["cpu"])}
            elif c == "tlsferry CLI":
                w, cpu, _, _ = timed([cli, "connect", addr, "--cafile", ec["ca"], "--servername",
                                      "localhost", "--send", f"{total}\n", "--output", "/dev/null"])
                m = {"wall": w, "cpu": cpu}
            else:
                _, _, _, text = timed([sys.executable, HERE / "py_client.py", "bulk", addr, ec["ca"],
                                       str(total)], capture=True)
                d = parse_ok(text)
                res["info"]["py"] = d
                m = {"wall": float(d["wall"]), "cpu": float(d["cpu"])}
            m["server_busy"] = (bulk.cpu() - s0) / (time.perf_counter() - t0)
            res["bulk"][c].append(m)
    return res


def tokio_section():
    """tests/benches/tokio_client.rs: tlsferry::tokio next to tokio-rustls, same provider."""
    exe = os.environ.get("TOKIO_CLIENT_BIN")
    if not exe:
        return
    _, _, _, text = timed([exe], capture=True,
                          env=dict(os.environ, ROUNDS=str(max(3, ROUNDS // 2)), HS="200", MIB=str(BULK_MIB // 2)))
    RESULTS["tokio"] = {"table": "\n".join(l for l in text.splitlines() if l.startswith("|")),
                        "values": {l[7:].rsplit(" ", 1)[0]: float(l.rsplit(" ", 1)[1])
                                   for l in text.splitlines() if l.startswith("RESULT ")}}


# ----- report -----

def fmt(x, digits=0):
    if x is None:
        return "–"
    return f"{x:,.{digits}f}"


def ratio(a, b):
    return a / b if a and b else None


def hs_table(res, kinds_label):
    lines = []
    for kind, by_client in res["hs"].items():
        lines.append(f"\n**Full TLS 1.3 handshakes against `openssl s_server -www`, {kinds_label[kind]} leaf**\n")
        lines.append("| client | handshakes/s (wall, median) | range over rounds | client CPU per handshake (median) | rate ÷ Python (median of per-round ratios) | client CPU: Python ÷ this | s_server busy |")
        lines.append("|---|---|---|---|---|---|---|")
        py = by_client["Python ssl"]
        for c, ms in by_client.items():
            rates = [m["n"] / m["wall"] for m in ms]
            cpus = [m["cpu"] / m["n"] * 1000 for m in ms]
            ratios = [ratio(m["n"] / m["wall"], p["n"] / p["wall"]) for m, p in zip(ms, py)]
            cpu_ratios = [ratio(p["cpu"] / p["n"], m["cpu"] / m["n"]) for m, p in zip(ms, py)]
            busy = med([m.get("server_busy") for m in ms])
            lo, hi = spread(rates)
            lines.append(f"| {c} | {fmt(med(rates))} | {fmt(lo)}–{fmt(hi)} | {fmt(med(cpus), 2)} ms | "
                         f"{fmt(med(ratios), 2)}× | {fmt(med(cpu_ratios), 2)}× | {fmt(busy * 100 if busy else None)} % |")
    return lines


def bulk_table(res, total_mib):
    lines = [f"\n**Bulk receive: {total_mib} MiB from the Python `ssl` server (64 KiB writes), "
             "TLS 1.3 pinned to TLS_AES_128_GCM_SHA256 for every client**\n",
             "| client | MB/s (median) | range over rounds | client CPU s per GB | MB/s ÷ Python (median of per-round ratios) | client CPU: Python ÷ this | server busy |",
             "|---|---|---|---|---|---|---|"]
    py = res["bulk"]["Python ssl"]
    for c, ms in res["bulk"].items():
        rates = [m["mbps"] for m in ms]
        cpu = [m["cpu"] / (total_mib * 1.048576e-3) for m in ms]
        ratios = [ratio(m["mbps"], p["mbps"]) for m, p in zip(ms, py)]
        cpu_ratios = [ratio(p["cpu"], m["cpu"]) for m, p in zip(ms, py)]
        busy = med([m.get("server_busy") for m in ms])
        lo, hi = spread(rates)
        lines.append(f"| {c} | {fmt(med(rates))} | {fmt(lo)}–{fmt(hi)} | {fmt(med(cpu), 2)} | {fmt(med(ratios), 2)}× | "
                     f"{fmt(med(cpu_ratios), 2)}× | {fmt(busy * 100 if busy else None)} % |")
    rc, os_ = med(res["aead"]["rustcrypto"]), med(res["aead"]["openssl"])
    lines.append(f"| *ceiling:* the provider's AES-128-GCM (`tlsferry-gcm`) open, 16 KiB records, in memory | {fmt(rc)} | "
                 f"{fmt(spread(res['aead']['rustcrypto'])[0])}–{fmt(spread(res['aead']['rustcrypto'])[1])} | "
                 f"{fmt(med(res['aead']['rustcrypto_cpu']), 2)} | | | |")
    lines.append(f"| *ceiling:* `openssl speed -evp aes-128-gcm -decrypt -bytes 16384` | {fmt(os_)} | "
                 f"{fmt(spread(res['aead']['openssl'])[0])}–{fmt(spread(res['aead']['openssl'])[1])} | | | | |")
    return lines


def goals_native(res, hs_goal, bulk_goal, aead_goal):
    """Goal lines: (text, met) for one provider."""
    out = []
    for kind, by in res["hs"].items():
        lib, py = by["tlsferry (library loop)"], by["Python ssl"]
        r = med([ratio(m["n"] / m["wall"], p["n"] / p["wall"]) for m, p in zip(lib, py)])
        rc = med([ratio(p["cpu"] / p["n"], m["cpu"] / m["n"]) for m, p in zip(lib, py)])
        out.append((f"handshakes ({kind.upper()} leaf), library ≥ {hs_goal}× Python: measured {fmt(r, 2)}× "
                    f"wall-clock (by client CPU per handshake: {fmt(rc, 2)}×)", r is not None and r >= hs_goal))
    lib, py = res["bulk"]["tlsferry (library)"], res["bulk"]["Python ssl"]
    r = med([ratio(m["mbps"], p["mbps"]) for m, p in zip(lib, py)])
    rc = med([ratio(p["cpu"], m["cpu"]) for m, p in zip(lib, py)])
    out.append((f"bulk, library ≥ {bulk_goal}× Python: measured {fmt(r, 2)}× wall-clock "
                f"(by client CPU per byte: {fmt(rc, 2)}×)", r is not None and r >= bulk_goal))
    if aead_goal:
        share = med([ratio(m["mbps"], a) for m, a in zip(lib, res["aead"]["rustcrypto"])])
        cpu_share = med([ratio(a, m["cpu"] / (BULK_MIB * 1.048576e-3))
                         for m, a in zip(lib, res["aead"]["rustcrypto_cpu"])])
        out.append((f"bulk within 10 % of the provider's raw AES-128-GCM: library wall-clock MB/s = "
                    f"{fmt(share * 100 if share else None)} % of the AEAD's; by CPU time the AEAD is "
                    f"{fmt(cpu_share * 100 if cpu_share else None)} % of the library's cost",
                    share is not None and share >= 0.9))
    return out


def js_tables():
    rows = RESULTS.get("js", [])
    if not rows:
        return ["\n(JS clients not measured)"]
    errors = [r for r in rows if r["kind"] == "error"]
    clients = []
    for r in rows:
        if r["client"] not in clients:
            clients.append(r["client"])
    names = {
        "wasm": "tlsferry-wasm `connect()`, default suites (ChaCha20 first), net.Socket → Web Streams",
        "wasm-aes128": "tlsferry-wasm `connect()`, `cipherSuites: [AES_128_GCM]`, net.Socket → Web Streams",
        "wasm-aes256": "tlsferry-wasm `connect()`, `cipherSuites: [AES_256_GCM]`, net.Socket → Web Streams",
        "wasm-ec": "tlsferry-wasm `connect()`, default suites, to the same server with an **ECDSA P-256** leaf and root",
        "wasm-bridge": "tlsferry-wasm `connect()` over `webSocketTransport()` → `tlsferry bridge`",
        "node": "Node `tls.connect` (OpenSSL, native)",
        "subtls": "subtls 0.5 `startTls` over net.Socket",
        "subtls-bridge": "subtls 0.5 over WebSocket → `tlsferry bridge`",
        "forge": "node-forge 1.4 `tls.createConnection` over net.Socket",
    }
    def per_round(client, kind, f):
        return {r["round"]: f(r) for r in rows if r["client"] == client and r["kind"] == kind}
    lines = ["| client | negotiated | handshake ms (median) | handshake CPU ms | handshakes/s | bulk MB/s (median) | range | bulk CPU s/GB | bulk ÷ subtls | bulk ÷ node-forge |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    sub_bulk = per_round("subtls", "bulk", lambda r: r["bytes"] / r["wall"] / 1e6)
    forge_bulk = per_round("forge", "bulk", lambda r: r["bytes"] / r["wall"] / 1e6)
    summary = {}
    for c in clients:
        hs = per_round(c, "hs", lambda r: r["wall"] / r["n"] * 1000)
        hs_cpu = per_round(c, "hs", lambda r: r["cpu"] / r["n"] * 1000)
        bulk = per_round(c, "bulk", lambda r: r["bytes"] / r["wall"] / 1e6)
        cpu = per_round(c, "bulk", lambda r: r["cpu"] / (r["bytes"] / 1e9))
        neg = next((f"{r.get('version', '?')} {r.get('suite', '?')}" for r in rows
                    if r["client"] == c and r["kind"] == "bulk"), "–")
        vs_sub = med([ratio(bulk[k], sub_bulk.get(k)) for k in bulk])
        vs_forge = med([ratio(bulk[k], forge_bulk.get(k)) for k in bulk])
        lo, hi = spread(list(bulk.values()))
        hsm = med(list(hs.values()))
        hs_cpu_ms = med(list(hs_cpu.values()))
        summary[c] = {"bulk": med(list(bulk.values())), "vs_subtls": vs_sub, "vs_forge": vs_forge, "hs_ms": hsm,
                      "hs_cpu_ms": hs_cpu_ms, "bulk_cpu": med(list(cpu.values()))}
        lines.append(f"| {names.get(c, c)} | {neg} | {fmt(hsm, 2)} | {fmt(hs_cpu_ms, 2)} | {fmt(1000 / hsm if hsm else None)} | "
                     f"{fmt(med(list(bulk.values())), 1)} | {fmt(lo, 1)}–{fmt(hi, 1)} | "
                     f"{fmt(med(list(cpu.values())), 2)} | {fmt(vs_sub, 2)}× | {fmt(vs_forge, 1)}× |")
    RESULTS["js_summary"] = summary
    for e in errors[:5]:
        lines.append(f"\nError from `{e['client']}` in round {e['round']}: `{e['error'].splitlines()[0][:300]}`")
    return lines


def render(m):
    L = []
    L.append("<!-- bench:begin (generated by tests/bench; edit outside these markers) -->")
    L.append(f"## Results of the last run ({m['date']})\n")
    L.append("### Machine\n")
    L.append("| | |\n|---|---|")
    for k in ("cpu", "hypervisor", "memory", "kernel", "rustc", "openssl", "python", "node", "commit"):
        L.append(f"| {k} | {m[k]} |")
    L.append(f"| load average before / after | {m['load_before']} / {m.get('load_after', '?')} |")
    L.append(f"| knobs | ROUNDS={ROUNDS} HS_N={HS_N} CLI_HS_N={CLI_HS_N} STIME_SECS={STIME_SECS} BULK_MIB={BULK_MIB} "
             f"CORE_ROUNDS={CORE_ROUNDS} CORE_BULK_MIB={CORE_BULK_MIB} JS_ROUNDS={JS_ROUNDS} JS_HS={JS_HS} "
             f"JS_BULK_MIB={JS_BULK_MIB} JS_SLOW_MIB={JS_SLOW_MIB} |")
    L.append(f"| wall time of this run | {m.get('elapsed', '?')} |")
    if m.get("carried"):
        L.append(f"| sections not re-run (SECTIONS) | {m['carried']} |")
    if P["build_info"] and Path(P["build_info"]).exists():
        L.append(f"| builds | {Path(P['build_info']).read_text().strip()} |")

    goals = []
    if "core_overhead" in RESULTS:
        L.append("\n### 1. Core overhead (in memory, client CPU only) and idle memory\n")
        L.append("`cargo bench -p tlsferry-tests --bench core_overhead` (tlsferry-core vs a hand-driven "
                 "rustls `UnbufferedClientConnection`, same provider, interleaved):\n")
        L.append(RESULTS["core_overhead"])
        L.append("\n`cargo bench -p tlsferry-tests --bench idle_memory`:\n")
        L.append(RESULTS["idle_memory"])
        co = RESULTS["core_overhead"]
        hs = re.search(r"full handshakes per second[^|]*\|[^|]*\|[^|]*\| ([\d.]+) \|", co)
        bk = re.search(r"bulk receive MB/s[^|]*\|[^|]*\|[^|]*\| ([\d.]+) \|", co)
        bd = re.search(r"bulk receive with `decrypt_on_read`[^|]*\|[^|]*\|[^|]*\| ([\d.]+) \|", co)
        for label, mm in (("core handshakes within 3 % of raw rustls", hs), ("core bulk within 3 % of raw rustls", bk),
                          ("core bulk within 3 % of raw rustls, reading with `decrypt_on_read`", bd)):
            if mm:
                v = float(mm.group(1))
                goals.append((f"{label}: tlsferry/raw = {v:.3f}", v >= 0.97))
        if RESULTS.get("idle_bytes") is not None:
            b = RESULTS["idle_bytes"]
            goals.append((f"idle established connection ≤ 40 KiB: {b} B ({b / 1024:.1f} KiB)", b <= 40 * 1024))

    kinds_label = {"ec": "ECDSA P-256", "rsa": "RSA-2048"}
    for key, title, hs_goal, bulk_goal, aead in (
            ("native", "2. Native end to end over loopback, default provider (rustls-rustcrypto)", 1.0, 1.0, True),
            ("awslc", "3. Native end to end, `--features aws-lc-rs`", 2.0, 1.5, False)):
        res = RESULTS.get(key)
        if not res:
            continue
        L.append(f"\n### {title}\n")
        info = res["info"]
        lib_hs = info.get("hs-ec-lib", {})
        L.append(f"Provider: `{lib_hs.get('provider', '?')}`; negotiated by the library: "
                 f"{lib_hs.get('version', '?')} {lib_hs.get('suite', '?')} {lib_hs.get('group', '?')} "
                 f"(Python: {info.get('hs-ec-py', {}).get('suite', '?')}). "
                 f"Library loop and Python: {HS_N} sequential connections per round; CLI: {CLI_HS_N} processes per "
                 f"round, each sending `GET /` and reading s_server's status page (process start, config, "
                 f"TCP, handshake, one request); s_time: {STIME_SECS} s per round. {ROUNDS} rounds, clients "
                 "interleaved in rotating order within each round. Wall-clock rates include the server, which "
                 "shares the two cores; the CPU column is the client's alone.")
        L.extend(hs_table(res, kinds_label))
        L.extend(bulk_table(res, BULK_MIB))
        L.append("\n*server busy*: the server's CPU time during that client's run ÷ the run's wall time "
                 "(100 % = the single-threaded server is the bottleneck). Wall-clock rates on this shared "
                 "2-CPU machine include waiting for a core; the CPU columns do not.")
        if res.get("time_v"):
            L.append(f"\nPeak RSS of the CLI during a {BULK_MIB} MiB transfer to `--output /dev/null` "
                     f"(`/usr/bin/time -v`, maximum resident set size): {fmt(res['time_v'] / 1024, 1)} MiB.")
        for text, ok in goals_native(res, hs_goal, bulk_goal, aead):
            goals.append((("aws-lc-rs: " if key == "awslc" else "rustcrypto: ") + text, ok))

    if "js" in RESULTS or "wasm_sizes" in RESULTS:
        L.append("\n### 4. wasm in Node, against other JS TLS clients\n")
    if "js" in RESULTS:
        L.append(f"Node {m['node']}. One Node process runs every client, interleaved in rotating order, "
                 f"{JS_ROUNDS} rounds; the server is Node's `tls` in another process (`tests/bench.d/node_server.mjs`, "
                 "RSA-2048 leaf, TLS 1.1–1.3, so node-forge can connect too; the `wasm-ec` row talks to a second one "
                 "with an ECDSA P-256 leaf and root). Transport: a loopback TCP socket "
                 "(Node `net.Socket`, turned into Web Streams with `Duplex.toWeb` for tlsferry); the bridge rows go "
                 "through `tlsferry bridge` (WebSocket ↔ TCP, another process). Handshakes: "
                 f"{JS_HS} sequential connections per round ({max(5, JS_HS // 5)} for node-forge), each with TCP connect, "
                 "config from options and a full handshake (tlsferry with `resumption: false`; it resumes by "
                 f"default). Bulk: {JS_BULK_MIB} MiB per round ({JS_SLOW_MIB} MiB for node-forge) "
                 "in 64 KiB server writes. CPU is the whole Node process (all threads): for a handshake, the client's "
                 "crypto and TLS in wasm plus Node's sockets and streams.\n")
        L.extend(js_tables())
        s = RESULTS.get("js_summary", {})
        if "wasm" in s:
            w = s["wasm"]
            goals.append((f"wasm bulk ≥ 1.0× subtls: measured {fmt(w['vs_subtls'], 2)}× (default suites)",
                          w["vs_subtls"] is not None and w["vs_subtls"] >= 1.0))
            goals.append((f"wasm bulk ≥ 20× node-forge: measured {fmt(w['vs_forge'], 1)}×",
                          w["vs_forge"] is not None and w["vs_forge"] >= 20))
        for c, label in (("wasm", "RSA-2048"), ("wasm-ec", "ECDSA P-256")):
            if c in s and s[c].get("hs_cpu_ms") is not None:
                goals.append((f"wasm handshake CPU ≤ 3 ms, {label} server: measured {fmt(s[c]['hs_cpu_ms'], 2)} ms "
                              "(whole Node process)", s[c]["hs_cpu_ms"] <= 3.0))
    if "wasm_sizes" in RESULTS:
        z = RESULTS["wasm_sizes"]
        L.append("\n### 5. wasm module size\n")
        L.append("| `tlsferry_wasm_bg.wasm` | bytes | gzip -9 |\n|---|---|---|")
        L.append(f"| cargo `--profile {os.environ.get('WASM_PROFILE', 'release')}` + wasm-bindgen | {fmt(z['raw'])} | {fmt(z['raw_gz'])} |")
        L.append(f"| after `wasm-opt -Oz` (npm binaryen {z.get('binaryen', '?')}) | {fmt(z['opt'])} | {fmt(z['opt_gz'])} |")
        for piece in z.get("pieces", []):
            L.append(f"| {piece['name']} | {fmt(piece['bytes'])} | {fmt(piece['gz'])} |")
        if z.get("breakdown"):
            L.append("\nWhere the bytes are (code bytes by crate, from the name section of the unoptimised "
                     "module; data segments separately):\n")
            L.append("| crate | code bytes | share |\n|---|---|---|")
            for name, b, share in z["breakdown"]:
                L.append(f"| {name} | {fmt(b)} | {share:.1f} % |")
        goals.append((f"wasm module ≤ 256 KB (262,144 B) gzip, every algorithm and the Mozilla roots available "
                      f"(on demand): {fmt(z['opt_gz'])} B gzip after wasm-opt",
                      z["opt_gz"] <= 262_144))

    if "aes256" in RESULTS:
        res = RESULTS["aes256"]
        L.append("\n### 2b. Native bulk from a server that picks AES-256-GCM\n")
        L.append(f"Python `ssl` server at OpenSSL's default TLS 1.3 order, which picks "
                 f"`{res['info'].get('py', {}).get('suite', 'TLS_AES_256_GCM_SHA384')}` "
                 f"(the library negotiated `{res['info'].get('lib', {}).get('suite', '?')}`); "
                 f"{BULK_MIB} MiB per transfer, {ROUNDS} interleaved rounds, medians; CPU is the client's.\n")
        L.append("| client | MB/s | CPU s/GB | ÷ Python (wall) | ÷ Python (CPU per byte) | server busy |")
        L.append("|---|---:|---:|---:|---:|---:|")
        total = BULK_MIB * 1024 * 1024
        py = res["bulk"]["Python ssl"]
        py_mb = statistics.median(total / m["wall"] / 1e6 for m in py)
        py_cpu = statistics.median(m["cpu"] / (total / 1e9) for m in py)
        for c, ms in res["bulk"].items():
            mb = statistics.median(total / m["wall"] / 1e6 for m in ms)
            cpu = statistics.median(m["cpu"] / (total / 1e9) for m in ms)
            busy = statistics.median(m["server_busy"] for m in ms)
            L.append(f"| {c} | {fmt(mb)} | {fmt(cpu, 3)} | {fmt(mb / py_mb, 2)}× | {fmt(py_cpu / cpu, 2)}× | "
                     f"{busy * 100:.0f} % |")
            if c != "Python ssl":
                goals.append((f"AES-256-GCM bulk, {c} ≥ 1.0× Python: {mb / py_mb:.2f}× wall clock, "
                              f"{py_cpu / cpu:.2f}× by CPU per byte", mb >= py_mb and cpu <= py_cpu))

    if "tokio" in RESULTS:
        L.append("\n### 2c. `tlsferry::tokio` next to tokio-rustls\n")
        L.append("`cargo bench -p tlsferry-tests --bench tokio_client`: both clients with the same pure-Rust "
                 "provider against the same in-process rustls server, interleaved; ratios above 1 mean "
                 "tlsferry is faster (or uses less CPU).\n")
        L.append(RESULTS["tokio"]["table"])
        v = RESULTS["tokio"]["values"]
        for what, a, b in (("full handshakes/s", "tlsferry full hs/s", "tokio-rustls full hs/s"),
                           ("bulk MB/s", "tlsferry bulk MB/s", "tokio-rustls bulk MB/s")):
            if a in v and b in v:
                goals.append((f"tokio {what} at least tokio-rustls': {v[a] / v[b]:.2f}×", v[a] >= 0.97 * v[b]))

    if "bridge" in RESULTS:
        L.append("\n### 6. `tlsferry bridge` next to websockify\n")
        bl, bg = bridge_tables(RESULTS["bridge"])
        L.extend(bl)
        goals.extend(bg)
    elif "bridge_error" in RESULTS:
        L.append(f"\n### 6. `tlsferry bridge` next to websockify\n\nFailed: {RESULTS['bridge_error']}")

    if "profile" in RESULTS:
        L.append("\n### Profile of the library loop (perf, default provider, self time ≥ 1.5 %)\n")
        for name, text in RESULTS["profile"].items():
            L.append(f"`native_client {name}`:\n\n```\n{text}\n```\n")

    L.append("\n### Goals\n")
    L.append("| goal | met? |\n|---|---|")
    for text, ok in goals:
        L.append(f"| {text} | {'yes' if ok else '**no**'} |")
    L.append("\n<!-- bench:end -->")
    return "\n".join(L)


def write_report(m):
    path = ROOT / "BENCHMARKS.md"
    gen = render(m)
    old = path.read_text() if path.exists() else ""
    b, e = old.find("<!-- bench:begin"), old.find("<!-- bench:end -->")
    if b >= 0 and e > b:
        new = old[:b] + gen + old[e + len("<!-- bench:end -->"):]
    else:
        new = (old or "# tlsferry benchmarks\n\nReproduce: `tests/bench` (see its header for the knobs).\n\n") + gen + "\n"
    path.write_text(new)
    (ROOT / "target").mkdir(exist_ok=True)
    say(f"wrote {path}")


SECTION_KEYS = {
    "core": ["core_overhead", "idle_memory", "idle_bytes"],
    "native": ["native"],
    "aes256": ["aes256"],
    "tokio": ["tokio"],
    "awslc": ["awslc"],
    "js": ["js"],
    "size": ["wasm_sizes"],
    "profile": ["profile"],
    "bridge": ["bridge"],
}


def carry_over(m):
    """A partial run (SECTIONS) keeps the other sections' results from the last run."""
    old = ROOT / "target" / "bench-results.json"
    if not old.exists():
        return
    try:
        prev = json.loads(old.read_text())
    except ValueError:
        return
    kept = []
    dates = prev.get("results", {}).get("_dates", {})
    for section, keys in SECTION_KEYS.items():
        if section in SECTIONS:
            continue
        found = [k for k in keys if k in prev.get("results", {})]
        for k in found:
            RESULTS[k] = prev["results"][k]
        if found:
            RESULTS.setdefault("_dates", {})[section] = dates.get(section, "?")
            kept.append(f"{section} ({dates.get(section, '?')})")
    if kept:
        m["carried"] = ", ".join(kept)


def main():
    t0 = time.time()
    m = machine()
    work = Path(tempfile.mkdtemp(prefix="tlsferry-bench-"))
    try:
        ec, rsa = make_pki(work, "ec"), make_pki(work, "rsa")
        # The bulk server only allows TLS_AES_128_GCM_SHA256, so every client negotiates it.
        cnf = work / "openssl-aes128.cnf"
        cnf.write_text("openssl_conf = default_conf\n[default_conf]\nssl_conf = ssl_sect\n[ssl_sect]\n"
                       "system_default = system_default_sect\n[system_default_sect]\n"
                       "Ciphersuites = TLS_AES_128_GCM_SHA256\n")
        if "core" in SECTIONS:
            core_benches()
        bulk = start([sys.executable, HERE / "bulk_server.py", "--cert", ec["cert"], "--key", ec["key"]],
                     r"PORT (\d+)", env=dict(os.environ, OPENSSL_CONF=str(cnf)))
        pkis = {"ec": ec, "rsa": rsa}
        if "aes256" in SECTIONS:
            # OpenSSL's own default order (TLS_AES_256_GCM_SHA384 first), as most servers run.
            bulk256 = start([sys.executable, HERE / "bulk_server.py", "--cert", ec["cert"], "--key", ec["key"]],
                            r"PORT (\d+)")
            RESULTS["aes256"] = aes256_section(P["client"], P["cli"], bulk256, ec)
        if "tokio" in SECTIONS:
            tokio_section()
        if "native" in SECTIONS:
            RESULTS["native"] = native_section("rustcrypto", P["client"], P["cli"], pkis, bulk, ec)
            RESULTS["native"]["time_v"] = peak_rss_time_v(P["cli"], bulk.match, ec["ca"])
        if "awslc" in SECTIONS and P["client_awslc"] and P["cli_awslc"]:
            RESULTS["awslc"] = native_section("aws-lc-rs", P["client_awslc"], P["cli_awslc"], pkis, bulk, ec)
            RESULTS["awslc"]["time_v"] = peak_rss_time_v(P["cli_awslc"], bulk.match, ec["ca"])
        if "js" in SECTIONS and P["wasm_pkg"]:
            try:
                js_section(rsa, ec, P["cli"])
            except (RuntimeError, subprocess.SubprocessError) as e:
                say(f"JS section failed: {e}")
                RESULTS["js_error"] = str(e)
        if "size" in SECTIONS:
            size_section()
        if "bridge" in SECTIONS and P["bridge_cli"]:
            try:
                bridge_section()
            except (RuntimeError, subprocess.SubprocessError, ValueError) as e:
                say(f"bridge section failed: {e}")
                RESULTS["bridge_error"] = str(e)
        if "profile" in SECTIONS and PROFILE:
            hs = start(["openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", ec["cert"], "-key", ec["key"],
                        "-www", "-tls1_3"], r"ACCEPT 127\.0\.0\.1:(\d+)")
            profile_section(P["client"], hs.match, ec["ca"], bulk.match, ec["ca"])
    finally:
        for p in ALL_PROCS:
            p.stop()
        shutil.rmtree(work, ignore_errors=True)
    RESULTS["_dates"] = {sec: m["date"] for sec, keys in SECTION_KEYS.items()
                         if sec in SECTIONS and any(k in RESULTS for k in keys)}
    carry_over(m)
    m["load_after"] = open("/proc/loadavg").read().strip()
    m["elapsed"] = f"{(time.time() - t0) / 60:.1f} min (measurements only; builds before)"
    (ROOT / "target").mkdir(exist_ok=True)
    (ROOT / "target" / "bench-results.json").write_text(json.dumps({"machine": m, "results": RESULTS}, indent=1))
    write_report(m)


if __name__ == "__main__":
    main()
