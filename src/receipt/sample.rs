//! The reference concern: the fixed receipt the golden tests pin, the benchmark measures and
//! the README shows.

use chrono::{DateTime, FixedOffset};
use uuid::Uuid;

use crate::concern::{
    CheckCode, Concern, Draft, DraftError, Lang, ResidentCodes, TrackingCode, format_ticket,
};
use crate::config::Config;

/// When the reference concern was filed (kiosk local time, Hangzhou).
pub const REFERENCE_FILED_AT: &str = "2026-11-26T09:30:00+08:00";
/// Its id, fixed so that nothing in its receipt changes from run to run.
pub const REFERENCE_ID: Uuid = Uuid::from_u128(0x019a_bf2c_4d00_7000_8000_0000_0000_0001);
/// Its tracking code and check code, fixed for the same reason (a filed concern's are random).
pub const REFERENCE_TRACKING_CODE: &str = "7K3M9QXR2VWD4HJP";
pub const REFERENCE_CHECK_CODE: &str = "4821";

/// The first concern of 26 November 2026: a broken lift in building 3, unit 2, with a phone
/// number, in `lang`. Category `repairs` (orange), its first preset phrase and a short text.
pub fn reference_concern(config: &Config, lang: Lang) -> Result<Concern, DraftError> {
    let (text, location) = match lang {
        Lang::ZhCn => ("电梯门关不上，已经三天了，老人上下楼很不方便。", "3幢2单元"),
        Lang::En => (
            "The lift door will not close. It has been three days.",
            "Building 3, Unit 2",
        ),
    };
    let draft = Draft {
        category: "repairs".into(),
        phrases: vec!["1".into()],
        text: Some(text.into()),
        location: Some(location.into()),
        phone: Some("13812345678".into()),
        lang,
    };
    let filed_at: DateTime<FixedOffset> = DateTime::parse_from_rfc3339(REFERENCE_FILED_AT)
        .unwrap_or_else(|_| DateTime::UNIX_EPOCH.fixed_offset());
    let mut details = draft.validate(config, filed_at)?;
    details.id = REFERENCE_ID;
    details.codes = TrackingCode::parse(REFERENCE_TRACKING_CODE)
        .zip(CheckCode::parse(REFERENCE_CHECK_CODE))
        .map(|(tracking, check)| ResidentCodes { tracking, check });
    Ok(Concern {
        ticket: format_ticket(&config.kiosk.ticket_prefix, filed_at.date_naive(), 1),
        details,
    })
}
