//! Signed-in browsers: a random token in an HttpOnly, SameSite=Strict cookie, of which the
//! database keeps only the SHA-256 (a stolen database file signs nobody in), with the CSRF
//! token every form of that session must carry, for a working day at most.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use sha2::{Digest, Sha256};

use super::accounts::{Account, Role};
use super::sql::{Tx, text};
use super::storage::StorageError;

/// How long a sign-in lasts: a working day, so a PC left signed in overnight is signed out by
/// morning.
pub const SESSION_LENGTH: TimeDelta = TimeDelta::hours(12);

/// A signed-in session as a request sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub account: Account,
    pub csrf_token: String,
}

/// 32 random bytes as hex: unguessable, and safe in a cookie or a form field.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn digest(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Compares two tokens in time that does not depend on where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Starts a session for `account`; returns the cookie's token (kept nowhere else).
pub async fn open_session(
    tx: &mut Tx<'_>,
    account: &Account,
    now: DateTime<Utc>,
) -> Result<String, StorageError> {
    let token = random_token();
    let expires = (now + SESSION_LENGTH).to_rfc3339_opts(SecondsFormat::Secs, true);
    let now = now.to_rfc3339_opts(SecondsFormat::Secs, true);
    tx.execute("DELETE FROM sessions WHERE expires_at < $1", &[text(&now)])
        .await?;
    tx.execute(
        "INSERT INTO sessions (token_sha256, account, csrf_token, expires_at)
         VALUES ($1, $2, $3, $4)",
        &[
            text(&digest(&token)),
            text(&account.name),
            text(&random_token()),
            text(&expires),
        ],
    )
    .await?;
    Ok(token)
}

/// The live session of a cookie's token, if there is one.
pub async fn session(
    tx: &mut Tx<'_>,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<Session>, StorageError> {
    let Some(row) = tx
        .query_opt(
            "SELECT s.account, a.role, s.csrf_token, s.expires_at
             FROM sessions s JOIN accounts a ON a.name = s.account
             WHERE s.token_sha256 = $1",
            &[text(&digest(token))],
        )
        .await?
    else {
        return Ok(None);
    };
    let expires = row.text(3)?;
    let live = DateTime::parse_from_rfc3339(&expires).is_ok_and(|at| at > now);
    let Some(role) = Role::from_code(&row.text(1)?).filter(|_| live) else {
        return Ok(None);
    };
    Ok(Some(Session {
        account: Account {
            name: row.text(0)?,
            role,
        },
        csrf_token: row.text(2)?,
    }))
}

/// Ends the session of a cookie's token.
pub async fn close_session(tx: &mut Tx<'_>, token: &str) -> Result<(), StorageError> {
    tx.execute(
        "DELETE FROM sessions WHERE token_sha256 = $1",
        &[text(&digest(token))],
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::office::fixtures::{test_db, wait};

    #[test]
    fn a_session_lasts_a_working_day_and_ends_when_closed() {
        let now = Utc.with_ymd_and_hms(2026, 12, 2, 1, 0, 0).unwrap();
        let db = test_db();
        let account = wait(db.add_account("li", Role::Council, "long enough pw", now)).unwrap();
        let token = wait(db.open_session(&account, now)).unwrap();
        let session = wait(db.session(&token, now)).unwrap().unwrap();
        assert_eq!(session.account, account);
        assert_eq!(session.csrf_token.len(), 64);
        assert_eq!(wait(db.session("not-a-token", now)).unwrap(), None);
        let later = now + SESSION_LENGTH + TimeDelta::seconds(1);
        assert_eq!(wait(db.session(&token, later)).unwrap(), None);
        wait(db.close_session(&token)).unwrap();
        assert_eq!(wait(db.session(&token, now)).unwrap(), None);
        assert!(same_token("abc", "abc") && !same_token("abc", "abd") && !same_token("a", "ab"));
    }
}
