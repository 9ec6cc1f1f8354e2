//! Imports: an uploaded file is kept with its mapping and options; a check reports per row
//! what a run would do; a run writes in batches, each batch one transaction that also moves
//! the import's position, so a run stopped midway resumes where it stopped (no row twice,
//! none lost); undo takes back what a run did, where nobody changed it since.
mod resolve;
mod run;

use crate::accounts::Principal;
use crate::db::{Db, Row, get_i64, get_opt_i64, get_opt_str, get_str, query};
use crate::error::{Error, Result};
use crate::now_ms;
use accord_domain::ValidationErrors;
use accord_domain::entities::Entity;
use accord_domain::imports::mapping::{self, Mapped, Preset};
use accord_domain::imports::source::{self, Detected};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

pub use run::{BATCH_ROWS, OnProgress, Progress, claim, process, work};

/// How rows meet the records already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// A row matching a record updates it; the others create records.
    #[default]
    Upsert,
    /// Rows matching a record are skipped.
    CreateOnly,
    /// Rows matching no record are skipped.
    UpdateOnly,
}

/// What an unmapped or unresolved thing becomes.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Options {
    #[serde(default)]
    pub mode: Mode,
    /// Identifiers that find the existing record of a row: `email`, `phone`, `inn`, `sku`,
    /// `external_id`. Default: contacts e-mail, companies INN, products SKU, others the
    /// external id.
    #[serde(default)]
    pub match_on: Option<Vec<String>>,
    /// Referenced records to create when no record has the name: `company`, `contact`,
    /// `product`.
    #[serde(default)]
    pub create_missing: Vec<String>,
    /// A row whose owner is not a member goes to the importer instead of failing.
    #[serde(default)]
    pub unknown_owner_to_me: bool,
    /// Columns mapped to nothing become new text custom fields, named by their header.
    #[serde(default)]
    pub create_custom_fields: bool,
    /// Create a record even when another has the same e-mail, phone or INN (and it was not
    /// chosen as a match key).
    #[serde(default)]
    pub allow_duplicates: bool,
    /// The lost reason of lost deals whose row names none (or one not in the workspace's list,
    /// which is then kept as the comment).
    #[serde(default)]
    pub default_lost_reason_id: Option<i64>,
    /// The pipeline of deals whose row names none; its stages are the ones stage names are
    /// looked up in (default: the first pipeline, then any).
    #[serde(default)]
    pub pipeline_id: Option<i64>,
    /// The country of phone numbers written without a country code (ISO code such as `US`);
    /// default the workspace's.
    #[serde(default)]
    pub phone_region: Option<String>,
    /// E-mails and phones that are not valid go to the record's description (and the row's
    /// report) instead of failing the row.
    #[serde(default)]
    pub keep_invalid_values: bool,
    /// A contact whose row names no company joins the company at its e-mail's domain (when
    /// exactly one has it, and it is not a public mail service such as mail.ru). Default on.
    #[serde(default = "yes")]
    pub company_by_email_domain: bool,
}

fn yes() -> bool {
    true
}

impl Default for Options {
    fn default() -> Self {
        Options { mode: Mode::Upsert, match_on: None, create_missing: Vec::new(), unknown_owner_to_me: false, create_custom_fields: false, allow_duplicates: false, default_lost_reason_id: None, pipeline_id: None, phone_region: None, keep_invalid_values: false, company_by_email_domain: true }
    }
}

const MATCH_KEYS: [&str; 5] = ["email", "phone", "inn", "sku", "external_id"];
const CREATABLE: [&str; 3] = ["company", "contact", "product"];

impl Options {
    pub fn match_keys(&self, entity: Entity) -> Vec<String> {
        self.match_on.clone().unwrap_or_else(|| {
            vec![
                match entity {
                    Entity::Contact => "email",
                    Entity::Company => "inn",
                    Entity::Product => "sku",
                    _ => "external_id",
                }
                .to_owned(),
            ]
        })
    }

    fn check(&self, errors: &mut ValidationErrors) {
        if let Some(r) = &self.phone_region {
            errors.check("options.phone_region", accord_domain::phone::region(r));
        }
        for (i, k) in self.match_on.iter().flatten().enumerate() {
            if !MATCH_KEYS.contains(&k.as_str()) {
                errors.add(format!("options.match_on[{i}]"), "unknown_value", format!("must be one of: {}", MATCH_KEYS.join(", ")));
            }
        }
        for (i, k) in self.create_missing.iter().enumerate() {
            if !CREATABLE.contains(&k.as_str()) {
                errors.add(format!("options.create_missing[{i}]"), "unknown_value", format!("must be one of: {}", CREATABLE.join(", ")));
            }
        }
    }
}

/// Rows by outcome.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Counts {
    pub created: u64,
    pub updated: u64,
    pub skipped: u64,
    pub failed: u64,
    /// Deal rows that add a line to the deal of an earlier row with the same old id (a
    /// deal's products, one per row, as other CRMs export them); absent when none
    #[serde(default, skip_serializing_if = "is_zero")]
    pub lines: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportInfo {
    pub id: i64,
    pub entity: Entity,
    pub file_name: String,
    pub file_size: i64,
    /// `csv` or `xlsx`, the text encoding and delimiter found, and the CRM export recognised.
    #[schema(value_type = Object)]
    pub detected: Value,
    pub headers: Vec<String>,
    /// One destination per column (a target of the entity, `cf.<key>`, or null).
    pub mapping: Vec<Option<String>>,
    pub options: Options,
    /// `draft`, `checking`, `checked`, `running`, `done`, `failed`, `undone`
    pub status: String,
    /// Data rows in the file (the header and blank rows not counted).
    pub total_rows: i64,
    /// Rows the current check or run has processed.
    pub processed_rows: i64,
    /// What the last check found (would be created, updated …).
    pub check: Option<Counts>,
    /// What the run did.
    pub run: Option<Counts>,
    pub error: Option<String>,
    pub version: i64,
    pub created_by: i64,
    pub created_at: String,
    pub finished_at: Option<String>,
    /// The first rows of the file, for choosing the mapping.
    #[schema(value_type = Vec<Vec<String>>)]
    pub sample: Vec<Vec<String>>,
}

/// The mapping and targets the user can choose from.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TargetInfo {
    pub id: String,
}

pub fn targets(entity: Entity) -> Vec<TargetInfo> {
    mapping::targets(entity).iter().map(|t| TargetInfo { id: t.id.to_owned() }).collect()
}

const SELECT: &str = "SELECT id, entity, file_name, file_size, detected, headers, sample, mapping, options, status, total_rows, next_row, check_counts, run_counts, error, version, created_by, created_at, finished_at FROM imports";

fn counts(s: Option<String>) -> Result<Option<Counts>> {
    s.map(|s| serde_json::from_str(&s).map_err(Error::from)).transpose()
}

/// An import as stored; its first rows only where `with_sample` (lists leave them out).
fn info_from_row(r: &Row, with_sample: bool) -> Result<ImportInfo> {
    let sample = if with_sample { serde_json::from_str(&get_str(r, "sample")?)? } else { Vec::new() };
    let entity = get_str(r, "entity")?;
    Ok(ImportInfo {
        id: get_i64(r, "id")?,
        entity: Entity::parse(&entity).ok_or_else(|| Error::Corrupt(format!("import of unknown entity {entity}")))?,
        file_name: get_str(r, "file_name")?,
        file_size: get_i64(r, "file_size")?,
        detected: serde_json::from_str(&get_str(r, "detected")?)?,
        headers: serde_json::from_str(&get_str(r, "headers")?)?,
        mapping: serde_json::from_str(&get_str(r, "mapping")?)?,
        options: serde_json::from_str(&get_str(r, "options")?)?,
        status: get_str(r, "status")?,
        total_rows: get_i64(r, "total_rows")?,
        processed_rows: get_i64(r, "next_row")?,
        check: counts(get_opt_str(r, "check_counts")?)?,
        run: counts(get_opt_str(r, "run_counts")?)?,
        error: get_opt_str(r, "error")?,
        version: get_i64(r, "version")?,
        created_by: get_i64(r, "created_by")?,
        created_at: crate::timeline::rfc3339(get_i64(r, "created_at")?),
        finished_at: get_opt_i64(r, "finished_at")?.map(crate::timeline::rfc3339),
        sample,
    })
}

/// Imports are the workspace's; a member sees those they started, admins all.
fn require_writer(p: &Principal) -> Result<()> {
    if p.viewer.can_write_anything() { Ok(()) } else { Err(Error::Forbidden("your role may not import records")) }
}

/// What a file holds at a glance: its header, a few rows and the number of data rows.
struct Scan {
    detected: Detected,
    headers: Vec<String>,
    sample: Vec<Vec<String>>,
    total_rows: i64,
}

fn scan(bytes: &[u8], sample_rows: usize) -> Result<Scan> {
    let src = source::open(bytes).map_err(|e| ValidationErrors::single("file", e.code, e.message))?;
    let mut rows = src.rows();
    let headers = match rows.next() {
        Some(Ok(h)) => h.cells.iter().map(|c| c.trim().to_owned()).collect::<Vec<_>>(),
        Some(Err(e)) => return Err(ValidationErrors::single("file", e.code, e.message).into()),
        None => return Err(ValidationErrors::single("file", "empty_file", "the file has no rows").into()),
    };
    let mut sample = Vec::new();
    let mut total = 0;
    for r in rows {
        total += 1;
        if sample.len() < sample_rows
            && let Ok(r) = r
        {
            sample.push(r.cells);
        }
    }
    Ok(Scan { detected: src.detected, headers, sample, total_rows: total })
}

fn check_mapping(entity: Entity, mapping: &[Option<String>], columns: usize, custom_keys: &[String], errors: &mut ValidationErrors) {
    if mapping.len() != columns {
        errors.add("mapping", "wrong_length", format!("needs one entry per column ({columns})"));
        return;
    }
    for (i, m) in mapping.iter().enumerate() {
        let Some(m) = m else { continue };
        match Mapped::parse(entity, m) {
            None => errors.add(format!("mapping[{i}]"), "unknown_target", format!("{m:?} is not a field of {}", entity.as_str())),
            Some(Mapped::Custom(k)) if !custom_keys.contains(&k) => errors.add(format!("mapping[{i}]"), "unknown_field", format!("no custom field {k:?}")),
            Some(Mapped::Target(id)) if mapping.iter().filter(|x| x.as_deref() == Some(id)).count() > 1 && !repeatable(entity, id) => errors.add(format!("mapping[{i}]"), "taken", format!("another column already fills {id}")),
            Some(_) => {}
        }
    }
}

fn repeatable(entity: Entity, id: &str) -> bool {
    use accord_domain::imports::mapping::Kind;
    mapping::target(entity, id).is_some_and(|t| matches!(t.kind, Kind::Email(_) | Kind::Phone(_) | Kind::Tags))
}

/// Keeps an uploaded file as a draft import, with the mapping found for its header.
pub async fn create(db: &Db, p: &Principal, entity: Entity, file_name: &str, bytes: &[u8]) -> Result<ImportInfo> {
    require_writer(p)?;
    if !mapping::ENTITIES.contains(&entity) {
        return Err(ValidationErrors::single("entity", "unknown_value", "this kind of record cannot be imported").into());
    }
    let name = accord_domain::text::line(file_name, 300).ok().flatten().unwrap_or_else(|| "import".to_owned());
    let scan = scan(bytes, 5)?;
    let preset = if scan.detected.format == source::Format::Vcard { None } else { mapping::detect_preset(&scan.headers) };
    let custom = crate::custom_fields::list(db, p.workspace_id, Some(entity)).await?;
    let custom: Vec<(String, String)> = custom.into_iter().map(|c| (c.key, c.label)).collect();
    // A vCard's columns are Accord's own fields.
    let auto: Vec<Option<String>> = if scan.detected.format == source::Format::Vcard {
        if entity != Entity::Contact {
            return Err(ValidationErrors::single("entity", "vcard_holds_contacts", "a vCard file holds contacts; import it into contacts").into());
        }
        scan.headers.iter().map(|h| Some(h.clone())).collect()
    } else {
        mapping::auto_map(entity, &scan.headers, preset.as_ref(), &custom).into_iter().map(|m| m.map(|m| m.as_string())).collect()
    };
    let detected = detected_json(&scan.detected, preset.as_ref());
    let now = now_ms();
    let mut tx = db.begin().await?;
    let row = query(
        "INSERT INTO imports (workspace_id, entity, file_name, file_size, detected, headers, sample, mapping, options, status, total_rows, next_row, version, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $12, $7, $8, 'draft', $9, 0, 1, $10, $11, $11) RETURNING id",
    )
    .bind(p.workspace_id)
    .bind(entity.as_str())
    .bind(&name)
    .bind(bytes.len() as i64)
    .bind(detected.to_string())
    .bind(serde_json::to_string(&scan.headers)?)
    .bind(serde_json::to_string(&auto)?)
    .bind(serde_json::to_string(&Options::default())?)
    .bind(scan.total_rows)
    .bind(p.user.id)
    .bind(now)
    .bind(serde_json::to_string(&scan.sample)?)
    .fetch_one(&mut *tx)
    .await?;
    let id = get_i64(&row, "id")?;
    query("INSERT INTO import_files (import_id, content) VALUES ($1, $2)").bind(id).bind(bytes.to_vec()).execute(&mut *tx).await?;
    crate::sales::audit_settings(&mut tx, p, "import", id, "upload", json!({ "entity": entity.as_str(), "file_name": name, "rows": scan.total_rows })).await?;
    tx.commit().await?;
    let r = query(format!("{SELECT} WHERE id = $1")).bind(id).fetch_one(db).await?;
    info_from_row(&r, true)
}

fn detected_json(d: &Detected, preset: Option<&Preset>) -> Value {
    json!({ "format": d.format, "encoding": d.encoding, "delimiter": d.delimiter.map(String::from), "preset": preset })
}

async fn row_of(db: &Db, p: &Principal, id: i64) -> Result<Row> {
    let row = query(format!("{SELECT} WHERE id = $1 AND workspace_id = $2")).bind(id).bind(p.workspace_id).fetch_optional(db).await?.ok_or(Error::NotFound)?;
    if !p.role().is_admin() && get_i64(&row, "created_by")? != p.user.id {
        return Err(Error::NotFound);
    }
    Ok(row)
}

pub async fn file(db: &Db, import_id: i64) -> Result<Vec<u8>> {
    let row = query("SELECT content FROM import_files WHERE import_id = $1").bind(import_id).fetch_optional(db).await?.ok_or(Error::NotFound)?;
    row.into_bytes("content")
}

pub async fn get(db: &Db, p: &Principal, id: i64) -> Result<ImportInfo> {
    let row = row_of(db, p, id).await?;
    info_from_row(&row, true)
}

/// The caller's imports (an admin's: everyone's), newest first.
pub async fn list(db: &Db, p: &Principal, before_id: Option<i64>, limit: u32) -> Result<Vec<ImportInfo>> {
    let everyone = p.role().is_admin();
    let rows = query(format!("{SELECT} WHERE workspace_id = $1 AND ($2 = 1 OR created_by = $3) AND id < $4 ORDER BY id DESC LIMIT $5"))
        .bind(p.workspace_id)
        .bind(i64::from(everyone))
        .bind(p.user.id)
        .bind(before_id.unwrap_or(i64::MAX))
        .bind(i64::from(limit) + 1)
        .fetch_all(db)
        .await?;
    rows.iter().map(|r| info_from_row(r, false)).collect()
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportChange {
    pub version: i64,
    /// One destination per column: a target id, `cf.<key>`, or null to leave it out.
    pub mapping: Option<Vec<Option<String>>>,
    pub options: Option<Options>,
}

/// Changes the mapping or options of an import that has not run yet; an earlier check no
/// longer holds and is cleared.
pub async fn update(db: &Db, p: &Principal, id: i64, change: ImportChange) -> Result<ImportInfo> {
    let row = row_of(db, p, id).await?;
    let info = info_from_row(&row, false)?;
    if info.version != change.version {
        return Err(Error::VersionConflict { expected: change.version, current: info.version });
    }
    if !matches!(info.status.as_str(), "draft" | "checked" | "failed") || info.run.is_some() {
        return Err(Error::conflict("import_state", format!("an import that is {} can no longer be changed", info.status)));
    }
    let mut errors = ValidationErrors::new();
    let custom: Vec<String> = crate::custom_fields::list(db, p.workspace_id, Some(info.entity)).await?.into_iter().map(|c| c.key).collect();
    let mapping = change.mapping.unwrap_or(info.mapping);
    check_mapping(info.entity, &mapping, info.headers.len(), &custom, &mut errors);
    let options = change.options.unwrap_or(info.options);
    options.check(&mut errors);
    errors.into_result()?;
    let mut tx = db.begin().await?;
    let n = query("UPDATE imports SET mapping = $1, options = $2, status = 'draft', check_counts = NULL, error = NULL, next_row = 0, version = version + 1, updated_at = $3 WHERE id = $4 AND version = $5")
        .bind(serde_json::to_string(&mapping)?)
        .bind(serde_json::to_string(&options)?)
        .bind(now_ms())
        .bind(id)
        .bind(change.version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n != 1 {
        return Err(Error::VersionConflict { expected: change.version, current: change.version + 1 });
    }
    query("DELETE FROM import_rows WHERE import_id = $1 AND phase = 'check'").bind(id).execute(&mut *tx).await?;
    tx.commit().await?;
    get(db, p, id).await
}

/// Queues the check (`run` false) or the run of an import; a worker takes it up. A run that
/// stopped on an error continues from its last committed batch.
pub async fn start(db: &Db, p: &Principal, id: i64, run: bool) -> Result<ImportInfo> {
    let row = row_of(db, p, id).await?;
    let info = info_from_row(&row, false)?;
    let resuming = run && info.status == "failed" && info.run.is_some();
    let allowed: &[&str] = if run { &["draft", "checked"] } else { &["draft", "checked", "failed"] };
    if !resuming && (!allowed.contains(&info.status.as_str()) || (run && info.run.is_some())) {
        return Err(Error::conflict("import_state", format!("an import that is {} cannot be {}", info.status, if run { "run" } else { "checked" })));
    }
    let (status, phase) = if run { ("running", "run") } else { ("checking", "check") };
    let mut tx = db.begin().await?;
    if resuming {
        query("UPDATE imports SET status = 'running', error = NULL, lease_until = NULL, version = version + 1, updated_at = $1 WHERE id = $2").bind(now_ms()).bind(id).execute(&mut *tx).await?;
        crate::sales::audit_settings(&mut tx, p, "import", id, "resume", json!({ "from_row": info.processed_rows })).await?;
    } else {
        query("DELETE FROM import_rows WHERE import_id = $1 AND phase = $2").bind(id).bind(phase).execute(&mut *tx).await?;
        query("UPDATE imports SET status = $1, next_row = 0, error = NULL, lease_until = NULL, version = version + 1, updated_at = $2 WHERE id = $3").bind(status).bind(now_ms()).bind(id).execute(&mut *tx).await?;
        if run {
            crate::sales::audit_settings(&mut tx, p, "import", id, "run", json!({ "entity": info.entity.as_str(), "mapping": info.mapping, "options": info.options })).await?;
        }
    }
    tx.commit().await?;
    get(db, p, id).await
}

/// The outcome of one row, for the report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RowReport {
    pub row: i64,
    /// The row's line in the file.
    pub line: i64,
    /// `create`, `update`, `skip` or `fail`
    pub action: String,
    pub record_id: Option<i64>,
    #[schema(value_type = Vec<Object>)]
    pub problems: Value,
}

/// The rows of a check (`phase` = `check`) or run, optionally of one action, in file order.
pub async fn rows(db: &Db, p: &Principal, id: i64, phase: &str, action: Option<&str>, after: i64, limit: u32) -> Result<Vec<RowReport>> {
    row_of(db, p, id).await?;
    let rows = query("SELECT row_index, line, action, record_id, problems FROM import_rows WHERE import_id = $1 AND phase = $2 AND ($3 = '' OR action = $3) AND row_index > $4 ORDER BY row_index LIMIT $5")
        .bind(id)
        .bind(phase)
        .bind(action.unwrap_or(""))
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(db)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(RowReport {
                row: get_i64(r, "row_index")?,
                line: get_i64(r, "line")?,
                action: get_str(r, "action")?,
                record_id: get_opt_i64(r, "record_id")?,
                problems: get_opt_str(r, "problems")?.map(|s| serde_json::from_str(&s)).transpose()?.unwrap_or_else(|| json!([])),
            })
        })
        .collect()
}

/// What undoing a run did: records trashed or put back, and those left alone because someone
/// changed them after the import.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UndoResult {
    pub removed: u64,
    pub restored: u64,
    /// Records changed since the import, left as they are.
    pub changed_since: Vec<i64>,
}

/// Takes back a finished run: created records go to the trash, updated ones get their
/// earlier values back, unless their version moved on since.
pub async fn undo(db: &Db, p: &Principal, id: i64) -> Result<UndoResult> {
    let row = row_of(db, p, id).await?;
    let info = info_from_row(&row, false)?;
    if !matches!(info.status.as_str(), "done" | "failed") || info.run.is_none() {
        return Err(Error::conflict("import_state", format!("an import that is {} cannot be undone", info.status)));
    }
    let custom = crate::custom_fields::for_entity(db, p.workspace_id, info.entity).await?;
    let mut result = UndoResult { removed: 0, restored: 0, changed_since: Vec::new() };
    let rows = query("SELECT action, record_id, record_version, before FROM import_rows WHERE import_id = $1 AND phase = 'run' AND action IN ('create', 'update') ORDER BY row_index DESC")
        .bind(id)
        .fetch_all(db)
        .await?;
    for r in rows {
        let (Some(record_id), Some(version)) = (get_opt_i64(&r, "record_id")?, get_opt_i64(&r, "record_version")?) else { continue };
        let outcome = if get_str(&r, "action")? == "create" {
            crate::records::delete(db, p, info.entity, record_id, Some(version)).await.map(|_| result.removed += 1)
        } else {
            let before: serde_json::Map<String, Value> = get_opt_str(&r, "before")?.map(|s| serde_json::from_str(&s)).transpose()?.unwrap_or_default();
            crate::records::update(db, p, info.entity, record_id, &crate::records::restoring_patch(info.entity, &before), Some(version), &custom, &crate::records::WriteOptions { allow_duplicates: true }).await.map(|_| result.restored += 1)
        };
        match outcome {
            Ok(()) => {}
            Err(Error::VersionConflict { .. } | Error::NotFound) => result.changed_since.push(record_id),
            Err(e) => return Err(e),
        }
    }
    let mut tx = db.begin().await?;
    query("UPDATE imports SET status = 'undone', version = version + 1, updated_at = $1 WHERE id = $2").bind(now_ms()).bind(id).execute(&mut *tx).await?;
    crate::sales::audit_settings(&mut tx, p, "import", id, "undo", json!({ "removed": result.removed, "restored": result.restored, "changed_since": result.changed_since })).await?;
    tx.commit().await?;
    Ok(result)
}
