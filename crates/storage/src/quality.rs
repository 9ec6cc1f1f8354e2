//! The report of incomplete records: what a base migrated from spreadsheets typically lacks
//! (no way to reach a person, no company, no INN, an owner who left), as counts over what the
//! caller can see, with the first records of each for fixing.
use crate::accounts::Principal;
use crate::db::{Db, get_i64};
use crate::error::Result;
use crate::records::T;
use crate::visibility;
use accord_domain::ValidationErrors;
use accord_domain::entities::Entity;
use sea_query::{Alias, Condition, Expr, ExprTrait, Order, Query};
use serde::Serialize;
use utoipa::ToSchema;

/// Counts stop here: the report answers at once on any base.
const CAP: usize = 10_000;
const SAMPLE: usize = 20;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Finding {
    /// `no_way_to_reach`, `no_company`, `no_inn`, `inactive_owner`
    pub check: &'static str,
    pub count: usize,
    /// The count reached the cap of 10,000.
    pub capped: bool,
    /// The oldest such records.
    pub sample: Vec<i64>,
}

fn checks(entity: Entity, workspace_id: i64) -> Vec<(&'static str, Condition)> {
    let inactive_owner = Expr::col((T, "owner_id")).not_in_subquery(
        Query::select().column("user_id").from("memberships").and_where(Expr::col("workspace_id").eq(workspace_id)).and_where(Expr::col("active").eq(1)).to_owned(),
    );
    let unreachable = Condition::all().add(Expr::col((T, "emails")).eq("[]")).add(Expr::col((T, "phones")).eq("[]"));
    match entity {
        Entity::Contact => vec![("no_way_to_reach", unreachable), ("no_company", Condition::all().add(Expr::col((T, "primary_company_id")).is_null())), ("inactive_owner", Condition::all().add(inactive_owner))],
        _ => vec![("no_way_to_reach", unreachable), ("no_inn", Condition::all().add(Expr::col((T, "inn")).is_null()).add(Expr::col((T, "kind")).ne("other"))), ("inactive_owner", Condition::all().add(inactive_owner))],
    }
}

pub async fn report(db: &Db, p: &Principal, entity: Entity) -> Result<Vec<Finding>> {
    if !matches!(entity, Entity::Contact | Entity::Company) {
        return Err(ValidationErrors::single("entity", "unknown_value", "the report covers contacts and companies").into());
    }
    let mut out = Vec::new();
    for (check, condition) in checks(entity, p.workspace_id) {
        let mut s = Query::select();
        s.column((T, "id"))
            .from_as(Alias::new(entity.table()), T)
            .cond_where(visibility::readable(&p.viewer, T))
            .and_where(Expr::col((T, "workspace_id")).eq(p.workspace_id))
            .and_where(Expr::col((T, "deleted_at")).is_null())
            .cond_where(condition)
            .order_by((T, "id"), Order::Asc)
            .limit(CAP as u64 + 1);
        let ids: Vec<i64> = db.fetch_all(&s).await?.iter().map(|r| get_i64(r, "id")).collect::<Result<_>>()?;
        out.push(Finding { check, count: ids.len().min(CAP), capped: ids.len() > CAP, sample: ids.into_iter().take(SAMPLE).collect() });
    }
    Ok(out)
}
