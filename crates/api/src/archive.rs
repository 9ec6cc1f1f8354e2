//! The workspace archive over HTTP: download the whole workspace as one file, or restore
//! such a file into an empty workspace. Both are audited.
use crate::auth::Auth;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use accord_domain::permissions::Role;
use accord_storage::backup::{self, RestoreReport};
use accord_storage::{Error, timeline};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio_stream::StreamExt;

/// The largest archive a restore takes over HTTP; larger ones go through
/// `accord restore-workspace`.
const UPLOAD_LIMIT: u64 = 4 * 1024 * 1024 * 1024;

fn io_failure(e: std::io::Error) -> ApiError {
    ApiError::from(Error::conflict("archive_file", format!("archive file: {e}")))
}

/// Download the whole workspace (owners and admins): a ZIP of JSON Lines, one file per
/// table, with `manifest.json` first. Secrets (sessions, tokens, password hashes) are not
/// in it. The format is described in `docs/workspace-archive.md`.
#[utoipa::path(get, path = "/api/v1/workspace/archive", tag = "imports",
    responses((status = 200, content_type = "application/zip", body = Vec<u8>), (status = 403, body = crate::problem::Problem)))]
pub async fn download(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Response> {
    p.require_admin()?;
    let (dir, path) = backup::temp_path()?;
    let manifest = backup::write(&s.db, p.workspace_id, &path).await?;
    let files: serde_json::Map<String, serde_json::Value> = manifest.files.iter().map(|f| (f.name.clone(), json!(f.rows))).collect();
    timeline::audit_action(&s.db, &p, "archive", 0, "download", json!({ "files": files })).await?;
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    accord_storage::spawn_long(async move {
        crate::exports::send_file(&path, &tx).await;
        drop(dir);
    });
    let day = chrono::Utc::now().format("%Y-%m-%d");
    Ok(crate::imports::streamed(rx, "application/zip", &format!("accord-workspace-{day}.zip")))
}

/// Restore an archive into this workspace (owners only). The workspace must hold no
/// records; its pipelines, lost reasons, roles, custom fields and teams are replaced by the
/// archive's, members are matched to accounts by e-mail, every record gets a new id with its
/// references, history and timeline following. All or nothing: a failed restore changes nothing.
#[utoipa::path(post, path = "/api/v1/workspace/archive", tag = "imports", request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "the archive file (any content type is taken)"),
    responses((status = 200, body = RestoreReport), (status = 403, body = crate::problem::Problem), (status = 409, body = crate::problem::Problem), (status = 413, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn restore(State(s): State<AppState>, Auth(p): Auth, body: Body) -> ApiResult<Json<RestoreReport>> {
    p.require_admin()?;
    if p.role() != Role::Owner {
        return Err(Error::Forbidden("only the workspace's owners may restore an archive into it").into());
    }
    let (_dir, path) = backup::temp_path()?;
    let mut file = tokio::fs::File::create(&path).await.map_err(io_failure)?;
    let mut stream = body.into_data_stream();
    let mut size = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "body_broken", "the upload broke off"))?;
        size += chunk.len() as u64;
        if size > UPLOAD_LIMIT {
            return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", "the archive is larger than 4 GB: restore it with accord restore-workspace"));
        }
        file.write_all(&chunk).await.map_err(io_failure)?;
    }
    file.flush().await.map_err(io_failure)?;
    drop(file);
    let (_, report) = backup::restore(&s.db, backup::Target::Empty(p.workspace_id), &path).await?;
    timeline::audit_action(&s.db, &p, "archive", 0, "restore", json!({ "restored": report.restored, "left_out": report.left_out })).await?;
    Ok(Json(report))
}
