//! In-app notifications and the reminder worker that creates them. A reminder row waits in
//! the database until its time; any instance may deliver it, and the guarded update that
//! marks it fired makes delivery exactly-once, also with several instances on one
//! PostgreSQL and after a restart (what fell due while Accord was down goes out at start).
use crate::accounts::Principal;
use crate::db::{Db, Row, get_i64, get_opt_i64, get_opt_str, get_str, parse_json, query};
use crate::error::{Error, Result};
use crate::now_ms;
use crate::timeline::rfc3339;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Notification {
    pub id: i64,
    /// `reminder` for now.
    pub kind: String,
    /// The record it is about (task or activity).
    pub entity: Option<String>,
    pub record_id: Option<i64>,
    /// What to show: title and due time of the task or activity.
    #[schema(value_type = Object)]
    pub payload: Value,
    pub created_at: String,
    pub read_at: Option<String>,
}

fn from_row(r: &Row) -> Result<Notification> {
    Ok(Notification {
        id: get_i64(r, "id")?,
        kind: get_str(r, "kind")?,
        entity: get_opt_str(r, "entity")?,
        record_id: get_opt_i64(r, "record_id")?,
        payload: parse_json(Some(get_str(r, "payload")?))?,
        created_at: rfc3339(get_i64(r, "created_at")?),
        read_at: get_opt_i64(r, "read_at")?.map(rfc3339),
    })
}

/// The caller's notifications, newest first, below the id `before`.
pub async fn list(db: &Db, p: &Principal, unread_only: bool, before: Option<i64>, limit: u32) -> Result<Vec<Notification>> {
    let unread = if unread_only { " AND read_at IS NULL" } else { "" };
    let sql = format!("SELECT id, kind, entity, record_id, payload, created_at, read_at FROM notifications WHERE workspace_id = $1 AND user_id = $2 AND id < $3{unread} ORDER BY id DESC LIMIT $4");
    let rows = query(sql).bind(p.workspace_id).bind(p.user.id).bind(before.unwrap_or(i64::MAX)).bind(i64::from(limit)).fetch_all(db).await?;
    rows.iter().map(from_row).collect()
}

pub async fn unread_count(db: &Db, p: &Principal) -> Result<i64> {
    let row = query("SELECT COUNT(*) AS n FROM notifications WHERE workspace_id = $1 AND user_id = $2 AND read_at IS NULL").bind(p.workspace_id).bind(p.user.id).fetch_one(db).await?;
    get_i64(&row, "n")
}

/// Marks one notification (or, with `None`, all of them) as read.
pub async fn mark_read(db: &Db, p: &Principal, id: Option<i64>) -> Result<u64> {
    let now = now_ms();
    let n = match id {
        Some(id) => {
            let n = query("UPDATE notifications SET read_at = COALESCE(read_at, $1) WHERE id = $2 AND workspace_id = $3 AND user_id = $4").bind(now).bind(id).bind(p.workspace_id).bind(p.user.id).execute(&mut *db.writer().await?).await?.rows_affected();
            if n == 0 {
                return Err(Error::NotFound);
            }
            n
        }
        None => query("UPDATE notifications SET read_at = $1 WHERE workspace_id = $2 AND user_id = $3 AND read_at IS NULL").bind(now).bind(p.workspace_id).bind(p.user.id).execute(&mut *db.writer().await?).await?.rows_affected(),
    };
    Ok(n)
}

/// Delivers every reminder due by `now`, each exactly once. Returns how many this call
/// delivered.
pub async fn deliver_due(db: &Db, now: i64) -> Result<u64> {
    let due = query("SELECT id, workspace_id, user_id, entity, record_id, fire_at FROM reminders WHERE fired_at IS NULL AND fire_at <= $1 ORDER BY fire_at LIMIT 500").bind(now).fetch_all(db).await?;
    let mut delivered = 0;
    for r in due {
        let id = get_i64(&r, "id")?;
        let entity = get_str(&r, "entity")?;
        let record_id = get_i64(&r, "record_id")?;
        let mut tx = db.begin().await?;
        // Whoever marks it first delivers it; the others' updates find it fired.
        let claimed = query("UPDATE reminders SET fired_at = $1 WHERE id = $2 AND fired_at IS NULL").bind(now).bind(id).execute(&mut *tx).await?.rows_affected();
        if claimed != 1 {
            continue;
        }
        let (table, title_col) = if entity == "task" { ("tasks", "title") } else { ("activities", "subject") };
        let sql = format!("SELECT {title_col} AS title, display_name, due_at, deleted_at FROM {table} WHERE id = $1");
        let Some(rec) = query(sql).bind(record_id).fetch_optional(&mut *tx).await? else {
            tx.commit().await?;
            continue;
        };
        if get_opt_i64(&rec, "deleted_at")?.is_some() {
            tx.commit().await?;
            continue;
        }
        let payload = json!({
            "title": get_opt_str(&rec, "title")?.unwrap_or(get_str(&rec, "display_name")?),
            "due_at": get_opt_i64(&rec, "due_at")?.map(rfc3339),
        });
        query("INSERT INTO notifications (workspace_id, user_id, kind, entity, record_id, payload, created_at) VALUES ($1, $2, 'reminder', $3, $4, $5, $6)")
            .bind(get_i64(&r, "workspace_id")?)
            .bind(get_i64(&r, "user_id")?)
            .bind(&entity)
            .bind(record_id)
            .bind(payload.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        delivered += 1;
    }
    Ok(delivered)
}
