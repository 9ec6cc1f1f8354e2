//! Sales over HTTP beyond the generic record endpoints: pipelines and the board, moving
//! deals, lost reasons, exchange rates, lead conversion, web forms (admin and public),
//! notifications and calendar feeds.
use crate::auth::{Auth, Peer, client_addr};
use crate::json::ApiJson;
use crate::problem::{ApiError, ApiResult};
use crate::records::{cut_page, id_cursor, page_limit};
use crate::state::AppState;
use accord_domain::entities::Entity;
use accord_domain::query;
use accord_storage::calendar;
use accord_storage::notifications::{self, Notification};
use accord_storage::sales::board::{self, Board, MoveRequest};
use accord_storage::sales::leads::{self, ConvertRequest, ConvertResult, FormOutcome, WebForm, WebFormInput};
use accord_storage::sales::{self, ExchangeRate, LostReasonInfo, LostReasonInput, NewExchangeRate, NewPipeline, PipelineChange, PipelineInfo};
use accord_storage::{custom_fields, records};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

// ---------------------------------------------------------------- pipelines

/// Pipelines with their stages in board order
#[utoipa::path(get, path = "/api/v1/pipelines", tag = "pipelines", responses((status = 200, body = Vec<PipelineInfo>)))]
pub async fn list_pipelines(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<Vec<PipelineInfo>>> {
    Ok(Json(sales::pipelines(&s.db, &p).await?))
}

/// Create a pipeline (admins); it needs open, won and lost stages
#[utoipa::path(post, path = "/api/v1/pipelines", tag = "pipelines", request_body = NewPipeline, responses((status = 201, body = PipelineInfo), (status = 403, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn create_pipeline(State(s): State<AppState>, Auth(p): Auth, ApiJson(body): ApiJson<NewPipeline>) -> ApiResult<(StatusCode, Json<PipelineInfo>)> {
    Ok((StatusCode::CREATED, Json(sales::create_pipeline(&s.db, &p, body).await?)))
}

/// A pipeline
#[utoipa::path(get, path = "/api/v1/pipelines/{id}", tag = "pipelines", responses((status = 200, body = PipelineInfo), (status = 404, body = crate::problem::Problem)))]
pub async fn get_pipeline(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>) -> ApiResult<Json<PipelineInfo>> {
    Ok(Json(sales::pipeline(&s.db, &p, id).await?))
}

/// Rename a pipeline; add, rename, reorder and remove its stages (admins)
#[utoipa::path(patch, path = "/api/v1/pipelines/{id}", tag = "pipelines", request_body = PipelineChange,
    responses((status = 200, body = PipelineInfo), (status = 403, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn update_pipeline(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>, ApiJson(body): ApiJson<PipelineChange>) -> ApiResult<Json<PipelineInfo>> {
    Ok(Json(sales::update_pipeline(&s.db, &p, id, body).await?))
}

/// Remove a pipeline that holds no deals (admins); the last one stays
#[utoipa::path(delete, path = "/api/v1/pipelines/{id}", tag = "pipelines", responses((status = 204), (status = 403, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem)))]
pub async fn delete_pipeline(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    sales::delete_pipeline(&s.db, &p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Board parameters. Besides these, every filter of the deal list applies (`owner_id`,
/// `team_id`, `tag`, `created_at[gte]`, `expected_close_date[lte]`, `amount[gt]` …).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct BoardParams {
    /// Cards per column, 1–100, default 20
    limit: Option<u32>,
    /// One column only: a stage id of this pipeline (to load more of it with `cursor`)
    column: Option<i64>,
    /// `next_cursor` of that column
    cursor: Option<String>,
}

/// The kanban board: per stage the count, the total in the base currency and the first cards
#[utoipa::path(get, path = "/api/v1/pipelines/{id}/board", tag = "pipelines", params(BoardParams),
    responses((status = 200, body = Board), (status = 404, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn get_board(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>, Query(params): Query<Vec<(String, String)>>) -> ApiResult<Json<Board>> {
    let (mut limit, mut column, mut cursor, mut rest) = (20, None, None, Vec::new());
    for (k, v) in params {
        match k.as_str() {
            "limit" => limit = v.parse().ok().filter(|n| (1..=100).contains(n)).ok_or_else(|| ApiError::field("limit", "out_of_range", "must be from 1 to 100"))?,
            "column" => column = Some(v.parse::<i64>().map_err(|_| ApiError::field("column", "not_a_number", "must be a stage id"))?),
            "cursor" => cursor = Some(v),
            "sort" | "fields" | "count" => return Err(ApiError::field(&k, "unknown_field", "the board is in board order with every field")),
            _ => rest.push((k, v)),
        }
    }
    if cursor.is_some() && column.is_none() {
        return Err(ApiError::field("cursor", "column_required", "a column's cursor goes with its column"));
    }
    let custom = if rest.iter().any(|(k, _)| k.starts_with("cf.")) { custom_fields::for_entity(&s.db, p.workspace_id, Entity::Deal).await? } else { Vec::new() };
    let q = query::parse(Entity::Deal, &rest, &custom, &p.region)?;
    Ok(Json(board::board(&s.db, &p, id, &q.filters, limit, column, cursor.as_deref()).await?))
}

/// Move a deal to another stage of its pipeline (a lost stage needs `lost_reason_id`)
#[utoipa::path(post, path = "/api/v1/deals/{id}/move", tag = "deals", request_body = MoveRequest,
    responses((status = 200, body = crate::schema::DealDoc), (status = 403, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn move_deal(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>, ApiJson(body): ApiJson<MoveRequest>) -> ApiResult<Response> {
    let custom = custom_fields::for_entity(&s.db, p.workspace_id, Entity::Deal).await?;
    Ok(crate::records::record_response(StatusCode::OK, board::move_deal(&s.db, &p, id, body, &custom).await?))
}

/// The stages a deal went through, with how long it stayed in each
#[utoipa::path(get, path = "/api/v1/deals/{id}/stage_history", tag = "deals", responses((status = 200, body = Vec<board::StageStay>), (status = 404, body = crate::problem::Problem)))]
pub async fn stage_history(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>) -> ApiResult<Json<Vec<board::StageStay>>> {
    records::get(&s.db, &p.viewer, Entity::Deal, id, false).await?;
    Ok(Json(board::stage_history(&s.db, p.workspace_id, id).await?))
}

// ---------------------------------------------------------------- lost reasons, rates

/// Lost reasons, inactive ones included
#[utoipa::path(get, path = "/api/v1/lost_reasons", tag = "pipelines", responses((status = 200, body = Vec<LostReasonInfo>)))]
pub async fn list_lost_reasons(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<Vec<LostReasonInfo>>> {
    Ok(Json(sales::lost_reasons(&s.db, &p).await?))
}

/// Add a lost reason (admins)
#[utoipa::path(post, path = "/api/v1/lost_reasons", tag = "pipelines", request_body = LostReasonInput, responses((status = 201, body = LostReasonInfo), (status = 403, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn create_lost_reason(State(s): State<AppState>, Auth(p): Auth, ApiJson(body): ApiJson<LostReasonInput>) -> ApiResult<(StatusCode, Json<LostReasonInfo>)> {
    Ok((StatusCode::CREATED, Json(sales::save_lost_reason(&s.db, &p, None, body).await?)))
}

/// Rename a lost reason, or stop offering it with `active: false` (admins)
#[utoipa::path(patch, path = "/api/v1/lost_reasons/{id}", tag = "pipelines", request_body = LostReasonInput,
    responses((status = 200, body = LostReasonInfo), (status = 403, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn update_lost_reason(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>, ApiJson(body): ApiJson<LostReasonInput>) -> ApiResult<Json<LostReasonInfo>> {
    Ok(Json(sales::save_lost_reason(&s.db, &p, Some(id), body).await?))
}

/// Exchange rates to the base currency, newest first per currency
#[utoipa::path(get, path = "/api/v1/exchange_rates", tag = "pipelines", responses((status = 200, body = Vec<ExchangeRate>)))]
pub async fn list_rates(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<Vec<ExchangeRate>>> {
    Ok(Json(sales::exchange_rates(&s.db, p.workspace_id).await?))
}

/// Enter an exchange rate valid from a day (admins)
#[utoipa::path(post, path = "/api/v1/exchange_rates", tag = "pipelines", request_body = NewExchangeRate, responses((status = 201, body = ExchangeRate), (status = 403, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn create_rate(State(s): State<AppState>, Auth(p): Auth, ApiJson(body): ApiJson<NewExchangeRate>) -> ApiResult<(StatusCode, Json<ExchangeRate>)> {
    Ok((StatusCode::CREATED, Json(sales::add_exchange_rate(&s.db, &p, body).await?)))
}

/// Delete an exchange rate (admins)
#[utoipa::path(delete, path = "/api/v1/exchange_rates/{id}", tag = "pipelines", responses((status = 204), (status = 403, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem)))]
pub async fn delete_rate(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    sales::delete_exchange_rate(&s.db, &p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- leads and web forms

/// Qualify a lead: in one transaction it becomes a contact, a company (existing ones are
/// linked when found) and a deal
#[utoipa::path(post, path = "/api/v1/leads/{id}/convert", tag = "leads", request_body = ConvertRequest,
    responses((status = 200, body = ConvertResult), (status = 403, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn convert_lead(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>, ApiJson(body): ApiJson<ConvertRequest>) -> ApiResult<Json<ConvertResult>> {
    Ok(Json(leads::convert(&s.db, &p, id, body).await?))
}

/// Web forms of the workspace (admins)
#[utoipa::path(get, path = "/api/v1/web_forms", tag = "leads", responses((status = 200, body = Vec<WebForm>), (status = 403, body = crate::problem::Problem)))]
pub async fn list_web_forms(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<Vec<WebForm>>> {
    Ok(Json(leads::web_forms(&s.db, &p).await?))
}

/// Create a web form and its public key (admins)
#[utoipa::path(post, path = "/api/v1/web_forms", tag = "leads", request_body = WebFormInput, responses((status = 201, body = WebForm), (status = 403, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn create_web_form(State(s): State<AppState>, Auth(p): Auth, ApiJson(body): ApiJson<WebFormInput>) -> ApiResult<(StatusCode, Json<WebForm>)> {
    Ok((StatusCode::CREATED, Json(leads::save_web_form(&s.db, &p, None, body).await?)))
}

/// Change or switch off a web form (admins)
#[utoipa::path(patch, path = "/api/v1/web_forms/{id}", tag = "leads", request_body = WebFormInput,
    responses((status = 200, body = WebForm), (status = 403, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn update_web_form(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>, ApiJson(body): ApiJson<WebFormInput>) -> ApiResult<Json<WebForm>> {
    Ok(Json(leads::save_web_form(&s.db, &p, Some(id), body).await?))
}

/// Delete a web form; its key stops working (admins)
#[utoipa::path(delete, path = "/api/v1/web_forms/{id}", tag = "leads", responses((status = 204), (status = 403, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem)))]
pub async fn delete_web_form(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    leads::delete_web_form(&s.db, &p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct FormReceived {
    /// Always `received`.
    pub status: &'static str,
}

/// The fields a website form may post. Other fields are kept in the lead's message.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct FormFields {
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    company: Option<String>,
    inn: Option<String>,
    message: Option<String>,
    /// Also utm_medium, utm_campaign, utm_term, utm_content.
    utm_source: Option<String>,
    /// The honeypot: hide it from people; a post that fills it is dropped silently.
    _hp: Option<String>,
}

fn cors(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("POST, OPTIONS"));
    h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("content-type"));
    resp
}

/// Public web form endpoint: creates a lead (no sign-in; JSON or an HTML form post)
#[utoipa::path(post, path = "/api/v1/forms/{form_key}", tag = "leads", security(()),
    request_body(content = FormFields, content_type = "application/x-www-form-urlencoded"),
    responses((status = 201, body = FormReceived), (status = 404, body = crate::problem::Problem, description = "No such form"),
              (status = 422, body = crate::problem::Problem), (status = 429, body = crate::problem::Problem, description = "Too many posts from this address")))]
pub async fn submit_form(State(s): State<AppState>, Peer(peer): Peer, Path(form_key): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let addr = client_addr(&s, &headers, peer);
    let json = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/json"));
    let fields: Result<Map<String, Value>, ApiError> = if json {
        serde_json::from_slice(&body).map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", "the body is not a JSON object"))
    } else {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body)
            .map(|pairs| pairs.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
            .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "invalid_form", "the body is not a form post"))
    };
    let result = match fields {
        Ok(f) => leads::submit_form(&s.db, &form_key, &addr, &f).await.map_err(ApiError::from),
        Err(e) => Err(e),
    };
    cors(match result {
        Ok(FormOutcome::Created | FormOutcome::Ignored) => (StatusCode::CREATED, Json(FormReceived { status: "received" })).into_response(),
        Err(e) => e.into_response(),
    })
}

/// Lets browsers post to the form endpoint from any website.
pub async fn form_preflight() -> Response {
    cors(StatusCode::NO_CONTENT.into_response())
}

// ---------------------------------------------------------------- notifications

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationParams {
    /// Only unread ones
    #[serde(default)]
    pub unread: bool,
    /// 1–200, default 50
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct NotificationPage {
    pub data: Vec<Notification>,
    pub next_cursor: Option<String>,
    pub unread_count: i64,
}

/// Your notifications (reminders), newest first, with the unread count
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", params(NotificationParams), responses((status = 200, body = NotificationPage)))]
pub async fn list_notifications(State(s): State<AppState>, Auth(p): Auth, Query(q): Query<NotificationParams>) -> ApiResult<Json<NotificationPage>> {
    let limit = page_limit(q.limit)?;
    let rows = notifications::list(&s.db, &p, q.unread, id_cursor(q.cursor.as_deref())?, limit + 1).await?;
    let (data, next_cursor) = cut_page(rows, limit, |n| n.id.to_string());
    Ok(Json(NotificationPage { data, next_cursor, unread_count: notifications::unread_count(&s.db, &p).await? }))
}

#[derive(Serialize, ToSchema)]
pub struct UnreadCount {
    pub unread_count: i64,
}

/// How many notifications you have not read (for the badge)
#[utoipa::path(get, path = "/api/v1/notifications/unread_count", tag = "notifications", responses((status = 200, body = UnreadCount)))]
pub async fn unread_count(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<UnreadCount>> {
    Ok(Json(UnreadCount { unread_count: notifications::unread_count(&s.db, &p).await? }))
}

/// Mark a notification as read
#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "notifications", responses((status = 204), (status = 404, body = crate::problem::Problem)))]
pub async fn mark_read(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    notifications::mark_read(&s.db, &p, Some(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mark all your notifications as read
#[utoipa::path(post, path = "/api/v1/notifications/read_all", tag = "notifications", responses((status = 200, body = UnreadCount, description = "Nothing is left unread")))]
pub async fn mark_all_read(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<UnreadCount>> {
    notifications::mark_read(&s.db, &p, None).await?;
    Ok(Json(UnreadCount { unread_count: 0 }))
}

// ---------------------------------------------------------------- calendar

#[derive(Serialize, ToSchema)]
pub struct CreatedFeed {
    #[serde(flatten)]
    pub feed: calendar::Feed,
    /// The subscription path (prefix it with Accord's address). Shown once.
    pub url: String,
}

/// Create your calendar subscription URL (replaces the previous one)
#[utoipa::path(post, path = "/api/v1/calendar_feeds", tag = "calendar", responses((status = 201, body = CreatedFeed)))]
pub async fn create_feed(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<(StatusCode, Json<CreatedFeed>)> {
    let (feed, secret) = calendar::create_feed(&s.db, &p).await?;
    Ok((StatusCode::CREATED, Json(CreatedFeed { feed, url: format!("/api/v1/calendar/{secret}.ics") })))
}

/// Your active calendar feeds
#[utoipa::path(get, path = "/api/v1/calendar_feeds", tag = "calendar", responses((status = 200, body = Vec<calendar::Feed>)))]
pub async fn list_feeds(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<Vec<calendar::Feed>>> {
    Ok(Json(calendar::feeds(&s.db, &p).await?))
}

/// Revoke a calendar feed: its URL stops working at once
#[utoipa::path(delete, path = "/api/v1/calendar_feeds/{id}", tag = "calendar", responses((status = 204), (status = 404, body = crate::problem::Problem)))]
pub async fn revoke_feed(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    calendar::revoke_feed(&s.db, &p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The iCalendar (RFC 5545) feed: meetings and tasks with a due time (the secret is the key)
#[utoipa::path(get, path = "/api/v1/calendar/{file}", tag = "calendar", security(()), params(("file" = String, Path, description = "`{secret}.ics`")),
    responses((status = 200, content_type = "text/calendar", body = String), (status = 404, body = crate::problem::Problem)))]
pub async fn calendar_feed(State(s): State<AppState>, Path(file): Path<String>) -> ApiResult<Response> {
    let secret = file.strip_suffix(".ics").ok_or_else(ApiError::not_found)?;
    let (owner, entries) = calendar::entries(&s.db, secret).await?.ok_or_else(ApiError::not_found)?;
    let ics = crate::ical::render(&owner, &entries);
    let mut resp = ics.into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/calendar; charset=utf-8"));
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=300"));
    Ok(resp)
}
