//! Every mutant, and its exercise's checks instantiated against it.
//!
//! @generated from tests/course/mutants.rs by `SYNCKIT_BLESS=1 cargo test --features solutions
//! --test exercises harness::`; do not edit.

#[path = "exercise_1_in_finishing_order.rs"]
pub mod exercise_1_in_finishing_order;
#[path = "exercise_1_std_spawn.rs"]
pub mod exercise_1_std_spawn;
#[path = "exercise_2_sleep_first.rs"]
pub mod exercise_2_sleep_first;
#[path = "exercise_2_fresh_write_stale_check.rs"]
pub mod exercise_2_fresh_write_stale_check;
#[path = "exercise_2_acquire_again_to_write.rs"]
pub mod exercise_2_acquire_again_to_write;
#[path = "exercise_3_release_before_audit.rs"]
pub mod exercise_3_release_before_audit;
#[path = "exercise_3_rlock_borrow_held.rs"]
pub mod exercise_3_rlock_borrow_held;
#[path = "exercise_4_if_instead_of_while.rs"]
pub mod exercise_4_if_instead_of_while;
#[path = "exercise_4_spin_instead_of_wait.rs"]
pub mod exercise_4_spin_instead_of_wait;
#[path = "exercise_5_look_before_release.rs"]
pub mod exercise_5_look_before_release;
#[path = "exercise_5_try_and_go.rs"]
pub mod exercise_5_try_and_go;
#[path = "exercise_6_while_forgets_closed.rs"]
pub mod exercise_6_while_forgets_closed;
#[path = "exercise_6_notify_one.rs"]
pub mod exercise_6_notify_one;
#[path = "exercise_6_timed_wait_with_if.rs"]
pub mod exercise_6_timed_wait_with_if;
#[path = "exercise_7_right_fork_first.rs"]
pub mod exercise_7_right_fork_first;
#[path = "exercise_7_waiter_for_the_first_fork.rs"]
pub mod exercise_7_waiter_for_the_first_fork;
#[path = "exercise_7_polite_philosophers.rs"]
pub mod exercise_7_polite_philosophers;
#[path = "exercise_8_richer_first.rs"]
pub mod exercise_8_richer_first;
#[path = "exercise_8_flow_ignores_the_order.rs"]
pub mod exercise_8_flow_ignores_the_order;
#[path = "exercise_9_wait_holding_the_gil.rs"]
pub mod exercise_9_wait_holding_the_gil;
#[path = "exercise_9_fetch_in_workers_too.rs"]
pub mod exercise_9_fetch_in_workers_too;
#[path = "exercise_9_compute_without_the_gil.rs"]
pub mod exercise_9_compute_without_the_gil;
#[path = "exercise_10_running_total.rs"]
pub mod exercise_10_running_total;
#[path = "exercise_10_atomic_total.rs"]
pub mod exercise_10_atomic_total;
#[path = "exercise_11_sleep_first.rs"]
pub mod exercise_11_sleep_first;
#[path = "exercise_11_let_go_between_look_and_wait.rs"]
pub mod exercise_11_let_go_between_look_and_wait;
#[path = "exercise_11_loop_of_two_sections.rs"]
pub mod exercise_11_loop_of_two_sections;
#[path = "exercise_12_if_instead_of_wait_while.rs"]
pub mod exercise_12_if_instead_of_wait_while;
#[path = "exercise_12_release_without_notify.rs"]
pub mod exercise_12_release_without_notify;
#[path = "exercise_12_spin_on_try_acquire.rs"]
pub mod exercise_12_spin_on_try_acquire;
#[path = "exercise_12_look_then_wait_apart.rs"]
pub mod exercise_12_look_then_wait_apart;
#[path = "exercise_3_alternative_rlock.rs"]
pub mod exercise_3_alternative_rlock;
#[path = "exercise_6_alternative_wait_while.rs"]
pub mod exercise_6_alternative_wait_while;
#[path = "exercise_7_alternative_waiter.rs"]
pub mod exercise_7_alternative_waiter;

/// The checks of each mutant's exercise, against the mutant.
pub mod checks {
    pub mod exercise_1_in_finishing_order {
        #[allow(unused_imports)]
        use super::super::exercise_1_in_finishing_order as ex;
        include!("../ex1.rs");
    }
    pub mod exercise_1_std_spawn {
        #[allow(unused_imports)]
        use super::super::exercise_1_std_spawn as ex;
        include!("../ex1.rs");
    }
    pub mod exercise_2_sleep_first {
        #[allow(unused_imports)]
        use super::super::exercise_2_sleep_first as ex;
        include!("../ex2.rs");
    }
    pub mod exercise_2_fresh_write_stale_check {
        #[allow(unused_imports)]
        use super::super::exercise_2_fresh_write_stale_check as ex;
        include!("../ex2.rs");
    }
    pub mod exercise_2_acquire_again_to_write {
        #[allow(unused_imports)]
        use super::super::exercise_2_acquire_again_to_write as ex;
        include!("../ex2.rs");
    }
    pub mod exercise_3_release_before_audit {
        #[allow(unused_imports)]
        use super::super::exercise_3_release_before_audit as ex;
        include!("../ex3.rs");
    }
    pub mod exercise_3_rlock_borrow_held {
        #[allow(unused_imports)]
        use super::super::exercise_3_rlock_borrow_held as ex;
        include!("../ex3.rs");
    }
    pub mod exercise_4_if_instead_of_while {
        #[allow(unused_imports)]
        use super::super::exercise_4_if_instead_of_while as ex;
        include!("../ex4.rs");
    }
    pub mod exercise_4_spin_instead_of_wait {
        #[allow(unused_imports)]
        use super::super::exercise_4_spin_instead_of_wait as ex;
        include!("../ex4.rs");
    }
    pub mod exercise_5_look_before_release {
        #[allow(unused_imports)]
        use super::super::exercise_5_look_before_release as ex;
        include!("../ex5.rs");
    }
    pub mod exercise_5_try_and_go {
        #[allow(unused_imports)]
        use super::super::exercise_5_try_and_go as ex;
        include!("../ex5.rs");
    }
    pub mod exercise_6_while_forgets_closed {
        #[allow(unused_imports)]
        use super::super::exercise_6_while_forgets_closed as ex;
        include!("../ex6.rs");
    }
    pub mod exercise_6_notify_one {
        #[allow(unused_imports)]
        use super::super::exercise_6_notify_one as ex;
        include!("../ex6.rs");
    }
    pub mod exercise_6_timed_wait_with_if {
        #[allow(unused_imports)]
        use super::super::exercise_6_timed_wait_with_if as ex;
        include!("../ex6.rs");
    }
    pub mod exercise_7_right_fork_first {
        #[allow(unused_imports)]
        use super::super::exercise_7_right_fork_first as ex;
        include!("../ex7.rs");
    }
    pub mod exercise_7_waiter_for_the_first_fork {
        #[allow(unused_imports)]
        use super::super::exercise_7_waiter_for_the_first_fork as ex;
        include!("../ex7.rs");
    }
    pub mod exercise_7_polite_philosophers {
        #[allow(unused_imports)]
        use super::super::exercise_7_polite_philosophers as ex;
        include!("../ex7.rs");
    }
    pub mod exercise_8_richer_first {
        #[allow(unused_imports)]
        use super::super::exercise_8_richer_first as ex;
        include!("../ex8.rs");
    }
    pub mod exercise_8_flow_ignores_the_order {
        #[allow(unused_imports)]
        use super::super::exercise_8_flow_ignores_the_order as ex;
        include!("../ex8.rs");
    }
    pub mod exercise_9_wait_holding_the_gil {
        #[allow(unused_imports)]
        use super::super::exercise_9_wait_holding_the_gil as ex;
        include!("../ex9.rs");
    }
    pub mod exercise_9_fetch_in_workers_too {
        #[allow(unused_imports)]
        use super::super::exercise_9_fetch_in_workers_too as ex;
        include!("../ex9.rs");
    }
    pub mod exercise_9_compute_without_the_gil {
        #[allow(unused_imports)]
        use super::super::exercise_9_compute_without_the_gil as ex;
        include!("../ex9.rs");
    }
    pub mod exercise_10_running_total {
        #[allow(unused_imports)]
        use super::super::exercise_10_running_total as ex;
        include!("../ex10.rs");
    }
    pub mod exercise_10_atomic_total {
        #[allow(unused_imports)]
        use super::super::exercise_10_atomic_total as ex;
        include!("../ex10.rs");
    }
    pub mod exercise_11_sleep_first {
        #[allow(unused_imports)]
        use super::super::exercise_11_sleep_first as ex;
        include!("../ex11.rs");
    }
    pub mod exercise_11_let_go_between_look_and_wait {
        #[allow(unused_imports)]
        use super::super::exercise_11_let_go_between_look_and_wait as ex;
        include!("../ex11.rs");
    }
    pub mod exercise_11_loop_of_two_sections {
        #[allow(unused_imports)]
        use super::super::exercise_11_loop_of_two_sections as ex;
        include!("../ex11.rs");
    }
    pub mod exercise_12_if_instead_of_wait_while {
        #[allow(unused_imports)]
        use super::super::exercise_12_if_instead_of_wait_while as ex;
        include!("../ex12.rs");
    }
    pub mod exercise_12_release_without_notify {
        #[allow(unused_imports)]
        use super::super::exercise_12_release_without_notify as ex;
        include!("../ex12.rs");
    }
    pub mod exercise_12_spin_on_try_acquire {
        #[allow(unused_imports)]
        use super::super::exercise_12_spin_on_try_acquire as ex;
        include!("../ex12.rs");
    }
    pub mod exercise_12_look_then_wait_apart {
        #[allow(unused_imports)]
        use super::super::exercise_12_look_then_wait_apart as ex;
        include!("../ex12.rs");
    }
    pub mod exercise_3_alternative_rlock {
        #[allow(unused_imports)]
        use super::super::exercise_3_alternative_rlock as ex;
        include!("../ex3.rs");
    }
    pub mod exercise_6_alternative_wait_while {
        #[allow(unused_imports)]
        use super::super::exercise_6_alternative_wait_while as ex;
        include!("../ex6.rs");
    }
    pub mod exercise_7_alternative_waiter {
        #[allow(unused_imports)]
        use super::super::exercise_7_alternative_waiter as ex;
        include!("../ex7.rs");
    }
}

/// The checks of the mutant `name` of exercise `exercise`.
pub fn checks_of(exercise: u32, name: &str) -> Vec<crate::support::Check> {
    match (exercise, name) {
        (1, "in_finishing_order") => checks::exercise_1_in_finishing_order::checks(),
        (1, "std_spawn") => checks::exercise_1_std_spawn::checks(),
        (2, "sleep_first") => checks::exercise_2_sleep_first::checks(),
        (2, "fresh_write_stale_check") => checks::exercise_2_fresh_write_stale_check::checks(),
        (2, "acquire_again_to_write") => checks::exercise_2_acquire_again_to_write::checks(),
        (3, "release_before_audit") => checks::exercise_3_release_before_audit::checks(),
        (3, "rlock_borrow_held") => checks::exercise_3_rlock_borrow_held::checks(),
        (4, "if_instead_of_while") => checks::exercise_4_if_instead_of_while::checks(),
        (4, "spin_instead_of_wait") => checks::exercise_4_spin_instead_of_wait::checks(),
        (5, "look_before_release") => checks::exercise_5_look_before_release::checks(),
        (5, "try_and_go") => checks::exercise_5_try_and_go::checks(),
        (6, "while_forgets_closed") => checks::exercise_6_while_forgets_closed::checks(),
        (6, "notify_one") => checks::exercise_6_notify_one::checks(),
        (6, "timed_wait_with_if") => checks::exercise_6_timed_wait_with_if::checks(),
        (7, "right_fork_first") => checks::exercise_7_right_fork_first::checks(),
        (7, "waiter_for_the_first_fork") => checks::exercise_7_waiter_for_the_first_fork::checks(),
        (7, "polite_philosophers") => checks::exercise_7_polite_philosophers::checks(),
        (8, "richer_first") => checks::exercise_8_richer_first::checks(),
        (8, "flow_ignores_the_order") => checks::exercise_8_flow_ignores_the_order::checks(),
        (9, "wait_holding_the_gil") => checks::exercise_9_wait_holding_the_gil::checks(),
        (9, "fetch_in_workers_too") => checks::exercise_9_fetch_in_workers_too::checks(),
        (9, "compute_without_the_gil") => checks::exercise_9_compute_without_the_gil::checks(),
        (10, "running_total") => checks::exercise_10_running_total::checks(),
        (10, "atomic_total") => checks::exercise_10_atomic_total::checks(),
        (11, "sleep_first") => checks::exercise_11_sleep_first::checks(),
        (11, "let_go_between_look_and_wait") => checks::exercise_11_let_go_between_look_and_wait::checks(),
        (11, "loop_of_two_sections") => checks::exercise_11_loop_of_two_sections::checks(),
        (12, "if_instead_of_wait_while") => checks::exercise_12_if_instead_of_wait_while::checks(),
        (12, "release_without_notify") => checks::exercise_12_release_without_notify::checks(),
        (12, "spin_on_try_acquire") => checks::exercise_12_spin_on_try_acquire::checks(),
        (12, "look_then_wait_apart") => checks::exercise_12_look_then_wait_apart::checks(),
        (3, "alternative_rlock") => checks::exercise_3_alternative_rlock::checks(),
        (6, "alternative_wait_while") => checks::exercise_6_alternative_wait_while::checks(),
        (7, "alternative_waiter") => checks::exercise_7_alternative_waiter::checks(),
        _ => Vec::new(),
    }
}

/// The worker functions of exercise 10's mutants (each registers a name of its own).
pub fn register(workers: synckit::process::Registry) -> synckit::process::Registry {
    exercise_10_atomic_total::register(exercise_10_running_total::register(workers))
}
