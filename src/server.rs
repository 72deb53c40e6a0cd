//! `xmeet serve`: one actix-web server per role, both in one process for `--role all`.

use crate::cli::Role;
use crate::config::Config;
use crate::db::Db;
use crate::http;
use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpServer, web};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    /// `None` while `adfs.url` is not configured.
    pub adfs: Option<Arc<crate::adfs::Adfs>>,
    /// `None` while `bot.url` is not configured.
    pub bot: Option<crate::bot::BotClient>,
    pub renderer: Arc<crate::render::Renderer>,
    /// The add-in's log (core role only).
    pub client_log: Option<Arc<crate::core::client_log::ClientLog>>,
    /// Console tokens (template role only).
    pub admin_jwt: Option<Arc<crate::template::auth::AdminJwt>>,
    pub login_brake: Option<Arc<crate::template::auth::LoginBrake>>,
}

impl AppState {
    /// Build the clients a role needs; errors name the key (a CA file that cannot be read …).
    pub fn new(config: Arc<Config>, db: Db, role: Role) -> Result<AppState, String> {
        let core = matches!(role, Role::Core | Role::All);
        let adfs = if core {
            crate::adfs::Adfs::new(&config)?
        } else {
            None
        };
        let bot = if core {
            crate::bot::BotClient::new(&config)?
        } else {
            None
        };
        let client_log = if core {
            Some(Arc::new(crate::core::client_log::ClientLog::open(&config)?))
        } else {
            None
        };
        let template = matches!(role, Role::Template | Role::All);
        let (admin_jwt, login_brake) = if template {
            (
                Some(Arc::new(crate::template::auth::AdminJwt::load(
                    &config, &db,
                )?)),
                Some(Arc::new(crate::template::auth::LoginBrake::new(&config))),
            )
        } else {
            (None, None)
        };
        Ok(AppState {
            config,
            db,
            adfs,
            bot,
            renderer: Arc::new(crate::render::Renderer::new()),
            client_log,
            admin_jwt,
            login_brake,
        })
    }

    /// Background work: AD FS discovery and keys. Call inside the runtime.
    pub fn spawn_background(&self) {
        if let Some(adfs) = &self.adfs {
            adfs.spawn_background();
        }
    }
}

/// The servers of a running process.
pub struct Running {
    pub core_addr: Option<SocketAddr>,
    pub template_addr: Option<SocketAddr>,
    handles: Vec<ServerHandle>,
    tasks: Vec<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Running {
    /// Stop accepting connections; with `graceful`, let in-flight requests finish first.
    pub async fn stop(&self, graceful: bool) {
        let stops = self.handles.iter().map(|h| h.stop(graceful));
        futures_util::future::join_all(stops).await;
    }

    /// Wait until every server has stopped.
    pub async fn wait(self) -> std::io::Result<()> {
        for t in self.tasks {
            t.await.map_err(std::io::Error::other)??;
        }
        Ok(())
    }
}

fn workers() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
}

/// Time given to in-flight requests at shutdown: a create may be waiting for the bot.
fn shutdown_timeout(config: &Config) -> u64 {
    config.bot.timeout_secs.max(config.adfs.timeout_secs) + 5
}

/// One role's server: the shared middleware and error handling around `routes`.
fn role_server(
    state: &AppState,
    role: &'static str,
    listen: &str,
    routes: fn(&mut web::ServiceConfig),
) -> std::io::Result<(Server, SocketAddr)> {
    let st = state.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(st.db.clone()))
            .app_data(web::Data::from(st.config.clone()))
            .app_data(web::Data::new(st.clone()))
            .app_data(http::json_config(http::JSON_LIMIT))
            .app_data(http::query_config())
            .app_data(http::path_config())
            .wrap(http::json_errors())
            .wrap(actix_web::middleware::from_fn(move |req, next| {
                http::log_request(role, req, next)
            }))
            .configure(routes)
            .default_service(web::to(http::not_found))
    })
    .workers(workers())
    .disable_signals()
    .shutdown_timeout(shutdown_timeout(&state.config))
    .bind(listen)?;
    let addr = first_addr(&server.addrs(), listen)?;
    Ok((server.run(), addr))
}

fn first_addr(addrs: &[SocketAddr], listen: &str) -> std::io::Result<SocketAddr> {
    addrs
        .first()
        .copied()
        .ok_or_else(|| std::io::Error::other(format!("nothing is listening on {listen}")))
}

/// Bind the role's listeners and start serving. Must run inside an actix/tokio runtime.
pub fn start(state: AppState, role: Role) -> std::io::Result<Running> {
    let mut running = Running {
        core_addr: None,
        template_addr: None,
        handles: Vec::new(),
        tasks: Vec::new(),
    };
    let cfg = state.config.clone();
    state.spawn_background();
    if matches!(role, Role::Core | Role::All) {
        let (server, addr) = role_server(&state, "core", &cfg.core.listen, crate::core::routes)
            .map_err(|e| {
                std::io::Error::new(e.kind(), format!("core.listen {}: {e}", cfg.core.listen))
            })?;
        running.core_addr = Some(addr);
        running.handles.push(server.handle());
        running.tasks.push(tokio::spawn(server));
    }
    if matches!(role, Role::Template | Role::All) {
        let (server, addr) = role_server(
            &state,
            "template",
            &cfg.template.listen,
            crate::template::routes,
        )
        .map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("template.listen {}: {e}", cfg.template.listen),
            )
        })?;
        running.template_addr = Some(addr);
        running.handles.push(server.handle());
        running.tasks.push(tokio::spawn(server));
    }
    Ok(running)
}

/// Wait for SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// How long to wait for the servers after a stop was asked for (beyond that, exit anyway).
pub fn stop_grace(config: &Config) -> Duration {
    Duration::from_secs(shutdown_timeout(config) + 5)
}
