//! One row of a file as the input of a record: the cells of mapped columns converted to the
//! API's field values, plus the references written as text that storage resolves (owner by
//! e-mail or name, company by INN or name, stage by name …).
use super::mapping::{self, Kind, Mapped, RefKind};
use super::values;
use crate::entities::Entity;
use crate::error::Invalid;
use serde_json::{Map, Value, json};

/// A problem with one cell, named by its column.
#[derive(Debug, Clone, PartialEq)]
pub struct CellError {
    pub column: usize,
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Built {
    /// The record input, without what references resolve to.
    pub input: Map<String, Value>,
    /// References to resolve, with the column they came from.
    pub refs: Vec<(RefKind, String, usize)>,
    pub external_id: Option<String>,
    /// When the record was created in the system it comes from (local time).
    pub created_at: Option<String>,
    /// `won`, `lost` or `open` from a status column, for choosing a stage.
    pub deal_status: Option<String>,
    pub errors: Vec<CellError>,
}

fn put_once(input: &mut Map<String, Value>, field: &str, v: Value) {
    if !input.contains_key(field) {
        input.insert(field.to_owned(), v);
    }
}

/// Builds the input of one record from its cells; `mapping` has one entry per column.
pub fn build(entity: Entity, mapping: &[Option<Mapped>], cells: &[String]) -> Built {
    let mut b = Built::default();
    // The usual address first, then one per other type, in the order the columns come.
    let mut addresses: Vec<(Option<&str>, Map<String, Value>)> = Vec::new();
    let mut line = Map::new();
    let mut full_name: Option<String> = None;
    for (col, m) in mapping.iter().enumerate() {
        let Some(m) = m else { continue };
        let raw = values::cell(cells.get(col).map_or("", String::as_str));
        if raw.is_empty() {
            continue;
        }
        let target = match m {
            Mapped::Custom(key) => {
                let cf = b.input.entry("custom_fields").or_insert_with(|| json!({}));
                if let Some(o) = cf.as_object_mut() {
                    o.entry(key.clone()).or_insert_with(|| json!(raw));
                }
                continue;
            }
            Mapped::Target(id) => match mapping::target(entity, id) {
                Some(t) => t,
                None => continue,
            },
        };
        let mut fail = |e: Invalid| b.errors.push(CellError { column: col, code: e.code.to_owned(), message: e.message });
        match target.kind {
            Kind::Text(field) => put_once(&mut b.input, field, json!(raw)),
            Kind::Code(key) => put_once(&mut b.input, target.id, json!(mapping::code(key, raw))),
            Kind::Int(field) => match raw.replace([' ', '\u{a0}'], "").parse::<i64>() {
                Ok(n) => put_once(&mut b.input, field, json!(n)),
                Err(_) => fail(Invalid::new("not_a_number", format!("{raw:?} is not a whole number"))),
            },
            Kind::Percent(field) => match values::amount(raw.trim_end_matches('%')) {
                Ok((d, _)) => put_once(&mut b.input, field, json!(d.round().to_string().parse::<i64>().unwrap_or(0))),
                Err(e) => fail(e),
            },
            Kind::Money(field) => match values::amount(raw) {
                Ok((d, currency)) => {
                    put_once(&mut b.input, field, json!(d.to_string()));
                    if let Some(c) = currency {
                        put_once(&mut b.input, "currency", json!(c));
                    }
                }
                Err(e) => fail(e),
            },
            Kind::Currency => {
                b.input.insert("currency".into(), json!(raw.to_uppercase()));
            }
            Kind::Bool(field) => match values::boolean(raw) {
                Ok(v) => put_once(&mut b.input, field, json!(v)),
                Err(e) => fail(e),
            },
            Kind::Date(field) => match values::date(raw) {
                Ok(d) => put_once(&mut b.input, field, json!(d.format("%Y-%m-%d").to_string())),
                Err(e) => fail(e),
            },
            // amoCRM writes «не закрыта» into the closing date of open deals.
            Kind::DateTime(field) => match values::local_datetime(raw) {
                Ok(t) => put_once(&mut b.input, field, json!(t.format("%Y-%m-%dT%H:%M:%S").to_string())),
                Err(_) if field == "closed_at" && values::date(raw).is_err() && !raw.chars().any(|c| c.is_ascii_digit()) => {}
                Err(e) => fail(e),
            },
            Kind::CreatedAt => match values::local_datetime(raw) {
                Ok(t) => b.created_at = Some(t.format("%Y-%m-%dT%H:%M:%S").to_string()),
                Err(e) => fail(e),
            },
            Kind::Email(kind) | Kind::Phone(kind) => {
                let field = if matches!(target.kind, Kind::Email(_)) { "emails" } else { "phones" };
                let list = b.input.entry(field).or_insert_with(|| json!([]));
                if let Some(items) = list.as_array_mut() {
                    for v in values::list_of(raw, field == "emails") {
                        items.push(match kind {
                            Some(k) => json!({ "type": k, "value": v }),
                            None => json!(v),
                        });
                    }
                }
            }
            Kind::Address(kind, part) => {
                let at = match addresses.iter().position(|(k, _)| *k == kind) {
                    Some(i) => i,
                    None => {
                        addresses.push((kind, Map::new()));
                        addresses.len() - 1
                    }
                };
                addresses[at].1.entry(part).or_insert_with(|| json!(raw));
            }
            Kind::FullName => full_name = full_name.or_else(|| Some(raw.to_owned())),
            Kind::Tags => {
                let list = b.input.entry("tags").or_insert_with(|| json!([]));
                if let Some(items) = list.as_array_mut() {
                    for tag in raw.split([';', ',', '\n']).flat_map(|t| t.split(":::")).map(|t| t.trim().trim_start_matches("* ").trim()).filter(|t| !t.is_empty()) {
                        items.push(json!(tag));
                    }
                }
            }
            Kind::Ref(kind) => {
                if !b.refs.iter().any(|(k, ..)| *k == kind) {
                    b.refs.push((kind, raw.to_owned(), col));
                }
            }
            Kind::Line(part) => match values::amount(raw) {
                Ok((d, _)) => {
                    line.entry(part).or_insert_with(|| json!(d.to_string()));
                }
                Err(e) => fail(e),
            },
            Kind::ExternalId => b.external_id = b.external_id.take().or_else(|| Some(raw.to_owned())),
            Kind::DealStatus => b.deal_status = Some(mapping::code("deal.status", raw)),
        }
    }
    if !addresses.is_empty() {
        addresses.sort_by_key(|(kind, _)| kind.is_some());
        let usual = if entity == Entity::Contact { "home" } else { "actual" };
        let list: Vec<Value> = addresses
            .into_iter()
            .map(|(kind, mut a)| {
                a.insert("type".into(), json!(kind.unwrap_or(usual)));
                Value::Object(a)
            })
            .collect();
        b.input.insert("addresses".into(), Value::Array(list));
    }
    if !line.is_empty() && entity == Entity::Deal {
        b.input.insert("items".into(), json!([line]));
    }
    if let Some(name) = full_name {
        split_name(&name, &mut b.input);
    }
    if entity == Entity::Deal && !b.input.contains_key("title") {
        default_title(&mut b);
    }
    b
}

/// A deal without a title column is named as other CRMs list it: company and product, else
/// its id in the system it comes from.
fn default_title(b: &mut Built) {
    let raw = |kind: RefKind| b.refs.iter().find(|(k, ..)| *k == kind).map(|(_, r, _)| r.clone());
    let parts: Vec<String> = [raw(RefKind::Company), raw(RefKind::Contact), raw(RefKind::Product)].into_iter().flatten().collect();
    let title = if parts.is_empty() { b.external_id.clone() } else { Some(parts.join(" — ")) };
    if let Some(t) = title {
        b.input.insert("title".into(), json!(t));
    }
}

/// Fills the name parts a file gave only as one "name" column. Three Cyrillic words ending in
/// a patronymic are «Фамилия Имя Отчество»; otherwise the last word is the last name.
pub fn split_name(full: &str, input: &mut Map<String, Value>) {
    if input.contains_key("first_name") || input.contains_key("last_name") {
        return;
    }
    let words: Vec<&str> = full.split_whitespace().collect();
    let patronymic = |w: &str| ["вич", "вна", "чна", "ична", "оглы", "кызы"].iter().any(|s| w.to_lowercase().ends_with(s));
    match words.as_slice() {
        [] => {}
        [one] => {
            input.insert("first_name".into(), json!(one));
        }
        [last, first, middle] if patronymic(middle) => {
            input.insert("last_name".into(), json!(last));
            input.insert("first_name".into(), json!(first));
            input.insert("middle_name".into(), json!(middle));
        }
        [rest @ .., last] => {
            input.insert("first_name".into(), json!(rest.join(" ")));
            input.insert("last_name".into(), json!(last));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(entity: Entity, ids: &[&str]) -> Vec<Option<Mapped>> {
        ids.iter().map(|s| if s.is_empty() { None } else { Mapped::parse(entity, s) }).collect()
    }

    fn cells(c: &[&str]) -> Vec<String> {
        c.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn addresses_of_several_kinds() {
        let map = m(Entity::Company, &["address.legal.city", "address.city", "address.street", "address.legal.street"]);
        let b = build(Entity::Company, &map, &cells(&["Москва", "Тверь", "ул. Советская, 1", "ул. Ленина, 5"]));
        assert_eq!(
            b.input["addresses"],
            json!([{ "city": "Тверь", "street": "ул. Советская, 1", "type": "actual" }, { "city": "Москва", "street": "ул. Ленина, 5", "type": "legal" }]),
            "the usual address first"
        );
    }

    #[test]
    fn contact_row() {
        let map = m(Entity::Contact, &["full_name", "email.work", "email", "phone.mobile", "address.city", "tags", "company", "owner", "", "cf.vip", "birthday"]);
        let b = build(Entity::Contact, &map, &cells(&["Иванов Пётр Сергеевич", "p@x.ru", r#"[{"value":"q@x.ru"}]"#, "'+7 916 123-45-67", "Москва", "vip; b2b", "ООО Ромашка", "anna@example.com", "ignored", "gold", "05.03.1990"]));
        assert_eq!(b.input["last_name"], "Иванов");
        assert_eq!(b.input["middle_name"], "Сергеевич");
        assert_eq!(b.input["emails"], json!([{ "type": "work", "value": "p@x.ru" }, "q@x.ru"]));
        assert_eq!(b.input["phones"], json!([{ "type": "mobile", "value": "+7 916 123-45-67" }]));
        assert_eq!(b.input["addresses"], json!([{ "city": "Москва", "type": "home" }]));
        assert_eq!(b.input["tags"], json!(["vip", "b2b"]));
        assert_eq!(b.input["custom_fields"], json!({ "vip": "gold" }));
        assert_eq!(b.input["birthday"], "1990-03-05");
        assert_eq!(b.refs, vec![(RefKind::Company, "ООО Ромашка".into(), 6), (RefKind::Owner, "anna@example.com".into(), 7)]);
        assert!(b.errors.is_empty());
    }

    #[test]
    fn deal_row_with_a_line_and_bad_cells() {
        let map = m(Entity::Deal, &["title", "amount", "product", "quantity", "unit_price", "closed_at", "created_at", "expected_close_date"]);
        let b = build(Entity::Deal, &map, &cells(&["Поставка", "$1,200", "GTX Pro", "2", "550.5", "не закрыта", "2024-01-05 10:00", "31.02.2024"]));
        assert_eq!(b.input["amount"], "1200");
        assert_eq!(b.input["currency"], "USD");
        assert_eq!(b.input["items"], json!([{ "quantity": "2", "price": "550.5" }]));
        assert!(!b.input.contains_key("closed_at"), "«не закрыта» is an open deal");
        assert_eq!(b.created_at.as_deref(), Some("2024-01-05T10:00:00"));
        assert_eq!(b.errors.len(), 1);
        assert_eq!((b.errors[0].column, b.errors[0].code.as_str()), (7, "not_a_date"));
        let untitled = build(Entity::Deal, &m(Entity::Deal, &["external_id", "company", "product"]), &cells(&["1C1I7A6R", "Cancity", "GTX Basic"]));
        assert_eq!(untitled.input["title"], "Cancity — GTX Basic");
        let bare = build(Entity::Deal, &m(Entity::Deal, &["external_id", "amount"]), &cells(&["1C1I7A6R", "10"]));
        assert_eq!(bare.input["title"], "1C1I7A6R");
    }

    #[test]
    fn names() {
        let mut i = Map::new();
        split_name("John Ronald Tolkien", &mut i);
        assert_eq!((i["first_name"].as_str(), i["last_name"].as_str()), (Some("John Ronald"), Some("Tolkien")));
    }
}
