//! Conferences booked through xmeet: create, change and delete at the Conference Notifier
//! Bot in the signed-in person's name, and our own record of them (the bot has no read API).

use super::AuthUser;
use super::idempotency::{self, Begin};
use super::invitation::{self, Invitation};
use crate::bot::{self, BotClient, BotError, ChangeRequest, CreateRequest, Link};
use crate::config::PolicyConfig;
use crate::db::models::{Conference, NewConference, now};
use crate::db::schema::conferences as cf;
use crate::http::AppError;
use crate::i18n::Lang;
use crate::server::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value, json};
use std::time::Duration;
use utoipa::ToSchema;

pub const MAX_MEMBERS: usize = 1000;
pub const MAX_NAME: usize = 255;

/// `access_code`: absent (keep), `null` (none), or a string.
fn double_option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// Body of `POST /api/conferences` and (every field optional) `PUT /api/conferences/{call_id}`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct ConferenceRequest {
    pub name: Option<String>,
    /// RFC 3339, e.g. `2026-12-05T10:00:00+03:00`.
    pub start_at: Option<String>,
    pub end_at: Option<String>,
    pub members: Option<Vec<String>>,
    pub admins: Option<Vec<String>>,
    /// public | trusts | corporate | server
    pub link_type: Option<String>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub access_code: Option<Option<String>>,
    /// Must be the signed-in person's e-mail when given.
    pub creator: Option<String>,
    pub locale: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct LinkView {
    pub link_id: Option<String>,
    pub link_type: String,
    pub link: Option<String>,
    pub access_code: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct ConferenceView {
    pub call_id: String,
    pub name: String,
    pub start_at: String,
    pub end_at: String,
    pub link: LinkView,
    pub members: Vec<String>,
    pub admins: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sip_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invitation: Option<Invitation>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConferenceList {
    pub conferences: Vec<ConferenceView>,
}

fn iso(t: &chrono::NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

fn list_of(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

impl ConferenceView {
    fn of(c: &Conference, invitation: Option<Invitation>) -> Self {
        ConferenceView {
            call_id: c.call_id.clone(),
            name: c.name.clone(),
            start_at: iso(&c.start_at),
            end_at: iso(&c.end_at),
            link: LinkView {
                link_id: c.link_id.clone(),
                link_type: c.link_type.clone(),
                link: c.link.clone(),
                access_code: c.access_code.clone(),
            },
            members: list_of(&c.members),
            admins: list_of(&c.admins),
            sip_number: c.sip_number.clone(),
            invitation,
        }
    }
}

/// A plausible e-mail address (the bot decides whether it exists).
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    s.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && !local.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && s.chars().all(|c| !c.is_whitespace() && !c.is_control())
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '.')
}

/// Collect field errors; 422 `validation_failed` with them as `details`.
#[derive(Default)]
struct Problems(Map<String, Value>);

impl Problems {
    fn add(&mut self, field: impl Into<String>, msg: impl Into<String>) {
        self.0
            .entry(field.into())
            .or_insert(Value::String(msg.into()));
    }

    fn into_result(self, lang: Lang) -> Result<(), AppError> {
        if self.0.is_empty() {
            return Ok(());
        }
        Err(
            AppError::coded(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", lang)
                .with_details(Value::Object(self.0)),
        )
    }
}

fn parse_time(field: &str, v: &str, p: &mut Problems) -> Option<DateTime<Utc>> {
    match DateTime::parse_from_rfc3339(v.trim()) {
        Ok(t) => Some(t.with_timezone(&Utc)),
        Err(_) => {
            p.add(
                field,
                "must be an RFC 3339 date and time, e.g. 2026-12-05T10:00:00Z",
            );
            None
        }
    }
}

/// Trim, lower-case, de-duplicate and check a list of addresses.
fn addresses(field: &str, list: &[String], email: bool, p: &mut Problems) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for (i, raw) in list.iter().enumerate() {
        let a = raw.trim().to_lowercase();
        if a.is_empty() || (email && !is_email(&a)) {
            p.add(
                format!("{field}[{i}]"),
                format!("`{}` is not a valid e-mail address", raw.trim()),
            );
            continue;
        }
        if !out.contains(&a) {
            out.push(a);
        }
    }
    if out.len() > MAX_MEMBERS {
        p.add(field, format!("at most {MAX_MEMBERS} addresses"));
    }
    out
}

fn check_name(name: &str, p: &mut Problems) -> String {
    let n = name.trim().to_owned();
    let len = n.chars().count();
    if len == 0 || len > MAX_NAME {
        p.add("name", format!("must be 1 to {MAX_NAME} characters"));
    }
    n
}

/// The link type the policy allows for a request, and whether an access code is needed.
fn policy_link_type(asked: Option<&str>, policy: &PolicyConfig, p: &mut Problems) -> String {
    if policy.deny_link_type {
        return policy.default_link_type.clone();
    }
    let t = asked
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| policy.default_link_type.clone());
    if !policy.allowed_link_types.contains(&t) {
        p.add(
            "link_type",
            format!("must be one of {}", policy.allowed_link_types.join(", ")),
        );
    }
    t
}

fn require_access_code(
    link_type: &str,
    access_code: Option<&str>,
    policy: &PolicyConfig,
    lang: Lang,
) -> Result<(), AppError> {
    if policy
        .password_required_link_types
        .iter()
        .any(|t| t == link_type)
        && access_code.is_none_or(|c| c.trim().is_empty())
    {
        return Err(AppError::coded(
            StatusCode::UNPROCESSABLE_ENTITY,
            "access_code_required",
            lang,
        )
        .with_details(json!({"access_code": format!("required for {link_type} conferences")})));
    }
    Ok(())
}

fn normalize_code(c: Option<&Option<String>>) -> Option<Option<String>> {
    c.map(|inner| {
        inner
            .as_ref()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    })
}

/// Bot error → the SPEC's status and code.
pub fn bot_error(e: BotError, lang: Lang) -> AppError {
    let (status, code): (StatusCode, &'static str) = match &e {
        BotError::Reason { reason, .. } => match reason.as_str() {
            "creator_not_found" => (StatusCode::UNPROCESSABLE_ENTITY, "creator_not_found"),
            "actor_not_found" => (StatusCode::UNPROCESSABLE_ENTITY, "actor_not_found"),
            "no_users_found" => (StatusCode::UNPROCESSABLE_ENTITY, "no_users_found"),
            "invalid_attributes" => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_attributes"),
            "start_at_later_than_end_at" => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "start_at_later_than_end_at",
            ),
            "end_at_earlier_than_now" => {
                (StatusCode::UNPROCESSABLE_ENTITY, "end_at_earlier_than_now")
            }
            "not_permitted" => (StatusCode::FORBIDDEN, "not_permitted"),
            "conference_not_found" => (StatusCode::NOT_FOUND, "conference_not_found"),
            "multiple_users_found_by_email" => {
                (StatusCode::CONFLICT, "multiple_users_found_by_email")
            }
            "multiple_users_found_by_ad_login" => {
                (StatusCode::CONFLICT, "multiple_users_found_by_ad_login")
            }
            _ => (StatusCode::BAD_GATEWAY, "bot_error"),
        },
        BotError::AuthFailed { .. } => (StatusCode::BAD_GATEWAY, "bot_auth_failed"),
        BotError::Unavailable(_) => (StatusCode::BAD_GATEWAY, "bot_unavailable"),
        BotError::Timeout => (StatusCode::GATEWAY_TIMEOUT, "bot_timeout"),
    };
    let mut err = AppError::coded(status, code, lang);
    if let BotError::Reason { errors, .. } = &e
        && !errors.is_empty()
        && status != StatusCode::BAD_GATEWAY
    {
        err = err.with_details(json!({ "bot_errors": errors }));
    }
    err
}

fn bot_of(state: &AppState, lang: Lang) -> Result<&BotClient, AppError> {
    state
        .bot
        .as_ref()
        .ok_or_else(|| AppError::coded(StatusCode::SERVICE_UNAVAILABLE, "bot_not_configured", lang))
}

/// One of `email`'s conferences that is not deleted.
pub async fn load_own(
    state: &AppState,
    email: &str,
    call_id: &str,
) -> Result<Option<Conference>, AppError> {
    let (email, call_id) = (email.to_owned(), call_id.to_owned());
    Ok(state
        .db
        .run(move |conn| {
            Ok(cf::table
                .filter(cf::call_id.eq(&call_id))
                .filter(cf::creator.eq(&email))
                .filter(cf::deleted_at.is_null())
                .select(Conference::as_select())
                .first(conn)
                .optional()?)
        })
        .await?)
}

fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, AppError> {
    let Some(v) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let key = v.to_str().unwrap_or_default().trim();
    if key.is_empty() || key.len() > 255 || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(AppError::bad_request(
            "invalid_idempotency_key",
            "Idempotency-Key must be 1 to 255 visible ASCII characters.",
        ));
    }
    Ok(Some(key.to_owned()))
}

/// What an answer looks like when it is stored for replays.
struct Answer {
    status: StatusCode,
    body: Value,
}

impl Answer {
    fn of_error(e: &AppError) -> Answer {
        let mut body = json!({"error": e.code, "message": e.message});
        if let Some(d) = &e.details {
            body["details"] = d.clone();
        }
        Answer {
            status: e.status,
            body,
        }
    }

    fn respond(&self) -> HttpResponse {
        HttpResponse::build(self.status).json(&self.body)
    }
}

/// Book a conference at the bot in the caller's name.
#[utoipa::path(post, path = "/api/conferences", tag = "conferences", request_body = ConferenceRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "same key + same creator within 24 h: the first answer, no second booking")),
    security(("bearer" = [])),
    responses((status = 201, body = ConferenceView), (status = 400, body = crate::core::openapi::ErrorBody),
        (status = 401, body = crate::core::openapi::ErrorBody), (status = 403, body = crate::core::openapi::ErrorBody),
        (status = 409, body = crate::core::openapi::ErrorBody), (status = 422, body = crate::core::openapi::ErrorBody),
        (status = 502, body = crate::core::openapi::ErrorBody), (status = 503, body = crate::core::openapi::ErrorBody),
        (status = 504, body = crate::core::openapi::ErrorBody)))]
pub async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    lang: Lang,
    req: HttpRequest,
    body: web::Json<ConferenceRequest>,
) -> Result<HttpResponse, AppError> {
    let user = user.0;
    let body = body.into_inner();
    // the guide: the e-mail in the token must be the one the conference is created for
    if let Some(c) = &body.creator
        && !c.trim().eq_ignore_ascii_case(&user.email)
    {
        tracing::warn!(target: "xmeet::core::conferences", user = %user.email, "creator in the body differs from the signed-in user");
        return Err(AppError::coded(
            StatusCode::FORBIDDEN,
            "creator_mismatch",
            lang,
        ));
    }
    let bot = bot_of(&state, lang)?.clone();
    let plan = plan_create(&state, &user.email, &body, lang)?;
    let locale = invitation::requested_locale(body.locale.as_deref(), &req);

    let Some(key) = idempotency_key(&req)? else {
        return Ok(do_create(&state, &bot, &user, plan, &locale, lang)
            .await
            .unwrap_or_else(|e| Answer::of_error(&e))
            .respond());
    };
    let hash = idempotency::request_hash(&serde_json::to_value(&body).unwrap_or_default());
    let wait = bot.timeout() + Duration::from_secs(5);
    match idempotency::begin(&state.db, &user.email, &key, &hash, wait).await? {
        Begin::Replay { status, body } => {
            return Ok(
                HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::OK))
                    .insert_header(("idempotent-replayed", "true"))
                    .content_type("application/json")
                    .body(body),
            );
        }
        Begin::Mismatch => {
            return Err(AppError::coded(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                lang,
            ));
        }
        Begin::InProgress => {
            return Err(AppError::coded(
                StatusCode::CONFLICT,
                "idempotency_in_progress",
                lang,
            ));
        }
        Begin::Owned => {}
    }
    let answer = do_create(&state, &bot, &user, plan, &locale, lang)
        .await
        .unwrap_or_else(|e| Answer::of_error(&e));
    // keep definite answers; give the key back after failures a retry may fix
    let kept = if answer.status.is_server_error() {
        idempotency::release(&state.db, &user.email, &key).await
    } else {
        idempotency::finish(
            &state.db,
            &user.email,
            &key,
            answer.status.as_u16(),
            answer.body.to_string(),
        )
        .await
    };
    if let Err(e) = kept {
        tracing::error!(target: "xmeet::core::conferences", error = %e, "cannot store the Idempotency-Key answer");
    }
    Ok(answer.respond())
}

/// A validated create.
struct CreatePlan {
    request: CreateRequest,
    name: String,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    members: Vec<String>,
    admins: Vec<String>,
}

fn plan_create(
    state: &AppState,
    creator: &str,
    body: &ConferenceRequest,
    lang: Lang,
) -> Result<CreatePlan, AppError> {
    let email_ids = state.config.bot.contact_type == "email";
    let mut p = Problems::default();
    let name = match &body.name {
        Some(n) => check_name(n, &mut p),
        None => {
            p.add("name", "is required");
            String::new()
        }
    };
    let start = match &body.start_at {
        Some(v) => parse_time("start_at", v, &mut p),
        None => {
            p.add("start_at", "is required");
            None
        }
    };
    let end = match &body.end_at {
        Some(v) => parse_time("end_at", v, &mut p),
        None => {
            p.add("end_at", "is required");
            None
        }
    };
    if let (Some(s), Some(e)) = (start, end)
        && s >= e
    {
        p.add("end_at", "must be later than start_at");
    }
    let members = match &body.members {
        Some(m) => addresses("members", m, email_ids, &mut p),
        None => {
            p.add("members", "is required (it may be an empty list)");
            Vec::new()
        }
    };
    let mut admins = addresses(
        "admins",
        body.admins.as_deref().unwrap_or(&[]),
        email_ids,
        &mut p,
    );
    if !admins.iter().any(|a| a == creator) {
        admins.insert(0, creator.to_owned());
    }
    let link_type = policy_link_type(body.link_type.as_deref(), &state.config.policy, &mut p);
    p.into_result(lang)?;
    let access_code = normalize_code(body.access_code.as_ref()).flatten();
    require_access_code(
        &link_type,
        access_code.as_deref(),
        &state.config.policy,
        lang,
    )?;
    let (start, end) = match (start, end) {
        (Some(s), Some(e)) => (s, e),
        _ => return Err(AppError::internal("validated times missing")),
    };
    Ok(CreatePlan {
        request: CreateRequest {
            contact_type: state.config.bot.contact_type.clone(),
            name: name.clone(),
            members: members.clone(),
            admins: admins.clone(),
            creator: creator.to_owned(),
            start_at: bot::format_time(&start),
            end_at: bot::format_time(&end),
            link: Link {
                link_type,
                access_code,
            },
        },
        name,
        start,
        end,
        members,
        admins,
    })
}

async fn do_create(
    state: &AppState,
    bot: &BotClient,
    user: &crate::adfs::User,
    plan: CreatePlan,
    locale: &str,
    lang: Lang,
) -> Result<Answer, AppError> {
    // the database must answer before anything is booked: a booking we cannot record
    // would be invisible to GET and to later changes
    state.renderer.active(&state.db).await?;
    let result = bot
        .create(&plan.request)
        .await
        .map_err(|e| bot_error(e, lang))?;
    let call_id = result
        .call_id
        .clone()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| AppError::coded(StatusCode::BAD_GATEWAY, "bot_unavailable", lang))?;
    let link = result.link.clone().unwrap_or_default();
    let t = now();
    let record = NewConference {
        call_id: call_id.clone(),
        creator: user.email.clone(),
        name: result.name.clone().unwrap_or(plan.name),
        start_at: plan.start.naive_utc(),
        end_at: plan.end.naive_utc(),
        link_id: link.link_id,
        link_type: link.link_type.unwrap_or(plan.request.link.link_type),
        link: link.link,
        access_code: link.access_code.or(plan.request.link.access_code),
        sip_number: result.sip_number(),
        members: serde_json::to_string(&plan.members).unwrap_or_else(|_| "[]".into()),
        admins: serde_json::to_string(&plan.admins).unwrap_or_else(|_| "[]".into()),
        locale: locale.to_owned(),
        created_at: t,
        updated_at: t,
    };
    let stored = record.clone();
    let saved = state
        .db
        .run(move |conn| {
            diesel::insert_into(cf::table)
                .values(&stored)
                .execute(conn)?;
            Ok(())
        })
        .await;
    if let Err(e) = saved {
        // booked at the bot but not recorded: say so loudly, the meeting itself exists
        tracing::error!(target: "xmeet::core::conferences", call_id = %call_id, creator = %user.email, error = %e,
            "conference created at the bot but not recorded in the database");
    }
    let conference = Conference {
        call_id: record.call_id,
        creator: record.creator,
        name: record.name,
        start_at: record.start_at,
        end_at: record.end_at,
        link_id: record.link_id,
        link_type: record.link_type,
        link: record.link,
        access_code: record.access_code,
        sip_number: record.sip_number,
        members: record.members,
        admins: record.admins,
        locale: record.locale,
        created_at: record.created_at,
        updated_at: record.updated_at,
        deleted_at: None,
    };
    let data = invitation::data_for(&conference, locale, user.sip.as_deref());
    let inv = invitation::render_for(state, locale, &data).await?;
    tracing::info!(target: "xmeet::core::conferences", call_id = %call_id, creator = %user.email, "conference created");
    Ok(Answer {
        status: StatusCode::CREATED,
        body: serde_json::to_value(ConferenceView::of(&conference, Some(inv)))
            .map_err(AppError::internal)?,
    })
}

/// The caller's upcoming conferences booked through xmeet.
#[utoipa::path(get, path = "/api/conferences", tag = "conferences", security(("bearer" = [])),
    responses((status = 200, body = ConferenceList), (status = 401, body = crate::core::openapi::ErrorBody),
        (status = 503, body = crate::core::openapi::ErrorBody)))]
pub async fn list(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse, AppError> {
    let email = user.0.email;
    let rows = state
        .db
        .run(move |conn| {
            Ok(cf::table
                .filter(cf::creator.eq(&email))
                .filter(cf::deleted_at.is_null())
                .filter(cf::end_at.gt(now()))
                .order(cf::start_at)
                .select(Conference::as_select())
                .load(conn)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(ConferenceList {
        conferences: rows.iter().map(|c| ConferenceView::of(c, None)).collect(),
    }))
}

/// One of the caller's conferences.
#[utoipa::path(get, path = "/api/conferences/{call_id}", tag = "conferences", security(("bearer" = [])),
    params(("call_id" = String, Path)),
    responses((status = 200, body = ConferenceView), (status = 401, body = crate::core::openapi::ErrorBody),
        (status = 404, body = crate::core::openapi::ErrorBody)))]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    lang: Lang,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let c = load_own(&state, &user.0.email, &path)
        .await?
        .ok_or_else(|| AppError::coded(StatusCode::NOT_FOUND, "conference_not_found", lang))?;
    Ok(HttpResponse::Ok().json(ConferenceView::of(&c, None)))
}

/// Change one of the caller's conferences (only the fields given).
#[utoipa::path(put, path = "/api/conferences/{call_id}", tag = "conferences", security(("bearer" = [])),
    params(("call_id" = String, Path)), request_body = ConferenceRequest,
    responses((status = 200, body = ConferenceView), (status = 401, body = crate::core::openapi::ErrorBody),
        (status = 403, body = crate::core::openapi::ErrorBody), (status = 404, body = crate::core::openapi::ErrorBody),
        (status = 422, body = crate::core::openapi::ErrorBody), (status = 502, body = crate::core::openapi::ErrorBody),
        (status = 503, body = crate::core::openapi::ErrorBody), (status = 504, body = crate::core::openapi::ErrorBody)))]
pub async fn change(
    state: web::Data<AppState>,
    user: AuthUser,
    lang: Lang,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<ConferenceRequest>,
) -> Result<HttpResponse, AppError> {
    let user = user.0;
    let body = body.into_inner();
    let bot = bot_of(&state, lang)?.clone();
    if let Some(c) = &body.creator
        && !c.trim().eq_ignore_ascii_case(&user.email)
    {
        return Err(AppError::coded(
            StatusCode::FORBIDDEN,
            "creator_mismatch",
            lang,
        ));
    }
    let current = load_own(&state, &user.email, &path)
        .await?
        .ok_or_else(|| AppError::coded(StatusCode::NOT_FOUND, "conference_not_found", lang))?;

    let email_ids = state.config.bot.contact_type == "email";
    let mut p = Problems::default();
    let name = body.name.as_deref().map(|n| check_name(n, &mut p));
    let start = body
        .start_at
        .as_deref()
        .and_then(|v| parse_time("start_at", v, &mut p));
    let end = body
        .end_at
        .as_deref()
        .and_then(|v| parse_time("end_at", v, &mut p));
    let eff_start = start.unwrap_or_else(|| current.start_at.and_utc());
    let eff_end = end.unwrap_or_else(|| current.end_at.and_utc());
    if (start.is_some() || end.is_some()) && eff_start >= eff_end {
        p.add("end_at", "must be later than start_at");
    }
    let members = body
        .members
        .as_deref()
        .map(|m| addresses("members", m, email_ids, &mut p));
    let admins = body.admins.as_deref().map(|a| {
        let mut a = addresses("admins", a, email_ids, &mut p);
        if !a.contains(&user.email) {
            a.insert(0, user.email.clone());
        }
        a
    });
    let link_type = body
        .link_type
        .as_deref()
        .map(|t| policy_link_type(Some(t), &state.config.policy, &mut p));
    p.into_result(lang)?;
    let access_code = normalize_code(body.access_code.as_ref());
    let eff_type = link_type
        .clone()
        .unwrap_or_else(|| current.link_type.clone());
    let eff_code = match &access_code {
        Some(c) => c.clone(),
        None => current.access_code.clone(),
    };
    let link_changes = link_type.is_some() || access_code.is_some();
    if link_changes {
        require_access_code(&eff_type, eff_code.as_deref(), &state.config.policy, lang)?;
    }

    let request = ChangeRequest {
        contact_type: state.config.bot.contact_type.clone(),
        name: name.clone(),
        members: members.clone(),
        admins: admins.clone(),
        start_at: start.map(|t| bot::format_time(&t)),
        end_at: end.map(|t| bot::format_time(&t)),
        link: link_changes.then(|| Link {
            link_type: eff_type.clone(),
            access_code: eff_code.clone(),
        }),
        // who changes it is always the signed-in person, never a value from the client
        actor: user.email.clone(),
    };
    let result = bot
        .change(&current.call_id, &request)
        .await
        .map_err(|e| bot_error(e, lang))?;
    let link = result.link.clone().unwrap_or_default();
    let mut updated = current.clone();
    if let Some(n) = name {
        updated.name = n;
    }
    updated.start_at = eff_start.naive_utc();
    updated.end_at = eff_end.naive_utc();
    if let Some(m) = &members {
        updated.members = serde_json::to_string(m).unwrap_or_else(|_| "[]".into());
    }
    if let Some(a) = &admins {
        updated.admins = serde_json::to_string(a).unwrap_or_else(|_| "[]".into());
    }
    updated.link_type = link.link_type.unwrap_or(eff_type);
    updated.access_code = link.access_code.or(eff_code);
    if link.link.is_some() {
        updated.link = link.link;
    }
    if link.link_id.is_some() {
        updated.link_id = link.link_id;
    }
    if let Some(s) = result.sip_number() {
        updated.sip_number = Some(s);
    }
    updated.updated_at = now();
    let row = updated.clone();
    let saved = state
        .db
        .run(move |conn| {
            diesel::update(cf::table.filter(cf::call_id.eq(&row.call_id)))
                .set((
                    cf::name.eq(&row.name),
                    cf::start_at.eq(row.start_at),
                    cf::end_at.eq(row.end_at),
                    cf::members.eq(&row.members),
                    cf::admins.eq(&row.admins),
                    cf::link_type.eq(&row.link_type),
                    cf::access_code.eq(&row.access_code),
                    cf::link.eq(&row.link),
                    cf::link_id.eq(&row.link_id),
                    cf::sip_number.eq(&row.sip_number),
                    cf::updated_at.eq(row.updated_at),
                ))
                .execute(conn)?;
            Ok(())
        })
        .await;
    if let Err(e) = saved {
        tracing::error!(target: "xmeet::core::conferences", call_id = %updated.call_id, error = %e,
            "conference changed at the bot but the change is not recorded");
    }
    let locale = invitation::requested_locale(
        body.locale.as_deref().or(Some(updated.locale.as_str())),
        &req,
    );
    let data = invitation::data_for(&updated, &locale, user.sip.as_deref());
    let inv = invitation::render_for(&state, &locale, &data).await?;
    tracing::info!(target: "xmeet::core::conferences", call_id = %updated.call_id, actor = %user.email, "conference changed");
    Ok(HttpResponse::Ok().json(ConferenceView::of(&updated, Some(inv))))
}

/// Delete one of the caller's conferences.
#[utoipa::path(delete, path = "/api/conferences/{call_id}", tag = "conferences", security(("bearer" = [])),
    params(("call_id" = String, Path)),
    responses((status = 204, description = "deleted"), (status = 401, body = crate::core::openapi::ErrorBody),
        (status = 403, body = crate::core::openapi::ErrorBody), (status = 404, body = crate::core::openapi::ErrorBody),
        (status = 422, body = crate::core::openapi::ErrorBody), (status = 502, body = crate::core::openapi::ErrorBody),
        (status = 503, body = crate::core::openapi::ErrorBody), (status = 504, body = crate::core::openapi::ErrorBody)))]
pub async fn delete(
    state: web::Data<AppState>,
    user: AuthUser,
    lang: Lang,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let user = user.0;
    let bot = bot_of(&state, lang)?.clone();
    let current = load_own(&state, &user.email, &path)
        .await?
        .ok_or_else(|| AppError::coded(StatusCode::NOT_FOUND, "conference_not_found", lang))?;
    bot.delete(&current.call_id, &user.email)
        .await
        .map_err(|e| bot_error(e, lang))?;
    let call_id = current.call_id.clone();
    let saved = state
        .db
        .run(move |conn| {
            let t = now();
            diesel::update(cf::table.filter(cf::call_id.eq(&call_id)))
                .set((cf::deleted_at.eq(Some(t)), cf::updated_at.eq(t)))
                .execute(conn)?;
            Ok(())
        })
        .await;
    if let Err(e) = saved {
        tracing::error!(target: "xmeet::core::conferences", call_id = %current.call_id, error = %e,
            "conference deleted at the bot but not marked deleted in the database");
    }
    tracing::info!(target: "xmeet::core::conferences", call_id = %current.call_id, actor = %user.email, "conference deleted");
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use super::is_email;

    #[test]
    fn emails() {
        for ok in ["a@b.c", "user.name+tag@mail.example.ru", "x@пример.рф"] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in [
            "", "a", "a@b", "@b.c", "a@.c", "a b@c.d", "a@b..c", "a@b.c.", "a@b_c.d",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }
}
