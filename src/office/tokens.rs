//! The office's tokens file: which bearer token belongs to which kiosk, and which tokens belong
//! to office staff (kiosk id `*`), who may read exports but not upload.
//!
//! Format, one entry a line: `KIOSK_ID TOKEN`, separated by spaces or tabs. Blank lines and
//! lines starting with `#` are ignored (a `#` later in a line is part of the token: tokens may
//! contain it). A kiosk may have several tokens (to rotate one without downtime); a token may
//! appear only once.

use std::fmt;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// The kiosk id that marks an office-staff token.
pub const STAFF_KIOSK_ID: &str = "*";
/// The shortest token accepted. A token is the only thing standing between the internet and
/// the office's intake; 16 random characters are beyond guessing, shorter ones invite
/// "1234"-style tokens.
pub const MIN_TOKEN_CHARS: usize = 16;

/// Who a bearer token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A kiosk: may upload batches carrying this kiosk id, nothing else.
    Kiosk(String),
    /// Office staff (`*` in the tokens file): may read exports, may not upload.
    Staff,
}

impl fmt::Display for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Caller::Kiosk(id) => write!(f, "kiosk `{id}`"),
            Caller::Staff => f.write_str("office staff"),
        }
    }
}

/// A tokens file that cannot be used. The message names the file and, when it is about one
/// entry, the line.
#[derive(Debug, Error)]
pub enum TokenFileError {
    #[error("{file}: cannot read the tokens file: {source}")]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}:{line}: {problem}")]
    Line {
        file: PathBuf,
        line: usize,
        problem: String,
    },
    #[error(
        "{file}: no tokens in the file; add a line `KIOSK_ID TOKEN` for each kiosk (and `* TOKEN` for office staff)"
    )]
    Empty { file: PathBuf },
}

struct Entry {
    caller: Caller,
    token: String,
}

/// The parsed tokens file.
pub struct TokenTable {
    entries: Vec<Entry>,
}

impl fmt::Debug for TokenTable {
    /// Never prints the tokens themselves: a debug log must not leak them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenTable")
            .field("kiosks", &self.kiosk_ids())
            .field("staff_tokens", &self.staff_token_count())
            .finish()
    }
}

impl TokenTable {
    /// Reads and parses the tokens file at `path`.
    pub fn load(path: &Path) -> Result<TokenTable, TokenFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| TokenFileError::Read {
            file: path.to_path_buf(),
            source,
        })?;
        warn_if_others_can_read(path);
        TokenTable::parse(&text, path)
    }

    /// Parses the text of a tokens file; `file_name` is only used in error messages.
    pub fn parse(text: &str, file_name: impl AsRef<Path>) -> Result<TokenTable, TokenFileError> {
        let file = file_name.as_ref();
        let mut entries: Vec<(usize, Entry)> = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let content = raw.trim();
            if content.is_empty() || content.starts_with('#') {
                continue;
            }
            let bad = |problem: String| TokenFileError::Line {
                file: file.to_path_buf(),
                line,
                problem,
            };
            let fields: Vec<&str> = content.split_whitespace().collect();
            let [kiosk_id, token] = fields[..] else {
                return Err(bad(format!(
                    "expected `KIOSK_ID TOKEN` (two fields separated by spaces), found {} field(s)",
                    fields.len()
                )));
            };
            let caller = if kiosk_id == STAFF_KIOSK_ID {
                Caller::Staff
            } else if is_kiosk_id(kiosk_id) {
                Caller::Kiosk(kiosk_id.to_owned())
            } else {
                return Err(bad(format!(
                    "`{kiosk_id}` is not a kiosk id: use the kiosk's `kiosk.id` (lowercase letters, digits and hyphens, e.g. wanjia-01) or `*` for office staff"
                )));
            };
            if token.chars().count() < MIN_TOKEN_CHARS {
                return Err(bad(format!(
                    "the token for `{kiosk_id}` is too short: use at least {MIN_TOKEN_CHARS} random characters (e.g. from `openssl rand -hex 24`)"
                )));
            }
            if !token.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(bad(format!(
                    "the token for `{kiosk_id}` must be printable ASCII (it travels in an HTTP header)"
                )));
            }
            if let Some((first_line, _)) = entries.iter().find(|(_, e)| e.token == token) {
                return Err(bad(format!(
                    "this token is already given on line {first_line}: every entry needs its own token, or a kiosk could upload as another"
                )));
            }
            entries.push((
                line,
                Entry {
                    caller,
                    token: token.to_owned(),
                },
            ));
        }
        if entries.is_empty() {
            return Err(TokenFileError::Empty {
                file: file.to_path_buf(),
            });
        }
        Ok(TokenTable {
            entries: entries.into_iter().map(|(_, entry)| entry).collect(),
        })
    }

    /// Who the token belongs to, if anyone. Every entry is compared in full and in constant
    /// time, so the answer time does not tell an attacker how much of a guess was right.
    pub fn identify(&self, token: &str) -> Option<Caller> {
        let mut found = None;
        for entry in &self.entries {
            if constant_time_eq(entry.token.as_bytes(), token.as_bytes()) {
                found = Some(entry.caller.clone());
            }
        }
        found
    }

    /// The kiosk ids that have a token, sorted, each once.
    pub fn kiosk_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self
            .entries
            .iter()
            .filter_map(|e| match &e.caller {
                Caller::Kiosk(id) => Some(id.as_str()),
                Caller::Staff => None,
            })
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    pub fn staff_token_count(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| e.caller == Caller::Staff)
            .count()
    }
}

/// The same rule as the kiosk's `kiosk.id`, so that every kiosk can have a line here.
fn is_kiosk_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        // Token lengths are not secret enough to matter; contents are.
        return false;
    }
    a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

#[cfg(unix)]
fn warn_if_others_can_read(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let readable_by_all = std::fs::metadata(path)
        .map(|meta| meta.permissions().mode() & 0o004 != 0)
        .unwrap_or(false);
    if readable_by_all {
        tracing::warn!(
            "{}: the tokens file is readable by every user on this machine; `chmod 600` it",
            path.display()
        );
    }
}

#[cfg(not(unix))]
fn warn_if_others_can_read(_path: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "\
# kiosks of Wanjia Xingcheng
wanjia-01   kiosk-one-token-0123456789

wanjia-02\tkiosk-two-token-0123456789
  # office staff
*  staff-token-abcdefghijklmnop
";

    #[test]
    fn kiosk_and_staff_tokens_are_told_apart() {
        let table = TokenTable::parse(GOOD, "tokens").unwrap();
        assert_eq!(
            table.identify("kiosk-two-token-0123456789"),
            Some(Caller::Kiosk("wanjia-02".into()))
        );
        assert_eq!(
            table.identify("staff-token-abcdefghijklmnop"),
            Some(Caller::Staff)
        );
        assert_eq!(table.identify("kiosk-two-token-012345678"), None);
        assert_eq!(table.identify(""), None);
        assert_eq!(table.kiosk_ids(), ["wanjia-01", "wanjia-02"]);
        assert!(!format!("{table:?}").contains("token-0123"));
    }

    #[test]
    fn each_bad_line_is_named_by_file_and_line() {
        let cases = [
            ("wanjia-01\n", "tokens.txt:1: expected `KIOSK_ID TOKEN`"),
            (
                "# c\nWanjia 01 abcdefghijklmnopq\n",
                "tokens.txt:2: expected `KIOSK_ID TOKEN`",
            ),
            (
                "Wanjia-01 abcdefghijklmnopq\n",
                "tokens.txt:1: `Wanjia-01` is not a kiosk id",
            ),
            (
                "\n\nwanjia-01 short\n",
                "tokens.txt:3: the token for `wanjia-01` is too short",
            ),
            (
                "wanjia-01 abcdefghijklmnopq\nwanjia-02 abcdefghijklmnopq\n",
                "tokens.txt:2: this token is already given on line 1",
            ),
            ("# nothing\n\n", "tokens.txt: no tokens in the file"),
        ];
        for (text, expected) in cases {
            let message = TokenTable::parse(text, "tokens.txt")
                .unwrap_err()
                .to_string();
            assert!(message.starts_with(expected), "{message}");
        }
    }
}
