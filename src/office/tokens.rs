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

use super::private_files::others_may_access;

/// The kiosk id that marks an office-staff token.
pub const STAFF_KIOSK_ID: &str = "*";
/// The longest kiosk id accepted. Ids are short names like `wanjia-01`; the office quotes
/// them in its answers and logs, so they must stay short.
pub const MAX_KIOSK_ID_CHARS: usize = 64;
/// The largest tokens file read. A line per kiosk is under 100 bytes, so a district's
/// thousand kiosks fit in a tenth of this; a bigger "tokens file" is the wrong file.
pub const MAX_TOKENS_FILE_BYTES: u64 = 1024 * 1024;

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
    #[error(
        "{file}: other users on this machine may read or change the tokens file, which holds every kiosk's token; `chmod 600` it (owned by the user concern-office runs as) and start again"
    )]
    Exposed { file: PathBuf },
    #[error(
        "{file}: the tokens file is larger than {} KiB; it should hold one short line per kiosk",
        MAX_TOKENS_FILE_BYTES / 1024
    )]
    TooLarge { file: PathBuf },
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
    /// Reads and parses the tokens file at `path`, refusing it when other users may read or
    /// change it.
    pub fn load(path: &Path) -> Result<TokenTable, TokenFileError> {
        use std::io::Read;
        let read_error = |source| TokenFileError::Read {
            file: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(read_error)?;
        if others_may_access(path) == Some(true) {
            return Err(TokenFileError::Exposed {
                file: path.to_path_buf(),
            });
        }
        let mut text = String::new();
        file.take(MAX_TOKENS_FILE_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(read_error)?;
        if u64::try_from(text.len()).unwrap_or(u64::MAX) > MAX_TOKENS_FILE_BYTES {
            return Err(TokenFileError::TooLarge {
                file: path.to_path_buf(),
            });
        }
        TokenTable::parse(&text, path)
    }

    /// Parses the text of a tokens file; `file_name` is only used in error messages. A message
    /// about a line names the file and the line but quotes nothing from it: a malformed line
    /// may have its token where the kiosk id belongs.
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
                    "the first field is not a kiosk id: use the kiosk's `kiosk.id` (lowercase letters, digits and hyphens, at most {MAX_KIOSK_ID_CHARS} characters, e.g. wanjia-01) or `*` for office staff"
                )));
            };
            if token.chars().count() < MIN_TOKEN_CHARS {
                return Err(bad(format!(
                    "the token is too short: use at least {MIN_TOKEN_CHARS} random characters (e.g. from `openssl rand -hex 24`)"
                )));
            }
            if !token.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(bad(
                    "the token must be printable ASCII (it travels in an HTTP header)".into(),
                ));
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
    (1..=MAX_KIOSK_ID_CHARS).contains(&id.len())
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
                "tokens.txt:1: the first field is not a kiosk id",
            ),
            (
                "\n\nwanjia-01 short\n",
                "tokens.txt:3: the token is too short",
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
