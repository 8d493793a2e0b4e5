//! The worker side: the [`Registry`] of functions a worker can run, and the loop a worker
//! process runs instead of `main` (entered through [`hook`](super::hook)).

use std::any::type_name;
use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::panic::AssertUnwindSafe;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::wire::{Wire, WireError, from_bytes, read_frame, to_bytes, write_frame};

/// The first bytes a worker writes: anything else on the pipe is not a synckit worker.
pub(crate) const MAGIC: &[u8; 8] = b"SYNCKIT\x01";
/// The protocol version in the hello.
pub(crate) const VERSION: u32 = 1;

type Call = Box<dyn Fn(&[u8]) -> Result<Vec<u8>, WireError> + Send + Sync>;

struct Entry {
    arg: &'static str,
    ret: &'static str,
    call: Call,
}

/// The functions a worker process can run, by name: Python's "the target must be importable
/// by the child", made explicit. Build the same registry in the parent's
/// [`hook`](super::hook) call, once, at the top of `main`.
///
/// Every registry also holds a few built-ins, named `synckit.*`, that synckit's own
/// demonstrations use: `synckit.echo` (`Vec<u8>` → `Vec<u8>`), `synckit.spin` (`u64` units of
/// [`gil::spin`](crate::gil::spin) → checksum), `synckit.pid` (`()` → `u32`) and
/// `synckit.bump` (`()` → `u64`: increments a counter that lives in the worker's memory).
///
/// # Examples
///
/// ```
/// use synckit::process::Registry;
///
/// fn registry() -> Registry {
///     Registry::new()
///         .register("square", |x: u64| x * x)
///         .register("shout", |s: String| s.to_uppercase())
/// }
/// assert!(registry().names().any(|n| n == "square"));
/// ```
pub struct Registry {
    functions: BTreeMap<String, Entry>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.functions
                    .iter()
                    .map(|(k, e)| (k, format!("fn({}) -> {}", e.arg, e.ret))),
            )
            .finish()
    }
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new()
    }
}

/// The worker's own counter for `synckit.bump`: the parent has its own copy, never touched.
static BUMPED: AtomicU64 = AtomicU64::new(0);

/// This process's copy of the `synckit.bump` counter.
pub(crate) fn bumped() -> u64 {
    BUMPED.load(Ordering::SeqCst)
}

impl Registry {
    /// A registry with only the `synckit.*` built-ins.
    pub fn new() -> Self {
        let mut r = Registry {
            functions: BTreeMap::new(),
        };
        r.insert("synckit.echo", |bytes: Vec<u8>| bytes);
        r.insert("synckit.spin", crate::gil::spin);
        r.insert("synckit.pid", |(): ()| std::process::id());
        r.insert("synckit.bump", |(): ()| {
            BUMPED.fetch_add(1, Ordering::SeqCst) + 1
        });
        r
    }

    /// Registers `f` under `name`. Its argument and result cross the pipes as [`Wire`]
    /// bytes; the pool checks at the call that the types match the registration.
    ///
    /// # Panics
    ///
    /// If `name` is already registered, or starts with `synckit.` (reserved for built-ins).
    pub fn register<A, R, F>(mut self, name: &str, f: F) -> Self
    where
        A: Wire + 'static,
        R: Wire + 'static,
        F: Fn(A) -> R + Send + Sync + 'static,
    {
        assert!(
            !name.starts_with("synckit."),
            "`{name}`: names starting with `synckit.` are reserved for synckit's built-ins"
        );
        self.insert(name, f);
        self
    }

    fn insert<A, R, F>(&mut self, name: &str, f: F)
    where
        A: Wire + 'static,
        R: Wire + 'static,
        F: Fn(A) -> R + Send + Sync + 'static,
    {
        let entry = Entry {
            arg: type_name::<A>(),
            ret: type_name::<R>(),
            call: Box::new(move |bytes| Ok(to_bytes(&f(from_bytes::<A>(bytes)?)))),
        };
        let previous = self.functions.insert(name.to_string(), entry);
        assert!(previous.is_none(), "`{name}` is registered twice");
    }

    /// The registered names, in order (built-ins included).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.functions.keys().map(String::as_str)
    }

    /// `(name, argument type, result type)` of every function: what a worker announces.
    pub(crate) fn signatures(&self) -> Vec<(String, String, String)> {
        self.functions
            .iter()
            .map(|(k, e)| (k.clone(), e.arg.to_string(), e.ret.to_string()))
            .collect()
    }
}

/// What the parent sends.
pub(crate) enum Request {
    /// Run `name` on each argument, in order.
    Run {
        task: u64,
        name: String,
        args: Vec<Vec<u8>>,
    },
    /// Answer at once with the same bytes (the bare pipe round trip).
    Ping(Vec<u8>),
}

/// What a worker answers.
pub(crate) enum Reply {
    /// Every item ran; their results in order.
    Done { task: u64, results: Vec<Vec<u8>> },
    /// Item `index` panicked (the earlier ones ran; the later ones did not).
    Panicked {
        task: u64,
        index: u64,
        message: String,
    },
    /// The task could not start (unknown name) or item `index` could not be decoded.
    Refused {
        task: u64,
        index: u64,
        message: String,
    },
    /// The answer to a ping.
    Pong(Vec<u8>),
}

impl Wire for Request {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Request::Run { task, name, args } => {
                out.push(1);
                (task, name, args).encode_ref(out);
            }
            Request::Ping(bytes) => {
                out.push(2);
                bytes.encode(out);
            }
        }
    }
    fn decode(input: &mut &[u8]) -> Result<Self, WireError> {
        match u8::decode(input)? {
            1 => Ok(Request::Run {
                task: Wire::decode(input)?,
                name: Wire::decode(input)?,
                args: Wire::decode(input)?,
            }),
            2 => Ok(Request::Ping(Wire::decode(input)?)),
            t => Err(WireError(format!("unknown request tag {t}"))),
        }
    }
}

/// Encodes a tuple of references field by field (avoids cloning what is sent).
trait EncodeRef {
    fn encode_ref(&self, out: &mut Vec<u8>);
}

impl<A: Wire, B: Wire, C: Wire> EncodeRef for (&A, &B, &C) {
    fn encode_ref(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
        self.1.encode(out);
        self.2.encode(out);
    }
}

impl Wire for Reply {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Reply::Done { task, results } => {
                out.push(1);
                task.encode(out);
                results.encode(out);
            }
            Reply::Panicked {
                task,
                index,
                message,
            } => {
                out.push(2);
                (task, index, message).encode_ref(out);
            }
            Reply::Refused {
                task,
                index,
                message,
            } => {
                out.push(3);
                (task, index, message).encode_ref(out);
            }
            Reply::Pong(bytes) => {
                out.push(4);
                bytes.encode(out);
            }
        }
    }
    fn decode(input: &mut &[u8]) -> Result<Self, WireError> {
        match u8::decode(input)? {
            1 => Ok(Reply::Done {
                task: Wire::decode(input)?,
                results: Wire::decode(input)?,
            }),
            2 => Ok(Reply::Panicked {
                task: Wire::decode(input)?,
                index: Wire::decode(input)?,
                message: Wire::decode(input)?,
            }),
            3 => Ok(Reply::Refused {
                task: Wire::decode(input)?,
                index: Wire::decode(input)?,
                message: Wire::decode(input)?,
            }),
            4 => Ok(Reply::Pong(Wire::decode(input)?)),
            t => Err(WireError(format!("unknown reply tag {t}"))),
        }
    }
}

/// What a worker says first, after [`MAGIC`].
pub(crate) struct Hello {
    pub version: u32,
    pub pid: u32,
    pub functions: Vec<(String, String, String)>,
}

impl Wire for Hello {
    fn encode(&self, out: &mut Vec<u8>) {
        self.version.encode(out);
        self.pid.encode(out);
        self.functions.encode(out);
    }
    fn decode(input: &mut &[u8]) -> Result<Self, WireError> {
        Ok(Hello {
            version: Wire::decode(input)?,
            pid: Wire::decode(input)?,
            functions: Wire::decode(input)?,
        })
    }
}

/// The message and location of the last panic in this worker (set by its panic hook).
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// The worker process's main loop: announce, then run requests until the parent closes the
/// pipe. Never returns.
pub(crate) fn serve(registry: Registry) -> ! {
    let (mut input, mut output) = protocol_pipes();
    // The panic is reported to the parent, with its location, as the task's error; printing
    // it here as well would only duplicate it on the terminal.
    std::panic::set_hook(Box::new(|info| {
        let message = crate::detector::panic_message(info.payload());
        let text = match info.location() {
            Some(l) => format!("{message} (at {}:{}:{})", l.file(), l.line(), l.column()),
            None => message,
        };
        *LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()) = Some(text);
    }));
    let hello = Hello {
        version: VERSION,
        pid: std::process::id(),
        functions: registry.signatures(),
    };
    let ok = output.write_all(MAGIC).is_ok() && write_frame(&mut output, &to_bytes(&hello)).is_ok();
    if !ok {
        std::process::exit(3);
    }
    loop {
        let frame = match read_frame(&mut input) {
            Ok(Some(frame)) => frame,
            // The parent closed the pipe (the pool was dropped) or went away.
            Ok(None) | Err(_) => std::process::exit(0),
        };
        let reply = match from_bytes::<Request>(&frame) {
            Ok(Request::Ping(bytes)) => Reply::Pong(bytes),
            Ok(Request::Run { task, name, args }) => run(&registry, task, &name, &args),
            Err(e) => {
                let _ = writeln!(std::io::stderr(), "synckit worker: bad request: {e}");
                std::process::exit(4);
            }
        };
        if write_frame(&mut output, &to_bytes(&reply)).is_err() {
            std::process::exit(0);
        }
    }
}

fn run(registry: &Registry, task: u64, name: &str, args: &[Vec<u8>]) -> Reply {
    let Some(entry) = registry.functions.get(name) else {
        return Reply::Refused {
            task,
            index: 0,
            message: format!("no function named `{name}` is registered in this worker"),
        };
    };
    let mut results = Vec::with_capacity(args.len());
    for (index, arg) in args.iter().enumerate() {
        let index = index as u64;
        match std::panic::catch_unwind(AssertUnwindSafe(|| (entry.call)(arg))) {
            Ok(Ok(bytes)) => results.push(bytes),
            Ok(Err(e)) => {
                return Reply::Refused {
                    task,
                    index,
                    message: format!("the argument {e} as {}", entry.arg),
                };
            }
            Err(payload) => {
                let message = LAST_PANIC
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take()
                    .unwrap_or_else(|| crate::detector::panic_message(&*payload));
                return Reply::Panicked {
                    task,
                    index,
                    message,
                };
            }
        }
    }
    Reply::Done { task, results }
}

/// The pipes to the parent, taken from stdin and stdout; then stdout is pointed at stderr
/// (so a `println!` in a task cannot corrupt the protocol) and stdin at `/dev/null`.
#[cfg(unix)]
fn protocol_pipes() -> (std::fs::File, std::fs::File) {
    use std::os::fd::{AsFd, AsRawFd};

    let input = std::io::stdin()
        .as_fd()
        .try_clone_to_owned()
        .expect("synckit worker: cannot duplicate stdin");
    let output = std::io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .expect("synckit worker: cannot duplicate stdout");
    let _ = std::io::stdout().flush();
    let null = std::fs::File::open("/dev/null").ok();
    // SAFETY: dup2 on descriptors this process owns; fds 0 and 1 stay valid (they are
    // replaced atomically), and the duplicates above keep the pipes open.
    unsafe {
        if let Some(null) = &null {
            libc::dup2(null.as_raw_fd(), 0);
        }
        libc::dup2(2, 1);
    }
    (std::fs::File::from(input), std::fs::File::from(output))
}

/// Elsewhere: stdin and stdout are the pipes as they are (a task must not print to stdout).
#[cfg(not(unix))]
fn protocol_pipes() -> (impl std::io::Read, impl Write) {
    (std::io::stdin(), std::io::stdout())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_replies_round_trip() {
        let r = from_bytes::<Request>(&to_bytes(&Request::Run {
            task: 7,
            name: "f".into(),
            args: vec![vec![1, 2]],
        }))
        .unwrap();
        assert!(
            matches!(r, Request::Run { task: 7, ref name, ref args } if name == "f" && args[0] == [1, 2])
        );
        let r = from_bytes::<Reply>(&to_bytes(&Reply::Panicked {
            task: 1,
            index: 2,
            message: "m".into(),
        }))
        .unwrap();
        assert!(matches!(
            r,
            Reply::Panicked {
                task: 1,
                index: 2,
                ..
            }
        ));
    }

    #[test]
    fn a_registry_runs_by_name_and_catches_panics() {
        let reg = Registry::new()
            .register("double", |x: u32| x * 2)
            .register("fail", |x: u32| -> u32 { panic!("no {x}") });
        let args = vec![to_bytes(&3u32), to_bytes(&4u32)];
        match run(&reg, 1, "double", &args) {
            Reply::Done { results, .. } => {
                assert_eq!(from_bytes::<u32>(&results[1]).unwrap(), 8)
            }
            _ => panic!("expected done"),
        }
        assert!(matches!(
            run(&reg, 2, "fail", &args),
            Reply::Panicked { index: 0, .. }
        ));
        assert!(matches!(run(&reg, 3, "nope", &args), Reply::Refused { .. }));
        assert!(matches!(
            run(&reg, 4, "double", &[vec![1]]),
            Reply::Refused { .. }
        ));
    }

    #[test]
    #[should_panic(expected = "reserved")]
    fn builtin_names_are_reserved() {
        let _ = Registry::new().register("synckit.x", |x: u8| x);
    }

    #[test]
    #[should_panic(expected = "registered twice")]
    fn a_name_registers_once() {
        let _ = Registry::new()
            .register("f", |x: u8| x)
            .register("f", |x: u8| x);
    }
}
