//! Invitation rendering, shared by the core role (invitations) and the template role
//! (preview, syntax check): a sandboxed minijinja environment (no file access, no includes,
//! bounded work) with HTML auto-escaping, so a conference named `<script>` stays text.

use crate::db::models::Template;
use crate::db::schema::{settings, templates};
use crate::db::{Db, DbError};
use diesel::prelude::*;
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// The id of the element that wraps every invitation; the add-in finds and replaces it.
pub const WRAPPER_ID: &str = "xmeet-invitation";
/// Settings row bumped on every template change, so every replica notices.
pub const GENERATION_KEY: &str = "templates.generation";
/// How long a replica trusts its list of active templates before asking the database
/// whether anything changed.
const RECHECK: Duration = Duration::from_secs(1);
const FUEL: u64 = 200_000;

/// What a template can use.
#[derive(Debug, Clone, Default, Serialize)]
pub struct InvitationData {
    pub conference_link: String,
    pub conference_name: String,
    pub start_at: String,
    pub end_at: String,
    pub access_code: String,
    pub sip_number: String,
    pub creator: String,
    pub call_id: String,
    pub link_type: String,
    pub start_at_iso: String,
    pub end_at_iso: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: Option<usize>,
    pub message: String,
}

/// HTML escaping of text: `& < > " '`. (minijinja's own also escapes `/`, which turns every
/// link in an invitation into `https:&#x2f;&#x2f;…`.)
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.set_formatter(|out, state, value| match value.as_str() {
        Some(text) if !value.is_safe() && matches!(state.auto_escape(), AutoEscape::Html) => out
            .write_str(&escape_html(text))
            .map_err(|_| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "cannot write")),
        _ => minijinja::escape_formatter(out, state, value),
    });
    env.set_undefined_behavior(UndefinedBehavior::Lenient);
    env.set_fuel(Some(FUEL));
    env
}

/// Check a template's syntax without rendering it.
pub fn check(source: &str) -> Result<(), SyntaxError> {
    let env = environment();
    env.template_from_str(source)
        .map(|_| ())
        .map_err(|e| SyntaxError {
            line: e.line(),
            message: e.detail().unwrap_or("syntax error").to_owned(),
        })
}

/// Render `source` with `data`, wrapped in the stable element.
pub fn render_source(source: &str, data: &InvitationData) -> Result<String, SyntaxError> {
    let env = environment();
    let tmpl = env.template_from_str(source).map_err(|e| SyntaxError {
        line: e.line(),
        message: e.detail().unwrap_or("syntax error").to_owned(),
    })?;
    render_with(&tmpl, data)
}

fn render_with(tmpl: &minijinja::Template, data: &InvitationData) -> Result<String, SyntaxError> {
    let body = tmpl.render(data).map_err(|e| SyntaxError {
        line: e.line(),
        message: e.to_string(),
    })?;
    Ok(wrap(&body, &data.call_id))
}

pub fn wrap(body: &str, call_id: &str) -> String {
    let call_id = escape_html(call_id);
    format!("<div id=\"{WRAPPER_ID}\" data-call-id=\"{call_id}\">{body}</div>")
}

/// Human-readable time in UTC for the invitation text.
pub fn display_time(t: &chrono::DateTime<chrono::Utc>, locale: &str) -> String {
    if locale.to_ascii_lowercase().starts_with("ru") {
        t.format("%d.%m.%Y %H:%M UTC").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M UTC").to_string()
    }
}

/// Sample data for previews.
pub fn sample_data(locale: &str) -> InvitationData {
    let start = chrono::Utc::now()
        .date_naive()
        .succ_opt()
        .unwrap_or_else(|| chrono::Utc::now().date_naive())
        .and_hms_opt(10, 0, 0)
        .unwrap_or_default()
        .and_utc();
    let end = start + chrono::Duration::hours(1);
    let ru = locale.to_ascii_lowercase().starts_with("ru");
    InvitationData {
        conference_link: "https://cts.example/join/8f1c2d3e".into(),
        conference_name: if ru {
            "Планёрка отдела"
        } else {
            "Team meeting"
        }
        .into(),
        start_at: display_time(&start, locale),
        end_at: display_time(&end, locale),
        access_code: "4711".into(),
        sip_number: "8001234".into(),
        creator: "organizer@example.com".into(),
        call_id: "00000000-0000-0000-0000-000000000000".into(),
        link_type: "corporate".into(),
        start_at_iso: start.to_rfc3339(),
        end_at_iso: end.to_rfc3339(),
    }
}

/// Pick a template: the exact locale, then its language, then `default_locale`, then any.
pub fn choose<'a>(
    active: &'a [Template],
    requested: &str,
    default_locale: &str,
) -> Option<&'a Template> {
    let req = requested.trim().to_ascii_lowercase().replace('_', "-");
    let lang = req.split('-').next().unwrap_or_default().to_owned();
    let by = |want: &str| {
        active
            .iter()
            .find(|t| t.locale.to_ascii_lowercase().replace('_', "-") == want)
    };
    let by_lang = |want: &str| {
        active.iter().find(|t| {
            t.locale
                .to_ascii_lowercase()
                .split(['-', '_'])
                .next()
                .is_some_and(|l| l == want)
        })
    };
    (!req.is_empty())
        .then(|| by(&req))
        .flatten()
        .or_else(|| (!lang.is_empty()).then(|| by_lang(&lang)).flatten())
        .or_else(|| by(&default_locale.to_ascii_lowercase()))
        .or_else(|| by_lang(&default_locale.to_ascii_lowercase()))
        .or_else(|| active.iter().min_by_key(|t| t.id))
}

struct ActiveSet {
    generation: String,
    checked: Instant,
    templates: Arc<Vec<Template>>,
}

/// Active templates and compiled environments, cached per process and invalidated through
/// the generation row (so a change on one replica reaches the others within a second).
#[derive(Default)]
pub struct Renderer {
    active: RwLock<Option<ActiveSet>>,
    /// One refresh at a time; meanwhile the others keep using the list they have.
    refreshing: std::sync::atomic::AtomicBool,
    compiled: Mutex<HashMap<(i64, i64), Arc<Environment<'static>>>>,
}

fn generation(conn: &mut crate::db::DbConn) -> Result<String, DbError> {
    Ok(settings::table
        .filter(settings::name.eq(GENERATION_KEY))
        .select(settings::value)
        .first::<String>(conn)
        .optional()?
        .unwrap_or_default())
}

/// Record that templates changed (call inside the transaction that changes them).
pub fn bump_generation(conn: &mut crate::db::DbConn) -> Result<(), DbError> {
    let now = crate::db::models::now();
    let next = uuid::Uuid::new_v4().to_string();
    let updated = diesel::update(settings::table.filter(settings::name.eq(GENERATION_KEY)))
        .set((settings::value.eq(&next), settings::updated_at.eq(now)))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(settings::table)
            .values((
                settings::name.eq(GENERATION_KEY),
                settings::value.eq(&next),
                settings::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

impl Renderer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Forget the cached list now (this replica changed a template).
    pub fn invalidate(&self) {
        if let Ok(mut a) = self.active.write() {
            *a = None;
        }
    }

    /// The active templates, from the cache when it is fresh.
    pub async fn active(&self, db: &Db) -> Result<Arc<Vec<Template>>, DbError> {
        let cached = self.active.read().ok().and_then(|a| {
            a.as_ref()
                .map(|s| (s.generation.clone(), s.checked, s.templates.clone()))
        });
        if let Some((_, checked, templates)) = &cached
            && checked.elapsed() < RECHECK
        {
            return Ok(templates.clone());
        }
        use std::sync::atomic::{AtomicBool, Ordering};
        /// Clears the flag however the refresh ends (also when the request is dropped).
        struct Leader<'a>(&'a AtomicBool);
        impl Drop for Leader<'_> {
            fn drop(&mut self) {
                self.0.store(false, Ordering::Release);
            }
        }
        let leader = self
            .refreshing
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
            .then(|| Leader(&self.refreshing));
        if leader.is_none()
            && let Some((_, _, templates)) = &cached
        {
            return Ok(templates.clone());
        }
        self.refresh(db, cached).await
    }

    async fn refresh(
        &self,
        db: &Db,
        cached: Option<(String, Instant, Arc<Vec<Template>>)>,
    ) -> Result<Arc<Vec<Template>>, DbError> {
        let known = cached.as_ref().map(|(g, _, _)| g.clone());
        let (generation, fresh) = db
            .run(move |conn| {
                let g = generation(conn)?;
                if known.as_deref() == Some(g.as_str()) {
                    return Ok((g, None));
                }
                let list = templates::table
                    .filter(templates::active.eq(true))
                    .order(templates::id)
                    .select(Template::as_select())
                    .load(conn)?;
                Ok((g, Some(list)))
            })
            .await?;
        let templates = match (fresh, cached) {
            (Some(list), _) => Arc::new(list),
            (None, Some((_, _, t))) => t,
            (None, None) => Arc::new(Vec::new()),
        };
        if let Ok(mut a) = self.active.write() {
            *a = Some(ActiveSet {
                generation,
                checked: Instant::now(),
                templates: templates.clone(),
            });
        }
        Ok(templates)
    }

    fn compiled(&self, t: &Template) -> Result<Arc<Environment<'static>>, SyntaxError> {
        let key = (t.id, t.version);
        if let Some(env) = self.compiled.lock().ok().and_then(|c| c.get(&key).cloned()) {
            return Ok(env);
        }
        let mut env = environment();
        env.add_template_owned("invitation", t.html.clone())
            .map_err(|e| SyntaxError {
                line: e.line(),
                message: e.detail().unwrap_or("syntax error").to_owned(),
            })?;
        let env = Arc::new(env);
        if let Ok(mut c) = self.compiled.lock() {
            c.retain(|(id, _), _| *id != t.id);
            c.insert(key, env.clone());
        }
        Ok(env)
    }

    /// Render one template with `data` (wrapped).
    pub fn render(&self, t: &Template, data: &InvitationData) -> Result<String, SyntaxError> {
        let env = self.compiled(t)?;
        let tmpl = env.get_template("invitation").map_err(|e| SyntaxError {
            line: e.line(),
            message: e.to_string(),
        })?;
        render_with(&tmpl, data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(id: i64, locale: &str) -> Template {
        let now = chrono::Utc::now().naive_utc();
        Template {
            id,
            name: locale.into(),
            locale: locale.into(),
            html: String::new(),
            active: true,
            version: 1,
            created_at: now,
            updated_at: now,
            updated_by: String::new(),
        }
    }

    #[test]
    fn locale_chain() {
        let all = vec![t(1, "ru"), t(2, "en"), t(3, "de-AT")];
        assert_eq!(choose(&all, "de-AT", "en").unwrap().id, 3);
        assert_eq!(choose(&all, "ru-RU", "en").unwrap().id, 1);
        assert_eq!(choose(&all, "RU", "en").unwrap().id, 1);
        assert_eq!(choose(&all, "de-DE", "en").unwrap().id, 3);
        assert_eq!(choose(&all, "fr-FR", "en").unwrap().id, 2);
        assert_eq!(choose(&all, "", "en").unwrap().id, 2);
        let only_ru = vec![t(7, "ru")];
        assert_eq!(choose(&only_ru, "fr", "en").unwrap().id, 7);
        assert!(choose(&[], "en", "en").is_none());
    }

    #[test]
    fn escapes_and_conditionals() {
        let src =
            "<p>{{ conference_name }}</p>{% if access_code %}<b>{{ access_code }}</b>{% endif %}";
        let mut d = InvitationData {
            conference_name: "<script>alert(1)</script>".into(),
            call_id: "c\"1".into(),
            ..Default::default()
        };
        let html = render_source(src, &d).unwrap();
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("<script>"));
        assert!(!html.contains("<b>"));
        assert!(html.starts_with("<div id=\"xmeet-invitation\" data-call-id=\"c&quot;1\">"));
        d.access_code = "1234".into();
        assert!(render_source(src, &d).unwrap().contains("<b>1234</b>"));
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let e = check("<p>ok</p>\n<p>{% if x %}never closed</p>\n").unwrap_err();
        assert!(e.line.is_some(), "{e:?}");
        assert!(check("{{ conference_link }}").is_ok());
    }

    #[test]
    fn runaway_templates_stop() {
        let e = render_source(
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
            &InvitationData::default(),
        );
        assert!(e.is_err());
    }

    #[test]
    fn no_file_access() {
        assert!(render_source("{% include '/etc/passwd' %}", &InvitationData::default()).is_err());
    }
}
