//! The one error a config can give: `file:line: key `…`: problem`, which the command line
//! turns into exit code 2.

use std::fmt;

use thiserror::Error;

/// A config that cannot be used. Displayed as `file:line: key: problem`.
#[derive(Debug, Error, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    /// 1-based; absent when the file could not be read at all.
    pub line: Option<usize>,
    /// The dotted key, e.g. `printer.baud` or `category[3].code`.
    pub key: Option<String>,
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": key `{key}`")?;
        }
        write!(f, ": {}", self.problem)
    }
}

/// `text` safe to show in a message: every control or format character written as its code
/// point, so that a value quoted back to the maintainer cannot drive their terminal.
pub(super) fn visible(text: &str) -> String {
    let mut shown = String::with_capacity(text.len());
    for c in text.chars() {
        if crate::concern::is_hidden_char(c) {
            shown.push_str(&format!("<U+{:04X}>", u32::from(c)));
        } else {
            shown.push(c);
        }
    }
    shown
}
