//! Migrations and seeds on both backends.

use crate::harness::{Backend, TestDb};
use diesel::prelude::*;
use xmeet::db::schema::{admins, template_versions, templates};
use xmeet::db::{Db, migrate, seed};

fn pool(db: &TestDb) -> Db {
    let cfg = xmeet::config::DatabaseConfig {
        url: xmeet::db::DatabaseUrl::new(db.url.clone()),
        ..Default::default()
    };
    Db::connect(&cfg).unwrap()
}

async fn up_down_up_gives_the_same_schema(backend: Backend) {
    let Some(tdb) = TestDb::new(backend) else {
        return;
    };
    let db = pool(&tdb);
    tokio::task::spawn_blocking(move || {
        let mut c = db.get().unwrap();
        let applied = migrate::run_pending(&mut c, |_| {}).unwrap();
        assert!(!applied.is_empty());
        let first = migrate::describe_schema(&mut c).unwrap();
        assert!(first.iter().any(|l| l.contains("templates")), "{first:?}");
        migrate::revert_all(&mut c).unwrap();
        let empty = migrate::describe_schema(&mut c).unwrap();
        assert!(
            !empty.iter().any(|l| l.contains("templates")),
            "down left tables behind: {empty:?}"
        );
        assert!(migrate::pending(&mut c).unwrap().len() == applied.len());
        migrate::run_pending(&mut c, |_| {}).unwrap();
        let second = migrate::describe_schema(&mut c).unwrap();
        assert_eq!(first, second);
    })
    .await
    .unwrap();
}

async fn migrate_twice_is_a_no_op_and_seeds_once(backend: Backend) {
    let Some(tdb) = TestDb::new(backend) else {
        return;
    };
    let db = pool(&tdb);
    tokio::task::spawn_blocking(move || {
        let mut c = db.get().unwrap();
        let mut reported = Vec::new();
        migrate::run_pending(&mut c, |n| reported.push(n.to_owned())).unwrap();
        assert_eq!(reported, vec!["2026-12-04-000000_initial".to_owned()]);
        let first = seed::seed(&mut c).unwrap();
        assert!(first.admin_created);
        assert_eq!(first.templates_created, vec!["ru", "en"]);

        assert!(migrate::run_pending(&mut c, |_| {}).unwrap().is_empty());
        let second = seed::seed(&mut c).unwrap();
        assert_eq!(second, seed::SeedReport::default());

        let n_admins: i64 = admins::table.count().get_result(&mut c).unwrap();
        assert_eq!(n_admins, 1);
        let admin: (String, String, bool) = admins::table
            .select((
                admins::login,
                admins::password_hash,
                admins::must_change_password,
            ))
            .first(&mut c)
            .unwrap();
        assert_eq!(admin, ("admin".into(), String::new(), true));
        let active: Vec<(String, bool)> = templates::table
            .select((templates::locale, templates::active))
            .order(templates::locale)
            .load(&mut c)
            .unwrap();
        assert_eq!(active, vec![("en".into(), true), ("ru".into(), true)]);
        let versions: i64 = template_versions::table.count().get_result(&mut c).unwrap();
        assert_eq!(versions, 2);
        assert!(migrate::status(&mut c).unwrap().iter().all(|m| m.applied));
    })
    .await
    .unwrap();
}

async fn deleted_seed_template_is_not_brought_back(backend: Backend) {
    let Some(tdb) = TestDb::new(backend) else {
        return;
    };
    let db = pool(&tdb);
    tokio::task::spawn_blocking(move || {
        let mut c = db.get().unwrap();
        migrate::run_pending(&mut c, |_| {}).unwrap();
        seed::seed(&mut c).unwrap();
        diesel::delete(templates::table.filter(templates::locale.eq("en")))
            .execute(&mut c)
            .unwrap();
        assert_eq!(seed::seed(&mut c).unwrap(), seed::SeedReport::default());
        let n: i64 = templates::table.count().get_result(&mut c).unwrap();
        assert_eq!(n, 1);
    })
    .await
    .unwrap();
}

async fn one_active_template_per_locale_is_enforced_by_the_schema(backend: Backend) {
    let Some(tdb) = TestDb::new(backend) else {
        return;
    };
    let db = pool(&tdb);
    tokio::task::spawn_blocking(move || {
        let mut c = db.get().unwrap();
        migrate::run_pending(&mut c, |_| {}).unwrap();
        seed::seed(&mut c).unwrap();
        let t = xmeet::db::models::now();
        let second_active = diesel::insert_into(templates::table)
            .values(xmeet::db::models::NewTemplate {
                name: "another",
                locale: "en",
                html: "x",
                active: true,
                version: 1,
                created_at: t,
                updated_at: t,
                updated_by: "test",
            })
            .execute(&mut c);
        let err = xmeet::db::DbError::from(second_active.unwrap_err());
        assert!(err.is_unique_violation(), "{err}");
    })
    .await
    .unwrap();
}

crate::both_backends!(
    up_down_up_gives_the_same_schema,
    migrate_twice_is_a_no_op_and_seeds_once,
    deleted_seed_template_is_not_brought_back,
    one_active_template_per_locale_is_enforced_by_the_schema,
);
