//! Exact arithmetic wider than `i128` for the projection: a 256-bit unsigned integer with the
//! three operations the threat model needs (a full product, a product by a `u128`, a
//! division by a `u128`), and the projection's amount type [`Amt`], a whole number of units
//! plus a remainder over the fixed denominator [`DEN`].

use std::cmp::Ordering;

/// An unsigned 256-bit integer: `hi * 2^128 + lo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct U256 {
    pub hi: u128,
    pub lo: u128,
}

impl PartialOrd for U256 {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for U256 {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.hi, self.lo).cmp(&(other.hi, other.lo))
    }
}

impl U256 {
    pub const ZERO: U256 = U256 { hi: 0, lo: 0 };

    pub fn from_u128(lo: u128) -> U256 {
        U256 { hi: 0, lo }
    }

    /// The full product `a * b`.
    pub fn mul(a: u128, b: u128) -> U256 {
        const M: u128 = u64::MAX as u128;
        let (a1, a0) = (a >> 64, a & M);
        let (b1, b0) = (b >> 64, b & M);
        let p00 = a0 * b0;
        let p01 = a0 * b1;
        let p10 = a1 * b0;
        let p11 = a1 * b1;
        // Middle column: the high half of p00 plus the low halves of p01 and p10.
        let mid = (p00 >> 64) + (p01 & M) + (p10 & M);
        let lo = (p00 & M) | (mid << 64);
        let hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
        U256 { hi, lo }
    }

    /// `self * b`, `None` past 2^256 - 1.
    pub fn checked_mul_u128(self, b: u128) -> Option<U256> {
        let low = U256::mul(self.lo, b);
        let high = U256::mul(self.hi, b);
        if high.hi != 0 {
            return None;
        }
        let hi = low.hi.checked_add(high.lo)?;
        Some(U256 { hi, lo: low.lo })
    }

    pub fn checked_add(self, b: U256) -> Option<U256> {
        let (lo, carry) = self.lo.overflowing_add(b.lo);
        let hi = self.hi.checked_add(b.hi)?.checked_add(carry as u128)?;
        Some(U256 { hi, lo })
    }

    /// `(self / d, self % d)`; `d` must not be 0.
    pub fn div_rem(self, d: u128) -> (U256, u128) {
        assert!(d != 0, "division by zero");
        if self.hi == 0 {
            return (U256::from_u128(self.lo / d), self.lo % d);
        }
        // Long division, one bit at a time, the remainder kept below d (with the bit
        // shifted out of it as a carry when d is above 2^127).
        let mut q = U256::ZERO;
        let mut r: u128 = 0;
        for i in (0..256).rev() {
            let bit = if i >= 128 {
                (self.hi >> (i - 128)) & 1
            } else {
                (self.lo >> i) & 1
            };
            let carry = r >> 127;
            r = (r << 1) | bit;
            if carry == 1 || r >= d {
                r = r.wrapping_sub(d);
                if i >= 128 {
                    q.hi |= 1 << (i - 128);
                } else {
                    q.lo |= 1 << i;
                }
            }
        }
        (q, r)
    }

    /// `ceil(self / d)`.
    pub fn div_ceil(self, d: u128) -> U256 {
        let (q, r) = self.div_rem(d);
        if r == 0 {
            q
        } else {
            q.checked_add(U256::from_u128(1)).unwrap_or(q)
        }
    }

    pub fn to_u128(self) -> Option<u128> {
        (self.hi == 0).then_some(self.lo)
    }

    /// The nearest `f64` (for display).
    pub fn to_f64(self) -> f64 {
        self.hi as f64 * 2f64.powi(128) + self.lo as f64
    }
}

/// The lowest common multiple of the month lengths in days (28, 29, 30, 31).
pub const MONTH_DAYS_LCM: i128 = 377_580;

/// Nanoseconds in a day.
pub const DAY_NS: i128 = 86_400_000_000_000;

/// The projection's denominator: every prorated part of a month, `qty * l / L` with `l` in
/// nanoseconds and `L` a month of 28 to 31 days, is a whole number of 1/DEN units
/// (`DEN = 377,580 * 86,400 * 10^9`, about 3.3e19, is a multiple of every month's length in
/// nanoseconds).
pub const DEN: i128 = MONTH_DAYS_LCM * DAY_NS;

/// An exact amount: `units + rem / DEN`, with `0 <= rem < DEN`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Amt {
    pub units: i128,
    pub rem: i128,
}

impl Amt {
    pub fn units(units: i128) -> Amt {
        Amt { units, rem: 0 }
    }

    /// `num / DEN`.
    pub fn from_num(num: i128) -> Amt {
        Amt {
            units: num.div_euclid(DEN),
            rem: num.rem_euclid(DEN),
        }
    }

    /// The sum; saturates at `i128`'s bounds, far past any amount a ledger can hold (see
    /// `forecast.rs`).
    pub fn plus(self, o: Amt) -> Amt {
        let mut rem = self.rem + o.rem;
        let mut units = self.units.saturating_add(o.units);
        if rem >= DEN {
            rem -= DEN;
            units = units.saturating_add(1);
        }
        Amt { units, rem }
    }

    pub fn negated(self) -> Amt {
        if self.rem == 0 {
            Amt::units(self.units.saturating_neg())
        } else {
            Amt {
                units: self.units.saturating_neg().saturating_sub(1),
                rem: DEN - self.rem,
            }
        }
    }

    pub fn minus(self, o: Amt) -> Amt {
        self.plus(o.negated())
    }

    /// The largest whole number at or below it.
    pub fn floor(self) -> i128 {
        self.units
    }

    /// Whether it is below the whole number `n`.
    pub fn below(self, n: i128) -> bool {
        self.units < n
    }

    /// An approximation (for a ratio of two amounts).
    pub fn to_f64(self) -> f64 {
        self.units as f64 + self.rem as f64 / DEN as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_and_quotients_are_exact() {
        let a = u128::MAX;
        let p = U256::mul(a, a);
        // (2^128 - 1)^2 = 2^256 - 2^129 + 1.
        assert_eq!(
            p,
            U256 {
                hi: u128::MAX - 1,
                lo: 1
            }
        );
        assert_eq!(p.div_rem(a), (U256::from_u128(a), 0));
        let (q, r) = U256::mul(1 << 100, 12345).div_rem(7);
        assert_eq!(
            q.checked_mul_u128(7)
                .unwrap()
                .checked_add(U256::from_u128(r)),
            Some(U256::mul(1 << 100, 12345))
        );
        assert_eq!(
            U256::mul(1 << 127, 4).div_rem((1 << 127) + 1).1,
            (1u128 << 127) - 3
        );
        assert_eq!(
            U256 { hi: 1, lo: 0 }.checked_mul_u128(u128::MAX),
            Some(U256 {
                hi: u128::MAX,
                lo: 0
            })
        );
        assert_eq!(U256 { hi: 2, lo: 0 }.checked_mul_u128(u128::MAX), None);
        assert_eq!(U256::from_u128(7).div_ceil(2), U256::from_u128(4));
    }

    #[test]
    fn amounts_keep_their_fractions() {
        let x = Amt::from_num(DEN - 1).plus(Amt::from_num(1));
        assert_eq!((x.units, x.rem), (1, 0));
        let x = Amt::from_num(5).plus(Amt::from_num(DEN - 2));
        assert_eq!((x.units, x.rem), (1, 3));
        assert_eq!(x.negated().plus(x), Amt::default());
        assert_eq!(Amt::units(5).minus(Amt::from_num(1)).floor(), 4);
        assert_eq!(Amt::from_num(-1).floor(), -1);
        assert!(Amt::from_num(-1).below(0));
        assert!(!Amt::units(0).below(0));
    }
}
