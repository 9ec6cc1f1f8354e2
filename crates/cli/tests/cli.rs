//! The binary as an operator uses it: commands, configuration sources, backup, demo.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn accord() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_accord"));
    for (k, _) in std::env::vars() {
        if k.starts_with("ACCORD_") {
            c.env_remove(k);
        }
    }
    c.env("ACCORD_LOG", "warn");
    c
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("accord-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn run_with_stdin(mut cmd: Command, input: &str) -> Output {
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write");
    child.wait_with_output().expect("wait")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn help_explains_every_command() {
    let o = accord().arg("--help").output().expect("help");
    let t = text(&o);
    for cmd in ["serve", "migrate", "user", "demo", "import", "export", "backup", "backup-workspace", "restore-workspace"] {
        assert!(t.contains(cmd), "{cmd} missing in:\n{t}");
    }
    let t = text(&accord().args(["serve", "--help"]).output().expect("help"));
    for opt in ["--bind", "--data-dir", "--database-url", "--demo", "ACCORD_BIND", "ACCORD_DATABASE_URL", "--config"] {
        assert!(t.contains(opt), "{opt} missing in:\n{t}");
    }
}

fn create_user(dir: &Path, email: &str, password: &str) -> Output {
    let mut c = accord();
    c.args(["user", "create", "--data-dir"]).arg(dir).args(["--email", email, "--password-stdin", "--workspace", "Acme", "--role", "owner"]);
    run_with_stdin(c, &format!("{password}\n"))
}

#[test]
fn users_from_the_command_line() {
    let dir = temp_dir("users");
    let o = create_user(&dir, "boss@example.com", "a long password");
    assert!(o.status.success(), "{}", text(&o));
    let again = create_user(&dir, "BOSS@example.com", "a long password");
    assert!(!again.status.success(), "the same e-mail twice must fail");
    assert!(text(&again).contains("exists"), "{}", text(&again));
    let short = create_user(&dir, "x@example.com", "short");
    assert!(!short.status.success() && text(&short).contains("password"), "{}", text(&short));
    let mut reset = accord();
    reset.args(["user", "reset-password", "--data-dir"]).arg(&dir).args(["--email", "boss@example.com", "--password-stdin"]);
    let o = run_with_stdin(reset, "another long password\n");
    assert!(o.status.success(), "{}", text(&o));
    let bad_role = {
        let mut c = accord();
        c.args(["user", "create", "--data-dir"]).arg(&dir).args(["--email", "y@example.com", "--password-stdin", "--workspace", "Acme", "--role", "king"]);
        run_with_stdin(c, "a long password\n")
    };
    assert!(!bad_role.status.success() && text(&bad_role).contains("unknown role"));
}

/// `accord import` writes a file with a progress bar, naming the rows that fail; `--dry-run`
/// writes nothing;
/// `accord export` writes the workspace's records back out, formulas neutralized.
#[test]
fn import_and_export_from_the_command_line() {
    let dir = temp_dir("import");
    assert!(create_user(&dir, "boss@example.com", "a long password").status.success());
    let file = dir.join("people.csv");
    std::fs::write(&file, "First Name;Last Name;E-mail;Note\nIvan;Petrov;ivan@example.ru;=SUM(A1)\nOlga;Smirnova;not-an-email;\n").unwrap();
    let import = |extra: &[&str]| {
        let mut c = accord();
        c.args(["import", "--data-dir"]).arg(&dir).args(["--workspace", "Acme", "--entity", "contacts"]).args(extra).arg(&file);
        c.output().expect("import")
    };
    let dry = import(&["--dry-run", "--map", "Note=description"]);
    let t = text(&dry);
    assert!(dry.status.success(), "{t}");
    assert!(t.contains("check: 1 created, 0 updated, 0 skipped, 1 failed"), "{t}");
    assert!(t.contains("line 3") && t.contains("[E-mail]"), "the failing row is named: {t}");
    assert!(t.contains("dry run: nothing written"), "{t}");
    let real = import(&["--map", "Note=description"]);
    let t = text(&real);
    assert!(real.status.success() && t.contains("import: 1 created, 0 updated, 0 skipped, 1 failed"), "{t}");
    assert!(t.contains("line 3") && t.contains("[E-mail]") && !t.contains("check:"), "the run names the failing row itself: {t}");
    let again = import(&[]);
    assert!(text(&again).contains("import: 0 created, 1 updated"), "the second time the e-mail matches: {}", text(&again));

    let out = dir.join("contacts.csv");
    let mut c = accord();
    c.args(["export", "--data-dir"]).arg(&dir).args(["--workspace", "Acme", "--entity", "contacts", "--filter", "sort=last_name"]).arg(&out);
    let o = c.output().expect("export");
    assert!(o.status.success(), "{}", text(&o));
    let csv = std::fs::read_to_string(&out).unwrap();
    assert!(csv.starts_with('\u{feff}'), "a BOM so that Excel reads UTF-8");
    assert!(csv.contains("Petrov") && csv.contains("'=SUM(A1)"), "{csv}");
    let mut bad = accord();
    bad.args(["export", "--data-dir"]).arg(&dir).args(["--workspace", "Acme", "--entity", "contacts", "--filter", "nope=1"]).arg(dir.join("x.csv"));
    let o = bad.output().expect("export");
    assert!(!o.status.success() && text(&o).contains("nope"), "{}", text(&o));
}

/// Exported rows without their first column (the id, which a restore renews), sorted.
fn export_without_ids(dir: &Path, workspace: &str, entity: &str) -> Vec<String> {
    let out = dir.join(format!("{entity}.csv"));
    let mut c = accord();
    c.args(["export", "--data-dir"])
        .arg(dir)
        .args(["--workspace", workspace, "--entity", entity])
        .arg(&out);
    let o = c.output().expect("export");
    assert!(o.status.success(), "{}", text(&o));
    let mut reader = csv::Reader::from_path(&out).unwrap();
    let mut rows: Vec<String> = reader
        .records()
        .map(|r| r.unwrap().iter().skip(1).collect::<Vec<_>>().join("|"))
        .collect();
    rows.sort();
    rows
}

#[test]
fn workspace_archive_into_another_install() {
    let (from, to) = (temp_dir("archive-from"), temp_dir("archive-to"));
    let o = accord().args(["demo", "--data-dir"]).arg(&from).output().expect("demo");
    assert!(o.status.success(), "{}", text(&o));
    let archive = from.join("demo.zip");
    let archive_command = |command: &str, dir: &Path, workspace: &str| accord().args([command, "--data-dir"]).arg(dir).args(["--workspace", workspace]).arg(&archive).output().expect(command);
    let o = archive_command("backup-workspace", &from, "Демо");
    assert!(o.status.success() && text(&o).contains("rows in"), "{}", text(&o));
    assert!(!archive_command("backup-workspace", &from, "Демо").status.success(), "an archive is never overwritten");

    let o = archive_command("restore-workspace", &to, "Копия");
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("has no password yet: accord user reset-password"), "members new to this install are named: {t}");
    for entity in ["contacts", "companies", "deals", "tasks", "activities"] {
        let (a, b) = (export_without_ids(&from, "Демо", entity), export_without_ids(&to, "Копия", entity));
        assert!(a.len() > 10, "{entity}: the demo has some");
        assert_eq!(a, b, "{entity} differ");
    }
    let o = archive_command("restore-workspace", &to, "Копия");
    assert!(!o.status.success() && text(&o).contains("empty workspace"), "{}", text(&o));
}

#[test]
fn configuration_file_environment_and_flags() {
    let root = temp_dir("config");
    let (from_file, from_env, from_flag, from_secret) = (root.join("file"), root.join("env"), root.join("flag"), root.join("secret"));
    let config = root.join("accord.toml");
    std::fs::write(&config, format!("data_dir = {:?}\n", from_file.display().to_string())).expect("config");
    let migrate = |extra: &dyn Fn(&mut Command)| {
        let mut c = accord();
        c.arg("migrate").arg("--config").arg(&config);
        extra(&mut c);
        let o = c.output().expect("migrate");
        assert!(o.status.success(), "{}", text(&o));
    };
    migrate(&|_| {});
    assert!(from_file.join("accord.db").exists(), "the file sets the data folder");
    migrate(&|c| {
        c.env("ACCORD_DATA_DIR", &from_env);
    });
    assert!(from_env.join("accord.db").exists(), "the environment wins over the file");
    migrate(&|c| {
        c.env("ACCORD_DATA_DIR", &from_env).arg("--data-dir").arg(&from_flag);
    });
    assert!(from_flag.join("accord.db").exists(), "a flag wins over the environment");
    let secret = root.join("url.txt");
    std::fs::write(&secret, format!("sqlite://{}/accord.db\n", from_secret.display())).expect("secret");
    std::fs::create_dir_all(&from_secret).expect("dir");
    migrate(&|c| {
        c.env("ACCORD_DATABASE_URL_FILE", &secret);
    });
    assert!(from_secret.join("accord.db").exists(), "*_FILE variables carry secrets");
    let o = accord().args(["migrate", "--database-url", "mysql://nope"]).output().expect("migrate");
    assert!(!o.status.success() && text(&o).contains("sqlite://"), "{}", text(&o));
}

#[test]
fn backup_of_a_live_database() {
    let dir = temp_dir("backup");
    assert!(create_user(&dir, "boss@example.com", "a long password").status.success());
    let copy = dir.join("copy.db");
    let o = accord().args(["backup", "--data-dir"]).arg(&dir).arg(&copy).output().expect("backup");
    assert!(o.status.success(), "{}", text(&o));
    // The copy is a working Accord database with the same user.
    let o = create_user(&dir, "boss@example.com", "a long password");
    assert!(!o.status.success());
    let restored = dir.join("restored");
    std::fs::create_dir_all(&restored).expect("dir");
    std::fs::copy(&copy, restored.join("accord.db")).expect("copy");
    let o = create_user(&restored, "boss@example.com", "a long password");
    assert!(text(&o).contains("exists"), "the backup holds the user: {}", text(&o));
    let again = accord().args(["backup", "--data-dir"]).arg(&dir).arg(&copy).output().expect("backup");
    assert!(!again.status.success(), "never overwrites");
    let pg = accord().args(["backup", "--database-url", "postgres://u:secret@localhost/db", "x.db"]).output().expect("backup");
    let t = text(&pg);
    assert!(!pg.status.success() && t.contains("pg_dump") && !t.contains("secret"), "{t}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_with_demo_data() {
    let dir = temp_dir("demo");
    let mut child = accord().args(["serve", "--demo", "--bind", "127.0.0.1:0", "--data-dir"]).arg(&dir).env("ACCORD_LOG", "info").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("serve");
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let printed: Vec<String> = stdout.lines().map_while(Result::ok).take_while(|l| !l.contains("auditor@")).collect();
    assert!(printed.iter().any(|l| l.contains("owner@example.com")), "{printed:?}");
    let stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let addr = stderr.lines().map_while(Result::ok).find_map(|l| l.split("listening on http://").nth(1).map(|a| a.trim().to_owned())).expect("listening line");
    let base = format!("http://{addr}");
    let http = reqwest::Client::builder().cookie_store(true).build().expect("client");
    let me: Value = http.post(format!("{base}/api/v1/auth/login")).json(&json!({"email": "owner@example.com", "password": "demo-password"})).send().await.expect("login").json().await.expect("json");
    assert_eq!(me["workspace_name"], "Демо");
    for (path, at_least) in [("contacts", 300), ("companies", 80), ("products", 10), ("deals", 450), ("leads", 50), ("activities", 300), ("tasks", 100), ("deals?status=won", 50), ("deals?status=lost", 50), ("deals?status=open", 50)] {
        let path = if path.contains('?') { format!("{path}&") } else { format!("{path}?") };
        let page: Value = http.get(format!("{base}/api/v1/{path}count=true&limit=1")).send().await.expect("list").json().await.expect("json");
        assert!(page["count"].as_i64().expect("count") >= at_least, "{path}: {page}");
    }
    let users: Value = http.get(format!("{base}/api/v1/users")).send().await.expect("users").json().await.expect("json");
    let roles: std::collections::HashSet<&str> = users.as_array().expect("users").iter().filter_map(|u| u["role"].as_str()).collect();
    assert!(roles.len() >= 4, "{roles:?}");
    let teams: Value = http.get(format!("{base}/api/v1/teams")).send().await.expect("teams").json().await.expect("json");
    assert_eq!(teams.as_array().expect("teams").len(), 2);
    let _ = child.kill();
    let _ = child.wait();
}

/// Starts `accord serve` on a free port and returns the process and its base URL.
fn serve(dir: &Path) -> (std::process::Child, String) {
    let mut child = accord().args(["serve", "--bind", "127.0.0.1:0", "--data-dir"]).arg(dir).env("ACCORD_LOG", "info").stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("serve");
    let stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut lines = stderr.lines().map_while(Result::ok);
    let addr = lines.find_map(|l| l.split("listening on http://").nth(1).map(|a| a.trim().to_owned())).expect("listening line");
    // Keep reading so the server never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, format!("http://{addr}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminders_due_while_down_arrive_once_after_restart() {
    let dir = temp_dir("reminders");
    assert!(create_user(&dir, "rem@example.com", "reminder-pass-1").status.success());
    let (mut first, base) = serve(&dir);
    let http = reqwest::Client::builder().cookie_store(true).build().expect("client");
    let me: Value = http.post(format!("{base}/api/v1/auth/login")).json(&json!({"email": "rem@example.com", "password": "reminder-pass-1"})).send().await.expect("login").json().await.expect("json");
    let csrf = me["csrf_token"].as_str().expect("csrf").to_owned();
    // Due in 62 s with a reminder a minute before: it falls due while the server is down.
    let due = chrono::Utc::now() + chrono::Duration::seconds(62);
    let task = http.post(format!("{base}/api/v1/tasks")).header("x-csrf-token", &csrf).json(&json!({"title": "Позвонить", "due_at": due.to_rfc3339(), "remind_before_minutes": 1})).send().await.expect("task");
    assert_eq!(task.status(), reqwest::StatusCode::CREATED);
    let _ = first.kill();
    let _ = first.wait();
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;

    let (mut second, base) = serve(&dir);
    let http = reqwest::Client::builder().cookie_store(true).build().expect("client");
    http.post(format!("{base}/api/v1/auth/login")).json(&json!({"email": "rem@example.com", "password": "reminder-pass-1"})).send().await.expect("login");
    let mut unread = 0;
    for _ in 0..40 {
        let n: Value = http.get(format!("{base}/api/v1/notifications/unread_count")).send().await.expect("count").json().await.expect("json");
        unread = n["unread_count"].as_i64().expect("count");
        if unread > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert_eq!(unread, 1, "the reminder arrives after the restart");
    // Later rounds of the worker do not deliver it again.
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    let n: Value = http.get(format!("{base}/api/v1/notifications")).send().await.expect("list").json().await.expect("json");
    assert_eq!(n["data"].as_array().expect("data").len(), 1, "{n}");
    let _ = second.kill();
    let _ = second.wait();
}

/// The web app's browser tests (`web/e2e`: Playwright driving Debian's Chromium) against this
/// build of the binary, so that the README's one test command runs them too.
#[test]
fn web_app_in_a_real_browser() {
    let chromium = std::env::var("ACCORD_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web");
    if !Path::new(&chromium).exists() {
        println!("SKIP browser tests: no Chromium at {chromium} (apt-get install chromium, or set ACCORD_CHROMIUM)");
        return;
    }
    if !web.join("node_modules/@playwright/test").exists() {
        println!("SKIP browser tests: the web app's packages are not installed (Node.js missing when Accord was built?)");
        return;
    }
    let status = Command::new("npx").args(["playwright", "test"]).current_dir(&web).env("ACCORD_BIN", env!("CARGO_BIN_EXE_accord")).status().expect("npx runs");
    assert!(status.success(), "the browser tests failed (web/e2e); see the report above");
}
