//! The one shape every report answers in: a summary of headline figures and one or more
//! tables whose columns are declared with their kind, so the web app charts them, shows
//! them as tables and exports them without knowing each report.
use super::ReportName;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// What a column holds, and so how it is shown. Money, percentages, days and other decimals
/// are decimal strings (`"1250.50"`); counts and ids are integers; a figure that cannot be
/// computed (a rate of nothing) is null.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    /// A period label: `2026-03-05` (day), `2026-W10` (ISO week), `2026-03`, `2026-Q1`.
    Period,
    Text,
    Id,
    Count,
    /// In the report's `currency`, two decimal places.
    Money,
    Percent,
    Days,
    Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Column {
    pub key: String,
    pub kind: ColumnKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    /// Objects keyed by the columns' keys, in the columns' order.
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<Map<String, Value>>,
}

impl Table {
    pub fn new(name: &str, columns: &[(&str, ColumnKind)]) -> Table {
        Table { name: name.to_owned(), columns: columns.iter().map(|(k, kind)| Column { key: (*k).to_owned(), kind: *kind }).collect(), rows: Vec::new() }
    }

    /// Adds a row given in the columns' order.
    pub fn push(&mut self, values: Vec<Value>) {
        debug_assert_eq!(values.len(), self.columns.len(), "row of table {} has the wrong width", self.name);
        self.rows.push(self.columns.iter().map(|c| c.key.clone()).zip(values).collect());
    }
}

/// An amount that has no exchange rate to the base currency and so is left out of the
/// figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Unconverted {
    pub amount: String,
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Report {
    pub report: ReportName,
    /// The range, inclusive, in the caller's time zone.
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    /// How period rows are cut; null where rows are not periods.
    pub group_by: Option<String>,
    pub time_zone: String,
    /// The workspace's base currency, in which every amount is given.
    pub currency: String,
    /// Headline figures over the whole range (keys as the main table's columns).
    #[schema(value_type = Object)]
    pub summary: Map<String, Value>,
    pub tables: Vec<Table>,
    pub unconverted: Vec<Unconverted>,
    /// Filters given that mean nothing for this report's records (e.g. `pipeline_id` for
    /// activities); they were not applied.
    pub ignored_filters: Vec<String>,
}

/// A decimal figure as the API writes it.
pub fn decimal(d: Option<Decimal>) -> Value {
    d.map_or(Value::Null, |d| Value::String(d.normalize().to_string()))
}

/// Money with two places.
pub fn money(d: Decimal) -> Value {
    Value::String(format!("{:.2}", crate::sales::round_money(d)))
}
