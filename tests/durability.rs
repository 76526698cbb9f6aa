//! A concern that was shown as filed survives anything: `submit` killed at random moments, and a
//! database file that went bad.

mod support;

use std::collections::HashMap;
use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use support::{TestKiosk, stderr, stdout};

/// How many times the child must really be killed mid-flight: twenty kills land in every phase
/// of filing (before, inside and after the commit) with room to spare; a few more cover kills
/// that miss because the child had already finished.
const KILLS_WANTED: usize = 24;

#[test]
fn submit_killed_at_random_moments_never_loses_or_repeats_a_ticket() {
    let kiosk = TestKiosk::new();
    let submit = [
        "submit",
        "--category",
        "repairs",
        "--phrase",
        "1",
        "--location",
        "5幢",
    ];
    // One undisturbed run measures how long a submit lives, so kills land all over its life.
    let started = Instant::now();
    let first = kiosk.run(&submit);
    let lifetime = started.elapsed();
    assert!(first.status.success(), "{}", stderr(&first));
    let mut printed = vec![stdout(&first).trim().to_string()];

    let mut random = support::Lcg(0x5eed_0fc0_ffee);
    let mut kills = 0;
    let mut attempts = 0;
    while kills < KILLS_WANTED {
        attempts += 1;
        assert!(
            attempts < 400,
            "could not kill a running submit {KILLS_WANTED} times"
        );
        let mut child = kiosk
            .command(&submit)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let delay = random.below(lifetime.as_micros() as u64 * 12 / 10);
        std::thread::sleep(Duration::from_micros(delay));
        if support::kill_if_running(&mut child) {
            kills += 1;
        }
        child.wait().unwrap();
        let mut out = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        printed.extend(out.lines().map(str::to_string));
    }

    let db = rusqlite::Connection::open(kiosk.db_path()).unwrap();
    let integrity: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    let mut statement = db
        .prepare(
            "SELECT c.ticket,
                    (SELECT count(*) FROM print_jobs p WHERE p.concern_id = c.id),
                    (SELECT count(*) FROM upload_outbox o WHERE o.concern_id = c.id)
             FROM concerns c",
        )
        .unwrap();
    let rows: Vec<(String, i64, i64)> = statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (ticket, jobs, outbox) in &rows {
        *seen.entry(ticket).or_default() += 1;
        assert_eq!(
            (*jobs, *outbox),
            (1, 1),
            "{ticket} was filed without its print job or outbox row"
        );
    }
    assert!(
        seen.values().all(|&n| n == 1),
        "a ticket number repeats: {seen:?}"
    );
    for ticket in &printed {
        assert_eq!(
            seen.get(ticket.as_str()),
            Some(&1),
            "{ticket} was printed but is not stored once"
        );
    }
    // Every number of the day was issued in order, with no gap and no reuse.
    let mut numbers: Vec<u32> = rows
        .iter()
        .map(|(t, _, _)| t.rsplit('-').next().unwrap().parse().unwrap())
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=rows.len() as u32).collect::<Vec<_>>());
    eprintln!(
        "{kills} kills in {attempts} attempts; {} tickets printed, {} concerns stored",
        printed.len(),
        rows.len()
    );
}

#[test]
fn a_corrupt_database_is_set_aside_and_the_kiosk_keeps_working() {
    let kiosk = TestKiosk::new();
    let filed = kiosk.run(&["submit", "--category", "noise", "--phrase", "1"]);
    assert!(filed.status.success(), "{}", stderr(&filed));
    assert_eq!(stdout(&filed).trim().len(), "A1126-001".len());
    let healthy = kiosk.run(&["doctor"]);
    let report = stdout(&healthy);
    let database_line = report.lines().find(|l| l.contains("database")).unwrap();
    assert!(database_line.starts_with("ok"), "{report}");

    // Scribble over the middle of the file, where the tables' pages are.
    let db = kiosk.db_path();
    let mut bytes = std::fs::read(&db).unwrap();
    for b in bytes.iter_mut().skip(4096).take(8192) {
        *b = 0x5a;
    }
    std::fs::write(&db, bytes).unwrap();

    let after = kiosk.run(&["submit", "--category", "noise", "--phrase", "2"]);
    assert!(after.status.success(), "{}", stderr(&after));
    let ticket = stdout(&after).trim().to_string();
    assert!(ticket.starts_with('A'), "{ticket}");
    let set_aside: Vec<_> = std::fs::read_dir(kiosk.data_dir())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("concerns.db.corrupt-")
        })
        .collect();
    assert!(!set_aside.is_empty(), "the corrupt file was not kept aside");

    let doctor = kiosk.run(&["doctor"]);
    assert_eq!(doctor.status.code(), Some(1));
    let report = stdout(&doctor);
    let database_line = report.lines().find(|l| l.contains("database")).unwrap();
    assert!(database_line.starts_with("FAIL"), "{report}");
    assert!(database_line.contains("corrupt"), "{report}");

    let listed = kiosk.run(&["list"]);
    assert!(stdout(&listed).contains(&ticket), "{}", stdout(&listed));
}

/// The names in the data folder that mark a database set aside as corrupt.
fn set_aside_files(kiosk: &TestKiosk) -> Vec<String> {
    std::fs::read_dir(kiosk.data_dir())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("concerns.db.corrupt-"))
        .collect()
}

/// Ten pending concerns, as a kiosk holds them between uploads.
fn ten_pending(kiosk: &TestKiosk) -> Vec<String> {
    (0..10)
        .map(|_| {
            let filed = kiosk.run(&["submit", "--category", "noise", "--phrase", "1"]);
            assert!(filed.status.success(), "{}", stderr(&filed));
            stdout(&filed).trim().to_string()
        })
        .collect()
}

#[test]
fn a_database_locked_by_another_program_is_waited_for_then_left_alone() {
    let kiosk = TestKiosk::new();
    let tickets = ten_pending(&kiosk);
    let holder = rusqlite::Connection::open(kiosk.db_path()).unwrap();
    holder
        .execute_batch("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;")
        .unwrap();
    for command in [&["list"][..], &["doctor"][..]] {
        let refused = kiosk.run(command);
        assert_eq!(
            refused.status.code(),
            Some(1),
            "{command:?}: {}",
            stderr(&refused)
        );
        let said = format!("{}{}", stdout(&refused), stderr(&refused));
        assert!(said.contains("left as it is"), "{command:?}: {said}");
        assert!(
            set_aside_files(&kiosk).is_empty(),
            "{command:?} moved the database"
        );
    }
    drop(holder);
    let listed = stdout(&kiosk.run(&["list"]));
    for ticket in &tickets {
        assert!(
            listed.contains(ticket.as_str()),
            "{ticket} is gone: {listed}"
        );
    }
    let next = kiosk.run(&["submit", "--category", "noise", "--phrase", "1"]);
    assert!(stdout(&next).trim().ends_with("-011"), "{}", stdout(&next));
}

#[test]
fn a_kiosk_out_of_file_handles_keeps_its_database() {
    let kiosk = TestKiosk::new();
    let tickets = ten_pending(&kiosk);
    // Five handles: standard input, output and error, the config file and one more. SQLite
    // cannot open the database and its write-ahead log: a kiosk short of handles, not a bad file.
    let list = kiosk.command(&["list"]);
    let starved = std::process::Command::new("sh")
        .arg("-c")
        .arg("ulimit -n 5 && exec \"$0\" \"$@\"")
        .arg(list.get_program())
        .args(list.get_args())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert_eq!(starved.status.code(), Some(1), "{}", stderr(&starved));
    assert!(set_aside_files(&kiosk).is_empty(), "{}", stderr(&starved));
    let listed = stdout(&kiosk.run(&["list"]));
    for ticket in &tickets {
        assert!(
            listed.contains(ticket.as_str()),
            "{ticket} is gone: {listed}"
        );
    }
}

#[test]
fn doctor_reports_a_damaged_database_and_moves_nothing() {
    let kiosk = TestKiosk::new();
    ten_pending(&kiosk);
    std::fs::write(kiosk.db_path(), b"junk where the database was").unwrap();
    let doctor = kiosk.run(&["doctor"]);
    assert_eq!(doctor.status.code(), Some(1));
    let report = stdout(&doctor);
    let database_line = report.lines().find(|l| l.contains("database")).unwrap();
    assert!(database_line.starts_with("FAIL"), "{report}");
    assert!(database_line.contains("damaged"), "{report}");
    assert!(set_aside_files(&kiosk).is_empty(), "doctor moved the file");
    assert!(kiosk.db_path().exists());
}
