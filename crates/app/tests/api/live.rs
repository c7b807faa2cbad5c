//! Live sync over WebSocket and Server-Sent Events: replay, live, the seam, resume,
//! isolation, expiry and revocation, slow consumers, limits, and two instances.

use crate::helpers::*;
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

const NEEDS_REDIS: &str =
    "needs_redis tests need TEST_REDIS_URL (CI's PostgreSQL + Redis pass sets it)";
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const WAIT: Duration = Duration::from_secs(10);

fn ws_url(app: &TestApp, query: &str) -> String {
    format!(
        "{}/api/v1/ws/sync{query}",
        app.address.replace("http://", "ws://")
    )
}

/// A connected client: a task reads the socket all the time (answering pings, as real
/// clients do) and queues what arrives.
pub(crate) struct Client {
    rx: tokio::sync::mpsc::UnboundedReceiver<Got>,
    tx: futures_util::stream::SplitSink<Ws, Message>,
}

impl Client {
    fn new(ws: Ws) -> Self {
        let (tx, mut read) = ws.split();
        let (queue, rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(got) = next_got(&mut read).await {
                let end = matches!(got, Got::Closed(..));
                if queue.send(got).is_err() || end {
                    return;
                }
            }
        });
        Self { rx, tx }
    }

    async fn send(&mut self, msg: Message) {
        self.tx.send(msg).await.unwrap();
    }
}

/// A handshake authenticated the browser way: `Sec-WebSocket-Protocol: bearer, <token>`.
fn handshake(
    app: &TestApp,
    token: &str,
    since: i64,
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    let mut req = ws_url(app, &format!("?since={since}"))
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "sec-websocket-protocol",
        format!("bearer, {token}").parse().unwrap(),
    );
    req
}

/// Opens a socket with [`handshake`] and starts reading it.
pub(crate) async fn open(app: &TestApp, token: &str, since: i64) -> Client {
    let req = handshake(app, token, since);
    let (ws, res) = tokio_tungstenite::connect_async(req).await.unwrap();
    assert_eq!(
        res.headers()["sec-websocket-protocol"],
        "bearer",
        "the server selects the bearer subprotocol, or browsers drop the socket"
    );
    Client::new(ws)
}

#[derive(Debug)]
enum Got {
    Json(Value),
    Closed(u16, String),
}

/// The next text message or close of a socket's read half (pings are answered by
/// tungstenite while reading).
async fn next_got<S>(read: &mut S) -> Option<Got>
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        match read.next().await {
            Some(Ok(Message::Text(t))) => {
                return Some(Got::Json(serde_json::from_str(&t).unwrap()));
            }
            Some(Ok(Message::Close(frame))) => {
                return Some(match frame {
                    Some(f) => Got::Closed(u16::from(f.code), f.reason.to_string()),
                    None => Got::Closed(1005, String::new()),
                });
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return Some(Got::Closed(1006, String::new())),
        }
    }
}

async fn recv(c: &mut Client) -> Got {
    tokio::time::timeout(WAIT, c.rx.recv())
        .await
        .expect("nothing arrived in time")
        .unwrap_or(Got::Closed(1006, String::new()))
}

pub(crate) async fn message(c: &mut Client) -> Value {
    match recv(c).await {
        Got::Json(v) => v,
        other => panic!("expected a message, got {other:?}"),
    }
}

async fn closed(c: &mut Client) -> (u16, String) {
    match recv(c).await {
        Got::Closed(code, reason) => (code, reason),
        other => panic!("expected a close, got {other:?}"),
    }
}

/// Asserts nothing arrives for a while.
async fn silent(c: &mut Client, ms: u64) {
    if let Ok(got) = tokio::time::timeout(Duration::from_millis(ms), c.rx.recv()).await {
        panic!("unexpected {got:?}");
    }
}

pub(crate) async fn water(app: &TestApp, token: &str, ml: i64) -> Value {
    let res = app
        .create("/api/v1/sport/water", token, None, &json!({ "ml": ml }))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

/// `/metrics` counts every change announced and every change written to a socket, the
/// replayed ones included.
#[tokio::test]
async fn metrics_count_changes_published_and_delivered() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    water(&app, &s.access, 100).await;
    water(&app, &s.access, 200).await;
    let mut ws = open(&app, &s.access, 0).await;
    assert_eq!(message(&mut ws).await["seq"], 1);
    assert_eq!(message(&mut ws).await["seq"], 2);
    water(&app, &s.access, 300).await;
    assert_eq!(message(&mut ws).await["seq"], 3);
    let text = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        text.contains("ayubi_sync_events_published_total 3"),
        "{text}"
    );
    assert!(
        text.contains("ayubi_sync_events_delivered_total 3"),
        "{text}"
    );
}

#[tokio::test]
async fn a_socket_replays_the_log_then_delivers_live_changes() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    let first = water(&app, &s.access, 100).await;
    water(&app, &s.access, 200).await;

    let mut ws = open(&app, &s.access, 0).await;
    let replayed = message(&mut ws).await;
    assert_eq!(replayed["type"], "change");
    assert_eq!(replayed["seq"], 1);
    assert_eq!(replayed["event"], "water:added");
    assert_eq!(replayed["entity"], "sport_water");
    assert_eq!(replayed["id"], first["id"]);
    assert_eq!(replayed["data"], first, "data is the REST representation");
    assert_eq!(message(&mut ws).await["seq"], 2);
    silent(&mut ws, 200).await;

    let live = water(&app, &s.access, 300).await;
    let got = message(&mut ws).await;
    assert_eq!(got["seq"], 3);
    assert_eq!(got["data"], live);

    // Deletes and other modules use the same stream.
    let id = live["id"].as_i64().unwrap();
    let res = app
        .delete_json(&format!("/api/v1/sport/water/{id}"), None, &s.access)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let got = message(&mut ws).await;
    assert_eq!(
        (got["seq"].as_i64(), got["event"].as_str()),
        (Some(4), Some("water:deleted"))
    );
    assert_eq!(got["data"], json!({ "id": id }));

    // Visiting a wishlisted country logs two changes; both arrive, in order.
    let res = app
        .create(
            "/api/v1/travel/wishlist",
            &s.access,
            None,
            &json!({"country_iso3": "JPN"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(message(&mut ws).await["event"], "travel:wishlist_added");
    let res = app
        .create(
            "/api/v1/travel/visited",
            &s.access,
            None,
            &json!({"country_iso3": "JPN"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let a = message(&mut ws).await;
    let b = message(&mut ws).await;
    assert_eq!(
        [a["seq"].as_i64(), b["seq"].as_i64()],
        [Some(6), Some(7)],
        "{a} {b}"
    );
    assert_eq!(
        [&a["event"], &b["event"]],
        [&json!("travel:visited"), &json!("travel:wishlist_removed")]
    );
}

#[tokio::test]
async fn a_socket_resumes_after_its_cursor_and_answers_pings() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    for ml in [100, 200, 300] {
        water(&app, &s.access, ml).await;
    }
    let mut ws = open(&app, &s.access, 2).await;
    assert_eq!(message(&mut ws).await["seq"], 3);
    silent(&mut ws, 200).await;
    ws.send(Message::text(r#"{"type":"ping"}"#)).await;
    assert_eq!(message(&mut ws).await, json!({"type": "pong"}));

    // Caught up: nothing is replayed again.
    let mut ws = open(&app, &s.access, 3).await;
    silent(&mut ws, 300).await;
    water(&app, &s.access, 400).await;
    assert_eq!(message(&mut ws).await["seq"], 4);

    // A cursor ahead of the log cannot be honoured: resync.
    let mut ws = open(&app, &s.access, 99).await;
    assert_eq!(
        message(&mut ws).await,
        json!({"type": "resync_required", "seq": 4})
    );
}

#[tokio::test]
async fn the_seam_between_replay_and_live_has_no_gap_and_no_duplicate() {
    seam(spawn_app().await).await;
}

/// With a one-slot queue the sockets lag behind concurrent writers all the time and
/// must fill in from the log.
#[tokio::test]
async fn sockets_that_overflow_their_queue_catch_up_from_the_log() {
    seam(spawn_with(|s| s.sync.queue_capacity = 1).await).await;
}

async fn seam(app: TestApp) {
    let s = app.register("ada@example.com").await;
    const WRITERS: usize = 4;
    const EACH: usize = 40;
    let total = (WRITERS * EACH) as i64;
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let (client, url, token) = (
            app.client.clone(),
            app.url("/api/v1/sport/water"),
            s.access.clone(),
        );
        tasks.push(tokio::spawn(async move {
            for i in 0..EACH {
                let res = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"ml": 100 + w * 1000 + i}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), StatusCode::CREATED);
            }
        }));
    }
    // Connect while the writers run, from several cursors, so some replays overlap the
    // live stream: once the first changes are committed, and again a few later.
    let published = "ayubi_sync_events_published_total";
    app.wait_for_metric(published, |n| n >= 1.0).await;
    let mut sockets = vec![open(&app, &s.access, 0).await];
    app.wait_for_metric(published, |n| n >= 4.0).await;
    sockets.push(open(&app, &s.access, 3).await);
    for t in tasks {
        t.await.unwrap();
    }
    for (ws, from) in sockets.iter_mut().zip([0, 3]) {
        let mut seqs = Vec::new();
        while seqs.last().copied() != Some(total) {
            let m = message(ws).await;
            assert_eq!(m["type"], "change");
            seqs.push(m["seq"].as_i64().unwrap());
        }
        let expected: Vec<i64> = (from + 1..=total).collect();
        assert_eq!(seqs, expected, "every change once, in order");
        silent(ws, 200).await;
    }
}

#[tokio::test]
async fn sockets_only_see_their_own_users_changes() {
    let app = spawn_app().await;
    let ada = app.register("ada@example.com").await;
    let bob = app.register("bob@example.com").await;
    let mut ada_ws = open(&app, &ada.access, 0).await;
    let mut bob_ws = open(&app, &bob.access, 0).await;
    let bobs = water(&app, &bob.access, 500).await;
    let got = message(&mut bob_ws).await;
    assert_eq!((got["seq"].as_i64(), &got["data"]), (Some(1), &bobs));
    silent(&mut ada_ws, 300).await;
    water(&app, &ada.access, 100).await;
    assert_eq!(message(&mut ada_ws).await["seq"], 1, "seq is per user");
    silent(&mut bob_ws, 200).await;
}

#[tokio::test]
async fn an_expired_token_closes_the_socket_with_4001() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    let mut ws = open(&app, &s.access, 0).await;
    silent(&mut ws, 300).await;
    app.clock.advance(chrono::Duration::minutes(16));
    let (code, reason) = closed(&mut ws).await;
    assert_eq!(code, 4001, "{reason}");
    assert!(reason.contains("expired"), "{reason}");
}

#[tokio::test]
async fn revoked_credentials_close_their_sockets_at_once() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    let other_device = app.login("ada@example.com", PASSWORD).await;
    let other: Value = other_device.json().await.unwrap();
    let other_access = other["access_token"].as_str().unwrap();
    let mut ws = open(&app, &s.access, 0).await;
    let mut other_ws = open(&app, other_access, 0).await;

    // Logging out one session closes its socket; the other device's stays open.
    assert_eq!(app.logout(&s.refresh).await, StatusCode::NO_CONTENT);
    let (code, reason) = closed(&mut ws).await;
    assert_eq!(code, 4001, "{reason}");
    water(&app, other_access, 100).await;
    assert_eq!(message(&mut other_ws).await["seq"], 1);

    // A personal access token deleted while its socket is open.
    let created: Value = app
        .create(
            "/api/v1/auth/tokens",
            other_access,
            None,
            &json!({"name": "script"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let pat = created["token"].as_str().unwrap();
    let mut pat_ws = open(&app, pat, 1).await;
    silent(&mut pat_ws, 200).await;
    let res = app
        .delete_json(
            &format!("/api/v1/auth/tokens/{}", created["id"]),
            None,
            other_access,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(closed(&mut pat_ws).await.0, 4001);
    silent(&mut other_ws, 200).await;
}

#[tokio::test]
async fn bad_handshakes_and_bad_messages_are_refused() {
    let app = spawn_with(|s| s.sync.max_sockets_per_user = 2).await;
    let s = app.register("ada@example.com").await;

    // No token, or a bad one: 401 problem before any upgrade.
    let err = tokio_tungstenite::connect_async(ws_url(&app, "")).await;
    match err {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
            assert_eq!(res.status(), 401);
        }
        other => panic!("expected 401, got {other:?}"),
    }
    let res = app.get("/api/v1/ws/sync?since=-1", Some(&s.access)).await;
    let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["errors"]["since"][0], "must be 0 or more", "{p}");
    // A plain GET (not a handshake) with a valid token.
    let p = problem(
        app.get("/api/v1/ws/sync", Some(&s.access)).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("WebSocket"), "{p}");

    // ?access_token= works too (and is kept out of logs by the scrubbing middleware).
    let (a, _) =
        tokio_tungstenite::connect_async(ws_url(&app, &format!("?access_token={}", s.access)))
            .await
            .unwrap();
    let mut a = Client::new(a);
    let mut b = open(&app, &s.access, 0).await;
    let mut c = open(&app, &s.access, 0).await;
    let (code, reason) = closed(&mut c).await;
    assert_eq!(code, 4429, "{reason}");
    // The limit counts SSE streams too, which get a 429 problem instead.
    let p = problem(
        app.get("/api/v1/events", Some(&s.access)).await,
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("too many"), "{p}");

    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains("ayubi_sync_connections 2"),
        "two open: {metrics}"
    );
    a.send(Message::text("hello")).await;
    assert_eq!(closed(&mut a).await.0, 4400);
    b.send(Message::binary(vec![1, 2, 3])).await;
    assert_eq!(closed(&mut b).await.0, 4400);
    // Their slots are free again.
    let mut d = open(&app, &s.access, 0).await;
    silent(&mut d, 200).await;
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains(r#"ayubi_sync_closes_total{code="4400"} 2"#),
        "{metrics}"
    );
    assert!(metrics.contains("ayubi_sync_connections 1"), "{metrics}");
}

#[tokio::test]
async fn a_slow_consumer_is_closed_with_4008_and_resumes_from_its_cursor() {
    let app = spawn_with(|s| {
        s.sync.queue_capacity = 8;
        // Long enough that the silent client is not presumed dead first.
        s.sync.ping_interval_secs = 30;
    })
    .await;
    let s = app.register("ada@example.com").await;
    // A client that reads nothing, with a tiny receive window, so the server's buffers
    // fill after a few entries.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let port = app.address.rsplit(':').next().unwrap().parse().unwrap();
    let stream = socket
        .connect(std::net::SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .unwrap();
    let req = handshake(&app, &s.access, 0);
    let (ws, _) =
        tokio_tungstenite::client_async(req, tokio_tungstenite::MaybeTlsStream::Plain(stream))
            .await
            .unwrap();

    let content = "x".repeat(100_000);
    let total: i64 = 150;
    for i in 0..total {
        let res = app
            .create(
                "/api/v1/journal",
                &s.access,
                None,
                &json!({"title": format!("entry {i}"), "content": content}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    // The server gives up on it (send timeout 1 s in the test config); its close frame
    // waits behind the unread messages for as long as a ping may go unanswered.
    app.wait_for_metric(r#"ayubi_sync_closes_total{code="4008"}"#, |n| n >= 1.0)
        .await;
    let mut ws = Client::new(ws);
    let mut last = 0;
    let (code, reason) = loop {
        match recv(&mut ws).await {
            Got::Json(m) => {
                let seq = m["seq"].as_i64().unwrap();
                assert_eq!(seq, last + 1, "in order, no gap");
                last = seq;
            }
            Got::Closed(code, reason) => break (code, reason),
        }
    };
    assert_eq!(
        code, 4008,
        "slow consumer close, got {code} {reason} after {last}"
    );
    assert!(last < total, "the server did not buffer everything: {last}");

    // It reconnects from its cursor and gets the rest, nothing lost.
    let mut ws = open(&app, &s.access, last).await;
    for seq in last + 1..=total {
        assert_eq!(message(&mut ws).await["seq"], seq);
    }
}

#[tokio::test]
async fn a_cursor_older_than_the_kept_log_gets_resync_required() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    for ml in [100, 200, 300] {
        water(&app, &s.access, ml).await;
    }
    // Retention ran: everything older than the horizon, except the newest one.
    let log = ayubi_db::SqlChangeLog::new(pool(&app).await);
    let horizon = chrono::Utc::now() + chrono::Duration::days(1);
    assert_eq!(
        ayubi_sync::ChangeLog::purge(&log, horizon, 1)
            .await
            .unwrap(),
        2
    );

    let mut ws = open(&app, &s.access, 0).await;
    assert_eq!(
        message(&mut ws).await,
        json!({"type": "resync_required", "seq": 3})
    );
    // After the refetch the socket carries on from the latest seq.
    water(&app, &s.access, 400).await;
    assert_eq!(message(&mut ws).await["seq"], 4);
    // A cursor right before the oldest kept change still catches up.
    let mut ws = open(&app, &s.access, 2).await;
    assert_eq!(message(&mut ws).await["seq"], 3);
    let res = app
        .get("/api/v1/sync/changes?since=1", Some(&s.access))
        .await;
    problem(res, StatusCode::GONE).await;
}

/// Reads SSE events (`id`, `event`, `data`) from a streaming response.
struct Events {
    res: reqwest::Response,
    buf: String,
}

impl Events {
    async fn next(&mut self) -> (Option<i64>, String, Value) {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let (mut id, mut event, mut data) = (None, String::new(), Value::Null);
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id: ") {
                        id = Some(v.parse().unwrap());
                    } else if let Some(v) = line.strip_prefix("event: ") {
                        event = v.to_owned();
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data = serde_json::from_str(v).unwrap();
                    }
                }
                if event.is_empty() {
                    continue; // a keep-alive comment
                }
                return (id, event, data);
            }
            let chunk = tokio::time::timeout(WAIT, self.res.chunk())
                .await
                .expect("no event in time")
                .unwrap()
                .expect("stream ended");
            self.buf.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }
}

async fn events(app: &TestApp, token: &str, last_event_id: Option<i64>) -> Events {
    let mut req = app
        .client
        .get(app.url(&format!("/api/v1/events?access_token={token}")));
    if let Some(id) = last_event_id {
        req = req.header("Last-Event-ID", id.to_string());
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    Events {
        res,
        buf: String::new(),
    }
}

#[tokio::test]
async fn server_sent_events_serve_the_same_stream_and_resume_from_last_event_id() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    let first = water(&app, &s.access, 100).await;
    let mut es = events(&app, &s.access, None).await;
    let (id, event, data) = es.next().await;
    assert_eq!((id, event.as_str()), (Some(1), "change"));
    assert_eq!(data["data"], first);
    let second = water(&app, &s.access, 200).await;
    let (id, _, data) = es.next().await;
    assert_eq!(id, Some(2));
    assert_eq!(data["data"], second);

    // The same changes as the pull endpoint.
    let pulled = app.get_ok("/api/v1/sync/changes?since=1", &s.access).await;
    assert_eq!(pulled["changes"][0], data);

    water(&app, &s.access, 300).await;
    let mut resumed = events(&app, &s.access, Some(2)).await;
    let (id, _, _) = resumed.next().await;
    assert_eq!(id, Some(3), "resumes after Last-Event-ID");

    let res = app
        .client
        .get(app.url("/api/v1/events"))
        .bearer_auth(&s.access)
        .header("Last-Event-ID", "nope")
        .send()
        .await
        .unwrap();
    let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(p["errors"]["Last-Event-ID"].is_array(), "{p}");
    problem(
        app.get("/api/v1/events", None).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    // Expiry ends the stream with a close event carrying the socket's code.
    assert_eq!(
        es.next().await.0,
        Some(3),
        "the first stream saw the third change live"
    );
    app.clock.advance(chrono::Duration::minutes(16));
    let (_, event, data) = es.next().await;
    assert_eq!(event, "close");
    assert_eq!(data["code"], 4001);
}

#[tokio::test]
async fn a_write_through_one_instance_reaches_a_socket_held_by_another() {
    // With TEST_REDIS_URL (CI's second run, on PostgreSQL) the hint travels over Redis
    // pub/sub, and polling is off so nothing else could carry it. Without Redis, both
    // instances point at a Redis that is down and fall back to polling the shared log.
    let redis = std::env::var("TEST_REDIS_URL").is_ok();
    let custom = |s: &mut ayubi_app::config::Settings| {
        if redis {
            s.sync.poll_interval_secs = 3600;
        } else {
            s.redis.url = "redis://127.0.0.1:1".to_owned().into();
        }
    };
    let a = spawn_with(custom).await;
    let b = spawn_beside(&a, custom).await;
    let s = a.register("ada@example.com").await;
    // Subscriptions are set up in the background at start.
    if redis {
        a.wait_for_wakeups().await;
        b.wait_for_wakeups().await;
    }
    let mut on_b = open(&b, &s.access, 0).await;
    let mut on_a = open(&a, &s.access, 0).await;
    silent(&mut on_b, 200).await;

    let written = water(&a, &s.access, 250).await;
    // The writer's own instance delivers at once, Redis or not.
    assert_eq!(message(&mut on_a).await["data"], written);
    let got = message(&mut on_b).await;
    assert_eq!((got["seq"].as_i64(), &got["data"]), (Some(1), &written));

    let written = water(&b, &s.access, 300).await;
    assert_eq!(message(&mut on_a).await["data"], written);
    assert_eq!(message(&mut on_b).await["seq"], 2);
    silent(&mut on_a, 300).await;
    silent(&mut on_b, 100).await;
}

/// A TCP proxy in front of Redis that the test can cut and restore.
struct Cuttable {
    port: u16,
    target: String,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Cuttable {
    async fn start(target: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut proxy = Self {
            port,
            target,
            tasks: Vec::new(),
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let target = self.target.clone();
        let conns = std::sync::Arc::new(std::sync::Mutex::new(
            Vec::<tokio::task::JoinHandle<()>>::new(),
        ));
        let accept = tokio::spawn(async move {
            let mut live = Vec::new();
            let _guard = Aborter(conns);
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                live.push(tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                }));
                _guard.0.lock().unwrap().extend(live.drain(..));
            }
        });
        self.tasks.push(accept);
    }

    /// Drops every connection and stops listening.
    fn cut(&mut self) {
        for t in self.tasks.drain(..) {
            t.abort();
        }
    }

    async fn restore(&mut self) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .unwrap();
        self.serve(listener);
    }
}

/// Aborts the proxied connections when the accept loop is aborted.
struct Aborter(std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>);

impl Drop for Aborter {
    fn drop(&mut self) {
        for t in self.0.lock().unwrap().drain(..) {
            t.abort();
        }
    }
}

#[tokio::test]
async fn a_client_that_answers_no_pings_is_closed_as_dead() {
    let app = spawn_app().await; // pings every second in the test config
    let s = app.register("ada@example.com").await;
    let req = handshake(&app, &s.access, 0);
    let (ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    // Not reading means not answering pings: after two silent intervals the server gives
    // up. A client that reads (and so answers) stays open.
    let mut alive = open(&app, &s.access, 0).await;
    app.wait_for_metric(r#"ayubi_sync_closes_total{code="1001"}"#, |n| n >= 1.0)
        .await;
    let mut dead = Client::new(ws);
    let (code, reason) = closed(&mut dead).await;
    assert_eq!(code, 1001, "{reason}");
    assert!(reason.contains("pong"), "{reason}");
    water(&app, &s.access, 100).await;
    assert_eq!(message(&mut alive).await["seq"], 1);
}

#[tokio::test]
async fn deployments_sharing_a_redis_do_not_wake_each_others_sockets() {
    // Two databases, one Redis (when the tests have one): both first users are user 1.
    let prod = spawn_app().await;
    let staging = spawn_app().await;
    let p = prod.register("ada@example.com").await;
    let s = staging.register("bob@example.com").await;
    assert_eq!(p.id, s.id, "the same user id in both");
    if std::env::var("TEST_REDIS_URL").is_ok() {
        prod.wait_for_wakeups().await;
        staging.wait_for_wakeups().await;
    }
    let mut on_staging = open(&staging, &s.access, 0).await;
    let mut on_prod = open(&prod, &p.access, 0).await;
    water(&prod, &p.access, 100).await;
    assert_eq!(message(&mut on_prod).await["seq"], 1);
    silent(&mut on_staging, 500).await;
}

/// Every write path announces its change the moment it commits: each write below must
/// show up on the socket, with the next `seq`, before the next write is made (a path that
/// forgot to announce would only surface when a later change sent the socket to the log).
#[tokio::test]
async fn every_kind_of_write_reaches_the_socket_as_it_commits() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    let mut ws = open(&app, &s.access, 0).await;
    let mut seq = 0;
    let mut expect = async |ws: &mut Client, event: &str| {
        seq += 1;
        let m = message(ws).await;
        assert_eq!(
            (m["seq"].as_i64(), m["event"].as_str()),
            (Some(seq), Some(event)),
            "{m}"
        );
        m
    };
    let send = async |method: &str, path: &str, body: Value| {
        let res = app
            .client
            .request(method.parse().unwrap(), app.url(path))
            .bearer_auth(&s.access)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            res.status().is_success(),
            "{method} {path}: {}",
            res.status()
        );
        res.text().await.unwrap()
    };

    send("POST", "/api/v1/sport/water", json!({"ml": 250})).await;
    expect(&mut ws, "water:added").await;
    send(
        "POST",
        "/api/v1/sport/food",
        json!({"name": "soup", "kcal": 300}),
    )
    .await;
    expect(&mut ws, "food:added").await;
    send(
        "POST",
        "/api/v1/sport/workout",
        json!({"name": "yoga", "duration_min": 30, "kcal_burned": 90}),
    )
    .await;
    expect(&mut ws, "workout:added").await;
    send(
        "PUT",
        "/api/v1/settings/goals",
        json!({"water_ml_per_day": 2000, "kcal_per_day": 1800}),
    )
    .await;
    expect(&mut ws, "goals:updated").await;
    let habit: Value =
        serde_json::from_str(&send("POST", "/api/v1/habits", json!({"name": "Read"})).await)
            .unwrap();
    expect(&mut ws, "habit:created").await;
    let h = habit["id"].as_i64().unwrap();
    send(
        "PUT",
        &format!("/api/v1/habits/{h}"),
        json!({"name": "Read more"}),
    )
    .await;
    expect(&mut ws, "habit:updated").await;
    send(
        "POST",
        &format!("/api/v1/habits/{h}/completions"),
        json!({}),
    )
    .await;
    expect(&mut ws, "habit:completed").await;
    let today = habit_today(&app);
    let res = app
        .delete_json(
            &format!("/api/v1/habits/{h}/completions/{today}"),
            None,
            &s.access,
        )
        .await;
    assert!(res.status().is_success());
    expect(&mut ws, "habit:uncompleted").await;
    send(
        "POST",
        &format!("/api/v1/habits/{h}/skips"),
        json!({ "date": today }),
    )
    .await;
    expect(&mut ws, "habit:skipped").await;
    let res = app
        .delete_json(
            &format!("/api/v1/habits/{h}/skips/{today}"),
            None,
            &s.access,
        )
        .await;
    assert!(res.status().is_success());
    expect(&mut ws, "habit:unskipped").await;
    let cat: Value = serde_json::from_str(
        &send(
            "POST",
            "/api/v1/finance/categories",
            json!({"name": "Food", "kind": "expense"}),
        )
        .await,
    )
    .unwrap();
    expect(&mut ws, "finance_category:created").await;
    send(
        "POST",
        "/api/v1/finance/entries",
        json!({"kind": "expense", "amount": 12.5, "category_id": cat["id"]}),
    )
    .await;
    expect(&mut ws, "finance:created").await;
    send(
        "POST",
        "/api/v1/journal",
        json!({"title": "day", "content": "fine"}),
    )
    .await;
    expect(&mut ws, "journal:created").await;
    send(
        "POST",
        "/api/v1/travel/wishlist",
        json!({"country_iso3": "JPN"}),
    )
    .await;
    expect(&mut ws, "travel:wishlist_added").await;
    send("PUT", "/api/v1/settings", json!({"currency": "USD"})).await;
    expect(&mut ws, "settings:updated").await;
    send(
        "PUT",
        "/api/v1/settings/profile",
        json!({"display_name": "Ada"}),
    )
    .await;
    expect(&mut ws, "profile:updated").await;
    let res = app
        .delete_json(&format!("/api/v1/habits/{h}"), None, &s.access)
        .await;
    assert!(res.status().is_success());
    expect(&mut ws, "habit:deleted").await;

    // And the socket saw exactly what the log holds.
    let pulled = app.get_ok("/api/v1/sync/changes?since=0", &s.access).await;
    assert_eq!(pulled["next_since"], seq);
}

/// Today's date as the habits API sees it (a new user's zone is UTC; the app's clock).
fn habit_today(app: &TestApp) -> String {
    ayubi_kernel::Clock::now(app.clock.as_ref())
        .date_naive()
        .to_string()
}

#[tokio::test]
async fn instances_without_redis_reach_each_other_by_polling_the_log() {
    let custom = |s: &mut ayubi_app::config::Settings| {
        s.redis.url = String::new().into();
    };
    let a = spawn_with(custom).await;
    let b = spawn_beside(&a, custom).await;
    let s = a.register("ada@example.com").await;
    let mut on_b = open(&b, &s.access, 0).await;
    let written = water(&a, &s.access, 250).await;
    // One poll interval (1 s in the test config) late, but there.
    let got = message(&mut on_b).await;
    assert_eq!((got["seq"].as_i64(), &got["data"]), (Some(1), &written));
    silent(&mut on_b, 1500).await;
}

#[tokio::test]
async fn a_client_flooding_the_socket_is_closed_with_1008() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    let mut ws = open(&app, &s.access, 0).await;
    // A burst of 20 is allowed (answered), then 5 a second.
    for _ in 0..40 {
        ws.send(Message::text(r#"{"type":"ping"}"#)).await;
    }
    let mut pongs = 0;
    let (code, reason) = loop {
        match recv(&mut ws).await {
            Got::Json(m) => {
                assert_eq!(m, json!({"type": "pong"}));
                pongs += 1;
            }
            Got::Closed(code, reason) => break (code, reason),
        }
    };
    assert_eq!(code, 1008, "{reason}");
    assert!((20..40).contains(&pongs), "{pongs} pongs");
}

/// Tests that need a real Redis (`TEST_REDIS_URL`): the SQLite pass of CI skips them by name.
mod needs_redis {
    use super::*;

    #[tokio::test]
    async fn a_change_made_while_redis_was_cut_arrives_when_it_returns() {
        // Needs a real Redis to cut; the run without Redis covers the polling fallback.
        let url = std::env::var("TEST_REDIS_URL").expect(NEEDS_REDIS);
        let target = url
            .trim_start_matches("redis://")
            .trim_end_matches('/')
            .to_owned();
        let mut proxy = Cuttable::start(target).await;
        let port = proxy.port;
        let custom = move |s: &mut ayubi_app::config::Settings| {
            s.redis.url = format!("redis://127.0.0.1:{port}").into();
            // No polling: only the recheck on reconnect can deliver the missed change.
            s.sync.poll_interval_secs = 3600;
        };
        let a = spawn_with(custom).await;
        let b = spawn_beside(&a, custom).await;
        let s = a.register("ada@example.com").await;
        a.wait_for_wakeups().await;
        b.wait_for_wakeups().await;
        let mut on_b = open(&b, &s.access, 0).await;
        let mut on_a = open(&a, &s.access, 0).await;
        water(&a, &s.access, 100).await;
        assert_eq!(message(&mut on_b).await["seq"], 1, "pub/sub works");
        assert_eq!(message(&mut on_a).await["seq"], 1);

        proxy.cut();
        // B sees its subscription drop (and polls the log until it is back).
        b.wait_for_metric("ayubi_sync_polling", |v| v == 1.0).await;
        // Written through A while Redis is unreachable: A's own sockets get it at once, A's
        // publish fails, B hears nothing yet.
        let written = water(&a, &s.access, 200).await;
        assert_eq!(message(&mut on_a).await["data"], written);
        silent(&mut on_b, 1000).await;

        proxy.restore().await;
        // B resubscribes (backoff up to a few seconds) and rechecks the log.
        let got = message(&mut on_b).await;
        assert_eq!((got["seq"].as_i64(), &got["data"]), (Some(2), &written));
        silent(&mut on_b, 300).await;
    }

    /// With Redis, another instance remembers sessions as active too, and forgets them when
    /// the revocation hint arrives — before its sockets recheck, so once B's socket for the
    /// logged-out session is closed, B refuses the token over HTTP as well.
    #[tokio::test]
    async fn a_logout_on_one_instance_is_forgotten_by_the_others_session_memory() {
        std::env::var("TEST_REDIS_URL").expect(NEEDS_REDIS);
        let custom = |s: &mut ayubi_app::config::Settings| s.sync.poll_interval_secs = 3600;
        let a = spawn_with(custom).await;
        let b = spawn_beside(&a, custom).await;
        let s = a.register("ada@example.com").await;
        // The subscription (and with it the trust in remembered sessions) starts in the
        // background: a change written through A reaching B's socket shows it is up.
        let mut on_b = open(&b, &s.access, 0).await;
        water(&a, &s.access, 100).await;
        assert_eq!(message(&mut on_b).await["seq"], 1);
        assert_eq!(b.me_status(&s.access).await, StatusCode::OK);
        // Remembered: a revocation that bypasses the service is not seen by B yet.
        b.revoke_sessions_by_hand(s.id, true).await;
        assert_eq!(b.me_status(&s.access).await, StatusCode::OK);
        b.revoke_sessions_by_hand(s.id, false).await;

        assert_eq!(a.logout(&s.refresh).await, StatusCode::NO_CONTENT);
        let (code, reason) = closed(&mut on_b).await;
        assert_eq!(code, 4001, "{reason}");
        assert_eq!(b.me_status(&s.access).await, StatusCode::UNAUTHORIZED);
    }
}
