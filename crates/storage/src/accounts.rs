//! Workspaces, users, memberships, teams, role policies, sessions, API tokens, sign-in
//! throttling and invitations. All state lives in the database, so any number of Accord
//! instances can serve one PostgreSQL database.
use crate::db::{Db, Row, get_i64, get_opt_i64, get_opt_str, get_str, query};
use crate::error::{Error, Result};
use crate::now_ms;
use accord_domain::ValidationErrors;
use accord_domain::permissions::{Policy, Role, Scope, Viewer};
use argon2::password_hash::SaltString;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use base64::Engine;
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

const DAY_MS: i64 = 86_400_000;
pub const SESSION_TTL_MS: i64 = 12 * 3_600_000;
pub const REMEMBER_TTL_MS: i64 = 30 * DAY_MS;
const INVITATION_TTL_MS: i64 = 7 * DAY_MS;
/// Sign-in throttling: this many failures inside the window lock the key until the oldest
/// failure leaves the window.
const THROTTLE_WINDOW_MS: i64 = 15 * 60_000;
const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
const MAX_FAILURES_PER_ADDRESS: i64 = 20;
pub const MIN_PASSWORD_CHARS: usize = 10;

pub fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// Tokens are long random strings, so a fast hash is enough to store them safely.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

pub async fn hash_password(password: &str) -> Result<String> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        let salt = SaltString::encode_b64(&bytes).map_err(|e| Error::Corrupt(format!("salt: {e}")))?;
        Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| Error::Corrupt(format!("password hashing failed: {e}")))
    })
    .await
    .map_err(|e| Error::Corrupt(e.to_string()))?
}

async fn verify_password(password: &str, hash: &str) -> bool {
    let (password, hash) = (password.to_owned(), hash.to_owned());
    tokio::task::spawn_blocking(move || PasswordHash::new(&hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())).await.unwrap_or(false)
}

pub fn check_password_strength(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ValidationErrors::single("password", "too_short", format!("must be at least {MIN_PASSWORD_CHARS} characters")).into());
    }
    if password.len() > 1024 {
        return Err(ValidationErrors::single("password", "too_long", "must be at most 1024 bytes").into());
    }
    Ok(())
}

pub fn normalize_login_email(email: &str) -> Result<String> {
    accord_domain::email::normalize(email).map(|e| accord_domain::text::fold(&e)).map_err(|e| ValidationErrors::single("email", e.code, e.message).into())
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserInfo {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub locale: String,
    pub time_zone: String,
}

/// An authenticated caller: the user, the workspace they act in, and what they may see.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: UserInfo,
    pub workspace_id: i64,
    pub workspace_name: String,
    pub region: String,
    pub viewer: Viewer,
    pub session_id: Option<i64>,
    pub csrf_token: Option<String>,
    pub token_id: Option<i64>,
}

impl Principal {
    pub fn role(&self) -> Role {
        self.viewer.role
    }
    pub fn require_admin(&self) -> Result<()> {
        if self.viewer.role.is_admin() && !self.viewer.read_only_token { Ok(()) } else { Err(Error::Forbidden("only workspace owners and admins may do this")) }
    }
}

// ---------------------------------------------------------------- workspaces and users

pub async fn find_workspace(db: &Db, name: &str) -> Result<Option<i64>> {
    let row = query("SELECT id FROM workspaces WHERE name = $1").bind(name).fetch_optional(db).await?;
    row.map(|r| get_i64(&r, "id")).transpose()
}

pub async fn create_workspace(db: &Db, name: &str, region: &str) -> Result<i64> {
    let name = accord_domain::text::short(name).ok().flatten().ok_or_else(|| Error::from(ValidationErrors::single("workspace", "required", "a workspace needs a name")))?;
    accord_domain::phone::region(region).map_err(|e| ValidationErrors::single("region", e.code, e.message))?;
    let row = query("INSERT INTO workspaces (name, region, base_currency, trash_retention_days, created_at) VALUES ($1, $2, 'RUB', 30, $3) RETURNING id")
        .bind(name)
        .bind(region.to_ascii_uppercase())
        .bind(now_ms())
        .fetch_one(db)
        .await?;
    crate::sales::seed_defaults(db).await?;
    get_i64(&row, "id")
}

pub async fn find_user(db: &Db, email: &str) -> Result<Option<i64>> {
    let email = normalize_login_email(email)?;
    let row = query("SELECT id FROM users WHERE email = $1").bind(email).fetch_optional(db).await?;
    row.map(|r| get_i64(&r, "id")).transpose()
}

pub async fn create_user(db: &Db, email: &str, name: &str, password: &str) -> Result<i64> {
    let email = normalize_login_email(email)?;
    check_password_strength(password)?;
    if find_user(db, &email).await?.is_some() {
        return Err(Error::conflict("user_exists", format!("a user with e-mail {email} exists")));
    }
    let name = accord_domain::text::short(name).ok().flatten().unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_owned());
    let hash = hash_password(password).await?;
    let row = query("INSERT INTO users (email, name, password_hash, locale, time_zone, created_at) VALUES ($1, $2, $3, 'ru', 'Europe/Moscow', $4) RETURNING id")
        .bind(email)
        .bind(name)
        .bind(hash)
        .bind(now_ms())
        .fetch_one(db)
        .await?;
    get_i64(&row, "id")
}

pub async fn add_member(db: &Db, workspace_id: i64, user_id: i64, role: Role) -> Result<()> {
    query("INSERT INTO memberships (workspace_id, user_id, role, active, created_at) VALUES ($1, $2, $3, 1, $4)")
        .bind(workspace_id)
        .bind(user_id)
        .bind(role.as_str())
        .bind(now_ms())
        .execute(&mut *db.writer().await?)
        .await?;
    Ok(())
}

/// Sets a new password and ends every session of the user except `keep_session`.
pub async fn set_password(db: &Db, user_id: i64, password: &str, keep_session: Option<i64>) -> Result<()> {
    check_password_strength(password)?;
    let hash = hash_password(password).await?;
    let mut tx = db.begin().await?;
    query("UPDATE users SET password_hash = $1 WHERE id = $2").bind(hash).bind(user_id).execute(&mut *tx).await?;
    query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2").bind(user_id).bind(keep_session.unwrap_or(0)).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn change_password(db: &Db, p: &Principal, current: &str, new: &str) -> Result<()> {
    let row = query("SELECT password_hash FROM users WHERE id = $1").bind(p.user.id).fetch_one(db).await?;
    if !verify_password(current, &get_str(&row, "password_hash")?).await {
        return Err(ValidationErrors::single("current_password", "wrong_password", "the current password is not correct").into());
    }
    set_password(db, p.user.id, new, p.session_id).await
}

// ---------------------------------------------------------------- principals

pub async fn policies(db: &Db, workspace_id: i64) -> Result<Vec<(Role, Policy)>> {
    let rows = query("SELECT role, read_scope, edit_scope FROM role_policies WHERE workspace_id = $1").bind(workspace_id).fetch_all(db).await?;
    let mut out: Vec<(Role, Policy)> = Role::ALL.iter().map(|r| (*r, r.default_policy())).collect();
    for row in rows {
        let (Some(role), Some(read), Some(edit)) = (Role::parse(&get_str(&row, "role")?), Scope::parse(&get_str(&row, "read_scope")?), Scope::parse(&get_str(&row, "edit_scope")?)) else {
            continue;
        };
        if let Some(slot) = out.iter_mut().find(|(r, _)| *r == role) {
            slot.1 = Policy { read, edit }.normalized();
        }
    }
    Ok(out)
}

pub async fn set_policy(db: &Db, workspace_id: i64, role: Role, policy: Policy) -> Result<Policy> {
    if matches!(role, Role::Owner) {
        return Err(Error::Forbidden("the owner role always sees and edits everything"));
    }
    let policy = policy.normalized();
    let mut tx = db.begin().await?;
    query("DELETE FROM role_policies WHERE workspace_id = $1 AND role = $2").bind(workspace_id).bind(role.as_str()).execute(&mut *tx).await?;
    query("INSERT INTO role_policies (workspace_id, role, read_scope, edit_scope) VALUES ($1, $2, $3, $4)")
        .bind(workspace_id)
        .bind(role.as_str())
        .bind(policy.read.as_str())
        .bind(policy.edit.as_str())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(policy)
}

const PRINCIPAL_COLUMNS: &str = "u.id AS user_id, u.email, u.name, u.locale, u.time_zone, w.id AS workspace_id, w.name AS workspace_name, w.region, m.role, p.read_scope, p.edit_scope";
const PRINCIPAL_JOINS: &str = "JOIN users u ON u.id = x.user_id \
     JOIN memberships m ON m.user_id = x.user_id AND m.workspace_id = x.workspace_id AND m.active = 1 \
     JOIN workspaces w ON w.id = x.workspace_id \
     LEFT JOIN role_policies p ON p.workspace_id = m.workspace_id AND p.role = m.role";

async fn principal_from_row(db: &Db, row: &Row, read_only_token: bool) -> Result<Principal> {
    let role = Role::parse(&get_str(row, "role")?).ok_or_else(|| Error::Corrupt("unknown role".into()))?;
    let policy = match (get_opt_str(row, "read_scope")?.as_deref().and_then(Scope::parse), get_opt_str(row, "edit_scope")?.as_deref().and_then(Scope::parse)) {
        (Some(read), Some(edit)) => Policy { read, edit }.normalized(),
        _ => role.default_policy(),
    };
    let user_id = get_i64(row, "user_id")?;
    let workspace_id = get_i64(row, "workspace_id")?;
    let teammates = if policy.read == Scope::Team || policy.edit == Scope::Team { teammates(db, workspace_id, user_id).await? } else { Vec::new() };
    Ok(Principal {
        user: UserInfo { id: user_id, email: get_str(row, "email")?, name: get_str(row, "name")?, locale: get_str(row, "locale")?, time_zone: get_str(row, "time_zone")? },
        workspace_id,
        workspace_name: get_str(row, "workspace_name")?,
        region: get_str(row, "region")?,
        viewer: Viewer { workspace_id, user_id, role, policy, teammates, read_only_token },
        session_id: None,
        csrf_token: None,
        token_id: None,
    })
}

pub async fn teammates(db: &Db, workspace_id: i64, user_id: i64) -> Result<Vec<i64>> {
    let rows = query(
        "SELECT DISTINCT b.user_id FROM team_members a JOIN teams t ON t.id = a.team_id AND t.workspace_id = $1 \
         JOIN team_members b ON b.team_id = a.team_id WHERE a.user_id = $2",
    )
    .bind(workspace_id)
    .bind(user_id)
    .fetch_all(db)
    .await?;
    rows.iter().map(|r| get_i64(r, "user_id")).collect()
}

pub async fn session_principal(db: &Db, token: &str) -> Result<Option<Principal>> {
    let sql = format!("SELECT x.id AS session_id, x.csrf_token, {PRINCIPAL_COLUMNS} FROM sessions x {PRINCIPAL_JOINS} WHERE x.token_hash = $1 AND x.expires_at > $2");
    let Some(row) = query(sql).bind(token_hash(token)).bind(now_ms()).fetch_optional(db).await? else { return Ok(None) };
    let mut p = principal_from_row(db, &row, false).await?;
    p.session_id = Some(get_i64(&row, "session_id")?);
    p.csrf_token = Some(get_str(&row, "csrf_token")?);
    Ok(Some(p))
}

pub async fn token_principal(db: &Db, token: &str) -> Result<Option<Principal>> {
    let now = now_ms();
    let sql = format!(
        "SELECT x.id AS token_id, x.scope, x.last_used_at, {PRINCIPAL_COLUMNS} FROM api_tokens x {PRINCIPAL_JOINS} \
         WHERE x.token_hash = $1 AND x.revoked_at IS NULL AND (x.expires_at IS NULL OR x.expires_at > $2)"
    );
    let Some(row) = query(sql).bind(token_hash(token)).bind(now).fetch_optional(db).await? else { return Ok(None) };
    let read_only = get_str(&row, "scope")? == "read";
    let mut p = principal_from_row(db, &row, read_only).await?;
    let id = get_i64(&row, "token_id")?;
    p.token_id = Some(id);
    // Last use is kept to the minute: a write per request would cost more than it tells.
    if get_opt_i64(&row, "last_used_at")?.is_none_or(|t| now - t > 60_000) {
        query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2").bind(now).bind(id).execute(&mut *db.writer().await?).await?;
    }
    Ok(Some(p))
}

// ---------------------------------------------------------------- sign-in

async fn failures_since(db: &Db, key: &str, since: i64) -> Result<(i64, Option<i64>)> {
    let row = query("SELECT COUNT(*) AS n, MIN(at) AS oldest FROM login_failures WHERE throttle_key = $1 AND at > $2").bind(key).bind(since).fetch_one(db).await?;
    Ok((get_i64(&row, "n")?, get_opt_i64(&row, "oldest")?))
}

async fn check_throttle(db: &Db, keys: &[(String, i64)], now: i64) -> Result<()> {
    for (key, max) in keys {
        let (n, oldest) = failures_since(db, key, now - THROTTLE_WINDOW_MS).await?;
        if n >= *max {
            let retry = (oldest.unwrap_or(now) + THROTTLE_WINDOW_MS - now).max(1000);
            return Err(Error::TooManyAttempts { retry_after_secs: (retry + 999) / 1000 });
        }
    }
    Ok(())
}

pub struct NewSession {
    pub token: String,
    pub csrf_token: String,
    pub expires_at: i64,
    pub principal: Principal,
}

pub async fn login(db: &Db, email: &str, password: &str, client_addr: &str, remember: bool, workspace_id: Option<i64>) -> Result<NewSession> {
    let now = now_ms();
    let folded = accord_domain::text::fold(email.trim());
    let keys = [(format!("account:{folded}"), MAX_FAILURES_PER_ACCOUNT), (format!("address:{client_addr}"), MAX_FAILURES_PER_ADDRESS)];
    check_throttle(db, &keys, now).await?;
    let row = query(
        "SELECT u.id, u.password_hash, m.workspace_id FROM users u JOIN memberships m ON m.user_id = u.id AND m.active = 1 \
         WHERE u.email = $1 AND ($2 = 0 OR m.workspace_id = $3) ORDER BY m.created_at, m.workspace_id LIMIT 1",
    )
    .bind(&folded)
    .bind(workspace_id.unwrap_or(0))
    .bind(workspace_id.unwrap_or(0))
    .fetch_optional(db)
    .await?;
    let ok = match &row {
        Some(r) => verify_password(password, &get_str(r, "password_hash")?).await,
        // Same work either way, so timing does not tell which e-mails have accounts.
        None => {
            let _ = verify_password(password, "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0000000000000000000000000000000000000000000").await;
            false
        }
    };
    let Some(row) = row.filter(|_| ok) else {
        let mut tx = db.begin().await?;
        for (key, _) in &keys {
            query("INSERT INTO login_failures (throttle_key, at) VALUES ($1, $2)").bind(key).bind(now).execute(&mut *tx).await?;
        }
        query("DELETE FROM login_failures WHERE at < $1").bind(now - THROTTLE_WINDOW_MS).execute(&mut *tx).await?;
        tx.commit().await?;
        return Err(Error::Unauthorized);
    };
    query("DELETE FROM login_failures WHERE throttle_key = $1").bind(&keys[0].0).execute(&mut *db.writer().await?).await?;
    let token = random_token("s_");
    let csrf_token = random_token("");
    let expires_at = now + if remember { REMEMBER_TTL_MS } else { SESSION_TTL_MS };
    query("INSERT INTO sessions (token_hash, csrf_token, user_id, workspace_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(token_hash(&token))
        .bind(&csrf_token)
        .bind(get_i64(&row, "id")?)
        .bind(get_i64(&row, "workspace_id")?)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *db.writer().await?)
        .await?;
    query("DELETE FROM sessions WHERE expires_at < $1").bind(now).execute(&mut *db.writer().await?).await?;
    let principal = session_principal(db, &token).await?.ok_or(Error::Unauthorized)?;
    Ok(NewSession { token, csrf_token, expires_at, principal })
}

pub async fn logout(db: &Db, session_id: i64) -> Result<()> {
    query("DELETE FROM sessions WHERE id = $1").bind(session_id).execute(&mut *db.writer().await?).await?;
    Ok(())
}

// ---------------------------------------------------------------- API tokens

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiTokenInfo {
    pub id: i64,
    pub name: String,
    /// The first characters of the token, to recognize it; the token itself is never stored.
    pub prefix: String,
    pub scope: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

pub async fn create_token(db: &Db, p: &Principal, name: &str, scope: &str, expires_at: Option<i64>) -> Result<(ApiTokenInfo, String)> {
    let mut errors = ValidationErrors::new();
    let name = errors.check("name", accord_domain::text::short(name)).flatten();
    if name.is_none() && errors.is_empty() {
        errors.add("name", "required", "is required");
    }
    if scope != "read" && scope != "read_write" {
        errors.add("scope", "unknown_scope", "must be read or read_write");
    }
    if expires_at.is_some_and(|t| t <= now_ms()) {
        errors.add("expires_at", "in_the_past", "must be in the future");
    }
    errors.into_result()?;
    if p.viewer.read_only_token {
        return Err(Error::Forbidden("a read-only token cannot create tokens"));
    }
    let token = random_token("acc_");
    let prefix: String = token.chars().take(10).collect();
    let now = now_ms();
    let row = query("INSERT INTO api_tokens (workspace_id, user_id, name, token_hash, token_prefix, scope, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
        .bind(p.workspace_id)
        .bind(p.user.id)
        .bind(name.clone().unwrap_or_default())
        .bind(token_hash(&token))
        .bind(&prefix)
        .bind(scope)
        .bind(now)
        .bind(expires_at)
        .fetch_one(db)
        .await?;
    let info = ApiTokenInfo { id: get_i64(&row, "id")?, name: name.unwrap_or_default(), prefix, scope: scope.to_owned(), created_at: now, expires_at, last_used_at: None, revoked_at: None };
    Ok((info, token))
}

pub async fn list_tokens(db: &Db, p: &Principal) -> Result<Vec<ApiTokenInfo>> {
    let rows = query("SELECT id, name, token_prefix, scope, created_at, expires_at, last_used_at, revoked_at FROM api_tokens WHERE workspace_id = $1 AND user_id = $2 ORDER BY id DESC")
        .bind(p.workspace_id)
        .bind(p.user.id)
        .fetch_all(db)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(ApiTokenInfo {
                id: get_i64(r, "id")?,
                name: get_str(r, "name")?,
                prefix: get_str(r, "token_prefix")?,
                scope: get_str(r, "scope")?,
                created_at: get_i64(r, "created_at")?,
                expires_at: get_opt_i64(r, "expires_at")?,
                last_used_at: get_opt_i64(r, "last_used_at")?,
                revoked_at: get_opt_i64(r, "revoked_at")?,
            })
        })
        .collect()
}

pub async fn revoke_token(db: &Db, p: &Principal, id: i64) -> Result<()> {
    let n = query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND workspace_id = $3 AND user_id = $4 AND revoked_at IS NULL")
        .bind(now_ms())
        .bind(id)
        .bind(p.workspace_id)
        .bind(p.user.id)
        .execute(&mut *db.writer().await?)
        .await?
        .rows_affected();
    if n == 0 { Err(Error::NotFound) } else { Ok(()) }
}

// ---------------------------------------------------------------- members, teams, invitations

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Member {
    pub user_id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
    pub team_ids: Vec<i64>,
}

pub async fn members(db: &Db, workspace_id: i64) -> Result<Vec<Member>> {
    let rows = query("SELECT u.id, u.email, u.name, m.role, m.active FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.workspace_id = $1 ORDER BY u.id")
        .bind(workspace_id)
        .fetch_all(db)
        .await?;
    let links = query("SELECT tm.team_id, tm.user_id FROM team_members tm JOIN teams t ON t.id = tm.team_id WHERE t.workspace_id = $1").bind(workspace_id).fetch_all(db).await?;
    let links: Vec<(i64, i64)> = links.iter().map(|r| Ok((get_i64(r, "team_id")?, get_i64(r, "user_id")?))).collect::<Result<_>>()?;
    rows.iter()
        .map(|r| {
            let user_id = get_i64(r, "id")?;
            Ok(Member {
                user_id,
                email: get_str(r, "email")?,
                name: get_str(r, "name")?,
                role: Role::parse(&get_str(r, "role")?).ok_or_else(|| Error::Corrupt("unknown role".into()))?,
                active: get_i64(r, "active")? == 1,
                team_ids: links.iter().filter(|(_, u)| *u == user_id).map(|(t, _)| *t).collect(),
            })
        })
        .collect()
}

/// Changes a member's role or deactivates them. Deactivation ends their sessions and
/// revokes their tokens in this workspace at once; their records stay where they are.
pub async fn update_member(db: &Db, p: &Principal, user_id: i64, role: Option<Role>, active: Option<bool>) -> Result<Member> {
    p.require_admin()?;
    let current = members(db, p.workspace_id).await?.into_iter().find(|m| m.user_id == user_id).ok_or(Error::NotFound)?;
    if user_id == p.user.id && (active == Some(false) || role.is_some_and(|r| r != current.role)) {
        return Err(Error::Forbidden("you cannot demote or deactivate yourself"));
    }
    if (current.role == Role::Owner || role == Some(Role::Owner)) && p.role() != Role::Owner {
        return Err(Error::Forbidden("only an owner may change owners"));
    }
    let mut tx = db.begin().await?;
    if let Some(role) = role {
        query("UPDATE memberships SET role = $1 WHERE workspace_id = $2 AND user_id = $3").bind(role.as_str()).bind(p.workspace_id).bind(user_id).execute(&mut *tx).await?;
    }
    if let Some(active) = active {
        query("UPDATE memberships SET active = $1 WHERE workspace_id = $2 AND user_id = $3").bind(i64::from(active)).bind(p.workspace_id).bind(user_id).execute(&mut *tx).await?;
        if !active {
            query("DELETE FROM sessions WHERE workspace_id = $1 AND user_id = $2").bind(p.workspace_id).bind(user_id).execute(&mut *tx).await?;
            query("UPDATE api_tokens SET revoked_at = $1 WHERE workspace_id = $2 AND user_id = $3 AND revoked_at IS NULL").bind(now_ms()).bind(p.workspace_id).bind(user_id).execute(&mut *tx).await?;
        }
    }
    tx.commit().await?;
    members(db, p.workspace_id).await?.into_iter().find(|m| m.user_id == user_id).ok_or(Error::NotFound)
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Team {
    pub id: i64,
    pub name: String,
    pub member_ids: Vec<i64>,
}

pub async fn teams(db: &Db, workspace_id: i64) -> Result<Vec<Team>> {
    let rows = query("SELECT id, name FROM teams WHERE workspace_id = $1 ORDER BY name").bind(workspace_id).fetch_all(db).await?;
    let links = query("SELECT tm.team_id, tm.user_id FROM team_members tm JOIN teams t ON t.id = tm.team_id WHERE t.workspace_id = $1 ORDER BY tm.user_id").bind(workspace_id).fetch_all(db).await?;
    let links: Vec<(i64, i64)> = links.iter().map(|r| Ok((get_i64(r, "team_id")?, get_i64(r, "user_id")?))).collect::<Result<_>>()?;
    rows.iter()
        .map(|r| {
            let id = get_i64(r, "id")?;
            Ok(Team { id, name: get_str(r, "name")?, member_ids: links.iter().filter(|(t, _)| *t == id).map(|(_, u)| *u).collect() })
        })
        .collect()
}

/// Creates a team or replaces its name and members (`team_id` given).
pub async fn save_team(db: &Db, workspace_id: i64, team_id: Option<i64>, name: &str, member_ids: &[i64]) -> Result<Team> {
    let mut errors = ValidationErrors::new();
    let name = errors.check("name", accord_domain::text::short(name)).flatten();
    if name.is_none() && errors.is_empty() {
        errors.add("name", "required", "is required");
    }
    let known: Vec<i64> = members(db, workspace_id).await?.iter().map(|m| m.user_id).collect();
    for (i, id) in member_ids.iter().enumerate() {
        if !known.contains(id) {
            errors.add(format!("member_ids[{i}]"), "unknown_user", "is not a member of this workspace");
        }
    }
    errors.into_result()?;
    let name = name.unwrap_or_default();
    if teams(db, workspace_id).await?.iter().any(|t| t.name == name && Some(t.id) != team_id) {
        return Err(ValidationErrors::single("name", "taken", "a team with this name exists").into());
    }
    let mut tx = db.begin().await?;
    let id = match team_id {
        Some(id) => {
            let n = query("UPDATE teams SET name = $1 WHERE id = $2 AND workspace_id = $3").bind(&name).bind(id).bind(workspace_id).execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(Error::NotFound);
            }
            query("DELETE FROM team_members WHERE team_id = $1").bind(id).execute(&mut *tx).await?;
            id
        }
        None => {
            let row = query("INSERT INTO teams (workspace_id, name, created_at) VALUES ($1, $2, $3) RETURNING id").bind(workspace_id).bind(&name).bind(now_ms()).fetch_one(&mut *tx).await?;
            get_i64(&row, "id")?
        }
    };
    let mut unique: Vec<i64> = member_ids.to_vec();
    unique.sort_unstable();
    unique.dedup();
    for user in &unique {
        query("INSERT INTO team_members (team_id, user_id) VALUES ($1, $2)").bind(id).bind(user).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(Team { id, name, member_ids: unique })
}

pub async fn delete_team(db: &Db, workspace_id: i64, team_id: i64) -> Result<()> {
    let mut tx = db.begin().await?;
    query("DELETE FROM team_members WHERE team_id IN (SELECT id FROM teams WHERE id = $1 AND workspace_id = $2)").bind(team_id).bind(workspace_id).execute(&mut *tx).await?;
    let t = query("DELETE FROM teams WHERE id = $1 AND workspace_id = $2").bind(team_id).bind(workspace_id).execute(&mut *tx).await?.rows_affected();
    if t == 0 {
        return Err(Error::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

pub struct Invitation {
    pub id: i64,
    pub token: String,
    pub expires_at: i64,
}

pub async fn invite(db: &Db, p: &Principal, email: &str, role: Role) -> Result<Invitation> {
    p.require_admin()?;
    if role == Role::Owner && p.role() != Role::Owner {
        return Err(Error::Forbidden("only an owner may invite owners"));
    }
    let email = normalize_login_email(email)?;
    if members(db, p.workspace_id).await?.iter().any(|m| m.email == email) {
        return Err(Error::conflict("already_member", format!("{email} is already a member")));
    }
    let token = random_token("inv_");
    let now = now_ms();
    let row = query("INSERT INTO invitations (workspace_id, email, role, token_hash, invited_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
        .bind(p.workspace_id)
        .bind(&email)
        .bind(role.as_str())
        .bind(token_hash(&token))
        .bind(p.user.id)
        .bind(now)
        .bind(now + INVITATION_TTL_MS)
        .fetch_one(db)
        .await?;
    Ok(Invitation { id: get_i64(&row, "id")?, token, expires_at: now + INVITATION_TTL_MS })
}

/// Accepts an invitation once: a new user sets a name and password; an existing user
/// proves it with their password.
pub async fn accept_invitation(db: &Db, token: &str, name: &str, password: &str) -> Result<i64> {
    let now = now_ms();
    let row = query("SELECT id, workspace_id, email, role FROM invitations WHERE token_hash = $1 AND accepted_at IS NULL AND expires_at > $2")
        .bind(token_hash(token))
        .bind(now)
        .fetch_optional(db)
        .await?
        .ok_or(Error::NotFound)?;
    let email = get_str(&row, "email")?;
    let role = Role::parse(&get_str(&row, "role")?).ok_or_else(|| Error::Corrupt("unknown role".into()))?;
    let workspace_id = get_i64(&row, "workspace_id")?;
    let user_id = match find_user(db, &email).await? {
        Some(id) => {
            let hash_row = query("SELECT password_hash FROM users WHERE id = $1").bind(id).fetch_one(db).await?;
            if !verify_password(password, &get_str(&hash_row, "password_hash")?).await {
                return Err(ValidationErrors::single("password", "wrong_password", "enter the password of your existing account").into());
            }
            id
        }
        None => create_user(db, &email, name, password).await?,
    };
    let n = query("UPDATE invitations SET accepted_at = $1 WHERE id = $2 AND accepted_at IS NULL").bind(now).bind(get_i64(&row, "id")?).execute(&mut *db.writer().await?).await?.rows_affected();
    if n == 0 {
        return Err(Error::NotFound);
    }
    add_member(db, workspace_id, user_id, role).await?;
    Ok(user_id)
}

/// The principal of a member acting outside HTTP (the CLI, demo data, background jobs).
pub async fn principal_for(db: &Db, workspace_id: i64, user_id: i64) -> Result<Principal> {
    let sql = format!("SELECT {PRINCIPAL_COLUMNS} FROM memberships x {PRINCIPAL_JOINS} WHERE x.workspace_id = $1 AND x.user_id = $2");
    let row = query(sql).bind(workspace_id).bind(user_id).fetch_optional(db).await?.ok_or(Error::NotFound)?;
    principal_from_row(db, &row, false).await
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Workspace {
    pub id: i64,
    pub name: String,
    /// ISO 3166 region used to read phone numbers written without a country code.
    pub region: String,
    pub base_currency: String,
    /// Days a deleted record stays in the trash before it is purged.
    pub trash_retention_days: i64,
    /// VAT rates offered on products and deal lines: percentages ("22", "10") or "none";
    /// the first is the default.
    pub vat_rates: Vec<String>,
}

pub async fn workspace(db: &Db, id: i64) -> Result<Workspace> {
    let r = query("SELECT id, name, region, base_currency, trash_retention_days, vat_rates FROM workspaces WHERE id = $1").bind(id).fetch_optional(db).await?.ok_or(Error::NotFound)?;
    Ok(Workspace {
        id: get_i64(&r, "id")?,
        name: get_str(&r, "name")?,
        region: get_str(&r, "region")?,
        base_currency: get_str(&r, "base_currency")?,
        trash_retention_days: get_i64(&r, "trash_retention_days")?,
        vat_rates: serde_json::from_str(&get_str(&r, "vat_rates")?)?,
    })
}

#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceChange {
    pub name: Option<String>,
    pub region: Option<String>,
    pub base_currency: Option<String>,
    pub trash_retention_days: Option<i64>,
    pub vat_rates: Option<Vec<String>>,
}

pub async fn update_workspace(db: &Db, p: &Principal, change: WorkspaceChange) -> Result<Workspace> {
    p.require_admin()?;
    let mut ws = workspace(db, p.workspace_id).await?;
    let mut errors = ValidationErrors::new();
    if let Some(name) = change.name {
        match errors.check("name", accord_domain::text::short(&name)) {
            Some(Some(n)) => ws.name = n,
            Some(None) => errors.add("name", "required", "a workspace needs a name"),
            None => {}
        }
    }
    if let Some(region) = change.region
        && errors.check("region", accord_domain::phone::region(&region)).is_some() {
            ws.region = region.to_ascii_uppercase();
        }
    if let Some(c) = change.base_currency
        && let Some(c) = errors.check("base_currency", accord_domain::custom_fields::currency(&c)) {
            ws.base_currency = c;
        }
    if let Some(days) = change.trash_retention_days {
        if (1..=3650).contains(&days) {
            ws.trash_retention_days = days;
        } else {
            errors.add("trash_retention_days", "out_of_range", "must be from 1 to 3650 days");
        }
    }
    if let Some(rates) = change.vat_rates {
        if rates.is_empty() || rates.len() > 10 {
            errors.add("vat_rates", "out_of_range", "give from 1 to 10 rates");
        }
        for (i, rate) in rates.iter().enumerate() {
            let ok = rate == "none" || rate.parse::<rust_decimal::Decimal>().is_ok_and(|d| d >= rust_decimal::Decimal::ZERO && d <= rust_decimal::Decimal::ONE_HUNDRED && d.scale() <= 2 && d.normalize().to_string() == *rate);
            if !ok {
                errors.add(format!("vat_rates[{i}]"), "invalid_rate", "must be a percentage such as \"22\" or \"9.5\", or \"none\"");
            } else if rates[..i].contains(rate) {
                errors.add(format!("vat_rates[{i}]"), "duplicate", "is listed twice");
            }
        }
        ws.vat_rates = rates;
    }
    errors.into_result()?;
    if find_workspace(db, &ws.name).await?.is_some_and(|id| id != ws.id) {
        return Err(ValidationErrors::single("name", "taken", "another workspace has this name").into());
    }
    query("UPDATE workspaces SET name = $1, region = $2, base_currency = $3, trash_retention_days = $4, vat_rates = $5 WHERE id = $6")
        .bind(&ws.name)
        .bind(&ws.region)
        .bind(&ws.base_currency)
        .bind(ws.trash_retention_days)
        .bind(serde_json::to_string(&ws.vat_rates)?)
        .bind(ws.id)
        .execute(&mut *db.writer().await?)
        .await?;
    Ok(ws)
}

/// The interface languages a user may choose.
pub const LOCALES: [&str; 2] = ["ru", "en"];

/// A user changes their own name, language and time zone; every field is checked before
/// anything is written.
pub async fn update_profile(db: &Db, p: &Principal, name: Option<&str>, locale: Option<&str>, time_zone: Option<&str>) -> Result<UserInfo> {
    let mut errors = ValidationErrors::default();
    let mut user = p.user.clone();
    if let Some(name) = name {
        match accord_domain::text::short(name) {
            Ok(Some(n)) => user.name = n,
            Ok(None) => errors.add("name", "required", "is required"),
            Err(e) => errors.add("name", e.code, e.message),
        }
    }
    if let Some(locale) = locale {
        if LOCALES.contains(&locale) { locale.clone_into(&mut user.locale) } else { errors.add("locale", "invalid_choice", "must be ru or en") }
    }
    if let Some(tz) = time_zone {
        if tz.parse::<chrono_tz::Tz>().is_ok() { tz.clone_into(&mut user.time_zone) } else { errors.add("time_zone", "invalid_time_zone", "is not an IANA time zone such as Europe/Moscow") }
    }
    if !errors.0.is_empty() {
        return Err(errors.into());
    }
    query("UPDATE users SET name = $1, locale = $2, time_zone = $3 WHERE id = $4").bind(&user.name).bind(&user.locale).bind(&user.time_zone).bind(user.id).execute(&mut *db.writer().await?).await?;
    Ok(user)
}

/// A user's IANA time zone (their local times are read and shown in it).
pub async fn time_zone(db: &Db, user_id: i64) -> Result<String> {
    let row = query("SELECT time_zone FROM users WHERE id = $1").bind(user_id).fetch_optional(db).await?;
    Ok(match row {
        Some(r) => get_str(&r, "time_zone")?,
        None => "Europe/Moscow".to_owned(),
    })
}
