//! Office accounts and what each role may do: council members (议事会) run the lists, grid
//! managers (网格员) assign and supervise, handlers (the property company and others) answer
//! what is assigned to them, viewers read without phone numbers. Passwords are kept as
//! argon2id hashes; five wrong passwords in a row lock an account for five minutes.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use thiserror::Error;

use super::cases::Action;
use super::sql::{SqlRow, Tx, int, opt_text, text};
use super::storage::StorageError;
use super::storage_error::TransactionError;

/// Wrong passwords in a row that lock an account: enough for typing mistakes, far too few to
/// guess a password.
pub const MAX_FAILED_LOGINS: u32 = 5;
/// How long a locked account waits: long enough to stop guessing, short enough that a council
/// member who mistyped is back at work after a cup of tea.
pub const LOCKOUT: TimeDelta = TimeDelta::minutes(5);
/// The shortest password accepted: the board holds residents' phone numbers.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Account names are short words people type at sign-in.
pub const MAX_NAME_CHARS: usize = 32;

/// What an account may do on the board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Council,
    Grid,
    Handler,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Council, Role::Grid, Role::Handler, Role::Viewer];

    pub fn code(self) -> &'static str {
        match self {
            Role::Council => "council",
            Role::Grid => "grid",
            Role::Handler => "handler",
            Role::Viewer => "viewer",
        }
    }

    pub fn from_code(code: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == code)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Role::Council => "议事会成员",
            Role::Grid => "网格员",
            Role::Handler => "承办人",
            Role::Viewer => "查看",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Role::Council => "Council member",
            Role::Grid => "Grid manager",
            Role::Handler => "Handler",
            Role::Viewer => "Viewer",
        }
    }

    /// Whether this role may do `action` (a handler only on cases assigned to it: see
    /// [`Role::sees_only_own_cases`]).
    pub fn may(self, action: &Action) -> bool {
        match self {
            // Answers are the handler's, ratings the resident's.
            Role::Council => !matches!(action, Action::Answer { .. } | Action::Rate { .. }),
            Role::Grid => matches!(
                action,
                Action::Assign { .. } | Action::Supervise | Action::FollowUp
            ),
            Role::Handler => matches!(action, Action::Answer { .. }),
            Role::Viewer => false,
        }
    }

    /// Handlers see the cases assigned to them and no others.
    pub fn sees_only_own_cases(self) -> bool {
        self == Role::Handler
    }

    /// Who may read a resident's phone number: those who may have to call them back.
    pub fn sees_phone(self) -> bool {
        self != Role::Viewer
    }

    /// Who a case can be assigned to.
    pub fn takes_assignments(self) -> bool {
        self != Role::Viewer
    }
}

/// An office account, without its password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub role: Role,
}

/// Why an account could not be added.
#[derive(Debug, Error)]
pub enum AccountError {
    #[error(
        "the account name `{0}` is not usable: 1 to {MAX_NAME_CHARS} letters, digits, `-`, `_` or `.`"
    )]
    BadName(String),
    #[error("the password is too short: at least {MIN_PASSWORD_CHARS} characters")]
    ShortPassword,
    #[error("the account `{0}` already exists")]
    Exists(String),
    #[error("cannot hash the password: {0}")]
    Hash(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl TransactionError for AccountError {
    fn storage(&self) -> Option<&StorageError> {
        match self {
            AccountError::Storage(e) => Some(e),
            _ => None,
        }
    }
}

/// What a sign-in attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    Accepted(Account),
    /// The name or the password is wrong; which of the two is not said.
    Refused,
    /// Too many wrong passwords: try again after this time.
    Locked {
        until: DateTime<Utc>,
    },
}

fn usable_name(name: &str) -> bool {
    let chars = name.chars().count();
    (1..=MAX_NAME_CHARS).contains(&chars)
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Checks a new account's name and password, and hashes the password (argon2id: tens of
/// milliseconds of work, to be done off the async threads).
pub fn new_account_hash(name: &str, password: &str) -> Result<String, AccountError> {
    if !usable_name(name) {
        return Err(AccountError::BadName(name.to_string()));
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AccountError::ShortPassword);
    }
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| AccountError::Hash(e.to_string()))?
        .to_string())
}

/// Adds an account whose password hash is `hash` (see [`new_account_hash`]).
pub async fn add_account(
    tx: &mut Tx<'_>,
    name: &str,
    role: Role,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<Account, AccountError> {
    let inserted = tx
        .execute(
            "INSERT INTO accounts (name, role, password_hash, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (name) DO NOTHING",
            &[
                text(name),
                text(role.code()),
                text(hash),
                text(&rfc3339(now)),
            ],
        )
        .await?;
    if inserted == 0 {
        return Err(AccountError::Exists(name.to_string()));
    }
    audit(tx, now, name, "account-added", role.code()).await?;
    Ok(Account {
        name: name.to_string(),
        role,
    })
}

fn role_of(name: &str, code: &str) -> Result<Role, StorageError> {
    Role::from_code(code).ok_or_else(|| StorageError::BadRow {
        id: name.to_string(),
        problem: format!("account role `{code}`"),
    })
}

/// Every account, by name.
pub async fn accounts(tx: &mut Tx<'_>) -> Result<Vec<Account>, StorageError> {
    let rows = tx
        .query("SELECT name, role FROM accounts ORDER BY name", &[])
        .await?;
    rows.iter()
        .map(|row| {
            let name = row.text(0)?;
            let role = role_of(&name, &row.text(1)?)?;
            Ok(Account { name, role })
        })
        .collect()
}

/// An account as a sign-in reads it.
#[derive(Debug, Clone)]
pub struct Credentials {
    role: String,
    password_hash: String,
    failed_logins: u32,
    locked_until: Option<DateTime<Utc>>,
}

const CREDENTIALS: &str =
    "SELECT role, password_hash, failed_logins, locked_until FROM accounts WHERE name = $1";

fn credentials(row: &SqlRow) -> Result<Credentials, StorageError> {
    Ok(Credentials {
        role: row.text(0)?,
        password_hash: row.text(1)?,
        failed_logins: u32::try_from(row.int(2)?).unwrap_or(u32::MAX),
        locked_until: row
            .opt_text(3)?
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc)),
    })
}

/// The account `name` as a sign-in needs it, if there is one.
pub async fn credentials_of(
    tx: &mut Tx<'_>,
    name: &str,
) -> Result<Option<Credentials>, StorageError> {
    tx.query_opt(CREDENTIALS, &[text(name)])
        .await?
        .map(|row| credentials(&row))
        .transpose()
}

/// Whether `password` is the one of `found` (argon2id: to be checked off the async threads).
/// A missing account is hashed against all the same, so it takes as long as a wrong password.
pub fn password_matches(found: Option<&Credentials>, password: &str) -> bool {
    let Some(found) = found else {
        let _ =
            Argon2::default().hash_password(password.as_bytes(), &SaltString::generate(&mut OsRng));
        return false;
    };
    PasswordHash::new(&found.password_hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Records a sign-in whose password was checked (`matches`), counting wrong passwords and
/// locking the account after [`MAX_FAILED_LOGINS`]; every attempt goes into the audit trail.
/// The account is read again, locked, so that wrong passwords tried at once on several office
/// processes are all counted.
pub async fn record_sign_in(
    tx: &mut Tx<'_>,
    name: &str,
    matches: bool,
    now: DateTime<Utc>,
) -> Result<SignIn, StorageError> {
    let Some(found) = tx
        .query_locking(CREDENTIALS, &[text(name)])
        .await?
        .map(|row| credentials(&row))
        .transpose()?
    else {
        audit(tx, now, name, "sign-in-refused", "no such account").await?;
        return Ok(SignIn::Refused);
    };
    if let Some(until) = found.locked_until.filter(|until| *until > now) {
        audit(tx, now, name, "sign-in-refused", "locked").await?;
        return Ok(SignIn::Locked { until });
    }
    if matches {
        tx.execute(
            "UPDATE accounts SET failed_logins = 0, locked_until = NULL WHERE name = $1",
            &[text(name)],
        )
        .await?;
        audit(tx, now, name, "signed-in", "").await?;
        return Ok(SignIn::Accepted(Account {
            name: name.to_string(),
            role: role_of(name, &found.role)?,
        }));
    }
    let failed = found.failed_logins.saturating_add(1);
    if failed >= MAX_FAILED_LOGINS {
        let until = now + LOCKOUT;
        tx.execute(
            "UPDATE accounts SET failed_logins = 0, locked_until = $2 WHERE name = $1",
            &[text(name), opt_text(Some(&rfc3339(until)))],
        )
        .await?;
        audit(
            tx,
            now,
            name,
            "account-locked",
            &format!("{failed} wrong passwords"),
        )
        .await?;
        return Ok(SignIn::Locked { until });
    }
    tx.execute(
        "UPDATE accounts SET failed_logins = $2 WHERE name = $1",
        &[text(name), int(i64::from(failed))],
    )
    .await?;
    audit(tx, now, name, "sign-in-refused", "wrong password").await?;
    Ok(SignIn::Refused)
}

/// Writes one line of the office's audit trail.
pub async fn audit(
    tx: &mut Tx<'_>,
    at: DateTime<Utc>,
    account: &str,
    what: &str,
    detail: &str,
) -> Result<(), StorageError> {
    tx.execute(
        "INSERT INTO office_audit (at, account, what, detail) VALUES ($1, $2, $3, $4)",
        &[text(&rfc3339(at)), text(account), text(what), text(detail)],
    )
    .await?;
    Ok(())
}

/// The newest `limit` lines of the audit trail, newest first (what tests read back; staff
/// read the table with `sqlite3` or `psql`): (time, account, what, detail).
#[cfg(test)]
pub async fn audit_trail(
    tx: &mut Tx<'_>,
    limit: u32,
) -> Result<Vec<(String, String, String, String)>, StorageError> {
    let rows = tx
        .query(
            "SELECT at, account, what, detail FROM office_audit ORDER BY seq DESC LIMIT $1",
            &[int(i64::from(limit))],
        )
        .await?;
    rows.iter()
        .map(|row| Ok((row.text(0)?, row.text(1)?, row.text(2)?, row.text(3)?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::office::fixtures::{test_db, wait};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 2, 2, 0, 0).unwrap()
    }

    #[test]
    fn a_password_signs_in_and_five_wrong_ones_lock_for_five_minutes() {
        let db = test_db();
        wait(db.add_account("li", Role::Council, "correct horse battery", now())).unwrap();
        assert_eq!(
            wait(db.sign_in("li", "correct horse battery", now())).unwrap(),
            SignIn::Accepted(Account {
                name: "li".into(),
                role: Role::Council
            })
        );
        for _ in 1..MAX_FAILED_LOGINS {
            assert_eq!(
                wait(db.sign_in("li", "wrong", now())).unwrap(),
                SignIn::Refused
            );
        }
        let locked = wait(db.sign_in("li", "wrong", now())).unwrap();
        assert_eq!(
            locked,
            SignIn::Locked {
                until: now() + LOCKOUT
            }
        );
        // Locked: even the right password waits.
        let later = now() + TimeDelta::minutes(4);
        assert!(matches!(
            wait(db.sign_in("li", "correct horse battery", later)).unwrap(),
            SignIn::Locked { .. }
        ));
        let after = now() + LOCKOUT + TimeDelta::seconds(1);
        assert!(matches!(
            wait(db.sign_in("li", "correct horse battery", after)).unwrap(),
            SignIn::Accepted(_)
        ));
        assert_eq!(
            wait(db.sign_in("nobody", "x", now())).unwrap(),
            SignIn::Refused
        );
        let trail = wait(db.audit_trail(100)).unwrap();
        assert!(
            trail
                .iter()
                .any(|(_, who, what, _)| who == "li" && what == "account-locked")
        );
        assert!(
            trail
                .iter()
                .any(|(_, who, what, _)| who == "nobody" && what == "sign-in-refused")
        );
    }

    #[test]
    fn bad_names_short_passwords_and_twins_are_refused() {
        let db = test_db();
        assert!(matches!(
            wait(db.add_account("two words", Role::Viewer, "long enough pw", now())),
            Err(AccountError::BadName(_))
        ));
        assert!(matches!(
            wait(db.add_account("wang", Role::Grid, "short", now())),
            Err(AccountError::ShortPassword)
        ));
        wait(db.add_account("wang", Role::Grid, "long enough pw", now())).unwrap();
        assert!(matches!(
            wait(db.add_account("wang", Role::Viewer, "long enough pw", now())),
            Err(AccountError::Exists(_))
        ));
        assert_eq!(wait(db.accounts()).unwrap().len(), 1);
    }

    #[test]
    fn each_role_may_do_its_part_of_the_loop() {
        let answer = Action::Answer { reply: "x".into() };
        let assign = Action::Assign {
            handler: "x".into(),
        };
        assert!(Role::Council.may(&Action::TickOff) && !Role::Council.may(&answer));
        assert!(Role::Grid.may(&assign) && Role::Grid.may(&Action::Supervise));
        assert!(!Role::Grid.may(&Action::TickOff));
        assert!(Role::Handler.may(&answer) && !Role::Handler.may(&assign));
        assert!(
            Role::ALL
                .iter()
                .all(|r| r == &Role::Viewer || r.sees_phone())
        );
        assert!(!Role::Viewer.may(&Action::Accept) && !Role::Viewer.sees_phone());
    }
}
