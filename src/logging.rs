//! Logs: to stdout (text or JSON) and to rolling daily files, one per role, kept
//! `log.keep_days`. The legacy Serilog path variables choose the files.

use crate::cli::Role;
use crate::config::{Config, LogFormat};
use std::path::Path;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::filter::{EnvFilter, filter_fn};
use tracing_subscriber::prelude::*;
use tracing_subscriber::{Layer, fmt};

/// Keep alive for as long as the process logs: dropping it flushes and stops the writers.
pub struct LogGuards(#[allow(dead_code)] Vec<WorkerGuard>);

/// A daily-rolling file for `path` (`dir/name.ext` → `dir/name.YYYY-MM-DD.ext`).
pub fn rolling_appender(path: &Path, keep_days: u32) -> Result<RollingFileAppender, String> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create the log folder {}: {e}", dir.display()))?;
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| !s.is_empty())
        .unwrap_or("xmeet");
    let mut builder = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix(stem)
        .max_log_files(keep_days.max(1) as usize);
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        builder = builder.filename_suffix(ext);
    }
    builder
        .build(dir)
        .map_err(|e| format!("cannot open the log file {}: {e}", path.display()))
}

fn filter(level: &str) -> EnvFilter {
    EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info"))
}

/// Targets that belong to one role's file and not the other's.
fn is_template_target(t: &str) -> bool {
    t.starts_with("xmeet::template")
}

fn is_core_target(t: &str) -> bool {
    t.starts_with("xmeet::core")
        || t.starts_with("xmeet::adfs")
        || t.starts_with("xmeet::bot")
        || t.starts_with("xmeet::client_log")
}

type BoxedLayer = Box<dyn Layer<tracing_subscriber::Registry> + Send + Sync>;

fn format_layer<W>(format: LogFormat, writer: W, ansi: bool) -> BoxedLayer
where
    W: for<'a> fmt::MakeWriter<'a> + Send + Sync + 'static,
{
    match format {
        LogFormat::Text => fmt::layer()
            .with_writer(writer)
            .with_ansi(ansi)
            .with_target(true)
            .boxed(),
        LogFormat::Json => fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_writer(writer)
            .boxed(),
    }
}

/// Set up logging for `serve`. Files are written when `log.dir` is set or a file path is
/// absolute (the legacy Serilog paths are).
pub fn init(config: &Config, role: Role) -> Result<LogGuards, String> {
    let mut guards = Vec::new();
    let mut layers: Vec<BoxedLayer> = Vec::new();

    let stdout_layer = format_layer(config.log.format, std::io::stdout, false)
        .with_filter(filter(&config.log.level))
        .boxed();
    layers.push(stdout_layer);

    let mut files: Vec<(&str, bool)> = Vec::new();
    if matches!(role, Role::Core | Role::All) {
        files.push((config.log.core_file.as_str(), true));
    }
    if matches!(role, Role::Template | Role::All) {
        files.push((config.log.template_file.as_str(), false));
    }
    for (file, is_core) in files {
        let path = config.log_path(file);
        if config.log.dir.is_empty() && !path.is_absolute() {
            continue;
        }
        let appender = rolling_appender(&path, config.log.keep_days)?;
        let (writer, guard) = tracing_appender::non_blocking(appender);
        guards.push(guard);
        let only_this_role = filter_fn(move |meta| {
            if is_core {
                !is_template_target(meta.target())
            } else {
                !is_core_target(meta.target())
            }
        });
        layers.push(
            format_layer(config.log.format, writer, false)
                .with_filter(filter(&config.log.level))
                .with_filter(only_this_role)
                .boxed(),
        );
    }

    tracing_subscriber::registry()
        .with(layers)
        .try_init()
        .map_err(|e| format!("cannot set up logging: {e}"))?;
    Ok(LogGuards(guards))
}

/// Logging for the short commands (`migrate`, `config`): warnings and errors to stderr.
pub fn init_cli(config: Option<&Config>) {
    let level = config.map(|c| c.log.level.as_str()).unwrap_or("warn");
    let level = if level == "info" { "warn" } else { level };
    let _ = tracing_subscriber::registry()
        .with(
            fmt::layer()
                .with_writer(std::io::stderr)
                .with_target(false)
                .with_filter(filter(level)),
        )
        .try_init();
}
