#!/usr/bin/env python3
"""Plaintext-then-TLS test servers on Python's `ssl`, for STARTTLS and proxy tests.

Binds 127.0.0.1 on a free port, prints `PORT <n>` on stdout, serves `--connections`
connections one after the other, then exits.

  --protocol smtp|imap|pop3|ftp|xmpp|postgres
      speaks the protocol's greeting and STARTTLS exchange as a server, then wraps the
      socket with Python's ssl (server side), reads one chunk and answers
      "<PROTOCOL> over TLS: <the chunk>", sends close_notify and closes.
      With --refuse it does not offer TLS (SMTP EHLO without STARTTLS, IMAP NO, POP3
      -ERR, FTP 502, XMPP features without <starttls/>, PostgreSQL 'N').
  --protocol proxy --target HOST:PORT
      an HTTP CONNECT proxy: answers 200 and relays bytes both ways to HOST:PORT only
      (any other target gets 403); with --refuse every CONNECT gets 403.

Everything it does is logged on stderr.
"""
import argparse
import socket
import ssl
import sys
import threading


def log(*args):
    print("starttls_server.py:", *args, file=sys.stderr, flush=True)


def read_line(sock):
    line = b""
    while not line.endswith(b"\n"):
        b = sock.recv(1)
        if not b:
            raise EOFError("client closed")
        line += b
    return line


def read_until(sock, end):
    data = b""
    while not data.endswith(end):
        b = sock.recv(1)
        if not b:
            raise EOFError("client closed")
        data += b
    return data


def negotiate(sock, protocol, refuse):
    """The server side of the plaintext exchange. Returns True if TLS should start."""
    if protocol == "smtp":
        sock.sendall(b"220-mail.test ESMTP tlsferry test\r\n220 ready\r\n")
        line = read_line(sock)
        assert line.upper().startswith(b"EHLO"), line
        caps = [b"250-mail.test greets you", b"250-8BITMIME"]
        if not refuse:
            caps.append(b"250-STARTTLS")
        caps.append(b"250 SIZE 1000000")
        sock.sendall(b"\r\n".join(caps) + b"\r\n")
        if refuse:
            return False
        line = read_line(sock)
        assert line.strip().upper() == b"STARTTLS", line
        sock.sendall(b"220 2.0.0 go ahead\r\n")
    elif protocol == "imap":
        sock.sendall(b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n")
        line = read_line(sock)
        tag = line.split(b" ")[0]
        if refuse:
            sock.sendall(tag + b" NO STARTTLS unavailable\r\n")
            return False
        sock.sendall(b"* CAPABILITY IMAP4rev1 STARTTLS\r\n" + tag + b" OK begin TLS now\r\n")
    elif protocol == "pop3":
        sock.sendall(b"+OK POP3 ready\r\n")
        line = read_line(sock)
        assert line.strip().upper() == b"STLS", line
        if refuse:
            sock.sendall(b"-ERR not now\r\n")
            return False
        sock.sendall(b"+OK begin TLS\r\n")
    elif protocol == "ftp":
        sock.sendall(b"220 FTP ready\r\n")
        line = read_line(sock)
        assert line.strip().upper() == b"AUTH TLS", line
        if refuse:
            sock.sendall(b"502 not implemented\r\n")
            return False
        sock.sendall(b"234 proceed\r\n")
    elif protocol == "xmpp":
        read_until(sock, b">")  # the <?xml …?> declaration
        read_until(sock, b">")  # the <stream:stream …> opening
        features = b"<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"
        if not refuse:
            features = b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>" + features
        sock.sendall(
            b"<?xml version='1.0'?><stream:stream from='localhost' id='t1' version='1.0' "
            b"xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"
            b"<stream:features>" + features + b"</stream:features>"
        )
        if refuse:
            return False
        read_until(sock, b"/>")
        sock.sendall(b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
    elif protocol == "postgres":
        req = b""
        while len(req) < 8:
            b = sock.recv(8 - len(req))
            if not b:
                raise EOFError("client closed")
            req += b
        assert req == bytes([0, 0, 0, 8, 0x04, 0xD2, 0x16, 0x2F]), req
        if refuse:
            sock.sendall(b"N")
            return False
        sock.sendall(b"S")
    else:
        raise ValueError(protocol)
    return True


def relay(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    finally:
        try:
            b.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def proxy(conn, target, refuse):
    head = read_until(conn, b"\r\n\r\n")
    first = head.split(b"\r\n")[0].decode("latin-1")
    log("proxy request:", first)
    parts = first.split(" ")
    if refuse or len(parts) != 3 or parts[0] != "CONNECT" or parts[1] != target:
        conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        return
    host, port = target.rsplit(":", 1)
    upstream = socket.create_connection((host, int(port)))
    conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
    t = threading.Thread(target=relay, args=(upstream, conn), daemon=True)
    t.start()
    relay(conn, upstream)
    t.join(30)
    upstream.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--protocol", required=True)
    p.add_argument("--cert", help="PEM chain: leaf then intermediates")
    p.add_argument("--key", help="PEM private key")
    p.add_argument("--target", help="proxy: the one HOST:PORT it tunnels to")
    p.add_argument("--refuse", action="store_true")
    p.add_argument("--connections", type=int, default=1)
    a = p.parse_args()

    ctx = None
    if a.protocol != "proxy":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)

    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    print("PORT", srv.getsockname()[1], flush=True)
    for _ in range(a.connections):
        conn, peer = srv.accept()
        conn.settimeout(30)
        log("connection from", peer)
        try:
            if a.protocol == "proxy":
                proxy(conn, a.target, a.refuse)
                continue
            if not negotiate(conn, a.protocol, a.refuse):
                log("refused TLS as asked")
                # Wait for the client to give up, then close.
                try:
                    conn.recv(1)
                except OSError:
                    pass
                continue
            tls = ctx.wrap_socket(conn, server_side=True)
            request = tls.recv(65536)
            log("TLS", tls.version(), "request", request)
            tls.sendall(a.protocol.upper().encode() + b" over TLS: " + request)
            tls.unwrap()
        except (OSError, EOFError, AssertionError, ssl.SSLError) as e:
            log("connection ended:", repr(e))
        finally:
            conn.close()
    log("done")


if __name__ == "__main__":
    main()
