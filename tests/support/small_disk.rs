//! A full disk for storage tests: a tmpfs of a few kilobytes, mounted on a
//! fresh directory and unmounted when dropped (needs root; a test without
//! it says SKIPPED and proves nothing).

use std::path::Path;
use std::process::Command;

/// A tmpfs of a few kilobytes mounted on a fresh directory, unmounted on
/// drop (also when a test fails).
pub struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    /// Mounts it, or says why it cannot (not root, no mount permission).
    pub fn mount(size: &str) -> Result<SmallDisk, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !output.status.success() {
            let why = String::from_utf8_lossy(&output.stderr);
            return Err(format!("mount -t tmpfs failed: {}", why.trim()));
        }
        Ok(SmallDisk { dir })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

/// The small disk, or `None` after saying on stderr why the test is
/// skipped (the test then proves nothing and must not look as if it did).
pub fn small_disk(test: &str) -> Option<SmallDisk> {
    match SmallDisk::mount("64k") {
        Ok(disk) => Some(disk),
        Err(why) => {
            eprintln!("SKIPPED {test}: needs a tmpfs mount (run as root): {why}");
            None
        }
    }
}
