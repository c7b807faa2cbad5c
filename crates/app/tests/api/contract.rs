//! The cross-cutting contract: problem+json everywhere, body limits, CORS, security
//! headers, request ids, rate limits.

use crate::helpers::*;
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{Value, json};

#[tokio::test]
async fn malformed_bodies_are_400_and_wrong_shapes_422() {
    let app = spawn_app().await;
    let send = |body: &str, ct: &'static str| {
        app.client
            .post(app.url("/api/v1/auth/refresh"))
            .header("content-type", ct)
            .body(body.to_owned())
            .send()
    };
    let p = problem(
        send("{\"email\": ", "application/json").await.unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("not valid JSON"));
    problem(
        send("", "application/json").await.unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    let p = problem(
        send("{}", "text/plain").await.unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("application/json"));
    for body in [r#"["ayubi_rt_x"]"#, r#""text""#, "42"] {
        let p = problem(
            send(body, "application/json").await.unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(p["errors"]["body"].is_array(), "{body}");
    }
    let p = problem(
        send(r#"{"refresh_token": ["x"]}"#, "application/json")
            .await
            .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        p["errors"]["refresh_token"][0]
            .as_str()
            .unwrap()
            .contains("invalid type"),
        "{p}"
    );
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let app = spawn_app().await;
    let big = format!(
        "{{\"email\": \"{}\", \"password\": \"x\"}}",
        "a".repeat(1024 * 1024 + 10)
    );
    let res = app
        .client
        .post(app.url("/api/v1/auth/register"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::PAYLOAD_TOO_LARGE).await;
    // Just under the limit is read (and then refused on its merits).
    let under = format!(
        "{{\"email\": \"{}\", \"password\": \"x\"}}",
        "a".repeat(1024 * 1000)
    );
    let res = app
        .client
        .post(app.url("/api/v1/auth/register"))
        .header("content-type", "application/json")
        .body(under)
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let app = spawn_app().await;
    let p = problem(app.get("/api/v1/nope", None).await, StatusCode::NOT_FOUND).await;
    assert!(p["detail"].as_str().unwrap().contains("/api/v1/nope"));
    let res = app
        .client
        .put(app.url("/api/v1/auth/me"))
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::METHOD_NOT_ALLOWED).await;
    let res = app
        .client
        .get(app.url("/api/v1/auth/login"))
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::METHOD_NOT_ALLOWED).await;
}

#[tokio::test]
async fn every_response_carries_security_headers_and_a_request_id() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for path in ["/healthz", "/api/v1/auth/me", "/nope"] {
        let res = app.get(path, None).await;
        let h = res.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert!(
            h["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("default-src 'none'")
        );
        ids.push(h["x-request-id"].to_str().unwrap().to_owned());
    }
    ids.dedup();
    assert_eq!(ids.len(), 3, "request ids are unique");
}

#[tokio::test]
async fn cors_allows_the_configured_origin_only() {
    let app = spawn_with(|s| s.server.cors_origins = vec!["https://app.example.com".into()]).await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/auth/tokens"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization, content-type, idempotency-key",
            )
            .send()
    };
    let ok = preflight("https://app.example.com").await.unwrap();
    assert!(ok.status().is_success());
    let h = ok.headers();
    assert_eq!(h["access-control-allow-origin"], "https://app.example.com");
    assert_eq!(h["access-control-allow-credentials"], "true");
    let methods = h["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .to_owned();
    for m in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
        assert!(methods.contains(m), "{m} missing from {methods}");
    }
    let bad = preflight("https://evil.example.com").await.unwrap();
    assert!(bad.headers().get("access-control-allow-origin").is_none());
    problem(bad, StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn login_is_limited_per_client_ip_and_x_forwarded_for_does_not_help() {
    let app = spawn_app().await;
    for i in 0..5 {
        let res = app
            .client
            .post(app.url("/api/v1/auth/login"))
            .header("X-Forwarded-For", format!("10.0.0.{i}"))
            .json(&json!({"email": "a@b.co", "password": "whatever it is"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("X-Forwarded-For", "10.9.9.9")
        .header("Fly-Client-IP", "10.9.9.9")
        .json(&json!({"email": "a@b.co", "password": "whatever it is"}))
        .send()
        .await
        .unwrap();
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "retry-after {retry}");
    let p = problem(res, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(p["detail"].as_str().unwrap().contains("retry"));
    // Other endpoints are not limited by login's bucket.
    assert_eq!(app.get("/healthz", None).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_trusted_proxy_header_keys_the_limit_when_configured() {
    let app = spawn_with(|s| s.server.trusted_client_ip_header = "Fly-Client-IP".into()).await;
    // A different account each time, so only the IP's limit is met.
    let attempt = |ip: &'static str, i: u32| {
        app.client
            .post(app.url("/api/v1/auth/login"))
            .header("Fly-Client-IP", ip)
            .json(&json!({"email": format!("a{i}@b.co"), "password": "whatever it is"}))
            .send()
    };
    for i in 0..5 {
        assert_eq!(
            attempt("203.0.113.1", i).await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        attempt("203.0.113.1", 5).await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        attempt("203.0.113.2", 6).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}

/// Guessing one account's password from many addresses meets the account's limit
/// (`auth.login_per_account_per_minute` failed attempts, whatever the IPs and however the
/// address is spelt); then even the right password is refused — except from a device
/// that holds a valid device token of that account (OWASP's device cookies), so the
/// stranger cannot lock the owner's devices out. Successful logins count nothing.
#[tokio::test]
async fn login_is_limited_per_account_but_not_for_the_owners_devices() {
    let app = spawn_with(|s| {
        s.server.trusted_client_ip_header = "Fly-Client-IP".into();
        s.auth.login_per_account_per_minute = 5;
    })
    .await;
    let ada = app.register("ada@example.com").await;
    let bob = app.register("bob@example.com").await;
    let login =
        |ip: String, email: &'static str, password: &'static str, device: Option<String>| {
            let mut body = json!({"email": email, "password": password});
            if let Some(d) = device {
                body["device_token"] = json!(d);
            }
            app.client
                .post(app.url("/api/v1/auth/login"))
                .header("Fly-Client-IP", ip)
                .json(&body)
                .send()
        };
    // Her own logins beforehand: each returns a device token, and none counts.
    let mut device = String::new();
    for i in 0..7 {
        let res = login(format!("192.0.2.{i}"), "ada@example.com", PASSWORD, None)
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "login {i}");
        let body: Value = res.json().await.unwrap();
        device = body["device_token"].as_str().unwrap().to_owned();
        assert!(device.len() > 40, "{body}");
        assert_ne!(device, body["access_token"].as_str().unwrap());
    }
    let bob_device = app
        .login("bob@example.com", PASSWORD)
        .await
        .json::<Value>()
        .await
        .unwrap()["device_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // The stranger: five wrong passwords from five addresses, the email spelt five ways.
    for (i, email) in [
        "ada@example.com",
        "ADA@example.com",
        " ada@example.com",
        "ada@EXAMPLE.com",
        "ada@example.com",
    ]
    .into_iter()
    .enumerate()
    {
        let res = login(
            format!("198.51.100.{i}"),
            email,
            "not her password at all",
            None,
        )
        .await
        .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let res = login(
        "198.51.100.77".into(),
        "ada@example.com",
        "not her password",
        None,
    )
    .await
    .unwrap();
    assert!(res.headers().contains_key("retry-after"));
    problem(res, StatusCode::TOO_MANY_REQUESTS).await;
    // The right password from a new device is refused too until the minute turns (the
    // stranger's next guess could be the right one)…
    let res = login("198.51.100.78".into(), "ada@example.com", PASSWORD, None)
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // …and so is a device token that is not one of hers: bob's, an access token, junk.
    for not_hers in [
        bob_device.clone(),
        ada.access.clone(),
        "ey.junk.token".to_owned(),
    ] {
        let res = login(
            "198.51.100.79".into(),
            "ada@example.com",
            PASSWORD,
            Some(not_hers),
        )
        .await
        .unwrap();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    }
    // Her device gets in (and a wrong password from it is a plain 401, not a 429).
    let res = login(
        "192.0.2.50".into(),
        "ada@example.com",
        "typo in my password",
        Some(device.clone()),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = login(
        "192.0.2.51".into(),
        "ada@example.com",
        PASSWORD,
        Some(device.clone()),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // Another account is free.
    let res = login(
        "198.51.100.80".into(),
        "bob@example.com",
        "wrong wrong wrong",
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "another account is free"
    );

    // A password change revokes every session — and every device token with them.
    let res = app
        .client
        .post(app.url("/api/v1/auth/password"))
        .bearer_auth(&ada.access)
        .json(&json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = login(
        "192.0.2.52".into(),
        "ada@example.com",
        "a brand new passphrase",
        Some(device),
    )
    .await
    .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the old device token no longer exempts"
    );
    let _ = bob;
}

/// Two instances of one deployment: with Redis (the PostgreSQL + Redis run) the login
/// limit is the deployment's — five attempts in all, not five on each. Without Redis each
/// instance limits on its own, which is all a single SQLite instance needs.
#[tokio::test]
async fn the_login_limit_holds_across_instances_through_redis() {
    let first = spawn_app().await;
    let second = spawn_beside(&first, |_| {}).await;
    let shared = std::env::var("TEST_REDIS_URL").is_ok();
    let attempt = |app: &TestApp, i: u32| {
        app.client
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"email": format!("c{i}@b.co"), "password": "whatever it is"}))
            .send()
    };
    for i in 0..5 {
        let app = if i % 2 == 0 { &first } else { &second };
        assert_eq!(
            attempt(app, i).await.unwrap().status(),
            StatusCode::UNAUTHORIZED,
            "attempt {i}"
        );
    }
    let sixth = attempt(&second, 5).await.unwrap().status();
    if shared {
        assert_eq!(
            sixth,
            StatusCode::TOO_MANY_REQUESTS,
            "5 in all, not 5 per instance"
        );
        assert_eq!(
            attempt(&first, 6).await.unwrap().status(),
            StatusCode::TOO_MANY_REQUESTS
        );
    } else {
        assert_eq!(
            sixth,
            StatusCode::UNAUTHORIZED,
            "two of five were on this instance"
        );
    }
}

#[tokio::test]
async fn register_has_its_own_configurable_limit() {
    let app = spawn_with(|s| s.auth.register_per_hour = 2).await;
    app.register("a@example.com").await;
    app.register("b@example.com").await;
    let res = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": "c@example.com", "password": PASSWORD}),
            None,
        )
        .await;
    problem(res, StatusCode::TOO_MANY_REQUESTS).await;
    // Login keeps its own bucket.
    assert_eq!(
        app.login("a@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );
}

/// What Schemathesis found the server and its document disagreeing on, each pinned: a
/// number with no fraction is an integer (`250.0` ml); an amount below a cent is not an
/// amount (it was stored as 0.00); a tagged schedule refuses unknown fields in every
/// variant (a unit variant ignored them); a name's length counts what was sent; the live
/// endpoints ask for credentials before they judge a cursor.
#[tokio::test]
async fn bodies_are_judged_as_the_document_states() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    let res = app
        .create(
            "/api/v1/sport/water",
            &s.access,
            None,
            &json!({"ml": 250.0}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.json::<serde_json::Value>().await.unwrap()["ml"], 250);

    let cat = app
        .create(
            "/api/v1/finance/categories",
            &s.access,
            None,
            &json!({"name": "Food", "kind": "expense"}),
        )
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let p = problem(
        app.create(
            "/api/v1/finance/entries",
            &s.access,
            None,
            &json!({"kind": "expense", "amount": 5e-324, "category_id": cat["id"]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(p["errors"]["amount"].is_array(), "{p}");

    let p = problem(
        app.create(
            "/api/v1/habits",
            &s.access,
            None,
            &json!({"name": "Read", "schedule": {"kind": "daily", "extra": 1}}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        p["detail"].as_str().unwrap().contains("unknown field"),
        "{p}"
    );

    let long = format!(" {}", "n".repeat(100));
    let p = problem(
        app.create("/api/v1/habits", &s.access, None, &json!({"name": long}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(p["errors"]["name"].is_array(), "{p}");
    let res = app
        .create(
            "/api/v1/habits",
            &s.access,
            None,
            &json!({"name": "  Read  "}),
        )
        .await;
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["name"],
        "Read"
    );

    for path in ["/api/v1/events?since=-1", "/api/v1/ws/sync?since=-1"] {
        let p = problem(app.get(path, None).await, StatusCode::UNAUTHORIZED).await;
        assert!(
            p["detail"].as_str().unwrap().contains("token"),
            "{path}: {p}"
        );
    }
}

/// Redis configured but unreachable: the limit falls back to this instance's, it is not
/// lifted.
#[tokio::test]
async fn the_login_limit_stays_when_redis_is_down() {
    let app = spawn_with(|s| s.redis.url = SecretString::from("redis://127.0.0.1:1")).await;
    for i in 0..5 {
        let res = app.login(&format!("d{i}@b.co"), "whatever it is").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let res = app.login("d5@b.co", "whatever it is").await;
    problem(res, StatusCode::TOO_MANY_REQUESTS).await;
}
