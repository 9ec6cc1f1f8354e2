//! The kanban board of a pipeline: per stage the visible deals' count and total in the base
//! currency and a page of cards in board order; and moving a card.
use super::{Converter, PipelineInfo, StageInfo};
use crate::accounts::Principal;
use crate::db::{Db, get_i64, get_opt_i64, get_str, query};
use crate::error::{Error, Result};
use crate::records::{self, Record, WriteOptions};
use accord_domain::ValidationErrors;
use accord_domain::entities::Entity;
use accord_domain::query::{CustomField, Filter};
use rust_decimal::Decimal;
use sea_query::{Expr, ExprTrait, Order, Query};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct Money {
    /// Decimal string with two places.
    pub amount: String,
    pub currency: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BoardColumn {
    pub stage: StageInfo,
    /// Visible deals in the stage that match the filters.
    pub count: i64,
    /// Their amounts in the workspace's base currency, each at today's rate.
    pub total: Money,
    /// Amounts in currencies without an exchange rate, left out of `total`.
    pub unconverted: Vec<Money>,
    #[schema(value_type = Vec<Object>)]
    pub deals: Vec<Value>,
    /// Pass as `cursor` with `stage_id` for the next cards of this column.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Board {
    pub pipeline: PipelineInfo,
    pub columns: Vec<BoardColumn>,
}

fn cursor_of(rec: &Record, position: i64) -> String {
    format!("{position}_{}", rec.id)
}

fn parse_cursor(c: &str) -> Result<(i64, i64)> {
    c.split_once('_').and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?))).ok_or_else(|| ValidationErrors::single("cursor", "invalid_cursor", "is not a cursor of this column").into())
}

/// The board, or with `only_stage` one column continued after `cursor`.
pub async fn board(db: &Db, p: &Principal, pipeline_id: i64, filters: &[Filter], limit: u32, only_stage: Option<i64>, cursor: Option<&str>) -> Result<Board> {
    let pipeline = super::pipeline(db, p, pipeline_id).await?;
    if only_stage.is_some_and(|s| !pipeline.stages.iter().any(|st| st.id == s)) {
        return Err(ValidationErrors::single("stage_id", "not_in_pipeline", "is not a stage of this pipeline").into());
    }
    let cursor = cursor.map(parse_cursor).transpose()?;
    let base_condition = || {
        let mut c = records::list_condition(&p.viewer, Entity::Deal, filters, false);
        c = c.add(Expr::col((records::T, "pipeline_id")).eq(pipeline_id));
        c
    };
    // Without filters the kept totals answer (visibility applies to their owner column);
    // filters need the deals themselves.
    let mut totals = Query::select();
    totals.column((records::T, "stage_id")).column((records::T, "currency"));
    if filters.is_empty() {
        totals
            .expr_as(Expr::cust("CAST(SUM(t.deals) AS BIGINT)"), "n")
            .expr_as(Expr::cust("CAST(SUM(t.amount_num) AS BIGINT)"), "s")
            .from_as("deal_totals", records::T)
            .cond_where(crate::visibility::readable(&p.viewer, records::T))
            .and_where(Expr::col((records::T, "pipeline_id")).eq(pipeline_id));
    } else {
        totals
            .expr_as(Expr::cust("COUNT(*)"), "n")
            .expr_as(Expr::cust("CAST(SUM(t.amount_num) AS BIGINT)"), "s")
            .from_as("deals", records::T)
            .cond_where(base_condition());
    }
    totals.group_by_col((records::T, "stage_id")).group_by_col((records::T, "currency"));
    if let Some(s) = only_stage {
        totals.and_where(Expr::col((records::T, "stage_id")).eq(s));
    }
    let sums = db.fetch_all(&totals).await?;
    let converter = Converter::load(db, p.workspace_id).await?;
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let mut columns = Vec::new();
    for stage in pipeline.stages.iter().filter(|s| only_stage.is_none_or(|o| o == s.id)) {
        let (mut count, mut total, mut unconverted) = (0, Decimal::ZERO, Vec::new());
        for r in &sums {
            if get_i64(r, "stage_id")? != stage.id {
                continue;
            }
            count += get_i64(r, "n")?;
            let amount = Decimal::new(get_opt_i64(r, "s")?.unwrap_or(0), accord_domain::custom_fields::NUM_SCALE);
            let currency = get_str(r, "currency")?;
            match converter.to_base(amount, &currency, &today) {
                Some(a) => total += a,
                None => unconverted.push(Money { amount: format!("{:.2}", amount), currency }),
            }
        }
        let mut cards = records::select(Entity::Deal, None);
        cards.expr_as(Expr::col((records::T, "board_position")), "board_position");
        cards.cond_where(base_condition()).and_where(Expr::col((records::T, "stage_id")).eq(stage.id));
        if let Some((pos, id)) = cursor.filter(|_| only_stage.is_some()) {
            let after = Expr::col((records::T, "board_position")).gt(pos).or(Expr::col((records::T, "board_position")).eq(pos).and(Expr::col((records::T, "id")).gt(id)));
            cards.and_where(after);
        }
        cards.order_by((records::T, "board_position"), Order::Asc).order_by((records::T, "id"), Order::Asc).limit(u64::from(limit) + 1);
        let rows = db.fetch_all(&cards).await?;
        let mut deals = Vec::new();
        let mut last = None;
        for row in rows.iter().take(limit as usize) {
            let rec = records::from_row(Entity::Deal, row)?;
            last = Some(cursor_of(&rec, get_opt_i64(row, "board_position")?.unwrap_or(0)));
            deals.push(Value::Object(rec.fields));
        }
        let next_cursor = if rows.len() > limit as usize { last } else { None };
        let total = Money { amount: format!("{:.2}", accord_domain::sales::round_money(total)), currency: converter.base().to_owned() };
        columns.push(BoardColumn { stage: stage.clone(), count, total, unconverted, deals, next_cursor });
    }
    Ok(Board { pipeline, columns })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveRequest {
    /// A stage of the deal's pipeline (use PATCH to change the pipeline).
    pub stage_id: i64,
    /// The version you read; a stale one answers 409.
    pub version: i64,
    /// Required when the stage is a lost one.
    pub lost_reason_id: Option<i64>,
    pub lost_comment: Option<String>,
    /// Place the card right below this deal of the target column…
    pub after_id: Option<i64>,
    /// …or right above this one. Without either, a card arriving in a column goes on top.
    pub before_id: Option<i64>,
}

/// Moves a card: one versioned update of the stage (audited, with stage history) and,
/// when asked, its place among the column's cards.
pub async fn move_deal(db: &Db, p: &Principal, id: i64, m: MoveRequest, custom: &[CustomField]) -> Result<Record> {
    if m.after_id.is_some() && m.before_id.is_some() {
        return Err(ValidationErrors::single("before_id", "conflicting", "give after_id or before_id, not both").into());
    }
    let mut patch = Map::new();
    patch.insert("stage_id".into(), json!(m.stage_id));
    if let Some(r) = m.lost_reason_id {
        patch.insert("lost_reason_id".into(), json!(r));
    }
    if let Some(c) = &m.lost_comment {
        patch.insert("lost_comment".into(), json!(c));
    }
    let mut tx = db.begin().await?;
    let rec = records::update_in(db, &mut tx, p, Entity::Deal, id, &patch, Some(m.version), custom, &WriteOptions { allow_duplicates: true }).await?;
    if let Some((neighbour, below)) = m.after_id.map(|a| (a, true)).or(m.before_id.map(|b| (b, false))) {
        let field = if below { "after_id" } else { "before_id" };
        let (stage, pos) = super::hooks::board_position(&mut tx, p.workspace_id, neighbour).await?.ok_or_else(|| Error::from(ValidationErrors::single(field, "unknown_deal", "no such deal")))?;
        if stage != m.stage_id {
            return Err(ValidationErrors::single(field, "other_column", "is not a card of the target column").into());
        }
        // The card goes halfway to the next card on that side; where there is no room left,
        // the cards beyond shift to make some.
        let (cmp, order, step) = if below { (">", "ASC", 1024) } else { ("<", "DESC", -1024) };
        let sql = format!("SELECT board_position FROM deals WHERE workspace_id = $1 AND stage_id = $2 AND deleted_at IS NULL AND id <> $3 AND board_position {cmp} $4 ORDER BY board_position {order} LIMIT 1");
        let next = query(sql).bind(p.workspace_id).bind(m.stage_id).bind(id).bind(pos).fetch_optional(&mut *tx).await?;
        let next = next.map(|r| get_i64(&r, "board_position")).transpose()?;
        let target = match next {
            Some(n) if (n - pos).abs() >= 2 => pos + (n - pos) / 2,
            Some(_) => {
                let shift = format!("UPDATE deals SET board_position = board_position + $1 WHERE workspace_id = $2 AND stage_id = $3 AND board_position {cmp} $4");
                query(shift).bind(step * 2).bind(p.workspace_id).bind(m.stage_id).bind(pos).execute(&mut *tx).await?;
                pos + step
            }
            None => pos + step,
        };
        query("UPDATE deals SET board_position = $1 WHERE id = $2").bind(target).bind(id).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(rec)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StageStay {
    pub pipeline_id: i64,
    pub stage_id: i64,
    pub entered_at: String,
    /// Null while the deal is still there.
    pub left_at: Option<String>,
    /// Up to now for the current stage.
    pub seconds: i64,
    pub actor_id: Option<i64>,
}

/// A deal's stays in stages, oldest first (its cycle is the sum).
pub async fn stage_history(db: &Db, workspace_id: i64, deal_id: i64) -> Result<Vec<StageStay>> {
    let rows = query("SELECT pipeline_id, stage_id, entered_at, left_at, actor_id FROM deal_stage_history WHERE deal_id = $1 AND workspace_id = $2 ORDER BY id").bind(deal_id).bind(workspace_id).fetch_all(db).await?;
    let now = crate::now_ms();
    rows.iter()
        .map(|r| {
            let entered = get_i64(r, "entered_at")?;
            let left = get_opt_i64(r, "left_at")?;
            Ok(StageStay {
                pipeline_id: get_i64(r, "pipeline_id")?,
                stage_id: get_i64(r, "stage_id")?,
                entered_at: crate::timeline::rfc3339(entered),
                left_at: left.map(crate::timeline::rfc3339),
                seconds: (left.unwrap_or(now) - entered) / 1000,
                actor_id: get_opt_i64(r, "actor_id")?,
            })
        })
        .collect()
}
