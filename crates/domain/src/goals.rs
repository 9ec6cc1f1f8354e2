//! Sales goals: a monthly or quarterly target of won amount, won deals or calls for a user
//! or a team, and how far the actual figure has got.
use crate::error::ValidationErrors;
use crate::reports::Grouping;
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Won deals' amount in the base currency.
    WonAmount,
    WonDeals,
    /// Calls done.
    Calls,
}

impl Metric {
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::WonAmount => "won_amount",
            Metric::WonDeals => "won_deals",
            Metric::Calls => "calls",
        }
    }
    pub fn parse(s: &str) -> Option<Metric> {
        [Metric::WonAmount, Metric::WonDeals, Metric::Calls].into_iter().find(|m| m.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GoalPeriod {
    Month,
    Quarter,
}

impl GoalPeriod {
    pub fn as_str(self) -> &'static str {
        match self {
            GoalPeriod::Month => "month",
            GoalPeriod::Quarter => "quarter",
        }
    }
    pub fn parse(s: &str) -> Option<GoalPeriod> {
        [GoalPeriod::Month, GoalPeriod::Quarter].into_iter().find(|m| m.as_str() == s)
    }
    pub fn grouping(self) -> Grouping {
        match self {
            GoalPeriod::Month => Grouping::Month,
            GoalPeriod::Quarter => Grouping::Quarter,
        }
    }
}

/// A goal as checked: whose, what, when, how much.
#[derive(Debug, Clone, PartialEq)]
pub struct Goal {
    pub metric: Metric,
    pub period: GoalPeriod,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub user_id: Option<i64>,
    pub team_id: Option<i64>,
    pub target: Decimal,
}

/// Checks a goal: `period_start` must begin a month or a quarter, the target be positive
/// (whole for counts), and the goal belong to exactly one user or one team.
pub fn check(metric: &str, period: &str, period_start: &str, user_id: Option<i64>, team_id: Option<i64>, target: &str) -> Result<Goal, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let metric = Metric::parse(metric);
    if metric.is_none() {
        errors.add("metric", "invalid_choice", "must be won_amount, won_deals or calls");
    }
    let period = GoalPeriod::parse(period);
    if period.is_none() {
        errors.add("period", "invalid_choice", "must be month or quarter");
    }
    let start = NaiveDate::parse_from_str(period_start.trim(), "%Y-%m-%d").ok().filter(|d| (1900..=2999).contains(&d.year()));
    match (start, period) {
        (None, _) => errors.add("period_start", "not_a_date", "must be a date like 2026-01-01"),
        (Some(d), Some(p)) if p.grouping().start_of(d) != d => errors.add("period_start", "not_a_period_start", format!("must be the first day of a {}", p.as_str())),
        _ => {}
    }
    match (user_id, team_id) {
        (Some(_), Some(_)) => errors.add("team_id", "conflicting", "a goal is for a user or for a team, not both"),
        (None, None) => errors.add("user_id", "required", "give user_id or team_id"),
        _ => {}
    }
    let target = match Decimal::from_str(target.trim()) {
        Ok(t) if t <= Decimal::ZERO || t > Decimal::from(1_000_000_000_000_i64) => {
            errors.add("target", "out_of_range", "must be greater than 0");
            None
        }
        Ok(t) if metric != Some(Metric::WonAmount) && !t.fract().is_zero() => {
            errors.add("target", "not_whole", "a count is a whole number");
            None
        }
        Ok(t) if t.scale() > 2 => {
            errors.add("target", "too_precise", "at most two decimal places");
            None
        }
        Ok(t) => Some(t.normalize()),
        Err(_) => {
            errors.add("target", "not_a_number", "must be a decimal number");
            None
        }
    };
    errors.into_result()?;
    match (metric, period, start, target) {
        (Some(metric), Some(period), Some(first_day), Some(target)) => {
            let last_day = period.grouping().shift(first_day, 1).pred_opt().unwrap_or(first_day);
            Ok(Goal { metric, period, first_day, last_day, user_id, team_id, target })
        }
        _ => Err(ValidationErrors::single("metric", "invalid", "is invalid")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goals_are_checked_field_by_field() {
        let g = check("won_amount", "quarter", "2026-04-01", Some(3), None, "1500000.50").unwrap();
        assert_eq!((g.first_day.to_string(), g.last_day.to_string(), g.target.to_string()), ("2026-04-01".into(), "2026-06-30".into(), "1500000.5".into()));
        let e = check("profit", "year", "2026-04-15", None, None, "-1").unwrap_err();
        let fields: Vec<_> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["metric", "period", "user_id", "target"]);
        let e = check("calls", "quarter", "2026-05-01", Some(1), Some(2), "10.5").unwrap_err();
        let codes: Vec<_> = e.0.iter().map(|f| (f.field.as_str(), f.code.as_str())).collect();
        assert_eq!(codes, [("period_start", "not_a_period_start"), ("team_id", "conflicting"), ("target", "not_whole")]);
        assert!(check("won_deals", "month", "2026-05-01", None, Some(2), "12").is_ok());
    }
}
