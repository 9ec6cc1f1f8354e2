//! The workspace's tags over HTTP (admins): counts, rename or merge, removal.
use crate::auth::Auth;
use crate::json::ApiJson;
use crate::problem::ApiResult;
use crate::state::AppState;
use accord_storage::tags::{self, TagChange, TagChanged, TagCount};
use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TagParams {
    /// contacts, companies, products, deals, leads, activities or tasks
    entity: String,
}

/// The tags of a kind of record, most used first, with how many records carry each (admins)
#[utoipa::path(get, path = "/api/v1/tags", tag = "records", params(TagParams), responses((status = 200, body = Vec<TagCount>), (status = 403, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn list_tags(State(s): State<AppState>, Auth(p): Auth, Query(q): Query<TagParams>) -> ApiResult<Json<Vec<TagCount>>> {
    Ok(Json(tags::list(&s.db, &p, &q.entity).await?))
}

/// Rename a tag on every record of the kind (a name already in use merges the two), or remove
/// it with no `rename_to` (admins). Each record is changed, versioned and audited as an edit.
#[utoipa::path(post, path = "/api/v1/tags/change", tag = "records", request_body = TagChange,
    responses((status = 200, body = TagChanged), (status = 403, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn change_tag(State(s): State<AppState>, Auth(p): Auth, ApiJson(body): ApiJson<TagChange>) -> ApiResult<Json<TagChanged>> {
    Ok(Json(tags::change(&s.db, &p, body).await?))
}
