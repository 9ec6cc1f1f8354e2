//! UTC hours and days, the spans that kept counters (`activity_counts`, `funnel_counts`)
//! count per. A report adds up whole days and the hours at its range's edges (a few
//! thousand rows) instead of counting millions of records; a range whose bounds are not
//! whole UTC hours (time zones such as Asia/Kolkata) is counted from the records themselves.

pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 24 * HOUR_MS;
/// The spans counted, in hours.
pub const SPANS: [i64; 2] = [1, 24];

/// The start of the span of `hours` holding `t` (floor, also before 1970).
pub fn span_start(t: i64, hours: i64) -> i64 {
    t - t.rem_euclid(hours * HOUR_MS)
}

/// The same as SQL, for both engines (`%` keeps the sign of the dividend in both).
pub fn span_start_sql(column: &str, hours: i64) -> String {
    let ms = hours * HOUR_MS;
    format!("({column} - (({column} % {ms}) + {ms}) % {ms})")
}

/// The spans `(hours, first start, end)` whose counters add up to `[from, to)`: the whole
/// UTC days inside it and the hours before the first and after the last of them. `None`
/// when a bound is not a whole UTC hour.
pub fn covering(from: i64, to: i64) -> Option<Vec<(i64, i64, i64)>> {
    if from % HOUR_MS != 0 || to % HOUR_MS != 0 {
        return None;
    }
    let first_day = span_start(from + DAY_MS - 1, 24);
    let last_day = Ord::max(span_start(to, 24), first_day);
    let spans = if first_day < to { vec![(24, first_day, last_day), (1, from, first_day), (1, last_day, to)] } else { vec![(1, from, to)] };
    Some(spans.into_iter().filter(|(_, a, b)| a < b).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_start_at_or_before_the_instant() {
        assert_eq!(span_start(DAY_MS + 5, 24), DAY_MS);
        assert_eq!(span_start(DAY_MS + HOUR_MS + 5, 1), DAY_MS + HOUR_MS);
        assert_eq!(span_start(-5, 24), -DAY_MS);
        assert_eq!(span_start(-HOUR_MS, 1), -HOUR_MS);
    }

    #[test]
    fn covering_spans_add_up_to_the_range() {
        let (from, to) = (3 * DAY_MS - 3 * HOUR_MS, 10 * DAY_MS - 3 * HOUR_MS);
        let spans = covering(from, to).unwrap_or_default();
        assert_eq!(spans, vec![(24, 3 * DAY_MS, 9 * DAY_MS), (1, from, 3 * DAY_MS), (1, 9 * DAY_MS, to)]);
        assert_eq!(spans.iter().map(|(_, a, b)| b - a).sum::<i64>(), to - from);
        assert_eq!(covering(HOUR_MS, 5 * HOUR_MS), Some(vec![(1, HOUR_MS, 5 * HOUR_MS)]));
        assert_eq!(covering(HOUR_MS / 2, DAY_MS), None);
    }
}
