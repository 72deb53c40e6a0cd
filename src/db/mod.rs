//! Database access: one schema over PostgreSQL and SQLite (diesel `MultiConnection`), an r2d2
//! pool, embedded migrations and the seed. The backend is chosen from the URL form here,
//! never by letting diesel try backends in turn (SQLite would accept any string).

pub mod migrate;
pub mod models;
pub mod schema;
pub mod seed;

use crate::config::npgsql::{NpgsqlConnection, looks_like_npgsql};
use crate::config::{DatabaseConfig, secret::MASK};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::time::Duration;

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Postgres => "postgresql",
            Backend::Sqlite => "sqlite",
        }
    }
}

/// libpq settings added unless the URL names them: a connection attempt gives up after 5 s,
/// and TCP keepalives notice a vanished server within a minute instead of never.
const NETWORK_DEFAULTS: [(&str, &str); 5] = [
    ("connect_timeout", "5"),
    ("keepalives", "1"),
    ("keepalives_idle", "15"),
    ("keepalives_interval", "5"),
    ("keepalives_count", "3"),
];

/// `database.url` as written by the operator. It may hold a password, so it is shown
/// (`Debug`, `Display`, `Serialize`) with the password masked.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

/// What a URL resolves to.
#[derive(Clone, PartialEq, Eq)]
pub enum DbTarget {
    /// A libpq connection string (URL or keyword/value), plus pool sizes it named.
    Postgres { conninfo: String },
    /// A file path, or `:memory:`.
    Sqlite { path: String },
}

impl fmt::Debug for DbTarget {
    // the conninfo may hold a password: show only the backend
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DbTarget({})", self.backend().name())
    }
}

impl fmt::Debug for Manager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Manager({:?})", self.target)
    }
}

impl DbTarget {
    pub fn backend(&self) -> Backend {
        match self {
            DbTarget::Postgres { .. } => Backend::Postgres,
            DbTarget::Sqlite { .. } => Backend::Sqlite,
        }
    }
}

impl DatabaseUrl {
    pub fn new(s: impl Into<String>) -> Self {
        DatabaseUrl(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn target(&self) -> Result<DbTarget, String> {
        let s = self.0.trim();
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            let mut u =
                url::Url::parse(s).map_err(|e| format!("is not a valid PostgreSQL URL: {e}"))?;
            let given: Vec<String> = u.query_pairs().map(|(k, _)| k.into_owned()).collect();
            let missing: Vec<(&str, &str)> = NETWORK_DEFAULTS
                .iter()
                .filter(|(k, _)| !given.iter().any(|g| g == k))
                .copied()
                .collect();
            if !missing.is_empty() {
                u.query_pairs_mut().extend_pairs(missing);
            }
            return Ok(DbTarget::Postgres {
                conninfo: u.to_string(),
            });
        }
        if s == "sqlite::memory:" {
            return Ok(DbTarget::Sqlite {
                path: ":memory:".into(),
            });
        }
        if let Some(path) = s.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("names no file: use sqlite://PATH, e.g. sqlite://data/xmeet.db".into());
            }
            return Ok(DbTarget::Sqlite {
                path: path.to_owned(),
            });
        }
        if looks_like_npgsql(s) {
            let c = NpgsqlConnection::parse(s)
                .map_err(|e| format!("is not a valid connection string: {e}"))?;
            let mut conninfo = c.to_libpq();
            for (k, v) in NETWORK_DEFAULTS {
                if !conninfo.contains(&format!("{k}=")) {
                    conninfo.push_str(&format!(" {k}={v}"));
                }
            }
            return Ok(DbTarget::Postgres { conninfo });
        }
        Err("is neither postgres://…, an Npgsql string (Host=…;Database=…), sqlite://PATH nor sqlite::memory:".into())
    }

    /// The URL with any password replaced by a mask.
    pub fn redacted(&self) -> String {
        let s = self.0.trim();
        if looks_like_npgsql(s) {
            return NpgsqlConnection::redacted(s);
        }
        match url::Url::parse(s) {
            Ok(mut u) if u.password().is_some() => {
                let _ = u.set_password(Some(MASK));
                u.to_string()
            }
            Ok(u) => {
                // a password in the query string (?password=…)
                if u.query_pairs()
                    .any(|(k, _)| k.eq_ignore_ascii_case("password"))
                {
                    let mut u2 = u.clone();
                    let pairs: Vec<(String, String)> = u
                        .query_pairs()
                        .map(|(k, v)| {
                            let v = if k.eq_ignore_ascii_case("password") {
                                MASK.into()
                            } else {
                                v.into_owned()
                            };
                            (k.into_owned(), v)
                        })
                        .collect();
                    u2.query_pairs_mut().clear().extend_pairs(pairs);
                    u2.to_string()
                } else {
                    s.to_owned()
                }
            }
            Err(_) => s.to_owned(),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({:?})", self.redacted())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl Serialize for DatabaseUrl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.redacted())
    }
}

impl<'de> Deserialize<'de> for DatabaseUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(DatabaseUrl)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// No connection could be had in time: the database is down or the pool is exhausted.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    #[error("migration failed: {0}")]
    Migration(String),
}

impl DbError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, DbError::Query(diesel::result::Error::NotFound))
    }

    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            DbError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }
}

/// Parse the URL and get an SQLite file ready (its folder created, WAL switched on once).
fn prepare_target(cfg: &DatabaseConfig) -> Result<DbTarget, String> {
    let target = cfg.url.target().map_err(|e| format!("database.url {e}"))?;
    if let DbTarget::Sqlite { path } = &target
        && path != ":memory:"
    {
        if let Some(parent) = std::path::Path::new(path).parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|e| {
                format!(
                    "database.url: cannot create the folder {}: {e}",
                    parent.display()
                )
            })?;
        }
        // Switch the file to WAL once, alone: several new connections doing it at the
        // same moment would fight over the lock it needs.
        let mut c = diesel::SqliteConnection::establish(path)
            .map_err(|e| format!("database.url: cannot open the SQLite file {path}: {e}"))?;
        c.batch_execute(&format!(
            "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL;",
            cfg.busy_timeout_ms
        ))
        .map_err(|e| format!("database.url: cannot set up the SQLite file {path}: {e}"))?;
    }
    Ok(target)
}

/// One connection without a pool, for the short commands (`migrate`, `admin`, the schema
/// check before serving): no background threads that could still be connecting when the
/// process exits.
pub fn open_single(cfg: &DatabaseConfig) -> Result<DbConn, String> {
    let target = prepare_target(cfg)?;
    let manager = Manager {
        target,
        busy_timeout_ms: cfg.busy_timeout_ms,
    };
    r2d2::ManageConnection::connect(&manager)
        .map_err(|e| format!("cannot reach the database ({}): {e}", cfg.url))
}

/// Take the write lock on `table` at the start of a transaction that reads before it writes
/// (e.g. "is this the last admin?"), so two such transactions cannot both act on the same
/// reading. Backend-specific SQL lives here and nowhere else.
pub fn lock_table(conn: &mut DbConn, table: &str) -> Result<(), DbError> {
    match conn {
        DbConn::Postgresql(c) => {
            c.batch_execute(&format!("LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE"))?
        }
        // a write that changes nothing still takes SQLite's write lock (waiting busy_timeout)
        DbConn::Sqlite(c) => {
            c.batch_execute(&format!("UPDATE {table} SET id = id WHERE id = -1"))?
        }
    }
    Ok(())
}

/// Opens connections for the pool and sets the SQLite pragmas on each.
pub struct Manager {
    target: DbTarget,
    busy_timeout_ms: u64,
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConn;
    type Error = diesel::ConnectionError;

    fn connect(&self) -> Result<DbConn, Self::Error> {
        match &self.target {
            DbTarget::Postgres { conninfo } => Ok(DbConn::Postgresql(
                diesel::PgConnection::establish(conninfo)?,
            )),
            DbTarget::Sqlite { path } => {
                let mut c = diesel::SqliteConnection::establish(&sqlite_open_existing(path))?;
                // WAL lets readers run beside one writer; busy_timeout makes writers wait for
                // each other instead of failing; foreign keys are off by default in SQLite.
                c.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                     PRAGMA cache_size = -512; PRAGMA wal_autocheckpoint = 0;",
                    self.busy_timeout_ms
                ))
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConn::Sqlite(c))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), Self::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(diesel::ConnectionError::CouldntSetupConfiguration)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        use diesel::connection::TransactionManager;
        <<DbConn as diesel::Connection>::TransactionManager as TransactionManager<DbConn>>::is_broken_transaction_manager(conn)
    }
}

/// A URI that opens the file read-write but never creates it: if the file disappears
/// (volume gone, file removed), connecting fails instead of starting an empty database.
fn sqlite_open_existing(path: &str) -> String {
    if path == ":memory:" {
        return path.to_owned();
    }
    let escaped = path
        .replace('%', "%25")
        .replace('?', "%3f")
        .replace('#', "%23");
    format!("file:{escaped}?mode=rw")
}

pub type PooledConn = r2d2::PooledConnection<Manager>;

/// The shared handle: a pool plus what it points at.
#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<Manager>,
    /// The SQLite file, checked on every checkout: open connections would go on working on
    /// a file that was removed, hiding that the database is gone.
    sqlite_file: Option<std::path::PathBuf>,
    backend: Backend,
    pool_timeout: Duration,
    /// At most one task per pooled connection: more would only wait for a connection.
    permits: std::sync::Arc<tokio::sync::Semaphore>,
    /// The threads that run diesel: as many as there are connections, shared by every
    /// async worker (each worker's own blocking pool would grow threads of its own).
    executor: std::sync::Arc<Executor>,
    /// Alive while this pool is: the SQLite checkpoint thread stops when it is gone.
    _alive: std::sync::Arc<()>,
}

/// SQLite: requests never checkpoint the WAL themselves (a checkpoint waits for an fsync,
/// which would stall the request that happens to trigger it); this thread does it every
/// second on a connection of its own, and stops when the pool is dropped.
fn spawn_checkpointer(path: String, busy_timeout_ms: u64, alive: std::sync::Weak<()>) {
    let _ = std::thread::Builder::new()
        .name("xmeet-sqlite-checkpoint".into())
        .stack_size(256 * 1024)
        .spawn(move || {
            let mut conn: Option<diesel::SqliteConnection> = None;
            while alive.upgrade().is_some() {
                std::thread::sleep(Duration::from_secs(1));
                if conn.is_none() {
                    conn = diesel::SqliteConnection::establish(&sqlite_open_existing(&path)).ok();
                    if let Some(c) = conn.as_mut() {
                        let _ =
                            c.batch_execute(&format!("PRAGMA busy_timeout = {busy_timeout_ms};"));
                    }
                }
                if let Some(c) = conn.as_mut()
                    && c.batch_execute("PRAGMA wal_checkpoint(PASSIVE);").is_err()
                {
                    // the file may be gone for now: reconnect next time
                    conn = None;
                }
            }
        });
}

type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of threads fed by a channel.
struct Executor {
    jobs: std::sync::mpsc::Sender<Job>,
}

impl Executor {
    fn new(threads: usize) -> Result<Executor, String> {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("xmeet-db-{i}"))
                .stack_size(1024 * 1024)
                .spawn(move || {
                    loop {
                        let job = match rx.lock() {
                            Ok(r) => r.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            // the Db is gone
                            Err(_) => return,
                        }
                    }
                })
                .map_err(|e| format!("cannot start the database threads: {e}"))?;
        }
        Ok(Executor { jobs: tx })
    }
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend)
            .finish()
    }
}

/// r2d2 logs connection errors itself; route them to tracing without the connection string.
#[derive(Debug)]
struct PoolErrors;

impl r2d2::HandleError<diesel::ConnectionError> for PoolErrors {
    fn handle_error(&self, error: diesel::ConnectionError) {
        tracing::warn!(target: "xmeet::db", error = %error, "cannot open a database connection");
    }
}

impl Db {
    /// Build the pool without waiting for connections: a database that is down at start
    /// makes `/health/ready` answer 503 until it is back, instead of failing the start.
    pub fn connect(cfg: &DatabaseConfig) -> Result<Db, String> {
        let target = prepare_target(cfg)?;
        let backend = target.backend();
        let mut max = cfg.max_connections.max(1);
        let mut min = cfg.min_connections.min(max);
        if matches!(&target, DbTarget::Sqlite { path } if path == ":memory:") {
            // every in-memory connection is its own database: keep exactly one
            max = 1;
            min = 1;
        }
        let pool_timeout = Duration::from_secs(cfg.pool_timeout_secs.max(1));
        let target_for_check = target.clone();
        let alive = std::sync::Arc::new(());
        if let DbTarget::Sqlite { path } = &target
            && path != ":memory:"
        {
            spawn_checkpointer(
                path.clone(),
                cfg.busy_timeout_ms,
                std::sync::Arc::downgrade(&alive),
            );
        }
        let pool = r2d2::Pool::builder()
            .max_size(max)
            .min_idle(Some(min))
            .connection_timeout(pool_timeout)
            .test_on_check_out(true)
            .error_handler(Box::new(PoolErrors))
            .build_unchecked(Manager {
                target: target.clone(),
                busy_timeout_ms: cfg.busy_timeout_ms,
            });
        let sqlite_file = match &target_for_check {
            DbTarget::Sqlite { path } if path != ":memory:" => Some(path.into()),
            _ => None,
        };
        Ok(Db {
            pool,
            sqlite_file,
            backend,
            pool_timeout,
            permits: std::sync::Arc::new(tokio::sync::Semaphore::new(max as usize)),
            executor: std::sync::Arc::new(Executor::new(max as usize)?),
            _alive: alive,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A connection for blocking code (the CLI, or inside [`Db::run`]).
    pub fn get(&self) -> Result<PooledConn, DbError> {
        self.get_timeout(self.pool_timeout)
    }

    pub fn get_timeout(&self, timeout: Duration) -> Result<PooledConn, DbError> {
        if let Some(file) = &self.sqlite_file
            && !file.is_file()
        {
            return Err(DbError::Unavailable(format!(
                "the SQLite file {} is missing",
                file.display()
            )));
        }
        self.pool
            .get_timeout(timeout)
            .map_err(|e| DbError::Unavailable(e.to_string()))
    }

    /// Run blocking diesel work on the blocking thread pool, never on an async worker.
    pub async fn run<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, DbError> + Send + 'static,
    {
        let permit = tokio::time::timeout(self.pool_timeout, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| DbError::Unavailable("no database connection became free in time".into()))?
            .map_err(|e| DbError::Unavailable(e.to_string()))?;
        let db = self.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _permit = permit;
            let out = db.get().and_then(|mut conn| f(&mut conn));
            let _ = tx.send(out);
        });
        self.executor
            .jobs
            .send(job)
            .map_err(|_| DbError::Unavailable("the database threads have stopped".into()))?;
        rx.await
            .map_err(|_| DbError::Unavailable("a database task failed".into()))?
    }

    /// Is the database answering? Used by `/health/ready`; waits at most `timeout`.
    pub async fn ping(&self, timeout: Duration) -> Result<(), DbError> {
        let db = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = db.get_timeout(timeout)?;
            // touch a real table: with SQLite, `SELECT 1` would succeed on a locked file
            conn.batch_execute("SELECT name FROM settings LIMIT 1")
                .map_err(|e| DbError::Unavailable(e.to_string()))
        })
        .await
        .map_err(|e| DbError::Unavailable(format!("database task failed: {e}")))?
    }
}
