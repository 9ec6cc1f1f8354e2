//! Accord's HTTP layer: the versioned REST API under `/api/v1`, described by an OpenAPI
//! 3.1 document generated from the handlers themselves.

pub mod admin;
pub mod archive;
pub mod auth;
pub mod duplicates;
pub mod exports;
pub mod goals;
pub mod imports;
mod ical;
pub mod json;
pub mod price_lists;
pub mod problem;
pub mod records;
pub mod reports;
pub mod sales;
pub mod schema;
pub mod state;
pub mod system;
pub mod tags;
pub mod views;

use crate::problem::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

pub use state::HttpConfig;

/// Request bodies above this are refused: nothing in the API needs more.
const BODY_LIMIT: usize = 1024 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(title = "Accord API", description = "The REST API of Accord, the CRM. Everything the web app does goes through it.\n\nAuthenticate with a session cookie (`POST /api/v1/auth/login`; send `X-CSRF-Token` with changes) or a personal API token (`Authorization: Bearer …`). Errors are RFC 9457 problem documents with a stable `code`."),
    modifiers(&Security),
    tags(
        (name = "auth", description = "Sign-in, sessions, the current user"),
        (name = "contacts", description = "People"),
        (name = "companies", description = "Legal entities and sole proprietors"),
        (name = "products", description = "The catalogue of goods and services"),
        (name = "pipelines", description = "Pipelines and stages, the board, lost reasons, exchange rates"),
        (name = "deals", description = "Deals moving through a pipeline, with line items"),
        (name = "leads", description = "Inbound requests, their conversion, and web forms"),
        (name = "activities", description = "Calls, meetings, e-mails and notes linked to records"),
        (name = "tasks", description = "Tasks with due times, reminders and recurrence"),
        (name = "notifications", description = "In-app notifications (reminders)"),
        (name = "calendar", description = "Private iCalendar subscriptions"),
        (name = "reports", description = "Analytics: funnel, conversion, win rate, revenue, cycle, customers, forecast, activity, products"),
        (name = "imports", description = "Data: imports from CSV, XLSX and vCard (upload, mapping, check, run, report, undo), exports of list views, the duplicate finder and bulk merge"),
        (name = "search", description = "Full-text search across records"),
        (name = "views", description = "Saved list views: filters, sort and columns, personal or shared"),
        (name = "records", description = "Merges and notes of any record"),
        (name = "custom_fields", description = "Workspace-defined typed fields"),
        (name = "tokens", description = "Personal API tokens"),
        (name = "users", description = "Members, invitations, teams, roles, workspace settings, audit log"),
        (name = "system", description = "Health and metrics"),
    ),
    security(("session" = []), ("token" = [])),
    components(schemas(problem::Problem, accord_domain::FieldError))
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("session", SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(auth::SESSION_COOKIE))));
        components.add_security_scheme("token", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    }
}

/// Every route of the API with its documentation; the two are built from the same items.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me, auth::update_me))
        .routes(routes!(auth::change_password))
        .routes(routes!(admin::create_token, admin::list_tokens))
        .routes(routes!(admin::revoke_token))
        .routes(routes!(admin::list_users))
        .routes(routes!(admin::update_user))
        .routes(routes!(admin::invite))
        .routes(routes!(admin::accept_invitation))
        .routes(routes!(admin::list_teams, admin::create_team))
        .routes(routes!(admin::update_team, admin::delete_team))
        .routes(routes!(admin::list_roles))
        .routes(routes!(admin::set_role))
        .routes(routes!(admin::list_fields, admin::create_field))
        .routes(routes!(admin::update_field, admin::delete_field))
        .routes(routes!(admin::audit))
        .routes(routes!(admin::get_workspace, admin::update_workspace))
        .merge(records::contacts::routes())
        .merge(records::companies::routes())
        .merge(records::products::routes())
        .merge(records::deals::routes())
        .merge(records::leads::routes())
        .merge(records::activities::routes())
        .merge(records::tasks::routes())
        .routes(routes!(sales::list_pipelines, sales::create_pipeline))
        .routes(routes!(sales::get_pipeline, sales::update_pipeline, sales::delete_pipeline))
        .routes(routes!(sales::get_board))
        .routes(routes!(reports::get_report))
        .routes(routes!(goals::list_goals, goals::create_goal))
        .routes(routes!(views::list_views, views::create_view))
        .routes(routes!(tags::list_tags))
        .routes(routes!(tags::change_tag))
        .routes(routes!(views::update_view, views::delete_view))
        .routes(routes!(goals::update_goal, goals::delete_goal))
        .routes(routes!(imports::upload, imports::list))
        .routes(routes!(imports::get, imports::update))
        .routes(routes!(imports::check))
        .routes(routes!(imports::run))
        .routes(routes!(imports::undo))
        .routes(routes!(imports::rows))
        .routes(routes!(exports::export))
        .routes(routes!(archive::download, archive::restore))
        .routes(routes!(duplicates::find))
        .routes(routes!(duplicates::merge))
        .routes(routes!(duplicates::data_quality))
        .routes(routes!(sales::move_deal))
        .routes(routes!(sales::stage_history))
        .routes(routes!(sales::list_lost_reasons, sales::create_lost_reason))
        .routes(routes!(sales::update_lost_reason))
        .routes(routes!(sales::list_rates, sales::create_rate))
        .routes(routes!(price_lists::list_price_lists, price_lists::create_price_list))
        .routes(routes!(price_lists::update_price_list, price_lists::delete_price_list))
        .routes(routes!(price_lists::list_prices))
        .routes(routes!(price_lists::set_price, price_lists::remove_price))
        .routes(routes!(sales::delete_rate))
        .routes(routes!(sales::convert_lead))
        .routes(routes!(sales::list_web_forms, sales::create_web_form))
        .routes(routes!(sales::update_web_form, sales::delete_web_form))
        .routes(routes!(sales::submit_form))
        .routes(routes!(sales::list_notifications))
        .routes(routes!(sales::unread_count))
        .routes(routes!(sales::mark_read))
        .routes(routes!(sales::mark_all_read))
        .routes(routes!(sales::create_feed, sales::list_feeds))
        .routes(routes!(sales::revoke_feed))
        .routes(routes!(sales::calendar_feed))
        .routes(routes!(records::undo_merge))
        .routes(routes!(records::delete_note))
        .routes(routes!(records::search_records))
        .routes(routes!(system::healthz))
        .routes(routes!(system::readyz))
        .routes(routes!(system::metrics))
}

/// The document as served: operation ids unique across entities, and error responses
/// under the media type they are sent with (`application/problem+json`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = api().split_for_parts();
    for (path, item) in doc.paths.paths.iter_mut() {
        let name = path.trim_start_matches("/api/v1/").trim_start_matches('/').replace(['{', '}'], "").replace('/', "_");
        for (method, op) in [("get", &mut item.get), ("post", &mut item.post), ("put", &mut item.put), ("patch", &mut item.patch), ("delete", &mut item.delete)] {
            let Some(op) = op else { continue };
            op.operation_id = Some(format!("{method}_{name}"));
            for (status, response) in op.responses.responses.iter_mut() {
                let utoipa::openapi::RefOr::T(response) = response else { continue };
                if (status.starts_with('4') || status.starts_with('5'))
                    && let Some(content) = response.content.shift_remove("application/json") {
                        response.content.insert("application/problem+json".to_owned(), content);
                    }
            }
        }
    }
    doc
}

fn no_route() -> Response {
    ApiError::new(StatusCode::NOT_FOUND, "no_route", "there is no such endpoint; see /api/docs").into_response()
}

/// Everything outside the API is the web app: its built files, and its page for every other
/// path so that deep links (`/contacts/5`) open the app. Without a built app, the page says
/// how to get one.
async fn web_app(uri: axum::http::Uri) -> Response {
    let path = uri.path();
    if path.starts_with("/api/") {
        return no_route();
    }
    if let Some(asset) = accord_webui::asset(path) {
        let cache = if asset.immutable { "public, max-age=31536000, immutable" } else { "no-cache" };
        return ([(header::CONTENT_TYPE, asset.content_type), (header::CACHE_CONTROL, cache.to_owned())], asset.body).into_response();
    }
    // A missing hashed file is a stale page asking for an old build: a 404, not the app's HTML.
    if path.starts_with("/assets/") {
        return no_route();
    }
    let page: &'static [u8] = accord_webui::index().unwrap_or(include_bytes!("home.html"));
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], page).into_response()
}

/// Rejections raised by axum's own extractors (a non-numeric path id, a bad query string)
/// become problem documents like every other error.
async fn problems_everywhere(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    let is_problem = resp.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return resp;
    }
    let bytes = axum::body::to_bytes(resp.into_body(), 64 * 1024).await.unwrap_or_default();
    let detail = String::from_utf8_lossy(&bytes).into_owned();
    let code = match status {
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "json_required",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    };
    ApiError::new(status, code, if detail.is_empty() { status.canonical_reason().unwrap_or("error").to_owned() } else { detail }).into_response()
}

pub fn router(state: AppState) -> Router {
    let (api, _) = api().split_for_parts();
    let doc = openapi();
    Router::new()
        .merge(api)
        .merge(SwaggerUi::new("/api/docs").url("/api/v1/openapi.json", doc))
        .route("/api/v1/forms/{form_key}", axum::routing::options(sales::form_preflight))
        .fallback(web_app)
        .layer(middleware::from_fn(problems_everywhere))
        .layer(middleware::from_fn(system::track))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Runs the server until `shutdown` resolves.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

