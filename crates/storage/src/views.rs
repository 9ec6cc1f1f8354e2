//! Saved list views. Everyone keeps views of their own; admins share views with the whole
//! workspace. A view is a preference, not a record: it shows records through the list, so
//! the viewer's visibility still decides what each one sees.
use crate::accounts::Principal;
use crate::db::{Db, Row, get_i64, get_str, query};
use crate::error::{Error, Result};
use crate::now_ms;
use accord_domain::entities::Entity;
use accord_domain::views;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ViewInfo {
    pub id: i64,
    pub entity: Entity,
    pub name: String,
    /// The list's query parameters (filters and `sort`), as `GET /api/v1/{entity}` takes them
    #[schema(value_type = Object)]
    pub params: Map<String, Value>,
    /// The columns shown, in order
    pub columns: Vec<String>,
    /// Shown to every member of the workspace (set by admins)
    pub shared: bool,
    /// Who saved it
    pub user_id: i64,
    /// Whether the caller may change or remove it
    pub editable: bool,
    pub version: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewView {
    /// contacts, companies, products, deals, leads, activities or tasks
    pub entity: String,
    pub name: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub params: Map<String, Value>,
    #[serde(default)]
    pub columns: Vec<String>,
    #[serde(default)]
    pub shared: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewChange {
    /// The version you read; a stale one answers 409.
    pub version: i64,
    pub name: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub params: Option<Map<String, Value>>,
    pub columns: Option<Vec<String>>,
    pub shared: Option<bool>,
}

fn params_json(params: &[(String, String)]) -> String {
    Value::Object(params.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect()).to_string()
}

fn info(p: &Principal, r: &Row) -> Result<ViewInfo> {
    let entity = Entity::parse(&get_str(r, "entity")?).ok_or_else(|| Error::Corrupt("view of an unknown entity".into()))?;
    let user_id = get_i64(r, "user_id")?;
    let shared = get_i64(r, "shared")? == 1;
    Ok(ViewInfo {
        id: get_i64(r, "id")?,
        entity,
        name: get_str(r, "name")?,
        params: serde_json::from_str(&get_str(r, "params")?)?,
        columns: serde_json::from_str(&get_str(r, "columns")?)?,
        shared,
        user_id,
        editable: may_change(p, user_id, shared),
        version: get_i64(r, "version")?,
    })
}

/// Your own views are yours to change; shared ones are the admins'.
fn may_change(p: &Principal, author: i64, shared: bool) -> bool {
    if shared { p.viewer.role.is_admin() } else { author == p.user.id }
}

const COLUMNS: &str = "id, entity, name, params, columns, shared, user_id, version";

/// The views of a list the caller sees: their own and the shared ones, shared first.
pub async fn list(db: &Db, p: &Principal, entity: &str) -> Result<Vec<ViewInfo>> {
    let entity = Entity::named(entity)?;
    let rows = query(format!("SELECT {COLUMNS} FROM saved_views WHERE workspace_id = $1 AND entity = $2 AND (shared = 1 OR user_id = $3) ORDER BY shared DESC, name, id"))
        .bind(p.workspace_id)
        .bind(entity.as_str())
        .bind(p.user.id)
        .fetch_all(db)
        .await?;
    rows.iter().map(|r| info(p, r)).collect()
}

async fn one(db: &Db, p: &Principal, id: i64) -> Result<ViewInfo> {
    let row = query(format!("SELECT {COLUMNS} FROM saved_views WHERE id = $1 AND workspace_id = $2 AND (shared = 1 OR user_id = $3)"))
        .bind(id)
        .bind(p.workspace_id)
        .bind(p.user.id)
        .fetch_optional(db)
        .await?
        .ok_or(Error::NotFound)?;
    info(p, &row)
}

fn require_share_right(p: &Principal, shared: bool) -> Result<()> {
    if shared && !p.viewer.role.is_admin() {
        return Err(Error::Forbidden("only workspace owners and admins share views"));
    }
    Ok(())
}

pub async fn create(db: &Db, p: &Principal, new: NewView) -> Result<ViewInfo> {
    let entity = Entity::named(&new.entity)?;
    require_share_right(p, new.shared)?;
    let custom = crate::custom_fields::for_entity(db, p.workspace_id, entity).await?;
    let v = views::check(entity, &new.name, &new.params, &new.columns, &custom, &p.region)?;
    let now = now_ms();
    let mut tx = db.begin().await?;
    let row = query("INSERT INTO saved_views (workspace_id, user_id, entity, name, params, columns, shared, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $8) RETURNING id")
        .bind(p.workspace_id)
        .bind(p.user.id)
        .bind(entity.as_str())
        .bind(&v.name)
        .bind(params_json(&v.params))
        .bind(serde_json::to_string(&v.columns)?)
        .bind(i64::from(new.shared))
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
    let id = get_i64(&row, "id")?;
    crate::sales::audit_settings(&mut tx, p, "view", id, "create", json!({ "entity": [null, entity.as_str()], "name": [null, v.name], "shared": [null, new.shared] })).await?;
    tx.commit().await?;
    one(db, p, id).await
}

pub async fn update(db: &Db, p: &Principal, id: i64, change: ViewChange) -> Result<ViewInfo> {
    let before = one(db, p, id).await?;
    if !before.editable {
        return Err(Error::Forbidden("only its author changes a view; shared views are the admins'"));
    }
    let shared = change.shared.unwrap_or(before.shared);
    require_share_right(p, shared)?;
    let custom = crate::custom_fields::for_entity(db, p.workspace_id, before.entity).await?;
    let v = views::check(before.entity, change.name.as_deref().unwrap_or(&before.name), change.params.as_ref().unwrap_or(&before.params), change.columns.as_deref().unwrap_or(&before.columns), &custom, &p.region)?;
    let mut tx = db.begin().await?;
    let n = query("UPDATE saved_views SET name = $1, params = $2, columns = $3, shared = $4, version = version + 1, updated_at = $5 WHERE id = $6 AND workspace_id = $7 AND version = $8")
        .bind(&v.name)
        .bind(params_json(&v.params))
        .bind(serde_json::to_string(&v.columns)?)
        .bind(i64::from(shared))
        .bind(now_ms())
        .bind(id)
        .bind(p.workspace_id)
        .bind(change.version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(Error::VersionConflict { expected: change.version, current: before.version });
    }
    crate::sales::audit_settings(&mut tx, p, "view", id, "update", json!({ "name": [before.name, v.name], "shared": [before.shared, shared] })).await?;
    tx.commit().await?;
    one(db, p, id).await
}

pub async fn delete(db: &Db, p: &Principal, id: i64) -> Result<()> {
    let before = one(db, p, id).await?;
    if !before.editable {
        return Err(Error::Forbidden("only its author removes a view; shared views are the admins'"));
    }
    let mut tx = db.begin().await?;
    query("DELETE FROM saved_views WHERE id = $1 AND workspace_id = $2").bind(id).bind(p.workspace_id).execute(&mut *tx).await?;
    crate::sales::audit_settings(&mut tx, p, "view", id, "delete", json!({ "name": [before.name, null] })).await?;
    tx.commit().await?;
    Ok(())
}
