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

/// Stays (`h`) of visible, matching deals (`t`) in the pipeline.
fn stays(ctx: &Ctx<'_>, pipeline_id: i64) -> Result<SelectStatement> {
    let mut q = Query::select();
    q.from_as("deal_stage_history", "h")
        .inner_join("deals".into_table_ref().alias(T), Condition::all().add(Expr::col((T, "id")).equals(("h", "deal_id"))))
        .cond_where(ctx.condition(Entity::Deal)?)
        .and_where(Expr::col(("h", "pipeline_id")).eq(pipeline_id));
    Ok(q)
}

pub async fn funnel(ctx: &mut Ctx<'_>) -> Result<Figures> {
    let cfg = crate::sales::config(ctx.db, ctx.p.workspace_id).await?;
    let pipeline = match named_pipeline(&ctx.req.filters)? {
        Some(id) => cfg.pipelines.iter().find(|p| p.id == id).ok_or_else(|| Error::from(accord_domain::ValidationErrors::single("pipeline_id", "unknown_pipeline", "no such pipeline")))?,
        None => cfg.pipelines.first().ok_or(Error::NotFound)?,
    };
    let pid = pipeline.id;

    // Entering: distinct deals with a stay that began in the range.
    let mut q = stays(ctx, pid)?;
    q.column(("h", "stage_id")).expr_as(Expr::cust("COUNT(DISTINCT h.deal_id)"), "n").cond_where(in_bounds("h", "entered_at", &ctx.periods)).group_by_col(("h", "stage_id"));
    let mut entered = BTreeMap::new();
    for r in ctx.db.fetch_all(&q).await? {
        entered.insert(get_i64(&r, "stage_id")?, get_i64(&r, "n")?);
    }

    // Reached: of the deals created in the range, how many got at least as far as each
    // stage (the farthest open or won stage each ever stood in, so moving back loses
    // nothing). SQL finds each deal's farthest position and counts deals per position.
    let mut positions = BTreeMap::new();
    for r in query("SELECT id, position FROM stages WHERE pipeline_id = $1 AND deleted_at IS NULL").bind(pid).fetch_all(ctx.db).await? {
        positions.insert(get_i64(&r, "position")?, get_i64(&r, "id")?);
    }
    let index: BTreeMap<i64, usize> = pipeline.stages.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
    let mut farthest = stays(ctx, pid)?;
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
    let mut reached_at = vec![0i64; pipeline.stages.len()];
    for r in ctx.db.fetch_all(&per_position).await? {
        if let Some(i) = positions.get(&get_i64(&r, "pos")?).and_then(|id| index.get(id)) {
            reached_at[*i] += get_i64(&r, "n")?;
        }
    }
    // Reaching a later stage means having passed the earlier ones.
    let mut reached = vec![0i64; pipeline.stages.len()];
    let mut running = 0;
    for i in (0..pipeline.stages.len()).rev() {
        if pipeline.stages[i].kind != StageKind::Lost {
            running += reached_at[i];
            reached[i] = running;
        }
    }
    let mut cohort = Query::select();
    cohort
        .from_as("deals", T)
        .column((T, "status"))
        .expr_as(Expr::cust("COUNT(*)"), "n")
        .cond_where(ctx.condition(Entity::Deal)?)
        .cond_where(ctx.in_range("created_at"))
        .and_where(Expr::col((T, "pipeline_id")).eq(pid))
        .group_by_col((T, "status"));
    let mut by_status = BTreeMap::new();
    for r in ctx.db.fetch_all(&cohort).await? {
        by_status.insert(crate::db::get_str(&r, "status")?, get_i64(&r, "n")?);
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

    // Aging: open deals now in each stage, and those there longer than `aging_days`.
    let cutoff = crate::now_ms() - ctx.req.aging_days * 86_400_000;
    let mut q = stays(ctx, pid)?;
    q.column(("h", "stage_id"))
        .expr_as(Expr::cust("COUNT(*)"), "n")
        .expr_as(Expr::cust(format!("SUM(CASE WHEN h.entered_at < {cutoff} THEN 1 ELSE 0 END)")), "old")
        .and_where(Expr::col((T, "status")).eq("open"))
        .and_where(Expr::col(("h", "left_at")).is_null())
        .and_where(Expr::col(("h", "stage_id")).equals((T, "stage_id")))
        .group_by_col(("h", "stage_id"));
    let mut aging = BTreeMap::new();
    for r in ctx.db.fetch_all(&q).await? {
        aging.insert(get_i64(&r, "stage_id")?, (get_i64(&r, "n")?, get_opt_i64(&r, "old")?.unwrap_or(0)));
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
