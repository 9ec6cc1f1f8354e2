use crate::both_engines;
use crate::harness::{Engine, PASSWORD, start};
use accord_domain::permissions::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

both_engines!(session_cookie_and_csrf, failed_sign_ins_are_throttled, api_tokens, password_change_ends_other_sessions, deactivation_and_invitations);

async fn login(s: &crate::harness::Server, email: &str, password: &str) -> (reqwest::Client, StatusCode, Value, Option<String>) {
    let client = reqwest::Client::builder().cookie_store(true).build().expect("client");
    let r = client.post(format!("{}/api/v1/auth/login", s.base)).json(&json!({"email": email, "password": password})).send().await.expect("login");
    let status = r.status();
    let cookie = r.headers().get("set-cookie").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body: Value = r.json().await.unwrap_or(Value::Null);
    (client, status, body, cookie)
}

async fn session_cookie_and_csrf(e: Engine) {
    let s = start(e).await;
    let ws = s.workspace("Acme").await;
    let u = s.user(ws, Role::Member, "ann").await;
    let (client, status, me, cookie) = login(&s, &u.email.to_uppercase(), PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    let cookie = cookie.expect("session cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let csrf = me["csrf_token"].as_str().expect("csrf").to_owned();
    // Reads need no CSRF token; changes do.
    let r = client.get(format!("{}/api/v1/me", s.base)).send().await.expect("me");
    assert_eq!(r.status(), StatusCode::OK);
    let r = client.post(format!("{}/api/v1/contacts", s.base)).json(&json!({"last_name": "X"})).send().await.expect("post");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(r.json::<Value>().await.expect("json")["code"], "csrf_failed");
    let r = client.post(format!("{}/api/v1/contacts", s.base)).header("x-csrf-token", "wrong").json(&json!({"last_name": "X"})).send().await.expect("post");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = client.post(format!("{}/api/v1/contacts", s.base)).header("x-csrf-token", &csrf).json(&json!({"last_name": "X"})).send().await.expect("post");
    assert_eq!(r.status(), StatusCode::CREATED);
    // Logout ends the session for good.
    let r = client.post(format!("{}/api/v1/auth/logout", s.base)).header("x-csrf-token", &csrf).send().await.expect("logout");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let raw = cookie.split(';').next().expect("cookie pair").to_owned();
    let r = s.http.get(format!("{}/api/v1/me", s.base)).header("cookie", raw).send().await.expect("me");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = s.call(None, Method::GET, "/api/v1/contacts", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.headers["content-type"], "application/problem+json");
}

async fn failed_sign_ins_are_throttled(e: Engine) {
    let s = start(e).await;
    let ws = s.workspace("Acme").await;
    let u = s.user(ws, Role::Member, "bob").await;
    for _ in 0..5 {
        let (_, status, body, _) = login(&s, &u.email, "wrong password!").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["code"], "invalid_credentials");
    }
    let client = reqwest::Client::new();
    let r = client.post(format!("{}/api/v1/auth/login", s.base)).json(&json!({"email": u.email, "password": PASSWORD})).send().await.expect("login");
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "the right password must wait too");
    let retry: i64 = r.headers()["retry-after"].to_str().expect("header").parse().expect("seconds");
    assert!((1..=900).contains(&retry), "{retry}");
    // Unknown accounts count against the client address: 20 failures from one address lock it.
    for i in 0..15 {
        let (_, status, _, _) = login(&s, &format!("nobody{i}@example.com"), "whatever").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (_, status, _, _) = login(&s, "someone.else@example.com", "whatever").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

async fn api_tokens(e: Engine) {
    let s = start(e).await;
    let ws = s.workspace("Acme").await;
    let u = s.user(ws, Role::Member, "cat").await;
    let r = s.post(&u, "/api/v1/tokens", json!({"name": "export script", "scope": "read"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let token = r.body["token"].as_str().expect("token shown once").to_owned();
    let id = r.id();
    let listed = s.get(&u, "/api/v1/tokens").await;
    assert!(listed.body.as_array().expect("list").iter().all(|t| t.get("token").is_none()), "tokens are never shown again");
    let reader = crate::harness::User { token: token.clone(), ..u.clone() };
    assert_eq!(s.get(&reader, "/api/v1/contacts").await.status, StatusCode::OK);
    let w = s.post(&reader, "/api/v1/contacts", json!({"last_name": "X"})).await;
    assert_eq!(w.status, StatusCode::FORBIDDEN, "a read-only token cannot write: {}", w.body);
    assert_eq!(s.delete(&u, &format!("/api/v1/tokens/{id}")).await.status, StatusCode::NO_CONTENT);
    let r = s.get(&reader, "/api/v1/contacts").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body["code"], "invalid_token");
    let unknown = s.post(&u, "/api/v1/tokens", json!({"name": "x", "scope": "read", "admin": true})).await;
    assert_eq!((unknown.field_errors(), unknown.body["errors"][0]["code"].clone()), (vec!["admin".to_owned()], json!("unknown_field")));
    let missing = s.post(&u, "/api/v1/tokens", json!({"name": "x"})).await;
    assert_eq!((missing.field_errors(), missing.body["errors"][0]["code"].clone()), (vec!["scope".to_owned()], json!("required")));
    let bad = s.post(&u, "/api/v1/tokens", json!({"name": "", "scope": "admin", "expires_at": "2001-01-01T00:00:00Z"})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.field_errors(), vec!["name", "scope", "expires_at"]);
}

async fn password_change_ends_other_sessions(e: Engine) {
    let s = start(e).await;
    let ws = s.workspace("Acme").await;
    let u = s.user(ws, Role::Member, "dan").await;
    let (first, _, me1, _) = login(&s, &u.email, PASSWORD).await;
    let (second, _, _, _) = login(&s, &u.email, PASSWORD).await;
    let csrf = me1["csrf_token"].as_str().expect("csrf");
    let r = first
        .post(format!("{}/api/v1/me/password", s.base))
        .header("x-csrf-token", csrf)
        .json(&json!({"current_password": "not it", "new_password": "a brand new secret"}))
        .send()
        .await
        .expect("change");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = first
        .post(format!("{}/api/v1/me/password", s.base))
        .header("x-csrf-token", csrf)
        .json(&json!({"current_password": PASSWORD, "new_password": "a brand new secret"}))
        .send()
        .await
        .expect("change");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(first.get(format!("{}/api/v1/me", s.base)).send().await.expect("me").status(), StatusCode::OK, "the changing session stays");
    assert_eq!(second.get(format!("{}/api/v1/me", s.base)).send().await.expect("me").status(), StatusCode::UNAUTHORIZED, "other sessions end");
    let (_, status, _, _) = login(&s, &u.email, "a brand new secret").await;
    assert_eq!(status, StatusCode::OK);
}

async fn deactivation_and_invitations(e: Engine) {
    let s = start(e).await;
    let ws = s.workspace("Acme").await;
    let admin = s.user(ws, Role::Admin, "admin").await;
    let member = s.user(ws, Role::Member, "eve").await;
    let contact = s.contact(&member, json!({"last_name": "Клиентова"})).await;
    let (session, _, _, _) = login(&s, &member.email, PASSWORD).await;
    // Only admins deactivate; deactivation stops sessions and tokens at once, records stay.
    assert_eq!(s.patch(&member, &format!("/api/v1/users/{}", admin.id), json!({"active": false})).await.status, StatusCode::FORBIDDEN);
    let r = s.patch(&admin, &format!("/api/v1/users/{}", member.id), json!({"active": false})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(s.get(&member, "/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(session.get(format!("{}/api/v1/me", s.base)).send().await.expect("me").status(), StatusCode::UNAUTHORIZED);
    let kept = s.get(&admin, &format!("/api/v1/contacts/{contact}")).await;
    assert_eq!(kept.status, StatusCode::OK);
    assert_eq!(kept.body["owner_id"], member.id);
    // Invitations: a one-time link.
    let r = s.post(&admin, "/api/v1/invitations", json!({"email": "new.person@example.com", "role": "manager"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let token = r.body["token"].as_str().expect("token").to_owned();
    assert!(r.body["url"].as_str().expect("url").contains(&token));
    let accept = json!({"token": token, "name": "Новый Человек", "password": "his own password"});
    let r = s.call(None, Method::POST, "/api/v1/invitations/accept", Some(accept.clone())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(s.call(None, Method::POST, "/api/v1/invitations/accept", Some(accept)).await.status, StatusCode::NOT_FOUND, "one use only");
    let (_, status, me, _) = login(&s, "new.person@example.com", "his own password").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["role"], "manager");
    // A member of two workspaces chooses one at sign-in.
    let other_ws = s.workspace("Globex").await;
    let other_admin = s.user(other_ws, Role::Owner, "globex").await;
    let r = s.post(&other_admin, "/api/v1/invitations", json!({"email": "new.person@example.com", "role": "read_only"})).await;
    let token = r.body["token"].as_str().expect("token").to_owned();
    let r = s.call(None, Method::POST, "/api/v1/invitations/accept", Some(json!({"token": token, "password": "his own password"}))).await;
    assert_eq!(r.status, StatusCode::OK, "an existing user accepts with their password: {}", r.body);
    let client = reqwest::Client::new();
    let me: Value = client.post(format!("{}/api/v1/auth/login", s.base)).json(&json!({"email": "new.person@example.com", "password": "his own password", "workspace_id": other_ws})).send().await.expect("login").json().await.expect("json");
    assert_eq!(me["workspace_name"], "Globex");
    assert_eq!(me["role"], "read_only");
    assert_eq!(s.post(&member, "/api/v1/invitations", json!({"email": "x@example.com", "role": "admin"})).await.status, StatusCode::UNAUTHORIZED);
}
