use accord_domain::permissions::Role;
use accord_storage::{Db, accounts, migrate};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Declares a test that runs on both engines.
#[macro_export]
macro_rules! both_engines {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::harness::Engine::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if $crate::harness::postgres_url().is_none() {
                        println!("SKIP postgres: ACCORD_TEST_DATABASE_URL is not set");
                        return;
                    }
                    super::$name($crate::harness::Engine::Postgres).await
                }
            }
        )*
    };
}

pub fn postgres_url() -> Option<String> {
    std::env::var("ACCORD_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty())
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique_name() -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    format!("accord_test_{}_{}_{n}", std::process::id(), t % 1_000_000_000)
}

/// A fresh, empty database of the engine, migrated to the latest version.
pub async fn fresh_db(engine: Engine) -> Db {
    fresh_db_at(engine, None).await
}

pub async fn fresh_db_at(engine: Engine, version: Option<i64>) -> Db {
    let name = unique_name();
    let url = match engine {
        Engine::Sqlite => {
            let dir = std::env::temp_dir().join(&name);
            std::fs::create_dir_all(&dir).expect("temp dir");
            format!("sqlite://{}", dir.join("accord.db").display())
        }
        Engine::Postgres => {
            let admin_url = postgres_url().expect("ACCORD_TEST_DATABASE_URL");
            let admin = Db::connect(&admin_url).await.expect("connect to PostgreSQL");
            accord_storage::query(format!("CREATE DATABASE {name}")).execute(&admin).await.expect("create test database");
            admin.close().await;
            let (base, _) = admin_url.rsplit_once('/').expect("database URL has a database name");
            format!("{base}/{name}")
        }
    };
    let db = Db::connect(&url).await.expect("connect");
    migrate::run_to(&db, version).await.expect("migrate");
    db
}

pub struct Server {
    pub base: String,
    pub db: Db,
    pub http: reqwest::Client,
}

pub async fn start(engine: Engine) -> Server {
    // The server's errors show with a failing test's output.
    let _ = tracing_subscriber::fmt().with_test_writer().with_env_filter("warn,sqlx=error").try_init();
    let db = fresh_db(engine).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let state = accord_api::state::AppState { db: db.clone(), config: accord_api::HttpConfig::default(), metrics: accord_api::system::metrics_handle() };
    tokio::spawn(accord_api::serve(listener, state, std::future::pending()));
    Server { base: format!("http://{addr}"), db, http: reqwest::Client::new() }
}

pub const PASSWORD: &str = "correct horse battery";

/// A member of a workspace with an API token.
#[derive(Clone, Debug)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub token: String,
}

pub struct Response {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Response {
    pub fn id(&self) -> i64 {
        self.body["id"].as_i64().unwrap_or_else(|| panic!("no id in {}", self.body))
    }
    pub fn field_errors(&self) -> Vec<String> {
        self.body["errors"].as_array().map(|a| a.iter().filter_map(|e| e["field"].as_str().map(str::to_owned)).collect()).unwrap_or_default()
    }
}

impl Server {
    pub async fn workspace(&self, name: &str) -> i64 {
        accounts::create_workspace(&self.db, name, "RU").await.expect("workspace")
    }

    pub async fn user(&self, workspace_id: i64, role: Role, label: &str) -> User {
        let email = format!("{label}.{}@example.com", unique_name());
        let id = accounts::create_user(&self.db, &email, label, PASSWORD).await.expect("user");
        accounts::add_member(&self.db, workspace_id, id, role).await.expect("member");
        self.token_for(workspace_id, id, &email, "read_write").await
    }

    pub async fn token_for(&self, workspace_id: i64, id: i64, email: &str, scope: &str) -> User {
        let p = accounts::principal_for(&self.db, workspace_id, id).await.expect("principal");
        let (_, token) = accounts::create_token(&self.db, &p, "tests", scope, None).await.expect("token");
        User { id, email: email.to_owned(), token }
    }

    pub async fn team(&self, workspace_id: i64, name: &str, members: &[&User]) -> i64 {
        let ids: Vec<i64> = members.iter().map(|u| u.id).collect();
        accounts::save_team(&self.db, workspace_id, None, name, &ids).await.expect("team").id
    }

    pub async fn call(&self, user: Option<&User>, method: Method, path: &str, body: Option<Value>) -> Response {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(u) = user {
            req = req.bearer_auth(&u.token);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        assert!(!status.is_server_error(), "{path} answered {status}: {body}");
        Response { status, headers, body }
    }

    pub async fn get(&self, user: &User, path: &str) -> Response {
        self.call(Some(user), Method::GET, path, None).await
    }
    pub async fn post(&self, user: &User, path: &str, body: Value) -> Response {
        self.call(Some(user), Method::POST, path, Some(body)).await
    }
    pub async fn patch(&self, user: &User, path: &str, body: Value) -> Response {
        self.call(Some(user), Method::PATCH, path, Some(body)).await
    }
    pub async fn delete(&self, user: &User, path: &str) -> Response {
        self.call(Some(user), Method::DELETE, path, None).await
    }

    /// Creates a contact and returns its id, failing the test on anything but 201.
    pub async fn contact(&self, user: &User, body: Value) -> i64 {
        let r = self.post(user, "/api/v1/contacts?allow_duplicates=true", body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.id()
    }

    pub async fn company(&self, user: &User, body: Value) -> i64 {
        let r = self.post(user, "/api/v1/companies?allow_duplicates=true", body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.id()
    }

    /// Every id of a list, following cursors to the end.
    pub async fn all_ids(&self, user: &User, path: &str) -> Vec<i64> {
        let mut ids = Vec::new();
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut cursor: Option<String> = None;
        loop {
            let url = match &cursor {
                Some(c) => format!("{path}{sep}cursor={c}"),
                None => path.to_owned(),
            };
            let r = self.get(user, &url).await;
            assert_eq!(r.status, StatusCode::OK, "{url}: {}", r.body);
            ids.extend(r.body["data"].as_array().expect("data").iter().map(|x| x["id"].as_i64().expect("id")));
            match r.body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return ids,
            }
            assert!(ids.len() < 100_000, "pagination does not end");
        }
    }

    pub async fn count_rows(&self, table: &str) -> i64 {
        let row = accord_storage::query(format!("SELECT COUNT(*) AS n FROM {table}")).fetch_one(&self.db).await.expect("count");
        row.try_get::<i64, _>("n").expect("n")
    }
}

