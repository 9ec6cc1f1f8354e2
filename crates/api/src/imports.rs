//! Imports over HTTP: upload a file (the body is the file itself), adjust the mapping, check,
//! run, follow the progress, read the per-row report, undo.
use crate::auth::Auth;
use crate::json::ApiJson;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use accord_domain::entities::Entity;
use accord_storage::imports::{self, ImportChange, ImportInfo, RowReport, UndoResult};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The largest file an upload takes (XLSX allows a million rows; CSV exports of that size
/// are a few hundred MB).
const UPLOAD_LIMIT: usize = 512 * 1024 * 1024;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// `contacts`, `companies`, `deals`, `products`, `leads`, `activities` or `tasks`
    entity: String,
    /// The file's name, shown in the import history
    file_name: Option<String>,
}

pub(crate) fn entity_of(path: &str) -> ApiResult<Entity> {
    Ok(Entity::named(path)?)
}

#[derive(Serialize, ToSchema)]
pub struct ImportDoc {
    #[serde(flatten)]
    pub import: ImportInfo,
    /// The destinations this kind of record offers for `mapping` (besides `cf.<key>`)
    pub targets: Vec<String>,
}

fn doc(import: ImportInfo) -> ImportDoc {
    let targets = imports::targets(import.entity).into_iter().map(|t| t.id).collect();
    ImportDoc { import, targets }
}

/// Upload a CSV or XLSX file to import; the body is the file. Answers the import with the
/// file's encoding, delimiter, recognised CRM format and the suggested mapping.
#[utoipa::path(post, path = "/api/v1/imports", tag = "imports", params(UploadParams), request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = ImportDoc), (status = 413, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn upload(State(s): State<AppState>, Auth(p): Auth, Query(q): Query<UploadParams>, body: Body) -> ApiResult<(StatusCode, Json<ImportDoc>)> {
    let entity = entity_of(&q.entity)?;
    let bytes = axum::body::to_bytes(body, UPLOAD_LIMIT).await.map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", "the file is larger than 512 MB"))?;
    let info = imports::create(&s.db, &p, entity, q.file_name.as_deref().unwrap_or("import"), &bytes).await?;
    Ok((StatusCode::CREATED, Json(doc(info))))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportListParams {
    /// 1–100, default 20
    limit: Option<u32>,
    cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ImportPage {
    pub data: Vec<ImportInfo>,
    pub next_cursor: Option<String>,
}

/// Your imports (an admin's: everyone's), newest first
#[utoipa::path(get, path = "/api/v1/imports", tag = "imports", params(ImportListParams), responses((status = 200, body = ImportPage)))]
pub async fn list(State(s): State<AppState>, Auth(p): Auth, Query(q): Query<ImportListParams>) -> ApiResult<Json<ImportPage>> {
    let limit = match q.limit {
        None => 20,
        Some(n) if (1..=100).contains(&n) => n,
        Some(_) => return Err(ApiError::field("limit", "out_of_range", "must be from 1 to 100")),
    };
    let rows = imports::list(&s.db, &p, crate::records::id_cursor(q.cursor.as_deref())?, limit).await?;
    let (data, next_cursor) = crate::records::cut_page(rows, limit, |i| i.id.to_string());
    Ok(Json(ImportPage { data, next_cursor }))
}

/// An import: its mapping, options, status and progress
#[utoipa::path(get, path = "/api/v1/imports/{id}", tag = "imports", responses((status = 200, body = ImportDoc), (status = 404, body = crate::problem::Problem)))]
pub async fn get(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>) -> ApiResult<Json<ImportDoc>> {
    Ok(Json(doc(imports::get(&s.db, &p, id).await?)))
}

/// Change the mapping or options of an import that has not run
#[utoipa::path(patch, path = "/api/v1/imports/{id}", tag = "imports", request_body = ImportChange,
    responses((status = 200, body = ImportDoc), (status = 404, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn update(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>, ApiJson(body): ApiJson<ImportChange>) -> ApiResult<Json<ImportDoc>> {
    Ok(Json(doc(imports::update(&s.db, &p, id, body).await?)))
}

/// Starts the queued work at once in this instance; the background worker of any instance
/// takes it up instead if this one stops.
fn kick(s: &AppState) {
    let db = s.db.clone();
    accord_storage::spawn_long(async move {
        if let Err(e) = imports::work(&db).await {
            tracing::warn!(error = %e, "import stopped");
        }
    });
}

/// Check every row without writing: what would be created, updated, skipped, and why rows
/// fail. Runs in the background; follow `status` (`checking` → `checked`).
#[utoipa::path(post, path = "/api/v1/imports/{id}/check", tag = "imports", responses((status = 202, body = ImportDoc), (status = 404, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem)))]
pub async fn check(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>) -> ApiResult<(StatusCode, Json<ImportDoc>)> {
    let info = imports::start(&s.db, &p, id, false).await?;
    kick(&s);
    Ok((StatusCode::ACCEPTED, Json(doc(info))))
}

/// Write every valid row, in batches; bad rows are reported and skipped. Runs in the
/// background (`running` → `done`) and resumes after a restart.
#[utoipa::path(post, path = "/api/v1/imports/{id}/run", tag = "imports", responses((status = 202, body = ImportDoc), (status = 404, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem)))]
pub async fn run(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>) -> ApiResult<(StatusCode, Json<ImportDoc>)> {
    let info = imports::start(&s.db, &p, id, true).await?;
    kick(&s);
    Ok((StatusCode::ACCEPTED, Json(doc(info))))
}

/// Undo a run: created records go to the trash, updated ones get their values back, unless
/// changed since (those are listed)
#[utoipa::path(post, path = "/api/v1/imports/{id}/undo", tag = "imports", responses((status = 200, body = UndoResult), (status = 404, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem)))]
pub async fn undo(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>) -> ApiResult<Json<UndoResult>> {
    Ok(Json(imports::undo(&s.db, &p, id).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RowParams {
    /// `check` (default) or `run`
    phase: Option<String>,
    /// Only rows of this outcome: `create`, `update`, `skip`, `fail`
    action: Option<String>,
    /// 1–500, default 100
    limit: Option<u32>,
    cursor: Option<String>,
    /// `csv` for the whole report as a file
    format: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RowPage {
    pub data: Vec<RowReport>,
    pub next_cursor: Option<String>,
}

fn phase_of(q: &RowParams) -> ApiResult<&str> {
    match q.phase.as_deref().unwrap_or("check") {
        p @ ("check" | "run") => Ok(p),
        _ => Err(ApiError::field("phase", "invalid_choice", "must be check or run")),
    }
}

/// The per-row report of the check or the run; `format=csv` downloads all of it
#[utoipa::path(get, path = "/api/v1/imports/{id}/rows", tag = "imports", params(RowParams),
    responses((status = 200, body = RowPage, content((RowPage = "application/json"), (String = "text/csv"))), (status = 404, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn rows(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>, Query(q): Query<RowParams>) -> ApiResult<Response> {
    let phase = phase_of(&q)?;
    if let Some(a) = q.action.as_deref().filter(|a| !["create", "update", "skip", "fail"].contains(a)) {
        return Err(ApiError::field("action", "invalid_choice", &format!("{a:?} is not one of create, update, skip, fail")));
    }
    match q.format.as_deref() {
        Some("csv") => return report_csv(&s, &p, id, phase, q.action.as_deref()).await,
        Some(_) => return Err(ApiError::field("format", "invalid_choice", "must be csv")),
        None => {}
    }
    let limit = match q.limit {
        None => 100,
        Some(n) if (1..=500).contains(&n) => n,
        Some(_) => return Err(ApiError::field("limit", "out_of_range", "must be from 1 to 500")),
    };
    let after = crate::records::id_cursor(q.cursor.as_deref())?.unwrap_or(-1);
    let rows = imports::rows(&s.db, &p, id, phase, q.action.as_deref(), after, limit + 1).await?;
    let (data, next_cursor) = crate::records::cut_page(rows, limit, |r| r.row.to_string());
    Ok(Json(RowPage { data, next_cursor }).into_response())
}

/// One line per problem (or per row without one): line, action, record, column, field, code,
/// message. Read page by page, so a report of a million rows is never whole in memory.
async fn report_csv(s: &AppState, p: &accord_storage::accounts::Principal, id: i64, phase: &str, action: Option<&str>) -> ApiResult<Response> {
    imports::get(&s.db, p, id).await?;
    let filename = format!("accord-import-{id}-{phase}.csv");
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let (db, p, phase, action) = (s.db.clone(), p.clone(), phase.to_owned(), action.map(str::to_owned));
    accord_storage::spawn_long(async move {
        let mut w = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
        let _ = w.write_record(["line", "action", "record_id", "column", "field", "code", "message"]);
        let mut after = -1;
        loop {
            let page = match imports::rows(&db, &p, id, &phase, action.as_deref(), after, 1000).await {
                Ok(page) => page,
                Err(e) => {
                    let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                    return;
                }
            };
            for r in &page {
                let record = r.record_id.map(|i| i.to_string()).unwrap_or_default();
                let problems = r.problems.as_array().cloned().unwrap_or_default();
                if problems.is_empty() {
                    let _ = w.write_record([r.line.to_string(), r.action.clone(), record.clone(), String::new(), String::new(), String::new(), String::new()]);
                }
                for pr in problems {
                    let text = |k: &str| crate::reports::neutralized(pr.get(k).and_then(|v| v.as_str()).unwrap_or_default()).into_owned();
                    let _ = w.write_record([r.line.to_string(), r.action.clone(), record.clone(), text("column"), text("field"), text("code"), text("message")]);
                }
            }
            let chunk = match w.into_inner() {
                Ok(c) => c,
                Err(_) => return,
            };
            if tx.send(Ok(chunk)).await.is_err() {
                return;
            }
            w = csv::Writer::from_writer(Vec::new());
            match page.last() {
                Some(last) if page.len() == 1000 => after = last.row,
                _ => return,
            }
        }
    });
    Ok(streamed(rx, "text/csv; charset=utf-8", &filename))
}

/// A download whose chunks a task sends through `rx` as it reads them.
pub(crate) fn streamed(rx: tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>, content_type: &'static str, filename: &str) -> Response {
    let mut resp = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx)).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}
