//! Accord's storage. One query code path for SQLite and PostgreSQL: statements are built
//! with sea-query (or written with `$1` placeholders both engines read) for the engine
//! chosen once from the URL, and run through [`db::query`]: rusqlite for SQLite, sqlx for
//! PostgreSQL. Engine-specific code exists only where the engines really differ (full-text
//! search, transaction start, migration locking), each behind one function.

pub mod accounts;
pub mod backup;
pub mod calendar;
pub mod custom_fields;
pub mod duplicates;
pub mod goals;
pub mod imports;
mod db;
pub mod error;
pub mod migrate;
pub mod notifications;
pub mod quality;
pub mod records;
pub mod reports;
pub mod sales;
pub mod search;
pub mod tags;
pub mod timeline;
pub mod views;
pub mod visibility;

pub use db::{Backend, Conn, Db, Row, Tx, Val, now_ms, open_sqlite_writer, query, spawn_long};
pub use error::{Error, Result};
