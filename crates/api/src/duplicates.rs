//! Data quality over HTTP: the duplicate finder, bulk merge, and the report of incomplete
//! records.
use crate::auth::Auth;
use crate::json::ApiJson;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use accord_storage::duplicates::{self, Group, MergeGroup, Merged};
use accord_storage::quality::{self, Finding};
use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FindParams {
    /// 1–500 groups, default 100
    limit: Option<usize>,
}

/// Groups of likely duplicate contacts or companies (shared e-mail, phone, INN or domain, or
/// a name that matches across spelling, word order, legal form and alphabet, or one typo apart
/// in bases of up to 300,000), strongest first
#[utoipa::path(get, path = "/api/v1/duplicates/{entity}", tag = "imports", params(("entity" = String, Path, description = "contacts or companies"), FindParams),
    responses((status = 200, body = Vec<Group>), (status = 422, body = crate::problem::Problem)))]
pub async fn find(State(s): State<AppState>, Auth(p): Auth, Path(entity): Path<String>, Query(q): Query<FindParams>) -> ApiResult<Json<Vec<Group>>> {
    let entity = crate::imports::entity_of(&entity)?;
    let limit = match q.limit {
        None => 100,
        Some(n) if (1..=500).contains(&n) => n,
        Some(_) => return Err(ApiError::field("limit", "out_of_range", "must be from 1 to 500")),
    };
    Ok(Json(duplicates::find(&s.db, &p, entity, limit).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    pub groups: Vec<MergeGroup>,
}

/// Merge reviewed groups: each merged record goes into its group's survivor (values of the
/// survivor win, lists are united), one undoable merge per record
#[utoipa::path(post, path = "/api/v1/duplicates/{entity}/merge", tag = "imports", params(("entity" = String, Path, description = "contacts or companies")), request_body = MergeRequest,
    responses((status = 200, body = Vec<Merged>), (status = 422, body = crate::problem::Problem)))]
pub async fn merge(State(s): State<AppState>, Auth(p): Auth, Path(entity): Path<String>, ApiJson(body): ApiJson<MergeRequest>) -> ApiResult<Json<Vec<Merged>>> {
    let entity = crate::imports::entity_of(&entity)?;
    Ok(Json(duplicates::merge_groups(&s.db, &p, entity, &body.groups).await?))
}

/// Incomplete contacts or companies: no e-mail and no phone, no company, no INN, an owner who
/// is no longer a member — counts (capped at 10,000) and the first records of each
#[utoipa::path(get, path = "/api/v1/data_quality/{entity}", tag = "imports", params(("entity" = String, Path, description = "contacts or companies")),
    responses((status = 200, body = Vec<Finding>), (status = 422, body = crate::problem::Problem)))]
pub async fn data_quality(State(s): State<AppState>, Auth(p): Auth, Path(entity): Path<String>) -> ApiResult<Json<Vec<Finding>>> {
    let entity = crate::imports::entity_of(&entity)?;
    Ok(Json(quality::report(&s.db, &p, entity).await?))
}
