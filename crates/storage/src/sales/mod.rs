//! Sales settings of a workspace: pipelines and stages, lost reasons, exchange rates, VAT
//! rates, and the defaults a new workspace starts with. Sales records themselves (deals,
//! leads …) are ordinary records; [`hooks`] adds what their writes need beyond a row.
pub(crate) mod activity_counts;
pub mod board;
pub(crate) mod funnel_counts;
pub mod hooks;
pub mod leads;
pub(crate) mod lines;
pub(crate) mod spans;
pub mod price_lists;

use crate::accounts::Principal;
use crate::db::{Db, Row, Tx, get_i64, get_str, query};
use crate::error::{Error, Result};
use crate::now_ms;
use crate::timeline::{self, Change};
use accord_domain::ValidationErrors;
use accord_domain::entities::Entity;
use accord_domain::sales::{Config, LostReason, Names, Pipeline, PriceList, Stage, StageKind};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::str::FromStr;
use utoipa::ToSchema;

#[derive(Deserialize)]
struct Defaults {
    pipeline: Names,
    stages: Vec<DefaultStage>,
    lost_reasons: Vec<DefaultReason>,
}

#[derive(Deserialize)]
struct DefaultStage {
    #[serde(flatten)]
    names: Names,
    kind: StageKind,
    probability: i64,
}

#[derive(Deserialize)]
struct DefaultReason {
    #[serde(flatten)]
    names: Names,
    #[serde(default)]
    requires_comment: bool,
}

fn defaults() -> Result<Defaults> {
    Ok(serde_json::from_str(include_str!("defaults.json"))?)
}

fn names_json(n: &Names) -> String {
    serde_json::to_string(n).unwrap_or_else(|_| "{}".into())
}

fn parse_names(s: &str) -> Names {
    serde_json::from_str(s).unwrap_or_default()
}

/// Gives every workspace without a pipeline the classic sales pipeline and lost reasons
/// (new workspaces, and those created before sales existed).
pub async fn seed_defaults(db: &Db) -> Result<()> {
    let rows = query("SELECT id FROM workspaces w WHERE NOT EXISTS (SELECT 1 FROM pipelines p WHERE p.workspace_id = w.id)").fetch_all(db).await?;
    if rows.is_empty() {
        return Ok(());
    }
    let d = defaults()?;
    for r in rows {
        let ws = get_i64(&r, "id")?;
        let mut tx = db.begin().await?;
        let stages: Vec<(Names, StageKind, i64)> = d.stages.iter().map(|s| (s.names.clone(), s.kind, s.probability)).collect();
        insert_pipeline(&mut tx, ws, &d.pipeline, 0, &stages).await?;
        for (i, reason) in d.lost_reasons.iter().enumerate() {
            query("INSERT INTO lost_reasons (workspace_id, names, requires_comment, position, active) VALUES ($1, $2, $3, $4, 1)")
                .bind(ws)
                .bind(names_json(&reason.names))
                .bind(i64::from(reason.requires_comment))
                .bind(i as i64)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    }
    Ok(())
}

async fn insert_pipeline(tx: &mut Tx, ws: i64, names: &Names, position: i64, stages: &[(Names, StageKind, i64)]) -> Result<i64> {
    let now = now_ms();
    let row = query("INSERT INTO pipelines (workspace_id, names, position, created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, 1) RETURNING id")
        .bind(ws)
        .bind(names_json(names))
        .bind(position)
        .bind(now)
        .bind(now)
        .fetch_one(&mut **tx)
        .await?;
    let id = get_i64(&row, "id")?;
    for (i, (names, kind, probability)) in stages.iter().enumerate() {
        insert_stage(tx, ws, id, names, *kind, *probability, i as i64).await?;
    }
    Ok(id)
}

async fn insert_stage(tx: &mut Tx, ws: i64, pipeline_id: i64, names: &Names, kind: StageKind, probability: i64, position: i64) -> Result<i64> {
    let row = query("INSERT INTO stages (workspace_id, pipeline_id, names, kind, probability, position) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
        .bind(ws)
        .bind(pipeline_id)
        .bind(names_json(names))
        .bind(kind.as_str())
        .bind(probability)
        .bind(position)
        .fetch_one(&mut **tx)
        .await?;
    get_i64(&row, "id")
}

/// Everything the sales rules need to know about a workspace.
pub async fn config(db: &Db, ws: i64) -> Result<Config> {
    let w = query("SELECT base_currency, vat_rates FROM workspaces WHERE id = $1").bind(ws).fetch_optional(db).await?.ok_or(Error::NotFound)?;
    let vat_rates: Vec<String> = serde_json::from_str(&get_str(&w, "vat_rates")?)?;
    let mut pipelines: Vec<Pipeline> = Vec::new();
    for r in query("SELECT id, names FROM pipelines WHERE workspace_id = $1 ORDER BY position, id").bind(ws).fetch_all(db).await? {
        pipelines.push(Pipeline { id: get_i64(&r, "id")?, names: parse_names(&get_str(&r, "names")?), stages: Vec::new() });
    }
    for r in query("SELECT id, pipeline_id, names, kind, probability FROM stages WHERE workspace_id = $1 AND deleted_at IS NULL ORDER BY position, id").bind(ws).fetch_all(db).await? {
        let pipeline_id = get_i64(&r, "pipeline_id")?;
        let stage = Stage {
            id: get_i64(&r, "id")?,
            pipeline_id,
            names: parse_names(&get_str(&r, "names")?),
            kind: StageKind::parse(&get_str(&r, "kind")?).ok_or_else(|| Error::Corrupt("unknown stage kind".into()))?,
            probability: get_i64(&r, "probability")?,
        };
        if let Some(p) = pipelines.iter_mut().find(|p| p.id == pipeline_id) {
            p.stages.push(stage);
        }
    }
    let mut lost_reasons = Vec::new();
    for r in query("SELECT id, names, requires_comment, active FROM lost_reasons WHERE workspace_id = $1 ORDER BY position, id").bind(ws).fetch_all(db).await? {
        lost_reasons.push(LostReason { id: get_i64(&r, "id")?, names: parse_names(&get_str(&r, "names")?), requires_comment: get_i64(&r, "requires_comment")? != 0, active: get_i64(&r, "active")? != 0 });
    }
    let mut price_lists = Vec::new();
    for r in query("SELECT id, names, currency, active FROM price_lists WHERE workspace_id = $1 ORDER BY position, id").bind(ws).fetch_all(db).await? {
        price_lists.push(PriceList { id: get_i64(&r, "id")?, names: parse_names(&get_str(&r, "names")?), currency: get_str(&r, "currency")?, active: get_i64(&r, "active")? != 0 });
    }
    Ok(Config { base_currency: get_str(&w, "base_currency")?, vat_rates, pipelines, lost_reasons, price_lists })
}

// ---------------------------------------------------------------- pipelines

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StageInfo {
    pub id: i64,
    /// In the caller's language.
    pub name: String,
    pub names: Names,
    pub kind: StageKind,
    pub probability: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PipelineInfo {
    pub id: i64,
    pub name: String,
    pub names: Names,
    pub version: i64,
    /// In board order.
    pub stages: Vec<StageInfo>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageInput {
    /// An existing stage of this pipeline; absent for a new one.
    pub id: Option<i64>,
    pub names: Names,
    pub kind: StageKind,
    /// Percent; defaults to 100 for won, 0 for lost, 10 for open stages.
    pub probability: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPipeline {
    pub names: Names,
    /// In board order; left out, the classic stages of a new workspace (request received →
    /// negotiation → invoice issued → invoice paid → goods shipped, and lost)
    #[serde(default)]
    pub stages: Vec<StageInput>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageMove {
    /// A stage being removed.
    pub from: i64,
    /// A remaining stage of the same kind that takes its deals.
    pub to: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PipelineChange {
    /// The version you read; a stale one answers 409.
    pub version: i64,
    pub names: Option<Names>,
    /// The complete new list of stages in board order: existing ones by `id` (renamed,
    /// reordered), new ones without. A stage left out is removed; if it holds deals, say
    /// where they go in `stage_moves`.
    pub stages: Option<Vec<StageInput>>,
    #[serde(default)]
    pub stage_moves: Vec<StageMove>,
}

fn pipeline_info(p: &Pipeline, locale: &str, version: i64) -> PipelineInfo {
    PipelineInfo {
        id: p.id,
        name: p.names.for_locale(locale).to_owned(),
        names: p.names.clone(),
        version,
        stages: p.stages.iter().map(|s| StageInfo { id: s.id, name: s.names.for_locale(locale).to_owned(), names: s.names.clone(), kind: s.kind, probability: s.probability }).collect(),
    }
}

pub async fn pipelines(db: &Db, p: &Principal) -> Result<Vec<PipelineInfo>> {
    let cfg = config(db, p.workspace_id).await?;
    let versions = query("SELECT id, version FROM pipelines WHERE workspace_id = $1").bind(p.workspace_id).fetch_all(db).await?;
    let version_of = |id: i64| versions.iter().find(|r| get_i64(r, "id").ok() == Some(id)).and_then(|r| get_i64(r, "version").ok()).unwrap_or(1);
    Ok(cfg.pipelines.iter().map(|pl| pipeline_info(pl, &p.user.locale, version_of(pl.id))).collect())
}

pub async fn pipeline(db: &Db, p: &Principal, id: i64) -> Result<PipelineInfo> {
    pipelines(db, p).await?.into_iter().find(|pl| pl.id == id).ok_or(Error::NotFound)
}

/// Names, kinds and probabilities checked; at least one open, one won and one lost stage.
fn clean_stages(stages: &[StageInput], errors: &mut ValidationErrors) -> Vec<(Option<i64>, Names, StageKind, i64)> {
    let mut out = Vec::new();
    if stages.len() > 50 {
        errors.add("stages", "too_many", "at most 50 stages");
    }
    for (i, s) in stages.iter().enumerate() {
        let names = s.names.clean(&format!("stages[{i}].names"), errors);
        let probability = s.probability.unwrap_or(match s.kind {
            StageKind::Won => 100,
            StageKind::Lost => 0,
            StageKind::Open => 10,
        });
        if !(0..=100).contains(&probability) {
            errors.add(format!("stages[{i}].probability"), "out_of_range", "must be from 0 to 100");
        }
        out.push((s.id, names, s.kind, probability));
    }
    for kind in [StageKind::Open, StageKind::Won, StageKind::Lost] {
        if !stages.iter().any(|s| s.kind == kind) {
            errors.add("stages", "missing_kind", format!("a pipeline needs at least one {} stage", kind.as_str()));
        }
    }
    out
}

pub async fn create_pipeline(db: &Db, p: &Principal, input: NewPipeline) -> Result<PipelineInfo> {
    p.require_admin()?;
    let mut errors = ValidationErrors::new();
    let names = input.names.clean("names", &mut errors);
    if input.stages.iter().any(|s| s.id.is_some()) {
        errors.add("stages", "unexpected_id", "a new pipeline's stages are new: leave out their ids");
    }
    // No stages given: the classic ones of a new workspace, in both languages.
    let stages = if input.stages.is_empty() {
        defaults()?.stages.into_iter().map(|s| (None, s.names, s.kind, s.probability)).collect()
    } else {
        clean_stages(&input.stages, &mut errors)
    };
    errors.into_result()?;
    let mut tx = db.begin().await?;
    let position = query("SELECT COALESCE(MAX(position), 0) + 1 AS n FROM pipelines WHERE workspace_id = $1").bind(p.workspace_id).fetch_one(&mut *tx).await?;
    let stages: Vec<_> = stages.into_iter().map(|(_, n, k, pr)| (n, k, pr)).collect();
    let id = insert_pipeline(&mut tx, p.workspace_id, &names, get_i64(&position, "n")?, &stages).await?;
    audit_settings(&mut tx, p, "pipeline", id, "create", json!({ "names": [null, names] })).await?;
    tx.commit().await?;
    pipeline(db, p, id).await
}

/// Settings changes go to the same audit log as records.
pub(crate) async fn audit_settings(tx: &mut Tx, p: &Principal, what: &str, id: i64, action: &str, changes: Value) -> Result<()> {
    query("INSERT INTO audit_log (workspace_id, entity, record_id, action, actor_id, at, changes) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(p.workspace_id)
        .bind(what)
        .bind(id)
        .bind(action)
        .bind(p.user.id)
        .bind(now_ms())
        .bind(changes.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn update_pipeline(db: &Db, p: &Principal, id: i64, change: PipelineChange) -> Result<PipelineInfo> {
    p.require_admin()?;
    let before = pipeline(db, p, id).await?;
    if before.version != change.version {
        return Err(Error::VersionConflict { expected: change.version, current: before.version });
    }
    let mut errors = ValidationErrors::new();
    let names = change.names.as_ref().map(|n| n.clean("names", &mut errors));
    let stages = change.stages.as_ref().map(|s| clean_stages(s, &mut errors));
    let mut removed: Vec<&StageInfo> = Vec::new();
    if let Some(stages) = &stages {
        for (i, (sid, ..)) in stages.iter().enumerate() {
            if let Some(sid) = sid
                && !before.stages.iter().any(|s| s.id == *sid)
            {
                errors.add(format!("stages[{i}].id"), "unknown_stage", "not a stage of this pipeline");
            }
        }
        removed = before.stages.iter().filter(|s| !stages.iter().any(|(sid, ..)| *sid == Some(s.id))).collect();
    }
    for (i, m) in change.stage_moves.iter().enumerate() {
        let from = removed.iter().find(|s| s.id == m.from);
        let to = stages.as_ref().and_then(|st| st.iter().find(|(sid, ..)| *sid == Some(m.to)));
        match (from, to) {
            (None, _) => errors.add(format!("stage_moves[{i}].from"), "not_removed", "is not a stage this change removes"),
            (_, None) => errors.add(format!("stage_moves[{i}].to"), "unknown_stage", "must be an existing stage that stays in this pipeline"),
            (Some(f), Some((_, _, kind, _))) if f.kind != *kind => errors.add(format!("stage_moves[{i}].to"), "different_kind", "deals move only to a stage of the same kind (open, won or lost)"),
            _ => {}
        }
    }
    errors.clone().into_result()?;
    let mut tx = db.begin().await?;
    let bumped = query("UPDATE pipelines SET version = version + 1, updated_at = $1 WHERE id = $2 AND workspace_id = $3 AND version = $4")
        .bind(now_ms())
        .bind(id)
        .bind(p.workspace_id)
        .bind(change.version)
        .execute(&mut *tx)
        .await?;
    if bumped.rows_affected() != 1 {
        return Err(Error::VersionConflict { expected: change.version, current: change.version + 1 });
    }
    if let Some(n) = &names {
        query("UPDATE pipelines SET names = $1 WHERE id = $2").bind(names_json(n)).bind(id).execute(&mut *tx).await?;
    }
    if let Some(stages) = &stages {
        // A stage holding deals keeps its kind: changing it would change what those deals are.
        for (sid, _, kind, _) in stages.iter() {
            if let Some(old) = sid.and_then(|sid| before.stages.iter().find(|s| s.id == sid))
                && old.kind != *kind
                && query("SELECT 1 AS x FROM deals WHERE stage_id = $1 LIMIT 1").bind(old.id).fetch_optional(&mut *tx).await?.is_some()
            {
                return Err(ValidationErrors::single("stages", "kind_of_used_stage", format!("stage {} holds deals: its kind cannot change", old.id)).into());
            }
        }
        for s in &removed {
            let target = change.stage_moves.iter().find(|m| m.from == s.id).map(|m| m.to);
            let holding = query("SELECT id FROM deals WHERE stage_id = $1").bind(s.id).fetch_all(&mut *tx).await?;
            match target {
                None if !holding.is_empty() => {
                    errors.add("stage_moves", "deals_in_removed_stage", format!("stage {} holds {} deals: say where they go", s.id, holding.len()));
                }
                None => {}
                Some(to) => {
                    for row in &holding {
                        hooks::move_to_stage(&mut tx, p, get_i64(row, "id")?, id, to).await?;
                    }
                }
            }
            query("UPDATE stages SET deleted_at = $1 WHERE id = $2").bind(now_ms()).bind(s.id).execute(&mut *tx).await?;
        }
        errors.into_result()?;
        for (pos, (sid, names, kind, probability)) in stages.iter().enumerate() {
            match sid {
                Some(sid) => {
                    query("UPDATE stages SET names = $1, kind = $2, probability = $3, position = $4 WHERE id = $5")
                        .bind(names_json(names))
                        .bind(kind.as_str())
                        .bind(*probability)
                        .bind(pos as i64)
                        .bind(*sid)
                        .execute(&mut *tx)
                        .await?;
                }
                None => {
                    insert_stage(&mut tx, p.workspace_id, id, names, *kind, *probability, pos as i64).await?;
                }
            }
        }
        // The farthest stage each deal reached depends on the stages' order.
        funnel_counts::rebuild(&mut tx, funnel_counts::Scope::Pipeline(id)).await?;
    }
    let after_names = names.clone().unwrap_or_else(|| before.names.clone());
    audit_settings(&mut tx, p, "pipeline", id, "update", json!({ "names": [before.names, after_names], "stages": [before.stages.iter().map(|s| s.id).collect::<Vec<_>>(), change.stages.as_ref().map(|s| s.iter().map(|x| x.id).collect::<Vec<_>>())] })).await?;
    tx.commit().await?;
    pipeline(db, p, id).await
}

/// Removes an empty pipeline; the last one stays.
pub async fn delete_pipeline(db: &Db, p: &Principal, id: i64) -> Result<()> {
    p.require_admin()?;
    let all = pipelines(db, p).await?;
    if !all.iter().any(|pl| pl.id == id) {
        return Err(Error::NotFound);
    }
    if all.len() == 1 {
        return Err(Error::conflict("last_pipeline", "the last pipeline cannot be removed"));
    }
    let mut tx = db.begin().await?;
    if query("SELECT 1 AS x FROM deals WHERE pipeline_id = $1 LIMIT 1").bind(id).fetch_optional(&mut *tx).await?.is_some() {
        return Err(Error::conflict("pipeline_has_deals", "the pipeline still holds deals (the trash included): move or purge them first"));
    }
    query("DELETE FROM stages WHERE pipeline_id = $1").bind(id).execute(&mut *tx).await?;
    query("DELETE FROM pipelines WHERE id = $1 AND workspace_id = $2").bind(id).bind(p.workspace_id).execute(&mut *tx).await?;
    audit_settings(&mut tx, p, "pipeline", id, "delete", json!({})).await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- lost reasons

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LostReasonInfo {
    pub id: i64,
    pub name: String,
    pub names: Names,
    pub requires_comment: bool,
    /// Inactive reasons stay on the deals that have them but are no longer offered.
    pub active: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LostReasonInput {
    pub names: Option<Names>,
    pub requires_comment: Option<bool>,
    pub active: Option<bool>,
}

pub async fn lost_reasons(db: &Db, p: &Principal) -> Result<Vec<LostReasonInfo>> {
    let cfg = config(db, p.workspace_id).await?;
    Ok(cfg.lost_reasons.iter().map(|r| LostReasonInfo { id: r.id, name: r.names.for_locale(&p.user.locale).to_owned(), names: r.names.clone(), requires_comment: r.requires_comment, active: r.active }).collect())
}

pub async fn save_lost_reason(db: &Db, p: &Principal, id: Option<i64>, input: LostReasonInput) -> Result<LostReasonInfo> {
    p.require_admin()?;
    let existing = lost_reasons(db, p).await?;
    let current = match id {
        Some(id) => Some(existing.iter().find(|r| r.id == id).ok_or(Error::NotFound)?.clone()),
        None => None,
    };
    let mut errors = ValidationErrors::new();
    let names = match (&input.names, &current) {
        (Some(n), _) => n.clean("names", &mut errors),
        (None, Some(c)) => c.names.clone(),
        (None, None) => {
            errors.add("names", "required", "is required");
            Names::default()
        }
    };
    errors.into_result()?;
    let requires_comment = input.requires_comment.or(current.as_ref().map(|c| c.requires_comment)).unwrap_or(false);
    let active = input.active.or(current.as_ref().map(|c| c.active)).unwrap_or(true);
    let mut tx = db.begin().await?;
    let id = match id {
        Some(id) => {
            query("UPDATE lost_reasons SET names = $1, requires_comment = $2, active = $3 WHERE id = $4 AND workspace_id = $5")
                .bind(names_json(&names))
                .bind(i64::from(requires_comment))
                .bind(i64::from(active))
                .bind(id)
                .bind(p.workspace_id)
                .execute(&mut *tx)
                .await?;
            id
        }
        None => {
            let row = query("INSERT INTO lost_reasons (workspace_id, names, requires_comment, position, active) VALUES ($1, $2, $3, $4, $5) RETURNING id")
                .bind(p.workspace_id)
                .bind(names_json(&names))
                .bind(i64::from(requires_comment))
                .bind(existing.len() as i64)
                .bind(i64::from(active))
                .fetch_one(&mut *tx)
                .await?;
            get_i64(&row, "id")?
        }
    };
    audit_settings(&mut tx, p, "lost_reason", id, if current.is_some() { "update" } else { "create" }, json!({ "names": [current.as_ref().map(|c| &c.names), names], "active": [current.as_ref().map(|c| c.active), active] })).await?;
    tx.commit().await?;
    Ok(LostReasonInfo { id, name: names.for_locale(&p.user.locale).to_owned(), names, requires_comment, active })
}

// ---------------------------------------------------------------- money settings

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExchangeRate {
    pub id: i64,
    pub currency: String,
    /// Units of the base currency for one unit of `currency`, as a decimal string.
    pub rate: String,
    /// YYYY-MM-DD: the rate applies from this day until a later one.
    pub valid_from: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewExchangeRate {
    pub currency: String,
    /// Decimal string, e.g. "92.5"
    pub rate: String,
    pub valid_from: String,
}

fn rate_from_row(r: &Row) -> Result<ExchangeRate> {
    Ok(ExchangeRate { id: get_i64(r, "id")?, currency: get_str(r, "currency")?, rate: get_str(r, "rate")?, valid_from: get_str(r, "valid_from")? })
}

pub async fn exchange_rates(db: &Db, ws: i64) -> Result<Vec<ExchangeRate>> {
    let rows = query("SELECT id, currency, rate, valid_from FROM exchange_rates WHERE workspace_id = $1 ORDER BY currency, valid_from DESC").bind(ws).fetch_all(db).await?;
    rows.iter().map(rate_from_row).collect()
}

pub async fn add_exchange_rate(db: &Db, p: &Principal, input: NewExchangeRate) -> Result<ExchangeRate> {
    p.require_admin()?;
    let mut errors = ValidationErrors::new();
    let currency = errors.check("currency", accord_domain::custom_fields::currency(&input.currency));
    let rate = match Decimal::from_str(input.rate.trim()) {
        Ok(r) if r > Decimal::ZERO && r.scale() <= 8 => Some(r.normalize()),
        _ => {
            errors.add("rate", "out_of_range", "must be a positive decimal with at most 8 decimal places");
            None
        }
    };
    let day = errors.check("valid_from", accord_domain::custom_fields::parse_date(&input.valid_from));
    let base = config(db, p.workspace_id).await?.base_currency;
    if currency.as_deref() == Some(base.as_str()) {
        errors.add("currency", "base_currency", "the base currency has no exchange rate");
    }
    errors.into_result()?;
    let (Some(currency), Some(rate), Some(day)) = (currency, rate, day) else { return Err(Error::Corrupt("validated values missing".into())) };
    let mut tx = db.begin().await?;
    let day = day.format("%Y-%m-%d").to_string();
    if query("SELECT 1 AS x FROM exchange_rates WHERE workspace_id = $1 AND currency = $2 AND valid_from = $3").bind(p.workspace_id).bind(&currency).bind(&day).fetch_optional(&mut *tx).await?.is_some() {
        return Err(ValidationErrors::single("valid_from", "taken", "this currency already has a rate from that day; delete it first").into());
    }
    let row = query("INSERT INTO exchange_rates (workspace_id, currency, rate, valid_from, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
        .bind(p.workspace_id)
        .bind(&currency)
        .bind(rate.to_string())
        .bind(&day)
        .bind(now_ms())
        .bind(p.user.id)
        .fetch_one(&mut *tx)
        .await?;
    let id = get_i64(&row, "id")?;
    audit_settings(&mut tx, p, "exchange_rate", id, "create", json!({ "currency": [null, currency], "rate": [null, rate.to_string()], "valid_from": [null, day] })).await?;
    tx.commit().await?;
    Ok(ExchangeRate { id, currency, rate: rate.to_string(), valid_from: day })
}

pub async fn delete_exchange_rate(db: &Db, p: &Principal, id: i64) -> Result<()> {
    p.require_admin()?;
    let mut tx = db.begin().await?;
    let n = query("DELETE FROM exchange_rates WHERE id = $1 AND workspace_id = $2").bind(id).bind(p.workspace_id).execute(&mut *tx).await?.rows_affected();
    if n == 0 {
        return Err(Error::NotFound);
    }
    audit_settings(&mut tx, p, "exchange_rate", id, "delete", json!({})).await?;
    tx.commit().await?;
    Ok(())
}

/// Converts amounts to the base currency at the rates valid on `day`.
pub struct Converter {
    base: String,
    rates: Vec<(String, String, Decimal)>,
}

impl Converter {
    pub async fn load(db: &Db, ws: i64) -> Result<Converter> {
        let row = query("SELECT base_currency FROM workspaces WHERE id = $1").bind(ws).fetch_optional(db).await?.ok_or(Error::NotFound)?;
        let base = get_str(&row, "base_currency")?;
        let rates = exchange_rates(db, ws).await?.into_iter().filter_map(|r| Some((r.currency, r.valid_from, Decimal::from_str(&r.rate).ok()?))).collect();
        Ok(Converter { base, rates })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// None when no rate for the currency applies on that day.
    pub fn to_base(&self, amount: Decimal, currency: &str, day: &str) -> Option<Decimal> {
        if currency == self.base {
            return Some(amount);
        }
        // Rates are sorted newest first within a currency.
        self.rates.iter().find(|(c, from, _)| c == currency && from.as_str() <= day).map(|(_, _, rate)| amount * rate)
    }
}

pub(crate) async fn record_change(tx: &mut Tx, p: &Principal, entity: Entity, id: i64, action: &str, changes: Value) -> Result<i64> {
    timeline::record(tx, Change { workspace_id: p.workspace_id, entity, record_id: id, action, actor_id: Some(p.user.id), changes }).await
}
