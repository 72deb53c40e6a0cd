//! `/front/api/templates`: the invitation templates, their history (every saved text is a
//! version, so no edit loses the previous one), preview, and the audit log.

use super::admins::ts;
use super::auth::{AdminUser, audit};
use crate::db::models::{NewTemplate, NewTemplateVersion, Template, TemplateVersion, now};
use crate::db::schema::{audit_log, template_versions as tv, templates};
use crate::db::{DbConn, DbError};
use crate::http::AppError;
use crate::render;
use crate::server::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

#[derive(Serialize, ToSchema)]
pub struct TemplateView {
    pub id: i64,
    pub name: String,
    pub locale: String,
    pub html: String,
    pub active: bool,
    pub version: i64,
    pub updated_at: String,
    pub updated_by: String,
}

impl From<&Template> for TemplateView {
    fn from(t: &Template) -> Self {
        TemplateView {
            id: t.id,
            name: t.name.clone(),
            locale: t.locale.clone(),
            html: t.html.clone(),
            active: t.active,
            version: t.version,
            updated_at: ts(&t.updated_at),
            updated_by: t.updated_by.clone(),
        }
    }
}

/// Body of POST and PUT; PUT accepts what GET returned (`id`, `version`, `updated_*` are
/// ignored) and keeps what is missing.
#[derive(Deserialize, ToSchema)]
pub struct TemplateRequest {
    pub name: Option<String>,
    pub locale: Option<String>,
    pub html: Option<String>,
    pub active: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct VersionView {
    pub version: i64,
    pub name: String,
    pub locale: String,
    pub html: String,
    pub saved_at: String,
    pub saved_by: String,
}

fn invalid(field: &str, msg: &str) -> AppError {
    AppError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        format!("{field}: {msg}"),
    )
    .with_details(json!({ field: msg }))
}

fn check_locale(l: &str) -> Result<String, AppError> {
    let l = l.trim().to_owned();
    let mut parts = l.split(['-', '_']);
    let lang_ok = parts
        .next()
        .is_some_and(|p| (2..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphabetic()));
    let rest_ok =
        parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
    if !lang_ok || !rest_ok {
        return Err(invalid(
            "locale",
            "must be a language tag such as ru, en or ru-RU",
        ));
    }
    Ok(l.to_ascii_lowercase().replace('_', "-"))
}

fn check_name(n: &str) -> Result<String, AppError> {
    let n = n.trim().to_owned();
    if n.is_empty() || n.chars().count() > 255 {
        return Err(invalid("name", "must be 1 to 255 characters"));
    }
    Ok(n)
}

/// A template whose syntax is wrong: 422 naming the line.
fn check_syntax(html: &str) -> Result<(), AppError> {
    if html.len() > 5 * 1024 * 1024 {
        return Err(invalid("html", "must be at most 5 MiB"));
    }
    render::check(html).map_err(|e| {
        let line = e.line.map(|l| format!("line {l}: ")).unwrap_or_default();
        AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "template_syntax_error",
            format!("The template has a syntax error: {line}{}", e.message),
        )
        .with_details(json!({"line": e.line, "error": e.message}))
    })
}

fn not_found() -> AppError {
    AppError::not_found("There is no template with this id.")
}

fn one_active(conn: &mut DbConn, id: i64, locale: &str) -> Result<(), DbError> {
    diesel::update(
        templates::table
            .filter(templates::locale.eq(locale))
            .filter(templates::id.ne(id))
            .filter(templates::active.eq(true)),
    )
    .set(templates::active.eq(false))
    .execute(conn)?;
    Ok(())
}

fn save_version(conn: &mut DbConn, t: &Template) -> Result<(), DbError> {
    diesel::insert_into(tv::table)
        .values(NewTemplateVersion {
            template_id: t.id,
            version: t.version,
            name: &t.name,
            locale: &t.locale,
            html: &t.html,
            saved_at: t.updated_at,
            saved_by: &t.updated_by,
        })
        .execute(conn)?;
    Ok(())
}

fn load(conn: &mut DbConn, id: i64) -> Result<Template, DbError> {
    Ok(templates::table
        .find(id)
        .select(Template::as_select())
        .first(conn)?)
}

/// All templates.
#[utoipa::path(get, path = "/front/api/templates", tag = "console", security(("admin" = [])),
    responses((status = 200, body = Vec<TemplateView>), (status = 401, body = crate::core::openapi::ErrorBody),
        (status = 403, body = crate::core::openapi::ErrorBody)))]
pub async fn list(state: web::Data<AppState>, _who: AdminUser) -> Result<HttpResponse, AppError> {
    let rows = state
        .db
        .run(|conn| {
            Ok(templates::table
                .order(templates::id)
                .select(Template::as_select())
                .load(conn)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(TemplateView::from).collect::<Vec<_>>()))
}

/// One template.
#[utoipa::path(get, path = "/front/api/templates/{id}", tag = "console", security(("admin" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = TemplateView), (status = 401, body = crate::core::openapi::ErrorBody),
        (status = 404, body = crate::core::openapi::ErrorBody)))]
pub async fn get(
    state: web::Data<AppState>,
    _who: AdminUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let t = state
        .db
        .run(move |conn| load(conn, id))
        .await
        .map_err(|e| {
            if e.is_not_found() {
                not_found()
            } else {
                e.into()
            }
        })?;
    Ok(HttpResponse::Ok().json(TemplateView::from(&t)))
}

/// Create a template («Создать шаблон»); activating it deactivates the other of its locale.
#[utoipa::path(post, path = "/front/api/templates", tag = "console", security(("admin" = [])),
    request_body = TemplateRequest,
    responses((status = 201, body = TemplateView), (status = 401, body = crate::core::openapi::ErrorBody),
        (status = 422, body = crate::core::openapi::ErrorBody)))]
pub async fn create(
    state: web::Data<AppState>,
    who: AdminUser,
    body: web::Json<TemplateRequest>,
) -> Result<HttpResponse, AppError> {
    let name = check_name(body.name.as_deref().unwrap_or_default())?;
    let locale = check_locale(body.locale.as_deref().unwrap_or_default())?;
    let html = body.html.clone().unwrap_or_default();
    check_syntax(&html)?;
    let active = body.active.unwrap_or(false);
    let actor = who.0.login.clone();
    let t = state
        .db
        .run(move |conn| {
            conn.transaction(|conn| {
                let now = now();
                let id: i64 = diesel::insert_into(templates::table)
                    .values(NewTemplate {
                        name: &name,
                        locale: &locale,
                        html: &html,
                        active: false,
                        version: 1,
                        created_at: now,
                        updated_at: now,
                        updated_by: &actor,
                    })
                    .returning(templates::id)
                    .get_result(conn)?;
                if active {
                    one_active(conn, id, &locale)?;
                    diesel::update(templates::table.find(id))
                        .set(templates::active.eq(true))
                        .execute(conn)?;
                }
                let t = load(conn, id)?;
                save_version(conn, &t)?;
                audit(
                    conn,
                    &actor,
                    "template.create",
                    "template",
                    &id.to_string(),
                    json!({"name": t.name, "locale": t.locale, "active": t.active, "version": 1}),
                )?;
                render::bump_generation(conn)?;
                Ok(t)
            })
        })
        .await?;
    state.renderer.invalidate();
    Ok(HttpResponse::Created().json(TemplateView::from(&t)))
}

/// Change a template («Редактировать» → «Сохранить изменения»): a new version when the text,
/// name or locale changes.
#[utoipa::path(put, path = "/front/api/templates/{id}", tag = "console", security(("admin" = [])),
    params(("id" = i64, Path)), request_body = TemplateRequest,
    responses((status = 200, body = TemplateView), (status = 401, body = crate::core::openapi::ErrorBody),
        (status = 404, body = crate::core::openapi::ErrorBody), (status = 422, body = crate::core::openapi::ErrorBody)))]
pub async fn update(
    state: web::Data<AppState>,
    who: AdminUser,
    id: web::Path<i64>,
    body: web::Json<TemplateRequest>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let name = body.name.as_deref().map(check_name).transpose()?;
    let locale = body.locale.as_deref().map(check_locale).transpose()?;
    if let Some(h) = &body.html {
        check_syntax(h)?;
    }
    let (html, active) = (body.html.clone(), body.active);
    let actor = who.0.login.clone();
    let t = state
        .db
        .run(move |conn| {
            conn.transaction(|conn| {
                let before = load(conn, id)?;
                let name = name.unwrap_or(before.name.clone());
                let locale = locale.unwrap_or(before.locale.clone());
                let html = html.unwrap_or(before.html.clone());
                let active = active.unwrap_or(before.active);
                let text_changed =
                    name != before.name || locale != before.locale || html != before.html;
                if active {
                    one_active(conn, id, &locale)?;
                }
                let version = if text_changed {
                    before.version + 1
                } else {
                    before.version
                };
                diesel::update(templates::table.find(id))
                    .set((
                        templates::name.eq(&name),
                        templates::locale.eq(&locale),
                        templates::html.eq(&html),
                        templates::active.eq(active),
                        templates::version.eq(version),
                        templates::updated_at.eq(now()),
                        templates::updated_by.eq(&actor),
                    ))
                    .execute(conn)?;
                let t = load(conn, id)?;
                if text_changed {
                    save_version(conn, &t)?;
                }
                audit(
                    conn,
                    &actor,
                    "template.update",
                    "template",
                    &id.to_string(),
                    json!({
                        "version": t.version,
                        "previous_version": before.version,
                        "active": {"before": before.active, "after": t.active},
                        "name": {"before": before.name, "after": t.name},
                        "locale": {"before": before.locale, "after": t.locale},
                        "html_changed": html != before.html,
                    }),
                )?;
                render::bump_generation(conn)?;
                Ok(t)
            })
        })
        .await
        .map_err(|e| {
            if e.is_not_found() {
                not_found()
            } else {
                e.into()
            }
        })?;
    state.renderer.invalidate();
    Ok(HttpResponse::Ok().json(TemplateView::from(&t)))
}

/// Delete a template (its text stays in the audit log).
#[utoipa::path(delete, path = "/front/api/templates/{id}", tag = "console", security(("admin" = [])),
    params(("id" = i64, Path)),
    responses((status = 204, description = "deleted"), (status = 401, body = crate::core::openapi::ErrorBody),
        (status = 404, body = crate::core::openapi::ErrorBody)))]
pub async fn delete(
    state: web::Data<AppState>,
    who: AdminUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let actor = who.0.login.clone();
    state
        .db
        .run(move |conn| {
            conn.transaction(|conn| {
                let t = load(conn, id)?;
                diesel::delete(tv::table.filter(tv::template_id.eq(id))).execute(conn)?;
                diesel::delete(templates::table.find(id)).execute(conn)?;
                audit(conn, &actor, "template.delete", "template", &id.to_string(),
                    json!({"name": t.name, "locale": t.locale, "active": t.active, "version": t.version, "html": t.html}))?;
                render::bump_generation(conn)
            })
        })
        .await
        .map_err(|e| if e.is_not_found() { not_found() } else { e.into() })?;
    state.renderer.invalidate();
    Ok(HttpResponse::NoContent().finish())
}

/// Earlier versions, newest first.
#[utoipa::path(get, path = "/front/api/templates/{id}/history", tag = "console", security(("admin" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Vec<VersionView>), (status = 401, body = crate::core::openapi::ErrorBody),
        (status = 404, body = crate::core::openapi::ErrorBody)))]
pub async fn history(
    state: web::Data<AppState>,
    _who: AdminUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let rows = state
        .db
        .run(move |conn| {
            let t = load(conn, id)?;
            Ok(tv::table
                .filter(tv::template_id.eq(id))
                .filter(tv::version.ne(t.version))
                .order(tv::version.desc())
                .select(TemplateVersion::as_select())
                .load(conn)?)
        })
        .await
        .map_err(|e| {
            if e.is_not_found() {
                not_found()
            } else {
                e.into()
            }
        })?;
    Ok(HttpResponse::Ok().json(
        rows.iter()
            .map(|v| VersionView {
                version: v.version,
                name: v.name.clone(),
                locale: v.locale.clone(),
                html: v.html.clone(),
                saved_at: ts(&v.saved_at),
                saved_by: v.saved_by.clone(),
            })
            .collect::<Vec<_>>(),
    ))
}

/// Make an earlier text current again (as a new version; the replaced one stays in history).
#[utoipa::path(post, path = "/front/api/templates/{id}/history/{version}/restore", tag = "console",
    security(("admin" = [])), params(("id" = i64, Path), ("version" = i64, Path)),
    responses((status = 200, body = TemplateView), (status = 401, body = crate::core::openapi::ErrorBody),
        (status = 404, body = crate::core::openapi::ErrorBody)))]
pub async fn restore(
    state: web::Data<AppState>,
    who: AdminUser,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, AppError> {
    let (id, version) = path.into_inner();
    let actor = who.0.login.clone();
    let t = state
        .db
        .run(move |conn| {
            conn.transaction(|conn| {
                let before = load(conn, id)?;
                let old = tv::table
                    .filter(tv::template_id.eq(id).and(tv::version.eq(version)))
                    .select(TemplateVersion::as_select())
                    .first(conn)?;
                if before.active {
                    one_active(conn, id, &old.locale)?;
                }
                diesel::update(templates::table.find(id))
                    .set((
                        templates::name.eq(&old.name),
                        templates::locale.eq(&old.locale),
                        templates::html.eq(&old.html),
                        templates::version.eq(before.version + 1),
                        templates::updated_at.eq(now()),
                        templates::updated_by.eq(&actor),
                    ))
                    .execute(conn)?;
                let t = load(conn, id)?;
                save_version(conn, &t)?;
                audit(conn, &actor, "template.restore", "template", &id.to_string(),
                    json!({"restored_version": version, "replaced_version": before.version, "version": t.version}))?;
                render::bump_generation(conn)?;
                Ok(t)
            })
        })
        .await
        .map_err(|e| {
            if e.is_not_found() {
                AppError::not_found("There is no such template or version.")
            } else {
                e.into()
            }
        })?;
    state.renderer.invalidate();
    Ok(HttpResponse::Ok().json(TemplateView::from(&t)))
}

#[derive(Deserialize, ToSchema)]
pub struct PreviewRequest {
    pub html: String,
    #[serde(default)]
    pub locale: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PreviewResponse {
    pub html: String,
}

/// Render a template text with sample data.
#[utoipa::path(post, path = "/front/api/preview", tag = "console", security(("admin" = [])),
    request_body = PreviewRequest,
    responses((status = 200, body = PreviewResponse), (status = 401, body = crate::core::openapi::ErrorBody),
        (status = 422, body = crate::core::openapi::ErrorBody)))]
pub async fn preview(
    _who: AdminUser,
    body: web::Json<PreviewRequest>,
) -> Result<HttpResponse, AppError> {
    check_syntax(&body.html)?;
    let locale = body.locale.clone().unwrap_or_else(|| "en".into());
    let html = render::render_source(&body.html, &render::sample_data(&locale)).map_err(|e| {
        AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "template_syntax_error",
            format!("The template cannot be rendered: {}", e.message),
        )
        .with_details(json!({"line": e.line, "error": e.message}))
    })?;
    Ok(HttpResponse::Ok().json(PreviewResponse { html }))
}

#[derive(Deserialize, IntoParams)]
pub struct AuditQuery {
    /// At most this many entries (default 100, at most 1000).
    pub limit: Option<i64>,
    /// Entries older than this id (paging).
    pub before: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

/// Who changed what, when; newest first.
#[utoipa::path(get, path = "/front/api/audit", tag = "console", security(("admin" = [])), params(AuditQuery),
    responses((status = 200, body = Vec<AuditEntry>), (status = 401, body = crate::core::openapi::ErrorBody)))]
pub async fn audit_list(
    state: web::Data<AppState>,
    _who: AdminUser,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let before = q.before;
    type Row = (
        i64,
        chrono::NaiveDateTime,
        String,
        String,
        String,
        String,
        String,
    );
    let rows: Vec<Row> = state
        .db
        .run(move |conn| {
            let mut query = audit_log::table
                .select((
                    audit_log::id,
                    audit_log::at,
                    audit_log::actor,
                    audit_log::action,
                    audit_log::target_type,
                    audit_log::target_id,
                    audit_log::details,
                ))
                .order(audit_log::id.desc())
                .limit(limit)
                .into_boxed();
            if let Some(b) = before {
                query = query.filter(audit_log::id.lt(b));
            }
            Ok(query.load(conn)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(
        rows.into_iter()
            .map(
                |(id, at, actor, action, target_type, target_id, details)| AuditEntry {
                    id,
                    at: ts(&at),
                    actor,
                    action,
                    target_type,
                    target_id,
                    details: serde_json::from_str(&details).unwrap_or(serde_json::Value::Null),
                },
            )
            .collect::<Vec<_>>(),
    ))
}
