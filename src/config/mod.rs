//! Layered configuration (SPEC §1). Later layers win:
//! built-in defaults → TOML file → legacy .NET environment names → `XMEET_*` → flags.
//!
//! Every layer is merged as a TOML table; the result is deserialized once into [`Config`]
//! with unknown keys refused, so a typo names its key instead of being ignored.

pub mod de;
mod layers;
pub mod legacy;
pub mod npgsql;
pub mod secret;
mod validate;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

pub use layers::{ConfigSources, LoadedConfig, load, load_from, parse_env_file};
pub use secret::Secret;
pub use validate::{ValidationError, bare_token};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub core: CoreConfig,
    pub template: TemplateConfig,
    pub database: DatabaseConfig,
    pub log: LogConfig,
    pub bot: BotConfig,
    pub adfs: AdfsConfig,
    pub admin: AdminConfig,
    pub policy: PolicyConfig,
    pub templates: TemplatesConfig,
    pub client_log: ClientLogConfig,
    pub tls: TlsConfig,
    pub http: HttpConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CoreConfig {
    pub listen: String,
}

impl Default for CoreConfig {
    fn default() -> Self {
        CoreConfig {
            listen: "0.0.0.0:7100".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TemplateConfig {
    pub listen: String,
}

impl Default for TemplateConfig {
    fn default() -> Self {
        TemplateConfig {
            listen: "0.0.0.0:7200".into(),
        }
    }
}

/// `auto`: migrate on start for SQLite, not for PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AutoMigrate {
    #[default]
    Auto,
    Always,
    Never,
}

impl Serialize for AutoMigrate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            AutoMigrate::Auto => s.serialize_str("auto"),
            AutoMigrate::Always => s.serialize_bool(true),
            AutoMigrate::Never => s.serialize_bool(false),
        }
    }
}

impl<'de> Deserialize<'de> for AutoMigrate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = de::string_or_scalar(d)?;
        if text.trim().eq_ignore_ascii_case("auto") {
            return Ok(AutoMigrate::Auto);
        }
        match de::parse_bool(&text) {
            Some(true) => Ok(AutoMigrate::Always),
            Some(false) => Ok(AutoMigrate::Never),
            None => Err(serde::de::Error::custom(format!(
                "`{text}` is not true, false or \"auto\""
            ))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://PATH`, `sqlite::memory:`, `postgres://…` or an Npgsql string.
    pub url: crate::db::DatabaseUrl,
    pub auto_migrate: AutoMigrate,
    #[serde(deserialize_with = "de::number")]
    pub min_connections: u32,
    #[serde(deserialize_with = "de::number")]
    pub max_connections: u32,
    /// How long a request waits for a free connection before answering 503.
    #[serde(deserialize_with = "de::number")]
    pub pool_timeout_secs: u64,
    /// SQLite only: how long a writer waits for a lock.
    #[serde(deserialize_with = "de::number")]
    pub busy_timeout_ms: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: crate::db::DatabaseUrl::new("sqlite://data/xmeet.db"),
            auto_migrate: AutoMigrate::Auto,
            min_connections: 1,
            max_connections: 16,
            pool_timeout_secs: 5,
            busy_timeout_ms: 5000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `error`, `warn`, `info`, `debug`, `trace`, or a tracing filter such as `xmeet=debug`.
    pub level: String,
    pub format: LogFormat,
    /// Folder of the rolling daily files; empty = stdout only.
    pub dir: String,
    #[serde(deserialize_with = "de::number")]
    pub keep_days: u32,
    /// File of the core role's service log (legacy Serilog path); relative paths are under `dir`.
    pub core_file: String,
    /// File of the template role's service log.
    pub template_file: String,
    /// File of the add-in's own log events (`POST /api/log/json`).
    pub client_file: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".into(),
            format: LogFormat::Text,
            dir: "logs".into(),
            keep_days: 14,
            core_file: "core.log".into(),
            template_file: "template.log".into(),
            client_file: "client/plugin.log".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BotAuth {
    /// Bearer when a token is set, Basic when a login is set, else none.
    Auto,
    None,
    Bearer,
    Basic,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BotConfig {
    /// Conference Notifier Bot API base, e.g. `https://cts.example/api/v1/conference_bot/conferences/`.
    pub url: String,
    pub auth: BotAuth,
    pub token: Secret,
    #[serde(deserialize_with = "de::string_or_scalar")]
    pub login: String,
    pub password: Secret,
    #[serde(deserialize_with = "de::number")]
    pub timeout_secs: u64,
    /// `email` or `ad_login`: how members, admins and creator are identified to the bot.
    pub contact_type: String,
}

impl Default for BotConfig {
    fn default() -> Self {
        BotConfig {
            url: String::new(),
            auth: BotAuth::Auto,
            token: Secret::default(),
            login: String::new(),
            password: Secret::default(),
            timeout_secs: 30,
            contact_type: "email".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdfsConfig {
    /// AD FS base URL, e.g. `https://adfs.mycompany`.
    pub url: String,
    #[serde(deserialize_with = "de::string_or_scalar")]
    pub client_id: String,
    pub client_secret: Secret,
    /// Relying-party identifier: the expected `aud` of access tokens.
    pub resource: String,
    pub redirect_uri: String,
    /// Expected `iss`; empty = the discovery document's `access_token_issuer`.
    pub issuer: String,
    #[serde(deserialize_with = "de::number")]
    pub leeway_secs: u64,
    /// Claims tried in order for the user's e-mail.
    #[serde(deserialize_with = "de::string_list")]
    pub email_claims: Vec<String>,
    /// Claim with the user's SIP number, used when the bot returns none.
    pub sip_claim: String,
    #[serde(deserialize_with = "de::number")]
    pub timeout_secs: u64,
    /// Minimum time between two JWKS fetches caused by an unknown `kid`.
    #[serde(deserialize_with = "de::number")]
    pub jwks_refresh_min_secs: u64,
}

impl Default for AdfsConfig {
    fn default() -> Self {
        AdfsConfig {
            url: String::new(),
            client_id: String::new(),
            client_secret: Secret::default(),
            resource: String::new(),
            redirect_uri: "http://127.0.0.1:4414".into(),
            issuer: String::new(),
            leeway_secs: 300,
            email_claims: vec!["email".into(), "upn".into()],
            sip_claim: String::new(),
            timeout_secs: 30,
            jwks_refresh_min_secs: 30,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdminConfig {
    /// HS256 key of console tokens; empty = generated once and kept in the database.
    pub jwt_key: Secret,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    /// Console token lifetime, at most 12 hours.
    #[serde(deserialize_with = "de::number")]
    pub token_ttl_secs: u64,
    /// Failed sign-ins allowed per login and per address within `lockout_window_secs`.
    #[serde(deserialize_with = "de::number")]
    pub max_login_failures: u32,
    #[serde(deserialize_with = "de::number")]
    pub lockout_window_secs: u64,
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            jwt_key: Secret::default(),
            jwt_issuer: "xmeet".into(),
            jwt_audience: "xmeet-console".into(),
            token_ttl_secs: 8 * 3600,
            max_login_failures: 10,
            lockout_window_secs: 15 * 60,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyConfig {
    pub default_link_type: String,
    #[serde(deserialize_with = "de::string_list")]
    pub allowed_link_types: Vec<String>,
    /// Create every conference with `default_link_type`, whatever the add-in asks.
    #[serde(deserialize_with = "de::boolean")]
    pub deny_link_type: bool,
    #[serde(deserialize_with = "de::string_list")]
    pub password_required_link_types: Vec<String>,
    #[serde(deserialize_with = "de::boolean")]
    pub background_token_refresh: bool,
    #[serde(deserialize_with = "de::number")]
    pub token_refresh_period_secs: u64,
}

pub const LINK_TYPES: [&str; 4] = ["public", "trusts", "corporate", "server"];

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            default_link_type: "corporate".into(),
            allowed_link_types: LINK_TYPES.iter().map(|s| s.to_string()).collect(),
            deny_link_type: false,
            password_required_link_types: Vec::new(),
            background_token_refresh: false,
            token_refresh_period_secs: 900,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TemplatesConfig {
    pub default_locale: String,
}

impl Default for TemplatesConfig {
    fn default() -> Self {
        TemplatesConfig {
            default_locale: "en".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientLogConfig {
    /// Add-in log batches accepted per client address per minute.
    #[serde(deserialize_with = "de::number")]
    pub rate_per_minute: u32,
}

impl Default for ClientLogConfig {
    fn default() -> Self {
        ClientLogConfig {
            rate_per_minute: 120,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// Extra CA certificates (PEM files) trusted for the bot and AD FS.
    #[serde(deserialize_with = "de::string_list")]
    pub ca_files: Vec<String>,
    /// A folder whose `*.crt`/`*.pem` files are extra CA certificates.
    pub ca_dir: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Host name → IP address for outbound calls (what docker `extra_hosts` did).
    #[serde(deserialize_with = "de::string_map")]
    pub host_overrides: BTreeMap<String, String>,
}

impl Config {
    /// TOML of the effective configuration with every secret masked.
    pub fn to_masked_toml(&self) -> String {
        toml::to_string(self).unwrap_or_else(|e| format!("# cannot print configuration: {e}\n"))
    }

    /// Where a log file lives: absolute paths as given, relative ones under `log.dir`.
    pub fn log_path(&self, file: &str) -> PathBuf {
        let p = PathBuf::from(file);
        if p.is_absolute() || self.log.dir.is_empty() {
            p
        } else {
            PathBuf::from(&self.log.dir).join(p)
        }
    }
}
