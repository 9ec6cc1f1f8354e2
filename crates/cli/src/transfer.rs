//! `accord import` and `accord export`: the same imports and exports as the API, run from the
//! command line as a member of a workspace, with a progress bar for imports.
use accord_domain::entities::Entity;
use accord_domain::permissions::Role;
use accord_storage::accounts::{self, Principal};
use accord_storage::backup;
use accord_storage::imports::{self, ImportChange, Mode, Options};
use accord_storage::Db;
use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Write;
use std::path::Path;

fn entity_of(name: &str) -> anyhow::Result<Entity> {
    Entity::named(name).map_err(|e| crate::describe(e.into()))
}

/// The member the command acts as: the one named, or the workspace's first owner.
async fn principal(db: &Db, workspace: &str, as_email: Option<&str>) -> anyhow::Result<Principal> {
    let ws = accounts::find_workspace(db, workspace).await?.with_context(|| format!("no workspace {workspace:?}"))?;
    let members = accounts::members(db, ws).await?;
    let member = match as_email {
        Some(e) => members.iter().find(|m| m.email.eq_ignore_ascii_case(e)).with_context(|| format!("{e} is not a member of {workspace}"))?,
        None => members.iter().find(|m| m.role == Role::Owner && m.active).with_context(|| format!("{workspace} has no active owner; name a member with --as"))?,
    };
    Ok(accounts::principal_for(db, ws, member.user_id).await?)
}

pub struct ImportArgs<'a> {
    pub workspace: &'a str,
    pub as_email: Option<&'a str>,
    pub entity: &'a str,
    pub file: &'a Path,
    pub dry_run: bool,
    pub map: &'a [String],
    pub match_on: Option<&'a str>,
    pub mode: &'a str,
    pub create_missing: &'a [String],
    pub unknown_owner_to_me: bool,
    pub create_custom_fields: bool,
}

fn bar(total: i64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(u64::try_from(total).unwrap_or(0));
    if let Ok(style) = ProgressStyle::with_template(&format!("{what} {{bar:40}} {{pos}}/{{len}} rows, {{per_sec}}, {{eta}} left")) {
        pb.set_style(style);
    }
    pb
}

/// Runs one phase of an import here, in this process, with a progress bar.
async fn phase(db: &Db, p: &Principal, id: i64, run: bool, total: i64) -> anyhow::Result<imports::ImportInfo> {
    imports::start(db, p, id, run).await.map_err(crate::describe)?;
    if !imports::claim(db, id).await? {
        bail!("another Accord instance is working on import {id}");
    }
    let pb = bar(total, if run { "importing" } else { "checking " });
    let mut update = |pr: &imports::Progress| {
        pb.set_position(u64::try_from(pr.processed).unwrap_or(0));
        std::ops::ControlFlow::Continue(())
    };
    imports::process(db, id, &mut update).await.map_err(crate::describe)?;
    pb.finish();
    imports::get(db, p, id).await.map_err(crate::describe)
}

fn summary(label: &str, c: Option<&imports::Counts>) {
    if let Some(c) = c {
        println!("{label}: {} created, {} updated, {} skipped, {} failed", c.created, c.updated, c.skipped, c.failed);
    }
}

pub async fn import(db: &Db, a: ImportArgs<'_>) -> anyhow::Result<()> {
    let entity = entity_of(a.entity)?;
    let p = principal(db, a.workspace, a.as_email).await?;
    let bytes = std::fs::read(a.file).with_context(|| format!("cannot read {}", a.file.display()))?;
    let name = a.file.file_name().and_then(|n| n.to_str()).unwrap_or("import");
    let info = imports::create(db, &p, entity, name, &bytes).await.map_err(crate::describe)?;
    println!("import {} of {} ({} rows, {})", info.id, name, info.total_rows, info.detected);
    let mut mapping = info.mapping.clone();
    for m in a.map {
        let (header, target) = m.split_once('=').with_context(|| format!("--map takes HEADER=FIELD, not {m:?}"))?;
        let col = info.headers.iter().position(|h| h == header).with_context(|| format!("the file has no column {header:?}"))?;
        mapping[col] = if target.is_empty() { None } else { Some(target.to_owned()) };
    }
    let mode = match a.mode {
        "upsert" => Mode::Upsert,
        "create" => Mode::CreateOnly,
        "update" => Mode::UpdateOnly,
        other => bail!("unknown --mode {other}: use upsert, create or update"),
    };
    let options = Options {
        mode,
        match_on: a.match_on.map(|m| m.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect()),
        create_missing: a.create_missing.to_vec(),
        unknown_owner_to_me: a.unknown_owner_to_me,
        create_custom_fields: a.create_custom_fields,
        ..Options::default()
    };
    for (h, m) in info.headers.iter().zip(&mapping) {
        println!("  {h:<40} → {}", m.as_deref().unwrap_or("(not imported)"));
    }
    let info = imports::update(db, &p, info.id, ImportChange { version: info.version, mapping: Some(mapping), options: Some(options) }).await.map_err(crate::describe)?;
    // A run validates each row as a check does and goes on after bad ones: checking first
    // would only read the whole file once more (a sixth of a large import's time).
    if a.dry_run {
        let checked = phase(db, &p, info.id, false, info.total_rows).await?;
        summary("check", checked.check.as_ref());
        print_failures(db, &p, info.id, "check").await?;
        println!("dry run: nothing written; the report is GET /api/v1/imports/{}/rows?format=csv", info.id);
        return Ok(());
    }
    let done = phase(db, &p, info.id, true, info.total_rows).await?;
    summary("import", done.run.as_ref());
    print_failures(db, &p, info.id, "run").await?;
    println!("undo with POST /api/v1/imports/{}/undo", info.id);
    Ok(())
}

async fn print_failures(db: &Db, p: &Principal, id: i64, phase: &str) -> anyhow::Result<()> {
    let rows = imports::rows(db, p, id, phase, Some("fail"), -1, 20).await.map_err(crate::describe)?;
    for r in rows {
        for pr in r.problems.as_array().into_iter().flatten() {
            eprintln!("  line {}: {} {}", r.line, pr["column"].as_str().map(|c| format!("[{c}]")).unwrap_or_default(), pr["message"].as_str().unwrap_or_default());
        }
    }
    Ok(())
}

pub async fn export(db: &Db, workspace: &str, as_email: Option<&str>, entity: &str, format: &str, filters: &[String], file: &Path) -> anyhow::Result<()> {
    let entity = entity_of(entity)?;
    let p = principal(db, workspace, as_email).await?;
    let mut params = vec![("format".to_owned(), format.to_owned())];
    for f in filters {
        let (k, v) = f.split_once('=').with_context(|| format!("--filter takes FIELD=VALUE, not {f:?}"))?;
        params.push((k.to_owned(), v.to_owned()));
    }
    let mut export = accord_api::exports::start(db, p, entity, params).await.map_err(|e| anyhow::anyhow!("{}{}", e.detail, e.errors.iter().map(|f| format!("; {}: {}", f.field, f.message)).collect::<String>()))?;
    let mut out = std::io::BufWriter::new(std::fs::File::create(file).with_context(|| format!("cannot create {}", file.display()))?);
    let mut bytes = 0usize;
    while let Some(chunk) = export.chunks.recv().await {
        let chunk = chunk?;
        bytes += chunk.len();
        out.write_all(&chunk)?;
    }
    out.flush()?;
    println!("{} written ({bytes} bytes)", file.display());
    Ok(())
}

/// `accord backup-workspace`: the whole workspace into one archive file.
pub async fn backup_workspace(db: &Db, workspace: &str, file: &Path) -> anyhow::Result<()> {
    if file.exists() {
        bail!("{} exists; choose a new file", file.display());
    }
    let ws = accounts::find_workspace(db, workspace)
        .await?
        .with_context(|| format!("no workspace {workspace:?}"))?;
    let manifest = backup::write(db, ws, file).await.map_err(crate::describe)?;
    let rows: u64 = manifest.files.iter().map(|f| f.rows).sum();
    println!(
        "workspace {workspace} written to {}: {rows} rows in {} files",
        file.display(),
        manifest.files.len()
    );
    Ok(())
}

/// `accord restore-workspace`: an archive into a new workspace, or an existing empty one.
pub async fn restore_workspace(db: &Db, workspace: &str, file: &Path) -> anyhow::Result<()> {
    let target = match accounts::find_workspace(db, workspace).await? {
        Some(id) => backup::Target::Empty(id),
        None => backup::Target::New(workspace),
    };
    let (_, report) = backup::restore(db, target, file)
        .await
        .map_err(crate::describe)?;
    let rows: u64 = report.restored.values().sum();
    println!("restored {rows} rows into workspace {workspace}");
    for (table, n) in &report.left_out {
        println!("  left out {n} rows of {table}: what they belong to is not in the archive");
    }
    for email in &report.accounts_without_password {
        println!(
            "  {email} has no password yet: accord user reset-password --email {email} --password-stdin"
        );
    }
    for form in &report.web_forms_with_new_key {
        println!(
            "  web form {form:?} got a new key (its old one is in use here): replace its snippet"
        );
    }
    Ok(())
}
