//! Reading and merging the configuration layers.

use super::validate::{self, ValidationError};
use super::{Config, legacy};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::{Table, Value};

/// Everything the configuration is read from; tests build one by hand instead of touching
/// the process environment.
#[derive(Debug, Default, Clone)]
pub struct ConfigSources {
    /// `--config PATH`.
    pub config_path: Option<PathBuf>,
    /// The environment (all of it; only known names are read).
    pub env: BTreeMap<String, String>,
    /// Command-line overrides as (dotted key, value).
    pub flags: Vec<(String, String)>,
    /// Folder in which `config/xmeet.toml` is looked for (the working directory).
    pub base_dir: PathBuf,
    /// The system-wide file, `/etc/xmeet/xmeet.toml` (a test points it elsewhere).
    pub system_file: PathBuf,
}

impl ConfigSources {
    pub fn from_process(config_path: Option<PathBuf>, flags: Vec<(String, String)>) -> Self {
        ConfigSources {
            config_path,
            env: std::env::vars().collect(),
            flags,
            base_dir: PathBuf::from("."),
            system_file: PathBuf::from("/etc/xmeet/xmeet.toml"),
        }
    }

    /// Add the variables of env files (docker `env_file` format: `NAME=value` per line, the
    /// whole rest of the line is the value, `#` starts a comment line). The real environment
    /// wins over a file.
    pub fn with_env_files(mut self, files: &[PathBuf]) -> Result<Self, ValidationError> {
        for f in files {
            let text = std::fs::read_to_string(f).map_err(|e| {
                ValidationError::new("--env-file", format!("{} cannot be read: {e}", f.display()))
            })?;
            for (name, value) in parse_env_file(&text) {
                self.env.entry(name).or_insert(value);
            }
        }
        Ok(self)
    }
}

/// `NAME=value` lines as docker's `env_file` reads them (no quoting, no expansion).
pub fn parse_env_file(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            (
                k.trim().trim_start_matches("export ").trim().to_owned(),
                v.to_owned(),
            )
        })
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub config: Config,
    /// The TOML file that was read, if any.
    pub file: Option<PathBuf>,
    /// Which source set each key that is not a default (`bot.url` → `ExpressOptions__Uri`).
    pub origins: BTreeMap<String, String>,
    /// Things worth a log line at start (ignored Npgsql keys, unknown `XMEET_*` names …).
    pub warnings: Vec<String>,
}

pub fn load(
    config_path: Option<PathBuf>,
    env_files: &[PathBuf],
    flags: Vec<(String, String)>,
) -> Result<LoadedConfig, ValidationError> {
    load_from(&ConfigSources::from_process(config_path, flags).with_env_files(env_files)?)
}

pub fn load_from(sources: &ConfigSources) -> Result<LoadedConfig, ValidationError> {
    let mut merged = Table::new();
    let mut origins = BTreeMap::new();
    let mut warnings = Vec::new();

    // 1. defaults: `#[serde(default)]` fills whatever no layer sets.
    // 2. the TOML file
    let file = find_file(sources)?;
    if let Some(path) = &file {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ValidationError::new(&path.display().to_string(), format!("cannot be read: {e}"))
        })?;
        let table: Table = text.parse().map_err(|e: toml::de::Error| {
            ValidationError::new(
                &path.display().to_string(),
                format!("is not valid TOML: {}", e.message().trim()),
            )
        })?;
        let origin = path.display().to_string();
        merge_layer(&mut merged, table, &origin, &mut origins, &mut warnings)?;
    }

    // 3. legacy .NET names
    for s in legacy::layer(&sources.env, &merged)? {
        let mut t = Table::new();
        set_path(&mut t, &s.key, s.value);
        merge_layer(&mut merged, t, &s.var, &mut origins, &mut warnings)?;
    }

    // 4. XMEET_* with `__` nesting (names without `__`, like XMEET_CONFIG, are not keys)
    for (name, value) in &sources.env {
        let Some(rest) = name.strip_prefix("XMEET_") else {
            continue;
        };
        if !rest.contains("__") {
            continue;
        }
        let key = rest
            .split("__")
            .map(str::to_lowercase)
            .collect::<Vec<_>>()
            .join(".");
        let mut t = Table::new();
        set_path(&mut t, &key, Value::String(value.clone()));
        merge_layer(&mut merged, t, name, &mut origins, &mut warnings)?;
    }

    // 5. command-line flags
    for (key, value) in &sources.flags {
        let mut t = Table::new();
        set_path(&mut t, key, Value::String(value.clone()));
        merge_layer(&mut merged, t, "command line", &mut origins, &mut warnings)?;
    }

    let mut config: Config = deserialize(merged, &origins)?;
    validate::normalize(&mut config);
    validate::validate(&config, &origins)?;
    warnings.extend(validate::warnings(&config));
    Ok(LoadedConfig {
        config,
        file,
        origins,
        warnings,
    })
}

fn find_file(sources: &ConfigSources) -> Result<Option<PathBuf>, ValidationError> {
    if let Some(p) = &sources.config_path {
        return must_exist(p, "--config");
    }
    if let Some(p) = sources.env.get("XMEET_CONFIG").filter(|p| !p.is_empty()) {
        return must_exist(Path::new(p), "XMEET_CONFIG");
    }
    let local = sources.base_dir.join("config/xmeet.toml");
    if local.is_file() {
        return Ok(Some(local));
    }
    if sources.system_file.is_file() {
        return Ok(Some(sources.system_file.clone()));
    }
    Ok(None)
}

fn must_exist(p: &Path, what: &str) -> Result<Option<PathBuf>, ValidationError> {
    if p.is_file() {
        Ok(Some(p.to_path_buf()))
    } else {
        Err(ValidationError::new(
            what,
            format!("names {}, which does not exist", p.display()),
        ))
    }
}

fn set_path(table: &mut Table, dotted: &str, value: Value) {
    let mut parts = dotted.split('.').peekable();
    let mut cur = table;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            cur.insert(part.to_owned(), value);
            return;
        }
        let entry = cur
            .entry(part.to_owned())
            .or_insert_with(|| Value::Table(Table::new()));
        if !entry.is_table() {
            *entry = Value::Table(Table::new());
        }
        let Value::Table(next) = entry else { return };
        cur = next;
    }
}

fn leaf_paths(table: &Table, prefix: &str, out: &mut Vec<String>) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Table(t) if !is_map_key(&key) => leaf_paths(t, &key, out),
            _ => out.push(key),
        }
    }
}

/// Keys whose value is itself a table of user-chosen names.
fn is_map_key(key: &str) -> bool {
    key == "http.host_overrides"
}

fn merge_layer(
    merged: &mut Table,
    mut layer: Table,
    origin: &str,
    origins: &mut BTreeMap<String, String>,
    warnings: &mut Vec<String>,
) -> Result<(), ValidationError> {
    legacy::expand_npgsql_pool(&mut layer, warnings)?;
    let mut keys = Vec::new();
    leaf_paths(&layer, "", &mut keys);
    for k in keys {
        origins.insert(k, origin.to_owned());
    }
    deep_merge(merged, layer);
    Ok(())
}

fn deep_merge(base: &mut Table, layer: Table) {
    for (k, v) in layer {
        match (base.get_mut(&k), v) {
            (Some(Value::Table(b)), Value::Table(l)) if !is_map_key(&k) => deep_merge(b, l),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

fn deserialize(
    merged: Table,
    origins: &BTreeMap<String, String>,
) -> Result<Config, ValidationError> {
    serde_path_to_error::deserialize(Value::Table(merged)).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().message().to_owned();
        // "unknown field `x`, expected one of …" → name the full key
        if let Some(rest) = message.strip_prefix("unknown field `") {
            let field = rest.split('`').next().unwrap_or_default();
            let key = if path == "." || path.is_empty() {
                field.to_owned()
            } else if path == field || path.ends_with(&format!(".{field}")) {
                path.clone()
            } else {
                format!("{path}.{field}")
            };
            let from = origin_of(origins, &key);
            return ValidationError::new(&key, format!("is not a configuration key{from}"));
        }
        let from = origin_of(origins, &path);
        ValidationError::new(&path, format!("is invalid: {message}{from}"))
    })
}

pub(super) fn origin_of(origins: &BTreeMap<String, String>, key: &str) -> String {
    origins
        .get(key)
        .map(|o| format!(" (set by {o})"))
        .unwrap_or_default()
}
