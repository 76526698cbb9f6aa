//! Pinyin typed on the on-screen keyboard turned into characters: the letters typed so far,
//! the words they may mean (whole phrases first, then the first word, then a single
//! character), and what stays typed after one is chosen. Offline, from inputx-pinyin's
//! built-in dictionary.

use inputx_pinyin::PinyinEngine;

/// The most letters kept typed: the dictionary composes phrases of up to 30 letters, and a
/// longer run without choosing is a finger resting on the keys.
pub const MAX_PINYIN_LETTERS: usize = 30;
/// Whole-buffer compositions asked of the dictionary: beyond three they are word salad.
const COMPOSITIONS: usize = 3;

/// A word the typed letters may mean, and how many of the letters it uses up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinyinCandidate {
    pub text: String,
    consumes: usize,
}

/// The keyboard's letters typed and not yet turned into characters. Nothing a resident
/// chooses is remembered for the next one: the candidates' order is the dictionary's alone.
pub struct Pinyin {
    engine: PinyinEngine,
    typed: String,
}

impl Default for Pinyin {
    fn default() -> Self {
        Pinyin {
            engine: PinyinEngine::new(),
            typed: String::new(),
        }
    }
}

impl Pinyin {
    pub fn typed(&self) -> &str {
        &self.typed
    }

    /// Adds a letter; false (and nothing typed) for anything but a–z or past the limit.
    pub fn type_letter(&mut self, letter: char) -> bool {
        if !letter.is_ascii_alphabetic() || self.typed.len() >= MAX_PINYIN_LETTERS {
            return false;
        }
        self.typed.push(letter.to_ascii_lowercase());
        true
    }

    /// Removes the last letter; false when none was typed.
    pub fn delete_letter(&mut self) -> bool {
        self.typed.pop().is_some()
    }

    pub fn clear(&mut self) {
        self.typed.clear();
    }

    /// Up to `max` words for the letters typed, the likeliest first: the whole input as one
    /// word, as a phrase of several words, then its longest leading word, then the first
    /// syllable's characters, so any text can be built a word at a time. An unfinished
    /// syllable ("lo") offers the commonest characters it begins.
    pub fn candidates(&self, max: usize) -> Vec<PinyinCandidate> {
        let mut found = Vec::new();
        let typed = self.typed.as_str();
        if typed.is_empty() || max == 0 {
            return found;
        }
        let dict = self.engine.dict();
        let whole = typed.len();
        let offer = |text: String, consumes: usize, found: &mut Vec<PinyinCandidate>| {
            if found.len() < max && !found.iter().any(|c| c.text == text) {
                found.push(PinyinCandidate { text, consumes });
            }
        };
        for word in dict.lookup(typed) {
            offer(word, whole, &mut found);
        }
        for (_, phrase) in dict.top_k_compositions(typed, COMPOSITIONS) {
            offer(phrase, whole, &mut found);
        }
        // The leading word: the longest start of the input that is a word; the first
        // syllable: the shortest.
        let word_at = |end: usize| {
            let words = dict.lookup(typed.get(..end)?);
            (!words.is_empty()).then_some((end, words))
        };
        if let Some((end, words)) = (1..whole).rev().find_map(word_at) {
            for word in words {
                offer(word, end, &mut found);
            }
        }
        if let Some((end, words)) = (1..whole).find_map(word_at) {
            for word in words.into_iter().filter(|w| w.chars().count() == 1) {
                offer(word, end, &mut found);
            }
        }
        if found.is_empty() {
            let mut started = dict.prefix_with_freq(typed);
            started.retain(|(_, word, _)| word.chars().count() == 1);
            started.sort_by_key(|(_, _, frequency)| std::cmp::Reverse(*frequency));
            for (_, word, _) in started {
                offer(word, whole, &mut found);
            }
        }
        found
    }

    /// Takes `candidate` (one of `candidates()`): its letters are used up, the rest stay
    /// typed for the next word. Returns the text to add.
    pub fn choose(&mut self, candidate: &PinyinCandidate) -> String {
        let rest = self
            .typed
            .get(candidate.consumes..)
            .unwrap_or("")
            .to_string();
        self.typed = rest;
        candidate.text.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(letters: &str) -> Pinyin {
        let mut pinyin = Pinyin::default();
        for letter in letters.chars() {
            assert!(pinyin.type_letter(letter), "{letter}");
        }
        pinyin
    }

    fn texts(pinyin: &Pinyin) -> Vec<String> {
        pinyin.candidates(8).into_iter().map(|c| c.text).collect()
    }

    #[test]
    fn loudao_offers_the_stairwell_first() {
        assert_eq!(
            texts(&typed("loudao")).first().map(String::as_str),
            Some("楼道")
        );
    }

    #[test]
    fn a_phrase_never_in_the_dictionary_is_composed_of_its_words() {
        assert!(texts(&typed("shuiguanloushui")).contains(&"水管漏水".to_string()));
    }

    #[test]
    fn choosing_a_leading_word_leaves_the_rest_typed() {
        let mut pinyin = typed("loudaodeng");
        let candidates = pinyin.candidates(8);
        let stairwell = candidates
            .iter()
            .find(|c| c.text == "楼道")
            .expect("楼道 is offered for its own letters");
        assert_eq!(pinyin.choose(stairwell), "楼道");
        assert_eq!(pinyin.typed(), "deng");
        assert!(texts(&pinyin).contains(&"灯".to_string()));
    }

    #[test]
    fn an_unfinished_syllable_offers_the_characters_it_begins() {
        let offered = texts(&typed("lo"));
        assert!(offered.contains(&"楼".to_string()), "{offered:?}");
        assert!(offered.iter().all(|word| word.chars().count() == 1));
    }

    #[test]
    fn only_letters_are_typed_and_only_so_many() {
        let mut pinyin = Pinyin::default();
        assert!(!pinyin.type_letter('1'));
        assert!(!pinyin.type_letter('楼'));
        assert!(pinyin.type_letter('L'));
        assert_eq!(pinyin.typed(), "l");
        for _ in 0..MAX_PINYIN_LETTERS + 5 {
            pinyin.type_letter('a');
        }
        assert_eq!(pinyin.typed().len(), MAX_PINYIN_LETTERS);
        assert!(pinyin.candidates(8).len() <= 8);
        pinyin.clear();
        assert!(pinyin.candidates(8).is_empty());
        assert!(!pinyin.delete_letter());
    }
}
