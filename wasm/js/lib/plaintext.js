// PlaintextSocket: the plaintext part of a STARTTLS protocol (SMTP, IMAP, POP3, LDAP, a
// Postgres SSLRequest), then startTls() over the same transport. Internal to js/; public
// through js/lib/api.js as plaintext() and PlaintextSocket.

import { tlsError, transportError, bytes, noop } from "./errors.js";
import { asTransport } from "./transports.js";
import { startTls } from "./socket.js";

const LF = 10;

/** Reads and writes plaintext over `transport` until startTls(). */
export function plaintext(transport) {
  return new PlaintextSocket(transport);
}

export class PlaintextSocket {
  #transport;
  #reader;
  #writer;
  /** Bytes read from the transport and not handed out yet. */
  #buffer = new Uint8Array(0);
  #eof = false;
  #upgraded = false;

  constructor(transport) {
    this.#transport = asTransport(transport, "plaintext()");
    this.#reader = this.#transport.readable.getReader();
    this.#writer = this.#transport.writable.getWriter();
  }

  #check() {
    if (this.#upgraded) throw tlsError("CLOSED", "this plaintext socket was upgraded with startTls(): use the TLS socket");
  }

  async #fill() {
    let r;
    try {
      r = await this.#reader.read();
    } catch (e) {
      throw transportError("the transport failed", e);
    }
    if (r.done) {
      this.#eof = true;
      return false;
    }
    const more = bytes(r.value);
    const joined = new Uint8Array(this.#buffer.length + more.length);
    joined.set(this.#buffer);
    joined.set(more, this.#buffer.length);
    this.#buffer = joined;
    return true;
  }

  #take(n) {
    const out = this.#buffer.slice(0, n);
    this.#buffer = this.#buffer.subarray(n);
    return out;
  }

  /** The next bytes (what is buffered, else the next chunk), or null at the end of stream. */
  async read() {
    this.#check();
    if (this.#buffer.length === 0 && !this.#eof) await this.#fill();
    if (this.#buffer.length === 0) return null;
    return this.#take(this.#buffer.length);
  }

  /** Exactly `n` bytes; TRANSPORT if the stream ends first. */
  async readBytes(n) {
    this.#check();
    while (this.#buffer.length < n) {
      if (this.#eof || !(await this.#fill())) {
        throw tlsError("TRANSPORT", `the stream ended after ${this.#buffer.length} of ${n} bytes`);
      }
    }
    return this.#take(n);
  }

  /**
   * The next line without its line ending (CRLF or LF), decoded as UTF-8; null at the end
   * of stream. A line longer than `maxLength` bytes is a PROTOCOL error.
   */
  async readLine({ maxLength = 64 * 1024 } = {}) {
    this.#check();
    for (let from = 0; ; ) {
      const at = this.#buffer.indexOf(LF, from);
      if (at >= 0) {
        const line = this.#take(at + 1);
        const end = line.length >= 2 && line[line.length - 2] === 13 ? line.length - 2 : line.length - 1;
        return new TextDecoder().decode(line.subarray(0, end));
      }
      if (this.#buffer.length > maxLength) throw tlsError("PROTOCOL", `a line longer than ${maxLength} bytes`);
      from = this.#buffer.length;
      if (this.#eof || !(await this.#fill())) {
        if (this.#buffer.length === 0) return null;
        throw tlsError("TRANSPORT", "the stream ended in the middle of a line");
      }
    }
  }

  /** Writes bytes or a string (UTF-8). */
  async write(data) {
    this.#check();
    try {
      await this.#writer.write(bytes(data));
    } catch (e) {
      throw transportError("the transport failed", e);
    }
  }

  /**
   * Runs TLS over the same transport from here on. Bytes this socket read but did not
   * hand out go to TLS first (`readAhead`), so none are lost; plaintext that a server (or
   * someone on the path) sent after its "go ahead" is not taken for protected data: TLS
   * refuses it.
   */
  startTls(options) {
    this.#check();
    this.#upgraded = true;
    const readAhead = this.#buffer;
    this.#buffer = new Uint8Array(0);
    this.#reader.releaseLock();
    this.#writer.releaseLock();
    return startTls(this.#transport, { ...options, readAhead });
  }

  /** Closes the transport without TLS. */
  async close() {
    if (this.#upgraded) return;
    this.#upgraded = true;
    await this.#writer.close().catch(noop);
    await this.#reader.cancel().catch(noop);
  }
}
