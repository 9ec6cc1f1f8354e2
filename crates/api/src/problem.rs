//! The one mapping from typed errors to HTTP: RFC 9457 problem documents with a stable
//! machine-readable `code`, per-field errors for 422, and the matches for a duplicate.
use accord_domain::{FieldError, ValidationErrors};
use accord_storage::Error;
use accord_storage::error::DuplicateMatch;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// `urn:accord:problem:{code}`
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable, machine-readable, snake_case; clients translate it.
    pub code: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub duplicates: Vec<DuplicateMatch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<i64>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    pub errors: Vec<FieldError>,
    pub duplicates: Vec<DuplicateMatch>,
    pub current_version: Option<i64>,
    pub retry_after: Option<i64>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        ApiError { status, code, detail: detail.into(), errors: Vec::new(), duplicates: Vec::new(), current_version: None, retry_after: None }
    }
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", "sign in or send an API token")
    }
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no such resource")
    }
    pub fn invalid(errors: ValidationErrors) -> Self {
        let mut e = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "the input has errors; see `errors`");
        e.errors = errors.0;
        e
    }
    pub fn field(field: &str, code: &str, message: &str) -> Self {
        Self::invalid(ValidationErrors::single(field, code, message))
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::NotFound => ApiError::not_found(),
            Error::Forbidden(why) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", why),
            Error::Unauthorized => ApiError::new(StatusCode::UNAUTHORIZED, "invalid_credentials", "wrong e-mail or password"),
            Error::TooManyAttempts { retry_after_secs } => {
                let mut a = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", format!("too many failed attempts; try again in {retry_after_secs} s"));
                a.retry_after = Some(retry_after_secs);
                a
            }
            Error::VersionConflict { expected, current } => {
                let mut a = ApiError::new(StatusCode::CONFLICT, "version_conflict", format!("the record changed since version {expected}; reload it (now version {current}) and apply your change again"));
                a.current_version = Some(current);
                a
            }
            Error::Duplicate(matches) => {
                let mut a = ApiError::new(StatusCode::CONFLICT, "duplicate", "a record with the same e-mail, phone or INN exists; merge them, or repeat with ?allow_duplicates=true");
                a.duplicates = matches;
                a
            }
            Error::Conflict { code, message } => ApiError::new(StatusCode::CONFLICT, code, message),
            Error::Invalid(errors) => ApiError::invalid(errors),
            e @ (Error::Database(sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)) | Error::Unavailable(_)) => {
                tracing::error!(error = %e, "database unreachable");
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "database_unavailable", "the database did not answer; try again")
            }
            e @ (Error::Database(_) | Error::Sqlite(_)) => {
                tracing::error!(error = %e, "database error");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "an internal error occurred")
            }
            Error::Corrupt(what) => {
                tracing::error!(%what, "internal error");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "an internal error occurred")
            }
        }
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(e: ValidationErrors) -> Self {
        ApiError::invalid(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Problem {
            type_: format!("urn:accord:problem:{}", self.code),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail,
            code: self.code.to_owned(),
            errors: self.errors,
            duplicates: self.duplicates,
            current_version: self.current_version,
        };
        let mut resp = (self.status, serde_json::to_vec(&body).unwrap_or_default()).into_response();
        resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some(secs) = self.retry_after {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}
