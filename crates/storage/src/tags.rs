//! The workspace's tags, for admins: how many records of a kind carry each, and renaming
//! (or merging into another) and removing one everywhere. Each record changes through the
//! ordinary write, so it is versioned and audited like any edit.
use crate::accounts::Principal;
use crate::db::{Db, get_i64, get_str, query};
use crate::error::Result;
use crate::records::{self, WriteOptions};
use accord_domain::ValidationErrors;
use accord_domain::entities::Entity;
use accord_domain::text;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TagCount {
    pub tag: String,
    /// Records of the kind that carry it (the trash left out)
    pub records: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagChange {
    /// contacts, companies, products, deals, leads, activities or tasks
    pub entity: String,
    pub tag: String,
    /// The new name; a tag the records already have merges them. Absent: the tag is removed.
    pub rename_to: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TagChanged {
    /// Records changed
    pub records: i64,
}

pub async fn list(db: &Db, p: &Principal, entity: &str) -> Result<Vec<TagCount>> {
    p.require_admin()?;
    let entity = Entity::named(entity)?;
    let rows = query("SELECT tag, COUNT(*) AS n FROM record_tags WHERE workspace_id = $1 AND entity = $2 GROUP BY tag ORDER BY COUNT(*) DESC, tag")
        .bind(p.workspace_id)
        .bind(entity.as_str())
        .fetch_all(db)
        .await?;
    rows.iter().map(|r| Ok(TagCount { tag: get_str(r, "tag")?, records: get_i64(r, "n")? })).collect()
}

/// Renames or removes a tag on every record of the kind that carries it, in one transaction.
pub async fn change(db: &Db, p: &Principal, c: TagChange) -> Result<TagChanged> {
    p.require_admin()?;
    let entity = Entity::named(&c.entity)?;
    let from = text::fold(c.tag.trim());
    let to = match c.rename_to.as_deref().map(str::trim) {
        Some("") => return Err(ValidationErrors::single("rename_to", "required", "give the new name, or leave it out to remove the tag").into()),
        Some(t) => Some(text::fold(t)),
        None => None,
    };
    let ids: Vec<i64> = query("SELECT record_id FROM record_tags WHERE workspace_id = $1 AND entity = $2 AND tag = $3 ORDER BY record_id")
        .bind(p.workspace_id)
        .bind(entity.as_str())
        .bind(&from)
        .fetch_all(db)
        .await?
        .iter()
        .map(|r| get_i64(r, "record_id"))
        .collect::<Result<_>>()?;
    let custom = crate::custom_fields::for_entity(db, p.workspace_id, entity).await?;
    let mut tx = db.begin().await?;
    for id in &ids {
        let current = records::get_for_write(db, &mut tx, &p.viewer, entity, *id, false).await?;
        let mut tags: Vec<String> = current.fields.get("tags").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).filter(|t| *t != from).collect();
        if let Some(to) = &to
            && !tags.contains(to)
        {
            tags.push(to.clone());
        }
        let patch: Map<String, Value> = [("tags".to_owned(), json!(tags))].into_iter().collect();
        records::update_in(db, &mut tx, p, entity, *id, &patch, None, &custom, &WriteOptions { allow_duplicates: true }).await?;
    }
    tx.commit().await?;
    Ok(TagChanged { records: ids.len() as i64 })
}
