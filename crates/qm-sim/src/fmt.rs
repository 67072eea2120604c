//! Fast text for identifiers: zero-padded counters such as `m000000042` or `PAC3-0001234`.
//!
//! `format!` costs more than the rest of a uniform-workload movement together; this does not.

/// `prefix` followed by `n` in decimal, zero-padded to at least `width` digits.
pub fn padded(prefix: &str, sep: &str, n: u64, width: usize) -> String {
    let mut digits = [b'0'; 20];
    let mut len = 0;
    let mut v = n;
    loop {
        digits[19 - len] = b'0' + (v % 10) as u8;
        len += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let len = len.max(width.min(20));
    let mut bytes = Vec::with_capacity(prefix.len() + sep.len() + len);
    bytes.extend_from_slice(prefix.as_bytes());
    bytes.extend_from_slice(sep.as_bytes());
    bytes.extend_from_slice(&digits[20 - len..]);
    String::from_utf8(bytes).expect("ASCII digits after UTF-8 text")
}

#[cfg(test)]
mod tests {
    use super::padded;

    #[test]
    fn pads_and_grows() {
        assert_eq!(padded("m", "", 42, 9), "m000000042");
        assert_eq!(padded("PAC3", "-", 1234, 7), "PAC3-0001234");
        assert_eq!(padded("w", "", 12_345_678_901, 9), "w12345678901");
        assert_eq!(padded("x", "", 0, 0), "x0");
    }
}
