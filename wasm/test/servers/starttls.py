"""Small STARTTLS servers for the JavaScript tests: one connection each, on 127.0.0.1.

    python3 starttls.py MODE CERT KEY

MODE is smtp, imap, postgres, or smtp-inject (an SMTP server that sends an extra,
injected response line right after "220 Ready", in the same write). Each speaks its
protocol's plaintext part, then wraps the socket with Python's ssl, answers one command
over TLS, sends close_notify and exits. It prints "PORT n" when listening, and what it
saw ("TLS <version> <cipher>", the lines it read over TLS) as it goes.
"""

import socket
import ssl
import struct
import sys

mode, cert, key = sys.argv[1:4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)

srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
srv.settimeout(30)
print("PORT", srv.getsockname()[1], flush=True)
conn, _ = srv.accept()
conn.settimeout(30)
plain = conn.makefile("rb")


def line():
    data = plain.readline(4096)
    if not data.endswith(b"\n"):
        raise SystemExit(f"no line from the client: {data!r}")
    return data.rstrip(b"\r\n").decode()


def upgrade():
    # The buffered reader cannot have read past the command: the client waits for our
    # answer before it starts TLS.
    tls = ctx.wrap_socket(conn, server_side=True)
    print("TLS", tls.version(), tls.cipher()[0], flush=True)
    return tls, tls.makefile("rwb")


def finish(tls):
    try:
        tls.unwrap()
    except (ssl.SSLError, OSError):
        pass
    tls.close()


if mode in ("smtp", "smtp-inject"):
    conn.sendall(b"220 mail.test ESMTP ready\r\n")
    assert line().upper().startswith("EHLO ")
    conn.sendall(b"250-mail.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n")
    assert line().upper() == "STARTTLS"
    if mode == "smtp-inject":
        # What a man in the middle adds: it must not be taken for a response sent over TLS.
        conn.sendall(b"220 2.0.0 Ready to start TLS\r\n250 injected before TLS\r\n")
        try:
            ctx.wrap_socket(conn, server_side=True)
            print("TLS unexpectedly established", flush=True)
        except (ssl.SSLError, OSError) as e:
            print("TLS refused:", type(e).__name__, flush=True)
        sys.exit(0)
    conn.sendall(b"220 2.0.0 Ready to start TLS\r\n")
    tls, f = upgrade()
    got = f.readline().rstrip(b"\r\n").decode()
    print("over TLS:", got, flush=True)
    f.write(b"250-mail.test greets you over TLS\r\n250 AUTH PLAIN\r\n")
    f.flush()
    got = f.readline().rstrip(b"\r\n").decode()
    print("over TLS:", got, flush=True)
    f.write(b"221 2.0.0 Bye\r\n")
    f.flush()
    finish(tls)
elif mode == "imap":
    conn.sendall(b"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n")
    assert line() == "a1 STARTTLS"
    conn.sendall(b"a1 OK Begin TLS negotiation now\r\n")
    tls, f = upgrade()
    got = f.readline().rstrip(b"\r\n").decode()
    print("over TLS:", got, flush=True)
    f.write(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\na2 OK CAPABILITY completed\r\n")
    f.flush()
    finish(tls)
elif mode == "postgres":
    length, code = struct.unpack("!ii", plain.read(8))
    assert (length, code) == (8, 80877103), (length, code)  # SSLRequest
    conn.sendall(b"S")
    tls, f = upgrade()
    (length,) = struct.unpack("!i", f.read(4))
    body = f.read(length - 4)
    print("over TLS: startup message of", length, "bytes", flush=True)
    user = body[4:].split(b"\0")
    f.write(b"R" + struct.pack("!ii", 8, 0))  # AuthenticationOk
    f.flush()
    print("user", user[1].decode(), flush=True)
    finish(tls)
else:
    raise SystemExit(f"unknown mode {mode}")
