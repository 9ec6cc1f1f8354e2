//! Reports about customers: purchase frequency, repeat customers, churn and retention
//! cohorts. A customer is the company of a won deal, or its first contact where it has no
//! company; deals with neither are counted apart.
use super::{Ctx, Figures, T};
use crate::db::get_opt_i64;
use crate::error::{Error, Result};
use accord_domain::entities::Entity;
use accord_domain::reports::{ColumnKind as K, Customer, Customers, Grouping, Periods, Table, decimal, percent, ratio};
use rust_decimal::Decimal;
use sea_query::{Expr, ExprTrait, Query};
use serde_json::{Map, Value, json};

/// Every visible won deal closed before `until_ms`, by customer: earlier purchases decide
/// who is new and who is a repeat customer. Read from the closed deals' index alone, which
/// holds the company and the first contact.
async fn purchases(ctx: &Ctx<'_>, until_ms: i64) -> Result<(Customers, i64)> {
    let mut q = Query::select();
    q.from_as("deals", T)
        .columns([(T, "closed_at"), (T, "company_id"), (T, "first_contact_id")])
        .cond_where(ctx.condition(Entity::Deal)?)
        .and_where(Expr::col((T, "status")).eq("won"))
        .and_where(Expr::col((T, "closed_at")).lt(until_ms));
    let mut customers = Customers::default();
    let mut anonymous = 0;
    ctx.db
        .stmt(&q)?
        .for_each(ctx.db, |r| {
            let Some(at) = get_opt_i64(r, "closed_at")? else { return Ok(()) };
            match (get_opt_i64(r, "company_id")?, get_opt_i64(r, "first_contact_id")?) {
                (Some(c), _) => customers.add(Customer::Company(c), at),
                (None, Some(c)) => customers.add(Customer::Contact(c), at),
                (None, None) => anonymous += 1,
            }
            Ok(())
        })
        .await?;
    Ok((customers, anonymous))
}

fn end_ms(p: &Periods) -> i64 {
    p.list.last().map_or(0, |p| p.end_ms)
}

pub async fn purchase_frequency(ctx: &mut Ctx<'_>) -> Result<Figures> {
    let (customers, anonymous) = purchases(ctx, end_ms(&ctx.periods)).await?;
    let rows = customers.frequency(&ctx.periods);
    let mut t = Table::new(
        "purchase_frequency",
        &[("period", K::Period), ("customers", K::Count), ("won_deals", K::Count), ("deals_per_customer", K::Decimal), ("repeat_customers", K::Count), ("repeat_share", K::Percent)],
    );
    for (p, r) in ctx.periods.list.iter().zip(&rows) {
        let (c, d, rep) = (Decimal::from(r.customers), Decimal::from(r.deals), Decimal::from(r.repeat));
        t.push(vec![json!(p.label), json!(r.customers), json!(r.deals), decimal(ratio(d, c)), json!(r.repeat), decimal(percent(rep, c))]);
    }
    // Over the whole range: one period spanning it.
    let whole = Periods { grouping: ctx.periods.grouping, list: whole_range(&ctx.periods).into_iter().collect() };
    let total = customers.frequency(&whole);
    let in_range = total.first().map_or((0, 0), |r| (r.customers, r.deals));
    let buying_twice = customers.buying_at_least(2, &whole);
    let summary = Map::from_iter([
        ("customers".into(), json!(in_range.0)),
        ("won_deals".into(), json!(in_range.1)),
        ("deals_per_customer".into(), decimal(ratio(Decimal::from(in_range.1), Decimal::from(in_range.0)))),
        ("customers_buying_twice_or_more".into(), json!(buying_twice)),
        ("repeat_share".into(), decimal(percent(Decimal::from(buying_twice), Decimal::from(in_range.0)))),
        ("won_deals_without_customer".into(), json!(anonymous)),
    ]);
    Ok((summary, vec![t]))
}

fn whole_range(p: &Periods) -> Option<accord_domain::reports::Period> {
    let (first, last) = (p.list.first()?, p.list.last()?);
    Some(accord_domain::reports::Period { label: format!("{}..{}", first.first_day, last.last_day), first_day: first.first_day, last_day: last.last_day, start_ms: first.start_ms, end_ms: last.end_ms })
}

pub async fn churn(ctx: &mut Ctx<'_>) -> Result<Figures> {
    let g = ctx.req.grouping;
    // The period before the first one is what the first is compared with.
    let before = g.shift(g.start_of(ctx.req.from), -1);
    let with_previous = Periods::new(before, ctx.req.to, g, ctx.tz).map_err(|e| Error::from(accord_domain::ValidationErrors::single("group_by", e.code, e.message)))?;
    ctx.periods = Periods { grouping: g, list: with_previous.list[1..].to_vec() };
    let (customers, _) = purchases(ctx, end_ms(&with_previous)).await?;
    let mut t = Table::new(
        "churn",
        &[
            ("period", K::Period),
            ("customers", K::Count),
            ("new_customers", K::Count),
            ("retained", K::Count),
            ("churned", K::Count),
            ("churn_rate", K::Percent),
            ("retention_rate", K::Percent),
        ],
    );
    let rows = customers.churn(&with_previous);
    let (mut churned, mut previous) = (0, 0);
    for (p, r) in ctx.periods.list.iter().zip(&rows) {
        churned += r.churned;
        previous += r.previous;
        let prev = Decimal::from(r.previous);
        t.push(vec![json!(p.label), json!(r.customers), json!(r.new), json!(r.retained), json!(r.churned), decimal(percent(Decimal::from(r.churned), prev)), decimal(percent(Decimal::from(r.retained), prev))]);
    }

    // Retention of monthly cohorts by first purchase: the share of each cohort buying in
    // each month after.
    let months = Periods::new(ctx.req.from, ctx.req.to, Grouping::Month, ctx.tz).map_err(|e| Error::from(accord_domain::ValidationErrors::single("from", e.code, e.message)))?;
    let cohorts = customers.cohorts(&months);
    let mut columns: Vec<(String, K)> = vec![("cohort".into(), K::Period), ("customers".into(), K::Count)];
    columns.extend((0..months.len()).map(|i| (format!("month_{i}"), K::Percent)));
    let column_refs: Vec<(&str, K)> = columns.iter().map(|(k, kind)| (k.as_str(), *kind)).collect();
    let mut c = Table::new("cohorts", &column_refs);
    for row in &cohorts {
        let size = Decimal::from(row.customers);
        let mut values = vec![json!(row.label), json!(row.customers)];
        values.extend((0..months.len()).map(|i| row.active.get(i).map_or(Value::Null, |&a| decimal(percent(Decimal::from(a), size)))));
        c.push(values);
    }
    let summary = Map::from_iter([("churned".into(), json!(churned)), ("churn_rate".into(), decimal(percent(Decimal::from(churned), Decimal::from(previous))))]);
    Ok((summary, vec![t, c]))
}
