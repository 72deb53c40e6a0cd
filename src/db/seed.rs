//! What `xmeet migrate` puts into a new database, idempotently: the `admin` account (empty
//! password, to be changed at the first sign-in, as the guide's first login) and active `ru`
//! and `en` invitation templates.

use super::models::{NewAdmin, NewAuditEntry, NewTemplate, NewTemplateVersion, now};
use super::schema::{admins, audit_log, settings, template_versions, templates};
use super::{DbConn, DbError};
use diesel::prelude::*;

pub const DEFAULT_ADMIN: &str = "admin";
const TEMPLATES_SEEDED: &str = "seed.templates";

pub const TEMPLATE_EN: &str = r#"<div style="font-family: 'Segoe UI', Arial, sans-serif; font-size: 14px; color: #222">
<p style="font-size: 16px"><b>{{ conference_name }}</b></p>
<p>Join the eXpress video conference: <a href="{{ conference_link }}">{{ conference_link }}</a></p>
<p>Starts: {{ start_at }}<br>Ends: {{ end_at }}</p>
{% if access_code %}<p>Access code: <b>{{ access_code }}</b></p>
{% endif %}{% if sip_number %}<p>Join from a phone or SIP device: <b>{{ sip_number }}</b></p>
{% endif %}<p style="color: #666; font-size: 12px">Organizer: {{ creator }}. If the link does not open the eXpress app, copy it into your browser.</p>
</div>"#;

pub const TEMPLATE_RU: &str = r#"<div style="font-family: 'Segoe UI', Arial, sans-serif; font-size: 14px; color: #222">
<p style="font-size: 16px"><b>{{ conference_name }}</b></p>
<p>Подключиться к видеоконференции eXpress: <a href="{{ conference_link }}">{{ conference_link }}</a></p>
<p>Начало: {{ start_at }}<br>Окончание: {{ end_at }}</p>
{% if access_code %}<p>Код доступа: <b>{{ access_code }}</b></p>
{% endif %}{% if sip_number %}<p>Подключение с телефона или SIP-устройства: <b>{{ sip_number }}</b></p>
{% endif %}<p style="color: #666; font-size: 12px">Организатор: {{ creator }}. Если ссылка не открывает приложение eXpress, скопируйте её в браузер.</p>
</div>"#;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct SeedReport {
    pub admin_created: bool,
    pub templates_created: Vec<String>,
}

pub fn seed(conn: &mut DbConn) -> Result<SeedReport, DbError> {
    conn.transaction(|conn| {
        let mut report = SeedReport::default();
        let t = now();

        // The admin account only while there is no admin at all: re-running migrate must
        // never bring back an empty-password account that was deliberately removed.
        let admin_count: i64 = admins::table.count().get_result(conn)?;
        if admin_count == 0 {
            diesel::insert_into(admins::table)
                .values(NewAdmin {
                    login: DEFAULT_ADMIN,
                    display_name: "Administrator",
                    email: "",
                    password_hash: "",
                    must_change_password: true,
                    created_at: t,
                    updated_at: t,
                })
                .execute(conn)?;
            report.admin_created = true;
        }

        // The templates once per database; an admin may delete or replace them later.
        let seeded: i64 = settings::table
            .filter(settings::name.eq(TEMPLATES_SEEDED))
            .count()
            .get_result(conn)?;
        if seeded == 0 {
            for (locale, name, html) in [
                ("ru", "Приглашение (русский)", TEMPLATE_RU),
                ("en", "Invitation (English)", TEMPLATE_EN),
            ] {
                let exists: i64 = templates::table
                    .filter(templates::locale.eq(locale))
                    .count()
                    .get_result(conn)?;
                if exists > 0 {
                    continue;
                }
                let id: i64 = diesel::insert_into(templates::table)
                    .values(NewTemplate {
                        name,
                        locale,
                        html,
                        active: true,
                        version: 1,
                        created_at: t,
                        updated_at: t,
                        updated_by: "xmeet migrate",
                    })
                    .returning(templates::id)
                    .get_result(conn)?;
                diesel::insert_into(template_versions::table)
                    .values(NewTemplateVersion {
                        template_id: id,
                        version: 1,
                        name,
                        locale,
                        html,
                        saved_at: t,
                        saved_by: "xmeet migrate",
                    })
                    .execute(conn)?;
                diesel::insert_into(audit_log::table)
                    .values(NewAuditEntry {
                        at: t,
                        actor: "xmeet migrate",
                        action: "template.create",
                        target_type: "template",
                        target_id: &id.to_string(),
                        details: &serde_json::json!({"locale": locale, "name": name}).to_string(),
                    })
                    .execute(conn)?;
                report.templates_created.push(locale.to_owned());
            }
            diesel::insert_into(settings::table)
                .values((
                    settings::name.eq(TEMPLATES_SEEDED),
                    settings::value.eq("1"),
                    settings::updated_at.eq(t),
                ))
                .execute(conn)?;
        }
        Ok(report)
    })
}
