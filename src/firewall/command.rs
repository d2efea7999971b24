//! Running `nft` and `iptables` with a time limit.
//!
//! The daemon's loop calls these between batches of queued packets, so a call that never
//! returns (an fw4 reload holding the xtables lock, a wedged netlink socket in `nft`) would
//! stop inspection for good. Every call here is killed at its limit and reported as an error;
//! while the loop waits, the queue is fail-open, so traffic is delayed or passes uninspected
//! for at most that long, never stopped.

use std::io::{self, Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

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
    // Writer and readers on their own threads: a child that stops reading or fills a pipe
    // must not block us past the deadline. They end when the child exits or is killed.
    let writer = match (input, child.stdin.take()) {
        (Some(text), Some(mut stdin)) => {
            let text = text.to_vec();
            Some(thread::spawn(move || {
                let _ = stdin.write_all(&text);
            }))
        }
        _ => None,
    };
    let stdout = child.stdout.take().map(reader);
    let stderr = child.stderr.take().map(reader);
    let Some(status) = wait_until(&mut child, deadline)? else {
        // Killed. The threads are left to end by themselves: something the child started
        // may still hold its pipes, and joining them would wait on that.
        return Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "{program} did not finish within {:.1} s: killed",
                limit.as_secs_f32()
            ),
        ));
    };
    let collect =
        |h: Option<thread::JoinHandle<Vec<u8>>>| h.and_then(|h| h.join().ok()).unwrap_or_default();
    let (stdout, stderr) = (collect(stdout), collect(stderr));
    if let Some(w) = writer {
        let _ = w.join();
    }
    Ok(Output {
        status,
        stdout,
        stderr,
    })
}

fn reader<R: Read + Send + 'static>(mut pipe: R) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut out = Vec::new();
        let _ = pipe.read_to_end(&mut out);
        out
    })
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
