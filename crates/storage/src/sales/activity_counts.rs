//! `activity_counts`: done activities counted per owner and kind, per UTC hour and per UTC
//! day, kept by every write of an activity. The activity report adds up whole days and
//! the hours at the range's edges (a few thousand rows) instead of counting millions of
//! activities; a range whose bounds are not whole UTC hours (time zones such as
//! Asia/Kolkata) is counted from the activities themselves.
use crate::db::{Conn, query};
use crate::error::Result;
use super::hooks::{ms, str_of, trashed};
use crate::records::Record;

pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 24 * HOUR_MS;
/// The spans counted, in hours.
pub const SPANS: [i64; 2] = [1, 24];

/// The start of the span of `hours` holding `t` (floor, also before 1970).
pub fn span_start(t: i64, hours: i64) -> i64 {
    t - t.rem_euclid(hours * HOUR_MS)
}

/// The same as SQL, for both engines (`%` keeps the sign of the dividend in both).
fn span_start_sql(column: &str, hours: i64) -> String {
    let ms = hours * HOUR_MS;
    format!("({column} - (({column} % {ms}) + {ms}) % {ms})")
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_start_at_or_before_the_instant() {
        assert_eq!(span_start(DAY_MS + 5, 24), DAY_MS);
        assert_eq!(span_start(DAY_MS + HOUR_MS + 5, 1), DAY_MS + HOUR_MS);
        assert_eq!(span_start(-5, 24), -DAY_MS);
        assert_eq!(span_start(-HOUR_MS, 1), -HOUR_MS);
    }
}
