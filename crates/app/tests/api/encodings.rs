//! Honest content codings (#20): a client that accepts every coding — as Prometheus,
//! browsers and curl `--compressed` do — gets bodies encoded exactly as the headers say.
//! The scrape that failed was `/metrics`: `Content-Encoding: gzip` over plain text.

use crate::helpers::*;
use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use reqwest::{Response, StatusCode};
use serde_json::Value;
use std::io::Read;

const EVERY_CODING: &str = "gzip, deflate, br, zstd";

/// Decodes `raw` as `coding` says; a coding we cannot decode fails the test (the server
/// must not pick one it does not implement).
fn decode(what: &str, coding: Option<&str>, raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        None => out.extend_from_slice(raw),
        Some("gzip") => {
            flate2::read::GzDecoder::new(raw)
                .read_to_end(&mut out)
                .unwrap_or_else(|e| panic!("{what}: says gzip, does not decode: {e}"));
        }
        // HTTP's `deflate` is the zlib format (RFC 9110 8.4.1.2).
        Some("deflate") => {
            flate2::read::ZlibDecoder::new(raw)
                .read_to_end(&mut out)
                .unwrap_or_else(|e| panic!("{what}: says deflate, does not decode: {e}"));
        }
        Some(other) => panic!("{what}: Content-Encoding {other:?} is not one we can serve"),
    }
    out
}

/// The body of `res`, decoded as its headers say, checked against its declared type.
async fn honest_body(what: &str, res: Response) -> (Option<String>, Vec<u8>) {
    let coding = res
        .headers()
        .get(CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap().to_owned());
    let length = res
        .headers()
        .get(CONTENT_LENGTH)
        .map(|v| v.to_str().unwrap().parse::<usize>().unwrap());
    let ctype = res
        .headers()
        .get(CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let raw = res.bytes().await.unwrap();
    if let Some(n) = length {
        assert_eq!(raw.len(), n, "{what}: Content-Length is not the body's");
    }
    let body = decode(what, coding.as_deref(), &raw);
    if ctype.contains("json") {
        serde_json::from_slice::<Value>(&body)
            .unwrap_or_else(|e| panic!("{what}: decoded body is not JSON ({ctype}): {e}"));
    } else if ctype.starts_with("text/") || ctype.contains("javascript") {
        std::str::from_utf8(&body)
            .unwrap_or_else(|e| panic!("{what}: decoded {ctype} is not UTF-8: {e}"));
    }
    (coding, body)
}

/// `GET path` accepting every coding, as `bearer` when given.
async fn get_accepting_all(app: &TestApp, path: &str, bearer: Option<&str>) -> Response {
    let mut req = app
        .client
        .get(app.url(path))
        .header(ACCEPT_ENCODING, EVERY_CODING);
    if let Some(token) = bearer {
        req = req.bearer_auth(token);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn every_get_is_encoded_as_its_headers_say() {
    let app = spawn_app().await;
    let a = app.register("ada@example.com").await;
    let owned = Owned::one_of_each(&app, &a).await;
    let spec: Value = app.get("/openapi.json", None).await.json().await.unwrap();
    let mut checked = 0;
    let mut compressed = 0;
    for (template, item) in spec["paths"].as_object().unwrap() {
        let Some(op) = item.get("get") else { continue };
        // The socket needs an upgrade and the stream never ends: both are read below.
        if template.ends_with("/ws/sync") || template.ends_with("/events") {
            continue;
        }
        let mut path = owned.path(template);
        // Required query parameters, each with a value that is valid for this user.
        let required: Vec<&str> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "query" && p["required"] == true)
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        for (i, name) in required.iter().enumerate() {
            let value = match *name {
                "platform" => "steam",
                "month" => "2026-01",
                other => panic!("{template}: give required query parameter {other} a value"),
            };
            path.push(if i == 0 { '?' } else { '&' });
            path.push_str(&format!("{name}={value}"));
        }
        let res = get_accepting_all(&app, &path, Some(&a.access)).await;
        let status = res.status();
        let (coding, body) = honest_body(&path, res).await;
        if status.is_success() {
            assert!(!body.is_empty(), "{path}: empty body");
        }
        compressed += usize::from(coding.is_some());
        checked += 1;
    }
    assert!(
        checked >= 34,
        "only {checked} GET operations in the document"
    );
    // Compression is on: the large JSON answers did get encoded.
    assert!(compressed > 0, "nothing was compressed");

    // The Prometheus scrape that failed (and the one Prometheus itself sends).
    let res = app
        .client
        .get(app.url("/metrics"))
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let (_, body) = honest_body("/metrics", res).await;
    let text = String::from_utf8(body).unwrap();
    assert!(
        text.contains("# TYPE ayubi_http_requests_total counter"),
        "{text}"
    );

    // The docs UI and every asset its page loads.
    let res = get_accepting_all(&app, "/docs/", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let (_, page) = honest_body("/docs/", res).await;
    let page = String::from_utf8(page).unwrap();
    let assets: Vec<&str> = page
        .split(['"', '\''])
        .filter(|s| s.starts_with("./") && !s.contains(' '))
        .collect();
    assert!(assets.len() >= 3, "{page}");
    for asset in assets {
        let path = format!("/docs/{}", asset.trim_start_matches("./"));
        let res = get_accepting_all(&app, &path, None).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let (_, body) = honest_body(&path, res).await;
        assert!(!body.is_empty(), "{path}");
    }

    // The export is streamed with Content-Length and Repr-Digest: whatever coding it says,
    // the decoded document is the one the digest names.
    let res = get_accepting_all(&app, "/api/v1/backup/export", Some(&a.access)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let sha = res.headers()["x-content-sha256"]
        .to_str()
        .unwrap()
        .to_owned();
    let repr = res.headers()["repr-digest"].to_str().unwrap().to_owned();
    let (coding, body) = honest_body("export", res).await;
    assert_eq!(coding, None, "the digests name the unencoded document");
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &body);
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, sha);
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(digest.as_ref());
    assert_eq!(repr, format!("sha-256=:{b64}:"));

    // The event stream: its first bytes arrive unencoded and parse as events at once
    // (a compressor would hold them back).
    let mut res = get_accepting_all(&app, "/api/v1/events?since=0", Some(&a.access)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers().get(CONTENT_ENCODING).is_none(),
        "{:?}",
        res.headers()
    );
    let first = tokio::time::timeout(std::time::Duration::from_secs(10), res.chunk())
        .await
        .expect("the replay arrives")
        .unwrap()
        .unwrap();
    let text = std::str::from_utf8(&first).unwrap();
    assert!(
        text.starts_with("id:")
            || text.starts_with("event:")
            || text.starts_with("data:")
            || text.starts_with(':')
            || text.starts_with("retry:"),
        "{text}"
    );
}
