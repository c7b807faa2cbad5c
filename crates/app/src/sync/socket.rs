//! Driving one live connection (WebSocket or SSE): replay, live changes, heartbeats,
//! token expiry and revocation, slow consumers. [`drive`] owns the policy; an [`Outlet`]
//! only knows how to write to its transport.

use super::feed::{Feed, Item};
use super::hub::Subscription;
use crate::state::AppState;
use actix_web::web;
use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseCode, CloseReason, Session};
use ayubi_identity::{IdentityError, Principal};
use std::time::{Duration, Instant};

/// Close codes of the sync protocol (api.md / sync.md).
pub mod code {
    /// The server is shutting down: reconnect (with jitter).
    pub const GOING_AWAY: u16 = 1001;
    /// The client sent too many messages.
    pub const POLICY: u16 = 1008;
    /// The server failed (the log could not be read): reconnect later.
    pub const SERVER_ERROR: u16 = 1011;
    /// The token expired or was revoked: refresh, then resume from the cursor.
    pub const UNAUTHORIZED: u16 = 4001;
    /// Slow consumer: resume from the last `seq` applied.
    pub const SLOW: u16 = 4008;
    /// The client broke the protocol (unknown message, binary frame, oversized frame).
    pub const PROTOCOL: u16 = 4400;
    /// The user already holds the maximum number of sockets.
    pub const TOO_MANY: u16 = 4429;
}

/// Why a connection ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Close {
    /// The close code.
    pub code: u16,
    /// A short reason for humans.
    pub reason: &'static str,
}

impl Close {
    /// A close with a code and a reason.
    pub const fn new(code: u16, reason: &'static str) -> Self {
        Self { code, reason }
    }
}

/// What the client did, as far as the driver cares.
#[derive(Debug)]
pub enum Inbound {
    /// It showed it is alive (any frame); nothing to answer.
    Heard,
    /// It asked for this answer (`{"type":"pong"}` to a ping).
    Reply(&'static str),
    /// It broke the rules.
    Violation(Close),
    /// It went away.
    Gone,
}

/// A transport the driver writes to.
// Connections run on actix's single-threaded workers, so the futures need not be `Send`.
#[allow(async_fn_in_trait)]
pub trait Outlet {
    /// Sends one message (a change, `resync_required`). Only `Err` when the peer is gone.
    async fn send(&mut self, seq: i64, event: &'static str, text: &str) -> Result<(), ()>;
    /// A heartbeat (WebSocket ping, SSE comment).
    async fn keep_alive(&mut self) -> Result<(), ()>;
    /// The next thing the client did. Must be cancel-safe.
    async fn inbound(&mut self) -> Inbound;
    /// How long the client has been silent (SSE clients cannot talk: zero).
    fn silent_for(&self) -> Duration;
    /// Ends the connection.
    async fn close(self, close: Close);
}

/// Timings of a connection.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Between heartbeats; two silent intervals end a WebSocket.
    pub ping: Duration,
    /// Longest a single send may take before the client counts as slow.
    pub send: Duration,
}

/// One live connection: its transport, its place in the log, and who it is.
#[derive(Debug)]
pub struct Conn<O> {
    /// The transport.
    pub out: O,
    /// The position in the user's log.
    pub feed: Feed,
    /// Services (identity for re-checks, the clock).
    pub state: web::Data<AppState>,
    /// The bearer token it authenticated with (re-checked on revocations).
    pub token: String,
    /// Who it is, and until when.
    pub principal: Principal,
    /// Heartbeat and send timeout.
    pub timing: Timing,
}

impl<O> Conn<O> {
    /// A connection of `principal` on `out`, streaming its user's log from `since`
    /// through `sub` (already registered with the hub), with the configured timings.
    #[must_use]
    pub fn new(
        out: O,
        state: web::Data<AppState>,
        sub: Subscription,
        since: i64,
        token: String,
        principal: Principal,
    ) -> Box<Self> {
        let feed = Feed::new(
            principal.user,
            since,
            state.changes.clone(),
            state.sync.batch_size,
            sub,
        );
        let timing = state.sync.timing;
        Box::new(Self {
            out,
            feed,
            state,
            token,
            principal,
            timing,
        })
    }
}

/// Runs a connection until it ends, then closes it with the reason.
///
/// This future lives as long as the connection, so its size is memory per socket (the
/// idle-socket memory target): the connection's state is one heap block rather than
/// copied into the future, the heartbeat and the expiry share one timer, and the paths an
/// idle socket is not parked in (sending, re-authenticating, closing) are boxed and
/// allocated only while they run.
pub async fn drive<O: Outlet>(mut conn: Box<Conn<O>>) {
    let close = run(&mut conn).await;
    conn.state
        .hub
        .metrics
        .closes
        .with_label_values(&[&close.code.to_string()])
        .inc();
    tracing::debug!(user = %conn.principal.user, code = close.code, reason = close.reason, cursor = conn.feed.cursor(), "sync connection closed");
    // The close frame queues behind what the client has not read yet: a slow client that
    // still reads gets its code (and resumes from its cursor); one that stopped reading
    // entirely is dropped after as long as it would take to be presumed dead.
    let grace = (conn.timing.ping * 2).max(conn.timing.send);
    let Conn { out, .. } = *conn;
    let _ = Box::pin(tokio::time::timeout(grace, out.close(close))).await;
}

const EXPIRED: Close = Close::new(code::UNAUTHORIZED, "token expired: refresh and resume");
const SLOW: Close = Close::new(code::SLOW, "slow consumer: resume from your last seq");
const GONE: Close = Close::new(code::GOING_AWAY, "peer gone");

/// `Ok(())` sent; else why the connection ends.
async fn timed(limit: Duration, send: impl Future<Output = Result<(), ()>>) -> Result<(), Close> {
    match tokio::time::timeout(limit, send).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(())) => Err(GONE),
        Err(_) => Err(SLOW),
    }
}

async fn run<O: Outlet>(conn: &mut Conn<O>) -> Close {
    let Conn {
        out,
        feed,
        state,
        token,
        principal,
        timing,
    } = conn;
    let expires_at = principal.expires_at;
    // Wall-clock deadline for expiry; each heartbeat also compares with the service
    // clock, which tests move by hand.
    let until_expiry = expires_at.map_or(Duration::MAX, |at| {
        (at - state.clock.now()).to_std().unwrap_or(Duration::ZERO)
    });
    let now = tokio::time::Instant::now();
    let expiry = now + until_expiry.min(Duration::from_secs(366 * 86_400));
    let mut next_ping = now + timing.ping;
    let timer = tokio::time::sleep_until(next_ping.min(expiry));
    tokio::pin!(timer);
    loop {
        tokio::select! {
            item = feed.next() => {
                let sent = match item {
                    Ok(Item::Change(seq, text)) => {
                        let sent = Box::pin(timed(timing.send, out.send(seq, "change", &text))).await;
                        if sent.is_ok() {
                            state.hub.metrics.delivered.inc();
                        }
                        sent
                    }
                    Ok(Item::Resync { latest }) => {
                        let text = format!(r#"{{"type":"resync_required","seq":{latest}}}"#);
                        Box::pin(timed(timing.send, out.send(latest, "resync_required", &text))).await
                    }
                    Ok(Item::Revoked) => {
                        match Box::pin(state.identity.authenticate(token)).await {
                            Err(IdentityError::Unauthenticated) => {
                                return Close::new(code::UNAUTHORIZED, "credentials revoked: log in again");
                            }
                            Err(e) => tracing::warn!(error = %e, "re-checking a socket's token"),
                            Ok(_) => {}
                        }
                        Ok(())
                    }
                    Ok(Item::Shutdown) => return Close::new(code::GOING_AWAY, "server restarting: reconnect"),
                    Err(e) => {
                        tracing::warn!(error = %e, "reading the change log for a socket");
                        return Close::new(code::SERVER_ERROR, "change log unavailable: reconnect later");
                    }
                };
                if let Err(close) = sent {
                    return close;
                }
            }
            inbound = out.inbound() => match inbound {
                Inbound::Heard => {}
                Inbound::Reply(text) => {
                    if let Err(close) = Box::pin(timed(timing.send, out.send(feed.cursor(), "pong", text))).await {
                        return close;
                    }
                }
                Inbound::Violation(close) => return close,
                Inbound::Gone => return GONE,
            },
            () = &mut timer => {
                let now = tokio::time::Instant::now();
                if now >= expiry || expires_at.is_some_and(|at| at <= state.clock.now()) {
                    return EXPIRED;
                }
                if now >= next_ping {
                    if out.silent_for() > timing.ping * 2 {
                        return Close::new(code::GOING_AWAY, "no pong: connection presumed dead");
                    }
                    if let Err(close) = Box::pin(timed(timing.send, out.keep_alive())).await {
                        return close;
                    }
                    next_ping = tokio::time::Instant::now() + timing.ping;
                }
                timer.as_mut().reset(next_ping.min(expiry));
            }
        }
    }
}

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
                    Ok(m) if m.kind == "ping" => Inbound::Reply(r#"{"type":"pong"}"#),
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

/// The close for a user over the socket limit.
#[must_use]
pub fn too_many() -> Close {
    Close::new(
        code::TOO_MANY,
        "too many sockets for this user: close another device's first",
    )
}
