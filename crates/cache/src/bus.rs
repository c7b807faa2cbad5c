//! Redis pub/sub as a wake-up bus between instances.
//!
//! At-most-once by nature: a subscriber that is reconnecting misses what was published
//! meanwhile. Callers therefore send only hints whose loss is repaired elsewhere (Ayubi's
//! sync sockets re-read the change log), and are told when the subscription is down so
//! they can fall back to polling.

use crate::{CacheError, Redis};
use deadpool_redis::redis;
use futures_util::StreamExt;
use std::time::Duration;
use tokio::sync::mpsc;

/// Messages waiting to be published; beyond this a publish is dropped (and counted in
/// the logs) rather than letting a Redis outage grow memory.
const PUBLISH_QUEUE: usize = 8192;
/// Messages sent in one pipelined round trip.
const PUBLISH_BATCH: usize = 256;
/// How often an idle subscription is pinged, so a silently dead connection is noticed.
const SUBSCRIBER_PING: Duration = Duration::from_secs(5);
/// Reconnect backoff bounds.
const MIN_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// A subscription that lasted this long counts as healthy (the backoff starts over).
const STABLE: Duration = Duration::from_secs(30);

/// The sending half: cheap to clone, never blocks.
#[derive(Debug, Clone)]
pub struct Publisher {
    tx: mpsc::Sender<Vec<u8>>,
}

impl Publisher {
    /// Queues `message` for publishing; `false` when the queue is full and it was
    /// dropped.
    pub fn publish(&self, message: Vec<u8>) -> bool {
        self.tx.try_send(message).is_ok()
    }
}

impl ayubi_sync::Bus for Publisher {
    fn publish(&self, message: Vec<u8>) -> bool {
        Publisher::publish(self, message)
    }
}

impl Redis {
    /// Starts the task that publishes queued messages on `channel`, pipelining bursts
    /// into one round trip. Must be called inside a Tokio runtime.
    #[must_use]
    pub fn publisher(&self, channel: &str) -> Publisher {
        let (tx, mut rx) = mpsc::channel::<Vec<u8>>(PUBLISH_QUEUE);
        let redis = self.clone();
        let channel = channel.to_owned();
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(PUBLISH_BATCH);
            while rx.recv_many(&mut batch, PUBLISH_BATCH).await > 0 {
                if let Err(e) = redis.publish_all(&channel, &batch).await {
                    tracing::warn!(error = %e, dropped = batch.len(), "publishing sync hints");
                }
                batch.clear();
            }
        });
        Publisher { tx }
    }

    async fn publish_all(&self, channel: &str, messages: &[Vec<u8>]) -> Result<(), CacheError> {
        let work = async {
            let mut conn = self
                .pool
                .get()
                .await
                .map_err(|e| CacheError::Unavailable(e.to_string()))?;
            let mut pipe = redis::pipe();
            for m in messages {
                pipe.publish(channel, m.as_slice()).ignore();
            }
            pipe.query_async::<()>(&mut conn)
                .await
                .map_err(|e| CacheError::Unavailable(e.to_string()))
        };
        tokio::time::timeout(self.timeout, work)
            .await
            .map_err(|_| CacheError::Unavailable("timed out".into()))?
    }

    /// Subscribes to `channel` on a connection of its own, for as long as the process
    /// runs: `on_message` gets each payload, `on_state(true)` once subscribed and
    /// `on_state(false)` whenever the subscription is lost (then it reconnects with a
    /// backoff of up to 5 s). Must be called inside a Tokio runtime.
    pub fn subscribe(
        &self,
        channel: &str,
        on_message: impl Fn(&[u8]) + Send + 'static,
        on_state: impl Fn(bool) + Send + 'static,
    ) {
        let client = self.client.clone();
        let channel = channel.to_owned();
        let timeout = self.timeout;
        tokio::spawn(async move {
            let mut backoff = MIN_BACKOFF;
            loop {
                match subscription(&client, &channel, timeout).await {
                    Ok(pubsub) => {
                        let since = tokio::time::Instant::now();
                        on_state(true);
                        let (mut sink, mut stream) = pubsub.split();
                        let mut ping = tokio::time::interval_at(
                            tokio::time::Instant::now() + SUBSCRIBER_PING,
                            SUBSCRIBER_PING,
                        );
                        loop {
                            tokio::select! {
                                msg = stream.next() => match msg {
                                    Some(msg) => on_message(msg.get_payload_bytes()),
                                    None => break,
                                },
                                _ = ping.tick() => {
                                    // A subscribed connection answers PING with an array
                                    // (RESP2) or a push (RESP3): any reply will do.
                                    let alive = tokio::time::timeout(timeout, sink.ping::<redis::Value>()).await;
                                    if !matches!(alive, Ok(Ok(_))) {
                                        break;
                                    }
                                }
                            }
                        }
                        tracing::warn!("redis subscription lost; reconnecting");
                        on_state(false);
                        // A subscription that keeps dropping right away backs off like one
                        // that cannot connect: each reconnect makes every instance recheck.
                        if since.elapsed() >= STABLE {
                            backoff = MIN_BACKOFF;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "redis subscription failed; retrying");
                        on_state(false);
                    }
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        });
    }
}

async fn subscription(
    client: &redis::Client,
    channel: &str,
    timeout: Duration,
) -> Result<redis::aio::PubSub, CacheError> {
    let work = async {
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(channel).await?;
        Ok::<_, redis::RedisError>(pubsub)
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| CacheError::Unavailable("timed out".into()))?
        .map_err(|e| CacheError::Unavailable(e.to_string()))
}
