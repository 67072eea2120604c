//! The bounds on every number and text that comes from outside, named once.
//!
//! Numbers from outside are hostile: every quantity a record carries is at most [`QTY_MAX`]
//! (checked where it enters, by `qm-interchange`, and again by the core), and every sum the
//! ledger keeps of them (a balance at any time, the stock of an org, what a transfer commits)
//! stays within [`VOLUME_MAX`] because the core refuses a record that would take the total
//! volume moved through one balance past it. So no accepted input can wrap a balance, and every
//! sum of at most 2 balances fits in an `i64`; reports that add more use `i128` or checked
//! arithmetic.

/// The largest quantity one record may carry (a movement's `qty`, a floor's `min_qty`, a
/// transfer line, a count): 2^53 - 1, the largest integer every JSON reader (JavaScript's
/// included) holds exactly.
pub const QTY_MAX: u64 = (1 << 53) - 1;

/// The largest total volume (everything in plus everything out) of one (holder, item, lot)
/// balance, and of one org's depot stock of an item: 2^62. Every running balance and every
/// partial sum of a balance's history is within it, so sums of two fit in an `i64`.
pub const VOLUME_MAX: u64 = 1 << 62;

/// The longest id, code, lot or serial, in bytes.
pub const ID_BYTES_MAX: usize = 256;

/// The longest name, note, reason or other free text, in bytes.
pub const TEXT_BYTES_MAX: usize = 4096;

/// The most integer digits of an amount of money (below 10^15: a quadrillion).
pub const MONEY_INT_DIGITS_MAX: usize = 15;

/// The most fractional digits of an amount of money.
pub const MONEY_FRAC_DIGITS_MAX: usize = 6;

/// The most elements of one array field (serials of a movement, lines of a transfer, serials
/// seen by an inventory).
pub const ARRAY_LEN_MAX: usize = 100_000;

/// Whether `s` is a valid identifier: 1 to [`ID_BYTES_MAX`] bytes, no control characters
/// (C0, DEL, C1) and no invisible format characters ([`is_format_char`]: zero-width spaces and
/// joiners, bidirectional controls, the byte-order mark...), and no leading or trailing white
/// space, so that an id always prints as what it is and two ids that look the same are the
/// same.
pub fn is_valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= ID_BYTES_MAX
        && !s.chars().any(|c| c.is_control() || is_format_char(c))
        && !s.starts_with(char::is_whitespace)
        && !s.ends_with(char::is_whitespace)
}

/// Whether `c` is one of Unicode's format characters (general category Cf, Unicode 16): they
/// print as nothing, or reorder what surrounds them, so an id holding one looks like another.
pub fn is_format_char(c: char) -> bool {
    matches!(
        c as u32,
        0xAD | 0x600..=0x605
            | 0x61C
            | 0x6DD
            | 0x70F
            | 0x890..=0x891
            | 0x8E2
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x2064
            | 0x2066..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
    )
}
