//! Fuzzing (#11): generated hostile input on the backup import and on every JSON body the
//! OpenAPI document describes. On every case: no 5xx (a panicking handler answers 500),
//! every refusal a problem+json that says what is wrong, and no partial write — a refused
//! request leaves the user's whole export as it was. proptest generates and shrinks, so a
//! failure reports the smallest input it found. CI runs a fixed seed; `just fuzz` runs
//! more cases on a random one (`PROPTEST_CASES`, `PROPTEST_RNG_SEED`).

use crate::backup::import;
use crate::backup_gen;
use crate::helpers::*;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use reqwest::{Method, Response};
use serde_json::{Map, Value, json};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

/// Cases per property: `PROPTEST_CASES`, else `default`.
fn runner(default: u32) -> TestRunner {
    fn env<T: std::str::FromStr>(name: &str) -> Option<T> {
        std::env::var(name).ok().and_then(|v| v.parse().ok())
    }
    TestRunner::new(Config {
        cases: env("PROPTEST_CASES").unwrap_or(default),
        rng_seed: RngSeed::Fixed(env("PROPTEST_RNG_SEED").unwrap_or(0x00A7_0B11)),
        failure_persistence: None,
        max_shrink_iters: 256,
        ..Config::default()
    })
}

/// Runs the blocking proptest runner on this (multi-threaded) runtime's worker, each case
/// an async block on the same runtime as the server.
fn run_cases<S: Strategy>(
    runner: &mut TestRunner,
    strategy: &S,
    case: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S::Value: std::fmt::Debug,
{
    tokio::task::block_in_place(|| {
        if let Err(e) = runner.run(strategy, case) {
            panic!("{e}");
        }
    });
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Handle::current().block_on(f)
}

/// Values that break assumptions: every JSON type, the edges of integers and floats,
/// strings that look like dates, countries, enums, paths, markup and SQL, control and
/// bidi characters, long strings, and a little nesting of all of these.
fn hostile() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        select(vec![
            i64::MIN,
            i64::MAX,
            -1,
            0,
            1,
            i64::from(i32::MAX) + 1,
            9_007_199_254_740_993
        ])
        .prop_map(Value::from),
        select(vec![1e308, -1e308, 0.5, -0.0, 1e-9, 0.001, 123.456_789]).prop_map(|f| json!(f)),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(Value::Number)),
        select(vec![
            "",
            " ",
            "\u{0}",
            "\u{202e}abc",
            "\t\n",
            "2026-02-30",
            "2026-13-01",
            "0000-01-01",
            "9999-12-31",
            "+275760-09-13",
            "2026-01-05T10:00:00Z",
            "JPN",
            "jpn",
            "XXX",
            "daily",
            "weekdays",
            "income",
            "expense",
            "NaN",
            "1e400",
            "-0",
            "' OR 1=1 --",
            "<script>alert(1)</script>",
            "../../etc/passwd",
            "Europe/Berlin",
            "Mars/Olympus",
            "76561197960287930",
            "😀",
        ])
        .prop_map(Value::from),
        ".{0,24}".prop_map(Value::from),
        (1usize..=3).prop_map(|k| Value::from("x".repeat(k * 10_000))),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map("[a-z_]{1,10}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// One change to a valid document.
#[derive(Debug, Clone)]
enum Mutation {
    /// The k-th node (pre-order) becomes a hostile value.
    Replace(Index, Value),
    /// The k-th object loses one of its keys.
    Remove(Index, Index),
    /// The k-th object gains a key.
    Add(Index, String, Value),
    /// One element of the k-th array is appended again (duplicate rows).
    Duplicate(Index, Index),
    /// The k-th node becomes a copy of the j-th: realistic values in the wrong place.
    Transplant(Index, Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<Index>(), hostile()).prop_map(|(k, v)| Mutation::Replace(k, v)),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(k, i)| Mutation::Remove(k, i)),
        1 => (any::<Index>(), "[a-z_]{1,12}", hostile())
            .prop_map(|(k, name, v)| Mutation::Add(k, name, v)),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(k, i)| Mutation::Duplicate(k, i)),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(k, j)| Mutation::Transplant(k, j)),
    ]
}

/// JSON pointers of every node under `v` (itself first) that `keep` accepts.
fn pointers(v: &Value, at: String, keep: &impl Fn(&Value) -> bool, out: &mut Vec<String>) {
    if keep(v) {
        out.push(at.clone());
    }
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let k = k.replace('~', "~0").replace('/', "~1");
                pointers(child, format!("{at}/{k}"), keep, out);
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                pointers(child, format!("{at}/{i}"), keep, out);
            }
        }
        _ => {}
    }
}

fn pick(doc: &Value, k: &Index, keep: impl Fn(&Value) -> bool) -> Option<String> {
    let mut all = Vec::new();
    pointers(doc, String::new(), &keep, &mut all);
    (!all.is_empty()).then(|| all[k.index(all.len())].clone())
}

fn apply(doc: &mut Value, m: &Mutation) {
    match m {
        Mutation::Replace(k, v) => {
            // Not the root: the whole document replaced is `every_json_body`'s case.
            if let Some(p) = pick(doc, k, |_| true).filter(|p| !p.is_empty()) {
                *doc.pointer_mut(&p).unwrap() = v.clone();
            }
        }
        Mutation::Remove(k, i) => {
            if let Some(p) = pick(doc, k, |v| v.as_object().is_some_and(|m| !m.is_empty())) {
                let m = doc.pointer_mut(&p).unwrap().as_object_mut().unwrap();
                let key = m.keys().nth(i.index(m.len())).unwrap().clone();
                m.remove(&key);
            }
        }
        Mutation::Add(k, name, v) => {
            if let Some(p) = pick(doc, k, Value::is_object) {
                doc.pointer_mut(&p).unwrap()[name.as_str()] = v.clone();
            }
        }
        Mutation::Duplicate(k, i) => {
            if let Some(p) = pick(doc, k, |v| v.as_array().is_some_and(|a| !a.is_empty())) {
                let a = doc.pointer_mut(&p).unwrap().as_array_mut().unwrap();
                let copy = a[i.index(a.len())].clone();
                a.push(copy);
            }
        }
        Mutation::Transplant(k, j) => {
            let (Some(to), Some(from)) = (pick(doc, k, |_| true), pick(doc, j, |_| true)) else {
                return;
            };
            if !to.is_empty() && !from.starts_with(&to) {
                let v = doc.pointer(&from).unwrap().clone();
                *doc.pointer_mut(&to).unwrap() = v;
            }
        }
    }
}

/// The user's data as the export has it, less the moment of the export.
async fn snapshot(app: &TestApp, bearer: &str) -> Value {
    let mut v = app.get_ok("/api/v1/backup/export", bearer).await;
    v.as_object_mut().unwrap().remove("exported_at");
    v
}

/// A refusal: below 500, problem+json, a detail saying what is wrong.
async fn refusal(res: Response, what: &str) -> Result<(), TestCaseError> {
    let status = res.status();
    prop_assert!(status.as_u16() < 500, "{what}: {status}");
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body: Value = res.json().await.unwrap_or_default();
    prop_assert_eq!(ct, "application/problem+json", "{}: {}", what, body);
    prop_assert_eq!(&body["status"], &json!(status.as_u16()), "{}", what);
    prop_assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{what}: {body}"
    );
    if status == reqwest::StatusCode::UNPROCESSABLE_ENTITY {
        prop_assert!(
            body["errors"].as_object().is_some_and(|e| !e.is_empty()),
            "{what}: a 422 names the field: {body}"
        );
    }
    Ok(())
}

/// The backup import under valid generated documents with up to four hostile changes each,
/// in every mode: a document is either imported (and then exports into one that imports
/// again) or refused with nothing written — a refused `replace` empties no table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_backup_documents_import_whole_or_change_nothing() {
    let app = spawn_with(|s| s.auth.register_per_hour = 1000).await;
    let a = app.register("fuzz@example.com").await;
    let b = app.register("fuzz-b@example.com").await;
    let modes = select(vec![
        "",
        "?mode=merge",
        "?mode=replace",
        "?dry_run=true",
        "?mode=replace&dry_run=true",
    ]);
    let strategy = (
        backup_gen::document(),
        proptest::collection::vec(mutation(), 0..=4),
        modes,
    );
    let (imported, refused) = (Cell::new(0u32), Cell::new(0u32));
    run_cases(&mut runner(96), &strategy, |(doc, mutations, mode)| {
        let mut doc = doc;
        for m in &mutations {
            apply(&mut doc, m);
        }
        block_on(async {
            let before = snapshot(&app, &a.access).await;
            let res = import(&app, &a.access, mode, &doc).await;
            let status = res.status();
            if status.is_success() {
                imported.set(imported.get() + 1);
                let report: Value = res.json().await.unwrap();
                prop_assert!(report["created"].is_object(), "{report}");
                if mode.contains("dry_run") {
                    prop_assert_eq!(snapshot(&app, &a.access).await, before, "a dry run wrote");
                } else {
                    // What was accepted is stored in a form the export can carry back.
                    let mine = app.get_ok("/api/v1/backup/export", &a.access).await;
                    let back = import(&app, &b.access, "?mode=replace", &mine).await;
                    let status = back.status();
                    prop_assert!(
                        status.is_success(),
                        "the export of an accepted import does not import: {status} {}",
                        back.text().await.unwrap_or_default()
                    );
                }
            } else {
                refused.set(refused.get() + 1);
                refusal(res, &format!("import{mode}")).await?;
                prop_assert_eq!(
                    snapshot(&app, &a.access).await,
                    before,
                    "a refused import changed data"
                );
            }
            Ok(())
        })
    });
    // Both sides of the property were exercised.
    let (imported, refused) = (imported.get(), refused.get());
    eprintln!("{imported} imported, {refused} refused");
    assert!(
        imported >= 8 && refused >= 8,
        "{imported} imported, {refused} refused"
    );
}

/// Resolves `$ref`s (to `#/components/schemas/...`) and merges `allOf` parts into one
/// object schema.
fn resolve(spec: &Value, schema: &Value) -> Value {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.trim_start_matches("#/components/schemas/");
        return resolve(spec, &spec["components"]["schemas"][name]);
    }
    if let Some(parts) = schema["allOf"].as_array() {
        let mut props = Map::new();
        for p in parts {
            if let Some(m) = resolve(spec, p)["properties"].as_object() {
                props.extend(m.clone());
            }
        }
        return json!({"type": "object", "properties": props});
    }
    schema.clone()
}

/// A value the field's schema would accept often enough that bodies get past the first
/// check and into the deeper ones.
fn plausible(spec: &Value, schema: &Value) -> BoxedStrategy<Value> {
    let schema = resolve(spec, schema);
    if let Some(values) = schema["enum"].as_array().filter(|v| !v.is_empty()) {
        return select(values.clone()).boxed();
    }
    if let Some(any) = schema["oneOf"].as_array().or(schema["anyOf"].as_array()) {
        let parts: Vec<BoxedStrategy<Value>> = any.iter().map(|s| plausible(spec, s)).collect();
        return select(parts).prop_flat_map(|s| s).boxed();
    }
    let kind = match &schema["type"] {
        Value::Array(kinds) => kinds
            .iter()
            .filter_map(Value::as_str)
            .find(|k| *k != "null")
            .unwrap_or("null")
            .to_owned(),
        Value::String(k) => k.clone(),
        _ => String::new(),
    };
    let lo = schema["minimum"].as_i64().unwrap_or(-5);
    let hi = schema["maximum"].as_i64().unwrap_or(100_000).max(lo);
    match kind.as_str() {
        "integer" => (lo..=hi).prop_map(Value::from).boxed(),
        "number" => (lo..=hi).prop_map(|n| json!(n as f64 / 4.0)).boxed(),
        "boolean" => any::<bool>().prop_map(Value::from).boxed(),
        "string" if schema["format"] == "date" => (2020i32..=2027, 1u32..=12, 1u32..=28)
            .prop_map(|(y, m, d)| json!(format!("{y}-{m:02}-{d:02}")))
            .boxed(),
        "string" => "[a-zA-Z][a-zA-Z ]{0,11}".prop_map(Value::from).boxed(),
        "array" => {
            let items = plausible(spec, &schema["items"]);
            proptest::collection::vec(items, 0..4)
                .prop_map(Value::from)
                .boxed()
        }
        "object" => body(spec, &schema, 1),
        _ => hostile().boxed(),
    }
}

/// A body for `schema`: any JSON at all now and then; mostly an object of the schema's
/// own fields, some left out, each plausible or hostile, now and then with a stranger.
fn body(spec: &Value, schema: &Value, depth: u32) -> BoxedStrategy<Value> {
    let schema = resolve(spec, schema);
    let Some(props) = schema["properties"].as_object().filter(|p| !p.is_empty()) else {
        return hostile().boxed();
    };
    let fields: Vec<BoxedStrategy<Option<(String, Value)>>> = props
        .iter()
        .map(|(name, field)| {
            let value = if depth > 2 {
                hostile().boxed()
            } else {
                prop_oneof![3 => plausible(spec, field), 2 => hostile()].boxed()
            };
            let name = name.clone();
            proptest::option::weighted(0.75, value.prop_map(move |v| (name.clone(), v))).boxed()
        })
        .collect();
    let object = (
        fields,
        proptest::option::weighted(0.1, ("[a-z_]{1,12}", hostile())),
    )
        .prop_map(|(fields, stranger)| {
            let mut m: BTreeMap<String, Value> = fields.into_iter().flatten().collect();
            if let Some((k, v)) = stranger {
                m.insert(k, v);
            }
            Value::Object(m.into_iter().collect())
        });
    prop_oneof![1 => hostile(), 6 => object].boxed()
}

/// Every operation with a JSON body, under generated bodies, as a user with one of every
/// resource (path ids are theirs): no 5xx; a refusal is problem+json naming what is
/// wrong and leaves every piece of the user's data as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_json_body_survives_hostile_values() {
    let app = spawn_with(|s| {
        s.auth.register_per_hour = 100_000;
    })
    .await;
    let a = app.register("fuzz@example.com").await;
    let owned = Owned::one_of_each(&app, &a).await;
    let spec: Value = app.get("/openapi.json", None).await.json().await.unwrap();
    let mut operations = Vec::new();
    for (template, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(schema) = op["requestBody"]["content"]["application/json"].get("schema")
            else {
                continue;
            };
            operations.push((
                method.to_uppercase().parse::<Method>().unwrap(),
                template.clone(),
                body(&spec, schema, 0),
            ));
        }
    }
    assert!(
        operations.len() >= 25,
        "{} operations take JSON",
        operations.len()
    );
    let tally: RefCell<BTreeMap<u16, u32>> = RefCell::default();
    for (method, template, strategy) in &operations {
        let path = owned.path(template);
        run_cases(&mut runner(16), strategy, |body| {
            block_on(async {
                let before = snapshot(&app, &a.access).await;
                let res = app
                    .client
                    .request(method.clone(), app.url(&path))
                    .bearer_auth(&a.access)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                let status = res.status();
                *tally.borrow_mut().entry(status.as_u16()).or_default() += 1;
                if !status.is_success() {
                    refusal(res, &format!("{method} {template}")).await?;
                    prop_assert_eq!(
                        snapshot(&app, &a.access).await,
                        before,
                        "a refused {} {} changed data",
                        method,
                        template
                    );
                }
                Ok(())
            })
        });
    }
    let tally = tally.into_inner();
    eprintln!("{} operations, statuses {tally:?}", operations.len());
    // Both refusals and acceptances were exercised.
    assert!(
        tally.keys().any(|s| *s < 300) && tally.contains_key(&422),
        "{tally:?}"
    );
}

/// API4 on the import: arrays as long as the byte limit allows. 120,000 bad rows are
/// refused with a report of at most 100 errors (the answer stays small); 120,000 good
/// rows and one bad one at the very end write none of them; 40,000 good rows import
/// whole.
#[tokio::test]
async fn huge_arrays_in_an_import_are_refused_whole_or_imported_whole() {
    let app = spawn_app().await;
    let a = app.register("huge@example.com").await;
    let rows = |n: usize, ml: i64| -> Vec<Value> {
        (0..n)
            .map(|i| json!({"date": format!("2026-{:02}-{:02}", 1 + i % 12, 1 + i % 28), "ml": ml}))
            .collect()
    };
    let doc = |water: Vec<Value>| json!({"format": "ayubi-backup", "version": 1, "sport": {"water": water}});
    let replace = async |doc: Value| import(&app, &a.access, "?mode=replace", &doc).await;
    let all_bad = doc(rows(120_000, -1));
    assert!(serde_json::to_vec(&all_bad).unwrap().len() < 50 << 20);
    let p = problem(
        replace(all_bad).await,
        reqwest::StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let errors = p["errors"].as_object().unwrap();
    assert_eq!(errors.len(), 100, "the report is bounded: {}", errors.len());
    assert!(errors.contains_key("sport.water[0].ml"), "{p}");

    let mut last_bad = rows(120_000, 250);
    last_bad[119_999]["ml"] = json!(-1);
    let p = problem(
        replace(doc(last_bad)).await,
        reqwest::StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(p["errors"].get("sport.water[119999].ml").is_some(), "{p}");
    assert_eq!(app.count("sport_water", a.id).await, 0, "nothing written");

    let res = replace(doc(rows(40_000, 250))).await;
    assert_eq!(res.status(), reqwest::StatusCode::OK);
    let report: Value = res.json().await.unwrap();
    assert_eq!(report["created"]["water"], 40_000, "{report}");
    assert_eq!(app.count("sport_water", a.id).await, 40_000);
}
