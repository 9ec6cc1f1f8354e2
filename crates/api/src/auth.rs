//! Who is calling: a session cookie (with a CSRF header on unsafe requests) or an API
//! token in `Authorization: Bearer`. Sign-in, sign-out, the current user, password change.
use crate::json::ApiJson;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use accord_domain::permissions::{Policy, Role};
use accord_storage::accounts::{self, Principal};
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use utoipa::ToSchema;

pub const SESSION_COOKIE: &str = "accord_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

pub struct Auth(pub Principal);

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).filter_map(|c| c.trim().split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(token) = bearer(&parts.headers) {
            return match accounts::token_principal(&state.db, token).await? {
                Some(p) => Ok(Auth(p)),
                None => Err(ApiError::new(StatusCode::UNAUTHORIZED, "invalid_token", "the API token is unknown, expired or revoked")),
            };
        }
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else { return Err(ApiError::unauthorized()) };
        let p = accounts::session_principal(&state.db, token).await?.ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "session_expired", "the session has ended; sign in again"))?;
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            if sent.is_none() || sent != p.csrf_token.as_deref() {
                return Err(ApiError::new(StatusCode::FORBIDDEN, "csrf_failed", "send the X-CSRF-Token header given at sign-in with every change"));
            }
        }
        Ok(Auth(p))
    }
}

/// The TCP peer, when the server was started with connect info (tests may not be).
pub struct Peer(pub Option<SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0)))
    }
}

pub fn client_addr(state: &AppState, headers: &HeaderMap, peer: Option<SocketAddr>) -> String {
    if state.config.trust_proxy
        && let Some(first) = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()).and_then(|v| v.split(',').next()) {
            return first.trim().to_owned();
        }
    peer.map_or_else(|| "unknown".to_owned(), |a| a.ip().to_string())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
    /// Keep the session for 30 days instead of 12 hours.
    #[serde(default)]
    pub remember: bool,
    /// For members of several workspaces: which one to work in (default: the first joined).
    pub workspace_id: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub user: accounts::UserInfo,
    pub workspace_id: i64,
    pub workspace_name: String,
    pub region: String,
    pub role: Role,
    pub policy: Policy,
    /// Send it as `X-CSRF-Token` with every unsafe request made with the session cookie.
    pub csrf_token: Option<String>,
    /// The token's id when the caller authenticated with an API token.
    pub token_id: Option<i64>,
}

impl From<&Principal> for Me {
    fn from(p: &Principal) -> Self {
        Me {
            user: p.user.clone(),
            workspace_id: p.workspace_id,
            workspace_name: p.workspace_name.clone(),
            region: p.region.clone(),
            role: p.viewer.role,
            policy: p.viewer.policy,
            csrf_token: p.csrf_token.clone(),
            token_id: p.token_id,
        }
    }
}

fn session_cookie(state: &AppState, headers: &HeaderMap, value: &str, max_age_secs: i64) -> HeaderValue {
    let secure = state.config.secure_cookies || headers.get("x-forwarded-proto").is_some_and(|v| v == "https");
    let cookie = format!("{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{}", if secure { "; Secure" } else { "" });
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Start a session
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = Me, description = "Signed in; the session cookie is set"),
              (status = 401, body = crate::problem::Problem), (status = 429, body = crate::problem::Problem, description = "Too many failed attempts; see Retry-After")))]
pub async fn login(State(state): State<AppState>, Peer(peer): Peer, headers: HeaderMap, ApiJson(req): ApiJson<LoginRequest>) -> ApiResult<Response> {
    let addr = client_addr(&state, &headers, peer);
    let session = accounts::login(&state.db, &req.email, &req.password, &addr, req.remember, req.workspace_id).await?;
    let max_age = if req.remember { accounts::REMEMBER_TTL_MS } else { accounts::SESSION_TTL_MS } / 1000;
    let mut resp = axum::Json(Me::from(&session.principal)).into_response();
    resp.headers_mut().insert(header::SET_COOKIE, session_cookie(&state, &headers, &session.token, max_age));
    Ok(resp)
}

/// End the session
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204, description = "Signed out"), (status = 401, body = crate::problem::Problem)))]
pub async fn logout(State(state): State<AppState>, headers: HeaderMap, Auth(p): Auth) -> ApiResult<Response> {
    if let Some(id) = p.session_id {
        accounts::logout(&state.db, id).await?;
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().insert(header::SET_COOKIE, session_cookie(&state, &headers, "", 0));
    Ok(resp)
}

/// The current user and workspace
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses((status = 200, body = Me), (status = 401, body = crate::problem::Problem)))]
pub async fn me(Auth(p): Auth) -> axum::Json<Me> {
    axum::Json(Me::from(&p))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileChange {
    pub name: Option<String>,
    /// The interface language: `ru` or `en`.
    pub locale: Option<String>,
    /// An IANA time zone such as `Europe/Moscow`: local times are read and shown in it.
    pub time_zone: Option<String>,
}

/// Change your own name, language or time zone
#[utoipa::path(patch, path = "/api/v1/me", tag = "auth", request_body = ProfileChange,
    responses((status = 200, body = accounts::UserInfo), (status = 401, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn update_me(State(state): State<AppState>, Auth(p): Auth, ApiJson(req): ApiJson<ProfileChange>) -> ApiResult<axum::Json<accounts::UserInfo>> {
    Ok(axum::Json(accounts::update_profile(&state.db, &p, req.name.as_deref(), req.locale.as_deref(), req.time_zone.as_deref()).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// Change the password; every other session of the user ends
#[utoipa::path(post, path = "/api/v1/me/password", tag = "auth", request_body = PasswordChange,
    responses((status = 204, description = "Changed"), (status = 422, body = crate::problem::Problem)))]
pub async fn change_password(State(state): State<AppState>, Auth(p): Auth, ApiJson(req): ApiJson<PasswordChange>) -> ApiResult<StatusCode> {
    if p.session_id.is_none() {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "session_required", "change the password from a signed-in session, not with an API token"));
    }
    accounts::change_password(&state.db, &p, &req.current_password, &req.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}
