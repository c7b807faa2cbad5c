//! Bearer tokens under attack, and personal access tokens.

use crate::helpers::*;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn sign(claims: &Value, secret: &str, alg: Algorithm) -> String {
    encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

#[tokio::test]
async fn access_tokens_carry_the_required_claims() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    let c = claims_of(&s.access);
    for claim in ["sub", "sid", "jti", "iat", "exp"] {
        assert!(!c[claim].is_null(), "missing {claim}");
    }
    assert_eq!(c["sub"], s.id.to_string());
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 900);
    // A re-signed copy of a real token is accepted: the forging helper is sound, so the
    // refusals below are about the claims and algorithms, not the helper.
    assert_eq!(
        app.me_status(&sign(&c, TEST_SECRET, Algorithm::HS256))
            .await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn forged_expired_and_incomplete_tokens_are_refused() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    let good = claims_of(&s.access);
    let now = good["iat"].as_i64().unwrap();

    let mut expired = good.clone();
    expired["iat"] = json!(now - 1000);
    expired["exp"] = json!(now - 100);
    let mut string_exp = good.clone();
    string_exp["exp"] = json!((now - 100).to_string());
    let mut other_user = good.clone();
    other_user["sub"] = json!((s.id + 1).to_string());
    let mut no_sid = good.clone();
    no_sid.as_object_mut().unwrap().remove("sid");
    let mut no_jti = good.clone();
    no_jti.as_object_mut().unwrap().remove("jti");
    let mut issued_later = good.clone();
    issued_later["iat"] = json!(now + 3600);
    issued_later["exp"] = json!(now + 4000);
    let mut not_before = good.clone();
    not_before["nbf"] = json!(now + 3600);
    // Algorithm confusion: the header names RS256 (a verifier that took the algorithm from
    // the header would check an HMAC against the secret as an RSA public key).
    let header_rs = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
    let mut rs256 = s.access.split('.').map(str::to_owned).collect::<Vec<_>>();
    rs256[0] = header_rs;

    let header_none = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&good).unwrap());
    let alg_none = format!("{header_none}.{body}.");
    let mut tampered = s.access.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let mut swapped_body = s.access.split('.').map(str::to_owned).collect::<Vec<_>>();
    let mut admin = good.clone();
    admin["sub"] = json!("1");
    admin["exp"] = json!(now + 100_000);
    swapped_body[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&admin).unwrap());

    let cases = [
        ("expired", sign(&expired, TEST_SECRET, Algorithm::HS256)),
        (
            "exp as a string",
            sign(&string_exp, TEST_SECRET, Algorithm::HS256),
        ),
        (
            "other key",
            sign(
                &good,
                "another-secret-another-secret-another",
                Algorithm::HS256,
            ),
        ),
        ("HS512", sign(&good, TEST_SECRET, Algorithm::HS512)),
        ("alg none", alg_none),
        ("tampered signature", tampered),
        ("swapped payload", swapped_body.join(".")),
        (
            "session of another user",
            sign(&other_user, TEST_SECRET, Algorithm::HS256),
        ),
        ("no sid", sign(&no_sid, TEST_SECRET, Algorithm::HS256)),
        ("no jti", sign(&no_jti, TEST_SECRET, Algorithm::HS256)),
        (
            "issued in the future",
            sign(&issued_later, TEST_SECRET, Algorithm::HS256),
        ),
        (
            "not valid before an hour from now",
            sign(&not_before, TEST_SECRET, Algorithm::HS256),
        ),
        ("header says RS256", rs256.join(".")),
        ("garbage", "not.a.token".to_owned()),
    ];
    for (what, token) in cases {
        let res = app.get("/api/v1/auth/me", Some(&token)).await;
        assert_eq!(res.headers()["www-authenticate"], "Bearer", "{what}");
        problem(res, StatusCode::UNAUTHORIZED).await;
    }
    assert_eq!(app.me_status(&s.access).await, StatusCode::OK);
}

#[tokio::test]
async fn personal_access_tokens_are_shown_once_and_revocable() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    let res = app
        .post_json(
            "/api/v1/auth/tokens",
            &json!({"name": " backup script ", "expires_at": "2099-01-01T00:00:00Z"}),
            Some(&s.access),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    let secret = created["token"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("ayubi_pat_") && secret.len() > 40);
    assert_eq!(created["name"], "backup script");
    assert_eq!(created["expires_at"], "2099-01-01T00:00:00Z");
    assert!(created["last_used_at"].is_null());

    // It authenticates, and its use is recorded.
    let me: Value = app
        .get("/api/v1/auth/me", Some(&secret))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["id"], s.id);
    let list: Value = app.tokens(&s.access).await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], created["id"]);
    assert!(list[0]["last_used_at"].is_string());
    assert!(
        list[0].get("token").is_none(),
        "the list never shows the secret"
    );
    let raw = serde_json::to_string(&list).unwrap();
    assert!(!raw.contains(&secret));

    // Another user cannot see or revoke it; an unknown id is the same 404.
    let bob = app.register("bob@example.com").await;
    let bobs: Value = app.tokens(&bob.access).await;
    assert_eq!(bobs, json!([]));
    let id = created["id"].as_i64().unwrap();
    let foreign = app
        .delete_json(&format!("/api/v1/auth/tokens/{id}"), None, &bob.access)
        .await;
    let foreign = problem(foreign, StatusCode::NOT_FOUND).await;
    let missing = app
        .delete_json("/api/v1/auth/tokens/999999", None, &bob.access)
        .await;
    assert_eq!(problem(missing, StatusCode::NOT_FOUND).await, foreign);
    assert_eq!(app.me_status(&secret).await, StatusCode::OK);

    let res = app
        .delete_json(&format!("/api/v1/auth/tokens/{id}"), None, &s.access)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.me_status(&secret).await, StatusCode::UNAUTHORIZED);
    let list: Value = app.tokens(&s.access).await;
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn token_requests_are_validated() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    for (body, field) in [
        (json!({"name": ""}), "name"),
        (json!({"name": "x".repeat(101)}), "name"),
        (
            json!({"name": "ok", "expires_at": "2001-01-01T00:00:00Z"}),
            "expires_at",
        ),
        (
            json!({"name": "ok", "expires_at": "tomorrow"}),
            "expires_at",
        ),
        (json!({"name": "ok", "id": 3}), "id"),
    ] {
        let res = app
            .post_json("/api/v1/auth/tokens", &body, Some(&s.access))
            .await;
        let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(p["errors"][field].is_array(), "{body}: {p}");
    }
    let p = problem(
        app.get("/api/v1/auth/tokens?limit=1001", Some(&s.access))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(p["errors"]["limit"].is_array());
    problem(
        app.get("/api/v1/auth/tokens?limit=abc", Some(&s.access))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(
        app.delete_json("/api/v1/auth/tokens/abc", None, &s.access)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let list: Value = app.tokens(&s.access).await;
    assert_eq!(list, json!([]), "refused creates wrote nothing");
}

#[tokio::test]
async fn token_lists_are_newest_first_and_bounded() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    for i in 0..3 {
        let res = app
            .post_json(
                "/api/v1/auth/tokens",
                &json!({"name": format!("t{i}")}),
                Some(&s.access),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let list: Value = app
        .get("/api/v1/auth/tokens?limit=2", Some(&s.access))
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("t2"), json!("t1")]);
}
