#!/usr/bin/env python3
"""The seed's tool as a benchmark client: Python's `ssl` with
`ssl.create_default_context(cafile=...)` (certificate and host name verified), doing what
tests/benches/native_client.rs does, and printing the same `ok key=value ...` line.

  py_client.py handshakes ADDR CAFILE N    N full handshakes (no session is ever reused)
  py_client.py bulk ADDR CAFILE BYTES      one request line, then read BYTES until close_notify
"""
import socket
import ssl
import sys
import time

READ_SIZE = 64 * 1024


def connect(ctx, host, port):
    return ctx.wrap_socket(socket.create_connection((host, port)), server_hostname="localhost")


def describe(tls):
    name, version, _ = tls.cipher()
    return f"version={version} suite={name} group=-"


def handshakes(ctx, host, port, n):
    connect(ctx, host, port).close()  # untimed warm-up, as native_client does
    last = ""
    t, c = time.perf_counter(), time.process_time()
    for i in range(n):
        tls = connect(ctx, host, port)
        if i + 1 == n:
            last = describe(tls)
        tls.close()  # no close_notify, like the other clients
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    return f"n={n} wall={wall:.6f} cpu={cpu:.6f} {last}"


def bulk(ctx, host, port, expected):
    buf = bytearray(READ_SIZE)
    t, c = time.perf_counter(), time.process_time()
    tls = connect(ctx, host, port)
    info = describe(tls)
    tls.sendall(f"{expected}\n".encode())
    got = 0
    while True:
        n = tls.recv_into(buf)
        if n == 0:
            break
        got += n
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    tls.close()
    if got != expected:
        raise SystemExit(f"error received {got} bytes, expected {expected}")
    return f"bytes={got} wall={wall:.6f} cpu={cpu:.6f} {info}"


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in ("handshakes", "bulk"):
        raise SystemExit(__doc__)
    mode, addr, cafile, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    host, port = addr.rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=cafile)
    if mode == "handshakes":
        line = handshakes(ctx, host, int(port), count)
    else:
        line = bulk(ctx, host, int(port), count)
    print(f"ok {line} provider=OpenSSL-{ssl.OPENSSL_VERSION.split()[1]}", flush=True)


if __name__ == "__main__":
    main()
