//! JSON bodies whose every rejection is a problem document naming what is wrong.
use crate::problem::ApiError;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::JsonDataError(e)) => {
                // axum reports "…target type: <path>: <problem> at line …": name the path.
                let detail = e.body_text();
                let rest = detail.split_once("target type: ").map_or(detail.as_str(), |(_, r)| r);
                let (field, problem) = match rest.split_once(": ") {
                    Some((path, problem)) if !path.contains(' ') => (path, problem),
                    _ => ("body", rest),
                };
                // serde names missing and unknown fields in the message, not in the path.
                let quoted = |p: &str| problem.strip_prefix(p).and_then(|r| r.split('`').nth(1)).map(str::to_owned);
                if let Some(name) = quoted("unknown field") {
                    return Err(ApiError::field(&name, "unknown_field", "is not a field of this request"));
                }
                if let Some(name) = quoted("missing field") {
                    let path = if field == "body" { name } else { format!("{field}.{name}") };
                    return Err(ApiError::field(&path, "required", "is required"));
                }
                Err(ApiError::field(field, "wrong_type", problem))
            }
            Err(JsonRejection::JsonSyntaxError(e)) => Err(ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", e.body_text())),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "json_required", "send the body as application/json")),
            Err(JsonRejection::BytesRejection(e)) => Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", e.body_text())),
            Err(e) => Err(ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.body_text())),
        }
    }
}
