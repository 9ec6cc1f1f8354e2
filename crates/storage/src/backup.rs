//! Workspace archives: the whole workspace — members, teams, settings, custom field
//! definitions, pipelines, every record with its trash, history, timeline, notes, tags and
//! search documents — as one ZIP of JSON Lines, a file per table (the format is described
//! in `docs/workspace-archive.md`). Restoring one into an empty workspace gives every row a
//! new id and rewrites every reference (the naming rule of `accord_domain::backup`), so an
//! archive restores beside its original as well as into another install or engine.
//!
//! Left out on purpose: secrets (sessions, API tokens, invitations, calendar feed links,
//! password hashes), import history and merge snapshots (their undo cannot outlive the ids
//! they point at), and the board's totals (recomputed from the deals).
use crate::accounts::random_token;
use crate::db::{Db, Val, get_i64, get_str, query};
use crate::error::{Error, Result};
use crate::{migrate, now_ms, search};
use accord_domain::ValidationErrors;
use accord_domain::backup::{JSON_COLUMNS, UNLINKED_SUBJECTS, link_of, record_table, remap_json, timeline_ref_table};
use accord_domain::entities::Entity;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use tokio::io::AsyncBufReadExt;
use utoipa::ToSchema;

pub const FORMAT: &str = "accord-workspace-archive";
pub const FORMAT_VERSION: u32 = 1;

/// One archived table, in restore order: what a row points at comes before it.
struct Table {
    name: &'static str,
    /// The rows' own `id`, which later rows refer to.
    keyed: bool,
    /// Columns without which the row means nothing: if what they point at is not in the
    /// archive (a record purged from the trash), the row is left out and counted.
    parents: &'static [&'static str],
    /// References to a table restored later; filled in once everything is in.
    later: &'static [&'static str],
    /// How the rows are read, when not simply by `workspace_id`.
    select: Option<&'static str>,
}

const fn table(name: &'static str, keyed: bool, parents: &'static [&'static str]) -> Table {
    Table { name, keyed, parents, later: &[], select: None }
}

const MEMBERS: &str = "members";
const SEARCH: &str = "search_docs";

const TABLES: &[Table] = &[
    Table {
        select: Some(
            "SELECT u.id, u.email, u.name, u.locale, u.time_zone, m.role, m.active, m.created_at FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.workspace_id = $1 ORDER BY u.id",
        ),
        ..table(MEMBERS, true, &[])
    },
    table("teams", true, &[]),
    Table {
        select: Some("SELECT tm.team_id, tm.user_id FROM team_members tm JOIN teams t ON t.id = tm.team_id WHERE t.workspace_id = $1"),
        ..table("team_members", false, &["team_id", "user_id"])
    },
    table("role_policies", false, &[]),
    table("custom_field_defs", true, &[]),
    table("pipelines", true, &[]),
    table("stages", true, &["pipeline_id"]),
    table("lost_reasons", true, &[]),
    table("exchange_rates", true, &[]),
    table("companies", true, &[]),
    table("contacts", true, &[]),
    table("products", true, &[]),
    table("price_lists", true, &[]),
    Table {
        select: Some("SELECT pp.price_list_id, pp.product_id, pp.price, pp.updated_at FROM price_list_prices pp JOIN price_lists l ON l.id = pp.price_list_id WHERE l.workspace_id = $1"),
        ..table("price_list_prices", false, &["price_list_id", "product_id"])
    },
    Table { later: &["deal_id"], ..table("leads", true, &[]) },
    table("deals", true, &["pipeline_id", "stage_id"]),
    table("deal_stage_history", true, &["deal_id", "pipeline_id", "stage_id"]),
    table("activities", true, &[]),
    table("tasks", true, &[]),
    table("notes", true, &["record_id"]),
    table("audit_log", true, &["record_id"]),
    table("timeline", true, &["record_id", "ref_id"]),
    table("record_keys", false, &["record_id"]),
    table("record_tags", false, &["record_id"]),
    table("custom_values", false, &["record_id", "field_id"]),
    table("external_ids", false, &["record_id"]),
    table("reminders", true, &["record_id", "user_id"]),
    table("notifications", true, &["record_id", "user_id"]),
    table("goals", true, &["user_id", "team_id"]),
    table("web_forms", true, &[]),
    table("saved_views", true, &["user_id"]),
    Table {
        select: Some("SELECT id, entity, record_id, owner_id, display_name, body FROM search_docs WHERE workspace_id = $1 ORDER BY id"),
        ..table(SEARCH, true, &["record_id"])
    },
];

/// The workspace's own settings, restored onto the target workspace (its name stays).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WorkspaceSettings {
    pub name: String,
    pub region: String,
    pub base_currency: String,
    pub trash_retention_days: i64,
    /// JSON list of the VAT rates offered, as stored
    pub vat_rates: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ArchiveFile {
    pub name: String,
    pub rows: u64,
}

/// `manifest.json`, the archive's first entry.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Manifest {
    /// Always `accord-workspace-archive`
    pub format: String,
    pub format_version: u32,
    /// The database schema version the rows were written at
    pub schema_version: i64,
    pub accord_version: String,
    /// Milliseconds since the Unix epoch (UTC)
    pub created_at: i64,
    pub workspace: WorkspaceSettings,
    pub files: Vec<ArchiveFile>,
}

/// What a restore wrote and what it could not.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct RestoreReport {
    /// Rows written per table
    pub restored: BTreeMap<String, u64>,
    /// Rows left out per table because what they belong to is not in the archive
    pub left_out: BTreeMap<String, u64>,
    /// Members who had no account here: they were created without a password, which an
    /// administrator sets (`accord user reset-password`) before they can sign in
    pub accounts_without_password: Vec<String>,
    /// Web forms whose key was taken in this install and that got a new one (their
    /// snippet on a website must be replaced)
    pub web_forms_with_new_key: Vec<String>,
}

fn bad_archive(message: impl Into<String>) -> Error {
    ValidationErrors::single("archive", "not_an_archive", message).into()
}

fn io_error(e: std::io::Error) -> Error {
    Error::conflict("archive_file", format!("archive file: {e}"))
}

/// A database value as it appears in the archive: integers stay numbers, text stays text.
fn cell(v: &Val) -> Value {
    match v {
        Val::Int(Some(i)) => Value::from(*i),
        Val::Real(Some(f)) => Value::from(*f),
        Val::Text(Some(s)) => Value::String(s.clone()),
        Val::Blob(Some(b)) => Value::String(String::from_utf8_lossy(b).into_owned()),
        _ => Value::Null,
    }
}

/// Writes the archive of `workspace_id` to `out`, from one consistent snapshot of the data.
pub async fn write(db: &Db, workspace_id: i64, out: &Path) -> Result<Manifest> {
    let dir = tempfile::tempdir().map_err(io_error)?;
    let mut snapshot = db.read_snapshot().await?;
    let ws = query("SELECT name, region, base_currency, trash_retention_days, vat_rates, created_at FROM workspaces WHERE id = $1")
        .bind(workspace_id)
        .fetch_optional(&mut *snapshot)
        .await?
        .ok_or(Error::NotFound)?;
    let workspace = WorkspaceSettings {
        name: get_str(&ws, "name")?,
        region: get_str(&ws, "region")?,
        base_currency: get_str(&ws, "base_currency")?,
        trash_retention_days: get_i64(&ws, "trash_retention_days")?,
        vat_rates: get_str(&ws, "vat_rates")?,
        created_at: get_i64(&ws, "created_at")?,
    };
    let mut files = Vec::new();
    for t in TABLES {
        let sql = t.select.map_or_else(|| format!("SELECT * FROM {} WHERE workspace_id = $1{}", t.name, if t.keyed { " ORDER BY id" } else { "" }), str::to_owned);
        let name = format!("{}.jsonl", t.name);
        let mut file = std::io::BufWriter::new(std::fs::File::create(dir.path().join(&name)).map_err(io_error)?);
        let mut rows = 0u64;
        query(sql)
            .bind(workspace_id)
            .for_each(&mut *snapshot, |row| {
                let mut obj = Map::new();
                for (i, col) in row.columns().iter().enumerate() {
                    if col != "workspace_id" {
                        obj.insert(col.clone(), row.value(i).map_or(Value::Null, cell));
                    }
                }
                let mut line = serde_json::to_vec(&obj)?;
                line.push(b'\n');
                file.write_all(&line).map_err(io_error)?;
                rows += 1;
                Ok(())
            })
            .await?;
        file.flush().map_err(io_error)?;
        files.push(ArchiveFile { name, rows });
    }
    snapshot.commit().await?;
    let manifest = Manifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        schema_version: migrate::latest(),
        accord_version: env!("CARGO_PKG_VERSION").into(),
        created_at: now_ms(),
        workspace,
        files,
    };
    let (m, out, src) = (manifest.clone(), out.to_owned(), dir.path().to_owned());
    tokio::task::spawn_blocking(move || zip_up(&m, &src, &out)).await.map_err(|e| Error::conflict("archive_file", e.to_string()))??;
    Ok(manifest)
}

fn zip_up(manifest: &Manifest, src: &Path, out: &Path) -> Result<()> {
    let zip_error = |e: zip::result::ZipError| Error::conflict("archive_file", format!("archive file: {e}"));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated).large_file(true);
    let mut zip = zip::ZipWriter::new(std::fs::File::create(out).map_err(io_error)?);
    zip.start_file("manifest.json", options).map_err(zip_error)?;
    zip.write_all(&serde_json::to_vec_pretty(manifest)?).map_err(io_error)?;
    for f in &manifest.files {
        zip.start_file(f.name.as_str(), options).map_err(zip_error)?;
        std::io::copy(&mut std::fs::File::open(src.join(&f.name)).map_err(io_error)?, &mut zip).map_err(io_error)?;
    }
    zip.finish().map_err(zip_error)?;
    Ok(())
}

/// Unpacks an archive into `dir` and reads its manifest. Only the entries the manifest
/// lists are taken, under their plain names, so an entry cannot write outside `dir`.
fn unzip(archive: &Path, dir: &Path) -> Result<Manifest> {
    let zip_error = |e: zip::result::ZipError| bad_archive(format!("not a readable ZIP archive: {e}"));
    let mut zip = zip::ZipArchive::new(std::fs::File::open(archive).map_err(io_error)?).map_err(zip_error)?;
    let manifest: Manifest = {
        let entry = zip.by_name("manifest.json").map_err(|_| bad_archive("the archive has no manifest.json: it is not an Accord workspace archive"))?;
        serde_json::from_reader(entry).map_err(|e| bad_archive(format!("manifest.json: {e}")))?
    };
    if manifest.format != FORMAT || manifest.format_version > FORMAT_VERSION {
        return Err(bad_archive(format!("not an archive this version reads (format {} version {})", manifest.format, manifest.format_version)));
    }
    if manifest.schema_version > migrate::latest() {
        let message = format!("written by a newer Accord (schema {}, this one has {}): upgrade first", manifest.schema_version, migrate::latest());
        return Err(ValidationErrors::single("archive", "newer_archive", message).into());
    }
    for f in &manifest.files {
        let known = TABLES.iter().any(|t| format!("{}.jsonl", t.name) == f.name);
        if !known {
            return Err(bad_archive(format!("unknown file {} in the manifest", f.name)));
        }
        let mut entry = zip.by_name(&f.name).map_err(|_| bad_archive(format!("{} is listed but missing", f.name)))?;
        std::io::copy(&mut entry, &mut std::fs::File::create(dir.join(&f.name)).map_err(io_error)?).map_err(|e| bad_archive(format!("{}: {e}", f.name)))?;
    }
    Ok(manifest)
}

/// Old ids of the archive to new ids of this database, per table.
#[derive(Default)]
struct IdMap {
    tables: HashMap<&'static str, HashMap<i64, i64>>,
    /// Who owns what an archived user no longer stands for (a member removed long ago).
    fallback_user: i64,
}

impl IdMap {
    fn get(&self, table: &str, old: i64) -> Option<i64> {
        self.tables.get(table).and_then(|m| m.get(&old)).copied()
    }
}

enum Mapped {
    Keep(Value),
    Omit,
    LeaveOut,
}

/// A restored row: its columns and values after every reference was rewritten.
fn rewrite(t: &Table, row: &Map<String, Value>, ids: &IdMap, later: &mut Vec<(&'static str, i64)>) -> Result<Option<Vec<(String, Value)>>> {
    let mut out = Vec::with_capacity(row.len());
    for (col, value) in row {
        if col == "id" || value.is_null() {
            continue;
        }
        let target = match col.as_str() {
            // A kind of record this version does not know is left out rather than misread.
            "record_id" => match row.get("entity").and_then(Value::as_str) {
                Some(e) if UNLINKED_SUBJECTS.contains(&e) => {
                    out.push((col.clone(), Value::from(0)));
                    continue;
                }
                Some(e) => match record_table(e) {
                    Some(table) => Some(table),
                    None => return Ok(None),
                },
                None => return Ok(None),
            },
            "ref_id" => match row.get("kind").and_then(Value::as_str).and_then(timeline_ref_table) {
                Some(table) => Some(table),
                None => return Ok(None),
            },
            c if JSON_COLUMNS.contains(&c) => None,
            c => link_of(c),
        };
        let mapped = match (target, value) {
            (Some(table), Value::Number(n)) => {
                let old = n.as_i64().ok_or_else(|| bad_archive(format!("{}.{col}: not an id", t.name)))?;
                if let Some(&c) = t.later.iter().find(|c| **c == col) {
                    later.push((c, old));
                    Mapped::Omit
                } else {
                    match ids.get(table, old) {
                        Some(new) => Mapped::Keep(Value::from(new)),
                        None if t.parents.contains(&col.as_str()) => Mapped::LeaveOut,
                        None if table == "users" => Mapped::Keep(Value::from(ids.fallback_user)),
                        None => Mapped::Omit,
                    }
                }
            }
            (None, Value::String(text)) if JSON_COLUMNS.contains(&col.as_str()) => {
                let mut json: Value = serde_json::from_str(text).map_err(|e| bad_archive(format!("{}.{col}: {e}", t.name)))?;
                remap_json(&mut json, Some(col), &|table, old| ids.get(table, old));
                Mapped::Keep(Value::String(json.to_string()))
            }
            _ => Mapped::Keep(value.clone()),
        };
        match mapped {
            Mapped::Keep(v) => out.push((col.clone(), v)),
            Mapped::Omit => {}
            Mapped::LeaveOut => return Ok(None),
        }
    }
    if t.name == "deals" {
        // Derived from the contacts as restored, as a deal write does; archives written
        // before schema 10 do not hold it at all.
        out.retain(|(c, _)| c != "first_contact_id");
        let contacts = out.iter().find(|(c, _)| c == "contacts").and_then(|(_, v)| serde_json::from_str::<Vec<Value>>(v.as_str()?).ok());
        if let Some(id) = contacts.as_deref().and_then(accord_domain::sales::first_contact_id) {
            out.push(("first_contact_id".into(), Value::from(id)));
        }
    }
    Ok(Some(out))
}

/// Where a restore goes.
pub enum Target<'a> {
    /// A workspace that holds no records yet: its default pipeline, lost reasons, roles and
    /// other settings are replaced by the archive's.
    Empty(i64),
    /// A new workspace of this name, with the archive's region and currency.
    New(&'a str),
}

/// Restores an archive. Members are matched to this install's accounts by e-mail.
/// Everything is one transaction: a restore that fails leaves the install as it was.
/// Answers the workspace restored into and what was written.
pub async fn restore(db: &Db, into: Target<'_>, archive: &Path) -> Result<(i64, RestoreReport)> {
    let dir = tempfile::tempdir().map_err(io_error)?;
    let (src, dst) = (archive.to_owned(), dir.path().to_owned());
    let manifest = tokio::task::spawn_blocking(move || unzip(&src, &dst)).await.map_err(|e| Error::conflict("archive_file", e.to_string()))??;
    let mut tx = db.begin().await?;
    let workspace_id = match into {
        Target::Empty(id) => {
            empty_out(&mut tx, id).await?;
            id
        }
        Target::New(name) => {
            let taken = query("SELECT id FROM workspaces WHERE name = $1").bind(name).fetch_optional(&mut *tx).await?;
            if taken.is_some() {
                return Err(Error::conflict("workspace_exists", format!("a workspace named {name:?} exists")));
            }
            let row = query("INSERT INTO workspaces (name, region, base_currency, trash_retention_days, created_at) VALUES ($1, 'RU', 'RUB', 30, $2) RETURNING id")
                .bind(name)
                .bind(now_ms())
                .fetch_one(&mut *tx)
                .await?;
            get_i64(&row, "id")?
        }
    };
    let w = &manifest.workspace;
    query("UPDATE workspaces SET region = $1, base_currency = $2, trash_retention_days = $3, vat_rates = $4 WHERE id = $5")
        .bind(&w.region)
        .bind(&w.base_currency)
        .bind(w.trash_retention_days)
        .bind(&w.vat_rates)
        .bind(workspace_id)
        .execute(&mut *tx)
        .await?;
    let report = restore_rows(db, &mut tx, workspace_id, &manifest, dir.path()).await?;
    tx.commit().await?;
    Ok((workspace_id, report))
}

/// Checks that the workspace holds no records and removes the settings the archive brings.
async fn empty_out(tx: &mut crate::Tx, workspace_id: i64) -> Result<()> {
    let mut held = Vec::new();
    for e in Entity::ALL {
        let row = query(format!("SELECT COUNT(*) AS n FROM {} WHERE workspace_id = $1", e.table())).bind(workspace_id).fetch_one(&mut **tx).await?;
        let n = get_i64(&row, "n")?;
        if n > 0 {
            held.push(format!("{n} {}", e.table()));
        }
    }
    if !held.is_empty() {
        return Err(Error::conflict("workspace_not_empty", format!("a workspace archive is restored into an empty workspace; this one holds {}", held.join(", "))));
    }
    query("DELETE FROM team_members WHERE team_id IN (SELECT id FROM teams WHERE workspace_id = $1)").bind(workspace_id).execute(&mut **tx).await?;
    query("DELETE FROM price_list_prices WHERE price_list_id IN (SELECT id FROM price_lists WHERE workspace_id = $1)").bind(workspace_id).execute(&mut **tx).await?;
    for t in ["deal_totals", "deal_forecast", "stages", "pipelines", "lost_reasons", "role_policies", "custom_field_defs", "exchange_rates", "goals", "web_forms", "price_lists", "teams"] {
        query(format!("DELETE FROM {t} WHERE workspace_id = $1")).bind(workspace_id).execute(&mut **tx).await?;
    }
    Ok(())
}

async fn restore_rows(db: &Db, tx: &mut crate::Tx, workspace_id: i64, manifest: &Manifest, dir: &Path) -> Result<RestoreReport> {
    let owner =
        query("SELECT user_id FROM memberships WHERE workspace_id = $1 AND role = 'owner' ORDER BY created_at LIMIT 1").bind(workspace_id).fetch_optional(&mut **tx).await?;
    let mut ids = IdMap { fallback_user: owner.map(|r| get_i64(&r, "user_id")).transpose()?.unwrap_or_default(), ..IdMap::default() };
    let mut report = RestoreReport::default();
    let mut pending: Vec<(&'static str, i64, &'static str, i64)> = Vec::new();
    for t in TABLES {
        let path = dir.join(format!("{}.jsonl", t.name));
        if !manifest.files.iter().any(|f| f.name == format!("{}.jsonl", t.name)) {
            continue;
        }
        let mut lines = tokio::io::BufReader::new(tokio::fs::File::open(&path).await.map_err(io_error)?).lines();
        let (mut restored, mut left_out) = (0u64, 0u64);
        let mut line_no = 0u64;
        while let Some(line) = lines.next_line().await.map_err(io_error)? {
            line_no += 1;
            let row: Map<String, Value> = serde_json::from_str(&line).map_err(|e| bad_archive(format!("{}.jsonl line {line_no}: {e}", t.name)))?;
            let old_id = row.get("id").and_then(Value::as_i64);
            // None: left out; Some(the new id, for tables with ids).
            let written: Option<Option<i64>> = match t.name {
                MEMBERS => Some(Some(restore_member(tx, workspace_id, &row, &mut report).await?)),
                SEARCH => restore_search_doc(db, tx, workspace_id, &row, &ids).await?.then_some(None),
                _ => {
                    let mut later = Vec::new();
                    match rewrite(t, &row, &ids, &mut later)? {
                        Some(mut cols) => {
                            if t.name == "web_forms" {
                                fresh_form_key(tx, &mut cols, &mut report).await?;
                            }
                            let id = insert(tx, t, workspace_id, &cols).await?;
                            if let Some(id) = id {
                                pending.extend(later.into_iter().map(|(col, old)| (t.name, id, col, old)));
                            }
                            Some(id)
                        }
                        None => None,
                    }
                }
            };
            let Some(new_id) = written else {
                left_out += 1;
                continue;
            };
            restored += 1;
            if let (Some(new), Some(old)) = (new_id, old_id) {
                ids.tables.entry(if t.name == MEMBERS { "users" } else { t.name }).or_default().insert(old, new);
                if t.name == MEMBERS && ids.fallback_user == 0 {
                    ids.fallback_user = new;
                }
            }
        }
        report.restored.insert(t.name.to_owned(), restored);
        if left_out > 0 {
            report.left_out.insert(t.name.to_owned(), left_out);
        }
    }
    for (table, id, col, old) in pending {
        let target = link_of(col).and_then(|t| ids.get(t, old));
        if let Some(new) = target {
            query(format!("UPDATE {table} SET {col} = $1 WHERE id = $2")).bind(new).bind(id).execute(&mut **tx).await?;
        }
    }
    query(
        "INSERT INTO deal_totals (workspace_id, pipeline_id, stage_id, owner_id, currency, deals, amount_num) \
         SELECT workspace_id, pipeline_id, stage_id, owner_id, currency, COUNT(*), SUM(amount_num) FROM deals \
         WHERE workspace_id = $1 AND deleted_at IS NULL GROUP BY workspace_id, pipeline_id, stage_id, owner_id, currency",
    )
    .bind(workspace_id)
    .execute(&mut **tx)
    .await?;
    query(
        "INSERT INTO deal_forecast (workspace_id, expected_close_date, currency, win_probability, owner_id, deals, amount_num) \
         SELECT workspace_id, expected_close_date, currency, win_probability, owner_id, COUNT(*), SUM(amount_num) FROM deals \
         WHERE workspace_id = $1 AND status = 'open' AND deleted_at IS NULL AND expected_close_date IS NOT NULL GROUP BY workspace_id, expected_close_date, currency, win_probability, owner_id",
    )
    .bind(workspace_id)
    .execute(&mut **tx)
    .await?;
    crate::sales::lines::rebuild(tx, Some(workspace_id)).await?;
    crate::sales::activity_counts::rebuild(tx, Some(workspace_id)).await?;
    crate::sales::funnel_counts::rebuild(tx, crate::sales::funnel_counts::Scope::Workspace(workspace_id)).await?;
    Ok(report)
}

async fn insert(tx: &mut crate::Tx, t: &Table, workspace_id: i64, cols: &[(String, Value)]) -> Result<Option<i64>> {
    // Tables read by their own `workspace_id` have one; the others (team members) belong
    // to the workspace through their parent.
    let scoped = t.select.is_none();
    let mut names: Vec<&str> = cols.iter().map(|(c, _)| c.as_str()).collect();
    if scoped {
        names.push("workspace_id");
    }
    let marks: Vec<String> = (1..=names.len()).map(|i| format!("${i}")).collect();
    let sql = format!("INSERT INTO {} ({}) VALUES ({}){}", t.name, names.join(", "), marks.join(", "), if t.keyed { " RETURNING id" } else { "" });
    let mut q = query(sql);
    for (col, v) in cols {
        q = match v {
            Value::Number(n) => q.bind(n.as_i64().ok_or_else(|| bad_archive(format!("{}.{col}: not an integer", t.name)))?),
            Value::String(s) => q.bind(s.clone()),
            other => {
                return Err(bad_archive(format!("{}.{col}: unexpected value {other}", t.name)));
            }
        };
    }
    if scoped {
        q = q.bind(workspace_id);
    }
    if t.keyed {
        let row = q.fetch_one(&mut **tx).await?;
        Ok(Some(get_i64(&row, "id")?))
    } else {
        q.execute(&mut **tx).await?;
        Ok(None)
    }
}

/// The member's account here, found by e-mail or created without a password, and their
/// membership (an existing one, such as the restoring owner's, is kept as it is).
async fn restore_member(tx: &mut crate::Tx, workspace_id: i64, row: &Map<String, Value>, report: &mut RestoreReport) -> Result<i64> {
    let text = |k: &str| row.get(k).and_then(Value::as_str).map(str::to_owned);
    let email = text("email").ok_or_else(|| bad_archive("members.jsonl: a member without e-mail"))?;
    let found = query("SELECT id FROM users WHERE email = $1").bind(&email).fetch_optional(&mut **tx).await?;
    let user_id = match found {
        Some(r) => get_i64(&r, "id")?,
        None => {
            // "!" is no Argon2 hash: no password matches it until one is set.
            let r = query("INSERT INTO users (email, name, password_hash, locale, time_zone, created_at) VALUES ($1, $2, '!', $3, $4, $5) RETURNING id")
                .bind(&email)
                .bind(text("name").unwrap_or_else(|| email.clone()))
                .bind(text("locale").unwrap_or_else(|| "ru".into()))
                .bind(text("time_zone").unwrap_or_else(|| "Europe/Moscow".into()))
                .bind(now_ms())
                .fetch_one(&mut **tx)
                .await?;
            report.accounts_without_password.push(email.clone());
            get_i64(&r, "id")?
        }
    };
    let member = query("SELECT 1 AS one FROM memberships WHERE workspace_id = $1 AND user_id = $2").bind(workspace_id).bind(user_id).fetch_optional(&mut **tx).await?;
    if member.is_none() {
        query("INSERT INTO memberships (workspace_id, user_id, role, active, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(workspace_id)
            .bind(user_id)
            .bind(text("role").unwrap_or_else(|| "member".into()))
            .bind(row.get("active").and_then(Value::as_i64).unwrap_or(1))
            // Joined here now: sign-in picks a person's oldest membership, which stays the
            // original workspace when the copy is beside it.
            .bind(now_ms())
            .execute(&mut **tx)
            .await?;
    }
    Ok(user_id)
}

/// Search documents go through the search index's own writer (on SQLite the FTS table
/// follows the document's new id).
async fn restore_search_doc(db: &Db, tx: &mut crate::Tx, workspace_id: i64, row: &Map<String, Value>, ids: &IdMap) -> Result<bool> {
    let text = |k: &str| row.get(k).and_then(Value::as_str).unwrap_or_default();
    let Some(entity) = Entity::ALL.into_iter().find(|e| e.as_str() == text("entity")) else {
        return Ok(false);
    };
    let Some(record_id) = row.get("record_id").and_then(Value::as_i64).and_then(|old| ids.get(entity.table(), old)) else {
        return Ok(false);
    };
    let owner = row.get("owner_id").and_then(Value::as_i64).and_then(|old| ids.get("users", old)).unwrap_or(ids.fallback_user);
    search::add(db, tx, workspace_id, entity, record_id, owner, text("display_name"), text("body")).await?;
    Ok(true)
}

/// A web form keeps its public key unless this install already uses it (an archive
/// restored beside its original).
async fn fresh_form_key(tx: &mut crate::Tx, cols: &mut [(String, Value)], report: &mut RestoreReport) -> Result<()> {
    let name = cols.iter().find(|(c, _)| c == "name").and_then(|(_, v)| v.as_str()).unwrap_or_default().to_owned();
    if let Some((_, key)) = cols.iter_mut().find(|(c, _)| c == "form_key") {
        let taken = query("SELECT 1 AS one FROM web_forms WHERE form_key = $1").bind(key.as_str().unwrap_or_default()).fetch_optional(&mut **tx).await?;
        if taken.is_some() {
            *key = Value::String(random_token("wf_"));
            report.web_forms_with_new_key.push(name);
        }
    }
    Ok(())
}

/// Where an archive being uploaded or downloaded waits on disk.
pub fn temp_path() -> Result<(tempfile::TempDir, PathBuf)> {
    let dir = tempfile::tempdir().map_err(io_error)?;
    let path = dir.path().join("workspace.zip");
    Ok((dir, path))
}
