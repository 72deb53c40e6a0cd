//! `GET /api/invitation`: the invitation block for the meeting body.

use super::AuthUser;
use crate::db::models::Conference;
use crate::http::AppError;
use crate::i18n::Lang;
use crate::render::{self, InvitationData};
use crate::server::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Invitation {
    pub locale: String,
    /// 0 when no template is active and the built-in text was used.
    pub template_id: i64,
    pub html: String,
}

/// The locale asked for: the explicit one, else the first of `Accept-Language`.
pub fn requested_locale(explicit: Option<&str>, req: &HttpRequest) -> String {
    explicit
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .or_else(|| {
            req.headers()
                .get(actix_web::http::header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .map(|s| s.split(';').next().unwrap_or_default().trim().to_owned())
        })
        .unwrap_or_default()
}

/// What a conference record puts into an invitation.
pub fn data_for(c: &Conference, locale: &str, creator_sip: Option<&str>) -> InvitationData {
    let start = c.start_at.and_utc();
    let end = c.end_at.and_utc();
    InvitationData {
        conference_link: c.link.clone().unwrap_or_default(),
        conference_name: c.name.clone(),
        start_at: render::display_time(&start, locale),
        end_at: render::display_time(&end, locale),
        access_code: c.access_code.clone().unwrap_or_default(),
        sip_number: c
            .sip_number
            .clone()
            .or_else(|| creator_sip.map(str::to_owned))
            .unwrap_or_default(),
        creator: c.creator.clone(),
        call_id: c.call_id.clone(),
        link_type: c.link_type.clone(),
        start_at_iso: start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        end_at_iso: end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    }
}

/// Render the invitation for `locale`; the built-in text stands in when no template is active
/// or the active one fails, so a booked meeting always gets its link.
pub async fn render_for(
    state: &AppState,
    locale: &str,
    data: &InvitationData,
) -> Result<Invitation, AppError> {
    let active = state.renderer.active(&state.db).await?;
    if let Some(t) = render::choose(&active, locale, &state.config.templates.default_locale) {
        match state.renderer.render(t, data) {
            Ok(html) => {
                return Ok(Invitation {
                    locale: t.locale.clone(),
                    template_id: t.id,
                    html,
                });
            }
            Err(e) => tracing::error!(
                target: "xmeet::core::invitation",
                template_id = t.id,
                line = ?e.line,
                error = %e.message,
                "the active template cannot be rendered; using the built-in text"
            ),
        }
    }
    let ru = locale.to_ascii_lowercase().starts_with("ru");
    let source = if ru {
        crate::db::seed::TEMPLATE_RU
    } else {
        crate::db::seed::TEMPLATE_EN
    };
    let html = render::render_source(source, data).map_err(|e| AppError::internal(e.message))?;
    Ok(Invitation {
        locale: if ru { "ru" } else { "en" }.into(),
        template_id: 0,
        html,
    })
}

#[derive(Deserialize, IntoParams)]
pub struct InvitationQuery {
    /// e.g. `ru-RU`; else `Accept-Language`, else `templates.default_locale`.
    pub locale: Option<String>,
    /// Render for this conference of the caller.
    pub call_id: Option<String>,
}

/// The invitation block, rendered for one of the caller's conferences when `call_id` is given.
#[utoipa::path(get, path = "/api/invitation", tag = "conferences", params(InvitationQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Invitation), (status = 401, body = crate::core::openapi::ErrorBody),
        (status = 404, body = crate::core::openapi::ErrorBody), (status = 503, body = crate::core::openapi::ErrorBody)))]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    lang: Lang,
    req: HttpRequest,
    query: web::Query<InvitationQuery>,
) -> Result<HttpResponse, AppError> {
    let locale = requested_locale(query.locale.as_deref(), &req);
    let data = match query.call_id.as_deref().filter(|s| !s.is_empty()) {
        Some(call_id) => {
            let c = super::conferences::load_own(&state, &user.0.email, call_id)
                .await?
                .ok_or_else(|| {
                    AppError::coded(StatusCode::NOT_FOUND, "conference_not_found", lang)
                })?;
            data_for(&c, &locale, user.0.sip.as_deref())
        }
        None => InvitationData {
            creator: user.0.email.clone(),
            sip_number: user.0.sip.clone().unwrap_or_default(),
            ..Default::default()
        },
    };
    Ok(HttpResponse::Ok().json(render_for(&state, &locale, &data).await?))
}
