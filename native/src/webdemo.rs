//! `tlsferry demo --web`: serves the browser demo with a bridge and a local TLS server
//! (placeholder until implemented).

use std::process::ExitCode;

/// Runs `tlsferry demo --web ARGS…` and returns the process exit code.
pub fn cli(_args: &[String]) -> ExitCode {
    eprintln!("tlsferry: the web demo is not built yet");
    ExitCode::from(2)
}
