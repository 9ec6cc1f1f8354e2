//! Contacts and companies over HTTP. One generic implementation; the `entity_api!` macro
//! only gives each entity its documented paths.
use crate::auth::Auth;
use crate::json::ApiJson;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use accord_domain::entities::Entity;
use accord_domain::query;
use accord_storage::accounts::Principal;
use accord_storage::records::{self, Record, WriteOptions};
use accord_storage::timeline::{self, AuditEntry, Note, TimelineEntry};
use accord_storage::{custom_fields, search};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WriteParams {
    /// Create or update even if a record with the same e-mail, phone or INN exists.
    #[serde(default)]
    pub allow_duplicates: bool,
}

/// List parameters. Besides these, filter by any field: `field=value`, `field[op]=value`
/// with op one of eq, ne, in (comma-separated), gt, gte, lt, lte, contains, empty
/// (true/false); also `tag`, `email`, `phone`, `company_id` (contacts) and `cf.<key>`
/// for custom fields.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ListParams {
    /// 1–500, default 50
    limit: Option<u32>,
    /// `next_cursor` of the previous page
    cursor: Option<String>,
    /// A field to sort by, `-field` for descending; default `-updated_at`
    sort: Option<String>,
    /// Comma-separated fields to return (id and version always come)
    fields: Option<String>,
    /// Also return the number of matches (capped at 10000)
    count: Option<bool>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// 1–200, default 50
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct HistoryPage {
    pub data: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TimelinePage {
    pub data: Vec<TimelineEntry>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNote {
    /// Markdown
    pub body: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The record that goes away; its links, notes and history move to the survivor.
    pub merged_id: i64,
    /// Fields whose value is taken from the merged record instead of the survivor. Lists
    /// (emails, phones, addresses, tags, companies) not named here are united.
    #[serde(default)]
    pub take_from_merged: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct MergeResult {
    pub merge_id: i64,
    #[schema(value_type = Object)]
    pub record: Value,
}

/// Cuts one extra fetched row off a page and turns the last kept row into the cursor.
pub fn cut_page<T>(mut rows: Vec<T>, limit: u32, cursor_of: impl Fn(&T) -> String) -> (Vec<T>, Option<String>) {
    if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        let next = rows.last().map(cursor_of);
        (rows, next)
    } else {
        (rows, None)
    }
}

/// An id cursor of the history and audit lists.
pub fn id_cursor(cursor: Option<&str>) -> ApiResult<Option<i64>> {
    cursor.map(|c| c.parse::<i64>().map_err(|_| ApiError::field("cursor", "invalid_cursor", "is not a cursor of this list"))).transpose()
}

pub fn page_limit(limit: Option<u32>) -> ApiResult<u32> {
    match limit {
        None => Ok(50),
        Some(n) if (1..=200).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::field("limit", "out_of_range", "must be from 1 to 200")),
    }
}

pub fn record_response(status: StatusCode, rec: Record) -> Response {
    let mut resp = (status, Json(Value::Object(rec.fields))).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", rec.version)) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    resp
}

/// The version a client says it edits: `If-Match: "3"` or a `version` field in the body.
fn expected_version(headers: &HeaderMap, body: Option<&Map<String, Value>>) -> ApiResult<Option<i64>> {
    if let Some(h) = headers.get(header::IF_MATCH) {
        let s = h.to_str().unwrap_or_default().trim().trim_start_matches("W/").trim_matches('"');
        return s.parse::<i64>().map(Some).map_err(|_| ApiError::field("If-Match", "invalid_version", "must be the record's version, e.g. \"3\""));
    }
    match body.and_then(|b| b.get("version")) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or_else(|| ApiError::field("version", "invalid_version", "must be an integer")),
    }
}

async fn custom(state: &AppState, p: &Principal, entity: Entity) -> ApiResult<Vec<query::CustomField>> {
    Ok(custom_fields::for_entity(&state.db, p.workspace_id, entity).await?)
}

pub async fn list(state: &AppState, p: &Principal, entity: Entity, params: Vec<(String, String)>, trash: bool) -> ApiResult<Json<Value>> {
    // Definitions are only needed to read `cf.` filters and sorts.
    let custom = if params.iter().any(|(k, v)| k.starts_with("cf.") || (k == "sort" && v.trim_start_matches('-').starts_with("cf."))) { custom(state, p, entity).await? } else { Vec::new() };
    if params.iter().any(|(k, _)| k == "allow_duplicates") {
        return Err(ApiError::field("allow_duplicates", "unknown_field", "is a parameter of writes"));
    }
    let q = query::parse(entity, &params, &custom, &p.region)?;
    let page = records::list(&state.db, &p.viewer, entity, &q, trash).await?;
    let data: Vec<Value> = page.data.into_iter().map(|r| Value::Object(r.fields)).collect();
    let mut body = json!({ "data": data, "next_cursor": page.next_cursor });
    if let Some((n, capped)) = page.count {
        body["count"] = json!(n);
        body["count_capped"] = json!(capped);
    }
    Ok(Json(body))
}

pub async fn create(state: &AppState, p: &Principal, entity: Entity, w: WriteParams, body: Map<String, Value>) -> ApiResult<Response> {
    let custom = custom(state, p, entity).await?;
    let rec = records::create(&state.db, p, entity, &body, &custom, &WriteOptions { allow_duplicates: w.allow_duplicates }).await?;
    let location = format!("/api/v1/{}/{}", entity.path(), rec.id);
    let mut resp = record_response(StatusCode::CREATED, rec);
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

pub async fn get(state: &AppState, p: &Principal, entity: Entity, id: i64) -> ApiResult<Response> {
    Ok(record_response(StatusCode::OK, records::get(&state.db, &p.viewer, entity, id, false).await?))
}

pub async fn update(state: &AppState, p: &Principal, entity: Entity, id: i64, headers: &HeaderMap, w: WriteParams, body: Map<String, Value>) -> ApiResult<Response> {
    let custom = custom(state, p, entity).await?;
    let version = expected_version(headers, Some(&body))?;
    let rec = records::update(&state.db, p, entity, id, &body, version, &custom, &WriteOptions { allow_duplicates: w.allow_duplicates }).await?;
    Ok(record_response(StatusCode::OK, rec))
}

pub async fn delete(state: &AppState, p: &Principal, entity: Entity, id: i64, headers: &HeaderMap) -> ApiResult<StatusCode> {
    records::delete(&state.db, p, entity, id, expected_version(headers, None)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn restore(state: &AppState, p: &Principal, entity: Entity, id: i64) -> ApiResult<Response> {
    let custom = custom(state, p, entity).await?;
    Ok(record_response(StatusCode::OK, records::restore(&state.db, p, entity, id, &custom).await?))
}

pub async fn purge(state: &AppState, p: &Principal, entity: Entity, id: i64) -> ApiResult<StatusCode> {
    records::purge(&state.db, p, entity, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// History and timeline are readable by whoever may read the record, trashed ones included.
async fn ensure_readable(state: &AppState, p: &Principal, entity: Entity, id: i64) -> ApiResult<()> {
    match records::get(&state.db, &p.viewer, entity, id, false).await {
        Err(accord_storage::Error::NotFound) => {
            records::get(&state.db, &p.viewer, entity, id, true).await?;
            Ok(())
        }
        other => other.map(|_| ()).map_err(ApiError::from),
    }
}

pub async fn history(state: &AppState, p: &Principal, entity: Entity, id: i64, page: PageParams) -> ApiResult<Json<HistoryPage>> {
    ensure_readable(state, p, entity, id).await?;
    let limit = page_limit(page.limit)?;
    let rows = timeline::history(&state.db, entity, id, id_cursor(page.cursor.as_deref())?, limit + 1).await?;
    let (data, next_cursor) = cut_page(rows, limit, |e| e.id.to_string());
    Ok(Json(HistoryPage { data, next_cursor }))
}

pub async fn timeline(state: &AppState, p: &Principal, entity: Entity, id: i64, page: PageParams) -> ApiResult<Json<TimelinePage>> {
    ensure_readable(state, p, entity, id).await?;
    let limit = page_limit(page.limit)?;
    let after = match page.cursor.as_deref() {
        None => None,
        Some(c) => Some(c.split_once('_').and_then(|(a, b)| Some((a.parse::<i64>().ok()?, b.parse::<i64>().ok()?))).ok_or_else(|| ApiError::field("cursor", "invalid_cursor", "is not a cursor of this list"))?),
    };
    let rows = timeline::timeline(&state.db, entity, id, after, limit + 1).await?;
    let (rows, next_cursor) = cut_page(rows, limit, |(e, at)| format!("{at}_{}", e.id));
    Ok(Json(TimelinePage { data: rows.into_iter().map(|(e, _)| e).collect(), next_cursor }))
}

pub async fn notes(state: &AppState, p: &Principal, entity: Entity, id: i64) -> ApiResult<Json<Vec<Note>>> {
    ensure_readable(state, p, entity, id).await?;
    Ok(Json(timeline::notes(&state.db, entity, id).await?))
}

/// Anyone who may read a record may write notes on it, unless their role or token is
/// read-only.
pub async fn add_note(state: &AppState, p: &Principal, entity: Entity, id: i64, body: NewNote) -> ApiResult<(StatusCode, Json<Note>)> {
    records::access(&state.db, &p.viewer, entity, id).await?;
    if !p.viewer.can_write_anything() {
        return Err(accord_storage::Error::Forbidden("your role may not write notes").into());
    }
    Ok((StatusCode::CREATED, Json(timeline::add_note(&state.db, p.workspace_id, entity, id, p.user.id, &body.body).await?)))
}

pub async fn merge(state: &AppState, p: &Principal, entity: Entity, id: i64, body: MergeRequest) -> ApiResult<Json<MergeResult>> {
    let custom = custom(state, p, entity).await?;
    let (rec, merge_id) = records::merge(&state.db, p, entity, id, body.merged_id, &body.take_from_merged, &custom).await?;
    Ok(Json(MergeResult { merge_id, record: Value::Object(rec.fields) }))
}

macro_rules! entity_api {
    ($module:ident, $entity:expr, $tag:tt, $base:tt, $item:tt, $doc:ty, $input:ty, $list:ty, mergeable = $mergeable:literal) => {
        pub mod $module {
            use super::*;

            /// List records (keyset pagination, filters, sorting)
            #[utoipa::path(get, path = $base, tag = $tag, params(ListParams),
                responses((status = 200, body = $list), (status = 422, body = crate::problem::Problem)))]
            pub async fn list(State(s): State<AppState>, Auth(p): Auth, Query(params): Query<Vec<(String, String)>>) -> ApiResult<Json<Value>> {
                super::list(&s, &p, $entity, params, false).await
            }

            /// Create a record
            #[utoipa::path(post, path = $base, tag = $tag, params(WriteParams), request_body = $input,
                responses((status = 201, body = $doc), (status = 409, body = crate::problem::Problem, description = "Duplicate"), (status = 422, body = crate::problem::Problem)))]
            pub async fn create(State(s): State<AppState>, Auth(p): Auth, Query(w): Query<WriteParams>, ApiJson(body): ApiJson<Map<String, Value>>) -> ApiResult<Response> {
                super::create(&s, &p, $entity, w, body).await
            }

            /// Records in the trash
            #[utoipa::path(get, path = concat!($base, "/trash"), tag = $tag, params(ListParams), responses((status = 200, body = $list)))]
            pub async fn trash(State(s): State<AppState>, Auth(p): Auth, Query(params): Query<Vec<(String, String)>>) -> ApiResult<Json<Value>> {
                super::list(&s, &p, $entity, params, true).await
            }

            /// Read a record
            #[utoipa::path(get, path = $item, tag = $tag, responses((status = 200, body = $doc), (status = 404, body = crate::problem::Problem)))]
            pub async fn get(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>) -> ApiResult<Response> {
                super::get(&s, &p, $entity, id).await
            }

            /// Change some fields (send `If-Match` or `version` to detect concurrent edits)
            #[utoipa::path(patch, path = $item, tag = $tag, params(WriteParams), request_body = $input,
                responses((status = 200, body = $doc), (status = 403, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem),
                          (status = 409, body = crate::problem::Problem, description = "Stale version or duplicate"), (status = 422, body = crate::problem::Problem)))]
            pub async fn update(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>, headers: HeaderMap, Query(w): Query<WriteParams>, ApiJson(body): ApiJson<Map<String, Value>>) -> ApiResult<Response> {
                super::update(&s, &p, $entity, id, &headers, w, body).await
            }

            /// Move a record to the trash
            #[utoipa::path(delete, path = $item, tag = $tag, responses((status = 204), (status = 403, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem)))]
            pub async fn delete(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>, headers: HeaderMap) -> ApiResult<StatusCode> {
                super::delete(&s, &p, $entity, id, &headers).await
            }

            /// Bring a record back from the trash
            #[utoipa::path(post, path = concat!($item, "/restore"), tag = $tag, responses((status = 200, body = $doc), (status = 404, body = crate::problem::Problem)))]
            pub async fn restore(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>) -> ApiResult<Response> {
                super::restore(&s, &p, $entity, id).await
            }

            /// Delete a trashed record for good (admins)
            #[utoipa::path(post, path = concat!($item, "/purge"), tag = $tag, responses((status = 204), (status = 403, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem)))]
            pub async fn purge(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>) -> ApiResult<StatusCode> {
                super::purge(&s, &p, $entity, id).await
            }

            /// Every change of the record: who, when, old and new values
            #[utoipa::path(get, path = concat!($item, "/history"), tag = $tag, params(PageParams), responses((status = 200, body = HistoryPage), (status = 404, body = crate::problem::Problem)))]
            pub async fn history(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>, Query(page): Query<PageParams>) -> ApiResult<Json<HistoryPage>> {
                super::history(&s, &p, $entity, id, page).await
            }

            /// Everything that happened to the record, newest first
            #[utoipa::path(get, path = concat!($item, "/timeline"), tag = $tag, params(PageParams), responses((status = 200, body = TimelinePage), (status = 404, body = crate::problem::Problem)))]
            pub async fn timeline(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>, Query(page): Query<PageParams>) -> ApiResult<Json<TimelinePage>> {
                super::timeline(&s, &p, $entity, id, page).await
            }

            /// Notes on the record, newest first
            #[utoipa::path(get, path = concat!($item, "/notes"), tag = $tag, responses((status = 200, body = Vec<Note>), (status = 404, body = crate::problem::Problem)))]
            pub async fn notes(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>) -> ApiResult<Json<Vec<Note>>> {
                super::notes(&s, &p, $entity, id).await
            }

            /// Add a note (Markdown)
            #[utoipa::path(post, path = concat!($item, "/notes"), tag = $tag, request_body = NewNote, responses((status = 201, body = Note), (status = 404, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
            pub async fn add_note(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>, ApiJson(body): ApiJson<NewNote>) -> ApiResult<(StatusCode, Json<Note>)> {
                super::add_note(&s, &p, $entity, id, body).await
            }

            /// Merge another record into this one (undo with POST /api/v1/merges/{id}/undo)
            #[utoipa::path(post, path = concat!($item, "/merge"), tag = $tag, request_body = MergeRequest,
                responses((status = 200, body = MergeResult), (status = 403, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
            pub async fn merge(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>, ApiJson(body): ApiJson<MergeRequest>) -> ApiResult<Json<MergeResult>> {
                super::merge(&s, &p, $entity, id, body).await
            }

            pub fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
                let router = utoipa_axum::router::OpenApiRouter::new()
                    .routes(utoipa_axum::routes!(list, create))
                    .routes(utoipa_axum::routes!(trash))
                    .routes(utoipa_axum::routes!(get, update, delete))
                    .routes(utoipa_axum::routes!(restore))
                    .routes(utoipa_axum::routes!(purge))
                    .routes(utoipa_axum::routes!(history))
                    .routes(utoipa_axum::routes!(timeline))
                    .routes(utoipa_axum::routes!(notes, add_note));
                if $mergeable { router.routes(utoipa_axum::routes!(merge)) } else { router }
            }
        }
    };
}

use crate::schema as doc;
entity_api!(contacts, Entity::Contact, "contacts", "/api/v1/contacts", "/api/v1/contacts/{id}", doc::ContactDoc, doc::ContactInputDoc, doc::ContactListDoc, mergeable = true);
entity_api!(companies, Entity::Company, "companies", "/api/v1/companies", "/api/v1/companies/{id}", doc::CompanyDoc, doc::CompanyInputDoc, doc::CompanyListDoc, mergeable = true);
entity_api!(products, Entity::Product, "products", "/api/v1/products", "/api/v1/products/{id}", doc::ProductDoc, doc::ProductInputDoc, doc::ProductListDoc, mergeable = false);
entity_api!(deals, Entity::Deal, "deals", "/api/v1/deals", "/api/v1/deals/{id}", doc::DealDoc, doc::DealInputDoc, doc::DealListDoc, mergeable = false);
entity_api!(leads, Entity::Lead, "leads", "/api/v1/leads", "/api/v1/leads/{id}", doc::LeadDoc, doc::LeadInputDoc, doc::LeadListDoc, mergeable = false);
entity_api!(activities, Entity::Activity, "activities", "/api/v1/activities", "/api/v1/activities/{id}", doc::ActivityDoc, doc::ActivityInputDoc, doc::ActivityListDoc, mergeable = false);
entity_api!(tasks, Entity::Task, "tasks", "/api/v1/tasks", "/api/v1/tasks/{id}", doc::TaskDoc, doc::TaskInputDoc, doc::TaskListDoc, mergeable = false);

/// Undo a merge: both records return to what they were
#[utoipa::path(post, path = "/api/v1/merges/{id}/undo", tag = "records", responses((status = 200, description = "The survivor as it was before"), (status = 404, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem)))]
pub async fn undo_merge(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>) -> ApiResult<Response> {
    let entity = merge_entity(&s, &p, id).await?;
    let custom = custom(&s, &p, entity).await?;
    Ok(record_response(StatusCode::OK, records::undo_merge(&s.db, &p, id, &custom).await?))
}

async fn merge_entity(s: &AppState, p: &Principal, merge_id: i64) -> ApiResult<Entity> {
    let name = records::merge_entity(&s.db, p.workspace_id, merge_id).await?;
    Entity::parse(&name).ok_or_else(ApiError::not_found)
}

/// Delete a note (its author or whoever may edit the record)
#[utoipa::path(delete, path = "/api/v1/notes/{id}", tag = "records", responses((status = 204), (status = 403, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem)))]
pub async fn delete_note(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    let (entity, record_id, author) = timeline::note_record(&s.db, id).await?;
    let access = records::access(&s.db, &p.viewer, entity, record_id).await?;
    if !(access == accord_domain::permissions::Access::Edit || (author == p.user.id && p.viewer.can_write_anything())) {
        return Err(accord_storage::Error::Forbidden("only the author or an editor of the record may delete this note").into());
    }
    timeline::delete_note(&s.db, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Words, name prefixes, e-mail fragments, phone numbers in any notation, INN, tags
    pub q: String,
    /// contact, company, product, deal or lead; all of them when absent
    pub entity: Option<Entity>,
    /// 1–100, default 20
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct SearchResults {
    pub data: Vec<search::Hit>,
}

/// Full-text search across contacts, companies, products, deals and leads, ranked
#[utoipa::path(get, path = "/api/v1/search", tag = "search", params(SearchParams), responses((status = 200, body = SearchResults), (status = 422, body = crate::problem::Problem)))]
pub async fn search_records(State(s): State<AppState>, Auth(p): Auth, Query(q): Query<SearchParams>) -> ApiResult<Json<SearchResults>> {
    let limit = match q.limit {
        None => 20,
        Some(n) if (1..=100).contains(&n) => n,
        Some(_) => return Err(ApiError::field("limit", "out_of_range", "must be from 1 to 100")),
    };
    if q.q.chars().count() > 200 {
        return Err(ApiError::field("q", "too_long", "must be at most 200 characters"));
    }
    Ok(Json(SearchResults { data: search::search(&s.db, &p.viewer, &q.q, q.entity, limit).await? }))
}
