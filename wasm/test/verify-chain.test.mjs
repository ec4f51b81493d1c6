// verifyChain(): a PEM chain made with the openssl CLI, verified offline exactly as a
// handshake would verify it: a good chain, a wrong name, expired at `time`, an unknown
// root, a missing intermediate, garbage input; and the same TlsError a real handshake
// with openssl s_server gives for the same certificate.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";

import { connect, tcpTransport, verifyChain, TlsError } from "tlsferry";
import { makePki, sServer, rejectsWith } from "./helpers.mjs";

const pki = makePki();
process.on("exit", () => pki.remove());

// A root → intermediate → leaf chain in the same directory (RSA this time).
function openssl(...args) {
  execFileSync("openssl", args, { cwd: pki.dir, stdio: ["ignore", "ignore", "pipe"] });
}
const rsa = ["-newkey", "rsa:2048", "-nodes"];
openssl("req", "-x509", ...rsa, "-keyout", "root2.key", "-out", "root2.pem", "-days", "3", "-subj", "/CN=tlsferry verify root",
  "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
writeFileSync(pki.path("inter.ext"), "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n");
openssl("req", ...rsa, "-keyout", "inter.key", "-out", "inter.csr", "-subj", "/CN=tlsferry verify intermediate");
openssl("x509", "-req", "-in", "inter.csr", "-CA", "root2.pem", "-CAkey", "root2.key", "-set_serial", "7", "-days", "3", "-extfile", "inter.ext", "-out", "inter.pem");
writeFileSync(pki.path("leaf.ext"), "subjectAltName=DNS:verify.test,DNS:*.verify.test\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n");
openssl("req", ...rsa, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=verify.test");
openssl("x509", "-req", "-in", "leaf.csr", "-CA", "inter.pem", "-CAkey", "inter.key", "-set_serial", "8", "-days", "2", "-extfile", "leaf.ext", "-out", "leaf.pem");
const read = (f) => readFileSync(pki.path(f), "utf8");
const root = read("root2.pem");
const leaf = read("leaf.pem");
const chain = leaf + read("inter.pem");

test("a good chain verifies offline: { ok: true, chain }", async () => {
  const r = await verifyChain(chain, "verify.test", { caPem: root });
  assert.equal(r.ok, true);
  assert.deepEqual(r.chain.map((c) => c.subject), ["CN=verify.test", "CN=tlsferry verify intermediate"]);
  assert.deepEqual(r.chain[0].names, ["verify.test", "*.verify.test"]);
  assert.equal(r.chain[0].pem.trim(), leaf.trim());
  assert.match(r.chain[0].sha256, /^[0-9a-f]{64}$/);
  // A wildcard name, and the Mozilla roots plus ours (extraCaPem).
  assert.equal((await verifyChain(chain, "www.verify.test", { extraCaPem: root })).ok, true);
  // The chain of the other PKI (leaf signed by its root directly, EC keys), by IP too.
  assert.equal((await verifyChain(pki.serverPem, "127.0.0.1", { caPem: pki.caPem })).ok, true);
});

test("a wrong name: CERT_HOSTNAME_MISMATCH with the names the certificate covers", async () => {
  const err = await rejectsWith(verifyChain(chain, "other.example", { caPem: root }), "CERT_HOSTNAME_MISMATCH");
  assert.deepEqual(err.presentedNames, ["verify.test", "*.verify.test"]);
  assert.equal(err.serverName, "other.example");
  assert.match(err.message, /certificate is for verify\.test, \*\.verify\.test, not other\.example/);
  assert.match(err.report, /chain as sent \(2 certificates\)/);
  assert.equal(err.peerCertificates.length, 2);
  assert.equal(err.side, "peer");
});

test("expired at `time` (a Date or Unix seconds), and not yet valid before notBefore", async () => {
  const { chain: [info] } = await verifyChain(chain, "verify.test", { caPem: root });
  const later = new Date(info.notAfter.getTime() + 86_400_000);
  for (const time of [later, Math.floor(later.getTime() / 1000)]) {
    const err = await rejectsWith(verifyChain(chain, "verify.test", { caPem: root, time }), "CERT_EXPIRED");
    assert.equal(err.notAfter.getTime(), info.notAfter.getTime());
    assert.equal(err.now.getTime(), Math.floor(later.getTime() / 1000) * 1000);
    assert.match(err.message, /certificate has expired/);
  }
  const before = Math.floor(info.notBefore.getTime() / 1000) - 3600;
  const err = await rejectsWith(verifyChain(chain, "verify.test", { caPem: root, time: before }), "CERT_NOT_YET_VALID");
  assert.equal(err.notBefore.getTime(), info.notBefore.getTime());
  // Inside the validity period, any time verifies.
  assert.equal((await verifyChain(chain, "verify.test", { caPem: root, time: before + 7200 })).ok, true);
});

test("an unknown root, the Mozilla roots only, a missing intermediate: CERT_UNKNOWN_ISSUER", async () => {
  await rejectsWith(verifyChain(chain, "verify.test", { caPem: pki.caPem }), "CERT_UNKNOWN_ISSUER");
  const mozilla = await rejectsWith(verifyChain(chain, "verify.test"), "CERT_UNKNOWN_ISSUER");
  assert.match(mozilla.report, /tlsferry verify intermediate/);
  const alone = await rejectsWith(verifyChain(leaf, "verify.test", { caPem: root }), "CERT_UNKNOWN_ISSUER");
  assert.match(alone.message, /intermediate/, "says an intermediate may be missing");
});

test("garbage input is CONFIG naming it; insecure and unknown options are refused", async () => {
  const garbage = await rejectsWith(verifyChain("not a certificate", "verify.test"), "CONFIG");
  assert.match(garbage.message, /chainPem: no "BEGIN CERTIFICATE" block found/);
  const broken = await rejectsWith(verifyChain("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", "verify.test", { caPem: root }), "CONFIG");
  assert.match(broken.message, /chainPem: PEM block #1/);
  // Well-formed PEM around bytes that are no certificate: what a handshake would say.
  await rejectsWith(verifyChain("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "verify.test", { caPem: root }), "CERT_BAD_ENCODING");
  await rejectsWith(verifyChain(chain, "verify.test", { caPem: "garbage" }), "CONFIG");
  const insecure = await rejectsWith(verifyChain(chain, "verify.test", { insecure: true }), "CONFIG");
  assert.match(insecure.message, /insecure is not an option/);
  const typo = await rejectsWith(verifyChain(chain, "verify.test", { capem: root }), "CONFIG");
  assert.match(typo.message, /unknown option "capem" \(did you mean "caPem"\?\)/);
  await rejectsWith(verifyChain(chain, "verify.test", { time: "tomorrow" }), "CONFIG");
  await rejectsWith(verifyChain(chain, "verify.test", { time: new Date(NaN) }), "CONFIG");
  await rejectsWith(verifyChain(chain, "not a name!", { caPem: root }), "INVALID_SERVER_NAME");
  await rejectsWith(verifyChain(undefined, "verify.test"), "CONFIG");
});

/** A TlsError's fields that do not depend on when it was made. */
function verdict(e) {
  assert.ok(e instanceof TlsError);
  return {
    code: e.code,
    side: e.side,
    reason: e.reason,
    serverName: e.serverName,
    presentedNames: e.presentedNames,
    notAfter: e.notAfter?.toISOString(),
    chain: e.peerCertificates?.map((c) => c.sha256),
    // The message and report name the current time: compare them without it.
    message: e.message.replace(/, now [^)]*\)/, ")"),
    report: e.report?.replace(/^.*\bnow\b.*$/gm, ""),
  };
}

for (const [cert, serverName] of [
  ["expired", "localhost"],
  ["server", "wrong.example"],
  ["stranger", "localhost"],
]) {
  test(`the same TlsError as a handshake (${cert} certificate, ${serverName})`, async (t) => {
    const server = await sServer(t, pki, { cert });
    const sock = connect(tcpTransport("127.0.0.1", server.port), { serverName, caPem: pki.caPem });
    const handshake = await sock.opened.then(
      () => assert.fail("the handshake succeeded"),
      (e) => e,
    );
    const offline = await verifyChain(readFileSync(pki.path(`${cert}.pem`), "utf8"), serverName, { caPem: pki.caPem }).then(
      () => assert.fail("verifyChain succeeded"),
      (e) => e,
    );
    assert.deepEqual(verdict(offline), verdict(handshake));
  });
}
