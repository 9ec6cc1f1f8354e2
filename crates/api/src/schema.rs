//! OpenAPI schemas of records, generated from the same entity catalogue that storage and
//! validation use, so the document cannot drift from what the API reads and writes.
use accord_domain::entities::{ColKind, Entity};
use serde_json::{Value, json};
use utoipa::openapi::{RefOr, Schema};

fn nullable(t: &str) -> Value {
    json!({ "type": [t, "null"] })
}

/// Shapes of the structured fields, as the API returns them.
fn json_field(name: &str) -> Value {
    let string = || json!({ "type": "string" });
    let opt_string = || nullable("string");
    match name {
        "emails" => json!({ "type": "array", "items": { "type": "object", "properties": { "value": string(), "type": string() }, "required": ["value", "type"] } }),
        "phones" => json!({ "type": "array", "items": { "type": "object", "properties": { "original": string(), "e164": string(), "extension": opt_string(), "type": string() }, "required": ["original", "e164", "type"] } }),
        "addresses" => json!({ "type": "array", "items": { "type": "object", "properties": {
            "type": string(), "country": string(), "region": string(), "city": string(), "street": string(), "postal_code": string(), "text": string() } } }),
        "tags" => json!({ "type": "array", "items": string() }),
        "company_ids" => json!({ "type": "array", "items": { "type": "integer" } }),
        "custom_fields" => json!({ "type": "object", "description": "Values of the workspace's custom fields by key", "additionalProperties": true }),
        "marketing_consent" => json!({ "type": "object", "properties": { "given": { "type": "boolean" }, "at": opt_string(), "method": opt_string() }, "required": ["given"] }),
        "bank" => json!({ "type": ["object", "null"], "properties": { "bik": opt_string(), "settlement_account": opt_string(), "correspondent_account": opt_string(), "bank_name": opt_string() } }),
        "annual_revenue" => json!({ "type": ["object", "null"], "properties": { "amount": { "type": "string", "description": "decimal" }, "currency": string() }, "required": ["amount", "currency"] }),
        _ => json!({}),
    }
}

/// What a client may send: the same fields, each optional here (the validator says which
/// are required), with list items accepted as plain strings too.
fn input_field(name: &str) -> Value {
    let item_of = |props: Value| json!({ "type": "array", "items": { "oneOf": [ { "type": "string" }, { "type": "object", "properties": props } ] } });
    match name {
        "emails" => item_of(json!({ "value": { "type": "string" }, "type": { "type": "string", "enum": ["work", "personal", "other"] } })),
        "phones" => item_of(json!({ "value": { "type": "string" }, "type": { "type": "string", "enum": ["mobile", "work", "home", "fax", "other"] } })),
        "marketing_consent" => json!({ "type": ["object", "null"], "properties": { "given": { "type": "boolean" }, "at": { "type": ["string", "null"], "format": "date-time" }, "method": { "type": ["string", "null"] } } }),
        "kind" => json!({ "type": ["string", "null"], "enum": ["legal_entity", "sole_proprietor", "other", null] }),
        "birthday" => json!({ "type": ["string", "null"], "format": "date" }),
        "employees" => json!({ "type": ["integer", "null"], "minimum": 0 }),
        "primary_company_id" => json!({ "type": ["integer", "null"], "minimum": 1 }),
        "annual_revenue" => json!({ "type": ["object", "null"], "properties": { "amount": { "type": "string" }, "currency": { "type": "string" } } }),
        _ => json!({}),
    }
}

fn to_schema(v: Value) -> RefOr<Schema> {
    serde_json::from_value(v).unwrap_or_else(|_| RefOr::T(Schema::default()))
}

pub fn record(entity: Entity) -> RefOr<Schema> {
    let mut props = serde_json::Map::new();
    // System fields always come back; the others only when asked for (`fields=`).
    let required = vec!["id", "version", "owner_id", "created_at", "updated_at"];
    for (k, t) in [("id", "integer"), ("version", "integer"), ("owner_id", "integer"), ("created_by", "integer"), ("updated_by", "integer")] {
        props.insert(k.into(), json!({ "type": t }));
    }
    props.insert("deleted_by".into(), nullable("integer"));
    for k in ["created_at", "updated_at"] {
        props.insert(k.into(), json!({ "type": "string", "format": "date-time" }));
    }
    props.insert("deleted_at".into(), json!({ "type": ["string", "null"], "format": "date-time" }));
    for c in entity.columns() {
        let schema = match c.kind {
            ColKind::Shadow => continue,
            ColKind::Text => nullable("string"),
            ColKind::Int | ColKind::Bool => nullable("integer"),
            ColKind::Json => json_field(c.name),
        };
        props.insert(c.name.into(), schema);
    }
    to_schema(json!({ "type": "object", "properties": props, "required": required }))
}

pub fn input(entity: Entity) -> RefOr<Schema> {
    let mut props = serde_json::Map::new();
    props.insert("owner_id".into(), json!({ "type": "integer", "minimum": 1 }));
    props.insert("version".into(), json!({ "type": "integer", "description": "The version you read; a stale one answers 409" }));
    for c in entity.columns() {
        if c.kind == ColKind::Shadow || c.name == "display_name" {
            continue;
        }
        let schema = match input_field(c.name) {
            v if v != json!({}) => v,
            _ => match c.kind {
                ColKind::Text => nullable("string"),
                ColKind::Int | ColKind::Bool => nullable("integer"),
                _ => json_field(c.name),
            },
        };
        props.insert(c.name.into(), schema);
    }
    to_schema(json!({ "type": "object", "properties": props, "description": "Unknown fields are rejected. System fields (id, created_at …) are ignored." }))
}

pub fn list(entity: Entity) -> RefOr<Schema> {
    let name = match entity {
        Entity::Contact => "Contact",
        Entity::Company => "Company",
    };
    to_schema(json!({
        "type": "object",
        "properties": {
            "data": { "type": "array", "items": { "$ref": format!("#/components/schemas/{name}") } },
            "next_cursor": { "type": ["string", "null"] },
            "count": { "type": ["integer", "null"], "description": "With count=true: the number of matches, at most 10000" },
            "count_capped": { "type": ["boolean", "null"] }
        },
        "required": ["data", "next_cursor"]
    }))
}

macro_rules! doc_schema {
    ($ty:ident, $name:literal, $build:expr) => {
        pub struct $ty;
        impl utoipa::PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                $build
            }
        }
        impl utoipa::ToSchema for $ty {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed($name)
            }
        }
    };
}

doc_schema!(ContactDoc, "Contact", record(Entity::Contact));
doc_schema!(ContactInputDoc, "ContactInput", input(Entity::Contact));
doc_schema!(ContactListDoc, "ContactList", list(Entity::Contact));
doc_schema!(CompanyDoc, "Company", record(Entity::Company));
doc_schema!(CompanyInputDoc, "CompanyInput", input(Entity::Company));
doc_schema!(CompanyListDoc, "CompanyList", list(Entity::Company));
