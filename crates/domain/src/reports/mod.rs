//! Sales analytics as pure rules: which reports exist, their parameters, the periods a date
//! range is cut into (in the caller's time zone), the tabular shape every report answers in,
//! and the statistics (medians, rates, trend, churn and cohorts) computed from what storage
//! aggregates. Storage turns a request into grouped SQL; nothing here knows SQL.
mod periods;
mod stats;
mod table;

pub use periods::{Grouping, MAX_PERIODS, Period, Periods, local_midnight_ms};
pub use stats::{ChurnRow, CohortRow, Customer, Customers, FrequencyRow, average, median, percent, ratio, trend};
pub use table::{Column, ColumnKind, Report, Table, Unconverted, decimal, money};

use crate::error::ValidationErrors;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The reports, each defined in the API reference (`/api/v1/reports/{name}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportName {
    Funnel,
    Conversion,
    WinRate,
    LostReasons,
    Revenue,
    SalesCycle,
    PurchaseFrequency,
    Churn,
    Forecast,
    Activity,
    Leaderboard,
    Products,
}

impl ReportName {
    pub const ALL: [ReportName; 12] = [
        ReportName::Funnel,
        ReportName::Conversion,
        ReportName::WinRate,
        ReportName::LostReasons,
        ReportName::Revenue,
        ReportName::SalesCycle,
        ReportName::PurchaseFrequency,
        ReportName::Churn,
        ReportName::Forecast,
        ReportName::Activity,
        ReportName::Leaderboard,
        ReportName::Products,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportName::Funnel => "funnel",
            ReportName::Conversion => "conversion",
            ReportName::WinRate => "win_rate",
            ReportName::LostReasons => "lost_reasons",
            ReportName::Revenue => "revenue",
            ReportName::SalesCycle => "sales_cycle",
            ReportName::PurchaseFrequency => "purchase_frequency",
            ReportName::Churn => "churn",
            ReportName::Forecast => "forecast",
            ReportName::Activity => "activity",
            ReportName::Leaderboard => "leaderboard",
            ReportName::Products => "products",
        }
    }

    pub fn parse(s: &str) -> Option<ReportName> {
        ReportName::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The record kind whose filters the report takes (`pipeline_id`, `owner_id`, …).
    pub fn records(self) -> Records {
        match self {
            ReportName::Conversion => Records::Leads,
            ReportName::Activity => Records::Activities,
            _ => Records::Deals,
        }
    }

    /// The range asked for when `from`/`to` are absent: the forecast looks ahead six
    /// months from the current one, every other report back over the last twelve.
    pub fn default_range(self, today: NaiveDate) -> (NaiveDate, NaiveDate) {
        let month_start = today.with_day(1).unwrap_or(today);
        match self {
            ReportName::Forecast => (month_start, periods::add_months(month_start, 6).pred_opt().unwrap_or(month_start)),
            _ => (periods::add_months(month_start, -11), today),
        }
    }
}

/// What a report counts, and so which filters apply to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Records {
    Deals,
    Leads,
    /// Activities and tasks.
    Activities,
}

impl Records {
    /// The shared filters of the dashboard that mean something for these records; the
    /// others are ignored and named in the answer.
    pub fn takes(self, filter: &str) -> bool {
        match self {
            Records::Deals => true,
            Records::Leads => filter != "pipeline_id",
            Records::Activities => !matches!(filter, "pipeline_id" | "source"),
        }
    }
}

/// Filters every report accepts (with the list operators: `owner_id[in]=3,4`).
pub const FILTERS: [&str; 5] = ["pipeline_id", "owner_id", "team_id", "source", "tag"];

/// How the conversion report groups its leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeadDimension {
    Source,
    UtmSource,
    UtmCampaign,
    Period,
}

impl LeadDimension {
    pub fn parse(s: &str) -> Option<LeadDimension> {
        Some(match s {
            "source" => LeadDimension::Source,
            "utm_source" => LeadDimension::UtmSource,
            "utm_campaign" => LeadDimension::UtmCampaign,
            "period" => LeadDimension::Period,
            _ => return None,
        })
    }
    pub fn column(self) -> Option<&'static str> {
        match self {
            LeadDimension::Source => Some("source"),
            LeadDimension::UtmSource => Some("utm_source"),
            LeadDimension::UtmCampaign => Some("utm_campaign"),
            LeadDimension::Period => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductOrder {
    Revenue,
    Quantity,
}

/// A checked report request; the record filters are parsed separately by `query::parse`.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub name: ReportName,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub grouping: Grouping,
    /// Funnel: open deals in a stage longer than this many days count as aging.
    pub aging_days: i64,
    pub dimension: LeadDimension,
    /// Products: how many, and by what.
    pub limit: usize,
    pub order: ProductOrder,
    /// The filter parameters, as given, for `query::parse` of the report's records.
    pub filters: Vec<(String, String)>,
    /// Given filters that mean nothing for this report's records.
    pub ignored_filters: Vec<String>,
}

/// Parameters that are not filters.
pub const OPTIONS: [&str; 9] = ["from", "to", "group_by", "aging_days", "by", "limit", "sort", "format", "table"];

/// Checks a report's parameters, naming every bad one. `format` and `table` belong to the
/// HTTP layer and are only let through here.
pub fn parse_request(name: ReportName, params: &[(String, String)], today: NaiveDate) -> Result<Request, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let (default_from, default_to) = name.default_range(today);
    let mut request = Request {
        name,
        from: default_from,
        to: default_to,
        grouping: Grouping::Month,
        aging_days: 30,
        dimension: LeadDimension::Source,
        limit: 20,
        order: ProductOrder::Revenue,
        filters: Vec::new(),
        ignored_filters: Vec::new(),
    };
    let date = |errors: &mut ValidationErrors, key: &str, v: &str| match NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d") {
        Ok(d) if (1900..=2999).contains(&d.year()) => Some(d),
        Ok(_) => {
            errors.add(key, "out_of_range", "must be a date between 1900 and 2999");
            None
        }
        Err(_) => {
            errors.add(key, "not_a_date", "must be a date like 2026-01-31");
            None
        }
    };
    for (key, value) in params {
        let base = key.split('[').next().unwrap_or(key);
        match key.as_str() {
            "from" => request.from = date(&mut errors, key, value).unwrap_or(request.from),
            "to" => request.to = date(&mut errors, key, value).unwrap_or(request.to),
            "group_by" => match Grouping::parse(value) {
                Some(g) => request.grouping = g,
                None => errors.add(key, "invalid_choice", "must be one of day, week, month, quarter"),
            },
            "aging_days" => match value.parse::<i64>() {
                Ok(n) if (1..=3650).contains(&n) => request.aging_days = n,
                _ => errors.add(key, "out_of_range", "must be a whole number of days from 1 to 3650"),
            },
            "by" => match LeadDimension::parse(value) {
                Some(d) => request.dimension = d,
                None => errors.add(key, "invalid_choice", "must be one of source, utm_source, utm_campaign, period"),
            },
            "limit" => match value.parse::<usize>() {
                Ok(n) if (1..=100).contains(&n) => request.limit = n,
                _ => errors.add(key, "out_of_range", "must be from 1 to 100"),
            },
            "sort" => match value.as_str() {
                "revenue" => request.order = ProductOrder::Revenue,
                "quantity" => request.order = ProductOrder::Quantity,
                _ => errors.add(key, "invalid_choice", "must be revenue or quantity"),
            },
            "format" | "table" => {}
            _ if FILTERS.contains(&base) => {
                if name.records().takes(base) {
                    request.filters.push((key.clone(), value.clone()));
                } else if !request.ignored_filters.iter().any(|f| f == base) {
                    request.ignored_filters.push(base.to_owned());
                }
            }
            _ => errors.add(key, "unknown_field", format!("is not a parameter of reports: use from, to, group_by or one of the filters {}", FILTERS.join(", "))),
        }
    }
    if request.from > request.to {
        errors.add("from", "after_to", "must not be after `to`");
    } else if let Err(e) = Periods::new(request.from, request.to, request.grouping, chrono_tz::UTC) {
        errors.add("group_by", e.code, e.message);
    }
    errors.into_result().map(|()| request)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }
    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn defaults_cover_twelve_months_and_forecast_looks_ahead() {
        let r = parse_request(ReportName::Revenue, &[], day("2026-12-01")).unwrap();
        assert_eq!((r.from, r.to, r.grouping), (day("2026-01-01"), day("2026-12-01"), Grouping::Month));
        let f = parse_request(ReportName::Forecast, &[], day("2026-12-15")).unwrap();
        assert_eq!((f.from, f.to), (day("2026-12-01"), day("2027-05-31")));
    }

    #[test]
    fn every_bad_parameter_is_named() {
        let e = parse_request(ReportName::Revenue, &p(&[("from", "2026-13-01"), ("group_by", "year"), ("colour", "red"), ("aging_days", "0")]), day("2026-12-01")).unwrap_err();
        let fields: Vec<_> = e.0.iter().map(|f| (f.field.as_str(), f.code.as_str())).collect();
        assert_eq!(fields, [("from", "not_a_date"), ("group_by", "invalid_choice"), ("colour", "unknown_field"), ("aging_days", "out_of_range")]);
        let e = parse_request(ReportName::Revenue, &p(&[("from", "2026-05-01"), ("to", "2026-04-01")]), day("2026-12-01")).unwrap_err();
        assert_eq!(e.0[0].code, "after_to");
        let e = parse_request(ReportName::Revenue, &p(&[("from", "2020-01-01"), ("to", "2026-01-01"), ("group_by", "day")]), day("2026-12-01")).unwrap_err();
        assert_eq!((e.0[0].field.as_str(), e.0[0].code.as_str()), ("group_by", "too_many_periods"));
    }

    #[test]
    fn filters_that_do_not_apply_are_ignored_and_named() {
        let r = parse_request(ReportName::Activity, &p(&[("owner_id", "3"), ("pipeline_id", "1"), ("source[in]", "a,b"), ("pipeline_id", "2")]), day("2026-12-01")).unwrap();
        assert_eq!(r.filters, p(&[("owner_id", "3")]));
        assert_eq!(r.ignored_filters, ["pipeline_id", "source"]);
        let r = parse_request(ReportName::Revenue, &p(&[("owner_id[in]", "3,4"), ("tag", "vip")]), day("2026-12-01")).unwrap();
        assert_eq!(r.filters.len(), 2);
        assert!(r.ignored_filters.is_empty());
    }
}
