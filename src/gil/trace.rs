//! The trace of a run: every thread's [`Span`]s in each [`State`], the GIL's switches, the
//! figures drawn from them, and the lanes.

use std::fmt;
use std::time::{Duration, Instant};

use crate::detector::report::lanes;

/// What a thread is doing, as a [`GilTrace`] records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Holding the GIL: running "Python" (drawn `█`).
    Holding,
    /// Waiting to take the GIL (drawn `·`).
    Waiting,
    /// Outside the interpreter: in I/O or another blocking call, GIL released (drawn `~`).
    Io,
}

impl State {
    /// The character the lanes draw for this state.
    pub fn glyph(self) -> char {
        match self {
            State::Holding => '█',
            State::Waiting => '·',
            State::Io => '~',
        }
    }
}

/// Why a thread gave the GIL back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Release {
    /// A waiter's drop request (or its untimed wait) made the holder yield: a forced switch.
    Forced,
    /// The thread released it itself: around I/O or a blocking call, or when it finished.
    Voluntary,
}

/// One span of one thread's time, on the trace's clock (time since the run started).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// The thread's index (`py-N`).
    pub thread: usize,
    /// What the thread was doing.
    pub state: State,
    /// When the span started.
    pub start: Duration,
    /// When it ended.
    pub end: Duration,
    /// For a [`State::Holding`] span: how the GIL was given back.
    pub released: Option<Release>,
}

impl Span {
    /// How long the span lasted.
    pub fn len(&self) -> Duration {
        self.end.saturating_sub(self.start)
    }

    /// Whether the span has zero length.
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

/// One thread's records, kept on its own thread (no sharing while it runs).
pub(super) struct Recorder {
    pub(super) index: usize,
    pub(super) spans: Vec<(State, Instant, Instant, Option<Release>)>,
    pub(super) current: Option<(State, Instant)>,
    pub(super) handovers: u64,
    pub(super) forced: u64,
}

impl Recorder {
    /// Ends the current span (if any) at `now` and starts `next` there.
    pub(super) fn switch(&mut self, next: Option<State>, now: Instant, released: Option<Release>) {
        if let Some((state, since)) = self.current.take() {
            let released = if state == State::Holding {
                released
            } else {
                None
            };
            self.spans.push((state, since, now, released));
        }
        self.current = next.map(|s| (s, now));
    }
}

/// The record of one [`Interpreter::run_threads`](super::Interpreter::run_threads): every
/// thread's spans and the GIL's switches. `Display` draws the lanes and the summary.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use synckit::gil::{Interpreter, State, units_for};
///
/// let units = units_for(Duration::from_millis(20));
/// let trace = Interpreter::new().run_threads(2, |py| { py.compute(units); });
/// // Check the GIL's invariant yourself: holding spans never overlap.
/// let mut holds: Vec<_> = trace.spans().iter().filter(|s| s.state == State::Holding).collect();
/// holds.sort_by_key(|s| s.start);
/// assert!(holds.windows(2).all(|w| w[0].end <= w[1].start));
/// ```
#[derive(Clone, Debug)]
pub struct GilTrace {
    spans: Vec<Span>,
    threads: usize,
    wall: Duration,
    interval: Duration,
    drop_requests: u64,
    handovers: u64,
}

impl GilTrace {
    pub(super) fn build(
        epoch: Instant,
        interval: Duration,
        recorders: Vec<Recorder>,
        drop_requests: u64,
    ) -> Self {
        let threads = recorders.len();
        let mut spans = Vec::new();
        let mut handovers = 0;
        for rec in recorders {
            handovers += rec.handovers;
            for (state, start, end, released) in rec.spans {
                spans.push(Span {
                    thread: rec.index,
                    state,
                    start: start.saturating_duration_since(epoch),
                    end: end.saturating_duration_since(epoch),
                    released,
                });
            }
        }
        spans.sort_by_key(|s| (s.start, s.thread));
        let wall = spans.iter().map(|s| s.end).max().unwrap_or_default();
        GilTrace {
            spans,
            threads,
            wall,
            interval,
            drop_requests,
            handovers,
        }
    }

    /// Every span of every thread, sorted by start time.
    pub fn spans(&self) -> &[Span] {
        &self.spans
    }

    /// How many threads ran.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// From the start of the run to the end of its last span.
    pub fn wall(&self) -> Duration {
        self.wall
    }

    /// The switch interval the interpreter ran with.
    pub fn switch_interval(&self) -> Duration {
        self.interval
    }

    fn total(&self, state: State) -> Duration {
        self.spans
            .iter()
            .filter(|s| s.state == state)
            .map(Span::len)
            .sum()
    }

    /// Total time the GIL was held, over all threads: the CPU time spent running "Python".
    pub fn cpu_busy(&self) -> Duration {
        self.total(State::Holding)
    }

    /// Total time threads spent outside the interpreter (I/O, blocking calls).
    pub fn io_time(&self) -> Duration {
        self.total(State::Io)
    }

    /// Total time threads spent waiting for the GIL.
    pub fn wait_time(&self) -> Duration {
        self.total(State::Waiting)
    }

    /// The longest single wait for the GIL.
    pub fn max_wait(&self) -> Duration {
        self.spans
            .iter()
            .filter(|s| s.state == State::Waiting)
            .map(Span::len)
            .max()
            .unwrap_or_default()
    }

    /// Parallelism achieved: time spent making progress (holding the GIL, or in I/O outside
    /// it), summed over threads, divided by the wall time. CPU-bound threads under one GIL
    /// stay at or below 1.0 however many cores there are; I/O-bound threads approach the
    /// number of threads. 0.0 for an empty trace.
    pub fn parallelism(&self) -> f64 {
        let wall = self.wall.as_secs_f64();
        if wall == 0.0 {
            return 0.0;
        }
        (self.cpu_busy() + self.io_time()).as_secs_f64() / wall
    }

    /// How many times a holder gave the GIL up because a waiter asked (forced switches).
    pub fn forced_switches(&self) -> u64 {
        self.count_released(Release::Forced)
    }

    /// How many times a holder released the GIL itself (I/O, blocking calls, finishing).
    pub fn voluntary_releases(&self) -> u64 {
        self.count_released(Release::Voluntary)
    }

    fn count_released(&self, how: Release) -> u64 {
        self.spans
            .iter()
            .filter(|s| s.released == Some(how))
            .count() as u64
    }

    /// How many drop requests waiters set (a request is consumed by the next take).
    pub fn drop_requests(&self) -> u64 {
        self.drop_requests
    }

    /// How many times the GIL passed to a different thread than the one that held it last.
    pub fn handovers(&self) -> u64 {
        self.handovers
    }

    /// The most threads found in `state` at one instant (a sweep over the spans).
    pub fn max_concurrent(&self, state: State) -> usize {
        let mut edges: Vec<(Duration, i32)> = Vec::new();
        for s in self
            .spans
            .iter()
            .filter(|s| s.state == state && !s.is_empty())
        {
            edges.push((s.start, 1));
            edges.push((s.end, -1));
        }
        // At equal times, ends before starts: touching spans do not overlap.
        edges.sort();
        let (mut now, mut max) = (0i32, 0i32);
        for (_, d) in edges {
            now += d;
            max = max.max(now);
        }
        max as usize
    }

    /// The most threads holding the GIL at one instant: 1 for any run that held it at all
    /// (the invariant), 0 for none.
    pub fn max_concurrent_holders(&self) -> usize {
        self.max_concurrent(State::Holding)
    }

    /// The most threads in I/O at one instant.
    pub fn max_concurrent_io(&self) -> usize {
        self.max_concurrent(State::Io)
    }

    /// The holding spans that ended in a forced switch, in time order.
    pub fn forced_holds(&self) -> Vec<Span> {
        self.spans
            .iter()
            .filter(|s| s.released == Some(Release::Forced))
            .copied()
            .collect()
    }

    /// The lanes: one row per thread, time left to right in `width` columns, each column
    /// drawn with the state the thread spent most of that slice in (`█` holding the GIL,
    /// `·` waiting for it, `~` in I/O, blank when not running).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let trace = synckit::gil::Interpreter::new()
    ///     .run_threads(2, |py| py.io(Duration::from_millis(10)));
    /// let lanes = trace.lanes(40);
    /// assert_eq!(lanes.lines().count(), 3); // a time axis and two lanes
    /// assert!(lanes.contains('~'));
    /// ```
    pub fn lanes(&self, width: usize) -> String {
        let width = width.max(1);
        let wall = self.wall.as_secs_f64().max(1e-9);
        let slice = wall / width as f64;
        let mut rows = Vec::with_capacity(self.threads);
        for t in 0..self.threads {
            // Time per state per column.
            let mut cells = vec![[0.0f64; 3]; width];
            for s in self.spans.iter().filter(|s| s.thread == t) {
                let (a, b) = (s.start.as_secs_f64(), s.end.as_secs_f64());
                let k = match s.state {
                    State::Holding => 0,
                    State::Waiting => 1,
                    State::Io => 2,
                };
                let first = ((a / slice) as usize).min(width - 1);
                let last = ((b / slice) as usize).min(width - 1);
                for (c, cell) in cells.iter_mut().enumerate().take(last + 1).skip(first) {
                    let lo = a.max(c as f64 * slice);
                    let hi = b.min((c + 1) as f64 * slice);
                    if hi > lo {
                        cell[k] += hi - lo;
                    }
                }
            }
            let row: String = cells
                .iter()
                .map(|c| {
                    let (mut best, mut k) = (0.0, None);
                    for (i, v) in c.iter().enumerate() {
                        if *v > best {
                            best = *v;
                            k = Some(i);
                        }
                    }
                    match k {
                        Some(0) => State::Holding.glyph(),
                        Some(1) => State::Waiting.glyph(),
                        Some(2) => State::Io.glyph(),
                        _ => ' ',
                    }
                })
                .collect();
            rows.push((format!("py-{t}"), row));
        }
        lanes::render_timed("0 ms", &fmt_ms(self.wall), &rows)
    }

    /// One line: wall time, CPU-busy (GIL held) time, I/O time, parallelism achieved, the
    /// switches and the waits.
    pub fn summary(&self) -> String {
        format!(
            "wall {} · GIL held {} · I/O {} · parallelism {:.2}× · {} forced switches \
             ({} drop requests, interval {}), {} voluntary releases, {} handovers · \
             waited {} in total, {} at most",
            fmt_ms(self.wall),
            fmt_ms(self.cpu_busy()),
            fmt_ms(self.io_time()),
            self.parallelism(),
            self.forced_switches(),
            self.drop_requests,
            fmt_ms(self.interval),
            self.voluntary_releases(),
            self.handovers,
            fmt_ms(self.wait_time()),
            fmt_ms(self.max_wait()),
        )
    }
}

impl fmt::Display for GilTrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}  {}", self.lanes(64), self.summary())
    }
}

pub(super) fn fmt_ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.1} ms")
    }
}
