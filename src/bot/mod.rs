//! The Conference Notifier Bot API of the CTS (SPEC §4): create = `POST {base}`,
//! change = `POST {base}{call_id}`, delete = `DELETE {base}{call_id}`.

use crate::config::{BotAuth, Config};
use crate::outbound::{self, Failure};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

/// ISO 8601 UTC with microseconds, as the bot writes them: `2022-10-31T10:10:46.275304Z`.
pub fn format_time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Link {
    pub link_type: String,
    pub access_code: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CreateRequest {
    pub contact_type: String,
    pub name: String,
    pub members: Vec<String>,
    pub admins: Vec<String>,
    pub creator: String,
    pub start_at: String,
    pub end_at: String,
    pub link: Link,
}

/// A change: only what is sent changes; `actor` is who changes it.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct ChangeRequest {
    pub contact_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admins: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<Link>,
    pub actor: String,
}

#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
pub struct BotLink {
    #[serde(default)]
    pub link_id: Option<String>,
    #[serde(default)]
    pub link_type: Option<String>,
    #[serde(default)]
    pub link: Option<String>,
    #[serde(default)]
    pub access_code: Option<String>,
}

/// The `result` of a create or change.
#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
pub struct BotConference {
    #[serde(default)]
    pub call_id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub members: Vec<Value>,
    #[serde(default)]
    pub start_at: Option<String>,
    #[serde(default)]
    pub end_at: Option<String>,
    #[serde(default)]
    pub link: Option<BotLink>,
    #[serde(default)]
    pub sip_number: Option<Value>,
}

impl BotConference {
    pub fn sip_number(&self) -> Option<String> {
        match &self.sip_number {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum BotError {
    /// The bot's own `{"status":"error","reason":…}` answer.
    Reason {
        http_status: u16,
        reason: String,
        errors: Vec<String>,
        error_data: Value,
    },
    /// 401/403 without an error envelope: our credentials were refused.
    AuthFailed {
        http_status: u16,
    },
    /// No usable answer: refused connection, TLS failure, HTML, non-JSON.
    Unavailable(String),
    Timeout,
}

impl BotError {
    /// The metrics label.
    pub fn outcome(&self) -> String {
        match self {
            BotError::Reason { reason, .. } => reason.clone(),
            BotError::AuthFailed { .. } => "auth_failed".into(),
            BotError::Unavailable(_) => "unavailable".into(),
            BotError::Timeout => "timeout".into(),
        }
    }
}

#[derive(Clone)]
pub struct BotClient {
    base: String,
    auth: BotAuth,
    token: String,
    login: String,
    password: String,
    contact_type: String,
    timeout: Duration,
    http: reqwest::Client,
}

impl std::fmt::Debug for BotClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BotClient")
            .field("base", &self.base)
            .finish()
    }
}

#[derive(Deserialize)]
struct Envelope {
    status: String,
    #[serde(default)]
    result: Value,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    errors: Vec<Value>,
    #[serde(default)]
    error_data: Value,
}

/// The hint an operator reads in the log when the bot refuses us.
pub fn auth_hint(auth: BotAuth) -> &'static str {
    match auth {
        BotAuth::Bearer => {
            "check bot.token (legacy ExpressOptions__Token) against the bot's BEARER_TOKEN"
        }
        BotAuth::Basic => {
            "check bot.login / bot.password (legacy ExpressOptions__UserLogin / __UserPassword)"
        }
        _ => {
            "the bot requires credentials: set bot.token (legacy ExpressOptions__Token, with ExpressOptions__AuthenticationScheme=StaticToken)"
        }
    }
}

impl BotClient {
    /// `None` when `bot.url` is not configured.
    pub fn new(config: &Config) -> Result<Option<BotClient>, String> {
        if config.bot.url.is_empty() {
            return Ok(None);
        }
        let timeout = Duration::from_secs(config.bot.timeout_secs);
        let http = outbound::client(config, timeout)?;
        let mut base = config.bot.url.clone();
        if !base.ends_with('/') {
            base.push('/');
        }
        Ok(Some(BotClient {
            base,
            auth: config.bot.auth,
            token: crate::config::bare_token(config.bot.token.expose()).to_owned(),
            login: config.bot.login.clone(),
            password: config.bot.password.expose().to_owned(),
            contact_type: config.bot.contact_type.clone(),
            timeout,
            http,
        }))
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn auth(&self) -> BotAuth {
        self.auth
    }

    pub fn contact_type(&self) -> &str {
        &self.contact_type
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// A request with our credentials (`authenticated`) or none.
    pub fn request(
        &self,
        method: reqwest::Method,
        url: &str,
        authenticated: bool,
    ) -> reqwest::RequestBuilder {
        let rb = self
            .http
            .request(method, url)
            .header("accept", "application/json");
        if !authenticated {
            return rb;
        }
        match self.auth {
            BotAuth::Bearer => rb.bearer_auth(&self.token),
            BotAuth::Basic => rb.basic_auth(&self.login, Some(&self.password)),
            _ => rb,
        }
    }

    fn url_for(&self, call_id: &str) -> String {
        // a call id is a UUID; anything else must not reach the path unescaped
        let escaped: String = url::form_urlencoded::byte_serialize(call_id.as_bytes()).collect();
        format!("{}{escaped}", self.base)
    }

    pub async fn create(&self, req: &CreateRequest) -> Result<BotConference, BotError> {
        let rb = self
            .request(reqwest::Method::POST, &self.base, true)
            .json(req);
        let out = self.send(rb).await.and_then(parse_result);
        self.record("create", &out);
        out
    }

    pub async fn change(
        &self,
        call_id: &str,
        req: &ChangeRequest,
    ) -> Result<BotConference, BotError> {
        let rb = self
            .request(reqwest::Method::POST, &self.url_for(call_id), true)
            .json(req);
        let out = self.send(rb).await.and_then(parse_result);
        self.record("change", &out);
        out
    }

    pub async fn delete(&self, call_id: &str, actor: &str) -> Result<(), BotError> {
        let body = serde_json::json!({"actor": actor, "contact_type": self.contact_type});
        let rb = self
            .request(reqwest::Method::DELETE, &self.url_for(call_id), true)
            .json(&body);
        let out = self.send(rb).await.map(|_| ());
        self.record("delete", &out);
        out
    }

    fn record<T>(&self, op: &str, out: &Result<T, BotError>) {
        match out {
            Ok(_) => crate::metrics::bot_call(op, "ok"),
            Err(e) => {
                crate::metrics::bot_call(op, &e.outcome());
                self.log_failure(op, e);
            }
        }
    }

    fn log_failure(&self, op: &str, e: &BotError) {
        match e {
            BotError::AuthFailed { http_status } => tracing::error!(
                target: "xmeet::bot",
                operation = op,
                http_status,
                base = %self.base,
                "the Conference Notifier Bot refused our credentials: {}",
                auth_hint(self.auth)
            ),
            BotError::Unavailable(detail) => tracing::error!(
                target: "xmeet::bot",
                operation = op,
                base = %self.base,
                detail = %detail,
                "the Conference Notifier Bot is unavailable: check bot.url (legacy ExpressOptions__Uri), that the bot is enabled with API_ENABLED, the network, and for TLS errors tls.ca_files"
            ),
            BotError::Timeout => tracing::error!(
                target: "xmeet::bot",
                operation = op,
                base = %self.base,
                timeout_secs = self.timeout.as_secs(),
                "the Conference Notifier Bot did not answer in time (bot.timeout_secs)"
            ),
            BotError::Reason {
                reason,
                errors,
                http_status,
                ..
            } => tracing::info!(
                target: "xmeet::bot",
                operation = op,
                http_status,
                reason = %reason,
                errors = ?errors,
                "the Conference Notifier Bot refused the request"
            ),
        }
    }

    /// Send and read the envelope: `Ok(result)` on `"status":"ok"` (or an empty 2xx).
    pub async fn send(&self, rb: reqwest::RequestBuilder) -> Result<Value, BotError> {
        let resp = rb.send().await.map_err(|e| transport_error(&e))?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(|e| transport_error(&e))?;
        interpret(status, &body)
    }
}

/// A request that got no answer: a timeout, or the bot is unavailable.
pub fn transport_error(e: &reqwest::Error) -> BotError {
    match outbound::classify(e) {
        Failure::Timeout => BotError::Timeout,
        f => BotError::Unavailable(crate::adfs::describe_failure(&f)),
    }
}

/// Read an answer of the bot.
pub fn interpret(status: u16, body: &[u8]) -> Result<Value, BotError> {
    let envelope = serde_json::from_slice::<Envelope>(body).ok();
    match envelope {
        Some(env) if env.status == "ok" && (200..300).contains(&status) => Ok(env.result),
        Some(env) if env.status == "error" => Err(BotError::Reason {
            http_status: status,
            reason: env.reason.unwrap_or_else(|| "unknown".into()),
            errors: env
                .errors
                .into_iter()
                .map(|e| match e {
                    Value::String(s) => s,
                    other => other.to_string(),
                })
                .collect(),
            error_data: env.error_data,
        }),
        _ if status == 401 || status == 403 => Err(BotError::AuthFailed {
            http_status: status,
        }),
        _ if (200..300).contains(&status) && body.iter().all(u8::is_ascii_whitespace) => {
            Ok(Value::Null)
        }
        _ => {
            let kind = if body.starts_with(b"<")
                || body.windows(5).any(|w| w.eq_ignore_ascii_case(b"<html"))
            {
                "an HTML page"
            } else if body.is_empty() {
                "an empty body"
            } else {
                "an answer that is not the bot's JSON"
            };
            Err(BotError::Unavailable(format!("HTTP {status} with {kind}")))
        }
    }
}

fn parse_result(v: Value) -> Result<BotConference, BotError> {
    serde_json::from_value(v).map_err(|e| {
        BotError::Unavailable(format!("the bot's result has an unexpected shape: {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes() {
        assert_eq!(
            interpret(201, br#"{"status":"ok","result":{"call_id":"x"}}"#).unwrap(),
            serde_json::json!({"call_id":"x"})
        );
        match interpret(
            400,
            br#"{"status":"error","reason":"creator_not_found","errors":["x"],"error_data":{}}"#,
        ) {
            Err(BotError::Reason {
                reason,
                http_status,
                ..
            }) => {
                assert_eq!((reason.as_str(), http_status), ("creator_not_found", 400))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            interpret(401, b""),
            Err(BotError::AuthFailed { http_status: 401 })
        );
        assert_eq!(
            interpret(403, b"<html>no</html>"),
            Err(BotError::AuthFailed { http_status: 403 })
        );
        assert!(
            matches!(interpret(500, b"<html>oops</html>"), Err(BotError::Unavailable(m)) if m.contains("HTML"))
        );
        assert!(matches!(interpret(502, b""), Err(BotError::Unavailable(_))));
        assert_eq!(interpret(204, b""), Ok(Value::Null));
    }

    #[test]
    fn time_has_microseconds() {
        let t = DateTime::parse_from_rfc3339("2022-10-31T13:10:46.2753049+03:00")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(format_time(&t), "2022-10-31T10:10:46.275304Z");
    }
}
