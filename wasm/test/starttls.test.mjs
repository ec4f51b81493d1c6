// STARTTLS: plaintext first, then TLS over the same transport. Small Python servers
// (test/servers/starttls.py) speak the plaintext part of SMTP, IMAP and Postgres, then
// wrap the socket with Python's ssl.

import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";

import { plaintext, startTls, tcpTransport } from "tlsferry";
import { makePki, python, readAll, rejectsWith } from "./helpers.mjs";

const pki = makePki();
process.on("exit", () => pki.remove());

const dec = (b) => new TextDecoder().decode(b);
const tlsOptions = { serverName: "localhost", caPem: pki.caPem };
const server = (t, mode) => python(t, "starttls", [mode, pki.path("server.pem"), pki.path("server.key")]);

/** Reads one (possibly multi-line) SMTP response: lines until "NNN " (not "NNN-"). */
async function smtpResponse(readLine) {
  const lines = [];
  for (;;) {
    const line = await readLine();
    assert.notEqual(line, null, "the server hung up");
    lines.push(line);
    if (/^\d{3} /.test(line)) return lines;
  }
}

/** A line reader over a TLS socket's readable. */
function tlsLines(sock) {
  const reader = sock.readable.getReader();
  let buf = "";
  return async () => {
    for (;;) {
      const at = buf.indexOf("\n");
      if (at >= 0) {
        const line = buf.slice(0, at).replace(/\r$/, "");
        buf = buf.slice(at + 1);
        return line;
      }
      const { value, done } = await reader.read();
      if (done) return null;
      buf += dec(value);
    }
  };
}

test("SMTP STARTTLS: EHLO, STARTTLS, then EHLO again over TLS", async (t) => {
  const smtp = await server(t, "smtp");
  const plain = plaintext(tcpTransport("127.0.0.1", smtp.port));
  assert.match((await smtpResponse(() => plain.readLine()))[0], /^220 mail\.test/);
  await plain.write("EHLO client.test\r\n");
  const ehlo = await smtpResponse(() => plain.readLine());
  assert.ok(ehlo.includes("250 STARTTLS"), ehlo.join("|"));
  await plain.write("STARTTLS\r\n");
  assert.match((await smtpResponse(() => plain.readLine()))[0], /^220 2\.0\.0 Ready/);

  const sock = plain.startTls(tlsOptions);
  const info = await sock.opened;
  assert.equal(info.version, "TLSv1.3");
  const writer = sock.writable.getWriter();
  const readLine = tlsLines(sock);
  await writer.write("EHLO client.test\r\n");
  assert.deepEqual(await smtpResponse(readLine), ["250-mail.test greets you over TLS", "250 AUTH PLAIN"]);
  await writer.write("QUIT\r\n");
  assert.deepEqual(await smtpResponse(readLine), ["221 2.0.0 Bye"]);
  assert.equal(await readLine(), null, "close_notify after the goodbye");
  await sock.closed;
  await smtp.exited;
  assert.match(smtp.output(), /over TLS: EHLO client\.test\nover TLS: QUIT/);
  // The plaintext socket is done: it refuses to be used past the upgrade.
  await rejectsWith(plain.readLine(), "CLOSED");
});

test("IMAP STARTTLS (a1 STARTTLS, then a2 CAPABILITY over TLS)", async (t) => {
  const imap = await server(t, "imap");
  const plain = plaintext(tcpTransport("127.0.0.1", imap.port));
  assert.match(await plain.readLine(), /^\* OK \[CAPABILITY IMAP4rev1 STARTTLS/);
  await plain.write("a1 STARTTLS\r\n");
  assert.equal(await plain.readLine(), "a1 OK Begin TLS negotiation now");
  const sock = plain.startTls(tlsOptions);
  await sock.opened;
  const writer = sock.writable.getWriter();
  await writer.write("a2 CAPABILITY\r\n");
  const reply = dec(await readAll(sock.readable));
  assert.equal(reply, "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\na2 OK CAPABILITY completed\r\n");
  await sock.closed;
  await imap.exited;
  assert.match(imap.output(), /over TLS: a2 CAPABILITY/);
});

test("Postgres SSLRequest over a plain net.Socket, then startTls() on the same socket", async (t) => {
  const pg = await server(t, "postgres");
  const socket = net.connect({ host: "127.0.0.1", port: pg.port, allowHalfOpen: true });
  const plain = plaintext(socket);
  const sslRequest = new Uint8Array(8);
  new DataView(sslRequest.buffer).setInt32(0, 8);
  new DataView(sslRequest.buffer).setInt32(4, 80877103);
  await plain.write(sslRequest);
  assert.equal(dec(await plain.readBytes(1)), "S", "the server accepts SSL");
  const sock = plain.startTls(tlsOptions);
  await sock.opened;
  // A StartupMessage: length, protocol 3.0, "user\0alice\0\0".
  const params = new TextEncoder().encode("user\0alice\0\0");
  const startup = new Uint8Array(8 + params.length);
  new DataView(startup.buffer).setInt32(0, startup.length);
  new DataView(startup.buffer).setInt32(4, 196608);
  startup.set(params, 8);
  const writer = sock.writable.getWriter();
  await writer.write(startup);
  const reply = await readAll(sock.readable);
  assert.equal(String.fromCharCode(reply[0]), "R", "AuthenticationOk");
  await sock.closed;
  await pg.exited;
  assert.match(pg.output(), /user alice/);
});

test("bytes read ahead go to TLS, not to the application: an injected response makes TLS fail", async (t) => {
  const smtp = await server(t, "smtp-inject");
  const plain = plaintext(tcpTransport("127.0.0.1", smtp.port));
  await smtpResponse(() => plain.readLine());
  await plain.write("EHLO client.test\r\n");
  await smtpResponse(() => plain.readLine());
  await plain.write("STARTTLS\r\n");
  // The server sent "220 Ready" and "250 injected…" in one write: the line reader holds
  // the second line. It is fed to TLS (not lost, not trusted), which refuses it.
  assert.match(await plain.readLine(), /^220 2\.0\.0 Ready/);
  const sock = plain.startTls(tlsOptions);
  const err = await rejectsWith(sock.opened, "PROTOCOL");
  assert.match(err.message, /not TLS|unexpected|invalid|corrupt/i);
  await smtp.exited;
  assert.match(smtp.output(), /TLS refused/);
});

test("startTls() with readAhead, and refuses a transport whose streams are still locked", async (t) => {
  const imap = await server(t, "imap");
  const tcp = tcpTransport("127.0.0.1", imap.port);
  const reader = tcp.readable.getReader();
  const writer = tcp.writable.getWriter();
  let text = "";
  while (!text.includes("\r\n")) text += dec((await reader.read()).value);
  await writer.write(new TextEncoder().encode("a1 STARTTLS\r\n"));
  text = "";
  while (!text.includes("\r\n")) text += dec((await reader.read()).value);
  assert.equal(text, "a1 OK Begin TLS negotiation now\r\n");

  const locked = startTls(tcp, tlsOptions);
  const err = await rejectsWith(locked.opened, "CONFIG");
  assert.match(err.message, /release your reader and writer first/);

  reader.releaseLock();
  writer.releaseLock();
  const sock = startTls(tcp, { ...tlsOptions, readAhead: new Uint8Array(0) });
  await sock.opened;
  const w = sock.writable.getWriter();
  await w.write("a2 CAPABILITY\r\n");
  assert.match(dec(await readAll(sock.readable)), /a2 OK CAPABILITY completed/);
  await sock.closed;
});
