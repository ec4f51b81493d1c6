#!/usr/bin/env python3
"""A small TLS server on Python's `ssl` module (the seed's own library), for tlsferry's
interop tests. Binds 127.0.0.1 on a free port, prints `PORT <n>` on stdout, then serves
`--connections` connections one after the other and exits.

For each connection it reads one chunk of the request, then replies:
  --mode echo     the greeting (--greeting) followed by the request bytes
  --mode bytes    --count bytes of a fixed pattern (byte i is (i * 7 + 3) % 256)
then sends close_notify and waits for the client's (unless --no-close-notify: then it
closes the TCP connection without close_notify, which a client must report as truncation).
Everything it does is logged on stderr for diagnostics.
"""
import argparse
import socket
import ssl
import sys


def pattern(n):
    # (i * 7 + 3) % 256 repeats every 256 bytes.
    block = bytes((i * 7 + 3) % 256 for i in range(256))
    full, rest = divmod(n, 256)
    return block * full + block[:rest]


def log(*args):
    print("tls_server.py:", *args, file=sys.stderr, flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cert", required=True, help="PEM chain: leaf then intermediates")
    p.add_argument("--key", required=True, help="PEM private key")
    p.add_argument("--client-ca", help="require a client certificate issued under this PEM root")
    p.add_argument("--tls12", action="store_true", help="TLS 1.2 only")
    p.add_argument("--tls13", action="store_true", help="TLS 1.3 only")
    p.add_argument("--alpn", help="comma-separated ALPN protocols")
    p.add_argument("--mode", choices=["echo", "bytes"], default="echo")
    p.add_argument("--greeting", default="", help="text sent before the echoed request")
    p.add_argument("--count", type=int, default=0, help="bytes to send in --mode bytes")
    p.add_argument("--no-close-notify", action="store_true")
    p.add_argument("--connections", type=int, default=1)
    p.add_argument("--timeout", type=float, default=30.0, help="per-connection socket timeout")
    a = p.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    if a.tls12:
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if a.tls13:
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    if a.alpn:
        ctx.set_alpn_protocols(a.alpn.split(","))
    if a.client_ca:
        ctx.load_verify_locations(a.client_ca)
        ctx.verify_mode = ssl.CERT_REQUIRED

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    print("PORT", listener.getsockname()[1], flush=True)

    for n in range(a.connections):
        raw, peer = listener.accept()
        raw.settimeout(a.timeout)
        log(f"connection {n + 1} from {peer}")
        try:
            serve(ctx, raw, a)
        except (ssl.SSLError, OSError) as e:
            log(f"connection {n + 1}: {type(e).__name__}: {e}")
        finally:
            raw.close()
    log("done")


def serve(ctx, raw, a):
    conn = ctx.wrap_socket(raw, server_side=True)
    log(f"handshake done: {conn.version()} {conn.cipher()[0]} alpn={conn.selected_alpn_protocol()}")
    request = conn.recv(65536)
    log(f"received {len(request)} bytes: {request[:80]!r}")
    if a.mode == "echo":
        reply = a.greeting.encode() + request
    else:
        reply = pattern(a.count)
    conn.sendall(reply)
    log(f"sent {len(reply)} bytes")
    if a.no_close_notify:
        # Shut the TCP connection down under TLS: no close_notify is sent.
        conn.shutdown(socket.SHUT_RDWR)
        log("closed without close_notify")
        return
    # Sends close_notify, then waits for the client's.
    conn.unwrap()
    log("closed with close_notify")


if __name__ == "__main__":
    main()
