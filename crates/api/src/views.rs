//! Saved list views over HTTP: a member's own views and the workspace's shared ones.
use crate::auth::Auth;
use crate::json::ApiJson;
use crate::problem::ApiResult;
use crate::state::AppState;
use accord_storage::views::{self, NewView, ViewChange, ViewInfo};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ViewListParams {
    /// contacts, companies, products, deals, leads, activities or tasks
    entity: String,
}

/// The saved views of a list: the workspace's shared ones, then your own
#[utoipa::path(get, path = "/api/v1/views", tag = "views", params(ViewListParams), responses((status = 200, body = Vec<ViewInfo>), (status = 422, body = crate::problem::Problem)))]
pub async fn list_views(State(s): State<AppState>, Auth(p): Auth, Query(q): Query<ViewListParams>) -> ApiResult<Json<Vec<ViewInfo>>> {
    Ok(Json(views::list(&s.db, &p, &q.entity).await?))
}

/// Save a view: filters and sort as the list takes them, and the columns shown. `shared`
/// views (admins) appear to every member.
#[utoipa::path(post, path = "/api/v1/views", tag = "views", request_body = NewView,
    responses((status = 201, body = ViewInfo), (status = 403, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn create_view(State(s): State<AppState>, Auth(p): Auth, ApiJson(body): ApiJson<NewView>) -> ApiResult<(StatusCode, Json<ViewInfo>)> {
    Ok((StatusCode::CREATED, Json(views::create(&s.db, &p, body).await?)))
}

/// Change a view (its author; shared views: admins)
#[utoipa::path(patch, path = "/api/v1/views/{id}", tag = "views", request_body = ViewChange,
    responses((status = 200, body = ViewInfo), (status = 403, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn update_view(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>, ApiJson(body): ApiJson<ViewChange>) -> ApiResult<Json<ViewInfo>> {
    Ok(Json(views::update(&s.db, &p, id, body).await?))
}

/// Remove a view (its author; shared views: admins)
#[utoipa::path(delete, path = "/api/v1/views/{id}", tag = "views", responses((status = 204), (status = 403, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem)))]
pub async fn delete_view(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    views::delete(&s.db, &p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
