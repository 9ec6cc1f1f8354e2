//! Saved list views: a name for a list's filters and sort (the list API's own parameters,
//! checked by the same parser) and the columns shown.
use crate::entities::Entity;
use crate::error::ValidationErrors;
use crate::query::{self, CustomField};
use serde_json::{Map, Value};

pub const NAME_MAX: usize = 100;
const COLUMNS_MAX: usize = 60;

/// A view as stored: its parameters in a stable order.
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    pub name: String,
    pub params: Vec<(String, String)>,
    pub columns: Vec<String>,
}

/// Parameters a view cannot hold: they page or shape one answer rather than choose records.
const PAGING: &[&str] = &["limit", "cursor", "count", "fields"];

fn known_column(entity: Entity, custom: &[CustomField], name: &str) -> bool {
    if let Some(key) = name.strip_prefix("custom_fields.") {
        return custom.iter().any(|c| c.def.key == key);
    }
    Entity::SYSTEM_FIELDS.contains(&name) || entity.columns().iter().any(|c| c.name == name && !c.kind.is_shadow())
}

/// Checks a view of `entity`: a name, list parameters as the list accepts them (values are
/// strings, or numbers and booleans written as the list reads them), and known columns.
pub fn check(entity: Entity, name: &str, params: &Map<String, Value>, columns: &[String], custom: &[CustomField], region: &str) -> Result<View, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let name = name.trim();
    if name.is_empty() {
        errors.add("name", "required", "a view needs a name");
    } else if name.chars().count() > NAME_MAX {
        errors.add("name", "too_long", format!("must be at most {NAME_MAX} characters"));
    }
    let mut pairs = Vec::with_capacity(params.len());
    for (key, value) in params {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => {
                errors.add(format!("params.{key}"), "not_text", "must be a string, as in the list's query");
                continue;
            }
        };
        if PAGING.contains(&key.as_str()) {
            errors.add(format!("params.{key}"), "not_allowed", "a view chooses records; paging belongs to each request");
            continue;
        }
        pairs.push((key.clone(), text));
    }
    if let Err(e) = query::parse(entity, &pairs, custom, region) {
        for f in e.0 {
            errors.add(format!("params.{}", f.field), &f.code, f.message);
        }
    }
    if columns.len() > COLUMNS_MAX {
        errors.add("columns", "too_many", format!("at most {COLUMNS_MAX} columns"));
    }
    for (i, c) in columns.iter().enumerate() {
        if !known_column(entity, custom, c) {
            errors.add(format!("columns[{i}]"), "unknown_field", format!("{c} is not a field of this record"));
        }
    }
    errors.into_result()?;
    Ok(View { name: name.to_owned(), params: pairs, columns: columns.to_vec() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn a_view_holds_what_the_list_accepts() {
        let v = check(Entity::Deal, "  Мои крупные ", &params(json!({"owner_id": 3, "amount[gte]": "100000", "sort": "-amount"})), &["title".into(), "amount".into()], &[], "RU").unwrap();
        assert_eq!(v.name, "Мои крупные");
        assert_eq!(v.params, [("amount[gte]".to_owned(), "100000".to_owned()), ("owner_id".to_owned(), "3".to_owned()), ("sort".to_owned(), "-amount".to_owned())]);
    }

    #[test]
    fn each_wrong_part_is_named() {
        let e = check(Entity::Contact, " ", &params(json!({"nope": "1", "limit": "5", "tag": ["a"], "sort": "-nope"})), &["last_name".into(), "salary".into()], &[], "RU").unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["name", "params.limit", "params.tag", "params.nope", "params.sort", "columns[1]"]);
    }
}
