//! What we show: the platforms' raw answers read into [`Stats`].
//!
//! The cache keeps the answers as the platforms sent them (in the bundles built by
//! [`steam_raw`] and [`faceit_raw`]), and every read goes through [`present`]. Reading is
//! lenient where the platforms leave fields out (a private profile has no library, a
//! FACEIT player may never have played CS2) and strict where the documented shape is
//! missing: such an answer is [`Unreadable`] and the policy treats it as upstream trouble.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;

use crate::Platform;

/// How many games each of the library's lists shows.
pub const TOP_GAMES: usize = 10;

const STEAM_ICONS: &str = "https://media.steampowered.com/steamcommunity/public/images/apps";
/// `communityvisibilitystate` of a public Steam profile (1 private, 2 friends only).
const STEAM_PUBLIC: u8 = 3;

/// A platform's numbers as the dashboard shows them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Stats {
    /// Steam.
    Steam(SteamStats),
    /// FACEIT.
    Faceit(FaceitStats),
}

/// A Steam account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SteamStats {
    /// SteamID64.
    pub steam_id: String,
    /// The display name.
    pub persona_name: String,
    /// The community profile.
    pub profile_url: Option<String>,
    /// The full-size avatar.
    pub avatar_url: Option<String>,
    /// ISO 3166-1 alpha-2, when public.
    pub country: Option<String>,
    /// `public` or `private` (friends-only counts as private: we see what strangers see).
    pub visibility: &'static str,
    /// Online in any state.
    pub online: bool,
    /// The game being played right now.
    pub playing: Option<String>,
    /// When the account was made, when public.
    pub account_created_at: Option<DateTime<Utc>>,
    /// Owned games and playtime; `None` when the library is not public.
    pub library: Option<SteamLibrary>,
}

/// Owned games and playtime.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SteamLibrary {
    /// Games owned (free games played included).
    pub game_count: u32,
    /// Playtime across every game, in minutes.
    pub total_playtime_minutes: u64,
    /// Playtime over the last two weeks, in minutes.
    pub playtime_2weeks_minutes: u64,
    /// The most played games, most first (at most [`TOP_GAMES`]).
    pub most_played: Vec<SteamGame>,
    /// Games played in the last two weeks, most first (at most [`TOP_GAMES`]).
    pub recently_played: Vec<SteamGame>,
}

/// One owned game.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SteamGame {
    /// Steam app id.
    pub app_id: u32,
    /// The title.
    pub name: Option<String>,
    /// Total playtime, in minutes.
    pub playtime_minutes: u32,
    /// Playtime over the last two weeks, in minutes.
    pub playtime_2weeks_minutes: u32,
    /// The icon.
    pub icon_url: Option<String>,
    /// When it was last played.
    pub last_played_at: Option<DateTime<Utc>>,
}

/// A FACEIT player.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaceitStats {
    /// FACEIT's id of the player.
    pub player_id: String,
    /// The nickname.
    pub nickname: String,
    /// The avatar.
    pub avatar_url: Option<String>,
    /// ISO 3166-1 alpha-2, lower case as FACEIT sends it.
    pub country: Option<String>,
    /// The FACEIT profile page.
    pub profile_url: Option<String>,
    /// Counter-Strike 2; `None` when the player has no CS2 on FACEIT.
    pub cs2: Option<FaceitCs2>,
}

/// A FACEIT player's CS2 level and lifetime stats.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaceitCs2 {
    /// Skill level 1–10.
    pub skill_level: Option<u8>,
    /// FACEIT Elo.
    pub elo: Option<u32>,
    /// The region played in (`EU`, `NA`…).
    pub region: Option<String>,
    /// Matches played.
    pub matches: Option<u32>,
    /// Matches won.
    pub wins: Option<u32>,
    /// Share of matches won, percent.
    pub win_rate_percent: Option<f64>,
    /// Average kills per death.
    pub kd_ratio: Option<f64>,
    /// Average share of kills that were headshots, percent.
    pub headshots_percent: Option<f64>,
    /// Longest run of wins.
    pub longest_win_streak: Option<u32>,
    /// The current run of wins.
    pub current_win_streak: Option<u32>,
    /// The last matches, newest first: `W` or `L`.
    pub recent_results: Vec<&'static str>,
}

/// A raw answer that is not the documented shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unreadable {platform} answer: {reason}")]
pub struct Unreadable {
    /// Whose answer.
    pub platform: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

/// A raw answer read.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// What we show.
    pub stats: Stats,
    /// Whether the answer is complete (public profile with its library; player with CS2
    /// stats). Only a complete answer may replace a complete copy.
    pub complete: bool,
}

/// The bundle the cache stores for Steam: `GetPlayerSummaries` v2 and `GetOwnedGames` v1
/// bodies as received.
#[must_use]
pub fn steam_raw(player_summaries: Value, owned_games: Value) -> Value {
    json!({"player_summaries": player_summaries, "owned_games": owned_games})
}

/// The bundle the cache stores for FACEIT: `GET /players?nickname=` and
/// `GET /players/{id}/stats/cs2` bodies as received (`stats` null when FACEIT has none).
#[must_use]
pub fn faceit_raw(player: Value, stats: Option<Value>) -> Value {
    json!({"player": player, "stats": stats})
}

/// Reads a stored bundle.
///
/// # Errors
/// [`Unreadable`] when the bundle lacks what the platform documents.
pub fn present(platform: Platform, raw: &Value) -> Result<Reading, Unreadable> {
    match platform {
        Platform::Steam => steam(raw),
        Platform::Faceit => faceit(raw),
    }
}

fn unreadable(platform: &'static str, reason: impl ToString) -> Unreadable {
    Unreadable {
        platform,
        reason: reason.to_string(),
    }
}

fn part<T: for<'de> Deserialize<'de>>(
    platform: &'static str,
    raw: &Value,
    key: &str,
) -> Result<T, Unreadable> {
    let v = raw
        .get(key)
        .ok_or_else(|| unreadable(platform, format!("no `{key}`")))?;
    T::deserialize(v).map_err(|e| unreadable(platform, format!("`{key}`: {e}")))
}

fn at(unix: Option<i64>) -> Option<DateTime<Utc>> {
    unix.filter(|t| *t > 0)
        .and_then(|t| DateTime::from_timestamp(t, 0))
}

#[derive(Deserialize)]
struct Summaries {
    response: SummariesResponse,
}
#[derive(Deserialize)]
struct SummariesResponse {
    players: Vec<SteamPlayer>,
}
#[derive(Deserialize)]
struct SteamPlayer {
    steamid: String,
    personaname: String,
    profileurl: Option<String>,
    avatarfull: Option<String>,
    loccountrycode: Option<String>,
    communityvisibilitystate: Option<u8>,
    personastate: Option<u8>,
    gameextrainfo: Option<String>,
    timecreated: Option<i64>,
}
#[derive(Deserialize)]
struct Owned {
    response: OwnedResponse,
}
/// Steam answers `{"response": {}}` for a library it will not show.
#[derive(Deserialize)]
struct OwnedResponse {
    game_count: Option<u32>,
    #[serde(default)]
    games: Vec<OwnedGame>,
}
#[derive(Deserialize)]
struct OwnedGame {
    appid: u32,
    name: Option<String>,
    #[serde(default)]
    playtime_forever: u32,
    #[serde(default)]
    playtime_2weeks: u32,
    img_icon_url: Option<String>,
    rtime_last_played: Option<i64>,
}

fn steam(raw: &Value) -> Result<Reading, Unreadable> {
    let s: Summaries = part("steam", raw, "player_summaries")?;
    let p = s
        .response
        .players
        .into_iter()
        .next()
        .ok_or_else(|| unreadable("steam", "no player in the summary"))?;
    // A missing `owned_games` (or a null one) reads as a library Steam did not show.
    let owned: Option<Owned> = match raw.get("owned_games") {
        None | Some(Value::Null) => None,
        Some(_) => Some(part("steam", raw, "owned_games")?),
    };
    let public = p.communityvisibilitystate == Some(STEAM_PUBLIC);
    let library = owned
        .and_then(|o| o.response.game_count.map(|n| (n, o.response.games)))
        .map(|(game_count, games)| library(game_count, games));
    Ok(Reading {
        complete: public && library.is_some(),
        stats: Stats::Steam(SteamStats {
            steam_id: p.steamid,
            persona_name: p.personaname,
            profile_url: p.profileurl,
            avatar_url: p.avatarfull,
            country: p.loccountrycode,
            visibility: if public { "public" } else { "private" },
            online: p.personastate.is_some_and(|s| s > 0),
            playing: p.gameextrainfo,
            account_created_at: at(p.timecreated),
            library,
        }),
    })
}

fn library(game_count: u32, games: Vec<OwnedGame>) -> SteamLibrary {
    let mut games: Vec<SteamGame> = games
        .into_iter()
        .map(|g| SteamGame {
            app_id: g.appid,
            icon_url: g
                .img_icon_url
                .filter(|h| !h.is_empty())
                .map(|h| format!("{STEAM_ICONS}/{}/{h}.jpg", g.appid)),
            name: g.name,
            playtime_minutes: g.playtime_forever,
            playtime_2weeks_minutes: g.playtime_2weeks,
            last_played_at: at(g.rtime_last_played),
        })
        .collect();
    let total = games.iter().map(|g| u64::from(g.playtime_minutes)).sum();
    let recent = games
        .iter()
        .map(|g| u64::from(g.playtime_2weeks_minutes))
        .sum();
    // Ties broken by app id so the order never flickers between two reads.
    games.sort_by(|a, b| {
        (b.playtime_2weeks_minutes, a.app_id).cmp(&(a.playtime_2weeks_minutes, b.app_id))
    });
    let recently_played = games
        .iter()
        .take_while(|g| g.playtime_2weeks_minutes > 0)
        .take(TOP_GAMES)
        .cloned()
        .collect();
    games.sort_by(|a, b| (b.playtime_minutes, a.app_id).cmp(&(a.playtime_minutes, b.app_id)));
    games.truncate(TOP_GAMES);
    SteamLibrary {
        game_count,
        total_playtime_minutes: total,
        playtime_2weeks_minutes: recent,
        most_played: games,
        recently_played,
    }
}

#[derive(Deserialize)]
struct FaceitPlayer {
    player_id: String,
    nickname: String,
    avatar: Option<String>,
    country: Option<String>,
    faceit_url: Option<String>,
    #[serde(default)]
    games: HashMap<String, FaceitGame>,
}
#[derive(Deserialize)]
struct FaceitGame {
    skill_level: Option<u8>,
    faceit_elo: Option<u32>,
    region: Option<String>,
}
#[derive(Deserialize)]
struct FaceitPlayerStats {
    lifetime: HashMap<String, Value>,
}

fn faceit(raw: &Value) -> Result<Reading, Unreadable> {
    let p: FaceitPlayer = part("faceit", raw, "player")?;
    let stats: Option<FaceitPlayerStats> = part("faceit", raw, "stats")?;
    let game = p.games.get("cs2");
    let complete = stats.is_some();
    let cs2 = (game.is_some() || stats.is_some()).then(|| {
        let life = stats.map(|s| s.lifetime).unwrap_or_default();
        // FACEIT sends every lifetime number as a string ("1.12", "52").
        let num = |k: &str| {
            life.get(k)
                .and_then(Value::as_str)
                .and_then(|s| s.trim().parse::<f64>().ok())
        };
        let int = |k: &str| {
            life.get(k)
                .and_then(Value::as_str)
                .and_then(|s| s.trim().parse::<u32>().ok())
        };
        FaceitCs2 {
            skill_level: game.and_then(|g| g.skill_level),
            elo: game.and_then(|g| g.faceit_elo),
            region: game.and_then(|g| g.region.clone()),
            matches: int("Matches"),
            wins: int("Wins"),
            win_rate_percent: num("Win Rate %"),
            kd_ratio: num("Average K/D Ratio"),
            headshots_percent: num("Average Headshots %"),
            longest_win_streak: int("Longest Win Streak"),
            current_win_streak: int("Current Win Streak"),
            recent_results: life
                .get("Recent Results")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|r| match r.as_str() {
                            Some("1") => Some("W"),
                            Some("0") => Some("L"),
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    });
    Ok(Reading {
        complete,
        stats: Stats::Faceit(FaceitStats {
            player_id: p.player_id,
            // FACEIT's profile links carry a `{lang}` placeholder.
            profile_url: p.faceit_url.map(|u| u.replace("{lang}", "en")),
            nickname: p.nickname,
            avatar_url: p.avatar.filter(|a| !a.is_empty()),
            country: p.country,
            cs2,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(visibility: u8) -> Value {
        json!({"response": {"players": [{
            "steamid": "76561197960287930", "communityvisibilitystate": visibility,
            "profilestate": 1, "personaname": "Rabscuttle",
            "profileurl": "https://steamcommunity.com/id/rabscuttle/",
            "avatarfull": "https://avatars.steamstatic.com/f1_full.jpg",
            "personastate": 1, "timecreated": 1_063_407_589, "loccountrycode": "US"
        }]}})
    }

    fn owned() -> Value {
        json!({"response": {"game_count": 3, "games": [
            {"appid": 10, "name": "Counter-Strike", "playtime_forever": 32, "img_icon_url": "6b0312"},
            {"appid": 730, "name": "Counter-Strike 2", "playtime_forever": 5000, "playtime_2weeks": 90, "img_icon_url": "8dbc71", "rtime_last_played": 1_764_000_000},
            {"appid": 570, "name": "Dota 2", "playtime_forever": 5000, "playtime_2weeks": 120}
        ]}})
    }

    #[test]
    fn a_public_steam_profile_is_complete_and_ranks_its_games() {
        let r = present(Platform::Steam, &steam_raw(summary(3), owned())).unwrap();
        assert!(r.complete);
        let Stats::Steam(s) = r.stats else { panic!() };
        assert_eq!(
            (s.persona_name.as_str(), s.visibility, s.online),
            ("Rabscuttle", "public", true)
        );
        let lib = s.library.unwrap();
        assert_eq!(
            (
                lib.game_count,
                lib.total_playtime_minutes,
                lib.playtime_2weeks_minutes
            ),
            (3, 10_032, 210)
        );
        let most: Vec<u32> = lib.most_played.iter().map(|g| g.app_id).collect();
        assert_eq!(most, [570, 730, 10], "ties by app id");
        let recent: Vec<u32> = lib.recently_played.iter().map(|g| g.app_id).collect();
        assert_eq!(recent, [570, 730], "only games played in two weeks");
        assert_eq!(
            lib.most_played[1].icon_url.as_deref(),
            Some("https://media.steampowered.com/steamcommunity/public/images/apps/730/8dbc71.jpg")
        );
    }

    #[test]
    fn a_private_steam_profile_or_hidden_library_is_incomplete() {
        let private = present(
            Platform::Steam,
            &steam_raw(summary(1), json!({"response": {}})),
        )
        .unwrap();
        assert!(!private.complete);
        let Stats::Steam(s) = private.stats else {
            panic!()
        };
        assert_eq!((s.visibility, s.library), ("private", None));
        let hidden = present(
            Platform::Steam,
            &steam_raw(summary(3), json!({"response": {}})),
        )
        .unwrap();
        assert!(!hidden.complete);
    }

    #[test]
    fn an_answer_without_the_documented_shape_is_unreadable() {
        for raw in [
            json!({}),
            steam_raw(json!({"response": {"players": []}}), owned()),
            steam_raw(json!("<html>"), owned()),
            steam_raw(summary(3), json!({"games": []})),
        ] {
            assert!(present(Platform::Steam, &raw).is_err(), "{raw}");
        }
        assert!(
            present(
                Platform::Faceit,
                &faceit_raw(json!({"nickname": "x"}), None)
            )
            .is_err()
        );
    }

    #[test]
    fn faceit_numbers_come_from_strings() {
        let player = json!({"player_id": "p1", "nickname": "s1mple", "avatar": "", "country": "ua",
            "faceit_url": "https://www.faceit.com/{lang}/players/s1mple",
            "games": {"cs2": {"region": "EU", "skill_level": 10, "faceit_elo": 3512}}});
        let stats = json!({"player_id": "p1", "game_id": "cs2", "lifetime": {
            "Matches": "1200", "Wins": "700", "Win Rate %": "58", "Average K/D Ratio": "1.31",
            "Average Headshots %": "41", "Longest Win Streak": "14", "Current Win Streak": "2",
            "Recent Results": ["1", "0", "1"]}});
        let r = present(Platform::Faceit, &faceit_raw(player.clone(), Some(stats))).unwrap();
        assert!(r.complete);
        let Stats::Faceit(f) = r.stats else { panic!() };
        assert_eq!(
            f.profile_url.as_deref(),
            Some("https://www.faceit.com/en/players/s1mple")
        );
        assert_eq!(f.avatar_url, None);
        let cs2 = f.cs2.unwrap();
        assert_eq!(
            (cs2.elo, cs2.matches, cs2.kd_ratio, cs2.recent_results),
            (Some(3512), Some(1200), Some(1.31), vec!["W", "L", "W"])
        );
        let none = present(Platform::Faceit, &faceit_raw(player, None)).unwrap();
        assert!(!none.complete, "a player without CS2 stats is not complete");
    }
}
