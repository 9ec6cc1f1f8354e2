//! `deal_lines`: one row per line of a live deal, carrying the deal's columns that the
//! visibility condition and the products report select on (workspace, owner, status,
//! closing time, currency), so the report sums lines from an index range. Every write of
//! a deal goes through [`sync`]; a trashed deal has no lines until it is restored, and
//! `deleted_at` stays empty only so that the shared visibility condition applies as is.
use super::hooks::{ms, str_of, trashed};
use crate::db::{Conn, Row, get_i64, get_opt_i64, get_opt_str, get_str, query};
use crate::error::{Error, Result};
use crate::records::Record;
use accord_domain::custom_fields::{NUM_SCALE, scale_decimal};
use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;

/// What of a deal its lines carry.
#[derive(PartialEq)]
struct Facts {
    owner_id: i64,
    status: String,
    closed_at: Option<i64>,
    currency: String,
    items: Value,
}

impl Facts {
    /// `None` for a trashed deal: it has no lines.
    fn of(rec: &Record) -> Option<Facts> {
        let rec = Some(rec).filter(|r| !trashed(r))?;
        let items = rec.fields.get("items").cloned().unwrap_or(Value::Null);
        Some(Facts { owner_id: rec.owner_id, status: str_of(rec, "status")?.to_owned(), closed_at: ms(rec, "closed_at"), currency: str_of(rec, "currency")?.to_owned(), items })
    }

    fn from_row(row: &Row) -> Result<Facts> {
        let items = get_opt_str(row, "items")?.unwrap_or_default();
        Ok(Facts {
            owner_id: get_i64(row, "owner_id")?,
            status: get_str(row, "status")?,
            closed_at: get_opt_i64(row, "closed_at")?,
            currency: get_str(row, "currency")?,
            items: serde_json::from_str(&items).map_err(|e| Error::Corrupt(format!("a deal's items are not JSON: {e}")))?,
        })
    }
}

/// A decimal text of a line scaled like every `_num` column; lines were validated when the
/// deal was written, so an unreadable one is corrupt data.
fn scaled(item: &Value, key: &str) -> Result<i64> {
    let text = item.get(key).and_then(Value::as_str).unwrap_or("0");
    let d = Decimal::from_str(text).map_err(|_| Error::Corrupt(format!("a deal line's {key} is not a decimal: {text}")))?;
    scale_decimal(d.round_dp(NUM_SCALE)).map_err(|e| Error::Corrupt(format!("a deal line's {key}: {}", e.message)))
}

async fn write(conn: &mut Conn, workspace_id: i64, deal_id: i64, facts: &Facts) -> Result<()> {
    let items = facts.items.as_array().map(Vec::as_slice).unwrap_or_default();
    for (i, item) in items.iter().enumerate() {
        let text = |k: &str| item.get(k).and_then(Value::as_str).map(str::to_owned);
        query(
            "INSERT INTO deal_lines (deal_id, line, workspace_id, owner_id, status, closed_at, deleted_at, currency, product_id, name, sku, unit, quantity_num, total_num) \
             VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(deal_id)
        .bind(i as i64)
        .bind(workspace_id)
        .bind(facts.owner_id)
        .bind(&facts.status)
        .bind(facts.closed_at)
        .bind(&facts.currency)
        .bind(item.get("product_id").and_then(Value::as_i64))
        .bind(text("name").unwrap_or_default())
        .bind(text("sku"))
        .bind(text("unit"))
        .bind(scaled(item, "quantity")?)
        .bind(scaled(item, "total")?)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Keeps a deal's lines equal to the deal after a write (`after` is `None` when it went
/// to the trash).
pub(crate) async fn sync(conn: &mut Conn, workspace_id: i64, deal_id: i64, before: Option<&Record>, after: Option<&Record>) -> Result<()> {
    let (old, new) = (before.and_then(Facts::of), after.and_then(Facts::of));
    if old == new {
        return Ok(());
    }
    if old.is_some() {
        query("DELETE FROM deal_lines WHERE deal_id = $1").bind(deal_id).execute(&mut *conn).await?;
    }
    match new {
        Some(facts) => write(conn, workspace_id, deal_id, &facts).await,
        None => Ok(()),
    }
}

/// Writes the lines of every live deal of a workspace (or of all workspaces) from the
/// deals themselves: after a restored archive, and once when the table was added.
pub(crate) async fn rebuild(conn: &mut Conn, workspace_id: Option<i64>) -> Result<()> {
    let sql = "SELECT id, workspace_id, owner_id, status, closed_at, currency, items FROM deals WHERE deleted_at IS NULL AND items <> '[]'";
    let rows = match workspace_id {
        Some(w) => query(format!("{sql} AND workspace_id = $1")).bind(w).fetch_all(&mut *conn).await?,
        None => query(sql).fetch_all(&mut *conn).await?,
    };
    if let Some(w) = workspace_id {
        query("DELETE FROM deal_lines WHERE workspace_id = $1").bind(w).execute(&mut *conn).await?;
    }
    for row in rows {
        write(conn, get_i64(&row, "workspace_id")?, get_i64(&row, "id")?, &Facts::from_row(&row)?).await?;
    }
    Ok(())
}
