//! Stands in for systemd's side of `sd_notify`: a Unix datagram socket the test owns, handed to
//! the kiosk as `NOTIFY_SOCKET`, recording every message with the time it arrived.

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often the reader thread looks for the stop request between datagrams.
const READ_TIMEOUT: Duration = Duration::from_millis(100);

#[derive(Default)]
struct Received {
    messages: Vec<(Instant, String)>,
    stop: bool,
}

impl Received {
    fn arrivals(&self, message: &str, since: Instant) -> Vec<Instant> {
        self.messages
            .iter()
            .filter(|(at, text)| *at >= since && text == message)
            .map(|(at, _)| *at)
            .collect()
    }
}

/// The listening socket; the reader thread ends when it is dropped.
pub struct NotifySocket {
    path: PathBuf,
    received: Arc<(Mutex<Received>, Condvar)>,
    reader: Option<JoinHandle<()>>,
}

impl NotifySocket {
    pub fn bind(dir: &Path) -> NotifySocket {
        let path = dir.join("notify.sock");
        let socket = UnixDatagram::bind(&path).expect("bind the notify socket");
        socket
            .set_read_timeout(Some(READ_TIMEOUT))
            .expect("set the read timeout");
        let received = Arc::new((Mutex::new(Received::default()), Condvar::new()));
        let reader = std::thread::spawn({
            let received = Arc::clone(&received);
            move || {
                let mut buffer = [0u8; 4096];
                loop {
                    let got = socket.recv(&mut buffer);
                    let (lock, changed) = &*received;
                    let mut received = lock.lock().unwrap_or_else(PoisonError::into_inner);
                    if received.stop {
                        return;
                    }
                    if let Ok(len) = got {
                        // One datagram may hold several `KEY=value` lines.
                        let text = String::from_utf8_lossy(&buffer[..len]).into_owned();
                        for line in text.lines().filter(|l| !l.is_empty()) {
                            received.messages.push((Instant::now(), line.to_string()));
                        }
                        changed.notify_all();
                    }
                }
            }
        });
        NotifySocket {
            path,
            received,
            reader: Some(reader),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The times `message` (e.g. `WATCHDOG=1`) arrived at or after `since`.
    pub fn arrivals(&self, message: &str, since: Instant) -> Vec<Instant> {
        let (lock, _) = &*self.received;
        lock.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .arrivals(message, since)
    }

    /// Waits until `message` has arrived `count` times since `since`; false on timeout.
    pub fn wait_for(&self, message: &str, count: usize, since: Instant, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let (lock, changed) = &*self.received;
        let mut received = lock.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if received.arrivals(message, since).len() >= count {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            received = changed
                .wait_timeout(received, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Everything received so far, for failure messages.
    pub fn transcript(&self) -> Vec<String> {
        let (lock, _) = &*self.received;
        lock.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .messages
            .iter()
            .map(|(_, text)| text.clone())
            .collect()
    }
}

impl Drop for NotifySocket {
    fn drop(&mut self) {
        let (lock, _) = &*self.received;
        lock.lock().unwrap_or_else(PoisonError::into_inner).stop = true;
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}
