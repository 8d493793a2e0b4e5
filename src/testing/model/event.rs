//! Event: the model (a flag) and the adapter.

use std::time::Duration;

use super::{Model, Observed};
use crate::Event;
use crate::testing::ops::EventOp;

/// The model of an [`Event`]: a flag.
///
/// # Examples
///
/// ```
/// use synckit::Event;
/// use synckit::testing::{self, EventModel, EventOp, EventUnderTest};
///
/// let event = Event::new();
/// let ops = [EventOp::Poll, EventOp::Set, EventOp::WaitIfSet, EventOp::Clear, EventOp::IsSet];
/// testing::check_model(EventModel::new(), EventUnderTest(&event), &ops).unwrap();
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventModel {
    flag: bool,
}

impl EventModel {
    /// A clear event.
    pub fn new() -> Self {
        EventModel::default()
    }
}

impl Model for EventModel {
    type Op = EventOp;
    type Outcome = Observed;

    fn precondition(&self, op: &EventOp) -> bool {
        *op != EventOp::WaitIfSet || self.flag
    }

    fn apply(&mut self, op: &EventOp) -> Observed {
        match op {
            EventOp::Set => {
                self.flag = true;
                Observed::Done
            }
            EventOp::Clear => {
                self.flag = false;
                Observed::Done
            }
            EventOp::IsSet | EventOp::Poll => Observed::Flag(self.flag),
            EventOp::WaitIfSet => Observed::Done,
        }
    }
}

/// Runs [`EventOp`]s on a real [`Event`].
#[derive(Debug)]
pub struct EventUnderTest<'a>(pub &'a Event);

impl Model for EventUnderTest<'_> {
    type Op = EventOp;
    type Outcome = Observed;

    fn apply(&mut self, op: &EventOp) -> Observed {
        match op {
            EventOp::Set => {
                self.0.set();
                Observed::Done
            }
            EventOp::Clear => {
                self.0.clear();
                Observed::Done
            }
            EventOp::IsSet => Observed::Flag(self.0.is_set()),
            EventOp::Poll => Observed::Flag(self.0.wait_timeout(Duration::ZERO)),
            EventOp::WaitIfSet => {
                self.0.wait();
                Observed::Done
            }
        }
    }
}
