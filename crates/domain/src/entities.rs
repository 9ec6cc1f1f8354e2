//! The record catalogue: each entity's stored columns, the filters it offers, and the rules
//! that turn a client's JSON into normalized values (contacts and companies here, the sales
//! records in [`crate::sales`]). Storage and HTTP are generic over [`Entity`].
use crate::custom_fields::{self, CleanValue, FieldDefinition};
use crate::error::{Invalid, ValidationErrors};
use crate::{email, phone, ru_ids, sales, text};
use chrono::{NaiveDate, SecondsFormat};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    Contact,
    Company,
    Product,
    Deal,
    Lead,
    Activity,
    Task,
}

impl Entity {
    pub const ALL: [Entity; 7] = [Entity::Contact, Entity::Company, Entity::Product, Entity::Deal, Entity::Lead, Entity::Activity, Entity::Task];
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Contact => "contact",
            Entity::Company => "company",
            Entity::Product => "product",
            Entity::Deal => "deal",
            Entity::Lead => "lead",
            Entity::Activity => "activity",
            Entity::Task => "task",
        }
    }
    /// The collection's name in URLs: `/api/v1/{path}`.
    pub fn path(self) -> &'static str {
        self.table()
    }
    /// Whether a write is refused (409) when another record shares an identifier.
    pub fn checks_duplicates(self) -> bool {
        matches!(self, Entity::Contact | Entity::Company | Entity::Product)
    }
    /// Whether the global search finds this entity's records.
    pub fn searchable(self) -> bool {
        !matches!(self, Entity::Activity | Entity::Task)
    }
    pub fn parse(s: &str) -> Option<Entity> {
        Entity::ALL.into_iter().find(|e| e.as_str() == s)
    }
    /// A kind named by its collection (`contacts`) or by one of it (`contact`), as requests
    /// and commands name them.
    pub fn named(s: &str) -> Result<Entity, crate::ValidationErrors> {
        Entity::ALL.into_iter().find(|e| e.path() == s || e.as_str() == s).ok_or_else(|| crate::ValidationErrors::single("entity", "unknown_value", "must be contacts, companies, products, deals, leads, activities or tasks"))
    }
    pub fn table(self) -> &'static str {
        match self {
            Entity::Contact => "contacts",
            Entity::Company => "companies",
            Entity::Product => "products",
            Entity::Deal => "deals",
            Entity::Lead => "leads",
            Entity::Activity => "activities",
            Entity::Task => "tasks",
        }
    }
    pub fn columns(self) -> &'static [Column] {
        match self {
            Entity::Contact => CONTACT_COLUMNS,
            Entity::Company => COMPANY_COLUMNS,
            Entity::Product => sales::PRODUCT_COLUMNS,
            Entity::Deal => sales::DEAL_COLUMNS,
            Entity::Lead => sales::LEAD_COLUMNS,
            Entity::Activity => sales::ACTIVITY_COLUMNS,
            Entity::Task => sales::TASK_COLUMNS,
        }
    }
    pub fn filters(self) -> &'static [Filterable] {
        match self {
            Entity::Contact => CONTACT_FILTERS,
            Entity::Company => COMPANY_FILTERS,
            Entity::Product => sales::PRODUCT_FILTERS,
            Entity::Deal => sales::DEAL_FILTERS,
            Entity::Lead => sales::LEAD_FILTERS,
            Entity::Activity => sales::ACTIVITY_FILTERS,
            Entity::Task => sales::TASK_FILTERS,
        }
    }
    /// Fields every record of every entity has, maintained by storage, never by the client.
    pub const SYSTEM_FIELDS: [&'static str; 9] = ["id", "version", "owner_id", "created_at", "created_by", "updated_at", "updated_by", "deleted_at", "deleted_by"];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColKind {
    Text,
    Int,
    Bool,
    Json,
    /// Milliseconds since the epoch, shown as RFC 3339.
    Timestamp,
    /// Stored to filter or sort by, never shown: text…
    Shadow,
    /// …or an integer.
    ShadowInt,
}

impl ColKind {
    pub fn is_shadow(self) -> bool {
        matches!(self, ColKind::Shadow | ColKind::ShadowInt)
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub kind: ColKind,
    /// False for values the rules derive (a deal's status from its stage): shown, never
    /// taken from a client, and recomputed from the record's previous state on each write.
    pub writable: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterKind {
    /// Exact text: eq, ne, in, empty.
    Text,
    /// Text with a lower-cased shadow column: also contains; sorts case-insensitively.
    Folded,
    /// Integers and references: eq, ne, in, range, empty.
    Int,
    Bool,
    /// `YYYY-MM-DD` text: eq, range, empty.
    Date,
    /// Stored as milliseconds since the epoch, written as RFC 3339: range, empty.
    Timestamp,
    /// Exact-point decimal stored scaled by 10^4 (see custom_fields::NUM_SCALE).
    Decimal,
}

#[derive(Debug, Clone, Copy)]
pub struct Filterable {
    pub name: &'static str,
    pub column: &'static str,
    pub kind: FilterKind,
}

pub(crate) const fn col(name: &'static str, kind: ColKind) -> Column {
    Column { name, kind, writable: true }
}
pub(crate) const fn derived(name: &'static str, kind: ColKind) -> Column {
    Column { name, kind, writable: false }
}
pub(crate) const fn filt(name: &'static str, column: &'static str, kind: FilterKind) -> Filterable {
    Filterable { name, column, kind }
}

pub const SYSTEM_FILTERS: &[Filterable] = &[
    filt("id", "id", FilterKind::Int),
    filt("owner_id", "owner_id", FilterKind::Int),
    filt("created_at", "created_at", FilterKind::Timestamp),
    filt("updated_at", "updated_at", FilterKind::Timestamp),
    filt("created_by", "created_by", FilterKind::Int),
    filt("updated_by", "updated_by", FilterKind::Int),
];

const CONTACT_COLUMNS: &[Column] = &[
    col("last_name", ColKind::Text),
    col("first_name", ColKind::Text),
    col("middle_name", ColKind::Text),
    col("position", ColKind::Text),
    col("primary_company_id", ColKind::Int),
    col("company_ids", ColKind::Json),
    col("emails", ColKind::Json),
    col("phones", ColKind::Json),
    col("addresses", ColKind::Json),
    col("birthday", ColKind::Text),
    col("source", ColKind::Text),
    col("description", ColKind::Text),
    col("marketing_consent", ColKind::Json),
    col("tags", ColKind::Json),
    col("custom_fields", ColKind::Json),
    col("last_name_f", ColKind::Shadow),
    col("first_name_f", ColKind::Shadow),
    col("middle_name_f", ColKind::Shadow),
    col("position_f", ColKind::Shadow),
    col("consent_given", ColKind::Shadow),
    derived("display_name", ColKind::Text),
];

const CONTACT_FILTERS: &[Filterable] = &[
    filt("last_name", "last_name_f", FilterKind::Folded),
    filt("first_name", "first_name_f", FilterKind::Folded),
    filt("middle_name", "middle_name_f", FilterKind::Folded),
    filt("position", "position_f", FilterKind::Folded),
    filt("primary_company_id", "primary_company_id", FilterKind::Int),
    filt("birthday", "birthday", FilterKind::Date),
    filt("source", "source", FilterKind::Text),
    filt("marketing_consent", "consent_given", FilterKind::Bool),
];

const COMPANY_COLUMNS: &[Column] = &[
    col("name", ColKind::Text),
    col("legal_name", ColKind::Text),
    col("kind", ColKind::Text),
    col("inn", ColKind::Text),
    col("kpp", ColKind::Text),
    col("ogrn", ColKind::Text),
    col("bank", ColKind::Json),
    col("website", ColKind::Text),
    col("domain", ColKind::Text),
    col("industry", ColKind::Text),
    col("employees", ColKind::Int),
    col("annual_revenue", ColKind::Json),
    col("emails", ColKind::Json),
    col("phones", ColKind::Json),
    col("addresses", ColKind::Json),
    col("description", ColKind::Text),
    col("tags", ColKind::Json),
    col("custom_fields", ColKind::Json),
    col("name_f", ColKind::Shadow),
    col("legal_name_f", ColKind::Shadow),
    col("industry_f", ColKind::Shadow),
    col("annual_revenue_num", ColKind::Shadow),
    derived("display_name", ColKind::Text),
];

const COMPANY_FILTERS: &[Filterable] = &[
    filt("name", "name_f", FilterKind::Folded),
    filt("legal_name", "legal_name_f", FilterKind::Folded),
    filt("kind", "kind", FilterKind::Text),
    filt("inn", "inn", FilterKind::Text),
    filt("kpp", "kpp", FilterKind::Text),
    filt("ogrn", "ogrn", FilterKind::Text),
    filt("domain", "domain", FilterKind::Text),
    filt("industry", "industry_f", FilterKind::Folded),
    filt("employees", "employees", FilterKind::Int),
    filt("annual_revenue", "annual_revenue_num", FilterKind::Decimal),
];

/// A value for one stored column.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Text(String),
    Int(i64),
}

/// Identifiers that make two records the same real-world party.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    Email,
    Phone,
    Inn,
    /// A product's article.
    Sku,
    /// A contact's link to a company (primary or other). Not an identity: never a duplicate.
    Company,
    /// A deal's link to a contact. Not an identity.
    Contact,
}

impl KeyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Email => "email",
            KeyKind::Phone => "phone",
            KeyKind::Inn => "inn",
            KeyKind::Sku => "sku",
            KeyKind::Company => "company",
            KeyKind::Contact => "contact",
        }
    }

    pub fn identifies(self) -> bool {
        !matches!(self, KeyKind::Company | KeyKind::Contact)
    }
}

/// What the write path needs beyond the columns themselves.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Prepared {
    pub cells: Vec<(&'static str, Cell)>,
    pub keys: Vec<(KeyKind, String)>,
    pub tags: Vec<String>,
    pub custom: Vec<(String, CleanValue)>,
    pub search_text: String,
    /// Records and users this record points to, to be checked for existence and visibility.
    pub refs: Vec<Ref>,
    pub owner_id: Option<i64>,
}

/// A reference from an input field (`company_id`, `contacts[1].contact_id`) to something
/// that must exist and be visible to the writer.
#[derive(Debug, Clone, PartialEq)]
pub struct Ref {
    pub field: String,
    pub target: RefTarget,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RefTarget {
    Record(Entity, i64),
    /// An active member of the workspace.
    User(i64),
}

impl Ref {
    pub fn record(field: impl Into<String>, entity: Entity, id: i64) -> Ref {
        Ref { field: field.into(), target: RefTarget::Record(entity, id) }
    }
    /// Whether the id was already in the record before this write: a link that existed is
    /// not checked again, so a record stays editable when something it points to is later
    /// hidden from the writer or purged.
    pub fn existed_in(&self, before: Option<&Map<String, Value>>) -> bool {
        let id = match self.target {
            RefTarget::Record(_, id) | RefTarget::User(id) => id,
        };
        let top = self.field.split(['[', '.']).next().unwrap_or_default();
        before.and_then(|b| b.get(top)).is_some_and(|v| contains_id(v, id))
    }
}

fn contains_id(v: &Value, id: i64) -> bool {
    match v {
        Value::Number(n) => n.as_i64() == Some(id),
        Value::Array(items) => items.iter().any(|i| contains_id(i, id)),
        Value::Object(o) => o.values().any(|i| contains_id(i, id)),
        _ => false,
    }
}

/// What the rules need besides the input itself.
pub struct Context<'a> {
    pub region: &'a str,
    pub custom_fields: &'a [FieldDefinition],
    /// Pipelines, lost reasons, VAT rates and currency of the workspace.
    pub sales: &'a crate::sales::Config,
    /// The time zone of the record's owner: local date-times without an offset are theirs.
    pub time_zone: chrono_tz::Tz,
    /// The record as it is now (None when creating): derived values follow from the change.
    pub before: Option<&'a Map<String, Value>>,
    pub now_ms: i64,
}

impl<'a> Context<'a> {
    /// A context without sales configuration or history: contacts and companies derive
    /// nothing from them.
    pub fn basic(region: &'a str, custom_fields: &'a [FieldDefinition]) -> Context<'a> {
        Context { region, custom_fields, sales: crate::sales::Config::empty(), time_zone: chrono_tz::Europe::Moscow, before: None, now_ms: 0 }
    }
}

/// Reads and checks an input object field by field, collecting every problem.
pub(crate) struct Reader<'a> {
    pub(crate) obj: &'a Map<String, Value>,
    pub(crate) errors: ValidationErrors,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(obj: &'a Map<String, Value>) -> Reader<'a> {
        Reader { obj, errors: ValidationErrors::new() }
    }
    pub(crate) fn get(&self, key: &str) -> &'a Value {
        self.obj.get(key).unwrap_or(&Value::Null)
    }

    /// A single-line text of at most `max` characters.
    pub(crate) fn text(&mut self, key: &str, max: usize) -> Option<String> {
        self.any_text(key, max, true)
    }

    pub(crate) fn long_text(&mut self, key: &str) -> Option<String> {
        self.any_text(key, text::LONG_TEXT_MAX, false)
    }

    pub(crate) fn any_text(&mut self, key: &str, max: usize, one_line: bool) -> Option<String> {
        match self.get(key) {
            Value::Null => None,
            Value::String(s) => self.errors.check(key, if one_line { text::line(s, max) } else { text::clean(s, max) }).flatten(),
            _ => {
                self.errors.add(key, "not_a_string", "must be a string");
                None
            }
        }
    }

    pub(crate) fn id(&mut self, key: &str) -> Option<i64> {
        match self.get(key) {
            Value::Null => None,
            v => {
                let id = v.as_i64().filter(|i| *i > 0);
                if id.is_none() {
                    self.errors.add(key, "not_an_id", "must be a positive integer id");
                }
                id
            }
        }
    }

    pub(crate) fn list(&mut self, key: &str, max: usize) -> Vec<&'a Value> {
        match self.get(key) {
            Value::Null => Vec::new(),
            Value::Array(items) if items.len() <= max => items.iter().collect(),
            Value::Array(_) => {
                self.errors.add(key, "too_many", format!("at most {max} items"));
                Vec::new()
            }
            _ => {
                self.errors.add(key, "not_a_list", "must be a list");
                Vec::new()
            }
        }
    }

    pub(crate) fn object(&mut self, key: &str) -> Option<&'a Map<String, Value>> {
        match self.get(key) {
            Value::Null => None,
            Value::Object(o) => Some(o),
            _ => {
                self.errors.add(key, "not_an_object", "must be an object");
                None
            }
        }
    }

    pub(crate) fn typed_list(&mut self, key: &str, types: &[&str], mut clean: impl FnMut(&str) -> Result<Value, Invalid>) -> Vec<Value> {
        let mut out = Vec::new();
        for (i, item) in self.list(key, 50).into_iter().enumerate() {
            let path = format!("{key}[{i}]");
            let (raw, kind) = match item {
                Value::String(s) => (Some(s.as_str()), types[0]),
                Value::Object(o) => {
                    let raw = o.get("value").or_else(|| o.get("original")).and_then(Value::as_str);
                    let kind = o.get("type").and_then(Value::as_str).unwrap_or(types[0]);
                    (raw, kind)
                }
                _ => (None, types[0]),
            };
            if !types.contains(&kind) {
                self.errors.add(format!("{path}.type"), "unknown_type", format!("must be one of: {}", types.join(", ")));
                continue;
            }
            match raw {
                None => self.errors.add(format!("{path}.value"), "required", "is required"),
                Some(raw) => match clean(raw) {
                    Ok(mut v) => {
                        v["type"] = json!(kind);
                        out.push(v);
                    }
                    Err(e) => self.errors.add(format!("{path}.value"), e.code, e.message),
                },
            }
        }
        out
    }

    pub(crate) fn emails(&mut self, keys: &mut Vec<(KeyKind, String)>) -> Value {
        let list = self.typed_list("emails", &["work", "personal", "other"], |raw| email::normalize(raw).map(|e| json!({ "value": e })));
        for e in &list {
            if let Some(v) = e["value"].as_str() {
                keys.push((KeyKind::Email, text::fold(v)));
            }
        }
        Value::Array(list)
    }

    pub(crate) fn phones(&mut self, region: &str, keys: &mut Vec<(KeyKind, String)>) -> Value {
        let list = self.typed_list("phones", &["mobile", "work", "home", "fax", "other"], |raw| {
            let original = text::short(raw)?.unwrap_or_default();
            phone::parse(&original, region).map(|p| json!({ "original": original, "e164": p.e164, "extension": p.extension }))
        });
        for p in &list {
            if let Some(v) = p["e164"].as_str() {
                keys.push((KeyKind::Phone, v.to_owned()));
            }
        }
        Value::Array(list)
    }

    pub(crate) fn addresses(&mut self) -> Value {
        const PARTS: [&str; 6] = ["country", "region", "city", "street", "postal_code", "text"];
        const TYPES: [&str; 6] = ["legal", "postal", "actual", "home", "work", "other"];
        let mut out = Vec::new();
        for (i, item) in self.list("addresses", 20).into_iter().enumerate() {
            let path = format!("addresses[{i}]");
            let Some(o) = item.as_object() else {
                self.errors.add(path, "not_an_object", "must be an object");
                continue;
            };
            let mut clean = Map::new();
            for (k, v) in o {
                if k == "type" {
                    match v.as_str().filter(|t| TYPES.contains(t)) {
                        Some(t) => clean.insert(k.clone(), json!(t)),
                        None => {
                            self.errors.add(format!("{path}.type"), "unknown_type", format!("must be one of: {}", TYPES.join(", ")));
                            None
                        }
                    };
                } else if PARTS.contains(&k.as_str()) {
                    match v.as_str().map(text::short) {
                        Some(Ok(Some(s))) => {
                            clean.insert(k.clone(), json!(s));
                        }
                        Some(Ok(None)) => {}
                        Some(Err(e)) => self.errors.add(format!("{path}.{k}"), e.code, e.message),
                        None if v.is_null() => {}
                        None => self.errors.add(format!("{path}.{k}"), "not_a_string", "must be a string"),
                    }
                } else {
                    self.errors.add(format!("{path}.{k}"), "unknown_field", "is not an address part");
                }
            }
            clean.entry("type").or_insert(json!("postal"));
            out.push(Value::Object(clean));
        }
        Value::Array(out)
    }

    pub(crate) fn tags(&mut self) -> Vec<String> {
        let mut tags: Vec<String> = Vec::new();
        for (i, t) in self.list("tags", 100).into_iter().enumerate() {
            let cleaned = t.as_str().ok_or_else(|| Invalid::new("not_a_string", "must be a string")).and_then(|s| text::line(s, 100));
            if let Some(Some(tag)) = self.errors.check(&format!("tags[{i}]"), cleaned) {
                let tag = text::fold(&tag);
                if !tags.contains(&tag) {
                    tags.push(tag);
                }
            }
        }
        tags
    }

    pub(crate) fn custom(&mut self, ctx: &Context) -> (Value, Vec<(String, CleanValue)>) {
        let given = self.object("custom_fields").cloned().unwrap_or_default();
        for key in given.keys() {
            if !ctx.custom_fields.iter().any(|d| &d.key == key) {
                self.errors.add(format!("custom_fields.{key}"), "unknown_field", "no such custom field");
            }
        }
        let mut json = Map::new();
        let mut clean = Vec::new();
        for def in ctx.custom_fields {
            let v = given.get(&def.key).unwrap_or(&Value::Null);
            if let Some(Some(c)) = self.errors.check(&format!("custom_fields.{}", def.key), def.clean(v, ctx.region)) {
                json.insert(def.key.clone(), c.json.clone());
                clean.push((def.key.clone(), c));
            }
        }
        (Value::Object(json), clean)
    }

    /// One of a fixed list of codes; `default` when absent.
    pub(crate) fn one_of(&mut self, key: &str, allowed: &[&str], default: Option<&str>) -> Option<String> {
        match self.get(key) {
            Value::Null => default.map(str::to_owned),
            Value::String(s) if allowed.contains(&s.as_str()) => Some(s.clone()),
            _ => {
                self.errors.add(key, "unknown_value", format!("must be one of: {}", allowed.join(", ")));
                None
            }
        }
    }

    pub(crate) fn bool(&mut self, key: &str) -> Option<bool> {
        match self.get(key) {
            Value::Null => None,
            Value::Bool(b) => Some(*b),
            _ => {
                self.errors.add(key, "not_a_boolean", "must be true or false");
                None
            }
        }
    }

    /// A whole number within `range`.
    pub(crate) fn int(&mut self, key: &str, range: std::ops::RangeInclusive<i64>) -> Option<i64> {
        match self.get(key) {
            Value::Null => None,
            v => {
                let n = v.as_i64().filter(|n| range.contains(n));
                if n.is_none() {
                    self.errors.add(key, "out_of_range", format!("must be a whole number from {} to {}", range.start(), range.end()));
                }
                n
            }
        }
    }

    /// A decimal given as a string ("1500.50") or a number, at most 4 decimal places.
    pub(crate) fn decimal(&mut self, key: &str, min: rust_decimal::Decimal, max: rust_decimal::Decimal) -> Option<rust_decimal::Decimal> {
        match self.get(key) {
            Value::Null => None,
            v => {
                let d = self.errors.check(key, custom_fields::parse_decimal(v))?;
                if d < min || d > max {
                    self.errors.add(key, "out_of_range", format!("must be from {min} to {max}"));
                    return None;
                }
                self.errors.check(key, custom_fields::scale_decimal(d)).map(|_| d.normalize())
            }
        }
    }

    /// A moment: RFC 3339 with an offset, or a local date-time (`2026-11-23T10:00`) in
    /// the owner's time zone. Milliseconds since the epoch.
    pub(crate) fn timestamp(&mut self, key: &str, tz: chrono_tz::Tz) -> Option<i64> {
        match self.get(key) {
            Value::Null => None,
            Value::String(s) => self.errors.check(key, parse_moment(s, tz)),
            _ => {
                self.errors.add(key, "not_a_datetime", "must be a date-time like 2026-11-23T10:00:00+03:00");
                None
            }
        }
    }

    pub(crate) fn reject_unknown(&mut self, allowed: &[&str]) {
        for key in self.obj.keys() {
            if !allowed.contains(&key.as_str()) && !Entity::SYSTEM_FIELDS.contains(&key.as_str()) {
                self.errors.add(key.clone(), "unknown_field", "is not a field of this record");
            }
        }
    }
}

pub(crate) fn opt_text(v: Option<String>) -> Cell {
    v.map_or(Cell::Null, Cell::Text)
}
pub(crate) fn folded(v: &Option<String>) -> Cell {
    v.as_deref().map_or(Cell::Null, |s| Cell::Text(text::fold(s)))
}

pub(crate) fn search_text(parts: &[&Option<String>], keys: &[(KeyKind, String)], tags: &[String]) -> String {
    let mut words: Vec<String> = parts.iter().filter_map(|p| p.as_deref()).map(text::fold).collect();
    for (kind, value) in keys {
        match kind {
            KeyKind::Phone => words.extend(phone::search_forms(value)),
            KeyKind::Email => {
                words.push(value.clone());
                words.push(value.replace(['@', '.', '-', '_', '+'], " "));
            }
            KeyKind::Inn | KeyKind::Sku => words.push(value.clone()),
            KeyKind::Company | KeyKind::Contact => {}
        }
    }
    words.extend(tags.iter().cloned());
    words.join(" ")
}

pub fn prepare(entity: Entity, input: &Map<String, Value>, ctx: &Context) -> Result<Prepared, ValidationErrors> {
    match entity {
        Entity::Contact => prepare_contact(input, ctx),
        Entity::Company => prepare_company(input, ctx),
        Entity::Product => sales::prepare_product(input, ctx),
        Entity::Deal => sales::prepare_deal(input, ctx),
        Entity::Lead => sales::prepare_lead(input, ctx),
        Entity::Activity => sales::prepare_activity(input, ctx),
        Entity::Task => sales::prepare_task(input, ctx),
    }
}

fn prepare_contact(input: &Map<String, Value>, ctx: &Context) -> Result<Prepared, ValidationErrors> {
    let mut r = Reader::new(input);
    r.reject_unknown(&["last_name", "first_name", "middle_name", "position", "primary_company_id", "company_ids", "emails", "phones", "addresses", "birthday", "source", "description", "marketing_consent", "tags", "custom_fields"]);
    let last = r.text("last_name", 200);
    let first = r.text("first_name", 200);
    let middle = r.text("middle_name", 200);
    if last.is_none() && first.is_none() && !r.errors.0.iter().any(|e| e.field.ends_with("_name")) {
        r.errors.add("last_name", "required", "a contact needs a last name or a first name");
    }
    let position = r.text("position", 300);
    let primary_company = r.id("primary_company_id");
    let mut refs: Vec<Ref> = primary_company.map(|id| Ref::record("primary_company_id", Entity::Company, id)).into_iter().collect();
    let mut company_ids: Vec<i64> = Vec::new();
    for (i, v) in r.list("company_ids", 50).into_iter().enumerate() {
        match v.as_i64().filter(|i| *i > 0) {
            Some(id) if !company_ids.contains(&id) && Some(id) != primary_company => {
                company_ids.push(id);
                refs.push(Ref::record(format!("company_ids[{i}]"), Entity::Company, id));
            }
            Some(_) => {}
            None => r.errors.add(format!("company_ids[{i}]"), "not_an_id", "must be a company id"),
        }
    }
    let mut keys: Vec<(KeyKind, String)> = primary_company.into_iter().chain(company_ids.iter().copied()).map(|id| (KeyKind::Company, id.to_string())).collect();
    let emails = r.emails(&mut keys);
    let phones = r.phones(ctx.region, &mut keys);
    let addresses = r.addresses();
    let birthday = match r.get("birthday") {
        Value::Null => None,
        Value::String(s) => r.errors.check("birthday", custom_fields::parse_date(s).and_then(plausible_birthday)),
        _ => {
            r.errors.add("birthday", "not_a_date", "must be a date YYYY-MM-DD");
            None
        }
    };
    let source = r.text("source", 200);
    let description = r.long_text("description");
    let consent = consent(&mut r);
    let tags = r.tags();
    let (custom_json, custom) = r.custom(ctx);
    let owner_id = r.id("owner_id");
    r.errors.clone().into_result()?;

    let display = [&last, &first, &middle].iter().filter_map(|p| p.as_deref()).collect::<Vec<_>>().join(" ");
    let search = search_text(&[&last, &first, &middle, &position], &keys, &tags);
    let consent_given = consent["given"].as_bool().unwrap_or(false);
    Ok(Prepared {
        cells: vec![
            ("last_name_f", folded(&last)),
            ("first_name_f", folded(&first)),
            ("middle_name_f", folded(&middle)),
            ("position_f", folded(&position)),
            ("last_name", opt_text(last)),
            ("first_name", opt_text(first)),
            ("middle_name", opt_text(middle)),
            ("position", opt_text(position)),
            ("primary_company_id", primary_company.map_or(Cell::Null, Cell::Int)),
            ("company_ids", Cell::Text(json!(company_ids).to_string())),
            ("emails", Cell::Text(emails.to_string())),
            ("phones", Cell::Text(phones.to_string())),
            ("addresses", Cell::Text(addresses.to_string())),
            ("birthday", birthday.map_or(Cell::Null, |d| Cell::Text(d.format("%Y-%m-%d").to_string()))),
            ("source", opt_text(source)),
            ("description", opt_text(description)),
            ("marketing_consent", Cell::Text(consent.to_string())),
            ("consent_given", Cell::Int(i64::from(consent_given))),
            ("tags", Cell::Text(json!(tags).to_string())),
            ("custom_fields", Cell::Text(custom_json.to_string())),
            ("display_name", Cell::Text(display)),
        ],
        keys,
        tags,
        custom,
        search_text: search,
        refs,
        owner_id,
    })
}

/// RFC 3339, or a local date-time without offset read in `tz` (the earlier of two
/// readings in an autumn clock change; a time skipped in spring is refused).
pub fn parse_moment(s: &str, tz: chrono_tz::Tz) -> Result<i64, Invalid> {
    use chrono::TimeZone;
    let s = s.trim();
    if let Ok(t) = custom_fields::parse_datetime(s) {
        return Ok(t.timestamp_millis());
    }
    let local = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"].iter().find_map(|f| chrono::NaiveDateTime::parse_from_str(s, f).ok());
    let local = local.ok_or_else(|| Invalid::new("not_a_datetime", "must be a date-time like 2026-11-23T10:00:00+03:00, or local time 2026-11-23T10:00"))?;
    tz.from_local_datetime(&local).earliest().map(|t| t.timestamp_millis()).ok_or_else(|| Invalid::new("nonexistent_time", "this local time does not exist in the owner's time zone"))
}

fn plausible_birthday(d: NaiveDate) -> Result<NaiveDate, Invalid> {
    let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default();
    if d < earliest || d > chrono::Utc::now().date_naive() {
        return Err(Invalid::new("out_of_range", "must be between 1900-01-01 and today"));
    }
    Ok(d)
}

/// Marketing consent under 152-FZ and GDPR: whether it was given, when and how.
fn consent(r: &mut Reader) -> Value {
    let Some(o) = r.object("marketing_consent") else { return json!({ "given": false }) };
    let given = match o.get("given") {
        Some(Value::Bool(b)) => *b,
        None | Some(Value::Null) => false,
        Some(_) => {
            r.errors.add("marketing_consent.given", "not_a_boolean", "must be true or false");
            false
        }
    };
    let at = match o.get("at") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => r.errors.check("marketing_consent.at", custom_fields::parse_datetime(s)).map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true)),
        Some(_) => {
            r.errors.add("marketing_consent.at", "not_a_datetime", "must be an RFC 3339 date-time");
            None
        }
    };
    let method = match o.get("method") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => r.errors.check("marketing_consent.method", text::short(s)).flatten(),
        Some(_) => {
            r.errors.add("marketing_consent.method", "not_a_string", "must be a string");
            None
        }
    };
    for k in o.keys() {
        if !["given", "at", "method"].contains(&k.as_str()) {
            r.errors.add(format!("marketing_consent.{k}"), "unknown_field", "is not part of a consent");
        }
    }
    if given && at.is_none() {
        r.errors.add("marketing_consent.at", "required", "when consent was given is required");
    }
    json!({ "given": given, "at": at, "method": method })
}

pub const COMPANY_KINDS: [&str; 3] = ["legal_entity", "sole_proprietor", "other"];

fn prepare_company(input: &Map<String, Value>, ctx: &Context) -> Result<Prepared, ValidationErrors> {
    let mut r = Reader::new(input);
    r.reject_unknown(&["name", "legal_name", "kind", "inn", "kpp", "ogrn", "bank", "website", "domain", "industry", "employees", "annual_revenue", "emails", "phones", "addresses", "description", "tags", "custom_fields"]);
    let name = r.text("name", 300);
    if name.is_none() && !r.errors.0.iter().any(|e| e.field == "name") {
        r.errors.add("name", "required", "is required");
    }
    let legal_name = r.text("legal_name", 500);
    let kind = r.text("kind", 50).unwrap_or_else(|| "legal_entity".to_owned());
    if !COMPANY_KINDS.contains(&kind.as_str()) {
        r.errors.add("kind", "unknown_kind", format!("must be one of: {}", COMPANY_KINDS.join(", ")));
    }
    let sole = kind == "sole_proprietor";
    let inn = r.text("inn", 20);
    if let Some(v) = &inn {
        let check = match kind.as_str() {
            "sole_proprietor" => ru_ids::inn12(v),
            "legal_entity" => ru_ids::inn10(v),
            _ => ru_ids::inn(v),
        };
        r.errors.check("inn", check);
    }
    let kpp = r.text("kpp", 20);
    if let Some(v) = &kpp {
        if sole {
            r.errors.add("kpp", "not_applicable", "a sole proprietor has no KPP");
        } else {
            r.errors.check("kpp", ru_ids::kpp(v));
        }
    }
    let ogrn = r.text("ogrn", 20);
    if let Some(v) = &ogrn {
        r.errors.check("ogrn", if sole { ru_ids::ogrnip(v) } else { ru_ids::ogrn(v) });
    }
    let bank = bank(&mut r);
    let website = match r.text("website", 2000) {
        Some(w) => {
            let w = if w.contains("://") { w } else { format!("https://{w}") };
            r.errors.check("website", custom_fields::validate_url(&w))
        }
        None => None,
    };
    let domain = r.text("domain", 253).or_else(|| website.as_deref().and_then(domain_of_url));
    let domain = domain.and_then(|d| match normalized_domain(&d) {
        Some(d) => Some(d),
        None => {
            r.errors.add("domain", "invalid_domain", "is not a valid domain");
            None
        }
    });
    let industry = r.text("industry", 200);
    let employees = match r.get("employees") {
        Value::Null => None,
        v => {
            let n = v.as_i64().filter(|n| (0..=100_000_000).contains(n));
            if n.is_none() {
                r.errors.add("employees", "out_of_range", "must be a whole number from 0 to 100000000");
            }
            n
        }
    };
    let revenue = match r.object("annual_revenue") {
        None => None,
        Some(o) => {
            let amount = r.errors.check("annual_revenue.amount", custom_fields::parse_decimal(o.get("amount").unwrap_or(&Value::Null)));
            let currency = r.errors.check("annual_revenue.currency", custom_fields::currency(o.get("currency").and_then(Value::as_str).unwrap_or_default()));
            match (amount, currency) {
                (Some(a), Some(_)) if a.is_sign_negative() => {
                    r.errors.add("annual_revenue.amount", "out_of_range", "must not be negative");
                    None
                }
                (Some(a), Some(c)) => r.errors.check("annual_revenue.amount", custom_fields::scale_decimal(a)).map(|scaled| (json!({"amount": a.normalize().to_string(), "currency": c}), scaled)),
                _ => None,
            }
        }
    };
    let mut keys = Vec::new();
    let emails = r.emails(&mut keys);
    let phones = r.phones(ctx.region, &mut keys);
    if let Some(v) = &inn {
        keys.push((KeyKind::Inn, v.clone()));
    }
    let addresses = r.addresses();
    let description = r.long_text("description");
    let tags = r.tags();
    let (custom_json, custom) = r.custom(ctx);
    let owner_id = r.id("owner_id");
    r.errors.clone().into_result()?;

    let search = search_text(&[&name, &legal_name, &domain, &industry, &ogrn], &keys, &tags);
    let display = name.clone().unwrap_or_default();
    let (revenue_json, revenue_num) = revenue.map_or((Cell::Null, Cell::Null), |(j, n)| (Cell::Text(j.to_string()), Cell::Int(n)));
    Ok(Prepared {
        cells: vec![
            ("name_f", folded(&name)),
            ("legal_name_f", folded(&legal_name)),
            ("industry_f", folded(&industry)),
            ("name", opt_text(name)),
            ("legal_name", opt_text(legal_name)),
            ("kind", Cell::Text(kind)),
            ("inn", opt_text(inn)),
            ("kpp", opt_text(kpp)),
            ("ogrn", opt_text(ogrn)),
            ("bank", bank.map_or(Cell::Null, |b| Cell::Text(b.to_string()))),
            ("website", opt_text(website)),
            ("domain", opt_text(domain)),
            ("industry", opt_text(industry)),
            ("employees", employees.map_or(Cell::Null, Cell::Int)),
            ("annual_revenue", revenue_json),
            ("annual_revenue_num", revenue_num),
            ("emails", Cell::Text(emails.to_string())),
            ("phones", Cell::Text(phones.to_string())),
            ("addresses", Cell::Text(addresses.to_string())),
            ("description", opt_text(description)),
            ("tags", Cell::Text(json!(tags).to_string())),
            ("custom_fields", Cell::Text(custom_json.to_string())),
            ("display_name", Cell::Text(display)),
        ],
        keys,
        tags,
        custom,
        search_text: search,
        refs: Vec::new(),
        owner_id,
    })
}

/// A company's domain as it is kept: Unicode, lower case, without `www.`; `None` when it is
/// not a domain.
pub fn normalized_domain(d: &str) -> Option<String> {
    let (unicode, res) = idna::domain_to_unicode(d.trim().trim_start_matches("www."));
    match res {
        Ok(()) if idna::domain_to_ascii_strict(&unicode).is_ok() => Some(unicode.to_lowercase()),
        _ => None,
    }
}

/// The domain a company is known by, from its domain, its website or an e-mail at it.
pub fn domain_in(text: &str) -> Option<String> {
    let text = text.trim();
    let host = if text.contains("://") {
        domain_of_url(text)?
    } else {
        let host = text.rsplit_once('@').map_or(text, |(_, d)| d);
        host.split(['/', '?', '#', ':']).next().unwrap_or(host).to_owned()
    };
    normalized_domain(&host)
}

fn domain_of_url(url: &str) -> Option<String> {
    let rest = url.split_once("://").map(|(_, r)| r)?;
    let host = rest.split(['/', '?', '#', ':']).next()?;
    (!host.is_empty()).then(|| host.to_lowercase())
}

/// Bank details: BIK, settlement and correspondent accounts checked against each other.
fn bank(r: &mut Reader) -> Option<Value> {
    let o = r.object("bank")?;
    let mut get = |k: &str| -> Option<String> {
        match o.get(k) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => r.errors.check(&format!("bank.{k}"), text::short(s)).flatten(),
            Some(_) => {
                r.errors.add(format!("bank.{k}"), "not_a_string", "must be a string");
                None
            }
        }
    };
    let bik = get("bik");
    let account = get("settlement_account");
    let corr = get("correspondent_account");
    let bank_name = get("bank_name");
    for k in o.keys() {
        if !["bik", "settlement_account", "correspondent_account", "bank_name"].contains(&k.as_str()) {
            r.errors.add(format!("bank.{k}"), "unknown_field", "is not part of bank details");
        }
    }
    if let Some(b) = &bik {
        r.errors.check("bank.bik", ru_ids::bik(b));
    }
    for (field, value, check) in [
        ("bank.settlement_account", &account, ru_ids::settlement_account as fn(&str, &str) -> Result<(), Invalid>),
        ("bank.correspondent_account", &corr, ru_ids::correspondent_account),
    ] {
        if let Some(v) = value {
            match &bik {
                Some(b) => {
                    r.errors.check(field, check(v, b));
                }
                None => r.errors.add(field, "bik_required", "a BIK is needed to check the account"),
            }
        }
    }
    Some(json!({ "bik": bik, "settlement_account": account, "correspondent_account": corr, "bank_name": bank_name }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context<'static> {
        Context::basic("RU", &[])
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn contact_is_normalized() {
        let p = prepare(Entity::Contact, &obj(json!({"last_name": "  Иванов ", "first_name": "Иван", "phones": ["8 (916) 123-45-67"], "emails": [{"value": "I.Ivanov@ПОЧТА.РФ", "type": "work"}], "tags": ["VIP", "vip"]})), &ctx()).unwrap();
        assert!(p.cells.contains(&("last_name", Cell::Text("Иванов".into()))));
        assert!(p.keys.contains(&(KeyKind::Phone, "+79161234567".into())));
        assert!(p.keys.contains(&(KeyKind::Email, "i.ivanov@почта.рф".into())));
        assert_eq!(p.tags, vec!["vip".to_owned()]);
        assert!(p.search_text.contains("иванов") && p.search_text.contains("89161234567"));
    }

    #[test]
    fn contact_errors_name_fields() {
        let e = prepare(Entity::Contact, &obj(json!({"phones": ["abc"], "emails": ["x@"], "birthday": "2999-01-01", "colour": "red"})), &ctx()).unwrap_err();
        let fields: Vec<_> = e.0.iter().map(|f| f.field.as_str()).collect();
        for f in ["last_name", "phones[0].value", "emails[0].value", "birthday", "colour"] {
            assert!(fields.contains(&f), "{f} missing in {fields:?}");
        }
    }

    #[test]
    fn company_identifiers() {
        let ok = prepare(Entity::Company, &obj(json!({"name": "Ромашка", "inn": "7725088527", "kpp": "773301001", "ogrn": "1027812400868", "bank": {"bik": "044525225", "correspondent_account": "30101810400000000225", "settlement_account": "40702810200000012345"}, "website": "romashka.ru"})), &ctx()).unwrap();
        assert!(ok.cells.contains(&("domain", Cell::Text("romashka.ru".into()))));
        let bad = prepare(Entity::Company, &obj(json!({"name": "X", "inn": "7725088528", "kind": "sole_proprietor", "kpp": "773301001"})), &ctx()).unwrap_err();
        let fields: Vec<_> = bad.0.iter().map(|f| f.field.as_str()).collect();
        assert!(fields.contains(&"inn") && fields.contains(&"kpp"));
    }
}
