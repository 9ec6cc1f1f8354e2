//! Statistics the reports share. Exact decimals throughout: rates and averages are rounded
//! to two places half away from zero, like money.
use super::periods::Periods;
use rust_decimal::{Decimal, RoundingStrategy};
use std::collections::HashMap;

fn round2(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// `part` as a percentage of `whole`; none of nothing.
pub fn percent(part: Decimal, whole: Decimal) -> Option<Decimal> {
    (!whole.is_zero()).then(|| round2(part * Decimal::ONE_HUNDRED / whole))
}

/// `a / b` to two places; none when `b` is zero.
pub fn ratio(a: Decimal, b: Decimal) -> Option<Decimal> {
    (!b.is_zero()).then(|| round2(a / b))
}

const MS_PER_DAY: i64 = 86_400_000;

/// The median of durations in milliseconds, in days (the mean of the middle two for an
/// even count).
pub fn median(durations_ms: &mut [i64]) -> Option<Decimal> {
    if durations_ms.is_empty() {
        return None;
    }
    durations_ms.sort_unstable();
    let n = durations_ms.len();
    let mid = if n % 2 == 1 { Decimal::from(durations_ms[n / 2]) } else { (Decimal::from(durations_ms[n / 2 - 1]) + Decimal::from(durations_ms[n / 2])) / Decimal::TWO };
    Some(round2(mid / Decimal::from(MS_PER_DAY)))
}

/// The mean of durations in milliseconds, in days.
pub fn average(durations_ms: &[i64]) -> Option<Decimal> {
    let sum: i128 = durations_ms.iter().map(|&d| i128::from(d)).sum();
    let n = Decimal::from(durations_ms.len());
    Decimal::try_from_i128_with_scale(sum, 0).ok().and_then(|s| ratio(s, n * Decimal::from(MS_PER_DAY)))
}

/// The least-squares line through `(x, y)` points, evaluated at `at`; none with fewer than
/// two distinct x.
pub fn trend(points: &[(i64, Decimal)], at: i64) -> Option<Decimal> {
    let n = Decimal::from(points.len());
    let sx: Decimal = points.iter().map(|(x, _)| Decimal::from(*x)).sum();
    let sy: Decimal = points.iter().map(|(_, y)| *y).sum();
    let sxx: Decimal = points.iter().map(|(x, _)| Decimal::from(*x) * Decimal::from(*x)).sum();
    let sxy: Decimal = points.iter().map(|(x, y)| Decimal::from(*x) * *y).sum();
    let denominator = n * sxx - sx * sx;
    if points.len() < 2 || denominator.is_zero() {
        return None;
    }
    let slope = (n * sxy - sx * sy) / denominator;
    let intercept = (sy - slope * sx) / n;
    Some(round2(intercept + slope * Decimal::from(at)).max(Decimal::ZERO))
}

/// Whom a won deal counts for: its company, or its first contact where it has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Customer {
    Company(i64),
    Contact(i64),
}

/// Won deals' closing instants per customer, for purchase frequency, churn and cohorts.
#[derive(Default)]
pub struct Customers {
    purchases: HashMap<Customer, Vec<i64>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrequencyRow {
    /// Customers with a won deal in the period.
    pub customers: usize,
    pub deals: usize,
    /// Of those, customers who had a won deal before the period began.
    pub repeat: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChurnRow {
    /// Customers who bought in the period before.
    pub previous: usize,
    pub customers: usize,
    /// First purchase ever in this period.
    pub new: usize,
    /// Bought in the period before and in this one.
    pub retained: usize,
    /// Bought in the period before but not in this one.
    pub churned: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CohortRow {
    pub label: String,
    pub customers: usize,
    /// Per month since the first purchase (0 = that month): how many of them bought.
    pub active: Vec<usize>,
}

impl Customers {
    pub fn add(&mut self, customer: Customer, won_at_ms: i64) {
        self.purchases.entry(customer).or_default().push(won_at_ms);
    }

    /// Per customer: the first purchase ever, and the periods it bought in (ascending,
    /// each once) with how many purchases fell in each. One pass over the purchases, so a
    /// report over a hundred thousand customers costs milliseconds.
    fn per_customer<'a>(&'a self, periods: &'a Periods) -> impl Iterator<Item = (i64, Vec<(usize, usize)>)> + 'a {
        self.purchases.values().map(move |times| {
            let first = times.iter().min().copied().unwrap_or(i64::MAX);
            let mut indexes: Vec<usize> = times.iter().filter_map(|&t| periods.index_of_ms(t)).collect();
            indexes.sort_unstable();
            let mut runs: Vec<(usize, usize)> = Vec::new();
            for i in indexes {
                match runs.last_mut() {
                    Some((period, n)) if *period == i => *n += 1,
                    _ => runs.push((i, 1)),
                }
            }
            (first, runs)
        })
    }

    /// Customers with at least `n` purchases within the periods.
    pub fn buying_at_least(&self, n: usize, periods: &Periods) -> usize {
        self.per_customer(periods).filter(|(_, runs)| runs.iter().map(|(_, k)| k).sum::<usize>() >= n).count()
    }

    pub fn frequency(&self, periods: &Periods) -> Vec<FrequencyRow> {
        let mut rows = vec![FrequencyRow { customers: 0, deals: 0, repeat: 0 }; periods.len()];
        for (first, runs) in self.per_customer(periods) {
            for (i, n) in runs {
                let row = &mut rows[i];
                row.customers += 1;
                row.deals += n;
                if first < periods.list[i].start_ms {
                    row.repeat += 1;
                }
            }
        }
        rows
    }

    /// `periods` holds one extra period at the start: the "before" of the first row.
    pub fn churn(&self, periods_with_previous: &Periods) -> Vec<ChurnRow> {
        let p = periods_with_previous;
        let (mut buyers, mut retained, mut new) = (vec![0; p.len()], vec![0; p.len()], vec![0; p.len()]);
        for (first, runs) in self.per_customer(p) {
            for (k, &(i, _)) in runs.iter().enumerate() {
                buyers[i] += 1;
                if k > 0 && runs[k - 1].0 + 1 == i {
                    retained[i] += 1;
                }
                if first >= p.list[i].start_ms {
                    new[i] += 1;
                }
            }
        }
        (1..p.len()).map(|i| ChurnRow { previous: buyers[i - 1], customers: buyers[i], new: new[i], retained: retained[i], churned: buyers[i - 1] - retained[i] }).collect()
    }

    /// Monthly cohorts by first purchase: `months` are the cohort months, and activity is
    /// followed up to the last of them.
    pub fn cohorts(&self, months: &Periods) -> Vec<CohortRow> {
        let mut rows: Vec<CohortRow> = months.list.iter().enumerate().map(|(i, p)| CohortRow { label: p.label.clone(), customers: 0, active: vec![0; months.len() - i] }).collect();
        for (first, runs) in self.per_customer(months) {
            let Some(cohort) = months.index_of_ms(first) else { continue };
            rows[cohort].customers += 1;
            for (i, _) in runs.into_iter().filter(|(i, _)| *i >= cohort) {
                rows[cohort].active[i - cohort] += 1;
            }
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::super::periods::Grouping;
    use super::*;
    use chrono::NaiveDate;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }
    fn ms(day: &str) -> i64 {
        NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap().and_hms_opt(12, 0, 0).unwrap().and_utc().timestamp_millis()
    }
    fn months(from: &str, to: &str) -> Periods {
        let p = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        Periods::new(p(from), p(to), Grouping::Month, chrono_tz::UTC).unwrap()
    }

    #[test]
    fn medians_averages_and_rates() {
        let day = MS_PER_DAY;
        assert_eq!(median(&mut [3 * day, day, 2 * day]), Some(d("2")));
        assert_eq!(median(&mut [day, 2 * day]), Some(d("1.5")));
        assert_eq!(median(&mut []), None);
        assert_eq!(average(&[day, 2 * day, 4 * day]), Some(d("2.33")));
        assert_eq!(percent(d("1"), d("3")), Some(d("33.33")));
        assert_eq!(percent(d("2"), d("3")), Some(d("66.67")));
        assert_eq!(percent(d("1"), Decimal::ZERO), None);
    }

    #[test]
    fn trend_is_the_least_squares_line() {
        let points = [(0, d("10")), (1, d("20")), (2, d("30"))];
        assert_eq!(trend(&points, 3), Some(d("40")));
        assert_eq!(trend(&[(1, d("5")), (2, d("5"))], 5), Some(d("5")));
        assert_eq!(trend(&[(1, d("5"))], 2), None);
        // A falling line stops at zero rather than forecasting negative revenue.
        assert_eq!(trend(&[(0, d("20")), (1, d("10"))], 5), Some(Decimal::ZERO));
    }

    #[test]
    fn churn_frequency_and_cohorts() {
        let mut c = Customers::default();
        // 1 buys in Jan and Feb, 2 in Jan only, 3 in Feb and Apr, 4 in Dec (before the range) and Mar.
        for (who, day) in [(1, "2026-01-10"), (1, "2026-02-10"), (1, "2026-02-20"), (2, "2026-01-05"), (3, "2026-02-01"), (3, "2026-04-01"), (4, "2025-12-01"), (4, "2026-03-03")] {
            c.add(Customer::Company(who), ms(day));
        }
        let freq = c.frequency(&months("2026-01-01", "2026-04-30"));
        assert_eq!(freq.iter().map(|r| (r.customers, r.deals, r.repeat)).collect::<Vec<_>>(), [(2, 2, 0), (2, 3, 1), (1, 1, 1), (1, 1, 1)]);
        assert_eq!(c.buying_at_least(2, &months("2026-01-01", "2026-04-30")), 2);
        assert_eq!(c.buying_at_least(2, &months("2026-03-01", "2026-04-30")), 0);
        let churn = c.churn(&months("2025-12-01", "2026-04-30"));
        let rows: Vec<_> = churn.iter().map(|r| (r.previous, r.customers, r.new, r.retained, r.churned)).collect();
        assert_eq!(rows, [(1, 2, 2, 0, 1), (2, 2, 1, 1, 1), (2, 1, 0, 0, 2), (1, 1, 0, 0, 1)]);
        let cohorts = c.cohorts(&months("2026-01-01", "2026-04-30"));
        assert_eq!((cohorts[0].customers, cohorts[0].active.clone()), (2, vec![2, 1, 0, 0]));
        assert_eq!((cohorts[1].customers, cohorts[1].active.clone()), (1, vec![1, 0, 1]));
        // 4's first purchase was before the range: in no cohort.
        assert_eq!(cohorts[2].customers, 0);
    }
}
