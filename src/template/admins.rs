//! `/front/api/admins`: console accounts. Hashes never leave the server; the last admin
//! cannot be deleted; a deleted admin's tokens stop working at once.

use super::auth::{AdminUser, audit, check_new_password, hash_password};
use crate::db::DbError;
use crate::db::models::{Admin, NewAdmin, now};
use crate::db::schema::admins;
use crate::http::AppError;
use crate::server::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct AdminView {
    pub id: i64,
    pub login: String,
    pub display_name: String,
    pub email: String,
    pub created_at: String,
    pub updated_at: String,
}

pub fn ts(t: &chrono::NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl From<&Admin> for AdminView {
    fn from(a: &Admin) -> Self {
        AdminView {
            id: a.id,
            login: a.login.clone(),
            display_name: a.display_name.clone(),
            email: a.email.clone(),
            created_at: ts(&a.created_at),
            updated_at: ts(&a.updated_at),
        }
    }
}

/// Body of POST and PUT. PUT accepts what GET returned: `id`, `created_at`, `updated_at`
/// are ignored; a missing `password` keeps the current one.
#[derive(Deserialize, ToSchema)]
pub struct AdminRequest {
    pub login: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
}

fn invalid(field: &str, msg: &str) -> AppError {
    AppError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        format!("{field}: {msg}"),
    )
    .with_details(json!({ field: msg }))
}

fn check_login(login: &str) -> Result<String, AppError> {
    let l = login.trim().to_lowercase();
    if l.is_empty()
        || l.chars().count() > 64
        || l.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(invalid(
            "login",
            "must be 1 to 64 characters without spaces",
        ));
    }
    Ok(l)
}

fn check_email(email: &str) -> Result<String, AppError> {
    let e = email.trim().to_lowercase();
    if !e.is_empty() && !crate::core::conferences::is_email(&e) {
        return Err(invalid("email", "is not a valid e-mail address"));
    }
    Ok(e)
}

fn taken(e: DbError) -> AppError {
    if e.is_unique_violation() {
        AppError::new(
            StatusCode::CONFLICT,
            "login_taken",
            "An administrator with this login already exists.",
        )
        .with_details(json!({"login": "is already taken"}))
    } else {
        e.into()
    }
}

fn not_found() -> AppError {
    AppError::not_found("There is no administrator with this id.")
}

/// All console admins.
#[utoipa::path(get, path = "/front/api/admins", tag = "console", security(("admin" = [])),
    responses((status = 200, body = Vec<AdminView>), (status = 401, body = crate::core::openapi::ErrorBody),
        (status = 403, body = crate::core::openapi::ErrorBody)))]
pub async fn list(state: web::Data<AppState>, _who: AdminUser) -> Result<HttpResponse, AppError> {
    let rows = state
        .db
        .run(|conn| {
            Ok(admins::table
                .order(admins::id)
                .select(Admin::as_select())
                .load(conn)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(AdminView::from).collect::<Vec<_>>()))
}

/// One admin.
#[utoipa::path(get, path = "/front/api/admins/{id}", tag = "console", security(("admin" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = AdminView), (status = 401, body = crate::core::openapi::ErrorBody),
        (status = 404, body = crate::core::openapi::ErrorBody)))]
pub async fn get(
    state: web::Data<AppState>,
    _who: AdminUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let a = state
        .db
        .run(move |conn| {
            Ok(admins::table
                .find(id)
                .select(Admin::as_select())
                .first(conn)
                .optional()?)
        })
        .await?
        .ok_or_else(not_found)?;
    Ok(HttpResponse::Ok().json(AdminView::from(&a)))
}

/// Add an admin («Добавить пользователя»).
#[utoipa::path(post, path = "/front/api/admins", tag = "console", security(("admin" = [])),
    request_body = AdminRequest,
    responses((status = 201, body = AdminView), (status = 401, body = crate::core::openapi::ErrorBody),
        (status = 409, body = crate::core::openapi::ErrorBody), (status = 422, body = crate::core::openapi::ErrorBody)))]
pub async fn create(
    state: web::Data<AppState>,
    who: AdminUser,
    body: web::Json<AdminRequest>,
) -> Result<HttpResponse, AppError> {
    let login = check_login(body.login.as_deref().unwrap_or_default())?;
    let email = check_email(body.email.as_deref().unwrap_or_default())?;
    let password = body.password.clone().unwrap_or_default();
    check_new_password(&password)
        .map_err(|_| invalid("password", "must have at least 10 characters"))?;
    let display_name = body
        .display_name
        .clone()
        .unwrap_or_default()
        .trim()
        .to_owned();
    let hash = web::block(move || hash_password(&password))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)?;
    let actor = who.0.login.clone();
    let created = state
        .db
        .run(move |conn| {
            conn.transaction(|conn| {
                let t = now();
                let id: i64 = diesel::insert_into(admins::table)
                    .values(NewAdmin {
                        login: &login,
                        display_name: &display_name,
                        email: &email,
                        password_hash: &hash,
                        must_change_password: false,
                        created_at: t,
                        updated_at: t,
                    })
                    .returning(admins::id)
                    .get_result(conn)?;
                audit(
                    conn,
                    &actor,
                    "admin.create",
                    "admin",
                    &id.to_string(),
                    json!({"login": login, "display_name": display_name, "email": email}),
                )?;
                Ok(admins::table
                    .find(id)
                    .select(Admin::as_select())
                    .first(conn)?)
            })
        })
        .await
        .map_err(taken)?;
    Ok(HttpResponse::Created().json(AdminView::from(&created)))
}

/// Change an admin («Редактировать» → «Сохранить»).
#[utoipa::path(put, path = "/front/api/admins/{id}", tag = "console", security(("admin" = [])),
    params(("id" = i64, Path)), request_body = AdminRequest,
    responses((status = 200, body = AdminView), (status = 401, body = crate::core::openapi::ErrorBody),
        (status = 404, body = crate::core::openapi::ErrorBody), (status = 409, body = crate::core::openapi::ErrorBody),
        (status = 422, body = crate::core::openapi::ErrorBody)))]
pub async fn update(
    state: web::Data<AppState>,
    who: AdminUser,
    id: web::Path<i64>,
    body: web::Json<AdminRequest>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let login = body.login.as_deref().map(check_login).transpose()?;
    let email = body.email.as_deref().map(check_email).transpose()?;
    let display_name = body.display_name.as_deref().map(|d| d.trim().to_owned());
    let hash = match body.password.clone().filter(|p| !p.is_empty()) {
        Some(p) => {
            check_new_password(&p)
                .map_err(|_| invalid("password", "must have at least 10 characters"))?;
            Some(
                web::block(move || hash_password(&p))
                    .await
                    .map_err(AppError::internal)?
                    .map_err(AppError::internal)?,
            )
        }
        None => None,
    };
    let actor = who.0.login.clone();
    let updated = state
        .db
        .run(move |conn| {
            conn.transaction(|conn| {
                let before = admins::table.find(id).select(Admin::as_select()).first(conn)?;
                let t = now();
                diesel::update(admins::table.find(id))
                    .set((
                        admins::login.eq(login.as_deref().unwrap_or(&before.login)),
                        admins::display_name.eq(display_name.as_deref().unwrap_or(&before.display_name)),
                        admins::email.eq(email.as_deref().unwrap_or(&before.email)),
                        admins::updated_at.eq(t),
                    ))
                    .execute(conn)?;
                if let Some(h) = &hash {
                    // a new password ends that admin's sessions
                    diesel::update(admins::table.find(id))
                        .set((
                            admins::password_hash.eq(h),
                            admins::must_change_password.eq(false),
                            admins::token_version.eq(admins::token_version + 1),
                        ))
                        .execute(conn)?;
                }
                let after = admins::table.find(id).select(Admin::as_select()).first(conn)?;
                audit(conn, &actor, "admin.update", "admin", &id.to_string(), json!({
                    "before": {"login": before.login, "display_name": before.display_name, "email": before.email},
                    "after": {"login": after.login, "display_name": after.display_name, "email": after.email},
                    "password_changed": hash.is_some(),
                }))?;
                Ok(after)
            })
        })
        .await
        .map_err(|e| if e.is_not_found() { not_found() } else { taken(e) })?;
    Ok(HttpResponse::Ok().json(AdminView::from(&updated)))
}

/// Delete an admin; never the last one.
#[utoipa::path(delete, path = "/front/api/admins/{id}", tag = "console", security(("admin" = [])),
    params(("id" = i64, Path)),
    responses((status = 204, description = "deleted"), (status = 401, body = crate::core::openapi::ErrorBody),
        (status = 404, body = crate::core::openapi::ErrorBody), (status = 409, body = crate::core::openapi::ErrorBody)))]
pub async fn delete(
    state: web::Data<AppState>,
    who: AdminUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let actor = who.0.login.clone();
    let outcome = state
        .db
        .run(move |conn| {
            conn.transaction(|conn| {
                crate::db::lock_table(conn, "admins")?;
                let Some(target) = admins::table.find(id).select(Admin::as_select()).first(conn).optional()? else {
                    return Ok(Err(not_found()));
                };
                let count: i64 = admins::table.count().get_result(conn)?;
                if count <= 1 {
                    return Ok(Err(AppError::new(
                        StatusCode::CONFLICT,
                        "last_admin",
                        "The last administrator cannot be deleted.",
                    )));
                }
                diesel::delete(admins::table.find(id)).execute(conn)?;
                audit(conn, &actor, "admin.delete", "admin", &id.to_string(),
                    json!({"login": target.login, "display_name": target.display_name, "email": target.email}))?;
                Ok(Ok(()))
            })
        })
        .await?;
    outcome?;
    Ok(HttpResponse::NoContent().finish())
}
