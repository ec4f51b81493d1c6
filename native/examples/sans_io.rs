//! The sans-IO core driven by hand over a `TcpStream`: the loop every driver runs
//! (the blocking and tokio streams, the wasm bindings). One input door
//! (`handle_input`), one output door (`poll_output`), drained after every input.
//!
//! ```sh
//! cargo run -p tlsferry --example sans_io [HOST [PORT]]
//! ```

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use tlsferry_core::{Client, Config, Event, Input, Instant, Output};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let host = args.next().unwrap_or_else(|| "www.example.com".into());
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(443);

    let config = Config::builder().alpn(["http/1.1"]).build()?;
    let mut socket = TcpStream::connect((host.as_str(), port))?;
    let mut tls = Client::new(&host, &config, Instant::now())?;
    tls.send(b"Hello, World!")?; // queued until the handshake completes
    let mut buf = vec![0u8; 16 * 1024];
    'io: loop {
        let deadline = loop {
            match tls.poll_output() {
                Output::Transmit(bytes) => socket.write_all(&bytes)?,
                Output::Event(Event::Connected(info)) => {
                    eprintln!("{} {}", info.version, info.cipher_suite)
                }
                Output::Event(Event::Data(plain)) => std::io::stdout().write_all(&plain)?,
                Output::Event(Event::PeerClosed) => tls.close()?,
                Output::Event(Event::Closed) => break 'io,
                Output::Event(_) => {}
                Output::Wait(deadline) => break deadline,
            }
        };
        // Wait for the transport, but no longer than the core's deadline.
        let now = Instant::now();
        let timeout = deadline.map(|d| {
            d.saturating_duration_since(now)
                .max(Duration::from_millis(1))
        });
        socket.set_read_timeout(timeout)?;
        let room = tls.receive_capacity().min(buf.len());
        match socket.read(&mut buf[..room]) {
            Ok(0) => tls.handle_input(Input::Eof(Instant::now()))?, // truncation is an error
            Ok(n) => tls.handle_input(Input::Receive(Instant::now(), &buf[..n]))?,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                tls.handle_input(Input::Tick(Instant::now()))? // the handshake or idle timeout
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
