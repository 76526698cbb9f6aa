//! The DRM/KMS outputs the machine has (from /sys/class/drm), and which one the full-screen
//! kiosk will draw on: logged at start and shown by `doctor`, because a Pi has two DRM devices
//! (vc4 and v3d) and HDMI beside DSI, and a kiosk drawing on the wrong one shows a black screen.

use std::path::Path;

/// Where the kernel lists DRM connectors, one folder per connector: `card0-HDMI-A-1`.
pub const SYS_CLASS_DRM: &str = "/sys/class/drm";
/// Slint's linuxkms backend draws on the connector of this name when it is set; otherwise on the
/// first connected connector of the first device that has one.
pub const OUTPUT_VARIABLE: &str = "SLINT_DRM_OUTPUT";

/// One connector of one DRM device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrmOutput {
    /// The device, e.g. `card0` (/dev/dri/card0).
    pub card: String,
    /// The connector's name as SLINT_DRM_OUTPUT takes it, e.g. `HDMI-A-1`.
    pub connector: String,
    pub connected: bool,
    /// The first (preferred) mode the display offers, e.g. `1280x800`.
    pub preferred_mode: Option<String>,
}

/// Every connector under `sys_class_drm`, in name order (an empty list when there is no DRM).
pub fn drm_outputs(sys_class_drm: &Path) -> Vec<DrmOutput> {
    let Ok(entries) = std::fs::read_dir(sys_class_drm) else {
        return Vec::new();
    };
    let mut outputs: Vec<DrmOutput> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let (card, connector) = name.split_once('-')?;
            if !card.starts_with("card") {
                return None;
            }
            let read = |file: &str| std::fs::read_to_string(entry.path().join(file)).ok();
            let status = read("status")?;
            Some(DrmOutput {
                card: card.to_string(),
                connector: connector.to_string(),
                connected: status.trim() == "connected",
                preferred_mode: read("modes")
                    .and_then(|modes| modes.lines().next().map(str::to_string)),
            })
        })
        .collect();
    outputs.sort_by(|a, b| (&a.card, &a.connector).cmp(&(&b.card, &b.connector)));
    outputs
}

/// The output the kiosk will draw on, as Slint picks it: the requested connector, else the
/// first connected one.
pub fn chosen<'a>(outputs: &'a [DrmOutput], requested: Option<&str>) -> Option<&'a DrmOutput> {
    match requested {
        Some(name) => outputs.iter().find(|o| o.connector == name),
        None => outputs.iter().find(|o| o.connected),
    }
}

/// One line for the journal and `doctor`: every output, and which one is used and why.
pub fn describe(outputs: &[DrmOutput], requested: Option<&str>) -> Result<String, String> {
    if outputs.is_empty() {
        return Err(format!("no DRM/KMS display in {SYS_CLASS_DRM}"));
    }
    let list = outputs
        .iter()
        .map(|o| {
            let state = if o.connected {
                o.preferred_mode.as_deref().unwrap_or("connected")
            } else {
                "not connected"
            };
            format!("{} {} ({state})", o.card, o.connector)
        })
        .collect::<Vec<_>>()
        .join(", ");
    match (chosen(outputs, requested), requested) {
        (Some(output), Some(name)) => Ok(format!(
            "draws on {} {} ({OUTPUT_VARIABLE}={name}); outputs: {list}",
            output.card, output.connector
        )),
        (Some(output), None) => Ok(format!(
            "draws on {} {}, the first connected output ({OUTPUT_VARIABLE} chooses another); \
             outputs: {list}",
            output.card, output.connector
        )),
        (None, Some(name)) => Err(format!(
            "{OUTPUT_VARIABLE}={name} names no output; outputs: {list}"
        )),
        (None, None) => Err(format!("no display is connected; outputs: {list}")),
    }
}

/// [`describe`] for this machine: its /sys/class/drm and its `SLINT_DRM_OUTPUT`.
pub fn describe_this_machine() -> Result<String, String> {
    let outputs = drm_outputs(Path::new(SYS_CLASS_DRM));
    let requested = std::env::var(OUTPUT_VARIABLE).ok();
    describe(&outputs, requested.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A /sys/class/drm like a Pi 4's: vc4 on card1 with two HDMI ports and the DSI panel, v3d
    /// (render only, no connectors) on card0.
    fn pi_like() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("a folder");
        for (name, status, modes) in [
            ("card1-HDMI-A-1", "disconnected", ""),
            ("card1-HDMI-A-2", "disconnected", ""),
            ("card1-DSI-1", "connected", "800x480\n"),
        ] {
            let folder = dir.path().join(name);
            std::fs::create_dir(&folder).expect("a connector");
            std::fs::write(folder.join("status"), format!("{status}\n")).expect("status");
            std::fs::write(folder.join("modes"), modes).expect("modes");
        }
        std::fs::create_dir(dir.path().join("card0")).expect("a device");
        std::fs::create_dir(dir.path().join("renderD128")).expect("a render node");
        dir
    }

    #[test]
    fn the_first_connected_output_is_the_one_used() {
        let dir = pi_like();
        let outputs = drm_outputs(dir.path());
        assert_eq!(outputs.len(), 3);
        let line = describe(&outputs, None).expect("a display");
        assert!(
            line.starts_with("draws on card1 DSI-1, the first connected"),
            "{line}"
        );
        assert!(line.contains("card1 DSI-1 (800x480)"), "{line}");
        assert!(line.contains("card1 HDMI-A-1 (not connected)"), "{line}");
    }

    #[test]
    fn a_requested_output_is_named_and_a_wrong_name_is_an_error() {
        let dir = pi_like();
        let outputs = drm_outputs(dir.path());
        let line = describe(&outputs, Some("HDMI-A-2")).expect("named");
        assert!(
            line.starts_with("draws on card1 HDMI-A-2 (SLINT_DRM_OUTPUT=HDMI-A-2)"),
            "{line}"
        );
        let wrong = describe(&outputs, Some("HDMI-1")).expect_err("no such output");
        assert!(wrong.contains("names no output"), "{wrong}");
    }

    #[test]
    fn no_drm_at_all_is_said_plainly() {
        let dir = tempfile::tempdir().expect("a folder");
        assert_eq!(drm_outputs(&dir.path().join("missing")), Vec::new());
        assert!(describe(&[], None).is_err());
    }
}
