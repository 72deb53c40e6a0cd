//! Fakes of the outside world as real HTTP servers on 127.0.0.1: an AD FS with RSA keys
//! generated per run (discovery, JWKS, token endpoint) and a Conference Notifier Bot that
//! records every request and can answer each documented error.

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Wait until nothing accepts connections at the address of `url` any more.
async fn wait_refused(url: &str) {
    let u = url::Url::parse(url).unwrap();
    let addr = format!("{}:{}", u.host_str().unwrap(), u.port().unwrap());
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while tokio::net::TcpStream::connect(&addr).await.is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "{addr} still accepts connections"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// An RSA key of the fake AD FS.
#[derive(Clone)]
pub struct RsaKey {
    pub kid: String,
    pub encoding: EncodingKey,
    pub jwk: Value,
    /// The public key as PEM-less DER bytes, for the HS256-with-public-key attack.
    pub public_der: Vec<u8>,
}

impl RsaKey {
    pub fn generate(kid: &str) -> RsaKey {
        let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
            .expect("generate RSA key");
        let der = pair.as_der().expect("pkcs8 der");
        let b64 = STANDARD.encode(der.as_ref());
        let body: Vec<String> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            body.join("\n")
        );
        let encoding = EncodingKey::from_rsa_pem(pem.as_bytes()).expect("encoding key");
        let public = pair.public_key();
        let n = URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero());
        let e = URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero());
        let jwk = json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "x5t": kid, "n": n, "e": e});
        RsaKey {
            kid: kid.to_owned(),
            encoding,
            jwk,
            public_der: public.as_ref().to_vec(),
        }
    }
}

pub const ACCESS_TOKEN_ISSUER: &str = "http://adfs.test/adfs/services/trust";
pub const CLIENT_ID: &str = "11111111-2222-3333-4444-555555555555";
pub const CLIENT_SECRET: &str = "adfs-client-secret-1234567890";
pub const RESOURCE: &str = "http://xmeet.test:7100";

#[derive(Default)]
struct AdfsState {
    keys: Vec<RsaKey>,
    /// authorization code → e-mail
    codes: HashMap<String, String>,
    refresh_tokens: HashMap<String, String>,
    token_requests: Vec<HashMap<String, String>>,
    jwks_fetches: usize,
    discovery_fetches: usize,
}

pub struct FakeAdfs {
    pub url: String,
    state: Arc<Mutex<AdfsState>>,
    handle: ServerHandle,
}

impl FakeAdfs {
    pub async fn start() -> FakeAdfs {
        let state = Arc::new(Mutex::new(AdfsState {
            keys: vec![RsaKey::generate("key-1")],
            ..Default::default()
        }));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (st, base) = (state.clone(), url.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(st.clone()))
                .app_data(web::Data::new(base.clone()))
                .route(
                    "/adfs/.well-known/openid-configuration",
                    web::get().to(discovery),
                )
                .route("/adfs/discovery/keys", web::get().to(jwks))
                .route("/adfs/oauth2/token/", web::post().to(token))
        })
        .workers(1)
        .keep_alive(actix_web::http::KeepAlive::Disabled)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        FakeAdfs { url, state, handle }
    }

    pub async fn stop(&self) {
        self.handle.stop(false).await;
        wait_refused(&self.url).await;
    }

    pub fn current_key(&self) -> RsaKey {
        self.state.lock().unwrap().keys.last().unwrap().clone()
    }

    /// Publish a new key and sign with it from now on (the old one stays published).
    pub fn rotate(&self, kid: &str) -> RsaKey {
        let k = RsaKey::generate(kid);
        self.state.lock().unwrap().keys.push(k.clone());
        k
    }

    pub fn jwks_fetches(&self) -> usize {
        self.state.lock().unwrap().jwks_fetches
    }

    pub fn token_requests(&self) -> Vec<HashMap<String, String>> {
        self.state.lock().unwrap().token_requests.clone()
    }

    pub fn add_code(&self, code: &str, email: &str) {
        self.state
            .lock()
            .unwrap()
            .codes
            .insert(code.into(), email.into());
    }

    /// The claims of a good token for `email`.
    pub fn claims(email: &str) -> Value {
        let now = chrono::Utc::now().timestamp();
        json!({
            "iss": ACCESS_TOKEN_ISSUER,
            "aud": RESOURCE,
            "iat": now,
            "nbf": now - 5,
            "exp": now + 3600,
            "email": email,
            "upn": email,
            "name": "Test User",
            "sip": "7001",
        })
    }

    pub fn sign_with(key: &RsaKey, claims: &Value) -> String {
        let mut h = Header::new(Algorithm::RS256);
        h.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&h, claims, &key.encoding).unwrap()
    }

    pub fn sign(&self, claims: &Value) -> String {
        Self::sign_with(&self.current_key(), claims)
    }

    pub fn token_for(&self, email: &str) -> String {
        self.sign(&Self::claims(email))
    }
}

async fn discovery(st: web::Data<Arc<Mutex<AdfsState>>>, base: web::Data<String>) -> HttpResponse {
    st.lock().unwrap().discovery_fetches += 1;
    HttpResponse::Ok().json(json!({
        "issuer": format!("{}/adfs", base.as_str()),
        "access_token_issuer": ACCESS_TOKEN_ISSUER,
        "authorization_endpoint": format!("{}/adfs/oauth2/authorize/", base.as_str()),
        "token_endpoint": format!("{}/adfs/oauth2/token/", base.as_str()),
        "jwks_uri": format!("{}/adfs/discovery/keys", base.as_str()),
    }))
}

async fn jwks(st: web::Data<Arc<Mutex<AdfsState>>>) -> HttpResponse {
    let mut s = st.lock().unwrap();
    s.jwks_fetches += 1;
    let keys: Vec<Value> = s.keys.iter().map(|k| k.jwk.clone()).collect();
    HttpResponse::Ok().json(json!({ "keys": keys }))
}

async fn token(
    st: web::Data<Arc<Mutex<AdfsState>>>,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    let form = form.into_inner();
    let mut s = st.lock().unwrap();
    s.token_requests.push(form.clone());
    let oauth_error = |code: &str| {
        HttpResponse::BadRequest()
            .json(json!({"error": code, "error_description": format!("MSIS: {code}")}))
    };
    if form.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || form.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET)
    {
        return oauth_error("invalid_client");
    }
    if form.get("resource").map(String::as_str) != Some(RESOURCE) {
        return oauth_error("invalid_resource");
    }
    let email = match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => form.get("code").and_then(|c| s.codes.remove(c)),
        Some("refresh_token") => form
            .get("refresh_token")
            .and_then(|r| s.refresh_tokens.get(r).cloned()),
        _ => return oauth_error("unsupported_grant_type"),
    };
    let Some(email) = email else {
        return oauth_error("invalid_grant");
    };
    let key = s.keys.last().unwrap().clone();
    let access = FakeAdfs::sign_with(&key, &FakeAdfs::claims(&email));
    let refresh = format!("refresh-{}", uuid::Uuid::new_v4());
    s.refresh_tokens.insert(refresh.clone(), email);
    HttpResponse::Ok().json(json!({
        "access_token": access,
        "token_type": "bearer",
        "expires_in": 3600,
        "refresh_token": refresh,
        "id_token": "not-passed-on",
    }))
}

/// What the fake bot answers.
#[derive(Debug, Clone)]
pub enum BotMode {
    Ok,
    /// `{"status":"error","reason":…}` with this HTTP status.
    Reason(u16, String),
    Empty401,
    Html500,
    /// Answer normally after this delay.
    Slow(Duration),
}

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    pub body: Value,
}

struct BotState {
    /// false: keep no record of requests (benchmarks)
    recording: bool,
    mode: BotMode,
    /// The Authorization header the bot wants; `None` = open to anyone.
    required_auth: Option<String>,
    requests: Vec<Recorded>,
    sip_number: Option<String>,
}

pub struct FakeBot {
    /// The API base, with a trailing slash.
    pub url: String,
    state: Arc<Mutex<BotState>>,
    handle: ServerHandle,
}

pub const BOT_TOKEN: &str = "Xq7Zt2Lm9Pw4Rk8Vn3Bc6Hd1Jf5Gs0Ya";

impl FakeBot {
    /// A bot that wants `Authorization: Bearer BOT_TOKEN`.
    pub async fn start() -> FakeBot {
        Self::start_with(Some(format!("Bearer {BOT_TOKEN}"))).await
    }

    pub async fn start_with(required_auth: Option<String>) -> FakeBot {
        Self::start_opts(required_auth, false).await
    }

    /// `keep_alive`: keep connections open between requests (the benchmark); the tests close
    /// them so that a stopped fake is really gone at once.
    pub async fn start_opts(required_auth: Option<String>, keep_alive: bool) -> FakeBot {
        let state = Arc::new(Mutex::new(BotState {
            recording: true,
            mode: BotMode::Ok,
            required_auth,
            requests: Vec::new(),
            sip_number: None,
        }));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://{}/api/v1/conference_bot/conferences/",
            listener.local_addr().unwrap()
        );
        let st = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(st.clone()))
                .app_data(web::PayloadConfig::new(8 << 20))
                .default_service(web::to(bot_handler))
        })
        .workers(2)
        .keep_alive(if keep_alive {
            actix_web::http::KeepAlive::Os
        } else {
            actix_web::http::KeepAlive::Disabled
        })
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        FakeBot { url, state, handle }
    }

    pub async fn stop(&self) {
        self.handle.stop(false).await;
        wait_refused(&self.url).await;
    }

    pub fn set_mode(&self, mode: BotMode) {
        self.state.lock().unwrap().mode = mode;
    }

    #[allow(dead_code)] // used by the benchmark's fakes
    pub fn set_recording(&self, on: bool) {
        self.state.lock().unwrap().recording = on;
    }

    pub fn set_sip_number(&self, sip: Option<&str>) {
        self.state.lock().unwrap().sip_number = sip.map(str::to_owned);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    pub fn count(&self, method: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.method == method)
            .count()
    }

    pub fn clear(&self) {
        self.state.lock().unwrap().requests.clear();
    }
}

async fn bot_handler(
    st: web::Data<Arc<Mutex<BotState>>>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let body_json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let authorization = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (mode, required, sip) = {
        let mut s = st.lock().unwrap();
        if s.recording {
            s.requests.push(Recorded {
                method: req.method().to_string(),
                path: req.path().to_owned(),
                authorization: authorization.clone(),
                body: body_json.clone(),
            });
        }
        (
            s.mode.clone(),
            s.required_auth.clone(),
            s.sip_number.clone(),
        )
    };
    if let Some(required) = required
        && authorization.as_deref() != Some(required.as_str())
    {
        // what nginx in front of the bot does: an empty 401
        return HttpResponse::Unauthorized().finish();
    }
    match mode {
        BotMode::Empty401 => return HttpResponse::Unauthorized().finish(),
        BotMode::Html500 => {
            return HttpResponse::InternalServerError()
                .content_type("text/html")
                .body("<html><body><h1>500 Internal Server Error</h1></body></html>");
        }
        BotMode::Reason(status, reason) => {
            return HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
                .json(json!({"status": "error", "reason": reason, "error_data": {}, "errors": [format!("{reason} from fake bot")]}));
        }
        BotMode::Slow(d) => tokio::time::sleep(d).await,
        BotMode::Ok => {}
    }
    let is_collection = req.path().ends_with("/conferences/");
    match (req.method().as_str(), is_collection) {
        ("POST", true) => {
            let missing: Vec<&str> = [
                "name", "members", "admins", "creator", "start_at", "end_at", "link",
            ]
            .into_iter()
            .filter(|k| body_json.get(*k).is_none())
            .collect();
            if !missing.is_empty() {
                return HttpResponse::BadRequest().json(json!({
                    "status": "error", "reason": "invalid_attributes", "error_data": {},
                    "errors": missing.iter().map(|m| format!("{m} is required")).collect::<Vec<_>>()
                }));
            }
            let call_id = uuid::Uuid::new_v4().to_string();
            HttpResponse::Created().json(json!({"status": "ok", "result": conference_result(&body_json, Some(&call_id), sip.as_deref())}))
        }
        ("POST", false) => {
            if body_json.get("actor").is_none() {
                return HttpResponse::BadRequest().json(json!({"status": "error", "reason": "invalid_attributes", "error_data": {}, "errors": ["actor is required"]}));
            }
            HttpResponse::Ok().json(json!({"status": "ok", "result": conference_result(&body_json, None, sip.as_deref())}))
        }
        ("DELETE", false) => HttpResponse::NoContent().finish(),
        _ => HttpResponse::NotFound()
            .json(json!({"status": "error", "reason": "not_found", "errors": []})),
    }
}

fn conference_result(body: &Value, call_id: Option<&str>, sip: Option<&str>) -> Value {
    let link_id = uuid::Uuid::new_v4().to_string();
    let members: Vec<Value> = body
        .get("members")
        .and_then(Value::as_array)
        .map(|m| {
            m.iter()
                .map(|e| json!({"email": e, "user_huid": uuid::Uuid::new_v4().to_string()}))
                .collect()
        })
        .unwrap_or_default();
    let link = body.get("link").cloned().unwrap_or(json!({}));
    let mut r = json!({
        "name": body.get("name").cloned().unwrap_or(Value::Null),
        "members": members,
        "start_at": body.get("start_at").cloned().unwrap_or(Value::Null),
        "end_at": body.get("end_at").cloned().unwrap_or(Value::Null),
        "link": {
            "link_id": link_id,
            "link_type": link.get("link_type").cloned().unwrap_or(json!("public")),
            "link": format!("https://cts.test/join/{link_id}"),
            "access_code": link.get("access_code").cloned().unwrap_or(Value::Null),
        }
    });
    if let Some(c) = call_id {
        r["call_id"] = json!(c);
    }
    if let Some(s) = sip {
        r["sip_number"] = json!(s);
    }
    r
}
