//! Text made ready for the speech engine: what it would misread, said in words. espeak-ng
//! reads "A1126-001" as a number in the thousands and "2026-12-08" as three numbers, so ticket
//! numbers, codes and phone digits are spoken one digit at a time, dates as 十二月八日 or
//! "8 December", times as 九点三十分, and the hyphen inside a number as 杠 / "dash".

use chrono::{Datelike, NaiveDate};

use crate::concern::Lang;

/// Digits and letters one at a time: a ticket number, a check code, a phone number. A hyphen
/// between them is said; spaces and other separators become pauses.
pub fn one_by_one(code: &str, lang: Lang) -> String {
    let mut words: Vec<String> = Vec::new();
    for c in code.chars() {
        match c {
            '0'..='9' => words.push(digit(c, lang).to_string()),
            '-' => words.push(dash(lang).to_string()),
            c if c.is_alphanumeric() => words.push(c.to_uppercase().to_string()),
            _ => {}
        }
    }
    match lang {
        // Chinese digits are characters, read one by one anyway: together they flow as people
        // read a number out; a space only around the letters and the dash.
        Lang::ZhCn => {
            let is_zh_digit = |c: char| ZH_DIGITS.iter().any(|d| d.starts_with(c));
            let mut said = String::new();
            for word in words {
                let flows_on = word.chars().all(is_zh_digit) && said.ends_with(is_zh_digit);
                if !(said.is_empty() || flows_on) {
                    said.push(' ');
                }
                said.push_str(&word);
            }
            said
        }
        // English digits are words: spaces keep espeak-ng from reading a run as one number.
        Lang::En => words.join(" "),
    }
}

/// The digits as Chinese characters, 0 to 9.
const ZH_DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];

fn digit(c: char, lang: Lang) -> &'static str {
    const EN: [&str; 10] = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    ];
    let index = c
        .to_digit(10)
        .and_then(|d| usize::try_from(d).ok())
        .unwrap_or(0);
    match lang {
        Lang::ZhCn => ZH_DIGITS[index],
        Lang::En => EN[index],
    }
}

fn dash(lang: Lang) -> &'static str {
    match lang {
        Lang::ZhCn => "杠",
        Lang::En => "dash",
    }
}

/// A number from 0 to 99 in Chinese numerals, as months, days and minutes are said: 八, 十二,
/// 二十六.
fn zh_number(n: u32) -> String {
    let units = |d: u32| digit(char::from_digit(d % 10, 10).unwrap_or('0'), Lang::ZhCn);
    match n {
        0..=9 => units(n).to_string(),
        10 => "十".to_string(),
        11..=19 => format!("十{}", units(n % 10)),
        20..=99 if n % 10 == 0 => format!("{}十", units(n / 10)),
        20..=99 => format!("{}十{}", units(n / 10), units(n % 10)),
        _ => n.to_string(),
    }
}

/// A date as it is said: 十二月八日, "8 December"; with the year (二零二六年十二月八日,
/// "8 December 2026") when `with_year`.
pub fn date(date: NaiveDate, with_year: bool, lang: Lang) -> String {
    match lang {
        Lang::ZhCn => {
            let year = if with_year {
                format!(
                    "{}年",
                    one_by_one(&date.year().to_string(), lang).replace(' ', "")
                )
            } else {
                String::new()
            };
            format!(
                "{year}{}月{}日",
                zh_number(date.month()),
                zh_number(date.day())
            )
        }
        Lang::En if with_year => date.format("%-d %B %Y").to_string(),
        Lang::En => date.format("%-d %B").to_string(),
    }
}

/// A clock time as it is said: 九点三十分, 九点整; "9:30" is read well in English.
pub fn time(hour: u32, minute: u32, lang: Lang) -> String {
    match (lang, minute) {
        (Lang::ZhCn, 0) => format!("{}点整", zh_number(hour)),
        (Lang::ZhCn, _) => format!("{}点{}分", zh_number(hour), zh_number(minute)),
        (Lang::En, _) => format!("{hour}:{minute:02}"),
    }
}

/// A config text (a category, a phrase, a place) ready to speak: runs of five or more digits,
/// or with a leading zero, are read one by one (a phone number in a hotline, a house number
/// such as 0501); a hyphen between digits is said. Short numbers (3幢, 30天) are left to the
/// engine, which reads them as numbers, as people do.
pub fn config_text(text: &str, lang: Lang) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() * 2);
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || is_digit_hyphen(&chars, i)) {
                i += 1;
            }
            let run: String = chars[start..i].iter().collect();
            let digits = run.chars().filter(char::is_ascii_digit).count();
            if digits >= 5 || run.starts_with('0') || run.contains('-') {
                if !out.is_empty() && !out.ends_with(' ') {
                    out.push(' ');
                }
                out.push_str(&one_by_one(&run, lang));
                out.push(' ');
            } else {
                out.push_str(&run);
            }
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out.trim().to_string()
}

/// `text` split into the voices that read it: all of it in the Chinese voice on a Chinese
/// screen; on an English screen, the runs of Chinese characters (an office's reply, a
/// community's name) in the Chinese voice and the rest in the English one, which would
/// otherwise read each character as "Chinese letter". Digits and punctuation go with the run
/// they are in.
pub fn voices(text: &str, lang: Lang) -> Vec<(String, Lang)> {
    if lang == Lang::ZhCn {
        return vec![(text.to_string(), lang)];
    }
    let mut parts: Vec<(String, Lang)> = Vec::new();
    for c in text.chars() {
        let voice = if is_han(c) {
            Some(Lang::ZhCn)
        } else if c.is_alphabetic() {
            Some(Lang::En)
        } else {
            None
        };
        match (voice, parts.last_mut()) {
            (None, Some(last)) => last.0.push(c),
            (Some(voice), Some(last)) if last.1 == voice => last.0.push(c),
            (voice, _) => parts.push((c.to_string(), voice.unwrap_or(lang))),
        }
    }
    parts
}

/// A Chinese character (the CJK ideograph blocks a reply or a name uses).
fn is_han(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}')
}

/// A hyphen with a digit on each side, as in 0571-0000.
fn is_digit_hyphen(chars: &[char], i: usize) -> bool {
    chars[i] == '-'
        && i > 0
        && chars[i - 1].is_ascii_digit()
        && chars.get(i + 1).is_some_and(char::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_number_is_said_one_character_at_a_time_with_its_dash() {
        assert_eq!(one_by_one("A1126-001", Lang::ZhCn), "A 一一二六 杠 零零一");
        assert_eq!(
            one_by_one("A1126-001", Lang::En),
            "A one one two six dash zero zero one"
        );
        assert_eq!(one_by_one("4821", Lang::ZhCn), "四八二一");
    }

    #[test]
    fn dates_and_times_are_said_in_words() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 8).unwrap();
        assert_eq!(date(day, false, Lang::ZhCn), "十二月八日");
        assert_eq!(date(day, true, Lang::ZhCn), "二零二六年十二月八日");
        assert_eq!(date(day, false, Lang::En), "8 December");
        let day = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        assert_eq!(date(day, false, Lang::ZhCn), "十一月二十六日");
        assert_eq!(time(9, 30, Lang::ZhCn), "九点三十分");
        assert_eq!(time(17, 0, Lang::ZhCn), "十七点整");
        assert_eq!(time(9, 5, Lang::En), "9:05");
    }

    #[test]
    fn an_english_screen_reads_chinese_in_the_chinese_voice() {
        assert_eq!(
            voices("The office says: 电梯修好了。Thank you", Lang::En),
            [
                ("The office says: ".to_string(), Lang::En),
                ("电梯修好了。".to_string(), Lang::ZhCn),
                ("Thank you".to_string(), Lang::En),
            ]
        );
        assert_eq!(
            voices("请取走回执 A", Lang::ZhCn),
            [("请取走回执 A".to_string(), Lang::ZhCn)]
        );
        assert_eq!(voices("", Lang::En), []);
    }

    #[test]
    fn long_numbers_in_config_text_are_read_digit_by_digit_and_short_ones_left_alone() {
        assert_eq!(config_text("3幢2单元", Lang::ZhCn), "3幢2单元");
        assert_eq!(
            config_text("咨询电话 0571-8888", Lang::ZhCn),
            "咨询电话 零五七一 杠 八八八八"
        );
        assert_eq!(
            config_text("call 12345 now", Lang::En),
            "call one two three four five  now"
        );
    }
}
