//! Rows as diesel reads and writes them.

use super::schema::*;
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = admins)]
pub struct Admin {
    pub id: i64,
    pub login: String,
    pub display_name: String,
    pub email: String,
    pub password_hash: String,
    pub must_change_password: bool,
    pub token_version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = admins)]
pub struct NewAdmin<'a> {
    pub login: &'a str,
    pub display_name: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub must_change_password: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = templates)]
pub struct Template {
    pub id: i64,
    pub name: String,
    pub locale: String,
    pub html: String,
    pub active: bool,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub updated_by: String,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = templates)]
pub struct NewTemplate<'a> {
    pub name: &'a str,
    pub locale: &'a str,
    pub html: &'a str,
    pub active: bool,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub updated_by: &'a str,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = template_versions)]
pub struct TemplateVersion {
    pub id: i64,
    pub template_id: i64,
    pub version: i64,
    pub name: String,
    pub locale: String,
    pub html: String,
    pub saved_at: NaiveDateTime,
    pub saved_by: String,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = template_versions)]
pub struct NewTemplateVersion<'a> {
    pub template_id: i64,
    pub version: i64,
    pub name: &'a str,
    pub locale: &'a str,
    pub html: &'a str,
    pub saved_at: NaiveDateTime,
    pub saved_by: &'a str,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = audit_log)]
pub struct NewAuditEntry<'a> {
    pub at: NaiveDateTime,
    pub actor: &'a str,
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: &'a str,
    pub details: &'a str,
}

/// Now, in UTC, to the microsecond (both backends keep microseconds).
pub fn now() -> NaiveDateTime {
    let n = chrono::Utc::now().naive_utc();
    n.with_nanosecond_truncated()
}

trait TruncateNanos {
    fn with_nanosecond_truncated(self) -> Self;
}

impl TruncateNanos for NaiveDateTime {
    fn with_nanosecond_truncated(self) -> Self {
        use chrono::Timelike;
        let micros = self.nanosecond() / 1000 * 1000;
        self.with_nanosecond(micros).unwrap_or(self)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = conferences, primary_key(call_id))]
pub struct Conference {
    pub call_id: String,
    pub creator: String,
    pub name: String,
    pub start_at: NaiveDateTime,
    pub end_at: NaiveDateTime,
    pub link_id: Option<String>,
    pub link_type: String,
    pub link: Option<String>,
    pub access_code: Option<String>,
    pub sip_number: Option<String>,
    pub members: String,
    pub admins: String,
    pub locale: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = conferences, primary_key(call_id))]
pub struct NewConference {
    pub call_id: String,
    pub creator: String,
    pub name: String,
    pub start_at: NaiveDateTime,
    pub end_at: NaiveDateTime,
    pub link_id: Option<String>,
    pub link_type: String,
    pub link: Option<String>,
    pub access_code: Option<String>,
    pub sip_number: Option<String>,
    pub members: String,
    pub admins: String,
    pub locale: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}
