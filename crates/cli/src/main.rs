//! The `accord` binary. Configuration comes, lowest first, from defaults, a TOML file
//! (`--config`), `ACCORD_*` environment variables, then flags; any `ACCORD_*` variable can
//! also be given as `ACCORD_*_FILE` naming a file that holds the value (for secrets).
mod config;
mod demo;
mod transfer;

use accord_domain::permissions::Role;
use accord_storage::{Backend, Db, accounts, migrate};
use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use std::io::Read;
use std::path::PathBuf;

// A request builds and drops thousands of small JSON values on every core at once; glibc's
// allocator spent a fifth of a contact list's time on them and their arenas' locks.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "accord", version, about = "Accord — a CRM in one binary", long_about = None)]
struct Cli {
    /// A TOML file with any of the options below (keys as the long flags, with _ for -).
    #[arg(long, global = true, env = "ACCORD_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct DbArgs {
    /// Folder for the embedded SQLite database and other files; created if missing.
    #[arg(long, env = "ACCORD_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
    /// sqlite://PATH or postgres://USER:PASSWORD@HOST/DB; default: SQLite in the data folder.
    #[arg(long, env = "ACCORD_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
}

impl DbArgs {
    fn url(&self) -> anyhow::Result<String> {
        if let Some(url) = &self.database_url {
            return Ok(url.clone());
        }
        std::fs::create_dir_all(&self.data_dir).with_context(|| format!("cannot create the data folder {}", self.data_dir.display()))?;
        Ok(format!("sqlite://{}", self.data_dir.join("accord.db").display()))
    }

    async fn open(&self) -> anyhow::Result<Db> {
        let url = self.url()?;
        let db = Db::connect(&url).await.with_context(|| format!("cannot open the database {}", redact(&url)))?;
        let applied = migrate::run(&db).await.context("migrating the database failed")?;
        if !applied.is_empty() {
            tracing::info!(?applied, "database migrated");
        }
        Ok(db)
    }
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***{}", &url[..s], &url[at..]),
        _ => url.to_owned(),
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (migrates the database first).
    Serve {
        #[command(flatten)]
        db: DbArgs,
        /// Address and port to listen on.
        #[arg(long, env = "ACCORD_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
        /// Load the demo workspace if the database has none, and print its sign-in details.
        #[arg(long, env = "ACCORD_DEMO")]
        demo: bool,
        /// Mark the session cookie Secure (set when Accord is reached over HTTPS).
        #[arg(long, env = "ACCORD_SECURE_COOKIES")]
        secure_cookies: bool,
        /// Trust X-Forwarded-For for the client address (only behind your own proxy).
        #[arg(long, env = "ACCORD_TRUST_PROXY")]
        trust_proxy: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Load the demo workspace ("Демо") with users, teams, contacts and companies.
    Demo {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Import a CSV, XLSX or vCard file (exports of other CRMs are recognised): writes the
    /// valid rows with a progress bar and names the rows that fail (`--dry-run` only checks).
    /// Undo through the API.
    Import {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        target: TransferArgs,
        /// Only check: report what would be created, updated, skipped or fail.
        #[arg(long)]
        dry_run: bool,
        /// Map a column: HEADER=FIELD (a target such as email or stage, cf.KEY, or empty to skip it).
        #[arg(long = "map")]
        map: Vec<String>,
        /// Identifiers that find existing records, comma-separated: email, phone, inn, sku, external_id.
        #[arg(long = "match")]
        match_on: Option<String>,
        /// upsert (update matches, create the rest), create (skip matches) or update (skip the rest).
        #[arg(long, default_value = "upsert")]
        mode: String,
        /// Create referenced records that are not found: company, contact, product.
        #[arg(long)]
        create_missing: Vec<String>,
        /// Give rows whose owner is not a member to the importing user.
        #[arg(long)]
        unknown_owner_to_me: bool,
        /// Turn columns mapped to nothing into new text custom fields.
        #[arg(long)]
        create_custom_fields: bool,
        file: PathBuf,
    },
    /// Export records of a workspace to CSV, XLSX or (contacts) vCard, with the list filters of
    /// the API.
    Export {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        target: TransferArgs,
        /// csv, xlsx or vcf
        #[arg(long, default_value = "csv")]
        format: String,
        /// A list filter FIELD=VALUE or FIELD[op]=VALUE, as in the API (repeatable); also sort=FIELD.
        #[arg(long = "filter")]
        filters: Vec<String>,
        file: PathBuf,
    },
    /// Write the whole workspace (members, settings, pipelines, custom fields, every record
    /// with its history) to FILE, a ZIP of JSON Lines described in docs/workspace-archive.md.
    BackupWorkspace {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        workspace: String,
        /// Where to write the archive; must not exist.
        file: PathBuf,
    },
    /// Restore an archive written by backup-workspace into WORKSPACE: a new workspace of that
    /// name, or an existing one that holds no records yet. Every record gets a new id.
    RestoreWorkspace {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        workspace: String,
        file: PathBuf,
    },
    /// Write a consistent copy of a live SQLite database to FILE (PostgreSQL: use pg_dump).
    Backup {
        #[command(flatten)]
        db: DbArgs,
        /// Where to write the copy; must not exist.
        file: PathBuf,
    },
}

/// Whose records an import or export touches.
#[derive(Args, Clone)]
struct TransferArgs {
    /// The workspace.
    #[arg(long)]
    workspace: String,
    /// Act as this member (default: the workspace's owner); their visibility applies.
    #[arg(long = "as")]
    as_email: Option<String>,
    /// contacts, companies, deals, products, leads, activities or tasks
    #[arg(long)]
    entity: String,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user in a workspace (the workspace is created if it does not exist).
    Create {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        email: String,
        /// Read the password from standard input (one line).
        #[arg(long, required = true)]
        password_stdin: bool,
        #[arg(long)]
        workspace: String,
        /// owner, admin, manager, member or read_only
        #[arg(long, default_value = "owner")]
        role: String,
        /// Display name; defaults to the part of the e-mail before @.
        #[arg(long, default_value = "")]
        name: String,
        /// Region for phone numbers of a new workspace (ISO code).
        #[arg(long, default_value = "RU")]
        region: String,
    },
    /// Set a new password (read from standard input); ends the user's sessions.
    ResetPassword {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        email: String,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

fn read_password() -> anyhow::Result<String> {
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s).context("reading the password from standard input")?;
    let line = s.lines().next().unwrap_or_default().to_owned();
    if line.is_empty() {
        bail!("no password on standard input");
    }
    Ok(line)
}

fn main() -> anyhow::Result<()> {
    // Logs go to standard error, so what a command prints (credentials, results) stays on
    // standard output for scripts.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("ACCORD_LOG").unwrap_or_else(|_| "info,sqlx=warn,tower_http=warn".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    // Environment layering happens before any thread exists (set_var is only sound then).
    config::layer_environment()?;
    // `--config` was applied by layer_environment; clap only documents and validates it.
    let Cli { command, config: _ } = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let result = runtime.block_on(run(command));
    // A background round still running (an import batch) gets a moment to finish; one cut
    // short rolls back and is taken up again at the next start, as after a crash.
    runtime.shutdown_timeout(std::time::Duration::from_secs(10));
    result
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve { db, bind, demo, secure_cookies, trust_proxy } => {
            let db = db.open().await?;
            if demo {
                demo::load_if_empty(&db).await?;
            }
            let listener = tokio::net::TcpListener::bind(&bind).await.with_context(|| format!("cannot listen on {bind}"))?;
            tracing::info!("Accord is listening on http://{}", listener.local_addr()?);
            let state = accord_api::state::AppState { db: db.clone(), config: accord_api::HttpConfig { secure_cookies, trust_proxy }, metrics: accord_api::system::metrics_handle() };
            tokio::spawn(deliver_reminders(db.clone()));
            tokio::spawn(resume_imports(db.clone()));
            tokio::spawn(purge_trash_regularly(db));
            accord_api::serve(listener, state, async {
                let _ = tokio::signal::ctrl_c().await;
                tracing::info!("shutting down");
            })
            .await?;
        }
        Command::Migrate { db } => {
            let db = db.open().await?;
            println!("database at version {}", migrate::latest());
            db.close().await;
        }
        Command::User { command: UserCommand::Create { db, email, workspace, role, name, region, .. } } => {
            let role = Role::parse(&role).with_context(|| format!("unknown role {role}: use owner, admin, manager, member or read_only"))?;
            let password = read_password()?;
            let db = db.open().await?;
            let ws = match accounts::find_workspace(&db, &workspace).await? {
                Some(id) => id,
                None => accounts::create_workspace(&db, &workspace, &region).await.map_err(|e| anyhow::anyhow!("{e}"))?,
            };
            let user = accounts::create_user(&db, &email, &name, &password).await.map_err(describe)?;
            accounts::add_member(&db, ws, user, role).await?;
            println!("created {email} ({}) in workspace {workspace}", role.as_str());
        }
        Command::User { command: UserCommand::ResetPassword { db, email, .. } } => {
            let password = read_password()?;
            let db = db.open().await?;
            let user = accounts::find_user(&db, &email).await.map_err(describe)?.with_context(|| format!("no user with e-mail {email}"))?;
            accounts::set_password(&db, user, &password, None).await.map_err(describe)?;
            println!("password of {email} changed; their sessions have ended");
        }
        Command::Import { db, target, dry_run, map, match_on, mode, create_missing, unknown_owner_to_me, create_custom_fields, file } => {
            let db = db.open().await?;
            transfer::import(&db, transfer::ImportArgs { workspace: &target.workspace, as_email: target.as_email.as_deref(), entity: &target.entity, file: &file, dry_run, map: &map, match_on: match_on.as_deref(), mode: &mode, create_missing: &create_missing, unknown_owner_to_me, create_custom_fields }).await?;
        }
        Command::Export { db, target, format, filters, file } => {
            let db = db.open().await?;
            transfer::export(&db, &target.workspace, target.as_email.as_deref(), &target.entity, &format, &filters, &file).await?;
        }
        Command::BackupWorkspace { db, workspace, file } => {
            let db = db.open().await?;
            transfer::backup_workspace(&db, &workspace, &file).await?;
        }
        Command::RestoreWorkspace { db, workspace, file } => {
            let db = db.open().await?;
            transfer::restore_workspace(&db, &workspace, &file).await?;
        }
        Command::Demo { db } => {
            let db = db.open().await?;
            demo::load(&db).await?;
        }
        Command::Backup { db, file } => {
            let url = db.url()?;
            if Backend::from_url(&url).map_err(describe)? == Backend::Postgres {
                bail!("for PostgreSQL use pg_dump, e.g.: pg_dump --format=custom --file=accord.dump '{}'", redact(&url));
            }
            if file.exists() {
                bail!("{} exists; choose a new file", file.display());
            }
            let db = db.open().await?;
            let path = file.to_str().context("the backup path must be valid UTF-8")?;
            db.backup_sqlite(path).await.map_err(describe)?;
            println!("backup written to {}", file.display());
        }
    }
    Ok(())
}

pub(crate) fn describe(e: accord_storage::Error) -> anyhow::Error {
    match e {
        accord_storage::Error::Invalid(v) => anyhow::anyhow!("{}", v.0.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; ")),
        other => anyhow::anyhow!("{other}"),
    }
}

/// One round of a background job, on the blocking threads (see `spawn_long`): the loops that
/// time the rounds stay on the runtime, so at shutdown they simply stop between rounds.
async fn in_background<T: Send + 'static>(round: impl std::future::Future<Output = accord_storage::Result<T>> + Send + 'static) -> accord_storage::Result<T> {
    accord_storage::spawn_long(round).await.map_err(|e| accord_storage::Error::Corrupt(format!("background round: {e}")))?
}

/// Reminders are delivered by every instance; each is claimed once in the database, so
/// several instances deliver it once between them. The first round runs at start and
/// catches up with what fell due while Accord was down.
async fn deliver_reminders(db: Db) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(5));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let db = db.clone();
        match in_background(async move { accord_storage::notifications::deliver_due(&db, accord_storage::now_ms()).await }).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(delivered = n, "reminders"),
            Err(e) => tracing::warn!(error = %e, "reminder delivery failed"),
        }
    }
}

/// Checks and runs of imports are started by the request that asks for them; this picks up
/// those whose worker stopped (a restart, a crashed instance) once their lease runs out, and
/// continues them from the last committed batch.
async fn resume_imports(db: Db) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(10));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let db = db.clone();
        match in_background(async move { accord_storage::imports::work(&db).await }).await {
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "import stopped"),
        }
    }
}

/// Trash retention runs in every instance; the purge is idempotent, so several instances
/// on one database do no harm.
async fn purge_trash_regularly(db: Db) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every.tick().await;
        let db = db.clone();
        match in_background(async move { accord_storage::records::purge_expired(&db).await }).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, "trash retention"),
            Err(e) => tracing::warn!(error = %e, "trash retention failed"),
        }
    }
}
