//! HTTPS to an office with its own certificate authority: the kiosk trusts it only through
//! `upload.ca_file`. The office sits behind a real TLS endpoint on 127.0.0.1 (rustls), as it
//! would behind the office's reverse proxy (tests/support/tls_front.rs).

mod support;

use std::sync::Arc;

use concern_kiosk::clock::{Clock, SystemClock};
use concern_kiosk::concern::{Draft, Lang};
use concern_kiosk::store::Store;
use concern_kiosk::upload::uploader::{BatchOutcome, RoundMode};
use concern_kiosk::upload::uploader_from_config;
use support::TestKiosk;
use support::office::{KIOSK_TOKEN, TestOffice};
use support::tls_front::{Identity, tls_front};

fn kiosk_with_one_concern(endpoint: &str) -> TestKiosk {
    let kiosk = TestKiosk::new();
    kiosk.upload_to(endpoint, KIOSK_TOKEN);
    let config = kiosk.load_config();
    let (mut store, _) = Store::open(&config.kiosk.data_dir, SystemClock.now()).unwrap();
    let draft = Draft::preset("repairs", "1", Lang::ZhCn);
    store
        .file_concern(draft.validate(&config, SystemClock.now()).unwrap(), "A")
        .unwrap();
    kiosk
}

#[test]
fn the_office_ca_file_is_what_makes_its_certificate_trusted() {
    let office = TestOffice::start();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (identity, ca_pem) = Identity::self_signed("localhost");
    let port = tls_front(&runtime, office.addr, identity, 0);
    let endpoint = format!("https://localhost:{port}");

    // Without the office's CA the kiosk refuses the connection and keeps the concern.
    let untrusting = kiosk_with_one_concern(&endpoint);
    let config = untrusting.load_config();
    let (store, _) = Store::open(&config.kiosk.data_dir, SystemClock.now()).unwrap();
    let mut uploader = uploader_from_config(&config, store, Arc::new(SystemClock)).unwrap();
    let report = runtime.block_on(uploader.round(RoundMode::Now)).unwrap();
    assert!(
        matches!(report.batches[0], BatchOutcome::WillRetry { .. }),
        "{report:#?}"
    );
    assert_eq!(report.status.pending_concerns, 1);
    assert_eq!(office.concern_counts().0, 0);

    // Naming the CA in upload.ca_file: the batch goes through TLS to the office.
    let trusting = kiosk_with_one_concern(&endpoint);
    let ca_file = trusting.dir.path().join("office-ca.pem");
    std::fs::write(&ca_file, ca_pem).unwrap();
    let text = std::fs::read_to_string(&trusting.config).unwrap();
    std::fs::write(
        &trusting.config,
        text.replacen(
            "# ca_file     = \"/etc/concern-kiosk/office-ca.pem\"",
            &format!("ca_file = {:?}", ca_file.display().to_string()),
            1,
        ),
    )
    .unwrap();
    let config = trusting.load_config();
    assert_eq!(config.upload.ca_file.as_deref(), Some(ca_file.as_path()));
    let (store, _) = Store::open(&config.kiosk.data_dir, SystemClock.now()).unwrap();
    let mut uploader = uploader_from_config(&config, store, Arc::new(SystemClock)).unwrap();
    let report = runtime.block_on(uploader.round(RoundMode::Now)).unwrap();
    assert!(
        matches!(
            report.batches[0],
            BatchOutcome::Delivered {
                acknowledged: 1,
                ..
            }
        ),
        "{report:#?}"
    );
    assert_eq!(office.concern_counts().0, 1);
}
