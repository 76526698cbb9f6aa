//! What the rest of the office asks of its database, whichever engine holds it: each question
//! or change one transaction, its SQL in the module that owns that part of the records.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};
use futures::FutureExt;

use super::accounts::{
    self, Account, AccountError, Role, SignIn, new_account_hash, password_matches,
};
use super::case_store::{self, ActError, CaseRecord};
use super::cases::Action;
use super::database::Database;
use super::ratings;
use super::sessions::{self, Session};
use super::status_feed;
use super::storage::{self, StorageError, StoreBatchError, StoredConcern};
use crate::concern::{ListKind, TrackingCode};
use crate::protocol::wire::{Batch, BatchReply, UpdatesPage};

impl Database {
    /// Stores a checked batch whole, or not at all (see `ratings::store_batch`).
    pub async fn store_batch(
        &self,
        batch: Arc<Batch>,
        json_sha256: Arc<str>,
        received_at: DateTime<FixedOffset>,
    ) -> Result<BatchReply, StoreBatchError> {
        self.transaction(move |tx| {
            async move { ratings::store_batch(tx, &batch, &json_sha256, received_at).await }.boxed()
        })
        .await
    }

    /// Every stored concern (or one list's), oldest first.
    pub async fn concerns(
        &self,
        list: Option<ListKind>,
    ) -> Result<Vec<StoredConcern>, StorageError> {
        self.transaction(move |tx| storage::concerns(tx, list).boxed())
            .await
    }

    /// Every case, each replayed from its events.
    pub async fn cases(&self) -> Result<Vec<CaseRecord>, StorageError> {
        self.transaction(|tx| case_store::cases(tx).boxed()).await
    }

    /// The case of the concern with this id.
    pub async fn case(&self, id: &str) -> Result<Option<CaseRecord>, StorageError> {
        let id = id.to_owned();
        self.transaction(move |tx| async move { case_store::case_in(tx, &id, false).await }.boxed())
            .await
    }

    /// The case whose receipt carries `code`.
    pub async fn case_by_tracking_code(
        &self,
        code: &TrackingCode,
    ) -> Result<Option<CaseRecord>, StorageError> {
        let code = code.clone();
        self.transaction(move |tx| {
            async move { case_store::case_by_tracking_code(tx, &code).await }.boxed()
        })
        .await
    }

    /// Records `action` on a case if it may be done now.
    pub async fn act(
        &self,
        id: &str,
        action: Action,
        actor: &str,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<CaseRecord, ActError> {
        let (id, actor, note) = (id.to_owned(), actor.to_owned(), note.to_owned());
        self.transaction(move |tx| {
            async move { case_store::act(tx, &id, action, &actor, &note, now).await }.boxed()
        })
        .await
    }

    /// Erases personal data of cases ticked off longer ago than `retention_days`.
    pub async fn erase_personal_data(
        &self,
        retention_days: u32,
        now: DateTime<Utc>,
    ) -> Result<usize, StorageError> {
        self.transaction(move |tx| case_store::erase_personal_data(tx, retention_days, now).boxed())
            .await
    }

    /// The cases changed after cursor `after`, for the kiosks.
    pub async fn updates_after(
        &self,
        after: u64,
        follow_up_days: u32,
    ) -> Result<UpdatesPage, StorageError> {
        self.transaction(move |tx| status_feed::updates_after(tx, after, follow_up_days).boxed())
            .await
    }

    /// Adds a board account; the password is hashed off the async threads.
    pub async fn add_account(
        &self,
        name: &str,
        role: Role,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<Account, AccountError> {
        let (name, password) = (name.to_owned(), password.to_owned());
        let hash_name = name.clone();
        let hash = off_async_threads(move || new_account_hash(&hash_name, &password))
            .await
            .map_err(AccountError::Storage)??;
        self.transaction(move |tx| {
            async move { accounts::add_account(tx, &name, role, &hash, now).await }.boxed()
        })
        .await
    }

    /// Every board account, by name.
    pub async fn accounts(&self) -> Result<Vec<Account>, StorageError> {
        self.transaction(|tx| accounts::accounts(tx).boxed()).await
    }

    /// Checks a sign-in: the password is checked off the async threads and outside any
    /// transaction, then the outcome is recorded (see `accounts::record_sign_in`).
    pub async fn sign_in(
        &self,
        name: &str,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<SignIn, StorageError> {
        let name = name.to_owned();
        let found = {
            let name = name.clone();
            self.transaction(move |tx| {
                async move { accounts::credentials_of(tx, &name).await }.boxed()
            })
            .await?
        };
        let password = password.to_owned();
        let matches =
            off_async_threads(move || password_matches(found.as_ref(), &password)).await?;
        self.transaction(move |tx| {
            async move { accounts::record_sign_in(tx, &name, matches, now).await }.boxed()
        })
        .await
    }

    /// Writes one line of the audit trail.
    pub async fn audit(
        &self,
        at: DateTime<Utc>,
        account: &str,
        what: &str,
        detail: &str,
    ) -> Result<(), StorageError> {
        let (account, what, detail) = (account.to_owned(), what.to_owned(), detail.to_owned());
        self.transaction(move |tx| {
            async move { accounts::audit(tx, at, &account, &what, &detail).await }.boxed()
        })
        .await
    }

    /// The newest `limit` lines of the audit trail, newest first.
    #[cfg(test)]
    pub async fn audit_trail(
        &self,
        limit: u32,
    ) -> Result<Vec<(String, String, String, String)>, StorageError> {
        self.transaction(move |tx| accounts::audit_trail(tx, limit).boxed())
            .await
    }

    /// Starts a board session; returns the cookie's token.
    pub async fn open_session(
        &self,
        account: &Account,
        now: DateTime<Utc>,
    ) -> Result<String, StorageError> {
        let account = account.clone();
        self.transaction(move |tx| {
            async move { sessions::open_session(tx, &account, now).await }.boxed()
        })
        .await
    }

    /// The live session of a cookie's token.
    pub async fn session(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Session>, StorageError> {
        let token = token.to_owned();
        self.transaction(move |tx| async move { sessions::session(tx, &token, now).await }.boxed())
            .await
    }

    /// Ends the session of a cookie's token.
    pub async fn close_session(&self, token: &str) -> Result<(), StorageError> {
        let token = token.to_owned();
        self.transaction(move |tx| async move { sessions::close_session(tx, &token).await }.boxed())
            .await
    }
}

/// Runs CPU-heavy work (argon2) on the blocking threads when there is a runtime, here when
/// there is none (the command line).
async fn off_async_threads<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, StorageError> {
    if tokio::runtime::Handle::try_current().is_ok() {
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| StorageError::Task(e.to_string()))
    } else {
        Ok(work())
    }
}
