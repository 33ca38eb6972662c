//! The bounded pool every computation runs on: at most `jobs` at once, each on a blocking
//! thread (2 MiB stack), each waited for at most the time limit.
//!
//! The library stops a computation soon after its time limit (`Query::time_limit`: it
//! checks before every node it evaluates), and the pool answers a request at the limit
//! whatever the job is doing, so a request never waits past it; a job inside one long
//! operation (a single huge product) keeps its slot until that operation ends. A request
//! waits for a free slot at most the time limit too, so when every slot holds a heavy
//! computation the others are refused quickly (busy) rather than queued without end, and
//! the server keeps answering.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

#[derive(Clone)]
pub struct Pool {
    slots: Arc<Semaphore>,
    limit: Duration,
}

/// How a job ended, as its request sees it.
#[derive(Debug)]
pub enum Outcome<T> {
    Done(T),
    /// The job panicked; the panic is the job's alone (tokio catches it on the thread).
    Panicked,
    /// No slot became free within the limit.
    Busy(Duration),
    /// The job ran past the limit (it stops at the library's next check).
    TimedOut(Duration),
}

impl Pool {
    pub fn new(jobs: usize, limit: Duration) -> Pool {
        Pool { slots: Arc::new(Semaphore::new(jobs)), limit }
    }

    pub async fn run<T: Send + 'static>(&self, job: impl FnOnce() -> T + Send + 'static) -> Outcome<T> {
        let slot = match tokio::time::timeout(self.limit, self.slots.clone().acquire_owned()).await {
            Ok(Ok(slot)) => slot,
            // The semaphore is never closed; a closed one would be as good as busy.
            Ok(Err(_)) | Err(_) => return Outcome::Busy(self.limit),
        };
        let task = tokio::task::spawn_blocking(move || {
            let _slot = slot;
            job()
        });
        match tokio::time::timeout(self.limit, task).await {
            Ok(Ok(value)) => Outcome::Done(value),
            Ok(Err(_)) => Outcome::Panicked,
            Err(_) => Outcome::TimedOut(self.limit),
        }
    }
}
