//! The operator's commands beside `serve` and `migrate`: invites, and accounts made
//! whatever the sign-up mode. They talk to the database directly (applying migrations
//! first), so they work before the server has ever run, and print codes only to their
//! own standard output — never to a log.

use crate::config::Settings;
use anyhow::{Context, bail};
use ayubi_identity::{InviteLifetime, InviteNote};
use ayubi_kernel::{Limit, SystemClock};
use std::io::BufRead;
use std::sync::Arc;

/// What the operator's commands accept.
pub const USAGE: &str = "ayubi invite create [--expires-in-days N] [--note TEXT] \
    | ayubi invite list | ayubi invite revoke ID \
    | ayubi user create --email ADDRESS [--display-name NAME] (password on standard input)";

async fn identity(
    settings: &Settings,
) -> anyhow::Result<(ayubi_db::Database, ayubi_identity::IdentityService)> {
    let db = ayubi_db::Database::connect(&settings.db_config())
        .await
        .context("connecting to the database")?;
    db.migrate_up().await.context("applying migrations")?;
    let identity = crate::startup::identity_service(settings, &db, Arc::new(SystemClock))?;
    Ok((db, identity))
}

/// The value after `--name` in `args`, if any.
fn flag<'a>(args: &[&'a str], name: &str) -> anyhow::Result<Option<&'a str>> {
    match args.iter().position(|a| *a == name) {
        None => Ok(None),
        Some(i) => match args.get(i + 1) {
            Some(v) => Ok(Some(v)),
            None => bail!("{name} needs a value\nusage: {USAGE}"),
        },
    }
}

/// Refuses anything but the flags a command knows (each followed by its value).
fn only_flags(args: &[&str], known: &[&str]) -> anyhow::Result<()> {
    let mut rest = args.iter();
    while let Some(a) = rest.next() {
        if !known.contains(a) || rest.next().is_none() {
            bail!("unexpected argument {a:?}\nusage: {USAGE}");
        }
    }
    Ok(())
}

/// `ayubi invite create|list|revoke`.
///
/// # Errors
/// On bad arguments, or when the database fails.
pub async fn invite(settings: &Settings, args: &[&str]) -> anyhow::Result<()> {
    let (db, identity) = identity(settings).await?;
    let result = async {
        match args {
            ["create", rest @ ..] => {
                only_flags(rest, &["--expires-in-days", "--note"])?;
                let days = flag(rest, "--expires-in-days")?
                    .map(|d| d.parse::<i64>().context("--expires-in-days takes a number"))
                    .transpose()?;
                let lifetime = InviteLifetime::days(days)?;
                let note = InviteNote::parse(flag(rest, "--note")?)?;
                let created = identity.create_invite(None, lifetime, note).await?;
                eprintln!(
                    "invite {} made; it works once, until {} (register with it as `invite`):",
                    created.invite.id,
                    created.invite.expires_at.to_rfc3339()
                );
                println!("{}", created.code);
            }
            ["list"] => {
                let now = chrono::Utc::now();
                println!("id\tstate\tcreated_at\texpires_at\tmade_by\tnote");
                for i in identity
                    .list_invites(None, Limit::new(Some(Limit::MAX))?)
                    .await?
                {
                    let state = match i.used_at {
                        Some(_) => "used",
                        None if i.expires_at <= now => "expired",
                        None => "open",
                    };
                    println!(
                        "{}\t{state}\t{}\t{}\t{}\t{}",
                        i.id,
                        i.created_at.to_rfc3339(),
                        i.expires_at.to_rfc3339(),
                        i.created_by
                            .map_or_else(|| "operator".to_owned(), |u| format!("user {u}")),
                        i.note.as_deref().unwrap_or("")
                    );
                }
            }
            ["revoke", id] => {
                let id = id.parse::<i64>().context("revoke takes an invite id")?;
                identity.revoke_invite(None, id).await?;
                eprintln!("invite {id} revoked");
            }
            _ => bail!("usage: {USAGE}"),
        }
        Ok(())
    }
    .await;
    db.close().await?;
    result
}

/// `ayubi user create --email ADDRESS [--display-name NAME]`, the password read from the
/// first line of standard input (never from the arguments, which other users of the
/// machine can read).
///
/// # Errors
/// On bad arguments or password, a taken email, or when the database fails.
pub async fn user(settings: &Settings, args: &[&str]) -> anyhow::Result<()> {
    let ["create", rest @ ..] = args else {
        bail!("usage: {USAGE}");
    };
    only_flags(rest, &["--email", "--display-name"])?;
    let Some(email) = flag(rest, "--email")? else {
        bail!("--email is required\nusage: {USAGE}");
    };
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .context("reading the password from standard input")?;
    let password = password.trim_end_matches(['\r', '\n']).to_owned();
    let (db, identity) = identity(settings).await?;
    let result = identity
        .create_account(email, password, flag(rest, "--display-name")?)
        .await;
    db.close().await?;
    let user = result?;
    eprintln!("account {} created for {}", user.id, user.email.as_str());
    Ok(())
}
