//! Reports about leads and people's work: lead conversion by source or campaign, and
//! activity per user.
use super::{Ctx, Figures, T, bucket_ms, bucket_of};
use crate::db::{get_i64, get_opt_i64, get_opt_str, get_str};
use crate::error::Result;
use crate::visibility;
use accord_domain::entities::Entity;
use accord_domain::reports::{ColumnKind as K, LeadDimension, Table, decimal, percent};
use rust_decimal::Decimal;
use sea_query::{Condition, Expr, ExprTrait, IntoTableRef, Query, SelectStatement};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

#[derive(Default, Clone, Copy)]
struct Funnel {
    leads: i64,
    qualified: i64,
    disqualified: i64,
    deals: i64,
    won: i64,
}

impl Funnel {
    fn add(&mut self, o: &Funnel) {
        self.leads += o.leads;
        self.qualified += o.qualified;
        self.disqualified += o.disqualified;
        self.deals += o.deals;
        self.won += o.won;
    }

    fn cells(&self) -> Vec<Value> {
        let d = |n: i64| Decimal::from(n);
        vec![
            json!(self.leads),
            json!(self.qualified),
            json!(self.disqualified),
            json!(self.deals),
            json!(self.won),
            decimal(percent(d(self.qualified), d(self.leads))),
            decimal(percent(d(self.deals), d(self.qualified))),
            decimal(percent(d(self.won), d(self.deals))),
            decimal(percent(d(self.won), d(self.leads))),
        ]
    }
}

const FUNNEL_COLUMNS: [(&str, K); 9] = [
    ("leads", K::Count),
    ("qualified", K::Count),
    ("disqualified", K::Count),
    ("deals", K::Count),
    ("won", K::Count),
    ("qualified_rate", K::Percent),
    ("deal_rate", K::Percent),
    ("win_rate", K::Percent),
    ("lead_to_won_rate", K::Percent),
];

/// Leads created in the range, by source, UTM source, UTM campaign or period: how many
/// were qualified (converted), became deals, and whose deals were won. A lead's deal counts
/// only if the caller may see it.
pub async fn conversion(ctx: &mut Ctx<'_>) -> Result<Figures> {
    let dim = ctx.req.dimension;
    let mut q = Query::select();
    q.from_as("leads", T)
        .left_join("deals".into_table_ref().alias("d"), Condition::all().add(Expr::col(("d", "id")).equals((T, "deal_id"))).add(Expr::col(("d", "deleted_at")).is_null()).add(visibility::readable(&ctx.p.viewer, "d")))
        .cond_where(ctx.condition(Entity::Lead)?)
        .cond_where(ctx.in_range("created_at"))
        .column((T, "status"))
        .expr_as(Expr::cust("COUNT(*)"), "n")
        .expr_as(Expr::cust("SUM(CASE WHEN d.id IS NULL THEN 0 ELSE 1 END)"), "deals")
        .expr_as(Expr::cust("SUM(CASE WHEN d.status = 'won' THEN 1 ELSE 0 END)"), "won");
    match dim.column() {
        Some(col) => {
            q.expr_as(Expr::col((T, col)), "g").add_group_by([Expr::col((T, col)), Expr::col((T, "status"))]);
        }
        None => {
            q.expr_as(bucket_ms("created_at", &ctx.periods), "bucket").add_group_by([Expr::cust("bucket"), Expr::col((T, "status"))]);
        }
    }
    let mut groups: BTreeMap<Option<String>, Funnel> = BTreeMap::new();
    let mut periods = vec![Funnel::default(); ctx.periods.len()];
    for r in ctx.db.fetch_all(&q).await? {
        let status = get_str(&r, "status")?;
        let f = Funnel {
            leads: get_i64(&r, "n")?,
            qualified: if status == "qualified" { get_i64(&r, "n")? } else { 0 },
            disqualified: if status == "disqualified" { get_i64(&r, "n")? } else { 0 },
            deals: get_opt_i64(&r, "deals")?.unwrap_or(0),
            won: get_opt_i64(&r, "won")?.unwrap_or(0),
        };
        match dim {
            LeadDimension::Period => periods[bucket_of(&r)?].add(&f),
            _ => groups.entry(get_opt_str(&r, "g")?).or_default().add(&f),
        }
    }
    let mut total = Funnel::default();
    let table = match dim {
        LeadDimension::Period => {
            let mut columns = vec![("period", K::Period)];
            columns.extend(FUNNEL_COLUMNS);
            let mut t = Table::new("conversion", &columns);
            for (p, f) in ctx.periods.list.iter().zip(&periods) {
                total.add(f);
                let mut row = vec![json!(p.label)];
                row.extend(f.cells());
                t.push(row);
            }
            t
        }
        _ => {
            let key = dim.column().unwrap_or("source");
            let mut columns = vec![(key, K::Text)];
            columns.extend(FUNNEL_COLUMNS);
            let mut t = Table::new("conversion", &columns);
            let mut list: Vec<_> = groups.into_iter().collect();
            list.sort_by(|a, b| b.1.leads.cmp(&a.1.leads).then(a.0.cmp(&b.0)));
            for (g, f) in list {
                total.add(&f);
                let mut row = vec![json!(g)];
                row.extend(f.cells());
                t.push(row);
            }
            t
        }
    };
    let summary = FUNNEL_COLUMNS.iter().map(|(k, _)| (*k).to_owned()).zip(total.cells()).collect();
    Ok((summary, vec![table]))
}

/// Queries whose rows (`owner_id`, `kind`, `n`) add up to the done activities of the range.
/// Without filters but on owners and teams, and where the range's bounds are whole UTC
/// hours (every time zone but a few), they read the counters: whole UTC days, and the hours
/// before the first and after the last of them. Otherwise they count the activities.
fn done_activities(ctx: &Ctx<'_>) -> Result<Vec<SelectStatement>> {
    let bounds = ctx.periods.bounds_ms();
    let (from, to) = (bounds.first().copied().unwrap_or(0), bounds.last().copied().unwrap_or(0));
    let spans = if ctx.counters_serve(&[]) { crate::sales::spans::covering(from, to) } else { None };
    let Some(spans) = spans else {
        let mut q = Query::select();
        q.from_as("activities", T)
            .column((T, "owner_id"))
            .column((T, "kind"))
            .expr_as(Expr::cust("COUNT(*)"), "n")
            .cond_where(ctx.condition(Entity::Activity)?)
            .cond_where(ctx.in_range("done_at"))
            .and_where(Expr::col((T, "status")).eq("done"))
            .add_group_by([Expr::col((T, "owner_id")), Expr::col((T, "kind"))]);
        return Ok(vec![q]);
    };
    // The counters carry the workspace, owner and trash columns the condition reads.
    let visible = ctx.condition(Entity::Activity)?;
    Ok(spans
        .into_iter()
        .map(|(hours, a, b)| {
            let mut q = Query::select();
            q.from_as("activity_counts", T)
                .column((T, "owner_id"))
                .column((T, "kind"))
                .expr_as(Expr::cust("CAST(SUM(t.done) AS BIGINT)"), "n")
                .cond_where(visible.clone())
                .and_where(Expr::col((T, "span_hours")).eq(hours))
                .and_where(Expr::col((T, "start_at")).gte(a))
                .and_where(Expr::col((T, "start_at")).lt(b))
                .add_group_by([Expr::col((T, "owner_id")), Expr::col((T, "kind"))]);
            q
        })
        .collect())
}

/// Per user: calls, meetings and e-mails done (by completion time), tasks done (by
/// completion time) and tasks still open whose due time in the range has passed.
pub async fn activity(ctx: &mut Ctx<'_>) -> Result<Figures> {
    const KINDS: [&str; 4] = ["call", "meeting", "email", "note"];
    let mut per: BTreeMap<i64, [i64; 6]> = BTreeMap::new();
    for q in done_activities(ctx)? {
        for r in ctx.db.fetch_all(&q).await? {
            let kind = get_str(&r, "kind")?;
            if let Some(i) = KINDS.iter().position(|k| *k == kind) {
                per.entry(get_i64(&r, "owner_id")?).or_default()[i] += get_i64(&r, "n")?;
            }
        }
    }
    let tasks = ctx.condition(Entity::Task)?;
    let mut done = Query::select();
    done.from_as("tasks", T)
        .column((T, "owner_id"))
        .expr_as(Expr::cust("COUNT(*)"), "n")
        .cond_where(tasks.clone())
        .cond_where(ctx.in_range("completed_at"))
        .and_where(Expr::col((T, "status")).eq("done"))
        .group_by_col((T, "owner_id"));
    for r in ctx.db.fetch_all(&done).await? {
        per.entry(get_i64(&r, "owner_id")?).or_default()[4] += get_i64(&r, "n")?;
    }
    let bounds = ctx.periods.bounds_ms();
    let (first, last) = (bounds.first().copied().unwrap_or(0), Ord::min(bounds.last().copied().unwrap_or(0), crate::now_ms()));
    let mut overdue = Query::select();
    overdue
        .from_as("tasks", T)
        .column((T, "owner_id"))
        .expr_as(Expr::cust("COUNT(*)"), "n")
        .cond_where(tasks)
        .and_where(Expr::col((T, "status")).eq("open"))
        .and_where(Expr::col((T, "due_at")).gte(first))
        .and_where(Expr::col((T, "due_at")).lt(last))
        .group_by_col((T, "owner_id"));
    for r in ctx.db.fetch_all(&overdue).await? {
        per.entry(get_i64(&r, "owner_id")?).or_default()[5] += get_i64(&r, "n")?;
    }
    let names = ctx.user_names(per.keys().copied()).await?;
    let mut list: Vec<_> = per.into_iter().collect();
    list.sort_by(|a, b| names.get(&a.0).cmp(&names.get(&b.0)));
    let columns = [("calls", K::Count), ("meetings", K::Count), ("emails", K::Count), ("notes", K::Count), ("tasks_done", K::Count), ("tasks_overdue", K::Count)];
    let mut all = vec![("user_id", K::Id), ("user", K::Text)];
    all.extend(columns);
    let mut t = Table::new("activity", &all);
    let mut total = [0i64; 6];
    for (id, counts) in list {
        for (s, c) in total.iter_mut().zip(counts) {
            *s += c;
        }
        let mut row = vec![json!(id), json!(names.get(&id))];
        row.extend(counts.iter().map(|c| json!(c)));
        t.push(row);
    }
    let summary: Map<String, Value> = columns.iter().map(|(k, _)| (*k).to_owned()).zip(total.iter().map(|c| json!(c))).collect();
    Ok((summary, vec![t]))
}
