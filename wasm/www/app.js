// The demo page: connect through a WebSocket bridge, show the handshake and the chain,
// send a message and print the reply. Served by `tlsferry demo --web` (which also provides
// demo-config.json with its bridge URL and CA), or by any static server rooted at wasm/.

import { connect, webSocketTransport } from "../js/browser.js";

const $ = (id) => document.getElementById(id);

// `tlsferry demo --web` tells the page where its bridge is and which CA it generated.
try {
  const res = await fetch("demo-config.json");
  if (res.ok) {
    const cfg = await res.json();
    $("bridge").value = cfg.bridgeUrl;
    $("server-name").value = cfg.serverName;
    $("ca").value = cfg.caPem;
    $("status").textContent = `Ready: the demo server at ${cfg.target} uses a CA generated at startup (below).`;
  }
} catch {
  // Not served by `tlsferry demo --web`: fill the fields by hand.
}

function fmtDate(d) {
  return d ? d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC") : "?";
}

function showChain(list, certs) {
  list.replaceChildren(
    ...certs.map((c) => {
      const li = document.createElement("li");
      li.className = "cert";
      const subject = document.createElement("div");
      subject.className = "subject";
      subject.textContent = c.subject || "(unparsable certificate)";
      const meta = document.createElement("div");
      meta.className = "meta";
      meta.textContent =
        `issuer ${c.issuer}` +
        (c.names.length ? ` · names ${c.names.join(", ")}` : "") +
        ` · valid ${fmtDate(c.notBefore)} … ${fmtDate(c.notAfter)} · sha256 ${c.sha256.slice(0, 16)}…`;
      const pem = document.createElement("details");
      const sum = document.createElement("summary");
      sum.textContent = "PEM";
      const pre = document.createElement("pre");
      pre.textContent = c.pem;
      pem.append(sum, pre);
      li.append(subject, meta, pem);
      return li;
    }),
  );
}

function showError(e) {
  const box = $("error");
  const code = document.createElement("span");
  code.className = "code";
  code.textContent = e.code ?? "ERROR";
  const msg = document.createElement("span");
  msg.className = "message";
  msg.textContent = e.message;
  box.replaceChildren(code, msg);
  if (e.report) {
    const pre = document.createElement("pre");
    pre.textContent = e.report;
    box.append(pre);
  }
  box.hidden = false;
}

$("form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const button = $("connect");
  button.disabled = true;
  $("error").hidden = true;
  $("result").hidden = true;
  $("reply").textContent = "";
  const status = $("status");
  status.className = "status";
  status.textContent = "Connecting…";
  const started = performance.now();
  try {
    const caPem = $("ca").value.trim();
    const sock = connect(webSocketTransport($("bridge").value.trim()), {
      serverName: $("server-name").value.trim(),
      ...(caPem ? { caPem } : {}),
      alpn: ["http/1.1"],
    });
    const info = await sock.opened;
    const ms = Math.round(performance.now() - started);
    const rows = [
      ["Protocol", info.version],
      ["Cipher suite", info.cipherSuite],
      ["Key exchange", info.keyExchangeGroup ?? "—"],
      ["ALPN", info.alpn ?? "—"],
      ["Session", info.resumed ? "resumed (no certificate sent; the chain below was verified before)" : "new (full handshake)"],
      ["Server name", `${info.serverName} (${info.verified ? "verified" : "NOT verified"})`],
      ["Handshake", `${ms} ms`],
    ];
    $("summary").replaceChildren(
      ...rows.flatMap(([k, v]) => {
        const dt = document.createElement("dt");
        dt.textContent = k;
        const dd = document.createElement("dd");
        dd.textContent = v;
        return [dt, dd];
      }),
    );
    showChain($("chain"), info.peerCertificates);
    $("result").hidden = false;
    status.textContent = "Connected; sending the message…";

    const writer = sock.writable.getWriter();
    await writer.write(new TextEncoder().encode($("message").value));
    const decoder = new TextDecoder();
    for await (const chunk of sock.readable) {
      $("reply").textContent += decoder.decode(chunk, { stream: true });
    }
    await sock.close();
    status.className = "status ok";
    status.textContent = `Done: ${info.version}, ${info.cipherSuite}, closed cleanly with close_notify.`;
  } catch (e) {
    status.textContent = "Failed.";
    showError(e);
  } finally {
    button.disabled = false;
  }
});
