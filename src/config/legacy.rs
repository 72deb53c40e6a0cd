//! The .NET services' environment names (`core.env`, `template.env`), SPEC §1.
//!
//! .NET reads configuration keys case-insensitively, so these names are matched without
//! regard to case. Each yields a value for one of our keys; a few need a translation.

use super::npgsql::{NpgsqlConnection, looks_like_npgsql};
use super::validate::ValidationError;
use std::collections::BTreeMap;
use toml::{Table, Value};

/// Legacy name → our key, for the names that carry a plain value.
pub const PLAIN: &[(&str, &str)] = &[
    ("ExpressOptions__Uri", "bot.url"),
    ("ExpressOptions__Token", "bot.token"),
    ("ExpressOptions__UserLogin", "bot.login"),
    ("ExpressOptions__UserPassword", "bot.password"),
    ("AuthorizationOptions__Configuration__Url", "adfs.url"),
    (
        "AuthorizationOptions__Configuration__ServiceClientId",
        "adfs.client_id",
    ),
    (
        "AuthorizationOptions__Configuration__ServiceClientSecret",
        "adfs.client_secret",
    ),
    (
        "AuthorizationOptions__Configuration__Resource",
        "adfs.resource",
    ),
    ("DatabaseOptions__Connection", "database.url"),
    ("JWTOptions__Key", "admin.jwt_key"),
    ("JWTOptions__Issuer", "admin.jwt_issuer"),
    ("JWTOptions__Audience", "admin.jwt_audience"),
    (
        "Serilog__WriteTo__1__Args__configureLogger__WriteTo__0__Args__path",
        "log.core_file",
    ),
    (
        "Serilog__WriteTo__2__Args__configureLogger__WriteTo__0__Args__path",
        "log.client_file",
    ),
    ("Serilog__WriteTo__1__Args__path", "log.template_file"),
];

pub const AUTH_SCHEME: &str = "ExpressOptions__AuthenticationScheme";
pub const AUTH_TYPE: &str = "AuthorizationOptions__AuthType";
pub const CORE_PORT: &str = "EXPRESS_MEETING_CORE_SERVICE_PORT";
pub const TEMPLATE_PORT: &str = "EXPRESS_MEETING_TEMPLATE_SERVICE_PORT";
/// Accepted and ignored.
pub const IGNORED: &[&str] = &["ASPNETCORE_ENVIRONMENT"];

/// The legacy name that feeds a key, for hints ("set `bot.token` or `ExpressOptions__Token`").
pub fn legacy_name_of(key: &str) -> Option<&'static str> {
    match key {
        "bot.auth" => Some(AUTH_SCHEME),
        "core.listen" => Some(CORE_PORT),
        "template.listen" => Some(TEMPLATE_PORT),
        _ => PLAIN.iter().find(|(_, k)| *k == key).map(|(n, _)| *n),
    }
}

fn lookup<'a>(env: &'a BTreeMap<String, String>, name: &str) -> Option<(&'a str, &'a str)> {
    env.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(k, v)| (k.as_str(), v.as_str()))
}

/// One value of the legacy layer.
pub struct LegacySetting {
    /// Our key, e.g. `bot.url`.
    pub key: String,
    pub value: Value,
    /// The variable it came from, spelled as in the environment.
    pub var: String,
}

fn setting(key: &str, value: String, var: &str) -> LegacySetting {
    LegacySetting {
        key: key.to_owned(),
        value: Value::String(value),
        var: var.to_owned(),
    }
}

/// The legacy layer. `current` is what the earlier layers produced (a port replaces only
/// the port of a configured listen address).
pub fn layer(
    env: &BTreeMap<String, String>,
    current: &Table,
) -> Result<Vec<LegacySetting>, ValidationError> {
    let mut out = Vec::new();
    for (name, key) in PLAIN {
        if let Some((var, value)) = lookup(env, name) {
            out.push(setting(key, value.to_owned(), var));
        }
    }
    if let Some((var, scheme)) = lookup(env, AUTH_SCHEME) {
        let auth = match scheme.trim().to_ascii_lowercase().as_str() {
            "statictoken" | "bearer" => "bearer",
            "basic" => "basic",
            "none" | "" => "none",
            _ => {
                return Err(ValidationError::new(
                    var,
                    format!("is `{scheme}`; use StaticToken or Basic"),
                ));
            }
        };
        out.push(setting("bot.auth", auth.into(), var));
    }
    if let Some((var, kind)) = lookup(env, AUTH_TYPE)
        && !kind.trim().eq_ignore_ascii_case("adfs")
    {
        return Err(ValidationError::new(
            var,
            format!("is `{kind}`; the only supported value is adfs"),
        ));
    }
    for (name, key, default) in [
        (
            CORE_PORT,
            "core.listen",
            super::CoreConfig::default().listen,
        ),
        (
            TEMPLATE_PORT,
            "template.listen",
            super::TemplateConfig::default().listen,
        ),
    ] {
        if let Some((var, port)) = lookup(env, name) {
            let port: u16 = port.trim().parse().map_err(|_| {
                ValidationError::new(var, format!("is `{port}`, which is not a port number"))
            })?;
            let (section, field) = key.split_once('.').unwrap_or((key, ""));
            let listen = current
                .get(section)
                .and_then(|s| s.get(field))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or(default);
            let host = listen.rsplit_once(':').map(|(h, _)| h).unwrap_or("0.0.0.0");
            out.push(setting(key, format!("{host}:{port}"), var));
        }
    }
    Ok(out)
}

/// When a layer sets `database.url` to an Npgsql string with pool sizes, those sizes count as
/// set by the same layer (unless it also sets the pool keys itself).
pub fn expand_npgsql_pool(
    layer: &mut Table,
    warnings: &mut Vec<String>,
) -> Result<(), ValidationError> {
    let Some(Value::Table(db)) = layer.get_mut("database") else {
        return Ok(());
    };
    let Some(url) = db.get("url").and_then(Value::as_str) else {
        return Ok(());
    };
    if !looks_like_npgsql(url) {
        return Ok(());
    }
    let parsed = NpgsqlConnection::parse(url).map_err(|e| {
        ValidationError::new(
            "database.url",
            format!("is not a valid connection string: {e}"),
        )
    })?;
    for key in &parsed.ignored_keys {
        warnings.push(format!(
            "database.url: the connection-string key `{key}` is not used by xmeet and is ignored"
        ));
    }
    if parsed.pooling == Some(false) {
        db.entry("max_connections")
            .or_insert_with(|| Value::String("1".into()));
    }
    if let Some(min) = parsed.min_pool_size {
        db.entry("min_connections")
            .or_insert_with(|| Value::String(min.to_string()));
    }
    if let Some(max) = parsed.max_pool_size {
        db.entry("max_connections")
            .or_insert_with(|| Value::String(max.to_string()));
    }
    Ok(())
}
