//! Every kind of record through one generic mechanism: create, read, list, update with
//! optimistic versions, trash and restore, duplicates, merge and its undo. Every read goes
//! through [`crate::visibility`]; every write is audited in the same transaction, and
//! [`crate::sales::hooks`] adds what a kind needs beyond its own row (stage history,
//! timeline links, reminders).
use crate::accounts::Principal;
use crate::db::{Db, InOrder, Row, Tx, Val, get_i64, get_opt_i64, get_opt_str, get_str, insert_rows, parse_json, query};
use crate::error::{DuplicateMatch, Error, Result};
use crate::timeline::{self, Change, rfc3339};
use crate::{now_ms, search, visibility};
use accord_domain::ValidationErrors;
use accord_domain::custom_fields::{FieldType, IndexValue};
use accord_domain::custom_fields::FieldDefinition;
use accord_domain::entities::{self, Cell, ColKind, Context, Entity, FilterKind, Prepared, RefTarget};
use accord_domain::permissions::{Access, Viewer};
use accord_domain::query::{COUNT_CAP, CustomField, Filter, ListQuery, Op, Scalar, Sort, Target, encode_cursor};
use sea_query::{Alias, Condition, IntoTableRef, Expr, ExprTrait, LikeExpr, NullOrdering, Order, Query, SelectStatement};
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// The alias of the entity table in every generated query.
pub(crate) const T: &str = "t";

/// A record as the API shows it: system fields plus the entity's own.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub id: i64,
    pub version: i64,
    pub owner_id: i64,
    pub fields: Map<String, Value>,
}

const SYSTEM_COLUMNS: [&str; 10] = ["id", "workspace_id", "owner_id", "version", "created_at", "created_by", "updated_at", "updated_by", "deleted_at", "deleted_by"];

/// What validating a write of one entity needs from the database: custom field definitions,
/// the workspace's sales settings and the owner's time zone.
pub(crate) struct Env {
    region: String,
    defs: Vec<FieldDefinition>,
    sales: Option<accord_domain::sales::Config>,
    tz: chrono_tz::Tz,
    now: i64,
}

impl Env {
    pub(crate) async fn load(db: &Db, p: &Principal, entity: Entity, custom: &[CustomField], owner_id: i64) -> Result<Env> {
        let sales = match entity {
            Entity::Product | Entity::Deal => Some(crate::sales::config(db, p.workspace_id).await?),
            _ => None,
        };
        let tz_name = if matches!(entity, Entity::Deal | Entity::Activity | Entity::Task) && owner_id != p.user.id { crate::accounts::time_zone(db, owner_id).await? } else { p.user.time_zone.clone() };
        Ok(Env { region: p.region.clone(), defs: custom.iter().map(|c| c.def.clone()).collect(), sales, tz: tz_name.parse().unwrap_or(chrono_tz::Europe::Moscow), now: now_ms() })
    }

    /// The same, with no custom field required: a change the system makes (restoring, detaching
    /// a purged company) must not fail on a field made required after the record was written.
    fn lenient(mut self) -> Env {
        for d in &mut self.defs {
            d.required = false;
        }
        self
    }

    pub(crate) fn ctx<'a>(&'a self, before: Option<&'a Map<String, Value>>) -> Context<'a> {
        Context { region: &self.region, custom_fields: &self.defs, sales: self.sales.as_ref().unwrap_or_else(|| accord_domain::sales::Config::empty()), time_zone: self.tz, before, now_ms: self.now }
    }
}

/// The owner a write will give the record: the one asked for, or the current, or the writer.
fn owner_hint(input: &Map<String, Value>, current: Option<&Record>, p: &Principal) -> i64 {
    input.get("owner_id").and_then(Value::as_i64).or(current.map(|c| c.owner_id)).unwrap_or(p.user.id)
}

/// How a column of a record's row ([`select`], [`list_rows`]) is stored and shown: the system
/// columns, then the entity's own.
pub fn column_kind(entity: Entity, name: &str) -> Option<ColKind> {
    match name {
        "created_at" | "updated_at" | "deleted_at" => Some(ColKind::Timestamp),
        n if SYSTEM_COLUMNS.contains(&n) => Some(ColKind::Int),
        n => entity.columns().iter().find(|c| c.name == n).map(|c| c.kind),
    }
}

fn visible_columns(entity: Entity, only: Option<&[String]>) -> Vec<&'static str> {
    let mut cols: Vec<&'static str> = SYSTEM_COLUMNS.to_vec();
    for c in entity.columns() {
        if !c.kind.is_shadow() && only.is_none_or(|o| o.iter().any(|f| f == c.name)) {
            cols.push(c.name);
        }
    }
    cols
}

fn row_to_record(entity: Entity, row: &Row, only: Option<&[String]>) -> Result<Record> {
    let mut m = Map::new();
    // In the order of `visible_columns`, which is the order `base_select` selects them.
    let mut cols = InOrder::new(row);
    let id: i64 = cols.get("id")?;
    let owner_id: i64 = cols.get("owner_id")?;
    let version: i64 = cols.get("version")?;
    m.insert("id".into(), json!(id));
    m.insert("version".into(), json!(version));
    m.insert("owner_id".into(), json!(owner_id));
    for (at, by) in [("created_at", "created_by"), ("updated_at", "updated_by"), ("deleted_at", "deleted_by")] {
        m.insert(at.into(), cols.get::<Option<i64>>(at)?.map_or(Value::Null, |v| json!(rfc3339(v))));
        m.insert(by.into(), json!(cols.get::<Option<i64>>(by)?));
    }
    for c in entity.columns() {
        if c.kind.is_shadow() || only.is_some_and(|o| !o.iter().any(|f| f == c.name)) {
            continue;
        }
        let v = match c.kind {
            ColKind::Text => json!(cols.get::<Option<String>>(c.name)?),
            ColKind::Int => json!(cols.get::<Option<i64>>(c.name)?),
            ColKind::Bool => cols.get::<Option<i64>>(c.name)?.map_or(Value::Null, |v| json!(v != 0)),
            ColKind::Timestamp => cols.get::<Option<i64>>(c.name)?.map_or(Value::Null, |v| json!(rfc3339(v))),
            ColKind::Json => parse_json(cols.get(c.name)?)?,
            ColKind::Shadow | ColKind::ShadowInt => continue,
        };
        m.insert(c.name.into(), v);
    }
    Ok(Record { id, version, owner_id, fields: m })
}

/// A record from a row selected by [`select`] or [`list_rows`].
pub fn from_row(entity: Entity, row: &Row) -> Result<Record> {
    row_to_record(entity, row, None)
}

/// The columns of an entity's records (`only` some of them), from the table aliased [`T`].
pub(crate) fn select(entity: Entity, only: Option<&[String]>) -> SelectStatement {
    base_select(entity, only)
}

fn base_select(entity: Entity, only: Option<&[String]>) -> SelectStatement {
    let mut s = Query::select();
    s.from_as(entity.table(), T);
    for c in visible_columns(entity, only) {
        s.column((T, c));
    }
    s
}

/// Reads a record the viewer may see; anything else is [`Error::NotFound`].
pub async fn get(db: &Db, viewer: &Viewer, entity: Entity, id: i64, deleted: bool) -> Result<Record> {
    let mut s = base_select(entity, None);
    s.cond_where(visibility::readable(viewer, T)).and_where(Expr::col((T, "id")).eq(id));
    s.and_where(if deleted { Expr::col((T, "deleted_at")).is_not_null() } else { Expr::col((T, "deleted_at")).is_null() });
    let row = db.fetch_optional(&s).await?.ok_or(Error::NotFound)?;
    row_to_record(entity, &row, None)
}

pub(crate) async fn get_for_write(db: &Db, tx: &mut Tx, viewer: &Viewer, entity: Entity, id: i64, deleted: bool) -> Result<Record> {
    let mut s = base_select(entity, None);
    s.cond_where(visibility::readable(viewer, T)).and_where(Expr::col((T, "id")).eq(id));
    s.and_where(if deleted { Expr::col((T, "deleted_at")).is_not_null() } else { Expr::col((T, "deleted_at")).is_null() });
    let row = db.tx_fetch_optional(tx, &s).await?.ok_or(Error::NotFound)?;
    let rec = row_to_record(entity, &row, None)?;
    match viewer.access(viewer.workspace_id, rec.owner_id) {
        Access::Hidden => Err(Error::NotFound),
        Access::ReadOnly => Err(Error::Forbidden("you may see this record but not change it")),
        Access::Edit => Ok(rec),
    }
}

fn cell_value(c: &Cell) -> sea_query::Value {
    match c {
        Cell::Null => sea_query::Value::String(None),
        Cell::Text(s) => s.clone().into(),
        Cell::Int(i) => (*i).into(),
    }
}

fn cell_null(entity: Entity, name: &str) -> sea_query::Value {
    let int = entity.columns().iter().any(|c| c.name == name && matches!(c.kind, ColKind::Int | ColKind::Bool | ColKind::Timestamp | ColKind::ShadowInt))
        || entity.filters().iter().any(|f| f.column == name && matches!(f.kind, FilterKind::Int | FilterKind::Bool | FilterKind::Decimal | FilterKind::Timestamp));
    if int { sea_query::Value::BigInt(None) } else { sea_query::Value::String(None) }
}

/// A cell as a statement parameter (a null typed as its column, which PostgreSQL needs).
fn cell_val(entity: Entity, name: &str, c: &Cell) -> Val {
    match c {
        Cell::Text(s) => Val::from(s),
        Cell::Int(i) => Val::from(*i),
        Cell::Null if matches!(cell_null(entity, name), sea_query::Value::BigInt(_)) => Val::Int(None),
        Cell::Null => Val::Text(None),
    }
}

fn typed(entity: Entity, name: &str, c: &Cell) -> sea_query::Value {
    match c {
        Cell::Null => cell_null(entity, name),
        other => cell_value(other),
    }
}

/// The records and users that references point at, where they exist: live records the
/// viewer can see and active members, read with one query per kind for any number of writes.
#[derive(Default)]
struct Known {
    records: HashSet<(Entity, i64)>,
    members: HashSet<i64>,
}

/// What [`check_references`] looks up for `prep`: the references it did not have before and,
/// when it changes hands, its owner.
fn targets<'a>(current: Option<&'a Record>, prep: &'a Prepared, owner_id: i64) -> impl Iterator<Item = RefTarget> + 'a {
    let owner = current.is_none_or(|c| c.owner_id != owner_id).then_some(RefTarget::User(owner_id));
    prep.refs.iter().filter(move |r| !r.existed_in(current.map(|c| &c.fields))).map(|r| r.target).chain(owner)
}

async fn known(db: &Db, tx: &mut Tx, viewer: &Viewer, targets: impl Iterator<Item = RefTarget>) -> Result<Known> {
    let mut records: HashMap<Entity, Vec<i64>> = HashMap::new();
    let mut users: Vec<i64> = Vec::new();
    for t in targets {
        match t {
            RefTarget::Record(entity, id) => records.entry(entity).or_default().push(id),
            RefTarget::User(id) => users.push(id),
        }
    }
    let mut out = Known::default();
    for (entity, mut ids) in records {
        ids.sort_unstable();
        ids.dedup();
        for chunk in ids.chunks(500) {
            let mut s = Query::select();
            s.column((T, "id")).from_as(entity.table(), T).cond_where(visibility::readable(viewer, T)).and_where(Expr::col((T, "id")).is_in(chunk.iter().copied())).and_where(Expr::col((T, "deleted_at")).is_null());
            for r in db.tx_fetch_all(tx, &s).await? {
                out.records.insert((entity, get_i64(&r, "id")?));
            }
        }
    }
    users.sort_unstable();
    users.dedup();
    for chunk in users.chunks(500) {
        let mut s = Query::select();
        s.column("user_id").from("memberships").and_where(Expr::col("workspace_id").eq(viewer.workspace_id)).and_where(Expr::col("active").eq(1)).and_where(Expr::col("user_id").is_in(chunk.iter().copied()));
        for r in db.tx_fetch_all(tx, &s).await? {
            out.members.insert(get_i64(&r, "user_id")?);
        }
    }
    Ok(out)
}

/// Checks what the validator cannot: referenced records and users exist and are visible,
/// the owner may be given the record, unique custom values are unique. Links the record
/// already had are not checked again (see [`entities::Ref::existed_in`]).
#[allow(clippy::too_many_arguments)]
async fn check_references(db: &Db, tx: &mut Tx, p: &Principal, current: Option<&Record>, prep: &Prepared, custom: &[CustomField], owner_id: i64) -> Result<()> {
    let known = known(db, tx, &p.viewer, targets(current, prep, owner_id)).await?;
    check_against(db, tx, p, &known, current, prep, custom, owner_id).await
}

/// [`check_references`] with the references' targets already looked up.
#[allow(clippy::too_many_arguments)]
async fn check_against(db: &Db, tx: &mut Tx, p: &Principal, known: &Known, current: Option<&Record>, prep: &Prepared, custom: &[CustomField], owner_id: i64) -> Result<()> {
    let id = current.map(|c| c.id);
    let mut errors = ValidationErrors::new();
    for r in prep.refs.iter().filter(|r| !r.existed_in(current.map(|c| &c.fields))) {
        let ok = match r.target {
            RefTarget::Record(entity, ref_id) => known.records.contains(&(entity, ref_id)),
            RefTarget::User(user_id) => known.members.contains(&user_id),
        };
        if !ok {
            let (code, message) = match r.target {
                RefTarget::Record(e, _) => (format!("unknown_{}", e.as_str()), format!("no such {}", e.as_str())),
                RefTarget::User(_) => ("unknown_user".to_owned(), "is not an active member of this workspace".to_owned()),
            };
            errors.add(r.field.clone(), &code, message);
        }
    }
    for (key, v) in &prep.custom {
        let Some(def) = custom.iter().find(|c| &c.def.key == key) else { continue };
        if let Some((ft, ref_id)) = v.reference {
            let ok = match ft {
                FieldType::ContactRef => exists_visible(db, tx, &p.viewer, Entity::Contact, ref_id).await?,
                FieldType::CompanyRef => exists_visible(db, tx, &p.viewer, Entity::Company, ref_id).await?,
                _ => is_member(tx, p.workspace_id, ref_id).await?,
            };
            if !ok {
                errors.add(format!("custom_fields.{key}"), "unknown_reference", "no such record");
            }
        }
        if def.def.unique {
            let values = v.index.iter().map(|ix| format!("cf:{}:{ix:?}", def.id)).collect();
            lock_values(db, tx, values).await?;
            for ix in &v.index {
                let mut s = Query::select();
                s.expr(Expr::col(("cv", "record_id"))).from_as("custom_values", "cv").and_where(Expr::col(("cv", "field_id")).eq(def.id)).and_where(Expr::col(("cv", "record_id")).ne(id.unwrap_or(0))).limit(1);
                match ix {
                    IndexValue::Text(t) => s.and_where(Expr::col(("cv", "v_text")).eq(t.clone())),
                    IndexValue::Num(n) => s.and_where(Expr::col(("cv", "v_num")).eq(*n)),
                };
                if db.tx_fetch_optional(tx, &s).await?.is_some() {
                    errors.add(format!("custom_fields.{key}"), "not_unique", "another record has this value");
                }
            }
        }
    }
    if current.is_none_or(|c| c.owner_id != owner_id) && !known.members.contains(&owner_id) {
        errors.add("owner_id", "unknown_user", "is not an active member of this workspace");
    }
    errors.into_result()?;
    if !p.viewer.may_assign_to(owner_id) {
        return Err(Error::Forbidden("you may not give records to this owner"));
    }
    Ok(())
}

async fn exists_visible(db: &Db, tx: &mut Tx, viewer: &Viewer, entity: Entity, id: i64) -> Result<bool> {
    let mut s = Query::select();
    s.column((T, "id")).from_as(entity.table(), T).cond_where(visibility::readable(viewer, T)).and_where(Expr::col((T, "id")).eq(id)).and_where(Expr::col((T, "deleted_at")).is_null());
    Ok(db.tx_fetch_optional(tx, &s).await?.is_some())
}

async fn is_member(tx: &mut Tx, workspace_id: i64, user_id: i64) -> Result<bool> {
    Ok(query("SELECT 1 AS x FROM memberships WHERE workspace_id = $1 AND user_id = $2 AND active = 1").bind(workspace_id).bind(user_id).fetch_optional(&mut **tx).await?.is_some())
}

/// Makes "check that no other record has this value, then write" atomic. SQLite already runs
/// one writer at a time; PostgreSQL serves concurrent writers (and several instances), so
/// each value is locked for the rest of the transaction, in a fixed order against deadlocks.
async fn lock_values(db: &Db, tx: &mut Tx, mut values: Vec<String>) -> Result<()> {
    if db.backend != crate::Backend::Postgres {
        return Ok(());
    }
    values.sort();
    values.dedup();
    // One statement per few hundred values (a bulk write locks two per record). PostgreSQL
    // calls a volatile function of the select list after sorting, so in the values' order.
    for chunk in values.chunks(500) {
        let list = (1..=chunk.len()).map(|i| format!("(${i})")).collect::<Vec<_>>().join(", ");
        let mut q = query(format!("SELECT pg_advisory_xact_lock(hashtextextended(v, 0)) FROM (VALUES {list}) AS l(v) ORDER BY v"));
        for v in chunk {
            q = q.bind(v.as_str());
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Records the viewer can see that share an e-mail, phone or INN with `prep`.
async fn duplicates(db: &Db, tx: &mut Tx, viewer: &Viewer, entity: Entity, self_id: Option<i64>, prep: &Prepared) -> Result<Vec<DuplicateMatch>> {
    Ok(duplicates_many(db, tx, viewer, entity, &[(self_id, prep)]).await?.pop().unwrap_or_default())
}

/// [`duplicates`] of many records at once, one query for all their identifiers.
pub(crate) async fn duplicates_many(db: &Db, tx: &mut Tx, viewer: &Viewer, entity: Entity, items: &[(Option<i64>, &Prepared)]) -> Result<Vec<Vec<DuplicateMatch>>> {
    let mut out: Vec<Vec<DuplicateMatch>> = vec![Vec::new(); items.len()];
    if !entity.checks_duplicates() {
        return Ok(out);
    }
    let identifying = |prep: &'_ Prepared| prep.keys.iter().filter(|(k, _)| k.identifies()).map(|(k, v)| (k.as_str(), v.clone())).collect::<Vec<_>>();
    let wanted: HashSet<(&str, String)> = items.iter().flat_map(|(_, prep)| identifying(prep)).collect();
    if wanted.is_empty() {
        return Ok(out);
    }
    lock_values(db, tx, wanted.iter().map(|(k, v)| format!("{}:{}:{k}:{v}", viewer.workspace_id, entity.as_str())).collect()).await?;
    let kinds: HashSet<&str> = wanted.iter().map(|(k, _)| *k).collect();
    let mut found: HashMap<(String, String), Vec<(i64, String)>> = HashMap::new();
    for (kind, value, id, name) in keyed_records(db, Some(tx), viewer, entity, &kinds, wanted.iter().map(|(_, v)| v.as_str())).await? {
        found.entry((kind, value)).or_default().push((id, name));
    }
    for ((self_id, prep), matches) in items.iter().zip(out.iter_mut()) {
        for (kind, value) in identifying(prep) {
            let Some(records) = found.get_mut(&(kind.to_owned(), value.clone())) else { continue };
            records.sort_unstable_by_key(|(id, _)| *id);
            for (id, name) in records.iter().filter(|(id, _)| Some(*id) != *self_id).take(10) {
                if !matches.iter().any(|m| m.id == *id && m.matched_on == kind) {
                    matches.push(DuplicateMatch { entity: entity.as_str().into(), id: *id, display_name: name.clone(), matched_on: kind.into(), value: value.clone() });
                }
            }
        }
    }
    Ok(out)
}

/// Removes a record's side rows: keys, tags, custom values and its search document (it is
/// trashed or merged away).
async fn remove_side_rows(db: &Db, tx: &mut Tx, entity: Entity, id: i64) -> Result<()> {
    let e = entity.as_str();
    query("DELETE FROM record_keys WHERE entity = $1 AND record_id = $2").bind(e).bind(id).execute(&mut **tx).await?;
    query("DELETE FROM record_tags WHERE entity = $1 AND record_id = $2").bind(e).bind(id).execute(&mut **tx).await?;
    query("DELETE FROM custom_values WHERE entity = $1 AND record_id = $2").bind(e).bind(id).execute(&mut **tx).await?;
    search::remove(db, tx, entity, id).await
}

/// A record's rows in `record_keys`, `record_tags` and `custom_values`, sorted, in the form
/// they are stored.
struct SideRows {
    keys: Vec<(String, String)>,
    tags: Vec<String>,
    custom: Vec<(i64, Option<String>, Option<i64>)>,
}

impl SideRows {
    fn wanted(prep: &Prepared, custom: &[CustomField]) -> SideRows {
        let mut keys: Vec<(String, String)> = prep.keys.iter().map(|(kind, value)| (kind.as_str().to_owned(), value.clone())).collect();
        let mut tags = prep.tags.clone();
        let mut values = Vec::new();
        for (key, v) in &prep.custom {
            let Some(def) = custom.iter().find(|c| &c.def.key == key) else { continue };
            for ix in &v.index {
                values.push(match ix {
                    IndexValue::Text(t) => (def.id, Some(t.clone()), None),
                    IndexValue::Num(n) => (def.id, None, Some(*n)),
                });
            }
        }
        keys.sort();
        tags.sort();
        values.sort();
        SideRows { keys, tags, custom: values }
    }

    async fn stored(tx: &mut Tx, entity: Entity, id: i64) -> Result<SideRows> {
        let e = entity.as_str();
        let mut keys = current_keys(tx, entity, id).await?;
        let rows = query("SELECT tag FROM record_tags WHERE entity = $1 AND record_id = $2").bind(e).bind(id).fetch_all(&mut **tx).await?;
        let mut tags = rows.iter().map(|r| get_str(r, "tag")).collect::<Result<Vec<_>>>()?;
        let rows = query("SELECT field_id, v_text, v_num FROM custom_values WHERE entity = $1 AND record_id = $2").bind(e).bind(id).fetch_all(&mut **tx).await?;
        let mut values = rows.iter().map(|r| Ok((get_i64(r, "field_id")?, get_opt_str(r, "v_text")?, get_opt_i64(r, "v_num")?))).collect::<Result<Vec<_>>>()?;
        keys.sort();
        tags.sort();
        values.sort();
        Ok(SideRows { keys, tags, custom: values })
    }

    async fn insert(&self, tx: &mut Tx, workspace_id: i64, entity: Entity, id: i64, which: Which) -> Result<()> {
        let mut rows = SideRowValues::default();
        self.add_to(&mut rows, workspace_id, entity, id, which);
        rows.insert(tx).await
    }

    /// Adds this record's rows, of the kinds in `which`, to rows written together.
    fn add_to(&self, rows: &mut SideRowValues, workspace_id: i64, entity: Entity, id: i64, which: Which) {
        let e = entity.as_str();
        if which.keys {
            rows.keys.extend(self.keys.iter().map(|(kind, value)| vec![Val::from(workspace_id), Val::from(e), Val::from(id), Val::from(kind), Val::from(value)]));
        }
        if which.tags {
            rows.tags.extend(self.tags.iter().map(|tag| vec![Val::from(workspace_id), Val::from(e), Val::from(id), Val::from(tag)]));
        }
        if which.custom {
            rows.custom.extend(self.custom.iter().map(|(field_id, text, num)| vec![Val::from(workspace_id), Val::from(e), Val::from(id), Val::from(*field_id), Val::from(text), Val::from(*num)]));
        }
    }
}

/// Side rows of one or many records, as the values of their tables' columns.
#[derive(Default)]
struct SideRowValues {
    keys: Vec<Vec<Val>>,
    tags: Vec<Vec<Val>>,
    custom: Vec<Vec<Val>>,
}

impl SideRowValues {
    async fn insert(self, tx: &mut Tx) -> Result<()> {
        insert_rows(tx, "record_keys", &["workspace_id", "entity", "record_id", "kind", "value"], self.keys, false).await?;
        insert_rows(tx, "record_tags", &["workspace_id", "entity", "record_id", "tag"], self.tags, false).await?;
        insert_rows(tx, "custom_values", &["workspace_id", "entity", "record_id", "field_id", "v_text", "v_num"], self.custom, false).await?;
        Ok(())
    }
}

/// Which kinds of side rows to write.
#[derive(Clone, Copy)]
struct Which {
    keys: bool,
    tags: bool,
    custom: bool,
}

fn display_name(prep: &Prepared) -> &str {
    prep.cells.iter().find(|(n, _)| *n == "display_name").and_then(|(_, c)| if let Cell::Text(s) = c { Some(s.as_str()) } else { None }).unwrap_or_default()
}

/// The side rows of an updated record. Each kind is rewritten only where it differs from
/// what is stored: a stage move or a one-field edit changes no key, tag or search document,
/// and rewriting them (an FTS5 document above all) was most of such a write's pages.
#[allow(clippy::too_many_arguments)]
async fn sync_side_rows(db: &Db, tx: &mut Tx, workspace_id: i64, entity: Entity, id: i64, owner_id: i64, prep: &Prepared, custom: &[CustomField]) -> Result<()> {
    let e = entity.as_str();
    let wanted = SideRows::wanted(prep, custom);
    let stored = SideRows::stored(tx, entity, id).await?;
    let changed = Which { keys: wanted.keys != stored.keys, tags: wanted.tags != stored.tags, custom: wanted.custom != stored.custom };
    for (differs, table) in [(changed.keys, "record_keys"), (changed.tags, "record_tags"), (changed.custom, "custom_values")] {
        if differs {
            query(format!("DELETE FROM {table} WHERE entity = $1 AND record_id = $2")).bind(e).bind(id).execute(&mut **tx).await?;
        }
    }
    wanted.insert(tx, workspace_id, entity, id, changed).await?;
    if entity.searchable() {
        search::replace(db, tx, workspace_id, entity, id, owner_id, display_name(prep), &prep.search_text).await?;
    }
    Ok(())
}

pub(crate) fn strip_system(input: &Map<String, Value>) -> Map<String, Value> {
    input.iter().filter(|(k, _)| !Entity::SYSTEM_FIELDS.contains(&k.as_str()) || k.as_str() == "owner_id").map(|(k, v)| (k.clone(), v.clone())).collect()
}

pub struct WriteOptions {
    /// Create or update even when duplicates exist.
    pub allow_duplicates: bool,
}

pub async fn create(db: &Db, p: &Principal, entity: Entity, input: &Map<String, Value>, custom: &[CustomField], opts: &WriteOptions) -> Result<Record> {
    // Validation reads only settings, so it runs before the transaction: the write turn is
    // held just for the checks against other records and the writes.
    let prep = validate_new(db, p, entity, input, custom).await?;
    let mut tx = db.begin().await?;
    let rec = insert_validated(db, &mut tx, p, entity, &prep, custom, opts).await?;
    tx.commit().await?;
    Ok(rec)
}

/// [`create`] inside the caller's transaction (a lead's conversion creates several records
/// at once).
pub async fn create_in(db: &Db, tx: &mut Tx, p: &Principal, entity: Entity, input: &Map<String, Value>, custom: &[CustomField], opts: &WriteOptions) -> Result<Record> {
    let prep = validate_new(db, p, entity, input, custom).await?;
    insert_validated(db, tx, p, entity, &prep, custom, opts).await
}

async fn validate_new(db: &Db, p: &Principal, entity: Entity, input: &Map<String, Value>, custom: &[CustomField]) -> Result<Prepared> {
    if !p.viewer.can_write_anything() {
        return Err(Error::Forbidden("your role may not create records"));
    }
    let mut input = strip_system(input);
    crate::sales::hooks::before_prepare(db, p, entity, &mut input, None).await?;
    let env = Env::load(db, p, entity, custom, owner_hint(&input, None, p)).await?;
    Ok(entities::prepare(entity, &input, &env.ctx(None))?)
}

async fn insert_validated(db: &Db, tx: &mut Tx, p: &Principal, entity: Entity, prep: &Prepared, custom: &[CustomField], opts: &WriteOptions) -> Result<Record> {
    create_prepared(db, tx, p, entity, std::slice::from_ref(prep), custom, opts, "create").await?.pop().unwrap_or_else(|| Err(Error::Corrupt("a record was not written".into())))
}

/// Creates validated records in the caller's transaction, each checked as [`create`] checks
/// one (references, owner, duplicates), with one query per kind of check for all of them and
/// a few statements for all their writes. An item that fails its checks gets its error
/// (invalid, duplicate, forbidden) and the others are written; a database error stops all.
/// Items are written in their order: one that shares an identifier or a unique custom value
/// with an earlier one is checked after that one is written, so it is found as its
/// duplicate, as one by one.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn create_prepared(db: &Db, tx: &mut Tx, p: &Principal, entity: Entity, preps: &[Prepared], custom: &[CustomField], opts: &WriteOptions, action: &str) -> Result<Vec<Result<Record>>> {
    if !p.viewer.can_write_anything() {
        return Ok(preps.iter().map(|_| Err(Error::Forbidden("your role may not create records"))).collect());
    }
    // What must be unique among the items: identifiers (unless duplicates are allowed) and
    // the values of unique custom fields.
    let unique = |prep: &Prepared| -> Vec<String> {
        let identifiers = prep.keys.iter().filter(|(k, _)| !opts.allow_duplicates && k.identifies()).map(|(k, v)| format!("{}:{v}", k.as_str()));
        let custom_values = prep.custom.iter().filter_map(|(key, v)| custom.iter().find(|c| &c.def.key == key && c.def.unique).map(|c| (c.id, v))).flat_map(|(id, v)| v.index.iter().map(move |ix| format!("cf:{id}:{ix:?}")));
        identifiers.chain(custom_values).collect()
    };
    let mut out: Vec<Result<Record>> = Vec::with_capacity(preps.len());
    let mut start = 0;
    while start < preps.len() {
        let mut seen: HashSet<String> = HashSet::new();
        let mut end = start;
        while let Some(prep) = preps.get(end) {
            let ids = unique(prep);
            if end > start && ids.iter().any(|k| seen.contains(k)) {
                break;
            }
            seen.extend(ids);
            end += 1;
        }
        let part = &preps[start..end];
        let owners: Vec<i64> = part.iter().map(|prep| prep.owner_id.unwrap_or(p.user.id)).collect();
        let known = known(db, tx, &p.viewer, part.iter().zip(&owners).flat_map(|(prep, owner)| targets(None, prep, *owner))).await?;
        let mut checked: Vec<Result<()>> = Vec::with_capacity(part.len());
        for (prep, owner) in part.iter().zip(&owners) {
            checked.push(match check_against(db, tx, p, &known, None, prep, custom, *owner).await {
                Ok(()) => Ok(()),
                Err(e @ (Error::Invalid(_) | Error::Forbidden(_))) => Err(e),
                Err(e) => return Err(e),
            });
        }
        if !opts.allow_duplicates {
            let candidates: Vec<(Option<i64>, &Prepared)> = part.iter().map(|prep| (None, prep)).collect();
            let dups = duplicates_many(db, tx, &p.viewer, entity, &candidates).await?;
            for (c, d) in checked.iter_mut().zip(dups) {
                if c.is_ok() && !d.is_empty() {
                    *c = Err(Error::Duplicate(d));
                }
            }
        }
        let writes: Vec<(&Prepared, i64)> = part.iter().zip(&owners).zip(&checked).filter(|(_, c)| c.is_ok()).map(|((prep, owner), _)| (prep, *owner)).collect();
        let mut written = insert_prepared(db, tx, p, entity, &writes, custom, action).await?.into_iter();
        for c in checked {
            out.push(match c {
                Ok(()) => written.next().ok_or_else(|| Error::Corrupt("a record was not written".into())),
                Err(e) => Err(e),
            });
        }
        start = end;
    }
    Ok(out)
}

/// Inserts validated records with their side rows, search documents and audit entries.
#[allow(clippy::too_many_arguments)]
async fn insert_prepared(db: &Db, tx: &mut Tx, p: &Principal, entity: Entity, items: &[(&Prepared, i64)], custom: &[CustomField], action: &str) -> Result<Vec<Record>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let now = now_ms();
    let mut ids: Vec<i64> = Vec::with_capacity(items.len());
    let mut inserted: Option<Vec<Record>> = Some(Vec::with_capacity(items.len()));
    let mut start = 0;
    // One statement takes one list of columns; every record of a kind has the same.
    while start < items.len() {
        let names: Vec<&'static str> = items[start].0.cells.iter().map(|(n, _)| *n).collect();
        let end = start + items[start..].iter().take_while(|(prep, _)| prep.cells.iter().map(|(n, _)| *n).eq(names.iter().copied())).count();
        let mut cols = vec!["workspace_id", "owner_id", "version", "created_at", "created_by", "updated_at", "updated_by"];
        cols.extend(&names);
        let rows: Vec<Vec<Val>> = items[start..end]
            .iter()
            .map(|(prep, owner)| {
                let mut row = vec![Val::from(p.workspace_id), Val::from(*owner), Val::from(1_i64), Val::from(now), Val::from(p.user.id), Val::from(now), Val::from(p.user.id)];
                row.extend(prep.cells.iter().map(|(name, cell)| cell_val(entity, name, cell)));
                row
            })
            .collect();
        let written = if inserted.is_some() { Some(rows.clone()) } else { None };
        let new_ids = insert_rows(tx, entity.table(), &cols, rows, true).await?;
        inserted = match (inserted, written) {
            (Some(mut recs), Some(rows)) => as_inserted(entity, &cols, rows, &new_ids)?.map(|more| {
                recs.extend(more);
                recs
            }),
            _ => None,
        };
        ids.extend(new_ids);
        start = end;
    }
    let mut side = SideRowValues::default();
    let mut docs = Vec::new();
    for ((prep, owner), id) in items.iter().zip(&ids) {
        SideRows::wanted(prep, custom).add_to(&mut side, p.workspace_id, entity, *id, Which { keys: true, tags: true, custom: true });
        if entity.searchable() {
            docs.push(search::Doc { record_id: *id, owner_id: *owner, display_name: display_name(prep).to_owned(), body: prep.search_text.clone() });
        }
    }
    side.insert(tx).await?;
    search::add_many(db, tx, p.workspace_id, entity, docs).await?;
    let recs = match inserted {
        Some(recs) => recs,
        None => get_many_in_tx(db, tx, entity, &ids).await?,
    };
    let changes = recs
        .iter()
        .map(|rec| {
            // What `timeline::diff` from nothing gives, without copying the record twice.
            let set: Map<String, Value> = rec.fields.iter().filter(|(k, v)| !v.is_null() && !matches!(k.as_str(), "version" | "updated_at" | "updated_by" | "created_at" | "created_by")).map(|(k, v)| (k.clone(), json!([Value::Null, v]))).collect();
            Change { workspace_id: p.workspace_id, entity, record_id: rec.id, action, actor_id: Some(p.user.id), changes: Value::Object(set) }
        })
        .collect();
    timeline::record_many(tx, changes).await?;
    for rec in &recs {
        crate::sales::hooks::after_write(db, tx, p, entity, None, Some(rec)).await?;
    }
    Ok(recs)
}

/// Records as just inserted, from the columns and values written instead of read back
/// (reading them back took 7 % of an import's run); `None` when records show a column that was
/// not written, which holds its default.
fn as_inserted(entity: Entity, cols: &[&str], rows: Vec<Vec<Val>>, ids: &[i64]) -> Result<Option<Vec<Record>>> {
    enum Source {
        Id,
        Unset,
        Written(usize),
    }
    let names: Arc<[String]> = visible_columns(entity, None).into_iter().map(str::to_owned).collect();
    let mut sources = Vec::with_capacity(names.len());
    for name in names.iter() {
        sources.push(match name.as_str() {
            "id" => Source::Id,
            "deleted_at" | "deleted_by" => Source::Unset,
            name => match cols.iter().position(|c| *c == name) {
                Some(i) => Source::Written(i),
                None => return Ok(None),
            },
        });
    }
    let mut recs = Vec::with_capacity(rows.len());
    for (row, id) in rows.into_iter().zip(ids) {
        let mut row: Vec<Option<Val>> = row.into_iter().map(Some).collect();
        let vals = sources.iter().map(|s| match s {
            Source::Id => Val::from(*id),
            Source::Unset => Val::Int(None),
            Source::Written(i) => row.get_mut(*i).and_then(Option::take).unwrap_or(Val::Text(None)),
        });
        recs.push(row_to_record(entity, &Row::new(names.clone(), vals.collect()), None)?);
    }
    Ok(Some(recs))
}

/// Creates many records in one transaction, each validated, checked and audited exactly as
/// [`create`] does; duplicates are allowed (bulk loads decide on matching themselves). The
/// whole batch is refused when any item is invalid, with the item's index in the field path.
pub async fn create_many(db: &Db, p: &Principal, entity: Entity, inputs: &[Map<String, Value>], custom: &[CustomField], action: &str) -> Result<Vec<i64>> {
    if !p.viewer.can_write_anything() {
        return Err(Error::Forbidden("your role may not create records"));
    }
    let env = Env::load(db, p, entity, custom, p.user.id).await?;
    let ctx = env.ctx(None);
    let mut errors = ValidationErrors::new();
    let mut prepared = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        match entities::prepare(entity, &strip_system(input), &ctx) {
            Ok(prep) => prepared.push(prep),
            Err(e) => errors.0.extend(e.0.into_iter().map(|f| accord_domain::FieldError { field: format!("[{i}].{}", f.field), ..f })),
        }
    }
    errors.into_result()?;
    let mut tx = db.begin_batch().await?;
    let ids = create_prepared(db, &mut tx, p, entity, &prepared, custom, &WriteOptions { allow_duplicates: true }, action).await?.into_iter().map(|r| r.map(|rec| rec.id)).collect::<Result<Vec<i64>>>()?;
    tx.commit().await?;
    Ok(ids)
}

/// Records just written, by id, in the order of `ids`.
async fn get_many_in_tx(db: &Db, tx: &mut Tx, entity: Entity, ids: &[i64]) -> Result<Vec<Record>> {
    let mut by_id: HashMap<i64, Record> = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let mut s = base_select(entity, None);
        s.and_where(Expr::col((T, "id")).is_in(chunk.iter().copied()));
        for row in db.tx_fetch_all(tx, &s).await? {
            let rec = row_to_record(entity, &row, None)?;
            by_id.insert(rec.id, rec);
        }
    }
    ids.iter().map(|id| by_id.remove(id).ok_or(Error::NotFound)).collect()
}

async fn get_in_tx(db: &Db, tx: &mut Tx, entity: Entity, id: i64) -> Result<Record> {
    let mut s = base_select(entity, None);
    s.and_where(Expr::col((T, "id")).eq(id));
    let row = db.tx_fetch_optional(tx, &s).await?.ok_or(Error::NotFound)?;
    row_to_record(entity, &row, None)
}

/// The writable part of a record, as a client would send it to recreate it.
pub(crate) fn writable(rec: &Record, entity: Entity) -> Map<String, Value> {
    let names = writable_names(entity);
    rec.fields.iter().filter(|(k, v)| names.contains(&k.as_str()) && !v.is_null()).map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// A patch that gives a record back the writable fields of `before` (from [`writable`]):
/// fields it did not have become empty again.
pub fn restoring_patch(entity: Entity, before: &Map<String, Value>) -> Map<String, Value> {
    writable_names(entity).into_iter().map(|n| (n.to_owned(), before.get(n).cloned().unwrap_or(Value::Null))).chain(before.get("owner_id").map(|o| ("owner_id".to_owned(), o.clone()))).collect()
}

/// Applies a partial update. `expected_version`, when given, must match the stored one.
#[allow(clippy::too_many_arguments)]
pub async fn update(db: &Db, p: &Principal, entity: Entity, id: i64, patch: &Map<String, Value>, expected_version: Option<i64>, custom: &[CustomField], opts: &WriteOptions) -> Result<Record> {
    let mut tx = db.begin().await?;
    let rec = update_in(db, &mut tx, p, entity, id, patch, expected_version, custom, opts).await?;
    tx.commit().await?;
    Ok(rec)
}

fn writable_names(entity: Entity) -> Vec<&'static str> {
    entity.columns().iter().filter(|c| !c.kind.is_shadow() && c.writable).map(|c| c.name).collect()
}

/// [`update`] inside the caller's transaction.
#[allow(clippy::too_many_arguments)]
pub async fn update_in(db: &Db, tx: &mut Tx, p: &Principal, entity: Entity, id: i64, patch: &Map<String, Value>, expected_version: Option<i64>, custom: &[CustomField], opts: &WriteOptions) -> Result<Record> {
    let current = get_for_write(db, tx, &p.viewer, entity, id, false).await?;
    if let Some(v) = expected_version.filter(|v| *v != current.version) {
        return Err(Error::VersionConflict { expected: v, current: current.version });
    }
    let mut next = writable(&current, entity);
    next.insert("owner_id".into(), json!(current.owner_id));
    for (k, v) in strip_system(patch) {
        next.insert(k, v);
    }
    crate::sales::hooks::before_prepare(db, p, entity, &mut next, Some(&current)).await?;
    let env = Env::load(db, p, entity, custom, owner_hint(&next, Some(&current), p)).await?;
    let prep = entities::prepare(entity, &next, &env.ctx(Some(&current.fields)))?;
    let owner_id = prep.owner_id.unwrap_or(current.owner_id);
    if owner_id != current.owner_id || !prep.refs.is_empty() || !prep.custom.is_empty() {
        check_references(db, tx, p, Some(&current), &prep, custom, owner_id).await?;
    }
    if !opts.allow_duplicates {
        let dups = duplicates(db, tx, &p.viewer, entity, Some(id), &prep).await?;
        let old_keys = current_keys(tx, entity, id).await?;
        // Only identifiers this update adds can make a new duplicate.
        let new_dups: Vec<_> = dups.into_iter().filter(|d| !old_keys.contains(&(d.matched_on.clone(), d.value.clone()))).collect();
        if !new_dups.is_empty() {
            return Err(Error::Duplicate(new_dups));
        }
    }
    write_update(db, tx, p, entity, &current, &prep, owner_id, custom, "update").await
}

async fn current_keys(tx: &mut Tx, entity: Entity, id: i64) -> Result<Vec<(String, String)>> {
    let rows = query("SELECT kind, value FROM record_keys WHERE entity = $1 AND record_id = $2").bind(entity.as_str()).bind(id).fetch_all(&mut **tx).await?;
    rows.iter().map(|r| Ok((crate::db::get_str(r, "kind")?, crate::db::get_str(r, "value")?))).collect()
}

#[allow(clippy::too_many_arguments)]
async fn write_update(db: &Db, tx: &mut Tx, p: &Principal, entity: Entity, current: &Record, prep: &Prepared, owner_id: i64, custom: &[CustomField], action: &str) -> Result<Record> {
    let now = now_ms();
    let mut up = Query::update();
    up.table(Alias::new(entity.table()));
    let stored = stored_cells(tx, entity, current.id, &prep.cells).await?;
    for ((name, cell), old) in prep.cells.iter().zip(&stored) {
        if !same_cell(old, cell) {
            up.value(Alias::new(*name), Expr::val(typed(entity, name, cell)));
        }
    }
    up.value("owner_id", owner_id).value("version", current.version + 1).value("updated_at", now).value("updated_by", p.user.id);
    up.and_where(Expr::col("id").eq(current.id)).and_where(Expr::col("version").eq(current.version));
    if db.tx_execute(tx, &up).await? != 1 {
        return Err(Error::VersionConflict { expected: current.version, current: current.version + 1 });
    }
    sync_side_rows(db, tx, p.workspace_id, entity, current.id, owner_id, prep, custom).await?;
    let rec = get_in_tx(db, tx, entity, current.id).await?;
    let ignore = ["version", "updated_at", "updated_by"];
    let strip = |m: &Map<String, Value>| -> Map<String, Value> { m.iter().filter(|(k, _)| !ignore.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect() };
    let changes = timeline::diff(&strip(&current.fields), &strip(&rec.fields));
    timeline::record(tx, Change { workspace_id: p.workspace_id, entity, record_id: current.id, action, actor_id: Some(p.user.id), changes: Value::Object(changes) }).await?;
    crate::sales::hooks::after_write(db, tx, p, entity, Some(current), Some(&rec)).await?;
    Ok(rec)
}

/// The stored values of a record's `cells`, in their order. An update sets only the columns
/// whose value changes: SQLite rewrites the entry of every index that holds a column named
/// in the SET list, changed or not (a deal has eleven indexes; moving it changes a few).
async fn stored_cells(tx: &mut Tx, entity: Entity, id: i64, cells: &[(&'static str, Cell)]) -> Result<Vec<Option<crate::db::Val>>> {
    if cells.is_empty() {
        return Ok(Vec::new());
    }
    let columns = cells.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ");
    let row = query(format!("SELECT {columns} FROM {} WHERE id = $1", entity.table())).bind(id).fetch_optional(&mut **tx).await?.ok_or(Error::NotFound)?;
    Ok((0..cells.len()).map(|i| row.value(i).cloned()).collect())
}

fn same_cell(stored: &Option<crate::db::Val>, cell: &Cell) -> bool {
    use crate::db::Val;
    let Some(stored) = stored else { return false };
    match (stored, cell) {
        (Val::Int(None) | Val::Real(None) | Val::Text(None) | Val::Blob(None), Cell::Null) => true,
        (Val::Int(Some(a)), Cell::Int(b)) => a == b,
        (Val::Text(Some(a)), Cell::Text(b)) => a == b,
        _ => false,
    }
}

/// Moves a record to the trash. Its side tables go too, so it stops matching duplicates,
/// filters and search; restoring rebuilds them from the record itself.
pub async fn delete(db: &Db, p: &Principal, entity: Entity, id: i64, expected_version: Option<i64>) -> Result<()> {
    let mut tx = db.begin().await?;
    let current = get_for_write(db, &mut tx, &p.viewer, entity, id, false).await?;
    if let Some(v) = expected_version.filter(|v| *v != current.version) {
        return Err(Error::VersionConflict { expected: v, current: current.version });
    }
    let now = now_ms();
    let mut up = Query::update();
    up.table(Alias::new(entity.table())).value("deleted_at", now).value("deleted_by", p.user.id).value("version", current.version + 1).and_where(Expr::col("id").eq(id));
    db.tx_execute(&mut tx, &up).await?;
    remove_side_rows(db, &mut tx, entity, id).await?;
    timeline::record(&mut tx, Change { workspace_id: p.workspace_id, entity, record_id: id, action: "delete", actor_id: Some(p.user.id), changes: json!({}) }).await?;
    crate::sales::hooks::after_write(db, &mut tx, p, entity, Some(&current), None).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn restore(db: &Db, p: &Principal, entity: Entity, id: i64, custom: &[CustomField]) -> Result<Record> {
    let mut tx = db.begin().await?;
    let current = get_for_write(db, &mut tx, &p.viewer, entity, id, true).await?;
    let mut input = writable(&current, entity);
    if let Some(Value::Object(cf)) = input.get_mut("custom_fields") {
        cf.retain(|k, _| custom.iter().any(|d| &d.def.key == k));
    }
    let env = Env::load(db, p, entity, custom, current.owner_id).await?.lenient();
    let prep = entities::prepare(entity, &input, &env.ctx(Some(&current.fields)))?;
    let mut up = Query::update();
    up.table(Alias::new(entity.table())).value("deleted_at", sea_query::Value::BigInt(None)).value("deleted_by", sea_query::Value::BigInt(None)).and_where(Expr::col("id").eq(id));
    db.tx_execute(&mut tx, &up).await?;
    // Compared with the trashed state, so the audit entry shows deleted_at going back to null
    // and the hooks see a record coming back.
    let rec = write_update(db, &mut tx, p, entity, &current, &prep, current.owner_id, custom, "restore").await?;
    tx.commit().await?;
    Ok(rec)
}

/// Removes a trashed record for good (admins only, or the retention job).
pub async fn purge(db: &Db, p: &Principal, entity: Entity, id: i64) -> Result<()> {
    p.require_admin()?;
    let mut tx = db.begin().await?;
    let sql = format!("DELETE FROM {} WHERE id = $1 AND workspace_id = $2 AND deleted_at IS NOT NULL", entity.table());
    let n = query(sql).bind(id).bind(p.workspace_id).execute(&mut *tx).await?.rows_affected();
    if n == 0 {
        return Err(Error::NotFound);
    }
    query("DELETE FROM notes WHERE entity = $1 AND record_id = $2").bind(entity.as_str()).bind(id).execute(&mut *tx).await?;
    query("DELETE FROM timeline WHERE entity = $1 AND record_id = $2").bind(entity.as_str()).bind(id).execute(&mut *tx).await?;
    if entity == Entity::Company {
        detach_company(db, &mut tx, p, id).await?;
    }
    timeline::record(&mut tx, Change { workspace_id: p.workspace_id, entity, record_id: id, action: "purge", actor_id: Some(p.user.id), changes: json!({}) }).await?;
    tx.commit().await?;
    Ok(())
}

/// A purged company leaves its contacts: each loses the link, with an audit entry.
async fn detach_company(db: &Db, tx: &mut Tx, p: &Principal, company_id: i64) -> Result<()> {
    let defs = crate::custom_fields::for_entity(db, p.workspace_id, Entity::Contact).await?;
    let env = Env::load(db, p, Entity::Contact, &defs, p.user.id).await?.lenient();
    let rows = query("SELECT record_id FROM record_keys WHERE workspace_id = $1 AND entity = 'contact' AND kind = 'company' AND value = $2")
        .bind(p.workspace_id)
        .bind(company_id.to_string())
        .fetch_all(&mut **tx)
        .await?;
    for row in rows {
        let current = get_in_tx(db, tx, Entity::Contact, get_i64(&row, "record_id")?).await?;
        let mut input = writable(&current, Entity::Contact);
        input.insert("owner_id".into(), json!(current.owner_id));
        if input.get("primary_company_id").and_then(Value::as_i64) == Some(company_id) {
            input.remove("primary_company_id");
        }
        if let Some(Value::Array(ids)) = input.get_mut("company_ids") {
            ids.retain(|v| v.as_i64() != Some(company_id));
        }
        let prep = entities::prepare(Entity::Contact, &input, &env.ctx(Some(&current.fields)))?;
        write_update(db, tx, p, Entity::Contact, &current, &prep, current.owner_id, &defs, "update").await?;
    }
    Ok(())
}

/// Purges what has been in the trash longer than each workspace's retention.
pub async fn purge_expired(db: &Db) -> Result<u64> {
    let mut total = 0;
    // Per workspace, so each delete is a range of the `(workspace_id, deleted_at)` index:
    // without the workspace in the condition it read every row of every table while
    // holding the write lock.
    for w in query("SELECT id, trash_retention_days FROM workspaces").fetch_all(db).await? {
        let cutoff = now_ms() - get_i64(&w, "trash_retention_days")? * 86_400_000;
        for entity in Entity::ALL {
            let sql = format!("DELETE FROM {} WHERE workspace_id = $1 AND deleted_at IS NOT NULL AND deleted_at < $2", entity.table());
            total += query(sql).bind(get_i64(&w, "id")?).bind(cutoff).execute(&mut *db.writer().await?).await?.rows_affected();
        }
    }
    Ok(total)
}

// ---------------------------------------------------------------- lists

pub struct Page {
    pub data: Vec<Record>,
    pub next_cursor: Option<String>,
    pub count: Option<(i64, bool)>,
}

fn custom_col(field_type: FieldType) -> &'static str {
    if field_type.is_numeric() { "v_num" } else { "v_text" }
}

fn scalar_value(s: &Scalar) -> sea_query::Value {
    match s {
        Scalar::Text(t) => t.clone().into(),
        Scalar::Int(i) => (*i).into(),
    }
}

fn like_contains(s: &Scalar) -> LikeExpr {
    let raw = match s {
        Scalar::Text(t) => t.clone(),
        Scalar::Int(i) => i.to_string(),
    };
    let escaped = raw.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    LikeExpr::new(format!("%{escaped}%")).escape('\\')
}

fn compare(col: Expr, op: Op, values: &[Scalar]) -> Expr {
    let v = || scalar_value(&values[0]);
    match op {
        Op::Eq => col.eq(v()),
        Op::Ne => col.clone().ne(v()).or(col.is_null()),
        Op::In => col.is_in(values.iter().map(scalar_value)),
        Op::Gt => col.gt(v()),
        Op::Gte => col.gte(v()),
        Op::Lt => col.lt(v()),
        Op::Lte => col.lte(v()),
        Op::Contains => col.like(like_contains(&values[0])),
        Op::Empty => {
            if values[0] == Scalar::Int(1) {
                col.is_null()
            } else {
                col.is_not_null()
            }
        }
    }
}

fn side_exists(table: &'static str, entity: Entity, extra: Vec<Expr>) -> SelectStatement {
    let mut s = Query::select();
    s.expr(Expr::val(1)).from_as(table, "x").and_where(Expr::col(("x", "record_id")).equals((T, "id")));
    if table != "custom_values" {
        s.and_where(Expr::col(("x", "entity")).eq(entity.as_str()));
    }
    for e in extra {
        s.and_where(e);
    }
    s
}

fn filter_condition(entity: Entity, workspace_id: i64, f: &Filter) -> Expr {
    let empty_true = f.op == Op::Empty && f.values.first() == Some(&Scalar::Int(1));
    let exists = |table: &'static str, mut extra: Vec<Expr>, col: &'static str| -> Expr {
        match f.op {
            Op::Empty => {
                let s = side_exists(table, entity, extra);
                if empty_true { Expr::exists(s).not() } else { Expr::exists(s) }
            }
            Op::Ne => {
                extra.push(compare(Expr::col(("x", col)), Op::Eq, &f.values));
                Expr::exists(side_exists(table, entity, extra)).not()
            }
            op => {
                extra.push(compare(Expr::col(("x", col)), op, &f.values));
                Expr::exists(side_exists(table, entity, extra))
            }
        }
    };
    match &f.target {
        Target::Column { column, .. } => compare(Expr::col((T, *column)), f.op, &f.values),
        Target::Tag => exists("record_tags", vec![], "tag"),
        Target::Team => {
            let mut members = Query::select();
            members
                .column(("tm", "user_id"))
                .from_as("team_members", "tm")
                .inner_join("teams".into_table_ref().alias("tt"), Expr::col(("tt", "id")).equals(("tm", "team_id")))
                .and_where(Expr::col(("tt", "workspace_id")).eq(workspace_id))
                .and_where(Expr::col(("tm", "team_id")).is_in(f.values.iter().map(scalar_value)));
            Expr::col((T, "owner_id")).in_subquery(members)
        }
        Target::Key(kind) => exists("record_keys", vec![Expr::col(("x", "kind")).eq(kind.as_str())], "value"),
        Target::Custom { field_id, field_type } => exists("custom_values", vec![Expr::col(("x", "field_id")).eq(*field_id)], custom_col(*field_type)),
    }
}

fn sort_expr(sort: &Sort) -> (Expr, bool) {
    match &sort.target {
        Target::Column { column, kind } => (Expr::col((T, *column)), !matches!(kind, FilterKind::Text | FilterKind::Folded | FilterKind::Date)),
        Target::Custom { field_type, .. } => (Expr::col(("s", custom_col(*field_type))), field_type.is_numeric()),
        _ => (Expr::col((T, "id")), true),
    }
}

/// Rows after `(value, last_id)` in `ORDER BY key, id` among rows whose key has a value,
/// as one row-value comparison, which both engines start an index range at.
fn after_value(key: Expr, desc: bool, value: &Scalar, last_id: i64) -> Condition {
    let (row, at) = (Expr::tuple([key, Expr::col((T, "id"))]), Expr::tuple([Expr::val(scalar_value(value)), Expr::val(last_id)]));
    Condition::all().add(if desc { row.lt(at) } else { row.gt(at) })
}

fn after_id(desc: bool, last_id: i64) -> Condition {
    let id = Expr::col((T, "id"));
    Condition::all().add(if desc { id.lt(last_id) } else { id.gt(last_id) })
}

/// The rows of a list: visible to the viewer, in or out of the trash, matching every filter.
pub(crate) fn list_condition(viewer: &Viewer, entity: Entity, filters: &[Filter], trash: bool) -> Condition {
    let mut where_ = visibility::readable(viewer, T);
    where_ = where_.add(if trash { Expr::col((T, "deleted_at")).is_not_null() } else { Expr::col((T, "deleted_at")).is_null() });
    for f in filters {
        where_ = where_.add(filter_condition(entity, viewer.workspace_id, f));
    }
    where_
}

pub async fn list(db: &Db, viewer: &Viewer, entity: Entity, q: &ListQuery, trash: bool) -> Result<Page> {
    let rows = list_rows(db, viewer, entity, q, trash).await?;
    let only = q.fields.as_deref();
    let data = rows.rows.iter().map(|row| row_to_record(entity, row, only)).collect::<Result<Vec<_>>>()?;
    let count = if q.count {
        let mut inner = Query::select();
        inner.expr(Expr::val(1)).from_as(entity.table(), T).cond_where(list_condition(viewer, entity, &q.filters, trash)).limit(COUNT_CAP as u64 + 1);
        let mut outer = Query::select();
        outer.expr_as(Expr::cust("COUNT(*)"), "n").from_subquery(inner, "c");
        let row = db.fetch_optional(&outer).await?.ok_or_else(|| Error::Corrupt("count returned nothing".into()))?;
        let n = get_i64(&row, "n")?;
        Some((std::cmp::min(n, COUNT_CAP), n > COUNT_CAP))
    } else {
        None
    };
    Ok(Page { data, next_cursor: rows.next_cursor, count })
}

/// A page of a list as the database gives it: the columns of [`list`]'s records (the
/// system columns, then the entity's, with timestamps in milliseconds and JSON as text).
pub struct RowPage {
    pub rows: Vec<Row>,
    pub next_cursor: Option<String>,
}

/// The page [`list`] reads, without making records of it: an export of every record writes
/// its cells straight from the columns (building each record's JSON object was half of an
/// export's time).
pub async fn list_rows(db: &Db, viewer: &Viewer, entity: Entity, q: &ListQuery, trash: bool) -> Result<RowPage> {
    let where_ = list_condition(viewer, entity, &q.filters, trash);
    let (key, numeric_key) = sort_expr(&q.sort);
    let order = if q.sort.desc { Order::Desc } else { Order::Asc };
    let select = |cond: Condition, limit: usize| {
        let mut s = base_select(entity, q.fields.as_deref());
        if let Target::Custom { field_id, .. } = &q.sort.target {
            s.left_join(
                "custom_values".into_table_ref().alias("s"),
                Condition::all().add(Expr::col(("s", "record_id")).equals((T, "id"))).add(Expr::col(("s", "field_id")).eq(*field_id)),
            );
        }
        s.expr_as(key.clone(), "sort_key");
        s.cond_where(where_.clone()).cond_where(cond);
        s.order_by_expr_with_nulls(key.clone(), order.clone(), NullOrdering::Last).order_by((T, "id"), order.clone()).limit(limit as u64);
        s
    };
    let want = q.limit as usize + 1;
    let desc = q.sort.desc;
    // Every page starts an index range: a key that may be empty is read in two steps, the
    // records with a value and then those without (NULLs last). One condition `… OR key IS
    // NULL` made SQLite walk the index from the start on every page, so reading a long list
    // to its end was quadratic (an export of 1,000,000 contacts took 98 s).
    let mut rows = match &q.cursor {
        _ if q.sort.never_null() => {
            let cond = match &q.cursor {
                Some((Some(v), last)) if !matches!(q.sort.target, Target::Column { column: "id", .. }) => after_value(key.clone(), desc, v, *last),
                Some((_, last)) => after_id(desc, *last),
                None => Condition::all(),
            };
            db.fetch_all(&select(cond, want)).await?
        }
        Some((None, last)) => db.fetch_all(&select(after_id(desc, *last).add(key.clone().is_null()), want)).await?,
        cursor => {
            let mut cond = Condition::all().add(key.clone().is_not_null());
            if let Some((Some(v), last)) = cursor {
                cond = cond.add(after_value(key.clone(), desc, v, *last));
            }
            let mut rows = db.fetch_all(&select(cond, want)).await?;
            if rows.len() < want {
                rows.extend(db.fetch_all(&select(Condition::all().add(key.clone().is_null()), want - rows.len())).await?);
            }
            rows
        }
    };
    let more = rows.len() > q.limit as usize;
    rows.truncate(q.limit as usize);
    let next_cursor = match rows.last() {
        Some(row) if more => {
            let value = if numeric_key { get_opt_i64(row, "sort_key")?.map(Scalar::Int) } else { get_opt_str(row, "sort_key")?.map(Scalar::Text) };
            Some(encode_cursor(&q.sort, value.as_ref(), get_i64(row, "id")?))
        }
        _ => None,
    };
    Ok(RowPage { rows, next_cursor })
}

// ---------------------------------------------------------------- merge

/// Merges `merged` into `survivor`: the survivor takes the chosen values, every link, note
/// and timeline entry moves to it, and the merged record goes to the trash. The snapshot
/// kept in `merges` is what undo puts back.
pub async fn merge(db: &Db, p: &Principal, entity: Entity, survivor_id: i64, merged_id: i64, take_from_merged: &[String], custom: &[CustomField]) -> Result<(Record, i64)> {
    if survivor_id == merged_id {
        return Err(ValidationErrors::single("merged_id", "same_record", "a record cannot be merged into itself").into());
    }
    let mut tx = db.begin().await?;
    let survivor = get_for_write(db, &mut tx, &p.viewer, entity, survivor_id, false).await?;
    let merged = get_for_write(db, &mut tx, &p.viewer, entity, merged_id, false).await?;
    let mut next = writable(&survivor, entity);
    next.insert("owner_id".into(), json!(survivor.owner_id));
    let mut errors = ValidationErrors::new();
    let writable_names = writable_names(entity);
    for field in take_from_merged {
        if field == "owner_id" {
            next.insert(field.clone(), json!(merged.owner_id));
        } else if writable_names.contains(&field.as_str()) {
            next.insert(field.clone(), merged.fields.get(field).cloned().unwrap_or(Value::Null));
        } else {
            errors.add("take_from_merged", "unknown_field", format!("{field} is not a field of this record"));
        }
    }
    errors.into_result()?;
    // Lists are united, so no e-mail, phone, tag or company is lost by merging.
    for list_field in ["emails", "phones", "addresses", "tags", "company_ids"] {
        if take_from_merged.iter().any(|f| f == list_field) || !writable_names.contains(&list_field) {
            continue;
        }
        let mut items = next.get(list_field).and_then(Value::as_array).cloned().unwrap_or_default();
        for item in merged.fields.get(list_field).and_then(Value::as_array).into_iter().flatten() {
            if !items.contains(item) {
                items.push(item.clone());
            }
        }
        next.insert(list_field.into(), Value::Array(items));
    }
    let env = Env::load(db, p, entity, custom, owner_hint(&next, Some(&survivor), p)).await?;
    let prep = entities::prepare(entity, &next, &env.ctx(Some(&survivor.fields)))?;
    let owner_id = prep.owner_id.unwrap_or(survivor.owner_id);
    check_references(db, &mut tx, p, Some(&survivor), &prep, custom, owner_id).await?;

    // Move what points at the merged record, remembering exactly which rows moved.
    let e = entity.as_str();
    let moved_notes = ids(&mut tx, "SELECT id FROM notes WHERE entity = $1 AND record_id = $2", e, merged_id).await?;
    let moved_timeline = ids(&mut tx, "SELECT id FROM timeline WHERE entity = $1 AND record_id = $2", e, merged_id).await?;
    query("UPDATE notes SET record_id = $1 WHERE entity = $2 AND record_id = $3").bind(survivor_id).bind(e).bind(merged_id).execute(&mut *tx).await?;
    query("UPDATE timeline SET record_id = $1 WHERE entity = $2 AND record_id = $3").bind(survivor_id).bind(e).bind(merged_id).execute(&mut *tx).await?;
    let mut moved_contacts = Vec::new();
    if entity == Entity::Company {
        let rows = query("SELECT id FROM contacts WHERE workspace_id = $1 AND primary_company_id = $2").bind(p.workspace_id).bind(merged_id).fetch_all(&mut *tx).await?;
        moved_contacts = rows.iter().map(|r| get_i64(r, "id")).collect::<Result<_>>()?;
        query("UPDATE contacts SET primary_company_id = $1 WHERE workspace_id = $2 AND primary_company_id = $3").bind(survivor_id).bind(p.workspace_id).bind(merged_id).execute(&mut *tx).await?;
    }
    let snapshot = json!({
        "survivor": survivor.fields,
        "merged": merged.fields,
        "moved_notes": moved_notes,
        "moved_timeline": moved_timeline,
        "moved_contacts": moved_contacts,
    });
    let rec = write_update(db, &mut tx, p, entity, &survivor, &prep, owner_id, custom, "merge").await?;
    let mut up = Query::update();
    up.table(Alias::new(entity.table())).value("deleted_at", now_ms()).value("deleted_by", p.user.id).value("version", merged.version + 1).and_where(Expr::col("id").eq(merged_id));
    db.tx_execute(&mut tx, &up).await?;
    remove_side_rows(db, &mut tx, entity, merged_id).await?;
    let row = query("INSERT INTO merges (workspace_id, entity, survivor_id, merged_id, snapshot, actor_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
        .bind(p.workspace_id)
        .bind(e)
        .bind(survivor_id)
        .bind(merged_id)
        .bind(snapshot.to_string())
        .bind(p.user.id)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
    let merge_id = get_i64(&row, "id")?;
    timeline::record(&mut tx, Change { workspace_id: p.workspace_id, entity, record_id: merged_id, action: "merged_into", actor_id: Some(p.user.id), changes: json!({ "survivor_id": [null, survivor_id], "merge_id": [null, merge_id] }) }).await?;
    tx.commit().await?;
    Ok((rec, merge_id))
}

async fn ids(tx: &mut Tx, sql: &'static str, a: &str, b: i64) -> Result<Vec<i64>> {
    let rows = query(sql).bind(a.to_owned()).bind(b).fetch_all(&mut **tx).await?;
    rows.iter().map(|r| get_i64(r, "id")).collect()
}

/// Undoes a merge: the survivor gets its old values back, the merged record returns from
/// the trash with its own, and moved notes, timeline rows and contacts go back. Refused when
/// either record changed after the merge, since undo would silently discard that change.
pub async fn undo_merge(db: &Db, p: &Principal, merge_id: i64, custom: &[CustomField]) -> Result<Record> {
    let mut tx = db.begin().await?;
    let row = query("SELECT entity, survivor_id, merged_id, snapshot FROM merges WHERE id = $1 AND workspace_id = $2 AND undone_at IS NULL")
        .bind(merge_id)
        .bind(p.workspace_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(Error::NotFound)?;
    let entity = Entity::parse(&crate::db::get_str(&row, "entity")?).ok_or(Error::NotFound)?;
    let survivor_id = get_i64(&row, "survivor_id")?;
    let merged_id = get_i64(&row, "merged_id")?;
    let snapshot = parse_json(Some(crate::db::get_str(&row, "snapshot")?))?;
    let survivor_now = get_for_write(db, &mut tx, &p.viewer, entity, survivor_id, false).await?;
    let merged_now = get_for_write(db, &mut tx, &p.viewer, entity, merged_id, true).await?;
    let survivor_then = snapshot["survivor"]["version"].as_i64().unwrap_or_default();
    let merged_then = snapshot["merged"]["version"].as_i64().unwrap_or_default();
    if survivor_now.version != survivor_then + 1 || merged_now.version != merged_then + 1 {
        return Err(Error::conflict("changed_since_merge", "a merged record changed after the merge; undo would lose that change"));
    }
    let env = Env::load(db, p, entity, custom, survivor_now.owner_id).await?;
    let old = |key: &str| -> Result<(Record, Prepared)> {
        let fields = snapshot[key].as_object().cloned().unwrap_or_default();
        let rec = Record { id: fields["id"].as_i64().unwrap_or_default(), version: 0, owner_id: fields["owner_id"].as_i64().unwrap_or_default(), fields };
        let mut input = writable(&rec, entity);
        input.insert("owner_id".into(), json!(rec.owner_id));
        let prep = entities::prepare(entity, &input, &env.ctx(Some(&rec.fields)))?;
        Ok((rec, prep))
    };
    let (s_old, s_prep) = old("survivor")?;
    let (m_old, m_prep) = old("merged")?;
    let e = entity.as_str();
    for (table, key) in [("notes", "moved_notes"), ("timeline", "moved_timeline")] {
        for id in snapshot[key].as_array().into_iter().flatten().filter_map(Value::as_i64) {
            let sql = format!("UPDATE {table} SET record_id = $1 WHERE id = $2 AND entity = $3");
            query(sql).bind(merged_id).bind(id).bind(e).execute(&mut *tx).await?;
        }
    }
    for id in snapshot["moved_contacts"].as_array().into_iter().flatten().filter_map(Value::as_i64) {
        query("UPDATE contacts SET primary_company_id = $1 WHERE id = $2 AND primary_company_id = $3").bind(merged_id).bind(id).bind(survivor_id).execute(&mut *tx).await?;
    }
    let rec = write_update(db, &mut tx, p, entity, &survivor_now, &s_prep, s_old.owner_id, custom, "unmerge").await?;
    let mut up = Query::update();
    up.table(Alias::new(entity.table())).value("deleted_at", sea_query::Value::BigInt(None)).value("deleted_by", sea_query::Value::BigInt(None)).and_where(Expr::col("id").eq(merged_id));
    db.tx_execute(&mut tx, &up).await?;
    write_update(db, &mut tx, p, entity, &merged_now, &m_prep, m_old.owner_id, custom, "unmerge").await?;
    query("UPDATE merges SET undone_at = $1 WHERE id = $2").bind(now_ms()).bind(merge_id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(rec)
}

/// Who owns a record (for checks on notes and other things attached to it).
pub async fn access(db: &Db, viewer: &Viewer, entity: Entity, id: i64) -> Result<Access> {
    let mut s = Query::select();
    s.column((T, "owner_id")).from_as(entity.table(), T).cond_where(visibility::readable(viewer, T)).and_where(Expr::col((T, "id")).eq(id)).and_where(Expr::col((T, "deleted_at")).is_null());
    let row = db.fetch_optional(&s).await?.ok_or(Error::NotFound)?;
    Ok(viewer.access(viewer.workspace_id, get_i64(&row, "owner_id")?))
}

/// Which entity a merge of this workspace concerns.
pub async fn merge_entity(db: &Db, workspace_id: i64, merge_id: i64) -> Result<String> {
    let row = query("SELECT entity FROM merges WHERE id = $1 AND workspace_id = $2").bind(merge_id).bind(workspace_id).fetch_optional(db).await?.ok_or(Error::NotFound)?;
    crate::db::get_str(&row, "entity")
}

/// The highest id of an entity's table (benchmarks pick random records below it).
pub async fn max_id(db: &Db, entity: Entity) -> Result<i64> {
    let row = query(format!("SELECT COALESCE(MAX(id), 0) AS n FROM {}", entity.table())).fetch_one(db).await?;
    get_i64(&row, "n")
}

/// Removes a deleted custom field's values from the records that had one: each record gets
/// a new version and an audit entry, like any other change of its data.
pub async fn strip_custom_field(db: &Db, p: &Principal, field_id: i64, key: &str) -> Result<u64> {
    let mut tx = db.begin().await?;
    let rows = query("SELECT DISTINCT entity, record_id FROM custom_values WHERE field_id = $1").bind(field_id).fetch_all(&mut *tx).await?;
    let mut changed = 0;
    for r in &rows {
        let Some(entity) = Entity::parse(&crate::db::get_str(r, "entity")?) else { continue };
        let id = get_i64(r, "record_id")?;
        let sql = format!("SELECT custom_fields, version FROM {} WHERE id = $1 AND workspace_id = $2", entity.table());
        let Some(row) = query(sql).bind(id).bind(p.workspace_id).fetch_optional(&mut *tx).await? else { continue };
        let old = parse_json(get_opt_str(&row, "custom_fields")?)?;
        let mut new = old.clone();
        if let Some(o) = new.as_object_mut() {
            o.remove(key);
        }
        let update = format!("UPDATE {} SET custom_fields = $1, version = version + 1, updated_at = $2, updated_by = $3 WHERE id = $4", entity.table());
        query(update).bind(new.to_string()).bind(now_ms()).bind(p.user.id).bind(id).execute(&mut *tx).await?;
        timeline::record(&mut tx, Change { workspace_id: p.workspace_id, entity, record_id: id, action: "update", actor_id: Some(p.user.id), changes: json!({ "custom_fields": [old, new] }) }).await?;
        changed += 1;
    }
    query("DELETE FROM custom_values WHERE field_id = $1").bind(field_id).execute(&mut *tx).await?;
    query("DELETE FROM custom_field_defs WHERE id = $1 AND workspace_id = $2").bind(field_id).bind(p.workspace_id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(changed)
}

/// The live records the viewer can see that have a key of one of `kinds` with one of
/// `values`: `(kind, value, id, display name)`. The keys are read first and the records
/// then by id: joined in one statement, PostgreSQL scanned the whole table for a few
/// hundred values (a quarter of a second per batch of an import, growing with the table).
async fn keyed_records(db: &Db, mut tx: Option<&mut Tx>, viewer: &Viewer, entity: Entity, kinds: &HashSet<&str>, values: impl Iterator<Item = &str>) -> Result<Vec<(String, String, i64, String)>> {
    let mut values: Vec<&str> = values.collect();
    values.sort_unstable();
    values.dedup();
    let mut keys: Vec<(String, String, i64)> = Vec::new();
    for chunk in values.chunks(500) {
        let mut s = Query::select();
        s.columns(["kind", "value", "record_id"])
            .from("record_keys")
            .and_where(Expr::col("workspace_id").eq(viewer.workspace_id))
            .and_where(Expr::col("entity").eq(entity.as_str()))
            .and_where(Expr::col("kind").is_in(kinds.iter().copied()))
            .and_where(Expr::col("value").is_in(chunk.iter().copied()));
        let rows = match tx.as_deref_mut() {
            Some(tx) => db.tx_fetch_all(tx, &s).await?,
            None => db.fetch_all(&s).await?,
        };
        for r in rows {
            keys.push((get_str(&r, "kind")?, get_str(&r, "value")?, get_i64(&r, "record_id")?));
        }
    }
    let mut ids: Vec<i64> = keys.iter().map(|(_, _, id)| *id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut live: HashMap<i64, String> = HashMap::new();
    for chunk in ids.chunks(500) {
        let mut s = Query::select();
        s.columns([(T, "id"), (T, "display_name")]).from_as(entity.table(), T).and_where(Expr::col((T, "id")).is_in(chunk.iter().copied())).and_where(Expr::col((T, "deleted_at")).is_null()).cond_where(visibility::readable(viewer, T));
        let rows = match tx.as_deref_mut() {
            Some(tx) => db.tx_fetch_all(tx, &s).await?,
            None => db.fetch_all(&s).await?,
        };
        for r in rows {
            live.insert(get_i64(&r, "id")?, get_opt_str(&r, "display_name")?.unwrap_or_default());
        }
    }
    Ok(keys.into_iter().filter_map(|(kind, value, id)| live.get(&id).map(|name| (kind, value, id, name.clone()))).collect())
}

/// A visible record of `entity` with this identifier (an INN, an e-mail …), if any.
pub async fn find_by_key(db: &Db, viewer: &Viewer, entity: Entity, kind: &str, value: &str) -> Result<Option<i64>> {
    Ok(find_by_keys(db, viewer, entity, &[(kind.to_owned(), value.to_owned())]).await?.into_values().next())
}

/// [`find_by_key`] for many keys at once: the oldest live record the viewer can see per
/// `(kind, value)`, with one query per few hundred values.
pub async fn find_by_keys(db: &Db, viewer: &Viewer, entity: Entity, keys: &[(String, String)]) -> Result<HashMap<(String, String), i64>> {
    let wanted: HashSet<&(String, String)> = keys.iter().collect();
    let kinds: HashSet<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
    let mut found: HashMap<(String, String), i64> = HashMap::new();
    for (kind, value, id, _) in keyed_records(db, None, viewer, entity, &kinds, keys.iter().map(|(_, v)| v.as_str())).await? {
        let key = (kind, value);
        if wanted.contains(&key) {
            let oldest = found.entry(key).or_insert(id);
            *oldest = Ord::min(*oldest, id);
        }
    }
    Ok(found)
}

/// Gives records the creation time they had elsewhere (an import of another system's
/// history, the demo's two years of data): their rows, creation audit entries and timeline
/// rows, in one transaction however many.
pub async fn backdate(db: &Db, entity: Entity, records: &[(i64, i64)]) -> Result<()> {
    let mut tx = db.begin_batch().await?;
    backdate_in(&mut tx, entity, records).await?;
    tx.commit().await
}

/// [`backdate`] inside the caller's transaction.
pub(crate) async fn backdate_in(tx: &mut Tx, entity: Entity, records: &[(i64, i64)]) -> Result<()> {
    let sql = format!("UPDATE {} SET created_at = $1, updated_at = $2 WHERE id = $3", entity.table());
    for &(id, created_at) in records {
        // A deal's creation time is part of its funnel counts.
        let counted = match entity {
            Entity::Deal => Some(crate::sales::funnel_counts::share_now(tx, id).await?),
            _ => None,
        };
        query(sql.as_str()).bind(created_at).bind(created_at).bind(id).execute(&mut **tx).await?;
        if let Some(counted) = counted {
            let counts = crate::sales::funnel_counts::share_now(tx, id).await?;
            crate::sales::funnel_counts::apply(tx, counted, counts).await?;
        }
        query("UPDATE audit_log SET at = $1 WHERE entity = $2 AND record_id = $3 AND action = 'create'").bind(created_at).bind(entity.as_str()).bind(id).execute(&mut **tx).await?;
        query("UPDATE timeline SET at = $1 WHERE entity = $2 AND record_id = $3 AND kind = 'change'").bind(created_at).bind(entity.as_str()).bind(id).execute(&mut **tx).await?;
    }
    Ok(())
}
