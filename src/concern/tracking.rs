//! The codes that let a resident, and only that resident, read the office's answer: the
//! tracking code in the receipt's QR code (random, never derived from the sequential ticket
//! number) and the 4-digit check code printed beside the ticket for people without a phone.

use std::fmt;

use rand::RngExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Crockford's base32 alphabet: digits and capitals without I, L, O and U, so a code read
/// aloud or typed from paper cannot be misread.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// 16 characters of 5 bits: 80 random bits. Guessing one resident's code among a district's
/// million codes at a thousand tries a second takes longer than the age of the universe.
pub const TRACKING_CODE_CHARS: usize = 16;
/// Check codes are 0000–9999.
pub const CHECK_CODE_DIGITS: usize = 4;

/// The random code in the receipt's QR code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TrackingCode(String);

impl TrackingCode {
    pub fn random() -> TrackingCode {
        let mut rng = rand::rng();
        TrackingCode(
            (0..TRACKING_CODE_CHARS)
                .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
                .collect(),
        )
    }

    /// A code as printed, scanned or typed: any case; `None` unless it is exactly a code.
    pub fn parse(text: &str) -> Option<TrackingCode> {
        let upper = text.trim().to_ascii_uppercase();
        (upper.len() == TRACKING_CODE_CHARS && upper.bytes().all(|b| ALPHABET.contains(&b)))
            .then_some(TrackingCode(upper))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// SHA-256 of the code, hex: what the office tells other kiosks, so a kiosk can recognise
    /// a scanned code without holding the codes of every resident in the community.
    pub fn digest(&self) -> String {
        Sha256::digest(self.0.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

impl fmt::Display for TrackingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for TrackingCode {
    type Error = String;
    fn try_from(text: String) -> Result<TrackingCode, String> {
        TrackingCode::parse(&text)
            .ok_or_else(|| format!("a tracking code is {TRACKING_CODE_CHARS} letters and digits"))
    }
}

impl From<TrackingCode> for String {
    fn from(code: TrackingCode) -> String {
        code.0
    }
}

/// The 4-digit check code printed beside the ticket number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CheckCode(String);

impl CheckCode {
    pub fn random() -> CheckCode {
        CheckCode(format!("{:04}", rand::rng().random_range(0..10_000u32)))
    }

    pub fn parse(text: &str) -> Option<CheckCode> {
        let text = text.trim();
        (text.len() == CHECK_CODE_DIGITS && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| CheckCode(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CheckCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for CheckCode {
    type Error = String;
    fn try_from(text: String) -> Result<CheckCode, String> {
        CheckCode::parse(&text).ok_or_else(|| format!("a check code is {CHECK_CODE_DIGITS} digits"))
    }
}

impl From<CheckCode> for String {
    fn from(code: CheckCode) -> String {
        code.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_random_and_read_back_in_any_case() {
        let a = TrackingCode::random();
        assert_eq!(a.as_str().len(), TRACKING_CODE_CHARS);
        assert_ne!(a, TrackingCode::random());
        assert_eq!(
            TrackingCode::parse(&a.as_str().to_lowercase()),
            Some(a.clone())
        );
        assert_eq!(a.digest().len(), 64);
        for bad in [
            "",
            "A1201-001",
            "0123456789ABCDEFG",
            "0123456789ABCDEI",
            "0123456789ABCDE",
        ] {
            assert_eq!(TrackingCode::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn check_codes_are_four_digits() {
        assert_eq!(CheckCode::random().as_str().len(), 4);
        assert_eq!(
            CheckCode::parse(" 0042 ").map(String::from).as_deref(),
            Some("0042")
        );
        for bad in ["42", "12345", "12a4", "１２３４"] {
            assert_eq!(CheckCode::parse(bad), None, "{bad}");
        }
    }
}
