//! Exact money: line totals with discount and VAT, rounded to kopecks half away from zero,
//! as Russian accounting documents round.
use rust_decimal::{Decimal, RoundingStrategy};

pub fn round_money(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// The percentage of a VAT rate code ("22" → 22, "none" → 0).
pub fn vat_percent(rate: &str) -> Decimal {
    rate.parse::<Decimal>().unwrap_or(Decimal::ZERO)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineTotals {
    /// Quantity × price less the discount: what the line costs, as priced.
    pub net: Decimal,
    pub vat: Decimal,
    /// What the buyer pays for the line.
    pub total: Decimal,
}

/// A line's totals. With `vat_included` the price already contains VAT (the usual Russian
/// retail and B2B price), which is then extracted; otherwise it is added on top.
pub fn line_totals(quantity: Decimal, price: Decimal, discount_percent: Decimal, vat_rate: &str, vat_included: bool) -> LineTotals {
    let hundred = Decimal::ONE_HUNDRED;
    let net = round_money(quantity * price * (hundred - discount_percent) / hundred);
    let pct = vat_percent(vat_rate);
    if vat_included {
        LineTotals { net, vat: round_money(net * pct / (hundred + pct)), total: net }
    } else {
        let vat = round_money(net * pct / hundred);
        LineTotals { net, vat, total: net + vat }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn vat_on_top_and_included() {
        // 3 × 1 000.00 less 10 % = 2 700.00; VAT 22 % on top = 594.00.
        assert_eq!(line_totals(d("3"), d("1000"), d("10"), "22", false), LineTotals { net: d("2700.00"), vat: d("594.00"), total: d("3294.00") });
        // 1 220.00 including 22 % VAT holds 220.00 of VAT.
        assert_eq!(line_totals(d("1"), d("1220"), d("0"), "22", true), LineTotals { net: d("1220.00"), vat: d("220.00"), total: d("1220.00") });
        assert_eq!(line_totals(d("2"), d("99.99"), d("0"), "none", false).total, d("199.98"));
    }

    #[test]
    fn rounds_half_away_from_zero_exactly() {
        // 0.1 + 0.2 style errors cannot happen: 3 × 0.335 = 1.005 → 1.01.
        assert_eq!(line_totals(d("3"), d("0.335"), d("0"), "0", false).total, d("1.01"));
        assert_eq!(line_totals(d("1"), d("100"), d("0"), "10", true).vat, d("9.09"));
    }
}
