//! Private calendar subscriptions: a secret URL per user that serves their meetings and
//! tasks to calendar applications. Only the secret's hash is stored; a new feed replaces
//! the old one, and revoking makes the URL answer 404 at once.
use crate::accounts::{Principal, random_token, token_hash};
use crate::db::{Db, get_i64, get_opt_i64, get_opt_str, get_str, query};
use crate::error::{Error, Result};
use crate::now_ms;
use crate::timeline::rfc3339;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Feed {
    pub id: i64,
    pub created_at: String,
}

/// Creates the caller's feed, revoking any earlier one. The secret is shown only now.
pub async fn create_feed(db: &Db, p: &Principal) -> Result<(Feed, String)> {
    let secret = random_token("cal_");
    let now = now_ms();
    let mut tx = db.begin().await?;
    query("UPDATE calendar_feeds SET revoked_at = $1 WHERE user_id = $2 AND workspace_id = $3 AND revoked_at IS NULL").bind(now).bind(p.user.id).bind(p.workspace_id).execute(&mut *tx).await?;
    let row = query("INSERT INTO calendar_feeds (workspace_id, user_id, secret_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
        .bind(p.workspace_id)
        .bind(p.user.id)
        .bind(token_hash(&secret))
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((Feed { id: get_i64(&row, "id")?, created_at: rfc3339(now) }, secret))
}

pub async fn feeds(db: &Db, p: &Principal) -> Result<Vec<Feed>> {
    let rows = query("SELECT id, created_at FROM calendar_feeds WHERE user_id = $1 AND workspace_id = $2 AND revoked_at IS NULL ORDER BY id").bind(p.user.id).bind(p.workspace_id).fetch_all(db).await?;
    rows.iter().map(|r| Ok(Feed { id: get_i64(r, "id")?, created_at: rfc3339(get_i64(r, "created_at")?) })).collect()
}

pub async fn revoke_feed(db: &Db, p: &Principal, id: i64) -> Result<()> {
    let n = query("UPDATE calendar_feeds SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND workspace_id = $4 AND revoked_at IS NULL").bind(now_ms()).bind(id).bind(p.user.id).bind(p.workspace_id).execute(&mut *db.writer().await?).await?.rows_affected();
    if n == 0 { Err(Error::NotFound) } else { Ok(()) }
}

#[derive(Debug, Clone)]
pub struct Entry {
    /// `task` or `activity`.
    pub entity: &'static str,
    pub id: i64,
    pub title: String,
    pub description: Option<String>,
    pub place: Option<String>,
    pub starts_at: i64,
    pub ends_at: Option<i64>,
    pub updated_at: i64,
}

/// The feed behind a secret: the owner's meetings and tasks with a due time, from 90 days
/// back to a year ahead, at most 2000 of each. None for an unknown or revoked secret, or a
/// user who is no longer an active member.
pub async fn entries(db: &Db, secret: &str) -> Result<Option<(String, Vec<Entry>)>> {
    let Some(feed) = query(
        "SELECT f.user_id, f.workspace_id, u.name FROM calendar_feeds f JOIN users u ON u.id = f.user_id \
         JOIN memberships m ON m.user_id = f.user_id AND m.workspace_id = f.workspace_id AND m.active = 1 \
         WHERE f.secret_hash = $1 AND f.revoked_at IS NULL",
    )
    .bind(token_hash(secret))
    .fetch_optional(db)
    .await?
    else {
        return Ok(None);
    };
    let (user, ws) = (get_i64(&feed, "user_id")?, get_i64(&feed, "workspace_id")?);
    let now = now_ms();
    let (from, to) = (now - 90 * 86_400_000, now + 365 * 86_400_000);
    let mut out = Vec::new();
    let meetings = query(
        "SELECT id, subject, display_name, body, place, starts_at, ends_at, updated_at FROM activities \
         WHERE workspace_id = $1 AND owner_id = $2 AND kind = 'meeting' AND deleted_at IS NULL AND starts_at >= $3 AND starts_at <= $4 ORDER BY starts_at LIMIT 2000",
    )
    .bind(ws)
    .bind(user)
    .bind(from)
    .bind(to)
    .fetch_all(db)
    .await?;
    for r in meetings {
        out.push(Entry {
            entity: "activity",
            id: get_i64(&r, "id")?,
            title: get_opt_str(&r, "subject")?.unwrap_or(get_str(&r, "display_name")?),
            description: get_opt_str(&r, "body")?,
            place: get_opt_str(&r, "place")?,
            starts_at: get_opt_i64(&r, "starts_at")?.unwrap_or(now),
            ends_at: get_opt_i64(&r, "ends_at")?,
            updated_at: get_i64(&r, "updated_at")?,
        });
    }
    let tasks = query(
        "SELECT id, title, description, due_at, updated_at FROM tasks \
         WHERE workspace_id = $1 AND owner_id = $2 AND deleted_at IS NULL AND status <> 'cancelled' AND due_at >= $3 AND due_at <= $4 ORDER BY due_at LIMIT 2000",
    )
    .bind(ws)
    .bind(user)
    .bind(from)
    .bind(to)
    .fetch_all(db)
    .await?;
    for r in tasks {
        out.push(Entry {
            entity: "task",
            id: get_i64(&r, "id")?,
            title: get_opt_str(&r, "title")?.unwrap_or_default(),
            description: get_opt_str(&r, "description")?,
            place: None,
            starts_at: get_opt_i64(&r, "due_at")?.unwrap_or(now),
            ends_at: None,
            updated_at: get_i64(&r, "updated_at")?,
        });
    }
    Ok(Some((get_str(&feed, "name")?, out)))
}
