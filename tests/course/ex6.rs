// Checks of exercise 6 (Condition). Included by tests/exercises.rs once per module under test,
// which it names `ex`.
//
// Every check runs under `synckit::testing::explore`. `main` starts the consumers and then
// reaches a yield point, so the default schedule already has every consumer asleep on the
// condition before anything arrives; the explorer tries the other schedules within its bound.

use std::sync::Arc;

use synckit::testing::{self, Config, Run};
use synckit::thread::{JoinHandle, yield_point};

use crate::schedules::*;
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
                why: &[Why::LostWakeUp],
                detail: None,
            },
        },
        Check {
            name: "producer_then_consumer",
            run: producer_then_consumer,
            stub: StubExpect::Passes,
        },
        Check {
            name: "two_producers_two_consumers",
            run: two_producers_two_consumers,
            stub: StubExpect::Fails {
                why: &[Why::GaveUpEarly],
                detail: None,
            },
        },
    ]
}

/// Starts `n` consumers (`consumer-1`, ...), each calling `get()` once.
fn consumers(run: &Run, queue: &Arc<ex::Queue<u32>>, n: usize) -> Vec<JoinHandle<Option<u32>>> {
    (1..=n)
        .map(|i| {
            let queue = queue.clone();
            run.spawn(&format!("consumer-{i}"), move || queue.get())
        })
        .collect()
}

/// Joins the consumers: what each got, in consumer order.
fn got(consumers: Vec<JoinHandle<Option<u32>>>) -> Vec<Option<u32>> {
    consumers.into_iter().map(join).collect()
}

/// The failure for a consumer that got `None` from an open queue.
fn gave_up(got: &[Option<u32>]) -> ! {
    let who = got.iter().position(Option::is_none).map_or(0, |i| i + 1);
    broken(
        Why::GaveUpEarly,
        format!(
            "consumer-{who} got None although the queue was open (the consumers got {got:?}): \
             it was woken by an item that another consumer took first, and it did not look \
             again before popping"
        ),
    )
}

/// A schedule that ended with consumers asleep on `changed`: a lost wake-up, explained.
fn lost_wake_up(failure: &testing::Failure, mut f: Failure, story: &str) -> Failure {
    if asleep_on(failure, None, "changed") {
        f.why = Why::LostWakeUp;
        f.happened = story.to_string();
    }
    f
}

fn two_consumers_one_item() -> Verdict {
    let expected = "two consumers wait on an empty queue; one item arrives (waking both), then a \
                    second: each consumer gets one item, and neither gets None (the queue is \
                    never closed), under every schedule that deviates at most twice from the default";
    explored(
        expected,
        || {
            testing::explore(course_config(Config::delay_bounded(2)), |run| {
                let queue = Arc::new(ex::Queue::new(4));
                let consumers = consumers(run, &queue, 2);
                yield_point(); // the consumers may go to sleep on the empty queue
                queue.put(1);
                yield_point(); // a woken consumer may take it before the second item
                queue.put(2);
                let got = got(consumers);
                if got.contains(&None) {
                    gave_up(&got);
                }
            })
        },
        |_, f| f,
    )
}

fn close_wakes_every_consumer() -> Verdict {
    let expected = "two consumers wait on an empty queue; close() wakes both, and each gets \
                    None, under every schedule that deviates at most twice from the default";
    explored(
        expected,
        || {
            testing::explore(course_config(Config::delay_bounded(2)), |run| {
                let queue = Arc::new(ex::Queue::<u32>::new(4));
                let consumers = consumers(run, &queue, 2);
                yield_point(); // the consumers may go to sleep on the empty queue
                queue.close();
                let got = got(consumers);
                if got != [None, None] {
                    broken(
                        Why::WrongAnswer,
                        format!("after close() the consumers got {got:?}"),
                    );
                }
            })
        },
        |failure, f| {
            lost_wake_up(
                failure,
                f,
                "close() did not wake every waiting consumer: under the schedule below, one of \
                 them is still asleep on `changed` after the queue closed, and no one will ever \
                 notify it again (a lost wake-up). Closing is news for every consumer",
            )
        },
    )
}

fn producer_then_consumer() -> Verdict {
    let expected = "one producer puts 1..=5 into a queue of capacity 2 and closes it; one \
                    consumer gets all 5 in order, then None; the queue never holds more than 2; \
                    under every schedule that deviates at most once from the default";
    explored(
        expected,
        || {
            testing::explore(course_config(Config::delay_bounded(1)), |run| {
                let queue = Arc::new(ex::Queue::new(2));
                let producer = {
                    let queue = queue.clone();
                    run.spawn("producer", move || {
                        let mut most = 0;
                        for i in 1..=5u32 {
                            queue.put(i);
                            most = most.max(queue.len());
                        }
                        queue.close();
                        most
                    })
                };
                let consumer = {
                    let queue = queue.clone();
                    run.spawn("consumer", move || {
                        let mut got = Vec::new();
                        while let Some(item) = queue.get() {
                            got.push(item);
                        }
                        got
                    })
                };
                let most = join(producer);
                let got = join(consumer);
                if got != [1, 2, 3, 4, 5] || most > 2 {
                    broken(
                        Why::WrongAnswer,
                        format!("the consumer got {got:?}; the queue held up to {most} items"),
                    );
                }
            })
        },
        |_, f| f,
    )
}

fn two_producers_two_consumers() -> Verdict {
    let expected = "a queue of capacity 1; two consumers each get one item, two producers each \
                    put one: every item is taken, no consumer gets None, and nobody sleeps \
                    forever, under every schedule that deviates at most once from the default";
    explored(
        expected,
        || {
            testing::explore(course_config(Config::delay_bounded(1)), |run| {
                let queue = Arc::new(ex::Queue::new(1));
                let consumers = consumers(run, &queue, 2);
                let producers: Vec<_> = [1, 2]
                    .into_iter()
                    .map(|item| {
                        let queue = queue.clone();
                        run.spawn(&format!("producer-{item}"), move || queue.put(item))
                    })
                    .collect();
                producers.into_iter().for_each(join);
                let mut got = got(consumers);
                if got.contains(&None) {
                    gave_up(&got);
                }
                got.sort();
                if got != [Some(1), Some(2)] {
                    broken(Why::WrongAnswer, format!("the consumers got {got:?}"));
                }
            })
        },
        |failure, f| {
            lost_wake_up(
                failure,
                f,
                "under the schedule below, threads sleep on `changed` with work waiting for \
                 them: a producer waits for room while a consumer waits for an item. Producers \
                 and consumers sleep on the same Condition, so a notify(1) can wake a thread of \
                 the wrong kind (a consumer, when the news was room for a producer); it finds \
                 nothing for it and sleeps again, and the one who could use the news is never \
                 told. Notify everyone (notify_all) when waiters of both kinds share a Condition",
            )
        },
    )
}
