//! Prints how the uploader copes with a backlog: the time to drain 10,000 pending concerns into a
//! local `concern-office`, and the kiosk's peak memory (RSS) while draining 1,000 versus 10,000
//! (it must not grow with the backlog: batches go one at a time). Run with
//! `cargo bench --bench upload`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::os::unix::process::ExitStatusExt;
use std::time::Instant;

use concern_kiosk::clock::local_now;
use concern_kiosk::concern::{Draft, Lang};
use concern_kiosk::store::Store;
use support::TestKiosk;
use support::office::{KIOSK_TOKEN, TestOffice};

fn main() -> anyhow::Result<()> {
    let office = TestOffice::start();
    println!(
        "draining a backlog into a local concern-office (batches of 100, gzip, HTTP on 127.0.0.1):"
    );
    for backlog in [1_000, 10_000] {
        let kiosk = TestKiosk::new();
        kiosk.upload_to(&office.url(), KIOSK_TOKEN);
        let config = kiosk.load_config();
        let (mut store, _) = Store::open(&config.kiosk.data_dir, local_now())?;
        for i in 0..backlog {
            let category = &config.categories[i % config.categories.len()];
            let draft = Draft {
                category: category.code.clone(),
                phrases: vec!["1".into(), "2".into()],
                text: Some("楼上每天晚上十点以后还在装修，老人孩子都睡不好".into()),
                location: Some(format!("{}幢{}单元", i % 30 + 1, i % 4 + 1)),
                phone: (i % 2 == 0).then(|| "13812345678".into()),
                lang: Lang::ZhCn,
            };
            store.file_concern(draft.validate(&config, local_now())?, "A")?;
        }
        drop(store);
        let child = kiosk
            .command(&["upload", "--once"])
            .stdout(std::process::Stdio::null())
            .spawn()?;
        let started = Instant::now();
        let (status, peak_rss_kib) = wait_with_peak_rss(child.id())?;
        let elapsed = started.elapsed();
        anyhow::ensure!(status.success(), "upload --once failed: {status:?}");
        println!(
            "  {backlog:>6} pending: drained in {:.2} s ({:.0} concerns/s), kiosk peak RSS {:.1} MB",
            elapsed.as_secs_f64(),
            backlog as f64 / elapsed.as_secs_f64(),
            peak_rss_kib as f64 / 1024.0
        );
    }
    Ok(())
}

/// Waits for the child and returns its exit status and its own peak RSS in KiB. `wait4` is the
/// one call that reports a single child's peak; std's `Child::wait` does not.
fn wait_with_peak_rss(pid: u32) -> anyhow::Result<(std::process::ExitStatus, i64)> {
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: nix::libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `status` and `usage` are valid for writes for the duration of the call, and `pid`
    // is our own child that nothing else waits for.
    let waited = unsafe { nix::libc::wait4(pid as i32, &mut status, 0, &mut usage) };
    anyhow::ensure!(
        waited == pid as i32,
        "wait4 failed: {}",
        std::io::Error::last_os_error()
    );
    Ok((std::process::ExitStatus::from_raw(status), usage.ru_maxrss))
}
