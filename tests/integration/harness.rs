//! The test harness: a fresh database per test on either backend, the real server on
//! 127.0.0.1:0, and a TCP proxy that can cut PostgreSQL off.

use diesel::Connection;
use diesel::connection::SimpleConnection;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::net::{TcpListener, TcpStream};
use xmeet::cli::Role;
use xmeet::config::Config;
use xmeet::db::{DatabaseUrl, Db};
use xmeet::server::{AppState, Running};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generate one test per backend from `async fn name(backend: Backend)`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[actix_web::test]
                async fn $name() {
                    super::$name($crate::harness::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[actix_web::test]
                async fn $name() {
                    super::$name($crate::harness::Backend::Postgres).await
                }
            )*
        }
    };
}

pub fn postgres_admin_url() -> String {
    std::env::var("XMEET_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn postgres_required() -> bool {
    std::env::var("XMEET_REQUIRE_POSTGRES").is_ok_and(|v| v == "1" || v == "true")
}

/// A database that exists for one test: a temp SQLite file, or a new PostgreSQL database
/// dropped when this value is dropped.
#[allow(dead_code)] // read by the tests of later areas
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    pg_name: Option<String>,
    pub dir: tempfile::TempDir,
}

impl TestDb {
    /// `None` when PostgreSQL is wanted but unreachable and not required (the test skips).
    pub fn new(backend: Backend) -> Option<TestDb> {
        let dir = tempfile::tempdir().expect("temp dir");
        match backend {
            Backend::Sqlite => {
                let url = format!("sqlite://{}", dir.path().join("xmeet.db").display());
                Some(TestDb {
                    backend,
                    url,
                    pg_name: None,
                    dir,
                })
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let mut conn = match diesel::PgConnection::establish(&admin) {
                    Ok(c) => c,
                    Err(e) if postgres_required() => {
                        panic!(
                            "XMEET_REQUIRE_POSTGRES=1 but PostgreSQL at {admin} is unreachable: {e}"
                        )
                    }
                    Err(e) => {
                        eprintln!(
                            "skipping: PostgreSQL at {admin} is unreachable ({e}); set XMEET_TEST_POSTGRES_URL"
                        );
                        return None;
                    }
                };
                let name = format!("xmeet_test_{}", uuid::Uuid::new_v4().simple());
                conn.batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("create test database");
                let mut url = url::Url::parse(&admin).expect("XMEET_TEST_POSTGRES_URL is a URL");
                url.set_path(&format!("/{name}"));
                Some(TestDb {
                    backend,
                    url: url.to_string(),
                    pg_name: Some(name),
                    dir,
                })
            }
        }
    }

    pub fn port(&self) -> Option<u16> {
        url::Url::parse(&self.url).ok().and_then(|u| u.port())
    }

    /// The same database reached through `proxy` instead of directly.
    pub fn url_via(&self, proxy: &TcpProxy) -> String {
        let mut u = url::Url::parse(&self.url).expect("postgres url");
        u.set_port(Some(proxy.addr.port())).expect("set port");
        u.to_string()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = &self.pg_name
            && let Ok(mut conn) = diesel::PgConnection::establish(&postgres_admin_url())
        {
            let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// A configuration for tests: loopback listeners on free ports, logs in the temp folder.
pub fn test_config(db: &TestDb) -> Config {
    let mut c = Config::default();
    c.core.listen = "127.0.0.1:0".into();
    c.template.listen = "127.0.0.1:0".into();
    c.database.url = DatabaseUrl::new(db.url.clone());
    c.database.pool_timeout_secs = 2;
    c.database.busy_timeout_ms = 300;
    c.log.dir = db.dir.path().join("logs").display().to_string();
    c
}

#[allow(dead_code)]
pub struct TestServer {
    pub running: Running,
    pub core: String,
    pub template: String,
    pub db: Db,
    pub config: Arc<Config>,
    pub http: reqwest::Client,
}

impl TestServer {
    /// Migrate, seed and start both roles with `config`.
    pub async fn start(config: Config) -> TestServer {
        let config = Arc::new(config);
        let db = Db::connect(&config.database).expect("pool");
        {
            let db = db.clone();
            tokio::task::spawn_blocking(move || {
                let mut conn = db.get().expect("connection");
                xmeet::db::migrate::run_pending(&mut conn, |_| {}).expect("migrate");
                xmeet::db::seed::seed(&mut conn).expect("seed");
            })
            .await
            .expect("migrate task");
        }
        let state = AppState::new(config.clone(), db.clone(), Role::All).expect("app state");
        let running = xmeet::server::start(state, Role::All).expect("start server");
        let core = format!("http://{}", running.core_addr.expect("core addr"));
        let template = format!("http://{}", running.template_addr.expect("template addr"));
        TestServer {
            running,
            core,
            template,
            db,
            config,
            // a hung request fails the test instead of hanging it
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(60))
                .build()
                .expect("http client"),
        }
    }

    pub async fn stop(self) {
        self.running.stop(true).await;
        let _ = self.running.wait().await;
    }
}

/// A server wired to a fake AD FS and a fake bot.
#[allow(dead_code)] // the database is kept alive (and dropped) with the environment
pub struct TestEnv {
    pub db: TestDb,
    pub adfs: crate::fakes::FakeAdfs,
    pub bot: crate::fakes::FakeBot,
    pub srv: TestServer,
}

/// The configuration for a server that talks to `adfs` and `bot`.
pub fn configure_fakes(c: &mut Config, adfs: &crate::fakes::FakeAdfs, bot: &crate::fakes::FakeBot) {
    use crate::fakes::*;
    c.adfs.url = adfs.url.clone();
    c.adfs.client_id = CLIENT_ID.into();
    c.adfs.client_secret = xmeet::config::Secret::new(CLIENT_SECRET);
    c.adfs.resource = RESOURCE.into();
    c.adfs.sip_claim = "sip".into();
    c.bot.url = bot.url.clone();
    c.bot.auth = xmeet::config::BotAuth::Bearer;
    c.bot.token = xmeet::config::Secret::new(BOT_TOKEN);
    c.bot.timeout_secs = 5;
}

impl TestEnv {
    /// Fakes plus a server; `tweak` adjusts the configuration. `None`: PostgreSQL skipped.
    pub async fn start(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Option<TestEnv> {
        let db = TestDb::new(backend)?;
        let adfs = crate::fakes::FakeAdfs::start().await;
        let bot = crate::fakes::FakeBot::start().await;
        let mut c = test_config(&db);
        configure_fakes(&mut c, &adfs, &bot);
        tweak(&mut c);
        let srv = TestServer::start(c).await;
        Some(TestEnv { db, adfs, bot, srv })
    }

    pub fn token(&self, email: &str) -> String {
        self.adfs.token_for(email)
    }

    pub fn core(&self, path: &str) -> String {
        format!("{}{path}", self.srv.core)
    }
}

/// Forwards TCP to `target`; `set_down(true)` cuts every connection and refuses new ones
/// (accepts and closes at once), so the database looks gone without touching the server.
pub struct TcpProxy {
    pub addr: SocketAddr,
    down: Arc<AtomicBool>,
    epoch: tokio::sync::watch::Sender<u64>,
}

impl TcpProxy {
    /// The proxy runs on a thread and runtime of its own: a test that blocks its own thread
    /// on the database (through this proxy) must not stop the proxy too.
    pub async fn start(target: SocketAddr) -> TcpProxy {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let addr = std_listener.local_addr().expect("proxy addr");
        let down = Arc::new(AtomicBool::new(false));
        let (epoch, _) = tokio::sync::watch::channel(0u64);
        let (d, e) = (down.clone(), epoch.clone());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("proxy runtime");
            rt.block_on(async move {
                let listener = TcpListener::from_std(std_listener).expect("proxy listener");
                loop {
                    let Ok((inbound, _)) = listener.accept().await else {
                        return;
                    };
                    if d.load(Ordering::SeqCst) {
                        drop(inbound);
                        continue;
                    }
                    let mut cut = e.subscribe();
                    tokio::spawn(async move {
                        let Ok(mut outbound) = TcpStream::connect(target).await else {
                            return;
                        };
                        let mut inbound = inbound;
                        tokio::select! {
                            _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                            _ = cut.changed() => {}
                        }
                    });
                }
            });
        });
        TcpProxy { addr, down, epoch }
    }

    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
        if down {
            self.epoch.send_modify(|e| *e += 1);
        }
    }
}

/// The guide's example env files (chapter 4, step 4), from the shared reference folder.
pub fn guide_env(file: &str) -> std::collections::BTreeMap<String, String> {
    let dir = std::env::var("XMEET_GUIDE_ENV_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/guide-env")
        });
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read the guide's {}: {e}", path.display()));
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

/// Path of the built `xmeet` binary, for tests of the command line.
pub fn xmeet_bin() -> &'static str {
    env!("CARGO_BIN_EXE_xmeet")
}
