//! The one outbound HTTP stack (bot, AD FS, bot-check): timeouts, extra CA certificates and
//! host → IP overrides from the configuration.

use crate::config::Config;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Every PEM file named by `tls.ca_files` and found in `tls.ca_dir` (`*.crt`, `*.pem`).
pub fn ca_paths(config: &Config) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = config.tls.ca_files.iter().map(PathBuf::from).collect();
    if !config.tls.ca_dir.is_empty()
        && let Ok(entries) = std::fs::read_dir(&config.tls.ca_dir)
    {
        let mut found: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.is_file()
                    && matches!(
                        p.extension().and_then(|e| e.to_str()),
                        Some("crt" | "pem" | "cer")
                    )
            })
            .collect();
        found.sort();
        paths.extend(found);
    }
    paths
}

fn load_certs(path: &Path) -> Result<Vec<reqwest::Certificate>, String> {
    let pem = std::fs::read(path)
        .map_err(|e| format!("tls: cannot read the CA file {}: {e}", path.display()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| format!("tls: {} is not a PEM certificate file: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("tls: {} holds no PEM certificate", path.display()));
    }
    Ok(certs)
}

/// A client with `timeout` for whole requests, the configured extra CAs and host overrides.
pub fn client(config: &Config, timeout: Duration) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("xmeet/", env!("CARGO_PKG_VERSION")))
        .pool_idle_timeout(Duration::from_secs(60));
    let mut extra = Vec::new();
    for path in ca_paths(config) {
        extra.extend(load_certs(&path)?);
    }
    if !extra.is_empty() {
        builder = builder.tls_certs_merge(extra);
    }
    for (host, ip) in &config.http.host_overrides {
        let ip: IpAddr = ip.parse().map_err(|_| {
            format!("http.host_overrides maps `{host}` to `{ip}`, which is not an IP address")
        })?;
        // port 0: the URL's port (or the scheme's) is used
        builder = builder.resolve(host, SocketAddr::new(ip, 0));
    }
    builder
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// Why a request did not get an answer, in words an operator can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Timeout,
    /// Name resolution, refused connection, TLS, reset: with the detail for the log.
    Connect(String),
    Tls(String),
    Other(String),
}

/// Classify a reqwest error without exposing URLs with credentials (reqwest errors carry the
/// URL; ours never hold credentials, which travel in headers).
pub fn classify(e: &reqwest::Error) -> Failure {
    if e.is_timeout() {
        return Failure::Timeout;
    }
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        source = s.source();
    }
    let lower = detail.to_ascii_lowercase();
    if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
        Failure::Tls(detail)
    } else if e.is_connect() {
        Failure::Connect(detail)
    } else {
        Failure::Other(detail)
    }
}
