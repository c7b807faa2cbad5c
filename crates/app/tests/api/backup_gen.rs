//! Generated backup documents, written the way an export writes them (every section,
//! every field, canonical values), for the round-trip property test.

use proptest::collection::{btree_set, vec};
use proptest::option;
use proptest::prelude::*;
use serde_json::{Value, json};

const COUNTRIES: [&str; 10] = [
    "JPN", "PRT", "ITA", "ISL", "FRA", "DEU", "BRA", "KEN", "AUS", "CAN",
];
const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn date() -> impl Strategy<Value = String> {
    (1u32..=12, 1u32..=28).prop_map(|(m, d)| format!("2026-{m:02}-{d:02}"))
}

fn word(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[a-z]{{1,{max}}}")).unwrap()
}

fn schedule() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!({"kind": "daily"})),
        btree_set(0usize..7, 1..4).prop_map(|d| {
            json!({"kind": "weekdays", "days": d.into_iter().map(|i| DAYS[i]).collect::<Vec<_>>()})
        }),
        (1i64..=7).prop_map(|t| json!({"kind": "times_per_week", "times": t})),
    ]
}

fn sport() -> impl Strategy<Value = Value> {
    let goals = option::of((250i64..=20_000, 500i64..=10_000)).prop_map(|g| {
        g.map_or(
            Value::Null,
            |(w, k)| json!({"water_ml_per_day": w, "kcal_per_day": k}),
        )
    });
    let water = vec(
        (date(), 1i64..=10_000).prop_map(|(d, ml)| json!({"date": d, "ml": ml})),
        0..8,
    );
    let grams = || option::of(0i32..=20_000).prop_map(|t| t.map(|t| f64::from(t) / 10.0));
    let food = vec(
        (date(), word(10), 0i64..=20_000, grams(), grams(), grams()).prop_map(|(d, n, k, p, c, f)| {
            json!({"date": d, "name": n, "kcal": k, "protein": p, "carbs": c, "fat": f})
        }),
        0..5,
    );
    let workouts = vec(
        (date(), word(10), 1i64..=1440, 0i64..=20_000).prop_map(
            |(d, n, m, k)| json!({"date": d, "name": n, "duration_min": m, "kcal_burned": k}),
        ),
        0..5,
    );
    (goals, water, food, workouts)
        .prop_map(|(g, w, f, o)| json!({"goals": g, "water": w, "food": f, "workouts": o}))
}

fn travel() -> impl Strategy<Value = Value> {
    vec(
        (0u8..3, option::of(date()), option::of(word(12))),
        COUNTRIES.len(),
    )
    .prop_map(|picks| {
        let mut visited = Vec::new();
        let mut wishlist = Vec::new();
        for (i, (pick, when, notes)) in picks.into_iter().enumerate() {
            match pick {
                1 => visited.push(
                    json!({"country_iso3": COUNTRIES[i], "visit_date": when, "notes": notes}),
                ),
                2 => wishlist.push(json!({"country_iso3": COUNTRIES[i]})),
                _ => {}
            }
        }
        json!({"visited": visited, "wishlist": wishlist})
    })
}

fn habits() -> impl Strategy<Value = Value> {
    vec(
        (
            word(12),
            option::of(word(20)),
            schedule(),
            any::<bool>(),
            btree_set(date(), 0..6),
            btree_set(date(), 0..3),
        )
            .prop_map(|(n, d, s, a, done, skips)| {
                json!({"name": n, "description": d, "schedule": s, "archived": a,
                       "completions": done, "skips": skips})
            }),
        0..4,
    )
    .prop_map(Value::from)
}

fn finance() -> impl Strategy<Value = Value> {
    let cats = btree_set((any::<bool>(), word(8)), 0..4);
    cats.prop_flat_map(|cats| {
        let cats: Vec<(bool, String)> = cats.into_iter().collect();
        let n = cats.len();
        let entries = vec(
            (
                any::<bool>(),
                1i64..=10_000_000,
                prop_oneof![Just("EUR"), Just("USD"), Just("JPY")],
                option::of(0..n.max(1)),
                date(),
                option::of(word(12)),
            ),
            0..6,
        );
        (Just(cats), entries)
    })
    .prop_map(|(cats, entries)| {
        let kind = |income: bool| if income { "income" } else { "expense" };
        let categories: Vec<Value> = cats
            .iter()
            .enumerate()
            .map(|(i, (inc, name))| json!({"id": i + 1, "name": name, "kind": kind(*inc)}))
            .collect();
        let entries: Vec<Value> = entries
            .into_iter()
            .map(|(inc, cents, cur, cat, d, note)| {
                // Only a category of the entry's own kind may be named.
                let cat = cat
                    .filter(|&c| c < cats.len() && cats[c].0 == inc)
                    .map(|c| c + 1);
                json!({"kind": kind(inc), "amount": cents as f64 / 100.0, "currency": cur,
                       "category_id": cat, "date": d, "note": note})
            })
            .collect();
        json!({"categories": categories, "entries": entries})
    })
}

fn journal() -> impl Strategy<Value = Value> {
    vec(
        (
            option::of(word(10)),
            word(40),
            date(),
            option::of(1i64..=5),
            btree_set(word(6), 0..4),
        )
            .prop_map(|(t, c, d, m, tags)| {
                json!({"title": t, "content": c, "date": d, "mood": m, "tags": tags})
            }),
        0..5,
    )
    .prop_map(Value::from)
}

fn profile() -> impl Strategy<Value = Value> {
    (
        option::of(word(12)),
        prop_oneof![Just("Europe/Berlin"), Just("Pacific/Kiritimati"), Just("America/Sao_Paulo")],
        option::of(Just("76561197960287930")),
        option::of(proptest::string::string_regex("[a-z0-9_-]{2,12}").unwrap()),
    )
        .prop_map(|(n, tz, steam, faceit)| {
            json!({"display_name": n, "timezone": tz, "steam_id": steam, "faceit_nickname": faceit})
        })
}

fn settings() -> impl Strategy<Value = Value> {
    (
        option::of(prop_oneof![Just("USD"), Just("GBP")]),
        option::of(word(8)),
        option::of(0i64..1000),
    )
        .prop_map(|(cur, accent, n)| {
            let mut m = serde_json::Map::new();
            if let Some(c) = cur {
                m.insert("currency".into(), json!(c));
            }
            if let Some(a) = accent {
                m.insert("theme.accent".into(), json!(a));
            }
            if let Some(n) = n {
                m.insert("dashboard.cards".into(), json!(n));
            }
            Value::Object(m)
        })
}

/// A whole document.
pub fn document() -> impl Strategy<Value = Value> {
    (
        profile(),
        settings(),
        sport(),
        travel(),
        habits(),
        finance(),
        journal(),
    )
        .prop_map(|(p, s, sp, t, h, f, j)| {
            json!({"format": "ayubi-backup", "version": 1, "profile": p, "settings": s,
                   "sport": sp, "travel": t, "habits": h, "finance": f, "journal": j})
        })
}
