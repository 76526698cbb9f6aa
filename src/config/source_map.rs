//! Where each key of the config text is: the dotted names (`printer.baud`,
//! `category[3].phrases[2].en`) and the spans the `toml` parser records for every key and
//! value, so that any error — the parser's, serde's or validation's — can name its line and key.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::ConfigError;
use super::error::visible;

/// One key (or array entry) of the document: its dotted name and where it is written.
#[derive(Debug)]
struct Entry {
    path: String,
    /// From the key (or a table's `[header]`) to the end of its value, as written.
    extent: Range<usize>,
}

/// The config text with the position of every key in it.
pub(super) struct SourceMap<'a> {
    text: &'a str,
    file: &'a str,
    entries: Vec<Entry>,
}

impl<'a> SourceMap<'a> {
    /// The map of `document`, parsed from `text`; `file` names the text in errors.
    pub(super) fn new(text: &'a str, file: &'a str, document: &Spanned<DeTable<'_>>) -> Self {
        let mut entries = Vec::new();
        add_table(&mut entries, "", document.get_ref());
        SourceMap {
            text,
            file,
            entries,
        }
    }

    /// The 1-based line that holds byte `offset`.
    pub(super) fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    /// An error of the parser or of serde, at the key its span falls in.
    pub(super) fn toml_error(&self, error: &toml::de::Error) -> ConfigError {
        let (line, key) = match error.span() {
            Some(span) => (Some(self.line_of(span.start)), self.key_at(span.start)),
            None => (None, None),
        };
        ConfigError {
            file: self.file.to_string(),
            line,
            key,
            problem: visible(error.message().trim()),
        }
    }

    /// An error about the key named `path`, on the line where it is written; a key left out
    /// (its default is what is wrong) is shown at the nearest enclosing table that is written.
    pub(super) fn key_error(&self, path: &str, problem: impl Into<String>) -> ConfigError {
        let line = enclosing_paths(path)
            .find_map(|p| self.entries.iter().find(|e| e.path == p))
            .map(|e| self.line_of(e.extent.start));
        ConfigError {
            file: self.file.to_string(),
            line,
            key: Some(path.to_string()),
            problem: problem.into(),
        }
    }

    /// The innermost key whose text holds `offset`; else, for an error just past a value (a
    /// syntax error after it), the last key before it on the same line.
    fn key_at(&self, offset: usize) -> Option<String> {
        let holding = self
            .entries
            .iter()
            .filter(|e| e.extent.contains(&offset) || e.extent.start == offset)
            .max_by_key(|e| (e.extent.start, e.path.len()));
        let entry = holding.or_else(|| {
            let line = self.line_of(offset);
            self.entries
                .iter()
                .filter(|e| e.extent.start <= offset && self.line_of(e.extent.start) == line)
                .max_by_key(|e| (e.extent.start, e.path.len()))
        })?;
        Some(entry.path.clone())
    }
}

/// `a.b[2].c`, then `a.b[2]`, `a.b`, `a`: the key and the tables around it.
fn enclosing_paths(path: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(Some(path), |p| p.rfind(['.', '[']).map(|cut| &p[..cut]))
}

fn add_table(entries: &mut Vec<Entry>, prefix: &str, table: &DeTable<'_>) {
    for (key, value) in table.iter() {
        let path = join(prefix, key.get_ref());
        let (key_span, value_span) = (key.span(), value.span());
        entries.push(Entry {
            path: path.clone(),
            extent: key_span.start.min(value_span.start)..key_span.end.max(value_span.end),
        });
        add_value(entries, &path, value.get_ref());
    }
}

fn add_value(entries: &mut Vec<Entry>, path: &str, value: &DeValue<'_>) {
    match value {
        DeValue::Table(table) => add_table(entries, path, table),
        DeValue::Array(array) => {
            // 1-based, as a maintainer counts the `[[category]]` entries in the file.
            for (index, item) in array.iter().enumerate() {
                let item_path = format!("{path}[{}]", index + 1);
                entries.push(Entry {
                    path: item_path.clone(),
                    extent: item.span(),
                });
                add_value(entries, &item_path, item.get_ref());
            }
        }
        _ => {}
    }
}

/// `prefix.key`, with the key quoted when it is not a bare TOML key (so that an empty or
/// dotted key still reads as one key).
fn join(prefix: &str, key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let key = if bare {
        key.to_string()
    } else {
        format!("{key:?}")
    };
    if prefix.is_empty() {
        key
    } else {
        format!("{prefix}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map_of(text: &str) -> SourceMap<'_> {
        let (document, _) = DeTable::parse_recoverable(text);
        SourceMap::new(text, "kiosk.toml", &document)
    }

    #[test]
    fn keys_are_named_with_their_tables_and_1_based_array_entries() {
        let text = "[kiosk]\nid = \"x\"\n\n[[category]]\ncode = \"a\"\n\n[[category]]\n\
                    phrases = [ { zh = \"一\", en = \"one\" },\n  { zh = \"二\", en = 2 } ]\n";
        let map = map_of(text);
        let at = |needle: &str| map.key_at(text.find(needle).unwrap());
        assert_eq!(at("\"x\"").as_deref(), Some("kiosk.id"));
        assert_eq!(at("code").as_deref(), Some("category[1].code"));
        assert_eq!(at("2 }").as_deref(), Some("category[2].phrases[2].en"));
        assert_eq!(
            map.key_error("category[2].phrases[2].en", "no").line,
            Some(9)
        );
    }

    #[test]
    fn a_key_left_out_is_shown_at_its_table_or_nowhere() {
        let text = "# comment\n[triage]\ngreen = { days = 7 }\n";
        let map = map_of(text);
        assert_eq!(map.key_error("triage.orange.days", "x").line, Some(2));
        assert_eq!(map.key_error("retention.days_after_upload", "x").line, None);
    }

    #[test]
    fn a_key_that_is_not_bare_is_quoted() {
        let text = "\"\" = 1\n\"a.b\" = 2\n";
        let map = map_of(text);
        assert_eq!(map.key_at(0).as_deref(), Some("\"\""));
        assert_eq!(
            map.key_at(text.find('2').unwrap()).as_deref(),
            Some("\"a.b\"")
        );
    }
}
