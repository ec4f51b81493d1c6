"""A TLS server that greets each client with "bye\\n", then closes properly: close_notify,
and waits for the client's close_notify (ssl.SSLSocket.unwrap), then a TCP FIN.

    python3 greeter.py CERT KEY

Prints "PORT n" when listening, then per connection "answered with close_notify" or why not.
"""

import socket
import ssl
import sys

cert, key = sys.argv[1:3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(8)
print("PORT", srv.getsockname()[1], flush=True)
while True:
    conn, _ = srv.accept()
    conn.settimeout(10)
    try:
        tls = ctx.wrap_socket(conn, server_side=True)
        tls.sendall(b"bye\n")
        plain = tls.unwrap()
        print("answered with close_notify", flush=True)
        plain.close()
    except (OSError, ssl.SSLError) as e:
        print("no close_notify:", type(e).__name__, e, flush=True)
        conn.close()
