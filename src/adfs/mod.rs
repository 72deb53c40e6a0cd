//! AD FS: discovery, the key set (JWKS) cache, access-token validation and the
//! authorization-code / refresh-token exchanges (SPEC §3, ENGINEERING "Facts about AD FS").
//!
//! Access tokens carry `iss = http://<host>/adfs/services/trust` (the discovery document's
//! `access_token_issuer`, not its `issuer`) and `aud` = the relying-party identifier.

use crate::config::{AdfsConfig, Config, Secret};
use crate::outbound::{self, Failure};
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// The signed-in person, from a validated access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Lower-cased e-mail from the first present claim of `adfs.email_claims`.
    pub email: String,
    pub name: String,
    pub sip: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub authorize: String,
    pub token: String,
    pub jwks_uri: String,
    pub access_token_issuer: String,
    /// true once the discovery document was read; false while on the standard paths.
    pub discovered: bool,
}

/// Why a token was refused (the metrics label; the client only ever sees `invalid_token`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    Missing,
    Malformed,
    Algorithm,
    UnknownKey,
    Signature,
    Expired,
    NotYetValid,
    Audience,
    Issuer,
    NoEmail,
    NotConfigured,
}

impl Rejection {
    pub fn label(self) -> &'static str {
        match self {
            Rejection::Missing => "missing",
            Rejection::Malformed => "malformed",
            Rejection::Algorithm => "algorithm",
            Rejection::UnknownKey => "unknown_key",
            Rejection::Signature => "signature",
            Rejection::Expired => "expired",
            Rejection::NotYetValid => "not_yet_valid",
            Rejection::Audience => "audience",
            Rejection::Issuer => "issuer",
            Rejection::NoEmail => "no_email",
            Rejection::NotConfigured => "not_configured",
        }
    }
}

/// What the token endpoint answered, passed on to the add-in.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    #[serde(default = "bearer")]
    pub token_type: String,
    #[serde(default)]
    pub expires_in: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

fn bearer() -> String {
    "bearer".into()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExchangeError {
    /// The code or refresh token is not valid (AD FS `invalid_grant`).
    InvalidGrant(String),
    /// Our client id / secret were refused (AD FS `invalid_client`, `unauthorized_client`).
    ClientRejected(String),
    /// Another OAuth error (e.g. `invalid_request`: a wrong redirect URI).
    Rejected(String),
    /// No answer, or not an OAuth answer.
    Unavailable(String),
}

struct CachedToken {
    user: User,
    exp: i64,
}

const TOKEN_CACHE_MAX: usize = 50_000;
/// Scheduled key-set refresh, besides the ones an unknown `kid` causes.
const JWKS_REFRESH_EVERY: Duration = Duration::from_secs(3600);
const DISCOVERY_RETRY: Duration = Duration::from_secs(30);

pub struct Adfs {
    settings: AdfsConfig,
    http: reqwest::Client,
    endpoints: RwLock<Endpoints>,
    keys: RwLock<HashMap<String, Arc<DecodingKey>>>,
    /// When an unknown `kid` last made us refetch (at most once per `jwks_refresh_min_secs`).
    last_unknown_kid_fetch: Mutex<Option<Instant>>,
    /// When a request last tried discovery itself (while it has not succeeded yet).
    last_inline_discovery: Mutex<Option<Instant>>,
    last_initial_fetch: Mutex<Option<Instant>>,
    fetch_lock: tokio::sync::Mutex<()>,
    discovery_lock: tokio::sync::Mutex<()>,
    verified: Mutex<HashMap<[u8; 32], CachedToken>>,
}

impl std::fmt::Debug for Adfs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Adfs")
            .field("url", &self.settings.url)
            .finish()
    }
}

fn host_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default()
}

impl Adfs {
    /// `None` when `adfs.url` is not configured.
    pub fn new(config: &Config) -> Result<Option<Arc<Adfs>>, String> {
        if config.adfs.url.is_empty() {
            return Ok(None);
        }
        let http = outbound::client(config, Duration::from_secs(config.adfs.timeout_secs))?;
        let mut settings = config.adfs.clone();
        settings.url = settings
            .url
            .trim_end_matches('/')
            .trim_end_matches("/adfs")
            .to_owned();
        let endpoints = Self::standard_endpoints(&settings.url);
        Ok(Some(Arc::new(Adfs {
            settings,
            http,
            endpoints: RwLock::new(endpoints),
            keys: RwLock::new(HashMap::new()),
            last_unknown_kid_fetch: Mutex::new(None),
            last_inline_discovery: Mutex::new(None),
            last_initial_fetch: Mutex::new(None),
            fetch_lock: tokio::sync::Mutex::new(()),
            discovery_lock: tokio::sync::Mutex::new(()),
            verified: Mutex::new(HashMap::new()),
        })))
    }

    /// The paths every AD FS serves, used until (or unless) discovery answers.
    pub fn standard_endpoints(base: &str) -> Endpoints {
        Endpoints {
            authorize: format!("{base}/adfs/oauth2/authorize/"),
            token: format!("{base}/adfs/oauth2/token/"),
            jwks_uri: format!("{base}/adfs/discovery/keys"),
            access_token_issuer: format!("http://{}/adfs/services/trust", host_of(base)),
            discovered: false,
        }
    }

    pub fn discovery_url(&self) -> String {
        format!(
            "{}/adfs/.well-known/openid-configuration",
            self.settings.url
        )
    }

    pub fn settings(&self) -> &AdfsConfig {
        &self.settings
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn endpoints(&self) -> Endpoints {
        self.endpoints
            .read()
            .map(|e| e.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// The `iss` tokens must carry.
    pub fn expected_issuer(&self) -> String {
        if self.settings.issuer.is_empty() {
            self.endpoints().access_token_issuer
        } else {
            self.settings.issuer.clone()
        }
    }

    /// GET a JSON document from AD FS; errors say what was expected at `url`.
    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
        what: &str,
    ) -> Result<T, String> {
        let resp = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| describe_failure(&outbound::classify(&e)))?;
        if !resp.status().is_success() {
            return Err(format!("{url} answered HTTP {}", resp.status().as_u16()));
        }
        resp.json()
            .await
            .map_err(|e| format!("{url} is not {what}: {e}"))
    }

    /// Read the discovery document and adopt its endpoints.
    pub async fn discover(&self) -> Result<Endpoints, String> {
        #[derive(Deserialize)]
        struct Doc {
            authorization_endpoint: Option<String>,
            token_endpoint: Option<String>,
            jwks_uri: Option<String>,
            access_token_issuer: Option<String>,
        }
        let doc: Doc = self
            .get_json(&self.discovery_url(), "a discovery document")
            .await?;
        let std = Self::standard_endpoints(&self.settings.url);
        let found = Endpoints {
            authorize: doc.authorization_endpoint.unwrap_or(std.authorize),
            token: doc.token_endpoint.unwrap_or(std.token),
            jwks_uri: doc.jwks_uri.unwrap_or(std.jwks_uri),
            access_token_issuer: doc.access_token_issuer.unwrap_or(std.access_token_issuer),
            discovered: true,
        };
        if let Ok(mut e) = self.endpoints.write() {
            *e = found.clone();
        }
        Ok(found)
    }

    fn has_keys(&self) -> bool {
        self.keys.read().map(|k| !k.is_empty()).unwrap_or(false)
    }

    /// Load the key set when we have none yet (start-up, or AD FS was down at start): this
    /// is not a refetch for an unknown `kid`, so it is not counted against that limit, but
    /// it is tried at most every few seconds.
    async fn ensure_keys(&self) {
        if self.has_keys() {
            return;
        }
        let _guard = self.fetch_lock.lock().await;
        if self.has_keys() {
            return;
        }
        {
            let Ok(mut last) = self.last_initial_fetch.lock() else {
                return;
            };
            if last.is_some_and(|t| t.elapsed() < Duration::from_secs(5)) {
                return;
            }
            *last = Some(Instant::now());
        }
        let _ = self.refresh_keys_locked().await;
    }

    /// Fetch the key set; on failure the keys we have keep serving.
    pub async fn refresh_keys(&self) -> Result<usize, String> {
        let _guard = self.fetch_lock.lock().await;
        self.refresh_keys_locked().await
    }

    async fn refresh_keys_locked(&self) -> Result<usize, String> {
        let result = self.fetch_keys().await;
        match &result {
            Ok(n) => {
                crate::metrics::jwks_refresh("ok");
                tracing::info!(target: "xmeet::adfs", keys = n, "AD FS signing keys loaded");
            }
            Err(e) => {
                crate::metrics::jwks_refresh("error");
                tracing::warn!(target: "xmeet::adfs", error = %e, "cannot fetch the AD FS signing keys; the cached keys stay in use");
            }
        }
        result
    }

    async fn fetch_keys(&self) -> Result<usize, String> {
        let url = self.endpoints().jwks_uri;
        let set: JwkSet = self.get_json(&url, "a JSON key set").await?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            if !matches!(jwk.algorithm, AlgorithmParameters::RSA(_)) {
                continue;
            }
            let Ok(key) = DecodingKey::from_jwk(jwk) else {
                continue;
            };
            let key = Arc::new(key);
            if let Some(kid) = &jwk.common.key_id {
                keys.insert(kid.clone(), key.clone());
            }
            if let Some(x5t) = &jwk.common.x509_sha1_fingerprint {
                keys.entry(x5t.clone()).or_insert(key);
            }
        }
        if keys.is_empty() {
            return Err(format!("{url} holds no RSA signing key"));
        }
        let n = keys.len();
        if let Ok(mut k) = self.keys.write() {
            *k = keys;
        }
        Ok(n)
    }

    /// Discovery (retried until it answers), the first key set, then a scheduled refresh.
    pub fn spawn_background(self: &Arc<Self>) {
        let adfs = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let Some(a) = adfs.upgrade() else { return };
                match a.discover().await {
                    Ok(e) => {
                        tracing::info!(target: "xmeet::adfs", issuer = %e.access_token_issuer, "AD FS discovery read");
                        break;
                    }
                    Err(err) => {
                        tracing::warn!(target: "xmeet::adfs", error = %err, url = %a.discovery_url(),
                            "AD FS discovery failed; using the standard paths and retrying in 30 s");
                        a.ensure_keys().await;
                    }
                }
                drop(a);
                tokio::time::sleep(DISCOVERY_RETRY).await;
            }
            // the first key set right after discovery, then a scheduled refresh
            let mut first = true;
            loop {
                let Some(a) = adfs.upgrade() else { return };
                if first {
                    a.ensure_keys().await;
                    first = false;
                } else {
                    let _ = a.refresh_keys().await;
                }
                drop(a);
                tokio::time::sleep(JWKS_REFRESH_EVERY).await;
            }
        });
    }

    fn key_for(&self, kid: &str) -> Option<Arc<DecodingKey>> {
        self.keys.read().ok().and_then(|k| k.get(kid).cloned())
    }

    /// An unknown `kid` may mean a key rollover: refetch, at most once per
    /// `jwks_refresh_min_secs`.
    async fn refetch_for_unknown_kid(&self) {
        let min = Duration::from_secs(self.settings.jwks_refresh_min_secs);
        {
            let Ok(mut last) = self.last_unknown_kid_fetch.lock() else {
                return;
            };
            if last.is_some_and(|t| t.elapsed() < min) {
                return;
            }
            *last = Some(Instant::now());
        }
        let _ = self.refresh_keys().await;
    }

    /// Until discovery has answered, the expected issuer is only a guess: let a request try
    /// discovery itself, at most every few seconds, before judging a token by it.
    async fn discover_if_needed(&self) {
        if !self.settings.issuer.is_empty() || self.endpoints().discovered {
            return;
        }
        // one discovery at a time; the requests that waited use its result
        let _guard = self.discovery_lock.lock().await;
        if self.endpoints().discovered {
            return;
        }
        {
            let Ok(mut last) = self.last_inline_discovery.lock() else {
                return;
            };
            if last.is_some_and(|t| t.elapsed() < Duration::from_secs(5)) {
                return;
            }
            *last = Some(Instant::now());
        }
        let _ = self.discover().await;
    }

    fn digest(token: &str) -> [u8; 32] {
        let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(d.as_ref());
        out
    }

    fn cached(&self, digest: &[u8; 32], now: i64) -> Option<User> {
        let cache = self.verified.lock().ok()?;
        let entry = cache.get(digest)?;
        (now <= entry.exp + self.settings.leeway_secs as i64).then(|| entry.user.clone())
    }

    fn remember(&self, digest: [u8; 32], user: &User, exp: i64) {
        let Ok(mut cache) = self.verified.lock() else {
            return;
        };
        if cache.len() >= TOKEN_CACHE_MAX {
            let now = chrono::Utc::now().timestamp();
            let leeway = self.settings.leeway_secs as i64;
            cache.retain(|_, c| now <= c.exp + leeway);
            if cache.len() >= TOKEN_CACHE_MAX {
                cache.clear();
            }
        }
        cache.insert(
            digest,
            CachedToken {
                user: user.clone(),
                exp,
            },
        );
    }

    /// Validate an access token: RS256 only, signature against the AD FS keys, `iss`, `aud`,
    /// `exp`/`nbf` with leeway, and an e-mail claim. A token seen before is answered from a
    /// cache keyed by its hash until it expires.
    pub async fn verify(&self, token: &str) -> Result<User, Rejection> {
        let now = chrono::Utc::now().timestamp();
        let digest = Self::digest(token);
        if let Some(user) = self.cached(&digest, now) {
            return Ok(user);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| Rejection::Malformed)?;
        if header.alg != Algorithm::RS256 {
            return Err(Rejection::Algorithm);
        }
        let kid = header
            .kid
            .clone()
            .or(header.x5t.clone())
            .ok_or(Rejection::UnknownKey)?;
        self.ensure_keys().await;
        let key = match self.key_for(&kid) {
            Some(k) => k,
            None => {
                self.refetch_for_unknown_kid().await;
                self.key_for(&kid).ok_or(Rejection::UnknownKey)?
            }
        };
        self.discover_if_needed().await;
        let mut v = Validation::new(Algorithm::RS256);
        v.leeway = self.settings.leeway_secs;
        v.validate_exp = true;
        v.validate_nbf = true;
        v.set_issuer(&[self.expected_issuer()]);
        v.set_audience(&[self.settings.resource.as_str()]);
        v.set_required_spec_claims(&["exp", "iss", "aud"]);
        let data =
            jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(token, &key, &v)
                .map_err(|e| match e.kind() {
                    ErrorKind::ExpiredSignature => Rejection::Expired,
                    ErrorKind::ImmatureSignature => Rejection::NotYetValid,
                    ErrorKind::InvalidAudience => Rejection::Audience,
                    ErrorKind::InvalidIssuer => Rejection::Issuer,
                    ErrorKind::InvalidSignature => Rejection::Signature,
                    ErrorKind::InvalidAlgorithm => Rejection::Algorithm,
                    _ => Rejection::Malformed,
                })?;
        let claims = data.claims;
        let text = |name: &str| {
            claims
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .and_then(|(_, v)| v.as_str())
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let email = self
            .settings
            .email_claims
            .iter()
            .find_map(|c| text(c))
            .filter(|e| e.contains('@'))
            .map(|e| e.to_lowercase())
            .ok_or(Rejection::NoEmail)?;
        let name = text("name")
            .or_else(|| match (text("given_name"), text("family_name")) {
                (Some(g), Some(f)) => Some(format!("{g} {f}")),
                (g, f) => g.or(f),
            })
            .or_else(|| text("unique_name"))
            .unwrap_or_else(|| email.clone());
        let sip = if self.settings.sip_claim.is_empty() {
            None
        } else {
            text(&self.settings.sip_claim)
        };
        let user = User { email, name, sip };
        let exp = claims.get("exp").and_then(|v| v.as_i64()).unwrap_or(now);
        self.remember(digest, &user, exp);
        Ok(user)
    }

    pub fn authorize_url(&self) -> String {
        self.endpoints().authorize
    }

    /// Exchange an authorization code (our client secret, `resource` sent: AD FS 2012 R2
    /// wants it on every request).
    pub async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: Option<&str>,
        code_verifier: Option<&str>,
    ) -> Result<TokenResponse, ExchangeError> {
        let mut form: Vec<(&str, &str)> = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            (
                "redirect_uri",
                redirect_uri.unwrap_or(&self.settings.redirect_uri),
            ),
        ];
        if let Some(v) = code_verifier {
            form.push(("code_verifier", v));
        }
        self.token_request(form).await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenResponse, ExchangeError> {
        self.token_request(vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .await
    }

    async fn token_request(
        &self,
        mut form: Vec<(&str, &str)>,
    ) -> Result<TokenResponse, ExchangeError> {
        let secret: &Secret = &self.settings.client_secret;
        form.push(("client_id", &self.settings.client_id));
        if !secret.is_empty() {
            form.push(("client_secret", secret.expose()));
        }
        if !self.settings.resource.is_empty() {
            form.push(("resource", &self.settings.resource));
        }
        let url = self.endpoints().token;
        let resp = self
            .http
            .post(&url)
            .header("accept", "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|e| ExchangeError::Unavailable(describe_failure(&outbound::classify(&e))))?;
        let status = resp.status();
        let body = resp
            .bytes()
            .await
            .map_err(|e| ExchangeError::Unavailable(describe_failure(&outbound::classify(&e))))?;
        if status.is_success() {
            return serde_json::from_slice::<TokenResponse>(&body).map_err(|_| {
                ExchangeError::Unavailable(format!(
                    "{url} answered HTTP {} without a token",
                    status.as_u16()
                ))
            });
        }
        #[derive(Deserialize)]
        struct OAuthError {
            error: String,
            #[serde(default)]
            error_description: String,
        }
        match serde_json::from_slice::<OAuthError>(&body) {
            Ok(e) => {
                let detail = format!("{}: {}", e.error, e.error_description);
                Err(match e.error.as_str() {
                    "invalid_grant" => ExchangeError::InvalidGrant(detail),
                    "invalid_client" | "unauthorized_client" => {
                        ExchangeError::ClientRejected(detail)
                    }
                    _ => ExchangeError::Rejected(detail),
                })
            }
            Err(_) => Err(ExchangeError::Unavailable(format!(
                "{url} answered HTTP {} with no OAuth error",
                status.as_u16()
            ))),
        }
    }
}

pub fn describe_failure(f: &Failure) -> String {
    match f {
        Failure::Timeout => "no answer before the timeout".into(),
        Failure::Connect(d) => format!("cannot connect: {d}"),
        Failure::Tls(d) => format!("TLS failed: {d}"),
        Failure::Other(d) => d.clone(),
    }
}
