//! The Server-Sent Events transport: the same stream as the socket, one event per change
//! (`id:` is the `seq`, so a browser's `EventSource` resumes with `Last-Event-ID`).

use actix_web::web::Bytes;
use ayubi_sync::{Close, Inbound, Outlet};
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::mpsc;

/// Chunks written but not yet taken by the connection; a client that lets this fill for
/// `send_timeout` is a slow consumer and is dropped (it resumes with `Last-Event-ID`).
const QUEUE: usize = 16;

/// Writes events into the response body.
#[derive(Debug)]
pub struct SseOutlet {
    tx: mpsc::Sender<Bytes>,
}

impl SseOutlet {
    /// An outlet and the body stream to respond with.
    pub fn new() -> (
        Self,
        impl futures_util::Stream<Item = Result<Bytes, Infallible>> + 'static,
    ) {
        let (tx, rx) = mpsc::channel::<Bytes>(QUEUE);
        let body = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|chunk| (Ok(chunk), rx))
        });
        (Self { tx }, body)
    }

    async fn write(&mut self, chunk: String) -> Result<(), ()> {
        self.tx.send(Bytes::from(chunk)).await.map_err(|_| ())
    }
}

impl Outlet for SseOutlet {
    async fn send(&mut self, seq: i64, event: &'static str, text: &str) -> Result<(), ()> {
        // A JSON text from serde_json holds no raw newline, so one `data:` line suffices.
        self.write(format!("id: {seq}\nevent: {event}\ndata: {text}\n\n"))
            .await
    }

    async fn keep_alive(&mut self) -> Result<(), ()> {
        self.write(": keep-alive\n\n".to_owned()).await
    }

    async fn inbound(&mut self) -> Inbound {
        // The only thing an SSE client can do is leave.
        self.tx.closed().await;
        Inbound::Gone
    }

    fn silent_for(&self) -> Duration {
        Duration::ZERO
    }

    async fn close(mut self, close: Close) {
        let data = serde_json::json!({"type": "close", "code": close.code, "reason": close.reason});
        let _ = tokio::time::timeout(
            Duration::from_secs(1),
            self.write(format!("event: close\ndata: {data}\n\n")),
        )
        .await;
    }
}
