//! The Debian package as a maintainer meets it: what `dpkg-deb --contents` lists, what lands
//! where firmware-config/README.md says, what the maintainer scripts do and what they keep.
//!
//! Ignored by a plain `cargo test`: they need the `.deb`, which takes a release build.
//! `.ci/package` builds it and runs them:
//! `CONCERN_KIOSK_DEB=…/concern-kiosk_…_amd64.deb cargo test --test debian_package -- --ignored`.
//!
//! The package is installed with the real dpkg into a throwaway root (`dpkg --root`), maintainer
//! scripts included: they run without chroot and with `$DPKG_ROOT` set, so the user, its groups,
//! the data folder and the unit's enablement are made inside that root. The tests check that the
//! machine running them gained no user; they must run as root (dpkg and the postinst's chown).

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use concern_kiosk::config::Config;

/// The environment variable naming the `.deb` under test.
const DEB_ENV: &str = "CONCERN_KIOSK_DEB";
/// The Debian package's name (and the kiosk's user, group and data folder name).
const PACKAGE: &str = "concern-kiosk";
/// Where the package installs the kiosk's config, as ExecStart= and the README name it.
const CONFIG: &str = "/etc/concern-kiosk/kiosk.toml";
/// Where the package installs the unit (Debian 12 ships units in /lib, see Cargo.toml).
const UNIT: &str = "/lib/systemd/system/concern-kiosk.service";
/// The kiosk program, as the unit's ExecStart= runs it.
const KIOSK_BIN: &str = "/usr/bin/concern-kiosk";
/// The kiosk's data folder: its user's home and [kiosk] data_dir.
const DATA_DIR: &str = "/var/lib/concern-kiosk";
/// The groups the throwaway root has, with made-up ids. `render` is deliberately missing: the
/// postinst must join only the groups that exist, never create one.
const ROOT_GROUPS: &str = "root:x:0:\ndialout:x:20:\nvideo:x:44:\ninput:x:105:\n";

/// Every file the package must contain, with its mode.
const EXPECTED_FILES: &[(&str, u32)] = &[
    (KIOSK_BIN, 0o755),
    ("/usr/bin/concern-office", 0o755),
    (UNIT, 0o644),
    // Installed, not enabled: an office usually runs on another machine (docs/office.md).
    ("/lib/systemd/system/concern-office.service", 0o644),
    ("/etc/udev/rules.d/99-receipt-printer.rules", 0o644),
    ("/etc/udev/rules.d/99-touchscreen-rotation.rules", 0o644),
    ("/etc/systemd/journald.conf.d/concern-kiosk.conf", 0o644),
    (CONFIG, 0o644),
    ("/usr/share/doc/concern-kiosk/README.md", 0o644),
    ("/usr/share/doc/concern-kiosk/office.md", 0o644),
    ("/usr/share/doc/concern-kiosk/config.txt", 0o644),
    ("/usr/share/doc/concern-kiosk/cmdline.txt.md", 0o644),
    ("/usr/share/doc/concern-kiosk/copyright", 0o644),
    // The licence of the Chinese font compiled into concern-kiosk (Apache-2.0).
    (
        "/usr/share/doc/concern-kiosk/DroidSansFallbackFull.LICENSE.txt",
        0o644,
    ),
];

/// The files a maintainer edits, which upgrades must keep: dpkg's conffiles.
const EXPECTED_CONFFILES: &[&str] = &[
    CONFIG,
    "/etc/udev/rules.d/99-receipt-printer.rules",
    "/etc/udev/rules.d/99-touchscreen-rotation.rules",
    "/etc/systemd/journald.conf.d/concern-kiosk.conf",
];

/// The maintainer scripts the package carries.
const SCRIPTS: &[&str] = &["postinst", "prerm", "postrm"];

/// The `.deb` under test, from `$CONCERN_KIOSK_DEB`.
fn deb() -> PathBuf {
    let Some(path) = std::env::var_os(DEB_ENV) else {
        panic!(
            "{DEB_ENV} is not set: these tests check a built package. Run .ci/package, or build \
             one with `cargo deb` and run \
             `{DEB_ENV}=…/concern-kiosk_…deb cargo test --test debian_package -- --ignored`"
        );
    };
    let path = PathBuf::from(path);
    assert!(path.is_file(), "{DEB_ENV}={} is not a file", path.display());
    path
}

/// Runs a command to completion, panicking with its output when it fails.
fn run(command: &mut Command) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// One field of the package's control file, e.g. `Depends`.
fn control_field(field: &str) -> String {
    let output = run(Command::new("dpkg-deb")
        .arg("--field")
        .arg(deb())
        .arg(field));
    text(&output.stdout).trim().to_string()
}

/// `dpkg-deb --contents`: every path (without the leading `.`) with its mode string and owner.
fn contents() -> BTreeMap<String, (String, String)> {
    let output = run(Command::new("dpkg-deb").arg("--contents").arg(deb()));
    text(&output.stdout)
        .lines()
        .filter_map(|line| {
            // -rwxr-xr-x 0/0  12345 2025-11-26 00:00 ./usr/bin/concern-kiosk
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (mode, owner, path) = (fields.first()?, fields.get(1)?, fields.get(5)?);
            let path = path.strip_prefix('.')?.trim_end_matches('/');
            Some((path.to_string(), (mode.to_string(), owner.to_string())))
        })
        .collect()
}

/// `rwxr-xr-x`-style text of a mode's permission bits, as `ls` and dpkg-deb show them.
fn mode_string(mode: u32) -> String {
    (0..9)
        .map(|bit| {
            if mode & (0o400 >> bit) == 0 {
                '-'
            } else {
                ['r', 'w', 'x'][bit % 3]
            }
        })
        .collect()
}

/// A throwaway root with the package installed by `dpkg --root`, maintainer scripts included.
struct Installed {
    dir: tempfile::TempDir,
}

impl Installed {
    /// An empty root (a dpkg database and the account files useradd needs) with the package
    /// installed into it.
    fn new() -> Installed {
        assert!(
            std::fs::metadata("/proc/self").expect("/proc").uid() == 0,
            "the package tests run as root: dpkg --root and the postinst's chown need it \
             (.ci/package runs as root)"
        );
        let dir = tempfile::tempdir().expect("temporary root");
        let root = dir.path();
        for folder in [
            "etc",
            "var/lib/dpkg/info",
            "var/lib/dpkg/updates",
            "var/log",
        ] {
            std::fs::create_dir_all(root.join(folder)).expect("make the root's folders");
        }
        let files = [
            ("var/lib/dpkg/status", ""),
            ("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"),
            ("etc/shadow", "root:*:19000:0:99999:7:::\n"),
            ("etc/group", ROOT_GROUPS),
            (
                "etc/gshadow",
                "root:*::\ndialout:*::\nvideo:*::\ninput:*::\n",
            ),
        ];
        for (path, content) in files {
            std::fs::write(root.join(path), content).expect("write the root's files");
        }
        let installed = Installed { dir };
        installed.dpkg(&["--install".as_ref(), deb().as_os_str()]);
        installed
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    /// A path inside the root, given as the absolute path on the kiosk.
    fn path(&self, absolute: &str) -> PathBuf {
        self.root().join(absolute.trim_start_matches('/'))
    }

    /// dpkg acting on the root only. Without chroot (the root has no shell to chroot into): the
    /// scripts then see $DPKG_ROOT. --force-depends: the root holds no libc6 or libinput10; the
    /// programs run against the machine's own libraries. The log stays in the root.
    /// --path-include: slim CI images tell dpkg to skip /usr/share/doc; the docs are checked.
    fn dpkg(&self, args: &[&std::ffi::OsStr]) -> Output {
        let root = self.root();
        run(Command::new("dpkg")
            .arg(format!("--root={}", root.display()))
            .arg(format!("--log={}", root.join("var/log/dpkg.log").display()))
            .args([
                "--force-script-chrootless",
                "--force-depends",
                "--force-confdef",
                "--force-confold",
                "--path-include=*",
            ])
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive"))
    }

    fn read(&self, absolute: &str) -> String {
        let path = self.path(absolute);
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("read {} in the root: {e}", path.display()))
    }

    /// The root's passwd line of a user, if it has one.
    fn passwd_line(&self, user: &str) -> Option<String> {
        let prefix = format!("{user}:");
        self.read("/etc/passwd")
            .lines()
            .find(|line| line.starts_with(&prefix))
            .map(str::to_string)
    }

    /// The members of a group in the root, or None when the group does not exist there.
    fn group_members(&self, group: &str) -> Option<Vec<String>> {
        let prefix = format!("{group}:");
        let groups = self.read("/etc/group");
        let line = groups.lines().find(|line| line.starts_with(&prefix))?;
        let members = line.rsplit(':').next().unwrap_or_default();
        Some(
            members
                .split(',')
                .filter(|m| !m.is_empty())
                .map(str::to_string)
                .collect(),
        )
    }
}

#[test]
#[ignore = "needs the .deb that .ci/package builds"]
fn the_package_contains_every_file_with_its_mode() {
    let contents = contents();
    let listing = contents
        .iter()
        .map(|(path, (mode, owner))| format!("{mode} {owner} {path}"))
        .collect::<Vec<_>>()
        .join("\n");
    for (path, mode) in EXPECTED_FILES {
        let Some((shown, owner)) = contents.get(*path) else {
            panic!("{path} is not in the package:\n{listing}");
        };
        assert_eq!(
            shown,
            &format!("-{}", mode_string(*mode)),
            "mode of {path}:\n{listing}"
        );
        // dpkg-deb shows owners by number when the archive holds no names (cargo-deb's do not).
        assert!(
            owner == "root/root" || owner == "0/0",
            "owner of {path}: {owner}"
        );
    }
    // Nothing writable by others, nothing setuid, no stray build files.
    for (path, (mode, _)) in &contents {
        assert!(
            !mode.ends_with("w-") && !mode.ends_with("wx") && !mode.contains('s'),
            "{path} has mode {mode}"
        );
        assert!(!path.contains("target/"), "{path} is a build leftover");
    }
}

#[test]
#[ignore = "needs the .deb that .ci/package builds"]
fn the_package_is_the_full_screen_kiosk_with_its_libraries() {
    // The linuxkms backend (libinput, xkbcommon) is what shows the kiosk on the Pi's screen
    // without X or Wayland; a package without it would start to a black screen. libasound2
    // plays the spoken prompts, which espeak-ng speaks; zinnia and its model read handwriting.
    let depends = control_field("Depends");
    for library in [
        "libinput10",
        "libxkbcommon0",
        "libudev1",
        "libfontconfig1",
        "libasound2",
        "espeak-ng",
        "libzinnia0",
        "tegaki-zinnia-simplified-chinese",
        "passwd",
    ] {
        assert!(
            depends.contains(library),
            "Depends has no {library}: {depends}"
        );
    }
    let version = control_field("Version");
    assert!(
        version.starts_with(env!("CARGO_PKG_VERSION")),
        "package version {version} is not the crate's {}",
        env!("CARGO_PKG_VERSION")
    );
}

#[test]
#[ignore = "needs the .deb that .ci/package builds"]
fn the_maintainer_scripts_are_executable_posix_sh_that_parses() {
    let dir = tempfile::tempdir().expect("temporary folder");
    run(Command::new("dpkg-deb")
        .arg("--control")
        .arg(deb())
        .arg(dir.path()));
    for script in SCRIPTS {
        let path = dir.path().join(script);
        let body = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("the package has no {script}: {e}"));
        let mode = std::fs::metadata(&path)
            .expect("script")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755, "mode of {script}");
        assert!(body.starts_with("#!/bin/sh\n"), "{script} is not /bin/sh");
        assert!(body.contains("\nset -e\n"), "{script} does not `set -e`");
        // dash is Debian's /bin/sh: what the scripts really run under on the Pi.
        for shell in ["sh", "dash"] {
            run(Command::new(shell).arg("-n").arg(&path));
        }
    }
}

#[test]
#[ignore = "needs the .deb that .ci/package builds"]
fn the_files_land_where_the_readme_says() {
    let installed = Installed::new();
    let readme = include_str!("../firmware-config/README.md");
    for (path, mode) in EXPECTED_FILES {
        let metadata = std::fs::metadata(installed.path(path))
            .unwrap_or_else(|e| panic!("{path} is not installed: {e}"));
        assert_eq!(metadata.permissions().mode() & 0o7777, *mode, "{path}");
        // The maintainer follows the README: every file it installs must be named there
        // (the licence files excepted).
        if !path.ends_with("/copyright") && !path.ends_with(".LICENSE.txt") {
            assert!(
                readme.contains(path),
                "firmware-config/README.md never names {path}"
            );
        }
    }
    // Installed exactly as in firmware-config/, byte for byte.
    for (source, path) in [
        ("concern-kiosk.service", UNIT),
        ("kiosk.toml", CONFIG),
        (
            "99-receipt-printer.rules",
            "/etc/udev/rules.d/99-receipt-printer.rules",
        ),
        (
            "journald-concern-kiosk.conf",
            "/etc/systemd/journald.conf.d/concern-kiosk.conf",
        ),
    ] {
        let ours = std::fs::read(Path::new("firmware-config").join(source)).expect("source");
        assert!(
            std::fs::read(installed.path(path)).expect("installed") == ours,
            "{path} differs from firmware-config/{source}: rebuild the package"
        );
    }
}

#[test]
#[ignore = "needs the .deb that .ci/package builds"]
fn the_maintainers_files_are_conffiles() {
    let installed = Installed::new();
    let status = run(Command::new("dpkg-query")
        .arg(format!(
            "--admindir={}",
            installed.path("/var/lib/dpkg").display()
        ))
        .arg("--status")
        .arg(PACKAGE));
    let status = text(&status.stdout);
    let conffiles: Vec<&str> = status
        .split("\nConffiles:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no Conffiles in the package's status:\n{status}"))
        .lines()
        .take_while(|line| line.starts_with(' '))
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    let mut expected = EXPECTED_CONFFILES.to_vec();
    expected.sort_unstable();
    let mut found = conffiles.clone();
    found.sort_unstable();
    assert_eq!(found, expected, "dpkg's conffiles");
}

#[test]
#[ignore = "needs the .deb that .ci/package builds"]
fn the_installed_config_loads_with_the_real_loader() {
    let installed = Installed::new();
    let config = Config::load_file(&installed.path(CONFIG))
        .unwrap_or_else(|e| panic!("the installed kiosk.toml does not load: {e}"));
    assert_eq!(config.kiosk.data_dir, Path::new(DATA_DIR));
    assert_eq!(
        config.upload.token_file,
        Path::new("/etc/concern-kiosk/office-token")
    );
}

#[test]
#[ignore = "needs the .deb that .ci/package builds"]
fn the_unit_runs_the_installed_program_on_the_installed_config() {
    let installed = Installed::new();
    let unit = installed.read(UNIT);
    let exec_start: Vec<&str> = unit
        .lines()
        .filter_map(|line| line.strip_prefix("ExecStart="))
        .collect();
    assert_eq!(exec_start.len(), 1, "ExecStart= lines: {exec_start:?}");
    let words: Vec<&str> = exec_start[0].split_whitespace().collect();
    assert_eq!(
        words.first(),
        Some(&KIOSK_BIN),
        "ExecStart={}",
        exec_start[0]
    );
    assert_eq!(
        words.get(1..3),
        Some(&["--config", CONFIG][..]),
        "ExecStart={}",
        exec_start[0]
    );
    let program = installed.path(KIOSK_BIN);
    assert!(
        std::fs::metadata(&program).is_ok_and(|m| m.permissions().mode() & 0o111 != 0),
        "{KIOSK_BIN} is not an installed program"
    );
    let unit_user = unit
        .lines()
        .find_map(|line| line.strip_prefix("User="))
        .expect("User= in the unit");
    assert_eq!(
        unit_user, PACKAGE,
        "the unit runs as the user the postinst makes"
    );

    for program in [KIOSK_BIN, "/usr/bin/concern-office"] {
        let output = run(Command::new(installed.path(program)).arg("--version"));
        let name = program.rsplit('/').next().unwrap_or(program);
        assert_eq!(
            text(&output.stdout).trim(),
            format!("{name} {}", env!("CARGO_PKG_VERSION")),
            "{program} --version"
        );
    }
}

#[test]
#[ignore = "needs the .deb that .ci/package builds"]
fn the_postinst_makes_the_user_its_groups_and_data_folder_in_the_root_only() {
    let host_passwd = std::fs::read("/etc/passwd").expect("the machine's /etc/passwd");
    let host_group = std::fs::read("/etc/group").expect("the machine's /etc/group");
    let installed = Installed::new();

    let line = installed.passwd_line(PACKAGE).unwrap_or_else(|| {
        panic!(
            "no {PACKAGE} user in the root:\n{}",
            installed.read("/etc/passwd")
        )
    });
    let fields: Vec<&str> = line.split(':').collect();
    assert_eq!(fields.len(), 7, "{line}");
    let (uid, gid) = (fields[2], fields[3]);
    assert!(
        uid.parse::<u32>().is_ok_and(|uid| (1..1000).contains(&uid)),
        "not a system user: {line}"
    );
    assert_eq!(fields[5], DATA_DIR, "home: {line}");
    assert_eq!(fields[6], "/usr/sbin/nologin", "login shell: {line}");
    let own_group = installed
        .read("/etc/group")
        .lines()
        .find(|l| l.starts_with(&format!("{PACKAGE}:")))
        .map(str::to_string)
        .expect("the user's own group");
    assert_eq!(own_group.split(':').nth(2), Some(gid), "{own_group}");

    for group in ["dialout", "input", "video"] {
        let members = installed.group_members(group).expect("group in the root");
        assert!(
            members.iter().any(|m| m == PACKAGE),
            "{PACKAGE} is not in {group}: {members:?}"
        );
    }
    assert_eq!(
        installed.group_members("render"),
        None,
        "the postinst created a render group"
    );

    let data = std::fs::metadata(installed.path(DATA_DIR)).expect("the data folder");
    assert!(data.is_dir());
    assert_eq!(data.permissions().mode() & 0o7777, 0o700, "{DATA_DIR}");
    assert_eq!(data.uid().to_string(), uid, "owner of {DATA_DIR}");
    assert_eq!(data.gid().to_string(), gid, "group of {DATA_DIR}");

    // Enabled (it starts at every power-on), as `systemctl enable` would link it.
    let wants = installed.path("/etc/systemd/system/multi-user.target.wants/concern-kiosk.service");
    let link = std::fs::read_link(&wants).expect("the unit is enabled in multi-user.target");
    assert_eq!(link, Path::new(UNIT));

    assert!(
        std::fs::read("/etc/passwd").expect("/etc/passwd") == host_passwd
            && std::fs::read("/etc/group").expect("/etc/group") == host_group,
        "installing into the throwaway root changed this machine's users or groups"
    );
}

#[test]
#[ignore = "needs the .deb that .ci/package builds"]
fn an_upgrade_keeps_the_maintainers_config_and_purge_keeps_the_concerns() {
    let installed = Installed::new();
    let config = installed.path(CONFIG);
    let edited = format!("{}\n# edited by the maintainer\n", installed.read(CONFIG));
    std::fs::write(&config, &edited).expect("edit kiosk.toml");
    let concerns = installed.path(DATA_DIR).join("concerns.db");
    std::fs::write(&concerns, "residents' concerns").expect("a database");

    // Installing the package again runs the upgrade path of every script (prerm upgrade,
    // postinst configure with the old version) and must be idempotent.
    installed.dpkg(&["--install".as_ref(), deb().as_os_str()]);
    assert_eq!(
        installed.read(CONFIG),
        edited,
        "the upgrade replaced kiosk.toml"
    );
    let passwd = installed.read("/etc/passwd");
    assert_eq!(
        passwd.matches(&format!("\n{PACKAGE}:")).count(),
        1,
        "one user after two installs:\n{passwd}"
    );
    assert_eq!(
        installed.group_members("dialout").expect("dialout"),
        [PACKAGE],
        "group membership after two installs"
    );

    installed.dpkg(&["--purge".as_ref(), PACKAGE.as_ref()]);
    assert!(
        !installed.path(KIOSK_BIN).exists(),
        "purge left the program"
    );
    assert!(!config.exists(), "purge left kiosk.toml");
    assert!(
        !installed
            .path("/etc/systemd/system/multi-user.target.wants/concern-kiosk.service")
            .exists(),
        "purge left the unit enabled"
    );
    assert_eq!(
        std::fs::read_to_string(&concerns).ok().as_deref(),
        Some("residents' concerns"),
        "purge deleted the residents' concerns"
    );
    assert!(
        installed.passwd_line(PACKAGE).is_some(),
        "purge removed the user that owns the concerns"
    );
}
