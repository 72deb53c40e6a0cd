//! The core role (default port 7100): the API the Outlook add-in talks to (SPEC §3).

pub mod auth;
pub mod client_log;
pub mod conferences;
pub mod idempotency;
pub mod invitation;
pub mod openapi;

use crate::adfs::User;
use crate::http::AppError;
use crate::i18n::Lang;
use crate::server::AppState;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header, web};
use std::future::Future;
use std::pin::Pin;

pub fn routes(cfg: &mut web::ServiceConfig) {
    crate::http::health_routes(cfg);
    cfg.service(web::resource("/metrics").route(web::get().to(crate::metrics::endpoint)))
        .service(web::resource("/api/openapi.json").route(web::get().to(openapi::document)))
        .service(web::resource("/api/auth/settings").route(web::get().to(auth::settings)))
        .service(web::resource("/api/auth/token").route(web::post().to(auth::token)))
        .service(web::resource("/api/auth/refresh").route(web::post().to(auth::refresh)))
        .service(web::resource("/api/me").route(web::get().to(auth::me)))
        .service(web::resource("/api/client-config").route(web::get().to(auth::client_config)))
        .service(
            web::resource("/api/conferences")
                .route(web::get().to(conferences::list))
                .route(web::post().to(conferences::create)),
        )
        .service(
            web::resource("/api/conferences/{call_id}")
                .route(web::get().to(conferences::get))
                .route(web::put().to(conferences::change))
                .route(web::delete().to(conferences::delete)),
        )
        .service(web::resource("/api/invitation").route(web::get().to(invitation::get)))
        .service(
            web::resource("/api/log/json")
                .app_data(web::PayloadConfig::new(client_log::MAX_BODY))
                .route(web::post().to(client_log::post)),
        );
}

/// The person signed in with a valid AD FS access token. A handler that takes this argument
/// is reachable only with `Authorization: Bearer <token>`; otherwise 401 `invalid_token`.
#[derive(Debug, Clone)]
pub struct AuthUser(pub User);

fn invalid_token(lang: Lang, description: &str) -> AppError {
    AppError::coded(StatusCode::UNAUTHORIZED, "invalid_token", lang).with_header(
        header::WWW_AUTHENTICATE,
        &format!("Bearer error=\"invalid_token\", error_description=\"{description}\""),
    )
}

impl FromRequest for AuthUser {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let lang = Lang::of(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = crate::http::bearer_token(req);
        Box::pin(async move {
            let Some(token) = token else {
                crate::metrics::token_rejected("missing");
                return Err(invalid_token(lang, "no bearer token").into());
            };
            let Some(adfs) = state.as_ref().and_then(|s| s.adfs.clone()) else {
                return Err(AppError::coded(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "adfs_not_configured",
                    lang,
                )
                .into());
            };
            match adfs.verify(&token).await {
                Ok(user) => Ok(AuthUser(user)),
                Err(reason) => {
                    crate::metrics::token_rejected(reason.label());
                    tracing::info!(target: "xmeet::core::auth", reason = reason.label(), "access token rejected");
                    Err(invalid_token(lang, "the access token is not valid").into())
                }
            }
        })
    }
}
