//! `activity_counts`: done activities counted per owner and kind, per UTC hour and per UTC
//! day ([`super::spans`]), kept by every write of an activity.
use crate::db::{Conn, query};
use crate::error::Result;
use super::hooks::{ms, str_of, trashed};
use crate::records::Record;
use super::spans::{SPANS, span_start, span_start_sql};

#[derive(PartialEq)]
struct Counted {
    owner_id: i64,
    kind: String,
    done_at: i64,
}

fn counted(rec: Option<&Record>) -> Option<Counted> {
    let rec = rec.filter(|r| !trashed(r) && str_of(r, "status") == Some("done"))?;
    Some(Counted { owner_id: rec.owner_id, kind: str_of(rec, "kind")?.to_owned(), done_at: ms(rec, "done_at")? })
}

async fn add(conn: &mut Conn, workspace_id: i64, c: &Counted, sign: i64) -> Result<()> {
    for hours in SPANS {
        query(
            "INSERT INTO activity_counts (workspace_id, span_hours, start_at, owner_id, kind, done) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (workspace_id, span_hours, start_at, owner_id, kind) DO UPDATE SET done = activity_counts.done + excluded.done",
        )
        .bind(workspace_id)
        .bind(hours)
        .bind(span_start(c.done_at, hours))
        .bind(c.owner_id)
        .bind(&c.kind)
        .bind(sign)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Moves an activity's count from what it was to what it is (`after` is `None` when it
/// went to the trash).
pub(crate) async fn sync(conn: &mut Conn, workspace_id: i64, before: Option<&Record>, after: Option<&Record>) -> Result<()> {
    for (c, sign) in super::hooks::share_moves(counted(before), counted(after)) {
        add(conn, workspace_id, &c, sign).await?;
    }
    Ok(())
}

/// Counts the activities of a workspace (or of all) again from the activities: after a
/// restored archive, and once when the table was added.
pub(crate) async fn rebuild(conn: &mut Conn, workspace_id: Option<i64>) -> Result<()> {
    let only = if workspace_id.is_some() { " AND workspace_id = $1" } else { "" };
    if workspace_id.is_some() {
        query("DELETE FROM activity_counts WHERE workspace_id = $1").bind(workspace_id).execute(&mut *conn).await?;
    }
    for hours in SPANS {
        let start = span_start_sql("done_at", hours);
        let sql = format!(
            "INSERT INTO activity_counts (workspace_id, span_hours, start_at, owner_id, kind, done) \
             SELECT workspace_id, {hours}, {start}, owner_id, kind, COUNT(*) FROM activities \
             WHERE status = 'done' AND done_at IS NOT NULL AND deleted_at IS NULL{only} GROUP BY workspace_id, {start}, owner_id, kind"
        );
        let mut q = query(sql);
        if let Some(w) = workspace_id {
            q = q.bind(w);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}
