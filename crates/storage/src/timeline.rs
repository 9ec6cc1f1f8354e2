//! The audit log, per-record timelines and notes. The timeline is one table that every
//! feature appends to with its own `kind` (change, note; later activity, deal, email …),
//! so new kinds join it without a redesign.
use crate::db::{Db, Row, Tx, Val, get_i64, get_opt_i64, get_str, insert_rows, parse_json, query};
use crate::error::{Error, Result};
use crate::now_ms;
use accord_domain::entities::Entity;
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

/// Field-by-field differences between two versions of a record: `{field: [old, new]}`.
pub fn diff(old: &Map<String, Value>, new: &Map<String, Value>) -> Map<String, Value> {
    let mut changes = Map::new();
    for (k, v) in new {
        let before = old.get(k).unwrap_or(&Value::Null);
        if before != v {
            changes.insert(k.clone(), json!([before, v]));
        }
    }
    for (k, v) in old {
        if !new.contains_key(k) && !v.is_null() {
            changes.insert(k.clone(), json!([v, Value::Null]));
        }
    }
    changes
}

pub struct Change<'a> {
    pub workspace_id: i64,
    pub entity: Entity,
    pub record_id: i64,
    pub action: &'a str,
    pub actor_id: Option<i64>,
    pub changes: Value,
}

/// Writes an audit entry and the matching timeline row, inside the caller's transaction.
pub async fn record(tx: &mut Tx, c: Change<'_>) -> Result<i64> {
    record_many(tx, vec![c]).await?.pop().ok_or_else(|| Error::Corrupt("an audit entry was not written".into()))
}

/// [`record`] for many changes at once (a bulk write), a few statements for all of them.
pub async fn record_many(tx: &mut Tx, changes: Vec<Change<'_>>) -> Result<Vec<i64>> {
    let at = now_ms();
    let mut audit = Vec::with_capacity(changes.len());
    let mut summaries = Vec::with_capacity(changes.len());
    for c in &changes {
        let fields: Vec<&String> = c.changes.as_object().map(|o| o.keys().collect()).unwrap_or_default();
        summaries.push(json!({ "action": c.action, "actor_id": c.actor_id, "fields": fields }).to_string());
        audit.push(vec![Val::from(c.workspace_id), Val::from(c.entity.as_str()), Val::from(c.record_id), Val::from(c.action), Val::from(c.actor_id), Val::from(at), Val::from(c.changes.to_string())]);
    }
    let ids = insert_rows(tx, "audit_log", &["workspace_id", "entity", "record_id", "action", "actor_id", "at", "changes"], audit, true).await?;
    let timeline = changes.iter().zip(&ids).zip(summaries).map(|((c, id), summary)| vec![Val::from(c.workspace_id), Val::from(c.entity.as_str()), Val::from(c.record_id), Val::from(at), Val::from("change"), Val::from(*id), Val::from(summary)]).collect();
    insert_rows(tx, "timeline", &["workspace_id", "entity", "record_id", "at", "kind", "ref_id", "summary"], timeline, false).await?;
    Ok(ids)
}

#[allow(clippy::too_many_arguments)]
pub async fn add_timeline(tx: &mut Tx, workspace_id: i64, entity: Entity, record_id: i64, at: i64, kind: &str, ref_id: i64, summary: &Value) -> Result<()> {
    query("INSERT INTO timeline (workspace_id, entity, record_id, at, kind, ref_id, summary) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(workspace_id)
        .bind(entity.as_str())
        .bind(record_id)
        .bind(at)
        .bind(kind)
        .bind(ref_id)
        .bind(summary.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub entity: String,
    pub record_id: i64,
    /// create, update, delete, restore, merge, merged_into, unmerge, purge
    pub action: String,
    pub actor_id: Option<i64>,
    pub at: String,
    /// `{field: [old, new]}` for each changed field.
    #[schema(value_type = Object)]
    pub changes: Value,
}

pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn audit_from_row(r: &Row) -> Result<AuditEntry> {
    Ok(AuditEntry {
        id: get_i64(r, "id")?,
        entity: get_str(r, "entity")?,
        record_id: get_i64(r, "record_id")?,
        action: get_str(r, "action")?,
        actor_id: get_opt_i64(r, "actor_id")?,
        at: rfc3339(get_i64(r, "at")?),
        changes: parse_json(Some(get_str(r, "changes")?))?,
    })
}

/// A record's history, newest first; `before` is the id to continue below.
pub async fn history(db: &Db, entity: Entity, record_id: i64, before: Option<i64>, limit: u32) -> Result<Vec<AuditEntry>> {
    let rows = query("SELECT id, entity, record_id, action, actor_id, at, changes FROM audit_log WHERE entity = $1 AND record_id = $2 AND id < $3 ORDER BY id DESC LIMIT $4")
        .bind(entity.as_str())
        .bind(record_id)
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(db)
        .await?;
    rows.iter().map(audit_from_row).collect()
}

/// The workspace's audit log for admins, newest first.
pub async fn workspace_log(db: &Db, workspace_id: i64, before: Option<i64>, limit: u32) -> Result<Vec<AuditEntry>> {
    let rows = query("SELECT id, entity, record_id, action, actor_id, at, changes FROM audit_log WHERE workspace_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3")
        .bind(workspace_id)
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(db)
        .await?;
    rows.iter().map(audit_from_row).collect()
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimelineEntry {
    pub id: i64,
    pub at: String,
    /// `change` (see the history for details) or `note`; later issues add their own kinds.
    pub kind: String,
    pub ref_id: i64,
    #[schema(value_type = Object)]
    pub summary: Value,
}

/// Newest first; the cursor is `(at, id)` of the last entry seen.
pub async fn timeline(db: &Db, entity: Entity, record_id: i64, after: Option<(i64, i64)>, limit: u32) -> Result<Vec<(TimelineEntry, i64)>> {
    let (at, id) = after.unwrap_or((i64::MAX, i64::MAX));
    let rows = query(
        "SELECT id, at, kind, ref_id, summary FROM timeline WHERE entity = $1 AND record_id = $2 AND (at < $3 OR (at = $4 AND id < $5)) ORDER BY at DESC, id DESC LIMIT $6",
    )
    .bind(entity.as_str())
    .bind(record_id)
    .bind(at)
    .bind(at)
    .bind(id)
    .bind(i64::from(limit))
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|r| {
            let at = get_i64(r, "at")?;
            Ok((TimelineEntry { id: get_i64(r, "id")?, at: rfc3339(at), kind: get_str(r, "kind")?, ref_id: get_i64(r, "ref_id")?, summary: parse_json(Some(get_str(r, "summary")?))? }, at))
        })
        .collect()
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Note {
    pub id: i64,
    pub entity: String,
    pub record_id: i64,
    /// Markdown as written.
    pub body: String,
    /// The Markdown rendered to HTML and sanitized: safe to show as it is.
    pub body_html: String,
    pub author_id: i64,
    pub created_at: String,
    pub updated_at: String,
}

pub async fn add_note(db: &Db, workspace_id: i64, entity: Entity, record_id: i64, author_id: i64, body: &str) -> Result<Note> {
    let body = accord_domain::text::clean(body, accord_domain::text::LONG_TEXT_MAX)
        .map_err(|e| accord_domain::ValidationErrors::single("body", e.code, e.message))?
        .ok_or_else(|| accord_domain::ValidationErrors::single("body", "required", "a note needs text"))?;
    let now = now_ms();
    let mut tx = db.begin().await?;
    let row = query("INSERT INTO notes (workspace_id, entity, record_id, body, author_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
        .bind(workspace_id)
        .bind(entity.as_str())
        .bind(record_id)
        .bind(&body)
        .bind(author_id)
        .bind(now)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
    let id = get_i64(&row, "id")?;
    let excerpt: String = body.chars().take(200).collect();
    add_timeline(&mut tx, workspace_id, entity, record_id, now, "note", id, &json!({ "author_id": author_id, "excerpt": excerpt })).await?;
    tx.commit().await?;
    Ok(Note { id, entity: entity.as_str().to_owned(), record_id, body_html: accord_domain::markdown::to_safe_html(&body), body, author_id, created_at: rfc3339(now), updated_at: rfc3339(now) })
}

pub async fn notes(db: &Db, entity: Entity, record_id: i64) -> Result<Vec<Note>> {
    let rows = query("SELECT id, entity, record_id, body, author_id, created_at, updated_at FROM notes WHERE entity = $1 AND record_id = $2 AND deleted_at IS NULL ORDER BY id DESC LIMIT 500")
        .bind(entity.as_str())
        .bind(record_id)
        .fetch_all(db)
        .await?;
    rows.iter()
        .map(|r| {
            let body = get_str(r, "body")?;
            Ok(Note {
                id: get_i64(r, "id")?,
                entity: get_str(r, "entity")?,
                record_id: get_i64(r, "record_id")?,
                body_html: accord_domain::markdown::to_safe_html(&body),
                body,
                author_id: get_i64(r, "author_id")?,
                created_at: rfc3339(get_i64(r, "created_at")?),
                updated_at: rfc3339(get_i64(r, "updated_at")?),
            })
        })
        .collect()
}

pub async fn note_record(db: &Db, note_id: i64) -> Result<(Entity, i64, i64)> {
    let r = query("SELECT entity, record_id, author_id FROM notes WHERE id = $1 AND deleted_at IS NULL").bind(note_id).fetch_optional(db).await?.ok_or(Error::NotFound)?;
    let entity = Entity::parse(&get_str(&r, "entity")?).ok_or(Error::NotFound)?;
    Ok((entity, get_i64(&r, "record_id")?, get_i64(&r, "author_id")?))
}

pub async fn delete_note(db: &Db, note_id: i64) -> Result<()> {
    query("UPDATE notes SET deleted_at = $1 WHERE id = $2").bind(now_ms()).bind(note_id).execute(&mut *db.writer().await?).await?;
    Ok(())
}

/// An audit entry for a workspace action that changes no record (an export, say).
pub async fn audit_action(db: &crate::Db, p: &crate::accounts::Principal, what: &str, id: i64, action: &str, details: Value) -> Result<()> {
    let mut tx = db.begin().await?;
    crate::sales::audit_settings(&mut tx, p, what, id, action, details).await?;
    tx.commit().await
}
