//! The course catalog: every exercise's number, title, idea, hints and background.
//!
//! One source for two readers: the front door (`cargo run`, `cargo run -- hint N`,
//! `cargo run -- explain N`) and the course harness (`tests/exercises.rs` includes this file
//! with `#[path]`), which prints the first hint under every failing check. Plain data and
//! `std` only, so both can compile it.
#![allow(dead_code)]

/// One exercise of the course.
pub struct Exercise {
    /// Its number: `exercises/exercise_{number}.rs`, `cargo test exercise_{number}`.
    pub number: u32,
    /// A short title.
    pub title: &'static str,
    /// The idea in one line.
    pub idea: &'static str,
    /// Hints, weakest first. The first one is printed under a failing check.
    pub hints: &'static [&'static str],
    /// Background, in our own words (from the study notes in the seeds).
    pub explain: &'static str,
}

impl Exercise {
    /// The learner's file, relative to the crate root.
    pub fn file(&self) -> String {
        format!("exercises/exercise_{}.rs", self.number)
    }

    /// The untouched stub, relative to the crate root: what the learner's file starts as
    /// (the front door compares against it to say "not started"; no git needed).
    pub fn stub_file(&self) -> String {
        format!("tests/course/stubs/exercise_{}.rs", self.number)
    }

    /// The reference solution, relative to the crate root.
    pub fn solution_file(&self) -> String {
        format!("solutions/exercise_{}.rs", self.number)
    }

    /// The test filter that selects exactly this exercise.
    pub fn filter(&self) -> String {
        format!("exercise_{}", self.number)
    }
}

/// The exercise numbered `n`, if the course has one.
pub fn exercise(n: u32) -> Option<&'static Exercise> {
    EXERCISES.iter().find(|e| e.number == n)
}

/// The numbers of every exercise, as text: `1, 2, …, 12`.
pub fn numbers() -> String {
    EXERCISES
        .iter()
        .map(|e| e.number.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The course, in order. Numbers are stable once published.
pub const EXERCISES: &[Exercise] = &[
    Exercise {
        number: 1,
        title: "Threads",
        idea: "spawn named threads, share data with Arc, join them and collect in order",
        hints: &[
            "Spawn one thread per page with `synckit::thread::spawn_named(&format!(\"page-{i}\"), ...)`, \
             keep the JoinHandles in a Vec, and join them in order.",
            "A spawned thread may outlive the function that started it, so its closure must own \
             what it uses: clone the Arc (`let pages = Arc::clone(&pages);`) before `move ||`, \
             and index the page inside the thread.",
            "The shape: `let handles: Vec<_> = (0..pages.len()).map(|i| { let pages = Arc::clone(&pages); \
             spawn_named(&format!(\"page-{i}\"), move || count_page(&pages[i])) }).collect();` then \
             `handles.into_iter().map(|h| h.join().expect(\"page thread\")).collect()`.",
        ],
        explain: "\
A process is a running program with its own memory, its own file handles, its own everything:
isolated, and therefore safe, but slow to create and awkward to talk to (pipes, sockets, files).
A thread is a second line of execution *inside* one process. Threads share the process's memory,
so they are cheap to create, quick to switch between, and can talk simply by touching the same
data. That is their strength (no copying, no plumbing) and their danger: two threads touching the
same data at the same time is how every bug in this course begins.

Threads shine when work spends its time waiting (for the disk, the network, a user): while one
thread waits, another runs. In Python, the Global Interpreter Lock lets only one thread run Python
code at a time, so threads help with waiting but not with heavy computation (exercises 9 and 10).
Rust has no such lock: its threads really run in parallel on several cores.

Rust's part of the bargain is ownership. A spawned thread may outlive the function that started
it, so the closure you give it must own everything it uses (`move`). To let several threads read
the same data, wrap it in an `Arc` (atomically reference-counted pointer): each thread gets its own
clone of the pointer, and the data lives until the last clone is dropped. `join()` waits for a
thread to finish and hands back what it returned (or its panic).

synckit's `thread::spawn_named` is `std::thread::spawn` with a name that the deadlock detector's
reports and timelines show, and a `join` the detector can see.",
    },
    Exercise {
        number: 2,
        title: "Race condition",
        idea: "check-then-act loses updates; hold one Lock across the check and the act",
        hints: &[
            "Each teller reads the balance under the lock, lets go, and writes later: another teller \
             can read the same old balance in between. Keep ONE guard from the read to the write.",
            "Take the guard once (`let mut balance = account.balance.acquire();`), call `between()` \
             while you still hold it, then check and update through the same guard (`*balance -= amount`).",
            "Locking each access is not enough: the read, the decision and the write must be one \
             critical section. A second `acquire()` means a second, separate critical section.",
        ],
        explain: "\
A race condition is a bug whose outcome depends on how the threads happen to interleave. The
classic one is check-then-act: look at shared state, decide, then change it. If another thread
changes the state between your look and your change, you act on a stale view. Two tellers both
see a balance of 100, both decide that 80 can be paid out, both write 20: 160 left the bank and the
balance says 20. One update was lost.

A lock (a mutex) makes a stretch of code a critical section: only one thread at a time can be in
it. The fix is not to lock each access separately (the stub does that, and still loses updates),
but to make the whole check-and-act one critical section, so nobody can slip in between.

Races are hard to catch by testing because the bad interleaving is rare: the window between look
and change is a few nanoseconds. The course makes it wide on purpose: the check parks the first
teller between its look and its change until the second teller has looked too, so the stub fails
every time instead of once in a million runs.",
    },
    Exercise {
        number: 3,
        title: "Re-entrancy",
        idea: "a plain Lock taken twice by one thread waits for itself; use RLock or a _locked helper",
        hints: &[
            "`deposit` holds the account's Lock and calls `audit`, which asks for the same Lock again. \
             A plain Lock is not re-entrant: either do the audit without re-acquiring, or use an RLock.",
            "Fix 1 (keep the Lock): move the audit's body into `fn audit_locked(ledger: &Ledger) -> bool` \
             that expects the lock to be held; `audit()` takes the lock and calls it, and `deposit` calls it \
             with the guard it already has.",
            "Fix 2 (RLock): make the field `RLock<RefCell<Ledger>>`. The RLock lets the same thread in again; \
             its guard gives `&`, so change the ledger through `borrow_mut()` and let that borrow end \
             before calling `audit()`.",
        ],
        explain: "\
A lock protects data from *other* threads. What should happen when the thread that holds a lock
asks for it again? With a plain Lock, the second acquire waits until the lock is released, and the
only thread that can release it is the one now waiting: it waits for itself, forever. This happens
easily in object-oriented code: a public method takes the object's lock and calls another public
method that takes it too.

An RLock (re-entrant lock) remembers its owner and a count: the owner may acquire it again, each
acquire must be matched by a release, and other threads get in only when the count is back to
zero. Use an RLock when a function may be called with the lock already held: object models whose
methods call each other, recursive algorithms.

Use a plain Lock for everything else. It is a little cheaper, and its strictness is useful: a
thread asking again for a lock it holds is often a sign of a design problem (who is supposed to
hold the lock here?). The alternative to an RLock is to split each method in two: a public one
that takes the lock, and a `_locked` helper that expects it to be held and does the work.

synckit reports the second acquire at once, with both call sites, instead of hanging.",
    },
    Exercise {
        number: 4,
        title: "RLock in depth",
        idea: "recursion re-enters an RLock; its ownership is per thread; a Condition over an RLock",
        hints: &[
            "`child_totals_in_parallel` holds the tree's RLock while it joins threads that need that \
             RLock: re-entrancy is per thread, and the workers are other threads. Let go before you wait \
             for them. `wait_until_total` is a Condition wait: hold the RLock and wait while the total is \
             too small.",
            "For the parallel totals: read the list of children inside a block (`let children = { let nodes = \
             self.nodes.acquire(); ... };`) so the guard is dropped before the threads start. For the wait: \
             `let mut nodes = self.nodes.acquire();` then `while self.total_size(node) < at_least { \
             self.grown.wait(&mut nodes); }`.",
            "A Condition wait releases the RLock completely, however many times this thread holds it, and \
             takes it back the same number of times before returning: `total_size` can re-enter the lock \
             inside the loop, and the caller's hold is intact afterwards.",
        ],
        explain: "\
An RLock has an owner and a count. The owner can acquire it again (the count goes up) and each
release brings the count down; the lock is free again at zero. That makes recursion natural: a
function that takes the lock can call itself, or another method that takes the lock, and each
level simply re-enters.

Ownership is per *thread*, not per call chain. A thread you start while holding an RLock does not
share your hold: for it, the lock is held by someone else, and it waits. If you then wait for that
thread (join) while still holding the lock, the two of you wait for each other. In Python, only the
owner may release an RLock (another thread's release raises RuntimeError); in synckit the guard
cannot even be sent to another thread, so the mistake cannot be written.

A Condition can be built over an RLock. Waiting releases the lock fully, whatever the count, so
other threads can get in and change things, and re-acquires it to the same count before returning.
As always with conditions, check the predicate again after waking (`while`, or `wait_while`).",
    },
    Exercise {
        number: 5,
        title: "Semaphore",
        idea: "a pool of permits bounds concurrency; a BoundedSemaphore catches a double release",
        hints: &[
            "`let _ = self.permits.acquire();` drops the permit at once (`_` is not a variable). Bind it to \
             a name, `let _permit = ...`, so it lives until the end of the function. And make `permits` a \
             BoundedSemaphore so a second check-in is an error.",
            "With a BoundedSemaphore, `release()` returns `Result<(), UsageError>`: return it from \
             `check_in` as it is. `check_out` takes a permit and `forget()`s the guard, so it stays taken \
             until `check_in`.",
            "`BoundedSemaphore::new(size).named(\"connections\")`; `available()` works the same on both kinds.",
        ],
        explain: "\
A semaphore is a counter of permits. `acquire` takes one, waiting while there are none; `release`
gives one back and wakes a waiter. A lock is a semaphore with one permit that only its holder may
give back; a semaphore with N permits lets up to N threads into a section at once: a connection
pool, a limit on parallel downloads, seats in a room.

Because any thread may call `release` on a plain semaphore, it is also a signal: one thread
releases, another acquires. The price of that freedom is that a release nobody acquired goes
unnoticed: the semaphore quietly grows, and your pool of 3 is now a pool of 4. A bounded semaphore
refuses to go above its initial value and reports the extra release (Python raises ValueError,
synckit returns a UsageError).

In Rust, the permit is a guard: it goes back when dropped. Mind `let _ = sem.acquire();` — the
pattern `_` binds nothing, so the guard is dropped on the spot and the permit is returned before
the work even starts. `let _permit = ...` keeps it to the end of the scope.",
    },
    Exercise {
        number: 6,
        title: "Condition",
        idea: "bounded producer/consumer: wait in a `while` loop; notify_all when everyone must hear",
        hints: &[
            "`get` checks `if` the queue is empty once; after waking, another consumer may already have \
             taken the item. Check again: `while`. And `close` must wake *every* waiting consumer, not one.",
            "In `get`: `while state.items.is_empty() && !state.closed { self.changed.wait(&mut state); }`. \
             In `close`: `self.changed.notify_all()`.",
            "`wait_while(&mut state, |s| s.items.is_empty() && !s.closed)` is the same loop in one call. \
             notify(1) is enough only when any single waiter can handle the news; closing is news for all.",
        ],
        explain: "\
A condition variable lets a thread sleep until some state changes, without spinning. It always
goes with a lock: you hold the lock, look at the state, and if it is not what you need, you wait.
Waiting releases the lock (so others can change the state) and takes it back before returning.
Whoever changes the state notifies: notify(1) wakes one waiter, notify_all wakes them all.

Two rules make condition code correct:
1. Wait in a loop: `while !ready { cond.wait(&mut guard) }`. Between the notify and your wake-up,
   another thread may take the lock first and change the state again (take the item you were woken
   for). Waking up means \"something changed, look again\", never \"what you want is true\".
2. Notify everyone who might care. notify(1) wakes one waiter; if the news matters to all of them
   (the queue is closed, the shutdown flag is set) the others sleep forever: a lost wake-up.

A bounded producer/consumer queue uses both: producers wait while it is full, consumers while it is
empty. synckit's closed world (`synckit::check`) notices when every thread is asleep and no one is
left to notify them, and reports it instead of hanging.",
    },
    Exercise {
        number: 7,
        title: "Dining philosophers",
        idea: "five threads, five locks, one cycle: a deadlock; break it with a global lock order",
        hints: &[
            "Everybody picks up the left fork first, so all five can hold one fork and wait for the next: a \
             cycle. Make one philosopher pick up in the other order: always take the lower-numbered fork first.",
            "`let (first, second) = (left.min(right), left.max(right));` then pick up `first`, then `second`. \
             Philosopher 4 sits between forks 4 and 0, so it takes fork 0 first: the cycle cannot close.",
            "Another fix: the waiter. Take a permit from `table.waiter()` (4 permits) before picking up any \
             fork and keep it while eating: with at most four at the table, one of them always gets two forks.",
        ],
        explain: "\
Five philosophers sit around a table with five forks, one between each pair. To eat, a philosopher
needs both neighbouring forks. If each picks up the left fork and then waits for the right one,
and all five do it at the same moment, every fork is held and every philosopher waits for a fork
that its neighbour will never put down: a deadlock.

A deadlock needs four things at once (Coffman's conditions): resources held exclusively, held
while waiting for more, not taken away by force, and a cycle of threads each waiting for the next.
Break any one and deadlock is impossible. The practical one to break is the cycle: give the locks a
global order and always acquire in that order. Then the thread holding the highest lock never waits
for a lower one, so the chain of waits always ends.

Another way is to limit who may try: a waiter (a semaphore with four permits) lets at most four
philosophers sit at once, and four philosophers with five forks cannot all be stuck.

synckit builds a wait-for graph (threads wait for locks, locks are held by threads). The acquire that
would close a cycle is reported before it blocks, naming every thread, fork and line.",
    },
    Exercise {
        number: 8,
        title: "Lock-order inversion",
        idea: "the deadlock that did not happen this run: take the two account locks in id order",
        hints: &[
            "`transfer(a, b)` locks a then b; `transfer(b, a)` locks b then a. Run them at the same time and \
             they deadlock. Lock the account with the lower id first, whatever the direction of the transfer.",
            "`let (first, second) = if from.id < to.id { (from, to) } else { (to, from) };` then lock `first`, \
             then `second`, and move the money between the right guards. Skip a transfer to the same account.",
            "Accounts made with `Account::in_class` are one lock class (like Linux's lockdep): taking two of them \
             needs a declared order. Take the second with `acquire_nested(1)` after sorting by id.",
        ],
        explain: "\
A deadlock needs an unlucky interleaving, so most runs of deadlock-prone code are fine. That is
what makes it dangerous: tests pass, and production hangs once a month. The cause can be seen in
any run, though: two locks taken in both orders. Thread 1 takes A then B, thread 2 takes B then A;
if each gets its first lock before the other gets its second, they wait for each other forever.

synckit records a lock-order graph (like the Linux kernel's lockdep): an edge A -> B the first time
B is acquired while A is held. A new edge that closes a cycle is a lock-order inversion, reported
with the call sites of every edge, even when the run itself did not deadlock.

The cure is a global order: decide, for any two locks, which comes first (by account id, by
address, by level in a hierarchy) and always acquire in that order. Lock classes group many locks
(all accounts) into one node of the graph; taking two locks of the same class then needs an
explicit nesting level (`acquire_nested(1)`) to say that you order them yourself.",
    },
    Exercise {
        number: 9,
        title: "The GIL",
        idea: "one interpreter lock: threads for waiting, processes for computing, read on the trace",
        hints: &[
            "Under one GIL, computing threads take turns: the trace can never show them above 1.0. \
             Send the crunch jobs to `workers` (processes: each has its own interpreter and its own \
             GIL) and keep the fetch jobs on their threads: `py.io` already releases the GIL while \
             a thread waits.",
            "`workers.run(job)` blocks until the worker is done. Block outside the GIL, \
             `py.blocking(|| workers.run(job))`, or your thread holds the GIL while its worker \
             computes and the other threads cannot even send their jobs.",
            "The shape: `match *job { Job::Crunch { .. } => py.blocking(|| workers.run(job)), \
             Job::Fetch { wait } => py.io(wait) }`. Computing with the GIL released in this process \
             (`py.blocking(|| synckit::gil::spin(units))`) does not count: only native code may do \
             that, and a crunch job is Python code.",
        ],
        explain: "\
CPython, the Python most people run, has a Global Interpreter Lock: one mutex per interpreter
that a thread must hold to run Python bytecode. So however many cores the machine has, only one
thread of a Python program computes at any instant. The GIL exists to keep the interpreter's own
bookkeeping simple: reference counts and the garbage collector can change any object without a
lock per object, because nobody else is running Python code meanwhile.

A thread gives the GIL up in two situations. It releases it around anything that waits: reading a
file, a network call, a sleep, a lock, waiting for a process. And a thread that computes for a
long time is made to let go: when another thread has waited for a whole switch interval (5 ms,
`sys.getswitchinterval()`), it asks, and the holder drops the GIL at its next check so the
waiter gets a turn (a forced switch). That keeps one busy thread from starving the rest, but it
does not make them run together.

Hence the rule. I/O-bound work (downloads, disk, databases) suits threads: while one waits,
the GIL is free for another, so the waits overlap. CPU-bound work (parsing, maths, images) gains
nothing from threads: the computing threads only take turns. Send it to processes
(`multiprocessing`, `concurrent.futures.ProcessPoolExecutor`): each process runs its own
interpreter with its own GIL, so they really run in parallel, at the price of starting them and
copying data to them. Native code is the exception: C extensions such as numpy release the GIL
inside their own loops.

synckit::gil simulates one interpreter: `py.compute` holds the GIL, `py.io` and `py.blocking`
release it, and every run returns a trace of who held the GIL when (`cargo run -- gil` draws
one). Its parallelism, time spent holding the GIL or outside it over the wall time, is how many
threads were getting somewhere on average: never above 1.0 for threads that only compute.
`cargo run -- compare` measures what a process costs next to a thread.",
    },
    Exercise {
        number: 10,
        title: "Processes",
        idea: "a worker process shares no memory: send the work through a Pool, get results back",
        hints: &[
            "Each worker process has its own memory, so its own TOTAL: what it adds there never \
             reaches this process, Lock or no Lock. Have the worker function *return* its chunk's \
             steps; the result comes back through the pipe.",
            "The worker function: `fn chunk_steps(chunk: Vec<u64>) -> u64 { total_steps(&chunk) }`, \
             registered in `register` under `CHUNK_STEPS`. Then in `total_steps_in_processes`: \
             `let partials: Vec<u64> = pool.map(CHUNK_STEPS, &chunks)?;` and \
             `Ok(partials.iter().sum())`.",
            "TOTAL is not needed any more: the only shared state was the answer, and it now travels \
             as results and is added up in one place, on one thread, with nothing to lock.",
        ],
        explain: "\
A process is a running program with memory of its own. Two processes share nothing by default:
not their variables, not their statics, not their locks. That isolation is what makes them safe
(a crash or a stray write in one cannot corrupt the other) and what makes them costly: to work
together they must copy data to each other through the operating system, by inter-process
communication (pipes, sockets, files, shared-memory segments set up on purpose).

Python's multiprocessing works that way. A Pool starts worker processes; `pool.map(f, items)`
pickles (serializes) each item, sends it down a pipe to a worker, which unpickles it, runs `f`,
and sends the pickled result back. `f` must be importable by the worker, because what travels is
its name, not the function: a closure's captured variables live in the parent's memory. synckit's
Pool does the same with the `spawn` start method: a worker is this program started again, which
hands over to `synckit::process::hook` on its first line, and runs only functions registered by
name in a Registry; arguments and results cross the pipes as bytes.

So a lock cannot coordinate processes: a Lock makes the threads of one process take turns at one
piece of memory, and processes have none in common. A worker that updates a \"shared\" total
updates its own copy, and the parent's copy stays as it was. The design that works is to share
nothing: split the input, send each piece, compute without side effects, send the results back,
and combine them in one place. Send pieces of a good size: every call pays a round trip through
the pipes (`cargo run -- compare` measures it), so a thousand items per call beat one.",
    },
    Exercise {
        number: 11,
        title: "Lost wake-ups",
        idea: "a notify wakes only threads already waiting: look and sleep under one lock, or use an Event",
        hints: &[
            "`wait` looks at the flag in one critical section and sleeps in another: `open` can run in \
             between, and its notify_all wakes nobody. Look and sleep while holding the lock the whole \
             time, and look again after every wake-up.",
            "Take the guard once, `let mut open = self.open.acquire();`, and wait on it with a predicate: \
             `self.opened.wait_for(&mut open, |open| *open);` (or `wait_while(&mut open, |open| !*open)`). \
             Drop the separate `is_open()` look: the predicate is that look, done under the lock.",
            "Or let a primitive remember the news: make the gate `opened: Event`, with `open` calling \
             `set()`, `is_open` calling `is_set()` and `wait` calling `wait()`. A set that comes before \
             the wait is still seen.",
        ],
        explain: "\
A condition variable has no memory. notify wakes the threads that are waiting at that instant and
is then forgotten; a thread that starts waiting a moment later sleeps until the next notify. If
there is no next notify, it sleeps forever. That is a lost wake-up: the news arrived, but before
anyone was listening.

The cure is a protocol, not a primitive. The news lives in shared state (a flag, a count, a
queue), guarded by the condition's lock. The waiter takes the lock, looks at the state, and waits
only if the news has not arrived, all in one critical section: `wait` puts the thread on the
waiting list before it releases the lock, so whoever changes the state (which needs that lock)
comes either before the look, and is seen, or after the thread is listed, and wakes it. The
notifier changes the state under the lock and notifies. After waking, the waiter looks again: the
state may have changed once more before it got the lock back. Python's `cond.wait_for(predicate)`
and synckit's `wait_for` / `wait_while` are that loop. A bare `cond.wait()` with no state to look
at is almost always a bug.

When the news is a one-way flag, an Event is simpler: it is a flag with waiting built in, so a
`set()` that comes before the `wait()` is remembered.

Lost wake-ups hide from testing because they need one unlucky interleaving: the notifier must
run exactly in the gap between the look and the sleep. synckit::testing::explore does not wait for
luck: it runs the threads one at a time, switching only at synckit operations, through every
schedule within a bound, so the unlucky one comes up on every run and is printed step by step.",
    },
    Exercise {
        number: 12,
        title: "Build your own",
        idea: "a Semaphore is a counter plus a Condition: build one, test it on a model and every schedule",
        hints: &[
            "Every method takes the `permits` Lock first. `acquire` waits on `freed` while the count is 0 \
             and then takes one; `release` adds one and notifies a waiter; `try_acquire` takes one only \
             if the count is above 0; `available` reads it.",
            "`acquire`: `let mut permits = self.permits.acquire(); self.freed.wait_while(&mut permits, \
             |free| *free == 0); *permits -= 1;`. `release`: `*permits += 1;` through a guard, then \
             `self.freed.notify(1);`.",
            "Wait with a predicate, not an `if`: between a release's notify and your wake-up another \
             thread can take the lock and the permit (the check's `thief` does). And notify in \
             `release` every time: a waiter left asleep next to a free permit is the lost wake-up of \
             exercise 11.",
        ],
        explain: "\
A semaphore is a counter of free permits plus a way to wait for one. The counter is ordinary
shared state, so it lives behind a Lock; the waiting is a Condition over that same lock. acquire
takes the lock, waits while the count is 0, and takes a permit; release adds a permit and wakes one
waiter. That is how Python's threading.Semaphore is written (a Condition over a Lock and an
integer), and most blocking primitives are built the same way: some state, a lock around it, and
a condition to wait for the state to become right.

Each earlier lesson is one line of it. The look at the count and the change to it are one
critical section (exercise 2), or two threads take the last permit. The waiter decides to sleep
under the lock, so a release cannot slip in between the look and the sleep (exercise 11). It looks
again after waking, because another thread may have taken the permit first (exercise 6). And
release notifies every time, or a waiter sleeps next to a free permit. One notify per permit is
enough: a permit can satisfy one waiter only.

Two kinds of tests catch two kinds of bugs. A sequential model says what each operation must do
one at a time (take a permit, give one back, count them): run the same operations on the model
and on your semaphore and compare, and proptest finds and shrinks sequences where they differ. A
model cannot see interleavings, though: for those, synckit::testing::explore runs threads
against the semaphore under every schedule within a bound. Implement testing::SemaphoreLike for a
semaphore of your own and both tools work on it.",
    },
];
