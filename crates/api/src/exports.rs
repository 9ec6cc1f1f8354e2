//! Exports of any list view — its filters, sort and chosen columns, through the caller's
//! visibility — to CSV (streamed page by page, so a million rows take constant memory) or
//! XLSX. Text that a spreadsheet would run as a formula is neutralized; every export is
//! audited.
use crate::auth::Auth;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use accord_domain::entities::{ColKind, Entity};
use accord_domain::query;
use accord_storage::accounts::Principal;
use accord_storage::{Db, custom_fields, records};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use utoipa::IntoParams;

const PAGE: &str = "500";

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ExportParams {
    /// `csv` (default), `xlsx`, or for contacts `vcf` (vCard 4.0)
    format: Option<String>,
    /// Comma-separated columns (default all): fields of the record, `owner` (e-mail),
    /// `company`, `company_inn`, `pipeline`, `stage` (names), `cf.<key>`. Besides these, the list's filters
    /// and `sort`.
    columns: Option<String>,
}

/// The columns of an export of `entity`, in their default order.
fn default_columns(entity: Entity, custom: &[query::CustomField]) -> Vec<String> {
    let mut cols: Vec<String> = vec!["id".into()];
    cols.extend(entity.columns().iter().filter(|c| c.kind != ColKind::Shadow && c.name != "custom_fields").map(|c| c.name.to_owned()));
    cols.push("owner".into());
    let has = |n: &str| entity.columns().iter().any(|c| c.name == n);
    if has("company_id") || has("primary_company_id") {
        cols.extend(["company".into(), "company_inn".into()]);
    }
    if entity == Entity::Deal {
        cols.extend(["pipeline".into(), "stage".into()]);
    }
    cols.extend(["created_at".into(), "updated_at".into()]);
    cols.extend(custom.iter().map(|c| format!("cf.{}", c.def.key)));
    cols
}

/// Names the ids of a page stand for: owners' e-mails, companies, pipelines and stages.
struct Names {
    owners: HashMap<i64, String>,
    pipelines: HashMap<i64, String>,
    stages: HashMap<i64, String>,
    /// Name and INN of the companies met so far.
    companies: HashMap<i64, (String, String)>,
}

fn company_of(rec: &serde_json::Map<String, Value>) -> Option<i64> {
    rec.get("primary_company_id").or_else(|| rec.get("company_id")).and_then(Value::as_i64)
}

async fn load_companies(db: &Db, p: &Principal, names: &mut Names, page: &[records::Record]) {
    let mut wanted: Vec<i64> = page.iter().filter_map(|r| company_of(&r.fields)).filter(|id| !names.companies.contains_key(id)).collect();
    wanted.sort_unstable();
    wanted.dedup();
    if wanted.is_empty() {
        return;
    }
    // One query a page, through the caller's visibility: a company they may not see stays nameless.
    let q = query::parse(Entity::Company, &[("id[in]".to_owned(), wanted.iter().map(i64::to_string).collect::<Vec<_>>().join(",")), ("limit".to_owned(), PAGE.to_owned()), ("fields".to_owned(), "name,inn".to_owned())], &[], &p.region);
    if let Ok(q) = q
        && let Ok(found) = records::list(db, &p.viewer, Entity::Company, &q, false).await
    {
        let text = |c: &records::Record, k: &str| c.fields.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
        for c in found.data {
            names.companies.insert(c.id, (text(&c, "name"), text(&c, "inn")));
        }
    }
    for id in wanted {
        names.companies.entry(id).or_default();
    }
}

/// One cell: lists of e-mails, phones, tags or addresses as `; `-joined text, objects as JSON.
fn cell(col: &str, rec: &serde_json::Map<String, Value>, names: &Names) -> String {
    let v = match col {
        "owner" => return rec.get("owner_id").and_then(Value::as_i64).and_then(|id| names.owners.get(&id)).cloned().unwrap_or_default(),
        "company" => return company_of(rec).and_then(|id| names.companies.get(&id)).map(|c| c.0.clone()).unwrap_or_default(),
        "company_inn" => return company_of(rec).and_then(|id| names.companies.get(&id)).map(|c| c.1.clone()).unwrap_or_default(),
        "pipeline" => return rec.get("pipeline_id").and_then(Value::as_i64).and_then(|id| names.pipelines.get(&id)).cloned().unwrap_or_default(),
        "stage" => return rec.get("stage_id").and_then(Value::as_i64).and_then(|id| names.stages.get(&id)).cloned().unwrap_or_default(),
        c if c.starts_with("cf.") => rec.get("custom_fields").and_then(|cf| cf.get(&c[3..])).cloned().unwrap_or(Value::Null),
        c => rec.get(c).cloned().unwrap_or(Value::Null),
    };
    match v {
        Value::Null => String::new(),
        Value::String(s) => s,
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => s.clone(),
                Value::Object(o) => o.get("value").or_else(|| o.get("original")).or_else(|| o.get("text")).and_then(Value::as_str).map(str::to_owned).unwrap_or_else(|| address_text(o)),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

fn address_text(o: &serde_json::Map<String, Value>) -> String {
    ["postal_code", "country", "region", "city", "street"].iter().filter_map(|k| o.get(*k).and_then(Value::as_str)).collect::<Vec<_>>().join(", ")
}

/// Export a list view to CSV or XLSX
#[utoipa::path(get, path = "/api/v1/exports/{entity}", tag = "imports", params(("entity" = String, Path, description = "contacts, companies, deals, products, leads, activities or tasks"), ExportParams),
    responses((status = 200, description = "The file", content((String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))), (status = 422, body = crate::problem::Problem)))]
pub async fn export(State(s): State<AppState>, Auth(p): Auth, Path(entity): Path<String>, Query(params): Query<Vec<(String, String)>>) -> ApiResult<Response> {
    let entity = crate::imports::entity_of(&entity)?;
    let file = start(&s.db, p, entity, params).await?;
    Ok(crate::imports::streamed(file.chunks, file.content_type, &file.name))
}

/// An export being written: its chunks arrive as the pages are read.
pub struct ExportFile {
    pub chunks: tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>,
    pub content_type: &'static str,
    pub name: String,
}

/// Checks the parameters (`format`, `columns`, the list's filters and sort), audits the
/// export and starts writing it. The API and `accord export` both come here.
pub async fn start(db: &Db, p: Principal, entity: Entity, params: Vec<(String, String)>) -> ApiResult<ExportFile> {
    let param = |k: &str| params.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    let format = param("format").unwrap_or_else(|| "csv".into());
    match format.as_str() {
        "csv" | "xlsx" => {}
        "vcf" if entity == Entity::Contact => {}
        "vcf" => return Err(ApiError::field("format", "invalid_choice", "vCard (vcf) is a format of contacts")),
        _ => return Err(ApiError::field("format", "invalid_choice", "must be csv, xlsx or (contacts) vcf")),
    }
    let custom = custom_fields::for_entity(db, p.workspace_id, entity).await?;
    let all = default_columns(entity, &custom);
    let columns: Vec<String> = match param("columns") {
        Some(c) => c.split(',').map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).collect(),
        None => all.clone(),
    };
    if let Some(bad) = columns.iter().find(|c| !all.contains(c)) {
        return Err(ApiError::field("columns", "unknown_field", &format!("{bad:?} is not a column of this export")));
    }
    let mut list_params: Vec<(String, String)> = params.into_iter().filter(|(k, _)| !matches!(k.as_str(), "format" | "columns" | "limit" | "cursor" | "fields" | "count")).collect();
    list_params.push(("limit".into(), PAGE.into()));
    // Checked before the first byte goes out, so a bad filter is a 422, not a broken file.
    query::parse(entity, &list_params, &custom, &p.region)?;
    let filters: Vec<Value> = list_params.iter().filter(|(k, _)| k != "limit").map(|(k, v)| json!([k, v])).collect();
    accord_storage::timeline::audit_action(db, &p, "export", 0, "export", json!({ "entity": entity.as_str(), "format": format, "filters": filters, "columns": columns })).await?;

    let config = accord_storage::sales::config(db, p.workspace_id).await?;
    let locale = p.user.locale.clone();
    let names = Names {
        owners: accord_storage::accounts::members(db, p.workspace_id).await?.into_iter().map(|m| (m.user_id, m.email)).collect(),
        pipelines: config.pipelines.iter().map(|pl| (pl.id, pl.names.for_locale(&locale).to_owned())).collect(),
        stages: config.pipelines.iter().flat_map(|pl| pl.stages.iter()).map(|st| (st.id, st.names.for_locale(&locale).to_owned())).collect(),
        companies: HashMap::new(),
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let name = format!("accord-{}.{format}", entity.path());
    let db = db.clone();
    let content_type = match format.as_str() {
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "vcf" => "text/vcard; charset=utf-8",
        _ => "text/csv; charset=utf-8",
    };
    accord_storage::spawn_long(async move {
        let pages = Pages { entity, params: list_params, custom, done: false };
        let result = match format.as_str() {
            "xlsx" => write_xlsx(&db, &p, pages, columns, names, &tx).await,
            "vcf" => write_vcards(&db, &p, pages, names, &tx).await,
            _ => write_csv(&db, &p, pages, columns, names, &tx).await,
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "export stopped");
            let _ = tx.send(Err(std::io::Error::other(e))).await;
        }
    });
    Ok(ExportFile { chunks: rx, content_type, name })
}

/// The pages of the view, one after another.
struct Pages {
    entity: Entity,
    params: Vec<(String, String)>,
    custom: Vec<query::CustomField>,
    done: bool,
}

impl Pages {
    async fn next(&mut self, db: &Db, p: &Principal) -> Result<Option<Vec<records::Record>>, String> {
        if self.done {
            return Ok(None);
        }
        let q = query::parse(self.entity, &self.params, &self.custom, &p.region).map_err(|e| format!("{e:?}"))?;
        let page = records::list(db, &p.viewer, self.entity, &q, false).await.map_err(|e| e.to_string())?;
        self.params.retain(|(k, _)| k != "cursor");
        match page.next_cursor {
            Some(c) => self.params.push(("cursor".into(), c)),
            None => self.done = true,
        }
        Ok(Some(page.data))
    }
}

async fn write_csv(db: &Db, p: &Principal, mut pages: Pages, columns: Vec<String>, mut names: Names, tx: &tokio::sync::mpsc::Sender<Result<Vec<u8>, std::io::Error>>) -> Result<(), String> {
    let mut w = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    w.write_record(&columns).map_err(|e| e.to_string())?;
    while let Some(page) = pages.next(db, p).await? {
        load_companies(db, p, &mut names, &page).await;
        for rec in &page {
            w.write_record(columns.iter().map(|c| crate::reports::neutralized(&cell(c, &rec.fields, &names)))).map_err(|e| e.to_string())?;
        }
        let chunk = w.into_inner().map_err(|e| e.to_string())?;
        if tx.send(Ok(chunk)).await.is_err() {
            return Ok(());
        }
        w = csv::Writer::from_writer(Vec::new());
        if names.companies.len() > 10_000 {
            names.companies.clear();
        }
    }
    Ok(())
}

/// Contacts as vCard 4.0, a page of cards per chunk.
async fn write_vcards(db: &Db, p: &Principal, mut pages: Pages, mut names: Names, tx: &tokio::sync::mpsc::Sender<Result<Vec<u8>, std::io::Error>>) -> Result<(), String> {
    while let Some(page) = pages.next(db, p).await? {
        load_companies(db, p, &mut names, &page).await;
        let mut chunk = String::new();
        for rec in &page {
            let company = company_of(&rec.fields).and_then(|id| names.companies.get(&id)).map(|c| c.0.as_str());
            chunk.push_str(&accord_domain::imports::vcard::write(&rec.fields, company));
        }
        if tx.send(Ok(chunk.into_bytes())).await.is_err() {
            return Ok(());
        }
    }
    Ok(())
}

/// XLSX rows go to a constant-memory worksheet (rust_xlsxwriter spills them to a temporary
/// file); the finished workbook is written to a temporary file too and sent from there, so
/// memory stays flat however many rows there are.
async fn write_xlsx(db: &Db, p: &Principal, mut pages: Pages, columns: Vec<String>, mut names: Names, tx: &tokio::sync::mpsc::Sender<Result<Vec<u8>, std::io::Error>>) -> Result<(), String> {
    use rust_xlsxwriter::{Format, Workbook};
    let err = |e: rust_xlsxwriter::XlsxError| e.to_string();
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = book.add_worksheet_with_constant_memory().map_err(err)?;
    sheet.set_name(pages.entity.path()).map_err(err)?;
    for (c, name) in columns.iter().enumerate() {
        sheet.write_string_with_format(0, u16::try_from(c).map_err(|e| e.to_string())?, name, &bold).map_err(err)?;
    }
    let mut row: u32 = 1;
    while let Some(page) = pages.next(db, p).await? {
        load_companies(db, p, &mut names, &page).await;
        for rec in &page {
            // A sheet holds 1,048,576 rows; beyond, CSV is the format.
            if row >= 1_048_576 {
                break;
            }
            for (c, col) in columns.iter().enumerate() {
                let text = cell(col, &rec.fields, &names);
                if !text.is_empty() {
                    sheet.write_string(row, u16::try_from(c).map_err(|e| e.to_string())?, crate::reports::neutralized(&text)).map_err(err)?;
                }
            }
            row += 1;
        }
    }
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join("export.xlsx");
    let target = path.clone();
    tokio::task::spawn_blocking(move || book.save(&target)).await.map_err(|e| e.to_string())?.map_err(err)?;
    send_file(&path, tx).await;
    Ok(())
}

/// Sends a file in chunks down a response channel; a failed read ends the body with the error.
pub(crate) async fn send_file(path: &std::path::Path, tx: &tokio::sync::mpsc::Sender<Result<Vec<u8>, std::io::Error>>) {
    use tokio::io::AsyncReadExt;
    let mut file = match tokio::fs::File::open(path).await {
        Ok(f) => f,
        Err(e) => {
            let _ = tx.send(Err(e)).await;
            return;
        }
    };
    loop {
        let mut chunk = vec![0u8; 256 * 1024];
        match file.read(&mut chunk).await {
            Ok(0) => return,
            Ok(n) => {
                chunk.truncate(n);
                if tx.send(Ok(chunk)).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                let _ = tx.send(Err(e)).await;
                return;
            }
        }
    }
}
