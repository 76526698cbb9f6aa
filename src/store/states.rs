//! The states a print job, a concern's upload and a batch go through, as the types the store
//! reads and writes: the database holds their codes, the code never spells them out.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

/// One enum per state column, with its database codes (the `CHECK` lists of the schema) and
/// the conversions rusqlite and serde need.
macro_rules! stored_state {
    ($(#[$meta:meta])* $name:ident { $($(#[$variant_meta:meta])* $variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
        #[serde(rename_all = "lowercase")]
        pub enum $name {
            $($(#[$variant_meta])* $variant),+
        }

        impl $name {
            /// The code kept in the database and shown by `list` and `export`.
            pub fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }

            pub fn from_code(code: &str) -> Option<$name> {
                match code {
                    $($code => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }

        impl ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.code()))
            }
        }

        impl FromSql for $name {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                let code = value.as_str()?;
                $name::from_code(code).ok_or_else(|| {
                    FromSqlError::Other(format!("unknown {} `{code}`", stringify!($name)).into())
                })
            }
        }
    };
}

stored_state!(
    /// A print job: pending → printing → done, or failed.
    JobState {
        Pending = "pending",
        Printing = "printing",
        Done = "done",
        Failed = "failed",
    }
);

stored_state!(
    /// A concern on its way to the office: pending until the office names it, then uploaded.
    OutboxState {
        Pending = "pending",
        Uploaded = "uploaded",
    }
);

stored_state!(
    /// A batch: pending (waiting or backing off), sent (acknowledged), or rejected until staff
    /// act.
    BatchState {
        Pending = "pending",
        Sent = "sent",
        Rejected = "rejected",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_reads_back_what_it_writes() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        for state in [
            JobState::Pending,
            JobState::Printing,
            JobState::Done,
            JobState::Failed,
        ] {
            let back: JobState = conn.query_row("SELECT ?1", [state], |r| r.get(0)).unwrap();
            assert_eq!(back, state);
        }
        for state in [OutboxState::Pending, OutboxState::Uploaded] {
            let back: OutboxState = conn.query_row("SELECT ?1", [state], |r| r.get(0)).unwrap();
            assert_eq!(back, state);
        }
        for state in [BatchState::Pending, BatchState::Sent, BatchState::Rejected] {
            let back: BatchState = conn.query_row("SELECT ?1", [state], |r| r.get(0)).unwrap();
            assert_eq!(back, state);
        }
        let unknown: rusqlite::Result<JobState> = conn.query_row("SELECT 'lost'", [], |r| r.get(0));
        assert!(unknown.is_err());
    }
}
