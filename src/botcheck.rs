//! `xmeet bot-check`: the guide's chapter 3 curl checks and the rest of the integration chain,
//! one step at a time, each `ok`/`warn`/`fail` with a hint naming what to change (SPEC §6).
//! It uses the same bot and AD FS clients as the server.

use crate::adfs::{Adfs, ExchangeError};
use crate::bot::{self, BotClient, BotError, interpret};
use crate::config::{BotAuth, Config, LoadedConfig, ValidationError};
use crate::outbound::{self, Failure};
use serde::Serialize;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub json: bool,
    pub curl: bool,
    pub timeout_secs: Option<u64>,
    pub create: bool,
    pub creator: Option<String>,
    pub members: Vec<String>,
    pub cleanup: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
    /// Not run because a step it depends on failed.
    Skip,
}

impl Status {
    fn word(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub name: &'static str,
    pub status: Status,
    pub detail: String,
    pub hint: Option<String>,
    pub elapsed_ms: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub ok: bool,
    pub exit_code: u8,
    pub steps: Vec<Step>,
}

struct Recorder {
    steps: Vec<Step>,
    started: Instant,
}

impl Recorder {
    fn new() -> Self {
        Recorder {
            steps: Vec::new(),
            started: Instant::now(),
        }
    }

    fn start(&mut self) {
        self.started = Instant::now();
    }

    fn push(
        &mut self,
        name: &'static str,
        status: Status,
        detail: impl Into<String>,
        hint: Option<String>,
    ) {
        self.steps.push(Step {
            name,
            status,
            detail: detail.into(),
            hint,
            elapsed_ms: self.started.elapsed().as_millis() as u64,
        });
        self.started = Instant::now();
    }

    fn skip(&mut self, name: &'static str, why: &str) {
        self.push(name, Status::Skip, format!("not run: {why}"), None);
    }
}

fn hint(s: &str) -> Option<String> {
    Some(s.to_owned())
}

/// SPEC §6 and the guide (chapter 3, steps 2.3–2.4): at least 30 characters, with upper
/// case, lower case and digits.
pub fn weak_token(token: &str) -> Option<String> {
    let mut missing = Vec::new();
    if !token.chars().any(|c| c.is_ascii_uppercase()) {
        missing.push("upper-case letters");
    }
    if !token.chars().any(|c| c.is_ascii_lowercase()) {
        missing.push("lower-case letters");
    }
    if !token.chars().any(|c| c.is_ascii_digit()) {
        missing.push("digits");
    }
    let len = token.chars().count();
    if len < 30 || !missing.is_empty() {
        let mut why = format!("{len} characters");
        if !missing.is_empty() {
            why.push_str(&format!(", no {}", missing.join(", no ")));
        }
        return Some(why);
    }
    None
}

const TOKEN_KEY: &str = "bot.token (legacy ExpressOptions__Token)";
const CA_HINT: &str = "if the certificate is issued by your own CA, give its chain (root and intermediate certificates, PEM) in tls.ca_files or put the files in tls.ca_dir (this replaces the guide's appendix 1, update-ca-certificates)";

pub async fn run(loaded: Result<LoadedConfig, ValidationError>, opts: &Options) -> Report {
    let mut r = Recorder::new();
    let mut config = match loaded {
        Ok(l) => l.config,
        Err(e) => {
            r.push("configuration", Status::Fail, e.to_string(), hint("fix the key named above; `xmeet config --check` validates without checking anything else"));
            return Report {
                ok: false,
                exit_code: 2,
                steps: r.steps,
            };
        }
    };
    if let Some(t) = opts.timeout_secs {
        config.bot.timeout_secs = t.max(1);
        config.adfs.timeout_secs = t.max(1);
    }
    if opts.create && opts.creator.as_deref().is_none_or(|c| c.trim().is_empty()) {
        r.push(
            "configuration",
            Status::Fail,
            "--create needs --creator EMAIL (an active eXpress user)",
            hint("add --creator you@company.example"),
        );
        return Report {
            ok: false,
            exit_code: 2,
            steps: r.steps,
        };
    }
    let bot_client = BotClient::new(&config);
    let adfs = Adfs::new(&config);
    match (&bot_client, &adfs) {
        (Err(e), _) | (_, Err(e)) => {
            r.push(
                "configuration",
                Status::Fail,
                e.clone(),
                hint("check tls.ca_files, tls.ca_dir and http.host_overrides"),
            );
            return Report {
                ok: false,
                exit_code: 2,
                steps: r.steps,
            };
        }
        _ => {}
    }
    let bot_client = bot_client.ok().flatten();
    let adfs = adfs.ok().flatten();
    r.push(
        "configuration",
        Status::Ok,
        format!(
            "valid; bot {}; AD FS {}",
            if config.bot.url.is_empty() {
                "not set"
            } else {
                &config.bot.url
            },
            if config.adfs.url.is_empty() {
                "not set"
            } else {
                &config.adfs.url
            },
        ),
        None,
    );

    database(&mut r, &config).await;

    match &bot_client {
        Some(b) => bot_steps(&mut r, &config, b, opts).await,
        None => r.push("bot", Status::Fail, "bot.url is not set: conferences cannot be booked", hint("set bot.url (legacy ExpressOptions__Uri), e.g. https://cts.example/api/v1/conference_bot/conferences/")),
    }

    match &adfs {
        Some(a) => adfs_steps(&mut r, a).await,
        None => r.push("adfs", Status::Fail, "adfs.url is not set: nobody can sign in", hint("set adfs.url (legacy AuthorizationOptions__Configuration__Url), e.g. https://adfs.mycompany")),
    }

    let failed = r.steps.iter().any(|s| s.status == Status::Fail);
    Report {
        ok: !failed,
        exit_code: if failed { 1 } else { 0 },
        steps: r.steps,
    }
}

async fn database(r: &mut Recorder, config: &Config) {
    r.start();
    let cfg = config.database.clone();
    let result = tokio::task::spawn_blocking(move || {
        let mut conn = crate::db::open_single(&cfg).map_err(crate::db::DbError::Unavailable)?;
        crate::db::migrate::pending(&mut conn)
    })
    .await;
    match result {
        Ok(Ok(p)) if p.is_empty() => r.push("database", Status::Ok, format!("{} answers; migrations current", config.database.url.target().map(|t| t.backend().name()).unwrap_or("database")), None),
        Ok(Ok(p)) => r.push("database", Status::Warn, format!("{} pending migration(s): {}", p.len(), p.join(", ")), hint("run `xmeet migrate`")),
        Ok(Err(e)) => r.push("database", Status::Fail, format!("cannot reach the database: {e}"), hint("check database.url (legacy DatabaseOptions__Connection), that the server runs and that this host may connect")),
        Err(e) => r.push("database", Status::Fail, e.to_string(), None),
    }
}

async fn bot_steps(r: &mut Recorder, config: &Config, bot: &BotClient, opts: &Options) {
    let Ok(url) = url::Url::parse(bot.base()) else {
        r.push(
            "bot host resolves",
            Status::Fail,
            "bot.url is not a URL",
            hint("fix bot.url"),
        );
        return;
    };
    let host = url.host_str().unwrap_or_default().to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    let https = url.scheme() == "https";

    // DNS (or the configured override)
    r.start();
    let addrs: Vec<SocketAddr> = if let Some(ip) = config
        .http
        .host_overrides
        .get(&host)
        .and_then(|ip| ip.parse().ok())
    {
        r.push(
            "bot host resolves",
            Status::Ok,
            format!("{host} → {ip} (http.host_overrides)"),
            None,
        );
        vec![SocketAddr::new(ip, port)]
    } else {
        match tokio::time::timeout(
            bot.timeout(),
            tokio::net::lookup_host((host.as_str(), port)),
        )
        .await
        {
            Ok(Ok(a)) => {
                let a: Vec<SocketAddr> = a.collect();
                let shown: Vec<String> = a.iter().map(|x| x.ip().to_string()).collect();
                r.push(
                    "bot host resolves",
                    Status::Ok,
                    format!("{host} → {}", shown.join(", ")),
                    None,
                );
                a
            }
            Ok(Err(e)) => {
                r.push("bot host resolves", Status::Fail, format!("{host} does not resolve: {e}"), hint("fix the name in bot.url, the DNS of this host, or map it in http.host_overrides (docker: extra_hosts / EXPRESS_MEETING_EXTRA_HOST)"));
                Vec::new()
            }
            Err(_) => {
                r.push(
                    "bot host resolves",
                    Status::Fail,
                    format!("resolving {host} timed out"),
                    hint("check the DNS of this host"),
                );
                Vec::new()
            }
        }
    };
    let later = [
        "bot TCP connect",
        "bot TLS",
        "bot refuses unauthenticated calls",
        "bot accepts our credentials",
    ];
    if addrs.is_empty() {
        for s in later {
            r.skip(s, "the bot host does not resolve");
        }
        return;
    }

    // TCP
    r.start();
    let mut connected = None;
    let mut last_err = String::new();
    for a in &addrs {
        match tokio::time::timeout(
            bot.timeout().min(Duration::from_secs(10)),
            tokio::net::TcpStream::connect(a),
        )
        .await
        {
            Ok(Ok(_)) => {
                connected = Some(*a);
                break;
            }
            Ok(Err(e)) => last_err = format!("{a}: {e}"),
            Err(_) => last_err = format!("{a}: no answer (timeout)"),
        }
    }
    match connected {
        Some(a) => r.push(
            "bot TCP connect",
            Status::Ok,
            format!("connected to {a}"),
            None,
        ),
        None => {
            r.push("bot TCP connect", Status::Fail, format!("cannot connect: {last_err}"), hint("check that the CTS (front) is reachable from this host on that port: firewall, routing, bot.url port"));
            for s in &later[1..] {
                r.skip(s, "no TCP connection to the bot");
            }
            return;
        }
    }

    // The unauthenticated call also proves TLS (same client, same trust as the server).
    r.start();
    let unauth = bot
        .request(reqwest::Method::POST, bot.base(), false)
        .json(&serde_json::json!({}))
        .send()
        .await;
    let unauth = match unauth {
        Ok(resp) => {
            if https {
                r.push("bot TLS", Status::Ok, "certificate trusted", None);
            } else {
                r.push("bot TLS", Status::Ok, "plain http: no TLS in use", None);
            }
            let status = resp.status().as_u16();
            let body = resp.bytes().await.unwrap_or_default();
            Some((status, body))
        }
        Err(e) => {
            match outbound::classify(&e) {
                Failure::Tls(d) => {
                    let untrusted = d.to_ascii_lowercase().contains("unknown")
                        || d.contains("UnknownIssuer")
                        || d.to_ascii_lowercase().contains("self-signed")
                        || d.to_ascii_lowercase().contains("invalid peer certificate");
                    let what = if untrusted {
                        "the bot's certificate is not trusted (unknown issuer / self-signed)"
                    } else {
                        "TLS handshake failed"
                    };
                    r.push(
                        "bot TLS",
                        Status::Fail,
                        format!("{what}: {d}"),
                        hint(CA_HINT),
                    );
                }
                Failure::Timeout => r.push(
                    "bot TLS",
                    Status::Fail,
                    "no answer within the timeout",
                    hint("raise --timeout or bot.timeout_secs; check the CTS"),
                ),
                f => r.push(
                    "bot TLS",
                    Status::Fail,
                    crate::adfs::describe_failure(&f),
                    hint("check bot.url"),
                ),
            }
            r.skip("bot refuses unauthenticated calls", "no TLS connection");
            r.skip("bot accepts our credentials", "no TLS connection");
            return;
        }
    };

    // an unauthenticated call must be refused (guide, chapter 3, step 2)
    let Some((status, body)) = unauth else { return };
    let open = match interpret(status, &body) {
        Err(BotError::AuthFailed { .. }) => {
            r.push(
                "bot refuses unauthenticated calls",
                Status::Ok,
                format!("HTTP {status} without credentials"),
                None,
            );
            false
        }
        Ok(_) | Err(BotError::Reason { .. }) => {
            r.push("bot refuses unauthenticated calls", Status::Warn,
                format!("the bot API answered a call without credentials (HTTP {status}): anyone who can reach it can create conferences"),
                hint("protect the bot with a bearer token (guide, chapter 3, step 2: BEARER_TOKEN in conference_bot_env_override), then set bot.token (legacy ExpressOptions__Token)"));
            true
        }
        Err(e) => {
            let d = match e {
                BotError::Unavailable(d) => d,
                other => format!("{other:?}"),
            };
            r.push("bot refuses unauthenticated calls", Status::Fail, format!("the bot API did not answer as the bot: {d}"),
                hint("check bot.url (…/api/v1/conference_bot/conferences/) and that the bot is enabled (guide, chapter 3, step 1: API_ENABLED: true, «Включено»)"));
            r.skip("bot accepts our credentials", "the bot API does not answer");
            return;
        }
    };

    // our credentials: a request the bot rejects as invalid_attributes proves auth and API
    r.start();
    if config.bot.auth == BotAuth::Bearer
        && let Some(why) = weak_token(config.bot.token.expose())
    {
        r.push("bot token strength", Status::Warn, format!("the bearer token is weak: {why}"),
            hint("use at least 30 (the guide: 40) characters with upper case, lower case and digits, on the CTS and in bot.token (legacy ExpressOptions__Token)"));
        r.start();
    }
    let probe = bot
        .request(reqwest::Method::POST, bot.base(), true)
        .json(&serde_json::json!({"name": "xmeet bot-check probe"}))
        .send()
        .await;
    let probe = match probe {
        Ok(resp) => {
            let s = resp.status().as_u16();
            let b = resp.bytes().await.unwrap_or_default();
            interpret(s, &b)
        }
        Err(e) => Err(bot::transport_error(&e)),
    };
    let key_hint = match config.bot.auth {
        BotAuth::Basic => "check bot.login / bot.password (legacy ExpressOptions__UserLogin / ExpressOptions__UserPassword)".to_owned(),
        BotAuth::Bearer => format!("check {TOKEN_KEY}: it must equal the bot's BEARER_TOKEN (with or without \"Bearer \")"),
        _ => format!("the bot wants credentials: set {TOKEN_KEY} and bot.auth = \"bearer\" (legacy ExpressOptions__AuthenticationScheme=StaticToken)"),
    };
    let creds_ok = match probe {
        Err(BotError::Reason { reason, .. }) if reason == "invalid_attributes" => {
            let detail = if config.bot.auth == BotAuth::None {
                "no credentials configured; the bot accepted the probe (invalid_attributes, nothing created)".to_owned()
            } else {
                "accepted: the probe was answered invalid_attributes (nothing created)".to_owned()
            };
            r.push("bot accepts our credentials", Status::Ok, detail, None);
            true
        }
        Err(BotError::AuthFailed { http_status }) => {
            r.push(
                "bot accepts our credentials",
                Status::Fail,
                format!("the bot refused our credentials (HTTP {http_status})"),
                Some(key_hint),
            );
            false
        }
        Err(BotError::Reason { reason, .. }) => {
            r.push("bot accepts our credentials", Status::Warn, format!("credentials accepted, but the probe was answered {reason} instead of invalid_attributes"), None);
            true
        }
        Ok(_) => {
            r.push(
                "bot accepts our credentials",
                Status::Warn,
                "the bot accepted an incomplete request; check what it created",
                None,
            );
            true
        }
        Err(BotError::Timeout) => {
            r.push(
                "bot accepts our credentials",
                Status::Fail,
                "no answer within the timeout",
                hint("raise --timeout or bot.timeout_secs"),
            );
            false
        }
        Err(BotError::Unavailable(d)) => {
            r.push(
                "bot accepts our credentials",
                Status::Fail,
                d,
                hint("check bot.url and the bot"),
            );
            false
        }
    };
    let _ = open;

    if opts.create {
        if !creds_ok {
            r.skip(
                "bot creates test_plugin_001",
                "the credentials were refused",
            );
            if opts.cleanup {
                r.skip("bot deletes test_plugin_001", "nothing was created");
            }
            return;
        }
        create_and_cleanup(r, bot, opts).await;
    }
}

async fn create_and_cleanup(r: &mut Recorder, bot: &BotClient, opts: &Options) {
    r.start();
    let creator = opts
        .creator
        .clone()
        .unwrap_or_default()
        .trim()
        .to_lowercase();
    let mut members: Vec<String> = opts
        .members
        .iter()
        .map(|m| m.trim().to_lowercase())
        .filter(|m| !m.is_empty())
        .collect();
    if members.is_empty() {
        members.push(creator.clone());
    }
    let start = chrono::Utc::now() + chrono::Duration::minutes(10);
    let req = bot::CreateRequest {
        contact_type: bot.contact_type().to_owned(),
        name: "test_plugin_001".into(),
        members,
        admins: vec![creator.clone()],
        creator: creator.clone(),
        start_at: bot::format_time(&start),
        end_at: bot::format_time(&(start + chrono::Duration::hours(1))),
        link: bot::Link {
            link_type: "public".into(),
            access_code: None,
        },
    };
    match bot.create(&req).await {
        Ok(c) => {
            let call_id = c.call_id.clone().unwrap_or_default();
            let link = c
                .link
                .as_ref()
                .and_then(|l| l.link.clone())
                .unwrap_or_default();
            r.push(
                "bot creates test_plugin_001",
                Status::Ok,
                format!("created call_id {call_id} {link}"),
                None,
            );
            if opts.cleanup {
                r.start();
                match bot.delete(&call_id, &creator).await {
                    Ok(()) => r.push(
                        "bot deletes test_plugin_001",
                        Status::Ok,
                        format!("deleted {call_id}"),
                        None,
                    ),
                    Err(e) => r.push(
                        "bot deletes test_plugin_001",
                        Status::Fail,
                        format!("{e:?}"),
                        hint("delete it in the CTS admin console: «Звонки → Конференции»"),
                    ),
                }
            } else {
                r.push("bot creates test_plugin_001", Status::Ok, "left in place: find it in the CTS admin console under «Звонки → Конференции» (or run with --cleanup)", None);
            }
        }
        Err(BotError::Reason { reason, .. }) => {
            let h = match reason.as_str() {
                "creator_not_found" => {
                    "the creator must be an active eXpress user registered with this e-mail (guide, chapter 1)"
                }
                "no_users_found" => "none of --members is an eXpress user",
                _ => "see the bot's reason",
            };
            r.push(
                "bot creates test_plugin_001",
                Status::Fail,
                format!("the bot refused: {reason}"),
                hint(h),
            );
            if opts.cleanup {
                r.skip("bot deletes test_plugin_001", "nothing was created");
            }
        }
        Err(e) => {
            r.push(
                "bot creates test_plugin_001",
                Status::Fail,
                format!("{e:?}"),
                None,
            );
            if opts.cleanup {
                r.skip("bot deletes test_plugin_001", "nothing was created");
            }
        }
    }
}

async fn adfs_steps(r: &mut Recorder, adfs: &Adfs) {
    r.start();
    match adfs.discover().await {
        Ok(e) => r.push("AD FS discovery", Status::Ok, format!("access_token_issuer {}", e.access_token_issuer), None),
        Err(e) => r.push("AD FS discovery", Status::Fail, format!("{}: {e}", adfs.discovery_url()),
            hint("check adfs.url (legacy AuthorizationOptions__Configuration__Url); for TLS errors see tls.ca_files")),
    }
    r.start();
    match adfs.refresh_keys().await {
        Ok(n) => r.push(
            "AD FS keys (JWKS)",
            Status::Ok,
            format!("{n} signing key id(s) at {}", adfs.endpoints().jwks_uri),
            None,
        ),
        Err(e) => r.push(
            "AD FS keys (JWKS)",
            Status::Fail,
            e,
            hint("check adfs.url and that AD FS publishes /adfs/discovery/keys"),
        ),
    }
    r.start();
    match adfs.exchange_code("xmeet-bot-check-dummy-code", None, None).await {
        Err(ExchangeError::InvalidGrant(_)) => r.push("AD FS client credentials", Status::Ok,
            "the token endpoint answered invalid_grant for a dummy code: client id and secret are accepted", None),
        Err(ExchangeError::ClientRejected(d)) => r.push("AD FS client credentials", Status::Fail,
            format!("AD FS refused the client: {d}"),
            hint("check adfs.client_id / adfs.client_secret (legacy AuthorizationOptions__Configuration__ServiceClientId / __ServiceClientSecret) against the AD FS server application")),
        Err(ExchangeError::Rejected(d)) => r.push("AD FS client credentials", Status::Warn,
            format!("the token endpoint answered {d}"),
            hint("check adfs.resource (legacy AuthorizationOptions__Configuration__Resource) and adfs.redirect_uri against the AD FS application group")),
        Err(ExchangeError::Unavailable(d)) => r.push("AD FS client credentials", Status::Fail, format!("the token endpoint does not answer: {d}"), hint("check adfs.url and the network")),
        Ok(_) => r.push("AD FS client credentials", Status::Warn, "AD FS issued a token for a dummy code", None),
    }
}

/// The report as text: one line per step, hints below.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    for s in &report.steps {
        out.push_str(&format!(
            "{:<5} {:<34} {} ({} ms)\n",
            s.status.word(),
            s.name,
            s.detail,
            s.elapsed_ms
        ));
        if let Some(h) = &s.hint {
            out.push_str(&format!("      hint: {h}\n"));
        }
    }
    let count = |st: Status| report.steps.iter().filter(|s| s.status == st).count();
    out.push_str(&format!(
        "result: {} ok, {} warn, {} fail, {} skipped\n",
        count(Status::Ok),
        count(Status::Warn),
        count(Status::Fail),
        count(Status::Skip)
    ));
    out
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The equivalent curl commands, secrets masked.
pub fn curl(config: &Config, opts: &Options) -> String {
    let mut extra = String::new();
    for p in outbound::ca_paths(config) {
        extra.push_str(&format!(" --cacert {}", quote(&p.display().to_string())));
    }
    let timeout = opts.timeout_secs.unwrap_or(config.bot.timeout_secs);
    let mut out = String::new();
    let resolve = |url: &str| -> String {
        url::Url::parse(url)
            .ok()
            .and_then(|u| {
                let host = u.host_str()?.to_owned();
                let ip = config.http.host_overrides.get(&host)?;
                Some(format!(
                    " --resolve {host}:{}:{ip}",
                    u.port_or_known_default()?
                ))
            })
            .unwrap_or_default()
    };
    if !config.bot.url.is_empty() {
        let base = if config.bot.url.ends_with('/') {
            config.bot.url.clone()
        } else {
            format!("{}/", config.bot.url)
        };
        let common = format!(
            "curl -sS -m {timeout}{extra}{} -H 'Content-Type: application/json' -H 'Accept: application/json'",
            resolve(&base)
        );
        let auth = match config.bot.auth {
            BotAuth::Bearer => " -H 'Authorization: Bearer ********'".to_owned(),
            BotAuth::Basic => format!(" -u {}", quote(&format!("{}:********", config.bot.login))),
            _ => String::new(),
        };
        out.push_str("# the bot must refuse a call without credentials (expect HTTP 401/403)\n");
        out.push_str(&format!(
            "{common} -o /dev/null -w '%{{http_code}}\\n' -X POST -d '{{}}' {}\n",
            quote(&base)
        ));
        out.push_str("# our credentials are accepted (expect \"reason\":\"invalid_attributes\")\n");
        out.push_str(&format!(
            "{common}{auth} -X POST -d '{{\"name\":\"xmeet bot-check probe\"}}' {}\n",
            quote(&base)
        ));
        let creator = opts
            .creator
            .clone()
            .unwrap_or_else(|| "user001@mydomain.com".into());
        let start = chrono::Utc::now() + chrono::Duration::minutes(10);
        let body = serde_json::json!({
            "name": "test_plugin_001", "members": [creator], "admins": [creator], "creator": creator,
            "start_at": bot::format_time(&start), "end_at": bot::format_time(&(start + chrono::Duration::hours(1))),
            "link": {"link_type": "public", "access_code": null}
        });
        out.push_str("# the guide's test conference (expect \"status\":\"ok\")\n");
        out.push_str(&format!(
            "{common}{auth} -X POST -d {} {}\n",
            quote(&body.to_string()),
            quote(&base)
        ));
        out.push_str("# delete it again (CALL_ID from the answer above)\n");
        out.push_str(&format!(
            "{common}{auth} -X DELETE -d {} {}\n",
            quote(&serde_json::json!({"actor": creator}).to_string()),
            quote(&format!("{base}CALL_ID"))
        ));
    }
    if !config.adfs.url.is_empty() {
        let base = config
            .adfs
            .url
            .trim_end_matches('/')
            .trim_end_matches("/adfs");
        let common = format!(
            "curl -sS -m {}{extra}{}",
            opts.timeout_secs.unwrap_or(config.adfs.timeout_secs),
            resolve(base)
        );
        out.push_str("# AD FS discovery and keys\n");
        out.push_str(&format!(
            "{common} {}\n",
            quote(&format!("{base}/adfs/.well-known/openid-configuration"))
        ));
        out.push_str(&format!(
            "{common} {}\n",
            quote(&format!("{base}/adfs/discovery/keys"))
        ));
        out.push_str(
            "# our client is accepted (expect \"error\":\"invalid_grant\", not invalid_client)\n",
        );
        out.push_str(&format!(
            "{common} -X POST -d grant_type=authorization_code -d code=dummy --data-urlencode {} --data-urlencode client_secret=******** --data-urlencode {} --data-urlencode {} {}\n",
            quote(&format!("client_id={}", config.adfs.client_id)),
            quote(&format!("resource={}", config.adfs.resource)),
            quote(&format!("redirect_uri={}", config.adfs.redirect_uri)),
            quote(&format!("{base}/adfs/oauth2/token/"))
        ));
    }
    if out.is_empty() {
        out.push_str("# neither bot.url nor adfs.url is configured\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::weak_token;

    #[test]
    fn token_strength() {
        assert!(weak_token("3bb326abc5609fed301dd3c0431").is_some());
        assert!(weak_token(&"a".repeat(40)).is_some());
        assert!(weak_token("Xq7Zt2Lm9Pw4Rk8Vn3Bc6Hd1Jf5Gs0Ya").is_none());
    }
}
