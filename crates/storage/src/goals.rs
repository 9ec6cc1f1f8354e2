//! Sales goals and their progress. The actual figure of a goal is the report figure for its
//! owner or team over its period (revenue, won deals, calls), so goals and reports can never
//! disagree, and the caller's visibility applies to it like to any figure.
use crate::accounts::Principal;
use crate::db::{Db, Row, get_i64, get_opt_i64, get_str, query};
use crate::error::{Error, Result};
use crate::{now_ms, reports};
use accord_domain::ValidationErrors;
use accord_domain::goals::{self, GoalPeriod, Metric};
use accord_domain::reports::{ReportName, parse_request, percent};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::str::FromStr;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GoalInfo {
    pub id: i64,
    pub metric: Metric,
    pub period: GoalPeriod,
    /// First and last day of the period.
    #[schema(value_type = String, format = Date)]
    pub period_start: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub period_end: NaiveDate,
    pub user_id: Option<i64>,
    pub team_id: Option<i64>,
    /// Decimal string (money in the base currency for `won_amount`).
    pub target: String,
    /// What has been achieved so far, as far as the caller may see.
    pub actual: String,
    /// `actual` as a percentage of `target`.
    pub percent: Option<String>,
    pub version: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGoal {
    /// won_amount, won_deals or calls
    pub metric: String,
    /// month or quarter
    pub period: String,
    /// The first day of the month or quarter (YYYY-MM-DD).
    pub period_start: String,
    /// Either a member…
    pub user_id: Option<i64>,
    /// …or a team.
    pub team_id: Option<i64>,
    /// Decimal string; a whole number for counts.
    pub target: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GoalChange {
    /// The version you read; a stale one answers 409.
    pub version: i64,
    pub target: String,
}

const COLUMNS: &str = "id, metric, period, period_start, user_id, team_id, target, version";

/// Goals whose period overlaps `from`..`to`, with their progress.
pub async fn list(db: &Db, p: &Principal, from: NaiveDate, to: NaiveDate) -> Result<Vec<GoalInfo>> {
    let sql = format!("SELECT {COLUMNS} FROM goals WHERE workspace_id = $1 AND period_start <= $2 ORDER BY period_start, metric, id");
    let rows = query(sql).bind(p.workspace_id).bind(to.to_string()).fetch_all(db).await?;
    let mut out = Vec::new();
    for r in &rows {
        let goal = from_row(r)?;
        if goal.last_day >= from {
            out.push(with_progress(db, p, get_i64(r, "id")?, get_i64(r, "version")?, goal).await?);
        }
    }
    Ok(out)
}

fn from_row(r: &Row) -> Result<goals::Goal> {
    goals::check(&get_str(r, "metric")?, &get_str(r, "period")?, &get_str(r, "period_start")?, get_opt_i64(r, "user_id")?, get_opt_i64(r, "team_id")?, &get_str(r, "target")?)
        .map_err(|e| Error::Corrupt(format!("stored goal is invalid: {e:?}")))
}

async fn with_progress(db: &Db, p: &Principal, id: i64, version: i64, g: goals::Goal) -> Result<GoalInfo> {
    let (report, figure) = match g.metric {
        Metric::WonAmount => (ReportName::Revenue, "revenue"),
        Metric::WonDeals => (ReportName::Revenue, "won_deals"),
        Metric::Calls => (ReportName::Activity, "calls"),
    };
    let mut params = vec![("from".to_owned(), g.first_day.to_string()), ("to".to_owned(), g.last_day.to_string())];
    match (g.user_id, g.team_id) {
        (Some(u), _) => params.push(("owner_id".into(), u.to_string())),
        (_, Some(t)) => params.push(("team_id".into(), t.to_string())),
        _ => {}
    }
    let request = parse_request(report, &params, g.first_day)?;
    let figures = reports::run(db, p, &request).await?;
    let actual = figures.summary.get(figure).map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)).unwrap_or_else(|| "0".into());
    let actual_num = Decimal::from_str(&actual).unwrap_or_default();
    Ok(GoalInfo {
        id,
        metric: g.metric,
        period: g.period,
        period_start: g.first_day,
        period_end: g.last_day,
        user_id: g.user_id,
        team_id: g.team_id,
        target: g.target.to_string(),
        actual,
        percent: percent(actual_num, g.target).map(|d| d.normalize().to_string()),
        version,
    })
}

/// A goal as stored, with its version.
async fn stored(db: &Db, p: &Principal, id: i64) -> Result<(goals::Goal, i64)> {
    let sql = format!("SELECT {COLUMNS} FROM goals WHERE id = $1 AND workspace_id = $2");
    let r = query(sql).bind(id).bind(p.workspace_id).fetch_optional(db).await?.ok_or(Error::NotFound)?;
    Ok((from_row(&r)?, get_i64(&r, "version")?))
}

async fn one(db: &Db, p: &Principal, id: i64) -> Result<GoalInfo> {
    let (goal, version) = stored(db, p, id).await?;
    with_progress(db, p, id, version, goal).await
}

/// Sets a goal (admins). One goal per metric, period and owner: a second is refused
/// (`period_start` taken).
pub async fn create(db: &Db, p: &Principal, input: NewGoal) -> Result<GoalInfo> {
    p.require_admin()?;
    let g = goals::check(&input.metric, &input.period, &input.period_start, input.user_id, input.team_id, &input.target)?;
    let mut tx = db.begin().await?;
    if let Some(u) = g.user_id
        && query("SELECT 1 AS x FROM memberships WHERE workspace_id = $1 AND user_id = $2").bind(p.workspace_id).bind(u).fetch_optional(&mut *tx).await?.is_none()
    {
        return Err(ValidationErrors::single("user_id", "unknown_user", "is not a member of this workspace").into());
    }
    if let Some(t) = g.team_id
        && query("SELECT 1 AS x FROM teams WHERE workspace_id = $1 AND id = $2").bind(p.workspace_id).bind(t).fetch_optional(&mut *tx).await?.is_none()
    {
        return Err(ValidationErrors::single("team_id", "unknown_team", "no such team").into());
    }
    let start = g.first_day.to_string();
    let taken = query("SELECT id FROM goals WHERE workspace_id = $1 AND metric = $2 AND period = $3 AND period_start = $4 AND COALESCE(user_id, 0) = $5 AND COALESCE(team_id, 0) = $6")
        .bind(p.workspace_id)
        .bind(g.metric.as_str())
        .bind(g.period.as_str())
        .bind(&start)
        .bind(g.user_id.unwrap_or(0))
        .bind(g.team_id.unwrap_or(0))
        .fetch_optional(&mut *tx)
        .await?;
    if taken.is_some() {
        return Err(ValidationErrors::single("period_start", "taken", "this goal is already set for that period; change its target instead").into());
    }
    let now = now_ms();
    let row = query("INSERT INTO goals (workspace_id, metric, period, period_start, user_id, team_id, target, version, created_at, created_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9, $8) RETURNING id")
        .bind(p.workspace_id)
        .bind(g.metric.as_str())
        .bind(g.period.as_str())
        .bind(&start)
        .bind(g.user_id)
        .bind(g.team_id)
        .bind(g.target.to_string())
        .bind(now)
        .bind(p.user.id)
        .fetch_one(&mut *tx)
        .await?;
    let id = get_i64(&row, "id")?;
    crate::sales::audit_settings(&mut tx, p, "goal", id, "create", json!({ "metric": [null, g.metric.as_str()], "period": [null, g.period.as_str()], "period_start": [null, start], "user_id": [null, g.user_id], "team_id": [null, g.team_id], "target": [null, g.target.to_string()] })).await?;
    tx.commit().await?;
    one(db, p, id).await
}

/// Changes a goal's target (admins), versioned.
pub async fn update(db: &Db, p: &Principal, id: i64, change: GoalChange) -> Result<GoalInfo> {
    p.require_admin()?;
    let (before, version) = stored(db, p, id).await?;
    let g = goals::check(before.metric.as_str(), before.period.as_str(), &before.first_day.to_string(), before.user_id, before.team_id, &change.target)?;
    let mut tx = db.begin().await?;
    let n = query("UPDATE goals SET target = $1, version = version + 1, updated_at = $2 WHERE id = $3 AND workspace_id = $4 AND version = $5")
        .bind(g.target.to_string())
        .bind(now_ms())
        .bind(id)
        .bind(p.workspace_id)
        .bind(change.version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(Error::VersionConflict { expected: change.version, current: version });
    }
    crate::sales::audit_settings(&mut tx, p, "goal", id, "update", json!({ "target": [before.target.to_string(), g.target.to_string()] })).await?;
    tx.commit().await?;
    one(db, p, id).await
}

pub async fn delete(db: &Db, p: &Principal, id: i64) -> Result<()> {
    p.require_admin()?;
    let mut tx = db.begin().await?;
    let n = query("DELETE FROM goals WHERE id = $1 AND workspace_id = $2").bind(id).bind(p.workspace_id).execute(&mut *tx).await?.rows_affected();
    if n == 0 {
        return Err(Error::NotFound);
    }
    crate::sales::audit_settings(&mut tx, p, "goal", id, "delete", json!({})).await?;
    tx.commit().await?;
    Ok(())
}
