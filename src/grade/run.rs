//! Running a process under limits: its own process group (so a kill reaches every process it
//! started), a hard wall-clock limit, an address-space limit, and stdout/stderr captured up
//! to a cap while the pipes are still drained to the end (a child that prints without end
//! must not block on a full pipe, nor fill the grader's memory).

use std::io::{self, Read};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How much of each of stdout and stderr is kept.
pub(crate) const OUTPUT_CAP: usize = 64 * 1024;

/// What a pipe delivered: the first `cap` bytes, and how many there were in all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Captured {
    pub kept: Vec<u8>,
    pub total: u64,
}

impl Captured {
    /// Adds a chunk read from the pipe, keeping at most `cap` bytes.
    pub(crate) fn push(&mut self, chunk: &[u8], cap: usize) {
        self.total += chunk.len() as u64;
        let room = cap.saturating_sub(self.kept.len());
        self.kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }

    /// The text kept (invalid UTF-8 replaced), and a line saying where it was cut.
    pub(crate) fn text(&self) -> String {
        let mut s = String::from_utf8_lossy(&self.kept).into_owned();
        if self.total > self.kept.len() as u64 {
            if !s.ends_with('\n') {
                s.push('\n');
            }
            s.push_str(&format!(
                "[output cut: {} bytes in all, the first {} kept]\n",
                self.total,
                self.kept.len()
            ));
        }
        s
    }
}

/// Reads `r` to its end, keeping the first `cap` bytes in `into`.
pub(crate) fn drain(mut r: impl Read, into: &Mutex<Captured>, cap: usize) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match r.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                if let Ok(mut c) = into.lock() {
                    c.push(&buf[..n], cap);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// How a process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ending {
    /// It exited with this status.
    Exited(i32),
    /// A signal killed it (not ours).
    Signaled(i32),
    /// We killed it at the wall-clock limit.
    TimedOut,
}

/// A finished process: how it ended, what it printed, how long it took.
#[derive(Debug)]
pub(crate) struct Ended {
    pub ending: Ending,
    pub stdout: Captured,
    pub stderr: Captured,
    pub elapsed: Duration,
    pub pid: u32,
    /// Some process of its group outlived the kill and still holds a pipe open (it left
    /// its process group): the output may be incomplete.
    pub pipes_held: bool,
}

/// The limits a process runs under.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub wall: Duration,
    /// RLIMIT_AS, in bytes.
    pub memory: Option<u64>,
    /// RLIMIT_CPU, in seconds: a backstop should the process outlive the grader.
    pub cpu: Option<u64>,
    /// How much of each of stdout and stderr is kept.
    pub cap: usize,
}

impl Limits {
    /// Only a wall-clock limit, and the usual output cap.
    pub(crate) fn wall(wall: Duration) -> Limits {
        Limits {
            wall,
            memory: None,
            cpu: None,
            cap: OUTPUT_CAP,
        }
    }
}

/// The process groups running now, so that an interrupted grader can kill them: a
/// submission's process is in a group of its own, so a Ctrl-C at the terminal (sent to
/// the grader's group) would not reach it. Slots hold group ids; 0 is free.
static RUNNING: [AtomicI32; 512] = [const { AtomicI32::new(0) }; 512];

fn register(pgid: i32) -> Option<usize> {
    RUNNING.iter().position(|slot| {
        slot.compare_exchange(0, pgid, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    })
}

extern "C" fn on_interrupt(sig: libc::c_int) {
    for slot in &RUNNING {
        let pgid = slot.load(Ordering::SeqCst);
        if pgid > 0 {
            // SAFETY: kill is async-signal-safe.
            unsafe { libc::kill(-pgid, libc::SIGKILL) };
        }
    }
    // SAFETY: signal and raise are async-signal-safe; the default action then ends the
    // grader as the signal would have.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

/// Makes SIGINT, SIGTERM and SIGHUP kill every running submission before the grader goes.
pub(crate) fn install_interrupt_handler() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            // SAFETY: the handler only makes async-signal-safe calls and reads atomics.
            unsafe {
                libc::signal(sig, on_interrupt as *const () as libc::sighandler_t);
            }
        }
    });
}

/// Runs `cmd` in a process group of its own under `limits`, and returns once it has ended
/// and every process of its group has been killed.
///
/// # Errors
///
/// The process could not be started.
pub(crate) fn run(mut cmd: Command, limits: Limits) -> io::Result<Ended> {
    let (memory, cpu, cap) = (limits.memory, limits.cpu, limits.cap);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: the closure runs in the forked child before exec and only makes
    // async-signal-safe system calls (setpgid, setrlimit) on its own stack values.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setpgid(0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            let none = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            libc::setrlimit(libc::RLIMIT_CORE, &none);
            let limit = |resource, value: u64| {
                let lim = libc::rlimit {
                    rlim_cur: value as libc::rlim_t,
                    rlim_max: value as libc::rlim_t,
                };
                libc::setrlimit(resource, &lim);
            };
            if let Some(bytes) = memory {
                limit(libc::RLIMIT_AS, bytes);
            }
            if let Some(secs) = cpu {
                limit(libc::RLIMIT_CPU, secs);
            }
            // Should the grader itself die (SIGKILL), take the process along.
            #[cfg(target_os = "linux")]
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let start = Instant::now();
    let mut child = cmd.spawn()?;
    let pid = child.id();
    let slot = register(pid as i32);
    let pipes = [
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    ];
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let captured: Vec<Arc<Mutex<Captured>>> = pipes
        .into_iter()
        .map(|pipe| {
            let into = Arc::new(Mutex::new(Captured::default()));
            if let Some(pipe) = pipe {
                let (into, done) = (into.clone(), done_tx.clone());
                std::thread::spawn(move || {
                    drain(pipe, &into, cap);
                    let _ = done.send(());
                });
            } else {
                let _ = done_tx.send(());
            }
            into
        })
        .collect();
    drop(done_tx);
    // Wait for the exit without reaping it: while the zombie is there, its pid (and so the
    // group id) cannot be reused, so the group kill below cannot hit a stranger.
    let (exit_tx, exit_rx) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        wait_no_reap(pid);
        let _ = exit_tx.send(());
    });
    let timed_out = match exit_rx.recv_timeout(limits.wall) {
        Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => false,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            kill_group(pid);
            let _ = exit_rx.recv();
            true
        }
    };
    let elapsed = start.elapsed();
    // Whatever the process started (workers, a `sleep` it spawned) goes with it. SIGKILL
    // takes effect asynchronously: wait (briefly) until the group is really empty.
    kill_group(pid);
    let status = child.wait();
    let group_deadline = Instant::now() + Duration::from_secs(2);
    while group_alive(pid) && Instant::now() < group_deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    if let Some(slot) = slot {
        RUNNING[slot].store(0, Ordering::SeqCst);
    }
    let status = status?;
    // The pipes close when the last process holding them is gone; one that left the
    // group could hold them for ever, so wait a little, then take what was read.
    let grace = Instant::now() + Duration::from_secs(2);
    let mut pipes_held = false;
    for _ in 0..2 {
        let left = grace.saturating_duration_since(Instant::now());
        if done_rx.recv_timeout(left).is_err() {
            pipes_held = true;
            break;
        }
    }
    let take = |c: &Arc<Mutex<Captured>>| c.lock().map(|c| c.clone()).unwrap_or_default();
    let ending = if timed_out {
        Ending::TimedOut
    } else {
        use std::os::unix::process::ExitStatusExt;
        match (status.code(), status.signal()) {
            (Some(code), _) => Ending::Exited(code),
            (None, Some(sig)) => Ending::Signaled(sig),
            (None, None) => Ending::Exited(-1),
        }
    };
    Ok(Ended {
        ending,
        stdout: take(&captured[0]),
        stderr: take(&captured[1]),
        elapsed,
        pid,
        pipes_held,
    })
}

fn wait_no_reap(pid: u32) {
    loop {
        // SAFETY: a zeroed siginfo_t is a valid out-parameter for waitid.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: waitid only writes to `info`; WNOWAIT leaves the child to be reaped by
        // `Child::wait`.
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if r == 0 || io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            return;
        }
    }
}

/// SIGKILL to every process of the group `pgid` (ESRCH, an empty group, is fine).
pub(crate) fn kill_group(pgid: u32) {
    // SAFETY: kill has no memory-safety preconditions; a negative pid names a group.
    unsafe {
        libc::kill(-(pgid as libc::pid_t), libc::SIGKILL);
    }
}

/// Whether any process of the group `pgid` is alive (zombies count until reaped).
pub(crate) fn group_alive(pgid: u32) -> bool {
    // SAFETY: signal 0 only checks for existence and permission.
    unsafe { libc::kill(-(pgid as libc::pid_t), 0) == 0 }
}

/// A signal's name, for people.
pub(crate) fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGABRT => "SIGABRT",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGBUS => "SIGBUS",
        libc::SIGILL => "SIGILL",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGTERM => "SIGTERM",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGXFSZ => "SIGXFSZ",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGTRAP => "SIGTRAP",
        _ => "a signal",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_keeps_the_start_and_counts_everything() {
        let mut c = Captured::default();
        for _ in 0..10 {
            c.push(&[b'x'; 7], 20);
        }
        assert_eq!(c.kept.len(), 20);
        assert_eq!(c.total, 70);
        assert!(
            c.text()
                .ends_with("[output cut: 70 bytes in all, the first 20 kept]\n")
        );
        let mut small = Captured::default();
        small.push(b"hello\n", 20);
        assert_eq!(small.text(), "hello\n");
    }

    #[test]
    fn draining_reads_everything_but_keeps_the_cap() {
        let data = vec![b'a'; 1_000_000];
        let c = Mutex::new(Captured::default());
        drain(&data[..], &c, OUTPUT_CAP);
        let c = c.into_inner().unwrap();
        assert_eq!((c.kept.len(), c.total), (OUTPUT_CAP, 1_000_000));
    }

    #[test]
    fn a_cut_in_the_middle_of_a_character_stays_readable() {
        let mut c = Captured::default();
        c.push("ééé".as_bytes(), 3); // cuts the second é in half
        assert!(c.text().starts_with("é\u{fffd}"));
    }

    fn sh(script: &str) -> Command {
        let mut c = Command::new("sh");
        c.args(["-c", script]);
        c
    }

    #[test]
    fn output_without_end_is_capped_and_the_process_stopped() {
        let limits = Limits::wall(Duration::from_secs(1));
        let e = run(sh("yes synckit"), limits).unwrap();
        assert_eq!(e.ending, Ending::TimedOut);
        assert_eq!(e.stdout.kept.len(), OUTPUT_CAP);
        assert!(e.stdout.total > OUTPUT_CAP as u64);
        assert!(!group_alive(e.pid));
    }

    #[test]
    fn a_kill_at_the_limit_takes_the_whole_group() {
        let limits = Limits::wall(Duration::from_millis(300));
        // A grandchild that would outlive its parent and hold the pipes for a minute.
        let e = run(sh("sleep 60 & echo started; wait"), limits).unwrap();
        assert_eq!(e.ending, Ending::TimedOut);
        assert_eq!(e.stdout.text(), "started\n");
        assert!(!e.pipes_held);
        assert!(!group_alive(e.pid), "a process of the group survived");
    }

    #[test]
    fn the_cap_is_the_callers() {
        // cargo's JSON is longer than a submission's cap, and must come whole.
        let limits = Limits {
            cap: 1 << 20,
            ..Limits::wall(Duration::from_secs(10))
        };
        let e = run(sh("head -c 200000 /dev/zero"), limits).unwrap();
        assert_eq!((e.stdout.kept.len(), e.stdout.total), (200_000, 200_000));
    }

    #[test]
    fn exits_and_signals_are_told_apart() {
        let limits = Limits {
            memory: Some(1 << 30),
            cpu: Some(20),
            ..Limits::wall(Duration::from_secs(10))
        };
        let e = run(sh("echo out; echo err >&2; exit 3"), limits).unwrap();
        assert_eq!(e.ending, Ending::Exited(3));
        assert_eq!(
            (e.stdout.text(), e.stderr.text()),
            ("out\n".into(), "err\n".into())
        );
        let e = run(sh("kill -ABRT $$"), limits).unwrap();
        assert_eq!(e.ending, Ending::Signaled(libc::SIGABRT));
        assert_eq!(signal_name(libc::SIGABRT), "SIGABRT");
    }
}
