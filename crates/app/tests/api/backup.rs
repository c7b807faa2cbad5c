//! Backup: export, import (merge, replace, dry run, partial, invalid, too large, older
//! versions), round trips across users and databases, stored backups in a directory and
//! in an S3 bucket (an in-process fake of its wire protocol), schedules and the lease.

use crate::helpers::{
    Session, TestApp, TestDb, pool, problem, spawn_app, spawn_at, spawn_beside, spawn_on_db,
    spawn_with,
};
use ayubi_backup::ports::BackupRecords;
use ayubi_kernel::{Clock, UserId};
use chrono::{Duration, SubsecRound, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;

fn sha256_hex(bytes: &[u8]) -> String {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Some of everything, through the REST API.
async fn seed(app: &TestApp, s: &Session) {
    let t = &s.access;
    let ok = |r: reqwest::Response| async move {
        let status = r.status();
        let body: Value = r.json().await.unwrap_or_default();
        assert!(status.is_success(), "{status}: {body}");
        body
    };
    let puts = [
        (
            "/api/v1/settings/profile",
            json!({"display_name": "Ayu", "timezone": "Europe/Berlin", "steam_id": "76561197960287930"}),
        ),
        (
            "/api/v1/settings",
            json!({"currency": "USD", "theme.accent": "teal"}),
        ),
        (
            "/api/v1/sport/goals",
            json!({"water_ml_per_day": 2500, "kcal_per_day": 2100}),
        ),
    ];
    for (path, body) in puts {
        ok(app.put_json(path, t, &body).await).await;
    }
    let habit = ok(app
        .create(
            "/api/v1/habits",
            t,
            None,
            &json!({"name": "Read", "schedule": {"kind": "weekdays", "days": ["mon", "wed"]}}),
        )
        .await)
    .await;
    let hid = habit["id"].as_i64().unwrap();
    let cat = ok(app
        .create(
            "/api/v1/finance/categories",
            t,
            None,
            &json!({"name": "Food", "kind": "expense"}),
        )
        .await)
    .await;
    let creates = [
        (
            "/api/v1/sport/water".to_owned(),
            json!({"ml": 250, "date": "2026-11-20"}),
        ),
        (
            "/api/v1/sport/water".to_owned(),
            json!({"ml": 250, "date": "2026-11-20"}),
        ),
        (
            "/api/v1/sport/water".to_owned(),
            json!({"ml": 500, "date": "2026-11-20"}),
        ),
        (
            "/api/v1/sport/food".to_owned(),
            json!({"name": "Oats", "kcal": 380, "protein": 12.5, "date": "2026-11-20"}),
        ),
        (
            "/api/v1/sport/workout".to_owned(),
            json!({"name": "Run", "duration_min": 30, "kcal_burned": 300, "date": "2026-11-21"}),
        ),
        (
            "/api/v1/travel/visited".to_owned(),
            json!({"country_iso3": "JPN", "visit_date": "2025-04-01", "notes": "sakura"}),
        ),
        (
            "/api/v1/travel/wishlist".to_owned(),
            json!({"country_iso3": "PRT"}),
        ),
        (
            format!("/api/v1/habits/{hid}/completions"),
            json!({"date": "2026-11-16"}),
        ),
        (
            format!("/api/v1/habits/{hid}/skips"),
            json!({"date": "2026-11-18"}),
        ),
        (
            "/api/v1/finance/entries".to_owned(),
            json!({"kind": "expense", "amount": 12.34, "currency": "EUR", "category_id": cat["id"], "date": "2026-11-20", "note": "lunch"}),
        ),
        (
            "/api/v1/finance/entries".to_owned(),
            json!({"kind": "income", "amount": 1000, "currency": "USD", "date": "2026-11-01"}),
        ),
        (
            "/api/v1/journal".to_owned(),
            json!({"title": "Day", "content": "Ran in the rain", "date": "2026-11-21", "mood": 4, "tags": ["run", "rain"]}),
        ),
    ];
    for (path, body) in creates {
        ok(app.create(&path, t, None, &body).await).await;
    }
}

/// `GET /backup/history/{id}` of a stored backup as `user`.
async fn download(app: &TestApp, user: &Session, backup: &Value) -> reqwest::Response {
    app.get(
        &format!("/api/v1/backup/history/{}", backup["id"]),
        Some(&user.access),
    )
    .await
}

/// `DELETE /backup/history/{id}` as `user`.
async fn forget(app: &TestApp, user: &Session, backup: &Value) -> StatusCode {
    app.delete_json(
        &format!("/api/v1/backup/history/{}", backup["id"]),
        None,
        &user.access,
    )
    .await
    .status()
}

async fn export(app: &TestApp, bearer: &str) -> (Value, reqwest::header::HeaderMap, Vec<u8>) {
    let res = app.get("/api/v1/backup/export", Some(bearer)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let headers = res.headers().clone();
    let bytes = res.bytes().await.unwrap().to_vec();
    (serde_json::from_slice(&bytes).unwrap(), headers, bytes)
}

/// `POST /backup/import{query}` of `doc` as `bearer`.
pub async fn import(app: &TestApp, bearer: &str, query: &str, doc: &Value) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/backup/import{query}")))
        .bearer_auth(bearer)
        .json(doc)
        .send()
        .await
        .unwrap()
}

async fn import_ok(app: &TestApp, bearer: &str, query: &str, doc: &Value) -> Value {
    let res = import(app, bearer, query, doc).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

/// An export with what differs between users and databases taken out: ids, timestamps,
/// the email; finance entries name their category instead of pointing at its id.
fn normalized(doc: &Value) -> Value {
    let mut doc = doc.clone();
    let cats: Vec<(Value, Value)> = doc["finance"]["categories"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|c| (c["id"].clone(), json!([c["kind"], c["name"]])))
        .collect();
    if let Some(entries) = doc["finance"]["entries"].as_array_mut() {
        for e in entries {
            let named = cats
                .iter()
                .find(|(id, _)| *id == e["category_id"])
                .map_or(Value::Null, |(_, n)| n.clone());
            e["category_id"] = named;
        }
    }
    fn strip(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for k in [
                    "id",
                    "created_at",
                    "updated_at",
                    "added_at",
                    "exported_at",
                    "email",
                ] {
                    m.remove(k);
                }
                m.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut doc);
    // Dated rows come out by date (then by when they were added, which a stable sort of
    // the document keeps).
    for path in [
        &["sport", "water"][..],
        &["sport", "food"],
        &["sport", "workouts"],
        &["finance", "entries"],
        &["journal"],
    ] {
        let mut at = &mut doc;
        for key in path {
            at = &mut at[*key];
        }
        if let Some(rows) = at.as_array_mut() {
            rows.sort_by(|a, b| a["date"].as_str().cmp(&b["date"].as_str()));
        }
    }
    doc
}

fn all_zero(counts: &Value) -> bool {
    counts.as_object().unwrap().values().all(|n| n == 0)
}

#[tokio::test]
async fn export_holds_every_table_with_its_hash_in_a_header() {
    let app = spawn_app().await;
    let s = app.register("export@example.com").await;
    seed(&app, &s).await;
    let (doc, headers, bytes) = export(&app, &s.access).await;
    assert_eq!(
        headers["x-content-sha256"].to_str().unwrap(),
        sha256_hex(&bytes)
    );
    assert!(
        headers["repr-digest"]
            .to_str()
            .unwrap()
            .starts_with("sha-256=:")
    );
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"ayubi-backup-")
    );
    assert_eq!(
        headers["content-length"].to_str().unwrap(),
        bytes.len().to_string()
    );
    assert_eq!(doc["format"], "ayubi-backup");
    assert_eq!(doc["version"], 1);
    assert!(doc["exported_at"].is_string());
    let n = normalized(&doc);
    assert_eq!(
        n,
        json!({
            "format": "ayubi-backup", "version": 1,
            "profile": {"display_name": "Ayu", "timezone": "Europe/Berlin", "steam_id": "76561197960287930", "faceit_nickname": null},
            "settings": {"currency": "USD", "theme.accent": "teal"},
            "sport": {
                "goals": {"water_ml_per_day": 2500, "kcal_per_day": 2100},
                "water": [{"date": "2026-11-20", "ml": 250}, {"date": "2026-11-20", "ml": 250}, {"date": "2026-11-20", "ml": 500}],
                "food": [{"date": "2026-11-20", "name": "Oats", "kcal": 380, "protein": 12.5, "carbs": null, "fat": null}],
                "workouts": [{"date": "2026-11-21", "name": "Run", "duration_min": 30, "kcal_burned": 300}]
            },
            "travel": {
                "visited": [{"country_iso3": "JPN", "visit_date": "2025-04-01", "notes": "sakura"}],
                "wishlist": [{"country_iso3": "PRT"}]
            },
            "habits": [{"name": "Read", "description": null, "schedule": {"kind": "weekdays", "days": ["mon", "wed"]}, "archived": false, "completions": ["2026-11-16"], "skips": ["2026-11-18"]}],
            "finance": {
                "categories": [{"name": "Food", "kind": "expense"}],
                "entries": [
                    {"kind": "income", "amount": 1000.0, "currency": "USD", "category_id": null, "date": "2026-11-01", "note": null},
                    {"kind": "expense", "amount": 12.34, "currency": "EUR", "category_id": ["expense", "Food"], "date": "2026-11-20", "note": "lunch"}
                ]
            },
            "journal": [{"title": "Day", "content": "Ran in the rain", "date": "2026-11-21", "mood": 4, "tags": ["run", "rain"]}]
        })
    );
    // The web app (another origin) may read the file name and the hash.
    let res = app
        .client
        .get(app.url("/api/v1/backup/export"))
        .bearer_auth(&s.access)
        .header("Origin", "http://localhost:5173")
        .send()
        .await
        .unwrap();
    let exposed = res.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for h in ["content-disposition", "x-content-sha256", "repr-digest"] {
        assert!(exposed.contains(h), "{exposed}");
    }
    // Exporting has no side effect: the change log did not move.
    let changes: Value = app
        .get_ok("/api/v1/sync/changes?since=0&limit=1000", &s.access)
        .await;
    let before = changes["changes"].as_array().unwrap().len();
    export(&app, &s.access).await;
    let changes: Value = app
        .get_ok("/api/v1/sync/changes?since=0&limit=1000", &s.access)
        .await;
    assert_eq!(changes["changes"].as_array().unwrap().len(), before);
}

#[tokio::test]
async fn round_trip_into_a_fresh_user_and_double_import_creates_nothing() {
    let app = spawn_app().await;
    let a = app.register("a@example.com").await;
    seed(&app, &a).await;
    let (doc, _, _) = export(&app, &a.access).await;
    let b = app.register("b@example.com").await;
    let first = import_ok(&app, &b.access, "", &doc).await;
    assert_eq!(first["mode"], "merge");
    assert_eq!(first["dry_run"], false);
    assert_eq!(first["created"]["water"], 3);
    assert_eq!(first["created"]["habit_completions"], 1);
    assert_eq!(first["created"]["finance_entries"], 2);
    assert!(all_zero(&first["skipped"]), "{first}");
    let (again, _, _) = export(&app, &b.access).await;
    assert_eq!(normalized(&again), normalized(&doc));
    assert_eq!(again["profile"]["email"], "b@example.com");
    // The same document again: nothing new, everything counted as already there.
    let second = import_ok(&app, &b.access, "", &doc).await;
    assert!(all_zero(&second["created"]), "{second}");
    assert_eq!(second["skipped"]["water"], 3);
    assert_eq!(second["skipped"]["journal"], 1);
    let (after, _, _) = export(&app, &b.access).await;
    assert_eq!(normalized(&after), normalized(&doc));
    // The import is one change in the log, with its counts.
    let changes = app.get_ok("/api/v1/sync/changes?since=0", &b.access).await;
    let imported: Vec<&Value> = changes["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["event"] == "backup:imported")
        .collect();
    assert_eq!(imported.len(), 2);
    assert_eq!(imported[0]["entity"], "backup");
    assert_eq!(imported[0]["data"]["created"]["water"], 3);
}

#[tokio::test]
async fn a_bad_row_is_named_and_nothing_changes() {
    let app = spawn_app().await;
    let s = app.register("bad@example.com").await;
    seed(&app, &s).await;
    let (before, _, _) = export(&app, &s.access).await;
    let seq_before = app
        .get_ok("/api/v1/sync/changes?since=0&limit=1000", &s.access)
        .await["next_since"]
        .clone();
    let mut entries: Vec<Value> = (0..1043)
        .map(|i| json!({"kind": "expense", "amount": 1 + i, "currency": "EUR", "date": "2026-11-02"}))
        .collect();
    entries[1042]["amount"] = json!(-5);
    let doc = json!({
        "format": "ayubi-backup", "version": 1,
        "sport": {"water": [{"date": "2026-11-03", "ml": 300}]},
        "finance": {"entries": entries}
    });
    for mode in ["merge", "replace"] {
        let body = problem(
            import(&app, &s.access, &format!("?mode={mode}"), &doc).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(
            body["errors"]["finance.entries[1042].amount"][0], "must be greater than 0",
            "{body}"
        );
        assert_eq!(body["errors"].as_object().unwrap().len(), 1);
    }
    // Wrong shapes are named by path too, and refused as a whole.
    let shape = json!({"format": "ayubi-backup", "version": 1, "journal": [{"content": "x", "date": "2026-11-01"}, {"content": "y", "date": "2026-13-01"}]});
    let body = problem(
        import(&app, &s.access, "", &shape).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        body["errors"]
            .as_object()
            .unwrap()
            .keys()
            .any(|k| k.starts_with("journal[1].date")),
        "{body}"
    );
    let unknown = json!({"format": "ayubi-backup", "version": 1, "sport": {"water": [{"date": "2026-11-01", "ml": 1, "user_id": 2}]}});
    let body = problem(
        import(&app, &s.access, "", &unknown).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        body["errors"]
            .as_object()
            .unwrap()
            .contains_key("sport.water[0].user_id"),
        "{body}"
    );
    let newer = json!({"format": "ayubi-backup", "version": 99});
    let body = problem(
        import(&app, &s.access, "", &newer).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        body["errors"]["version"][0]
            .as_str()
            .unwrap()
            .contains("newest")
    );
    let body = problem(
        import(&app, &s.access, "?mode=overwrite", &newer).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(body["errors"].as_object().unwrap().contains_key("mode"));
    let res = app
        .client
        .post(app.url("/api/v1/backup/import"))
        .bearer_auth(&s.access)
        .header("Content-Type", "application/json")
        .body("{\"format\": ")
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::BAD_REQUEST).await;
    // A body that says it is something else is refused before it is read; one that says
    // nothing is taken as JSON (curl --data-binary @file), here an empty document.
    let send = |content_type: Option<&'static str>| {
        let mut req = app
            .client
            .post(app.url("/api/v1/backup/import?dry_run=true"))
            .bearer_auth(&s.access)
            .body(r#"{"format": "ayubi-backup", "version": 1}"#);
        if let Some(ct) = content_type {
            req = req.header("Content-Type", ct);
        }
        req.send()
    };
    let body = problem(
        send(Some("text/plain")).await.unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(
        body["detail"].as_str().unwrap().contains("Content-Type"),
        "{body}"
    );
    assert_eq!(send(None).await.unwrap().status(), StatusCode::OK);
    let (after, _, _) = export(&app, &s.access).await;
    assert_eq!(normalized(&after), normalized(&before));
    let seq_after = app
        .get_ok("/api/v1/sync/changes?since=0&limit=1000", &s.access)
        .await["next_since"]
        .clone();
    assert_eq!(seq_after, seq_before);
}

#[tokio::test]
async fn dry_run_counts_and_writes_nothing_and_replace_swaps_only_the_tables_present() {
    let app = spawn_app().await;
    let s = app.register("replace@example.com").await;
    seed(&app, &s).await;
    let (before, _, _) = export(&app, &s.access).await;
    let doc = json!({
        "format": "ayubi-backup", "version": 1,
        "sport": {"water": [{"date": "2026-11-05", "ml": 750}]},
        "habits": [{"name": "Stretch", "completions": ["2026-11-01", "2026-11-02"]}]
    });
    let dry = import_ok(&app, &s.access, "?mode=replace&dry_run=true", &doc).await;
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["created"]["water"], 1);
    assert_eq!(dry["deleted"]["water"], 3);
    assert_eq!(dry["deleted"]["habits"], 1);
    assert_eq!(dry["deleted"]["habit_completions"], 1);
    assert_eq!(dry["created"]["habit_completions"], 2);
    let (same, _, _) = export(&app, &s.access).await;
    assert_eq!(normalized(&same), normalized(&before));
    let real = import_ok(&app, &s.access, "?mode=replace", &doc).await;
    assert_eq!(real["created"], dry["created"]);
    assert_eq!(real["deleted"], dry["deleted"]);
    let (after, _, _) = export(&app, &s.access).await;
    let (a, b) = (normalized(&after), normalized(&before));
    assert_eq!(
        a["sport"]["water"],
        json!([{"date": "2026-11-05", "ml": 750}])
    );
    assert_eq!(a["habits"][0]["name"], "Stretch");
    assert_eq!(a["habits"].as_array().unwrap().len(), 1);
    // Everything the document does not hold is untouched.
    for keep in ["profile", "settings", "travel", "finance", "journal"] {
        assert_eq!(a[keep], b[keep], "{keep}");
    }
    assert_eq!(a["sport"]["food"], b["sport"]["food"]);
    assert_eq!(a["sport"]["goals"], b["sport"]["goals"]);
}

#[tokio::test]
async fn a_partial_document_from_the_web_app_merges_its_sections() {
    let app = spawn_app().await;
    let s = app.register("web@example.com").await;
    app.create(
        "/api/v1/travel/wishlist",
        &s.access,
        None,
        &json!({"country_iso3": "ITA"}),
    )
    .await;
    // What the web app's localStorage holds: sport and travel only.
    let doc = json!({
        "format": "ayubi-backup", "version": 1,
        "sport": {"water": [{"date": "2026-11-10", "ml": 250}], "workouts": [{"date": "2026-11-10", "name": "Swim", "duration_min": 45, "kcal_burned": 400}]},
        "travel": {"visited": [{"country_iso3": "ita"}], "wishlist": [{"country_iso3": "ISL"}, {"country_iso3": "ITA"}]}
    });
    let out = import_ok(&app, &s.access, "", &doc).await;
    assert_eq!(
        out["created"],
        json!({"water": 1, "workouts": 1, "visited": 1, "wishlist": 1})
    );
    // Visiting Italy took it off the wishlist; the document's Italy entry is skipped.
    assert_eq!(out["skipped"]["wishlist"], 1);
    assert_eq!(out["deleted"]["wishlist"], 1);
    let (doc, _, _) = export(&app, &s.access).await;
    let wl: Vec<&str> = doc["travel"]["wishlist"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["country_iso3"].as_str().unwrap())
        .collect();
    assert_eq!(wl, ["ISL"]);
    assert_eq!(doc["travel"]["visited"][0]["country_iso3"], "ITA");
    assert_eq!(doc["journal"], json!([]));
}

#[tokio::test]
async fn version_1_documents_keep_importing() {
    let app = spawn_app().await;
    let s = app.register("v1@example.com").await;
    let fixture =
        std::fs::read(crate::helpers::repo_root().join("crates/app/tests/fixtures/backup-v1.json"))
            .unwrap();
    let doc: Value = serde_json::from_slice(&fixture).unwrap();
    let out = import_ok(&app, &s.access, "", &doc).await;
    assert_eq!(out["created"]["journal"], 2);
    assert_eq!(out["created"]["finance_entries"], 2);
    assert_eq!(out["created"]["habit_completions"], 3);
    let (mine, _, _) = export(&app, &s.access).await;
    assert_eq!(normalized(&mine), normalized(&doc));
    // Stamps the document carries are kept: a restore does not rewrite history.
    assert_eq!(mine["journal"][0]["created_at"], "2026-11-24T00:00:00Z");
}

#[tokio::test]
async fn a_document_above_the_limit_gets_a_413_that_says_so() {
    let app = spawn_with(|s| s.backup.max_import_bytes = 4096).await;
    let s = app.register("big@example.com").await;
    let doc = json!({"format": "ayubi-backup", "version": 1, "journal": [{"content": "x".repeat(5000), "date": "2026-11-01"}]});
    let body = problem(
        import(&app, &s.access, "", &doc).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    assert!(
        body["detail"].as_str().unwrap().contains("import limit"),
        "{body}"
    );
    // Without a declared length (chunked), the limit still holds.
    let chunks = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(
        serde_json::to_vec(&doc).unwrap(),
    )]);
    let res = app
        .client
        .post(app.url("/api/v1/backup/import"))
        .bearer_auth(&s.access)
        .header("Content-Type", "application/json")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::PAYLOAD_TOO_LARGE).await;
    // The ordinary 1 MiB body limit does not apply to imports: 2 MiB under a 50 MiB limit.
    let app = spawn_app().await;
    let s = app.register("big2@example.com").await;
    let doc = json!({"format": "ayubi-backup", "version": 1, "journal": (0..21).map(|i| json!({"content": format!("{i}{}", "y".repeat(99_990)), "date": "2026-11-01"})).collect::<Vec<_>>()});
    let out = import_ok(&app, &s.access, "", &doc).await;
    assert_eq!(out["created"]["journal"], 21);
}

#[tokio::test]
async fn a_sqlite_export_imports_into_the_other_database() {
    // From a SQLite instance into this run's database (PostgreSQL when TEST_DATABASE_URL
    // is set; another SQLite otherwise).
    let lite = spawn_on_db(Arc::new(TestDb::sqlite())).await;
    let a = lite.register("lite@example.com").await;
    seed(&lite, &a).await;
    let (doc, _, _) = export(&lite, &a.access).await;
    let other = spawn_app().await;
    let b = other.register("pg@example.com").await;
    import_ok(&other, &b.access, "", &doc).await;
    let (back, _, _) = export(&other, &b.access).await;
    assert_eq!(normalized(&back), normalized(&doc));
    // And back the other way.
    let c = lite.register("back@example.com").await;
    import_ok(&lite, &c.access, "?mode=replace", &back).await;
    assert_eq!(
        normalized(&export(&lite, &c.access).await.0),
        normalized(&doc)
    );
}

#[tokio::test]
async fn stored_backups_history_download_and_delete() {
    let app = spawn_app().await;
    let s = app.register("hist@example.com").await;
    seed(&app, &s).await;
    let res = app
        .create("/api/v1/backup/history", &s.access, None, &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let first: Value = res.json().await.unwrap();
    assert_eq!(first["trigger"], "manual");
    // A retry with the same Idempotency-Key answers the first backup and makes none.
    let keyed: Value = app
        .create(
            "/api/v1/backup/history",
            &s.access,
            Some("bk-1"),
            &json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    let retry = app
        .create(
            "/api/v1/backup/history",
            &s.access,
            Some("bk-1"),
            &json!({}),
        )
        .await;
    assert_eq!(retry.status(), StatusCode::CREATED);
    assert_eq!(retry.json::<Value>().await.unwrap(), keyed);
    assert_eq!(forget(&app, &s, &keyed).await, StatusCode::NO_CONTENT);
    app.clock.advance(Duration::minutes(1));
    app.create("/api/v1/water", &s.access, None, &json!({"ml": 100}))
        .await;
    let second: Value = app
        .create("/api/v1/backup/history", &s.access, None, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    let list = app.get_ok("/api/v1/backup/history", &s.access).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["id"], second["id"]);
    assert_eq!(list[1]["id"], first["id"]);
    let res = download(&app, &s, &first).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["x-content-sha256"].to_str().unwrap(),
        first["sha256"]
    );
    let bytes = res.bytes().await.unwrap();
    assert_eq!(sha256_hex(&bytes), first["sha256"].as_str().unwrap());
    assert_eq!(bytes.len() as i64, first["size_bytes"].as_i64().unwrap());
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(doc["sport"]["water"].as_array().unwrap().len(), 3);
    // Another user sees none of it.
    let other = app.register("other@example.com").await;
    assert_eq!(
        download(&app, &other, &first).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get_ok("/api/v1/backup/history", &other.access).await,
        json!([])
    );
    assert_eq!(forget(&app, &other, &first).await, StatusCode::NOT_FOUND);
    // Deleting removes the record and the object.
    let objects = |dir: &std::path::Path| walk(dir).len();
    let store = app.db.files().join("backups");
    assert_eq!(objects(&store), 2);
    assert_eq!(forget(&app, &s, &first).await, StatusCode::NO_CONTENT);
    assert_eq!(
        download(&app, &s, &first).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(objects(&store), 1);
    // A stored backup restores.
    let fresh = app.register("restore@example.com").await;
    let doc2: Value = download(&app, &s, &second).await.json().await.unwrap();
    import_ok(&app, &fresh.access, "", &doc2).await;
    assert_eq!(
        normalized(&export(&app, &fresh.access).await.0),
        normalized(&doc2)
    );
    // Deleting the account deletes its stored backups from the directory.
    let res = app
        .delete_json(
            "/api/v1/auth/me",
            Some(&json!({"password": crate::helpers::PASSWORD})),
            &s.access,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(objects(&store), 0);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[tokio::test]
async fn schedule_is_validated_and_reported() {
    let app = spawn_app().await;
    let s = app.register("sched@example.com").await;
    assert_eq!(
        app.get_ok("/api/v1/backup/schedule", &s.access).await,
        json!({"interval": "off", "keep": 7, "next_run_at": null})
    );
    let body = problem(
        app.create(
            "/api/v1/backup/schedule",
            &s.access,
            None,
            &json!({"interval": "hourly"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(body["errors"].as_object().unwrap().contains_key("interval"));
    let body = problem(
        app.create(
            "/api/v1/backup/schedule",
            &s.access,
            None,
            &json!({"interval": "daily", "keep": 101}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(body["errors"].as_object().unwrap().contains_key("keep"));
    let set: Value = app
        .create(
            "/api/v1/backup/schedule",
            &s.access,
            None,
            &json!({"interval": "weekly", "keep": 3}),
        )
        .await
        .json()
        .await
        .unwrap();
    let due: chrono::DateTime<Utc> = set["next_run_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(due, (app.clock.now() + Duration::days(7)).trunc_subsecs(6));
    assert_eq!(set["keep"], 3);
    assert_eq!(app.get_ok("/api/v1/backup/schedule", &s.access).await, set);
}

/// Access tokens that outlive the days these tests move the clock by.
fn long_tokens(s: &mut ayubi_app::config::Settings) {
    s.auth.access_token_ttl_secs = 30 * 24 * 3600;
}

async fn metric(app: &TestApp, name: &str) -> f64 {
    let text = app.get("/metrics", None).await.text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
        .unwrap_or(0.0)
}

/// Waits (by polling, bounded) until this instance's scheduler has made `n` more passes.
async fn passes(app: &TestApp, n: f64) {
    let start = metric(app, "ayubi_backup_scheduler_passes_total").await;
    for _ in 0..200 {
        if metric(app, "ayubi_backup_scheduler_passes_total").await >= start + n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the scheduler made no progress");
}

async fn scheduled(app: &TestApp, s: &Session) -> Vec<Value> {
    app.get_ok("/api/v1/backup/history", &s.access)
        .await
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["trigger"] == "scheduled")
        .cloned()
        .collect()
}

#[tokio::test]
async fn scheduled_backups_run_when_due_and_keep_n() {
    let app = spawn_with(long_tokens).await;
    let s = app.register("due@example.com").await;
    seed(&app, &s).await;
    app.create(
        "/api/v1/backup/schedule",
        &s.access,
        None,
        &json!({"interval": "daily", "keep": 2}),
    )
    .await;
    passes(&app, 2.0).await;
    assert!(scheduled(&app, &s).await.is_empty(), "not due yet");
    for day in 1..=3 {
        app.clock.advance(Duration::days(1));
        passes(&app, 2.0).await;
        let made = scheduled(&app, &s).await;
        assert_eq!(made.len(), day.min(2), "day {day}");
        let next: chrono::DateTime<Utc> =
            app.get_ok("/api/v1/backup/schedule", &s.access).await["next_run_at"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
        assert!(next > app.clock.now());
    }
    // Pruned objects are gone from the store too.
    assert_eq!(walk(&app.db.files().join("backups")).len(), 2);
    assert_eq!(metric(&app, "ayubi_backup_runs_total").await, 3.0);
}

#[tokio::test]
async fn a_run_missed_while_down_runs_once_at_start_on_one_instance() {
    let first = spawn_with(long_tokens).await;
    let s = first.register("missed@example.com").await;
    first
        .create(
            "/api/v1/backup/schedule",
            &s.access,
            None,
            &json!({"interval": "daily", "keep": 10}),
        )
        .await;
    let db = first.db.clone();
    drop(first);
    // Three days later two instances start on the same database.
    let later = Utc::now() + Duration::days(3) + Duration::hours(1);
    let a = spawn_at(db.clone(), later, long_tokens).await;
    let b = spawn_at(db, later, long_tokens).await;
    passes(&a, 3.0).await;
    passes(&b, 3.0).await;
    let made = scheduled(&a, &s).await;
    assert_eq!(made.len(), 1, "{made:?}");
    let next: chrono::DateTime<Utc> =
        a.get_ok("/api/v1/backup/schedule", &s.access).await["next_run_at"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
    assert!(next > later && next <= later + Duration::days(1), "{next}");
    let runs =
        metric(&a, "ayubi_backup_runs_total").await + metric(&b, "ayubi_backup_runs_total").await;
    assert_eq!(runs, 1.0);
}

#[tokio::test]
async fn exactly_one_concurrent_claim_takes_the_lease() {
    let app = spawn_app().await;
    let s = app.register("lease@example.com").await;
    app.create(
        "/api/v1/backup/schedule",
        &s.access,
        None,
        &json!({"interval": "daily"}),
    )
    .await;
    let store = Arc::new(ayubi_db::SqlBackupStore::new(pool(&app).await));
    let user = UserId::new(s.id);
    let now = Utc::now() + Duration::days(2);
    let claims = (0..8).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .claim(
                    user,
                    &format!("instance-{i}"),
                    now,
                    now + Duration::minutes(15),
                )
                .await
                .unwrap()
        })
    });
    let won = futures_util::future::join_all(claims)
        .await
        .into_iter()
        .filter(|r| r.as_ref().unwrap().is_some())
        .count();
    assert_eq!(won, 1);
    // A live lease keeps others out; an expired one lets the next instance take over.
    assert!(
        store
            .claim(user, "late", now, now + Duration::minutes(15))
            .await
            .unwrap()
            .is_none()
    );
    let after = now + Duration::minutes(16);
    assert!(
        store
            .claim(user, "late", after, after + Duration::minutes(15))
            .await
            .unwrap()
            .is_some()
    );
    assert!(store.due(after, 10).await.unwrap().is_empty());
}

/// Generated documents survive import → export unchanged (apart from ids and stamps).
#[tokio::test]
async fn generated_documents_round_trip() {
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::TestRunner;
    let app = spawn_with(|s| s.auth.register_per_hour = 1000).await;
    let mut runner = TestRunner::deterministic();
    let strategy = crate::backup_gen::document();
    for case in 0..16 {
        let doc = strategy.new_tree(&mut runner).unwrap().current();
        let s = app.register(&format!("gen{case}@example.com")).await;
        let res = import(&app, &s.access, "", &doc).await;
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "case {case}: {}\n{doc:#}",
            res.text().await.unwrap()
        );
        let (mine, _, _) = export(&app, &s.access).await;
        assert_eq!(normalized(&mine), normalized(&doc), "case {case}");
        // Into a second fresh user from the export, and merge twice adds nothing.
        let t = app.register(&format!("gen{case}b@example.com")).await;
        import_ok(&app, &t.access, "", &mine).await;
        let again = import_ok(&app, &t.access, "", &mine).await;
        assert!(all_zero(&again["created"]), "case {case}: {again}");
        assert_eq!(
            normalized(&export(&app, &t.access).await.0),
            normalized(&doc)
        );
    }
}

/// The in-process fake S3 (path-style PUT, multipart upload, GET, DELETE).
#[tokio::test]
async fn stored_backups_go_to_an_s3_bucket() {
    let s3 = crate::fake_s3::FakeS3::start().await;
    let app = spawn_with(|st| {
        st.backup.s3_bucket = "ayubi".into();
        st.backup.s3_endpoint = s3.url.clone();
        st.backup.s3_region = "auto".into();
        st.backup.s3_access_key_id = "key".to_owned().into();
        st.backup.s3_secret_access_key = "secret".to_owned().into();
    })
    .await;
    let s = app.register("s3@example.com").await;
    seed(&app, &s).await;
    let small: Value = app
        .create("/api/v1/backup/history", &s.access, None, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(s3.objects().len(), 1);
    // Over one part (8 MiB): a multipart upload.
    let big = json!({"format": "ayubi-backup", "version": 1, "journal": (0..90).map(|i| json!({"content": format!("{i}{}", "z".repeat(99_990)), "date": "2026-11-01"})).collect::<Vec<_>>()});
    import_ok(&app, &s.access, "", &big).await;
    let large: Value = app
        .create("/api/v1/backup/history", &s.access, None, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert!(large["size_bytes"].as_i64().unwrap() > 9_000_000);
    assert!(s3.multipart_completed() >= 1);
    for b in [&small, &large] {
        let bytes = download(&app, &s, b).await.bytes().await.unwrap();
        assert_eq!(sha256_hex(&bytes), b["sha256"].as_str().unwrap());
    }
    assert_eq!(forget(&app, &s, &small).await, StatusCode::NO_CONTENT);
    assert_eq!(s3.objects().len(), 1);
    // Deleting the account deletes its stored backups from the bucket, and only its.
    let keep = app.register("keeps@example.com").await;
    app.create("/api/v1/backup/history", &keep.access, None, &json!({}))
        .await;
    assert_eq!(s3.objects().len(), 2);
    let res = app
        .delete_json(
            "/api/v1/auth/me",
            Some(&json!({"password": crate::helpers::PASSWORD})),
            &s.access,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let left = s3.objects();
    assert_eq!(left.len(), 1);
    assert!(
        left[0].contains(&format!("/backups/{}/", keep.id)),
        "{left:?}"
    );
}

#[tokio::test]
async fn instances_beside_each_other_share_stored_backups() {
    let a = spawn_app().await;
    let b = spawn_beside(&a, |_| {}).await;
    let s = a.register("beside@example.com").await;
    let made: Value = a
        .create("/api/v1/backup/history", &s.access, None, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    let res = download(&b, &s, &made).await;
    assert_eq!(res.status(), StatusCode::OK);
    let bytes = res.bytes().await.unwrap();
    assert_eq!(sha256_hex(&bytes), made["sha256"].as_str().unwrap());
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(doc["profile"]["email"], "beside@example.com");
}

#[tokio::test]
async fn a_merge_never_leaves_more_settings_than_allowed() {
    let app = spawn_app().await;
    let s = app.register("keys@example.com").await;
    let mine: serde_json::Map<String, Value> =
        (0..150).map(|i| (format!("mine.k{i}"), json!(i))).collect();
    let res = app
        .put_json("/api/v1/settings", &s.access, &Value::Object(mine))
        .await;
    assert!(res.status().is_success());
    let theirs: serde_json::Map<String, Value> = (0..60)
        .map(|i| (format!("theirs.k{i}"), json!(i)))
        .collect();
    let doc = json!({"format": "ayubi-backup", "version": 1, "settings": theirs,
                     "sport": {"water": [{"date": "2026-11-01", "ml": 200}]}});
    let body = problem(
        import(&app, &s.access, "", &doc).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        body["errors"]["settings"][0]
            .as_str()
            .unwrap()
            .contains("210 settings"),
        "{body}"
    );
    // All or nothing: the water of the same document was not written either.
    let (after, _, _) = export(&app, &s.access).await;
    assert_eq!(after["sport"]["water"], json!([]));
    assert_eq!(after["settings"].as_object().unwrap().len(), 150);
    // Replacing instead leaves 60: allowed.
    let out = import_ok(&app, &s.access, "?mode=replace", &doc).await;
    assert_eq!(out["deleted"]["settings"], 150);
    assert_eq!(out["created"]["settings"], 60);
}

#[tokio::test]
async fn an_import_retried_with_its_idempotency_key_replays_the_first_answer() {
    let app = spawn_app().await;
    let s = app.register("idem@example.com").await;
    let doc = json!({"format": "ayubi-backup", "version": 1,
                     "sport": {"water": [{"date": "2026-11-01", "ml": 200}]}});
    let send = |query: &'static str| {
        app.client
            .post(app.url(&format!("/api/v1/backup/import{query}")))
            .bearer_auth(&s.access)
            .header("Idempotency-Key", "restore-1")
            .json(&doc)
            .send()
    };
    let first = send("").await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["created"]["water"], 1);
    let again = send("").await.unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    // The same key for another way of applying it is another request.
    problem(
        send("?mode=replace").await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let changes = app.get_ok("/api/v1/sync/changes?since=0", &s.access).await;
    let imports = changes["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["event"] == "backup:imported")
        .count();
    assert_eq!(imports, 1);
}

/// A scheduled run whose upload fails is counted, logged and not retried every minute;
/// the next due run makes the backup once the store takes writes again.
#[tokio::test]
async fn a_failed_scheduled_run_is_counted_and_the_next_one_runs() {
    let s3 = crate::fake_s3::FakeS3::start().await;
    let app = spawn_with(|st| {
        long_tokens(st);
        st.backup.s3_bucket = "ayubi".into();
        st.backup.s3_endpoint = s3.url.clone();
        st.backup.s3_access_key_id = "key".to_owned().into();
        st.backup.s3_secret_access_key = "secret".to_owned().into();
    })
    .await;
    let s = app.register("fails@example.com").await;
    app.create(
        "/api/v1/backup/schedule",
        &s.access,
        None,
        &json!({"interval": "daily"}),
    )
    .await;
    s3.refuse_writes(true);
    app.clock.advance(Duration::days(1) + Duration::minutes(1));
    for _ in 0..200 {
        if metric(&app, "ayubi_backup_failures_total").await >= 1.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(metric(&app, "ayubi_backup_failures_total").await, 1.0);
    passes(&app, 2.0).await;
    assert_eq!(metric(&app, "ayubi_backup_failures_total").await, 1.0);
    assert!(scheduled(&app, &s).await.is_empty());
    assert!(s3.objects().is_empty());
    let next: chrono::DateTime<Utc> =
        app.get_ok("/api/v1/backup/schedule", &s.access).await["next_run_at"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
    assert!(next > app.clock.now());
    s3.refuse_writes(false);
    app.clock.advance(Duration::days(1));
    passes(&app, 2.0).await;
    assert_eq!(scheduled(&app, &s).await.len(), 1);
    assert_eq!(s3.objects().len(), 1);
}
