//! `funnel_counts` (schema version 11): each live deal's share of the funnel, per UTC hour
//! and day ([`super::spans`]) and per owner — its stays entering stages, its open stay, and
//! its creation with its stage and the farthest stage it reached. Kept by every write of a
//! deal and of its stage history: the share before the write is taken out and the share
//! after it put in, in the write's transaction, so the funnel never lags the deals.
use super::hooks::{ms, str_of, trashed};
use super::spans::{SPANS, span_start, span_start_sql};
use crate::db::{Conn, get_i64, get_opt_i64, get_str, query};
use crate::error::Result;
use crate::records::Record;
use serde_json::Value;
use std::collections::BTreeMap;

pub const ENTERED: &str = "entered";
pub const OPEN: &str = "open";
pub const CREATED: &str = "created";

/// What of a live deal its share depends on, besides its stays.
struct Deal {
    workspace_id: i64,
    pipeline_id: i64,
    stage_id: i64,
    owner_id: i64,
    created_at: i64,
    open: bool,
}

fn deal_of(workspace_id: i64, rec: &Record) -> Option<Deal> {
    if trashed(rec) {
        return None;
    }
    let id = |key| rec.fields.get(key).and_then(Value::as_i64);
    Some(Deal { workspace_id, pipeline_id: id("pipeline_id")?, stage_id: id("stage_id")?, owner_id: rec.owner_id, created_at: ms(rec, "created_at")?, open: str_of(rec, "status") == Some("open") })
}

/// `(pipeline, measure, span hours, span start, owner, stage, farthest stage)`.
type Key = (i64, &'static str, i64, i64, i64, i64, i64);

/// A deal's share of the counters at one moment (none while it is in the trash).
#[derive(Default)]
pub(crate) struct Share {
    workspace_id: Option<i64>,
    counts: BTreeMap<Key, i64>,
}

impl Share {
    fn add(&mut self, pipeline_id: i64, measure: &'static str, at: i64, owner_id: i64, stage_id: i64, farthest: i64) {
        for hours in SPANS {
            *self.counts.entry((pipeline_id, measure, hours, span_start(at, hours), owner_id, stage_id, farthest)).or_default() += 1;
        }
    }
}

async fn share(conn: &mut Conn, deal_id: i64, deal: Option<Deal>) -> Result<Share> {
    let mut share = Share::default();
    let Some(deal) = deal else { return Ok(share) };
    share.workspace_id = Some(deal.workspace_id);
    // The farthest stage is the open or won one furthest along the pipeline as it is now.
    let mut farthest: Option<(i64, i64)> = None;
    let stays = query("SELECT h.pipeline_id, h.stage_id, h.entered_at, h.left_at, s.position, s.kind, s.deleted_at FROM deal_stage_history h JOIN stages s ON s.id = h.stage_id WHERE h.deal_id = $1")
        .bind(deal_id)
        .fetch_all(&mut *conn)
        .await?;
    for r in stays {
        let (pipeline_id, stage_id, entered_at) = (get_i64(&r, "pipeline_id")?, get_i64(&r, "stage_id")?, get_i64(&r, "entered_at")?);
        share.add(pipeline_id, ENTERED, entered_at, deal.owner_id, stage_id, 0);
        if deal.open && stage_id == deal.stage_id && get_opt_i64(&r, "left_at")?.is_none() {
            share.add(deal.pipeline_id, OPEN, entered_at, deal.owner_id, stage_id, 0);
        }
        let position = get_i64(&r, "position")?;
        if pipeline_id == deal.pipeline_id && get_str(&r, "kind")? != "lost" && get_opt_i64(&r, "deleted_at")?.is_none() && farthest.is_none_or(|f| (position, stage_id) > f) {
            farthest = Some((position, stage_id));
        }
    }
    share.add(deal.pipeline_id, CREATED, deal.created_at, deal.owner_id, deal.stage_id, farthest.map_or(0, |(_, id)| id));
    Ok(share)
}

/// The share of a deal as `rec` shows it (none when absent or in the trash), with its
/// stays as they are in the database now.
pub(crate) async fn share_of(conn: &mut Conn, workspace_id: i64, deal_id: i64, rec: Option<&Record>) -> Result<Share> {
    share(conn, deal_id, rec.and_then(|r| deal_of(workspace_id, r))).await
}

/// The share of a deal as it is in the database now.
pub(crate) async fn share_now(conn: &mut Conn, deal_id: i64) -> Result<Share> {
    let row = query("SELECT workspace_id, pipeline_id, stage_id, owner_id, created_at, status, deleted_at FROM deals WHERE id = $1").bind(deal_id).fetch_optional(&mut *conn).await?;
    let deal = match row {
        Some(r) if get_opt_i64(&r, "deleted_at")?.is_none() => Some(Deal {
            workspace_id: get_i64(&r, "workspace_id")?,
            pipeline_id: get_i64(&r, "pipeline_id")?,
            stage_id: get_i64(&r, "stage_id")?,
            owner_id: get_i64(&r, "owner_id")?,
            created_at: get_i64(&r, "created_at")?,
            open: get_str(&r, "status")? == "open",
        }),
        _ => None,
    };
    share(conn, deal_id, deal).await
}

/// Moves a deal's counts from its share `before` a write to its share `after` it.
pub(crate) async fn apply(conn: &mut Conn, before: Share, after: Share) -> Result<()> {
    let Some(workspace_id) = after.workspace_id.or(before.workspace_id) else { return Ok(()) };
    let mut delta = after.counts;
    for (key, n) in before.counts {
        *delta.entry(key).or_default() -= n;
    }
    let delta: Vec<(Key, i64)> = delta.into_iter().filter(|(_, n)| *n != 0).collect();
    // A statement per hundred counters (a move changes six to eight), within both engines'
    // limits on parameters.
    for chunk in delta.chunks(100) {
        let rows: Vec<String> = (0..chunk.len()).map(|i| format!("({})", (1..=9).map(|c| format!("${}", i * 9 + c)).collect::<Vec<_>>().join(", "))).collect();
        let sql = format!(
            "INSERT INTO funnel_counts (workspace_id, pipeline_id, measure, span_hours, start_at, owner_id, stage_id, farthest_stage_id, n) VALUES {} \
             ON CONFLICT (workspace_id, pipeline_id, measure, span_hours, start_at, owner_id, stage_id, farthest_stage_id) DO UPDATE SET n = funnel_counts.n + excluded.n",
            rows.join(", ")
        );
        let mut q = query(sql);
        for &((pipeline_id, measure, hours, start_at, owner_id, stage_id, farthest), n) in chunk {
            q = q.bind(workspace_id).bind(pipeline_id).bind(measure).bind(hours).bind(start_at).bind(owner_id).bind(stage_id).bind(farthest).bind(n);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// What [`rebuild`] counts again.
#[derive(Clone, Copy)]
pub(crate) enum Scope {
    All,
    Workspace(i64),
    /// A pipeline whose stages were reordered or removed: its farthest stages change.
    Pipeline(i64),
}

/// Counts the funnel again from the deals and their stays (and, for whole workspaces,
/// each stay's previous entry): once when the table was added, after a restored archive,
/// and for a pipeline whose stages changed.
pub(crate) async fn rebuild(conn: &mut Conn, scope: Scope) -> Result<()> {
    // Ids, never user input: written into the SQL so one text serves both engines.
    let (deals, stays) = match scope {
        Scope::All => ("TRUE".to_owned(), "TRUE".to_owned()),
        Scope::Workspace(w) => (format!("d.workspace_id = {w}"), format!("d.workspace_id = {w}")),
        Scope::Pipeline(p) => (format!("d.pipeline_id = {p}"), format!("h.pipeline_id = {p}")),
    };
    match scope {
        Scope::All => {}
        Scope::Workspace(w) => {
            query("DELETE FROM funnel_counts WHERE workspace_id = $1").bind(w).execute(&mut *conn).await?;
        }
        Scope::Pipeline(p) => {
            query("DELETE FROM funnel_counts WHERE pipeline_id = $1").bind(p).execute(&mut *conn).await?;
        }
    }
    if !matches!(scope, Scope::Pipeline(_)) {
        let only = if let Scope::Workspace(w) = scope { format!(" WHERE workspace_id = {w}") } else { String::new() };
        query(format!(
            "UPDATE deal_stage_history SET prev_entered_at = (SELECT MAX(e.entered_at) FROM deal_stage_history e \
             WHERE e.deal_id = deal_stage_history.deal_id AND e.stage_id = deal_stage_history.stage_id AND e.id < deal_stage_history.id){only}"
        ))
        .execute(&mut *conn)
        .await?;
    }
    const INSERT: &str = "INSERT INTO funnel_counts (workspace_id, pipeline_id, measure, span_hours, start_at, owner_id, stage_id, farthest_stage_id, n)";
    for hours in SPANS {
        let entered = span_start_sql("h.entered_at", hours);
        query(format!(
            "{INSERT} SELECT d.workspace_id, h.pipeline_id, '{ENTERED}', {hours}, {entered}, d.owner_id, h.stage_id, 0, COUNT(*) \
             FROM deal_stage_history h JOIN deals d ON d.id = h.deal_id WHERE d.deleted_at IS NULL AND {stays} \
             GROUP BY d.workspace_id, h.pipeline_id, {entered}, d.owner_id, h.stage_id"
        ))
        .execute(&mut *conn)
        .await?;
        query(format!(
            "{INSERT} SELECT d.workspace_id, d.pipeline_id, '{OPEN}', {hours}, {entered}, d.owner_id, d.stage_id, 0, COUNT(*) \
             FROM deal_stage_history h JOIN deals d ON d.id = h.deal_id \
             WHERE d.deleted_at IS NULL AND d.status = 'open' AND h.left_at IS NULL AND h.stage_id = d.stage_id AND {deals} \
             GROUP BY d.workspace_id, d.pipeline_id, {entered}, d.owner_id, d.stage_id"
        ))
        .execute(&mut *conn)
        .await?;
        let created = span_start_sql("d.created_at", hours);
        query(format!(
            "{INSERT} SELECT workspace_id, pipeline_id, '{CREATED}', {hours}, start_at, owner_id, stage_id, farthest, COUNT(*) FROM (\
             SELECT d.workspace_id, d.pipeline_id, {created} AS start_at, d.owner_id, d.stage_id, COALESCE((SELECT s.id FROM deal_stage_history h \
             JOIN stages s ON s.id = h.stage_id WHERE h.deal_id = d.id AND h.pipeline_id = d.pipeline_id AND s.kind <> 'lost' AND s.deleted_at IS NULL \
             ORDER BY s.position DESC, s.id DESC LIMIT 1), 0) AS farthest FROM deals d WHERE d.deleted_at IS NULL AND {deals}) c \
             GROUP BY workspace_id, pipeline_id, start_at, owner_id, stage_id, farthest"
        ))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
