//! Store-and-forward upload to the community office: the wire format shared with the office,
//! batching, the HTTP client, the retry policy and the schedule.

pub mod backoff;
pub mod batch;
pub mod office_client;
pub mod schedule;
pub mod uploader;
pub mod wire;

use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::config::Config;
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
