//! What the kiosk prints about concerns, composed as `paper` documents: the resident's receipt
//! (with its promise line and masked phone), the status slip of "Check my concern", the printer
//! test page, the receipt wording in both languages, and the reference concern that samples,
//! goldens and config checks print.
//!
//! ```text
//! receipt(concern, config) ─► paper::Document ─► paper::encode / render_raster
//! ```

mod concern_receipt;
mod mask;
mod sample;
mod status_slip;
mod wording;

#[cfg(test)]
mod golden_tests;

pub use concern_receipt::{promise_line, receipt, test_page};
pub use mask::mask_phone;
pub use sample::{
    REFERENCE_CHECK_CODE, REFERENCE_FILED_AT, REFERENCE_ID, REFERENCE_TRACKING_CODE,
    reference_concern,
};
pub use status_slip::{CaseReport, status_slip, updated_line};
