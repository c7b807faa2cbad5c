//! The WebSocket outlet of live sync: frames in and out, the inbound rate limit, the
//! close frame. The connection's policy (replay, heartbeats, expiry, slow consumers) is
//! `ayubi_sync::drive`'s.

use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseCode, CloseReason, Session};
use ayubi_sync::{Close, Inbound, Outlet, code, message::PONG};
use std::time::{Duration, Instant};

/// The WebSocket transport.
pub struct WsOutlet {
    session: Session,
    stream: AggregatedMessageStream,
    last_heard: Instant,
    /// Inbound messages allowed right now (refilled at `RATE` per second up to `BURST`).
    allowance: f64,
    refilled: Instant,
}

impl std::fmt::Debug for WsOutlet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsOutlet").finish_non_exhaustive()
    }
}

/// Inbound messages per second a client may send on average…
const RATE: f64 = 5.0;
/// …and in a burst.
const BURST: f64 = 20.0;
/// Largest inbound frame or message.
pub const MAX_FRAME: usize = 64 * 1024;

impl WsOutlet {
    /// Wraps an upgraded connection.
    #[must_use]
    pub fn new(session: Session, stream: actix_ws::MessageStream) -> Self {
        Self {
            session,
            stream: stream
                .max_frame_size(MAX_FRAME)
                .aggregate_continuations()
                .max_continuation_size(MAX_FRAME),
            last_heard: Instant::now(),
            allowance: BURST,
            refilled: Instant::now(),
        }
    }

    fn within_rate(&mut self) -> bool {
        let now = Instant::now();
        let earned = now.duration_since(self.refilled).as_secs_f64() * RATE;
        self.refilled = now;
        self.allowance = (self.allowance + earned).min(BURST);
        if self.allowance >= 1.0 {
            self.allowance -= 1.0;
            true
        } else {
            false
        }
    }
}

impl Outlet for WsOutlet {
    async fn send(&mut self, _seq: i64, _event: &'static str, text: &str) -> Result<(), ()> {
        self.session.text(text.to_owned()).await.map_err(|_| ())
    }

    async fn keep_alive(&mut self) -> Result<(), ()> {
        self.session.ping(b"").await.map_err(|_| ())
    }

    async fn inbound(&mut self) -> Inbound {
        let Some(msg) = self.stream.recv().await else {
            return Inbound::Gone;
        };
        self.last_heard = Instant::now();
        match msg {
            Ok(AggregatedMessage::Pong(_)) => Inbound::Heard,
            Ok(AggregatedMessage::Ping(bytes)) => {
                if self.within_rate() {
                    let _ = Box::pin(self.session.pong(&bytes)).await;
                    Inbound::Heard
                } else {
                    Inbound::Violation(Close::new(code::POLICY, "too many messages"))
                }
            }
            Ok(AggregatedMessage::Text(text)) => {
                if !self.within_rate() {
                    return Inbound::Violation(Close::new(code::POLICY, "too many messages"));
                }
                #[derive(serde::Deserialize)]
                struct ClientMessage {
                    #[serde(rename = "type")]
                    kind: String,
                }
                match serde_json::from_str::<ClientMessage>(&text) {
                    Ok(m) if m.kind == "ping" => Inbound::Reply(PONG),
                    _ => Inbound::Violation(Close::new(
                        code::PROTOCOL,
                        r#"unknown message: only {"type":"ping"} is accepted"#,
                    )),
                }
            }
            Ok(AggregatedMessage::Binary(_)) => Inbound::Violation(Close::new(
                code::PROTOCOL,
                "binary frames are not part of the protocol",
            )),
            Ok(AggregatedMessage::Close(_)) => Inbound::Gone,
            Err(_) => Inbound::Violation(Close::new(
                code::PROTOCOL,
                "malformed or oversized frame (64 KiB at most)",
            )),
        }
    }

    fn silent_for(&self) -> Duration {
        self.last_heard.elapsed()
    }

    async fn close(self, close: Close) {
        let reason = CloseReason {
            code: CloseCode::from(close.code),
            description: Some(close.reason.to_owned()),
        };
        let _ = self.session.close(Some(reason)).await;
    }
}

/// Accepts the upgrade only to close at once: browsers cannot read the status of a
/// refused handshake, but they can read a close code.
pub async fn refuse(session: Session, close: Close) {
    let reason = CloseReason {
        code: CloseCode::from(close.code),
        description: Some(close.reason.to_owned()),
    };
    let _ = session.close(Some(reason)).await;
}
