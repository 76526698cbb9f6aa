//! The spool printer for the demo config and laptops: each job's exact bytes go to a `.bin`
//! file and its preview to a `.png` beside it, so a person can see what paper would show.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{PrinterError, PrinterPort, PrinterStatus, RenderedJob, SendControl};

pub struct SpoolPrinter {
    dir: PathBuf,
}

impl SpoolPrinter {
    pub fn new(dir: &Path) -> SpoolPrinter {
        SpoolPrinter {
            dir: dir.to_path_buf(),
        }
    }

    /// The next free number, so files sort in print order and are never overwritten.
    fn next_stem(&self, name: &str) -> PathBuf {
        let count = fs::read_dir(&self.dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter(|e| e.path().extension().is_some_and(|x| x == "bin"))
                    .count()
            })
            .unwrap_or(0);
        let mut n = count + 1;
        loop {
            let stem = self.dir.join(format!("{n:05}-{name}"));
            if !stem.with_extension("bin").exists() {
                return stem;
            }
            n += 1;
        }
    }

    /// Writes a file that survives a power cut once this returns: under a temporary name,
    /// flushed, then renamed. The print queue marks the job printed as soon as `send` returns,
    /// so a file still in the page cache would be a receipt marked printed that a cut empties
    /// (seen in the virtual appliance: both files at 0 bytes after the reboot).
    fn write(path: &Path, bytes: &[u8]) -> Result<(), PrinterError> {
        let failed = |source| PrinterError::Spool {
            path: path.to_path_buf(),
            source,
        };
        let partial = path.with_extension("part");
        let mut file = fs::File::create(&partial).map_err(failed)?;
        file.write_all(bytes).map_err(failed)?;
        file.sync_all().map_err(failed)?;
        fs::rename(&partial, path).map_err(failed)
    }

    /// Makes the renames themselves durable.
    fn sync_folder(&self) -> Result<(), PrinterError> {
        fs::File::open(&self.dir)
            .and_then(|folder| folder.sync_all())
            .map_err(|source| PrinterError::Spool {
                path: self.dir.clone(),
                source,
            })
    }
}

impl PrinterPort for SpoolPrinter {
    fn status(&mut self) -> PrinterStatus {
        match fs::create_dir_all(&self.dir) {
            Ok(()) => PrinterStatus::Ready,
            Err(_) => PrinterStatus::Offline,
        }
    }

    fn send(&mut self, job: &RenderedJob, control: &SendControl) -> Result<usize, PrinterError> {
        // A file is written whole: stopping half way would only leave a confusing half file.
        control.before_chunk()?;
        fs::create_dir_all(&self.dir).map_err(|source| PrinterError::Spool {
            path: self.dir.clone(),
            source,
        })?;
        let stem = self.next_stem(&job.name);
        // The preview first: a `.bin` without its picture would be the confusing half.
        Self::write(&stem.with_extension("png"), &job.paper.preview_png()?)?;
        let bytes = job.paper.bytes();
        Self::write(&stem.with_extension("bin"), &bytes)?;
        self.sync_folder()?;
        Ok(bytes.len())
    }

    fn describe(&self) -> String {
        format!("spool folder {}", self.dir.display())
    }
}
