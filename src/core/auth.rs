//! Sign-in through AD FS: what the add-in needs to start it, the code and refresh
//! exchanges (done here, with our client secret), who is signed in, and the add-in policy.

use super::AuthUser;
use crate::adfs::{ExchangeError, TokenResponse};
use crate::http::AppError;
use crate::i18n::Lang;
use crate::server::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct AuthSettings {
    pub authorize_url: String,
    pub client_id: String,
    pub resource: String,
    pub redirect_uri: String,
}

fn adfs(state: &AppState, lang: Lang) -> Result<std::sync::Arc<crate::adfs::Adfs>, AppError> {
    state.adfs.clone().ok_or_else(|| {
        AppError::coded(StatusCode::SERVICE_UNAVAILABLE, "adfs_not_configured", lang)
    })
}

/// Where and how the add-in starts the AD FS sign-in.
#[utoipa::path(get, path = "/api/auth/settings", tag = "auth",
    responses((status = 200, body = AuthSettings), (status = 503, body = crate::core::openapi::ErrorBody)))]
pub async fn settings(state: web::Data<AppState>, lang: Lang) -> Result<HttpResponse, AppError> {
    let adfs = adfs(&state, lang)?;
    let s = adfs.settings();
    Ok(HttpResponse::Ok().json(AuthSettings {
        authorize_url: adfs.authorize_url(),
        client_id: s.client_id.clone(),
        resource: s.resource.clone(),
        redirect_uri: s.redirect_uri.clone(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct TokenRequest {
    pub code: String,
    #[serde(default)]
    pub redirect_uri: Option<String>,
    #[serde(default)]
    pub code_verifier: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

fn exchange_error(e: ExchangeError, lang: Lang) -> AppError {
    match e {
        ExchangeError::InvalidGrant(d) => {
            tracing::info!(target: "xmeet::adfs", detail = %d, "AD FS refused the code or refresh token");
            AppError::coded(StatusCode::UNAUTHORIZED, "invalid_grant", lang)
        }
        ExchangeError::ClientRejected(d) => {
            tracing::error!(target: "xmeet::adfs", detail = %d,
                "AD FS refused our client credentials: check adfs.client_id / adfs.client_secret \
                 (legacy AuthorizationOptions__Configuration__ServiceClientId / __ServiceClientSecret)");
            AppError::coded(StatusCode::BAD_GATEWAY, "adfs_client_rejected", lang)
        }
        ExchangeError::Rejected(d) => {
            tracing::warn!(target: "xmeet::adfs", detail = %d, "AD FS refused the token request");
            AppError::coded(StatusCode::BAD_REQUEST, "adfs_request_rejected", lang)
        }
        ExchangeError::Unavailable(d) => {
            tracing::error!(target: "xmeet::adfs", detail = %d,
                "AD FS is unavailable: check adfs.url (legacy AuthorizationOptions__Configuration__Url), \
                 the network, and for TLS errors tls.ca_files");
            AppError::coded(StatusCode::BAD_GATEWAY, "adfs_unavailable", lang)
        }
    }
}

fn required(field: &str, value: &str, lang: Lang) -> Result<(), AppError> {
    if value.trim().is_empty() {
        return Err(
            AppError::coded(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", lang)
                .with_details(serde_json::json!({ field: "is required" })),
        );
    }
    Ok(())
}

/// Exchange the authorization code the add-in received for tokens.
#[utoipa::path(post, path = "/api/auth/token", tag = "auth", request_body = TokenRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = crate::core::openapi::ErrorBody),
        (status = 422, body = crate::core::openapi::ErrorBody), (status = 502, body = crate::core::openapi::ErrorBody)))]
pub async fn token(
    state: web::Data<AppState>,
    lang: Lang,
    body: web::Json<TokenRequest>,
) -> Result<HttpResponse, AppError> {
    required("code", &body.code, lang)?;
    let adfs = adfs(&state, lang)?;
    let t = adfs
        .exchange_code(
            body.code.trim(),
            body.redirect_uri.as_deref().filter(|s| !s.is_empty()),
            body.code_verifier.as_deref().filter(|s| !s.is_empty()),
        )
        .await
        .map_err(|e| exchange_error(e, lang))?;
    Ok(HttpResponse::Ok().json(t))
}

/// Get a new access token with a refresh token.
#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = crate::core::openapi::ErrorBody),
        (status = 422, body = crate::core::openapi::ErrorBody), (status = 502, body = crate::core::openapi::ErrorBody)))]
pub async fn refresh(
    state: web::Data<AppState>,
    lang: Lang,
    body: web::Json<RefreshRequest>,
) -> Result<HttpResponse, AppError> {
    required("refresh_token", &body.refresh_token, lang)?;
    let adfs = adfs(&state, lang)?;
    let t = adfs
        .refresh(body.refresh_token.trim())
        .await
        .map_err(|e| exchange_error(e, lang))?;
    Ok(HttpResponse::Ok().json(t))
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub email: String,
    pub name: String,
}

/// Who is signed in.
#[utoipa::path(get, path = "/api/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = crate::core::openapi::ErrorBody)))]
pub async fn me(user: AuthUser) -> HttpResponse {
    HttpResponse::Ok().json(Me {
        email: user.0.email,
        name: user.0.name,
    })
}

#[derive(Serialize, ToSchema)]
pub struct ClientConfig {
    pub default_link_type: String,
    pub allowed_link_types: Vec<String>,
    pub deny_link_type: bool,
    pub password_required_link_types: Vec<String>,
    pub background_token_refresh: bool,
    pub token_refresh_period_secs: u64,
}

/// The add-in policy (what the guide's ExpressMeeting.dll.config held).
#[utoipa::path(get, path = "/api/client-config", tag = "auth",
    responses((status = 200, body = ClientConfig)))]
pub async fn client_config(state: web::Data<AppState>) -> HttpResponse {
    let p = &state.config.policy;
    HttpResponse::Ok().json(ClientConfig {
        default_link_type: p.default_link_type.clone(),
        allowed_link_types: p.allowed_link_types.clone(),
        deny_link_type: p.deny_link_type,
        password_required_link_types: p.password_required_link_types.clone(),
        background_token_refresh: p.background_token_refresh,
        token_refresh_period_secs: p.token_refresh_period_secs,
    })
}
