//! Two parts of a build on two cores: one on a thread of its own, the other on the caller's.

use std::sync::Mutex;

/// `(here(), beside())`, `beside` on a second thread while `here` runs; where no thread can
/// be started, `beside` runs after `here` on this one. A panic in either goes on here.
pub(crate) fn join<A, B: Send>(
    here: impl FnOnce() -> A,
    beside: impl FnOnce() -> B + Send,
) -> (A, B) {
    // Whichever runs `beside` takes it out: the thread, or this one if the thread never
    // started.
    let cell = Mutex::new(Some(beside));
    let take = || cell.lock().unwrap_or_else(|e| e.into_inner()).take();
    std::thread::scope(|scope| {
        let thread = std::thread::Builder::new()
            .spawn_scoped(scope, || take().map(|f| f()))
            .ok();
        let a = here();
        let b = match thread.map(|thread| thread.join()) {
            Some(Ok(Some(b))) => b,
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            Some(Ok(None)) | None => take().expect("`beside` runs once")(),
        };
        (a, b)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_parts_run_once_and_keep_their_order() {
        let (a, b) = join(|| 1, || std::thread::current().id());
        assert_eq!(a, 1);
        assert_ne!(b, std::thread::current().id());
        let mut data = [3, 1, 2, 9, 8, 7];
        let (left, right) = data.split_at_mut(3);
        join(|| left.sort(), || right.sort());
        assert_eq!(data, [1, 2, 3, 7, 8, 9]);
    }

    #[test]
    fn a_panic_beside_goes_on_here() {
        let result = std::panic::catch_unwind(|| join(|| 1, || -> u8 { panic!("beside") }));
        assert!(result.is_err());
    }
}
