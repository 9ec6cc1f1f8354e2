//! The API suite: each test starts a real server on a fresh database and speaks HTTP to it.
//! Every test runs twice, on SQLite and on PostgreSQL (`ACCORD_TEST_DATABASE_URL`; when
//! it is not set the PostgreSQL variants say so and pass without running).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod harness;

mod archive;
mod auth;
mod imports;
mod lists;
mod maven;
mod migrations;
mod openapi;
mod permissions;
mod records;
mod reports;
mod sales;
mod translations;
mod validation;
