//! Standard output and standard error for the commands.
//!
//! Standard output notices when whoever reads it has gone away (`qm export | head`): the
//! write fails with a broken pipe, [`closed`] then says so, and `main` ends the command
//! quietly with status 0, as Unix tools do. (Rust ignores SIGPIPE, so every write to a
//! closed pipe comes back as that error; nothing here may `println!`, which would panic.)
//! Standard error is written best-effort: a message that cannot be shown is dropped.

use std::io::{BufWriter, StdoutLock, Write};
use std::sync::atomic::{AtomicBool, Ordering};

static CLOSED: AtomicBool = AtomicBool::new(false);

/// Whether a write to standard output found its reader gone.
pub fn closed() -> bool {
    CLOSED.load(Ordering::Relaxed)
}

/// Standard output, locked for the life of the value.
pub struct Stdout(StdoutLock<'static>);

/// Unbuffered (each write goes straight out; flush after each line that must be seen now).
pub fn stdout() -> Stdout {
    Stdout(std::io::stdout().lock())
}

/// Buffered, for bulk output; flush before the end.
pub fn buffered() -> BufWriter<Stdout> {
    BufWriter::with_capacity(1 << 16, stdout())
}

fn noticed(e: std::io::Error) -> std::io::Error {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        CLOSED.store(true, Ordering::Relaxed);
    }
    e
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf).map_err(noticed)
    }
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.0.write_all(buf).map_err(noticed)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush().map_err(noticed)
    }
}

/// Writes one line to standard error, best-effort.
pub fn err(line: &str) {
    let mut e = std::io::stderr().lock();
    let _ = e.write_all(line.as_bytes());
    let _ = e.write_all(b"\n");
}
