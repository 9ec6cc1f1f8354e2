//! Cell values as other programs write them: dates in local formats, amounts with currency
//! signs and thousands separators, yes/no in two languages.
use crate::error::Invalid;
use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use std::str::FromStr;

/// A cell without the apostrophe that guards a formula-like value in spreadsheets (our own
/// exports write `'=…`, `'+7…`), trimmed.
pub fn cell(raw: &str) -> &str {
    let t = raw.trim();
    match t.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
        _ => t,
    }
}

/// A date: ISO (`2024-03-05`, with or without a time), `05.03.2024` (Russian), `2002/1/16`
/// (HubSpot), `3/5/2024` (US month first, unless the first number cannot be a month).
pub fn date(raw: &str) -> Result<NaiveDate, Invalid> {
    let s = raw.trim();
    let date_part = s.split(['T', ' ']).next().unwrap_or(s);
    let bad = || Invalid::new("not_a_date", format!("{s:?} is not a date (use YYYY-MM-DD or DD.MM.YYYY)"));
    let nums: Vec<&str> = date_part.split(['-', '.', '/']).collect();
    if nums.len() != 3 || nums.iter().any(|n| n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit())) {
        return Err(bad());
    }
    let n: Vec<u32> = nums.iter().map(|x| x.parse().unwrap_or(0)).collect();
    let sep = date_part.chars().find(|c| matches!(c, '-' | '.' | '/')).unwrap_or('-');
    let (y, m, d) = if nums[0].len() == 4 {
        (n[0], n[1], n[2])
    } else {
        let year = if nums[2].len() == 2 { 2000 + n[2] } else { n[2] };
        match sep {
            '/' if n[0] <= 12 => (year, n[0], n[1]),
            _ => (year, n[1], n[0]),
        }
    };
    NaiveDate::from_ymd_opt(y as i32, m, d).ok_or_else(bad)
}

/// A date and time as a local moment (`2024-03-05 14:30`, `05.03.2024 14:30:00`, a date alone
/// is its midnight), for the owner's time zone to place.
pub fn local_datetime(raw: &str) -> Result<NaiveDateTime, Invalid> {
    let s = raw.trim();
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%Y/%m/%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Ok(t);
        }
    }
    date(s).map(|d| d.and_time(chrono::NaiveTime::MIN)).map_err(|_| Invalid::new("not_a_datetime", format!("{s:?} is not a date and time")))
}

/// An amount: `1234.5`, `1 234,50`, `$1,234,567`, `1.234,50 €`, `12 000 ₽`, `(100)` as negative.
/// The currency sign or code next to the number is returned when there is one.
pub fn amount(raw: &str) -> Result<(Decimal, Option<&'static str>), Invalid> {
    let s = raw.trim();
    let bad = || Invalid::new("not_a_number", format!("{s:?} is not an amount"));
    const SIGNS: [(&str, &str); 9] = [("₽", "RUB"), ("руб.", "RUB"), ("руб", "RUB"), ("р.", "RUB"), ("$", "USD"), ("€", "EUR"), ("£", "GBP"), ("¥", "CNY"), ("₸", "KZT")];
    let mut currency = None;
    let mut rest = s.to_owned();
    for (sign, code) in SIGNS {
        if rest.contains(sign) {
            currency = Some(code);
            rest = rest.replace(sign, "");
            break;
        }
    }
    for code in ["RUB", "USD", "EUR", "GBP", "CNY", "KZT", "BYN"] {
        if rest.contains(code) {
            currency = currency.or(Some(code));
            rest = rest.replace(code, "");
        }
    }
    let mut t: String = rest.chars().filter(|c| !c.is_whitespace() && *c != '\u{a0}' && *c != '\u{202f}' && *c != '\'').collect();
    let negative = t.starts_with('(') && t.ends_with(')');
    if negative {
        t = t[1..t.len() - 1].to_owned();
    }
    // With both marks the last is the decimal one; a repeated mark groups thousands; a lone
    // comma followed by exactly three digits groups thousands (US style), a lone dot is the
    // decimal point.
    let last_comma = t.rfind(',');
    let last_dot = t.rfind('.');
    let normalized = match (last_comma, last_dot) {
        (Some(c), Some(d)) if c > d => t.replace('.', "").replace(',', "."),
        (Some(_), Some(_)) => t.replace(',', ""),
        (Some(c), None) if t.matches(',').count() == 1 && t.len() - c - 1 != 3 => t.replace(',', "."),
        (Some(_), None) => t.replace(',', ""),
        (None, Some(_)) if t.matches('.').count() > 1 => t.replace('.', ""),
        _ => t,
    };
    if normalized.is_empty() {
        return Err(bad());
    }
    let d = Decimal::from_str(&normalized).map_err(|_| bad())?;
    Ok((if negative { -d } else { d }, currency))
}

/// Yes or no in the words exports use.
pub fn boolean(raw: &str) -> Result<bool, Invalid> {
    match crate::text::fold(raw.trim()).as_str() {
        "1" | "true" | "yes" | "y" | "да" | "д" | "x" | "+" | "on" | "истина" => Ok(true),
        "0" | "false" | "no" | "n" | "нет" | "н" | "-" | "off" | "ложь" => Ok(false),
        _ => Err(Invalid::new("not_a_boolean", format!("{raw:?} is not yes or no"))),
    }
}

/// The items of a cell that holds several values: a JSON list (`[{"value": "…"}]`, as Krayin
/// writes), or text split at `;` and line breaks, and at commas when `commas` (e-mail
/// addresses have none; a phone may: «+7 495 123-45-67, доб. 12»).
pub fn list_of(raw: &str, commas: bool) -> Vec<String> {
    let t = raw.trim();
    if t.starts_with('[')
        && let Ok(serde_json::Value::Array(items)) = serde_json::from_str::<serde_json::Value>(t)
    {
        return items
            .iter()
            .filter_map(|i| match i {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Object(o) => o.get("value").and_then(|v| v.as_str()).map(str::to_owned),
                other => Some(other.to_string()),
            })
            .filter(|s| !s.trim().is_empty())
            .collect();
    }
    t.split(|c| c == ';' || c == '\n' || (commas && c == ',')).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn dates() {
        let ymd = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(date("2024-03-05").unwrap(), ymd(2024, 3, 5));
        assert_eq!(date("2024-03-05T10:00:00Z").unwrap(), ymd(2024, 3, 5));
        assert_eq!(date("05.03.2024").unwrap(), ymd(2024, 3, 5));
        assert_eq!(date("2002/1/16").unwrap(), ymd(2002, 1, 16));
        assert_eq!(date("3/5/2024").unwrap(), ymd(2024, 3, 5));
        assert_eq!(date("25/12/2024").unwrap(), ymd(2024, 12, 25));
        assert_eq!(date("05.03.24").unwrap(), ymd(2024, 3, 5));
        assert!(date("не закрыта").is_err());
        assert!(date("2024-02-30").is_err());
        assert_eq!(local_datetime("2024-08-30 14:30:00").unwrap().to_string(), "2024-08-30 14:30:00");
        assert_eq!(local_datetime("05.03.2024 09:15").unwrap().to_string(), "2024-03-05 09:15:00");
    }

    #[test]
    fn amounts() {
        assert_eq!(amount("1234.5").unwrap(), (d("1234.5"), None));
        assert_eq!(amount("$1,234,567").unwrap(), (d("1234567"), Some("USD")));
        assert_eq!(amount("1 234,50 ₽").unwrap(), (d("1234.50"), Some("RUB")));
        assert_eq!(amount("1.234,50 €").unwrap(), (d("1234.50"), Some("EUR")));
        assert_eq!(amount("12\u{a0}000 руб.").unwrap(), (d("12000"), Some("RUB")));
        assert_eq!(amount("(100)").unwrap(), (d("-100"), None));
        assert_eq!(amount("0,5").unwrap(), (d("0.5"), None));
        assert_eq!(amount("1,000").unwrap(), (d("1000"), None));
        assert_eq!(amount("12.500").unwrap(), (d("12.500"), None), "a lone dot is a decimal point");
        assert!(amount("n/a").is_err());
        assert!(amount("").is_err());
    }

    #[test]
    fn cells_and_lists() {
        assert_eq!(cell("  '+79161234567 "), "+79161234567");
        assert_eq!(cell("'quoted"), "'quoted");
        assert_eq!(list_of(r#"[{"label": "work", "value": "a@x.ru"}, {"label": "home", "value": "b@x.ru"}]"#, true), vec!["a@x.ru", "b@x.ru"]);
        assert_eq!(list_of("a@x.ru, b@x.ru", true), vec!["a@x.ru", "b@x.ru"]);
        assert_eq!(list_of("+7 495 123-45-67, доб. 12; 8 800 555-35-35", false), vec!["+7 495 123-45-67, доб. 12", "8 800 555-35-35"]);
        assert!(boolean("Да").unwrap());
        assert!(!boolean("false").unwrap());
        assert!(boolean("maybe").is_err());
    }
}
