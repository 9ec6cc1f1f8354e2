//! Accord's pure business rules. Nothing here touches a database, the network or a clock
//! it was not handed, so every rule can be tested in isolation.

pub mod backup;
pub mod custom_fields;
pub mod dedupe;
pub mod email;
pub mod entities;
pub mod error;
pub mod goals;
pub mod imports;
pub mod markdown;
pub mod permissions;
pub mod phone;
pub mod query;
pub mod reports;
pub mod sales;
pub mod ru_ids;
pub mod sample;
pub mod text;
pub mod views;

pub use error::{FieldError, ValidationErrors};
