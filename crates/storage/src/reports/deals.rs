//! Reports over closed and open deals: revenue, win rate, lost reasons, sales cycle,
//! leaderboard, forecast and products.
use super::{Ctx, Figures, T, bucket_ms, bucket_of, in_bounds};
use crate::db::{get_i64, get_opt_i64, get_opt_str, get_str};
use crate::error::Result;
use accord_domain::entities::Entity;
use accord_domain::reports::{ColumnKind as K, Periods, ProductOrder, Table, decimal, median, money, percent, ratio, trend};
use rust_decimal::Decimal;
use sea_query::{Expr, ExprTrait, Query, SelectStatement};
use serde_json::{Map, Value as Json, json};
use std::collections::BTreeMap;

const COUNT: &str = "COUNT(*)";
const SUM: &str = "CAST(SUM(t.amount_num) AS BIGINT)";
const LINE_SUM: &str = "CAST(SUM(t.total_num) AS BIGINT)";

/// Deals closed with `status` within `periods`, for grouping.
fn closed(ctx: &Ctx<'_>, periods: &Periods, statuses: &[&str]) -> Result<SelectStatement> {
    let mut q = Query::select();
    q.from_as("deals", T)
        .cond_where(ctx.condition(Entity::Deal)?)
        .cond_where(in_bounds(T, "closed_at", periods))
        .and_where(Expr::col((T, "status")).is_in(statuses.iter().map(|s| (*s).to_owned())));
    Ok(q)
}

fn n(i: impl Into<i64>) -> Json {
    json!(i.into())
}

/// Per period (and status): deal count and amount in the base currency.
struct PeriodSums {
    count: Vec<i64>,
    amount: Vec<Decimal>,
}

/// Deals closed with `status` per period of `periods` (the report's, or the forecast's
/// longer history), each period's sums at the rate of its last day.
async fn sums_by_period(ctx: &mut Ctx<'_>, periods: &Periods, status: &str) -> Result<PeriodSums> {
    let mut q = closed(ctx, periods, &[status])?;
    q.expr_as(bucket_ms("closed_at", periods), "bucket").column((T, "currency")).expr_as(Expr::cust(COUNT), "n").expr_as(Expr::cust(SUM), "s");
    q.add_group_by([Expr::cust("bucket"), Expr::col((T, "currency"))]);
    let rows = ctx.db.fetch_all(&q).await?;
    let mut sums = PeriodSums { count: vec![0; periods.len()], amount: vec![Decimal::ZERO; periods.len()] };
    for r in &rows {
        let b = bucket_of(r)?;
        let day = periods.list.get(b).map_or(ctx.today, |p| p.last_day);
        sums.count[b] += get_i64(r, "n")?;
        sums.amount[b] += ctx.scaled_in_base(get_opt_i64(r, "s")?.unwrap_or(0), &get_str(r, "currency")?, day);
    }
    Ok(sums)
}

pub async fn revenue(ctx: &mut Ctx<'_>) -> Result<Figures> {
    let periods = ctx.periods.clone();
    let won = sums_by_period(ctx, &periods, "won").await?;
    let mut t = Table::new("revenue", &[("period", K::Period), ("won_deals", K::Count), ("revenue", K::Money), ("average_deal", K::Money)]);
    for (i, p) in ctx.periods.list.iter().enumerate() {
        t.push(vec![json!(p.label), n(won.count[i]), money(won.amount[i]), avg_money(won.amount[i], won.count[i])]);
    }
    let (count, amount) = (won.count.iter().sum::<i64>(), won.amount.iter().copied().sum::<Decimal>());
    let summary = Map::from_iter([("won_deals".into(), n(count)), ("revenue".into(), money(amount)), ("average_deal".into(), avg_money(amount, count))]);
    Ok((summary, vec![t]))
}

fn avg_money(amount: Decimal, count: i64) -> Json {
    ratio(amount, Decimal::from(count)).map_or(Json::Null, money)
}

pub async fn win_rate(ctx: &mut Ctx<'_>) -> Result<Figures> {
    let periods = ctx.periods.clone();
    let won = sums_by_period(ctx, &periods, "won").await?;
    let lost = sums_by_period(ctx, &periods, "lost").await?;
    let mut t = Table::new(
        "win_rate",
        &[("period", K::Period), ("won_deals", K::Count), ("lost_deals", K::Count), ("win_rate", K::Percent), ("won_amount", K::Money), ("lost_amount", K::Money), ("win_rate_by_amount", K::Percent)],
    );
    let row = |label: Json, w: i64, l: i64, wa: Decimal, la: Decimal| {
        vec![label, n(w), n(l), decimal(percent(Decimal::from(w), Decimal::from(w + l))), money(wa), money(la), decimal(percent(wa, wa + la))]
    };
    for (i, p) in ctx.periods.list.iter().enumerate() {
        t.push(row(json!(p.label), won.count[i], lost.count[i], won.amount[i], lost.amount[i]));
    }
    let total = row(Json::Null, won.count.iter().sum(), lost.count.iter().sum(), won.amount.iter().copied().sum(), lost.amount.iter().copied().sum());
    let summary = t.columns.iter().skip(1).map(|c| c.key.clone()).zip(total.into_iter().skip(1)).collect();
    Ok((summary, vec![t]))
}

pub async fn lost_reasons(ctx: &mut Ctx<'_>) -> Result<Figures> {
    let mut q = closed(ctx, &ctx.periods, &["lost"])?;
    q.column((T, "lost_reason_id")).column((T, "currency")).expr_as(Expr::cust(COUNT), "n").expr_as(Expr::cust(SUM), "s");
    q.add_group_by([Expr::col((T, "lost_reason_id")), Expr::col((T, "currency"))]);
    let rows = ctx.db.fetch_all(&q).await?;
    let mut by_reason: BTreeMap<Option<i64>, (i64, Decimal)> = BTreeMap::new();
    let day = ctx.range_end();
    for r in &rows {
        let e = by_reason.entry(get_opt_i64(r, "lost_reason_id")?).or_default();
        e.0 += get_i64(r, "n")?;
        e.1 += ctx.scaled_in_base(get_opt_i64(r, "s")?.unwrap_or(0), &get_str(r, "currency")?, day);
    }
    let cfg = crate::sales::config(ctx.db, ctx.p.workspace_id).await?;
    let total: i64 = by_reason.values().map(|(c, _)| c).sum();
    let mut reasons: Vec<(Option<i64>, Json, i64, Decimal)> = cfg
        .lost_reasons
        .iter()
        .filter_map(|r| {
            let figures = by_reason.remove(&Some(r.id));
            (r.active || figures.is_some()).then(|| {
                let (c, a) = figures.unwrap_or_default();
                (Some(r.id), json!(r.names.for_locale(&ctx.p.user.locale)), c, a)
            })
        })
        .collect();
    // Deals lost before reasons were required, or whose reason is gone.
    for (id, (c, a)) in by_reason {
        reasons.push((id, Json::Null, c, a));
    }
    reasons.sort_by_key(|r| std::cmp::Reverse(r.2));
    let mut t = Table::new("lost_reasons", &[("lost_reason_id", K::Id), ("reason", K::Text), ("lost_deals", K::Count), ("share", K::Percent), ("lost_amount", K::Money)]);
    let mut amount = Decimal::ZERO;
    for (id, name, c, a) in reasons {
        amount += a;
        t.push(vec![json!(id), name, n(c), decimal(percent(Decimal::from(c), Decimal::from(total))), money(a)]);
    }
    Ok((Map::from_iter([("lost_deals".into(), n(total)), ("lost_amount".into(), money(amount))]), vec![t]))
}

pub async fn sales_cycle(ctx: &mut Ctx<'_>) -> Result<Figures> {
    let mut q = closed(ctx, &ctx.periods, &["won"])?;
    q.expr_as(bucket_ms("closed_at", &ctx.periods), "bucket").expr_as(Expr::cust("t.closed_at - t.created_at"), "d");
    let mut per: Vec<Vec<i64>> = vec![Vec::new(); ctx.periods.len()];
    ctx.db
        .stmt(&q)?
        .for_each(ctx.db, |r| {
            per[bucket_of(r)?].push(Ord::max(get_i64(r, "d")?, 0));
            Ok(())
        })
        .await?;
    let mut t = Table::new("sales_cycle", &[("period", K::Period), ("won_deals", K::Count), ("median_days", K::Days), ("average_days", K::Days)]);
    for (p, d) in ctx.periods.list.iter().zip(per.iter_mut()) {
        t.push(vec![json!(p.label), json!(d.len()), decimal(median(d)), decimal(accord_domain::reports::average(d))]);
    }
    let mut all: Vec<i64> = per.into_iter().flatten().collect();
    let summary = Map::from_iter([("won_deals".into(), json!(all.len())), ("average_days".into(), decimal(accord_domain::reports::average(&all))), ("median_days".into(), decimal(median(&mut all)))]);
    Ok((summary, vec![t]))
}

pub async fn leaderboard(ctx: &mut Ctx<'_>) -> Result<Figures> {
    let mut q = closed(ctx, &ctx.periods, &["won", "lost"])?;
    q.column((T, "owner_id")).column((T, "status")).column((T, "currency")).expr_as(Expr::cust(COUNT), "n").expr_as(Expr::cust(SUM), "s");
    q.add_group_by([Expr::col((T, "owner_id")), Expr::col((T, "status")), Expr::col((T, "currency"))]);
    let rows = ctx.db.fetch_all(&q).await?;
    let day = ctx.range_end();
    // owner → (won count, won amount, lost count)
    let mut per: BTreeMap<i64, (i64, Decimal, i64)> = BTreeMap::new();
    for r in &rows {
        let e = per.entry(get_i64(r, "owner_id")?).or_default();
        if get_str(r, "status")? == "won" {
            e.0 += get_i64(r, "n")?;
            e.1 += ctx.scaled_in_base(get_opt_i64(r, "s")?.unwrap_or(0), &get_str(r, "currency")?, day);
        } else {
            e.2 += get_i64(r, "n")?;
        }
    }
    let names = ctx.user_names(per.keys().copied()).await?;
    let mut list: Vec<_> = per.into_iter().collect();
    list.sort_by(|(a_id, a), (b_id, b)| b.1.cmp(&a.1).then(b.0.cmp(&a.0)).then(names.get(a_id).cmp(&names.get(b_id))));
    let mut t = Table::new(
        "leaderboard",
        &[("rank", K::Count), ("user_id", K::Id), ("user", K::Text), ("won_amount", K::Money), ("won_deals", K::Count), ("average_deal", K::Money), ("lost_deals", K::Count), ("win_rate", K::Percent)],
    );
    for (i, (id, (won, amount, lost))) in list.into_iter().enumerate() {
        t.push(vec![json!(i + 1), json!(id), json!(names.get(&id)), money(amount), n(won), avg_money(amount, won), n(lost), decimal(percent(Decimal::from(won), Decimal::from(won + lost)))]);
    }
    Ok((Map::new(), vec![t]))
}

/// How many past periods the forecast's trend line is fitted to.
const TREND_HISTORY: i32 = 12;

pub async fn forecast(ctx: &mut Ctx<'_>) -> Result<Figures> {
    let g = ctx.req.grouping;
    let current = g.start_of(ctx.today);
    // Whole periods: the range from the start of its first period, and the history the
    // trend is fitted to before the current one.
    let range_start = g.start_of(ctx.req.from);
    let history_start = g.shift(current, -TREND_HISTORY).min(range_start);
    let all = Periods::new(history_start, ctx.req.to, g, ctx.tz).map_err(|e| accord_domain::ValidationErrors::single("group_by", e.code, e.message))?;
    let offset = all.list.iter().position(|p| p.first_day >= range_start).unwrap_or(all.len());
    ctx.periods = Periods { grouping: g, list: all.list[offset..].to_vec() };

    // Open deals by expected close date, weighted by their probability at today's rate.
    // Grouped by the date itself, in the order of the forecast index (or of the summary
    // `deal_forecast`, which holds the same figures per owner, when no filter needs the
    // deals themselves), so the database sums while it reads; the periods are found here.
    let bounds = ctx.periods.bounds_dates();
    let (first, last) = (bounds.first().cloned().unwrap_or_default(), bounds.last().cloned().unwrap_or_default());
    let mut q = Query::select();
    if ctx.req.filters.is_empty() {
        q.from_as("deal_forecast", T).expr_as(Expr::cust("CAST(SUM(t.deals) AS BIGINT)"), "n").expr_as(Expr::cust(SUM), "s");
    } else {
        q.from_as("deals", T).and_where(Expr::col((T, "status")).eq("open")).expr_as(Expr::cust(COUNT), "n").expr_as(Expr::cust(SUM), "s");
    }
    q.cond_where(ctx.condition(Entity::Deal)?).and_where(Expr::col((T, "expected_close_date")).gte(first)).and_where(Expr::col((T, "expected_close_date")).lt(last));
    q.column((T, "expected_close_date")).column((T, "currency")).column((T, "win_probability"));
    q.add_group_by([Expr::col((T, "expected_close_date")), Expr::col((T, "currency")), Expr::col((T, "win_probability"))]);
    let rows = ctx.db.fetch_all(&q).await?;
    let len = ctx.periods.len();
    let (mut open_count, mut open_amount, mut weighted) = (vec![0i64; len], vec![Decimal::ZERO; len], vec![Decimal::ZERO; len]);
    let today = ctx.today;
    for r in &rows {
        let date = get_str(r, "expected_close_date")?;
        let Some(b) = bounds.partition_point(|d| *d <= date).checked_sub(1).filter(|b| *b < len) else { continue };
        let amount = ctx.scaled_in_base(get_opt_i64(r, "s")?.unwrap_or(0), &get_str(r, "currency")?, today);
        open_count[b] += get_i64(r, "n")?;
        open_amount[b] += amount;
        weighted[b] += amount * Decimal::from(get_i64(r, "win_probability")?) / Decimal::ONE_HUNDRED;
    }

    // Won over the history and the range, for the trend and the comparison.
    let won = sums_by_period(ctx, &all, "won").await?;
    let current_index = all.list.iter().position(|p| p.first_day >= current).unwrap_or(all.len());
    let history: Vec<(i64, Decimal)> = (current_index.saturating_sub(TREND_HISTORY as usize)..current_index).map(|i| (i as i64, won.amount[i])).collect();

    let mut t = Table::new(
        "forecast",
        &[("period", K::Period), ("open_deals", K::Count), ("open_amount", K::Money), ("weighted_amount", K::Money), ("won_deals", K::Count), ("won_amount", K::Money), ("trend", K::Money)],
    );
    for (i, p) in ctx.periods.list.iter().enumerate() {
        let j = offset + i;
        t.push(vec![json!(p.label), n(open_count[i]), money(open_amount[i]), money(weighted[i]), n(won.count[j]), money(won.amount[j]), trend(&history, j as i64).map_or(Json::Null, money)]);
    }
    let summary = Map::from_iter([
        ("open_deals".into(), n(open_count.iter().sum::<i64>())),
        ("open_amount".into(), money(open_amount.iter().copied().sum())),
        ("weighted_amount".into(), money(weighted.iter().copied().sum())),
        ("won_amount".into(), money(won.amount[offset..].iter().copied().sum())),
    ]);
    Ok((summary, vec![t]))
}

/// Lines of deals won in the range that the caller may see and the filters select, in
/// `currency`. Without filters the shared condition applies to the lines themselves
/// (they carry the deal's workspace, owner and trash columns); a filter on any other
/// field of the deal selects the deals first.
fn won_lines(ctx: &Ctx<'_>, currency: &str) -> Result<SelectStatement> {
    let mut q = Query::select();
    q.from_as("deal_lines", T).and_where(Expr::col((T, "status")).eq("won")).and_where(Expr::col((T, "currency")).eq(currency)).cond_where(ctx.in_range("closed_at"));
    if ctx.req.filters.is_empty() {
        q.cond_where(ctx.condition(Entity::Deal)?);
    } else {
        let mut deals = closed(ctx, &ctx.periods, &["won"])?;
        deals.column((T, "id"));
        q.and_where(Expr::col((T, "workspace_id")).eq(ctx.p.workspace_id)).and_where(Expr::col((T, "deal_id")).in_subquery(deals));
    }
    Ok(q)
}

pub async fn products(ctx: &mut Ctx<'_>) -> Result<Figures> {
    #[derive(Default)]
    struct Line {
        name: String,
        sku: Option<String>,
        unit: Option<String>,
        quantity: Decimal,
        revenue: Decimal,
        deals: i64,
    }
    let scale = |n: i64| Decimal::new(n, accord_domain::custom_fields::NUM_SCALE);
    let mut lines: BTreeMap<(Option<i64>, String), Line> = BTreeMap::new();
    // Deals with lines, counted by their first line.
    let mut with_lines = 0;
    let base = ctx.converter.base().to_owned();
    for currency in super::currencies(ctx).await? {
        let mut q = won_lines(ctx, &currency)?;
        q.columns([(T, "product_id"), (T, "name")]);
        if currency == base {
            // Already in the base currency: summed in SQL.
            q.expr_as(Expr::cust("MAX(t.sku)"), "sku").expr_as(Expr::cust("MAX(t.unit)"), "unit").expr_as(Expr::cust("CAST(SUM(t.quantity_num) AS BIGINT)"), "q").expr_as(Expr::cust(LINE_SUM), "s");
            q.expr_as(Expr::cust("COUNT(DISTINCT t.deal_id)"), "deals").expr_as(Expr::cust("CAST(SUM(CASE WHEN t.line = 0 THEN 1 ELSE 0 END) AS BIGINT)"), "firsts");
            q.add_group_by([Expr::col((T, "product_id")), Expr::col((T, "name"))]);
        } else {
            // Each line at the rate of the day its deal was won.
            q.columns([(T, "sku"), (T, "unit"), (T, "quantity_num"), (T, "total_num"), (T, "deal_id"), (T, "line"), (T, "closed_at")]);
        }
        let mut seen: std::collections::HashSet<(i64, Option<i64>, String)> = Default::default();
        for r in ctx.db.fetch_all(&q).await? {
            let key = (get_opt_i64(&r, "product_id")?, get_str(&r, "name")?);
            let (quantity, revenue, deals, firsts) = if currency == base {
                (scale(get_opt_i64(&r, "q")?.unwrap_or(0)), scale(get_opt_i64(&r, "s")?.unwrap_or(0)), get_i64(&r, "deals")?, get_i64(&r, "firsts")?)
            } else {
                let day = chrono::DateTime::from_timestamp_millis(get_opt_i64(&r, "closed_at")?.unwrap_or(0)).map_or(ctx.today, |t| t.with_timezone(&ctx.tz).date_naive());
                let revenue = ctx.in_base(scale(get_i64(&r, "total_num")?), &currency, day);
                let first = seen.insert((get_i64(&r, "deal_id")?, key.0, key.1.clone()));
                (scale(get_i64(&r, "quantity_num")?), revenue, i64::from(first), i64::from(get_i64(&r, "line")? == 0))
            };
            with_lines += firsts;
            let line = lines.entry(key.clone()).or_insert_with(|| Line { name: key.1.clone(), ..Line::default() });
            line.sku = line.sku.take().or(get_opt_str(&r, "sku")?);
            line.unit = line.unit.take().or(get_opt_str(&r, "unit")?);
            line.quantity += quantity;
            line.revenue += revenue;
            line.deals += deals;
        }
    }
    let mut won = closed(ctx, &ctx.periods, &["won"])?;
    won.expr_as(Expr::cust(COUNT), "n");
    let won = match ctx.db.fetch_optional(&won).await? {
        Some(r) => get_i64(&r, "n")?,
        None => 0,
    };
    let without_lines = won - with_lines;
    let total: Decimal = lines.values().map(|l| l.revenue).sum();
    let mut list: Vec<_> = lines.into_iter().collect();
    match ctx.req.order {
        ProductOrder::Revenue => list.sort_by(|a, b| b.1.revenue.cmp(&a.1.revenue).then(b.1.quantity.cmp(&a.1.quantity))),
        ProductOrder::Quantity => list.sort_by(|a, b| b.1.quantity.cmp(&a.1.quantity).then(b.1.revenue.cmp(&a.1.revenue))),
    }
    let products = list.len();
    let mut t = Table::new(
        "products",
        &[("product_id", K::Id), ("product", K::Text), ("sku", K::Text), ("unit", K::Text), ("quantity", K::Decimal), ("revenue", K::Money), ("share", K::Percent), ("won_deals", K::Count)],
    );
    for ((id, _), l) in list.into_iter().take(ctx.req.limit) {
        t.push(vec![json!(id), json!(l.name), json!(l.sku), json!(l.unit), decimal(Some(l.quantity)), money(l.revenue), decimal(percent(l.revenue, total)), n(l.deals)]);
    }
    let summary = Map::from_iter([("revenue".into(), money(total)), ("products".into(), json!(products)), ("won_deals_without_lines".into(), n(without_lines))]);
    Ok((summary, vec![t]))
}
