//! The one place where record visibility becomes SQL. Every query that reads owned records
//! (get, list, search, export, timeline, and later reports and webhooks) takes its
//! condition from here; nothing else decides which rows a caller may see.
use accord_domain::permissions::{Scope, Viewer};
use sea_query::{Condition, Expr, ExprTrait};

fn scope_condition(viewer: &Viewer, scope: Scope, table: &'static str) -> Condition {
    let owner = Expr::col((table, "owner_id"));
    let mut cond = Condition::all().add(Expr::col((table, "workspace_id")).eq(viewer.workspace_id));
    cond = match scope {
        Scope::All => cond,
        Scope::Own => cond.add(owner.eq(viewer.user_id)),
        Scope::Team => cond.add(owner.is_in(team_of(viewer))),
        Scope::None => cond.add(Expr::val(1).eq(0)),
    };
    cond
}

fn team_of(viewer: &Viewer) -> Vec<i64> {
    let mut ids = viewer.teammates.clone();
    if !ids.contains(&viewer.user_id) {
        ids.push(viewer.user_id);
    }
    ids
}

/// Rows of `table` (which has `workspace_id` and `owner_id`) that the viewer may read.
pub fn readable(viewer: &Viewer, table: &'static str) -> Condition {
    scope_condition(viewer, viewer.policy.read, table)
}

/// Rows the viewer may change; always a subset of [`readable`].
pub fn editable(viewer: &Viewer, table: &'static str) -> Condition {
    readable(viewer, table).add(scope_condition(viewer, viewer.edit_scope(), table))
}
