use accord_domain::ValidationErrors;
use serde::Serialize;
use utoipa::ToSchema;

/// A record that shares an identifier with the one being written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DuplicateMatch {
    pub entity: String,
    pub id: i64,
    pub display_name: String,
    /// Which identifier matched: `email`, `phone` or `inn`.
    pub matched_on: String,
    pub value: String,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Absent, in another workspace, or invisible to the caller: all look the same.
    #[error("not found")]
    NotFound,
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("the record has changed since version {expected}; it is at version {current}")]
    VersionConflict { expected: i64, current: i64 },
    #[error("a record with the same identifier exists")]
    Duplicate(Vec<DuplicateMatch>),
    /// The request does not fit the state things are in; `code` names which rule it meets
    /// (a problem code the web app translates), `message` says it for integrators.
    #[error("conflict: {message}")]
    Conflict { code: &'static str, message: String },
    #[error("too many attempts; retry after {retry_after_secs} s")]
    TooManyAttempts { retry_after_secs: i64 },
    #[error("wrong credentials")]
    Unauthorized,
    #[error("invalid input")]
    Invalid(ValidationErrors),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The database could not be reached or gave no connection in time.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl Error {
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Error {
        Error::Conflict { code, message: message.into() }
    }
}

impl From<ValidationErrors> for Error {
    fn from(e: ValidationErrors) -> Self {
        Error::Invalid(e)
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Corrupt(e.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
