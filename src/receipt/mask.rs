//! Masking a phone number for paper: a receipt left on the counter must not give away a
//! resident's number, but the resident must recognise it as theirs.

/// Digits kept at the end of every number: enough to recognise one's own number.
const KEEP_LAST_DIGITS: usize = 4;
/// Digits kept at the start of a mobile number: the carrier prefix, which says nothing about
/// the person.
const KEEP_MOBILE_PREFIX: usize = 3;

/// `13812345678` → `138****5678`; a landline keeps its area code and last four digits,
/// `0571-88886666` → `0571-****6666`. Anything else keeps only its last four digits.
pub fn mask_phone(phone: &str) -> String {
    if let Some((area, local)) = phone.split_once('-') {
        return format!("{area}-{}", keep_last(local));
    }
    let is_mobile = phone.len() == 11 && phone.bytes().all(|b| b.is_ascii_digit());
    if is_mobile {
        let (prefix, rest) = phone.split_at(KEEP_MOBILE_PREFIX);
        return format!("{prefix}{}", keep_last(rest));
    }
    keep_last(phone)
}

/// Every character but the last four digits as `*`; all of them when there are four or fewer.
fn keep_last(digits: &str) -> String {
    let count = digits.chars().count();
    if count <= KEEP_LAST_DIGITS {
        return "*".repeat(count.max(KEEP_LAST_DIGITS));
    }
    let hidden = count - KEEP_LAST_DIGITS;
    let kept: String = digits.chars().skip(hidden).collect();
    format!("{}{kept}", "*".repeat(hidden))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mobile_keeps_its_prefix_and_last_four_digits() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
    }

    #[test]
    fn a_landline_keeps_its_area_code_and_last_four_digits() {
        assert_eq!(mask_phone("0571-88886666"), "0571-****6666");
        assert_eq!(mask_phone("021-1234567"), "021-***4567");
        assert_eq!(mask_phone("010-66668888"), "010-****8888");
    }

    #[test]
    fn anything_else_shows_at_most_its_last_four_digits() {
        assert_eq!(mask_phone("88886666"), "****6666");
        assert_eq!(mask_phone("123"), "****");
        assert_eq!(mask_phone(""), "****");
    }
}
