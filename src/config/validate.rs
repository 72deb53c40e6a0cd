//! Start-up validation: every message names the key that is wrong and, where the value came
//! from the environment, the variable that set it.

use super::layers::origin_of;
use super::{BotAuth, Config, LINK_TYPES};
use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};

#[derive(Debug, Clone, PartialEq)]
pub struct ValidationError {
    pub key: String,
    pub message: String,
}

impl ValidationError {
    pub fn new(key: &str, message: impl Into<String>) -> Self {
        ValidationError {
            key: key.to_owned(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.key, self.message)
    }
}

impl std::error::Error for ValidationError {}

/// Settings that let xmeet start but will not work; logged at start and shown by
/// `xmeet config`/`bot-check`.
pub fn warnings(c: &Config) -> Vec<String> {
    let mut w = Vec::new();
    match c.bot.auth {
        BotAuth::Bearer if c.bot.token.is_empty() => w.push(
            "bot.token is empty although bot.auth is bearer (legacy ExpressOptions__Token): the bot will refuse every call. \
             (When core.env is sourced by a shell, a value with a space such as `Bearer …` is lost: use `xmeet --env-file core.env`.)"
                .to_owned(),
        ),
        BotAuth::Basic if c.bot.login.is_empty() => w.push(
            "bot.login is empty although bot.auth is basic (legacy ExpressOptions__UserLogin): the bot will refuse every call"
                .to_owned(),
        ),
        _ => {}
    }
    w
}

/// A bot token without a leading `Bearer ` (the guide's core.env writes it; we add it).
pub fn bare_token(token: &str) -> &str {
    let token = token.trim();
    match token.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("bearer ") => token[7..].trim(),
        _ => token,
    }
}

/// Tidy values that several spellings can express.
pub fn normalize(c: &mut Config) {
    let bare = bare_token(c.bot.token.expose());
    if bare != c.bot.token.expose() {
        c.bot.token = super::Secret::new(bare);
    }
    c.bot.url = c.bot.url.trim().to_owned();
    c.adfs.url = c.adfs.url.trim().trim_end_matches('/').to_owned();
    if c.bot.auth == BotAuth::Auto {
        c.bot.auth = if !c.bot.token.is_empty() {
            BotAuth::Bearer
        } else if !c.bot.login.is_empty() {
            BotAuth::Basic
        } else {
            BotAuth::None
        };
    }
    for list in [
        &mut c.policy.allowed_link_types,
        &mut c.policy.password_required_link_types,
    ] {
        for t in list.iter_mut() {
            *t = t.trim().to_ascii_lowercase();
        }
    }
    c.policy.default_link_type = c.policy.default_link_type.trim().to_ascii_lowercase();
    c.bot.contact_type = c.bot.contact_type.trim().to_ascii_lowercase();
}

fn http_url(value: &str) -> bool {
    url::Url::parse(value)
        .map(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .unwrap_or(false)
}

pub fn validate(c: &Config, origins: &BTreeMap<String, String>) -> Result<(), ValidationError> {
    let err = |key: &str, msg: String| {
        Err(ValidationError::new(
            key,
            format!("{msg}{}", origin_of(origins, key)),
        ))
    };

    for (key, value) in [
        ("core.listen", &c.core.listen),
        ("template.listen", &c.template.listen),
    ] {
        if value.parse::<SocketAddr>().is_err() {
            return err(
                key,
                format!(
                    "is `{value}`, which is not an address of the form IP:PORT (e.g. 0.0.0.0:7100)"
                ),
            );
        }
    }

    if let Err(e) = c.database.url.target() {
        return err("database.url", e);
    }
    let url = c.database.url.expose().trim();
    if super::npgsql::looks_like_npgsql(url)
        && let Ok(parsed) = super::npgsql::NpgsqlConnection::parse(url)
        && parsed.database.is_none()
    {
        return err(
            "database.url",
            "names no Database=…; if core.env was read by a shell (`set -a; . ./core.env`), the value was cut at its \
             first `;`: quote it, or let xmeet read the file itself with `xmeet --env-file core.env`"
                .into(),
        );
    }
    if c.database.max_connections == 0 {
        return err("database.max_connections", "must be at least 1".into());
    }
    if c.database.min_connections > c.database.max_connections {
        return err(
            "database.min_connections",
            format!(
                "({}) must be smaller than or equal to database.max_connections ({})",
                c.database.min_connections, c.database.max_connections
            ),
        );
    }
    if c.database.pool_timeout_secs == 0 {
        return err("database.pool_timeout_secs", "must be at least 1".into());
    }

    if tracing_subscriber::EnvFilter::try_new(&c.log.level).is_err() {
        return err(
            "log.level",
            format!(
                "is `{}`, which is not a log level (error, warn, info, debug, trace)",
                c.log.level
            ),
        );
    }
    if c.log.keep_days == 0 {
        return err("log.keep_days", "must be at least 1".into());
    }
    if c.log.client_file.trim().is_empty() {
        return err("log.client_file", "must name a file".into());
    }

    if !c.bot.url.is_empty() && !http_url(&c.bot.url) {
        return err(
            "bot.url",
            "is not a URL (expected https://host/api/v1/conference_bot/conferences/)".into(),
        );
    }
    if c.bot.timeout_secs == 0 {
        return err("bot.timeout_secs", "must be at least 1".into());
    }
    if !matches!(c.bot.contact_type.as_str(), "email" | "ad_login") {
        return err(
            "bot.contact_type",
            format!("is `{}`; use email or ad_login", c.bot.contact_type),
        );
    }

    if !c.adfs.url.is_empty() && !http_url(&c.adfs.url) {
        return err(
            "adfs.url",
            "is not a URL (expected https://adfs.example)".into(),
        );
    }
    if !http_url(&c.adfs.redirect_uri) {
        return err("adfs.redirect_uri", "is not a URL".into());
    }
    if c.adfs.email_claims.is_empty() {
        return err("adfs.email_claims", "must name at least one claim".into());
    }
    if c.adfs.timeout_secs == 0 {
        return err("adfs.timeout_secs", "must be at least 1".into());
    }

    if c.admin.token_ttl_secs == 0 || c.admin.token_ttl_secs > 12 * 3600 {
        return err(
            "admin.token_ttl_secs",
            "must be between 1 and 43200 (12 hours)".into(),
        );
    }
    if c.admin.max_login_failures == 0 {
        return err("admin.max_login_failures", "must be at least 1".into());
    }

    let known = |t: &String| LINK_TYPES.contains(&t.as_str());
    if let Some(bad) = c.policy.allowed_link_types.iter().find(|t| !known(t)) {
        return err(
            "policy.allowed_link_types",
            format!("contains `{bad}`; link types are public, trusts, corporate, server"),
        );
    }
    if let Some(bad) = c
        .policy
        .password_required_link_types
        .iter()
        .find(|t| !known(t))
    {
        return err(
            "policy.password_required_link_types",
            format!("contains `{bad}`; link types are public, trusts, corporate, server"),
        );
    }
    if !c
        .policy
        .allowed_link_types
        .contains(&c.policy.default_link_type)
    {
        return err(
            "policy.default_link_type",
            format!(
                "is `{}`, which is not one of policy.allowed_link_types",
                c.policy.default_link_type
            ),
        );
    }

    if c.templates.default_locale.trim().is_empty() {
        return err("templates.default_locale", "must not be empty".into());
    }
    if c.client_log.rate_per_minute == 0 {
        return err("client_log.rate_per_minute", "must be at least 1".into());
    }

    for f in &c.tls.ca_files {
        if !std::path::Path::new(f).is_file() {
            return err("tls.ca_files", format!("names `{f}`, which is not a file"));
        }
    }
    if !c.tls.ca_dir.is_empty() && !std::path::Path::new(&c.tls.ca_dir).is_dir() {
        return err(
            "tls.ca_dir",
            format!("is `{}`, which is not a folder", c.tls.ca_dir),
        );
    }
    for (host, ip) in &c.http.host_overrides {
        if ip.parse::<IpAddr>().is_err() {
            return err(
                "http.host_overrides",
                format!("maps `{host}` to `{ip}`, which is not an IP address"),
            );
        }
    }
    Ok(())
}
