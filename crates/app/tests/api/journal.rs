//! The journal over HTTP, search included.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn write(app: &TestApp, s: &Session, body: Value) -> Value {
    let res = app.create("/api/v1/journal", &s.access, None, &body).await;
    assert_eq!(res.status(), StatusCode::CREATED, "{body}");
    res.json().await.unwrap()
}

fn ids(v: &Value) -> Vec<i64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn entries_are_written_listed_replaced_and_deleted() {
    let app = spawn_app().await;
    app.clock.set("2026-11-26T08:00:00Z".parse().unwrap());
    let s = app.register("ada@example.com").await;
    let e = write(&app, &s, json!({"title": " Morning ", "content": "Coffee and a walk.", "mood": 4, "tags": ["walk", " coffee ", "walk"]})).await;
    assert_eq!(
        e,
        json!({"id": e["id"], "title": "Morning", "content": "Coffee and a walk.", "date": "2026-11-26", "mood": 4,
               "tags": ["walk", "coffee"], "created_at": "2026-11-26T08:00:00Z", "updated_at": "2026-11-26T08:00:00Z"})
    );
    let older = write(
        &app,
        &s,
        json!({"content": "Rainy.", "date": "2026-11-20", "tags": ["weather"]}),
    )
    .await;
    assert_eq!(
        app.get_ok("/api/v1/journal", &s.access).await,
        json!([e, older])
    );
    assert_eq!(
        ids(&app.get_ok("/api/v1/journal?to=2026-11-21", &s.access).await),
        vec![older["id"].as_i64().unwrap()]
    );
    assert_eq!(
        ids(&app.get_ok("/api/v1/journal?tag=coffee", &s.access).await),
        vec![e["id"].as_i64().unwrap()]
    );
    assert_eq!(
        app.get_ok("/api/v1/journal?tag=cof", &s.access).await,
        json!([]),
        "tags match whole"
    );
    assert_eq!(
        app.get_ok("/api/v1/journal?tag=100%25", &s.access).await,
        json!([]),
        "wildcards are literal"
    );

    for (body, field) in [
        (json!({"content": ""}), "content"),
        (json!({"content": "   "}), "content"),
        (json!({"content": "x".repeat(100_001)}), "content"),
        (json!({"content": "x", "mood": 0}), "mood"),
        (json!({"content": "x", "mood": 6}), "mood"),
        (json!({"content": "x", "title": "t".repeat(201)}), "title"),
        (json!({"content": "x", "tags": vec!["t"; 21]}), "tags"),
        (json!({"content": "x", "tags": ["t".repeat(51)]}), "tags"),
        (json!({"content": "x", "tags": [""]}), "tags"),
        (json!({"title": "only"}), "content"),
    ] {
        let p = problem(
            app.create("/api/v1/journal", &s.access, None, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(p["errors"][field].is_array(), "{p}");
    }
    let id = e["id"].as_i64().unwrap();
    let replaced: Value = app
        .put_json(
            &format!("/api/v1/journal/{id}"),
            &s.access,
            &json!({"content": "Tea instead.", "date": "2026-11-25"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            replaced["title"].clone(),
            replaced["tags"].clone(),
            replaced["mood"].clone()
        ),
        (json!(null), json!([]), json!(null))
    );
    assert_eq!(
        app.get_ok(&format!("/api/v1/journal/{id}"), &s.access)
            .await,
        replaced
    );
    assert_eq!(
        app.delete_json(&format!("/api/v1/journal/{id}"), None, &s.access)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    problem(
        app.get(&format!("/api/v1/journal/{id}"), Some(&s.access))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let events: Vec<_> = app.get_ok("/api/v1/sync/changes", &s.access).await["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["event"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        events,
        [
            "journal:created",
            "journal:created",
            "journal:updated",
            "journal:deleted"
        ]
    );
}

#[tokio::test]
async fn search_is_ranked_case_insensitive_prefix_and_works_in_russian() {
    let app = spawn_app().await;
    let s = app.register("ada@example.com").await;
    let bob = app.register("bob@example.com").await;
    let run1 = write(
        &app,
        &s,
        json!({"content": "Went running in the park. Running is great, running every day."}),
    )
    .await;
    let run2 = write(
        &app,
        &s,
        json!({"title": "Shoes", "content": "Bought new shoes for a run."}),
    )
    .await;
    let other = write(&app, &s, json!({"content": "Read a book about the sea."})).await;
    let ru = write(&app, &s, json!({"title": "Дневник", "content": "Сегодня была прекрасная Прогулка по набережной.", "tags": ["Москва"]})).await;
    write(&app, &bob, json!({"content": "Running secrets of bob."})).await;

    let found = app.get_ok("/api/v1/journal?q=RUN", &s.access).await;
    assert_eq!(
        ids(&found),
        vec![run1["id"].as_i64().unwrap(), run2["id"].as_i64().unwrap()],
        "ranked: more matches first; bob's entry is not ada's"
    );
    assert_eq!(
        ids(&app.get_ok("/api/v1/journal?q=runn", &s.access).await),
        vec![run1["id"].as_i64().unwrap()]
    );
    assert_eq!(
        ids(&app.get_ok("/api/v1/journal?q=shoes%20run", &s.access).await),
        vec![run2["id"].as_i64().unwrap()],
        "every word must match"
    );
    assert_eq!(
        app.get_ok("/api/v1/journal?q=swimming", &s.access).await,
        json!([])
    );
    assert_eq!(
        ids(&app.get_ok("/api/v1/journal?q=sea", &s.access).await),
        vec![other["id"].as_i64().unwrap()]
    );

    // Russian: case-insensitive, prefix, in content, title and tags.
    let ru_id = ru["id"].as_i64().unwrap();
    for q in [
        "прогулка",
        "ПРОГУЛ",
        "Сегодня",
        "дневник",
        "москва",
        "набережн",
    ] {
        let url = format!("/api/v1/journal?q={}", url_escape(q));
        assert_eq!(ids(&app.get_ok(&url, &s.access).await), vec![ru_id], "{q}");
    }
    // Syntax characters are only separators, never query operators.
    assert_eq!(
        ids(&app
            .get_ok(
                &format!("/api/v1/journal?q={}", url_escape("\"run* OR sea\" -(")),
                &s.access
            )
            .await)
        .len(),
        0
    );
    // A search box never errors on what a person types: punctuation alone, operators of
    // either database's query language, huge terms, emoji, mixed scripts — 200, and the
    // matches the words in them make (none, here, but for `run` and `sea`).
    let long = "river".repeat(2000);
    let odd = [
        "%_\\",
        "***",
        "\"",
        "'",
        "-",
        "- -",
        "NEAR",
        "NEAR(a b, 2)",
        "AND",
        "a AND OR NOT b",
        "title:x",
        ":* & | ! <->",
        "^x",
        "{x y}",
        "🙂",
        "🙂🙂🙂 💧",
        "Привет世界hello",
        "日本語のテキスト",
        "x\u{200f}y",
        "\u{0}",
        long.as_str(),
    ];
    for q in odd {
        let url = format!("/api/v1/journal?q={}", url_escape(q));
        let res = app.get(&url, Some(&s.access)).await;
        assert_eq!(res.status(), StatusCode::OK, "{q:.40}");
        assert_eq!(res.json::<Value>().await.unwrap(), json!([]), "{q:.40}");
    }
    assert_eq!(
        ids(&app
            .get_ok(
                &format!("/api/v1/journal?q={}", url_escape("«sea»!!! 🙂")),
                &s.access
            )
            .await),
        vec![other["id"].as_i64().unwrap()],
        "the words in odd text still match"
    );
    // A blank box is no search: every entry.
    assert_eq!(
        app.get_ok("/api/v1/journal?q=%20%20", &s.access)
            .await
            .as_array()
            .unwrap()
            .len(),
        4
    );
    // Edits and deletes keep the index in step.
    app.put_json(
        &format!("/api/v1/journal/{}", run2["id"]),
        &s.access,
        &json!({"content": "Bought a hat."}),
    )
    .await;
    assert_eq!(
        ids(&app.get_ok("/api/v1/journal?q=hat", &s.access).await),
        vec![run2["id"].as_i64().unwrap()]
    );
    assert_eq!(
        ids(&app.get_ok("/api/v1/journal?q=shoes", &s.access).await),
        Vec::<i64>::new()
    );
    app.delete_json(&format!("/api/v1/journal/{ru_id}"), None, &s.access)
        .await;
    assert_eq!(
        app.get_ok(
            &format!("/api/v1/journal?q={}", url_escape("прогулка")),
            &s.access
        )
        .await,
        json!([])
    );
    // Search combines with the other filters.
    assert_eq!(
        ids(&app
            .get_ok("/api/v1/journal?q=run&to=2000-01-01", &s.access)
            .await),
        Vec::<i64>::new()
    );
}

fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn journal_is_isolated_and_idempotent() {
    let app = spawn_app().await;
    let a = app.register("ada@example.com").await;
    let b = app.register("bob@example.com").await;
    let body = json!({"content": "Private."});
    let first: Value = app
        .create("/api/v1/journal", &a.access, Some("j1"), &body)
        .await
        .json()
        .await
        .unwrap();
    let again = app
        .create("/api/v1/journal", &a.access, Some("j1"), &body)
        .await;
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    assert_eq!(
        app.get_ok("/api/v1/journal", &a.access)
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let id = first["id"].as_i64().unwrap();
    let missing = problem(
        app.get("/api/v1/journal/999999", Some(&b.access)).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(
        problem(
            app.get(&format!("/api/v1/journal/{id}"), Some(&b.access))
                .await,
            StatusCode::NOT_FOUND
        )
        .await,
        missing
    );
    problem(
        app.put_json(
            &format!("/api/v1/journal/{id}"),
            &b.access,
            &json!({"content": "mine"}),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        app.delete_json(&format!("/api/v1/journal/{id}"), None, &b.access)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(
        app.get_ok("/api/v1/journal?q=private", &b.access).await,
        json!([])
    );
    app.delete_json(
        "/api/v1/auth/me",
        Some(&json!({"password": PASSWORD})),
        &a.access,
    )
    .await;
    assert_eq!(app.count("journal_entries", a.id).await, 0);
}

/// Found by Schemathesis: on SQLite every edit told the full-text index to delete tokens
/// it had never been given (the `updated_at` trigger's nested update fired the index
/// trigger with the new text as the old), until writes failed with "database disk image is
/// malformed". After edits of every kind of text, FTS5's own integrity check passes and
/// the search finds the last text only.
#[tokio::test]
async fn editing_entries_keeps_the_full_text_index_intact() {
    let app = spawn_app().await;
    let a = app.register("ada@example.com").await;
    let created: Value = app
        .create(
            "/api/v1/journal",
            &a.access,
            None,
            &json!({"date": "2026-11-29", "title": "first", "content": "walnut harbour"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_i64().unwrap();
    let texts = [
        (
            "]\u{e63}\r\u{1f601}X'µ\u{95}×û\u{13}Z\u{2a3}",
            "\u{10fd32}\u{14}\u{95}¦H",
        ),
        ("Ёжик", "в тумане, café crème"),
        ("", "a short one"),
        ("last title", "quince orchard"),
    ];
    for (title, content) in texts {
        let res = app
            .put_json(
                &format!("/api/v1/journal/{id}"),
                &a.access,
                &json!({"date": "2026-11-29", "title": title, "content": content}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{title:?} {content:?}");
    }
    if !app.db.is_postgres() {
        // Raises SQLITE_CORRUPT_VTAB when the index disagrees with the entries.
        app.exec(
            "INSERT INTO journal_fts(journal_fts, rank) VALUES ('integrity-check', 1)",
            vec![],
        )
        .await;
    }
    let found = app.get_ok("/api/v1/journal?q=quince", &a.access).await;
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    for gone in ["walnut", "Ёжик", "tumane"] {
        let res = app
            .get_ok(
                &format!("/api/v1/journal?q={}", url_escape(gone)),
                &a.access,
            )
            .await;
        assert_eq!(res, json!([]), "{gone} was replaced");
    }
}
