//! Embedded migrations, one folder per backend with identical names.

use super::{DbConn, DbError};
use diesel::migration::{Migration, MigrationSource};
use diesel::pg::Pg;
use diesel::sqlite::Sqlite;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
pub const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    pub name: String,
    pub applied: bool,
}

fn err(e: impl std::fmt::Display) -> DbError {
    DbError::Migration(e.to_string())
}

/// (name, version) of every embedded migration, oldest first.
fn names<DB: diesel::backend::Backend>(
    source: &EmbeddedMigrations,
) -> Result<Vec<(String, String)>, DbError>
where
    EmbeddedMigrations: MigrationSource<DB>,
{
    let mut all: Vec<(String, String)> = MigrationSource::<DB>::migrations(source)
        .map_err(err)?
        .iter()
        .map(|m| (m.name().to_string(), m.name().version().to_string()))
        .collect();
    all.sort();
    Ok(all)
}

/// Every known migration with whether it is applied, oldest first.
pub fn status(conn: &mut DbConn) -> Result<Vec<MigrationStatus>, DbError> {
    let (all, applied) = match conn {
        DbConn::Postgresql(c) => (
            names::<Pg>(&POSTGRES)?,
            c.applied_migrations().map_err(err)?,
        ),
        DbConn::Sqlite(c) => (
            names::<Sqlite>(&SQLITE)?,
            c.applied_migrations().map_err(err)?,
        ),
    };
    let applied: Vec<String> = applied.iter().map(|v| v.to_string()).collect();
    Ok(all
        .into_iter()
        .map(|(name, version)| MigrationStatus {
            applied: applied.contains(&version),
            name,
        })
        .collect())
}

pub fn pending(conn: &mut DbConn) -> Result<Vec<String>, DbError> {
    Ok(status(conn)?
        .into_iter()
        .filter(|m| !m.applied)
        .map(|m| m.name)
        .collect())
}

/// Apply what is pending, one migration at a time, calling `report` after each.
pub fn run_pending(
    conn: &mut DbConn,
    mut report: impl FnMut(&str),
) -> Result<Vec<String>, DbError> {
    let mut done = Vec::new();
    match conn {
        DbConn::Postgresql(c) => {
            for m in c.pending_migrations(POSTGRES).map_err(err)? {
                c.run_migration(&*m).map_err(err)?;
                report(&m.name().to_string());
                done.push(m.name().to_string());
            }
        }
        DbConn::Sqlite(c) => {
            for m in c.pending_migrations(SQLITE).map_err(err)? {
                c.run_migration(&*m).map_err(err)?;
                report(&m.name().to_string());
                done.push(m.name().to_string());
            }
        }
    }
    Ok(done)
}

/// Undo every migration (tests check that down → up gives the same schema).
pub fn revert_all(conn: &mut DbConn) -> Result<(), DbError> {
    match conn {
        DbConn::Postgresql(c) => c.revert_all_migrations(POSTGRES).map(|_| ()).map_err(err),
        DbConn::Sqlite(c) => c.revert_all_migrations(SQLITE).map(|_| ()).map_err(err),
    }
}

/// A description of the schema (tables, columns, indexes) to compare two states.
pub fn describe_schema(conn: &mut DbConn) -> Result<Vec<String>, DbError> {
    use diesel::prelude::*;
    use diesel::sql_types::Text;

    #[derive(QueryableByName)]
    struct Line {
        #[diesel(sql_type = Text)]
        line: String,
    }
    let sql = match conn {
        DbConn::Postgresql(_) => {
            "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable \
             || ' ' || COALESCE(column_default, '') AS line FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name <> '__diesel_schema_migrations' \
             UNION ALL SELECT indexname || ' ' || indexdef AS line FROM pg_indexes \
             WHERE schemaname = current_schema() ORDER BY line"
        }
        DbConn::Sqlite(_) => {
            "SELECT type || ' ' || name || ' ' || COALESCE(sql, '') AS line FROM sqlite_master \
             WHERE name NOT LIKE 'sqlite_%' AND name <> '__diesel_schema_migrations' ORDER BY line"
        }
    };
    Ok(diesel::sql_query(sql)
        .load::<Line>(conn)?
        .into_iter()
        .map(|l| l.line)
        .collect())
}
