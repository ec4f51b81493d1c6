#!/usr/bin/env python3
"""The bulk server of tests/bench: Python's `ssl` (OpenSSL) on 127.0.0.1, fast enough not
to be the bottleneck. Prints `PORT <n>`, then serves connections one after the other
until killed. Each client sends one line with a byte count N; the server answers with N
bytes written in 64 KiB blocks, then close_notify, then closes.

The TLS 1.3 suites are whatever OpenSSL's configuration allows: tests/bench pins them
with OPENSSL_CONF (Python 3.11's ssl module has no setter for TLS 1.3 suites).
"""
import argparse
import socket
import ssl
import sys

BLOCK = 64 * 1024


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cert", required=True, help="PEM chain: leaf then intermediates")
    p.add_argument("--key", required=True, help="PEM private key")
    a = p.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    # Full handshakes only; no ticket is ever used by the bench clients anyway.
    ctx.num_tickets = 0

    block = bytes((i * 7 + 3) % 256 for i in range(BLOCK))
    listener = socket.create_server(("127.0.0.1", 0), backlog=64)
    print("PORT", listener.getsockname()[1], flush=True)
    while True:
        raw, _ = listener.accept()
        raw.settimeout(60)
        try:
            serve(ctx, raw, block)
        except (ssl.SSLError, OSError, ValueError) as e:
            print(f"bulk_server.py: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        finally:
            raw.close()


def serve(ctx, raw, block):
    conn = ctx.wrap_socket(raw, server_side=True)
    request = b""
    while not request.endswith(b"\n") and len(request) < 64:
        chunk = conn.recv(64)
        if not chunk:
            return
        request += chunk
    left = int(request.strip())
    view = memoryview(block)
    while left > 0:
        n = min(left, BLOCK)
        conn.sendall(view[:n])
        left -= n
    try:
        conn.unwrap()  # close_notify, then the client's (or its TCP close)
    except (ssl.SSLError, OSError):
        pass


if __name__ == "__main__":
    main()
