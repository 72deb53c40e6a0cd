//! Console sign-in: Argon2id passwords, HS256 console tokens, the forced first password
//! change, and the brute-force brake.

use crate::config::Config;
use crate::db::models::{Admin, NewAuditEntry, now};
use crate::db::schema::{admins, audit_log, settings};
use crate::db::{Db, DbConn, DbError};
use crate::http::AppError;
use crate::server::AppState;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, dev::Payload, web};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use base64::Engine;
use diesel::prelude::*;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};
use utoipa::ToSchema;

pub const MIN_PASSWORD: usize = 10;
const KEY_SETTING: &str = "admin.jwt_key";

/// Signing and checking console tokens.
pub struct AdminJwt {
    encoding: EncodingKey,
    decoding: DecodingKey,
    issuer: String,
    audience: String,
    ttl: Duration,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    /// The admin's id.
    sub: String,
    /// The admin's token version: raised by a password change, so older tokens stop working.
    ver: i64,
    iss: String,
    aud: String,
    iat: i64,
    exp: i64,
}

/// The configured key, or the one kept in the database (generated once, the same for every
/// replica and every restart).
fn key_bytes(config: &Config, conn: &mut DbConn) -> Result<Vec<u8>, DbError> {
    if !config.admin.jwt_key.is_empty() {
        return Ok(config.admin.jwt_key.expose().as_bytes().to_vec());
    }
    let read = |conn: &mut DbConn| -> Result<Option<String>, DbError> {
        Ok(settings::table
            .filter(settings::name.eq(KEY_SETTING))
            .select(settings::value)
            .first::<String>(conn)
            .optional()?)
    };
    if let Some(k) = read(conn)? {
        return Ok(k.into_bytes());
    }
    let mut raw = [0u8; 48];
    aws_lc_rs::rand::fill(&mut raw).map_err(|_| DbError::Migration("no randomness".into()))?;
    let generated = base64::engine::general_purpose::STANDARD.encode(raw);
    let inserted = diesel::insert_into(settings::table)
        .values((
            settings::name.eq(KEY_SETTING),
            settings::value.eq(&generated),
            settings::updated_at.eq(now()),
        ))
        .execute(conn);
    match inserted.map_err(DbError::from) {
        Ok(_) => {
            tracing::info!(target: "xmeet::template::auth", "generated the console token key and stored it in the database");
            Ok(generated.into_bytes())
        }
        // another replica was faster: use its key
        Err(e) if e.is_unique_violation() => read(conn)?
            .map(String::into_bytes)
            .ok_or(DbError::Query(diesel::result::Error::NotFound)),
        Err(e) => Err(e),
    }
}

impl AdminJwt {
    pub fn load(config: &Config, db: &Db) -> Result<AdminJwt, String> {
        let mut conn = db
            .get()
            .map_err(|e| format!("cannot reach the database for the console token key: {e}"))?;
        let key = key_bytes(config, &mut conn).map_err(|e| {
            format!("cannot read or store the console token key (admin.jwt_key): {e}")
        })?;
        Ok(AdminJwt {
            encoding: EncodingKey::from_secret(&key).map_err(|e| format!("admin.jwt_key: {e}"))?,
            decoding: DecodingKey::from_secret(&key).map_err(|e| format!("admin.jwt_key: {e}"))?,
            issuer: config.admin.jwt_issuer.clone(),
            audience: config.admin.jwt_audience.clone(),
            ttl: Duration::from_secs(config.admin.token_ttl_secs.min(12 * 3600)),
        })
    }

    fn issue(&self, admin: &Admin) -> Result<(String, chrono::DateTime<chrono::Utc>), AppError> {
        let now = chrono::Utc::now();
        let exp = now + chrono::Duration::from_std(self.ttl).unwrap_or(chrono::Duration::hours(8));
        let claims = Claims {
            sub: admin.id.to_string(),
            ver: admin.token_version,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now.timestamp(),
            exp: exp.timestamp(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(AppError::internal)?;
        Ok((token, exp))
    }

    fn check(&self, token: &str) -> Option<(i64, i64)> {
        let mut v = Validation::new(Algorithm::HS256);
        v.set_issuer(&[&self.issuer]);
        v.set_audience(&[&self.audience]);
        v.leeway = 30;
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &v).ok()?;
        Some((data.claims.sub.parse().ok()?, data.claims.ver))
    }
}

/// Hash a password with Argon2id (call off the async workers).
pub fn hash_password(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// A real hash of nothing in particular: checked against for unknown logins, so that an
/// unknown login takes as long as a wrong password.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password("not a password of anyone").unwrap_or_default());

/// Does `password` open an account with `hash`? `''` is the seeded "no password yet".
fn password_matches(hash: Option<&str>, password: &str) -> bool {
    match hash {
        Some("") => {
            let _ = Argon2::default().verify_password(password.as_bytes(), DUMMY_HASH.as_str());
            password.is_empty()
        }
        Some(h) => Argon2::default()
            .verify_password(password.as_bytes(), h)
            .is_ok(),
        None => {
            let _ = Argon2::default().verify_password(password.as_bytes(), DUMMY_HASH.as_str());
            false
        }
    }
}

/// Failed sign-ins per login and per address within the window (per replica, in memory).
pub struct LoginBrake {
    max: usize,
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginBrake {
    pub fn new(config: &Config) -> LoginBrake {
        LoginBrake {
            max: config.admin.max_login_failures.max(1) as usize,
            window: Duration::from_secs(config.admin.lockout_window_secs.max(1)),
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Seconds to wait when `key` has had too many failures.
    fn blocked(&self, key: &str) -> Option<u64> {
        let mut map = self.failures.lock().ok()?;
        let q = map.get_mut(key)?;
        while q.front().is_some_and(|t| t.elapsed() > self.window) {
            q.pop_front();
        }
        if q.len() >= self.max {
            let oldest = q.front()?;
            return Some(
                self.window
                    .saturating_sub(oldest.elapsed())
                    .as_secs()
                    .max(1),
            );
        }
        None
    }

    fn fail(&self, key: String) {
        if let Ok(mut map) = self.failures.lock() {
            if map.len() > 100_000 {
                let window = self.window;
                map.retain(|_, q| q.back().is_some_and(|t| t.elapsed() < window));
            }
            map.entry(key).or_default().push_back(Instant::now());
        }
    }

    fn clear(&self, key: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(key);
        }
    }
}

pub fn audit(
    conn: &mut DbConn,
    actor: &str,
    action: &str,
    target_type: &str,
    target_id: &str,
    details: serde_json::Value,
) -> Result<(), DbError> {
    diesel::insert_into(audit_log::table)
        .values(NewAuditEntry {
            at: now(),
            actor,
            action,
            target_type,
            target_id,
            details: &details.to_string(),
        })
        .execute(conn)?;
    Ok(())
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    pub login: String,
    #[serde(default)]
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    pub token: String,
    pub expires_at: String,
    pub must_change_password: bool,
}

fn peer(req: &HttpRequest) -> IpAddr {
    req.peer_addr()
        .map(|a| a.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

fn state_parts(state: &AppState) -> Result<(&AdminJwt, &LoginBrake), AppError> {
    match (&state.admin_jwt, &state.login_brake) {
        (Some(j), Some(b)) => Ok((j, b)),
        _ => Err(AppError::internal(
            "console sign-in is not set up on this role",
        )),
    }
}

/// Sign in to the console.
#[utoipa::path(post, path = "/front/api/login", tag = "console", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = crate::core::openapi::ErrorBody),
        (status = 429, body = crate::core::openapi::ErrorBody)))]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, AppError> {
    let (jwt, brake) = state_parts(&state)?;
    let login = body.login.trim().to_lowercase();
    let ip = peer(&req);
    let (login_key, ip_key) = (format!("login:{login}"), format!("ip:{ip}"));
    if let Some(wait) = brake.blocked(&login_key).or_else(|| brake.blocked(&ip_key)) {
        tracing::warn!(target: "xmeet::template::auth", login = %login, %ip, "sign-in refused: too many failures");
        return Err(AppError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            format!("Too many failed sign-ins. Try again in {wait} seconds."),
        )
        .with_header(header::RETRY_AFTER, &wait.to_string()));
    }
    let lookup = login.clone();
    let admin = state
        .db
        .run(move |conn| {
            Ok(admins::table
                .filter(admins::login.eq(&lookup))
                .select(Admin::as_select())
                .first(conn)
                .optional()?)
        })
        .await?;
    let password = body.password.clone();
    let hash = admin.as_ref().map(|a| a.password_hash.clone());
    let ok = web::block(move || password_matches(hash.as_deref(), &password))
        .await
        .map_err(AppError::internal)?;
    let Some(admin) = admin.filter(|_| ok) else {
        brake.fail(login_key);
        brake.fail(ip_key);
        tracing::warn!(target: "xmeet::template::auth", login = %login, %ip, "failed console sign-in");
        return Err(AppError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "The login or the password is wrong.",
        ));
    };
    brake.clear(&login_key);
    let (token, exp) = jwt.issue(&admin)?;
    tracing::info!(target: "xmeet::template::auth", login = %admin.login, %ip, "console sign-in");
    Ok(HttpResponse::Ok().json(LoginResponse {
        token,
        expires_at: exp.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        must_change_password: admin.must_change_password,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordRequest {
    #[serde(default)]
    pub current_password: String,
    pub new_password: String,
}

pub fn check_new_password(p: &str) -> Result<(), AppError> {
    if p.chars().count() < MIN_PASSWORD {
        return Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            format!("The new password must have at least {MIN_PASSWORD} characters."),
        )
        .with_details(
            serde_json::json!({"new_password": format!("at least {MIN_PASSWORD} characters")}),
        ));
    }
    Ok(())
}

/// Change one's own password (also the forced first change). Signs out every session.
#[utoipa::path(post, path = "/front/api/password", tag = "console", request_body = PasswordRequest,
    security(("admin" = [])),
    responses((status = 204, description = "changed; sign in again"), (status = 401, body = crate::core::openapi::ErrorBody),
        (status = 422, body = crate::core::openapi::ErrorBody)))]
pub async fn change_password(
    state: web::Data<AppState>,
    who: AnyAdmin,
    body: web::Json<PasswordRequest>,
) -> Result<HttpResponse, AppError> {
    let admin = who.0;
    check_new_password(&body.new_password)?;
    let (current, new) = (body.current_password.clone(), body.new_password.clone());
    let hash = admin.password_hash.clone();
    let new_hash = web::block(move || {
        if !password_matches(Some(&hash), &current) {
            return Ok(None);
        }
        hash_password(&new).map(Some)
    })
    .await
    .map_err(AppError::internal)?
    .map_err(AppError::internal)?;
    let Some(new_hash) = new_hash else {
        return Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "The current password is wrong.",
        )
        .with_details(serde_json::json!({"current_password": "is wrong"})));
    };
    let (id, login) = (admin.id, admin.login.clone());
    state
        .db
        .run(move |conn| {
            conn.transaction(|conn| {
                diesel::update(admins::table.find(id))
                    .set((
                        admins::password_hash.eq(&new_hash),
                        admins::must_change_password.eq(false),
                        admins::token_version.eq(admins::token_version + 1),
                        admins::updated_at.eq(now()),
                    ))
                    .execute(conn)?;
                audit(
                    conn,
                    &login,
                    "admin.password_change",
                    "admin",
                    &id.to_string(),
                    serde_json::json!({}),
                )
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A signed-in console admin, the password change done. Every console endpoint but the
/// password change takes this: until then they answer 403 `password_change_required`.
pub struct AdminUser(pub Admin);

/// A signed-in console admin, whether or not the first password change is done.
pub struct AnyAdmin(pub Admin);

fn unauthorized() -> AppError {
    AppError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        "Your console session is missing or has ended. Sign in again.",
    )
    .with_header(header::WWW_AUTHENTICATE, "Bearer")
}

fn authenticate(req: &HttpRequest) -> Pin<Box<dyn Future<Output = Result<Admin, AppError>>>> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let token = crate::http::bearer_token(req);
    Box::pin(async move {
        let state = state.ok_or_else(unauthorized)?;
        let jwt = state.admin_jwt.as_ref().ok_or_else(unauthorized)?;
        let (id, ver) = token
            .as_deref()
            .and_then(|t| jwt.check(t))
            .ok_or_else(unauthorized)?;
        // the admin must still exist with the same token version: deleting an admin or
        // changing a password ends their sessions at once
        let admin = state
            .db
            .run(move |conn| {
                Ok(admins::table
                    .find(id)
                    .select(Admin::as_select())
                    .first(conn)
                    .optional()?)
            })
            .await?
            .filter(|a| a.token_version == ver)
            .ok_or_else(unauthorized)?;
        Ok(admin)
    })
}

impl FromRequest for AnyAdmin {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let fut = authenticate(req);
        Box::pin(async move { fut.await.map(AnyAdmin).map_err(Into::into) })
    }
}

impl FromRequest for AdminUser {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let fut = authenticate(req);
        Box::pin(async move {
            let admin = fut.await?;
            if admin.must_change_password {
                return Err(AppError::new(
                    StatusCode::FORBIDDEN,
                    "password_change_required",
                    "Change your password first (POST /front/api/password).",
                )
                .into());
            }
            Ok(AdminUser(admin))
        })
    }
}

/// `xmeet admin set-password --login L`: set a password from the shell (the account is
/// created when it does not exist) and end the account's sessions.
pub fn set_password(conn: &mut DbConn, login: &str, password: &str) -> Result<bool, String> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(format!(
            "the password must have at least {MIN_PASSWORD} characters"
        ));
    }
    let hash = hash_password(password)?;
    let login = login.trim().to_lowercase();
    if login.is_empty() {
        return Err("--login must not be empty".into());
    }
    conn.transaction(|conn| {
        let t = now();
        let updated = diesel::update(admins::table.filter(admins::login.eq(&login)))
            .set((
                admins::password_hash.eq(&hash),
                admins::must_change_password.eq(false),
                admins::token_version.eq(admins::token_version + 1),
                admins::updated_at.eq(t),
            ))
            .execute(conn)?;
        let created = updated == 0;
        if created {
            diesel::insert_into(admins::table)
                .values(crate::db::models::NewAdmin {
                    login: &login,
                    display_name: &login,
                    email: "",
                    password_hash: &hash,
                    must_change_password: false,
                    created_at: t,
                    updated_at: t,
                })
                .execute(conn)?;
        }
        audit(
            conn,
            "xmeet admin set-password",
            if created {
                "admin.create"
            } else {
                "admin.password_reset"
            },
            "admin",
            &login,
            serde_json::json!({"login": login}),
        )?;
        Ok::<bool, DbError>(created)
    })
    .map_err(|e| e.to_string())
}
