//! A named thread that owns a current-thread Tokio runtime, built and dropped on that
//! thread. Building the runtime on the caller's thread would mean dropping it there when
//! a later step fails, and Tokio panics when a runtime is dropped inside an async
//! context (an `install()` from `#[tokio::main]`): here nothing the caller holds is a
//! runtime, whatever happens.

use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc;
use std::thread::JoinHandle;

type Job = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A thread whose runtime is built and waits for the future to run. Dropping it without
/// [`run`](Self::run) ends the thread.
pub(crate) struct RuntimeThread {
    thread: JoinHandle<()>,
    job: mpsc::SyncSender<Job>,
}

impl RuntimeThread {
    /// Starts the thread and returns once its runtime is built, or with the error that
    /// kept it from being built or the thread from starting.
    pub(crate) fn spawn(name: &str) -> std::io::Result<RuntimeThread> {
        let (ready_tx, ready_rx) = mpsc::sync_channel::<std::io::Result<()>>(1);
        let (job_tx, job_rx) = mpsc::sync_channel::<Job>(1);
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        let _ = ready_tx.send(Err(error));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(()));
                // The caller gave up (a later install step failed): end quietly.
                if let Ok(job) = job_rx.recv() {
                    runtime.block_on(job);
                }
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(RuntimeThread {
                thread,
                job: job_tx,
            }),
            Ok(Err(error)) => {
                let _ = thread.join();
                Err(error)
            }
            Err(_) => {
                let _ = thread.join();
                Err(std::io::Error::other(
                    "the metrics thread ended before its runtime was built",
                ))
            }
        }
    }

    /// Runs `future` to completion on the thread's runtime.
    pub(crate) fn run(self, future: impl Future<Output = ()> + Send + 'static) -> JoinHandle<()> {
        // The thread waits for exactly this message, so the send cannot fail unless it
        // died, and then joining reports that.
        let _ = self.job.send(Box::pin(future));
        self.thread
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_the_future_on_its_own_thread() {
        let thread = RuntimeThread::spawn("test-runtime").unwrap();
        let (tx, rx) = mpsc::channel();
        let handle = thread.run(async move {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            let _ = tx.send(std::thread::current().name().map(str::to_owned));
        });
        handle.join().unwrap();
        assert_eq!(rx.recv().unwrap().as_deref(), Some("test-runtime"));
    }

    #[test]
    fn dropping_it_unused_ends_the_thread_without_a_panic_even_inside_a_runtime() {
        let outer = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        outer.block_on(async {
            let thread = RuntimeThread::spawn("test-unused").unwrap();
            drop(thread.job);
            assert!(thread.thread.join().is_ok());
        });
    }
}
