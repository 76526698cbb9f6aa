//! Store-and-forward upload to the community office: assembling batches in the contract's
//! format (`protocol::wire`), pulling the office's case changes back, the HTTP client, the
//! retry policy, the schedule, and how long the uploader may stay silent before the watchdog
//! counts it as stuck.

pub mod backoff;
pub mod batch;
pub mod office_client;
pub mod schedule;
pub mod updates;
pub mod uploader;

use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::config::{Config, UploadSection};
use crate::health::SILENCE_MARGIN;
use crate::store::Store;
use office_client::{HttpOffice, SetupError};
use uploader::Uploader;

/// The office client the config describes.
pub fn office_from_config(config: &Config) -> Result<HttpOffice, SetupError> {
    let upload = &config.upload;
    HttpOffice::new(
        &upload.endpoint,
        &upload.token_file,
        upload.ca_file.as_deref(),
        Duration::from_secs(u64::from(upload.request_timeout_seconds)),
    )
}

/// How long the uploader may go without reporting in before the kiosk counts as stuck: longer
/// than its longest single wait, one request up to its timeout.
pub fn silence_limit(upload: &UploadSection) -> Duration {
    Duration::from_secs(u64::from(upload.request_timeout_seconds)) + SILENCE_MARGIN
}

/// An uploader over `store` for the office the config describes.
pub fn uploader_from_config(
    config: &Config,
    store: Store,
    clock: Arc<dyn Clock>,
) -> Result<Uploader<HttpOffice>, SetupError> {
    Ok(Uploader::new(
        store,
        office_from_config(config)?,
        clock,
        &config.kiosk.id,
        config.upload.max_batch,
        config.retention.days_after_upload,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_silence_limit_covers_one_request() {
        let mut config = Config::demo().unwrap();
        config.upload.request_timeout_seconds = 60;
        // The request timeout + margin.
        assert_eq!(silence_limit(&config.upload), Duration::from_secs(75));
    }
}
