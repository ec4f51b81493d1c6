"""A TLS server that sends TOTAL bytes (byte k is k mod 256) as fast as the client takes
them, then close_notify. One connection.

    python3 sender.py CERT KEY TOTAL

Prints "PORT n" when listening and "SENT n" after every MiB it handed to the socket, so
a test can see how far back-pressure let it get.
"""

import socket
import ssl
import sys

cert, key, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
srv.settimeout(60)
print("PORT", srv.getsockname()[1], flush=True)
conn, _ = srv.accept()
tls = ctx.wrap_socket(conn, server_side=True)
block = bytes(range(256)) * 256
sent = 0
try:
    while sent < total:
        n = min(len(block), total - sent)
        tls.sendall(block[:n])
        sent += n
        if sent % (1024 * 1024) == 0:
            print("SENT", sent, flush=True)
    print("SENT", sent, "all", flush=True)
    tls.unwrap()
except (OSError, ssl.SSLError) as e:
    print("stopped:", type(e).__name__, flush=True)
