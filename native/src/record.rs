//! Recording and replaying deterministic sessions (placeholder until implemented).

use std::process::ExitCode;

/// Runs `tlsferry replay ARGS…` and returns the process exit code.
pub fn replay_cli(_args: &[String]) -> ExitCode {
    eprintln!("tlsferry: replay is not built yet");
    ExitCode::from(2)
}
