//! Checking and running an import, row by row, in batches. Each batch is one transaction that
//! writes its records, its rows' outcomes and the import's new position together: a run that
//! stops (a crash, a restart) resumes at the first row whose batch did not commit.
use super::resolve::{self, Resolver};
use super::{Counts, Mode, Options, file};
use crate::accounts::Principal;
use crate::db::{Db, Tx, Val, get_i64, get_opt_i64, get_opt_str, get_str, insert_rows, query};
use crate::error::{Error, Result};
use crate::now_ms;
use crate::records::{self, Env, WriteOptions};
use accord_domain::entities::{self, Entity, Prepared};
use accord_domain::imports::mapping::{self, Kind, Mapped, RefKind};
use accord_domain::imports::row;
use accord_domain::imports::source;
use accord_domain::query::CustomField;
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// Rows per transaction: large enough to amortize the commit and the statements written
/// for all of a batch's new records at once (a commit writes each page the batch changed:
/// with 1,000 rows, the run of a million contacts was a quarter slower), small enough that
/// other writers (SQLite runs one at a time) wait only briefly (about 0.3 s here).
pub const BATCH_ROWS: usize = 5000;
/// Rows validated together on one thread while the writer writes the part before them.
const PART_ROWS: usize = 500;
/// How long a worker owns an import without renewing; another instance takes over after.
const LEASE_MS: i64 = 120_000;

/// Something wrong with a row, named by its column (and field) where there is one.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Problem {
    pub column: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub code: String,
    pub message: String,
    /// The values the message names, for its translations.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub params: Map<String, Value>,
}

impl Problem {
    pub(super) fn new(column: Option<String>, code: &str, message: impl Into<String>) -> Problem {
        Problem { column, field: None, code: code.to_owned(), message: message.into(), params: Map::new() }
    }

    fn with(mut self, params: Value) -> Problem {
        if let Value::Object(params) = params {
            self.params = params;
        }
        self
    }
}

#[derive(Debug, Clone)]
pub struct Progress {
    pub processed: i64,
    pub total: i64,
    pub counts: Counts,
}

struct Outcome {
    action: &'static str,
    record_id: Option<i64>,
    version: Option<i64>,
    before: Option<Map<String, Value>>,
    problems: Vec<Problem>,
    keys: Vec<String>,
}

impl Outcome {
    fn fail(problems: Vec<Problem>) -> Outcome {
        Outcome { action: "fail", record_id: None, version: None, before: None, problems, keys: Vec::new() }
    }
    fn skip(problem: Problem, record_id: Option<i64>) -> Outcome {
        Outcome { action: "skip", record_id, version: None, before: None, problems: vec![problem], keys: Vec::new() }
    }
}

struct Job {
    rules: Arc<Rules>,
    p: Principal,
    custom: Vec<CustomField>,
    dry: bool,
    resolver: Resolver,
    /// Match keys seen in this file, with the line that had them first.
    seen: HashMap<SeenKey, i64>,
    /// In a check, the e-mails, phones and INNs (other than match keys) of the rows that would
    /// create records, with the line that had them first (a check resumed after a stop knows
    /// those of its own rows only).
    identifiers: HashMap<SeenKey, i64>,
    /// Deals of this file by their old id, which later rows with the same id add lines to.
    deals: HashMap<String, DealOfFile>,
    /// Rows whose deal got more lines: undo must find the deal at its newest version.
    newer_versions: Vec<(i64, i64)>,
}

/// What validating a row needs: shared with the thread that validates the next rows while
/// the writer writes the previous ones.
#[derive(Clone)]
struct Rules {
    entity: Entity,
    headers: Vec<String>,
    mapping: Vec<Option<Mapped>>,
    options: Options,
    /// Validation settings per owner (their time zone differs), read once per import: the
    /// check's validation needs no fresher ones, and the write reads its own.
    envs: HashMap<i64, Arc<Env>>,
}

/// A match key of the file by the first 128 bits of its SHA-256, in 16 bytes whatever its
/// length: as text, the keys of a million rows (an e-mail and a phone each) held 45 MB more at
/// the run's peak. Two different keys of such a file share one by chance about once in 10^26.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct SeenKey([u8; 16]);

impl SeenKey {
    fn of(key: &str) -> SeenKey {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(key.as_bytes());
        let mut first = [0u8; 16];
        first.copy_from_slice(&digest[..16]);
        SeenKey(first)
    }
}

/// The first row of a deal in the file.
#[derive(Clone, Copy)]
struct DealOfFile {
    row_index: i64,
    line: i64,
    record_id: Option<i64>,
}

/// The match key that remembers a deal's first row across a resumed run.
const DEAL_KEY: &str = "deal_of_file:";

/// Takes one pending import (a check or a run no live worker holds) and processes it to the
/// end. `false` when there was nothing to do.
pub async fn work(db: &Db) -> Result<bool> {
    let now = now_ms();
    let candidate = query("SELECT id FROM imports WHERE status IN ('checking', 'running') AND (lease_until IS NULL OR lease_until < $1) ORDER BY id LIMIT 1").bind(now).fetch_optional(db).await?;
    let Some(row) = candidate else { return Ok(false) };
    let id = get_i64(&row, "id")?;
    if !claim(db, id).await? {
        return Ok(false);
    }
    process(db, id, &mut |_| std::ops::ControlFlow::Continue(())).await?;
    Ok(true)
}

/// Makes this worker the import's owner unless another holds a live lease.
pub async fn claim(db: &Db, id: i64) -> Result<bool> {
    let now = now_ms();
    let n = query("UPDATE imports SET lease_until = $1 WHERE id = $2 AND status IN ('checking', 'running') AND (lease_until IS NULL OR lease_until < $3)").bind(now + LEASE_MS).bind(id).bind(now).execute(&mut *db.writer().await?).await?.rows_affected();
    Ok(n == 1)
}

/// What the caller of [`process`] hears after each batch: `Break` stops after that batch
/// (the import stays where it is, to be resumed by any worker once the lease runs out).
pub type OnProgress<'a> = dyn FnMut(&Progress) -> std::ops::ControlFlow<()> + Send + 'a;

/// Checks or runs a claimed import from where it stands to its last row.
pub async fn process(db: &Db, id: i64, on_progress: &mut OnProgress<'_>) -> Result<()> {
    match process_inner(db, id, on_progress).await {
        Ok(()) => Ok(()),
        Err(e) => {
            // A failure of the database or the file: the position is kept, a new check or a
            // restart of the run continues; the user sees why it stopped.
            query("UPDATE imports SET status = 'failed', error = $1, lease_until = NULL, version = version + 1, updated_at = $2 WHERE id = $3").bind(e.to_string()).bind(now_ms()).bind(id).execute(&mut *db.writer().await?).await?;
            Err(e)
        }
    }
}

async fn process_inner(db: &Db, id: i64, on_progress: &mut OnProgress<'_>) -> Result<()> {
    let row = query("SELECT workspace_id, entity, headers, mapping, options, status, total_rows, next_row, check_counts, run_counts, created_by FROM imports WHERE id = $1").bind(id).fetch_optional(db).await?.ok_or(Error::NotFound)?;
    let status = get_str(&row, "status")?;
    let dry = match status.as_str() {
        "checking" => true,
        "running" => false,
        _ => return Ok(()),
    };
    let phase = if dry { "check" } else { "run" };
    let entity = Entity::parse(&get_str(&row, "entity")?).ok_or_else(|| Error::Corrupt("import of an unknown entity".into()))?;
    let mut p = crate::accounts::principal_for(db, get_i64(&row, "workspace_id")?, get_i64(&row, "created_by")?).await?;
    let headers: Vec<String> = serde_json::from_str(&get_str(&row, "headers")?)?;
    let mut mapping_text: Vec<Option<String>> = serde_json::from_str(&get_str(&row, "mapping")?)?;
    let options: Options = serde_json::from_str(&get_str(&row, "options")?)?;
    // Phones are read in the region the user chose for this file.
    if let Some(region) = &options.phone_region {
        p.region = region.clone();
    }
    if !dry && options.create_custom_fields {
        create_custom_fields(db, &p, entity, &headers, &mut mapping_text, id).await?;
    }
    let mapping: Vec<Option<Mapped>> = mapping_text.iter().map(|m| m.as_deref().and_then(|m| Mapped::parse(entity, m))).collect();
    let total = get_i64(&row, "total_rows")?;
    let start = get_i64(&row, "next_row")?;
    let mut counts: Counts = get_opt_str(&row, if dry { "check_counts" } else { "run_counts" })?.filter(|_| start > 0).map(|s| serde_json::from_str(&s)).transpose()?.unwrap_or_default();
    let custom = crate::custom_fields::for_entity(db, p.workspace_id, entity).await?;
    let mut seen = HashMap::new();
    let mut deals = HashMap::new();
    for r in query("SELECT row_index, line, record_id, match_keys FROM import_rows WHERE import_id = $1 AND phase = $2 AND match_keys IS NOT NULL").bind(id).bind(phase).fetch_all(db).await? {
        let keys: Vec<String> = serde_json::from_str(&get_str(&r, "match_keys")?)?;
        let line = get_i64(&r, "line")?;
        for k in keys {
            if let Some(old_id) = k.strip_prefix(DEAL_KEY) {
                deals.insert(old_id.to_owned(), DealOfFile { row_index: get_i64(&r, "row_index")?, line, record_id: get_opt_i64(&r, "record_id")? });
            } else {
                seen.entry(SeenKey::of(&k)).or_insert(line);
            }
        }
    }
    let resolver = Resolver::load(db, &p, entity, &options, dry).await?;
    let rules = Arc::new(Rules { entity, headers, mapping, options, envs: HashMap::new() });
    let mut job = Job { rules, p, custom, dry, resolver, seen, identifiers: HashMap::new(), deals, newer_versions: Vec::new() };

    let bytes = file(db, id).await?;
    let src = source::open(&bytes).map_err(|e| Error::conflict("import_file", e.message))?;
    // The source holds the file's text (or its rows) itself.
    drop(bytes);
    let mut rows = src.rows().skip(1).enumerate().skip(start as usize).peekable();
    let mut processed = start;
    if on_progress(&Progress { processed, total, counts: counts.clone() }).is_break() {
        return Ok(());
    }
    let mut batches: u64 = 0;
    while rows.peek().is_some() {
        let batch: Vec<(usize, std::result::Result<source::Row, accord_domain::error::Invalid>)> = rows.by_ref().take(BATCH_ROWS).collect();
        let mut tx = db.begin_batch().await?;
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut batch = batch.into_iter().peekable();
        if job.rules.entity == Entity::Deal {
            // Whether a deal's row adds a line to an earlier row's deal depends on what the
            // earlier rows became: deals are read, validated and settled row by row.
            for row in batch {
                let read = read_rows(db, &mut tx, &mut job, std::iter::once(row), &mut outcomes).await?;
                let group = candidates(read.into_iter().map(|r| validate(&job.rules, r)).collect(), &mut outcomes)?;
                outcomes.extend(settle(db, &mut tx, &mut job, group).await?);
            }
        } else {
            let mut validating = None;
            while batch.peek().is_some() {
                let read = read_rows(db, &mut tx, &mut job, batch.by_ref().take(PART_ROWS), &mut outcomes).await?;
                if let Some(previous) = validating.replace(validate_part(job.rules.clone(), read)) {
                    let group = validated(previous, &mut outcomes).await?;
                    outcomes.extend(settle(db, &mut tx, &mut job, group).await?);
                }
            }
            if let Some(last) = validating {
                let group = validated(last, &mut outcomes).await?;
                outcomes.extend(settle(db, &mut tx, &mut job, group).await?);
            }
        }
        for (_, _, o) in &outcomes {
            match o.action {
                "create" => counts.created += 1,
                "update" => counts.updated += 1,
                "skip" => counts.skipped += 1,
                "line" => counts.lines += 1,
                _ => counts.failed += 1,
            }
        }
        let mut report = Vec::with_capacity(outcomes.len());
        for (index, line, o) in &outcomes {
            report.push(vec![
                Val::from(id),
                Val::from(phase),
                Val::from(*index),
                Val::from(*line),
                Val::from(o.action),
                Val::from(o.record_id),
                Val::from(o.version),
                Val::from(o.before.as_ref().map(|b| Value::Object(b.clone()).to_string())),
                Val::from(if o.problems.is_empty() { None } else { Some(serde_json::to_string(&o.problems)?) }),
                Val::from(if o.keys.is_empty() { None } else { Some(serde_json::to_string(&o.keys)?) }),
            ]);
        }
        insert_rows(&mut tx, "import_rows", &["import_id", "phase", "row_index", "line", "action", "record_id", "record_version", "before", "problems", "match_keys"], report, false).await?;
        for (row_index, version) in job.newer_versions.drain(..) {
            query("UPDATE import_rows SET record_version = $1 WHERE import_id = $2 AND phase = $3 AND row_index = $4").bind(version).bind(id).bind(phase).bind(row_index).execute(&mut *tx).await?;
        }
        processed += outcomes.len() as i64;
        let counts_col = if dry { "check_counts" } else { "run_counts" };
        query(format!("UPDATE imports SET next_row = $1, {counts_col} = $2, lease_until = $3, updated_at = $4 WHERE id = $5"))
            .bind(processed)
            .bind(serde_json::to_string(&counts)?)
            .bind(now_ms() + LEASE_MS)
            .bind(now_ms())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        batches += 1;
        if !dry {
            refresh_statistics(db, job.rules.entity, batches).await?;
        }
        if on_progress(&Progress { processed, total, counts: counts.clone() }).is_break() {
            return Ok(());
        }
    }
    let mut tx = db.begin().await?;
    let counts_col = if dry { "check_counts" } else { "run_counts" };
    query(format!("UPDATE imports SET status = $1, {counts_col} = $2, total_rows = $3, lease_until = NULL, finished_at = $4, version = version + 1, updated_at = $4 WHERE id = $5"))
        .bind(if dry { "checked" } else { "done" })
        .bind(serde_json::to_string(&counts)?)
        .bind(processed)
        .bind(now_ms())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if !dry {
        crate::sales::audit_settings(&mut tx, &job.p, "import", id, "done", json!({ "counts": counts, "created_references": job.resolver.created.len() })).await?;
    }
    tx.commit().await
}

/// Gives PostgreSQL's planner the sizes of the tables an import grows, after its 1st, 2nd,
/// 4th, 8th … batch. Its own statistics lag behind a bulk load: an import into a new
/// workspace looked keys up by filtering every row of the workspace's keys (planned for
/// an empty table), slower with each batch. SQLite plans by its indexes' shapes.
async fn refresh_statistics(db: &Db, entity: Entity, batches: u64) -> Result<()> {
    if db.backend != crate::Backend::Postgres || !batches.is_power_of_two() {
        return Ok(());
    }
    query(format!("ANALYZE record_keys, external_ids, {}", entity.table())).execute(db).await?;
    Ok(())
}

/// Unmapped columns become text custom fields named by their headers (once: the mapping is
/// saved with them, so a resumed run does not create them again).
async fn create_custom_fields(db: &Db, p: &Principal, entity: Entity, headers: &[String], mapping: &mut [Option<String>], id: i64) -> Result<()> {
    let existing: Vec<String> = crate::custom_fields::list(db, p.workspace_id, Some(entity)).await?.into_iter().map(|c| c.key).collect();
    let mut taken = existing.clone();
    let mut changed = false;
    for (h, m) in headers.iter().zip(mapping.iter_mut()) {
        if m.is_some() || h.trim().is_empty() {
            continue;
        }
        let key = unique_key(&field_key(h), &taken);
        crate::custom_fields::create(db, p.workspace_id, crate::custom_fields::NewField { entity, key: key.clone(), label: h.trim().to_owned(), field_type: accord_domain::custom_fields::FieldType::Text, required: false, unique: false, options: Vec::new() }).await?;
        taken.push(key.clone());
        *m = Some(format!("cf.{key}"));
        changed = true;
    }
    if changed {
        query("UPDATE imports SET mapping = $1 WHERE id = $2").bind(serde_json::to_string(&mapping)?).bind(id).execute(&mut *db.writer().await?).await?;
    }
    Ok(())
}

/// A custom field key from a header: Latin letters (Cyrillic transliterated), digits and `_`.
fn field_key(header: &str) -> String {
    const CYR: [(&str, &str); 33] = [
        ("а", "a"), ("б", "b"), ("в", "v"), ("г", "g"), ("д", "d"), ("е", "e"), ("ё", "e"), ("ж", "zh"), ("з", "z"), ("и", "i"), ("й", "y"), ("к", "k"), ("л", "l"), ("м", "m"), ("н", "n"), ("о", "o"), ("п", "p"),
        ("р", "r"), ("с", "s"), ("т", "t"), ("у", "u"), ("ф", "f"), ("х", "kh"), ("ц", "ts"), ("ч", "ch"), ("ш", "sh"), ("щ", "shch"), ("ъ", ""), ("ы", "y"), ("ь", ""), ("э", "e"), ("ю", "yu"), ("я", "ya"),
    ];
    let mut out = String::new();
    for c in header.to_lowercase().chars() {
        let s = c.to_string();
        match CYR.iter().find(|(k, _)| *k == s) {
            Some((_, v)) => out.push_str(v),
            None if c.is_ascii_alphanumeric() => out.push(c),
            None if !out.ends_with('_') => out.push('_'),
            None => {}
        }
    }
    let trimmed = out.trim_matches('_');
    let key = if trimmed.starts_with(|c: char| c.is_ascii_lowercase()) { trimmed.to_owned() } else { format!("f_{trimmed}") };
    key.chars().take(50).collect::<String>().trim_end_matches('_').to_owned()
}

fn unique_key(base: &str, taken: &[String]) -> String {
    let mut key = base.to_owned();
    let mut n = 2;
    while taken.contains(&key) {
        key = format!("{base}_{n}");
        n += 1;
    }
    key
}

/// The column that filled a field named in a validation error (`emails[0].value` → the
/// e-mail column).
fn column_of(rules: &Rules, field: &str) -> Option<String> {
    let head = field.split(['[', '.']).next().unwrap_or(field);
    if head == "custom_fields" {
        let key = field.split('.').nth(1).unwrap_or_default();
        return rules.mapping.iter().position(|m| matches!(m, Some(Mapped::Custom(k)) if k == key)).and_then(|i| rules.headers.get(i).cloned());
    }
    let fills = |kind: Kind| -> bool {
        match kind {
            Kind::Text(f) | Kind::Int(f) | Kind::Percent(f) | Kind::Money(f) | Kind::Bool(f) | Kind::Date(f) | Kind::DateTime(f) => f == head,
            Kind::Code(_) => false,
            Kind::Currency => head == "currency",
            Kind::Email(_) => head == "emails",
            Kind::Phone(_) => head == "phones",
            Kind::Address(..) => head == "addresses",
            Kind::FullName => head.ends_with("_name"),
            Kind::Tags => head == "tags",
            Kind::Line(_) => head == "items",
            Kind::Ref(r) => match r {
                RefKind::Owner => head == "owner_id",
                RefKind::Company | RefKind::CompanyInn | RefKind::CompanyDomain | RefKind::CompanyExternalId => matches!(head, "company_id" | "primary_company_id" | "company_ids"),
                RefKind::Contact | RefKind::ContactExternalId => matches!(head, "contacts" | "contact_id"),
                RefKind::Deal => head == "deal_id",
                RefKind::Pipeline => head == "pipeline_id",
                RefKind::Stage => head == "stage_id",
                RefKind::LostReason => head == "lost_reason_id",
                RefKind::Product => head == "items",
            },
            Kind::ExternalId | Kind::CreatedAt | Kind::DealStatus => false,
        }
    };
    rules.mapping
        .iter()
        .enumerate()
        .find(|(_, m)| match m {
            Some(Mapped::Target(id)) => mapping::target(rules.entity, id).is_some_and(|t| fills(t.kind) || (matches!(t.kind, Kind::Code(_)) && t.id == head)),
            _ => false,
        })
        .and_then(|(i, _)| rules.headers.get(i).cloned())
}

/// The column that filled an identifier of a kind (`email`, `phone`, `inn`).
fn key_column(rules: &Rules, kind: &str) -> Option<String> {
    column_of(rules, match kind {
        "email" => "emails",
        "phone" => "phones",
        other => other,
    })
}

fn field_problems(rules: &Rules, e: &accord_domain::ValidationErrors) -> Vec<Problem> {
    e.0.iter().map(|f| Problem { column: column_of(rules, &f.field), field: Some(f.field.clone()), code: f.code.clone(), message: f.message.clone(), params: Map::new() }).collect()
}

/// Moves the e-mails and phones that failed validation out of their lists into the
/// description, as text. `false` when other fields failed too (the row fails as it is).
fn set_aside_invalid(input: &mut Map<String, Value>, e: &accord_domain::ValidationErrors) -> bool {
    let mut bad: Vec<(&str, usize)> = Vec::new();
    for f in &e.0 {
        let Some((list, rest)) = f.field.split_once('[') else { return false };
        let Some(i) = rest.split(']').next().and_then(|i| i.parse::<usize>().ok()) else { return false };
        if !matches!(list, "emails" | "phones") {
            return false;
        }
        bad.push((if list == "emails" { "emails" } else { "phones" }, i));
    }
    let mut lines = Vec::new();
    for list in ["emails", "phones"] {
        let Some(Value::Array(items)) = input.get_mut(list) else { continue };
        let mut kept = Vec::new();
        for (i, item) in items.drain(..).enumerate() {
            if bad.contains(&(list, i)) {
                let text = item.get("value").and_then(Value::as_str).or(item.as_str()).unwrap_or_default().to_owned();
                lines.push(format!("{}: {text}", if list == "emails" { "E-mail" } else { "Phone" }));
            } else {
                kept.push(item);
            }
        }
        *items = kept;
    }
    let description = input.get("description").and_then(Value::as_str).map(str::to_owned);
    input.insert("description".into(), json!(description.into_iter().chain(lines).collect::<Vec<_>>().join("\n")));
    true
}

/// Lists from the file join those the record has; other fields replace.
fn merged_patch(current: &Map<String, Value>, input: &Map<String, Value>) -> Map<String, Value> {
    let mut patch = input.clone();
    for list in ["emails", "phones", "tags", "company_ids"] {
        let (Some(Value::Array(old)), Some(Value::Array(new))) = (current.get(list), input.get(list)) else { continue };
        let key = |v: &Value| -> String { accord_domain::text::fold(v.get("value").or_else(|| v.get("original")).or(Some(v)).and_then(Value::as_str).map_or_else(|| v.to_string(), str::to_owned).as_str()) };
        let old_clean: Vec<Value> = old.iter().map(|v| if list == "phones" { json!({ "type": v["type"], "value": v["original"] }) } else { v.clone() }).collect();
        let mut all = old_clean.clone();
        for n in new {
            if !old.iter().any(|o| key(o) == key(n) || o.get("e164").is_some_and(|e| Some(e) == n.get("e164"))) {
                all.push(n.clone());
            }
        }
        patch.insert(list.to_owned(), Value::Array(all));
    }
    patch
}

/// A row's outcome: its index, its line in the file and what became of it.
type RowOutcome = (i64, i64, Outcome);

/// What reading a row leaves to do.
enum Step {
    Done(Outcome),
    /// A line of the deal of an earlier row.
    Line(DealOfFile, Map<String, Value>),
    /// A record with its references resolved, to be validated.
    Validate(Box<Read>),
}

/// A row's record with its references resolved.
struct Read {
    row_index: i64,
    line: i64,
    built: row::Built,
    owner: i64,
    deal_of_file: Option<String>,
}

/// A valid row waiting for its group's matching and writes.
struct Candidate {
    row_index: i64,
    line: i64,
    built: row::Built,
    prep: Prepared,
    notes: Vec<Problem>,
    keys: Vec<String>,
    deal_of_file: Option<String>,
}

/// Reads rows of the file: those that need no validation (footers, broken rows, a deal's
/// further lines) get their outcomes; the others are returned to be validated.
async fn read_rows(db: &Db, tx: &mut Tx, job: &mut Job, rows: impl Iterator<Item = (usize, std::result::Result<source::Row, accord_domain::error::Invalid>)> + Send, outcomes: &mut Vec<RowOutcome>) -> Result<Vec<Read>> {
    let mut read = Vec::new();
    for (index, r) in rows {
        let index = index as i64;
        match r {
            Ok(r) => match read_row(db, tx, job, index, &r).await? {
                Step::Done(o) => outcomes.push((index, r.line as i64, o)),
                Step::Line(first, input) => outcomes.push((index, r.line as i64, add_line(db, tx, job, first, &input).await?)),
                Step::Validate(row) => read.push(*row),
            },
            Err(e) => outcomes.push((index, 0, Outcome::fail(vec![Problem::new(None, e.code, e.message)]))),
        }
    }
    Ok(read)
}

/// Builds a row's record and resolves its references.
async fn read_row(db: &Db, tx: &mut Tx, job: &mut Job, row_index: i64, r: &source::Row) -> Result<Step> {
    if source::is_footer(r, job.rules.headers.len()) {
        return Ok(Step::Done(Outcome::skip(Problem::new(None, "not_a_record", "a footer or note row (one cell, fewer columns than the header), not a record"), None)));
    }
    let mut b = row::build(job.rules.entity, &job.rules.mapping, &r.cells);
    let mut problems: Vec<Problem> = b.errors.iter().map(|e| Problem::new(job.rules.headers.get(e.column).cloned(), &e.code, e.message.clone())).collect();
    let dry = job.dry;
    problems.extend(job.resolver.apply(db, if dry { None } else { Some(&mut *tx) }, &job.p, &mut b, &job.rules.headers).await?);
    if !problems.is_empty() {
        return Ok(Step::Done(Outcome::fail(problems)));
    }
    // What a write would fill in first (a deal line's name and price from its product).
    crate::sales::hooks::before_prepare(db, &job.p, job.rules.entity, &mut b.input, None).await?;
    let deal_of_file = b.external_id.as_deref().map(str::trim).filter(|e| job.rules.entity == Entity::Deal && !e.is_empty()).map(str::to_owned);
    if let Some(first) = deal_of_file.as_deref().and_then(|e| job.deals.get(e)).copied()
        && b.input.contains_key("items")
    {
        return Ok(Step::Line(first, b.input));
    }
    let owner = b.input.get("owner_id").and_then(Value::as_i64).unwrap_or(job.p.user.id);
    if !job.rules.envs.contains_key(&owner) {
        let env = Env::load(db, &job.p, job.rules.entity, &job.custom, owner).await?;
        Arc::make_mut(&mut job.rules).envs.insert(owner, Arc::new(env));
    }
    Ok(Step::Validate(Box::new(Read { row_index, line: r.line as i64, built: b, owner, deal_of_file })))
}

/// A row validated: a candidate for writing, or the outcome of an invalid row.
type Validated = Result<std::result::Result<Candidate, RowOutcome>>;

/// Validates read rows as a write would, on a thread of its own: validation (phone numbers
/// above all) is most of a check's time and a sixth of a run's, and while one part of a
/// batch is validated the writer writes the part before it.
fn validate_part(rules: Arc<Rules>, rows: Vec<Read>) -> tokio::task::JoinHandle<Vec<Validated>> {
    tokio::task::spawn_blocking(move || rows.into_iter().map(|r| validate(&rules, r)).collect())
}

/// The candidates of a part validated on its thread.
async fn validated(part: tokio::task::JoinHandle<Vec<Validated>>, outcomes: &mut Vec<RowOutcome>) -> Result<Vec<Candidate>> {
    let rows = part.await.map_err(|e| match e.try_into_panic() {
        Ok(panic) => std::panic::resume_unwind(panic),
        Err(e) => Error::Unavailable(format!("the validation of an import stopped: {e}")),
    })?;
    candidates(rows, outcomes)
}

/// The valid rows of `rows`; the outcomes of the invalid ones go to `outcomes`.
fn candidates(rows: Vec<Validated>, outcomes: &mut Vec<RowOutcome>) -> Result<Vec<Candidate>> {
    let mut group = Vec::with_capacity(rows.len());
    for v in rows {
        match v? {
            Ok(c) => group.push(c),
            Err(o) => outcomes.push(o),
        }
    }
    Ok(group)
}

/// A valid row, or the outcome of an invalid one.
fn validate(rules: &Rules, r: Read) -> Validated {
    let Read { row_index, line, built: mut b, owner, deal_of_file } = r;
    let fail = |problems| Ok(Err((row_index, line, Outcome::fail(problems))));
    let Some(env) = rules.envs.get(&owner) else { return Err(Error::Corrupt("validation settings missing".into())) };
    let mut notes = Vec::new();
    let prep = match entities::prepare(rules.entity, &records::strip_system(&b.input), &env.ctx(None)) {
        Ok(prep) => prep,
        Err(e) if rules.options.keep_invalid_values && set_aside_invalid(&mut b.input, &e) => {
            notes = field_problems(rules, &e).into_iter().map(|p| Problem { code: "kept_in_description".into(), ..p }).collect();
            match entities::prepare(rules.entity, &records::strip_system(&b.input), &env.ctx(None)) {
                Ok(prep) => prep,
                Err(e) => return fail(field_problems(rules, &e)),
            }
        }
        Err(e) => return fail(field_problems(rules, &e)),
    };
    let match_on = rules.options.match_keys(rules.entity);
    let mut keys: Vec<String> = prep.keys.iter().filter(|(k, _)| match_on.iter().any(|m| m == k.as_str())).map(|(k, v)| format!("{}:{v}", k.as_str())).collect();
    if let Some(ext) = b.external_id.as_deref().filter(|_| match_on.iter().any(|m| m == "external_id")) {
        keys.push(format!("external_id:{}", ext.trim()));
    }
    Ok(Ok(Candidate { row_index, line, built: b, prep, notes, keys, deal_of_file }))
}

/// Matches a group of valid rows against the records there (one lookup for all their keys)
/// and against the file's earlier rows, then writes them: new records together, updates
/// one by one, in the order of the file.
async fn settle(db: &Db, tx: &mut Tx, job: &mut Job, group: Vec<Candidate>) -> Result<Vec<RowOutcome>> {
    let mut out = Vec::with_capacity(group.len());
    if group.is_empty() {
        return Ok(out);
    }
    let by_key: Vec<(String, String)> = group.iter().flat_map(|c| c.keys.iter()).filter_map(|k| k.split_once(':')).filter(|(kind, _)| *kind != "external_id").map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
    let found = records::find_by_keys(db, &job.p.viewer, job.rules.entity, &by_key).await?;
    let mut creates: Vec<Candidate> = Vec::new();
    for mut c in group {
        let seen_keys: Vec<SeenKey> = c.keys.iter().map(|k| SeenKey::of(k)).collect();
        if let Some((k, line)) = c.keys.iter().zip(&seen_keys).find_map(|(k, s)| job.seen.get(s).map(|l| (k, *l))) {
            out.push((c.row_index, c.line, Outcome::skip(Problem::new(None, "duplicate_in_file", format!("line {line} has the same {}", k.split(':').next().unwrap_or(k))), None)));
            continue;
        }
        let mut existing: Vec<i64> = Vec::new();
        for k in &c.keys {
            let (kind, value) = k.split_once(':').unwrap_or((k, ""));
            let id = if kind == "external_id" { resolve::by_external(db, &job.p, job.rules.entity, value).await? } else { found.get(&(kind.to_owned(), value.to_owned())).copied() };
            if let Some(id) = id.filter(|id| !existing.contains(id)) {
                existing.push(id);
            }
        }
        if existing.len() > 1 {
            out.push((c.row_index, c.line, Outcome::fail(vec![Problem::new(None, "ambiguous_match", format!("the row matches several records: {}", existing.iter().map(|i| format!("#{i}")).collect::<Vec<_>>().join(", ")))])));
            continue;
        }
        let existing = existing.first().copied();
        match (existing, job.rules.options.mode) {
            (Some(id), Mode::CreateOnly) => {
                out.push((c.row_index, c.line, Outcome::skip(Problem::new(None, "exists", format!("record #{id} has the same identifier")), Some(id))));
                continue;
            }
            (None, Mode::UpdateOnly) => {
                out.push((c.row_index, c.line, Outcome::skip(Problem::new(None, "no_match", "no record matches the row"), None)));
                continue;
            }
            _ => {}
        }
        for s in seen_keys {
            job.seen.insert(s, c.line);
        }
        if let Some(old_id) = &c.deal_of_file {
            c.keys.push(format!("{DEAL_KEY}{old_id}"));
            job.deals.insert(old_id.clone(), DealOfFile { row_index: c.row_index, line: c.line, record_id: existing });
        }
        let action = if existing.is_some() { "update" } else { "create" };
        if job.dry {
            if existing.is_none() && !job.rules.options.allow_duplicates {
                creates.push(c);
            } else {
                out.push((c.row_index, c.line, Outcome { action, record_id: existing, version: None, before: None, problems: c.notes, keys: c.keys }));
            }
            continue;
        }
        match existing {
            None => creates.push(c),
            Some(id) => {
                // Written in the order of the file: the new records of earlier rows first.
                out.extend(create(db, tx, job, std::mem::take(&mut creates)).await?);
                let outcome = update(db, tx, job, id, &c).await?;
                out.push((c.row_index, c.line, outcome));
            }
        }
    }
    if job.dry {
        out.extend(would_create(db, tx, job, creates).await?);
    } else {
        out.extend(create(db, tx, job, creates).await?);
    }
    Ok(out)
}

/// What a check says of rows that would create records: as the run will, it fails those that
/// share an e-mail, phone or INN with a record there or with an earlier row of the file.
async fn would_create(db: &Db, tx: &mut Tx, job: &mut Job, rows: Vec<Candidate>) -> Result<Vec<RowOutcome>> {
    let items: Vec<(Option<i64>, &Prepared)> = rows.iter().map(|c| (None, &c.prep)).collect();
    let found = records::duplicates_many(db, tx, &job.p.viewer, job.rules.entity, &items).await?;
    let mut out = Vec::with_capacity(rows.len());
    for (c, there) in rows.into_iter().zip(found) {
        if !there.is_empty() {
            out.push((c.row_index, c.line, Outcome::fail(row_problems(job, Error::Duplicate(there))?)));
            continue;
        }
        // The match keys among them are in `seen` already (a million rows' e-mails held 35 MB
        // more at the check's peak).
        let identifiers: Vec<(&str, SeenKey)> = c.prep.keys.iter().filter(|(k, _)| k.identifies()).map(|(k, v)| (k.as_str(), format!("{}:{v}", k.as_str()))).filter(|(_, key)| !c.keys.contains(key)).map(|(kind, key)| (kind, SeenKey::of(&key))).collect();
        if let Some((kind, line)) = identifiers.iter().find_map(|(kind, key)| job.identifiers.get(key).map(|line| (*kind, *line))) {
            let value = c.prep.keys.iter().find(|(k, _)| k.as_str() == kind).map_or_else(String::new, |(_, v)| v.clone());
            out.push((c.row_index, c.line, Outcome::fail(vec![Problem::new(key_column(&job.rules, kind), "duplicate_of_line", format!("line {line} has the same {kind} {value}")).with(json!({ "line": line, "value": value }))])));
            continue;
        }
        for (_, key) in identifiers {
            job.identifiers.entry(key).or_insert(c.line);
        }
        out.push((c.row_index, c.line, Outcome { action: "create", record_id: None, version: None, before: None, problems: c.notes, keys: c.keys }));
    }
    Ok(out)
}

/// Writes the new records of rows, together.
async fn create(db: &Db, tx: &mut Tx, job: &mut Job, rows: Vec<Candidate>) -> Result<Vec<RowOutcome>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let (candidates, preps): (Vec<Candidate>, Vec<Prepared>) = rows
        .into_iter()
        .map(|mut c| {
            let prep = std::mem::take(&mut c.prep);
            (c, prep)
        })
        .unzip();
    let written = records::create_prepared(db, tx, &job.p, job.rules.entity, &preps, &job.custom, &WriteOptions { allow_duplicates: job.rules.options.allow_duplicates }, "create").await?;
    let mut out = Vec::with_capacity(candidates.len());
    let mut backdated = Vec::new();
    for (c, w) in candidates.into_iter().zip(written) {
        let rec = match w {
            Ok(rec) => rec,
            Err(e) => {
                out.push((c.row_index, c.line, Outcome::fail(row_problems(job, e)?)));
                continue;
            }
        };
        if let Some(ext) = &c.built.external_id {
            remember_external_id(tx, job, ext, rec.id).await?;
        }
        if let Some(created) = &c.built.created_at
            && let Ok(ms) = entities::parse_moment(created, job.p.user.time_zone.parse().unwrap_or(chrono_tz::Europe::Moscow))
        {
            backdated.push((rec.id, ms));
        }
        if let Some(d) = c.deal_of_file.as_deref().and_then(|e| job.deals.get_mut(e)) {
            d.record_id = Some(rec.id);
        }
        out.push((c.row_index, c.line, Outcome { action: "create", record_id: Some(rec.id), version: Some(rec.version), before: None, problems: c.notes, keys: c.keys }));
    }
    records::backdate_in(tx, job.rules.entity, &backdated).await?;
    Ok(out)
}

/// The import's link from the old system's id to the record.
async fn remember_external_id(tx: &mut Tx, job: &Job, ext: &str, record_id: i64) -> Result<()> {
    query("DELETE FROM external_ids WHERE workspace_id = $1 AND entity = $2 AND value = $3").bind(job.p.workspace_id).bind(job.rules.entity.as_str()).bind(ext.trim()).execute(&mut **tx).await?;
    query("INSERT INTO external_ids (workspace_id, entity, value, record_id) VALUES ($1, $2, $3, $4)").bind(job.p.workspace_id).bind(job.rules.entity.as_str()).bind(ext.trim()).bind(record_id).execute(&mut **tx).await?;
    Ok(())
}

/// Updates the record a row matched, keeping what it was for undo.
async fn update(db: &Db, tx: &mut Tx, job: &mut Job, id: i64, c: &Candidate) -> Result<Outcome> {
    query("SAVEPOINT import_row").execute(&mut **tx).await?;
    let written = match records::get_for_write(db, tx, &job.p.viewer, job.rules.entity, id, false).await {
        Ok(current) => {
            let before = records::writable(&current, job.rules.entity);
            let mut before_with_owner = before.clone();
            before_with_owner.insert("owner_id".into(), json!(current.owner_id));
            records::update_in(db, tx, &job.p, job.rules.entity, id, &merged_patch(&current.fields, &c.built.input), None, &job.custom, &WriteOptions { allow_duplicates: true }).await.map(|rec| (rec, before_with_owner))
        }
        Err(e) => Err(e),
    };
    match written {
        Ok((rec, before)) => {
            if let Some(ext) = &c.built.external_id {
                remember_external_id(tx, job, ext, rec.id).await?;
            }
            query("RELEASE SAVEPOINT import_row").execute(&mut **tx).await?;
            if let Some(d) = c.deal_of_file.as_deref().and_then(|e| job.deals.get_mut(e)) {
                d.record_id = Some(rec.id);
            }
            Ok(Outcome { action: "update", record_id: Some(rec.id), version: Some(rec.version), before: Some(before), problems: c.notes.clone(), keys: c.keys.clone() })
        }
        Err(e) => failed_write(tx, job, e).await,
    }
}

/// Why the database refused a row's write; errors that are not the row's fault stop the
/// import.
fn row_problems(job: &Job, e: Error) -> Result<Vec<Problem>> {
    Ok(match e {
        Error::Invalid(v) => field_problems(&job.rules, &v),
        Error::Duplicate(d) => d.iter().map(|m| Problem::new(key_column(&job.rules, &m.matched_on), "duplicate", format!("{} #{} «{}» has the same {} {}", m.entity, m.id, m.display_name, m.matched_on, m.value)).with(json!({ "id": m.id, "name": m.display_name, "value": m.value }))).collect(),
        Error::Forbidden(why) => vec![Problem::new(None, "forbidden", why)],
        Error::NotFound => vec![Problem::new(None, "not_found", "the matching record is no longer there")],
        Error::VersionConflict { .. } => vec![Problem::new(None, "conflict", "the matching record changed during the import")],
        other => return Err(other),
    })
}

/// A write of a row that the database refused: its savepoint is rolled back and the row
/// fails with the reason; errors that are not the row's fault stop the import.
async fn failed_write(tx: &mut Tx, job: &Job, e: Error) -> Result<Outcome> {
    query("ROLLBACK TO SAVEPOINT import_row").execute(&mut **tx).await?;
    query("RELEASE SAVEPOINT import_row").execute(&mut **tx).await?;
    Ok(Outcome::fail(row_problems(job, e)?))
}

/// A row that repeats a deal's old id adds its line to that deal (a deal's products, one row
/// each). Undo needs nothing of its own: the deal's first row undoes it, at its newest version.
async fn add_line(db: &Db, tx: &mut Tx, job: &mut Job, first: DealOfFile, input: &Map<String, Value>) -> Result<Outcome> {
    let line = Outcome { action: "line", record_id: first.record_id, version: None, before: None, problems: Vec::new(), keys: Vec::new() };
    let new_lines = input.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
    if job.dry {
        return Ok(line);
    }
    let Some(deal_id) = first.record_id else {
        return Ok(Outcome::skip(Problem::new(None, "deal_not_written", format!("the deal of line {} was not written", first.line)), None));
    };
    query("SAVEPOINT import_row").execute(&mut **tx).await?;
    let written = match records::get_for_write(db, tx, &job.p.viewer, Entity::Deal, deal_id, false).await {
        Ok(current) => {
            let mut items = current.fields.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
            items.extend(new_lines);
            let patch: Map<String, Value> = [("items".to_owned(), Value::Array(items))].into_iter().collect();
            records::update_in(db, tx, &job.p, Entity::Deal, deal_id, &patch, None, &job.custom, &WriteOptions { allow_duplicates: true }).await
        }
        Err(e) => Err(e),
    };
    match written {
        Ok(rec) => {
            query("RELEASE SAVEPOINT import_row").execute(&mut **tx).await?;
            job.newer_versions.push((first.row_index, rec.version));
            Ok(Outcome { version: Some(rec.version), ..line })
        }
        Err(e) => failed_write(tx, job, e).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_field_keys() {
        assert_eq!(field_key("Любимый цвет"), "lyubimyy_tsvet");
        assert_eq!(field_key("Favorite Color"), "favorite_color");
        assert_eq!(field_key("2nd phone"), "f_2nd_phone");
        assert_eq!(unique_key("a", &["a".into(), "a_2".into()]), "a_3");
    }
}
