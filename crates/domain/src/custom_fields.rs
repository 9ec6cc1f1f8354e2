//! Workspace-defined typed fields. A value is validated against its definition on every
//! write and turned into index entries so it can be filtered and sorted like a built-in field.
use crate::error::Invalid;
use crate::{email, phone, text};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::str::FromStr;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Text,
    LongText,
    Number,
    Money,
    Date,
    DateTime,
    Boolean,
    Select,
    MultiSelect,
    Email,
    Phone,
    Url,
    ContactRef,
    CompanyRef,
    UserRef,
}

impl FieldType {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::LongText => "long_text",
            FieldType::Number => "number",
            FieldType::Money => "money",
            FieldType::Date => "date",
            FieldType::DateTime => "date_time",
            FieldType::Boolean => "boolean",
            FieldType::Select => "select",
            FieldType::MultiSelect => "multi_select",
            FieldType::Email => "email",
            FieldType::Phone => "phone",
            FieldType::Url => "url",
            FieldType::ContactRef => "contact_ref",
            FieldType::CompanyRef => "company_ref",
            FieldType::UserRef => "user_ref",
        }
    }

    pub fn parse(s: &str) -> Option<FieldType> {
        serde_json::from_value(Value::String(s.to_owned())).ok()
    }

    /// Whether the value sorts and compares as a number (range filters) or as text.
    pub fn is_numeric(self) -> bool {
        matches!(self, FieldType::Number | FieldType::Money | FieldType::DateTime | FieldType::Boolean | FieldType::ContactRef | FieldType::CompanyRef | FieldType::UserRef)
    }
}

/// Fixed-point scale of numeric index entries: four decimals, exact for money.
pub const NUM_SCALE: u32 = 4;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldDefinition {
    pub key: String,
    pub field_type: FieldType,
    pub required: bool,
    pub unique: bool,
    /// The allowed values of `select` and `multi_select` fields.
    pub options: Vec<String>,
}

/// One index row of a custom value: exactly one of the two is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexValue {
    Text(String),
    Num(i64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct CleanValue {
    pub json: Value,
    pub index: Vec<IndexValue>,
    /// The record this value points at, so storage can check that it exists and is visible.
    pub reference: Option<(FieldType, i64)>,
}

pub fn scale_decimal(d: Decimal) -> Result<i64, Invalid> {
    let scaled = d.checked_mul(Decimal::from(10_i64.pow(NUM_SCALE))).ok_or_else(|| Invalid::new("out_of_range", "number is too large"))?;
    if scaled.fract() != Decimal::ZERO {
        return Err(Invalid::new("too_precise", format!("at most {NUM_SCALE} decimal places")));
    }
    i64::try_from(scaled).map_err(|_| Invalid::new("out_of_range", "number is too large"))
}

pub fn parse_decimal(v: &Value) -> Result<Decimal, Invalid> {
    let parsed = match v {
        Value::String(s) => Decimal::from_str(s.trim()),
        Value::Number(n) => Decimal::from_str(&n.to_string()),
        _ => return Err(Invalid::new("not_a_number", "must be a number or a decimal string")),
    };
    parsed.map_err(|_| Invalid::new("not_a_number", "must be a decimal number"))
}

pub fn parse_date(s: &str) -> Result<NaiveDate, Invalid> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| Invalid::new("not_a_date", "must be a date YYYY-MM-DD"))
}

pub fn parse_datetime(s: &str) -> Result<DateTime<Utc>, Invalid> {
    DateTime::parse_from_rfc3339(s.trim()).map(|d| d.with_timezone(&Utc)).map_err(|_| Invalid::new("not_a_datetime", "must be an RFC 3339 date-time with offset"))
}

pub fn currency(s: &str) -> Result<String, Invalid> {
    let c = s.trim().to_ascii_uppercase();
    if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) { Ok(c) } else { Err(Invalid::new("currency", "must be an ISO 4217 code such as RUB")) }
}

fn as_str(v: &Value) -> Result<&str, Invalid> {
    v.as_str().ok_or_else(|| Invalid::new("not_a_string", "must be a string"))
}

pub fn validate_url(s: &str) -> Result<String, Invalid> {
    let s = s.trim();
    let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://")).ok_or_else(|| Invalid::new("invalid_url", "must start with http:// or https://"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit_once('@').map(|(_, h)| h).unwrap_or(host);
    let host = host.split(':').next().unwrap_or_default();
    if host.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control()) || idna::domain_to_ascii_strict(host).is_err() {
        return Err(Invalid::new("invalid_url", "is not a valid web address"));
    }
    if s.len() > 2000 {
        return Err(Invalid::new("too_long", "must be at most 2000 characters"));
    }
    Ok(s.to_owned())
}

impl FieldDefinition {
    /// Validates one value; `Value::Null` means "no value" and is checked against `required`.
    pub fn clean(&self, v: &Value, region: &str) -> Result<Option<CleanValue>, Invalid> {
        if v.is_null() || v.as_str().is_some_and(|s| s.trim().is_empty()) || v.as_array().is_some_and(Vec::is_empty) {
            return if self.required { Err(Invalid::new("required", "is required")) } else { Ok(None) };
        }
        let plain = |json: Value, ix: IndexValue| Ok(Some(CleanValue { json, index: vec![ix], reference: None }));
        match self.field_type {
            FieldType::Text | FieldType::LongText => {
                let max = if self.field_type == FieldType::Text { text::SHORT_TEXT_MAX } else { text::LONG_TEXT_MAX };
                let s = text::clean(as_str(v)?, max)?.unwrap_or_default();
                let key: String = text::fold(&s).chars().take(200).collect();
                plain(json!(s), IndexValue::Text(key))
            }
            FieldType::Number => {
                let d = parse_decimal(v)?.normalize();
                plain(json!(d.to_string()), IndexValue::Num(scale_decimal(d)?))
            }
            FieldType::Money => {
                let amount = parse_decimal(&v["amount"])?.normalize();
                let cur = currency(v["currency"].as_str().unwrap_or_default())?;
                plain(json!({"amount": amount.to_string(), "currency": cur}), IndexValue::Num(scale_decimal(amount)?))
            }
            FieldType::Date => {
                let d = parse_date(as_str(v)?)?.format("%Y-%m-%d").to_string();
                plain(json!(d), IndexValue::Text(d))
            }
            FieldType::DateTime => {
                let t = parse_datetime(as_str(v)?)?;
                plain(json!(t.to_rfc3339_opts(SecondsFormat::Millis, true)), IndexValue::Num(t.timestamp_millis()))
            }
            FieldType::Boolean => {
                let b = v.as_bool().ok_or_else(|| Invalid::new("not_a_boolean", "must be true or false"))?;
                plain(json!(b), IndexValue::Num(i64::from(b)))
            }
            FieldType::Select => {
                let s = as_str(v)?.trim();
                if !self.options.iter().any(|o| o == s) {
                    return Err(Invalid::new("not_an_option", format!("must be one of: {}", self.options.join(", "))));
                }
                plain(json!(s), IndexValue::Text(s.to_owned()))
            }
            FieldType::MultiSelect => {
                let items = v.as_array().ok_or_else(|| Invalid::new("not_a_list", "must be a list of options"))?;
                let mut chosen: Vec<String> = Vec::new();
                for item in items {
                    let s = as_str(item)?.trim();
                    if !self.options.iter().any(|o| o == s) {
                        return Err(Invalid::new("not_an_option", format!("{s} is not one of: {}", self.options.join(", "))));
                    }
                    if !chosen.iter().any(|c| c == s) {
                        chosen.push(s.to_owned());
                    }
                }
                let index = chosen.iter().cloned().map(IndexValue::Text).collect();
                Ok(Some(CleanValue { json: json!(chosen), index, reference: None }))
            }
            FieldType::Email => {
                let e = email::normalize(as_str(v)?)?;
                let key = text::fold(&e);
                plain(json!(e), IndexValue::Text(key))
            }
            FieldType::Phone => {
                let p = phone::parse(as_str(v)?, region)?;
                plain(json!(p.e164), IndexValue::Text(p.e164))
            }
            FieldType::Url => {
                let u = validate_url(as_str(v)?)?;
                let key: String = u.to_lowercase().chars().take(200).collect();
                plain(json!(u), IndexValue::Text(key))
            }
            FieldType::ContactRef | FieldType::CompanyRef | FieldType::UserRef => {
                let id = v.as_i64().filter(|i| *i > 0).ok_or_else(|| Invalid::new("not_an_id", "must be a record id"))?;
                Ok(Some(CleanValue { json: json!(id), index: vec![IndexValue::Num(id)], reference: Some((self.field_type, id)) }))
            }
        }
    }
}

/// Field keys are part of filter syntax (`cf.region`), so they stay simple.
pub fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 60 && key.starts_with(|c: char| c.is_ascii_lowercase()) && key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(t: FieldType) -> FieldDefinition {
        FieldDefinition { key: "f".into(), field_type: t, required: false, unique: false, options: vec!["a".into(), "b".into()] }
    }

    #[test]
    fn money_is_exact() {
        let v = def(FieldType::Money).clean(&json!({"amount": "1234.50", "currency": "rub"}), "RU").unwrap().unwrap();
        assert_eq!(v.json, json!({"amount": "1234.5", "currency": "RUB"}));
        assert_eq!(v.index, vec![IndexValue::Num(12_345_000)]);
        assert!(def(FieldType::Money).clean(&json!({"amount": "0.00001", "currency": "RUB"}), "RU").is_err());
    }

    #[test]
    fn select_checks_options() {
        assert!(def(FieldType::Select).clean(&json!("a"), "RU").unwrap().is_some());
        assert_eq!(def(FieldType::Select).clean(&json!("c"), "RU").unwrap_err().code, "not_an_option");
        let m = def(FieldType::MultiSelect).clean(&json!(["b", "a", "b"]), "RU").unwrap().unwrap();
        assert_eq!(m.json, json!(["b", "a"]));
    }

    #[test]
    fn required_and_types() {
        let mut d = def(FieldType::Number);
        d.required = true;
        assert_eq!(d.clean(&Value::Null, "RU").unwrap_err().code, "required");
        assert_eq!(d.clean(&json!("x"), "RU").unwrap_err().code, "not_a_number");
        assert_eq!(def(FieldType::Boolean).clean(&json!("yes"), "RU").unwrap_err().code, "not_a_boolean");
        assert_eq!(def(FieldType::Date).clean(&json!("2024-02-30"), "RU").unwrap_err().code, "not_a_date");
        assert_eq!(def(FieldType::Url).clean(&json!("javascript:alert(1)"), "RU").unwrap_err().code, "invalid_url");
    }
}
