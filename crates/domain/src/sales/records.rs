use super::config::{PRIORITIES, StageKind, UNITS};
use super::money::{line_totals, round_money};
use crate::custom_fields::{self, scale_decimal};
use crate::entities::{Cell, ColKind, Column, Context, Entity, FilterKind, Filterable, KeyKind, Prepared, Reader, Ref, RefTarget, col, derived, filt, folded, opt_text, search_text};
use crate::error::ValidationErrors;
use crate::{email, phone, ru_ids};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

const MAX_MONEY: Decimal = Decimal::from_parts(0xFFFF_FFFF, 0x1, 0, false, 0); // 8 589 934 591
const MAX_QUANTITY: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

fn ts(v: Option<i64>) -> Cell {
    v.map_or(Cell::Null, Cell::Int)
}
fn int(v: Option<i64>) -> Cell {
    v.map_or(Cell::Null, Cell::Int)
}
fn text(v: &str) -> Cell {
    Cell::Text(v.to_owned())
}
fn money_text(d: Decimal) -> String {
    format!("{:.2}", round_money(d))
}
fn scaled(d: Decimal) -> Cell {
    scale_decimal(d).map_or(Cell::Null, Cell::Int)
}

/// The value a derived column had before this write.
fn before_i64(ctx: &Context, key: &str) -> Option<i64> {
    ctx.before.and_then(|b| b.get(key)).and_then(Value::as_i64)
}
fn before_str<'a>(ctx: &'a Context, key: &str) -> Option<&'a str> {
    ctx.before.and_then(|b| b.get(key)).and_then(Value::as_str)
}
fn before_ms(ctx: &Context, key: &str) -> Option<i64> {
    before_str(ctx, key).and_then(|s| custom_fields::parse_datetime(s).ok()).map(|t| t.timestamp_millis())
}

/// A reference field to another record: `company_id`, `deal_id` …
fn link(r: &mut Reader, refs: &mut Vec<Ref>, key: &str, entity: Entity) -> Option<i64> {
    let id = r.id(key);
    if let Some(id) = id {
        refs.push(Ref::record(key, entity, id));
    }
    id
}

/// The four links activities and tasks may have.
fn links(r: &mut Reader, refs: &mut Vec<Ref>) -> [(&'static str, Cell); 4] {
    [
        ("contact_id", int(link(r, refs, "contact_id", Entity::Contact))),
        ("company_id", int(link(r, refs, "company_id", Entity::Company))),
        ("deal_id", int(link(r, refs, "deal_id", Entity::Deal))),
        ("lead_id", int(link(r, refs, "lead_id", Entity::Lead))),
    ]
}

const LINK_FILTERS: [Filterable; 4] = [
    filt("contact_id", "contact_id", FilterKind::Int),
    filt("company_id", "company_id", FilterKind::Int),
    filt("deal_id", "deal_id", FilterKind::Int),
    filt("lead_id", "lead_id", FilterKind::Int),
];

// ---------------------------------------------------------------- products

pub const PRODUCT_KINDS: [&str; 2] = ["good", "service"];

pub const PRODUCT_COLUMNS: &[Column] = &[
    col("name", ColKind::Text),
    col("sku", ColKind::Text),
    col("kind", ColKind::Text),
    col("unit", ColKind::Text),
    col("price", ColKind::Text),
    col("currency", ColKind::Text),
    col("vat_rate", ColKind::Text),
    col("active", ColKind::Bool),
    col("description", ColKind::Text),
    col("tags", ColKind::Json),
    col("custom_fields", ColKind::Json),
    col("name_f", ColKind::Shadow),
    col("price_num", ColKind::Shadow),
    derived("display_name", ColKind::Text),
];

pub const PRODUCT_FILTERS: &[Filterable] = &[
    filt("name", "name_f", FilterKind::Folded),
    filt("sku", "sku", FilterKind::Text),
    filt("kind", "kind", FilterKind::Text),
    filt("unit", "unit", FilterKind::Text),
    filt("currency", "currency", FilterKind::Text),
    filt("vat_rate", "vat_rate", FilterKind::Text),
    filt("active", "active", FilterKind::Bool),
    filt("price", "price_num", FilterKind::Decimal),
];

fn currency(r: &mut Reader, ctx: &Context) -> String {
    match r.get("currency") {
        Value::Null => ctx.sales.base_currency.clone(),
        Value::String(s) => r.errors.check("currency", custom_fields::currency(s)).unwrap_or_default(),
        _ => {
            r.errors.add("currency", "currency", "must be an ISO 4217 code such as RUB");
            String::new()
        }
    }
}

fn vat_rate(r: &mut Reader, ctx: &Context, key: &str) -> String {
    match r.get(key) {
        Value::Null => ctx.sales.default_vat_rate().to_owned(),
        // A rate the record already had stays valid after the workspace stops offering it.
        Value::String(s) if rate_was_used(ctx, s) => s.clone(),
        Value::String(s) => {
            r.errors.check(key, ctx.sales.check_vat_rate(s));
            s.clone()
        }
        _ => {
            r.errors.add(key, "unknown_vat_rate", "must be a VAT rate code such as \"22\" or \"none\"");
            String::new()
        }
    }
}

fn rate_was_used(ctx: &Context, rate: &str) -> bool {
    let Some(before) = ctx.before else { return false };
    before.get("vat_rate").and_then(Value::as_str) == Some(rate) || before.get("items").and_then(Value::as_array).is_some_and(|items| items.iter().any(|i| i["vat_rate"].as_str() == Some(rate)))
}

pub fn prepare_product(input: &Map<String, Value>, ctx: &Context) -> Result<Prepared, ValidationErrors> {
    let mut r = Reader::new(input);
    r.reject_unknown(&["name", "sku", "kind", "unit", "price", "currency", "vat_rate", "active", "description", "tags", "custom_fields"]);
    let name = r.text("name", 500);
    if name.is_none() && !r.errors.0.iter().any(|e| e.field == "name") {
        r.errors.add("name", "required", "is required");
    }
    let sku = r.text("sku", 100);
    let kind = r.one_of("kind", &PRODUCT_KINDS, Some("good"));
    let unit = r.one_of("unit", &UNITS, Some(if kind.as_deref() == Some("service") { "service" } else { "pcs" }));
    let price = r.decimal("price", Decimal::ZERO, MAX_MONEY).unwrap_or(Decimal::ZERO);
    let currency = currency(&mut r, ctx);
    let vat = vat_rate(&mut r, ctx, "vat_rate");
    let active = r.bool("active").unwrap_or(true);
    let description = r.long_text("description");
    let tags = r.tags();
    let (custom_json, custom) = r.custom(ctx);
    let owner_id = r.id("owner_id");
    r.errors.clone().into_result()?;
    let keys: Vec<(KeyKind, String)> = sku.iter().map(|s| (KeyKind::Sku, crate::text::fold(s))).collect();
    Ok(Prepared {
        search_text: search_text(&[&name], &keys, &tags),
        cells: vec![
            ("name_f", folded(&name)),
            ("display_name", Cell::Text(name.clone().unwrap_or_default())),
            ("name", opt_text(name)),
            ("sku", opt_text(sku)),
            ("kind", opt_text(kind)),
            ("unit", opt_text(unit)),
            ("price", Cell::Text(price.to_string())),
            ("price_num", scaled(price)),
            ("currency", Cell::Text(currency)),
            ("vat_rate", Cell::Text(vat)),
            ("active", Cell::Int(i64::from(active))),
            ("description", opt_text(description)),
            ("tags", Cell::Text(json!(tags).to_string())),
            ("custom_fields", Cell::Text(custom_json.to_string())),
        ],
        keys,
        tags,
        custom,
        refs: Vec::new(),
        owner_id,
    })
}

// ---------------------------------------------------------------- deals

pub const CONTACT_ROLES: [&str; 6] = ["decision_maker", "influencer", "user", "technical", "financial", "other"];

pub const DEAL_COLUMNS: &[Column] = &[
    col("title", ColKind::Text),
    col("pipeline_id", ColKind::Int),
    col("stage_id", ColKind::Int),
    derived("status", ColKind::Text),
    col("company_id", ColKind::Int),
    col("contacts", ColKind::Json),
    col("amount", ColKind::Text),
    col("currency", ColKind::Text),
    col("vat_included", ColKind::Bool),
    derived("vat_amount", ColKind::Text),
    col("items", ColKind::Json),
    col("expected_close_date", ColKind::Text),
    col("probability", ColKind::Int),
    derived("win_probability", ColKind::Int),
    col("source", ColKind::Text),
    col("lead_id", ColKind::Int),
    col("lost_reason_id", ColKind::Int),
    col("lost_comment", ColKind::Text),
    col("price_list_id", ColKind::Int),
    col("closed_at", ColKind::Timestamp),
    derived("stage_changed_at", ColKind::Timestamp),
    col("description", ColKind::Text),
    col("tags", ColKind::Json),
    col("custom_fields", ColKind::Json),
    col("title_f", ColKind::Shadow),
    col("amount_num", ColKind::Shadow),
    col("first_contact_id", ColKind::ShadowInt),
    derived("display_name", ColKind::Text),
];

pub const DEAL_FILTERS: &[Filterable] = &[
    filt("title", "title_f", FilterKind::Folded),
    filt("pipeline_id", "pipeline_id", FilterKind::Int),
    filt("stage_id", "stage_id", FilterKind::Int),
    filt("status", "status", FilterKind::Text),
    filt("company_id", "company_id", FilterKind::Int),
    filt("amount", "amount_num", FilterKind::Decimal),
    filt("currency", "currency", FilterKind::Text),
    filt("expected_close_date", "expected_close_date", FilterKind::Date),
    filt("win_probability", "win_probability", FilterKind::Int),
    filt("source", "source", FilterKind::Text),
    filt("lead_id", "lead_id", FilterKind::Int),
    filt("lost_reason_id", "lost_reason_id", FilterKind::Int),
    filt("price_list_id", "price_list_id", FilterKind::Int),
    filt("closed_at", "closed_at", FilterKind::Timestamp),
    filt("stage_changed_at", "stage_changed_at", FilterKind::Timestamp),
];

fn deal_items(r: &mut Reader, ctx: &Context, vat_included: bool, refs: &mut Vec<Ref>) -> (Vec<Value>, Decimal, Decimal) {
    let mut out = Vec::new();
    let (mut amount, mut vat_total) = (Decimal::ZERO, Decimal::ZERO);
    for (i, item) in r.list("items", 500).into_iter().enumerate() {
        let path = format!("items[{i}]");
        let Some(o) = item.as_object() else {
            r.errors.add(path, "not_an_object", "must be an object");
            continue;
        };
        let mut line = Reader::new(o);
        line.reject_unknown(&["product_id", "name", "sku", "unit", "quantity", "price", "discount_percent", "vat_rate", "net", "vat", "total"]);
        let product_id = line.id("product_id");
        let name = line.text("name", 500);
        // Storage fills a product line's name from the catalogue; still without one, the
        // product is not there (or not visible).
        let missing_product = product_id.is_some() && name.is_none();
        if missing_product {
            line.errors.add("product_id", "unknown_product", "no such product");
        } else if name.is_none() && !line.errors.0.iter().any(|e| e.field == "name") {
            line.errors.add("name", "required", "a line needs a name or a product");
        }
        let sku = line.text("sku", 100);
        let unit = line.one_of("unit", &UNITS, Some("pcs"));
        let quantity = line.decimal("quantity", Decimal::ZERO, MAX_QUANTITY);
        match quantity {
            None if !line.errors.0.iter().any(|e| e.field == "quantity") => line.errors.add("quantity", "required", "is required"),
            Some(q) if q.is_zero() => line.errors.add("quantity", "out_of_range", "must be greater than 0"),
            _ => {}
        }
        let price = line.decimal("price", Decimal::ZERO, MAX_MONEY);
        if price.is_none() && !missing_product && !line.errors.0.iter().any(|e| e.field == "price") {
            let message = if product_id.is_some() { "the product is priced in another currency: give the price" } else { "is required" };
            line.errors.add("price", "required", message);
        }
        let discount = line.decimal("discount_percent", Decimal::ZERO, Decimal::ONE_HUNDRED).unwrap_or(Decimal::ZERO);
        let vat = vat_rate(&mut line, ctx, "vat_rate");
        for e in line.errors.0.drain(..) {
            r.errors.add(format!("{path}.{}", e.field), &e.code, e.message);
        }
        if let Some(id) = product_id {
            refs.push(Ref::record(format!("{path}.product_id"), Entity::Product, id));
        }
        let (Some(quantity), Some(price)) = (quantity, price) else { continue };
        let t = line_totals(quantity, price, discount, &vat, vat_included);
        amount += t.total;
        vat_total += t.vat;
        out.push(json!({
            "product_id": product_id, "name": name, "sku": sku, "unit": unit,
            "quantity": quantity.to_string(), "price": price.to_string(), "discount_percent": discount.to_string(), "vat_rate": vat,
            "net": money_text(t.net), "vat": money_text(t.vat), "total": money_text(t.total),
        }));
    }
    (out, amount, vat_total)
}

/// The contact a won deal without a company counts for in the customer reports: the first
/// of its `contacts` (stored in `first_contact_id`).
pub fn first_contact_id(contacts: &[Value]) -> Option<i64> {
    contacts.first()?.get("contact_id")?.as_i64()
}

pub fn prepare_deal(input: &Map<String, Value>, ctx: &Context) -> Result<Prepared, ValidationErrors> {
    let mut r = Reader::new(input);
    r.reject_unknown(&[
        "title", "pipeline_id", "stage_id", "company_id", "contacts", "amount", "currency", "vat_included", "items", "expected_close_date", "probability", "source", "lead_id", "lost_reason_id",
        "lost_comment", "closed_at", "description", "tags", "custom_fields", "price_list_id",
    ]);
    let mut refs = Vec::new();
    let title = r.text("title", 500);
    if title.is_none() && !r.errors.0.iter().any(|e| e.field == "title") {
        r.errors.add("title", "required", "is required");
    }
    let sales = ctx.sales;
    let pipeline_id = r.id("pipeline_id");
    let stage_id = r.id("stage_id");
    // The stage decides the pipeline when only it is given; the first open stage of the
    // pipeline (or of the first pipeline) is where a new deal starts.
    let stage = match (pipeline_id, stage_id) {
        (_, Some(sid)) => match sales.stage(sid) {
            Some(s) if pipeline_id.is_none_or(|p| p == s.pipeline_id) => Some(s),
            Some(_) => {
                r.errors.add("stage_id", "not_in_pipeline", "this stage belongs to another pipeline");
                None
            }
            None => {
                r.errors.add("stage_id", "unknown_stage", "no such stage");
                None
            }
        },
        (Some(pid), None) => match sales.pipeline(pid) {
            Some(p) => p.stages.first(),
            None => {
                r.errors.add("pipeline_id", "unknown_pipeline", "no such pipeline");
                None
            }
        },
        (None, None) => match sales.pipelines.first().and_then(|p| p.stages.first()) {
            Some(s) => Some(s),
            None => {
                r.errors.add("pipeline_id", "no_pipeline", "the workspace has no pipeline");
                None
            }
        },
    };
    let company_id = link(&mut r, &mut refs, "company_id", Entity::Company);
    let mut contacts = Vec::new();
    let mut keys = Vec::new();
    for (i, c) in r.list("contacts", 50).into_iter().enumerate() {
        let path = format!("contacts[{i}]");
        let (id, role) = match c {
            Value::Number(n) => (n.as_i64().filter(|n| *n > 0), Some("other".to_owned())),
            Value::Object(o) => {
                let mut cr = Reader::new(o);
                cr.reject_unknown(&["contact_id", "role"]);
                let id = cr.id("contact_id");
                if id.is_none() && !cr.errors.0.iter().any(|e| e.field == "contact_id") {
                    cr.errors.add("contact_id", "required", "is required");
                }
                let role = cr.one_of("role", &CONTACT_ROLES, Some("other"));
                for e in cr.errors.0.drain(..) {
                    r.errors.add(format!("{path}.{}", e.field), &e.code, e.message);
                }
                (id, role)
            }
            _ => (None, None),
        };
        match (id, role) {
            (Some(id), Some(role)) if !contacts.iter().any(|c: &Value| c["contact_id"] == json!(id)) => {
                refs.push(Ref::record(format!("{path}.contact_id"), Entity::Contact, id));
                keys.push((KeyKind::Contact, id.to_string()));
                contacts.push(json!({ "contact_id": id, "role": role }));
            }
            (Some(_), Some(_)) => {}
            _ if !r.errors.0.iter().any(|e| e.field.starts_with(&path)) => r.errors.add(path, "not_a_contact", "must be a contact id or {\"contact_id\": …, \"role\": …}"),
            _ => {}
        }
    }
    let currency = currency(&mut r, ctx);
    let vat_included = r.bool("vat_included").unwrap_or(true);
    let (items, items_amount, items_vat) = deal_items(&mut r, ctx, vat_included, &mut refs);
    let typed_amount = r.decimal("amount", Decimal::ZERO, MAX_MONEY);
    // Lines, when there are any, make the amount; a typed amount is for deals without them.
    let (amount, vat_amount) = if items.is_empty() { (typed_amount.unwrap_or(Decimal::ZERO), Decimal::ZERO) } else { (items_amount, items_vat) };
    let expected_close = match r.get("expected_close_date") {
        Value::Null => None,
        Value::String(s) => r.errors.check("expected_close_date", custom_fields::parse_date(s)).map(|d| d.format("%Y-%m-%d").to_string()),
        _ => {
            r.errors.add("expected_close_date", "not_a_date", "must be a date YYYY-MM-DD");
            None
        }
    };
    let probability = r.int("probability", 0..=100);
    let source = r.text("source", 200);
    let lead_id = link(&mut r, &mut refs, "lead_id", Entity::Lead);
    let lost_reason_id = r.id("lost_reason_id");
    let lost_comment = r.long_text("lost_comment");
    let price_list_id = r.id("price_list_id");
    match price_list_id.map(|id| (id, sales.price_list(id))) {
        None => {}
        Some((_, None)) => r.errors.add("price_list_id", "unknown_price_list", "no such price list"),
        Some((id, Some(list))) => {
            if !list.active && before_i64(ctx, "price_list_id") != Some(id) {
                r.errors.add("price_list_id", "inactive_price_list", "this price list is no longer offered");
            }
            if list.currency != currency {
                r.errors.add("price_list_id", "other_currency", format!("the price list is in {}, the deal in {currency}", list.currency));
            }
        }
    }
    let closed_at_input = r.timestamp("closed_at", ctx.time_zone);
    let description = r.long_text("description");
    let tags = r.tags();
    let (custom_json, custom) = r.custom(ctx);
    let owner_id = r.id("owner_id");

    let kind = stage.map_or(StageKind::Open, |s| s.kind);
    let stage_changed = before_i64(ctx, "stage_id") != stage.map(|s| s.id);
    let (lost_reason_id, lost_comment) = if kind == StageKind::Lost {
        match lost_reason_id.map(|id| (id, sales.lost_reason(id))) {
            None => r.errors.add("lost_reason_id", "required", "a lost deal needs a lost reason"),
            Some((_, None)) => r.errors.add("lost_reason_id", "unknown_lost_reason", "no such lost reason"),
            Some((id, Some(reason))) => {
                if !reason.active && before_i64(ctx, "lost_reason_id") != Some(id) {
                    r.errors.add("lost_reason_id", "inactive_lost_reason", "this lost reason is no longer offered");
                }
                if reason.requires_comment && lost_comment.is_none() {
                    r.errors.add("lost_comment", "required", "this lost reason needs a comment");
                }
            }
        }
        (lost_reason_id, lost_comment)
    } else {
        // Reopening or winning clears why the deal was lost; the history keeps it.
        (None, None)
    };
    r.errors.clone().into_result()?;

    let was_closed = before_str(ctx, "status").is_some_and(|s| s != "open");
    let closed_at = match kind {
        StageKind::Open => None,
        // An explicit, changed value (an import of old deals) wins; otherwise a deal closes now
        // and keeps its date while it moves between closed stages.
        _ => match closed_at_input {
            Some(t) if before_ms(ctx, "closed_at") != Some(t) => Some(t),
            _ if was_closed && !stage_changed => before_ms(ctx, "closed_at").or(Some(ctx.now_ms)),
            _ if was_closed && before_str(ctx, "status") == Some(kind.as_str()) => before_ms(ctx, "closed_at").or(Some(ctx.now_ms)),
            _ => Some(ctx.now_ms),
        },
    };
    let stage_changed_at = if stage_changed { ctx.now_ms } else { before_ms(ctx, "stage_changed_at").unwrap_or(ctx.now_ms) };
    let win_probability = match (kind, probability) {
        (StageKind::Won, _) => 100,
        (StageKind::Lost, _) => 0,
        (StageKind::Open, Some(p)) => p,
        (StageKind::Open, None) => stage.map_or(0, |s| s.probability),
    };
    let search = search_text(&[&title, &source], &[], &tags);
    Ok(Prepared {
        cells: vec![
            ("title_f", folded(&title)),
            ("display_name", Cell::Text(title.clone().unwrap_or_default())),
            ("title", opt_text(title)),
            ("pipeline_id", int(stage.map(|s| s.pipeline_id))),
            ("stage_id", int(stage.map(|s| s.id))),
            ("status", text(kind.as_str())),
            ("company_id", int(company_id)),
            ("first_contact_id", int(first_contact_id(&contacts))),
            ("contacts", Cell::Text(Value::Array(contacts).to_string())),
            ("amount", Cell::Text(money_text(amount))),
            ("amount_num", scaled(round_money(amount))),
            ("currency", Cell::Text(currency)),
            ("vat_included", Cell::Int(i64::from(vat_included))),
            ("vat_amount", Cell::Text(money_text(vat_amount))),
            ("items", Cell::Text(Value::Array(items).to_string())),
            ("expected_close_date", opt_text(expected_close)),
            ("probability", int(probability)),
            ("win_probability", Cell::Int(win_probability)),
            ("source", opt_text(source)),
            ("lead_id", int(lead_id)),
            ("lost_reason_id", int(lost_reason_id)),
            ("lost_comment", opt_text(lost_comment)),
            ("price_list_id", int(price_list_id)),
            ("closed_at", ts(closed_at)),
            ("stage_changed_at", Cell::Int(stage_changed_at)),
            ("description", opt_text(description)),
            ("tags", Cell::Text(json!(tags).to_string())),
            ("custom_fields", Cell::Text(custom_json.to_string())),
        ],
        keys,
        tags,
        custom,
        search_text: search,
        refs,
        owner_id,
    })
}

// ---------------------------------------------------------------- leads

pub const LEAD_STATUSES: [&str; 4] = ["new", "in_work", "qualified", "disqualified"];
const UTM_PARTS: [&str; 5] = ["source", "medium", "campaign", "term", "content"];

pub const LEAD_COLUMNS: &[Column] = &[
    col("name", ColKind::Text),
    col("email", ColKind::Text),
    col("phone", ColKind::Text),
    col("company_name", ColKind::Text),
    col("inn", ColKind::Text),
    col("message", ColKind::Text),
    col("source", ColKind::Text),
    col("utm", ColKind::Json),
    col("status", ColKind::Text),
    col("disqualify_reason", ColKind::Text),
    derived("contact_id", ColKind::Int),
    derived("company_id", ColKind::Int),
    derived("deal_id", ColKind::Int),
    derived("converted_at", ColKind::Timestamp),
    col("tags", ColKind::Json),
    col("custom_fields", ColKind::Json),
    col("name_f", ColKind::Shadow),
    col("utm_source", ColKind::Shadow),
    col("utm_campaign", ColKind::Shadow),
    derived("display_name", ColKind::Text),
];

pub const LEAD_FILTERS: &[Filterable] = &[
    filt("name", "name_f", FilterKind::Folded),
    filt("status", "status", FilterKind::Text),
    filt("source", "source", FilterKind::Text),
    filt("utm_source", "utm_source", FilterKind::Text),
    filt("utm_campaign", "utm_campaign", FilterKind::Text),
    filt("inn", "inn", FilterKind::Text),
    filt("contact_id", "contact_id", FilterKind::Int),
    filt("company_id", "company_id", FilterKind::Int),
    filt("deal_id", "deal_id", FilterKind::Int),
    filt("converted_at", "converted_at", FilterKind::Timestamp),
];

pub fn prepare_lead(input: &Map<String, Value>, ctx: &Context) -> Result<Prepared, ValidationErrors> {
    let mut r = Reader::new(input);
    r.reject_unknown(&["name", "email", "phone", "company_name", "inn", "message", "source", "utm", "status", "disqualify_reason", "tags", "custom_fields"]);
    let name = r.text("name", 300);
    let email = r.text("email", 320).and_then(|e| r.errors.check("email", email::normalize(&e)));
    let phone_raw = r.text("phone", 100);
    let phone = phone_raw.as_deref().and_then(|p| r.errors.check("phone", phone::parse(p, ctx.region)));
    let company_name = r.text("company_name", 300);
    let inn = r.text("inn", 20);
    if let Some(v) = &inn {
        r.errors.check("inn", ru_ids::inn(v));
    }
    if [&name, &email, &phone_raw, &company_name].iter().all(|v| v.is_none()) && r.errors.0.is_empty() {
        r.errors.add("name", "required", "a lead needs a name, an e-mail, a phone or a company name");
    }
    let message = r.long_text("message");
    let source = r.text("source", 200);
    let mut utm = Map::new();
    if let Some(o) = r.object("utm") {
        for (k, v) in o {
            if !UTM_PARTS.contains(&k.as_str()) {
                r.errors.add(format!("utm.{k}"), "unknown_field", format!("must be one of: {}", UTM_PARTS.join(", ")));
            } else if let Some(s) = v.as_str() {
                if let Some(Some(s)) = r.errors.check(&format!("utm.{k}"), crate::text::line(s, 300)) {
                    utm.insert(k.clone(), json!(s));
                }
            } else if !v.is_null() {
                r.errors.add(format!("utm.{k}"), "not_a_string", "must be a string");
            }
        }
    }
    let before_status = before_str(ctx, "status");
    let status = r.one_of("status", &LEAD_STATUSES, Some("new"));
    // Qualification happens by converting the lead, which links what it became.
    if status.as_deref() == Some("qualified") && before_status != Some("qualified") {
        r.errors.add("status", "convert_to_qualify", "a lead is qualified by converting it (POST /api/v1/leads/{id}/convert)");
    }
    if before_status == Some("qualified") && status.as_deref() != Some("qualified") {
        r.errors.add("status", "already_converted", "a converted lead stays qualified");
    }
    let reason = r.text("disqualify_reason", 500);
    if status.as_deref() == Some("disqualified") && reason.is_none() {
        r.errors.add("disqualify_reason", "required", "say why the lead is disqualified");
    }
    let tags = r.tags();
    let (custom_json, custom) = r.custom(ctx);
    let owner_id = r.id("owner_id");
    r.errors.clone().into_result()?;

    let mut keys = Vec::new();
    if let Some(e) = &email {
        keys.push((KeyKind::Email, crate::text::fold(e)));
    }
    if let Some(p) = &phone {
        keys.push((KeyKind::Phone, p.e164.clone()));
    }
    if let Some(i) = &inn {
        keys.push((KeyKind::Inn, i.clone()));
    }
    let display = [&name, &company_name, &email].into_iter().find_map(|v| v.clone()).or_else(|| phone.as_ref().map(|p| p.e164.clone())).unwrap_or_default();
    let disqualify_reason = if status.as_deref() == Some("disqualified") { reason } else { None };
    Ok(Prepared {
        search_text: search_text(&[&name, &company_name], &keys, &tags),
        cells: vec![
            ("name_f", folded(&name)),
            ("display_name", Cell::Text(display)),
            ("name", opt_text(name)),
            ("email", opt_text(email)),
            ("phone", opt_text(phone.map(|p| p.e164))),
            ("company_name", opt_text(company_name)),
            ("inn", opt_text(inn)),
            ("message", opt_text(message)),
            ("source", opt_text(source)),
            ("utm_source", opt_text(utm.get("source").and_then(Value::as_str).map(str::to_owned))),
            ("utm_campaign", opt_text(utm.get("campaign").and_then(Value::as_str).map(str::to_owned))),
            ("utm", Cell::Text(Value::Object(utm).to_string())),
            ("status", opt_text(status)),
            ("disqualify_reason", opt_text(disqualify_reason)),
            ("contact_id", int(before_i64(ctx, "contact_id"))),
            ("company_id", int(before_i64(ctx, "company_id"))),
            ("deal_id", int(before_i64(ctx, "deal_id"))),
            ("converted_at", ts(before_ms(ctx, "converted_at"))),
            ("tags", Cell::Text(json!(tags).to_string())),
            ("custom_fields", Cell::Text(custom_json.to_string())),
        ],
        keys,
        tags,
        custom,
        refs: Vec::new(),
        owner_id,
    })
}

// ---------------------------------------------------------------- activities

pub const ACTIVITY_KINDS: [&str; 4] = ["call", "meeting", "email", "note"];
pub const CALL_OUTCOMES: [&str; 6] = ["connected", "no_answer", "busy", "voicemail", "wrong_number", "other"];

pub const ACTIVITY_COLUMNS: &[Column] = &[
    col("kind", ColKind::Text),
    col("subject", ColKind::Text),
    col("body", ColKind::Text),
    col("direction", ColKind::Text),
    col("duration_seconds", ColKind::Int),
    col("outcome", ColKind::Text),
    col("starts_at", ColKind::Timestamp),
    col("ends_at", ColKind::Timestamp),
    col("place", ColKind::Text),
    col("participants", ColKind::Json),
    col("due_at", ColKind::Timestamp),
    col("done_at", ColKind::Timestamp),
    derived("status", ColKind::Text),
    col("remind_before_minutes", ColKind::Int),
    col("contact_id", ColKind::Int),
    col("company_id", ColKind::Int),
    col("deal_id", ColKind::Int),
    col("lead_id", ColKind::Int),
    col("tags", ColKind::Json),
    col("custom_fields", ColKind::Json),
    col("at", ColKind::Shadow),
    derived("display_name", ColKind::Text),
];

pub const ACTIVITY_FILTERS: &[Filterable] = &[
    filt("kind", "kind", FilterKind::Text),
    filt("status", "status", FilterKind::Text),
    filt("direction", "direction", FilterKind::Text),
    filt("outcome", "outcome", FilterKind::Text),
    filt("starts_at", "starts_at", FilterKind::Timestamp),
    filt("due_at", "due_at", FilterKind::Timestamp),
    filt("done_at", "done_at", FilterKind::Timestamp),
    filt("at", "at", FilterKind::Timestamp),
    LINK_FILTERS[0],
    LINK_FILTERS[1],
    LINK_FILTERS[2],
    LINK_FILTERS[3],
];

fn participants(r: &mut Reader, refs: &mut Vec<Ref>) -> Value {
    let Some(o) = r.object("participants") else { return json!({ "user_ids": [], "contact_ids": [] }) };
    let mut out = Map::new();
    for k in o.keys() {
        if !["user_ids", "contact_ids"].contains(&k.as_str()) {
            r.errors.add(format!("participants.{k}"), "unknown_field", "must be user_ids or contact_ids");
        }
    }
    for key in ["user_ids", "contact_ids"] {
        let mut ids: Vec<i64> = Vec::new();
        match o.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) if items.len() <= 100 => {
                for (i, v) in items.iter().enumerate() {
                    let field = format!("participants.{key}[{i}]");
                    match v.as_i64().filter(|n| *n > 0) {
                        Some(id) if !ids.contains(&id) => {
                            ids.push(id);
                            refs.push(Ref { field, target: if key == "user_ids" { RefTarget::User(id) } else { RefTarget::Record(Entity::Contact, id) } });
                        }
                        Some(_) => {}
                        None => r.errors.add(field, "not_an_id", "must be a positive integer id"),
                    }
                }
            }
            Some(_) => r.errors.add(format!("participants.{key}"), "not_a_list", "must be a list of at most 100 ids"),
        }
        out.insert(key.into(), json!(ids));
    }
    Value::Object(out)
}

pub fn prepare_activity(input: &Map<String, Value>, ctx: &Context) -> Result<Prepared, ValidationErrors> {
    let mut r = Reader::new(input);
    r.reject_unknown(&[
        "kind", "subject", "body", "direction", "duration_seconds", "outcome", "starts_at", "ends_at", "place", "participants", "due_at", "done_at", "remind_before_minutes", "contact_id", "company_id",
        "deal_id", "lead_id", "tags", "custom_fields",
    ]);
    let mut refs = Vec::new();
    let kind = r.one_of("kind", &ACTIVITY_KINDS, None);
    if kind.is_none() && !r.errors.0.iter().any(|e| e.field == "kind") {
        r.errors.add("kind", "required", format!("is required: one of {}", ACTIVITY_KINDS.join(", ")));
    }
    let kind = kind.unwrap_or_default();
    let subject = r.text("subject", 300);
    let body = r.long_text("body");
    if kind == "note" && body.is_none() && !r.errors.0.iter().any(|e| e.field == "body") {
        r.errors.add("body", "required", "a note needs text");
    }
    let only_for = |r: &mut Reader, key: &str, kinds: &[&str]| {
        if !r.get(key).is_null() && !kinds.contains(&kind.as_str()) {
            r.errors.add(key, "not_applicable", format!("only {} have this", kinds.join(" and ")));
        }
    };
    only_for(&mut r, "direction", &["call", "email"]);
    only_for(&mut r, "duration_seconds", &["call"]);
    only_for(&mut r, "outcome", &["call"]);
    only_for(&mut r, "starts_at", &["meeting"]);
    only_for(&mut r, "ends_at", &["meeting"]);
    only_for(&mut r, "place", &["meeting"]);
    let direction = r.one_of("direction", &["inbound", "outbound"], if matches!(kind.as_str(), "call" | "email") { Some("outbound") } else { None });
    let duration = r.int("duration_seconds", 0..=7 * 86_400);
    let outcome = r.one_of("outcome", &CALL_OUTCOMES, None);
    let tz = ctx.time_zone;
    let starts_at = r.timestamp("starts_at", tz);
    let ends_at = r.timestamp("ends_at", tz);
    if kind == "meeting" && starts_at.is_none() && !r.errors.0.iter().any(|e| e.field == "starts_at") {
        r.errors.add("starts_at", "required", "a meeting needs a start");
    }
    if let (Some(s), Some(e)) = (starts_at, ends_at)
        && e < s
    {
        r.errors.add("ends_at", "before_start", "must not be before the start");
    }
    let place = r.text("place", 500);
    let participants = participants(&mut r, &mut refs);
    // A meeting is due when it starts; a call or e-mail without times was just logged.
    let due_at = r.timestamp("due_at", tz).or(starts_at);
    let given_done = r.timestamp("done_at", tz);
    let done_at = match (given_done, due_at) {
        (Some(d), _) => Some(d),
        (None, None) => Some(ctx.now_ms),
        (None, Some(_)) => None,
    };
    let remind = r.int("remind_before_minutes", 0..=43_200);
    let link_cells = links(&mut r, &mut refs);
    let tags = r.tags();
    let (custom_json, custom) = r.custom(ctx);
    let owner_id = r.id("owner_id");
    r.errors.clone().into_result()?;

    let status = if done_at.is_some() { "done" } else { "planned" };
    let display = subject.clone().unwrap_or_else(|| kind.clone());
    let mut cells = vec![
        ("display_name", Cell::Text(display)),
        ("kind", Cell::Text(kind)),
        ("subject", opt_text(subject)),
        ("body", opt_text(body)),
        ("direction", opt_text(direction)),
        ("duration_seconds", int(duration)),
        ("outcome", opt_text(outcome)),
        ("starts_at", ts(starts_at)),
        ("ends_at", ts(ends_at)),
        ("place", opt_text(place)),
        ("participants", Cell::Text(participants.to_string())),
        ("due_at", ts(due_at)),
        ("done_at", ts(done_at)),
        ("status", text(status)),
        ("remind_before_minutes", int(if status == "planned" { remind } else { None })),
        ("at", Cell::Int(done_at.or(due_at).unwrap_or(ctx.now_ms))),
        ("tags", Cell::Text(json!(tags).to_string())),
        ("custom_fields", Cell::Text(custom_json.to_string())),
    ];
    cells.extend(link_cells);
    Ok(Prepared { cells, keys: Vec::new(), tags, custom, search_text: String::new(), refs, owner_id })
}

// ---------------------------------------------------------------- tasks

pub const TASK_STATUSES: [&str; 3] = ["open", "done", "cancelled"];
pub const RECURRENCES: [&str; 4] = ["none", "daily", "weekly", "monthly"];

pub const TASK_COLUMNS: &[Column] = &[
    col("title", ColKind::Text),
    col("description", ColKind::Text),
    col("due_at", ColKind::Timestamp),
    col("priority", ColKind::Text),
    col("status", ColKind::Text),
    derived("completed_at", ColKind::Timestamp),
    col("remind_before_minutes", ColKind::Int),
    col("recurrence", ColKind::Text),
    col("contact_id", ColKind::Int),
    col("company_id", ColKind::Int),
    col("deal_id", ColKind::Int),
    col("lead_id", ColKind::Int),
    col("tags", ColKind::Json),
    col("custom_fields", ColKind::Json),
    col("title_f", ColKind::Shadow),
    derived("display_name", ColKind::Text),
];

pub const TASK_FILTERS: &[Filterable] = &[
    filt("title", "title_f", FilterKind::Folded),
    filt("due_at", "due_at", FilterKind::Timestamp),
    filt("priority", "priority", FilterKind::Text),
    filt("status", "status", FilterKind::Text),
    filt("completed_at", "completed_at", FilterKind::Timestamp),
    filt("recurrence", "recurrence", FilterKind::Text),
    LINK_FILTERS[0],
    LINK_FILTERS[1],
    LINK_FILTERS[2],
    LINK_FILTERS[3],
];

pub fn prepare_task(input: &Map<String, Value>, ctx: &Context) -> Result<Prepared, ValidationErrors> {
    let mut r = Reader::new(input);
    r.reject_unknown(&["title", "description", "due_at", "priority", "status", "remind_before_minutes", "recurrence", "contact_id", "company_id", "deal_id", "lead_id", "tags", "custom_fields"]);
    let mut refs = Vec::new();
    let title = r.text("title", 500);
    if title.is_none() && !r.errors.0.iter().any(|e| e.field == "title") {
        r.errors.add("title", "required", "is required");
    }
    let description = r.long_text("description");
    let due_at = r.timestamp("due_at", ctx.time_zone);
    let priority = r.one_of("priority", &PRIORITIES, Some("normal"));
    let status = r.one_of("status", &TASK_STATUSES, Some("open")).unwrap_or_default();
    let remind = r.int("remind_before_minutes", 0..=43_200);
    let recurrence = r.one_of("recurrence", &RECURRENCES, Some("none")).unwrap_or_default();
    if due_at.is_none() && !r.errors.0.iter().any(|e| e.field == "due_at") {
        if remind.is_some() {
            r.errors.add("remind_before_minutes", "due_at_required", "a reminder needs a due time");
        }
        if recurrence != "none" {
            r.errors.add("recurrence", "due_at_required", "a recurring task needs a due time");
        }
    }
    let link_cells = links(&mut r, &mut refs);
    let tags = r.tags();
    let (custom_json, custom) = r.custom(ctx);
    let owner_id = r.id("owner_id");
    r.errors.clone().into_result()?;

    let completed_at = match (status.as_str(), before_str(ctx, "status")) {
        ("done", Some("done")) => before_ms(ctx, "completed_at").or(Some(ctx.now_ms)),
        ("done", _) => Some(ctx.now_ms),
        _ => None,
    };
    let mut cells = vec![
        ("title_f", folded(&title)),
        ("display_name", Cell::Text(title.clone().unwrap_or_default())),
        ("title", opt_text(title)),
        ("description", opt_text(description)),
        ("due_at", ts(due_at)),
        ("priority", opt_text(priority)),
        ("status", Cell::Text(status)),
        ("completed_at", ts(completed_at)),
        ("remind_before_minutes", int(remind)),
        ("recurrence", Cell::Text(recurrence)),
        ("tags", Cell::Text(json!(tags).to_string())),
        ("custom_fields", Cell::Text(custom_json.to_string())),
    ];
    cells.extend(link_cells);
    Ok(Prepared { cells, keys: Vec::new(), tags, custom, search_text: String::new(), refs, owner_id })
}

/// The next due time of a recurring task: the same local time one period later.
pub fn next_occurrence(due_ms: i64, recurrence: &str, tz: chrono_tz::Tz) -> Option<i64> {
    use chrono::{Months, TimeZone};
    let local = tz.timestamp_millis_opt(due_ms).single()?.naive_local();
    let next = match recurrence {
        "daily" => local + chrono::Duration::days(1),
        "weekly" => local + chrono::Duration::weeks(1),
        "monthly" => local.checked_add_months(Months::new(1))?,
        _ => return None,
    };
    tz.from_local_datetime(&next).earliest().map(|t| t.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::super::config::{Config, LostReason, Names, Pipeline, PriceList, Stage};
    use super::*;

    fn config() -> Config {
        let stage = |id, kind, probability| Stage { id, pipeline_id: 1, names: Names { ru: Some(format!("Этап {id}")), en: None }, kind, probability };
        Config {
            base_currency: "RUB".into(),
            vat_rates: vec!["22".into(), "10".into(), "none".into()],
            pipelines: vec![
                Pipeline { id: 1, names: Names::default(), stages: vec![stage(1, StageKind::Open, 10), stage(2, StageKind::Open, 50), stage(3, StageKind::Won, 100), stage(4, StageKind::Lost, 0)] },
                Pipeline { id: 2, names: Names::default(), stages: vec![Stage { id: 9, pipeline_id: 2, names: Names::default(), kind: StageKind::Open, probability: 20 }] },
            ],
            lost_reasons: vec![LostReason { id: 1, names: Names::default(), requires_comment: false, active: true }, LostReason { id: 2, names: Names::default(), requires_comment: true, active: true }],
            price_lists: vec![PriceList { id: 7, names: Names::default(), currency: "RUB".into(), active: true }, PriceList { id: 8, names: Names::default(), currency: "USD".into(), active: false }],
        }
    }

    #[test]
    fn a_deal_follows_a_price_list_of_its_currency() {
        let c = config();
        let d = prepare_deal(&obj(json!({"title": "X", "price_list_id": 7})), &ctx(&c, None)).unwrap();
        assert_eq!(cell(&d, "price_list_id"), &Cell::Int(7));
        let e = prepare_deal(&obj(json!({"title": "X", "price_list_id": 8, "currency": "RUB"})), &ctx(&c, None)).unwrap_err();
        assert_eq!(e.0.iter().map(|f| f.code.as_str()).collect::<Vec<_>>(), ["inactive_price_list", "other_currency"]);
        assert_eq!(fields(prepare_deal(&obj(json!({"title": "X", "price_list_id": 99})), &ctx(&c, None)).unwrap_err()), vec!["price_list_id"]);
    }

    fn ctx<'a>(c: &'a Config, before: Option<&'a Map<String, Value>>) -> Context<'a> {
        Context { region: "RU", custom_fields: &[], sales: c, time_zone: chrono_tz::Europe::Moscow, before, now_ms: 1_700_000_000_000 }
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    fn cell<'a>(p: &'a Prepared, name: &str) -> &'a Cell {
        &p.cells.iter().find(|(n, _)| *n == name).unwrap().1
    }

    fn fields(e: ValidationErrors) -> Vec<String> {
        e.0.into_iter().map(|f| f.field).collect()
    }

    #[test]
    fn deal_lines_make_the_amount() {
        let c = config();
        let p = prepare_deal(&obj(json!({"title": "Поставка", "vat_included": false, "amount": "1", "items": [
            {"name": "Стол", "quantity": "3", "price": "1000", "discount_percent": 10, "vat_rate": "22"},
            {"name": "Доставка", "quantity": 1, "price": "500.50", "vat_rate": "none", "unit": "service"}]})), &ctx(&c, None)).unwrap();
        assert_eq!(cell(&p, "amount"), &Cell::Text("3794.50".into()));
        assert_eq!(cell(&p, "vat_amount"), &Cell::Text("594.00".into()));
        assert_eq!(cell(&p, "stage_id"), &Cell::Int(1));
        assert_eq!(cell(&p, "win_probability"), &Cell::Int(10));
    }

    #[test]
    fn deal_rejects_bad_lines_and_foreign_stages() {
        let c = config();
        let e = prepare_deal(&obj(json!({"title": "X", "pipeline_id": 2, "stage_id": 2, "items": [{"name": "A", "quantity": "-1", "price": "1", "vat_rate": "18"}]})), &ctx(&c, None)).unwrap_err();
        let f = fields(e);
        for want in ["stage_id", "items[0].quantity", "items[0].vat_rate"] {
            assert!(f.contains(&want.to_owned()), "{want} not in {f:?}");
        }
    }

    #[test]
    fn losing_needs_a_reason_and_closing_dates_follow_the_stage() {
        let c = config();
        let e = prepare_deal(&obj(json!({"title": "X", "stage_id": 4})), &ctx(&c, None)).unwrap_err();
        assert_eq!(fields(e), vec!["lost_reason_id"]);
        let e = prepare_deal(&obj(json!({"title": "X", "stage_id": 4, "lost_reason_id": 2})), &ctx(&c, None)).unwrap_err();
        assert_eq!(fields(e), vec!["lost_comment"]);
        let lost = prepare_deal(&obj(json!({"title": "X", "stage_id": 4, "lost_reason_id": 1})), &ctx(&c, None)).unwrap();
        assert_eq!(cell(&lost, "closed_at"), &Cell::Int(1_700_000_000_000));
        assert_eq!(cell(&lost, "status"), &Cell::Text("lost".into()));
        // Reopening clears the reason and the closing date.
        let before = obj(json!({"stage_id": 4, "status": "lost", "closed_at": "2023-11-14T22:13:20.000Z", "lost_reason_id": 1, "stage_changed_at": "2023-11-14T22:13:20.000Z"}));
        let reopened = prepare_deal(&obj(json!({"title": "X", "stage_id": 2, "lost_reason_id": 1})), &ctx(&c, Some(&before))).unwrap();
        assert_eq!(cell(&reopened, "closed_at"), &Cell::Null);
        assert_eq!(cell(&reopened, "lost_reason_id"), &Cell::Null);
    }

    #[test]
    fn local_due_times_are_the_owners() {
        let c = config();
        let p = prepare_task(&obj(json!({"title": "Позвонить", "due_at": "2026-11-23T10:00"})), &ctx(&c, None)).unwrap();
        // 10:00 in Moscow is 07:00 UTC.
        assert_eq!(cell(&p, "due_at"), &Cell::Int(chrono::DateTime::parse_from_rfc3339("2026-11-23T07:00:00Z").unwrap().timestamp_millis()));
        let e = prepare_task(&obj(json!({"title": "X", "recurrence": "weekly"})), &ctx(&c, None)).unwrap_err();
        assert_eq!(fields(e), vec!["recurrence"]);
    }

    #[test]
    fn monthly_recurrence_keeps_local_time() {
        let due = chrono::DateTime::parse_from_rfc3339("2026-01-31T09:00:00+03:00").unwrap().timestamp_millis();
        let next = next_occurrence(due, "monthly", chrono_tz::Europe::Moscow).unwrap();
        assert_eq!(chrono::DateTime::from_timestamp_millis(next).unwrap().to_rfc3339(), "2026-02-28T06:00:00+00:00");
    }

    #[test]
    fn leads_qualify_only_by_conversion() {
        let c = config();
        let e = prepare_lead(&obj(json!({"name": "Иван", "status": "qualified"})), &ctx(&c, None)).unwrap_err();
        assert_eq!(fields(e), vec!["status"]);
        let e = prepare_lead(&obj(json!({"message": "привет"})), &ctx(&c, None)).unwrap_err();
        assert_eq!(fields(e), vec!["name"]);
        let p = prepare_lead(&obj(json!({"phone": "8 916 123-45-67", "utm": {"source": "yandex"}})), &ctx(&c, None)).unwrap();
        assert_eq!(cell(&p, "phone"), &Cell::Text("+79161234567".into()));
        assert_eq!(cell(&p, "utm_source"), &Cell::Text("yandex".into()));
    }

    #[test]
    fn activities_know_their_kind() {
        let c = config();
        let e = prepare_activity(&obj(json!({"kind": "note", "duration_seconds": 5})), &ctx(&c, None)).unwrap_err();
        let f = fields(e);
        assert!(f.contains(&"body".to_owned()) && f.contains(&"duration_seconds".to_owned()), "{f:?}");
        let call = prepare_activity(&obj(json!({"kind": "call", "duration_seconds": 120, "outcome": "connected"})), &ctx(&c, None)).unwrap();
        assert_eq!(cell(&call, "status"), &Cell::Text("done".into()));
        let meeting = prepare_activity(&obj(json!({"kind": "meeting", "starts_at": "2026-11-23T10:00:00+03:00"})), &ctx(&c, None)).unwrap();
        assert_eq!(cell(&meeting, "status"), &Cell::Text("planned".into()));
    }
}
