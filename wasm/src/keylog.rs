//! `keyLog` support: rustls hands secrets to a `Send + Sync` hook, but a JavaScript
//! function is neither; so the hook queues NSS key-log lines and the client hands them to
//! the JavaScript callback after every call.

use std::sync::{Arc, Mutex};

use tlsferry_core::KeyLog;

/// Collects NSS key-log lines (`LABEL <client_random hex> <secret hex>`).
#[derive(Debug, Default)]
pub struct KeyLogQueue {
    lines: Mutex<Vec<String>>,
}

impl KeyLogQueue {
    /// A new, empty queue.
    pub fn new() -> Arc<KeyLogQueue> {
        Arc::new(KeyLogQueue::default())
    }

    /// Takes the lines queued so far.
    pub fn take(&self) -> Vec<String> {
        let mut lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        std::mem::take(&mut *lines)
    }
}

impl KeyLog for KeyLogQueue {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let line = format!(
            "{label} {} {}",
            tlsferry_core::cert::hex(client_random),
            tlsferry_core::cert::hex(secret)
        );
        self.lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(line);
    }

    fn will_log(&self, _label: &str) -> bool {
        true
    }
}
