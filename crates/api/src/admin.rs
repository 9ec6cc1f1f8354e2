//! API tokens, members, invitations, teams, role visibility, custom fields, audit log.
use crate::auth::Auth;
use crate::json::ApiJson;
use crate::problem::{ApiError, ApiResult};
use crate::records::{PageParams, cut_page, id_cursor, page_limit};
use crate::state::AppState;
use accord_domain::permissions::{Policy, Role, Scope};
use accord_storage::accounts::{self, ApiTokenInfo, Member, Team};
use accord_storage::custom_fields::{self, CustomFieldInfo, NewField};
use accord_storage::timeline::{self, AuditEntry};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    pub name: String,
    /// `read` or `read_write`
    pub scope: String,
    /// When the token stops working (RFC 3339); never when absent.
    pub expires_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    /// Shown once: store it now.
    pub token: String,
    #[serde(flatten)]
    pub info: ApiTokenInfo,
}

/// Create a personal API token (shown once)
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = NewToken, responses((status = 201, body = CreatedToken), (status = 422, body = crate::problem::Problem)))]
pub async fn create_token(State(s): State<AppState>, Auth(p): Auth, ApiJson(req): ApiJson<NewToken>) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let expires_at = req
        .expires_at
        .as_deref()
        .map(|t| accord_domain::custom_fields::parse_datetime(t).map(|d| d.timestamp_millis()).map_err(|e| ApiError::field("expires_at", e.code, &e.message)))
        .transpose()?;
    let (info, token) = accounts::create_token(&s.db, &p, &req.name, &req.scope, expires_at).await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { token, info })))
}

/// Your API tokens
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", responses((status = 200, body = Vec<ApiTokenInfo>)))]
pub async fn list_tokens(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<Vec<ApiTokenInfo>>> {
    Ok(Json(accounts::list_tokens(&s.db, &p).await?))
}

/// Revoke a token
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens", responses((status = 204), (status = 404, body = crate::problem::Problem)))]
pub async fn revoke_token(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    accounts::revoke_token(&s.db, &p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Members of the workspace
#[utoipa::path(get, path = "/api/v1/users", tag = "users", responses((status = 200, body = Vec<Member>)))]
pub async fn list_users(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<Vec<Member>>> {
    Ok(Json(accounts::members(&s.db, p.workspace_id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberChange {
    pub role: Option<Role>,
    /// false deactivates: sessions and tokens stop at once, records stay
    pub active: Option<bool>,
}

/// Change a member's role or deactivate them (admins)
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", request_body = MemberChange, responses((status = 200, body = Member), (status = 403, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem)))]
pub async fn update_user(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>, ApiJson(req): ApiJson<MemberChange>) -> ApiResult<Json<Member>> {
    Ok(Json(accounts::update_member(&s.db, &p, id, req.role, req.active).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInvitation {
    pub email: String,
    pub role: Role,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedInvitation {
    pub id: i64,
    /// A one-time link to pass to the person; outgoing e-mail arrives in a later release.
    pub url: String,
    pub token: String,
    pub expires_at: String,
}

/// Invite someone (admins); answers a one-time link
#[utoipa::path(post, path = "/api/v1/invitations", tag = "users", request_body = NewInvitation, responses((status = 201, body = CreatedInvitation), (status = 403, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem)))]
pub async fn invite(State(s): State<AppState>, Auth(p): Auth, ApiJson(req): ApiJson<NewInvitation>) -> ApiResult<(StatusCode, Json<CreatedInvitation>)> {
    let inv = accounts::invite(&s.db, &p, &req.email, req.role).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedInvitation { id: inv.id, url: format!("/invitations/{}", inv.token), token: inv.token, expires_at: timeline::rfc3339(inv.expires_at) }),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvitation {
    pub token: String,
    /// Your name (new accounts)
    #[serde(default)]
    pub name: String,
    /// A new password, or the password of your existing account
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct Accepted {
    pub user_id: i64,
}

/// Accept an invitation (no sign-in needed; the token is the proof)
#[utoipa::path(post, path = "/api/v1/invitations/accept", tag = "users", request_body = AcceptInvitation, responses((status = 200, body = Accepted), (status = 404, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn accept_invitation(State(s): State<AppState>, ApiJson(req): ApiJson<AcceptInvitation>) -> ApiResult<Json<Accepted>> {
    Ok(Json(Accepted { user_id: accounts::accept_invitation(&s.db, &req.token, &req.name, &req.password).await? }))
}

/// Teams of the workspace
#[utoipa::path(get, path = "/api/v1/teams", tag = "users", responses((status = 200, body = Vec<Team>)))]
pub async fn list_teams(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<Vec<Team>>> {
    Ok(Json(accounts::teams(&s.db, p.workspace_id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamInput {
    pub name: String,
    #[serde(default)]
    pub member_ids: Vec<i64>,
}

/// Create a team (admins)
#[utoipa::path(post, path = "/api/v1/teams", tag = "users", request_body = TeamInput, responses((status = 201, body = Team), (status = 403, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn create_team(State(s): State<AppState>, Auth(p): Auth, ApiJson(req): ApiJson<TeamInput>) -> ApiResult<(StatusCode, Json<Team>)> {
    p.require_admin()?;
    Ok((StatusCode::CREATED, Json(accounts::save_team(&s.db, p.workspace_id, None, &req.name, &req.member_ids).await?)))
}

/// Rename a team and set its members (admins)
#[utoipa::path(put, path = "/api/v1/teams/{id}", tag = "users", request_body = TeamInput, responses((status = 200, body = Team), (status = 403, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem)))]
pub async fn update_team(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>, ApiJson(req): ApiJson<TeamInput>) -> ApiResult<Json<Team>> {
    p.require_admin()?;
    Ok(Json(accounts::save_team(&s.db, p.workspace_id, Some(id), &req.name, &req.member_ids).await?))
}

/// Delete a team (admins)
#[utoipa::path(delete, path = "/api/v1/teams/{id}", tag = "users", responses((status = 204), (status = 403, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem)))]
pub async fn delete_team(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    p.require_admin()?;
    accounts::delete_team(&s.db, p.workspace_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct RolePolicy {
    pub role: Role,
    pub read: Scope,
    pub edit: Scope,
}

/// What each role may read and edit
#[utoipa::path(get, path = "/api/v1/roles", tag = "users", responses((status = 200, body = Vec<RolePolicy>)))]
pub async fn list_roles(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<Vec<RolePolicy>>> {
    let list = accounts::policies(&s.db, p.workspace_id).await?;
    Ok(Json(list.into_iter().map(|(role, pol)| RolePolicy { role, read: pol.read, edit: pol.edit }).collect()))
}

/// Change a role's visibility: own, team or all records for reading and for editing (admins)
#[utoipa::path(put, path = "/api/v1/roles/{role}", tag = "users", request_body = Policy, responses((status = 200, body = RolePolicy), (status = 403, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem)))]
pub async fn set_role(State(s): State<AppState>, Auth(p): Auth, Path(role): Path<String>, ApiJson(req): ApiJson<Policy>) -> ApiResult<Json<RolePolicy>> {
    p.require_admin()?;
    let role = Role::parse(&role).ok_or_else(ApiError::not_found)?;
    let pol = accounts::set_policy(&s.db, p.workspace_id, role, req).await?;
    Ok(Json(RolePolicy { role, read: pol.read, edit: pol.edit }))
}

/// Custom field definitions
#[utoipa::path(get, path = "/api/v1/custom_fields", tag = "custom_fields", responses((status = 200, body = Vec<CustomFieldInfo>)))]
pub async fn list_fields(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<Vec<CustomFieldInfo>>> {
    Ok(Json(custom_fields::list(&s.db, p.workspace_id, None).await?))
}

/// Define a custom field (admins)
#[utoipa::path(post, path = "/api/v1/custom_fields", tag = "custom_fields", request_body = NewField, responses((status = 201, body = CustomFieldInfo), (status = 403, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn create_field(State(s): State<AppState>, Auth(p): Auth, ApiJson(field): ApiJson<NewField>) -> ApiResult<(StatusCode, Json<CustomFieldInfo>)> {
    p.require_admin()?;
    Ok((StatusCode::CREATED, Json(custom_fields::create(&s.db, p.workspace_id, field).await?)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldChange {
    pub label: Option<String>,
    pub required: Option<bool>,
    pub options: Option<Vec<String>>,
}

/// Change a custom field's label, requiredness or options (admins)
#[utoipa::path(patch, path = "/api/v1/custom_fields/{id}", tag = "custom_fields", request_body = FieldChange, responses((status = 200, body = CustomFieldInfo), (status = 403, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem)))]
pub async fn update_field(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>, ApiJson(f): ApiJson<FieldChange>) -> ApiResult<Json<CustomFieldInfo>> {
    p.require_admin()?;
    Ok(Json(custom_fields::update(&s.db, p.workspace_id, id, f.label, f.required, f.options).await?))
}

/// Remove a custom field; its values leave the records (audited) (admins)
#[utoipa::path(delete, path = "/api/v1/custom_fields/{id}", tag = "custom_fields", responses((status = 204), (status = 403, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem)))]
pub async fn delete_field(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    p.require_admin()?;
    custom_fields::delete(&s.db, &p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    pub data: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
}

/// The workspace's audit log, newest first (admins)
#[utoipa::path(get, path = "/api/v1/audit", tag = "users", params(PageParams), responses((status = 200, body = AuditPage), (status = 403, body = crate::problem::Problem)))]
pub async fn audit(State(s): State<AppState>, Auth(p): Auth, Query(page): Query<PageParams>) -> ApiResult<Json<AuditPage>> {
    p.require_admin()?;
    let limit = page_limit(page.limit)?;
    let rows = timeline::workspace_log(&s.db, p.workspace_id, id_cursor(page.cursor.as_deref())?, limit + 1).await?;
    let (data, next_cursor) = cut_page(rows, limit, |e| e.id.to_string());
    Ok(Json(AuditPage { data, next_cursor }))
}

/// The workspace's settings
#[utoipa::path(get, path = "/api/v1/workspace", tag = "users", responses((status = 200, body = accounts::Workspace)))]
pub async fn get_workspace(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<accounts::Workspace>> {
    Ok(Json(accounts::workspace(&s.db, p.workspace_id).await?))
}

/// Change the workspace's settings (admins)
#[utoipa::path(patch, path = "/api/v1/workspace", tag = "users", request_body = accounts::WorkspaceChange, responses((status = 200, body = accounts::Workspace), (status = 403, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn update_workspace(State(s): State<AppState>, Auth(p): Auth, ApiJson(change): ApiJson<accounts::WorkspaceChange>) -> ApiResult<Json<accounts::Workspace>> {
    Ok(Json(accounts::update_workspace(&s.db, &p, change).await?))
}
