//! Sales goals over HTTP: everyone reads them with their progress; admins set them.
use crate::auth::Auth;
use crate::json::ApiJson;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use accord_storage::goals::{self, GoalChange, GoalInfo, NewGoal};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct GoalParams {
    /// Goals whose period ends on or after this day (default today)
    from: Option<String>,
    /// …and starts on or before this one (default `from`)
    to: Option<String>,
}

fn day(field: &str, v: Option<&str>, default: NaiveDate) -> ApiResult<NaiveDate> {
    v.map_or(Ok(default), |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| ApiError::field(field, "not_a_date", "must be a date like 2026-01-31")))
}

/// Goals overlapping a range, each with what has been achieved (as far as you may see)
#[utoipa::path(get, path = "/api/v1/goals", tag = "reports", params(GoalParams), responses((status = 200, body = Vec<GoalInfo>), (status = 422, body = crate::problem::Problem)))]
pub async fn list_goals(State(s): State<AppState>, Auth(p): Auth, Query(params): Query<Vec<(String, String)>>) -> ApiResult<Json<Vec<GoalInfo>>> {
    if let Some((k, _)) = params.iter().find(|(k, _)| k != "from" && k != "to") {
        return Err(ApiError::field(k, "unknown_field", "goals take from and to"));
    }
    let param = |k: &str| params.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    let tz: chrono_tz::Tz = p.user.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    let from = day("from", param("from"), today)?;
    let to = day("to", param("to"), from)?;
    if to < from {
        return Err(ApiError::field("to", "before_from", "must not be before `from`"));
    }
    Ok(Json(goals::list(&s.db, &p, from, to).await?))
}

/// Set a goal for a user or a team (admins)
#[utoipa::path(post, path = "/api/v1/goals", tag = "reports", request_body = NewGoal,
    responses((status = 201, body = GoalInfo), (status = 403, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn create_goal(State(s): State<AppState>, Auth(p): Auth, ApiJson(body): ApiJson<NewGoal>) -> ApiResult<(StatusCode, Json<GoalInfo>)> {
    Ok((StatusCode::CREATED, Json(goals::create(&s.db, &p, body).await?)))
}

/// Change a goal's target (admins)
#[utoipa::path(patch, path = "/api/v1/goals/{id}", tag = "reports", request_body = GoalChange,
    responses((status = 200, body = GoalInfo), (status = 403, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn update_goal(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>, ApiJson(body): ApiJson<GoalChange>) -> ApiResult<Json<GoalInfo>> {
    Ok(Json(goals::update(&s.db, &p, id, body).await?))
}

/// Remove a goal (admins)
#[utoipa::path(delete, path = "/api/v1/goals/{id}", tag = "reports", responses((status = 204), (status = 403, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem)))]
pub async fn delete_goal(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    goals::delete(&s.db, &p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
