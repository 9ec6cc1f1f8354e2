//! Leads becoming customers: conversion into a contact, a company and a deal in one
//! transaction, and the public web forms that create leads from websites.
use crate::accounts::{self, Principal, random_token};
use crate::db::{Db, Row, Tx, get_i64, get_opt_i64, get_str, query};
use crate::error::{Error, Result};
use crate::now_ms;
use crate::records::{self, Record, WriteOptions};
use accord_domain::entities::Entity;
use accord_domain::{FieldError, ValidationErrors};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConvertRequest {
    /// Link this existing contact instead of creating one.
    pub contact_id: Option<i64>,
    /// Link this existing company. Without it a visible company with the lead's INN is
    /// linked, or one is created from the lead's company name (a duplicate by INN, e-mail
    /// or phone links the existing company instead).
    pub company_id: Option<i64>,
    /// Create a deal (default true).
    #[serde(default = "yes")]
    pub create_deal: bool,
    /// Fields of the new deal (title, pipeline_id, stage_id, amount, items …). The title
    /// defaults to the lead's name; company, contact, source, owner and lead come from the
    /// conversion.
    #[schema(value_type = Object)]
    pub deal: Option<Map<String, Value>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConvertResult {
    #[schema(value_type = Object)]
    pub lead: Value,
    pub contact_id: Option<i64>,
    /// False when an existing contact was linked.
    pub contact_created: bool,
    pub company_id: Option<i64>,
    pub company_created: bool,
    pub deal_id: Option<i64>,
}

/// Field errors of a record created on the way, under its name: `contact.emails[0].value`.
fn under(prefix: &str, e: Error) -> Error {
    match e {
        Error::Invalid(v) => Error::Invalid(ValidationErrors(v.0.into_iter().map(|f| FieldError { field: format!("{prefix}.{}", f.field), ..f }).collect())),
        other => other,
    }
}

/// Creates a record, or links the visible record it duplicates.
async fn create_or_link(db: &Db, tx: &mut Tx, p: &Principal, entity: Entity, input: &Map<String, Value>, prefix: &str) -> Result<(i64, bool)> {
    let custom = crate::custom_fields::for_entity(db, p.workspace_id, entity).await?;
    match records::create_in(db, tx, p, entity, input, &custom, &WriteOptions { allow_duplicates: false }).await {
        Ok(rec) => Ok((rec.id, true)),
        Err(Error::Duplicate(matches)) => matches.first().map(|m| (m.id, false)).ok_or(Error::Corrupt("a duplicate without a match".into())),
        Err(e) => Err(under(prefix, e)),
    }
}

async fn visible(db: &Db, p: &Principal, entity: Entity, id: i64, field: &str) -> Result<i64> {
    match records::get(db, &p.viewer, entity, id, false).await {
        Ok(_) => Ok(id),
        Err(Error::NotFound) => Err(ValidationErrors::single(field, &format!("unknown_{}", entity.as_str()), format!("no such {}", entity.as_str())).into()),
        Err(e) => Err(e),
    }
}

fn text<'a>(lead: &'a Record, key: &str) -> Option<&'a str> {
    lead.fields.get(key).and_then(Value::as_str)
}

pub async fn convert(db: &Db, p: &Principal, lead_id: i64, req: ConvertRequest) -> Result<ConvertResult> {
    let mut tx = db.begin().await?;
    let lead = records::get_for_write(db, &mut tx, &p.viewer, Entity::Lead, lead_id, false).await?;
    match text(&lead, "status") {
        Some("qualified") => return Err(Error::conflict("lead_converted", "the lead is already converted")),
        Some("disqualified") => return Err(Error::conflict("lead_disqualified", "the lead is disqualified: set it back to in_work first")),
        _ => {}
    }
    let owner = json!(lead.owner_id);

    let (company_id, company_created) = match req.company_id {
        Some(id) => (Some(visible(db, p, Entity::Company, id, "company_id").await?), false),
        None => {
            let by_inn = match text(&lead, "inn") {
                Some(inn) => records::find_by_key(db, &p.viewer, Entity::Company, "inn", inn).await?,
                None => None,
            };
            match (by_inn, text(&lead, "company_name")) {
                (Some(id), _) => (Some(id), false),
                (None, Some(name)) => {
                    let mut c = Map::new();
                    c.insert("name".into(), json!(name));
                    c.insert("owner_id".into(), owner.clone());
                    if let Some(inn) = text(&lead, "inn") {
                        c.insert("inn".into(), json!(inn));
                        c.insert("kind".into(), json!(if inn.len() == 12 { "sole_proprietor" } else { "legal_entity" }));
                    }
                    let (id, created) = create_or_link(db, &mut tx, p, Entity::Company, &c, "company").await?;
                    (Some(id), created)
                }
                (None, None) => (None, false),
            }
        }
    };

    let (contact_id, contact_created) = match req.contact_id {
        Some(id) => (Some(visible(db, p, Entity::Contact, id, "contact_id").await?), false),
        None => {
            let mut c = Map::new();
            // Web forms ask for "name": its first word is taken as the first name.
            let name = text(&lead, "name").or(text(&lead, "email")).or(text(&lead, "phone")).unwrap_or_default();
            let mut words = name.split_whitespace();
            c.insert("first_name".into(), json!(words.next()));
            let rest: Vec<&str> = words.collect();
            if !rest.is_empty() {
                c.insert("last_name".into(), json!(rest.join(" ")));
            }
            if let Some(e) = text(&lead, "email") {
                c.insert("emails".into(), json!([e]));
            }
            if let Some(ph) = text(&lead, "phone") {
                c.insert("phones".into(), json!([ph]));
            }
            c.insert("primary_company_id".into(), json!(company_id));
            c.insert("source".into(), json!(text(&lead, "source")));
            c.insert("owner_id".into(), owner.clone());
            let (id, created) = create_or_link(db, &mut tx, p, Entity::Contact, &c, "contact").await?;
            (Some(id), created)
        }
    };

    let deal_id = if req.create_deal {
        let mut d = req.deal.unwrap_or_default();
        d.entry("title").or_insert_with(|| json!(text(&lead, "display_name")));
        d.insert("company_id".into(), json!(company_id));
        d.insert("contacts".into(), json!(contact_id.map(|c| vec![json!({ "contact_id": c, "role": "decision_maker" })]).unwrap_or_default()));
        d.insert("lead_id".into(), json!(lead_id));
        d.entry("source").or_insert_with(|| json!(text(&lead, "source")));
        d.entry("owner_id").or_insert(owner);
        let custom = crate::custom_fields::for_entity(db, p.workspace_id, Entity::Deal).await?;
        Some(records::create_in(db, &mut tx, p, Entity::Deal, &d, &custom, &WriteOptions { allow_duplicates: true }).await.map_err(|e| under("deal", e))?.id)
    } else {
        None
    };

    let now = now_ms();
    let n = query("UPDATE leads SET status = 'qualified', contact_id = $1, company_id = $2, deal_id = $3, converted_at = $4, version = version + 1, updated_at = $5, updated_by = $6 WHERE id = $7 AND version = $8")
        .bind(contact_id)
        .bind(company_id)
        .bind(deal_id)
        .bind(now)
        .bind(now)
        .bind(p.user.id)
        .bind(lead_id)
        .bind(lead.version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n != 1 {
        return Err(Error::VersionConflict { expected: lead.version, current: lead.version + 1 });
    }
    let changes = json!({
        "status": [text(&lead, "status"), "qualified"],
        "contact_id": [null, contact_id],
        "company_id": [null, company_id],
        "deal_id": [null, deal_id],
        "converted_at": [null, crate::timeline::rfc3339(now)],
    });
    super::record_change(&mut tx, p, Entity::Lead, lead_id, "convert", changes).await?;
    tx.commit().await?;
    let lead = records::get(db, &p.viewer, Entity::Lead, lead_id, false).await?;
    Ok(ConvertResult { lead: Value::Object(lead.fields), contact_id, contact_created, company_id, company_created, deal_id })
}

// ---------------------------------------------------------------- web forms

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebForm {
    pub id: i64,
    pub name: String,
    /// The opaque key in the form's public URL: `POST /api/v1/forms/{form_key}`.
    pub form_key: String,
    /// Who owns the leads the form creates.
    pub owner_id: i64,
    /// The leads' source; "web_form" when not set.
    pub source: Option<String>,
    pub active: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebFormInput {
    pub name: Option<String>,
    pub owner_id: Option<i64>,
    pub source: Option<String>,
    pub active: Option<bool>,
}

fn form_from_row(r: &Row) -> Result<WebForm> {
    Ok(WebForm {
        id: get_i64(r, "id")?,
        name: get_str(r, "name")?,
        form_key: get_str(r, "form_key")?,
        owner_id: get_i64(r, "owner_id")?,
        source: crate::db::get_opt_str(r, "source")?,
        active: get_i64(r, "active")? != 0,
    })
}

pub async fn web_forms(db: &Db, p: &Principal) -> Result<Vec<WebForm>> {
    p.require_admin()?;
    let rows = query("SELECT id, name, form_key, owner_id, source, active FROM web_forms WHERE workspace_id = $1 ORDER BY id").bind(p.workspace_id).fetch_all(db).await?;
    rows.iter().map(form_from_row).collect()
}

pub async fn save_web_form(db: &Db, p: &Principal, id: Option<i64>, input: WebFormInput) -> Result<WebForm> {
    p.require_admin()?;
    let current = match id {
        Some(id) => Some(web_forms(db, p).await?.into_iter().find(|f| f.id == id).ok_or(Error::NotFound)?),
        None => None,
    };
    let mut errors = ValidationErrors::new();
    let name = match (&input.name, &current) {
        (Some(n), _) => errors.check("name", accord_domain::text::short(n)).flatten(),
        (None, Some(c)) => Some(c.name.clone()),
        (None, None) => None,
    };
    if name.is_none() && !errors.0.iter().any(|e| e.field == "name") {
        errors.add("name", "required", "is required");
    }
    let source = match (&input.source, &current) {
        (Some(s), _) => errors.check("source", accord_domain::text::line(s, 200)).flatten(),
        (None, Some(c)) => c.source.clone(),
        (None, None) => None,
    };
    let owner_id = input.owner_id.or(current.as_ref().map(|c| c.owner_id)).unwrap_or(p.user.id);
    if !accounts::members(db, p.workspace_id).await?.iter().any(|m| m.user_id == owner_id && m.active) {
        errors.add("owner_id", "unknown_user", "is not an active member of this workspace");
    }
    errors.into_result()?;
    let active = input.active.or(current.as_ref().map(|c| c.active)).unwrap_or(true);
    let name = name.unwrap_or_default();
    let id = match current {
        Some(c) => {
            query("UPDATE web_forms SET name = $1, owner_id = $2, source = $3, active = $4 WHERE id = $5")
                .bind(&name)
                .bind(owner_id)
                .bind(&source)
                .bind(i64::from(active))
                .bind(c.id)
                .execute(&mut *db.writer().await?)
                .await?;
            c.id
        }
        None => {
            let row = query("INSERT INTO web_forms (workspace_id, name, form_key, owner_id, source, active, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
                .bind(p.workspace_id)
                .bind(&name)
                .bind(random_token("wf_"))
                .bind(owner_id)
                .bind(&source)
                .bind(i64::from(active))
                .bind(now_ms())
                .fetch_one(db)
                .await?;
            get_i64(&row, "id")?
        }
    };
    web_forms(db, p).await?.into_iter().find(|f| f.id == id).ok_or(Error::NotFound)
}

pub async fn delete_web_form(db: &Db, p: &Principal, id: i64) -> Result<()> {
    p.require_admin()?;
    let n = query("DELETE FROM web_forms WHERE id = $1 AND workspace_id = $2").bind(id).bind(p.workspace_id).execute(&mut *db.writer().await?).await?.rows_affected();
    if n == 0 { Err(Error::NotFound) } else { Ok(()) }
}

/// Posts allowed per client address in [`FORM_WINDOW_MS`], across all forms.
pub const FORM_POSTS_PER_WINDOW: i64 = 10;
pub const FORM_WINDOW_MS: i64 = 10 * 60 * 1000;
/// The field a human never sees or fills; a bot that fills it is told "received".
pub const HONEYPOT_FIELD: &str = "_hp";

pub enum FormOutcome {
    Created,
    /// A bot: nothing was stored, and it is not told.
    Ignored,
}

const FORM_FIELDS: [&str; 6] = ["name", "email", "phone", "company", "inn", "message"];

/// A post of a public web form. Unknown or inactive keys, throttled addresses and bad
/// input say nothing about the workspace behind the form.
pub async fn submit_form(db: &Db, form_key: &str, client_addr: &str, fields: &Map<String, Value>) -> Result<FormOutcome> {
    let now = now_ms();
    let key = format!("form:{client_addr}");
    let mut tx = db.begin().await?;
    query("DELETE FROM form_hits WHERE client_key = $1 AND at < $2").bind(&key).bind(now - FORM_WINDOW_MS).execute(&mut *tx).await?;
    let row = query("SELECT COUNT(*) AS n, MIN(at) AS first FROM form_hits WHERE client_key = $1").bind(&key).fetch_one(&mut *tx).await?;
    if get_i64(&row, "n")? >= FORM_POSTS_PER_WINDOW {
        let first = get_opt_i64(&row, "first")?.unwrap_or(now);
        return Err(Error::TooManyAttempts { retry_after_secs: ((first + FORM_WINDOW_MS - now) / 1000).max(1) });
    }
    query("INSERT INTO form_hits (client_key, at) VALUES ($1, $2)").bind(&key).bind(now).execute(&mut *tx).await?;
    tx.commit().await?;

    let form = query("SELECT workspace_id, owner_id, source FROM web_forms WHERE form_key = $1 AND active = 1").bind(form_key).fetch_optional(db).await?.ok_or(Error::NotFound)?;
    if fields.get(HONEYPOT_FIELD).is_some_and(|v| v.as_str().is_none_or(|s| !s.trim().is_empty())) {
        return Ok(FormOutcome::Ignored);
    }
    let mut lead = Map::new();
    let mut extra = Vec::new();
    let mut utm = Map::new();
    for (k, v) in fields {
        let value = match v {
            Value::String(s) => s.clone(),
            Value::Null => continue,
            other => other.to_string(),
        };
        if value.trim().is_empty() || k == HONEYPOT_FIELD {
            continue;
        }
        match k.as_str() {
            k if FORM_FIELDS.contains(&k) => {
                lead.insert(if k == "company" { "company_name".into() } else { k.to_owned() }, json!(value));
            }
            "company_name" => {
                lead.insert("company_name".into(), json!(value));
            }
            k if k.starts_with("utm_") => {
                utm.insert(k.trim_start_matches("utm_").to_owned(), json!(value));
            }
            // Whatever else the site's form asks is kept with the message.
            _ if extra.len() < 20 => extra.push(format!("{}: {}", accord_domain::text::line(k, 100).ok().flatten().unwrap_or_default(), value)),
            _ => {}
        }
    }
    if !extra.is_empty() {
        let message = lead.get("message").and_then(Value::as_str).map(|m| format!("{m}\n\n")).unwrap_or_default();
        lead.insert("message".into(), json!(format!("{message}{}", extra.join("\n"))));
    }
    if !utm.is_empty() {
        lead.insert("utm".into(), Value::Object(utm));
    }
    lead.insert("source".into(), json!(crate::db::get_opt_str(&form, "source")?.unwrap_or_else(|| "web_form".into())));
    let ws = get_i64(&form, "workspace_id")?;
    let owner = get_i64(&form, "owner_id")?;
    lead.insert("owner_id".into(), json!(owner));
    let p = accounts::principal_for(db, ws, owner).await?;
    let custom = crate::custom_fields::for_entity(db, ws, Entity::Lead).await?;
    match records::create(db, &p, Entity::Lead, &lead, &custom, &WriteOptions { allow_duplicates: true }).await {
        Ok(_) => Ok(FormOutcome::Created),
        Err(Error::Invalid(e)) => Err(Error::Invalid(e)),
        // The form's owner lost the right to create leads: the form is unavailable.
        Err(_) => Err(Error::NotFound),
    }
}
