"""A TLS server that half-closes: it sends a greeting, then close_notify and a TCP FIN,
and goes on reading what the client sends until the client's close_notify.

    python3 halfclose.py CERT KEY

Prints "PORT n" when listening, then "received N bytes: <first 40>" and "client
close_notify" once the client closed. Built on ssl.MemoryBIO so that it can read after
sending its close_notify (TLS allows it; ssl.SSLSocket has no half-close).
"""

import socket
import ssl
import sys

cert, key = sys.argv[1:3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
srv.settimeout(30)
print("PORT", srv.getsockname()[1], flush=True)
conn, _ = srv.accept()
conn.settimeout(30)
incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ctx.wrap_bio(incoming, outgoing, server_side=True)


def flush():
    data = outgoing.read()
    if data:
        conn.sendall(data)


def receive():
    data = conn.recv(65536)
    if not data:
        incoming.write_eof()
    else:
        incoming.write(data)
    return bool(data)


while True:
    try:
        tls.do_handshake()
        break
    except ssl.SSLWantReadError:
        flush()
        if not receive():
            raise SystemExit("EOF during the handshake")
flush()
tls.write(b"greeting, then close_notify\n")
try:
    tls.unwrap()
except ssl.SSLWantReadError:
    pass
flush()
conn.shutdown(socket.SHUT_WR)
print("sent close_notify and FIN", flush=True)

received = b""
while True:
    try:
        data = tls.read(65536)
        if not data:
            break
        received += data
    except ssl.SSLWantReadError:
        if not receive():
            print("EOF without close_notify", flush=True)
            break
    except ssl.SSLZeroReturnError:
        print("client close_notify", flush=True)
        break
print(f"received {len(received)} bytes: {received[:40]!r}", flush=True)
conn.close()
