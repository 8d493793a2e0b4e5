//! The pool's handle on one worker process: start it, read its greeting, send a request and
//! wait (bounded) for the reply, shut it down.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::WORKER_ENV;
use super::error::{Fault, ProcessError};
use super::wire::{from_bytes, read_frame, to_bytes, write_frame};
use super::worker::{Hello, MAGIC, Reply, Request, VERSION};

/// What a pool needs to start a worker.
#[derive(Debug)]
pub(super) struct Spec {
    pub(super) program: PathBuf,
    pub(super) args: Vec<String>,
    pub(super) start_timeout: Duration,
    pub(super) task_timeout: Duration,
}

impl Spec {
    pub(super) fn program_name(&self) -> String {
        self.program.display().to_string()
    }
}

/// A started worker whose greeting has not been read yet.
pub(super) struct Pending {
    child: Child,
    stdin: ChildStdin,
    rx: mpsc::Receiver<Incoming>,
}

/// What a worker's reader thread passes on.
enum Incoming {
    Frame(Vec<u8>),
    /// The first bytes were not the greeting: the program is not serving as a worker.
    NotAWorker(Vec<u8>),
}

impl Pending {
    pub(super) fn start(spec: &Spec) -> Result<Pending, ProcessError> {
        let mut child = Command::new(&spec.program)
            .args(&spec.args)
            .env(WORKER_ENV, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| ProcessError::Spawn {
                program: spec.program_name(),
                error: e.to_string(),
            })?;
        let stdin = child.stdin.take().expect("piped stdin");
        let mut stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name(format!("synckit-pipe-{}", child.id()))
            .spawn(move || {
                // The greeting first: read it byte-exactly, keeping what came instead.
                let mut first = Vec::with_capacity(MAGIC.len());
                let mut buf = [0u8; 8];
                while first.len() < MAGIC.len() {
                    match stdout.read(&mut buf[..MAGIC.len() - first.len()]) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => first.extend_from_slice(&buf[..n]),
                    }
                }
                if first != MAGIC {
                    let _ = tx.send(Incoming::NotAWorker(first));
                    return;
                }
                while let Ok(Some(frame)) = read_frame(&mut stdout) {
                    if tx.send(Incoming::Frame(frame)).is_err() {
                        return;
                    }
                }
                // End of stream or a broken frame: dropping `tx` tells the dispatcher.
            })
            .expect("failed to spawn a pipe reader thread");
        Ok(Pending { child, stdin, rx })
    }

    pub(super) fn finish(mut self, spec: &Spec) -> Result<(Worker, Hello), ProcessError> {
        let missing = |detail: String| ProcessError::MissingHook {
            program: spec.program_name(),
            detail,
        };
        let pid = self.child.id();
        let hello = match self.rx.recv_timeout(spec.start_timeout) {
            Ok(Incoming::Frame(bytes)) => from_bytes::<Hello>(&bytes)
                .map_err(|e| missing(format!("its greeting was garbled ({e})"))),
            Ok(Incoming::NotAWorker(first)) => {
                let status = settle(&mut self.child, Duration::from_millis(200));
                Err(missing(if first.is_empty() {
                    format!("it wrote nothing to its stdout and {status}")
                } else {
                    format!(
                        "it wrote {:?} to its stdout instead of the worker greeting",
                        String::from_utf8_lossy(&first)
                    )
                }))
            }
            Err(mpsc::RecvTimeoutError::Timeout) => Err(missing(format!(
                "it did not answer within {:?}",
                spec.start_timeout
            ))),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = settle(&mut self.child, Duration::from_millis(200));
                Err(missing(format!("its greeting was cut short and {status}")))
            }
        };
        let hello = hello.and_then(|h| {
            if h.version == VERSION {
                Ok(h)
            } else {
                Err(missing(format!(
                    "it speaks protocol version {} (this pool speaks {VERSION}): rebuild it",
                    h.version
                )))
            }
        });
        let hello = match hello {
            Ok(h) => h,
            Err(e) => {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return Err(e);
            }
        };
        let worker = Worker {
            child: self.child,
            stdin: Some(self.stdin),
            rx: self.rx,
            pid,
        };
        Ok((worker, hello))
    }
}

/// Waits up to `grace` for the child to exit; describes how it ended (killing it if not).
fn settle(child: &mut Child, grace: Duration) -> String {
    let deadline = Instant::now() + grace;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return format!("ended with {}", describe_status(status)),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(2)),
            _ => {
                let _ = child.kill();
                let status = child.wait();
                return match status {
                    Ok(s) => format!(
                        "was still running, so it was killed ({})",
                        describe_status(s)
                    ),
                    Err(e) => format!("could not be waited for ({e})"),
                };
            }
        }
    }
}

fn describe_status(status: ExitStatus) -> String {
    status.to_string()
}

/// A running, greeted worker process.
pub(super) struct Worker {
    child: Child,
    stdin: Option<ChildStdin>,
    rx: mpsc::Receiver<Incoming>,
    pub(super) pid: u32,
}

impl Worker {
    pub(super) fn has_exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends one request and waits for its reply, at most `timeout`.
    /// Ends early, killing the worker, when `closing` is set (the pool is being dropped).
    pub(super) fn call(
        &mut self,
        request: &[u8],
        task: u64,
        timeout: Duration,
        closing: &AtomicBool,
    ) -> Result<Vec<Vec<u8>>, Fault> {
        let pid = self.pid;
        let sent = match self.stdin.as_mut() {
            Some(stdin) => write_frame(stdin, request).is_ok(),
            None => false,
        };
        if !sent {
            // The pipe is closed: the worker is gone (or going).
            let status = settle(&mut self.child, Duration::from_secs(2));
            return Err(Fault::Died { pid, status });
        }
        let deadline = Instant::now() + timeout;
        let received = loop {
            let now = Instant::now();
            let slice = deadline
                .saturating_duration_since(now)
                .min(Duration::from_millis(50));
            match self.rx.recv_timeout(slice) {
                Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => {
                    if closing.load(Ordering::SeqCst) {
                        let _ = self.child.kill();
                        let _ = self.child.wait();
                        return Err(Fault::Closed);
                    }
                }
                other => break other,
            }
        };
        match received {
            Ok(Incoming::Frame(bytes)) => match from_bytes::<Reply>(&bytes) {
                Ok(Reply::Done { task: t, results }) if t == task => Ok(results),
                Ok(Reply::Panicked {
                    task: t,
                    index,
                    message,
                }) if t == task => Err(Fault::Panicked {
                    index,
                    pid,
                    message,
                }),
                Ok(Reply::Refused {
                    task: t,
                    index,
                    message,
                }) if t == task => Err(Fault::Refused {
                    index,
                    pid,
                    message,
                }),
                _ => {
                    let _ = self.child.kill();
                    let status = settle(&mut self.child, Duration::from_secs(2));
                    Err(Fault::Died {
                        pid,
                        status: format!(
                            "it broke the protocol (an unexpected reply), so it {status}"
                        ),
                    })
                }
            },
            Ok(Incoming::NotAWorker(_)) => unreachable!("only before the greeting"),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = self.child.kill();
                let _ = self.child.wait();
                Err(Fault::Timeout {
                    pid,
                    after: timeout,
                })
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = settle(&mut self.child, Duration::from_secs(2));
                Err(Fault::Died { pid, status })
            }
        }
    }

    /// Closes the worker's stdin (it exits at the end of its input), waits up to 2 s, kills
    /// it if it has not exited.
    pub(super) fn shut_down(mut self) {
        drop(self.stdin.take());
        let _ = settle(&mut self.child, Duration::from_secs(2));
    }

    /// A bare round trip through the pipes (no function call): for measuring.
    pub(super) fn ping(&mut self, payload: &[u8]) -> Option<()> {
        let stdin = self.stdin.as_mut()?;
        write_frame(stdin, &to_bytes(&Request::Ping(payload.to_vec()))).ok()?;
        match self.rx.recv_timeout(Duration::from_secs(10)).ok()? {
            Incoming::Frame(bytes) => match from_bytes::<Reply>(&bytes).ok()? {
                Reply::Pong(_) => Some(()),
                _ => None,
            },
            Incoming::NotAWorker(_) => None,
        }
    }
}
