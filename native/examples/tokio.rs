//! The seed's exchange with tokio (cargo feature `tokio`).
//!
//! ```sh
//! cargo run -p tlsferry --features tokio --example tokio [HOST [PORT]]
//! ```

use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), tlsferry::Error> {
    let mut args = std::env::args().skip(1);
    let host = args.next().unwrap_or_else(|| "www.example.com".into());
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(443);

    let config = tlsferry::Config::builder().build()?;
    let mut tls = tlsferry::tokio::connect((host.as_str(), port), &host, &config).await?;
    tls.write_all(b"Hello, World!").await?;
    let mut reply = Vec::new();
    tls.read_to_end(&mut reply).await?; // until the server's close_notify
    print!("{}", String::from_utf8_lossy(&reply));
    tls.shutdown().await?; // our close_notify
    Ok(())
}
