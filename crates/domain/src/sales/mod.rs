//! Sales rules: the catalogue, pipelines and their stages, deals with exact money, leads,
//! activities and tasks. Each record kind has its columns, filters and `prepare_*` here;
//! storage and HTTP treat them like contacts and companies.
mod config;
mod money;
mod records;

pub use config::{Config, LostReason, Names, Pipeline, PriceList, Stage, StageKind, DEFAULT_VAT_RATES, PRIORITIES, UNITS};
pub use money::{LineTotals, line_totals, round_money, vat_percent};
pub use records::*;
