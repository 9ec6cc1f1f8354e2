//! Reports over HTTP: one operation for every report, answering JSON, CSV or XLSX.
use crate::auth::Auth;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use accord_domain::reports::{self as domain, ColumnKind, Report, ReportName, Table};
use accord_storage::reports;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;
use std::borrow::Cow;

/// Report parameters. Besides these, the filters `pipeline_id`, `owner_id`, `team_id`,
/// `source` and `tag` (also `owner_id[in]=3,4` …).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ReportParams {
    /// First day, inclusive (YYYY-MM-DD, in your time zone)
    from: Option<String>,
    /// Last day, inclusive
    to: Option<String>,
    /// day, week, month (default) or quarter
    group_by: Option<String>,
    /// json (default), csv or xlsx
    format: Option<String>,
    /// With `format=csv`: the table to write (default the first)
    table: Option<String>,
    /// funnel: days after which an open deal counts as aging (default 30)
    aging_days: Option<i64>,
    /// conversion: source (default), utm_source, utm_campaign or period
    by: Option<String>,
    /// products: how many (1–100, default 20)
    limit: Option<u32>,
    /// products: revenue (default) or quantity
    sort: Option<String>,
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A report over a date range
#[utoipa::path(get, path = "/api/v1/reports/{name}", tag = "reports", description = include_str!("reports.md"),
    params(("name" = ReportName, Path, description = "The report"), ReportParams),
    responses(
        (status = 200, description = "The report; CSV or XLSX with `format`", content(
            (Report = "application/json"),
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 404, body = crate::problem::Problem),
        (status = 422, body = crate::problem::Problem)))]
pub async fn get_report(State(s): State<AppState>, Auth(p): Auth, Path(name): Path<String>, Query(params): Query<Vec<(String, String)>>) -> ApiResult<Response> {
    let name = ReportName::parse(&name).ok_or_else(ApiError::not_found)?;
    let tz: chrono_tz::Tz = p.user.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    let request = domain::parse_request(name, &params, today)?;
    let param = |k: &str| params.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    let format = param("format").unwrap_or("json");
    if !matches!(format, "json" | "csv" | "xlsx") {
        return Err(ApiError::field("format", "invalid_choice", "must be json, csv or xlsx"));
    }
    let report = reports::run(&s.db, &p, &request).await?;
    let file = format!("accord-{}-{}-{}", name.as_str(), report.from, report.to);
    match format {
        "csv" => {
            let table = match param("table") {
                Some(t) => report.tables.iter().find(|x| x.name == t).ok_or_else(|| ApiError::field("table", "unknown_table", "is not a table of this report"))?,
                None => report.tables.first().ok_or_else(ApiError::not_found)?,
            };
            Ok(attachment(csv(table)?, "text/csv; charset=utf-8", &format!("{file}.csv")))
        }
        "xlsx" => Ok(attachment(xlsx(&report)?, XLSX, &format!("{file}.xlsx"))),
        _ => Ok(Json(report).into_response()),
    }
}

fn attachment(body: Vec<u8>, content_type: &'static str, filename: &str) -> Response {
    let mut resp = body.into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

/// A text cell as a spreadsheet will not run it: a leading `= + - @` would start a formula.
pub(crate) fn neutralized<'a>(s: impl Into<Cow<'a, str>>) -> Cow<'a, str> {
    let s = s.into();
    if s.starts_with(['=', '+', '-', '@']) { Cow::Owned(format!("'{s}")) } else { s }
}

fn cell_text(kind: ColumnKind, v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) if matches!(kind, ColumnKind::Text) => neutralized(s.as_str()).into_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "writing a report file");
    ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, "internal", "an internal error occurred")
}

fn csv(table: &Table) -> ApiResult<Vec<u8>> {
    let mut w = ::csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    w.write_record(table.columns.iter().map(|c| c.key.as_str())).map_err(internal)?;
    for row in &table.rows {
        w.write_record(table.columns.iter().map(|c| cell_text(c.kind, row.get(&c.key).unwrap_or(&Value::Null)))).map_err(internal)?;
    }
    w.into_inner().map_err(internal)
}

fn xlsx(report: &Report) -> ApiResult<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook, Worksheet};
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0.00");
    let mut book = Workbook::new();
    let write = |sheet: &mut Worksheet, row: u32, col: u16, kind: ColumnKind, v: &Value| -> Result<(), rust_xlsxwriter::XlsxError> {
        let number = match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) if !matches!(kind, ColumnKind::Text | ColumnKind::Period) => s.parse::<f64>().ok(),
            _ => None,
        };
        match (number, v) {
            (Some(n), _) if kind == ColumnKind::Money => sheet.write_number_with_format(row, col, n, &money).map(|_| ()),
            (Some(n), _) => sheet.write_number(row, col, n).map(|_| ()),
            (None, Value::Null) => Ok(()),
            (None, _) => sheet.write_string(row, col, cell_text(ColumnKind::Period, v)).map(|_| ()),
        }
    };
    let summary = book.add_worksheet().set_name("summary").map_err(internal)?;
    for (i, (k, v)) in report.summary.iter().enumerate() {
        let row = u32::try_from(i).map_err(internal)?;
        summary.write_string_with_format(row, 0, k, &bold).map_err(internal)?;
        write(summary, row, 1, ColumnKind::Decimal, v).map_err(internal)?;
    }
    for table in &report.tables {
        let sheet = book.add_worksheet().set_name(&table.name).map_err(internal)?;
        for (c, col) in table.columns.iter().enumerate() {
            sheet.write_string_with_format(0, u16::try_from(c).map_err(internal)?, &col.key, &bold).map_err(internal)?;
        }
        for (r, row) in table.rows.iter().enumerate() {
            let r = u32::try_from(r + 1).map_err(internal)?;
            for (c, col) in table.columns.iter().enumerate() {
                write(sheet, r, u16::try_from(c).map_err(internal)?, col.kind, row.get(&col.key).unwrap_or(&Value::Null)).map_err(internal)?;
            }
        }
    }
    book.save_to_buffer().map_err(internal)
}
