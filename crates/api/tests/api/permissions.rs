//! The permission matrix: each role × a record of its own, of a teammate, of someone else
//! in the workspace, and of another workspace × every endpoint that touches a record.
use crate::both_engines;
use crate::harness::{Engine, Server, User, start};
use accord_domain::permissions::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;

both_engines!(matrix, admins_change_role_visibility);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Expect {
    /// Readable and changeable.
    Edit,
    /// Readable; changes answer 403.
    Read,
    /// Invisible everywhere: 404, absent from lists and search.
    Hidden,
}

struct Records {
    own: i64,
    team: i64,
    other: i64,
    foreign: i64,
}

async fn seed(s: &Server, owner: &User, teammate: &User, stranger: &User, foreigner: &User, label: &str) -> Records {
    let body = |who: &str| json!({"last_name": format!("{label}{who}"), "tags": ["matrix"]});
    Records {
        own: s.contact(owner, body("own")).await,
        team: s.contact(teammate, body("team")).await,
        other: s.contact(stranger, body("other")).await,
        foreign: s.contact(foreigner, body("foreign")).await,
    }
}

async fn check(s: &Server, who: &User, role: Role, id: i64, name: &str, expect: Expect, case: &str) {
    let path = format!("/api/v1/contacts/{id}");
    let ctx = format!("{role:?} on {case} record");
    let read = if expect == Expect::Hidden { StatusCode::NOT_FOUND } else { StatusCode::OK };
    for sub in ["", "/history", "/timeline", "/notes"] {
        assert_eq!(s.get(who, &format!("{path}{sub}")).await.status, read, "GET {sub} — {ctx}");
    }
    let listed = s.all_ids(who, "/api/v1/contacts?tag=matrix").await.contains(&id);
    assert_eq!(listed, expect != Expect::Hidden, "list — {ctx}");
    let found = s.get(who, &format!("/api/v1/search?q={name}")).await.body["data"].as_array().map(|a| a.iter().any(|h| h["id"] == id)).unwrap_or(false);
    assert_eq!(found, expect != Expect::Hidden, "search — {ctx}");
    let write = match expect {
        Expect::Edit => StatusCode::OK,
        Expect::Read => StatusCode::FORBIDDEN,
        Expect::Hidden => StatusCode::NOT_FOUND,
    };
    // A harmless change, then its reverse, so the record stays as it was for the next role.
    let r = s.patch(who, &path, json!({"position": "проверка"})).await;
    assert_eq!(r.status, write, "PATCH — {ctx}: {}", r.body);
    if r.status == StatusCode::OK {
        s.patch(who, &path, json!({"position": null})).await;
    }
    let r = s.call(Some(who), Method::DELETE, &path, None).await;
    assert_eq!(r.status, if write == StatusCode::OK { StatusCode::NO_CONTENT } else { write }, "DELETE — {ctx}");
    if r.status == StatusCode::NO_CONTENT {
        assert_eq!(s.post(who, &format!("{path}/restore"), json!({})).await.status, StatusCode::OK, "restore — {ctx}");
    } else {
        assert_eq!(s.post(who, &format!("{path}/restore"), json!({})).await.status, StatusCode::NOT_FOUND, "restore of a live record — {ctx}");
    }
    let note = s.post(who, &format!("{path}/notes"), json!({"body": "x"})).await.status;
    let expected_note = match (expect, role) {
        (Expect::Hidden, _) => StatusCode::NOT_FOUND,
        (_, Role::ReadOnly) => StatusCode::FORBIDDEN,
        _ => StatusCode::CREATED,
    };
    assert_eq!(note, expected_note, "note — {ctx}");
}

async fn matrix(e: Engine) {
    let s = start(e).await;
    let ws = s.workspace("Acme").await;
    let other_ws = s.workspace("Globex").await;
    let owner = s.user(ws, Role::Owner, "owner").await;
    let stranger = s.user(ws, Role::Member, "stranger").await;
    let foreigner = s.user(other_ws, Role::Owner, "foreigner").await;
    use Expect::*;
    // role, own, teammate's, other's (another workspace's is always hidden)
    let table = [
        (Role::Owner, Edit, Edit, Edit),
        (Role::Admin, Edit, Edit, Edit),
        (Role::Manager, Edit, Edit, Hidden),
        (Role::Member, Edit, Read, Read),
        (Role::ReadOnly, Read, Read, Read),
    ];
    for (role, own, team, other) in table {
        let label = format!("{role:?}");
        let me = s.user(ws, role, &format!("{label}-me")).await;
        let mate = s.user(ws, Role::Member, &format!("{label}-mate")).await;
        s.team(ws, &format!("team-{label}"), &[&me, &mate]).await;
        let creator = if role == Role::ReadOnly { s.user(ws, Role::Owner, "ro-helper").await } else { me.clone() };
        let r = seed(&s, &creator, &mate, &stranger, &foreigner, &format!("Матрица{label}")).await;
        if role == Role::ReadOnly {
            // A read-only user cannot create records; an owner gives it one.
            s.patch(&creator, &format!("/api/v1/contacts/{}", r.own), json!({"owner_id": me.id})).await;
        }
        let name = |who: &str| format!("Матрица{label}{who}");
        check(&s, &me, role, r.own, &name("own"), own, "own").await;
        check(&s, &me, role, r.team, &name("team"), team, "teammate's").await;
        check(&s, &me, role, r.other, &name("other"), other, "other's").await;
        check(&s, &me, role, r.foreign, &name("foreign"), Hidden, "another workspace's").await;
    }
    // A member may not give away records (they would lose them); an owner may reassign.
    let member = s.user(ws, Role::Member, "giver").await;
    let id = s.contact(&member, json!({"last_name": "Подарок"})).await;
    assert_eq!(s.patch(&member, &format!("/api/v1/contacts/{id}"), json!({"owner_id": stranger.id})).await.status, StatusCode::FORBIDDEN);
    assert_eq!(s.patch(&owner, &format!("/api/v1/contacts/{id}"), json!({"owner_id": stranger.id})).await.status, StatusCode::OK);
    assert_eq!(s.post(&owner, "/api/v1/contacts", json!({"last_name": "Чужой", "owner_id": foreigner.id})).await.field_errors(), vec!["owner_id"]);
    // Merging another workspace's record is impossible.
    let mine = s.contact(&owner, json!({"last_name": "Мой"})).await;
    let theirs = s.contact(&foreigner, json!({"last_name": "Их"})).await;
    assert_eq!(s.post(&owner, &format!("/api/v1/contacts/{mine}/merge"), json!({"merged_id": theirs})).await.status, StatusCode::NOT_FOUND);
    // Referencing another workspace's company is an unknown company.
    let their_company = s.company(&foreigner, json!({"name": "Globex"})).await;
    assert_eq!(s.post(&owner, "/api/v1/contacts", json!({"last_name": "Z", "primary_company_id": their_company})).await.field_errors(), vec!["primary_company_id"]);
}

async fn admins_change_role_visibility(e: Engine) {
    let s = start(e).await;
    let ws = s.workspace("Acme").await;
    let admin = s.user(ws, Role::Admin, "admin").await;
    let member = s.user(ws, Role::Member, "member").await;
    let other = s.user(ws, Role::Member, "other").await;
    let id = s.contact(&other, json!({"last_name": "Секретный"})).await;
    assert_eq!(s.get(&member, &format!("/api/v1/contacts/{id}")).await.status, StatusCode::OK);
    assert_eq!(s.call(Some(&member), Method::PUT, "/api/v1/roles/member", Some(json!({"read": "own", "edit": "own"}))).await.status, StatusCode::FORBIDDEN);
    let r = s.call(Some(&admin), Method::PUT, "/api/v1/roles/member", Some(json!({"read": "own", "edit": "all"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["edit"], "own", "editing never reaches beyond reading");
    assert_eq!(s.get(&member, &format!("/api/v1/contacts/{id}")).await.status, StatusCode::NOT_FOUND);
    let roles = s.get(&member, "/api/v1/roles").await;
    assert!(roles.body.as_array().expect("roles").iter().any(|r| r["role"] == "member" && r["read"] == "own"));
    assert_eq!(s.call(Some(&admin), Method::PUT, "/api/v1/roles/owner", Some(json!({"read": "own", "edit": "own"}))).await.status, StatusCode::FORBIDDEN);
    assert_eq!(s.call(Some(&admin), Method::PUT, "/api/v1/roles/emperor", Some(json!({"read": "all", "edit": "all"}))).await.status, StatusCode::NOT_FOUND);
    // Workspace settings: admins only, validated.
    assert_eq!(s.patch(&member, "/api/v1/workspace", json!({"trash_retention_days": 7})).await.status, StatusCode::FORBIDDEN);
    let bad = s.patch(&admin, "/api/v1/workspace", json!({"trash_retention_days": 0, "region": "XX", "base_currency": "рубль"})).await;
    assert_eq!(bad.field_errors(), vec!["region", "base_currency", "trash_retention_days"]);
    let ok = s.patch(&admin, "/api/v1/workspace", json!({"trash_retention_days": 7, "region": "kz"})).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.body["region"], "KZ");
    assert_eq!(s.get(&member, "/api/v1/workspace").await.body["trash_retention_days"], 7);
}
