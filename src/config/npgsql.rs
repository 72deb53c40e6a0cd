//! Npgsql (ADO.NET) connection strings, as the .NET services read `DatabaseOptions__Connection`:
//! `Host=..;Port=..;Database=..;Username=..;Password=..;Pooling=true;Minimum Pool Size=50;...`
//!
//! Rules kept from ADO.NET: pairs separated by `;`, keys case-insensitive with inner spaces,
//! values optionally quoted with `"` or `'` (a doubled quote inside is a literal quote, `;`
//! inside quotes is literal), braces are ordinary characters, empty pairs are skipped.
//! The result becomes a libpq keyword/value string for diesel; the pool sizes go to the pool.

use super::secret::Secret;
use std::fmt::Write as _;

#[derive(Debug, Default, Clone, PartialEq)]
pub struct NpgsqlConnection {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub database: Option<String>,
    pub username: Option<String>,
    pub password: Secret,
    pub ssl_mode: Option<String>,
    pub connect_timeout: Option<u32>,
    pub application_name: Option<String>,
    pub search_path: Option<String>,
    pub pooling: Option<bool>,
    pub min_pool_size: Option<u32>,
    pub max_pool_size: Option<u32>,
    /// Keys we do not know; the caller logs a warning naming them (never their values).
    pub ignored_keys: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum NpgsqlError {
    #[error("an opening quote in the value of `{0}` is never closed")]
    UnclosedQuote(String),
    #[error("`{key}` must be {expected}, got `{value}`")]
    BadValue {
        key: String,
        expected: &'static str,
        value: String,
    },
}

/// Does this look like an Npgsql string rather than a URL? (`key=value` with a `;` or a known key.)
pub fn looks_like_npgsql(s: &str) -> bool {
    let s = s.trim_start();
    if s.contains("://") {
        return false;
    }
    let Some((key, _)) = s.split_once('=') else {
        return false;
    };
    let key = normalize_key(key);
    s.contains(';')
        || matches!(
            key.as_str(),
            "host" | "server" | "database" | "username" | "userid" | "port"
        )
}

fn normalize_key(key: &str) -> String {
    key.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Split into (key, value) pairs following the ADO.NET quoting rules (`None`: no `=`).
fn pairs(input: &str) -> Result<Vec<(String, Option<String>)>, NpgsqlError> {
    let mut out = Vec::new();
    let mut chars = input.chars().peekable();
    loop {
        // key: up to '='
        let mut key = String::new();
        let mut saw_eq = false;
        for c in chars.by_ref() {
            if c == '=' {
                saw_eq = true;
                break;
            }
            if c == ';' {
                break;
            }
            key.push(c);
        }
        let key = key.trim().to_owned();
        if !saw_eq {
            if !key.is_empty() {
                // a key without a value: what a shell leaves of `Minimum Pool Size=50` when
                // a core.env is sourced unquoted. Kept as a key of its own, reported as ignored.
                out.push((key, None));
            }
            if chars.peek().is_none() {
                break;
            }
            continue;
        }
        // value
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        match chars.peek().copied() {
            Some(q @ ('"' | '\'')) => {
                chars.next();
                let mut closed = false;
                while let Some(c) = chars.next() {
                    if c == q {
                        if chars.peek() == Some(&q) {
                            chars.next();
                            value.push(q);
                            continue;
                        }
                        closed = true;
                        break;
                    }
                    value.push(c);
                }
                if !closed {
                    return Err(NpgsqlError::UnclosedQuote(key));
                }
                // skip to the next ';'
                for c in chars.by_ref() {
                    if c == ';' {
                        break;
                    }
                }
            }
            _ => {
                for c in chars.by_ref() {
                    if c == ';' {
                        break;
                    }
                    value.push(c);
                }
                value = value.trim().to_owned();
            }
        }
        out.push((key, Some(value)));
        if chars.peek().is_none() {
            break;
        }
    }
    Ok(out)
}

fn parse_num<T: std::str::FromStr>(key: &str, v: &str) -> Result<T, NpgsqlError> {
    v.trim().parse().map_err(|_| NpgsqlError::BadValue {
        key: key.to_owned(),
        expected: "a whole number",
        value: v.to_owned(),
    })
}

fn parse_bool(key: &str, v: &str) -> Result<bool, NpgsqlError> {
    super::de::parse_bool(v).ok_or_else(|| NpgsqlError::BadValue {
        key: key.to_owned(),
        expected: "true or false",
        value: v.to_owned(),
    })
}

impl NpgsqlConnection {
    pub fn parse(input: &str) -> Result<Self, NpgsqlError> {
        let mut c = NpgsqlConnection::default();
        for (key, value) in pairs(input)? {
            let Some(value) = value else {
                c.ignored_keys.push(key);
                continue;
            };
            match normalize_key(&key).as_str() {
                "host" | "server" => c.host = Some(value),
                "port" => c.port = Some(parse_num(&key, &value)?),
                "database" | "db" => c.database = Some(value),
                "username" | "user" | "userid" | "uid" => c.username = Some(value),
                "password" | "psw" | "pwd" => c.password = Secret::new(value),
                "sslmode" => c.ssl_mode = Some(value),
                "timeout" | "connectiontimeout" | "connecttimeout" => {
                    c.connect_timeout = Some(parse_num(&key, &value)?)
                }
                "applicationname" => c.application_name = Some(value),
                "searchpath" => c.search_path = Some(value),
                "pooling" => c.pooling = Some(parse_bool(&key, &value)?),
                "minimumpoolsize" | "minpoolsize" => {
                    c.min_pool_size = Some(parse_num(&key, &value)?)
                }
                "maximumpoolsize" | "maxpoolsize" => {
                    c.max_pool_size = Some(parse_num(&key, &value)?)
                }
                // Npgsql options with no meaning for us, accepted quietly.
                "includeerrordetail"
                | "commandtimeout"
                | "keepalive"
                | "trustservercertificate"
                | "servercompatibilitymode"
                | "encoding" => {}
                _ => c.ignored_keys.push(key),
            }
        }
        Ok(c)
    }

    /// A libpq keyword/value connection string (values single-quoted and escaped).
    pub fn to_libpq(&self) -> String {
        let mut out = String::new();
        let mut add = |k: &str, v: &str| {
            let escaped = v.replace('\\', "\\\\").replace('\'', "\\'");
            let _ = write!(
                out,
                "{}{k}='{escaped}'",
                if out.is_empty() { "" } else { " " }
            );
        };
        if let Some(h) = &self.host {
            add("host", h);
        }
        if let Some(p) = self.port {
            add("port", &p.to_string());
        }
        if let Some(d) = &self.database {
            add("dbname", d);
        }
        if let Some(u) = &self.username {
            add("user", u);
        }
        if !self.password.is_empty() {
            add("password", self.password.expose());
        }
        if let Some(m) = &self.ssl_mode {
            let mode = match normalize_key(m).as_str() {
                "verifyca" => "verify-ca".to_owned(),
                "verifyfull" => "verify-full".to_owned(),
                other => other.to_owned(),
            };
            add("sslmode", &mode);
        }
        if let Some(t) = self.connect_timeout {
            add("connect_timeout", &t.to_string());
        }
        if let Some(a) = &self.application_name {
            add("application_name", a);
        }
        if let Some(s) = &self.search_path {
            add("options", &format!("-c search_path={s}"));
        }
        out
    }

    /// The same string with the password masked, for `xmeet config` and logs.
    pub fn redacted(input: &str) -> String {
        let Ok(parsed) = pairs(input) else {
            return super::secret::MASK.to_owned();
        };
        let mut out = String::new();
        for (k, v) in parsed {
            let Some(v) = v else {
                let _ = write!(out, "{k};");
                continue;
            };
            let shown = if matches!(normalize_key(&k).as_str(), "password" | "psw" | "pwd") {
                super::secret::MASK.to_owned()
            } else if v.contains(';') || v.contains('"') {
                format!("\"{}\"", v.replace('"', "\"\""))
            } else {
                v
            };
            let _ = write!(out, "{k}={shown};");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUIDE: &str = "Host=127.0.0.1;Port=5432;Database=express_meeting_db;Username=db_express;Password=Pass1234;Pooling=true;Minimum Pool Size=50;Maximum Pool Size=100;Include Error Detail=True;";

    #[test]
    fn guide_example() {
        let c = NpgsqlConnection::parse(GUIDE).unwrap();
        assert_eq!(c.host.as_deref(), Some("127.0.0.1"));
        assert_eq!(c.port, Some(5432));
        assert_eq!(c.database.as_deref(), Some("express_meeting_db"));
        assert_eq!(c.username.as_deref(), Some("db_express"));
        assert_eq!(c.password.expose(), "Pass1234");
        assert_eq!(c.pooling, Some(true));
        assert_eq!(c.min_pool_size, Some(50));
        assert_eq!(c.max_pool_size, Some(100));
        assert!(c.ignored_keys.is_empty());
    }

    #[test]
    fn quoted_values_and_semicolons_inside_quotes() {
        let c = NpgsqlConnection::parse(r#"Host=db;Password="a;b""c";Username='o''neil'"#).unwrap();
        assert_eq!(c.password.expose(), "a;b\"c");
        assert_eq!(c.username.as_deref(), Some("o'neil"));
        assert_eq!(c.host.as_deref(), Some("db"));
    }

    #[test]
    fn braces_are_ordinary_characters() {
        let c = NpgsqlConnection::parse("Host=db;Password=x{y}z;Database={weird}").unwrap();
        assert_eq!(c.password.expose(), "x{y}z");
        assert_eq!(c.database.as_deref(), Some("{weird}"));
    }

    #[test]
    fn keys_are_case_insensitive_and_spaces_ignored() {
        let c = NpgsqlConnection::parse(
            "HOST=h; port = 6000 ;DATABASE=d;user id=u;PASSWORD=p;minimum pool size=2;MaxPoolSize=7",
        )
        .unwrap();
        assert_eq!(c.host.as_deref(), Some("h"));
        assert_eq!(c.port, Some(6000));
        assert_eq!(c.username.as_deref(), Some("u"));
        assert_eq!(c.min_pool_size, Some(2));
        assert_eq!(c.max_pool_size, Some(7));
    }

    #[test]
    fn unknown_keys_are_collected_not_fatal() {
        let c = NpgsqlConnection::parse("Host=h;Frobnicate=yes;Database=d").unwrap();
        assert_eq!(c.ignored_keys, vec!["Frobnicate".to_owned()]);
        assert_eq!(c.database.as_deref(), Some("d"));
    }

    #[test]
    fn errors_name_the_key() {
        assert_eq!(
            NpgsqlConnection::parse("Host=h;Port=abc").unwrap_err(),
            NpgsqlError::BadValue {
                key: "Port".into(),
                expected: "a whole number",
                value: "abc".into()
            }
        );
        assert_eq!(
            NpgsqlConnection::parse("Host=h;Password=\"open").unwrap_err(),
            NpgsqlError::UnclosedQuote("Password".into())
        );
        // what `set -a; . ./core.env` leaves of the guide's string: the rest is ignored
        let c = NpgsqlConnection::parse("Host=h;Pooling=true;Minimum").unwrap();
        assert_eq!(c.ignored_keys, vec!["Minimum".to_owned()]);
        assert_eq!(c.pooling, Some(true));
    }

    #[test]
    fn libpq_string_is_quoted() {
        let c =
            NpgsqlConnection::parse(r#"Host=h;Database=d;Username=u;Password="it's;\x""#).unwrap();
        assert_eq!(
            c.to_libpq(),
            r"host='h' dbname='d' user='u' password='it\'s;\\x'"
        );
    }

    #[test]
    fn detection() {
        assert!(looks_like_npgsql(GUIDE));
        assert!(looks_like_npgsql("Host=localhost"));
        assert!(!looks_like_npgsql("postgres://u@h/d"));
        assert!(!looks_like_npgsql("data/xmeet.db"));
    }

    #[test]
    fn redaction_hides_password_only() {
        let r = NpgsqlConnection::redacted(GUIDE);
        assert!(!r.contains("Pass1234"));
        assert!(r.contains("Password=********;"));
        assert!(r.contains("Database=express_meeting_db;"));
    }
}
