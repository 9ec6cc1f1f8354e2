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
        "contacts" => json!({ "type": "array", "items": { "type": "object", "properties": { "contact_id": { "type": "integer" }, "role": string() }, "required": ["contact_id", "role"] } }),
        "items" => json!({ "type": "array", "items": { "type": "object", "properties": {
            "product_id": nullable("integer"), "name": string(), "sku": opt_string(), "unit": string(), "quantity": string(), "price": string(),
            "discount_percent": string(), "vat_rate": string(), "net": string(), "vat": string(), "total": string() } } }),
        "utm" => json!({ "type": "object", "properties": { "source": string(), "medium": string(), "campaign": string(), "term": string(), "content": string() } }),
        "participants" => json!({ "type": "object", "properties": { "user_ids": { "type": "array", "items": { "type": "integer" } }, "contact_ids": { "type": "array", "items": { "type": "integer" } } } }),
        "custom_fields" => json!({ "type": "object", "description": "Values of the workspace's custom fields by key", "additionalProperties": true }),
        "marketing_consent" => json!({ "type": "object", "properties": { "given": { "type": "boolean" }, "at": opt_string(), "method": opt_string() }, "required": ["given"] }),
        "bank" => json!({ "type": ["object", "null"], "properties": { "bik": opt_string(), "settlement_account": opt_string(), "correspondent_account": opt_string(), "bank_name": opt_string() } }),
        "annual_revenue" => json!({ "type": ["object", "null"], "properties": { "amount": { "type": "string", "description": "decimal" }, "currency": string() }, "required": ["amount", "currency"] }),
        _ => json!({}),
    }
}

fn one_of(values: &[&str]) -> Value {
    let mut e: Vec<Value> = values.iter().map(|v| json!(v)).collect();
    e.push(Value::Null);
    json!({ "type": ["string", "null"], "enum": e })
}

/// What a client may send: the same fields, each optional here (the validator says which
/// are required), with list items accepted as plain strings too.
fn input_field(entity: Entity, name: &str) -> Value {
    use accord_domain::sales;
    let item_of = |props: Value| json!({ "type": "array", "items": { "oneOf": [ { "type": "string" }, { "type": "object", "properties": props } ] } });
    let decimal = || json!({ "type": ["string", "number", "null"], "description": "decimal, at most 4 places" });
    let moment = || json!({ "type": ["string", "null"], "description": "RFC 3339, or a local date-time (2026-11-23T10:00) in the owner's time zone" });
    match (entity, name) {
        (_, "emails") => item_of(json!({ "value": { "type": "string" }, "type": { "type": "string", "enum": ["work", "personal", "other"] } })),
        (_, "phones") => item_of(json!({ "value": { "type": "string" }, "type": { "type": "string", "enum": ["mobile", "work", "home", "fax", "other"] } })),
        (_, "marketing_consent") => json!({ "type": ["object", "null"], "properties": { "given": { "type": "boolean" }, "at": { "type": ["string", "null"], "format": "date-time" }, "method": { "type": ["string", "null"] } } }),
        (Entity::Company, "kind") => one_of(&accord_domain::entities::COMPANY_KINDS),
        (Entity::Product, "kind") => one_of(&sales::PRODUCT_KINDS),
        (Entity::Product, "unit") => one_of(&sales::UNITS),
        (Entity::Activity, "kind") => one_of(&sales::ACTIVITY_KINDS),
        (Entity::Activity, "direction") => one_of(&["inbound", "outbound"]),
        (Entity::Activity, "outcome") => one_of(&sales::CALL_OUTCOMES),
        (Entity::Lead, "status") => one_of(&sales::LEAD_STATUSES),
        (Entity::Task, "status") => one_of(&sales::TASK_STATUSES),
        (Entity::Task, "priority") => one_of(&sales::PRIORITIES),
        (Entity::Task, "recurrence") => one_of(&sales::RECURRENCES),
        (_, "birthday" | "expected_close_date") => json!({ "type": ["string", "null"], "format": "date" }),
        (_, "employees") => json!({ "type": ["integer", "null"], "minimum": 0 }),
        (_, "primary_company_id") => json!({ "type": ["integer", "null"], "minimum": 1 }),
        (_, "annual_revenue") => json!({ "type": ["object", "null"], "properties": { "amount": { "type": "string" }, "currency": { "type": "string" } } }),
        (_, "price" | "amount") => decimal(),
        (_, "active" | "vat_included") => json!({ "type": ["boolean", "null"] }),
        (_, "probability") => json!({ "type": ["integer", "null"], "minimum": 0, "maximum": 100 }),
        (_, "starts_at" | "ends_at" | "due_at" | "done_at" | "closed_at") => moment(),
        (Entity::Deal, "contacts") => json!({ "type": ["array", "null"], "items": { "oneOf": [ { "type": "integer" }, { "type": "object", "properties": { "contact_id": { "type": "integer" }, "role": { "type": "string", "enum": sales::CONTACT_ROLES } } } ] } }),
        (Entity::Deal, "items") => json!({ "type": ["array", "null"], "items": { "type": "object", "properties": {
            "product_id": { "type": ["integer", "null"] }, "name": { "type": ["string", "null"] }, "sku": { "type": ["string", "null"] }, "unit": { "type": ["string", "null"] },
            "quantity": decimal(), "price": decimal(), "discount_percent": decimal(), "vat_rate": { "type": ["string", "null"] } } } }),
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
            ColKind::Shadow | ColKind::ShadowInt => continue,
            ColKind::Text => nullable("string"),
            ColKind::Int => nullable("integer"),
            ColKind::Bool => nullable("boolean"),
            ColKind::Timestamp => json!({ "type": ["string", "null"], "format": "date-time" }),
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
        if c.kind.is_shadow() || !c.writable {
            continue;
        }
        let schema = match input_field(entity, c.name) {
            v if v != json!({}) => v,
            _ => match c.kind {
                ColKind::Text => nullable("string"),
                ColKind::Int => nullable("integer"),
                ColKind::Bool => nullable("boolean"),
                _ => json_field(c.name),
            },
        };
        props.insert(c.name.into(), schema);
    }
    to_schema(json!({ "type": "object", "properties": props, "description": "Unknown fields are rejected. System fields (id, created_at …) are ignored." }))
}

/// The schema name of an entity's record.
fn doc_name(entity: Entity) -> &'static str {
    match entity {
        Entity::Contact => "Contact",
        Entity::Company => "Company",
        Entity::Product => "Product",
        Entity::Deal => "Deal",
        Entity::Lead => "Lead",
        Entity::Activity => "Activity",
        Entity::Task => "Task",
    }
}

pub fn list(entity: Entity) -> RefOr<Schema> {
    let name = doc_name(entity);
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
doc_schema!(ProductDoc, "Product", record(Entity::Product));
doc_schema!(ProductInputDoc, "ProductInput", input(Entity::Product));
doc_schema!(ProductListDoc, "ProductList", list(Entity::Product));
doc_schema!(DealDoc, "Deal", record(Entity::Deal));
doc_schema!(DealInputDoc, "DealInput", input(Entity::Deal));
doc_schema!(DealListDoc, "DealList", list(Entity::Deal));
doc_schema!(LeadDoc, "Lead", record(Entity::Lead));
doc_schema!(LeadInputDoc, "LeadInput", input(Entity::Lead));
doc_schema!(LeadListDoc, "LeadList", list(Entity::Lead));
doc_schema!(ActivityDoc, "Activity", record(Entity::Activity));
doc_schema!(ActivityInputDoc, "ActivityInput", input(Entity::Activity));
doc_schema!(ActivityListDoc, "ActivityList", list(Entity::Activity));
doc_schema!(TaskDoc, "Task", record(Entity::Task));
doc_schema!(TaskInputDoc, "TaskInput", input(Entity::Task));
doc_schema!(TaskListDoc, "TaskList", list(Entity::Task));
