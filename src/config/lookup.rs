//! Where the config comes from: `--config FILE`, then `CONCERN_KIOSK_CONFIG`, then the
//! appliance's `/etc/concern-kiosk/kiosk.toml`, else the built-in demo config.

use std::fmt;
use std::path::{Path, PathBuf};

use super::{Config, ConfigError};

/// The appliance's config, read when no file is named on the command line or in the
/// environment.
pub const SYSTEM_CONFIG_PATH: &str = "/etc/concern-kiosk/kiosk.toml";
/// The environment variable that names the config file.
pub const CONFIG_ENV: &str = "CONCERN_KIOSK_CONFIG";

/// Where the config came from; logged at start and shown by `doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// `--config FILE`
    Flag(PathBuf),
    /// `CONCERN_KIOSK_CONFIG`
    Env(PathBuf),
    /// `/etc/concern-kiosk/kiosk.toml`
    System(PathBuf),
    Demo,
}

impl ConfigSource {
    /// The lookup order: `--config`, then the environment, then the appliance's file, then
    /// the built-in demo.
    pub fn find(flag: Option<PathBuf>, env: Option<PathBuf>, system: &Path) -> ConfigSource {
        if let Some(path) = flag {
            ConfigSource::Flag(path)
        } else if let Some(path) = env.filter(|p| !p.as_os_str().is_empty()) {
            ConfigSource::Env(path)
        } else if system.exists() {
            ConfigSource::System(system.to_path_buf())
        } else {
            ConfigSource::Demo
        }
    }

    pub fn load(&self) -> Result<Config, ConfigError> {
        match self {
            ConfigSource::Flag(path) | ConfigSource::Env(path) | ConfigSource::System(path) => {
                Config::load_file(path)
            }
            ConfigSource::Demo => Config::demo(),
        }
    }
}

impl fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigSource::Flag(p) => write!(f, "{} (from --config)", p.display()),
            ConfigSource::Env(p) => write!(f, "{} (from {CONFIG_ENV})", p.display()),
            ConfigSource::System(p) => write!(f, "{}", p.display()),
            ConfigSource::Demo => f.write_str("the built-in demo config"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_order_is_flag_then_environment_then_system_then_demo() {
        let existing = Path::new("/");
        let missing = Path::new("/nonexistent/kiosk.toml");
        let flag = Some(PathBuf::from("a.toml"));
        let env = Some(PathBuf::from("b.toml"));
        assert_eq!(
            ConfigSource::find(flag.clone(), env.clone(), existing),
            ConfigSource::Flag("a.toml".into())
        );
        assert_eq!(
            ConfigSource::find(None, env, existing),
            ConfigSource::Env("b.toml".into())
        );
        assert_eq!(
            ConfigSource::find(None, None, existing),
            ConfigSource::System("/".into())
        );
        assert_eq!(ConfigSource::find(None, None, missing), ConfigSource::Demo);
    }
}
