//! `nft` off the packet loop: the blocks a leak orders are added by a thread of their own.
//!
//! A LAN device chooses when the daemon adds a block (it only has to leak), up to the daemon's
//! block rate. Each addition runs `nft`, a fork and exec that takes tens of milliseconds on a MIPS
//! router and can hang for seconds while fw4 reloads hold the nftables commit lock. Run on the
//! loop thread, that time is time no queued packet gets a verdict. So the loop only hands the
//! transaction to this worker and goes back to the queue; the registry records the block at
//! once (the leaking flow is dropped by its verdict and conntrack mark anyway, the set element
//! only stops the device's next flows), and a failure comes back through [`Worker::finished`]
//! so the block is taken out of the registry and the owner is told.
//!
//! Jobs run one at a time, in the order they were given, each under the firewall's command time
//! limit. Whatever changes the sets synchronously (unblock, reload, restore, stop) first waits
//! for the jobs already given ([`Worker::settle`]), so an older addition can never land after a
//! newer removal.

use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::block::BlockId;

use super::FirewallError;

/// How a job is carried out: the nft JSON transaction and a description for its error.
pub type Runner = dyn Fn(&str, &str) -> Result<(), FirewallError> + Send;

struct Job {
    id: BlockId,
    number: u64,
    json: String,
    what: String,
}

/// A job that ran.
#[derive(Debug)]
pub struct Done {
    pub id: BlockId,
    /// The registry entry the job was for (an id may be re-added as a new entry meanwhile).
    pub number: u64,
    pub result: Result<(), FirewallError>,
}

/// The worker thread and its two channels.
#[derive(Debug)]
pub struct Worker {
    jobs: Option<Sender<Job>>,
    done: Receiver<Done>,
    /// Jobs given whose [`Done`] has not been received yet.
    pending: usize,
    thread: Option<JoinHandle<()>>,
    /// Longest wait for one job in [`Worker::settle`]: the command limit and some slack.
    job_limit: Duration,
}

impl Worker {
    /// Starts the thread; `run` carries out each job (the firewall passes `nft -j -f -`).
    pub fn start(run: Box<Runner>, job_limit: Duration) -> std::io::Result<Worker> {
        let (jobs, inbox) = mpsc::channel::<Job>();
        let (outbox, done) = mpsc::channel();
        let thread = thread::Builder::new()
            .name("leakguard-nft".into())
            .spawn(move || {
                for job in inbox {
                    let result = run(&job.json, &job.what);
                    let done = Done {
                        id: job.id,
                        number: job.number,
                        result,
                    };
                    if outbox.send(done).is_err() {
                        break;
                    }
                }
            })?;
        Ok(Worker {
            jobs: Some(jobs),
            done,
            pending: 0,
            thread: Some(thread),
            job_limit,
        })
    }

    /// Hands one transaction over and returns at once. An error only when the thread is gone
    /// (it never panics by design; the caller then treats the block as not added).
    pub fn submit(
        &mut self,
        id: BlockId,
        number: u64,
        json: String,
        what: String,
    ) -> Result<(), FirewallError> {
        let job = Job {
            id,
            number,
            json,
            what,
        };
        let sent = self.jobs.as_ref().is_some_and(|tx| tx.send(job).is_ok());
        if !sent {
            return Err(FirewallError::Invalid(
                "the nft worker thread is gone".to_string(),
            ));
        }
        self.pending += 1;
        Ok(())
    }

    /// The jobs that finished since the last call, without waiting.
    pub fn finished(&mut self) -> Vec<Done> {
        let mut out = Vec::new();
        while let Ok(done) = self.done.try_recv() {
            self.pending = self.pending.saturating_sub(1);
            out.push(done);
        }
        out
    }

    /// Waits until every job given so far has run (each at most the job limit), returning them.
    pub fn settle(&mut self) -> Vec<Done> {
        let mut out = self.finished();
        while self.pending > 0 {
            match self.done.recv_timeout(self.job_limit) {
                Ok(done) => {
                    self.pending -= 1;
                    out.push(done);
                }
                // The runner enforces the limit itself; past it something is badly wrong, and
                // waiting longer would only stall the caller.
                Err(e) => {
                    log::error!(
                        "nft worker: {} block additions still not done ({e:?}); a change made \
                         now may be overtaken by them",
                        self.pending
                    );
                    break;
                }
            }
        }
        out
    }

    /// Jobs given and not yet reported.
    pub fn pending(&self) -> usize {
        self.pending
    }
}

impl Drop for Worker {
    /// Lets the thread finish the jobs it has (each bounded by the limit), then joins it.
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};
    use std::sync::{Arc, Barrier};

    fn id(n: u8) -> BlockId {
        BlockId::new(
            crate::config::Scope::Flow,
            IpAddr::V4(Ipv4Addr::new(192, 168, 1, n)),
            IpAddr::V4(Ipv4Addr::new(203, 0, 113, 1)),
            6,
            40000,
            80,
        )
        .unwrap()
    }

    /// A job that is stuck does not hold up the caller: `submit` returns while the runner is
    /// still blocked (the runner waits on a barrier the test releases only after submitting).
    #[test]
    fn a_stuck_job_does_not_block_the_caller() {
        let gate = Arc::new(Barrier::new(2));
        let g = Arc::clone(&gate);
        let mut w = Worker::start(
            Box::new(move |json, _| {
                g.wait();
                if json == "fail" {
                    Err(FirewallError::Invalid("refused".into()))
                } else {
                    Ok(())
                }
            }),
            Duration::from_secs(10),
        )
        .unwrap();
        w.submit(id(1), 1, "ok".into(), "adding".into()).unwrap();
        w.submit(id(2), 2, "fail".into(), "adding".into()).unwrap();
        // Both handed over while the first is stuck in the runner.
        assert_eq!(w.pending(), 2);
        assert!(w.finished().is_empty());
        gate.wait();
        gate.wait();
        let done = w.settle();
        assert_eq!(w.pending(), 0);
        assert_eq!(done.len(), 2);
        assert_eq!(done[0].id, id(1));
        assert!(done[0].result.is_ok());
        assert_eq!(done[1].id, id(2));
        assert!(done[1].result.is_err());
    }

    /// Jobs run in the order given (an addition never lands after a later change).
    #[test]
    fn jobs_run_in_order() {
        let (tx, rx) = mpsc::channel();
        let mut w = Worker::start(
            Box::new(move |json, _| {
                tx.send(json.to_string()).unwrap();
                Ok(())
            }),
            Duration::from_secs(10),
        )
        .unwrap();
        for n in 0..20u8 {
            w.submit(id(n), u64::from(n), n.to_string(), String::new())
                .unwrap();
        }
        assert_eq!(w.settle().len(), 20);
        let order: Vec<String> = rx.try_iter().collect();
        let want: Vec<String> = (0..20).map(|n: u8| n.to_string()).collect();
        assert_eq!(order, want);
    }
}
