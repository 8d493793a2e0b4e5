//! The program's own output during a search: thrown away while searching, kept for the one
//! replay a failure shows ([`Config::capture_output`](super::Config::capture_output)).
//!
//! Rust has no stable per-thread output capture (libtest's is internal), so this works one
//! level down, on Linux: the search runs on a worker thread created with `pthread_create`
//! (a std thread would inherit the test harness's capture, which `print!` writes to instead
//! of fd 1), which takes a private copy of the process's file-descriptor table
//! (`unshare(CLONE_FILES)`) and points its fds 1 and 2 at `/dev/null`, or, for the shown
//! replay, at a memory file read back afterwards. Every other thread of the process keeps
//! the real stdout and stderr. Elsewhere, or where the kernel refuses, output is not
//! captured (the search says nothing about it).
//!
//! A file the body opens lives in the worker's own table: a `std::thread` the body starts
//! can use it (threads started on the worker share its table), but not a thread that was
//! already running. [`Config::capture_output(false)`](super::Config::capture_output) runs the
//! search on a std thread with the process's table.

use std::io::Write;

/// The worker's view of its output.
pub(super) struct Capture {
    #[cfg(target_os = "linux")]
    fds: Option<linux::Fds>,
}

impl Capture {
    /// No capture: output goes where the process's goes.
    pub(super) fn none() -> Self {
        Capture {
            #[cfg(target_os = "linux")]
            fds: None,
        }
    }

    /// On the worker, first thing: a private fd table with stdout and stderr thrown away.
    /// `None` where that cannot be done.
    pub(super) fn start() -> Self {
        #[cfg(target_os = "linux")]
        {
            Capture {
                fds: linux::Fds::start(),
            }
        }
        #[cfg(not(target_os = "linux"))]
        {
            Capture::none()
        }
    }

    /// Runs `f` with stdout and stderr going to a fresh buffer, and returns what `f` wrote
    /// there (empty without a capture).
    pub(super) fn keep<R>(&mut self, f: impl FnOnce() -> R) -> (R, Vec<u8>) {
        #[cfg(target_os = "linux")]
        if let Some(fds) = &mut self.fds {
            fds.point_at_buffer();
            let r = f();
            let _ = std::io::stdout().flush();
            let output = fds.take_buffer();
            return (r, output);
        }
        (f(), Vec::new())
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::fs::File;
    use std::io::{Read, Seek, SeekFrom, Write};

    use std::os::fd::{AsRawFd, FromRawFd};

    /// `/dev/null` and the memory file, and which one fds 1 and 2 point at.
    pub(super) struct Fds {
        null: File,
        buffer: File,
    }

    impl Fds {
        pub(super) fn start() -> Option<Fds> {
            // SAFETY: `unshare` only changes the calling thread's own fd table (a copy of the
            // process's from now on); it takes no pointer.
            if unsafe { libc::unshare(libc::CLONE_FILES) } != 0 {
                return None;
            }
            let null = File::options().write(true).open("/dev/null").ok()?;
            // SAFETY: a NUL-terminated name and plain flags; the result is checked before use.
            let fd = unsafe {
                libc::memfd_create(c"synckit-explore-output".as_ptr(), libc::MFD_CLOEXEC)
            };
            if fd < 0 {
                return None;
            }
            // SAFETY: `fd` was just created, is valid, and is owned by nothing else.
            let buffer = unsafe { File::from_raw_fd(fd) };
            let fds = Fds { null, buffer };
            fds.point(fds.null.as_raw_fd());
            Some(fds)
        }

        /// Points fds 1 and 2 of this thread's table at `fd`.
        fn point(&self, fd: i32) {
            let _ = std::io::stdout().flush();
            // SAFETY: `dup2` on fds this struct owns and on 1 and 2 of the worker's private
            // table (see `start`): no other thread's output is redirected.
            unsafe {
                libc::dup2(fd, 1);
                libc::dup2(fd, 2);
            }
        }

        pub(super) fn point_at_buffer(&mut self) {
            let _ = self.buffer.set_len(0);
            let _ = self.buffer.seek(SeekFrom::Start(0));
            self.point(self.buffer.as_raw_fd());
        }

        pub(super) fn take_buffer(&mut self) -> Vec<u8> {
            self.point(self.null.as_raw_fd());
            let mut out = Vec::new();
            let _ = self.buffer.seek(SeekFrom::Start(0));
            let _ = self.buffer.read_to_end(&mut out);
            let _ = self.buffer.set_len(0);
            out
        }
    }

    /// Starts `f` on a thread of its own made with `pthread_create`, so that it inherits no
    /// output capture of the test harness; joined with the returned handle. Gives `f` back
    /// if the thread cannot be made.
    pub(in super::super) fn spawn_raw(
        f: Box<dyn FnOnce() + Send>,
    ) -> Result<RawThread, Box<dyn FnOnce() + Send>> {
        extern "C" fn start(arg: *mut libc::c_void) -> *mut libc::c_void {
            // SAFETY: `arg` is the box leaked by `spawn_raw` for this thread alone.
            let f = unsafe { Box::from_raw(arg.cast::<Box<dyn FnOnce() + Send>>()) };
            // A panic must not unwind into C: `f` catches its own, this is the last guard.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            std::ptr::null_mut()
        }
        let arg = Box::into_raw(Box::new(f)).cast::<libc::c_void>();
        let mut thread: libc::pthread_t = 0;
        // SAFETY: `start` is a valid entry point that takes ownership of `arg`; default
        // attributes (a joinable thread with the default stack size).
        let r = unsafe { libc::pthread_create(&mut thread, std::ptr::null(), start, arg) };
        if r != 0 {
            // SAFETY: the thread was not created, so the box is still ours.
            return Err(*unsafe { Box::from_raw(arg.cast::<Box<dyn FnOnce() + Send>>()) });
        }
        Ok(RawThread(thread))
    }

    /// A thread made by [`spawn_raw`].
    pub(in super::super) struct RawThread(libc::pthread_t);

    impl RawThread {
        /// Waits for it to end.
        pub(in super::super) fn join(self) {
            // SAFETY: a joinable thread created by `spawn_raw`, joined once (this consumes
            // the handle).
            unsafe { libc::pthread_join(self.0, std::ptr::null_mut()) };
        }

        /// Lets it end on its own (a worker stuck in the code under test).
        pub(in super::super) fn detach(self) {
            // SAFETY: as for `join`: once, on a joinable thread of ours.
            unsafe { libc::pthread_detach(self.0) };
        }
    }
}

#[cfg(target_os = "linux")]
pub(super) use linux::{RawThread, spawn_raw};
