//! Running `nft` and `iptables` with a time limit.
//!
//! The daemon's loop calls these between batches of queued packets, so a call that never
//! returns (an fw4 reload holding the xtables lock, a wedged netlink socket in `nft`) would
//! stop inspection for good. Every call here is killed at its limit and reported as an error;
//! while the loop waits, the queue is fail-open, so traffic is delayed or passes uninspected
//! for at most that long, never stopped.

use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

/// The longest any one `nft` or `iptables` call may take. Ordinary calls take milliseconds;
/// `nft` on a big ruleset on a slow MIPS router takes well under a second.
pub const LIMIT: Duration = Duration::from_secs(5);

/// What a finished command printed.
pub struct Output {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Runs `program args`, feeding it `input` (or nothing), and waits at most `limit`.
/// A command still running then is killed and reaped, and the error says it timed out.
pub fn run<S: AsRef<str>>(
    program: &str,
    args: &[S],
    input: Option<&[u8]>,
    limit: Duration,
) -> io::Result<Output> {
    let deadline = Instant::now() + limit;
    let mut child = Command::new(program)
        .args(args.iter().map(|a| a.as_ref()))
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    // The pipes are served from this thread with poll(2), not from threads of their own: a
    // thread that allocates gets a glibc malloc arena of its own, which stays resident after
    // the thread ends (+68 kB RssAnon for six calls, BENCHMARKS.md issue 8). A child that stops
    // reading or fills a pipe still cannot block us past the deadline.
    let mut pending = input.unwrap_or(&[]);
    let mut stdin = child.stdin.take().filter(|_| !pending.is_empty());
    if let Some(s) = &stdin {
        // Partial writes instead of a write that waits for the child to read everything.
        fcntl(s.as_raw_fd(), FcntlArg::F_SETFL(OFlag::O_NONBLOCK)).map_err(io::Error::from)?;
    }
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    while stdin.is_some() || stdout.is_some() || stderr.is_some() {
        let now = Instant::now();
        if now >= deadline {
            // Killed. A pipe still open here may be held by something the child started.
            let _ = child.kill();
            child.wait()?;
            return Err(timed_out(program, limit));
        }
        let wait = u16::try_from((deadline - now).as_millis())
            .unwrap_or(u16::MAX)
            .max(1);
        // Which of stdin, stdout, stderr poll found ready (or hung up).
        let mut ready = [false; 3];
        {
            let mut fds = Vec::with_capacity(3);
            let mut which = Vec::with_capacity(3);
            if let Some(s) = &stdin {
                fds.push(PollFd::new(s.as_fd(), PollFlags::POLLOUT));
                which.push(0);
            }
            if let Some(s) = &stdout {
                fds.push(PollFd::new(s.as_fd(), PollFlags::POLLIN));
                which.push(1);
            }
            if let Some(s) = &stderr {
                fds.push(PollFd::new(s.as_fd(), PollFlags::POLLIN));
                which.push(2);
            }
            match poll(&mut fds, PollTimeout::from(wait)) {
                Ok(_) | Err(Errno::EINTR) => {}
                Err(e) => return Err(e.into()),
            }
            for (fd, &w) in fds.iter().zip(&which) {
                if fd.revents().is_some_and(|r| !r.is_empty()) {
                    if let Some(r) = ready.get_mut(w) {
                        *r = true;
                    }
                }
            }
        }
        if ready[0] {
            match stdin.as_mut().map(|s| s.write(pending)) {
                Some(Ok(n)) => {
                    pending = pending.get(n..).unwrap_or(&[]);
                    if pending.is_empty() {
                        stdin = None;
                    }
                }
                Some(Err(e)) if retry(&e) => {}
                // The child closed its input: what it did not read, it does not want.
                _ => stdin = None,
            }
        }
        if ready[1] {
            drain(&mut stdout, &mut out);
        }
        if ready[2] {
            drain(&mut stderr, &mut err);
        }
    }
    let Some(status) = wait_until(&mut child, deadline)? else {
        return Err(timed_out(program, limit));
    };
    Ok(Output {
        status,
        stdout: out,
        stderr: err,
    })
}

fn timed_out(program: &str, limit: Duration) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!(
            "{program} did not finish within {:.1} s: killed",
            limit.as_secs_f32()
        ),
    )
}

fn retry(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

/// Reads what a ready pipe holds into `buf`; at its end (or a read error) the pipe is closed.
fn drain<R: Read>(pipe: &mut Option<R>, buf: &mut Vec<u8>) {
    let mut chunk = [0u8; 4096];
    match pipe.as_mut().map(|p| p.read(&mut chunk)) {
        Some(Ok(0)) | None => *pipe = None,
        Some(Ok(n)) => buf.extend_from_slice(chunk.get(..n).unwrap_or(&[])),
        Some(Err(e)) if retry(&e) => {}
        Some(Err(_)) => *pipe = None,
    }
}

/// The child's exit status, or `None` when it was still running at `deadline` (then it has
/// been killed and reaped).
fn wait_until(child: &mut Child, deadline: Instant) -> io::Result<Option<ExitStatus>> {
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        let now = Instant::now();
        if now >= deadline {
            let _ = child.kill();
            child.wait()?;
            return Ok(None);
        }
        thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_and_input_pass_through() {
        let out = run("cat", &[] as &[&str], Some(b"hello"), LIMIT).unwrap();
        assert!(out.status.success());
        assert_eq!(out.stdout, b"hello");
        let out = run("sh", &["-c", "echo oops >&2; exit 3"], None, LIMIT).unwrap();
        assert_eq!(out.status.code(), Some(3));
        assert_eq!(out.stderr, b"oops\n");
    }

    /// Positive control first (a quick command finishes), then a stuck one is killed at its
    /// limit rather than waited for.
    #[test]
    fn a_stuck_command_is_killed_at_its_limit() {
        let limit = Duration::from_millis(300);
        assert!(run("sh", &["-c", "exit 0"], None, limit).is_ok());
        let start = Instant::now();
        let e = run("sleep", &["30"], None, limit).err().expect("killed");
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        // Far below the 30 s the command wanted, with room for a loaded machine.
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{:?}",
            start.elapsed()
        );
        // A child that never reads its input and holds its pipes open is no different.
        let big = vec![b'x'; 1 << 20];
        let e = run("sleep", &["30"], Some(&big), limit)
            .err()
            .expect("killed");
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
    }
}
