//! List queries from URL parameters: `field=value`, `field[op]=value`, `sort=-field`,
//! `limit`, `cursor`, `fields`, `count`. Parsed and checked here against the entity's
//! catalogue, so storage only ever sees known columns and typed values.
use crate::custom_fields::{self, FieldDefinition, FieldType};
use crate::entities::{Entity, FilterKind, KeyKind, SYSTEM_FILTERS};
use crate::error::{Invalid, ValidationErrors};
use crate::{phone, text};
use serde_json::Value;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;
/// Values one `[in]` filter takes.
pub const MAX_IN_VALUES: usize = 100;
/// An optional count stops here: a list answers fast at any size.
pub const COUNT_CAP: i64 = 10_000;

#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Column { column: &'static str, kind: FilterKind },
    Tag,
    Key(KeyKind),
    /// Records owned by members of a team.
    Team,
    Custom { field_id: i64, field_type: FieldType },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    In,
    Gt,
    Gte,
    Lt,
    Lte,
    Contains,
    Empty,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scalar {
    Text(String),
    Int(i64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub target: Target,
    pub op: Op,
    /// One value for most operators, several for `in`; for `empty`, `Int(1)` or `Int(0)`.
    pub values: Vec<Scalar>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sort {
    pub name: String,
    pub target: Target,
    pub desc: bool,
}

impl Sort {
    /// Whether every record has a value to sort by: the system columns (id, owner, who and
    /// when created and changed) are never empty; fields and custom values may be.
    pub fn never_null(&self) -> bool {
        matches!(&self.target, Target::Column { column, .. } if SYSTEM_FILTERS.iter().any(|f| f.column == *column))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub filters: Vec<Filter>,
    pub sort: Sort,
    pub limit: u32,
    pub cursor: Option<(Option<Scalar>, i64)>,
    pub fields: Option<Vec<String>>,
    pub count: bool,
    pub include_deleted: bool,
}

/// A workspace's custom field as the query parser needs it.
#[derive(Debug, Clone)]
pub struct CustomField {
    pub id: i64,
    pub def: FieldDefinition,
}

fn op_of(s: &str) -> Option<Op> {
    Some(match s {
        "eq" => Op::Eq,
        "ne" => Op::Ne,
        "in" => Op::In,
        "gt" => Op::Gt,
        "gte" => Op::Gte,
        "lt" => Op::Lt,
        "lte" => Op::Lte,
        "contains" => Op::Contains,
        "empty" => Op::Empty,
        _ => return None,
    })
}

fn target_of(entity: Entity, name: &str, custom: &[CustomField]) -> Option<Target> {
    if let Some(key) = name.strip_prefix("cf.") {
        return custom.iter().find(|c| c.def.key == key).map(|c| Target::Custom { field_id: c.id, field_type: c.def.field_type });
    }
    match name {
        "tag" => return Some(Target::Tag),
        "email" => return Some(Target::Key(KeyKind::Email)),
        "phone" => return Some(Target::Key(KeyKind::Phone)),
        "company_id" if entity == Entity::Contact => return Some(Target::Key(KeyKind::Company)),
        "contact_id" if entity == Entity::Deal => return Some(Target::Key(KeyKind::Contact)),
        "team_id" => return Some(Target::Team),
        _ => {}
    }
    SYSTEM_FILTERS.iter().chain(entity.filters()).find(|f| f.name == name).map(|f| Target::Column { column: f.column, kind: f.kind })
}

fn allowed_ops(target: &Target) -> &'static [Op] {
    use Op::*;
    match target {
        Target::Tag => &[Eq, In],
        Target::Key(KeyKind::Company | KeyKind::Contact) => &[Eq, In, Empty],
        Target::Team => &[Eq, In],
        Target::Key(_) => &[Eq, In, Contains, Empty],
        Target::Column { kind, .. } => match kind {
            FilterKind::Text => &[Eq, Ne, In, Empty],
            FilterKind::Folded => &[Eq, Ne, In, Contains, Empty],
            FilterKind::Bool => &[Eq, Empty],
            FilterKind::Int | FilterKind::Date | FilterKind::Timestamp | FilterKind::Decimal => &[Eq, Ne, In, Gt, Gte, Lt, Lte, Empty],
        },
        Target::Custom { field_type, .. } => match field_type {
            FieldType::Text | FieldType::LongText | FieldType::Email | FieldType::Url => &[Eq, Ne, In, Contains, Empty],
            FieldType::Select | FieldType::MultiSelect | FieldType::Phone => &[Eq, Ne, In, Empty],
            FieldType::Boolean => &[Eq, Empty],
            _ => &[Eq, Ne, In, Gt, Gte, Lt, Lte, Empty],
        },
    }
}

/// Turns one written value into what the column stores, in the same normalization as writes.
fn scalar(target: &Target, raw: &str, region: &str, op: Op) -> Result<Scalar, Invalid> {
    let raw = raw.trim();
    let int = |s: &str| s.parse::<i64>().map(Scalar::Int).map_err(|_| Invalid::new("not_a_number", "must be a whole number"));
    let boolean = |s: &str| match s {
        "true" => Ok(Scalar::Int(1)),
        "false" => Ok(Scalar::Int(0)),
        _ => Err(Invalid::new("not_a_boolean", "must be true or false")),
    };
    let decimal = |s: &str| custom_fields::parse_decimal(&Value::String(s.to_owned())).and_then(custom_fields::scale_decimal).map(Scalar::Int);
    let date = |s: &str| custom_fields::parse_date(s).map(|d| Scalar::Text(d.format("%Y-%m-%d").to_string()));
    let millis = |s: &str| custom_fields::parse_datetime(s).map(|t| Scalar::Int(t.timestamp_millis()));
    match target {
        Target::Tag => Ok(Scalar::Text(text::fold(raw))),
        Target::Key(KeyKind::Email) => Ok(Scalar::Text(text::fold(raw))),
        Target::Key(KeyKind::Phone) if op == Op::Contains => Ok(Scalar::Text(raw.chars().filter(char::is_ascii_digit).collect())),
        Target::Key(KeyKind::Phone) => phone::parse(raw, region).map(|p| Scalar::Text(p.e164)),
        Target::Key(KeyKind::Inn) => Ok(Scalar::Text(raw.to_owned())),
        Target::Key(KeyKind::Sku) => Ok(Scalar::Text(text::fold(raw))),
        Target::Key(KeyKind::Company | KeyKind::Contact) => raw.parse::<i64>().map(|i| Scalar::Text(i.to_string())).map_err(|_| Invalid::new("not_a_number", "must be an id")),
        Target::Team => raw.parse::<i64>().map(Scalar::Int).map_err(|_| Invalid::new("not_a_number", "must be a team id")),
        Target::Column { kind, .. } => match kind {
            FilterKind::Text => Ok(Scalar::Text(raw.to_owned())),
            FilterKind::Folded => Ok(Scalar::Text(text::fold(raw))),
            FilterKind::Int => int(raw),
            FilterKind::Bool => boolean(raw),
            FilterKind::Date => date(raw),
            FilterKind::Timestamp => millis(raw),
            FilterKind::Decimal => decimal(raw),
        },
        Target::Custom { field_type, .. } => match field_type {
            FieldType::Number | FieldType::Money => decimal(raw),
            FieldType::DateTime => millis(raw),
            FieldType::Boolean => boolean(raw),
            FieldType::ContactRef | FieldType::CompanyRef | FieldType::UserRef => int(raw),
            FieldType::Date => date(raw),
            FieldType::Phone => phone::parse(raw, region).map(|p| Scalar::Text(p.e164)),
            FieldType::Select | FieldType::MultiSelect => Ok(Scalar::Text(raw.to_owned())),
            FieldType::Text | FieldType::LongText | FieldType::Email => Ok(Scalar::Text(text::fold(raw))),
            FieldType::Url => Ok(Scalar::Text(raw.to_lowercase())),
        },
    }
}

fn sortable(target: &Target) -> bool {
    match target {
        Target::Column { .. } => true,
        Target::Custom { field_type, .. } => !matches!(field_type, FieldType::MultiSelect | FieldType::LongText),
        _ => false,
    }
}

pub fn parse(entity: Entity, params: &[(String, String)], custom: &[CustomField], region: &str) -> Result<ListQuery, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let mut q = ListQuery {
        filters: Vec::new(),
        sort: Sort { name: "updated_at".into(), target: Target::Column { column: "updated_at", kind: FilterKind::Timestamp }, desc: true },
        limit: DEFAULT_LIMIT,
        cursor: None,
        fields: None,
        count: false,
        include_deleted: false,
    };
    let mut cursor_raw = None;
    for (key, raw) in params {
        match key.as_str() {
            "limit" => match raw.parse::<u32>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => q.limit = n,
                _ => errors.add("limit", "out_of_range", format!("must be a whole number from 1 to {MAX_LIMIT}")),
            },
            "cursor" => cursor_raw = Some(raw.clone()),
            "count" => q.count = raw == "true",
            "fields" => {
                let names: Vec<String> = raw.split(',').map(|f| f.trim().to_owned()).filter(|f| !f.is_empty()).collect();
                let known = |n: &str| Entity::SYSTEM_FIELDS.contains(&n) || entity.columns().iter().any(|c| c.name == n && !c.kind.is_shadow());
                match names.iter().find(|n| !known(n)) {
                    Some(unknown) => errors.add("fields", "unknown_field", format!("{unknown} is not a field of this record")),
                    None => q.fields = Some(names),
                }
            }
            "sort" => {
                let (desc, name) = raw.strip_prefix('-').map_or((false, raw.as_str()), |n| (true, n));
                match target_of(entity, name, custom).filter(sortable) {
                    Some(target) => q.sort = Sort { name: name.to_owned(), target, desc },
                    None => errors.add("sort", "unknown_field", format!("cannot sort by {name}")),
                }
            }
            _ => {
                let (name, op_name) = match key.split_once('[') {
                    Some((n, rest)) => (n, rest.strip_suffix(']').unwrap_or("?")),
                    None => (key.as_str(), "eq"),
                };
                let Some(target) = target_of(entity, name, custom) else {
                    errors.add(key.clone(), "unknown_field", format!("cannot filter by {name}"));
                    continue;
                };
                let Some(op) = op_of(op_name).filter(|op| allowed_ops(&target).contains(op)) else {
                    errors.add(key.clone(), "unknown_operator", format!("{name} does not support [{op_name}]"));
                    continue;
                };
                let values = match op {
                    Op::Empty => match raw.as_str() {
                        "true" => Ok(vec![Scalar::Int(1)]),
                        "false" => Ok(vec![Scalar::Int(0)]),
                        _ => Err(Invalid::new("not_a_boolean", "must be true or false")),
                    },
                    Op::In => {
                        let parts: Vec<&str> = raw.split(',').filter(|s| !s.trim().is_empty()).collect();
                        if parts.is_empty() || parts.len() > MAX_IN_VALUES {
                            Err(Invalid::new("out_of_range", format!("needs 1 to {MAX_IN_VALUES} comma-separated values")))
                        } else {
                            parts.into_iter().map(|p| scalar(&target, p, region, op)).collect()
                        }
                    }
                    _ if raw.chars().count() > 500 => Err(Invalid::new("too_long", "must be at most 500 characters")),
                    _ => scalar(&target, raw, region, op).map(|s| vec![s]),
                };
                match values {
                    Ok(values) => q.filters.push(Filter { target, op, values }),
                    Err(e) => errors.add(key.clone(), e.code, e.message),
                }
            }
        }
    }
    if let Some(raw) = cursor_raw {
        match decode_cursor(&raw, &q.sort) {
            Some(c) => q.cursor = Some(c),
            None => errors.add("cursor", "invalid_cursor", "is not a cursor of this list and sort order"),
        }
    }
    errors.into_result()?;
    Ok(q)
}

/// A cursor names the sort it belongs to, so one taken from another ordering is refused.
pub fn encode_cursor(sort: &Sort, value: Option<&Scalar>, id: i64) -> String {
    let v = match value {
        None => Value::Null,
        Some(Scalar::Int(i)) => Value::from(*i),
        Some(Scalar::Text(s)) => Value::from(s.as_str()),
    };
    let body = serde_json::json!([format!("{}{}", if sort.desc { "-" } else { "" }, sort.name), v, id]).to_string();
    hex_encode(body.as_bytes())
}

fn decode_cursor(raw: &str, sort: &Sort) -> Option<(Option<Scalar>, i64)> {
    let bytes = hex_decode(raw)?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    let arr = v.as_array()?;
    let expected = format!("{}{}", if sort.desc { "-" } else { "" }, sort.name);
    if arr.len() != 3 || arr[0].as_str()? != expected {
        return None;
    }
    let value = match &arr[1] {
        Value::Null => None,
        Value::Number(n) => Some(Scalar::Int(n.as_i64()?)),
        Value::String(s) => Some(Scalar::Text(s.clone())),
        _ => return None,
    };
    Some((value, arr[2].as_i64()?))
}

fn hex_encode(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || s.len() > 4000 {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn parses_filters_and_sort() {
        let q = parse(Entity::Contact, &p(&[("owner_id", "5"), ("tag", "VIP"), ("last_name[contains]", "Ив"), ("sort", "last_name"), ("limit", "10")]), &[], "RU").unwrap();
        assert_eq!(q.filters.len(), 3);
        assert_eq!(q.filters[2].values, vec![Scalar::Text("ив".into())]);
        assert_eq!(q.sort.name, "last_name");
        assert!(!q.sort.desc);
        assert_eq!(q.limit, 10);
    }

    #[test]
    fn rejects_unknown_and_injection() {
        let e = parse(Entity::Contact, &p(&[("password", "x"), ("owner_id", "1 OR 1=1"), ("sort", "id;drop"), ("limit", "100000"), ("fields", "last_name,password_hash")]), &[], "RU").unwrap_err();
        let fields: Vec<_> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, vec!["password", "owner_id", "sort", "limit", "fields"]);
        assert!(parse(Entity::Contact, &p(&[("fields", "last_name_f")]), &[], "RU").is_err(), "shadow columns are not fields");
    }

    #[test]
    fn cursor_round_trip_and_mismatch() {
        let q = parse(Entity::Contact, &[], &[], "RU").unwrap();
        let c = encode_cursor(&q.sort, Some(&Scalar::Int(42)), 7);
        let again = parse(Entity::Contact, &p(&[("cursor", &c)]), &[], "RU").unwrap();
        assert_eq!(again.cursor, Some((Some(Scalar::Int(42)), 7)));
        assert!(parse(Entity::Contact, &p(&[("cursor", &c), ("sort", "id")]), &[], "RU").is_err());
        assert!(parse(Entity::Contact, &p(&[("cursor", "zz")]), &[], "RU").is_err());
    }
}
