//! The funnel of one pipeline: deals entering each stage, how far the deals created in the
//! range got, time spent per stage, and open deals aging in their stage.
use super::{Ctx, Figures, T, in_bounds, named_pipeline};
use crate::db::{get_i64, get_opt_i64, query};
use crate::error::{Error, Result};
use accord_domain::entities::Entity;
use accord_domain::reports::{ColumnKind as K, Table, average, decimal, median, percent};
use accord_domain::sales::StageKind;
use rust_decimal::Decimal;
use sea_query::{Condition, Expr, ExprTrait, IntoTableRef, Query, SelectStatement};
use serde_json::{Map, json};
use std::collections::BTreeMap;

/// Stays (`h`) of visible, matching deals (`t`) in the pipeline. The pipeline is that of
/// the stay: a deal moved to another pipeline keeps its stays in this one.
fn stays(ctx: &Ctx<'_>, pipeline_id: i64) -> Result<SelectStatement> {
    stays_where(ctx, Expr::col(("h", "pipeline_id")).eq(pipeline_id))
}

/// [`stays`] with the pipeline condition given as it should be planned.
fn stays_where(ctx: &Ctx<'_>, in_pipeline: Expr) -> Result<SelectStatement> {
    let mut q = Query::select();
    q.from_as("deal_stage_history", "h")
        .inner_join("deals".into_table_ref().alias(T), Condition::all().add(Expr::col((T, "id")).equals(("h", "deal_id"))))
        .cond_where(ctx.condition_except(Entity::Deal, "pipeline_id")?)
        .and_where(in_pipeline);
    Ok(q)
}

/// The funnel's counts of deals, from the counters or from the deals themselves.
#[derive(Default)]
struct Counts {
    /// Distinct deals entering each stage in the range.
    entered: BTreeMap<i64, i64>,
    /// Deals created in the range, by the farthest open or won stage they reached.
    farthest: BTreeMap<i64, i64>,
    /// Deals created in the range, by status.
    by_status: BTreeMap<String, i64>,
    /// Open deals in each stage now, and those of them there since before the cutoff.
    aging: BTreeMap<i64, (i64, i64)>,
}

/// Open deals whose stay in their stage began in `[from, to)`, per stage.
fn open_stays(ctx: &Ctx<'_>, pipeline_id: i64, from: Option<i64>, to: i64) -> Result<SelectStatement> {
    let mut q = stays(ctx, pipeline_id)?;
    q.column(("h", "stage_id"))
        .expr_as(Expr::cust("COUNT(*)"), "n")
        .and_where(Expr::col((T, "status")).eq("open"))
        .and_where(Expr::col(("h", "left_at")).is_null())
        .and_where(Expr::col(("h", "stage_id")).equals((T, "stage_id")))
        .and_where(Expr::col(("h", "entered_at")).lt(to))
        .and_where_option(from.map(|f| Expr::col(("h", "entered_at")).gte(f)))
        .group_by_col(("h", "stage_id"));
    Ok(q)
}

async fn per_stage(ctx: &Ctx<'_>, q: &SelectStatement) -> Result<BTreeMap<i64, i64>> {
    let mut counts = BTreeMap::new();
    for r in ctx.db.fetch_all(q).await? {
        *counts.entry(get_i64(&r, "stage_id")?).or_default() += get_i64(&r, "n")?;
    }
    Ok(counts)
}

/// Counts from the deals and their stays: with filters, or a range the counters' UTC hours
/// cannot make up.
async fn counted_from_deals(ctx: &Ctx<'_>, pid: i64, cutoff: i64) -> Result<Counts> {
    let mut c = Counts::default();
    let mut q = stays(ctx, pid)?;
    q.column(("h", "stage_id")).expr_as(Expr::cust("COUNT(DISTINCT h.deal_id)"), "n").cond_where(in_bounds("h", "entered_at", &ctx.periods)).group_by_col(("h", "stage_id"));
    c.entered = per_stage(ctx, &q).await?;

    // SQL finds each deal's farthest position and counts deals per position. Each deal's
    // stays are found by the deal (`+` keeps SQLite from reading the pipeline's stays for
    // every deal instead, which it chose once a filter narrowed the deals: minutes).
    let mut farthest = stays_where(ctx, Expr::cust("+h.pipeline_id").eq(pid))?;
    farthest
        .inner_join("stages".into_table_ref().alias("s"), Condition::all().add(Expr::col(("s", "id")).equals(("h", "stage_id"))))
        .column(("h", "deal_id"))
        .expr_as(Expr::cust("MAX(s.position)"), "pos")
        .cond_where(ctx.in_range("created_at"))
        .and_where(Expr::col((T, "pipeline_id")).eq(pid))
        .and_where(Expr::col(("s", "kind")).ne("lost"))
        .and_where(Expr::col(("s", "deleted_at")).is_null())
        .group_by_col(("h", "deal_id"));
    let mut per_position = Query::select();
    per_position.from_subquery(farthest, "m").column(("m", "pos")).expr_as(Expr::cust("COUNT(*)"), "n").group_by_col(("m", "pos"));
    let mut stage_at = BTreeMap::new();
    for r in query("SELECT id, position FROM stages WHERE pipeline_id = $1 AND deleted_at IS NULL").bind(pid).fetch_all(ctx.db).await? {
        stage_at.insert(get_i64(&r, "position")?, get_i64(&r, "id")?);
    }
    for r in ctx.db.fetch_all(&per_position).await? {
        if let Some(id) = stage_at.get(&get_i64(&r, "pos")?) {
            *c.farthest.entry(*id).or_default() += get_i64(&r, "n")?;
        }
    }

    let mut cohort = Query::select();
    cohort
        .from_as("deals", T)
        .column((T, "status"))
        .expr_as(Expr::cust("COUNT(*)"), "n")
        .cond_where(ctx.condition_except(Entity::Deal, "pipeline_id")?)
        .cond_where(ctx.in_range("created_at"))
        .and_where(Expr::col((T, "pipeline_id")).eq(pid))
        .group_by_col((T, "status"));
    for r in ctx.db.fetch_all(&cohort).await? {
        c.by_status.insert(crate::db::get_str(&r, "status")?, get_i64(&r, "n")?);
    }

    let open = per_stage(ctx, &open_stays(ctx, pid, None, i64::MAX)?).await?;
    let old = per_stage(ctx, &open_stays(ctx, pid, None, cutoff)?).await?;
    c.aging = open.into_iter().map(|(s, n)| (s, (n, old.get(&s).copied().unwrap_or(0)))).collect();
    Ok(c)
}

/// Sums of a measure's counters over spans, per `(stage_id, farthest_stage_id)`.
async fn counters(ctx: &Ctx<'_>, pid: i64, measure: &str, spans: &[(i64, i64, i64)]) -> Result<BTreeMap<(i64, i64), i64>> {
    // The counters carry the workspace, owner and trash columns the condition reads.
    let visible = ctx.condition_except(Entity::Deal, "pipeline_id")?;
    let mut sums = BTreeMap::new();
    for (hours, a, b) in spans {
        let mut q = Query::select();
        q.from_as("funnel_counts", T)
            .column((T, "stage_id"))
            .column((T, "farthest_stage_id"))
            .expr_as(Expr::cust("CAST(SUM(t.n) AS BIGINT)"), "n")
            .cond_where(visible.clone())
            .and_where(Expr::col((T, "pipeline_id")).eq(pid))
            .and_where(Expr::col((T, "measure")).eq(measure))
            .and_where(Expr::col((T, "span_hours")).eq(*hours))
            .and_where(Expr::col((T, "start_at")).gte(*a))
            .and_where(Expr::col((T, "start_at")).lt(*b))
            .add_group_by([Expr::col((T, "stage_id")), Expr::col((T, "farthest_stage_id"))]);
        for r in ctx.db.fetch_all(&q).await? {
            *sums.entry((get_i64(&r, "stage_id")?, get_i64(&r, "farthest_stage_id")?)).or_default() += get_opt_i64(&r, "n")?.unwrap_or(0);
        }
    }
    Ok(sums)
}

fn by_stage(sums: &BTreeMap<(i64, i64), i64>) -> BTreeMap<i64, i64> {
    let mut per = BTreeMap::new();
    for ((stage, _), n) in sums {
        *per.entry(*stage).or_default() += n;
    }
    per
}

/// Counts from `funnel_counts` (`spans` make up the range).
async fn counted_from_counters(ctx: &Ctx<'_>, pid: i64, cutoff: i64, spans: &[(i64, i64, i64)]) -> Result<Counts> {
    use crate::sales::funnel_counts::{CREATED, ENTERED, OPEN};
    use crate::sales::spans::span_start;
    let mut c = Counts::default();
    let (from, to) = (spans.iter().map(|s| s.1).min().unwrap_or(0), spans.iter().map(|s| s.2).max().unwrap_or(0));
    // A deal entering a stage twice in the range counts once: its later entries, those
    // whose previous entry is in the range too, are taken off.
    let mut again = stays(ctx, pid)?;
    again
        .column(("h", "stage_id"))
        .expr_as(Expr::cust("COUNT(*)"), "n")
        .and_where(Expr::col(("h", "prev_entered_at")).is_not_null())
        .and_where(Expr::col(("h", "prev_entered_at")).gte(from))
        .and_where(Expr::col(("h", "entered_at")).gte(from))
        .and_where(Expr::col(("h", "entered_at")).lt(to))
        .group_by_col(("h", "stage_id"));
    let again = per_stage(ctx, &again).await?;
    c.entered = by_stage(&counters(ctx, pid, ENTERED, spans).await?);
    for (stage, n) in again {
        *c.entered.entry(stage).or_default() -= n;
    }

    let kinds: BTreeMap<i64, String> = query("SELECT id, kind FROM stages WHERE pipeline_id = $1").bind(pid).fetch_all(ctx.db).await?.iter().map(|r| Ok((get_i64(r, "id")?, crate::db::get_str(r, "kind")?))).collect::<Result<_>>()?;
    for ((stage, farthest), n) in counters(ctx, pid, CREATED, spans).await? {
        if farthest != 0 {
            *c.farthest.entry(farthest).or_default() += n;
        }
        if let Some(kind) = kinds.get(&stage) {
            *c.by_status.entry(kind.clone()).or_default() += n;
        }
    }

    // Open deals by when they entered their stage: whole days and hours before the cutoff,
    // and the deals themselves for the part of its hour before it.
    let (day, hour) = (span_start(cutoff, 24), span_start(cutoff, 1));
    let open = by_stage(&counters(ctx, pid, OPEN, &[(24, i64::MIN, i64::MAX)]).await?);
    let mut old = by_stage(&counters(ctx, pid, OPEN, &[(24, i64::MIN, day), (1, day, hour)]).await?);
    for (stage, n) in per_stage(ctx, &open_stays(ctx, pid, Some(hour), cutoff)?).await? {
        *old.entry(stage).or_default() += n;
    }
    c.aging = open.into_iter().filter(|(_, n)| *n != 0).map(|(s, n)| (s, (n, old.get(&s).copied().unwrap_or(0)))).collect();
    Ok(c)
}

pub async fn funnel(ctx: &mut Ctx<'_>) -> Result<Figures> {
    let cfg = crate::sales::config(ctx.db, ctx.p.workspace_id).await?;
    let pipeline = match named_pipeline(&ctx.req.filters)? {
        Some(id) => cfg.pipelines.iter().find(|p| p.id == id).ok_or_else(|| Error::from(accord_domain::ValidationErrors::single("pipeline_id", "unknown_pipeline", "no such pipeline")))?,
        None => cfg.pipelines.first().ok_or(Error::NotFound)?,
    };
    let pid = pipeline.id;
    let cutoff = crate::now_ms() - ctx.req.aging_days * 86_400_000;
    let bounds = ctx.periods.bounds_ms();
    let spans = if ctx.counters_serve(&["pipeline_id"]) { crate::sales::spans::covering(bounds.first().copied().unwrap_or(0), bounds.last().copied().unwrap_or(0)) } else { None };
    let Counts { entered, farthest, by_status, aging } = match spans {
        Some(spans) => counted_from_counters(ctx, pid, cutoff, &spans).await?,
        None => counted_from_deals(ctx, pid, cutoff).await?,
    };

    // Reached: of the deals created in the range, how many got at least as far as each
    // stage (the farthest open or won stage each ever stood in, so moving back loses
    // nothing). Reaching a later stage means having passed the earlier ones.
    let mut reached = vec![0i64; pipeline.stages.len()];
    let mut running = 0;
    for i in (0..pipeline.stages.len()).rev() {
        if pipeline.stages[i].kind != StageKind::Lost {
            running += farthest.get(&pipeline.stages[i].id).copied().unwrap_or(0);
            reached[i] = running;
        }
    }
    let created: i64 = by_status.values().sum();
    let won = by_status.get("won").copied().unwrap_or(0);

    // Time in stage: stays that ended in the range.
    let mut q = stays(ctx, pid)?;
    q.column(("h", "stage_id")).expr_as(Expr::cust("h.left_at - h.entered_at"), "d").cond_where(in_bounds("h", "left_at", &ctx.periods));
    let mut durations: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for r in ctx.db.fetch_all(&q).await? {
        durations.entry(get_i64(&r, "stage_id")?).or_default().push(Ord::max(get_opt_i64(&r, "d")?.unwrap_or(0), 0));
    }

    let mut t = Table::new(
        "funnel",
        &[
            ("stage_id", K::Id),
            ("stage", K::Text),
            ("kind", K::Text),
            ("entered", K::Count),
            ("reached", K::Count),
            ("conversion_to_next", K::Percent),
            ("conversion_to_won", K::Percent),
            ("median_days", K::Days),
            ("average_days", K::Days),
            ("open_deals", K::Count),
            ("aging_deals", K::Count),
        ],
    );
    let won_reached = pipeline.stages.iter().zip(&reached).filter(|(s, _)| s.kind == StageKind::Won).map(|(_, r)| *r).sum::<i64>();
    for (i, s) in pipeline.stages.iter().enumerate() {
        let lost = s.kind == StageKind::Lost;
        let next = pipeline.stages.iter().enumerate().skip(i + 1).find(|(_, n)| n.kind != StageKind::Lost).map(|(j, _)| reached[j]);
        let to_next = if lost { None } else { next.and_then(|n| percent(Decimal::from(n), Decimal::from(reached[i]))) };
        let to_won = if lost { None } else { percent(Decimal::from(won_reached), Decimal::from(reached[i])) };
        let d = durations.get_mut(&s.id);
        let (med, avg) = d.map_or((None, None), |d| (median(d), average(d)));
        let (open, old) = aging.get(&s.id).copied().unwrap_or_default();
        t.push(vec![
            json!(s.id),
            json!(s.names.for_locale(&ctx.p.user.locale)),
            json!(s.kind.as_str()),
            json!(entered.get(&s.id).copied().unwrap_or(0)),
            if lost { json!(null) } else { json!(reached[i]) },
            decimal(to_next),
            decimal(to_won),
            decimal(med),
            decimal(avg),
            json!(open),
            json!(old),
        ]);
    }
    let summary = Map::from_iter([
        ("pipeline_id".into(), json!(pid)),
        ("pipeline".into(), json!(pipeline.names.for_locale(&ctx.p.user.locale))),
        ("created".into(), json!(created)),
        ("won".into(), json!(won)),
        ("lost".into(), json!(by_status.get("lost").copied().unwrap_or(0))),
        ("conversion".into(), decimal(percent(Decimal::from(won), Decimal::from(created)))),
        ("aging_days".into(), json!(ctx.req.aging_days)),
    ]);
    Ok((summary, vec![t]))
}
