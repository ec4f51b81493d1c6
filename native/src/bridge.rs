//! `tlsferry bridge`: a WebSocket↔TCP bridge for browsers (placeholder until implemented).

use std::process::ExitCode;

/// Runs `tlsferry bridge ARGS…` and returns the process exit code.
pub fn cli(_args: &[String]) -> ExitCode {
    eprintln!("tlsferry: the bridge is not built yet");
    ExitCode::from(2)
}
