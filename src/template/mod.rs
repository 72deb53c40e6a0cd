//! The template role (default port 7200): the admin console at `/front` and its API under
//! `/front/api` (SPEC §5).

pub mod admins;
pub mod auth;
pub mod console;
pub mod openapi;
pub mod templates;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    crate::http::health_routes(cfg);
    cfg.service(web::resource("/metrics").route(web::get().to(crate::metrics::endpoint)))
        .service(web::resource("/api/openapi.json").route(web::get().to(openapi::document)))
        .service(web::resource("/front/api/login").route(web::post().to(auth::login)))
        .service(web::resource("/front/api/password").route(web::post().to(auth::change_password)))
        .service(
            web::resource("/front/api/admins")
                .route(web::get().to(admins::list))
                .route(web::post().to(admins::create)),
        )
        .service(
            web::resource("/front/api/admins/{id}")
                .route(web::get().to(admins::get))
                .route(web::put().to(admins::update))
                .route(web::delete().to(admins::delete)),
        )
        .service(
            web::resource("/front/api/templates")
                .app_data(crate::http::json_config(8 * 1024 * 1024))
                .route(web::get().to(templates::list))
                .route(web::post().to(templates::create)),
        )
        .service(
            web::resource("/front/api/templates/{id}")
                .app_data(crate::http::json_config(8 * 1024 * 1024))
                .route(web::get().to(templates::get))
                .route(web::put().to(templates::update))
                .route(web::delete().to(templates::delete)),
        )
        .service(
            web::resource("/front/api/templates/{id}/history")
                .route(web::get().to(templates::history)),
        )
        .service(
            web::resource("/front/api/templates/{id}/history/{version}/restore")
                .route(web::post().to(templates::restore)),
        )
        .service(
            web::resource("/front/api/preview")
                .app_data(crate::http::json_config(8 * 1024 * 1024))
                .route(web::post().to(templates::preview)),
        )
        .service(web::resource("/front/api/audit").route(web::get().to(templates::audit_list)))
        .service(web::resource("/front").route(web::get().to(console::index)))
        .service(web::resource("/front/").route(web::get().to(console::index)))
        .service(web::resource("/front/assets/{file:.*}").route(web::get().to(console::asset)));
}
