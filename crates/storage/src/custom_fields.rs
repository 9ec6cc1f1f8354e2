//! Definitions of workspace custom fields. Their values live with each record (JSON, for
//! reading) and in `custom_values` (typed, indexed, for filters, sorting and uniqueness).
use crate::db::{Db, get_i64, get_str, query};
use crate::error::{Error, Result};
use crate::now_ms;
use accord_domain::ValidationErrors;
use accord_domain::custom_fields::{FieldDefinition, FieldType, valid_key};
use accord_domain::entities::Entity;
use accord_domain::query::CustomField;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CustomFieldInfo {
    pub id: i64,
    pub entity: Entity,
    pub key: String,
    pub label: String,
    pub field_type: FieldType,
    pub required: bool,
    pub unique: bool,
    pub options: Vec<String>,
    pub position: i64,
}

pub async fn list(db: &Db, workspace_id: i64, entity: Option<Entity>) -> Result<Vec<CustomFieldInfo>> {
    let rows = query("SELECT id, entity, field_key, label, field_type, required, unique_values, options, position FROM custom_field_defs WHERE workspace_id = $1 ORDER BY entity, position, id")
        .bind(workspace_id)
        .fetch_all(db)
        .await?;
    let mut out = Vec::new();
    for r in &rows {
        let e = Entity::parse(&get_str(r, "entity")?).ok_or_else(|| Error::Corrupt("unknown entity".into()))?;
        if entity.is_some_and(|x| x != e) {
            continue;
        }
        out.push(CustomFieldInfo {
            id: get_i64(r, "id")?,
            entity: e,
            key: get_str(r, "field_key")?,
            label: get_str(r, "label")?,
            field_type: FieldType::parse(&get_str(r, "field_type")?).ok_or_else(|| Error::Corrupt("unknown field type".into()))?,
            required: get_i64(r, "required")? == 1,
            unique: get_i64(r, "unique_values")? == 1,
            options: serde_json::from_str(&get_str(r, "options")?)?,
            position: get_i64(r, "position")?,
        });
    }
    Ok(out)
}

/// The definitions as the validator and the query parser need them.
pub async fn for_entity(db: &Db, workspace_id: i64, entity: Entity) -> Result<Vec<CustomField>> {
    Ok(list(db, workspace_id, Some(entity))
        .await?
        .into_iter()
        .map(|f| CustomField { id: f.id, def: FieldDefinition { key: f.key, field_type: f.field_type, required: f.required, unique: f.unique, options: f.options } })
        .collect())
}

#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewField {
    pub entity: Entity,
    /// Used in the API and in filters as `cf.<key>`
    pub key: String,
    pub label: String,
    pub field_type: FieldType,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub unique: bool,
    #[serde(default)]
    pub options: Vec<String>,
}

fn check(f: &NewField) -> Result<(String, Vec<String>)> {
    let mut e = ValidationErrors::new();
    if !valid_key(&f.key) {
        e.add("key", "invalid_key", "must start with a lower-case Latin letter and contain only a-z, 0-9 and _ (at most 60)");
    }
    let label = e.check("label", accord_domain::text::short(&f.label)).flatten();
    if label.is_none() && e.0.iter().all(|x| x.field != "label") {
        e.add("label", "required", "is required");
    }
    let mut options = Vec::new();
    for (i, o) in f.options.iter().enumerate() {
        match accord_domain::text::short(o) {
            Ok(Some(o)) if !options.contains(&o) => options.push(o),
            Ok(_) => e.add(format!("options[{i}]"), "duplicate_or_empty", "options must be distinct and non-empty"),
            Err(x) => e.add(format!("options[{i}]"), x.code, x.message),
        }
    }
    let is_select = matches!(f.field_type, FieldType::Select | FieldType::MultiSelect);
    if is_select && options.is_empty() {
        e.add("options", "required", "a select field needs options");
    }
    if !is_select && !options.is_empty() {
        e.add("options", "not_applicable", "only select fields have options");
    }
    if f.unique && matches!(f.field_type, FieldType::MultiSelect | FieldType::Boolean | FieldType::LongText) {
        e.add("unique", "not_applicable", "this type cannot be unique");
    }
    e.into_result()?;
    Ok((label.unwrap_or_default(), options))
}

pub async fn create(db: &Db, workspace_id: i64, f: NewField) -> Result<CustomFieldInfo> {
    let (label, options) = check(&f)?;
    let existing = list(db, workspace_id, Some(f.entity)).await?;
    if existing.iter().any(|x| x.key == f.key) {
        return Err(ValidationErrors::single("key", "taken", "a field with this key exists").into());
    }
    if f.required {
        // A new required field would make every existing record invalid on its next edit.
        let table = f.entity.table();
        let sql = format!("SELECT COUNT(*) AS n FROM (SELECT 1 FROM {table} WHERE workspace_id = $1 AND deleted_at IS NULL LIMIT 1) s");
        let row = query(sql).bind(workspace_id).fetch_one(db).await?;
        if get_i64(&row, "n")? > 0 {
            return Err(ValidationErrors::single("required", "records_exist", "records exist: create the field optional, fill it in, then make it required").into());
        }
    }
    let position = existing.len() as i64;
    let row = query("INSERT INTO custom_field_defs (workspace_id, entity, field_key, label, field_type, required, unique_values, options, position, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id")
        .bind(workspace_id)
        .bind(f.entity.as_str())
        .bind(&f.key)
        .bind(&label)
        .bind(f.field_type.as_str())
        .bind(i64::from(f.required))
        .bind(i64::from(f.unique))
        .bind(serde_json::to_string(&options)?)
        .bind(position)
        .bind(now_ms())
        .fetch_one(db)
        .await?;
    Ok(CustomFieldInfo { id: get_i64(&row, "id")?, entity: f.entity, key: f.key, label, field_type: f.field_type, required: f.required, unique: f.unique, options, position })
}

/// Changes the label, flags and options. The key and type stay: stored values depend on them.
pub async fn update(db: &Db, workspace_id: i64, id: i64, label: Option<String>, required: Option<bool>, options: Option<Vec<String>>) -> Result<CustomFieldInfo> {
    let current = list(db, workspace_id, None).await?.into_iter().find(|f| f.id == id).ok_or(Error::NotFound)?;
    let next = NewField {
        entity: current.entity,
        key: current.key.clone(),
        label: label.unwrap_or(current.label.clone()),
        field_type: current.field_type,
        required: required.unwrap_or(current.required),
        unique: current.unique,
        options: options.unwrap_or(current.options.clone()),
    };
    let (label, options) = check(&next)?;
    query("UPDATE custom_field_defs SET label = $1, required = $2, options = $3 WHERE id = $4 AND workspace_id = $5")
        .bind(&label)
        .bind(i64::from(next.required))
        .bind(serde_json::to_string(&options)?)
        .bind(id)
        .bind(workspace_id)
        .execute(&mut *db.writer().await?)
        .await?;
    Ok(CustomFieldInfo { label, required: next.required, options, ..current })
}

/// Deletes a field and its values (see [`crate::records::strip_custom_field`]).
pub async fn delete(db: &Db, p: &crate::accounts::Principal, id: i64) -> Result<u64> {
    let field = list(db, p.workspace_id, None).await?.into_iter().find(|f| f.id == id).ok_or(Error::NotFound)?;
    crate::records::strip_custom_field(db, p, field.id, &field.key).await
}
