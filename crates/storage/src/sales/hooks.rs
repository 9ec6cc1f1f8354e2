//! What writing a sales record does besides its own row, inside the same transaction:
//! a deal's stage history and board position, the timeline rows that show activities and
//! tasks on the records they are linked to, reminders, and the next occurrence of a
//! recurring task. Called by [`crate::records`] for every write of every entity.
use crate::accounts::Principal;
use crate::db::{Db, Tx, get_i64, get_opt_i64, query};
use crate::error::{Error, Result};
use super::funnel_counts;
use crate::records::{self, Record, WriteOptions};
use crate::timeline;
use crate::now_ms;
use accord_domain::entities::Entity;
use serde_json::{Map, Value, json};

pub(super) fn ms(rec: &Record, key: &str) -> Option<i64> {
    rec.fields.get(key).and_then(Value::as_str).and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok()).map(|t| t.timestamp_millis())
}

fn id_of(rec: &Record, key: &str) -> Option<i64> {
    rec.fields.get(key).and_then(Value::as_i64)
}

pub(super) fn str_of<'a>(rec: &'a Record, key: &str) -> Option<&'a str> {
    rec.fields.get(key).and_then(Value::as_str)
}

pub(super) fn trashed(rec: &Record) -> bool {
    rec.fields.get("deleted_at").is_some_and(|v| !v.is_null())
}

/// Fills a deal line that names a catalogue product with the product's name, article,
/// unit, VAT rate and (in the deal's currency) price, where the line leaves them out.
pub async fn before_prepare(db: &Db, p: &Principal, entity: Entity, input: &mut Map<String, Value>, current: Option<&Record>) -> Result<()> {
    if entity != Entity::Deal {
        return Ok(());
    }
    let Some(Value::Array(items)) = input.get("items") else { return Ok(()) };
    if !items.iter().any(|i| i.get("product_id").is_some_and(Value::is_i64)) {
        return Ok(());
    }
    let currency = match input.get("currency").and_then(Value::as_str).or(current.and_then(|c| str_of(c, "currency"))) {
        Some(c) => c.trim().to_ascii_uppercase(),
        None => super::config(db, p.workspace_id).await?.base_currency,
    };
    let mut items = items.clone();
    // A deal that follows a price list takes its lines' prices from it first.
    let list_id = input.get("price_list_id").and_then(Value::as_i64).or_else(|| if input.contains_key("price_list_id") { None } else { current.and_then(|c| id_of(c, "price_list_id")) });
    let product_ids: Vec<i64> = items.iter().filter_map(|i| i.get("product_id").and_then(Value::as_i64)).collect();
    let list_prices = match list_id {
        Some(list) => super::price_lists::prices_of(db, p.workspace_id, list, &product_ids).await?,
        None => Default::default(),
    };
    for item in items.iter_mut() {
        let Some(o) = item.as_object_mut() else { continue };
        let Some(product_id) = o.get("product_id").and_then(Value::as_i64) else { continue };
        let product = match records::get(db, &p.viewer, Entity::Product, product_id, false).await {
            Ok(product) => product,
            // The reference check reports it, with the line's path.
            Err(Error::NotFound) => continue,
            Err(e) => return Err(e),
        };
        for (line_key, product_key) in [("name", "name"), ("sku", "sku"), ("unit", "unit"), ("vat_rate", "vat_rate")] {
            if o.get(line_key).is_none_or(Value::is_null) {
                o.insert(line_key.into(), product.fields.get(product_key).cloned().unwrap_or(Value::Null));
            }
        }
        if o.get("price").is_none_or(Value::is_null)
            && let Some(price) = list_prices.get(&product_id)
        {
            o.insert("price".into(), Value::String(price.clone()));
        }
        if o.get("price").is_none_or(Value::is_null) && str_of(&product, "currency") == Some(currency.as_str()) {
            o.insert("price".into(), product.fields.get("price").cloned().unwrap_or(Value::Null));
        }
    }
    input.insert("items".into(), Value::Array(items));
    Ok(())
}

/// What a live deal adds to the board's totals.
#[derive(PartialEq)]
struct Counted {
    pipeline_id: i64,
    stage_id: i64,
    owner_id: i64,
    currency: String,
    amount_num: i64,
}

/// A deal's amount as stored in `amount_num`.
fn amount_num(rec: &Record) -> Option<i64> {
    let amount = rec.fields.get("amount").and_then(Value::as_str).and_then(|a| a.parse::<rust_decimal::Decimal>().ok())?;
    accord_domain::custom_fields::scale_decimal(amount).ok()
}

fn counted(rec: Option<&Record>) -> Option<Counted> {
    let rec = rec.filter(|r| !trashed(r))?;
    Some(Counted {
        pipeline_id: id_of(rec, "pipeline_id")?,
        stage_id: id_of(rec, "stage_id")?,
        owner_id: rec.owner_id,
        currency: str_of(rec, "currency")?.to_owned(),
        amount_num: amount_num(rec)?,
    })
}

/// What an open live deal with an expected close date adds to `deal_forecast`.
#[derive(PartialEq)]
struct Forecast {
    expected_close_date: String,
    currency: String,
    win_probability: i64,
    owner_id: i64,
    amount_num: i64,
}

fn forecast_share(rec: Option<&Record>) -> Option<Forecast> {
    let rec = rec.filter(|r| !trashed(r) && str_of(r, "status") == Some("open"))?;
    Some(Forecast {
        expected_close_date: str_of(rec, "expected_close_date")?.to_owned(),
        currency: str_of(rec, "currency")?.to_owned(),
        win_probability: id_of(rec, "win_probability")?,
        owner_id: rec.owner_id,
        amount_num: amount_num(rec)?,
    })
}

async fn add_to_forecast(tx: &mut Tx, workspace_id: i64, f: &Forecast, sign: i64) -> Result<()> {
    query(
        "INSERT INTO deal_forecast (workspace_id, expected_close_date, currency, win_probability, owner_id, deals, amount_num) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (workspace_id, expected_close_date, currency, win_probability, owner_id) DO UPDATE SET deals = deal_forecast.deals + excluded.deals, amount_num = deal_forecast.amount_num + excluded.amount_num",
    )
    .bind(workspace_id)
    .bind(&f.expected_close_date)
    .bind(&f.currency)
    .bind(f.win_probability)
    .bind(f.owner_id)
    .bind(sign)
    .bind(sign * f.amount_num)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn add_to_totals(tx: &mut Tx, workspace_id: i64, c: &Counted, sign: i64) -> Result<()> {
    query(
        "INSERT INTO deal_totals (workspace_id, pipeline_id, stage_id, owner_id, currency, deals, amount_num) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (workspace_id, pipeline_id, stage_id, owner_id, currency) DO UPDATE SET deals = deal_totals.deals + excluded.deals, amount_num = deal_totals.amount_num + excluded.amount_num",
    )
    .bind(workspace_id)
    .bind(c.pipeline_id)
    .bind(c.stage_id)
    .bind(c.owner_id)
    .bind(&c.currency)
    .bind(sign)
    .bind(sign * c.amount_num)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What moves a record's share of a kept summary from what it was to what it is: nothing
/// when they are the same, else the old share taken out (`-1`) and the new one put in (`+1`).
pub(super) fn share_moves<T: PartialEq>(old: Option<T>, new: Option<T>) -> Vec<(T, i64)> {
    if old == new {
        return Vec::new();
    }
    old.map(|o| (o, -1)).into_iter().chain(new.map(|n| (n, 1))).collect()
}

/// Keeps `deal_totals` equal to the live deals and `deal_forecast` to the open ones.
async fn update_totals(tx: &mut Tx, workspace_id: i64, before: Option<&Record>, after: Option<&Record>) -> Result<()> {
    for (c, sign) in share_moves(counted(before), counted(after)) {
        add_to_totals(tx, workspace_id, &c, sign).await?;
    }
    for (f, sign) in share_moves(forecast_share(before), forecast_share(after)) {
        add_to_forecast(tx, workspace_id, &f, sign).await?;
    }
    Ok(())
}

pub async fn after_write(db: &Db, tx: &mut Tx, p: &Principal, entity: Entity, before: Option<&Record>, after: Option<&Record>) -> Result<()> {
    match entity {
        Entity::Deal => {
            let Some(id) = after.or(before).map(|r| r.id) else { return Ok(()) };
            update_totals(tx, p.workspace_id, before, after).await?;
            super::lines::sync(tx, p.workspace_id, id, before, after).await?;
            let counted = funnel_counts::share_of(tx, p.workspace_id, id, before).await?;
            match (before, after) {
                (_, None) => {}
                // Restored from the trash: its history is as it was.
                (Some(b), Some(_)) if trashed(b) => {}
                (before, Some(after)) => deal_written(tx, p, before, after).await?,
            }
            let counts = funnel_counts::share_of(tx, p.workspace_id, id, after).await?;
            funnel_counts::apply(tx, counted, counts).await
        }
        Entity::Activity | Entity::Task => {
            if entity == Entity::Activity {
                super::activity_counts::sync(tx, p.workspace_id, before, after).await?;
            }
            if let Some(id) = after.or(before).map(|r| r.id) {
                linked_written(tx, p, entity, id, after).await?;
            }
            if let (Entity::Task, Some(b), Some(a)) = (entity, before, after)
                && !trashed(b)
                && str_of(b, "status") == Some("open")
                && str_of(a, "status") == Some("done")
            {
                Box::pin(next_occurrence(db, tx, p, a)).await?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Closes the deal's current stay in a stage and opens one in `stage_id`.
async fn enter_stage(tx: &mut Tx, p: &Principal, deal_id: i64, pipeline_id: i64, stage_id: i64, now: i64) -> Result<i64> {
    query("UPDATE deal_stage_history SET left_at = $1 WHERE deal_id = $2 AND left_at IS NULL").bind(now).bind(deal_id).execute(&mut **tx).await?;
    let prev = query("SELECT MAX(entered_at) AS at FROM deal_stage_history WHERE deal_id = $1 AND stage_id = $2").bind(deal_id).bind(stage_id).fetch_one(&mut **tx).await?;
    let row = query("INSERT INTO deal_stage_history (workspace_id, deal_id, pipeline_id, stage_id, entered_at, actor_id, prev_entered_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
        .bind(p.workspace_id)
        .bind(deal_id)
        .bind(pipeline_id)
        .bind(stage_id)
        .bind(now)
        .bind(p.user.id)
        .bind(get_opt_i64(&prev, "at")?)
        .fetch_one(&mut **tx)
        .await?;
    // A card that arrives in a column goes on top of it.
    query("UPDATE deals SET board_position = (SELECT COALESCE(MIN(d.board_position), 0) - 1024 FROM deals d WHERE d.workspace_id = $1 AND d.stage_id = $2 AND d.deleted_at IS NULL AND d.id <> $3) WHERE id = $4")
        .bind(p.workspace_id)
        .bind(stage_id)
        .bind(deal_id)
        .bind(deal_id)
        .execute(&mut **tx)
        .await?;
    get_i64(&row, "id")
}

async fn deal_written(tx: &mut Tx, p: &Principal, before: Option<&Record>, after: &Record) -> Result<()> {
    let (Some(stage_id), Some(pipeline_id)) = (id_of(after, "stage_id"), id_of(after, "pipeline_id")) else { return Ok(()) };
    let from = before.and_then(|b| id_of(b, "stage_id"));
    if from == Some(stage_id) {
        return Ok(());
    }
    let now = ms(after, "stage_changed_at").unwrap_or_else(now_ms);
    let history_id = enter_stage(tx, p, after.id, pipeline_id, stage_id, now).await?;
    match before {
        Some(_) => {
            let summary = json!({ "from_stage_id": from, "to_stage_id": stage_id, "status": str_of(after, "status"), "actor_id": p.user.id });
            timeline::add_timeline(tx, p.workspace_id, Entity::Deal, after.id, now, "stage", history_id, &summary).await
        }
        None => {
            // A new deal shows on the timelines of its company and contacts.
            let summary = json!({ "title": str_of(after, "title"), "amount": str_of(after, "amount"), "currency": str_of(after, "currency"), "stage_id": stage_id });
            let mut targets: Vec<(Entity, i64)> = id_of(after, "company_id").map(|c| (Entity::Company, c)).into_iter().collect();
            for c in after.fields.get("contacts").and_then(Value::as_array).into_iter().flatten() {
                if let Some(id) = c.get("contact_id").and_then(Value::as_i64) {
                    targets.push((Entity::Contact, id));
                }
            }
            for (entity, id) in targets {
                timeline::add_timeline(tx, p.workspace_id, entity, id, now, "deal", after.id, &summary).await?;
            }
            Ok(())
        }
    }
}

/// Moves a deal to another stage of the same kind (when its stage is removed), with a
/// new version, stage history and an audit entry.
pub async fn move_to_stage(tx: &mut Tx, p: &Principal, deal_id: i64, pipeline_id: i64, to: i64) -> Result<()> {
    let row = query("SELECT stage_id, owner_id, currency, amount_num, deleted_at FROM deals WHERE id = $1 AND workspace_id = $2").bind(deal_id).bind(p.workspace_id).fetch_optional(&mut **tx).await?.ok_or(Error::NotFound)?;
    let counted = funnel_counts::share_now(tx, deal_id).await?;
    let from = get_i64(&row, "stage_id")?;
    if get_opt_i64(&row, "deleted_at")?.is_none() {
        let mut c = Counted { pipeline_id, stage_id: from, owner_id: get_i64(&row, "owner_id")?, currency: crate::db::get_str(&row, "currency")?, amount_num: get_i64(&row, "amount_num")? };
        add_to_totals(tx, p.workspace_id, &c, -1).await?;
        c.stage_id = to;
        add_to_totals(tx, p.workspace_id, &c, 1).await?;
    }
    let now = now_ms();
    query("UPDATE deals SET stage_id = $1, pipeline_id = $2, version = version + 1, updated_at = $3, updated_by = $4, stage_changed_at = $5 WHERE id = $6")
        .bind(to)
        .bind(pipeline_id)
        .bind(now)
        .bind(p.user.id)
        .bind(now)
        .bind(deal_id)
        .execute(&mut **tx)
        .await?;
    let history_id = enter_stage(tx, p, deal_id, pipeline_id, to, now).await?;
    let counts = funnel_counts::share_now(tx, deal_id).await?;
    funnel_counts::apply(tx, counted, counts).await?;
    timeline::add_timeline(tx, p.workspace_id, Entity::Deal, deal_id, now, "stage", history_id, &json!({ "from_stage_id": from, "to_stage_id": to, "actor_id": p.user.id })).await?;
    super::record_change(tx, p, Entity::Deal, deal_id, "update", json!({ "stage_id": [from, to] })).await?;
    Ok(())
}

/// An activity or task appears on the timeline of each record it is linked to, and has a
/// reminder waiting while it is planned. Both are rebuilt from the record on every write.
async fn linked_written(tx: &mut Tx, p: &Principal, entity: Entity, id: i64, after: Option<&Record>) -> Result<()> {
    let kind = entity.as_str();
    query("DELETE FROM timeline WHERE kind = $1 AND ref_id = $2").bind(kind).bind(id).execute(&mut **tx).await?;
    query("DELETE FROM reminders WHERE entity = $1 AND record_id = $2 AND fired_at IS NULL").bind(kind).bind(id).execute(&mut **tx).await?;
    // To the trash: its timeline rows and pending reminder went with it.
    let Some(rec) = after.filter(|r| !trashed(r)) else { return Ok(()) };
    let (done_key, subject_key, open_status) = if entity == Entity::Task { ("completed_at", "title", "open") } else { ("done_at", "subject", "planned") };
    let due = ms(rec, "due_at");
    let at = ms(rec, done_key).or(due).or_else(|| ms(rec, "created_at")).unwrap_or_else(now_ms);
    let summary = json!({
        "kind": rec.fields.get("kind").cloned().unwrap_or(json!("task")),
        "subject": str_of(rec, subject_key),
        "status": str_of(rec, "status"),
        "owner_id": rec.owner_id,
        "due_at": rec.fields.get("due_at"),
    });
    for (key, target) in [("contact_id", Entity::Contact), ("company_id", Entity::Company), ("deal_id", Entity::Deal), ("lead_id", Entity::Lead)] {
        if let Some(id) = id_of(rec, key) {
            timeline::add_timeline(tx, p.workspace_id, target, id, at, kind, rec.id, &summary).await?;
        }
    }
    if let (Some(due), Some(minutes), Some(true)) = (due, id_of(rec, "remind_before_minutes"), str_of(rec, "status").map(|s| s == open_status)) {
        let fire_at = due - minutes * 60_000;
        // The same reminder does not fire twice because the record was edited after it fired.
        let fired = query("SELECT 1 AS x FROM reminders WHERE entity = $1 AND record_id = $2 AND fire_at = $3 AND user_id = $4 AND fired_at IS NOT NULL")
            .bind(kind)
            .bind(rec.id)
            .bind(fire_at)
            .bind(rec.owner_id)
            .fetch_optional(&mut **tx)
            .await?;
        if fired.is_none() {
            query("INSERT INTO reminders (workspace_id, user_id, entity, record_id, fire_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(p.workspace_id)
                .bind(rec.owner_id)
                .bind(kind)
                .bind(rec.id)
                .bind(fire_at)
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(())
}

/// Completing a recurring task creates its next occurrence, one period later at the same
/// local time of the assignee.
async fn next_occurrence(db: &Db, tx: &mut Tx, p: &Principal, done: &Record) -> Result<()> {
    let recurrence = str_of(done, "recurrence").unwrap_or("none");
    let Some(due) = ms(done, "due_at") else { return Ok(()) };
    if recurrence == "none" {
        return Ok(());
    }
    let tz: chrono_tz::Tz = crate::accounts::time_zone(db, done.owner_id).await?.parse().unwrap_or(chrono_tz::Europe::Moscow);
    let Some(next) = accord_domain::sales::next_occurrence(due, recurrence, tz) else { return Ok(()) };
    let mut input = Map::new();
    for key in ["title", "description", "priority", "remind_before_minutes", "recurrence", "contact_id", "company_id", "deal_id", "lead_id", "tags", "custom_fields"] {
        if let Some(v) = done.fields.get(key).filter(|v| !v.is_null()) {
            input.insert(key.into(), v.clone());
        }
    }
    input.insert("due_at".into(), json!(crate::timeline::rfc3339(next)));
    input.insert("owner_id".into(), json!(done.owner_id));
    let custom = crate::custom_fields::for_entity(db, p.workspace_id, Entity::Task).await?;
    records::create_in(db, tx, p, Entity::Task, &input, &custom, &WriteOptions { allow_duplicates: true }).await?;
    Ok(())
}

/// Where a deal sits in its column, to place another card next to it.
pub(crate) async fn board_position(tx: &mut Tx, workspace_id: i64, deal_id: i64) -> Result<Option<(i64, i64)>> {
    let row = query("SELECT stage_id, board_position FROM deals WHERE id = $1 AND workspace_id = $2 AND deleted_at IS NULL").bind(deal_id).bind(workspace_id).fetch_optional(&mut **tx).await?;
    row.map(|r| Ok((get_i64(&r, "stage_id")?, get_opt_i64(&r, "board_position")?.unwrap_or(0)))).transpose()
}

/// Replaces a deal's stage history with stays it had elsewhere (imports, the demo): each
/// `(stage_id, entered_at)` lasts until the next one enters; the last is where it is now.
pub async fn replace_stage_history(db: &Db, workspace_id: i64, deal_id: i64, pipeline_id: i64, stays: &[(i64, i64)]) -> Result<()> {
    let mut tx = db.begin().await?;
    let counted = funnel_counts::share_now(&mut tx, deal_id).await?;
    query("DELETE FROM deal_stage_history WHERE deal_id = $1 AND workspace_id = $2").bind(deal_id).bind(workspace_id).execute(&mut *tx).await?;
    let mut last_entered = std::collections::HashMap::new();
    for (i, (stage_id, entered)) in stays.iter().enumerate() {
        let left = stays.get(i + 1).map(|(_, at)| *at);
        query("INSERT INTO deal_stage_history (workspace_id, deal_id, pipeline_id, stage_id, entered_at, left_at, prev_entered_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(workspace_id)
            .bind(deal_id)
            .bind(pipeline_id)
            .bind(*stage_id)
            .bind(*entered)
            .bind(left)
            .bind(last_entered.insert(*stage_id, *entered))
            .execute(&mut *tx)
            .await?;
    }
    if let Some((_, last)) = stays.last() {
        query("UPDATE deals SET stage_changed_at = $1 WHERE id = $2").bind(*last).bind(deal_id).execute(&mut *tx).await?;
    }
    let counts = funnel_counts::share_now(&mut tx, deal_id).await?;
    funnel_counts::apply(&mut tx, counted, counts).await?;
    tx.commit().await
}
