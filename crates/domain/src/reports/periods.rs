//! Cutting a date range into calendar periods. Periods follow the calendar (ISO weeks from
//! Monday, months, quarters), the first and last clipped to the range, and begin at local
//! midnight in the caller's time zone, so "March" means March where the user lives.
use crate::error::Invalid;
use chrono::{Datelike, Days, Months, NaiveDate, TimeZone};
use chrono_tz::Tz;

/// More periods than this is no chart anyone reads (three years by day is refused).
pub const MAX_PERIODS: usize = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    Day,
    Week,
    Month,
    Quarter,
}

impl Grouping {
    pub fn parse(s: &str) -> Option<Grouping> {
        Some(match s {
            "day" => Grouping::Day,
            "week" => Grouping::Week,
            "month" => Grouping::Month,
            "quarter" => Grouping::Quarter,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Grouping::Day => "day",
            Grouping::Week => "week",
            Grouping::Month => "month",
            Grouping::Quarter => "quarter",
        }
    }

    /// The first day of the calendar period holding `d`.
    pub fn start_of(self, d: NaiveDate) -> NaiveDate {
        match self {
            Grouping::Day => d,
            Grouping::Week => d - Days::new(u64::from(d.weekday().num_days_from_monday())),
            Grouping::Month => d.with_day(1).unwrap_or(d),
            Grouping::Quarter => NaiveDate::from_ymd_opt(d.year(), (d.month0() / 3) * 3 + 1, 1).unwrap_or(d),
        }
    }

    fn next(self, start: NaiveDate) -> NaiveDate {
        self.shift(start, 1)
    }

    /// The first day of the period `n` periods after (negative: before) the one starting
    /// at `start`.
    pub fn shift(self, start: NaiveDate, n: i32) -> NaiveDate {
        let days = |k: i64| start.checked_add_signed(chrono::TimeDelta::days(k)).unwrap_or(start);
        match self {
            Grouping::Day => days(i64::from(n)),
            Grouping::Week => days(7 * i64::from(n)),
            Grouping::Month => add_months(start, n),
            Grouping::Quarter => add_months(start, 3 * n),
        }
    }

    fn label(self, start: NaiveDate) -> String {
        match self {
            Grouping::Day => start.format("%Y-%m-%d").to_string(),
            Grouping::Week => format!("{}-W{:02}", start.iso_week().year(), start.iso_week().week()),
            Grouping::Month => start.format("%Y-%m").to_string(),
            Grouping::Quarter => format!("{}-Q{}", start.year(), start.month0() / 3 + 1),
        }
    }
}

pub(crate) fn add_months(d: NaiveDate, months: i32) -> NaiveDate {
    let shifted = if months >= 0 { d.checked_add_months(Months::new(months.unsigned_abs())) } else { d.checked_sub_months(Months::new(months.unsigned_abs())) };
    shifted.unwrap_or(d)
}

/// One period: its label (`2026-03`, `2026-W09`, `2026-Q1`, `2026-03-05`), its first and
/// last day, and the UTC instants it spans (`start_ms` inclusive, `end_ms` exclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub label: String,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub start_ms: i64,
    pub end_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Periods {
    pub grouping: Grouping,
    pub list: Vec<Period>,
}

/// The UTC instant of local midnight starting `d` (or the first hour that exists, where a
/// clock change skips midnight).
pub fn local_midnight_ms(d: NaiveDate, tz: Tz) -> i64 {
    (0..3)
        .find_map(|h| d.and_hms_opt(h, 0, 0).and_then(|t| tz.from_local_datetime(&t).earliest()))
        .map_or_else(|| d.and_hms_opt(0, 0, 0).map_or(0, |t| t.and_utc().timestamp_millis()), |t| t.timestamp_millis())
}

impl Periods {
    pub fn new(from: NaiveDate, to: NaiveDate, grouping: Grouping, tz: Tz) -> Result<Periods, Invalid> {
        let mut list = Vec::new();
        let mut start = grouping.start_of(from);
        while start <= to {
            if list.len() == MAX_PERIODS {
                return Err(Invalid::new("too_many_periods", format!("the range holds more than {MAX_PERIODS} periods: group by a longer period or shorten the range")));
            }
            let next = grouping.next(start);
            let first_day = start.max(from);
            let last_day = next.pred_opt().unwrap_or(next).min(to);
            let end = last_day + Days::new(1);
            list.push(Period { label: grouping.label(start), first_day, last_day, start_ms: local_midnight_ms(first_day, tz), end_ms: local_midnight_ms(end, tz) });
            start = next;
        }
        Ok(Periods { grouping, list })
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// n + 1 instants: period i holds `bounds[i] <= t < bounds[i + 1]`.
    pub fn bounds_ms(&self) -> Vec<i64> {
        let mut b: Vec<i64> = self.list.iter().map(|p| p.start_ms).collect();
        b.extend(self.list.last().map(|p| p.end_ms));
        b
    }

    /// The same bounds as ISO dates, for columns that hold a date (`2026-03-01`).
    pub fn bounds_dates(&self) -> Vec<String> {
        let mut b: Vec<String> = self.list.iter().map(|p| p.first_day.to_string()).collect();
        b.extend(self.list.last().map(|p| (p.last_day + Days::new(1)).to_string()));
        b
    }

    /// The period an instant falls in.
    pub fn index_of_ms(&self, t: i64) -> Option<usize> {
        let i = self.list.partition_point(|p| p.end_ms <= t);
        self.list.get(i).filter(|p| p.start_ms <= t).map(|_| i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn months_follow_the_calendar_and_clip_to_the_range() {
        let p = Periods::new(day("2026-01-15"), day("2026-03-10"), Grouping::Month, chrono_tz::Europe::Moscow).unwrap();
        let labels: Vec<_> = p.list.iter().map(|p| (p.label.as_str(), p.first_day.to_string(), p.last_day.to_string())).collect();
        assert_eq!(labels, [("2026-01", "2026-01-15".into(), "2026-01-31".into()), ("2026-02", "2026-02-01".into(), "2026-02-28".into()), ("2026-03", "2026-03-01".into(), "2026-03-10".into())]);
        // Moscow is UTC+3 all year: local midnight of 1 Feb is 21:00 UTC on 31 Jan.
        assert_eq!(p.list[1].start_ms, chrono::DateTime::parse_from_rfc3339("2026-01-31T21:00:00Z").unwrap().timestamp_millis());
        assert_eq!(p.bounds_ms().len(), 4);
        assert_eq!(p.bounds_dates(), ["2026-01-15", "2026-02-01", "2026-03-01", "2026-03-11"]);
    }

    #[test]
    fn weeks_start_on_monday_and_quarters_are_labelled() {
        let w = Periods::new(day("2026-12-30"), day("2027-01-12"), Grouping::Week, chrono_tz::UTC).unwrap();
        let labels: Vec<_> = w.list.iter().map(|p| p.label.clone()).collect();
        assert_eq!(labels, ["2026-W53", "2027-W01", "2027-W02"]);
        assert_eq!(w.list[1].first_day, day("2027-01-04"));
        let q = Periods::new(day("2026-02-01"), day("2026-12-31"), Grouping::Quarter, chrono_tz::UTC).unwrap();
        assert_eq!(q.list.iter().map(|p| p.label.as_str()).collect::<Vec<_>>(), ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]);
        assert_eq!(Grouping::Quarter.shift(day("2026-01-01"), -1), day("2025-10-01"));
        assert_eq!(Grouping::Week.shift(Grouping::Week.start_of(day("2026-01-01")), -1), day("2025-12-22"));
    }

    #[test]
    fn clock_changes_keep_periods_at_local_midnight() {
        // Berlin moves to summer time on 29 March 2026: April starts at 22:00 UTC, March at 23:00.
        let p = Periods::new(day("2026-03-01"), day("2026-04-30"), Grouping::Month, chrono_tz::Europe::Berlin).unwrap();
        assert_eq!(p.list[0].start_ms, chrono::DateTime::parse_from_rfc3339("2026-02-28T23:00:00Z").unwrap().timestamp_millis());
        assert_eq!(p.list[1].start_ms, chrono::DateTime::parse_from_rfc3339("2026-03-31T22:00:00Z").unwrap().timestamp_millis());
        assert_eq!(p.index_of_ms(p.list[1].start_ms - 1), Some(0));
        assert_eq!(p.index_of_ms(p.list[1].start_ms), Some(1));
        assert_eq!(p.index_of_ms(p.list[1].end_ms), None);
        assert_eq!(p.index_of_ms(p.list[0].start_ms - 1), None);
    }

    #[test]
    fn too_many_periods_are_refused() {
        assert!(Periods::new(day("2026-01-01"), day("2028-12-31"), Grouping::Day, chrono_tz::UTC).is_err());
        assert_eq!(Periods::new(day("2026-01-01"), day("2026-12-31"), Grouping::Day, chrono_tz::UTC).unwrap().len(), 365);
    }
}
