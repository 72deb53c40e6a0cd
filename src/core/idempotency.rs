//! `Idempotency-Key`: the same key from the same creator within 24 h gets the first answer and
//! makes no second bot call, also when the retries arrive at the same time (the database's
//! primary key decides who goes first, so it holds across replicas).

use crate::db::schema::idempotency_keys as ik;
use crate::db::{Db, DbError};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use std::time::Duration;

pub const WINDOW_HOURS: i64 = 24;

#[derive(Debug, PartialEq, Eq)]
pub enum Begin {
    /// This request runs; finish or release the key afterwards.
    Owned,
    /// An earlier request with this key finished: its answer.
    Replay { status: u16, body: String },
    /// The key was used for a different request.
    Mismatch,
    /// The first request is still running.
    InProgress,
}

fn try_begin(
    conn: &mut crate::db::DbConn,
    creator: &str,
    key: &str,
    hash: &str,
    stale_after: Duration,
) -> Result<Begin, DbError> {
    let now = crate::db::models::now();
    let window_start = now - chrono::Duration::hours(WINDOW_HOURS);
    // forget keys older than the window
    diesel::delete(ik::table.filter(ik::created_at.lt(window_start))).execute(conn)?;
    let inserted = diesel::insert_into(ik::table)
        .values((
            ik::creator.eq(creator),
            ik::key.eq(key),
            ik::request_hash.eq(hash),
            ik::state.eq("pending"),
            ik::created_at.eq(now),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => return Ok(Begin::Owned),
        Err(e) => {
            let e = DbError::from(e);
            if !e.is_unique_violation() {
                return Err(e);
            }
        }
    }
    type Row = (String, String, Option<i32>, Option<String>, NaiveDateTime);
    let row: Option<Row> = ik::table
        .filter(ik::creator.eq(creator).and(ik::key.eq(key)))
        .select((
            ik::request_hash,
            ik::state,
            ik::response_status,
            ik::response_body,
            ik::created_at,
        ))
        .first(conn)
        .optional()?;
    let Some((stored_hash, state, status, body, created_at)) = row else {
        // removed between our insert and read: try again
        return Ok(Begin::InProgress);
    };
    if stored_hash != hash {
        return Ok(Begin::Mismatch);
    }
    if state == "done" {
        return Ok(Begin::Replay {
            status: status.unwrap_or(200) as u16,
            body: body.unwrap_or_default(),
        });
    }
    // A pending key whose owner died (crash, restart) is taken over after `stale_after`.
    let stale = chrono::Duration::from_std(stale_after).unwrap_or(chrono::Duration::minutes(5));
    if created_at < now - stale {
        let taken = diesel::update(
            ik::table.filter(
                ik::creator
                    .eq(creator)
                    .and(ik::key.eq(key))
                    .and(ik::state.eq("pending"))
                    .and(ik::created_at.eq(created_at)),
            ),
        )
        .set(ik::created_at.eq(now))
        .execute(conn)?;
        if taken == 1 {
            return Ok(Begin::Owned);
        }
    }
    Ok(Begin::InProgress)
}

/// Claim the key, or learn what happened to it. Waits (polling) while another request with
/// the same key runs, at most `wait`.
pub async fn begin(
    db: &Db,
    creator: &str,
    key: &str,
    hash: &str,
    wait: Duration,
) -> Result<Begin, DbError> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let (c, k, h) = (creator.to_owned(), key.to_owned(), hash.to_owned());
        let stale = wait + Duration::from_secs(30);
        let out = db
            .run(move |conn| try_begin(conn, &c, &k, &h, stale))
            .await?;
        if out != Begin::InProgress || tokio::time::Instant::now() >= deadline {
            return Ok(out);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Keep the answer for replays.
pub async fn finish(
    db: &Db,
    creator: &str,
    key: &str,
    status: u16,
    body: String,
) -> Result<(), DbError> {
    let (c, k) = (creator.to_owned(), key.to_owned());
    db.run(move |conn| {
        diesel::update(ik::table.filter(ik::creator.eq(&c).and(ik::key.eq(&k))))
            .set((
                ik::state.eq("done"),
                ik::response_status.eq(Some(status as i32)),
                ik::response_body.eq(Some(body)),
            ))
            .execute(conn)?;
        Ok(())
    })
    .await
}

/// Give the key back (the request failed in a way a retry may fix).
pub async fn release(db: &Db, creator: &str, key: &str) -> Result<(), DbError> {
    let (c, k) = (creator.to_owned(), key.to_owned());
    db.run(move |conn| {
        diesel::delete(ik::table.filter(ik::creator.eq(&c).and(ik::key.eq(&k)))).execute(conn)?;
        Ok(())
    })
    .await
}

/// A stable hash of the request, so a reused key with another body is noticed.
pub fn request_hash(body: &serde_json::Value) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, body.to_string().as_bytes());
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}
