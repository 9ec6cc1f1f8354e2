//! Price lists over HTTP: everyone reads them (deals pick one); admins keep them and their prices.
use crate::auth::Auth;
use crate::json::ApiJson;
use crate::problem::ApiResult;
use crate::records::{cut_page, id_cursor, page_limit};
use crate::state::AppState;
use accord_storage::sales::price_lists::{self, ListPrice, NewPriceList, PriceInput, PriceListChange, PriceListInfo};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The workspace's price lists, in order
#[utoipa::path(get, path = "/api/v1/price_lists", tag = "products", responses((status = 200, body = Vec<PriceListInfo>)))]
pub async fn list_price_lists(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<Vec<PriceListInfo>>> {
    Ok(Json(price_lists::list(&s.db, &p).await?))
}

/// Add a price list in one currency (admins)
#[utoipa::path(post, path = "/api/v1/price_lists", tag = "products", request_body = NewPriceList,
    responses((status = 201, body = PriceListInfo), (status = 403, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn create_price_list(State(s): State<AppState>, Auth(p): Auth, ApiJson(body): ApiJson<NewPriceList>) -> ApiResult<(StatusCode, Json<PriceListInfo>)> {
    Ok((StatusCode::CREATED, Json(price_lists::create(&s.db, &p, body).await?)))
}

/// Rename a price list, or stop offering it with `active: false` (admins)
#[utoipa::path(patch, path = "/api/v1/price_lists/{id}", tag = "products", request_body = PriceListChange,
    responses((status = 200, body = PriceListInfo), (status = 403, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn update_price_list(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>, ApiJson(body): ApiJson<PriceListChange>) -> ApiResult<Json<PriceListInfo>> {
    Ok(Json(price_lists::update(&s.db, &p, id, body).await?))
}

/// Remove a price list no deal follows (admins); one in use answers 409
#[utoipa::path(delete, path = "/api/v1/price_lists/{id}", tag = "products",
    responses((status = 204), (status = 403, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem)))]
pub async fn delete_price_list(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    price_lists::delete(&s.db, &p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PriceParams {
    /// 1–200, default 50
    limit: Option<u32>,
    /// `next_cursor` of the previous page
    cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PricePage {
    pub data: Vec<ListPrice>,
    pub next_cursor: Option<String>,
}

/// A price list's prices, by product
#[utoipa::path(get, path = "/api/v1/price_lists/{id}/prices", tag = "products", params(PriceParams),
    responses((status = 200, body = PricePage), (status = 404, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn list_prices(State(s): State<AppState>, Auth(p): Auth, Path(id): Path<i64>, Query(q): Query<PriceParams>) -> ApiResult<Json<PricePage>> {
    let limit = page_limit(q.limit)?;
    let after = id_cursor(q.cursor.as_deref())?.unwrap_or(0);
    let rows = price_lists::prices(&s.db, &p, id, after, i64::from(limit) + 1).await?;
    let (data, next_cursor) = cut_page(rows, limit, |r| r.product_id.to_string());
    Ok(Json(PricePage { data, next_cursor }))
}

/// Set a product's price in a list (admins)
#[utoipa::path(put, path = "/api/v1/price_lists/{id}/prices/{product_id}", tag = "products", request_body = PriceInput,
    responses((status = 200, body = ListPrice), (status = 403, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn set_price(State(s): State<AppState>, Auth(p): Auth, Path((id, product_id)): Path<(i64, i64)>, ApiJson(body): ApiJson<PriceInput>) -> ApiResult<Json<ListPrice>> {
    Ok(Json(price_lists::set_price(&s.db, &p, id, product_id, body).await?))
}

/// Take a product out of a list (admins)
#[utoipa::path(delete, path = "/api/v1/price_lists/{id}/prices/{product_id}", tag = "products",
    responses((status = 204), (status = 403, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem)))]
pub async fn remove_price(State(s): State<AppState>, Auth(p): Auth, Path((id, product_id)): Path<(i64, i64)>) -> ApiResult<StatusCode> {
    price_lists::remove_price(&s.db, &p, id, product_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
