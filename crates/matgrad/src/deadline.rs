//! A time limit on one question, for a front end that must answer in time (a server).
//!
//! `api::answer` runs the library within the query's limit. The interpreter calls [`check`]
//! before each node it computes — and every value, every finite-difference step and every
//! step of an explanation's or a page's checks is computed there — so once the limit has
//! passed the computation fails with `ErrorKind::TimeLimit` within one node's time, and its
//! thread is free again. The limit is the calling thread's, set for the extent of
//! one call ([`within`]); the library's own worker threads (the linear-algebra kernels)
//! finish the one operation they are in.

use std::cell::Cell;
use std::time::Instant;

use crate::Error;

thread_local! {
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// `f` with `deadline` as the limit of the computations it makes on this thread (none:
/// no limit); the previous limit is restored afterwards, also when `f` panics.
pub(crate) fn within<T>(deadline: Option<Instant>, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<Instant>);
    impl Drop for Restore {
        fn drop(&mut self) {
            DEADLINE.with(|d| d.set(self.0));
        }
    }
    let _restore = Restore(DEADLINE.with(|d| d.replace(deadline)));
    f()
}

/// Fails once the current limit has passed.
pub(crate) fn check() -> Result<(), Error> {
    match DEADLINE.with(Cell::get) {
        Some(deadline) if Instant::now() >= deadline => Err(Error::time_limit()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::{check, within};

    #[test]
    fn a_limit_holds_within_its_call_only() {
        assert!(check().is_ok(), "no limit outside");
        let past = Instant::now() - Duration::from_millis(1);
        within(Some(past), || assert!(check().is_err()));
        assert!(check().is_ok(), "restored");
        let _ = std::panic::catch_unwind(|| within(Some(past), || panic!("a bug")));
        assert!(check().is_ok(), "restored after a panic");
        within(Some(Instant::now() + Duration::from_secs(60)), || assert!(check().is_ok()));
    }
}
