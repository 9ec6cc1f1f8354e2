//! Reports: each one is a few grouped queries over the caller's visible records (the
//! condition comes from `records::list_condition`, so visibility and the list filters are
//! the same as everywhere), with period bucketing done in SQL by a CASE over the period
//! bounds, and the figures finished by `accord_domain::reports`.
mod customers;
mod deals;
mod funnel;
mod people;

use crate::accounts::Principal;
use crate::db::{Db, Row, get_i64, get_str};
use crate::error::{Error, Result};
use crate::records;
use crate::sales::Converter;
use accord_domain::ValidationErrors;
use accord_domain::entities::Entity;
use accord_domain::query;
use accord_domain::reports::{Periods, Report, ReportName, Request, Unconverted};
use chrono::NaiveDate;
use chrono_tz::Tz;
use rust_decimal::Decimal;
use sea_query::{Condition, Expr, ExprTrait, Value};
use serde_json::Map;
use std::collections::BTreeMap;

pub(crate) use records::T;

/// What every report works from.
pub(crate) struct Ctx<'a> {
    pub db: &'a Db,
    pub p: &'a Principal,
    pub req: &'a Request,
    pub tz: Tz,
    pub periods: Periods,
    pub today: NaiveDate,
    converter: Converter,
    unconverted: BTreeMap<String, Decimal>,
}

impl Ctx<'_> {
    /// The caller's visible, live records of `entity` matching the report's filters.
    pub fn condition(&self, entity: Entity) -> Result<Condition> {
        self.condition_of(entity, &self.req.filters)
    }

    /// [`Self::condition`] without the filter on `key`, for a report that applies it its own way.
    pub fn condition_except(&self, entity: Entity, key: &str) -> Result<Condition> {
        let filters: Vec<(String, String)> = self.req.filters.iter().filter(|(k, _)| k != key && !k.starts_with(&format!("{key}["))).cloned().collect();
        self.condition_of(entity, &filters)
    }

    /// Whether kept counters, which carry the `workspace_id`, `owner_id` and `deleted_at` the
    /// condition reads, can answer under the request's filters: those on owners and teams
    /// ("my numbers", a team's dashboard), and `also` that the report applies itself.
    pub fn counters_serve(&self, also: &[&str]) -> bool {
        self.req.filters.iter().all(|(k, _)| {
            let field = k.split('[').next().unwrap_or(k);
            ["owner_id", "team_id"].contains(&field) || also.contains(&field)
        })
    }

    fn condition_of(&self, entity: Entity, filters: &[(String, String)]) -> Result<Condition> {
        let q = query::parse(entity, filters, &[], &self.p.region)?;
        Ok(records::list_condition(&self.p.viewer, entity, &q.filters, false))
    }

    /// Sums of scaled amounts (10^4) in `currency`, converted to the base currency at the
    /// rate valid on `day` (today for a day still to come); amounts without a rate are set
    /// aside and reported.
    pub fn scaled_in_base(&mut self, scaled: i64, currency: &str, day: NaiveDate) -> Decimal {
        let amount = Decimal::new(scaled, accord_domain::custom_fields::NUM_SCALE);
        self.in_base(amount, currency, day)
    }

    pub fn in_base(&mut self, amount: Decimal, currency: &str, day: NaiveDate) -> Decimal {
        let day = day.min(self.today);
        match self.converter.to_base(amount, currency, &day.to_string()) {
            Some(a) => a,
            None => {
                *self.unconverted.entry(currency.to_owned()).or_default() += amount;
                Decimal::ZERO
            }
        }
    }

    /// The range's last day: sums over the whole range are converted at its rate (today's
    /// while the range is not over, see `in_base`).
    pub fn range_end(&self) -> NaiveDate {
        self.periods.list.last().map_or(self.today, |p| p.last_day)
    }

    /// Rows of the report's table (`t`) whose `column` falls in the periods.
    pub fn in_range(&self, column: &'static str) -> Condition {
        in_bounds(T, column, &self.periods)
    }

    /// Names of users, for rows per user.
    pub async fn user_names(&self, ids: impl IntoIterator<Item = i64>) -> Result<BTreeMap<i64, String>> {
        let ids: Vec<i64> = ids.into_iter().collect();
        let mut names = BTreeMap::new();
        if ids.is_empty() {
            return Ok(names);
        }
        let mut q = sea_query::Query::select();
        q.columns(["id", "name"]).from("users").and_where(Expr::col("id").is_in(ids));
        for r in self.db.fetch_all(&q).await? {
            names.insert(get_i64(&r, "id")?, get_str(&r, "name")?);
        }
        Ok(names)
    }
}

/// The currencies the workspace's live deals are in, from the board's totals (a few rows
/// instead of a scan of the deals).
pub(crate) async fn currencies(ctx: &Ctx<'_>) -> Result<Vec<String>> {
    let rows = crate::db::query("SELECT DISTINCT currency FROM deal_totals WHERE workspace_id = $1 AND deals > 0 ORDER BY currency").bind(ctx.p.workspace_id).fetch_all(ctx.db).await?;
    rows.iter().map(|r| get_str(r, "currency")).collect()
}

/// `bounds[0] <= table.column < bounds[n]` for the instants of the periods.
pub(crate) fn in_bounds(table: &'static str, column: &'static str, periods: &Periods) -> Condition {
    let b = periods.bounds_ms();
    let (first, last) = (b.first().copied().unwrap_or(0), b.last().copied().unwrap_or(0));
    Condition::all().add(Expr::col((table, column)).gte(first)).add(Expr::col((table, column)).lt(last))
}

/// The index of the period a value falls in, as SQL: a binary search over the bounds
/// written as nested CASEs, so a row costs about log2(periods) comparisons. Rows outside
/// the bounds must be filtered out by the caller.
fn bucket(column: Expr, bounds: &[Value]) -> Expr {
    fn split(column: &Expr, bounds: &[Value], lo: usize, hi: usize) -> Expr {
        if hi - lo <= 1 {
            return Expr::cust(lo.to_string());
        }
        let mid = lo + (hi - lo) / 2;
        Expr::case(column.clone().lt(bounds[mid].clone()), split(column, bounds, lo, mid)).finally(split(column, bounds, mid, hi)).into()
    }
    split(&column, bounds, 0, bounds.len().saturating_sub(1).max(1))
}

/// The bucket of a millisecond column over the report's periods.
pub(crate) fn bucket_ms(column: &'static str, periods: &Periods) -> Expr {
    let bounds: Vec<Value> = periods.bounds_ms().into_iter().map(Value::from).collect();
    bucket(Expr::col((T, column)), &bounds)
}

pub(crate) fn bucket_of(row: &Row) -> Result<usize> {
    usize::try_from(get_i64(row, "bucket")?).map_err(|_| Error::Corrupt("negative period index".into()))
}

/// Runs a report for the caller.
pub async fn run(db: &Db, p: &Principal, req: &Request) -> Result<Report> {
    let tz: Tz = p.user.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    let periods = Periods::new(req.from, req.to, req.grouping, tz).map_err(|e| Error::from(ValidationErrors::single("group_by", e.code, e.message)))?;
    let converter = Converter::load(db, p.workspace_id).await?;
    let mut ctx = Ctx { db, p, req, tz, periods, today, converter, unconverted: BTreeMap::new() };
    let ((summary, tables), by_period) = match req.name {
        ReportName::Revenue => (deals::revenue(&mut ctx).await?, true),
        ReportName::WinRate => (deals::win_rate(&mut ctx).await?, true),
        ReportName::LostReasons => (deals::lost_reasons(&mut ctx).await?, false),
        ReportName::SalesCycle => (deals::sales_cycle(&mut ctx).await?, true),
        ReportName::Leaderboard => (deals::leaderboard(&mut ctx).await?, false),
        ReportName::Forecast => (deals::forecast(&mut ctx).await?, true),
        ReportName::Products => (deals::products(&mut ctx).await?, false),
        ReportName::Funnel => (funnel::funnel(&mut ctx).await?, false),
        ReportName::PurchaseFrequency => (customers::purchase_frequency(&mut ctx).await?, true),
        ReportName::Churn => (customers::churn(&mut ctx).await?, true),
        ReportName::Conversion => (people::conversion(&mut ctx).await?, req.dimension == accord_domain::reports::LeadDimension::Period),
        ReportName::Activity => (people::activity(&mut ctx).await?, false),
    };
    Ok(Report {
        report: req.name,
        from: req.from,
        to: req.to,
        group_by: by_period.then(|| req.grouping.as_str().to_owned()),
        time_zone: tz.name().to_owned(),
        currency: ctx.converter.base().to_owned(),
        summary,
        tables,
        unconverted: ctx.unconverted.into_iter().map(|(currency, amount)| Unconverted { amount: format!("{:.2}", accord_domain::sales::round_money(amount)), currency }).collect(),
        ignored_filters: req.ignored_filters.clone(),
    })
}

/// A report's body: the headline figures and its tables.
pub(crate) type Figures = (Map<String, serde_json::Value>, Vec<accord_domain::reports::Table>);

/// The single pipeline a funnel is about: the one the filter names, else the first.
pub(crate) fn named_pipeline(filters: &[(String, String)]) -> Result<Option<i64>> {
    let mut named = None;
    for (k, v) in filters {
        if k == "pipeline_id" {
            named = Some(v.trim().parse::<i64>().map_err(|_| ValidationErrors::single("pipeline_id", "not_a_number", "must be a pipeline id"))?);
        } else if k.starts_with("pipeline_id[") {
            return Err(ValidationErrors::single(k, "one_pipeline", "the funnel is about one pipeline: give pipeline_id=ID").into());
        }
    }
    Ok(named)
}
