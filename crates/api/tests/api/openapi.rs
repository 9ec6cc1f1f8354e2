use crate::harness::{Engine, start};
use accord_domain::permissions::Role;
use reqwest::{Method, StatusCode};

/// Every documented operation is served, and the document is OpenAPI 3.1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn document_and_routes_agree() {
    let s = start(Engine::Sqlite).await;
    let ws = s.workspace("Acme").await;
    let u = s.user(ws, Role::Owner, "owner").await;
    let doc: serde_json::Value = s.http.get(format!("{}/api/v1/openapi.json", s.base)).send().await.expect("doc").json().await.expect("json");
    assert!(doc["openapi"].as_str().expect("version").starts_with("3.1"));
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() > 30, "{} paths", paths.len());
    let mut operation_ids = std::collections::HashSet::new();
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("item") {
            let Ok(m) = method.to_uppercase().parse::<Method>() else { continue };
            assert!(operation_ids.insert(op["operationId"].as_str().expect("operationId").to_owned()), "duplicate operationId at {method} {path}");
            let concrete = path.replace("{id}", "1").replace("{role}", "member");
            let r = s.call(Some(&u), m.clone(), &concrete, None).await;
            assert_ne!(r.body["code"], "no_route", "{method} {path} is documented but not served");
            assert_ne!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path} is documented but not served");
        }
    }
    // And the other way round: a route nobody documented answers no_route.
    assert_eq!(s.get(&u, "/api/v1/contacts/1/secret").await.body["code"], "no_route");
    let docs = s.http.get(format!("{}/api/docs/", s.base)).send().await.expect("docs");
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.expect("html").contains("swagger"), "the reference is served from the binary");
    let metrics = s.http.get(format!("{}/metrics", s.base)).send().await.expect("metrics").text().await.expect("text");
    assert!(metrics.contains("accord_http_requests_total") && metrics.contains("accord_db_pool_connections"), "{metrics}");
}
