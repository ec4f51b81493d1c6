//! [`KeyLogFile`]: TLS secrets in the NSS key log format, for Wireshark
//! (`--keylog PATH`, or the `SSLKEYLOGFILE` environment variable).

use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tlsferry_core::KeyLog;

/// Appends `LABEL <client random hex> <secret hex>` lines to a file. Anyone who reads
/// the file can decrypt the sessions it logs.
#[derive(Debug)]
pub struct KeyLogFile {
    path: PathBuf,
    file: Mutex<File>,
}

impl KeyLogFile {
    /// Opens `path` for appending, creating it if needed.
    pub fn create(path: impl AsRef<Path>) -> io::Result<KeyLogFile> {
        let path = path.as_ref().to_path_buf();
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        Ok(KeyLogFile {
            path,
            file: Mutex::new(file),
        })
    }

    /// The file named by `SSLKEYLOGFILE`, if that variable is set and not empty.
    pub fn from_env() -> Option<io::Result<KeyLogFile>> {
        let path = std::env::var_os("SSLKEYLOGFILE").filter(|p| !p.is_empty())?;
        Some(KeyLogFile::create(path))
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl KeyLog for KeyLogFile {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let mut line =
            String::with_capacity(label.len() + 2 * (client_random.len() + secret.len()) + 3);
        line.push_str(label);
        line.push(' ');
        for b in client_random {
            let _ = write!(line, "{b:02x}");
        }
        line.push(' ');
        for b in secret {
            let _ = write!(line, "{b:02x}");
        }
        line.push('\n');
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        // A key log is a debugging aid: failing to write it must not break the session.
        let _ = file.write_all(line.as_bytes());
    }
}
