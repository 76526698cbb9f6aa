//! Makes one thread of a running kiosk hang, from outside, the way a task stuck in a driver
//! call would: ptrace stops just that thread while the rest of the process runs on. Dropping
//! the guard lets it go again.

use nix::sys::ptrace;
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::Pid;

pub struct FrozenThread {
    tid: Pid,
}

impl FrozenThread {
    /// Stops the thread of process `pid` named `name` (Linux keeps 15 bytes of a name).
    /// ptrace needs root or CAP_SYS_PTRACE, which CI has.
    pub fn freeze(pid: u32, name: &str) -> FrozenThread {
        let tid = thread_named(pid, name);
        ptrace::seize(tid, ptrace::Options::empty())
            .unwrap_or_else(|e| panic!("ptrace the {name} thread (needs root): {e}"));
        ptrace::interrupt(tid).expect("stop the thread");
        // `__WALL`: the thread is not this test's child, only its tracee.
        waitpid(tid, Some(WaitPidFlag::__WALL)).expect("see the thread stop");
        FrozenThread { tid }
    }
}

impl Drop for FrozenThread {
    fn drop(&mut self) {
        let _ = ptrace::detach(self.tid, None);
    }
}

fn thread_named(pid: u32, name: &str) -> Pid {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("list the threads");
    let mut names = Vec::new();
    for task in tasks.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim_end() == name {
            let tid: i32 = task
                .file_name()
                .to_string_lossy()
                .parse()
                .expect("a thread id");
            return Pid::from_raw(tid);
        }
        names.push(comm.trim_end().to_string());
    }
    panic!("process {pid} has no thread named {name:?}; it has {names:?}");
}
