//! Driving one live connection, whatever its transport: replay, live changes, heartbeats,
//! token expiry and revocation, slow consumers. [`drive`] owns the policy; an [`Outlet`]
//! (the app's WebSocket and SSE) only knows how to write to its transport.

use crate::feed::{Feed, Item};
use crate::hub::{Hub, Subscription};
use crate::log::ChangeLog;
use crate::message::resync_text;
use ayubi_kernel::{Clock, UserId};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;

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

/// Live-sync runtime settings.
#[derive(Debug, Clone, Copy)]
pub struct SyncConfig {
    /// Heartbeat and send timeout.
    pub timing: Timing,
    /// Changes per replay read.
    pub batch_size: u32,
}

/// The answer to re-checking a connection's credentials after a revocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// Still good: the connection stays.
    Valid,
    /// Revoked or expired: the connection ends with 4001.
    Revoked,
    /// The check could not be made (the store is down): the connection stays, and
    /// the reason is logged.
    Unknown(String),
}

/// Re-checks a live connection's bearer token (identity's authentication in the app).
#[async_trait::async_trait]
pub trait CredentialCheck: Send + Sync + std::fmt::Debug {
    /// Whether `token` still authenticates its user.
    async fn check(&self, token: &str) -> Checked;
}

/// What every connection of this instance shares: the hub, the log, the clock, the
/// credential check and the settings.
#[derive(Debug)]
pub struct Live {
    hub: Arc<Hub>,
    log: Arc<dyn ChangeLog>,
    clock: Arc<dyn Clock>,
    credentials: Arc<dyn CredentialCheck>,
    config: SyncConfig,
}

impl Live {
    /// Wires live sync.
    #[must_use]
    pub fn new(
        hub: Arc<Hub>,
        log: Arc<dyn ChangeLog>,
        clock: Arc<dyn Clock>,
        credentials: Arc<dyn CredentialCheck>,
        config: SyncConfig,
    ) -> Self {
        Self {
            hub,
            log,
            clock,
            credentials,
            config,
        }
    }

    /// This instance's hub.
    #[must_use]
    pub fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }

    /// The settings.
    #[must_use]
    pub fn config(&self) -> SyncConfig {
        self.config
    }

    /// A connection on `out`, streaming `user`'s log from `since` through `sub` (already
    /// registered with the hub). `token` is re-checked on revocations; the connection
    /// ends with 4001 at `expires_at`.
    #[must_use]
    pub fn connect<O: Outlet>(
        self: &Arc<Self>,
        out: O,
        sub: Subscription,
        since: i64,
        token: String,
        user: UserId,
        expires_at: Option<DateTime<Utc>>,
    ) -> Box<Conn<O>> {
        let feed = Feed::new(user, since, self.log.clone(), self.config.batch_size, sub);
        Box::new(Conn {
            out,
            feed,
            live: self.clone(),
            token,
            user,
            expires_at,
        })
    }
}

/// One live connection: its transport, its place in the log, and who it is.
#[derive(Debug)]
pub struct Conn<O> {
    out: O,
    feed: Feed,
    live: Arc<Live>,
    token: String,
    user: UserId,
    expires_at: Option<DateTime<Utc>>,
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
    conn.live.hub.observer().closed(close.code);
    tracing::debug!(user = %conn.user, code = close.code, reason = close.reason, cursor = conn.feed.cursor(), "sync connection closed");
    // The close frame queues behind what the client has not read yet: a slow client that
    // still reads gets its code (and resumes from its cursor); one that stopped reading
    // entirely is dropped after as long as it would take to be presumed dead.
    let timing = conn.live.config.timing;
    let grace = (timing.ping * 2).max(timing.send);
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
        live,
        token,
        expires_at,
        ..
    } = conn;
    let expires_at = *expires_at;
    let timing = live.config.timing;
    // Wall-clock deadline for expiry; each heartbeat also compares with the service
    // clock, which tests move by hand.
    let until_expiry = expires_at.map_or(Duration::MAX, |at| {
        (at - live.clock.now()).to_std().unwrap_or(Duration::ZERO)
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
                            live.hub.observer().delivered();
                        }
                        sent
                    }
                    Ok(Item::Resync { latest }) => {
                        let text = resync_text(latest);
                        Box::pin(timed(timing.send, out.send(latest, "resync_required", &text))).await
                    }
                    Ok(Item::Revoked) => {
                        match live.credentials.check(token).await {
                            Checked::Revoked => {
                                return Close::new(code::UNAUTHORIZED, "credentials revoked: log in again");
                            }
                            Checked::Unknown(e) => tracing::warn!(error = %e, "re-checking a socket's token"),
                            Checked::Valid => {}
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
                if now >= expiry || expires_at.is_some_and(|at| at <= live.clock.now()) {
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

/// The close for a user over the socket limit.
#[must_use]
pub fn too_many() -> Close {
    Close::new(
        code::TOO_MANY,
        "too many sockets for this user: close another device's first",
    )
}
