//! `ayubi healthcheck`: the container's health check, with no curl in the image. Asks the
//! server on this machine (`127.0.0.1:PORT`) for `GET /healthz` — alive, whatever the
//! database says; Docker and Fly restart an instance that is not — and succeeds only on a
//! 200 within the time limit.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Connecting, writing and reading each get this long: a server that cannot answer
/// `/healthz` in it is not healthy.
const LIMIT: Duration = Duration::from_secs(3);

/// `Ok(())` when `127.0.0.1:port` answers `GET /healthz` with 200.
///
/// # Errors
/// What went wrong, for the health check's log: no connection, no answer in time, or
/// another status.
pub fn check(port: u16) -> Result<(), String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream =
        TcpStream::connect_timeout(&addr, LIMIT).map_err(|e| format!("{addr}: {e}"))?;
    let io = |e: std::io::Error| format!("{addr}: {e}");
    stream.set_read_timeout(Some(LIMIT)).map_err(io)?;
    stream.set_write_timeout(Some(LIMIT)).map_err(io)?;
    stream
        .write_all(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .map_err(io)?;
    // "HTTP/1.x 200": the status line's first 12 bytes are all the answer needed.
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).map_err(io)?;
    let status = String::from_utf8_lossy(&head[9..]).into_owned();
    if head.starts_with(b"HTTP/1.") && status == "200" {
        Ok(())
    } else {
        Err(format!(
            "/healthz answered {}",
            String::from_utf8_lossy(&head)
        ))
    }
}
