use crate::error::{Error, Result};
use sea_query::{PostgresQueryBuilder, QueryStatementBuilder, SqliteQueryBuilder, Value, Values};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, AssertSqlSafe, Executor};
use std::str::FromStr;
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

/// A write transaction. On SQLite it also holds the process's write turn: writers queue
/// here instead of in SQLite's busy handler, whose sleeps cost throughput and latency.
pub struct Tx {
    inner: sqlx::Transaction<'static, Any>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Tx {
    pub async fn commit(self) -> Result<()> {
        self.inner.commit().await?;
        Ok(())
    }
}

impl std::ops::Deref for Tx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.inner
    }
}

/// See [`Db::writer`].
pub struct Writer {
    conn: sqlx::pool::PoolConnection<Any>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl std::ops::Deref for Writer {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &Self::Target {
        &self.conn
    }
}

impl std::ops::DerefMut for Writer {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.conn
    }
}

#[derive(Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    write_turn: std::sync::Arc<tokio::sync::Mutex<()>>,
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// SQLite settings for a concurrent server: WAL so readers never block the writer, a busy
/// timeout for writers of other processes (the CLI), and a page cache per connection sized
/// so the whole pool stays well inside the memory budget (6 × 16 MB).
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
     PRAGMA busy_timeout = 10000; PRAGMA cache_size = -16384; PRAGMA temp_store = MEMORY;";
const SQLITE_POOL: u32 = 6;

impl Db {
    pub async fn connect(url: &str) -> Result<Db> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => format!("{url}{}mode=rwc", if url.contains('?') { "&" } else { "?" }),
            _ => url.to_owned(),
        };
        // A ping before every checkout would double the round trips of every request; broken
        // connections surface as errors on use and are replaced by the pool.
        let mut options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(30)).test_before_acquire(false);
        options = match backend {
            Backend::Sqlite => options.max_connections(SQLITE_POOL).after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute(SQLITE_PRAGMAS).await?;
                    Ok(())
                })
            }),
            Backend::Postgres => options.max_connections(16),
        };
        let pool = options.connect(&url).await?;
        Ok(Db { pool, backend, write_turn: Default::default() })
    }

    /// Renders a statement for this engine.
    pub fn sql<S: QueryStatementBuilder>(&self, stmt: &S) -> (String, Values) {
        match self.backend {
            Backend::Sqlite => stmt.build_any(&SqliteQueryBuilder),
            Backend::Postgres => stmt.build_any(&PostgresQueryBuilder),
        }
    }

    /// Starts a write transaction. SQLite must take its write lock up front: a deferred
    /// transaction that reads first and writes later fails instead of waiting its turn.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(match self.backend {
            Backend::Sqlite => {
                let turn = self.write_turn.clone().lock_owned().await;
                Tx { inner: self.pool.begin_with("BEGIN IMMEDIATE").await?, _turn: Some(turn) }
            }
            Backend::Postgres => Tx { inner: self.pool.begin().await?, _turn: None },
        })
    }

    /// A read-only transaction that sees one moment of the data however long it reads (an
    /// archive of a live workspace). SQLite's deferred transaction takes its snapshot at the
    /// first read and does not hold the write turn.
    pub async fn read_snapshot(&self) -> Result<sqlx::Transaction<'static, Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin().await?,
            Backend::Postgres => self.pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await?,
        })
    }

    /// A connection for one write outside a transaction. On SQLite it holds the write turn
    /// too, so the write queues behind a long transaction (an import batch) instead of
    /// polling SQLite's lock until the busy timeout gives up.
    pub async fn writer(&self) -> Result<Writer> {
        let turn = match self.backend {
            Backend::Sqlite => Some(self.write_turn.clone().lock_owned().await),
            Backend::Postgres => None,
        };
        Ok(Writer { conn: self.pool.acquire().await?, _turn: turn })
    }

    pub async fn fetch_all<S: QueryStatementBuilder>(&self, stmt: &S) -> Result<Vec<AnyRow>> {
        let (sql, values) = self.sql(stmt);
        Ok(bind(sqlx::query(AssertSqlSafe(sql)), values)?.fetch_all(&self.pool).await?)
    }

    pub async fn fetch_optional<S: QueryStatementBuilder>(&self, stmt: &S) -> Result<Option<AnyRow>> {
        let (sql, values) = self.sql(stmt);
        Ok(bind(sqlx::query(AssertSqlSafe(sql)), values)?.fetch_optional(&self.pool).await?)
    }

    pub async fn execute<S: QueryStatementBuilder>(&self, stmt: &S) -> Result<u64> {
        let (sql, values) = self.sql(stmt);
        Ok(bind(sqlx::query(AssertSqlSafe(sql)), values)?.execute(&mut *self.writer().await?).await?.rows_affected())
    }

    pub async fn tx_fetch_all<S: QueryStatementBuilder>(&self, tx: &mut Tx, stmt: &S) -> Result<Vec<AnyRow>> {
        let (sql, values) = self.sql(stmt);
        Ok(bind(sqlx::query(AssertSqlSafe(sql)), values)?.fetch_all(&mut **tx).await?)
    }

    pub async fn tx_fetch_optional<S: QueryStatementBuilder>(&self, tx: &mut Tx, stmt: &S) -> Result<Option<AnyRow>> {
        let (sql, values) = self.sql(stmt);
        Ok(bind(sqlx::query(AssertSqlSafe(sql)), values)?.fetch_optional(&mut **tx).await?)
    }

    pub async fn tx_execute<S: QueryStatementBuilder>(&self, tx: &mut Tx, stmt: &S) -> Result<u64> {
        let (sql, values) = self.sql(stmt);
        Ok(bind(sqlx::query(AssertSqlSafe(sql)), values)?.execute(&mut **tx).await?.rows_affected())
    }

    /// Inserts and returns the new row's id (`RETURNING id` works on both engines).
    pub async fn tx_insert_id(&self, tx: &mut Tx, stmt: &sea_query::InsertStatement) -> Result<i64> {
        let mut stmt = stmt.clone();
        stmt.returning_col(sea_query::Alias::new("id"));
        let row = self.tx_fetch_optional(tx, &stmt).await?.ok_or_else(|| Error::Corrupt("insert returned no id".into()))?;
        get_i64(&row, "id")
    }

    /// A consistent copy of a live SQLite database: VACUUM INTO reads one snapshot while
    /// the server keeps running.
    pub async fn backup_sqlite(&self, path: &str) -> Result<()> {
        if self.backend != Backend::Sqlite {
            return Err(Error::conflict("not_sqlite", "only SQLite databases are copied by Accord; use pg_dump for PostgreSQL"));
        }
        sqlx::query(AssertSqlSafe(format!("VACUUM INTO '{}'", path.replace('\'', "''")))).execute(&self.pool).await?;
        Ok(())
    }

    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

type AnyQuery<'q> = sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>;

fn bind(mut q: AnyQuery<'_>, values: Values) -> Result<AnyQuery<'_>> {
    for v in values.0 {
        q = match v {
            Value::Bool(b) => q.bind(b.map(i64::from)),
            Value::TinyInt(i) => q.bind(i.map(i64::from)),
            Value::SmallInt(i) => q.bind(i.map(i64::from)),
            Value::Int(i) => q.bind(i.map(i64::from)),
            Value::BigInt(i) => q.bind(i),
            Value::TinyUnsigned(i) => q.bind(i.map(i64::from)),
            Value::SmallUnsigned(i) => q.bind(i.map(i64::from)),
            Value::Unsigned(i) => q.bind(i.map(i64::from)),
            Value::BigUnsigned(i) => q.bind(i.map(|u| i64::try_from(u).unwrap_or(i64::MAX))),
            Value::Float(f) => q.bind(f.map(f64::from)),
            Value::Double(f) => q.bind(f),
            Value::String(s) => q.bind(s),
            Value::Char(c) => q.bind(c.map(|c| c.to_string())),
            Value::Bytes(b) => q.bind(b),
            other => return Err(Error::Corrupt(format!("unsupported parameter type {other:?}"))),
        };
    }
    Ok(q)
}

pub fn get_i64(row: &AnyRow, col: &str) -> Result<i64> {
    use sqlx::Row;
    Ok(row.try_get::<i64, _>(col)?)
}

pub fn get_opt_i64(row: &AnyRow, col: &str) -> Result<Option<i64>> {
    use sqlx::Row;
    Ok(row.try_get::<Option<i64>, _>(col)?)
}

pub fn get_str(row: &AnyRow, col: &str) -> Result<String> {
    use sqlx::Row;
    Ok(row.try_get::<String, _>(col)?)
}

pub fn get_opt_str(row: &AnyRow, col: &str) -> Result<Option<String>> {
    use sqlx::Row;
    Ok(row.try_get::<Option<String>, _>(col)?)
}

pub fn parse_json(s: Option<String>) -> Result<serde_json::Value> {
    Ok(match s {
        Some(s) => serde_json::Value::from_str(&s)?,
        None => serde_json::Value::Null,
    })
}
