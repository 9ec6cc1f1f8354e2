//! Price lists: named sets of product prices in one currency (retail, wholesale, dealer …).
//! Admins keep them; a deal that follows one takes its lines' prices from it
//! ([`super::hooks::before_prepare`]), and a line may still name its own price.
use super::{audit_settings, names_json, parse_names};
use crate::accounts::Principal;
use crate::db::{Db, Row, get_i64, get_str, query};
use crate::error::{Error, Result};
use crate::now_ms;
use accord_domain::ValidationErrors;
use accord_domain::entities::Entity;
use accord_domain::sales::{Names, round_money};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use std::str::FromStr;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PriceListInfo {
    pub id: i64,
    /// In the caller's language.
    pub name: String,
    pub names: Names,
    pub currency: String,
    /// Inactive lists stay on the deals that follow them but are not offered for new ones.
    pub active: bool,
    pub version: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPriceList {
    pub names: Names,
    /// ISO 4217 code; the list's prices are in it
    pub currency: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceListChange {
    /// The version you read; a stale one answers 409.
    pub version: i64,
    pub names: Option<Names>,
    pub active: Option<bool>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListPrice {
    pub product_id: i64,
    /// The product's name, for showing the list
    pub product_name: String,
    /// Decimal string in the list's currency
    pub price: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceInput {
    /// Decimal string (or number) in the list's currency
    #[schema(value_type = String)]
    pub price: serde_json::Value,
}

const COLUMNS: &str = "id, names, currency, active, version";

fn info(p: &Principal, r: &Row) -> Result<PriceListInfo> {
    let names = parse_names(&get_str(r, "names")?);
    Ok(PriceListInfo { id: get_i64(r, "id")?, name: names.for_locale(&p.user.locale).to_owned(), names, currency: get_str(r, "currency")?, active: get_i64(r, "active")? != 0, version: get_i64(r, "version")? })
}

pub async fn list(db: &Db, p: &Principal) -> Result<Vec<PriceListInfo>> {
    let rows = query(format!("SELECT {COLUMNS} FROM price_lists WHERE workspace_id = $1 ORDER BY position, id")).bind(p.workspace_id).fetch_all(db).await?;
    rows.iter().map(|r| info(p, r)).collect()
}

pub async fn one(db: &Db, p: &Principal, id: i64) -> Result<PriceListInfo> {
    let row = query(format!("SELECT {COLUMNS} FROM price_lists WHERE id = $1 AND workspace_id = $2")).bind(id).bind(p.workspace_id).fetch_optional(db).await?.ok_or(Error::NotFound)?;
    info(p, &row)
}

pub async fn create(db: &Db, p: &Principal, new: NewPriceList) -> Result<PriceListInfo> {
    p.require_admin()?;
    let mut errors = ValidationErrors::new();
    let names = new.names.clean("names", &mut errors);
    let currency = errors.check("currency", accord_domain::custom_fields::currency(&new.currency));
    errors.into_result()?;
    let currency = currency.unwrap_or_default();
    let now = now_ms();
    let mut tx = db.begin().await?;
    let position = query("SELECT COUNT(*) AS n FROM price_lists WHERE workspace_id = $1").bind(p.workspace_id).fetch_one(&mut *tx).await?;
    let row = query("INSERT INTO price_lists (workspace_id, names, currency, position, active, version, created_at, updated_at) VALUES ($1, $2, $3, $4, 1, 1, $5, $5) RETURNING id")
        .bind(p.workspace_id)
        .bind(names_json(&names))
        .bind(&currency)
        .bind(get_i64(&position, "n")?)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
    let id = get_i64(&row, "id")?;
    audit_settings(&mut tx, p, "price_list", id, "create", json!({ "names": [null, names], "currency": [null, currency] })).await?;
    tx.commit().await?;
    one(db, p, id).await
}

pub async fn update(db: &Db, p: &Principal, id: i64, change: PriceListChange) -> Result<PriceListInfo> {
    p.require_admin()?;
    let before = one(db, p, id).await?;
    let mut errors = ValidationErrors::new();
    let names = change.names.as_ref().map_or_else(|| before.names.clone(), |n| n.clean("names", &mut errors));
    errors.into_result()?;
    let active = change.active.unwrap_or(before.active);
    let mut tx = db.begin().await?;
    let n = query("UPDATE price_lists SET names = $1, active = $2, version = version + 1, updated_at = $3 WHERE id = $4 AND workspace_id = $5 AND version = $6")
        .bind(names_json(&names))
        .bind(i64::from(active))
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
    audit_settings(&mut tx, p, "price_list", id, "update", json!({ "names": [before.names, names], "active": [before.active, active] })).await?;
    tx.commit().await?;
    one(db, p, id).await
}

/// Removes a list no deal follows (the trash included); one in use is deactivated instead.
pub async fn delete(db: &Db, p: &Principal, id: i64) -> Result<()> {
    p.require_admin()?;
    one(db, p, id).await?;
    let mut tx = db.begin().await?;
    let used = query("SELECT COUNT(*) AS n FROM deals WHERE workspace_id = $1 AND price_list_id = $2").bind(p.workspace_id).bind(id).fetch_one(&mut *tx).await?;
    let used = get_i64(&used, "n")?;
    if used > 0 {
        return Err(Error::conflict("price_list_in_use", format!("{used} deals follow this price list: make it inactive instead")));
    }
    query("DELETE FROM price_list_prices WHERE price_list_id = $1").bind(id).execute(&mut *tx).await?;
    query("DELETE FROM price_lists WHERE id = $1 AND workspace_id = $2").bind(id).bind(p.workspace_id).execute(&mut *tx).await?;
    audit_settings(&mut tx, p, "price_list", id, "delete", json!({})).await?;
    tx.commit().await?;
    Ok(())
}

/// The list's prices by product, after `after` (a product id), as many as `limit`.
pub async fn prices(db: &Db, p: &Principal, id: i64, after: i64, limit: i64) -> Result<Vec<ListPrice>> {
    one(db, p, id).await?;
    let rows = query("SELECT pp.product_id, pp.price, pr.display_name FROM price_list_prices pp JOIN products pr ON pr.id = pp.product_id WHERE pp.price_list_id = $1 AND pp.product_id > $2 ORDER BY pp.product_id LIMIT $3")
        .bind(id)
        .bind(after)
        .bind(limit)
        .fetch_all(db)
        .await?;
    rows.iter().map(|r| Ok(ListPrice { product_id: get_i64(r, "product_id")?, product_name: get_str(r, "display_name")?, price: get_str(r, "price")? })).collect()
}

/// Sets a product's price in the list.
pub async fn set_price(db: &Db, p: &Principal, id: i64, product_id: i64, input: PriceInput) -> Result<ListPrice> {
    p.require_admin()?;
    one(db, p, id).await?;
    let product = crate::records::get(db, &p.viewer, Entity::Product, product_id, false).await?;
    let text = match &input.price {
        serde_json::Value::String(s) => s.trim().to_owned(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => String::new(),
    };
    let price = Decimal::from_str(&text).ok().filter(|d| !d.is_sign_negative() && d.scale() <= 2).ok_or_else(|| ValidationErrors::single("price", "not_a_price", "must be a non-negative amount with at most 2 decimals"))?;
    let price = round_money(price).to_string();
    let mut tx = db.begin().await?;
    query("DELETE FROM price_list_prices WHERE price_list_id = $1 AND product_id = $2").bind(id).bind(product_id).execute(&mut *tx).await?;
    query("INSERT INTO price_list_prices (price_list_id, product_id, price, updated_at) VALUES ($1, $2, $3, $4)").bind(id).bind(product_id).bind(&price).bind(now_ms()).execute(&mut *tx).await?;
    audit_settings(&mut tx, p, "price_list", id, "price", json!({ "product_id": product_id, "price": price })).await?;
    tx.commit().await?;
    Ok(ListPrice { product_id, product_name: product.fields.get("display_name").and_then(|v| v.as_str()).unwrap_or_default().to_owned(), price })
}

pub async fn remove_price(db: &Db, p: &Principal, id: i64, product_id: i64) -> Result<()> {
    p.require_admin()?;
    one(db, p, id).await?;
    let mut tx = db.begin().await?;
    let n = query("DELETE FROM price_list_prices WHERE price_list_id = $1 AND product_id = $2").bind(id).bind(product_id).execute(&mut *tx).await?.rows_affected();
    if n == 0 {
        return Err(Error::NotFound);
    }
    audit_settings(&mut tx, p, "price_list", id, "price", json!({ "product_id": product_id, "price": null })).await?;
    tx.commit().await?;
    Ok(())
}

/// The prices a list of this workspace gives the products asked for (one query for a deal's lines).
pub(crate) async fn prices_of(db: &Db, workspace_id: i64, list_id: i64, product_ids: &[i64]) -> Result<HashMap<i64, String>> {
    if product_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let marks: Vec<String> = (0..product_ids.len()).map(|i| format!("${}", i + 3)).collect();
    let sql = format!(
        "SELECT pp.product_id, pp.price FROM price_list_prices pp JOIN price_lists l ON l.id = pp.price_list_id AND l.workspace_id = $2 WHERE pp.price_list_id = $1 AND pp.product_id IN ({})",
        marks.join(", ")
    );
    let mut q = query(sql).bind(list_id).bind(workspace_id);
    for id in product_ids {
        q = q.bind(*id);
    }
    q.fetch_all(db).await?.iter().map(|r| Ok((get_i64(r, "product_id")?, get_str(r, "price")?))).collect()
}
