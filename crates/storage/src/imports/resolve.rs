//! References written as text — an owner's e-mail or name, a company's INN or name, a stage's
//! name — resolved to ids, through the importer's visibility, remembered for the rest of the
//! import. What is not found is a problem of the row, or is created when the user chose so.
use super::Options;
use super::run::Problem;
use crate::accounts::{Member, Principal};
use crate::db::{Db, Tx, get_i64, get_opt_str, get_str, query};
use crate::error::Result;
use crate::{records, visibility};
use accord_domain::entities::Entity;
use accord_domain::imports::mapping::{RefKind, header_key};
use accord_domain::imports::row::{Built, split_name};
use accord_domain::sales::{Config, Names, StageKind};
use accord_domain::text::fold;
use sea_query::{Expr, ExprTrait, Query};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

#[derive(Clone, Copy)]
enum Found {
    One(i64),
    Many,
    None,
}

pub(super) struct Resolver {
    entity: Entity,
    options: Options,
    members: Vec<Member>,
    sales: Config,
    /// The catalogue (id, SKU, name), read once: products are matched loosely by name.
    products: Vec<(i64, Option<String>, String)>,
    cache: HashMap<(RefKind, String), Found>,
    /// Creating nothing: a check resolves what a run would create to placeholders.
    dry: bool,
    placeholder: i64,
    pub(super) created: Vec<(Entity, i64)>,
    /// Custom field definitions of the kinds created on the way, read once each.
    custom: HashMap<Entity, Vec<accord_domain::query::CustomField>>,
}

/// A placeholder id for what a check would create; validation needs a positive id.
const PLACEHOLDER_BASE: i64 = i64::MAX / 2;

impl Resolver {
    pub(super) async fn load(db: &Db, p: &Principal, entity: Entity, options: &Options, dry: bool) -> Result<Resolver> {
        let members = crate::accounts::members(db, p.workspace_id).await?.into_iter().filter(|m| m.active).collect();
        let sales = crate::sales::config(db, p.workspace_id).await?;
        let mut s = Query::select();
        s.columns([(records::T, "id"), (records::T, "sku"), (records::T, "name")])
            .from_as(Entity::Product.table(), records::T)
            .cond_where(visibility::readable(&p.viewer, records::T))
            .and_where(Expr::col((records::T, "deleted_at")).is_null());
        let products = db.fetch_all(&s).await?.iter().map(|r| Ok((get_i64(r, "id")?, get_opt_str(r, "sku")?, get_str(r, "name")?))).collect::<Result<_>>()?;
        Ok(Resolver { entity, options: options.clone(), members, sales, products, cache: HashMap::new(), dry, placeholder: PLACEHOLDER_BASE, created: Vec::new(), custom: HashMap::new() })
    }

    fn owner(&self, raw: &str) -> Option<i64> {
        let f = fold(raw);
        self.members.iter().find(|m| fold(&m.email) == f).or_else(|| self.members.iter().find(|m| fold(&m.name) == f)).map(|m| m.user_id)
    }

    async fn lookup(&mut self, db: &Db, p: &Principal, kind: RefKind, raw: &str) -> Result<Found> {
        let key = (kind, fold(raw));
        if let Some(f) = self.cache.get(&key) {
            return Ok(*f);
        }
        let found = match kind {
            RefKind::Company => by_column(db, p, Entity::Company, "name_f", &fold(raw)).await?,
            RefKind::CompanyInn => one(records::find_by_key(db, &p.viewer, Entity::Company, "inn", &raw.chars().filter(char::is_ascii_digit).collect::<String>()).await?),
            RefKind::CompanyDomain => match accord_domain::entities::domain_in(raw) {
                Some(domain) => by_column(db, p, Entity::Company, "domain", &domain).await?,
                None => Found::None,
            },
            RefKind::CompanyExternalId => one(by_external(db, p, Entity::Company, raw).await?),
            RefKind::ContactExternalId => one(by_external(db, p, Entity::Contact, raw).await?),
            RefKind::Contact if raw.contains('@') => one(records::find_by_key(db, &p.viewer, Entity::Contact, "email", &fold(raw)).await?),
            RefKind::Contact => {
                let mut parts = Map::new();
                split_name(raw, &mut parts);
                let first = parts.get("first_name").and_then(Value::as_str).map(fold);
                let last = parts.get("last_name").and_then(Value::as_str).map(fold);
                let mut s = Query::select();
                s.column((records::T, "id"))
                    .from_as(Entity::Contact.table(), records::T)
                    .cond_where(visibility::readable(&p.viewer, records::T))
                    .and_where(Expr::col((records::T, "workspace_id")).eq(p.workspace_id))
                    .and_where(Expr::col((records::T, "deleted_at")).is_null())
                    .and_where(match &first {
                        Some(f) => Expr::col((records::T, "first_name_f")).eq(f.clone()),
                        None => Expr::col((records::T, "first_name_f")).is_null(),
                    })
                    .and_where(match &last {
                        Some(l) => Expr::col((records::T, "last_name_f")).eq(l.clone()),
                        None => Expr::col((records::T, "last_name_f")).is_null(),
                    })
                    .limit(2);
                many(db.fetch_all(&s).await?.iter().map(|r| get_i64(r, "id")).collect::<Result<Vec<_>>>()?)
            }
            RefKind::Deal => match by_external(db, p, Entity::Deal, raw).await? {
                Some(id) => Found::One(id),
                None => by_column(db, p, Entity::Deal, "title_f", &fold(raw)).await?,
            },
            RefKind::Product => {
                let sku = raw.trim();
                let loose = header_key(raw);
                let by_sku: Vec<i64> = self.products.iter().filter(|(_, s, _)| s.as_deref() == Some(sku)).map(|(id, ..)| *id).collect();
                if by_sku.is_empty() { many(self.products.iter().filter(|(_, _, n)| header_key(n) == loose).map(|(id, ..)| *id).collect()) } else { many(by_sku) }
            }
            RefKind::Owner | RefKind::Pipeline | RefKind::Stage | RefKind::LostReason => Found::None,
        };
        self.cache.insert(key, found);
        Ok(found)
    }

    /// Creates (or, in a check, pretends to create) a referenced record that has only a name.
    async fn create(&mut self, db: &Db, tx: Option<&mut Tx>, p: &Principal, kind: RefKind, raw: &str) -> Result<std::result::Result<i64, Problem>> {
        let (entity, input) = match kind {
            RefKind::Company => (Entity::Company, json!({ "name": raw })),
            RefKind::Product => (Entity::Product, json!({ "name": raw })),
            RefKind::Contact if !raw.contains('@') => {
                let mut m = Map::new();
                split_name(raw, &mut m);
                (Entity::Contact, Value::Object(m))
            }
            RefKind::Contact => (Entity::Contact, json!({ "last_name": raw.split('@').next().unwrap_or(raw), "emails": [raw] })),
            _ => return Ok(Err(Problem::new(None, "unknown_reference", format!("{raw:?} cannot be created")))),
        };
        let id = match tx {
            Some(tx) if !self.dry => {
                if let std::collections::hash_map::Entry::Vacant(slot) = self.custom.entry(entity) {
                    slot.insert(crate::custom_fields::for_entity(db, p.workspace_id, entity).await?);
                }
                let custom = self.custom.get(&entity).map_or(&[][..], Vec::as_slice);
                let input = input.as_object().cloned().unwrap_or_default();
                match records::create_in(db, tx, p, entity, &input, custom, &records::WriteOptions { allow_duplicates: true }).await {
                    Ok(rec) => {
                        self.created.push((entity, rec.id));
                        rec.id
                    }
                    Err(crate::Error::Invalid(e)) => return Ok(Err(Problem::new(None, "cannot_create", format!("{raw:?} cannot be created: {}", e.0.iter().map(|f| format!("{} {}", f.field, f.message)).collect::<Vec<_>>().join("; "))))),
                    Err(e) => return Err(e),
                }
            }
            _ => {
                self.placeholder += 1;
                self.placeholder
            }
        };
        self.cache.insert((kind, fold(raw)), Found::One(id));
        if kind == RefKind::Product {
            self.products.push((id, None, raw.to_owned()));
        }
        Ok(Ok(id))
    }

    /// Puts the resolved references of a built row into its input; unresolved ones become
    /// problems named by their column.
    pub(super) async fn apply(&mut self, db: &Db, mut tx: Option<&mut Tx>, p: &Principal, b: &mut Built, headers: &[String]) -> Result<Vec<Problem>> {
        let (entity, options) = (self.entity, self.options.clone());
        let options = &options;
        let mut problems = Vec::new();
        let column = |col: usize| headers.get(col).cloned();
        let refs = b.refs.clone();
        let pipeline_raw = refs.iter().find(|(k, ..)| *k == RefKind::Pipeline).map(|(_, r, c)| (r.clone(), *c));
        let mut pipeline_id = options.pipeline_id.filter(|id| self.sales.pipeline(*id).is_some());
        if let Some((raw, col)) = &pipeline_raw {
            let f = fold(raw);
            match self.sales.pipelines.iter().find(|pl| names_match(&pl.names, &f)) {
                Some(pl) => pipeline_id = Some(pl.id),
                None => problems.push(Problem::new(column(*col), "unknown_pipeline", format!("no pipeline is called {raw:?}; pipelines: {}", self.sales.pipelines.iter().map(|pl| pl.names.for_locale(&p.user.locale)).collect::<Vec<_>>().join(", ")))),
            }
        }
        // The most precise reference to a company or contact decides (the old system's id,
        // then the INN or e-mail, then the name); the less precise ones are not looked up.
        let mut refs = refs;
        refs.sort_by_key(|(kind, ..)| precision(*kind));
        let mut settled: Vec<&'static str> = Vec::new();
        for (kind, raw, col) in refs {
            let group = ref_noun(kind);
            if matches!(group, "company" | "contact") && settled.contains(&group) {
                continue;
            }
            let value: Option<Value> = match kind {
                RefKind::Pipeline => pipeline_id.map(|id| json!(id)),
                RefKind::Owner => match self.owner(&raw) {
                    Some(id) => Some(json!(id)),
                    None if options.unknown_owner_to_me => Some(json!(p.user.id)),
                    None => {
                        problems.push(Problem::new(column(col), "unknown_user", format!("no active member has the e-mail or name {raw:?}")));
                        None
                    }
                },
                RefKind::Stage => {
                    let f = fold(&raw);
                    let stages = self.sales.pipelines.iter().filter(|pl| pipeline_id.is_none_or(|id| id == pl.id)).flat_map(|pl| pl.stages.iter());
                    let found: Vec<_> = stages.filter(|s| names_match(&s.names, &f)).collect();
                    match found.as_slice() {
                        [s, ..] => {
                            pipeline_id = Some(s.pipeline_id);
                            Some(json!(s.id))
                        }
                        [] => {
                            problems.push(Problem::new(column(col), "unknown_stage", format!("no stage is called {raw:?}")));
                            None
                        }
                    }
                }
                RefKind::LostReason => {
                    let f = fold(&raw);
                    match self.sales.lost_reasons.iter().find(|r| names_match(&r.names, &f)) {
                        Some(r) => Some(json!(r.id)),
                        // A reason not in the workspace's list is kept as the comment; the stage
                        // decides whether the deal needs a reason at all.
                        None => {
                            b.input.entry("lost_comment").or_insert_with(|| json!(raw));
                            None
                        }
                    }
                }
                _ => {
                    let creatable = match kind {
                        RefKind::Company => Some("company"),
                        RefKind::Contact => Some("contact"),
                        RefKind::Product => Some("product"),
                        _ => None,
                    };
                    match self.lookup(db, p, kind, &raw).await? {
                        Found::One(id) => Some(json!(id)),
                        Found::Many => {
                            problems.push(Problem::new(column(col), "ambiguous_reference", format!("several records match {raw:?}")));
                            None
                        }
                        Found::None if creatable.is_some_and(|c| options.create_missing.iter().any(|m| m == c)) => match self.create(db, tx.as_deref_mut(), p, kind, &raw).await? {
                            Ok(id) => Some(json!(id)),
                            Err(pr) => {
                                problems.push(Problem { column: column(col), ..pr });
                                None
                            }
                        },
                        Found::None => {
                            problems.push(Problem::new(column(col), "not_found", format!("no {} matches {raw:?}", ref_noun(kind))));
                            None
                        }
                    }
                }
            };
            if let Some(v) = value {
                put(entity, kind, v, &mut b.input);
                settled.push(group);
            }
        }
        // A contact given no company joins the one at its e-mail's domain, when exactly one
        // company has it and the domain is not a public mail service's.
        if entity == Entity::Contact && options.company_by_email_domain && !settled.contains(&"company") {
            let first_email = b.input.get("emails").and_then(Value::as_array).and_then(|e| e.first()).and_then(|e| e.as_str().or_else(|| e.get("value").and_then(Value::as_str))).map(str::to_owned);
            if let Some(domain) = first_email.as_deref().map(accord_domain::email::domain_of).filter(|d| !d.is_empty() && !accord_domain::email::is_public_mail(d))
                && let Found::One(id) = self.lookup(db, p, RefKind::CompanyDomain, domain).await?
            {
                put(entity, RefKind::CompanyDomain, json!(id), &mut b.input);
            }
        }
        self.settle_stage(b, pipeline_id, &mut problems);
        Ok(problems)
    }

    /// A status column (won/lost) without a stage of that kind puts the deal into the
    /// pipeline's first stage of the kind; a lost deal without a known reason takes the
    /// default the user chose.
    fn settle_stage(&self, b: &mut Built, pipeline_id: Option<i64>, problems: &mut Vec<Problem>) {
        let options = &self.options;
        if self.entity != Entity::Deal {
            return;
        }
        let stage_kind = b.input.get("stage_id").and_then(Value::as_i64).and_then(|id| self.sales.stage(id)).map(|s| s.kind);
        let wanted = match b.deal_status.as_deref() {
            Some("won") => Some(StageKind::Won),
            Some("lost") => Some(StageKind::Lost),
            _ => None,
        };
        if let Some(kind) = wanted.filter(|k| stage_kind != Some(*k)) {
            let pipeline = pipeline_id.and_then(|id| self.sales.pipeline(id)).or(self.sales.pipelines.first());
            if let Some(s) = pipeline.and_then(|pl| pl.stages.iter().find(|s| s.kind == kind)) {
                b.input.insert("stage_id".into(), json!(s.id));
            }
        }
        if let Some(pid) = pipeline_id {
            b.input.entry("pipeline_id").or_insert(json!(pid));
        }
        let lost = b.input.get("stage_id").and_then(Value::as_i64).and_then(|id| self.sales.stage(id)).is_some_and(|s| s.kind == StageKind::Lost);
        if lost && !b.input.contains_key("lost_reason_id") {
            match options.default_lost_reason_id {
                Some(id) => {
                    b.input.insert("lost_reason_id".into(), json!(id));
                }
                None => problems.push(Problem::new(None, "lost_reason_required", "a lost deal needs a lost reason: map a column of reasons or choose a default lost reason")),
            }
        }
    }
}

fn names_match(n: &Names, folded: &str) -> bool {
    n.ru.as_deref().is_some_and(|x| fold(x) == folded) || n.en.as_deref().is_some_and(|x| fold(x) == folded)
}

/// Lower first: the order in which references to one record are tried.
fn precision(kind: RefKind) -> u8 {
    match kind {
        RefKind::CompanyExternalId | RefKind::ContactExternalId => 0,
        RefKind::CompanyInn | RefKind::CompanyDomain => 1,
        _ => 2,
    }
}

fn ref_noun(kind: RefKind) -> &'static str {
    match kind {
        RefKind::Company | RefKind::CompanyInn | RefKind::CompanyDomain | RefKind::CompanyExternalId => "company",
        RefKind::Contact | RefKind::ContactExternalId => "contact",
        RefKind::Deal => "deal",
        RefKind::Product => "product",
        RefKind::Owner => "member",
        RefKind::Pipeline => "pipeline",
        RefKind::Stage => "stage",
        RefKind::LostReason => "lost reason",
    }
}

/// Where a resolved reference goes in the input of each kind of record.
fn put(entity: Entity, kind: RefKind, v: Value, input: &mut Map<String, Value>) {
    match kind {
        RefKind::Owner => {
            input.insert("owner_id".into(), v);
        }
        RefKind::Company | RefKind::CompanyInn | RefKind::CompanyDomain | RefKind::CompanyExternalId => {
            if entity == Entity::Contact {
                input.entry("primary_company_id").or_insert(v.clone());
                input.entry("company_ids").or_insert(json!([v]));
            } else {
                input.entry("company_id").or_insert(v);
            }
        }
        RefKind::Contact | RefKind::ContactExternalId => {
            if entity == Entity::Deal {
                input.entry("contacts").or_insert(json!([{ "contact_id": v, "role": "other" }]));
            } else {
                input.entry("contact_id").or_insert(v);
            }
        }
        RefKind::Deal => {
            input.entry("deal_id").or_insert(v);
        }
        RefKind::Pipeline => {
            input.insert("pipeline_id".into(), v);
        }
        RefKind::Stage => {
            input.insert("stage_id".into(), v);
        }
        RefKind::LostReason => {
            input.insert("lost_reason_id".into(), v);
        }
        RefKind::Product => {
            let items = input.entry("items").or_insert_with(|| json!([{}]));
            if let Some(first) = items.as_array_mut().and_then(|a| a.first_mut()).and_then(Value::as_object_mut) {
                first.insert("product_id".into(), v);
                first.entry("quantity").or_insert(json!("1"));
            }
        }
    }
}

fn one(id: Option<i64>) -> Found {
    id.map_or(Found::None, Found::One)
}

fn many(ids: Vec<i64>) -> Found {
    match ids.as_slice() {
        [] => Found::None,
        [id] => Found::One(*id),
        _ => Found::Many,
    }
}

async fn by_column(db: &Db, p: &Principal, entity: Entity, column: &'static str, value: &str) -> Result<Found> {
    let mut s = Query::select();
    s.column((records::T, "id"))
        .from_as(entity.table(), records::T)
        .cond_where(visibility::readable(&p.viewer, records::T))
        .and_where(Expr::col((records::T, "workspace_id")).eq(p.workspace_id))
        .and_where(Expr::col((records::T, column)).eq(value))
        .and_where(Expr::col((records::T, "deleted_at")).is_null())
        .limit(2);
    Ok(many(db.fetch_all(&s).await?.iter().map(|r| get_i64(r, "id")).collect::<Result<Vec<_>>>()?))
}

/// The record that had this id in the system a file came from (recorded by earlier imports).
pub(super) async fn by_external(db: &Db, p: &Principal, entity: Entity, value: &str) -> Result<Option<i64>> {
    let row = query("SELECT record_id FROM external_ids WHERE workspace_id = $1 AND entity = $2 AND value = $3").bind(p.workspace_id).bind(entity.as_str()).bind(value.trim()).fetch_optional(db).await?;
    let Some(row) = row else { return Ok(None) };
    let id = get_i64(&row, "record_id")?;
    // Only a record the importer can see, and that is not in the trash, counts.
    Ok(match records::get(db, &p.viewer, entity, id, false).await {
        Ok(_) => Some(id),
        Err(crate::Error::NotFound) => None,
        Err(e) => return Err(e),
    })
}
