//! `tlsferry verify CHAIN.pem --servername NAME`: verifies a certificate chain offline,
//! exactly as a handshake would (like `openssl verify`, with the host-name check and the
//! forensic report): exit 0 when it verifies, 4 when it does not, 2 for bad input.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use tlsferry_core::{Config, PemInput, UtcTime};

use crate::json::Json;
use crate::report::{self, say, Exit};

/// Help for `tlsferry verify`.
pub const HELP: &str = "\
tlsferry verify: verify a certificate chain offline, as a handshake would

USAGE:
  tlsferry verify CHAIN.pem --servername NAME [--cafile PATH] [--time UNIX] [--json]

CHAIN.pem holds the chain as a server sends it: the server certificate first, then its
intermediates. It is checked against the Mozilla roots (or only the PEM roots in
--cafile), for the name NAME, at the current time (or --time, Unix seconds), with the
same rules as `tlsferry connect`: validity, host name, key usage, key sizes.

Exit codes: 0 verified; 2 bad input (unreadable or invalid PEM, bad name); 4 not
verified, with the reason and a forensic report on stderr (like connect).
";

/// Parsed `tlsferry verify` arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifyArgs {
    /// The chain to verify (PEM, leaf first).
    pub chain: PathBuf,
    /// The name the certificate must cover.
    pub servername: String,
    /// Trust only the PEM roots in this file.
    pub cafile: Option<PathBuf>,
    /// Check validity at this Unix time instead of now.
    pub time: Option<u64>,
    /// Print one JSON object on stdout.
    pub json: bool,
}

/// Runs `tlsferry verify` with parsed arguments; returns the exit code.
pub fn run(args: &VerifyArgs) -> ExitCode {
    let fail_usage = |message: String| {
        say!("tlsferry verify: {message}");
        if args.json {
            print_json(
                &base_json(args, "")
                    .with("result", Json::str("error"))
                    .with(
                        "error",
                        Json::obj()
                            .with("code", Json::str("USAGE"))
                            .with("message", Json::str(&message)),
                    )
                    .with("exit_code", Json::Num(u64::from(Exit::Usage.code()))),
            );
        }
        ExitCode::from(Exit::Usage.code())
    };
    let read = |flag: &str, p: &PathBuf| {
        std::fs::read(p).map_err(|e| format!("cannot read {flag}{}: {e}", p.display()))
    };
    let pem = match read("", &args.chain) {
        Ok(p) => p,
        Err(e) => return fail_usage(e),
    };
    let chain = match tlsferry_core::parse_certificates(&pem, PemInput::Certificates) {
        Ok(c) => c,
        Err(e) => return fail_usage(format!("{}: {e}", args.chain.display())),
    };
    let mut builder = Config::builder().crypto_provider(Arc::new(tlsferry::provider()));
    if let Some(ca) = &args.cafile {
        match read("--cafile ", ca) {
            Ok(pem) => builder = builder.root_certificates_pem(&pem),
            Err(e) => return fail_usage(e),
        }
    }
    let config = match builder.build() {
        Ok(c) => c,
        Err(e) => {
            let where_ = args
                .cafile
                .as_ref()
                .map(|p| format!("--cafile {}: ", p.display()))
                .unwrap_or_default();
            return fail_usage(format!("{where_}{e}"));
        }
    };
    let trust = report::trust_text(args.cafile.as_deref(), config.trust_summary(), false);
    let result = config.verify_server_chain(&chain, &args.servername, args.time);
    let summaries = tlsferry_core::CertSummary::chain(&chain);
    match result {
        Ok(()) => {
            say!(
                "tlsferry verify: {}: OK: the chain leads to a trusted root ({trust}), covers {:?}{}",
                args.chain.display(),
                args.servername,
                args.time
                    .map(|t| format!(" and is valid at {}", UtcTime(t)))
                    .unwrap_or_else(|| " and is valid now".into())
            );
            if args.json {
                print_json(
                    &base_json(args, &trust)
                        .with("result", Json::str("ok"))
                        .with("error", Json::Null)
                        .with(
                            "chain",
                            Json::Arr(summaries.iter().map(report::cert_json).collect()),
                        )
                        .with("exit_code", Json::Num(0)),
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            let exit = report::tls_exit(&e);
            say!("tlsferry verify: {}: {e}", args.chain.display());
            let cert = e.certificate();
            if let Some(c) = cert {
                let mut err = std::io::stderr().lock();
                let _ = err.write_all(report::certificate_report(c, &trust).as_bytes());
            }
            if args.json {
                print_json(
                    &base_json(args, &trust)
                        .with("result", Json::str("failed"))
                        .with(
                            "error",
                            cert.map_or_else(
                                || {
                                    Json::obj()
                                        .with("code", Json::str(e.code()))
                                        .with("message", Json::str(e.to_string()))
                                },
                                |c| report::certificate_error_json(c, &trust),
                            ),
                        )
                        .with(
                            "chain",
                            Json::Arr(summaries.iter().map(report::cert_json).collect()),
                        )
                        .with("exit_code", Json::Num(u64::from(exit.code()))),
                );
            }
            ExitCode::from(exit.code())
        }
    }
}

fn base_json(args: &VerifyArgs, trust: &str) -> Json {
    Json::obj()
        .with("file", Json::str(args.chain.display().to_string()))
        .with("server_name", Json::str(&args.servername))
        .with(
            "time",
            Json::opt_str(args.time.map(|t| UtcTime(t).to_string())),
        )
        .with("trust_store", Json::str(trust))
}

fn print_json(j: &Json) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", j.render());
    let _ = out.flush();
}
