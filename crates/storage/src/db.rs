//! One way to run SQL on either engine. Statements (sea-query's or hand-written with `$1`
//! placeholders, which SQLite reads as numbered parameters) go through [`query`] and come
//! back as [`Row`]s of plain values. PostgreSQL runs on sqlx's pool; SQLite runs on rusqlite
//! connections called directly, since a statement there costs microseconds and a hop to a
//! worker thread per statement (sqlx's design) cost more than the statement itself. A long
//! statement (a report over a year) holds its runtime thread meanwhile; on this machine
//! kind more runtime threads than cores cost more in wake-ups than they gave back.
use crate::error::{Error, Result};
use sea_query::{PostgresQueryBuilder, QueryStatementBuilder, SqliteQueryBuilder, Value, Values};
use sqlx::any::{AnyPoolOptions, AnyRow, AnyTypeInfoKind};
use sqlx::{Any, AnyPool, AssertSqlSafe, Column as _, Row as _};
use std::borrow::Cow;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            Err(Error::conflict("database_url", format!("unsupported database URL {url:?}: use sqlite://… or postgres://…")))
        }
    }
}

/// A parameter or a column value. Nulls keep their type: PostgreSQL checks a parameter's
/// declared type against the column even when the value is null.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Int(Option<i64>),
    Real(Option<f64>),
    Text(Option<String>),
    Blob(Option<Vec<u8>>),
}

impl Val {
    fn is_null(&self) -> bool {
        matches!(self, Val::Int(None) | Val::Real(None) | Val::Text(None) | Val::Blob(None))
    }
}

macro_rules! val_from {
    ($variant:ident: $($t:ty => $conv:expr),* $(,)?) => {
        $(
            impl From<$t> for Val {
                fn from(v: $t) -> Val {
                    let conv: fn($t) -> _ = $conv;
                    Val::$variant(Some(conv(v)))
                }
            }
            impl From<Option<$t>> for Val {
                fn from(v: Option<$t>) -> Val {
                    let conv: fn($t) -> _ = $conv;
                    Val::$variant(v.map(conv))
                }
            }
        )*
    };
}

val_from!(Int: i64 => |v| v, &i64 => |v| *v, i32 => i64::from, &i32 => |v| i64::from(*v), u32 => i64::from, i16 => i64::from, bool => i64::from, &bool => |v| i64::from(*v));
val_from!(Real: f64 => |v| v, &f64 => |v| *v);
val_from!(Text: String => |v| v, &str => str::to_owned, &String => String::clone);
val_from!(Blob: Vec<u8> => |v| v, &[u8] => <[u8]>::to_vec, &Vec<u8> => Vec::clone);

impl From<&Option<String>> for Val {
    fn from(v: &Option<String>) -> Val {
        Val::Text(v.clone())
    }
}

fn val_of(v: Value) -> Result<Val> {
    Ok(match v {
        Value::Bool(b) => b.into(),
        Value::TinyInt(i) => Val::Int(i.map(i64::from)),
        Value::SmallInt(i) => Val::Int(i.map(i64::from)),
        Value::Int(i) => Val::Int(i.map(i64::from)),
        Value::BigInt(i) => Val::Int(i),
        Value::TinyUnsigned(i) => Val::Int(i.map(i64::from)),
        Value::SmallUnsigned(i) => Val::Int(i.map(i64::from)),
        Value::Unsigned(i) => Val::Int(i.map(i64::from)),
        Value::BigUnsigned(i) => Val::Int(i.map(|u| i64::try_from(u).unwrap_or(i64::MAX))),
        Value::Float(f) => Val::Real(f.map(f64::from)),
        Value::Double(f) => Val::Real(f),
        Value::String(s) => Val::Text(s),
        Value::Char(c) => Val::Text(c.map(|c| c.to_string())),
        Value::Bytes(b) => Val::Blob(b),
        other => return Err(Error::Corrupt(format!("unsupported parameter type {other:?}"))),
    })
}

/// A row of a result, read by column name or position.
#[derive(Debug, Clone)]
pub struct Row {
    names: Arc<[String]>,
    vals: Vec<Val>,
}

pub trait ColumnIndex {
    fn index_in(&self, row: &Row) -> Result<usize>;
}

impl ColumnIndex for &str {
    fn index_in(&self, row: &Row) -> Result<usize> {
        row.names.iter().position(|n| n == self).ok_or_else(|| Error::Corrupt(format!("no column {self:?} in the result")))
    }
}

impl ColumnIndex for usize {
    fn index_in(&self, row: &Row) -> Result<usize> {
        if *self < row.vals.len() { Ok(*self) } else { Err(Error::Corrupt(format!("no column {self} in the result"))) }
    }
}

/// A Rust type a column value reads as. Integers read as reals and numbers as text where
/// an aggregate's type differs between the engines (SQLite's SUM of integers is an integer).
pub trait FromVal: Sized {
    const EXPECTED: &'static str;
    fn from_val(v: &Val) -> Option<Self>;
}

impl FromVal for i64 {
    const EXPECTED: &'static str = "an integer";
    fn from_val(v: &Val) -> Option<Self> {
        match v {
            Val::Int(i) => *i,
            Val::Real(Some(f)) if f.fract() == 0.0 => Some(*f as i64),
            _ => None,
        }
    }
}

impl FromVal for i32 {
    const EXPECTED: &'static str = "a 32-bit integer";
    fn from_val(v: &Val) -> Option<Self> {
        i64::from_val(v).and_then(|i| i32::try_from(i).ok())
    }
}

impl FromVal for bool {
    const EXPECTED: &'static str = "a boolean";
    fn from_val(v: &Val) -> Option<Self> {
        i64::from_val(v).map(|i| i != 0)
    }
}

impl FromVal for f64 {
    const EXPECTED: &'static str = "a number";
    fn from_val(v: &Val) -> Option<Self> {
        match v {
            Val::Real(f) => *f,
            Val::Int(Some(i)) => Some(*i as f64),
            _ => None,
        }
    }
}

impl FromVal for String {
    const EXPECTED: &'static str = "text";
    fn from_val(v: &Val) -> Option<Self> {
        match v {
            Val::Text(s) => s.clone(),
            Val::Int(Some(i)) => Some(i.to_string()),
            Val::Real(Some(f)) => Some(f.to_string()),
            _ => None,
        }
    }
}

impl FromVal for Vec<u8> {
    const EXPECTED: &'static str = "bytes";
    fn from_val(v: &Val) -> Option<Self> {
        match v {
            Val::Blob(b) => b.clone(),
            Val::Text(Some(s)) => Some(s.clone().into_bytes()),
            _ => None,
        }
    }
}

impl<T: FromVal> FromVal for Option<T> {
    const EXPECTED: &'static str = T::EXPECTED;
    fn from_val(v: &Val) -> Option<Self> {
        if v.is_null() { Some(None) } else { T::from_val(v).map(Some) }
    }
}

impl Row {
    /// A row of values the caller has, in the shape of one read from the database.
    pub(crate) fn new(names: Arc<[String]>, vals: Vec<Val>) -> Row {
        Row { names, vals }
    }

    pub fn columns(&self) -> &[String] {
        &self.names
    }

    pub fn value(&self, index: usize) -> Option<&Val> {
        self.vals.get(index)
    }

    /// A blob column's bytes, moved out of the row rather than copied (an import's file).
    pub fn into_bytes<I: ColumnIndex>(mut self, index: I) -> Result<Vec<u8>> {
        let i = index.index_in(&self)?;
        match std::mem::replace(&mut self.vals[i], Val::Blob(None)) {
            Val::Blob(Some(b)) => Ok(b),
            Val::Text(Some(s)) => Ok(s.into_bytes()),
            v => Err(Error::Corrupt(format!("column {:?}: expected bytes, found {v:?}", self.names[i]))),
        }
    }

    pub fn try_get<T: FromVal, I: ColumnIndex>(&self, index: I) -> Result<T> {
        let i = index.index_in(self)?;
        let v = &self.vals[i];
        T::from_val(v).ok_or_else(|| Error::Corrupt(format!("column {:?}: expected {}, found {v:?}", self.names[i], T::EXPECTED)))
    }
}

/// Reads a row's columns by name in the order they were selected: each name is looked for
/// just after the previous one before the whole row is searched, so a wide record costs one
/// comparison per column instead of a scan per column (a page of 50 contacts spent a tenth of
/// its time comparing column names).
pub struct InOrder<'r> {
    row: &'r Row,
    next: usize,
}

impl<'r> InOrder<'r> {
    pub fn new(row: &'r Row) -> Self {
        InOrder { row, next: 0 }
    }

    pub fn get<T: FromVal>(&mut self, name: &str) -> Result<T> {
        let i = if self.row.names.get(self.next).is_some_and(|n| n == name) { self.next } else { name.index_in(self.row)? };
        self.next = i + 1;
        self.row.try_get(i)
    }
}

/// A statement with its parameters, run on a [`Db`] (any pooled connection) or a [`Conn`]
/// (inside a transaction).
#[must_use = "a query does nothing until it is run"]
pub struct Query<'q> {
    sql: Cow<'q, str>,
    args: Vec<Val>,
}

pub fn query<'q>(sql: impl Into<Cow<'q, str>>) -> Query<'q> {
    Query { sql: sql.into(), args: Vec::new() }
}

/// What a statement changed.
pub struct Done {
    rows: u64,
}

impl Done {
    pub fn rows_affected(&self) -> u64 {
        self.rows
    }
}

/// Where a statement runs.
pub enum On<'c> {
    Db(&'c Db),
    Conn(&'c mut Conn),
}

impl<'c> From<&'c Db> for On<'c> {
    fn from(db: &'c Db) -> Self {
        On::Db(db)
    }
}

impl<'c> From<&'c mut Conn> for On<'c> {
    fn from(conn: &'c mut Conn) -> Self {
        On::Conn(conn)
    }
}

impl<'q> Query<'q> {
    pub fn bind(mut self, v: impl Into<Val>) -> Self {
        self.args.push(v.into());
        self
    }

    pub async fn fetch_all<'c>(self, on: impl Into<On<'c>>) -> Result<Vec<Row>> {
        let mut rows = Vec::new();
        self.each(
            on.into(),
            Some(&mut |r| {
                rows.push(r);
                Ok(true)
            }),
        )
        .await?;
        Ok(rows)
    }

    pub async fn fetch_optional<'c>(self, on: impl Into<On<'c>>) -> Result<Option<Row>> {
        self.first(on.into()).await
    }

    /// For statements that always give a row (an aggregate, `RETURNING`).
    pub async fn fetch_one<'c>(self, on: impl Into<On<'c>>) -> Result<Row> {
        self.first(on.into()).await?.ok_or_else(|| Error::Corrupt(format!("no row from {}", self.sql)))
    }

    async fn first(&self, on: On<'_>) -> Result<Option<Row>> {
        let mut first = None;
        self.each(
            on,
            Some(&mut |r| {
                first = Some(r);
                Ok(false)
            }),
        )
        .await?;
        Ok(first)
    }

    pub async fn execute<'c>(self, on: impl Into<On<'c>>) -> Result<Done> {
        let rows = self.each(on.into(), None).await?;
        Ok(Done { rows })
    }

    /// Hands each row to `f` as it is read, so a large result never sits in memory whole.
    pub async fn for_each<'c>(self, on: impl Into<On<'c>>, mut f: impl FnMut(&Row) -> Result<()> + Send) -> Result<()> {
        self.each(on.into(), Some(&mut |r| f(&r).map(|()| true))).await?;
        Ok(())
    }

    /// Runs the statement, handing rows to `sink` until it answers `false`, or without one
    /// (a write) returning the number of rows the statement changed.
    async fn each(&self, on: On<'_>, sink: Option<Sink<'_>>) -> Result<u64> {
        match on {
            On::Db(db) => match &db.engine {
                Engine::Sqlite(pool) => pool.acquire().await?.run(self, sink),
                Engine::Postgres(pool) => pg_run(self, pool, sink).await,
            },
            On::Conn(conn) => match &mut conn.0 {
                ConnKind::Sqlite(lite) => lite.run(self, sink),
                ConnKind::Postgres(c) => pg_run(self, &mut **c, sink).await,
                ConnKind::PostgresTx(t) => pg_run(self, &mut **t, sink).await,
            },
        }
    }
}

type Sink<'s> = &'s mut (dyn FnMut(Row) -> Result<bool> + Send);

async fn pg_run<'e, E: sqlx::Executor<'e, Database = Any>>(q: &Query<'_>, on: E, sink: Option<Sink<'_>>) -> Result<u64> {
    use futures_util::TryStreamExt;
    let mut pq = sqlx::query(AssertSqlSafe(q.sql.as_ref()));
    for a in &q.args {
        pq = match a {
            Val::Int(i) => pq.bind(*i),
            Val::Real(f) => pq.bind(*f),
            Val::Text(s) => pq.bind(s.clone()),
            Val::Blob(b) => pq.bind(b.clone()),
        };
    }
    let Some(sink) = sink else {
        return Ok(pq.execute(on).await?.rows_affected());
    };
    let mut stream = pq.fetch(on);
    let mut names: Option<Arc<[String]>> = None;
    while let Some(row) = stream.try_next().await? {
        let names = names.get_or_insert_with(|| row.columns().iter().map(|c| c.name().to_owned()).collect());
        if !sink(pg_row(names.clone(), &row)?)? {
            break;
        }
    }
    Ok(0)
}

fn pg_row(names: Arc<[String]>, row: &AnyRow) -> Result<Row> {
    let mut vals = Vec::with_capacity(names.len());
    for (i, c) in row.columns().iter().enumerate() {
        vals.push(match c.type_info().kind() {
            AnyTypeInfoKind::Bool => Val::Int(row.try_get::<Option<bool>, _>(i)?.map(i64::from)),
            AnyTypeInfoKind::SmallInt => Val::Int(row.try_get::<Option<i16>, _>(i)?.map(i64::from)),
            AnyTypeInfoKind::Integer => Val::Int(row.try_get::<Option<i32>, _>(i)?.map(i64::from)),
            AnyTypeInfoKind::BigInt => Val::Int(row.try_get::<Option<i64>, _>(i)?),
            AnyTypeInfoKind::Real => Val::Real(row.try_get::<Option<f32>, _>(i)?.map(f64::from)),
            AnyTypeInfoKind::Double => Val::Real(row.try_get::<Option<f64>, _>(i)?),
            AnyTypeInfoKind::Text => Val::Text(row.try_get::<Option<String>, _>(i)?),
            AnyTypeInfoKind::Blob => Val::Blob(row.try_get::<Option<Vec<u8>>, _>(i)?),
            AnyTypeInfoKind::Null => Val::Text(None),
        });
    }
    Ok(Row { names, vals })
}

/// SQLite settings for a concurrent server: WAL so readers never block the writer, a busy
/// timeout for writers of other processes (the CLI), and a page cache per connection sized
/// so the whole pool stays well inside the memory budget (8 × 16 MB, and the writer's).
// `wal_autocheckpoint = 0`: the checkpointer thread copies the log into the database, so
// no write, which holds the one write turn, also does that (a tenth of a deal move's time
// went to the checkpoint it happened to trigger, fsync included). `journal_size_limit`:
// the log file shrinks back when it starts over after a burst of writes.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
     PRAGMA busy_timeout = 10000; PRAGMA cache_size = -16384; PRAGMA temp_store = MEMORY; \
     PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 67108864;";
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);
/// Past this many frames in the log, the checkpointer finishes its copy holding the write
/// turn, so the log can start over (SQLite's own automatic checkpoint starts at 1,000).
const CHECKPOINT_FINISH_FRAMES: i64 = 1000;
/// Before taking the turn, copies go on outside it until a pass finds at most this many new
/// frames (or after a few passes, when writes outpace the copy): the turn then waits only
/// for a short copy. Copying all that had come in during the first pass under the turn held
/// every write up for a fifth of the time under deal moves.
const CHECKPOINT_TURN_FRAMES: i64 = 256;
const CHECKPOINT_CATCH_UP_PASSES: usize = 4;
/// How long the finishing checkpoint waits for readers to leave the log. A long reader (an
/// export, a report) must not hold every write up: the log starts over at a later try.
const CHECKPOINT_READER_WAIT: &str = "PRAGMA busy_timeout = 20;";
const SQLITE_POOL: usize = 8;
/// The writer's page cache, in KiB: it keeps its pages from one write to the next, so the
/// upper levels of the indexes a write walks stay in it.
const SQLITE_WRITER_CACHE: &str = "PRAGMA cache_size = -32768;";
/// Enough for every statement a request path uses, so each is parsed once per connection.
const SQLITE_STATEMENT_CACHE: usize = 512;
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

fn open_sqlite(path: &str) -> Result<rusqlite::Connection> {
    use rusqlite::OpenFlags;
    let conn = rusqlite::Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    conn.execute_batch(SQLITE_PRAGMAS)?;
    // Plans that do not depend on the bound values: without it SQLite prepared cached
    // statements again on most binds (seen as `sqlite3Reprepare`, a fifth of an
    // import's time).
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    conn.set_prepared_statement_cache_capacity(SQLITE_STATEMENT_CACHE);
    Ok(conn)
}

/// A connection set up as the one every write of a server goes through. Public for the
/// bench, which measures what SQLite itself takes for an import's writes with it.
pub fn open_sqlite_writer(path: &str) -> Result<rusqlite::Connection> {
    let conn = open_sqlite(path)?;
    conn.execute_batch(SQLITE_WRITER_CACHE)?;
    Ok(conn)
}

struct LitePool {
    path: String,
    /// Write transactions that ended while another waited for the turn, not yet committed.
    group: std::sync::Mutex<Group>,
    /// Transactions waiting for the write turn (see [`Group`]).
    waiting: std::sync::atomic::AtomicUsize,
    idle: std::sync::Mutex<Vec<rusqlite::Connection>>,
    permits: Arc<tokio::sync::Semaphore>,
    /// The connection every write of this process uses, under the write turn. SQLite drops a
    /// connection's whole page cache when another connection has written since its last
    /// transaction; with writes taking turns over the pool, every write started cold and
    /// read each page of the indexes it walked again (a deal move at 1,000,000 deals).
    writer: std::sync::Mutex<Option<rusqlite::Connection>>,
}

impl LitePool {
    fn open(&self) -> Result<rusqlite::Connection> {
        open_sqlite(&self.path)
    }

    /// Checkpoints the log from a thread of its own until the pool is closed or dropped.
    /// A PASSIVE checkpoint copies the log into the database while writes go on. But the log
    /// only starts over when a write begins with all of it copied and no reader still in it,
    /// which under steady writes never happens by chance (it grew to gigabytes under deal
    /// moves, and every read slowed down searching it). So once the log is past
    /// [`CHECKPOINT_FINISH_FRAMES`], a RESTART checkpoint holding the write turn copies the
    /// few frames written since and waits (for milliseconds) until readers have left it.
    fn start_checkpointer(self: &Arc<Self>, write_turn: Arc<tokio::sync::Mutex<()>>) -> Result<()> {
        let conn = self.open()?;
        conn.execute_batch(CHECKPOINT_READER_WAIT)?;
        let pool = Arc::downgrade(self);
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                let mut checkpointer = Checkpointer { conn, write_turn, restarted_at: None };
                loop {
                    std::thread::sleep(CHECKPOINT_EVERY);
                    let p = match pool.upgrade() {
                        Some(p) if !p.permits.is_closed() => p,
                        _ => return,
                    };
                    if let Err(e) = checkpointer.pass(&p) {
                        tracing::warn!(error = %e, "WAL checkpoint failed; retrying");
                    }
                }
            })
            .map_err(|e| Error::Unavailable(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(())
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<rusqlite::Connection>> {
        // A panic elsewhere while the list was held leaves it intact: it is only pushed and popped.
        self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn writer_slot(&self) -> std::sync::MutexGuard<'_, Option<rusqlite::Connection>> {
        self.writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn acquire(self: &Arc<Self>) -> Result<Lite> {
        let permit = tokio::time::timeout(ACQUIRE_TIMEOUT, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| Error::Unavailable("no SQLite connection became free in 30 s".into()))?
            .map_err(|_| Error::Unavailable("the SQLite pool is closed".into()))?;
        let conn = match self.idle().pop() {
            Some(c) => c,
            None => self.open()?,
        };
        Ok(Lite { conn: Some(conn), pool: self.clone(), home: Home::Readers { _permit: permit }, pending: Pending::Nothing })
    }

    /// The writer connection; only taken under the write turn, so it is always free then.
    fn acquire_writer(self: &Arc<Self>) -> Result<Lite> {
        let conn = match self.writer_slot().take() {
            Some(c) => c,
            None => open_sqlite_writer(&self.path)?,
        };
        Ok(Lite { conn: Some(conn), pool: self.clone(), home: Home::Writer, pending: Pending::Nothing })
    }
}

/// Group commit. Every write transaction is a savepoint inside a transaction of the
/// writer connection. One that ends while another waits for the write turn releases its
/// savepoint and leaves the commit to a later one, waiting for it; the first that ends
/// with nobody waiting (or when the group is full or old) commits them all at once. A
/// commit writes every page the transaction changed to the log, and writes at a million
/// deals change many pages that several moves share (the ends of the audit, timeline and
/// history indexes, the summaries): one commit for many halves what is written.
/// Whoever takes the turn for anything but a transaction of the group first commits it,
/// and a member whose group was not finished in time finishes it itself, so no member
/// waits on a writer that never came.
#[derive(Default)]
struct Group {
    /// When the writer connection's transaction began; `None` while it holds none.
    opened_at: Option<std::time::Instant>,
    /// Which group: a member finishing its group late must not commit a later one.
    generation: u64,
    members: Vec<tokio::sync::oneshot::Sender<std::result::Result<(), String>>>,
}

/// A group is committed once it has this many members, or is this old.
const GROUP_MAX_MEMBERS: usize = 32;
const GROUP_MAX_AGE: Duration = Duration::from_millis(20);
/// How long a member waits for its group before it commits it itself.
const GROUP_MEMBER_WAIT: Duration = Duration::from_millis(250);

impl LitePool {
    fn group(&self) -> std::sync::MutexGuard<'_, Group> {
        self.group.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts a transaction of the writer connection: a savepoint of the open group, or of a
    /// new one. `alone` commits the open group first (a long batch must not hold its
    /// members up) and starts a transaction of its own, without a savepoint: inside one,
    /// SQLite keeps every page the transaction changes in a sub-journal, and releasing
    /// each statement's savepoint walks that journal, so a batch of thousands of writes
    /// slowed down with every write (deals built at 500/s instead of 2,400/s).
    fn begin_on(&self, lite: &mut Lite, alone: bool) -> Result<()> {
        let conn = lite.conn()?;
        if alone {
            // Members hear how it went; the new transaction starts either way.
            let _ = self.finish_group(conn, None);
            conn.execute_batch("BEGIN IMMEDIATE")?;
            lite.pending = Pending::Alone;
            return Ok(());
        }
        {
            let mut g = self.group();
            if g.opened_at.is_none() {
                conn.execute_batch("BEGIN IMMEDIATE")?;
                g.opened_at = Some(std::time::Instant::now());
                g.generation += 1;
            }
        }
        conn.execute_batch("SAVEPOINT tx")?;
        lite.pending = Pending::Savepoint;
        Ok(())
    }

    /// Leaves the commit of a transaction that just ended to the next one, when another
    /// waits for the turn and the group has room: answers where its outcome will come and
    /// which group it joined.
    fn join_group(&self) -> Option<(tokio::sync::oneshot::Receiver<std::result::Result<(), String>>, u64)> {
        let mut g = self.group();
        let room = g.members.len() < GROUP_MAX_MEMBERS && g.opened_at.is_some_and(|t| t.elapsed() < GROUP_MAX_AGE);
        if !room || self.waiting.load(std::sync::atomic::Ordering::Acquire) == 0 {
            return None;
        }
        let (sender, ended) = tokio::sync::oneshot::channel();
        g.members.push(sender);
        Some((ended, g.generation))
    }

    /// Commits the open group (only if it is still `generation`, when given) and tells its
    /// members how it went.
    fn finish_group(&self, conn: &rusqlite::Connection, generation: Option<u64>) -> std::result::Result<(), String> {
        let members = {
            let mut g = self.group();
            if g.opened_at.is_none() || generation.is_some_and(|n| n != g.generation) {
                return Ok(());
            }
            g.opened_at = None;
            std::mem::take(&mut g.members)
        };
        // SQLite rolls a whole transaction back on some errors (a full disk): then there is
        // nothing left to commit, and every member must hear it.
        let outcome = if conn.is_autocommit() { Err("the transaction was rolled back by the database".to_owned()) } else { conn.execute_batch("COMMIT").map_err(|e| e.to_string()) };
        if outcome.is_err() && !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        if let Err(e) = &outcome {
            tracing::error!(error = %e, members = members.len(), "a group commit failed");
        }
        for m in members {
            let _ = m.send(outcome.clone());
        }
        outcome
    }

    /// Commits the open group from outside a transaction, holding the turn (the
    /// checkpointer, before it finishes the log).
    fn finish_group_now(&self) {
        let slot = self.writer_slot();
        if let Some(conn) = slot.as_ref() {
            let _ = self.finish_group(conn, None);
        }
    }
}

/// Where a connection goes back to.
enum Home {
    Readers { _permit: tokio::sync::OwnedSemaphorePermit },
    Writer,
}

struct Checkpointer {
    conn: rusqlite::Connection,
    write_turn: Arc<tokio::sync::Mutex<()>>,
    /// The log's length when it was last finished: it keeps that length until the next write
    /// starts it over, and an idle server must not take the write turn five times a second.
    restarted_at: Option<i64>,
}

impl Checkpointer {
    /// Runs a checkpoint; answers whether it was cut short by a reader or writer, and the
    /// log's length in frames.
    fn checkpoint(&self, mode: &str) -> rusqlite::Result<(bool, i64)> {
        self.conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| Ok((r.get::<_, i64>(0)? != 0, r.get(1)?)))
    }

    /// Flushes the database file through SQLite's own handle of it: closing a second handle
    /// of our own would drop the locks SQLite holds on the file.
    fn sync_database_file(&self) -> rusqlite::Result<()> {
        use rusqlite::ffi;
        let mut file: *mut ffi::sqlite3_file = std::ptr::null_mut();
        // SAFETY: FILE_POINTER writes the main database's `sqlite3_file` (owned by the
        // connection, which outlives this call) into `file`; its methods are called on this
        // thread, the only one using this connection, between two of its statements.
        let rc = unsafe {
            let rc = ffi::sqlite3_file_control(self.conn.handle(), c"main".as_ptr(), ffi::SQLITE_FCNTL_FILE_POINTER, (&raw mut file).cast());
            match (rc, file.as_ref().and_then(|f| f.pMethods.as_ref()).and_then(|m| m.xSync)) {
                (ffi::SQLITE_OK, Some(sync)) => sync(file, ffi::SQLITE_SYNC_NORMAL),
                (ffi::SQLITE_OK, None) => ffi::SQLITE_OK,
                (rc, _) => rc,
            }
        };
        if rc == ffi::SQLITE_OK { Ok(()) } else { Err(rusqlite::Error::SqliteFailure(ffi::Error::new(rc), Some("syncing the database file".into()))) }
    }

    fn pass(&mut self, pool: &LitePool) -> rusqlite::Result<()> {
        let (_, mut frames) = self.checkpoint("PASSIVE")?;
        if frames < CHECKPOINT_FINISH_FRAMES || self.restarted_at == Some(frames) {
            return Ok(());
        }
        for _ in 0..CHECKPOINT_CATCH_UP_PASSES {
            let (_, now) = self.checkpoint("PASSIVE")?;
            let fresh = now - frames;
            frames = now;
            if fresh <= CHECKPOINT_TURN_FRAMES {
                break;
            }
        }
        // A checkpoint that does not reach the end of the log leaves the pages it copied
        // unsynced; the finishing one would then flush them all under the turn (40 ms of
        // every cycle under deal moves at a million deals).
        self.sync_database_file()?;
        let _turn = self.write_turn.blocking_lock();
        // An open transaction of the writer would keep the log from starting over.
        pool.finish_group_now();
        let (busy, frames) = self.checkpoint("RESTART")?;
        if !busy {
            self.restarted_at = Some(frames);
        }
        Ok(())
    }
}

/// A pooled SQLite connection; back in the pool when dropped, with any transaction a
/// cancelled request left open rolled back.
struct Lite {
    conn: Option<rusqlite::Connection>,
    pool: Arc<LitePool>,
    home: Home,
    /// The writer's transaction that has not ended yet.
    pending: Pending,
}

/// What a connection's drop must undo.
#[derive(PartialEq)]
enum Pending {
    Nothing,
    /// A transaction of a group ([`Group`]).
    Savepoint,
    /// A transaction outside any group ([`Db::begin_batch`]).
    Alone,
}

impl Drop for Lite {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        match self.home {
            Home::Readers { .. } => {
                // A connection whose rollback failed is closed rather than lent out mid-transaction.
                if !conn.is_autocommit() && conn.execute_batch("ROLLBACK").is_err() {
                    return;
                }
                self.pool.idle().push(conn);
            }
            Home::Writer => {
                if self.pending == Pending::Alone && !conn.is_autocommit() {
                    let _ = conn.execute_batch("ROLLBACK");
                }
                if self.pending == Pending::Savepoint {
                    // A transaction that did not commit (an error, a cancelled request): its
                    // own writes are undone, and the group before it is committed now rather
                    // than left to a next writer.
                    if conn.execute_batch("ROLLBACK TO tx; RELEASE tx").is_err() && !conn.is_autocommit() {
                        let _ = conn.execute_batch("ROLLBACK");
                    }
                    let _ = self.pool.finish_group(&conn, None);
                }
                *self.pool.writer_slot() = Some(conn);
            }
        }
    }
}

impl Lite {
    fn conn(&self) -> Result<&rusqlite::Connection> {
        self.conn.as_ref().ok_or_else(|| Error::Corrupt("SQLite connection used after release".into()))
    }

    fn batch(&self, sql: &str) -> Result<()> {
        Ok(self.conn()?.execute_batch(sql)?)
    }

    fn run(&self, q: &Query<'_>, sink: Option<Sink<'_>>) -> Result<u64> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&q.sql)?;
        for i in 1..=stmt.parameter_count() {
            // `$3` and `?3` name the third argument; a bare `?` takes the next one.
            let n = match stmt.parameter_name(i) {
                None => i,
                Some(name) => name.get(1..).and_then(|d| d.parse::<usize>().ok()).ok_or_else(|| Error::Corrupt(format!("unsupported parameter {name} in {}", q.sql)))?,
            };
            let arg = q.args.get(n - 1).ok_or_else(|| Error::Corrupt(format!("parameter {n} has no value in {}", q.sql)))?;
            stmt.raw_bind_parameter(i, arg)?;
        }
        let Some(sink) = sink else {
            let mut rows = stmt.raw_query();
            while rows.next()?.is_some() {}
            drop(rows);
            return Ok(conn.changes());
        };
        let names: Arc<[String]> = stmt.column_names().into_iter().map(str::to_owned).collect();
        let mut rows = stmt.raw_query();
        while let Some(r) = rows.next()? {
            let mut vals = Vec::with_capacity(names.len());
            for i in 0..names.len() {
                use rusqlite::types::ValueRef;
                vals.push(match r.get_ref(i)? {
                    ValueRef::Null => Val::Text(None),
                    ValueRef::Integer(v) => Val::Int(Some(v)),
                    ValueRef::Real(v) => Val::Real(Some(v)),
                    ValueRef::Text(t) => Val::Text(Some(std::str::from_utf8(t).map_err(|e| Error::Corrupt(e.to_string()))?.to_owned())),
                    ValueRef::Blob(b) => Val::Blob(Some(b.to_vec())),
                });
            }
            if !sink(Row { names: names.clone(), vals })? {
                break;
            }
        }
        Ok(0)
    }
}

impl rusqlite::ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Val::Int(Some(i)) => ValueRef::Integer(*i),
            Val::Real(Some(f)) => ValueRef::Real(*f),
            Val::Text(Some(s)) => ValueRef::Text(s.as_bytes()),
            Val::Blob(Some(b)) => ValueRef::Blob(b),
            _ => ValueRef::Null,
        }))
    }
}

/// Most parameters one statement of [`insert_rows`] takes: under SQLite's limit (32,766) and
/// PostgreSQL's (65,535), and few enough rows that a statement stays a few hundred kB.
const INSERT_PARAMS: usize = 20_000;
const INSERT_ROWS: usize = 500;

/// Inserts `rows` into `table` with one multi-row statement per chunk: a bulk write pays
/// each statement's fixed cost once per chunk instead of once per row. With `ids`, the new
/// rows' ids in the order of `rows`: both engines number new rows from an increasing counter
/// in the order a statement's rows are written, so the returned ids sorted are in that order
/// (neither promises the order of `RETURNING` itself).
pub(crate) async fn insert_rows(conn: &mut Conn, table: &str, cols: &[&str], rows: Vec<Vec<Val>>, ids: bool) -> Result<Vec<i64>> {
    let per_statement = (INSERT_PARAMS / cols.len().max(1)).clamp(1, INSERT_ROWS);
    let sqlite = matches!(conn.0, ConnKind::Sqlite(_));
    let mut out = Vec::with_capacity(if ids { rows.len() } else { 0 });
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Val>> = rows.by_ref().take(per_statement).collect();
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", cols.join(", "));
        let mut n = 0;
        for (i, row) in chunk.iter().enumerate() {
            if row.len() != cols.len() {
                return Err(Error::Corrupt(format!("a row of {} values for {} columns of {table}", row.len(), cols.len())));
            }
            sql.push_str(if i == 0 { "(" } else { ", (" });
            for j in 0..row.len() {
                n += 1;
                if j > 0 {
                    sql.push_str(", ");
                }
                // SQLite finds a named parameter (`$3`) by a scan of all the statement's
                // names, which for thousands of them took longer than the insert itself.
                if sqlite {
                    sql.push('?');
                } else {
                    sql.push_str(&format!("${n}"));
                }
            }
            sql.push(')');
        }
        if ids {
            sql.push_str(" RETURNING id");
        }
        let mut q = query(sql);
        q.args = chunk.into_iter().flatten().collect();
        if ids {
            let mut got = q.fetch_all(&mut *conn).await?.iter().map(|r| get_i64(r, "id")).collect::<Result<Vec<i64>>>()?;
            got.sort_unstable();
            out.extend(got);
        } else {
            q.execute(&mut *conn).await?;
        }
    }
    Ok(out)
}

/// A connection taken from the pool for a transaction or a run of writes.
pub struct Conn(ConnKind);

enum ConnKind {
    Sqlite(Lite),
    Postgres(sqlx::pool::PoolConnection<Any>),
    PostgresTx(sqlx::Transaction<'static, Any>),
}

/// A transaction: committed by [`Tx::commit`], rolled back when dropped. A write
/// transaction on SQLite also holds the process's write turn: writers queue here instead
/// of in SQLite's busy handler, whose sleeps cost throughput and latency.
pub struct Tx {
    conn: Conn,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
    write_turn: Arc<tokio::sync::Mutex<()>>,
}

impl Tx {
    /// Commits; on SQLite, returns once the transaction's group is committed ([`Group`]).
    pub async fn commit(self) -> Result<()> {
        match self.conn.0 {
            // A read snapshot, or a batch outside any group.
            ConnKind::Sqlite(mut lite) if lite.pending != Pending::Savepoint => {
                // On an error the connection's drop undoes this transaction.
                lite.batch("COMMIT")?;
                lite.pending = Pending::Nothing;
                Ok(())
            }
            ConnKind::Sqlite(mut lite) => {
                // On an error the connection's drop undoes this transaction.
                lite.batch("RELEASE tx")?;
                lite.pending = Pending::Nothing;
                let pool = lite.pool.clone();
                let Some((mut ended, generation)) = pool.join_group() else {
                    return pool.finish_group(lite.conn()?, None).map_err(Error::Unavailable);
                };
                drop(lite);
                drop(self._turn);
                let outcome = match tokio::time::timeout(GROUP_MEMBER_WAIT, &mut ended).await {
                    Ok(outcome) => outcome,
                    Err(_) => {
                        // The writer it waited for went away: it finishes its group itself.
                        let turn = self.write_turn.lock().await;
                        let writer = pool.acquire_writer()?;
                        let _ = pool.finish_group(writer.conn()?, Some(generation));
                        drop(writer);
                        drop(turn);
                        ended.await
                    }
                };
                match outcome {
                    Ok(done) => done.map_err(Error::Unavailable),
                    Err(_) => Err(Error::Unavailable("the write was not committed".into())),
                }
            }
            ConnKind::PostgresTx(t) => Ok(t.commit().await?),
            ConnKind::Postgres(_) => Ok(()),
        }
    }
}

impl std::ops::Deref for Tx {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        &self.conn
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut Conn {
        &mut self.conn
    }
}

/// See [`Db::writer`].
pub struct Writer {
    conn: Conn,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl std::ops::Deref for Writer {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        &self.conn
    }
}

impl std::ops::DerefMut for Writer {
    fn deref_mut(&mut self) -> &mut Conn {
        &mut self.conn
    }
}

#[derive(Clone)]
enum Engine {
    Sqlite(Arc<LitePool>),
    Postgres(AnyPool),
}

#[derive(Clone)]
pub struct Db {
    engine: Engine,
    pub backend: Backend,
    write_turn: Arc<tokio::sync::Mutex<()>>,
}

/// Runs long database work (a background job, an import, an export, an archive) on the
/// runtime's blocking threads. SQLite statements run on whichever thread polls them, so
/// work that takes minutes must not be polled by the few threads that answer requests.
/// Reports stay on the request threads: there, a report whose client has gone is dropped
/// with its request, and reports at once are bounded by the threads rather than one
/// blocking thread each.
pub fn spawn_long<F>(job: F) -> tokio::task::JoinHandle<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || runtime.block_on(job))
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The file of a `sqlite://PATH[?options]` URL.
fn sqlite_path(url: &str) -> &str {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
    rest.split_once('?').map_or(rest, |(path, _)| path)
}

impl Db {
    pub async fn connect(url: &str) -> Result<Db> {
        let backend = Backend::from_url(url)?;
        let write_turn: Arc<tokio::sync::Mutex<()>> = Default::default();
        let engine = match backend {
            Backend::Sqlite => {
                let pool = Arc::new(LitePool {
                    path: sqlite_path(url).to_owned(),
                    group: Default::default(),
                    waiting: Default::default(),
                    idle: Default::default(),
                    permits: Arc::new(tokio::sync::Semaphore::new(SQLITE_POOL)),
                    writer: Default::default(),
                });
                // Opened now, so a wrong path fails at start rather than at the first request.
                let first = pool.open()?;
                pool.idle().push(first);
                pool.start_checkpointer(write_turn.clone())?;
                Engine::Sqlite(pool)
            }
            Backend::Postgres => {
                sqlx::any::install_default_drivers();
                // A ping before every checkout would double the round trips of every
                // request; broken connections surface as errors on use and are replaced.
                let options = AnyPoolOptions::new().acquire_timeout(ACQUIRE_TIMEOUT).test_before_acquire(false).max_connections(16);
                Engine::Postgres(options.connect(url).await?)
            }
        };
        Ok(Db { engine, backend, write_turn })
    }

    /// Open and idle connections, for the metrics.
    pub fn pool_stats(&self) -> (usize, usize) {
        match &self.engine {
            Engine::Sqlite(p) => (SQLITE_POOL - p.permits.available_permits(), p.idle().len()),
            Engine::Postgres(p) => (p.size() as usize, p.num_idle()),
        }
    }

    pub async fn close(&self) {
        match &self.engine {
            Engine::Sqlite(p) => {
                p.permits.close();
                p.idle().clear();
                p.writer_slot().take();
            }
            Engine::Postgres(p) => p.close().await,
        }
    }

    async fn turn(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match self.backend {
            Backend::Sqlite => Some(self.write_turn.clone().lock_owned().await),
            Backend::Postgres => None,
        }
    }

    /// Renders a statement for this engine.
    pub fn sql<S: QueryStatementBuilder>(&self, stmt: &S) -> (String, Values) {
        match self.backend {
            Backend::Sqlite => stmt.build_any(&SqliteQueryBuilder),
            Backend::Postgres => stmt.build_any(&PostgresQueryBuilder),
        }
    }

    /// A sea-query statement as a [`Query`].
    pub fn stmt<S: QueryStatementBuilder>(&self, stmt: &S) -> Result<Query<'static>> {
        let (sql, values) = self.sql(stmt);
        Ok(Query { sql: sql.into(), args: values.0.into_iter().map(val_of).collect::<Result<_>>()? })
    }

    /// Starts a write transaction. SQLite must take its write lock up front: a deferred
    /// transaction that reads first and writes later fails instead of waiting its turn.
    pub async fn begin(&self) -> Result<Tx> {
        self.begin_in_group(false).await
    }

    /// [`Db::begin`] for a long batch (an import's): on SQLite it commits the transactions
    /// waiting for a group first, so they do not wait for the batch ([`Group`]).
    pub async fn begin_batch(&self) -> Result<Tx> {
        self.begin_in_group(true).await
    }

    async fn begin_in_group(&self, alone: bool) -> Result<Tx> {
        Ok(match &self.engine {
            Engine::Sqlite(p) => {
                let turn = {
                    // Counted while it waits, also when the waiting request is cancelled.
                    struct Waiting<'a>(&'a std::sync::atomic::AtomicUsize);
                    impl Drop for Waiting<'_> {
                        fn drop(&mut self) {
                            self.0.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
                        }
                    }
                    p.waiting.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
                    let _waiting = Waiting(&p.waiting);
                    self.write_turn.clone().lock_owned().await
                };
                let mut lite = p.acquire_writer()?;
                p.begin_on(&mut lite, alone)?;
                Tx { conn: Conn(ConnKind::Sqlite(lite)), _turn: Some(turn), write_turn: self.write_turn.clone() }
            }
            Engine::Postgres(p) => Tx { conn: Conn(ConnKind::PostgresTx(p.begin().await?)), _turn: None, write_turn: self.write_turn.clone() },
        })
    }

    /// A read-only transaction that sees one moment of the data however long it reads (an
    /// archive of a live workspace). SQLite's deferred transaction takes its snapshot at the
    /// first read and does not hold the write turn.
    pub async fn read_snapshot(&self) -> Result<Tx> {
        Ok(match &self.engine {
            Engine::Sqlite(p) => {
                let lite = p.acquire().await?;
                lite.batch("BEGIN")?;
                Tx { conn: Conn(ConnKind::Sqlite(lite)), _turn: None, write_turn: self.write_turn.clone() }
            }
            Engine::Postgres(p) => Tx { conn: Conn(ConnKind::PostgresTx(p.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await?)), _turn: None, write_turn: self.write_turn.clone() },
        })
    }

    /// A connection for one write outside a transaction. On SQLite it holds the write turn
    /// too, so the write queues behind a long transaction (an import batch) instead of
    /// polling SQLite's lock until the busy timeout gives up.
    pub async fn writer(&self) -> Result<Writer> {
        let turn = self.turn().await;
        let conn = match &self.engine {
            Engine::Sqlite(p) => {
                let lite = p.acquire_writer()?;
                // Its statements commit on their own: the group before it is committed first.
                let _ = p.finish_group(lite.conn()?, None);
                Conn(ConnKind::Sqlite(lite))
            }
            Engine::Postgres(p) => Conn(ConnKind::Postgres(p.acquire().await?)),
        };
        Ok(Writer { conn, _turn: turn })
    }

    pub async fn fetch_all<S: QueryStatementBuilder>(&self, stmt: &S) -> Result<Vec<Row>> {
        self.stmt(stmt)?.fetch_all(self).await
    }

    pub async fn fetch_optional<S: QueryStatementBuilder>(&self, stmt: &S) -> Result<Option<Row>> {
        self.stmt(stmt)?.fetch_optional(self).await
    }

    pub async fn execute<S: QueryStatementBuilder>(&self, stmt: &S) -> Result<u64> {
        Ok(self.stmt(stmt)?.execute(&mut *self.writer().await?).await?.rows_affected())
    }

    pub async fn tx_fetch_all<S: QueryStatementBuilder>(&self, tx: &mut Tx, stmt: &S) -> Result<Vec<Row>> {
        self.stmt(stmt)?.fetch_all(&mut **tx).await
    }

    pub async fn tx_fetch_optional<S: QueryStatementBuilder>(&self, tx: &mut Tx, stmt: &S) -> Result<Option<Row>> {
        self.stmt(stmt)?.fetch_optional(&mut **tx).await
    }

    pub async fn tx_execute<S: QueryStatementBuilder>(&self, tx: &mut Tx, stmt: &S) -> Result<u64> {
        Ok(self.stmt(stmt)?.execute(&mut **tx).await?.rows_affected())
    }

    /// A consistent copy of a live SQLite database: VACUUM INTO reads one snapshot while
    /// the server keeps running.
    pub async fn backup_sqlite(&self, path: &str) -> Result<()> {
        if self.backend != Backend::Sqlite {
            return Err(Error::conflict("not_sqlite", "only SQLite databases are copied by Accord; use pg_dump for PostgreSQL"));
        }
        query("VACUUM INTO $1").bind(path).execute(self).await?;
        Ok(())
    }

    pub async fn ping(&self) -> Result<()> {
        query("SELECT 1").execute(self).await?;
        Ok(())
    }
}

pub fn get_i64(row: &Row, col: &str) -> Result<i64> {
    row.try_get(col)
}

pub fn get_opt_i64(row: &Row, col: &str) -> Result<Option<i64>> {
    row.try_get(col)
}

pub fn get_str(row: &Row, col: &str) -> Result<String> {
    row.try_get(col)
}

pub fn get_opt_str(row: &Row, col: &str) -> Result<Option<String>> {
    row.try_get(col)
}

pub fn parse_json(s: Option<String>) -> Result<serde_json::Value> {
    Ok(match s {
        Some(s) => serde_json::Value::from_str(&s)?,
        None => serde_json::Value::Null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn scratch() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Db::connect(&format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display())).await.expect("connect");
        (dir, db)
    }

    #[tokio::test]
    async fn numbered_and_positional_parameters_bind_by_number() {
        let (_dir, db) = scratch().await;
        let row = query("SELECT $2 AS b, $1 AS a, $2 || 'x' AS c").bind(1i64).bind("two").fetch_one(&db).await.expect("row");
        assert_eq!(row.try_get::<String, _>("b").expect("b"), "two");
        assert_eq!(row.try_get::<i64, _>("a").expect("a"), 1);
        assert_eq!(row.try_get::<String, _>("c").expect("c"), "twox");
        let row = query("SELECT ? AS a, ? AS b").bind(None::<i64>).bind(2.5f64).fetch_one(&db).await.expect("row");
        assert_eq!(row.try_get::<Option<i64>, _>("a").expect("a"), None);
        assert_eq!(row.try_get::<f64, _>(1usize).expect("b"), 2.5);
        assert!(row.try_get::<i64, _>("b").is_err(), "2.5 is not an integer");
        assert!(row.try_get::<i64, _>("a").is_err(), "null is not an integer");
    }

    #[tokio::test]
    async fn a_dropped_transaction_rolls_back_and_its_connection_is_reused() {
        let (_dir, db) = scratch().await;
        query("CREATE TABLE t (x INTEGER)").execute(&db).await.expect("create");
        let mut tx = db.begin().await.expect("begin");
        query("INSERT INTO t VALUES (1)").execute(&mut *tx).await.expect("insert");
        drop(tx);
        let mut tx = db.begin().await.expect("begin again: the write turn and the connection were given back");
        let done = query("INSERT INTO t VALUES (2), (3)").execute(&mut *tx).await.expect("insert");
        assert_eq!(done.rows_affected(), 2);
        tx.commit().await.expect("commit");
        let n = query("SELECT COUNT(*) AS n FROM t").fetch_one(&db).await.expect("count");
        assert_eq!(n.try_get::<i64, _>("n").expect("n"), 2);
    }

    /// A batch is a transaction of its own: dropped, it leaves nothing behind, and the
    /// transactions after it (in groups again) are unaffected.
    #[tokio::test]
    async fn a_batch_commits_or_rolls_back_alone() {
        let (_dir, db) = scratch().await;
        query("CREATE TABLE t (x INTEGER)").execute(&db).await.expect("create");
        let mut batch = db.begin_batch().await.expect("batch");
        query("INSERT INTO t VALUES (1)").execute(&mut *batch).await.expect("insert");
        drop(batch);
        let mut batch = db.begin_batch().await.expect("batch again");
        query("INSERT INTO t VALUES (2)").execute(&mut *batch).await.expect("insert");
        batch.commit().await.expect("commit");
        let mut tx = db.begin().await.expect("begin");
        query("INSERT INTO t VALUES (3)").execute(&mut *tx).await.expect("insert");
        tx.commit().await.expect("commit");
        let rows: Vec<i64> = query("SELECT x FROM t ORDER BY x").fetch_all(&db).await.expect("rows").iter().map(|r| r.try_get("x").expect("x")).collect();
        assert_eq!(rows, [2, 3]);
    }

    /// Transactions ending while others wait commit in groups: each commit returns once its
    /// rows are there for every reader, and one that fails takes only its own rows with it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn transactions_commit_in_groups_and_fail_alone() {
        let (_dir, db) = scratch().await;
        query("CREATE TABLE t (x INTEGER)").execute(&db).await.expect("create");
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..200_i64 {
            let db = db.clone();
            tasks.spawn(async move {
                let mut tx = db.begin().await.expect("begin");
                query("INSERT INTO t VALUES ($1)").bind(i).execute(&mut *tx).await.expect("insert");
                if i % 5 == 0 {
                    return; // dropped: an error or a cancelled request
                }
                tx.commit().await.expect("commit");
                let seen = query("SELECT COUNT(*) AS n FROM t WHERE x = $1").bind(i).fetch_one(&db).await.expect("read");
                assert_eq!(seen.try_get::<i64, _>("n").expect("n"), 1, "row {i} is committed when its commit returns");
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.expect("task");
        }
        let rows = query("SELECT x FROM t ORDER BY x").fetch_all(&db).await.expect("rows");
        let got: Vec<i64> = rows.iter().map(|r| r.try_get("x").expect("x")).collect();
        assert_eq!(got, (0..200).filter(|i| i % 5 != 0).collect::<Vec<_>>());
    }

    /// A transaction that joined a group whose next writer never came (its request was
    /// cancelled while it waited) commits the group itself.
    #[tokio::test]
    async fn a_member_commits_its_group_when_no_writer_comes() {
        let (_dir, db) = scratch().await;
        query("CREATE TABLE t (x INTEGER)").execute(&db).await.expect("create");
        let Engine::Sqlite(pool) = &db.engine else { unreachable!("scratch databases are SQLite") };
        pool.waiting.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        let mut tx = db.begin().await.expect("begin");
        query("INSERT INTO t VALUES (1)").execute(&mut *tx).await.expect("insert");
        tx.commit().await.expect("commit");
        pool.waiting.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
        let n = query("SELECT COUNT(*) AS n FROM t").fetch_one(&db).await.expect("count");
        assert_eq!(n.try_get::<i64, _>("n").expect("n"), 1);
        assert!(pool.group().opened_at.is_none(), "no transaction is left open");
    }

    #[tokio::test]
    async fn a_long_log_is_copied_synced_and_started_over() {
        let (_dir, db) = scratch().await;
        query("CREATE TABLE t (x BLOB)").execute(&db).await.expect("create");
        // Some 1,200 pages, past the length at which the checkpointer finishes the log.
        for _ in 0..300 {
            query("INSERT INTO t VALUES (randomblob(16000))").execute(&db).await.expect("insert");
        }
        let Engine::Sqlite(pool) = &db.engine else { unreachable!("scratch databases are SQLite") };
        let conn = pool.open().expect("open");
        conn.execute_batch(CHECKPOINT_READER_WAIT).expect("reader wait");
        let mut checkpointer = Checkpointer { conn, write_turn: db.write_turn.clone(), restarted_at: None };
        // The server's own checkpointer may hold the checkpoint lock for a moment.
        let pool = pool.clone();
        let checkpointer = tokio::task::spawn_blocking(move || {
            for _ in 0..10 {
                checkpointer.pass(&pool).expect("checkpoint");
                if checkpointer.restarted_at.is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            checkpointer
        })
        .await
        .expect("checkpointer");
        assert!(checkpointer.restarted_at.is_some_and(|frames| frames >= CHECKPOINT_FINISH_FRAMES), "{:?}", checkpointer.restarted_at);
        query("INSERT INTO t VALUES (1)").execute(&db).await.expect("insert");
        let (_, frames) = checkpointer.checkpoint("PASSIVE").expect("checkpoint");
        assert!(frames < 10, "the next write started the log over: {frames} frames");
        let n = query("SELECT COUNT(*) AS n FROM t").fetch_one(&db).await.expect("count");
        assert_eq!(n.try_get::<i64, _>("n").expect("n"), 301);
    }
}
