//! Named threads whose joins are visible waits (stub until issue 3).

use std::sync::Arc;

use crate::world::WorldLink;

/// The name and world a thread spawned through synckit should register with.
pub(crate) fn take_pending_identity() -> (Option<String>, Option<Arc<WorldLink>>) {
    (None, None)
}
