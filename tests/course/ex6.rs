// Checks of exercise 6 (Condition). Included by tests/exercises.rs once per module under test,
// which it names `ex`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use synckit::Lock;
use synckit::detector::ReportKind;
use synckit::thread::spawn_named;

use crate::support::*;

/// The checks of this exercise, and what the stub must do under each.
pub fn checks() -> Vec<Check> {
    vec![
        Check {
            name: "two_consumers_one_item",
            run: two_consumers_one_item,
            stub: StubExpect::Fails {
                why: &[Why::GaveUpEarly],
                detail: None,
            },
        },
        Check {
            name: "close_wakes_every_consumer",
            run: close_wakes_every_consumer,
            stub: StubExpect::Fails {
                why: &[Why::LostWakeUp, Why::Report(ReportKind::WorldDeadlock)],
                detail: None,
            },
        },
        Check {
            name: "bounded_producer_consumer",
            run: bounded_producer_consumer,
            stub: StubExpect::Passes,
        },
    ]
}

/// What each consumer got: `(consumer number, item)`.
type Got = Arc<Lock<Vec<(usize, Option<u32>)>>>;

/// Starts `n` consumers, each calling `get()` once and recording what it got.
fn consumers(queue: &Arc<ex::Queue<u32>>, n: usize) -> (Vec<synckit::thread::JoinHandle<()>>, Got) {
    let got = Arc::new(Lock::new(Vec::new()).named("course:results"));
    let handles = (1..=n)
        .map(|i| {
            let (queue, got) = (queue.clone(), got.clone());
            spawn_named(&format!("consumer-{i}"), move || {
                let item = queue.get();
                got.acquire().push((i, item));
            })
        })
        .collect();
    (handles, got)
}

fn two_consumers_one_item() -> Verdict {
    let expected = "two consumers wait on an empty queue; one item arrives (waking both), then a second: \
                    each consumer gets one item, and neither gets None (the queue is never closed)";
    let got = run(expected, || {
        let queue = Arc::new(ex::Queue::new(4));
        let (handles, got) = consumers(&queue, 2);
        wait_until(|| queue.waiting() == 2); // both asleep on the condition
        queue.put(1); // notify_all: both wake, one of them takes the item
        // Go on once the other one has either returned or gone back to sleep.
        wait_until(|| {
            got.acquire().len() == 2 || (got.acquire().len() == 1 && queue.waiting() == 1)
        });
        queue.put(2);
        handles.into_iter().for_each(join);
        let mut got = got.acquire().clone();
        got.sort();
        got
    })?;
    let items: Vec<Option<u32>> = got.iter().map(|(_, item)| *item).collect();
    let mut sorted = items.clone();
    sorted.sort();
    if sorted == [Some(1), Some(2)] {
        return Ok(());
    }
    if let Some((who, _)) = got.iter().find(|(_, item)| item.is_none()) {
        return Err(Failure::new(
            Why::GaveUpEarly,
            expected,
            format!(
                "consumer-{who} got None although the queue was open: it was woken by the first item, \
                 which the other consumer took first, and it did not check again before popping"
            ),
        ));
    }
    Err(Failure::new(
        Why::WrongAnswer,
        expected,
        format!("the consumers got {got:?}"),
    ))
}

fn close_wakes_every_consumer() -> Verdict {
    let expected =
        "three consumers wait on an empty queue; close() wakes all three, and each gets None";
    let asleep_after_close = Arc::new(AtomicUsize::new(0));
    let seen = asleep_after_close.clone();
    let got = run(expected, move || {
        let queue = Arc::new(ex::Queue::<u32>::new(4));
        let (handles, got) = consumers(&queue, 3);
        wait_until(|| queue.waiting() == 3);
        queue.close();
        // A notify takes a waiter off the condition at once: whoever is still counted here
        // was not woken by close(), and nothing else will ever wake it.
        seen.store(queue.waiting(), Ordering::SeqCst);
        handles.into_iter().for_each(join);
        got.acquire().clone()
    });
    let still_asleep = asleep_after_close.load(Ordering::SeqCst);
    let lost = format!(
        "close() woke {} of the 3 waiting consumers; the other {still_asleep} stay asleep on the condition, \
         and no one will ever notify them again (a lost wake-up)",
        3 - still_asleep.min(3)
    );
    let got = match got {
        Ok(got) => got,
        Err(f) if still_asleep > 0 => return Err(f.note(lost)),
        Err(f) => return Err(f),
    };
    if still_asleep > 0 {
        return Err(Failure::new(Why::LostWakeUp, expected, lost));
    }
    if got.len() == 3 && got.iter().all(|(_, item)| item.is_none()) {
        Ok(())
    } else {
        Err(Failure::new(
            Why::WrongAnswer,
            expected,
            format!("the consumers got {got:?}"),
        ))
    }
}

fn bounded_producer_consumer() -> Verdict {
    let expected = "one producer puts 1..=20 into a queue of capacity 2 and closes it; one consumer gets \
                    all 20 in order, then None; the queue never holds more than 2";
    let (got, most) = run(expected, || {
        let queue = Arc::new(ex::Queue::new(2));
        let most = Arc::new(Lock::new(0usize).named("course:most"));
        let producer = {
            let (queue, most) = (queue.clone(), most.clone());
            spawn_named("producer", move || {
                for i in 1..=20u32 {
                    queue.put(i);
                    let len = queue.len();
                    let mut m = most.acquire();
                    *m = (*m).max(len);
                }
                queue.close();
            })
        };
        let consumer = {
            let queue = queue.clone();
            spawn_named("consumer", move || {
                let mut got = Vec::new();
                while let Some(item) = queue.get() {
                    got.push(item);
                }
                got
            })
        };
        join(producer);
        let got = join(consumer);
        let most = *most.acquire();
        (got, most)
    })?;
    let want: Vec<u32> = (1..=20).collect();
    if got == want && most <= 2 {
        Ok(())
    } else {
        Err(Failure::new(
            Why::WrongAnswer,
            expected,
            format!("the consumer got {got:?}; the queue held up to {most} items"),
        ))
    }
}
