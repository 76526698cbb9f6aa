//! Breaking a paragraph into lines of at most N printer columns: between English words, between
//! any two Chinese characters, never before closing punctuation or after opening punctuation.
//!
//! The encoders wrap themselves instead of letting the printer do it, because a printer breaks
//! wherever its buffer is full: in the middle of a word, or of a date.

use super::printable::{columns, text_columns};

/// Punctuation that must not begin a line (Chinese typesetting's 避头 rule).
const NO_LINE_START: &str = "，。、；：？！）》」』】〉”’…％～";
/// Punctuation that must not end a line.
const NO_LINE_END: &str = "（《「『【〈“‘";

/// One unbreakable piece of a paragraph.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// One space; runs of spaces are kept inside a line and dropped at a break.
    Space,
    /// A run of ASCII without spaces: an English word, a number, a date.
    Word(String),
    /// One non-ASCII character: lines may break on either side of it.
    Wide(char),
}

impl Piece {
    fn columns(&self) -> usize {
        match self {
            Piece::Space => 1,
            Piece::Word(word) => word.len(),
            Piece::Wide(c) => columns(*c),
        }
    }

    fn push_to(&self, line: &mut String) {
        match self {
            Piece::Space => line.push(' '),
            Piece::Word(word) => line.push_str(word),
            Piece::Wide(c) => line.push(*c),
        }
    }
}

fn may_not_start(piece: &Piece) -> bool {
    matches!(piece, Piece::Wide(c) if NO_LINE_START.contains(*c))
}

fn may_not_end(piece: &Piece) -> bool {
    matches!(piece, Piece::Wide(c) if NO_LINE_END.contains(*c))
}

fn pieces(text: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if c == ' ' || !c.is_ascii() {
            if !word.is_empty() {
                pieces.push(Piece::Word(std::mem::take(&mut word)));
            }
            pieces.push(if c == ' ' {
                Piece::Space
            } else {
                Piece::Wide(c)
            });
        } else {
            word.push(c);
        }
    }
    if !word.is_empty() {
        pieces.push(Piece::Word(word));
    }
    pieces
}

/// The lines being filled.
struct Lines {
    max_columns: usize,
    done: Vec<String>,
    current: Vec<Piece>,
    used: usize,
}

impl Lines {
    fn fits(&self, piece: &Piece) -> bool {
        self.used + piece.columns() <= self.max_columns
    }

    fn push(&mut self, piece: Piece) {
        if piece == Piece::Space && self.current.is_empty() {
            return;
        }
        self.used += piece.columns();
        self.current.push(piece);
    }

    /// Ends the current line. Pieces that the typesetting rules say belong on the next line
    /// are returned so the caller can start the next line with them.
    fn break_before(&mut self, next: &Piece) -> Vec<Piece> {
        while self.current.last() == Some(&Piece::Space) {
            self.current.pop();
        }
        let mut carried: Vec<Piece> = Vec::new();
        // Runs count: before "），" both marks must not start a line, so both move.
        while self.current.len() >= 2 && may_not_start(carried.first().unwrap_or(next)) {
            carried.extend(self.current.pop());
            carried.rotate_right(1);
        }
        while self.current.len() >= 2 && self.current.last().is_some_and(may_not_end) {
            carried.extend(self.current.pop());
            carried.rotate_right(1);
        }
        self.finish_line();
        carried
    }

    fn finish_line(&mut self) {
        while self.current.last() == Some(&Piece::Space) {
            self.current.pop();
        }
        let mut line = String::new();
        for piece in self.current.drain(..) {
            piece.push_to(&mut line);
        }
        self.done.push(line);
        self.used = 0;
    }

    fn place(&mut self, piece: Piece) {
        if self.fits(&piece) {
            self.push(piece);
            return;
        }
        if piece == Piece::Space {
            // The line is full: the next piece breaks it, and a break drops spaces.
            return;
        }
        if let Piece::Word(word) = &piece
            && word.len() > self.max_columns
        {
            // Longer than a whole line (a long URL): break it where the paper ends.
            for c in word.chars() {
                if self.used + 1 > self.max_columns {
                    self.finish_line();
                }
                self.push(Piece::Word(c.to_string()));
            }
            return;
        }
        for carried in self.break_before(&piece) {
            self.push(carried);
        }
        if !self.fits(&piece) && !self.current.is_empty() {
            self.finish_line();
        }
        self.push(piece);
    }
}

/// `text` as lines of at most `max_columns` columns (a Chinese character takes two). An empty
/// text is one empty line. A single character wider than the line is put on a line of its own.
pub fn wrap(text: &str, max_columns: usize) -> Vec<String> {
    let mut lines = Lines {
        max_columns: max_columns.max(1),
        done: Vec::new(),
        current: Vec::new(),
        used: 0,
    };
    for piece in pieces(text) {
        lines.place(piece);
    }
    if !lines.current.is_empty() || lines.done.is_empty() {
        lines.finish_line();
    }
    debug_assert!(
        lines
            .done
            .iter()
            .all(|l| text_columns(l) <= max_columns.max(2))
    );
    lines.done
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 58 mm paper: 384 dots of 12-dot columns.
    const COLUMNS_58MM: usize = 32;
    /// 80 mm paper: 576 dots.
    const COLUMNS_80MM: usize = 48;

    #[test]
    fn chinese_wraps_at_sixteen_characters_on_58mm_and_twenty_four_on_80mm() {
        let text = "三号楼电梯门关不上已经三天了老人上下楼很不方便请尽快派人来修理谢谢";
        let narrow = wrap(text, COLUMNS_58MM);
        assert_eq!(
            narrow,
            [
                "三号楼电梯门关不上已经三天了老人",
                "上下楼很不方便请尽快派人来修理谢",
                "谢"
            ]
        );
        let wide = wrap(text, COLUMNS_80MM);
        assert_eq!(
            wide,
            [
                "三号楼电梯门关不上已经三天了老人上下楼很不方便请",
                "尽快派人来修理谢谢"
            ]
        );
    }

    #[test]
    fn closing_punctuation_never_starts_a_line() {
        // Fifteen characters then a comma at column 31-32 would fit; sixteen then a comma
        // would put the comma first on the next line, so the sixteenth character moves down.
        let text = "一二三四五六七八九十一二三四五六，好";
        let lines = wrap(text, COLUMNS_58MM);
        assert_eq!(lines, ["一二三四五六七八九十一二三四五", "六，好"]);
    }

    #[test]
    fn a_run_of_closing_punctuation_moves_down_with_the_character_before_it() {
        // "）" fits at columns 47-48, "，" would start the next line: "有）" move down with it.
        let text = "隐私：我们只保存您反映的事情和您留的电话（如有），用于答复";
        let lines = wrap(text, COLUMNS_80MM);
        assert_eq!(
            lines,
            [
                "隐私：我们只保存您反映的事情和您留的电话（如",
                "有），用于答复"
            ]
        );
    }

    #[test]
    fn opening_punctuation_never_ends_a_line() {
        let text = "一二三四五六七八九十一二三四五（六）";
        let lines = wrap(text, COLUMNS_58MM);
        assert_eq!(lines, ["一二三四五六七八九十一二三四五", "（六）"]);
    }

    #[test]
    fn english_wraps_between_words_and_a_date_is_never_split() {
        let text = "Orange: answer within 30 days — by 2026-12-26";
        let lines = wrap(text, COLUMNS_58MM);
        assert_eq!(lines, ["Orange: answer within 30 days —", "by 2026-12-26"]);
        assert!(lines.iter().all(|l| text_columns(l) <= COLUMNS_58MM));
    }

    #[test]
    fn mixed_text_breaks_between_a_number_and_a_character() {
        let lines = wrap("地点：3幢2单元东侧的自行车棚旁边的绿化带", COLUMNS_58MM);
        assert_eq!(lines, ["地点：3幢2单元东侧的自行车棚旁边", "的绿化带"]);
    }

    #[test]
    fn a_word_longer_than_the_line_is_cut_where_the_paper_ends() {
        let url = "https://office.example.org/t/A1126-001";
        let lines = wrap(url, COLUMNS_58MM);
        assert_eq!(lines, ["https://office.example.org/t/A11", "26-001"]);
    }

    #[test]
    fn size_multipliers_shrink_the_line() {
        // Double width on 58 mm paper: 16 columns, eight Chinese characters.
        let lines = wrap("万家星城社区意见反映", COLUMNS_58MM / 2);
        assert_eq!(lines, ["万家星城社区意见", "反映"]);
    }

    #[test]
    fn spaces_inside_a_line_are_kept_and_dropped_at_a_break() {
        assert_eq!(wrap("0571-0000 0000", COLUMNS_58MM), ["0571-0000 0000"]);
        assert_eq!(wrap("aaaa bbbb", 4), ["aaaa", "bbbb"]);
        assert_eq!(wrap("", COLUMNS_58MM), [""]);
        assert_eq!(wrap("   ", COLUMNS_58MM), [""]);
    }
}
